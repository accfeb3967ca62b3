/**
 * A translated block: straight-line guest code from one entry point up to the first
 * instruction that changes control flow (or a page boundary, or a size cap), as closures.
 */
import type { DecodedInsn } from './decoded';
import type { Op } from './operands';
import type { Bitness } from './state';

export interface Block {
  /** Cache key: physical address * 4 + bitness index. */
  key: number;
  phys: number;
  ripLo: number;
  ripHi: number;
  bitness: Bitness;
  ops: Op[];
  insns: DecodedInsn[];
  /** Start of each instruction (n+1 entries: the last is the address after the block). */
  ipLo: Int32Array;
  ipHi: Int32Array;
  n: number;
  /** The last op sets RIP itself. */
  lastSetsRip: boolean;
  valid: boolean;
  /** Where the block's bytes come from: (physical page, start offset, end offset) triples. */
  ranges: number[];
  /** Cached successors (block chaining), checked against RIP, validity and the code epoch. */
  succ1: Block | null;
  succ2: Block | null;
  epoch: number;
}

export const MAX_BLOCK_INSNS = 64;
