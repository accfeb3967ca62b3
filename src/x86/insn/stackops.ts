/** Stack: PUSH, POP (all forms), PUSHA/POPA, PUSHF/POPF, ENTER, LEAVE (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const stackHandlers: TranslatorTable = {};
