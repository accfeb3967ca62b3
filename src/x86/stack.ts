/**
 * Stack pushes and pops (SDM vol. 1 §6.2): the stack-address size comes from the mode (64-bit)
 * or SS.B (32/16-bit); the operand size is the caller's. The write happens before RSP changes,
 * so a fault leaves RSP as it was.
 */
import type { Cpu } from './cpu';
import { CpuException, Vector } from './exceptions';
import { Gpr, Seg } from './registers';
import { segmentCheck } from './operands';

const TWO32 = 4294967296;

export function ssFault(): CpuException {
  return new CpuException(Vector.SS, 0, 'stack access outside the stack segment or not canonical');
}

/** Linear address of the stack slot at `delta` bytes from RSP (negative for pushes), size n. */
function slot(c: Cpu, delta: number, n: number): number {
  const sb = c.stackBits;
  if (sb === 64) {
    const s = (c.lo[Gpr.RSP] >>> 0) + delta;
    return stackLinear(c, 64, s | 0, (c.hi[Gpr.RSP] + Math.floor(s / TWO32)) | 0, n, delta < 0);
  }
  return stackLinear(c, sb, (c.lo[Gpr.RSP] + delta) | 0, 0, n, delta < 0);
}

/**
 * Linear address of an n-byte stack access at stack pointer (lo, hi): canonical check in 64-bit
 * mode; otherwise the SS checks of operands.ts (limit, expand-down, writability) and SS base.
 * Sets c.linHi.
 */
export function stackLinear(c: Cpu, sb: number, lo: number, hi: number, n: number, write: boolean): number {
  if (sb === 64) {
    if (((hi << c.canonShift) >> c.canonShift) !== hi) throw ssFault();
    c.linHi = hi;
    return lo;
  }
  const sp = sb === 32 ? lo >>> 0 : lo & 0xffff;
  if ((c.segAttr[Seg.SS] & 0x1000e) !== 2 || sp + n - 1 > c.segLimit[Seg.SS]) segmentCheck(c, Seg.SS, sp, n - 1, write);
  c.linHi = 0;
  return (sp + c.segBaseLo[Seg.SS]) | 0;
}

export function stackWrite(c: Cpu, sb: number, lo: number, hi: number, n: number, vlo: number, vhi: number): void {
  const a = stackLinear(c, sb, lo, hi, n, true);
  if (n === 8) c.write64(a, c.linHi, vlo, vhi);
  else if (n === 4) c.write32(a, c.linHi, vlo);
  else c.write16(a, c.linHi, vlo);
}

/** Read n bytes at stack pointer (lo, hi); 8 bytes: low half returned, high half in c.vHi. */
export function stackRead(c: Cpu, sb: number, lo: number, hi: number, n: number): number {
  const a = stackLinear(c, sb, lo, hi, n, false);
  if (n === 8) return c.read64(a, c.linHi);
  return n === 4 ? c.read32(a, c.linHi) : c.read16(a, c.linHi);
}

/** Add `delta` to the stack pointer with the stack-address size. */
export function adjustSp(c: Cpu, delta: number): void {
  if (c.stackBits === 64) {
    const s = (c.lo[Gpr.RSP] >>> 0) + delta;
    c.hi[Gpr.RSP] = (c.hi[Gpr.RSP] + Math.floor(s / TWO32)) | 0;
    c.lo[Gpr.RSP] = s | 0;
  } else if (c.stackBits === 32) {
    c.lo[Gpr.RSP] = (c.lo[Gpr.RSP] + delta) | 0;
  } else {
    const v = c.lo[Gpr.RSP];
    c.lo[Gpr.RSP] = (v & ~0xffff) | ((v + delta) & 0xffff);
  }
}

/** Push a 2- or 4-byte value. */
export function push(c: Cpu, size: number, v: number): void {
  const a = slot(c, -size, size);
  if (size === 4) c.write32(a, c.linHi, v);
  else c.write16(a, c.linHi, v);
  adjustSp(c, -size);
}

export function push64(c: Cpu, lo: number, hi: number): void {
  const a = slot(c, -8, 8);
  c.write64(a, c.linHi, lo, hi);
  adjustSp(c, -8);
}

/** Read the 2- or 4-byte value `offset` bytes above the top of the stack without popping. */
export function peek(c: Cpu, size: number, offset = 0): number {
  const a = slot(c, offset, size);
  return size === 4 ? c.read32(a, c.linHi) : c.read16(a, c.linHi);
}

/** Read the 8-byte value at the top of the stack (+offset): low half, high half in vHi. */
export function peek64(c: Cpu, offset = 0): number {
  const a = slot(c, offset, 8);
  return c.read64(a, c.linHi);
}

export function pop(c: Cpu, size: number): number {
  const v = peek(c, size);
  adjustSp(c, size);
  return v;
}

/** Pop 8 bytes: low half returned, high half in vHi. */
export function pop64(c: Cpu): number {
  const lo = peek64(c);
  const hi = c.vHi;
  adjustSp(c, 8);
  c.vHi = hi;
  return lo;
}
