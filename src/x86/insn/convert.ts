/** Sign extension: CBW/CWDE/CDQE, CWD/CDQ/CQO; SETcc; CMOVcc; XLAT (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const convertHandlers: TranslatorTable = {};
