/**
 * Floating-point SSE kernels over the scratch vectors: arithmetic (ADD/SUB/MUL/DIV/SQRT/MIN/MAX
 * PS/PD/SS/SD, ADDSUB, HADD/HSUB), compares (CMPccPS/PD/SS/SD, SDM vol. 2 CMPPS table 3-1),
 * conversions (CVT*), ROUND* (SDM vol. 2 ROUNDPS, table 4-18), RCP/RSQRT.
 * NaN and exception rules: SDM vol. 1 §4.8.3.5 table 4-7, §11.5.2; see fp.ts.
 */
import type { Vec } from './common';
import { DE, IE, PE, fx, fxCheckpoint } from './common';
import {
  Op2, QNAN32, QNAN64_HI, arith32, arith64, bits32, bits64, f32, f64, fm, hi64, in32, in64, isDen32, isDen64,
  isNaN32, isNaN64, isSNaN32, isSNaN64, round32, round64, sqrt32, sqrt64bits, sumErr,
} from './fp';
import type { Kernel } from './intKernels';

export function ps(op: Op2, lanes: number): Kernel {
  return (a, b, r) => { for (let i = 0; i < lanes; i++) r.i32[i] = arith32(op, a.i32[i], b.i32[i]); };
}
export function pd(op: Op2, lanes: number): Kernel {
  return (a, b, r) => {
    for (let i = 0; i < 2 * lanes; i += 2) {
      r.i32[i] = arith64(op, a.i32[i], a.i32[i + 1], b.i32[i], b.i32[i + 1]);
      r.i32[i + 1] = hi64.v;
    }
  };
}
export function sqrtps(lanes: number): Kernel {
  return (_a, b, r) => { for (let i = 0; i < lanes; i++) r.i32[i] = sqrt32(b.i32[i]); };
}
export function sqrtpd(lanes: number): Kernel {
  return (_a, b, r) => {
    for (let i = 0; i < 2 * lanes; i += 2) { r.i32[i] = sqrt64bits(b.i32[i], b.i32[i + 1]); r.i32[i + 1] = hi64.v; }
  };
}
export const addsubps: Kernel = (a, b, r) => {
  for (let i = 0; i < 4; i++) r.i32[i] = arith32(i & 1 ? Op2.Add : Op2.Sub, a.i32[i], b.i32[i]);
};
export const addsubpd: Kernel = (a, b, r) => {
  r.i32[0] = arith64(Op2.Sub, a.i32[0], a.i32[1], b.i32[0], b.i32[1]); r.i32[1] = hi64.v;
  r.i32[2] = arith64(Op2.Add, a.i32[2], a.i32[3], b.i32[2], b.i32[3]); r.i32[3] = hi64.v;
};
export function hps(op: Op2): Kernel {
  return (a, b, r) => {
    const r0 = arith32(op, a.i32[0], a.i32[1]), r1 = arith32(op, a.i32[2], a.i32[3]);
    const r2 = arith32(op, b.i32[0], b.i32[1]), r3 = arith32(op, b.i32[2], b.i32[3]);
    r.i32[0] = r0; r.i32[1] = r1; r.i32[2] = r2; r.i32[3] = r3;
  };
}
export function hpd(op: Op2): Kernel {
  return (a, b, r) => {
    const l0 = arith64(op, a.i32[0], a.i32[1], a.i32[2], a.i32[3]), h0 = hi64.v;
    const l1 = arith64(op, b.i32[0], b.i32[1], b.i32[2], b.i32[3]), h1 = hi64.v;
    r.i32[0] = l0; r.i32[1] = h0; r.i32[2] = l1; r.i32[3] = h1;
  };
}

// ---- MIN/MAX (SDM vol. 2 MINPS/MAXPS: NaN or both zero → the second operand; IE for any NaN) ----
function minmax32(a: number, b: number, max: boolean): number {
  if (isNaN32(a) || isNaN32(b)) { fx.pre |= IE; return fm.daz && isDen32(b) ? b & 0x80000000 : b; }
  a = in32(a); b = in32(b);
  const x = f32(a), y = f32(b);
  return (max ? x > y : x < y) ? a : b;
}
function minmax64(alo: number, ahi: number, blo: number, bhi: number, max: boolean): number {
  if (isNaN64(alo, ahi) || isNaN64(blo, bhi)) {
    fx.pre |= IE;
    if (fm.daz && isDen64(blo, bhi)) { hi64.v = bhi & 0x80000000; return 0; }
    hi64.v = bhi; return blo;
  }
  const x = in64(alo, ahi), y = in64(blo, bhi);
  if (max ? x > y : x < y) { return bits64(x); }
  return bits64(y);
}
export function mmps(max: boolean, lanes: number): Kernel {
  return (a, b, r) => { for (let i = 0; i < lanes; i++) r.i32[i] = minmax32(a.i32[i], b.i32[i], max); };
}
export function mmpd(max: boolean, lanes: number): Kernel {
  return (a, b, r) => {
    for (let i = 0; i < 2 * lanes; i += 2) {
      r.i32[i] = minmax64(a.i32[i], a.i32[i + 1], b.i32[i], b.i32[i + 1], max); r.i32[i + 1] = hi64.v;
    }
  };
}

// ---- compares ---------------------------------------------------------------------------------
/** Predicate 0..7 (EQ LT LE UNORD NEQ NLT NLE ORD) given the relation; sets IE per the table. */
function pred(p: number, lt: boolean, eq: boolean, unord: boolean, snan: boolean): boolean {
  if (snan || (unord && (p === 1 || p === 2 || p === 5 || p === 6))) fx.pre |= IE;
  switch (p & 7) {
    case 0: return eq;
    case 1: return lt;
    case 2: return lt || eq;
    case 3: return unord;
    case 4: return !eq;
    case 5: return !lt;
    case 6: return !(lt || eq);
    default: return !unord;
  }
}
function cmp32(p: number, a: number, b: number): boolean {
  if (isNaN32(a) || isNaN32(b)) return pred(p, false, false, true, isSNaN32(a) || isSNaN32(b));
  const x = f32(in32(a)), y = f32(in32(b));
  return pred(p, x < y, x === y, false, false);
}
function cmp64(p: number, alo: number, ahi: number, blo: number, bhi: number): boolean {
  if (isNaN64(alo, ahi) || isNaN64(blo, bhi)) return pred(p, false, false, true, isSNaN64(alo, ahi) || isSNaN64(blo, bhi));
  const x = in64(alo, ahi), y = in64(blo, bhi);
  return pred(p, x < y, x === y, false, false);
}
export function cmpps(lanes: number): Kernel {
  return (a, b, r, imm) => { for (let i = 0; i < lanes; i++) r.i32[i] = cmp32(imm & 7, a.i32[i], b.i32[i]) ? -1 : 0; };
}
export function cmppd(lanes: number): Kernel {
  return (a, b, r, imm) => {
    for (let i = 0; i < 2 * lanes; i += 2) {
      const m = cmp64(imm & 7, a.i32[i], a.i32[i + 1], b.i32[i], b.i32[i + 1]) ? -1 : 0;
      r.i32[i] = m; r.i32[i + 1] = m;
    }
  };
}
/** COMIS/UCOMIS relation: 0 equal, 1 less, 2 greater, 3 unordered (IE per `signalQnan`). */
export function comi32(a: number, b: number, signalQnan: boolean): number {
  if (isNaN32(a) || isNaN32(b)) {
    if (signalQnan || isSNaN32(a) || isSNaN32(b)) fx.pre |= IE;
    return 3;
  }
  const x = f32(in32(a)), y = f32(in32(b));
  return x === y ? 0 : x < y ? 1 : 2;
}
export function comi64(alo: number, ahi: number, blo: number, bhi: number, signalQnan: boolean): number {
  if (isNaN64(alo, ahi) || isNaN64(blo, bhi)) {
    if (signalQnan || isSNaN64(alo, ahi) || isSNaN64(blo, bhi)) fx.pre |= IE;
    return 3;
  }
  const x = in64(alo, ahi), y = in64(blo, bhi);
  return x === y ? 0 : x < y ? 1 : 2;
}

// ---- integer rounding and conversions ------------------------------------------------------------
/** Round a finite double to an integral value under rounding control rc (0 RN-even, 1 down, 2 up, 3 zero). */
export function roundInt(x: number, rc: number): number {
  if (rc === 1) return Math.floor(x);
  if (rc === 2) return Math.ceil(x);
  if (rc === 3) return Math.trunc(x);
  const t = Math.trunc(x);
  const f = Math.abs(x - t);
  if (f > 0.5 || (f === 0.5 && t % 2 !== 0)) return t + (x < 0 ? -1 : 1);
  return t;
}

/**
 * Double (from a binary32/64 source) to a signed integer of 32 or 64 bits: rc, or truncation;
 * NaN and out-of-range give the integer indefinite with IE; PE when inexact
 * (SDM vol. 1 §4.8.3.7 / §11.5.2.1). Returns lo, hi in hi64.v.
 */
export function toInt(x: number, nan: boolean, bits: 32 | 64, truncate: boolean): number {
  if (nan || !Number.isFinite(x)) { fx.pre |= IE; hi64.v = bits === 64 ? 0x80000000 | 0 : 0; return bits === 64 ? 0 : 0x80000000 | 0; }
  const r = roundInt(x, truncate ? 3 : fm.rc);
  const lim = bits === 32 ? 2147483648 : 9223372036854775808;
  if (r >= lim || r < -lim) { fx.pre |= IE; hi64.v = bits === 64 ? 0x80000000 | 0 : 0; return bits === 64 ? 0 : 0x80000000 | 0; }
  if (r !== x) fx.post |= PE;
  if (bits === 32) { hi64.v = 0; return r | 0; }
  const hi = Math.floor(r / 4294967296);
  hi64.v = hi | 0;
  return (r - hi * 4294967296) | 0;
}
/** Source value of a conversion with DAZ (no DE: conversions to integer do not signal it). */
export function cvtSrc32(b: number): number {
  if (fm.daz && isDen32(b)) return (b & 0x80000000) !== 0 ? -0 : 0;
  return f32(b);
}
export function cvtSrc64(lo: number, hi: number): number {
  if (fm.daz && isDen64(lo, hi)) return (hi & 0x80000000) !== 0 ? -0 : 0;
  return f64(lo, hi);
}

/** int64 (lo, hi) to binary32/binary64 bits under MXCSR. */
export function i64ToF32(lo: number, hi: number): number {
  const h = hi * 4294967296, l = lo >>> 0;
  const v = h + l;
  return round32(v, Math.sign(sumErr(h, l, v)));
}
export function i64ToF64(lo: number, hi: number): number {
  const h = hi * 4294967296, l = lo >>> 0;
  const v = h + l;
  return bits64(round64(v, Math.sign(sumErr(h, l, v)), false));
}

/** CVTSS2SD / CVTPS2PD of one lane: returns lo, hi in hi64.v. */
export function f32ToF64(b: number): number {
  if (isNaN32(b)) {
    if (isSNaN32(b)) fx.pre |= IE;
    const q = b | 0x400000;
    hi64.v = (q & 0x80000000) | 0x7ff00000 | ((q & 0x7fffff) >>> 3);
    return (q & 7) << 29;
  }
  return bits64(f32(in32(b)));
}
/** CVTSD2SS / CVTPD2PS of one lane. */
export function f64ToF32(lo: number, hi: number): number {
  if (isNaN64(lo, hi)) {
    if (isSNaN64(lo, hi)) fx.pre |= IE;
    return (hi & 0x80000000) | 0x7fc00000 | ((hi & 0x7ffff) << 3) | (lo >>> 29);
  }
  const x = in64(lo, hi);
  if (x === 0 || !Number.isFinite(x)) return bits32(x);
  return round32(x, 0);
}

// ---- ROUNDPS/PD/SS/SD (SSE4.1) ---------------------------------------------------------------------
export function round32Lane(b: number, imm: number): number {
  if (isNaN32(b)) { if (isSNaN32(b)) fx.pre |= IE; return b | 0x400000; }
  const x = cvtSrc32(b);
  if (!Number.isFinite(x)) return b;
  const r = roundInt(x, imm & 4 ? fm.rc : imm & 3);
  if (r !== x && (imm & 8) === 0) fx.post |= PE;
  const res = r === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : r;
  return bits32(res);
}
export function round64Lane(lo: number, hi: number, imm: number): number {
  if (isNaN64(lo, hi)) { if (isSNaN64(lo, hi)) fx.pre |= IE; hi64.v = hi | 0x80000; return lo; }
  const x = cvtSrc64(lo, hi);
  if (!Number.isFinite(x)) { hi64.v = hi; return lo; }
  const r = roundInt(x, imm & 4 ? fm.rc : imm & 3);
  if (r !== x && (imm & 8) === 0) fx.post |= PE;
  return bits64(r === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : r);
}

// ---- RCP/RSQRT (approximations: |relative error| ≤ 1.5·2^-12 per SDM vol. 2 RCPPS) ----------------
/**
 * This model returns the correctly rounded binary32 value of 1/x (resp. 1/sqrt(x)), which is
 * within the architectural error bound but is not the bit pattern of Intel's tables.
 * Denormal inputs act as zero and tiny results flush to zero (SDM vol. 2 RCPPS), no flags.
 */
export function rcp32(b: number): number {
  if (isNaN32(b)) return b | 0x400000;
  const den = (b & 0x7f800000) === 0;
  const x = den ? ((b & 0x80000000) !== 0 ? -0 : 0) : f32(b);
  const v = Math.fround(1 / x);
  if (v !== 0 && Math.abs(v) < 2 ** -126) return b & 0x80000000;
  return bits32(v);
}
export function rsqrt32(b: number): number {
  if (isNaN32(b)) return b | 0x400000;
  const den = (b & 0x7f800000) === 0;
  const x = den ? ((b & 0x80000000) !== 0 ? -0 : 0) : f32(b);
  if (x < 0) return QNAN32;
  if (x === 0) return (b & 0x80000000) | 0x7f800000;
  return bits32(Math.fround(1 / Math.sqrt(x)));
}

export { QNAN64_HI, DE };
export type { Vec };

// ---- DPPS/DPPD (SSE4.1; SDM vol. 2 DPPS "DP_primitive": products, then pairwise sums, each rounded) ----
/**
 * The sums' operand order only shows in which NaN propagates; per destination lane it is the
 * one silicon uses (host-measured): DPPS lane i adds (m[i^1] + m[i]) + (m[i^3] + m[i^2]);
 * DPPD lane i adds m[i] + m[i^1].
 */
const DPPS_ORDER = [[1, 0, 3, 2], [0, 1, 2, 3], [3, 2, 1, 0], [2, 3, 0, 1]];
const DP = new Int32Array(4);
const DPP = new Int32Array(8);
export const dpps: Kernel = (a, b, r, imm) => {
  const m = DP;
  for (let i = 0; i < 4; i++) m[i] = (imm >> (4 + i)) & 1 ? arith32(Op2.Mul, a.i32[i], b.i32[i]) : 0;
  fxCheckpoint();
  // Pair sums of every lane, then (after a checkpoint: an unmasked exception there ends the
  // instruction before the final sums) the final sums.
  const p = DPP;
  for (let i = 0; i < 4; i++) {
    const o = DPPS_ORDER[i];
    if (((imm >> i) & 1) === 0 && !(i === 1 && (imm & 15) === 0)) continue;
    p[2 * i] = arith32(Op2.Add, m[o[0]], m[o[1]]);
    p[2 * i + 1] = arith32(Op2.Add, m[o[2]], m[o[3]]);
  }
  fxCheckpoint();
  for (let i = 0; i < 4; i++) {
    if (((imm >> i) & 1) === 0 && !(i === 1 && (imm & 15) === 0)) { r.i32[i] = 0; continue; }
    const t4 = arith32(Op2.Add, p[2 * i], p[2 * i + 1]);
    r.i32[i] = (imm >> i) & 1 ? t4 : 0;
  }
};
export const dppd: Kernel = (a, b, r, imm) => {
  let l0 = 0, h0 = 0, l1 = 0, h1 = 0;
  if (imm & 0x10) { l0 = arith64(Op2.Mul, a.i32[0], a.i32[1], b.i32[0], b.i32[1]); h0 = hi64.v; }
  if (imm & 0x20) { l1 = arith64(Op2.Mul, a.i32[2], a.i32[3], b.i32[2], b.i32[3]); h1 = hi64.v; }
  fxCheckpoint();
  const sl = arith64(Op2.Add, l0, h0, l1, h1), sh = hi64.v;
  const tl = arith64(Op2.Add, l1, h1, l0, h0), th = hi64.v;
  r.i32[0] = imm & 1 ? sl : 0; r.i32[1] = imm & 1 ? sh : 0;
  r.i32[2] = imm & 2 ? tl : 0; r.i32[3] = imm & 2 ? th : 0;
};
