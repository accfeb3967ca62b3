/** x87 FPU instructions (SDM vol. 1 chapter 8, vol. 2 instruction pages). */
import type { TranslatorTable } from '../translator';

export const fpuHandlers: TranslatorTable = {};
