/**
 * 80-bit extended-precision soft-float for the x87 model (SDM vol. 1 §4.2, §4.8, §8.1.5, §8.5).
 * Significands are two uint32 halves (bit 63 = explicit integer bit); intermediate results carry
 * 32 extra low bits (a 96-bit w0:w1:w2 with a sticky bit jammed into bit 0 of w2), which is
 * enough for correct rounding at 24, 53 or 64 bits in every rounding mode. No BigInt, no
 * allocation: results go to the module variables `R.s` (sign 0/1), `R.e` (biased exponent field of
 * the 80-bit format), `R.h`/`R.l` (significand halves); exception flags accumulate in `R.fx`.
 *
 * This file is the core: flags and results, operand classes, normalisation, rounding and
 * packing, NaN propagation. The operations (add/sub/mul/div/sqrt, compare, partial remainder)
 * are in softfloatOps.ts, the format conversions in softfloatConvert.ts.
 */

/** Exception flag bits as in the FSW (SDM vol. 1 §8.1.3), plus C1 (bit 9) for "rounded up". */
export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20, SF = 0x40, C1 = 0x200;

/**
 * Results and flags, in one plain object (module-level `let` exports compile to accessor calls
 * under the CommonJS transform, which costs far more than a property access).
 */
export const R = { s: 0, e: 0, h: 0, l: 0, fx: 0, oLo: 0, oHi: 0, premCC: 0 };
/**
 * Scratch shared by the soft-float modules (softfloatOps.ts, softfloatConvert.ts), one plain
 * object for the same reason as R: shr96() output (s0:s1:s2), normalize() output (nE, nH, nL),
 * and `pendDE`: a memory operand of an arithmetic/compare instruction was an m32fp/m64fp
 * denormal: it was widened to a normal 80-bit value, and DE is raised when the operation screens
 * its operands (after NaN and invalid checks, as silicon does).
 */
export const W = { s0: 0, s1: 0, s2: 0, nE: 0, nH: 0, nL: 0, pendDE: false };
export function clearFlags(): void { R.fx = 0; W.pendDE = false; }
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

/** Shift w0:w1:w2 right by n (>= 0) with the lost bits jammed into bit 0 of W.s2. */
export function shr96(w0: number, w1: number, w2: number, n: number): void {
  let sticky = 0;
  if (n >= 96) {
    sticky = w0 | w1 | w2;
    W.s0 = 0; W.s1 = 0; W.s2 = sticky !== 0 ? 1 : 0;
    return;
  }
  while (n >= 32) { sticky |= w2; w2 = w1; w1 = w0; w0 = 0; n -= 32; }
  if (n > 0) {
    sticky |= w2 << (32 - n);
    w2 = (w2 >>> n) | (w1 << (32 - n));
    w1 = (w1 >>> n) | (w0 << (32 - n));
    w0 = w0 >>> n;
  }
  W.s0 = w0 >>> 0; W.s1 = w1 >>> 0; W.s2 = (w2 | (sticky !== 0 ? 1 : 0)) >>> 0;
}

export function clz32(x: number): number { return Math.clz32(x); }

/** Normalized exponent/significand of a finite nonzero operand: sets W.nE, W.nH, W.nL (bit 63 set). */
export function normalize(e: number, h: number, l: number): void {
  if (e === 0) e = 1; // denormals and pseudo-denormals have the exponent of 2^-16382
  if (h === 0) { h = l; l = 0; e -= 32; }
  const z = clz32(h);
  if (z > 0) { h = (h << z) | (l >>> (32 - z)); l = l << z; e -= z; }
  W.nE = e; W.nH = h >>> 0; W.nL = l >>> 0;
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
        w0 = W.s0; w1 = W.s1; w2 = W.s2; e = eMin; denorm = true;
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
export function propagateNaN(ka: K, sa: number, ha: number, la: number, kb: K, sb: number, hb: number, lb: number): void {
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

export function isNaNK(k: K): boolean { return k === K.QNaN || k === K.SNaN; }

/**
 * Common operand screening for the arithmetic ops: NaNs, unsupported encodings (IE,
 * indefinite), denormal operands (DE). Returns true when the result is already set.
 */
export function screen2(ka: K, sa: number, ha: number, la: number, kb: K, sb: number, hb: number, lb: number): boolean {
  if (ka === K.Unsupported || kb === K.Unsupported) { R.fx |= IE; setIndefinite(); return true; }
  if (isNaNK(ka) || isNaNK(kb)) { propagateNaN(ka, sa, ha, la, kb, sb, hb, lb); return true; }
  if (ka === K.Denormal || kb === K.Denormal || W.pendDE) R.fx |= DE;
  return false;
}

/**
 * A result that is the finite nonzero operand itself, delivered with PE as silicon does when it
 * short-cuts a function (FSIN/FPTAN of a denormal, FYL2XP1 with x = 1): a pseudo-denormal comes
 * back with exponent 1 (its normal encoding); a true denormal also signals UE, and with UE
 * unmasked it comes back normalized with the exponent wrapped by +24576 (SDM vol. 1 §4.9.1.5)
 * (measured).
 */
export function exactTiny(s: number, e: number, h: number, l: number, fcw: number): void {
  R.fx |= PE;
  if (e !== 0) { setResult(s, e, h, l); return; }
  if ((h & 0x80000000) !== 0) { setResult(s, 1, h, l); return; }
  R.fx |= UE;
  if ((fcw & UE) === 0) {
    let ne = 1, nh = h >>> 0, nl = l >>> 0;
    while ((nh & 0x80000000) === 0) { nh = ((nh << 1) | (nl >>> 31)) >>> 0; nl = (nl << 1) >>> 0; ne--; }
    setResult(s, ne + 0x6000, nh, nl);
    return;
  }
  setResult(s, 0, h, l);
}
