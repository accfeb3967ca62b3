/** Descriptor-table and segment instructions: LGDT/LIDT/LLDT/LTR/SGDT/SIDT/SLDT/STR, LAR/LSL/VERR/VERW, ARPL, protected-mode far JMP/CALL/RET, call gates (SDM vol. 2/3A). */
import type { TranslatorTable } from '../translator';

export const segmentHandlers: TranslatorTable = {};
