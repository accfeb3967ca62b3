/**
 * Shared by the string instructions' per-element paths (string.ts) and their page-at-a-time fast
 * paths (stringBulk.ts): the description of one translated form (`Spec`), the bookkeeping of the
 * pointer registers rSI/rDI and the counter rCX at the instruction's address size, the direction
 * flag, and the operands of the last REPE/REPNE comparison (SDM vol. 2B REP/REPE/REPZ/REPNE/REPNZ;
 * vol. 1 §7.3.9).
 */
import type { Cpu } from '../cpu';
import type { AddrFn } from '../operands';
import { Flag, Gpr } from '../registers';

const TWO32 = 4294967296;

export type Read = (c: Cpu, lo: number, hi: number) => number;
export type Write = (c: Cpu, lo: number, hi: number, v: number, vhi: number) => void;

/** One translated form: element size, address size, [seg:rSI] and [ES:rDI] addresses, sized access. */
export interface Spec {
  size: number;
  asz: number;
  src: AddrFn;
  dst: AddrFn;
  read: Read;
  write: Write;
}

/** Offset held in `reg` with address size `asz` (for room computations; 64-bit: low half). */
export function offsetOf(c: Cpu, reg: number, asz: number): number {
  return asz === 2 ? c.lo[reg] & 0xffff : c.lo[reg] >>> 0;
}

/** Add `delta` to pointer register `reg` with address size `asz`. */
export function advance(c: Cpu, reg: number, asz: number, delta: number): void {
  if (asz === 8) {
    const s = (c.lo[reg] >>> 0) + delta;
    c.lo[reg] = s | 0;
    if (s >= TWO32) c.hi[reg] = (c.hi[reg] + 1) | 0;
    else if (s < 0) c.hi[reg] = (c.hi[reg] - 1) | 0;
  } else if (asz === 4) {
    c.lo[reg] = (c.lo[reg] + delta) | 0;
    c.hi[reg] = 0;
  } else {
    const v = c.lo[reg];
    c.lo[reg] = (v & ~0xffff) | ((v + delta) & 0xffff);
  }
}

export function countIsZero(c: Cpu, asz: number): boolean {
  if (asz === 8) return (c.lo[Gpr.RCX] | c.hi[Gpr.RCX]) === 0;
  if (asz === 4) return c.lo[Gpr.RCX] === 0;
  return (c.lo[Gpr.RCX] & 0xffff) === 0;
}

/** The remaining count, capped at 2^31 (larger 64-bit counts are done in pieces). */
export function countOf(c: Cpu, asz: number): number {
  if (asz === 8) return c.hi[Gpr.RCX] !== 0 ? 0x80000000 : c.lo[Gpr.RCX] >>> 0;
  if (asz === 4) return c.lo[Gpr.RCX] >>> 0;
  return c.lo[Gpr.RCX] & 0xffff;
}

/** Subtract n (at most the current count) from the counter. */
export function decCount(c: Cpu, asz: number, n: number): void {
  if (asz === 8) {
    const s = (c.lo[Gpr.RCX] >>> 0) - n;
    c.lo[Gpr.RCX] = s | 0;
    if (s < 0) c.hi[Gpr.RCX] = (c.hi[Gpr.RCX] - 1) | 0;
  } else if (asz === 4) {
    c.lo[Gpr.RCX] = (c.lo[Gpr.RCX] - n) | 0;
    c.hi[Gpr.RCX] = 0;
  } else {
    const v = c.lo[Gpr.RCX];
    c.lo[Gpr.RCX] = (v & ~0xffff) | ((v - n) & 0xffff);
  }
}

export function dfSet(c: Cpu): boolean {
  return (c.flagsRest & Flag.DF) !== 0;
}

/**
 * Operands of the last comparison of a REPE/REPNE CMPS or SCAS loop: a - b, with the high halves
 * aHi/bHi 0 below 8 bytes. The loop sets the flags from them only when it ends (see string.ts).
 * A plain object: as fast as module-local variables in the bundle (an Int32Array was slower).
 */
export const cmp = { a: 0, aHi: 0, b: 0, bHi: 0 };

/** Whether the last comparison found its operands equal. */
export function lastEqual(): boolean {
  return cmp.a === cmp.b && cmp.aHi === cmp.bHi;
}
