/** Data movement: MOVZX, MOVSX, MOVSXD, XCHG, CMPXCHG, CMPXCHG8B/16B, XADD, BSWAP, LEA, MOVBE (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const dataMoveHandlers: TranslatorTable = {};
