/** Shifts and rotates: SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR, SHLD, SHRD (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const shiftHandlers: TranslatorTable = {};
