/** INVLPG, INVPCID (SDM vol. 2/3A). */
import type { TranslatorTable } from '../translator';

export const pagingHandlers: TranslatorTable = {};
