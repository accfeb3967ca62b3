/** BCD adjustments: DAA, DAS, AAA, AAS, AAM, AAD (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const bcdHandlers: TranslatorTable = {};
