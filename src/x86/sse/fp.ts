/**
 * IEEE 754 binary32/binary64 arithmetic with MXCSR semantics (SDM vol. 1 §4.8-4.9, §10.2.3,
 * §11.5): rounding control, DAZ, FTZ, NaN propagation (table 4-7: the first source operand's
 * NaN wins, SNaNs are quieted; invalid operations give the default QNaN "real indefinite"),
 * and the six exception flags, accumulated in `fx` (common.ts).
 *
 * JS doubles give correctly rounded binary64 results (round to nearest even) for + - * / sqrt,
 * and binary32 results through Math.fround (double rounding through binary64 is innocuous for
 * these operations on binary32 inputs). For directed rounding and the inexact flag every kernel
 * also computes the sign of (exact − rounded) with an error-free transformation (TwoSum,
 * Veltkamp/Dekker TwoProduct, the division and square-root residuals).
 * Limits (documented): for binary64 results in the subnormal range or beyond the largest
 * finite value the error term may itself underflow/overflow; those cases use the scaled
 * recomputation below where possible.
 */
import { DE, IE, MXCSR_DAZ, MXCSR_FTZ, OE, PE, UE, ZE, fx } from './common';

const cv = new ArrayBuffer(8);
const cvF32 = new Float32Array(cv);
const cvI32 = new Int32Array(cv);
const cvF64 = new Float64Array(cv);

export function f32(bits: number): number { cvI32[0] = bits; return cvF32[0]; }
export function bits32(v: number): number { cvF32[0] = v; return cvI32[0]; }
export function f64(lo: number, hi: number): number { cvI32[0] = lo; cvI32[1] = hi; return cvF64[0]; }
/** Bits of a double: low half returned, high half in `hi64.v`. */
export const hi64 = { v: 0 };
export function bits64(v: number): number { cvF64[0] = v; hi64.v = cvI32[1]; return cvI32[0]; }

/** Rounding control (0 nearest, 1 down, 2 up, 3 toward zero), DAZ, FTZ, UE mask of the op. */
export const fm = { rc: 0, daz: false, ftz: false, ueTrap: false, oeTrap: false };
export function fpBegin(mxcsr: number): void {
  fm.rc = (mxcsr >>> 13) & 3;
  fm.daz = (mxcsr & MXCSR_DAZ) !== 0;
  fm.ftz = (mxcsr & MXCSR_FTZ) !== 0 && (mxcsr & (UE << 7)) !== 0;
  // Unmasked overflow/underflow (SDM vol. 1 §11.5.2.2): no result is stored, and the precision
  // flag reflects the result rounded with an unbounded exponent (host-measured).
  fm.ueTrap = (mxcsr & (UE << 7)) === 0;
  fm.oeTrap = (mxcsr & (OE << 7)) === 0;
  fx.pre = 0; fx.post = 0; fx.ueTinyExact = 0; fx.banked = 0;
}

// ---- classification on bits -----------------------------------------------------------------
export function isNaN32(b: number): boolean { return (b & 0x7fffffff) > 0x7f800000; }
export function isSNaN32(b: number): boolean { return isNaN32(b) && (b & 0x400000) === 0; }
export function isDen32(b: number): boolean { return (b & 0x7f800000) === 0 && (b & 0x7fffff) !== 0; }
export function isNaN64(lo: number, hi: number): boolean {
  const h = hi & 0x7fffffff;
  return h > 0x7ff00000 || (h === 0x7ff00000 && lo !== 0);
}
export function isSNaN64(lo: number, hi: number): boolean { return isNaN64(lo, hi) && (hi & 0x80000) === 0; }
export function isDen64(lo: number, hi: number): boolean { return (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) !== 0 || lo !== 0); }

export const QNAN32 = 0xffc00000 | 0;
export const QNAN64_HI = 0xfff80000 | 0;

/** DAZ, then the denormal-operand flag (SDM vol. 1 §10.2.3.4, §4.9.1.2). Returns the input bits. */
export function in32(b: number): number {
  if ((b & 0x7f800000) === 0 && (b & 0x7fffff) !== 0) {
    if (fm.daz) return b & 0x80000000;
    fx.pre |= DE;
  }
  return b;
}
/** Same for binary64: returns the double value (NaNs are handled before on bits). */
export function in64(lo: number, hi: number): number {
  if ((hi & 0x7ff00000) === 0 && ((hi & 0xfffff) !== 0 || lo !== 0)) {
    if (fm.daz) return (hi & 0x80000000) !== 0 ? -0 : 0;
    fx.pre |= DE;
  }
  return f64(lo, hi);
}

/** NaN result of a two-operand op with a NaN input (table 4-7), setting IE for an SNaN. */
export function nan32(a: number, b: number): number {
  if (isSNaN32(a) || isSNaN32(b)) fx.pre |= IE;
  return (isNaN32(a) ? a : b) | 0x400000;
}

// ---- error-free transformations ---------------------------------------------------------------
const SPLIT = 134217729; // 2^27 + 1
/** Exact error of the double product a*b (|a|,|b| within ±2^995, product not underflowing). */
export function prodErr(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}
/** Exact error of a+b = s (Fast2Sum on the operands ordered by magnitude). */
export function sumErr(a: number, b: number, s: number): number {
  // Fast2Sum with |a| ≥ |b| (no intermediate can overflow when s is finite).
  if (Math.abs(a) < Math.abs(b)) { const t = a; a = b; b = t; }
  return b - (s - a);
}
function sgn(x: number): number { return x > 0 ? 1 : x < 0 ? -1 : 0; }

// ---- rounding to binary32 -----------------------------------------------------------------------
const MAX32 = 3.4028234663852886e38;
const TWO128 = 2 ** 128;
const MIN_NORMAL32 = 2 ** -126;
function nextUp32(a: number): number { return a === 0 ? 2 ** -149 : f32(bits32(a) + 1); }
function nextDown32(a: number): number { return f32(bits32(a) - 1); }

/** Round a non-negative magnitude `a` (exact value = a + em·tiny) to binary32 per `rc`. */
function mag32(a: number, em: number, up: boolean, down: boolean): number {
  let f = Math.fround(a);
  if (down) {
    if (f > a || (f === a && em < 0)) f = nextDown32(f);
  } else if (up) {
    if (f < a || (f === a && em > 0)) f = nextUp32(f);
  } else if (em !== 0 && f !== a) {
    // A double-rounded midpoint: decide by the error's sign.
    const o = f > a ? nextDown32(f) : nextUp32(f);
    if (Math.abs(o - a) === Math.abs(f - a)) f = em > 0 ? Math.max(f, o) : Math.min(f, o);
  }
  return f;
}

/**
 * Round the exact value (v + tiny·es, v a double, es = sign of the error) to binary32 under
 * MXCSR: overflow, underflow (tininess after rounding, SDM vol. 1 §4.9.1.5), FTZ and PE.
 * Returns the result bits.
 */
export function round32(v: number, es: number): number {
  if (v === 0 && es === 0) return bits32(v);
  if (v !== v) return QNAN32;
  const neg = v < 0 || (v === 0 && es < 0);
  const a = Math.abs(v);
  const em = neg ? -es : es;
  const rc = fm.rc;
  const up = (rc === 2 && !neg) || (rc === 1 && neg);
  const down = rc === 3 || (rc === 2 && neg) || (rc === 1 && !neg);
  if (a === Infinity) return neg ? 0xff800000 | 0 : 0x7f800000;
  let f = mag32(a, em, up, down);
  const inexact = f !== a || em !== 0;
  const overflow = down ? a > TWO128 || (a === TWO128 && em >= 0) : f === Infinity;
  if (overflow) {
    if (fm.oeTrap) {
      fx.post |= OE;
      const s = scale(a, -Math.floor(Math.log2(a)));
      if (mag32(s, em, up, down) !== s || em !== 0) fx.post |= PE;
    } else fx.post |= OE | PE;
    f = down ? MAX32 : Infinity;
  } else if (f < MIN_NORMAL32 || a < MIN_NORMAL32) {
    // Tininess after rounding: round with an unbounded exponent (scaled into the normal range).
    let g = a, gInexact = f !== a || em !== 0;
    if (a < MIN_NORMAL32) {
      const k = -Math.floor(Math.log2(a));
      const sa = scale(a, k);
      const sg = mag32(sa, em, up, down);
      gInexact = sg !== sa || em !== 0;
      g = scale(sg, -k);
    }
    if (g < MIN_NORMAL32) {
      if (fm.ueTrap) { fx.post |= UE; if (gInexact) fx.post |= PE; }
      else if (fm.ftz) { fx.post |= UE | PE; f = 0; }
      else if (inexact) fx.post |= UE | PE;
      else fx.ueTinyExact = UE;
    } else if (inexact) fx.post |= PE;
  } else if (inexact) fx.post |= PE;
  const b = bits32(f);
  return neg ? b | 0x80000000 : b;
}

// ---- rounding to binary64 -----------------------------------------------------------------------
const MAX64 = 1.7976931348623157e308;
const MIN_NORMAL64 = 2 ** -1022;
function nextUp64(a: number): number {
  if (a === 0) return 5e-324;
  const lo = bits64(a); let hi = hi64.v;
  const nlo = (lo + 1) | 0;
  if (nlo === 0) hi = (hi + 1) | 0;
  return f64(nlo, hi);
}
function nextDown64(a: number): number {
  const lo = bits64(a); let hi = hi64.v;
  if (lo === 0) hi = (hi - 1) | 0;
  return f64((lo - 1) | 0, hi);
}

/**
 * Final binary64 result from `v` = the round-to-nearest result (as JS computed it, with
 * overflow to infinity and subnormal rounding), `es` = sign(exact − v), `huge` = |exact| ≥ 2^1024
 * (only consulted when v is infinite). Sets the output flags; returns the double.
 */
export function round64(v: number, es: number, huge: boolean, inexactU = es !== 0): number {
  if (v !== v) return v;
  const neg = v < 0 || (v === 0 && es < 0) || Object.is(v, -0);
  const a = Math.abs(v);
  const em = neg ? -es : es;
  const rc = fm.rc;
  const up = (rc === 2 && !neg) || (rc === 1 && neg);
  const down = rc === 3 || (rc === 2 && neg) || (rc === 1 && !neg);
  let f = a;
  let inexact = em !== 0;
  if (a === Infinity) {
    // Finite operands overflowed (infinite operands are handled by the callers).
    if (fm.oeTrap) { fx.post |= inexactU ? OE | PE : OE; return neg ? -Infinity : Infinity; }
    fx.post |= OE | PE;
    if (down && !huge) { fx.post &= ~OE; f = MAX64; } else f = down ? MAX64 : Infinity;
    return neg ? -f : f;
  }
  if (down && em < 0) f = nextDown64(a);
  else if (up && em > 0) f = nextUp64(a);
  if (f === Infinity) { fx.post |= fm.oeTrap && !inexactU ? OE : OE | PE; return neg ? -f : f; }
  inexact = inexact || f !== a;
  if (a < MIN_NORMAL64 && (a !== 0 || es !== 0)) {
    if (fm.ueTrap) { fx.post |= inexactU ? UE | PE : UE; }
    else if (fm.ftz) { fx.post |= UE | PE; f = 0; }
    else if (inexact) fx.post |= UE | PE;
    else fx.ueTinyExact = UE;
  } else if (inexact) fx.post |= PE;
  return neg ? -f : f;
}

// ---- binary32 operations (bits in, bits out) -------------------------------------------------------
export const enum Op2 { Add, Sub, Mul, Div }

export function arith32(op: Op2, a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) return nan32(a, b);
  const pre0 = fx.pre;
  a = in32(a); b = in32(b);
  const x = f32(a), y = f32(b);
  let v: number, es = 0;
  switch (op) {
    case Op2.Add: case Op2.Sub: {
      const yy = op === Op2.Sub ? -y : y;
      if (x === Infinity && yy === -Infinity || x === -Infinity && yy === Infinity) { fx.pre |= IE; return QNAN32; }
      v = x + yy;
      if (v === 0) {
        // An exact zero sum (IEEE 754 §6.3): same-signed zeros keep their sign, otherwise +0
        // (−0 when rounding down).
        if (x === 0 && yy === 0 && Object.is(x, yy)) return bits32(x);
        return bits32(fm.rc === 1 ? -0 : 0);
      }
      if (Math.abs(v) !== Infinity) es = sgn(sumErr(x, yy, v));
      break;
    }
    case Op2.Mul:
      if ((x === 0 && Math.abs(y) === Infinity) || (y === 0 && Math.abs(x) === Infinity)) { fx.pre |= IE; return QNAN32; }
      v = x * y; // exact in binary64
      break;
    default:
      if ((x === 0 && y === 0) || (Math.abs(x) === Infinity && Math.abs(y) === Infinity)) { fx.pre |= IE; return QNAN32; }
      // Division by zero is reported without the dividend's denormal flag (host-measured).
      if (y === 0 && Math.abs(x) !== Infinity) fx.pre = pre0 | ZE;
      v = x / y;
      // The binary64 quotient of two binary32 values is never a binary32 value or midpoint
      // unless it is exact: rounding it once more is correct and es = 0.
      break;
  }
  if (Math.abs(x) === Infinity || Math.abs(y) === Infinity || (op === Op2.Div && y === 0)) {
    return bits32(v); // exact infinities / zeros from infinite or zero operands
  }
  if (op === Op2.Div && x === 0) return bits32(v);
  return round32(v, es);
}

export function sqrt32(a: number): number {
  if (isNaN32(a)) { if (isSNaN32(a)) fx.pre |= IE; return a | 0x400000; }
  // A negative operand is invalid before it is a denormal (host-measured: no DE for sqrt(-denormal)).
  if (a < 0 && (a & 0x7fffffff) !== 0 && !(fm.daz && isDen32(a))) { fx.pre |= IE; return QNAN32; }
  a = in32(a);
  const x = f32(a);
  if (x === 0) return a; // sqrt(±0) = ±0
  if (x < 0) { fx.pre |= IE; return QNAN32; }
  if (x === Infinity) return a;
  return round32(Math.sqrt(x), 0);
}

// ---- binary64 operations on doubles (NaNs handled on bits by the callers) ------------------------
/** NaN result of a two-operand binary64 op: returns lo, high half in hi64.v. */
export function nan64(alo: number, ahi: number, blo: number, bhi: number): number {
  if (isSNaN64(alo, ahi) || isSNaN64(blo, bhi)) fx.pre |= IE;
  if (isNaN64(alo, ahi)) { hi64.v = ahi | 0x80000; return alo; }
  hi64.v = bhi | 0x80000; return blo;
}

const SMALL = 2 ** -200, LARGE = 2 ** 200;
/** x·2^k for |k| ≤ 1200 without an intermediate power of two overflowing. */
function scale(x: number, k: number): number {
  while (k > 600) { x *= 2 ** 600; k -= 600; }
  while (k < -600) { x *= 2 ** -600; k += 600; }
  return x * 2 ** k;
}
function scaleOf(x: number): number {
  const a = Math.abs(x);
  return a !== 0 && a < SMALL ? 600 : a > LARGE ? -600 : 0;
}

/** x·y rounded under MXCSR (finite non-zero operands). */
function mul64(x: number, y: number): number {
  const v = x * y;
  const kx = scaleOf(x), ky = scaleOf(y);
  const xs = x * 2 ** kx, ys = y * 2 ** ky;
  const P = xs * ys;
  const e = prodErr(xs, ys, P);
  const k = kx + ky;
  if (Math.abs(v) === Infinity) return round64(v, 0, Math.abs(scale(P, -k - 1)) >= 2 ** 1023, e !== 0);
  // V = v scaled like P (exact: v is finite and the scale moves it toward 1).
  const V = scale(v, k);
  return round64(v, sgn((P - V) + e), false, e !== 0);
}

function div64(x: number, y: number): number {
  const v = x / y;
  const kx = scaleOf(x), ky = scaleOf(y);
  const xs = x * 2 ** kx, ys = y * 2 ** ky;
  // Whether the quotient has more than 53 significant bits (rounding with an unbounded exponent).
  const Q = xs / ys;
  const qp = Q * ys;
  const inexactU = (xs - qp) - prodErr(Q, ys, qp) !== 0;
  if (Math.abs(v) === Infinity) {
    const h = (x / 2) / y;
    return round64(v, 0, Math.abs(h) >= 2 ** 1023, inexactU);
  }
  // Residual r = x − v·y, scaled so neither the product nor its error underflow.
  const k = kx - ky;
  let V = v;
  if (k !== 0) V = scale(v, k);
  if (V === 0 || Math.abs(V) === Infinity) {
    return round64(v, v === 0 ? sgn(x) * sgn(y) : 0, false, inexactU);
  }
  const p = V * ys;
  const e = prodErr(V, ys, p);
  const r = (xs - p) - e;
  return round64(v, sgn(r) * sgn(y), false, inexactU);
}

function sqrt64(x: number): number {
  const v = Math.sqrt(x);
  const k = x < 2 ** -900 ? 600 : 0;
  const xs = scale(x, 2 * k), V = scale(v, k);
  const p = V * V;
  const e = prodErr(V, V, p);
  return round64(v, sgn((xs - p) - e), false);
}

/** Binary64 op on bit pairs; returns lo, hi in hi64.v. */
export function arith64(op: Op2, alo: number, ahi: number, blo: number, bhi: number): number {
  if (isNaN64(alo, ahi) || isNaN64(blo, bhi)) return nan64(alo, ahi, blo, bhi);
  const pre0 = fx.pre;
  const x = in64(alo, ahi), y = in64(blo, bhi);
  let v: number;
  const xi = Math.abs(x) === Infinity, yi = Math.abs(y) === Infinity;
  switch (op) {
    case Op2.Add: case Op2.Sub: {
      const yy = op === Op2.Sub ? -y : y;
      if (xi && yi && x !== yy) { fx.pre |= IE; hi64.v = QNAN64_HI; return 0; }
      if (xi || yi) { v = x + yy; break; }
      v = x + yy;
      if (v === 0) {
        v = (Object.is(x, -0) && Object.is(yy, -0)) ? -0 : (x === 0 && yy === 0 && Object.is(x, yy)) ? x : fm.rc === 1 ? -0 : 0;
        break;
      }
      if (Math.abs(v) === Infinity) {
        const h = x / 2 + yy / 2;
        v = round64(v, 0, Math.abs(h) >= 2 ** 1023, sumErr(x / 2, yy / 2, h) !== 0);
      } else v = round64(v, sgn(sumErr(x, yy, v)), false);
      break;
    }
    case Op2.Mul:
      if ((x === 0 && yi) || (y === 0 && xi)) { fx.pre |= IE; hi64.v = QNAN64_HI; return 0; }
      v = xi || yi || x === 0 || y === 0 ? x * y : mul64(x, y);
      break;
    default:
      if ((x === 0 && y === 0) || (xi && yi)) { fx.pre |= IE; hi64.v = QNAN64_HI; return 0; }
      if (y === 0 && !xi) fx.pre = pre0 | ZE;
      v = xi || yi || x === 0 || y === 0 ? x / y : div64(x, y);
      break;
  }
  return bits64(v);
}

export function sqrt64bits(lo: number, hi: number): number {
  if (isNaN64(lo, hi)) { if (isSNaN64(lo, hi)) fx.pre |= IE; hi64.v = hi | 0x80000; return lo; }
  if (hi < 0 && ((hi & 0x7fffffff) !== 0 || lo !== 0) && !(fm.daz && isDen64(lo, hi))) { fx.pre |= IE; hi64.v = QNAN64_HI; return 0; }
  const x = in64(lo, hi);
  if (x === 0) return bits64(x);
  if (x < 0) { fx.pre |= IE; hi64.v = QNAN64_HI; return 0; }
  if (x === Infinity) return bits64(x);
  return bits64(sqrt64(x));
}
