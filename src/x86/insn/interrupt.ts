/** INT n, INT3, INTO, INT1, IRET/IRETD/IRETQ, CLI, STI (SDM vol. 2/3A). */
import type { TranslatorTable } from '../translator';

export const interruptHandlers: TranslatorTable = {};
