/** String instructions with REP prefixes: MOVS, STOS, LODS, CMPS, SCAS (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const stringHandlers: TranslatorTable = {};
