/**
 * x87 soft-float format conversions (SDM vol. 1 §4.2, §8.1.5; vol. 2A FLD/FILD/FST/FIST/FISTTP/
 * FRNDINT): m32fp/m64fp/integers to 80-bit, 80-bit to m32fp/m64fp/integers, round to integral.
 * Rounding, packing and the shared scratch are in softfloat.ts; results go to `R`.
 */
import * as core from './softfloat';
import { IE, DE, PE, C1 } from './softfloat';

// Plain copies: property loads instead of the module namespace's accessors (hot path; under the
// CommonJS transform every imported name is read through a getter).
const { R, W, K, setResult, setIndefinite, classify, shr96, clz32, normalize, roundPack } = core;

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
    if (raw) W.pendDE = true; else R.fx |= DE;
    normalize(16383 - 126, m << 8, 0); // value m × 2^-149 = 0.m × 2^-126
    // normalize() treats e as the leading-bit exponent of a 64-bit significand whose bit 63 is 2^(e-16383)
    setResult(s, W.nE, W.nH, W.nL); return;
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
    if (raw) W.pendDE = true; else R.fx |= DE;
    normalize(16383 - 1022, sh, sl);
    setResult(s, W.nE, W.nH, W.nL); return;
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
  roundPack(s, W.nE, W.nH, W.nL, 0, single ? 24 : 53, rc, eMin, eMax, fcw, false);
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
  const u = W.nE - 16383;
  if (u > 63) { indefinite(); return; }
  roundToInteger(s, u, W.nH, W.nL, rc);
  // magnitude in W.s0:W.s1 (integer), overflow flag in iOv
  let mh = W.s0, ml = W.s1;
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
 * Round |value| = 1.sig × 2^u to an integer with rc; magnitude to W.s0 (high) : W.s1 (low), sets
 * PE/C1; iOv when the rounded magnitude needs 65 bits.
 */
function roundToInteger(sign: number, u: number, h: number, l: number, rc: number): void {
  iOv = false;
  // integer part = sig >> (63 - u)
  if (u >= 63) { W.s0 = h; W.s1 = l; return; }
  shr96(h, l, 0, 63 - u);
  let ih = W.s0, il = W.s1;
  const fr = W.s2;
  const g = fr >>> 31, st = (fr & 0x7fffffff) !== 0, lsb = il & 1;
  const inexact = fr !== 0;
  const up = rc === 0 ? g !== 0 && (st || lsb !== 0) : rc === 1 ? inexact && sign !== 0 : rc === 2 ? inexact && sign === 0 : false;
  if (inexact) R.fx |= PE;
  if (up) {
    R.fx |= C1;
    il = il + 1;
    if (il >= 4294967296) { il = 0; ih = ih + 1; if (ih >= 4294967296) { ih = 0; iOv = true; } }
  }
  W.s0 = ih >>> 0; W.s1 = il >>> 0;
}

/** FRNDINT: round ST0 to an integral value with RC (SDM vol. 2A FRNDINT). */
export function roundInt(s: number, e: number, h: number, l: number, rc: number): void {
  const k = classify(e, h, l);
  if (k === K.Unsupported) { R.fx |= IE; setIndefinite(); return; }
  if (k === K.SNaN) { R.fx |= IE; setResult(s, e, h | 0x40000000, l); return; }
  if (k === K.QNaN || k === K.Inf || k === K.Zero) { setResult(s, e, h, l); return; }
  if (k === K.Denormal) R.fx |= DE;
  normalize(e, h, l);
  const u = W.nE - 16383;
  if (u >= 63) { setResult(s, W.nE, W.nH, W.nL); return; }
  roundToInteger(s, u, W.nH, W.nL, rc);
  if (iOv) { setResult(s, 16383 + 64, 0x80000000, 0); return; }
  fromInt(s, W.s0, W.s1);
  if (R.h === 0 && R.l === 0) R.s = s; // signed zero kept
}

