/** Bit instructions: BT, BTS, BTR, BTC, BSF, BSR, LZCNT, TZCNT, POPCNT (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const bitHandlers: TranslatorTable = {};
