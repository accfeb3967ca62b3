/** SSE/SSE2/SSE3/SSSE3/SSE4.1/SSE4.2 instructions (SDM vol. 1 chapters 10-12, vol. 2). */
import type { TranslatorTable } from '../translator';

export const sseHandlers: TranslatorTable = {};
