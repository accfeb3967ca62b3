/**
 * 80-bit extended-precision soft-float for the x87 model (SDM vol. 1 §4.2, §4.8, §8.1.5, §8.5).
 * Significands are two uint32 halves (bit 63 = explicit integer bit); intermediate results carry
 * 32 extra low bits (a 96-bit w0:w1:w2 with a sticky bit jammed into bit 0 of w2), which is
 * enough for correct rounding at 24, 53 or 64 bits in every rounding mode. No BigInt, no
 * allocation: results go to the module variables `R.s` (sign 0/1), `R.e` (biased exponent field of
 * the 80-bit format), `R.h`/`R.l` (significand halves); exception flags accumulate in `R.fx`.
 */

/** Exception flag bits as in the FSW (SDM vol. 1 §8.1.3), plus C1 (bit 9) for "rounded up". */
export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20, SF = 0x40, C1 = 0x200;

/**
 * Results and flags, in one plain object (module-level `let` exports compile to accessor calls
 * under the CommonJS transform, which costs far more than a property access).
 */
export const R = { s: 0, e: 0, h: 0, l: 0, fx: 0, oLo: 0, oHi: 0, premCC: 0 };
/**
 * A memory operand of an arithmetic/compare instruction was an m32fp/m64fp denormal: it was
 * widened to a normal 80-bit value, and DE is raised when the operation screens its operands
 * (after NaN and invalid checks, as silicon does).
 */
let pendDE = false;
export function clearFlags(): void { R.fx = 0; pendDE = false; }
export function addFlags(f: number): void { R.fx |= f; }
export function setResult(s: number, e: number, h: number, l: number): void { R.s = s; R.e = e; R.h = h >>> 0; R.l = l >>> 0; }

/** The masked response to an invalid operation: the QNaN "real indefinite" (SDM vol. 1 §4.8.3.7). */
export function setIndefinite(): void { R.s = 1; R.e = 0x7fff; R.h = 0xc0000000; R.l = 0; }

// Operand classes (SDM vol. 1 §8.2.2 table 8-5 and §8.2.2 unsupported encodings).
export const enum K { Zero, Normal, Denormal, Inf, QNaN, SNaN, Unsupported }

export function classify(e: number, h: number, l: number): K {
  if (e === 0x7fff) {
    if ((h & 0x80000000) === 0) return K.Unsupported; // pseudo-NaN / pseudo-infinity
    if ((h & 0x7fffffff) === 0 && l === 0) return K.Inf;
    return h & 0x40000000 ? K.QNaN : K.SNaN;
  }
  if (e === 0) return h === 0 && l === 0 ? K.Zero : K.Denormal; // includes pseudo-denormals
  return h & 0x80000000 ? K.Normal : K.Unsupported; // unnormal
}

// ---- 96-bit scratch helpers ------------------------------------------------------------------
let s0 = 0, s1 = 0, s2 = 0;

/** Shift w0:w1:w2 right by n (>= 0) with the lost bits jammed into bit 0 of s2. */
function shr96(w0: number, w1: number, w2: number, n: number): void {
  let sticky = 0;
  if (n >= 96) {
    sticky = w0 | w1 | w2;
    s0 = 0; s1 = 0; s2 = sticky !== 0 ? 1 : 0;
    return;
  }
  while (n >= 32) { sticky |= w2; w2 = w1; w1 = w0; w0 = 0; n -= 32; }
  if (n > 0) {
    sticky |= w2 << (32 - n);
    w2 = (w2 >>> n) | (w1 << (32 - n));
    w1 = (w1 >>> n) | (w0 << (32 - n));
    w0 = w0 >>> n;
  }
  s0 = w0 >>> 0; s1 = w1 >>> 0; s2 = (w2 | (sticky !== 0 ? 1 : 0)) >>> 0;
}

function clz32(x: number): number { return Math.clz32(x); }

/** Normalized exponent/significand of a finite nonzero operand: sets nE, nH, nL (bit 63 set). */
let nE = 0, nH = 0, nL = 0;
function normalize(e: number, h: number, l: number): void {
  if (e === 0) e = 1; // denormals and pseudo-denormals have the exponent of 2^-16382
  if (h === 0) { h = l; l = 0; e -= 32; }
  const z = clz32(h);
  if (z > 0) { h = (h << z) | (l >>> (32 - z)); l = l << z; e -= z; }
  nE = e; nH = h >>> 0; nL = l >>> 0;
}

/**
 * Round and pack (SDM vol. 1 §4.8.4 rounding, §8.1.5.2 precision control, §4.9.1.4-5 overflow
 * and underflow). Input: value = 0.w0w1w2 × 2^(e-16383+1) with w0 bit 31 set (e is the biased
 * exponent of the leading bit); p = 24, 53 or 64 significant bits; eMin/eMax = the smallest and
 * largest biased (80-bit bias) exponents of normal numbers in the destination format.
 * Tininess is detected after rounding, the masked response denormalizes.
 * Result in R.s/R.e/R.h/R.l as an 80-bit value (a denormal of the destination has R.e = eMin and
 * bit 63 clear — packers convert). `bias` != 0: the unmasked OE/UE response for register
 * destinations (exponent wrapped by 24576, SDM §4.9.1.4-5).
 */
export function roundPack(sign: number, e: number, w0: number, w1: number, w2: number, p: number, rc: number, eMin: number, eMax: number, fcw: number, regDest: boolean): void {
  let denorm = false;
  if (e < eMin) {
    // Tiny after rounding: the value rounded to p bits with an unbounded exponent stays below 2^eMin.
    const tiny = e < eMin - 1 || !roundsToCarry(sign, w0, w1, w2, p, rc);
    if (tiny) {
      if (regDest && (fcw & UE) === 0 && e + 24576 >= eMin) {
        R.fx |= UE;
        e += 24576;
      } else if (regDest && (fcw & UE) === 0) {
        // Unmasked, and too small even for the wrapped exponent (FSCALE): a signed zero whatever
        // the rounding mode (measured).
        R.fx = (R.fx | UE | PE) & ~C1; R.s = sign; R.e = 0; R.h = 0; R.l = 0; return;
      } else {
        if ((fcw & UE) === 0) R.fx |= UE; // unmasked: tininess alone signals (the store is suppressed)
        shr96(w0, w1, w2, eMin - e);
        w0 = s0; w1 = s1; w2 = s2; e = eMin; denorm = true;
      }
    }
  }
  // Round at bit position p.
  let g: number, st: boolean, lsb: number;
  if (p === 64) {
    g = w2 >>> 31; st = (w2 & 0x7fffffff) !== 0; lsb = w1 & 1;
  } else if (p === 53) {
    g = (w1 >>> 10) & 1; st = (w1 & 0x3ff) !== 0 || w2 !== 0; lsb = (w1 >>> 11) & 1;
    w1 = (w1 & 0xfffff800) >>> 0;
  } else {
    g = (w0 >>> 7) & 1; st = (w0 & 0x7f) !== 0 || w1 !== 0 || w2 !== 0; lsb = (w0 >>> 8) & 1;
    w0 = (w0 & 0xffffff00) >>> 0; w1 = 0;
  }
  const inexact = g !== 0 || st;
  const up = rc === 0 ? g !== 0 && (st || lsb !== 0) : rc === 1 ? inexact && sign !== 0 : rc === 2 ? inexact && sign === 0 : false;
  if (up) {
    const inc = p === 64 ? 1 : p === 53 ? 0x800 : 0;
    if (p === 24) {
      w0 = w0 + 0x100;
    } else {
      w1 = w1 + inc;
      if (w1 >= 4294967296) { w1 -= 4294967296; w0 = w0 + 1; }
    }
    if (w0 >= 4294967296) { w0 = 0x80000000; e++; }
  }
  if (denorm) {
    if (inexact) R.fx |= UE;
    if (w0 & 0x80000000) e = eMin; // rounded up into the normal range
  }
  if (inexact) R.fx |= PE;
  if (up) R.fx |= C1;
  if (e > eMax) {
    if (regDest && (fcw & OE) === 0 && e - 24576 <= eMax) {
      R.fx |= OE;
      e -= 24576;
    } else if (regDest && (fcw & OE) === 0) {
      // Unmasked, too large even for the wrapped exponent (FSCALE): infinity in every rounding mode (measured).
      R.fx |= OE | PE | C1; R.s = sign; R.e = 0x7fff; R.h = 0x80000000; R.l = 0; return;
    } else {
      // Masked overflow (SDM vol. 1 §4.9.1.4 table 4-10): infinity or the largest finite value.
      R.fx |= OE | PE;
      const toInf = rc === 0 || (rc === 1 && sign !== 0) || (rc === 2 && sign === 0);
      R.s = sign;
      if (toInf) { R.e = 0x7fff; R.h = 0x80000000; R.l = 0; R.fx |= C1; } else {
        R.fx &= ~C1;
        R.e = eMax; R.h = p === 24 ? 0xffffff00 : 0xffffffff; R.l = p === 64 ? 0xffffffff : p === 53 ? 0xfffff800 : 0;
      }
      return;
    }
  }
  R.s = sign; R.h = w0 >>> 0; R.l = w1 >>> 0;
  R.e = (R.h & 0x80000000) === 0 ? (R.h === 0 && R.l === 0 ? 0 : eMin === 1 ? 0 : eMin) : e;
  if (R.h === 0 && R.l === 0) R.e = 0;
}

/** Whether rounding the normalized w0:w1:w2 to p bits carries out of bit 63 (all ones + round up). */
function roundsToCarry(sign: number, w0: number, w1: number, w2: number, p: number, rc: number): boolean {
  let g: number, st: boolean, lsb: number, ones: boolean;
  if (p === 64) { g = w2 >>> 31; st = (w2 & 0x7fffffff) !== 0; lsb = w1 & 1; ones = w0 === 0xffffffff && w1 === 0xffffffff; }
  else if (p === 53) { g = (w1 >>> 10) & 1; st = (w1 & 0x3ff) !== 0 || w2 !== 0; lsb = (w1 >>> 11) & 1; ones = w0 === 0xffffffff && (w1 >>> 11) === 0x1fffff; }
  else { g = (w0 >>> 7) & 1; st = (w0 & 0x7f) !== 0 || w1 !== 0 || w2 !== 0; lsb = (w0 >>> 8) & 1; ones = (w0 >>> 8) === 0xffffff; }
  if (!ones) return false;
  const inexact = g !== 0 || st;
  return rc === 0 ? g !== 0 && (st || lsb !== 0) : rc === 1 ? inexact && sign !== 0 : rc === 2 ? inexact && sign === 0 : false;
}

/** Round a normalized value to the 80-bit register format at precision p. */
export function roundExt(sign: number, e: number, w0: number, w1: number, w2: number, p: number, rc: number, fcw: number): void {
  roundPack(sign, e, w0, w1, w2, p, rc, 1, 0x7ffe, fcw, true);
}

// ---- NaN propagation (SDM vol. 1 §4.8.3.5, table 4-7) ----------------------------------------
/**
 * Two-operand NaN result: an SNaN raises IE; the result is the QNaN form of the NaN with the
 * larger significand (x87 rules), the QNaN if only one is a QNaN.
 */
function propagateNaN(ka: K, sa: number, ha: number, la: number, kb: K, sb: number, hb: number, lb: number): void {
  if (ka === K.SNaN || kb === K.SNaN) R.fx |= IE;
  const aNaN = ka === K.QNaN || ka === K.SNaN, bNaN = kb === K.QNaN || kb === K.SNaN;
  let pickA: boolean;
  if (aNaN && bNaN) {
    if (ka === K.QNaN && kb === K.SNaN) pickA = true;
    else if (kb === K.QNaN && ka === K.SNaN) pickA = false;
    else {
      const ma = (ha & 0x3fffffff) >>> 0, mb = (hb & 0x3fffffff) >>> 0;
      pickA = ma > mb || (ma === mb && (la >>> 0) > (lb >>> 0)) || (ma === mb && la >>> 0 === lb >>> 0 && sa === 0);
    }
  } else pickA = aNaN;
  if (pickA) { R.s = sa; R.e = 0x7fff; R.h = (ha | 0x40000000) >>> 0; R.l = la >>> 0; }
  else { R.s = sb; R.e = 0x7fff; R.h = (hb | 0x40000000) >>> 0; R.l = lb >>> 0; }
}

function isNaNK(k: K): boolean { return k === K.QNaN || k === K.SNaN; }

/**
 * Common operand screening for the arithmetic ops: NaNs, unsupported encodings (IE,
 * indefinite), denormal operands (DE). Returns true when the result is already set.
 */
function screen2(ka: K, sa: number, ha: number, la: number, kb: K, sb: number, hb: number, lb: number): boolean {
  if (ka === K.Unsupported || kb === K.Unsupported) { R.fx |= IE; setIndefinite(); return true; }
  if (isNaNK(ka) || isNaNK(kb)) { propagateNaN(ka, sa, ha, la, kb, sb, hb, lb); return true; }
  if (ka === K.Denormal || kb === K.Denormal || pendDE) R.fx |= DE;
  return false;
}

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
  if (kb === K.Zero) { normalize(ea, ha, la); roundExt(sa, nE, nH, nL, 0, p, rc, fcw); return; }
  if (ka === K.Zero) { normalize(eb, hb, lb); roundExt(sb, nE, nH, nL, 0, p, rc, fcw); return; }
  normalize(ea, ha, la);
  let xe = nE, xh = nH, xl = nL;
  normalize(eb, hb, lb);
  let ye = nE, yh = nH, yl = nL;
  let xs = sa, ys = sb;
  // Make x the larger magnitude.
  if (ye > xe || (ye === xe && (yh > xh || (yh === xh && yl > xl)))) {
    let t = xe; xe = ye; ye = t; t = xh; xh = yh; yh = t; t = xl; xl = yl; yl = t; t = xs; xs = ys; ys = t;
  }
  shr96(yh, yl, 0, xe - ye);
  let w0: number, w1: number, w2: number, e = xe;
  if (xs === ys) {
    w2 = s2; w1 = xl + s1; w0 = xh + s0;
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
    w2 = 0 - s2; let br = 0;
    if (w2 < 0) { w2 += 4294967296; br = 1; }
    w1 = xl - s1 - br; br = 0;
    if (w1 < 0) { w1 += 4294967296; br = 1; }
    w0 = xh - s0 - br;
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
  normalize(ea, ha, la); const xe = nE, xh = nH, xl = nL;
  normalize(eb, hb, lb); const ye = nE, yh = nH, yl = nL;
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
  if (kb === K.Zero && (ka === K.Denormal || (pendDE && ka === K.Normal))) { R.fx |= ZE; setResult(sa ^ sb, 0x7fff, 0x80000000, 0); return; }
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
  normalize(ea, ha, la); const xe = nE, xh = nH, xl = nL;
  normalize(eb, hb, lb); const ye = nE, yh = nH, yl = nL;
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
  let u = nE - 16383;
  // Radicand: sig << 67 (u even) or << 68 (u odd) in a 132-bit field; root = 66 bits.
  const shift = (u & 1) !== 0 ? 68 : 67;
  if ((u & 1) !== 0) u -= 1;
  // Bit-by-bit square root (restoring): radicand bits come two at a time from the top of the
  // 132-bit field; remainder r and root q are 96-bit values in three uint32 words (2 = high).
  R_sig_h = nH; R_sig_l = nL;
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
  if (ka === K.Denormal || kb === K.Denormal || pendDE) R.fx |= DE;
  const za = ka === K.Zero, zb = kb === K.Zero;
  if (za && zb) return 2;
  // Signed comparison via sign + magnitude.
  if (za) return sb ? 0 : 1;
  if (zb) return sa ? 1 : 0;
  if (sa !== sb) return sa ? 1 : 0;
  let c: number; // magnitude compare a vs b
  if (ka === K.Inf || kb === K.Inf) c = ka === kb ? 0 : ka === K.Inf ? 1 : -1;
  else {
    normalize(ea, ha, la); const xe = nE, xh = nH, xl = nL;
    normalize(eb, hb, lb);
    c = xe !== nE ? (xe > nE ? 1 : -1) : xh !== nH ? (xh > nH ? 1 : -1) : xl !== nL ? (xl > nL ? 1 : -1) : 0;
  }
  if (c === 0) return 2;
  if (sa) c = -c;
  return c > 0 ? 0 : 1;
}

// ---- conversions -------------------------------------------------------------------------------
/** 64-bit integer (sign + magnitude halves) to 80-bit (exact). */
export function fromInt(sign: number, mh: number, ml: number): void {
  mh >>>= 0; ml >>>= 0;
  if (mh === 0 && ml === 0) { setResult(0, 0, 0, 0); return; }
  let e = 16383 + 63;
  if (mh === 0) { mh = ml; ml = 0; e -= 32; }
  const z = clz32(mh);
  if (z > 0) { mh = ((mh << z) | (ml >>> (32 - z))) >>> 0; ml = (ml << z) >>> 0; e -= z; }
  setResult(sign, e, mh, ml);
}

/** m32fp bits to 80-bit (exact; SNaN → IE + QNaN, denormal → DE). SDM vol. 2A FLD. */
export function fromF32(bits: number, raw = false): void {
  const s = bits >>> 31, e = (bits >>> 23) & 0xff, m = bits & 0x7fffff;
  if (e === 0xff) {
    if (m === 0) { setResult(s, 0x7fff, 0x80000000, 0); return; }
    // raw (an arithmetic operand): an SNaN stays signaling for the operation's NaN rules
    if (raw) { setResult(s, 0x7fff, (0x80000000 | (m << 8)) >>> 0, 0); return; }
    if ((m & 0x400000) === 0) R.fx |= IE;
    setResult(s, 0x7fff, (0xc0000000 | (m << 8)) >>> 0, 0); return;
  }
  if (e === 0) {
    if (m === 0) { setResult(s, 0, 0, 0); return; }
    if (raw) pendDE = true; else R.fx |= DE;
    normalize(16383 - 126, m << 8, 0); // value m × 2^-149 = 0.m × 2^-126
    // normalize() treats e as the leading-bit exponent of a 64-bit significand whose bit 63 is 2^(e-16383)
    setResult(s, nE, nH, nL); return;
  }
  setResult(s, e - 127 + 16383, (0x80000000 | (m << 8)) >>> 0, 0);
}

/** m64fp (lo, hi halves) to 80-bit. */
export function fromF64(lo: number, hi: number, raw = false): void {
  const s = hi >>> 31, e = (hi >>> 20) & 0x7ff, mh = hi & 0xfffff;
  lo >>>= 0;
  const sh = ((mh << 11) | (lo >>> 21)) >>> 0, sl = (lo << 11) >>> 0;
  if (e === 0x7ff) {
    if (mh === 0 && lo === 0) { setResult(s, 0x7fff, 0x80000000, 0); return; }
    if (raw) { setResult(s, 0x7fff, (sh | 0x80000000) >>> 0, sl); return; }
    if ((mh & 0x80000) === 0) R.fx |= IE;
    setResult(s, 0x7fff, (sh | 0xc0000000) >>> 0, sl); return;
  }
  if (e === 0) {
    if (mh === 0 && lo === 0) { setResult(s, 0, 0, 0); return; }
    if (raw) pendDE = true; else R.fx |= DE;
    normalize(16383 - 1022, sh, sl);
    setResult(s, nE, nH, nL); return;
  }
  setResult(s, e - 1023 + 16383, (sh | 0x80000000) >>> 0, sl);
}

/* Output of the narrowing conversions: packed bits in R.oLo (m32) or R.oLo/R.oHi (m64). */

/**
 * 80-bit to m32fp/m64fp (FST): rounds with RC (PC does not apply, SDM §8.1.5.2), overflow and
 * underflow in the destination's exponent range; NaNs are truncated (SNaN → IE, quieted).
 * `bits` = 32 or 64. Returns false when an unmasked exception blocks the store (IE/OE/UE).
 */
export function toFloat(s: number, e: number, h: number, l: number, bits: number, rc: number, fcw: number): void {
  const k = classify(e, h, l);
  const single = bits === 32;
  if (k === K.Unsupported) { R.fx |= IE; packF(1, single, 2, 0xc0000000, 0); return; }
  if (k === K.SNaN || k === K.QNaN) {
    if (k === K.SNaN) R.fx |= IE;
    packF(s, single, 2, (h | 0x40000000) >>> 0, l); return;
  }
  if (k === K.Inf) { packF(s, single, 1, 0, 0); return; }
  if (k === K.Zero) { packF(s, single, 0, 0, 0); return; }
  // No DE for a denormal source of FST (measured): the store's flags are UE/PE/OE/IE only.
  normalize(e, h, l);
  const eMin = single ? 16383 - 126 : 16383 - 1022, eMax = single ? 16383 + 127 : 16383 + 1023;
  roundPack(s, nE, nH, nL, 0, single ? 24 : 53, rc, eMin, eMax, fcw, false);
  if (R.e === 0x7fff) { packF(R.s, single, 1, 0, 0); return; }
  if (R.h === 0 && R.l === 0) { packF(R.s, single, 0, 0, 0); return; }
  // finite: R.e biased 80; denormal of the destination has bit 63 clear.
  const bias = single ? 127 : 1023;
  const fe = (R.h & 0x80000000) ? R.e - 16383 + bias : 0;
  if (single) {
    R.oLo = ((R.s << 31) | (fe << 23) | ((R.h >>> 8) & 0x7fffff)) | 0; R.oHi = 0;
  } else {
    R.oLo = ((R.h << 21) | (R.l >>> 11)) | 0;
    R.oHi = ((R.s << 31) | (fe << 20) | ((R.h >>> 11) & 0xfffff)) | 0;
  }
}

/** kind: 0 zero, 1 infinity, 2 NaN with 80-bit significand h:l. */
function packF(s: number, single: boolean, kind: number, h: number, l: number): void {
  if (single) {
    R.oHi = 0;
    R.oLo = kind === 0 ? s << 31 : kind === 1 ? (s << 31) | 0x7f800000 : (s << 31) | 0x7f800000 | ((h >>> 8) & 0x7fffff);
  } else {
    R.oLo = kind === 2 ? ((h << 21) | (l >>> 11)) | 0 : 0;
    R.oHi = kind === 0 ? s << 31 : kind === 1 ? (s << 31) | 0x7ff00000 : (s << 31) | 0x7ff00000 | ((h >>> 11) & 0xfffff);
  }
}

/**
 * 80-bit to integer of `bytes` 2/4/8 (FIST/FISTP; FISTTP with rc = 3). Out of range, NaN,
 * infinity: IE and the integer indefinite (SDM vol. 2A FIST). Result in R.oLo/R.oHi (two's complement).
 */
export function toInt(s: number, e: number, h: number, l: number, bytes: number, rc: number): void {
  const k = classify(e, h, l);
  const indefinite = (): void => {
    R.fx |= IE;
    if (bytes === 8) { R.oLo = 0; R.oHi = 0x80000000 | 0; } else { R.oLo = bytes === 4 ? 0x80000000 | 0 : 0x8000; R.oHi = 0; }
  };
  if (k === K.Unsupported || k === K.Inf || k === K.QNaN || k === K.SNaN) { indefinite(); return; }
  if (k === K.Zero) { R.oLo = 0; R.oHi = 0; return; }
  // no DE for denormal sources (measured)
  normalize(e, h, l);
  const u = nE - 16383;
  if (u > 63) { indefinite(); return; }
  roundToInteger(s, u, nH, nL, rc);
  // magnitude in s0:s1 (integer), overflow flag in iOv
  let mh = s0, ml = s1;
  if (iOv) { indefinite(); return; }
  const limHi = bytes === 8 ? 0x80000000 : 0, limLo = bytes === 8 ? 0 : bytes === 4 ? 0x80000000 : 0x8000;
  // |v| must be < lim, or == lim when negative
  const over = mh > limHi || (mh === limHi && ml > limLo) || (mh === limHi && ml === limLo && s === 0);
  if (over) { R.fx &= ~(PE | C1); indefinite(); return; }
  if (s) {
    ml = (~ml + 1) >>> 0; mh = (~mh + (ml === 0 ? 1 : 0)) >>> 0;
  }
  if (bytes === 2) { R.oLo = ml & 0xffff; R.oHi = 0; } else { R.oLo = ml | 0; R.oHi = mh | 0; }
}

let iOv = false;
/**
 * Round |value| = 1.sig × 2^u to an integer with rc; magnitude to s0 (high) : s1 (low), sets
 * PE/C1; iOv when the rounded magnitude needs 65 bits.
 */
function roundToInteger(sign: number, u: number, h: number, l: number, rc: number): void {
  iOv = false;
  // integer part = sig >> (63 - u)
  if (u >= 63) { s0 = h; s1 = l; return; }
  shr96(h, l, 0, 63 - u);
  let ih = s0, il = s1;
  const fr = s2;
  const g = fr >>> 31, st = (fr & 0x7fffffff) !== 0, lsb = il & 1;
  const inexact = fr !== 0;
  const up = rc === 0 ? g !== 0 && (st || lsb !== 0) : rc === 1 ? inexact && sign !== 0 : rc === 2 ? inexact && sign === 0 : false;
  if (inexact) R.fx |= PE;
  if (up) {
    R.fx |= C1;
    il = il + 1;
    if (il >= 4294967296) { il = 0; ih = ih + 1; if (ih >= 4294967296) { ih = 0; iOv = true; } }
  }
  s0 = ih >>> 0; s1 = il >>> 0;
}

/** FRNDINT: round ST0 to an integral value with RC (SDM vol. 2A FRNDINT). */
export function roundInt(s: number, e: number, h: number, l: number, rc: number): void {
  const k = classify(e, h, l);
  if (k === K.Unsupported) { R.fx |= IE; setIndefinite(); return; }
  if (k === K.SNaN) { R.fx |= IE; setResult(s, e, h | 0x40000000, l); return; }
  if (k === K.QNaN || k === K.Inf || k === K.Zero) { setResult(s, e, h, l); return; }
  if (k === K.Denormal) R.fx |= DE;
  normalize(e, h, l);
  const u = nE - 16383;
  if (u >= 63) { setResult(s, nE, nH, nL); return; }
  roundToInteger(s, u, nH, nL, rc);
  if (iOv) { setResult(s, 16383 + 64, 0x80000000, 0); return; }
  fromInt(s, s0, s1);
  if (R.h === 0 && R.l === 0) R.s = s; // signed zero kept
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
  if (kb === K.Inf) { normalize(ea, ha, la); roundExt(sa, nE, nH, nL, 0, 64, 0, fcw); return; }
  normalize(ea, ha, la); const xe = nE, xh = nH, xl = nL;
  normalize(eb, hb, lb); const ye = nE, yh = nH, yl = nL;
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
