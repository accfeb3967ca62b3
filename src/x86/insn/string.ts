/**
 * String instructions MOVS, STOS, LODS, CMPS, SCAS in byte, word, doubleword and quadword sizes,
 * with the REP, REPE/REPZ and REPNE/REPNZ prefixes (SDM vol. 2B MOVS, STOS, LODS, CMPS, SCAS and
 * REP/REPE/REPZ/REPNE/REPNZ; vol. 1 §7.3.9).
 *
 * - Source [seg:rSI] (DS unless overridden), destination [ES:rDI] (no override). The address
 *   size (16/32/64) picks SI/ESI/RSI, DI/EDI/RDI and the counter CX/ECX/RCX, and the pointers
 *   wrap with it. DF chooses the direction.
 * - A REP string instruction runs all its iterations in one op. Each iteration updates rSI, rDI
 *   and rCX only after its memory accesses succeeded, so a fault in iteration k leaves the
 *   registers as of that iteration and RIP at the instruction (SDM vol. 1 §7.3.9.2: the
 *   instruction can be restarted). A count of 0 does nothing. REPE/REPNE on MOVS, STOS and
 *   LODS act as REP.
 * - Measured on silicon (64-bit mode, 32-bit address size): REP MOVS and REP STOS zero-extend
 *   ECX and their pointer registers (MOVS: ESI, EDI; STOS: EDI) before the first iteration,
 *   even when the count is 0 or the first iteration faults; REP LODS/CMPS/SCAS only ECX.
 * - REP MOVS/STOS (and, with DF=0, REPE/REPNE SCAS/CMPS up to doublewords) work a page at a
 *   time straight on the page's bytes once the first element of the chunk went through the
 *   normal access path (which raises any fault and leaves pages that hold translated code or are
 *   not RAM to the slow path), preserving the element-by-element result for overlapping source
 *   and destination.
 */
import { Code, Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { CpuException, Vector } from '../exceptions';
import { TLB_SIZE } from '../mmu';
import type { AddrFn, Op } from '../operands';
import { Flag, Gpr, Seg } from '../registers';
import type { TranslatorTable } from '../translator';
import * as A from './arith';

const TWO32 = 4294967296;
const TLB_MASK = TLB_SIZE - 1;

const enum Kind { Movs, Stos, Lods, Cmps, Scas }
const enum Rep { None, Rep, Repe, Repne }

interface Form { kind: Kind; size: 1 | 2 | 4 | 8 }

const FORMS = new Map<Code, Form>([
  [Code.Movsb_m8_m8, { kind: Kind.Movs, size: 1 }], [Code.Movsw_m16_m16, { kind: Kind.Movs, size: 2 }],
  [Code.Movsd_m32_m32, { kind: Kind.Movs, size: 4 }], [Code.Movsq_m64_m64, { kind: Kind.Movs, size: 8 }],
  [Code.Stosb_m8_AL, { kind: Kind.Stos, size: 1 }], [Code.Stosw_m16_AX, { kind: Kind.Stos, size: 2 }],
  [Code.Stosd_m32_EAX, { kind: Kind.Stos, size: 4 }], [Code.Stosq_m64_RAX, { kind: Kind.Stos, size: 8 }],
  [Code.Lodsb_AL_m8, { kind: Kind.Lods, size: 1 }], [Code.Lodsw_AX_m16, { kind: Kind.Lods, size: 2 }],
  [Code.Lodsd_EAX_m32, { kind: Kind.Lods, size: 4 }], [Code.Lodsq_RAX_m64, { kind: Kind.Lods, size: 8 }],
  [Code.Cmpsb_m8_m8, { kind: Kind.Cmps, size: 1 }], [Code.Cmpsw_m16_m16, { kind: Kind.Cmps, size: 2 }],
  [Code.Cmpsd_m32_m32, { kind: Kind.Cmps, size: 4 }], [Code.Cmpsq_m64_m64, { kind: Kind.Cmps, size: 8 }],
  [Code.Scasb_AL_m8, { kind: Kind.Scas, size: 1 }], [Code.Scasw_AX_m16, { kind: Kind.Scas, size: 2 }],
  [Code.Scasd_EAX_m32, { kind: Kind.Scas, size: 4 }], [Code.Scasq_RAX_m64, { kind: Kind.Scas, size: 8 }],
]);

// ---- addresses ---------------------------------------------------------------------------------

function segFault(seg: number): CpuException {
  return seg === Seg.SS
    ? new CpuException(Vector.SS, 0, 'string operand outside the stack segment or not canonical')
    : new CpuException(Vector.GP, 0, 'string operand outside the segment limit or not canonical');
}

/** True when an access of `last + 1` bytes at (lo, hi) is not entirely canonical. */
function nonCanonical(lo: number, hi: number, last: number): boolean {
  if (((hi << 16) >> 16) !== hi) return true;
  return hi === 0x7fff && (lo >>> 0) + last >= TWO32;
}

/**
 * Linear address of [seg:reg] for an access of `size` bytes with address size `asz`
 * (SDM vol. 3A §3.4, §5.3; vol. 1 §3.3.7 in 64-bit mode). Returns the low half, high in linHi.
 */
function stringAddress(bitness: number, seg: number, reg: number, asz: number, size: number): AddrFn {
  const last = size - 1;
  if (bitness === 64) {
    const based = seg === Seg.FS || seg === Seg.GS;
    if (asz === 8) {
      if (based) {
        return (c) => {
          const s = (c.lo[reg] >>> 0) + (c.segBaseLo[seg] >>> 0);
          const hi = (c.hi[reg] + c.segBaseHi[seg] + (s >= TWO32 ? 1 : 0)) | 0;
          if (nonCanonical(s, hi, last)) throw segFault(seg);
          c.linHi = hi;
          return s | 0;
        };
      }
      return (c) => {
        const lo = c.lo[reg], hi = c.hi[reg];
        if (nonCanonical(lo, hi, last)) throw segFault(seg);
        c.linHi = hi;
        return lo;
      };
    }
    // 32-bit addresses in 64-bit mode: zero-extended offsets, always canonical without a base.
    if (based) {
      return (c) => {
        const s = (c.lo[reg] >>> 0) + (c.segBaseLo[seg] >>> 0);
        const hi = (c.segBaseHi[seg] + (s >= TWO32 ? 1 : 0)) | 0;
        if (nonCanonical(s, hi, last)) throw segFault(seg);
        c.linHi = hi;
        return s | 0;
      };
    }
    return (c) => { c.linHi = 0; return c.lo[reg]; };
  }
  if (asz === 2) {
    return (c) => {
      const o = c.lo[reg] & 0xffff;
      if (o + last > c.segLimit[seg]) throw segFault(seg);
      c.linHi = 0;
      return (o + c.segBaseLo[seg]) | 0;
    };
  }
  return (c) => {
    const o = c.lo[reg] >>> 0;
    if (o + last > c.segLimit[seg]) throw segFault(seg);
    c.linHi = 0;
    return (o + c.segBaseLo[seg]) | 0;
  };
}

/** Offset held in `reg` with address size `asz` (for room computations; 64-bit: low half). */
function offsetOf(c: Cpu, reg: number, asz: number): number {
  return asz === 2 ? c.lo[reg] & 0xffff : c.lo[reg] >>> 0;
}

/** Add `delta` to pointer register `reg` with address size `asz`. */
function advance(c: Cpu, reg: number, asz: number, delta: number): void {
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

function countIsZero(c: Cpu, asz: number): boolean {
  if (asz === 8) return (c.lo[Gpr.RCX] | c.hi[Gpr.RCX]) === 0;
  if (asz === 4) return c.lo[Gpr.RCX] === 0;
  return (c.lo[Gpr.RCX] & 0xffff) === 0;
}

/** The remaining count, capped at 2^31 (larger 64-bit counts are done in pieces). */
function countOf(c: Cpu, asz: number): number {
  if (asz === 8) return c.hi[Gpr.RCX] !== 0 ? 0x80000000 : c.lo[Gpr.RCX] >>> 0;
  if (asz === 4) return c.lo[Gpr.RCX] >>> 0;
  return c.lo[Gpr.RCX] & 0xffff;
}

/** Subtract n (at most the current count) from the counter. */
function decCount(c: Cpu, asz: number, n: number): void {
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

function dfSet(c: Cpu): boolean {
  return (c.flagsRest & Flag.DF) !== 0;
}

// ---- sized memory access ------------------------------------------------------------------------

type Read = (c: Cpu, lo: number, hi: number) => number;
type Write = (c: Cpu, lo: number, hi: number, v: number, vhi: number) => void;

const READ: Record<number, Read> = {
  1: (c, lo, hi) => c.read8(lo, hi),
  2: (c, lo, hi) => c.read16(lo, hi),
  4: (c, lo, hi) => c.read32(lo, hi),
  8: (c, lo, hi) => c.read64(lo, hi),
};
const WRITE: Record<number, Write> = {
  1: (c, lo, hi, v) => c.write8(lo, hi, v),
  2: (c, lo, hi, v) => c.write16(lo, hi, v),
  4: (c, lo, hi, v) => c.write32(lo, hi, v),
  8: (c, lo, hi, v, vhi) => c.write64(lo, hi, v, vhi),
};

// ---- one iteration of each instruction ----------------------------------------------------------

interface Spec {
  size: number;
  asz: number;
  src: AddrFn;
  dst: AddrFn;
  read: Read;
  write: Write;
}

/** One iteration; returns nothing, updates the pointer registers after the accesses. */
type Once = (c: Cpu) => void;

function movsOnce(s: Spec): Once {
  const { size, asz, src, dst, read, write } = s;
  return (c) => {
    const a = src(c);
    const v = read(c, a, c.linHi);
    const vhi = c.vHi;
    const b = dst(c);
    write(c, b, c.linHi, v, vhi);
    const delta = dfSet(c) ? -size : size;
    advance(c, Gpr.RSI, asz, delta);
    advance(c, Gpr.RDI, asz, delta);
  };
}

function stosOnce(s: Spec): Once {
  const { size, asz, dst, write } = s;
  const mask = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  return (c) => {
    const b = dst(c);
    write(c, b, c.linHi, c.lo[Gpr.RAX] & mask, c.hi[Gpr.RAX]);
    advance(c, Gpr.RDI, asz, dfSet(c) ? -size : size);
  };
}

function lodsOnce(s: Spec): Once {
  const { size, asz, src, read } = s;
  return (c) => {
    const a = src(c);
    const v = read(c, a, c.linHi);
    if (size === 8) { c.lo[Gpr.RAX] = v; c.hi[Gpr.RAX] = c.vHi; }
    else if (size === 4) { c.lo[Gpr.RAX] = v; c.hi[Gpr.RAX] = 0; }
    else if (size === 2) c.lo[Gpr.RAX] = (c.lo[Gpr.RAX] & ~0xffff) | v;
    else c.lo[Gpr.RAX] = (c.lo[Gpr.RAX] & ~0xff) | v;
    advance(c, Gpr.RSI, asz, dfSet(c) ? -size : size);
  };
}

/**
 * CMPS: flags of [seg:rSI] - [ES:rDI] (SDM vol. 2A CMPS: SRC1 - SRC2). Silicon accesses the
 * ES:rDI operand first: when both fault, the fault (segment check or page fault) is that of
 * ES:rDI (measured).
 */
function cmpsOnce(s: Spec): Once {
  const { size, asz, src, dst, read } = s;
  return (c) => {
    const b = dst(c);
    const y = read(c, b, c.linHi);
    const yhi = c.vHi;
    const a = src(c);
    const x = read(c, a, c.linHi);
    if (size === 8) A.sub64(c, x, c.vHi, y, yhi);
    else A.sub(c, x, y, size);
    const delta = dfSet(c) ? -size : size;
    advance(c, Gpr.RSI, asz, delta);
    advance(c, Gpr.RDI, asz, delta);
  };
}

/** SCAS: flags of AL/AX/EAX/RAX - [ES:rDI]. */
function scasOnce(s: Spec): Once {
  const { size, asz, dst, read } = s;
  const mask = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  return (c) => {
    const b = dst(c);
    const y = read(c, b, c.linHi);
    if (size === 8) A.sub64(c, c.lo[Gpr.RAX], c.hi[Gpr.RAX], y, c.vHi);
    else A.sub(c, c.lo[Gpr.RAX] & mask, y, size);
    advance(c, Gpr.RDI, asz, dfSet(c) ? -size : size);
  };
}

// ---- REPE/REPNE CMPS and SCAS: comparisons without flag writes ---------------------------------
// "When a fault occurs during the execution of a CMPS or SCAS instruction that is prefixed with
// REPE or REPNE, the EFLAGS value is restored to the state prior to the execution of the
// instruction" (SDM vol. 2B REP/REPE/REPZ/REPNE/REPNZ; measured on silicon). So the loop keeps
// the operands of the last comparison here and sets the flags from them only when it ends.
let cmpA = 0, cmpAHi = 0, cmpB = 0, cmpBHi = 0;

function lastEqual(): boolean {
  return cmpA === cmpB && cmpAHi === cmpBHi;
}

function cmpsStep(s: Spec): Once {
  const { size, asz, src, dst, read } = s;
  const wide = size === 8;
  return (c) => {
    const b = dst(c);
    const y = read(c, b, c.linHi);
    const yhi = wide ? c.vHi : 0;
    const a = src(c);
    const x = read(c, a, c.linHi);
    cmpA = x; cmpAHi = wide ? c.vHi : 0; cmpB = y; cmpBHi = yhi;
    const delta = dfSet(c) ? -size : size;
    advance(c, Gpr.RSI, asz, delta);
    advance(c, Gpr.RDI, asz, delta);
  };
}

function scasStep(s: Spec): Once {
  const { size, asz, dst, read } = s;
  const mask = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  const wide = size === 8;
  return (c) => {
    const b = dst(c);
    const y = read(c, b, c.linHi);
    cmpA = c.lo[Gpr.RAX] & mask; cmpAHi = wide ? c.hi[Gpr.RAX] : 0; cmpB = y; cmpBHi = wide ? c.vHi : 0;
    advance(c, Gpr.RDI, asz, dfSet(c) ? -size : size);
  };
}

// ---- bulk forward REP MOVS / REP STOS ----------------------------------------------------------

/** Elements of `size` bytes that fit from pointer `reg` before the address-size wrap and, outside
 * 64-bit mode, before the end of segment `seg` (the first element is known to fit). */
function room(c: Cpu, reg: number, asz: number, size: number, b64: boolean, seg: number): number {
  const o = offsetOf(c, reg, asz);
  let k = asz === 2 ? Math.floor((0x10000 - o) / size) : asz === 4 ? Math.floor((TWO32 - o) / size) : 0x7fffffff;
  if (!b64) {
    const l = Math.floor((c.segLimit[seg] - o + 1) / size);
    if (l < k) k = l;
  }
  return k;
}

const scratch = new Uint8Array(8);

/**
 * Copy `len` bytes forward from src[so..] to dst[do..] with the result of an element-by-element
 * forward copy of `size`-byte elements, also when the ranges overlap in one page.
 */
function copyForward(sp: Uint8Array, so: number, dp: Uint8Array, d0: number, len: number, size: number): void {
  if (sp !== dp || d0 <= so || d0 >= so + len) {
    // No overlap that a forward copy could read back: memmove gives the same bytes.
    if (sp === dp) dp.copyWithin(d0, so, so + len);
    else if (len <= 64) for (let j = 0; j < len; j++) dp[d0 + j] = sp[so + j];
    else dp.set(sp.subarray(so, so + len), d0);
    return;
  }
  const dist = d0 - so;
  if (dist >= size) {
    // Each element reads only bytes written by earlier elements: the bytes from `so` on repeat
    // with period `dist` (the memset-by-overlap idiom). Double the pattern with copyWithin.
    const end = d0 + len;
    let cur = d0;
    while (cur < end) {
      const m = Math.min(cur - so, end - cur);
      dp.copyWithin(cur, so, so + m);
      cur += m;
    }
    return;
  }
  // An element overlaps its own destination: copy element by element.
  for (let j = 0; j < len; j += size) {
    for (let b = 0; b < size; b++) scratch[b] = dp[so + j + b];
    for (let b = 0; b < size; b++) dp[d0 + j + b] = scratch[b];
  }
}

/**
 * Copy `len` bytes from src[so..] to dst[do..] with the result of an element-by-element copy
 * of `size`-byte elements that runs from the highest element down (DF=1).
 */
function copyBackward(sp: Uint8Array, so: number, dp: Uint8Array, d0: number, len: number, size: number): void {
  if (sp !== dp || d0 >= so || d0 + len <= so) {
    // A descending copy never reads back what it wrote here: memmove gives the same bytes.
    if (sp === dp) dp.copyWithin(d0, so, so + len);
    else if (len <= 64) for (let j = 0; j < len; j++) dp[d0 + j] = sp[so + j];
    else dp.set(sp.subarray(so, so + len), d0);
    return;
  }
  const dist = so - d0;
  if (dist >= size) {
    for (let j = len - 1; j >= 0; j--) dp[d0 + j] = dp[so + j];
    return;
  }
  for (let j = len - size; j >= 0; j -= size) {
    for (let b = 0; b < size; b++) scratch[b] = dp[so + j + b];
    for (let b = 0; b < size; b++) dp[d0 + j + b] = scratch[b];
  }
}

/** Elements of `size` bytes at or below pointer `reg` (inclusive) before its offset wraps below 0. */
function roomDown(c: Cpu, reg: number, asz: number, size: number): number {
  if (asz === 8) return 0x7fffffff;
  return Math.floor(offsetOf(c, reg, asz) / size) + 1;
}

/**
 * One or more iterations of REP MOVS (count at least 1): the first element goes through the
 * normal path (faults, MMIO, pages holding code, TLB fill, same order as one iteration); then the
 * elements that stay within the same source and destination pages, the address-size wrap and
 * the segment limits are copied on the page bytes directly, in either direction.
 */
function movsBulk(s: Spec, b64: boolean, srcSeg: number): (c: Cpu) => boolean {
  const { size, asz, src, dst, read, write } = s;
  return (c) => {
    const sa = src(c), sh = c.linHi;
    const v = read(c, sa, sh);
    const vhi = c.vHi;
    const da = dst(c), dh = c.linHi;
    write(c, da, dh, v, vhi);
    const down = dfSet(c);
    let k = countOf(c, asz);
    if (k >= 2) {
      const so = sa & 0xfff, d0 = da & 0xfff;
      let ks: number, kd: number, rs: number, rd: number;
      if (down) {
        ks = Math.floor(so / size) + 1;
        kd = Math.floor(d0 / size) + 1;
        rs = roomDown(c, Gpr.RSI, asz, size);
        rd = roomDown(c, Gpr.RDI, asz, size);
      } else {
        ks = Math.floor((0x1000 - so) / size);
        kd = Math.floor((0x1000 - d0) / size);
        rs = room(c, Gpr.RSI, asz, size, b64, srcSeg);
        rd = room(c, Gpr.RDI, asz, size, b64, Seg.ES);
      }
      if (ks < k) k = ks;
      if (kd < k) k = kd;
      if (rs < k) k = rs;
      if (rd < k) k = rd;
      const ri = (sa >>> 12) & TLB_MASK, wi = (da >>> 12) & TLB_MASK;
      if (k >= 2 && c.tlbRLo[ri] === (sa & ~0xfff) && c.tlbRHi[ri] === sh &&
        c.tlbWLo[wi] === (da & ~0xfff) && c.tlbWHi[wi] === dh) {
        const len = (k - 1) * size;
        if (down) copyBackward(c.tlbRPage[ri]!, so - len, c.tlbWPage[wi]!, d0 - len, len, size);
        else copyForward(c.tlbRPage[ri]!, so + size, c.tlbWPage[wi]!, d0 + size, len, size);
      } else {
        k = 1;
      }
    }
    const delta = down ? -k * size : k * size;
    advance(c, Gpr.RSI, asz, delta);
    advance(c, Gpr.RDI, asz, delta);
    decCount(c, asz, k);
    return true;
  };
}

/** One or more iterations of REP STOS (count at least 1), as movsBulk, in either direction. */
function stosBulk(s: Spec, b64: boolean): (c: Cpu) => boolean {
  const { size, asz, dst, write } = s;
  const mask = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  return (c) => {
    const da = dst(c), dh = c.linHi;
    write(c, da, dh, c.lo[Gpr.RAX] & mask, c.hi[Gpr.RAX]);
    const down = dfSet(c);
    let k = countOf(c, asz);
    if (k >= 2) {
      const off = da & 0xfff;
      // The first element is the pattern: it must lie within the page (DF=0 checks that too).
      const kp = off + size > 0x1000 ? 1 : down ? Math.floor(off / size) + 1 : Math.floor((0x1000 - off) / size);
      if (kp < k) k = kp;
      const rd = down ? roomDown(c, Gpr.RDI, asz, size) : room(c, Gpr.RDI, asz, size, b64, Seg.ES);
      if (rd < k) k = rd;
      const wi = (da >>> 12) & TLB_MASK;
      if (k >= 2 && c.tlbWLo[wi] === (da & ~0xfff) && c.tlbWHi[wi] === dh) {
        const p = c.tlbWPage[wi]!;
        // The first element is at `off`; the others go above it (DF=0) or below it (DF=1).
        const first = down ? off - (k - 1) * size : off;
        if (size === 1) {
          p.fill(c.lo[Gpr.RAX] & 0xff, first, first + k);
        } else {
          if (down) p.copyWithin(first, off, off + size);
          const end = first + k * size;
          let cur = first + size;
          while (cur < end) {
            const m = Math.min(cur - first, end - cur);
            p.copyWithin(cur, first, first + m);
            cur += m;
          }
        }
      } else {
        k = 1;
      }
    }
    advance(c, Gpr.RDI, asz, down ? -k * size : k * size);
    decCount(c, asz, k);
    return true;
  };
}

/** A 1-, 2- or 4-byte little-endian element of a page (4 bytes as int32). */
function pageValue(p: Uint8Array, o: number, size: number): number {
  if (size === 1) return p[o];
  if (size === 2) return p[o] | (p[o + 1] << 8);
  return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
}

/**
 * One or more iterations of REPE/REPNE SCAS with DF=0 (count at least 1; sizes 1, 2, 4): the
 * first element through the normal path, then the rest of the page scanned directly. Leaves the
 * last comparison's operands in cmpA/cmpB. Returns false (nothing done) when DF=1.
 */
function scasForward(s: Spec, b64: boolean, repe: boolean): (c: Cpu) => boolean {
  const { size, asz, dst, read } = s;
  const mask = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  return (c) => {
    if (dfSet(c)) return false;
    const acc = c.lo[Gpr.RAX] & mask;
    const da = dst(c), dh = c.linHi;
    cmpB = read(c, da, dh);
    cmpA = acc; cmpAHi = 0; cmpBHi = 0;
    let done = 1;
    const n = countOf(c, asz);
    if (n >= 2 && (acc === cmpB) === repe) {
      let k = Math.floor((0x1000 - (da & 0xfff)) / size);
      if (n < k) k = n;
      if (k >= 2) {
        const rd = room(c, Gpr.RDI, asz, size, b64, Seg.ES);
        if (rd < k) k = rd;
      }
      const i = (da >>> 12) & TLB_MASK;
      if (k >= 2 && c.tlbRLo[i] === (da & ~0xfff) && c.tlbRHi[i] === dh) {
        const p = c.tlbRPage[i]!;
        const off = da & 0xfff;
        let j = 1;
        if (repe) while (j < k - 1 && pageValue(p, off + j * size, size) === acc) j++;
        else while (j < k - 1 && pageValue(p, off + j * size, size) !== acc) j++;
        // Element j is the last one compared: the one that stops the scan, or the chunk's last.
        cmpB = pageValue(p, off + j * size, size);
        done = j + 1;
      }
    }
    advance(c, Gpr.RDI, asz, done * size);
    decCount(c, asz, done);
    return true;
  };
}

/** As scasForward for REPE/REPNE CMPS: [seg:rSI] against [ES:rDI], within one page of each. */
function cmpsForward(s: Spec, b64: boolean, srcSeg: number, repe: boolean): (c: Cpu) => boolean {
  const { size, asz, src, dst, read } = s;
  return (c) => {
    if (dfSet(c)) return false;
    const da = dst(c), dh = c.linHi;
    const y = read(c, da, dh);
    const sa = src(c), sh = c.linHi;
    const x = read(c, sa, sh);
    cmpA = x; cmpB = y; cmpAHi = 0; cmpBHi = 0;
    let done = 1;
    const n = countOf(c, asz);
    if (n >= 2 && (x === y) === repe) {
      let k = Math.floor((0x1000 - (sa & 0xfff)) / size);
      const kd = Math.floor((0x1000 - (da & 0xfff)) / size);
      if (kd < k) k = kd;
      if (n < k) k = n;
      if (k >= 2) {
        const rs = room(c, Gpr.RSI, asz, size, b64, srcSeg);
        if (rs < k) k = rs;
        const rd = room(c, Gpr.RDI, asz, size, b64, Seg.ES);
        if (rd < k) k = rd;
      }
      const ri = (sa >>> 12) & TLB_MASK, di = (da >>> 12) & TLB_MASK;
      if (k >= 2 && c.tlbRLo[ri] === (sa & ~0xfff) && c.tlbRHi[ri] === sh &&
        c.tlbRLo[di] === (da & ~0xfff) && c.tlbRHi[di] === dh) {
        const sp = c.tlbRPage[ri]!, dp = c.tlbRPage[di]!;
        const so = sa & 0xfff, d0 = da & 0xfff;
        let j = 1;
        if (repe) while (j < k - 1 && pageValue(sp, so + j * size, size) === pageValue(dp, d0 + j * size, size)) j++;
        else while (j < k - 1 && pageValue(sp, so + j * size, size) !== pageValue(dp, d0 + j * size, size)) j++;
        cmpA = pageValue(sp, so + j * size, size);
        cmpB = pageValue(dp, d0 + j * size, size);
        done = j + 1;
      }
    }
    advance(c, Gpr.RSI, asz, done * size);
    advance(c, Gpr.RDI, asz, done * size);
    decCount(c, asz, done);
    return true;
  };
}

// ---- translation --------------------------------------------------------------------------------

function stringOp(d: DecodedInsn): Op | null {
  const f = FORMS.get(d.code);
  if (f === undefined) return null; // e.g. SSE2 MOVSD/CMPSD share the mnemonic: not this group's
  const { kind, size } = f;
  const asz = d.addrSize;
  const b64 = d.bitness === 64;
  const srcSeg = d.segPrefix >= 0 ? d.segPrefix : Seg.DS;
  const spec: Spec = {
    size, asz,
    src: stringAddress(d.bitness, srcSeg, Gpr.RSI, asz, size),
    dst: stringAddress(d.bitness, Seg.ES, Gpr.RDI, asz, size),
    read: READ[size],
    write: WRITE[size],
  };
  const once = kind === Kind.Movs ? movsOnce(spec) : kind === Kind.Stos ? stosOnce(spec)
    : kind === Kind.Lods ? lodsOnce(spec) : kind === Kind.Cmps ? cmpsOnce(spec) : scasOnce(spec);
  const compares = kind === Kind.Cmps || kind === Kind.Scas;
  const rep = d.repne ? (compares ? Rep.Repne : Rep.Rep) : d.rep ? (compares ? Rep.Repe : Rep.Rep) : Rep.None;
  if (rep === Rep.None) return once;

  const wide = size === 8;
  if (compares) {
    const repe = rep === Rep.Repe;
    const step = kind === Kind.Cmps ? cmpsStep(spec) : scasStep(spec);
    const fast = wide ? null : kind === Kind.Cmps ? cmpsForward(spec, b64, srcSeg, repe) : scasForward(spec, b64, repe);
    const clearCx = b64 && asz === 4;
    return (c) => {
      if (clearCx) c.hi[Gpr.RCX] = 0;
      if (countIsZero(c, asz)) return;
      do {
        if (fast === null || !fast(c)) {
          step(c);
          decCount(c, asz, 1);
        }
      } while (lastEqual() === repe && !countIsZero(c, asz));
      if (wide) A.sub64(c, cmpA, cmpAHi, cmpB, cmpBHi);
      else A.sub(c, cmpA, cmpB, size);
    };
  }
  const bulk = kind === Kind.Movs ? movsBulk(spec, b64, srcSeg)
    : kind === Kind.Stos ? stosBulk(spec, b64)
      : null;
  // 64-bit mode, 32-bit addresses: the upper halves cleared up front (measured, see above).
  const clear = b64 && asz === 4;
  const clearSi = clear && kind === Kind.Movs;
  const clearDi = clear && (kind === Kind.Movs || kind === Kind.Stos);
  return (c) => {
    if (clear) {
      c.hi[Gpr.RCX] = 0;
      if (clearSi) c.hi[Gpr.RSI] = 0;
      if (clearDi) c.hi[Gpr.RDI] = 0;
    }
    while (!countIsZero(c, asz)) {
      if (bulk === null || !bulk(c)) {
        once(c);
        decCount(c, asz, 1);
      }
    }
  };
}

export const stringHandlers: TranslatorTable = {};
for (const m of [
  Mnemonic.Movsb, Mnemonic.Movsw, Mnemonic.Movsd, Mnemonic.Movsq,
  Mnemonic.Stosb, Mnemonic.Stosw, Mnemonic.Stosd, Mnemonic.Stosq,
  Mnemonic.Lodsb, Mnemonic.Lodsw, Mnemonic.Lodsd, Mnemonic.Lodsq,
  Mnemonic.Cmpsb, Mnemonic.Cmpsw, Mnemonic.Cmpsd, Mnemonic.Cmpsq,
  Mnemonic.Scasb, Mnemonic.Scasw, Mnemonic.Scasd, Mnemonic.Scasq,
]) {
  stringHandlers[m] = stringOp;
}
