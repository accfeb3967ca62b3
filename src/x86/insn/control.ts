/** Control flow: CALL, RET, indirect JMP, LOOP family, JCXZ/JECXZ/JRCXZ (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const controlHandlers: TranslatorTable = {};
