/** MUL, IMUL (all forms), DIV, IDIV (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const mulDivHandlers: TranslatorTable = {};
