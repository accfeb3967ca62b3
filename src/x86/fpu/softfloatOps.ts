/**
 * x87 soft-float operations on 80-bit values (SDM vol. 1 §4.8, §8.1.5): add/subtract, multiply,
 * divide, square root, compare and partial remainder. Rounding, packing and the shared scratch
 * are in softfloat.ts (see there for the value conventions); results go to `R`.
 */
import * as core from './softfloat';
import { IE, DE, ZE } from './softfloat';

// Plain copies: property loads instead of the module namespace's accessors (hot path; under the
// CommonJS transform every imported name is read through a getter).
const { R, W, K, setResult, setIndefinite, classify, shr96, clz32, normalize, roundExt, isNaNK, screen2 } = core;

// ---- add / subtract (SDM vol. 2A FADD, FSUB; §4.8.3 special cases) -------------------------
/** a + b (negate b's sign for subtraction). Operands as sign, exponent field, significand. */
export function add(sa: number, ea: number, ha: number, la: number, sb: number, eb: number, hb: number, lb: number, p: number, rc: number, fcw: number, negB = 0): void {
  const ka = classify(ea, ha, la), kb = classify(eb, hb, lb);
  if (screen2(ka, sa, ha, la, kb, sb, hb, lb)) return;
  sb ^= negB;
  if (ka === K.Inf || kb === K.Inf) {
    if (ka === K.Inf && kb === K.Inf && sa !== sb) { R.fx |= IE; setIndefinite(); return; }
    setResult(ka === K.Inf ? sa : sb, 0x7fff, 0x80000000, 0);
    return;
  }
  if (ka === K.Zero && kb === K.Zero) {
    setResult(sa === sb ? sa : rc === 1 ? 1 : 0, 0, 0, 0);
    return;
  }
  if (kb === K.Zero) { normalize(ea, ha, la); roundExt(sa, W.nE, W.nH, W.nL, 0, p, rc, fcw); return; }
  if (ka === K.Zero) { normalize(eb, hb, lb); roundExt(sb, W.nE, W.nH, W.nL, 0, p, rc, fcw); return; }
  normalize(ea, ha, la);
  let xe = W.nE, xh = W.nH, xl = W.nL;
  normalize(eb, hb, lb);
  let ye = W.nE, yh = W.nH, yl = W.nL;
  let xs = sa, ys = sb;
  // Make x the larger magnitude.
  if (ye > xe || (ye === xe && (yh > xh || (yh === xh && yl > xl)))) {
    let t = xe; xe = ye; ye = t; t = xh; xh = yh; yh = t; t = xl; xl = yl; yl = t; t = xs; xs = ys; ys = t;
  }
  shr96(yh, yl, 0, xe - ye);
  let w0: number, w1: number, w2: number, e = xe;
  if (xs === ys) {
    w2 = W.s2; w1 = xl + W.s1; w0 = xh + W.s0;
    if (w1 >= 4294967296) { w1 -= 4294967296; w0++; }
    if (w0 >= 4294967296) {
      // carry: shift right one with sticky
      w0 -= 4294967296;
      const st = w2 & 1;
      w2 = ((w2 >>> 1) | ((w1 & 1) << 31) | st) >>> 0;
      w1 = ((w1 >>> 1) | ((w0 & 1) << 31)) >>> 0;
      w0 = ((w0 >>> 1) | 0x80000000) >>> 0;
      e++;
    }
  } else {
    w2 = 0 - W.s2; let br = 0;
    if (w2 < 0) { w2 += 4294967296; br = 1; }
    w1 = xl - W.s1 - br; br = 0;
    if (w1 < 0) { w1 += 4294967296; br = 1; }
    w0 = xh - W.s0 - br;
    if (w0 === 0 && w1 === 0 && w2 === 0) { setResult(rc === 1 ? 1 : 0, 0, 0, 0); return; }
    // normalize left
    while (w0 === 0) { w0 = w1; w1 = w2; w2 = 0; e -= 32; }
    const z = clz32(w0);
    if (z > 0) {
      w0 = ((w0 << z) | (w1 >>> (32 - z))) >>> 0;
      w1 = ((w1 << z) | (w2 >>> (32 - z))) >>> 0;
      w2 = (w2 << z) >>> 0;
      e -= z;
    }
  }
  roundExt(xs, e, w0 >>> 0, w1 >>> 0, w2 >>> 0, p, rc, fcw);
}


// ---- multiply ---------------------------------------------------------------------------------
let mHi = 0, mLo = 0;
/** Unsigned 32×32 → 64-bit product into mHi:mLo (16-bit pieces, exact in doubles). */
function mul32(a: number, b: number): void {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const m1 = a1 * b0, m2 = a0 * b1;
  const lo = a0 * b0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
  const loU = lo >>> 0;
  mLo = loU;
  mHi = (a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + (lo - loU) / 4294967296) >>> 0;
}
export function mul(sa: number, ea: number, ha: number, la: number, sb: number, eb: number, hb: number, lb: number, p: number, rc: number, fcw: number): void {
  const ka = classify(ea, ha, la), kb = classify(eb, hb, lb);
  if (screen2(ka, sa, ha, la, kb, sb, hb, lb)) return;
  const s = sa ^ sb;
  if (ka === K.Inf || kb === K.Inf) {
    if (ka === K.Zero || kb === K.Zero) { R.fx |= IE; setIndefinite(); return; }
    setResult(s, 0x7fff, 0x80000000, 0); return;
  }
  if (ka === K.Zero || kb === K.Zero) { setResult(s, 0, 0, 0); return; }
  normalize(ea, ha, la); const xe = W.nE, xh = W.nH, xl = W.nL;
  normalize(eb, hb, lb); const ye = W.nE, yh = W.nH, yl = W.nL;
  // 128-bit product of the 64-bit significands from four 32×32 → 64 products.
  mul32(xl, yl); const p0 = mLo, p1a = mHi;
  mul32(xl, yh); const p1b = mLo, p2a = mHi;
  mul32(xh, yl); const p1c = mLo, p2b = mHi;
  mul32(xh, yh); const p2c = mLo, p3a = mHi;
  const s1 = p1a + p1b + p1c; // < 3·2^32
  const w2v = s1 >>> 0, c1 = (s1 - w2v) / 4294967296;
  const s2 = p2a + p2b + p2c + c1;
  const w1v = s2 >>> 0, c2 = (s2 - w1v) / 4294967296;
  let w0 = (p3a + c2) >>> 0, w1 = w1v;
  let w2 = w2v;
  if (p0 !== 0) w2 = (w2 | 1) >>> 0;
  let e = xe + ye - 16383 + 1;
  if ((w0 & 0x80000000) === 0) {
    const st = w2 & 1;
    w0 = ((w0 << 1) | (w1 >>> 31)) >>> 0;
    w1 = ((w1 << 1) | (w2 >>> 31)) >>> 0;
    w2 = ((w2 << 1) | st) >>> 0;
    e--;
  }
  roundExt(s, e, w0, w1, w2, p, rc, fcw);
}

// ---- divide -----------------------------------------------------------------------------------
export function div(sa: number, ea: number, ha: number, la: number, sb: number, eb: number, hb: number, lb: number, p: number, rc: number, fcw: number): void {
  const ka = classify(ea, ha, la), kb = classify(eb, hb, lb);
  // A zero divisor with a denormal dividend raises only ZE (measured on silicon).
  if (kb === K.Zero && (ka === K.Denormal || (W.pendDE && ka === K.Normal))) { R.fx |= ZE; setResult(sa ^ sb, 0x7fff, 0x80000000, 0); return; }
  if (screen2(ka, sa, ha, la, kb, sb, hb, lb)) return;
  const s = sa ^ sb;
  if (ka === K.Inf) {
    if (kb === K.Inf) { R.fx |= IE; setIndefinite(); return; }
    setResult(s, 0x7fff, 0x80000000, 0); return;
  }
  if (kb === K.Inf) { setResult(s, 0, 0, 0); return; }
  if (kb === K.Zero) {
    if (ka === K.Zero) { R.fx |= IE; setIndefinite(); return; }
    R.fx |= ZE; setResult(s, 0x7fff, 0x80000000, 0); return;
  }
  if (ka === K.Zero) { setResult(s, 0, 0, 0); return; }
  normalize(ea, ha, la); const xe = W.nE, xh = W.nH, xl = W.nL;
  normalize(eb, hb, lb); const ye = W.nE, yh = W.nH, yl = W.nL;
  let e = xe - ye + 16383;
  // Remainder r = rc:rh:rl (rc = bit 64).
  let rx = 0, rh = xh, rl = xl;
  if (xh < yh || (xh === yh && xl < yl)) {
    rx = rh >>> 31; rh = ((rh << 1) | (rl >>> 31)) >>> 0; rl = (rl << 1) >>> 0; e--;
  }
  let w0 = 0, w1 = 0, w2 = 0;
  for (let i = 0; i < 66; i++) {
    let bit = 0;
    if (rx !== 0 || rh > yh || (rh === yh && rl >= yl)) {
      let nl = rl - yl, br = 0;
      if (nl < 0) { nl += 4294967296; br = 1; }
      let nh = rh - yh - br;
      if (nh < 0) nh += 4294967296;
      rh = nh; rl = nl; rx = 0; bit = 1;
    }
    if (i < 32) w0 = (w0 | (bit << (31 - i))) >>> 0;
    else if (i < 64) w1 = (w1 | (bit << (63 - i))) >>> 0;
    else w2 = (w2 | (bit << (95 - i))) >>> 0;
    rx = rh >>> 31; rh = ((rh << 1) | (rl >>> 31)) >>> 0; rl = (rl << 1) >>> 0;
  }
  if (rx !== 0 || rh !== 0 || rl !== 0) w2 = (w2 | 1) >>> 0;
  roundExt(s, e, w0, w1, w2, p, rc, fcw);
}

// ---- square root ------------------------------------------------------------------------------
let R_sig_h = 0, R_sig_l = 0;
/** Bit b of the radicand sig << shift (the normalized significand in R_sig_h:R_sig_l). */
function radBit(b: number, shift: number): number {
  const k = b - shift;
  if (k < 0 || k > 63) return 0;
  return k >= 32 ? (R_sig_h >>> (k - 32)) & 1 : (R_sig_l >>> k) & 1;
}
export function sqrt(sa: number, ea: number, ha: number, la: number, p: number, rc: number, fcw: number): void {
  const ka = classify(ea, ha, la);
  if (ka === K.Unsupported) { R.fx |= IE; setIndefinite(); return; }
  if (ka === K.SNaN) { R.fx |= IE; setResult(sa, 0x7fff, ha | 0x40000000, la); return; }
  if (ka === K.QNaN) { setResult(sa, 0x7fff, ha, la); return; }
  if (ka === K.Zero) { setResult(sa, 0, 0, 0); return; }
  if (sa !== 0) { R.fx |= IE; setIndefinite(); return; } // no DE for a negative denormal (measured)
  if (ka === K.Inf) { setResult(0, 0x7fff, 0x80000000, 0); return; }
  if (ka === K.Denormal) R.fx |= DE;
  normalize(ea, ha, la);
  let u = W.nE - 16383;
  // Radicand: sig << 67 (u even) or << 68 (u odd) in a 132-bit field; root = 66 bits.
  const shift = (u & 1) !== 0 ? 68 : 67;
  if ((u & 1) !== 0) u -= 1;
  // Bit-by-bit square root (restoring): radicand bits come two at a time from the top of the
  // 132-bit field; remainder r and root q are 96-bit values in three uint32 words (2 = high).
  R_sig_h = W.nH; R_sig_l = W.nL;
  let r2 = 0, r1 = 0, r0 = 0, q2 = 0, q1 = 0, q0 = 0;
  for (let j = 0; j < 66; j++) {
    const pair = radBit(131 - 2 * j, shift) * 2 + radBit(130 - 2 * j, shift);
    // r = r*4 + pair
    r2 = ((r2 << 2) | (r1 >>> 30)) >>> 0; r1 = ((r1 << 2) | (r0 >>> 30)) >>> 0; r0 = ((r0 << 2) | pair) >>> 0;
    // t = q*4 + 1
    const t2 = ((q2 << 2) | (q1 >>> 30)) >>> 0, t1 = ((q1 << 2) | (q0 >>> 30)) >>> 0, t0 = ((q0 << 2) | 1) >>> 0;
    const ge = r2 !== t2 ? r2 > t2 : r1 !== t1 ? r1 > t1 : r0 >= t0;
    q2 = ((q2 << 1) | (q1 >>> 31)) >>> 0; q1 = ((q1 << 1) | (q0 >>> 31)) >>> 0; q0 = (q0 << 1) >>> 0;
    if (ge) {
      let d0 = r0 - t0, b = 0;
      if (d0 < 0) { d0 += 4294967296; b = 1; }
      let d1 = r1 - t1 - b; b = 0;
      if (d1 < 0) { d1 += 4294967296; b = 1; }
      r2 = (r2 - t2 - b) >>> 0; r1 = d1; r0 = d0;
      q0 = (q0 | 1) >>> 0;
    }
  }
  // q holds 66 bits (q2 bits 1:0, q1, q0): w0 = q[65:34], w1 = q[33:2], w2 = q[1:0] << 30.
  const w0 = ((q2 << 30) | (q1 >>> 2)) >>> 0;
  const w1 = ((q1 << 30) | (q0 >>> 2)) >>> 0;
  let w2 = (q0 << 30) >>> 0;
  if ((r0 | r1 | r2) !== 0) w2 = (w2 | 1) >>> 0;
  roundExt(0, (u >> 1) + 16383, w0 >>> 0, w1 >>> 0, w2, p, rc, fcw);
}

// ---- compare (SDM vol. 2A FCOM/FUCOM/FCOMI) ----------------------------------------------------
/**
 * Compare a with b: returns 0 (a > b), 1 (a < b), 2 (equal), 3 (unordered). `quiet` = FUCOM
 * semantics (QNaN operands do not raise IE). Flags go to R.fx.
 */
export function compare(sa: number, ea: number, ha: number, la: number, sb: number, eb: number, hb: number, lb: number, quiet: boolean): number {
  const ka = classify(ea, ha, la), kb = classify(eb, hb, lb);
  if (ka === K.Unsupported || kb === K.Unsupported) { R.fx |= IE; return 3; }
  if (isNaNK(ka) || isNaNK(kb)) {
    if (!quiet || ka === K.SNaN || kb === K.SNaN) R.fx |= IE;
    return 3;
  }
  if (ka === K.Denormal || kb === K.Denormal || W.pendDE) R.fx |= DE;
  const za = ka === K.Zero, zb = kb === K.Zero;
  if (za && zb) return 2;
  // Signed comparison via sign + magnitude.
  if (za) return sb ? 0 : 1;
  if (zb) return sa ? 1 : 0;
  if (sa !== sb) return sa ? 1 : 0;
  let c: number; // magnitude compare a vs b
  if (ka === K.Inf || kb === K.Inf) c = ka === kb ? 0 : ka === K.Inf ? 1 : -1;
  else {
    normalize(ea, ha, la); const xe = W.nE, xh = W.nH, xl = W.nL;
    normalize(eb, hb, lb);
    c = xe !== W.nE ? (xe > W.nE ? 1 : -1) : xh !== W.nH ? (xh > W.nH ? 1 : -1) : xl !== W.nL ? (xl > W.nL ? 1 : -1) : 0;
  }
  if (c === 0) return 2;
  if (sa) c = -c;
  return c > 0 ? 0 : 1;
}

// ---- partial remainder (SDM vol. 2A FPREM, FPREM1) ----------------------------------------------
/* prem() leaves the FSW condition bits in R.premCC: C2 (incomplete) and C0/C3/C1 = Q2/Q1/Q0. */

/**
 * ST0 = partial remainder of ST0 / ST1 (round toward zero for FPREM, to nearest-even for
 * FPREM1). The remainder is exact. Result in r*, condition bits in R.premCC.
 */
export function prem(sa: number, ea: number, ha: number, la: number, sb: number, eb: number, hb: number, lb: number, nearest: boolean, fcw: number): void {
  R.premCC = 0;
  const ka = classify(ea, ha, la), kb = classify(eb, hb, lb);
  if (ka !== K.Unsupported && kb !== K.Unsupported && !isNaNK(ka) && !isNaNK(kb) && (ka === K.Inf || kb === K.Zero)) {
    R.fx |= IE; setIndefinite(); return; // no DE here (measured)
  }
  if (screen2(ka, sa, ha, la, kb, sb, hb, lb)) return;
  if (ka === K.Zero) { setResult(sa, ea, ha, la); return; }
  // Finite / infinity: ST0 unchanged, not rounded (no UE for a denormal even when UE is unmasked);
  // a pseudo-denormal comes back with exponent 1, its normal encoding (measured on silicon).
  if (kb === K.Inf) { setResult(sa, ea === 0 && (ha & 0x80000000) !== 0 ? 1 : ea, ha, la); return; }
  normalize(ea, ha, la); const xe = W.nE, xh = W.nH, xl = W.nL;
  normalize(eb, hb, lb); const ye = W.nE, yh = W.nH, yl = W.nL;
  const d = xe - ye;
  if (d < 0 && !(nearest && d === -1)) { roundExt(sa, xe, xh, xl, 0, 64, 0, fcw); return; }
  if (d < 0) {
    // FPREM1, |a| in [b/2, b): quotient 1 when a > b/2 (A > B), else 0 (tie goes to even 0).
    if (xh > yh || (xh === yh && xl > yl)) {
      // quotient 1: |r| = |b| - |a| = (2B - A) × 2^(xe-16383-63), sign flips; exact
      R.premCC = C1v;
      let rl = yl * 2 - xl, br = 0;
      const cy = yl >>> 31;
      rl = ((yl << 1) >>> 0) - xl;
      if (rl < 0) { rl += 4294967296; br = 1; }
      let rh = (((yh << 1) | cy) >>> 0) - xh - br;
      if (rh < 0) rh += 4294967296; // the true 65-bit difference is < 2^64
      let re = xe + 0;
      if (rh === 0 && rl === 0) { setResult(sa, 0, 0, 0); return; }
      while ((rh & 0x80000000) === 0) { rh = ((rh << 1) | (rl >>> 31)) >>> 0; rl = (rl << 1) >>> 0; re--; }
      roundExt(sa ^ 1, re, rh, rl, 0, 64, 0, fcw);
      return;
    }
    roundExt(sa, xe, xh, xl, 0, 64, 0, fcw); return;
  }
  const partial = d >= 64;
  const steps = partial ? 32 + (d % 32) : d; // partial: the remaining difference ends in [32, 63] (measured) // quotient bits below the leading one
  let rx = 0, rh = xh, rl = xl, q = 0;
  for (let i = 0; i <= steps; i++) {
    q = (q * 2) % 8;
    if (rx !== 0 || rh > yh || (rh === yh && rl >= yl)) {
      let nl = rl - yl, br = 0;
      if (nl < 0) { nl += 4294967296; br = 1; }
      let nh = rh - yh - br;
      if (nh < 0) nh += 4294967296;
      rh = nh; rl = nl; rx = 0; q |= 1;
    }
    if (i < steps) { rx = rh >>> 31; rh = ((rh << 1) | (rl >>> 31)) >>> 0; rl = (rl << 1) >>> 0; }
  }
  // remainder r (< B) at the exponent of b's leading bit, plus the unreduced part when partial.
  let rs = sa;
  let re = ye + (partial ? d - steps : 0);
  if (nearest && !partial) {
    // compare 2r with B
    const r2x = rh >>> 31, r2h = ((rh << 1) | (rl >>> 31)) >>> 0, r2l = (rl << 1) >>> 0;
    const gt = r2x !== 0 || r2h > yh || (r2h === yh && r2l > yl);
    const eq = r2x === 0 && r2h === yh && r2l === yl;
    if (gt || (eq && (q & 1) !== 0)) {
      // r = B - r, sign flips, quotient + 1
      let nl = yl - rl, br = 0;
      if (nl < 0) { nl += 4294967296; br = 1; }
      let nh = yh - rh - br;
      if (nh < 0) nh += 4294967296;
      rh = nh; rl = nl; rs ^= 1; q = (q + 1) % 8;
    }
  }
  R.premCC = partial ? C2v : ((q & 4) ? C0v : 0) | ((q & 2) ? C3v : 0) | ((q & 1) ? C1v : 0);
  if (rh === 0 && rl === 0) { setResult(sa, 0, 0, 0); return; }
  let w0 = rh, w1 = rl;
  while ((w0 & 0x80000000) === 0) { w0 = ((w0 << 1) | (w1 >>> 31)) >>> 0; w1 = (w1 << 1) >>> 0; re--; }
  roundExt(rs, re, w0, w1, 0, 64, 0, fcw);
}
const C0v = 0x100, C1v = 0x200, C2v = 0x400, C3v = 0x4000;
