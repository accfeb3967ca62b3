/**
 * Page-at-a-time fast paths of the repeated string instructions (string.ts holds the
 * element-by-element semantics; SDM vol. 2B MOVS, STOS, CMPS, SCAS, REP/REPE/REPZ/REPNE/REPNZ).
 *
 * REP MOVS and REP STOS (either direction), and REPE/REPNE SCAS and CMPS with DF=0 for elements up
 * to doublewords, let the first element of each chunk go through the normal access path (which
 * raises any fault, fills the TLB and leaves pages that hold translated code or are not RAM to the
 * slow path), then do the rest of the chunk straight on the page's bytes. A chunk ends at a page
 * boundary, the address-size wrap, a segment limit or the end of the count. The result is the one
 * the element-by-element loop gives, also for overlapping source and destination; each function
 * updates rSI/rDI/rCX for the elements it did.
 */
import type { Cpu } from '../cpu';
import { TLB_SIZE } from '../mmu';
import { Gpr, Seg } from '../registers';
import * as stringRegs from './stringRegs';
import type { Spec } from './stringRegs';

// Module-local bindings of the helpers the ops call (under tsx each use of an imported name
// would go through a getter on the other module's exports object; see string.ts).
const { advance, cmp, countOf, decCount, dfSet, offsetOf } = stringRegs;

const TWO32 = 4294967296;
const TLB_MASK = TLB_SIZE - 1;

// ---- REP MOVS / REP STOS -----------------------------------------------------------------------

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
export function movsBulk(s: Spec, b64: boolean, srcSeg: number): (c: Cpu) => boolean {
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
export function stosBulk(s: Spec, b64: boolean): (c: Cpu) => boolean {
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

// ---- REPE/REPNE SCAS / CMPS, DF=0 -------------------------------------------------------------

/** A 1-, 2- or 4-byte little-endian element of a page (4 bytes as int32). */
function pageValue(p: Uint8Array, o: number, size: number): number {
  if (size === 1) return p[o];
  if (size === 2) return p[o] | (p[o + 1] << 8);
  return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
}

/**
 * One or more iterations of REPE/REPNE SCAS with DF=0 (count at least 1; sizes 1, 2, 4): the
 * first element through the normal path, then the rest of the page scanned directly. Leaves the
 * last comparison's operands in `cmp`. Returns false (nothing done) when DF=1.
 */
export function scasForward(s: Spec, b64: boolean, repe: boolean): (c: Cpu) => boolean {
  const { size, asz, dst, read } = s;
  const mask = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  return (c) => {
    if (dfSet(c)) return false;
    const acc = c.lo[Gpr.RAX] & mask;
    const da = dst(c), dh = c.linHi;
    const y = read(c, da, dh);
    cmp.a = acc; cmp.aHi = 0; cmp.b = y; cmp.bHi = 0;
    let done = 1;
    const n = countOf(c, asz);
    if (n >= 2 && (acc === y) === repe) {
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
        cmp.b = pageValue(p, off + j * size, size);
        done = j + 1;
      }
    }
    advance(c, Gpr.RDI, asz, done * size);
    decCount(c, asz, done);
    return true;
  };
}

/** As scasForward for REPE/REPNE CMPS: [seg:rSI] against [ES:rDI], within one page of each. */
export function cmpsForward(s: Spec, b64: boolean, srcSeg: number, repe: boolean): (c: Cpu) => boolean {
  const { size, asz, src, dst, read } = s;
  return (c) => {
    if (dfSet(c)) return false;
    const da = dst(c), dh = c.linHi;
    const y = read(c, da, dh);
    const sa = src(c), sh = c.linHi;
    const x = read(c, sa, sh);
    cmp.a = x; cmp.aHi = 0; cmp.b = y; cmp.bHi = 0;
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
        cmp.a = pageValue(sp, so + j * size, size);
        cmp.b = pageValue(dp, d0 + j * size, size);
        done = j + 1;
      }
    }
    advance(c, Gpr.RSI, asz, done * size);
    advance(c, Gpr.RDI, asz, done * size);
    decCount(c, asz, done);
    return true;
  };
}
