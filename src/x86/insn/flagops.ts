/** Flag instructions: CLC, STC, CMC, CLD, STD, LAHF, SAHF (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const flagOpHandlers: TranslatorTable = {};
