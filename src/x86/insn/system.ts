/** CPUID, RDTSC, RDTSCP, UD0/UD1/UD2, other processor-identification instructions (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const systemHandlers: TranslatorTable = {};
