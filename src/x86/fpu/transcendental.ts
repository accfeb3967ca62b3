/**
 * x87 transcendental kernels: FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1
 * (SDM vol. 2A instruction pages; vol. 1 §8.3.10 transcendental accuracy).
 *
 * Evaluation: operands become exact double-double mantissas (a 64-bit significand fits in a
 * hi+lo pair) with a separate binary exponent; each function is evaluated in double-double
 * arithmetic (~104 bits) by argument reduction plus Taylor/atanh series, and the exact sum of the
 * result terms (with exact correction terms where the result is within 2^-40 of an exactly
 * representable value, e.g. sin x = x - ..., cos x = 1 - x^2/2 + ...) is accumulated in a
 * fixed-point accumulator and rounded once to the 64-bit significand with RC (softfloat.roundExt,
 * which sets PE/UE/C1). No BigInt and no allocation in the ops (module scratch only).
 *
 * Trigonometric argument reduction (SDM vol. 1 §8.3.10, vol. 2A FSIN): the x87 reduces with a
 * 66-bit approximation of pi, so results for large arguments are those of x - k × (pi66 / 2),
 * computed exactly here by a bit-serial long division of the operand by the 66-bit constant.
 * |x| >= 2^63: C2 = 1 and the operand is unchanged (index.ts).
 *
 * Precision control has no effect (results are always rounded to 64 bits; SDM vol. 1 §8.1.5.2
 * lists PC for FADD/FSUB/FMUL/FDIV/FSQRT only; measured with PC = 24/53/64).
 *
 * Measured behaviour reproduced here (host: this machine's Intel x87, test/x86/fpu-host-gen-trans.c):
 *   - FSIN/FCOS (and FSINCOS) with |x| < 2^-68: x resp. 1.0 with PE and C1 = 0 in every RC.
 *   - FPTAN with |x| < 2^-68: x, PE, C1 = 0; with 2^-68 <= |x| < 2^-33: x rounded as if the value
 *     lay just below |x| (x - 1 ulp toward zero in RC down/chop for x > 0, ...), C1 = 0; x = ±2^k
 *     in that range: x with PE.
 *   - A denormal operand of FSIN/FPTAN/FSINCOS: the operand's value (a pseudo-denormal comes
 *     back normalized), DE + PE (+ UE for a true denormal, which with UE unmasked comes back
 *     normalized with the exponent wrapped by +24576); FCOS of a denormal: 1.0, DE + PE.
 *   - FPATAN with x > 0 and 0 < y/x < 2^-40: y/x rounded (not atan), PE even when exact.
 *   - FYL2XP1 with x = 1: y itself, PE (C1 = 0 in every RC).
 *   - F2XM1 with |x| > 1: the operand, PE; x = ±1: exact result with PE.
 *   - FYL2X: PE even for exact products; x = 2^k behaves as if log2 x were k plus a tiny positive
 *     amount (directed roundings, C1, UE for denormal results follow).
 *   - FYL2XP1: x <= -1 gives x with PE; huge x: y log2(x) with PE.
 *   - FSINCOS: C1 from the cosine's rounding.
 *
 * Not bit-exact: silicon is not correctly rounded (the SDM promises < 1 ulp). Against fresh host
 * samples (116,224 lines, seeds 99 and 123, every RC/PC, masked and unmasked) the model agrees bit
 * for bit (value and status word) in 96.9% of cases; every difference is either the neighbouring
 * value (1 ulp) or C1 alone. Per form, exact / 1-ulp / C1-only, masked (10,016 each):
 *   FSIN 98.16% / 146 / 38        FCOS 98.11% / 148 / 41      FSINCOS cos 98.25% / 134 / 41
 *   FSINCOS sin 98.68% / 132 / -  FPTAN status 96.51% / 0 / 350 (1.0 pushed; C1 of the tangent)
 *   FPTAN tan 97.02% / 298 / -    FPATAN 97.80% / 151 / 69    F2XM1 96.59% / 270 / 72
 *   FYL2X 95.01% / 377 / 123      FYL2XP1 93.46% / 502 / 153
 * (the "-" forms end with FXCH, which clears C1). In the conformance harness (test/conformance,
 * 25,000 cases per mnemonic) 0.16-0.64% of cases differ, only by 1 ulp and/or C1. The host's
 * F2XM1/FYL2X/FYL2XP1/FPTAN/FPATAN results sit below the true value more often than above; accBias models that as a fixed
 * offset toward zero, fitted on the seed-7 batch and checked on seed 11 (on those 100,160
 * samples, without the offset the five agreed in 93.3/93.2/91.9/94.5/96.9%). FSIN/FCOS show
 * no such bias (their 1-ulp differences go both ways and no offset helps).
 */
import { R, DE, PE, UE, C1, roundExt, setResult, exactTiny } from './softfloat';

// ---- double-double primitives (results in H, L) ----------------------------------------------
let H = 0, L = 0;
const SPLIT = 134217729; // 2^27 + 1
function twoSum(a: number, b: number): void { const s = a + b, bb = s - a; L = (a - (s - bb)) + (b - bb); H = s; }
function fastTwoSum(a: number, b: number): void { const s = a + b; L = b - (s - a); H = s; }
function twoProd(a: number, b: number): void {
  const p = a * b;
  let t = a * SPLIT; const ah = t - (t - a), al = a - ah;
  t = b * SPLIT; const bh = t - (t - b), bl = b - bh;
  L = ((ah * bh - p) + ah * bl + al * bh) + al * bl; H = p;
}
function ddAdd(ah: number, al: number, bh: number, bl: number): void {
  twoSum(ah, bh); const s = H, e = L;
  twoSum(al, bl); const t = H, f = L;
  fastTwoSum(s, e + t); fastTwoSum(H, L + f);
}
function ddMul(ah: number, al: number, bh: number, bl: number): void {
  twoProd(ah, bh); const p = H, e = L + (ah * bl + al * bh);
  fastTwoSum(p, e);
}
function ddDiv(ah: number, al: number, bh: number, bl: number): void {
  const q1 = ah / bh;
  ddMul(q1, 0, bh, bl); ddAdd(ah, al, -H, -L); const r1h = H, r1l = L;
  const q2 = r1h / bh;
  ddMul(q2, 0, bh, bl); ddAdd(r1h, r1l, -H, -L);
  const q3 = H / bh;
  fastTwoSum(q1, q2); ddAdd(H, L, q3, 0);
}
function ddDivInt(h: number, l: number, d: number): void {
  const q1 = h / d;
  twoProd(q1, d);
  const r = ((h - H) - L) + l;
  fastTwoSum(q1, r / d);
}
function ddSqrt(h: number, l: number): void {
  const s = Math.sqrt(h);
  twoProd(s, s);
  const r = ((h - H) - L) + l;
  fastTwoSum(s, r / (2 * s));
}

// Constants as double-double.
const PI_H = 3.141592653589793, PI_L = 1.2246467991473532e-16;
const PI2_H = PI_H / 2, PI2_L = PI_L / 2;
const LN2_H = 0.6931471805599453, LN2_L = 2.3190468138462996e-17;
const LOG2E_H = 1.4426950408889634, LOG2E_L = 2.0355273740931033e-17;
/** Smallest magnitude of a squared argument fed to the series: keeps the "inexact" direction
 *  of a correction term far below 2^-106 visible instead of underflowing to exactly 1. */
const TINY_U = 2 ** -400;

// ---- operand unpacking ------------------------------------------------------------------------
/** Unpack a finite nonzero 80-bit value: |v| = (uH + uL) × 2^uE with uH + uL in [1, 2), exact. */
let uH = 0, uL = 0, uE = 0;
function unpack(e: number, h: number, l: number): void {
  h >>>= 0; l >>>= 0;
  if (e === 0) e = 1;
  if (h === 0) { h = l; l = 0; e -= 32; }
  const z = Math.clz32(h);
  if (z > 0) { h = ((h << z) | (l >>> (32 - z))) >>> 0; l = (l << z) >>> 0; e -= z; }
  twoSum(h * 2 ** -31, l * 2 ** -63);
  uH = H; uL = L; uE = e - 16383;
}

// ---- exact rounding of a sum of doubles ---------------------------------------------------------
const f64 = new Float64Array(1), u32 = new Uint32Array(f64.buffer);
/** Exponent of a finite nonzero double (normal range). */
function expOf(x: number): number { f64[0] = x; return ((u32[1] >>> 20) & 0x7ff) - 1023; }
/**
 * Exact fixed-point accumulator: ten signed 32-bit limbs (as doubles), limb j weighing
 * 2^(accBase + 32 j), plus the sum of the parts added below limb 0 (accTail, used for its sign). Used to round the
 * exact sum of a double-double result and its correction terms once.
 */
const acc = new Float64Array(10);
let accBase = 0, accTail = 0;
function accStart(lead: number): void {
  acc.fill(0); accTail = 0;
  accBase = (lead === 0 ? 0 : expOf(Math.abs(lead))) + 2 - 288;
}
function accAdd(t: number): void {
  if (t === 0) return;
  let v = t * 2 ** -accBase; // exact power-of-two scaling (the terms stay far from under/overflow)
  if (!isFinite(v)) v = t > 0 ? 2 ** 320 : -(2 ** 320);
  for (let j = 9; j >= 0; j--) {
    const w = 2 ** (32 * j);
    const q = Math.trunc(v / w);
    if (q !== 0) { acc[j] += q; v -= q * w; }
  }
  accTail += v; // the part below limb 0: only its sign matters (the largest such term dominates)
}
/** Round sign × (accumulated sum) × 2^e2 to the register format with RC (64-bit significand). */
function roundAcc(sign: number, e2: number, rc: number, fcw: number): void {
  // carry-propagate to limbs in [0, 2^32); a negative tail borrows one unit with a sticky fraction
  let sticky = accTail !== 0 ? 1 : 0;
  if (accTail < 0) acc[0] -= 1;
  for (let j = 0; j < 9; j++) {
    const c = Math.floor(acc[j] / 4294967296);
    if (c !== 0) { acc[j] -= c * 4294967296; acc[j + 1] += c; }
  }
  if (acc[9] < 0) {
    // negative sum: -(A + f) = (-A - 1) + (1 - f) when f > 0, else -A
    sign ^= 1;
    let borrow = sticky ? 1 : 0;
    for (let j = 0; j < 10; j++) {
      let v = -acc[j] - borrow;
      borrow = 0;
      if (v < 0) { v += 4294967296; borrow = 1; }
      acc[j] = v;
    }
    // the top limb absorbs the final borrow (the magnitude fits)
  }
  let top = 9;
  while (top >= 0 && acc[top] === 0) top--;
  if (top < 0) { setResult(sign, 0, 0, 0); if (sticky) R.fx |= PE; return; }
  const z = Math.clz32(acc[top]);
  // take 96 bits starting at the leading one: bit position of the leading one is 32*top + 31 - z
  const lead = 32 * top + 31 - z;
  const w0 = bitsAt(lead), w1 = bitsAt(lead - 32);
  let w2 = bitsAt(lead - 64);
  // anything below the 96 bits is sticky
  const lowEnd = lead - 96; // highest bit not taken
  for (let j = 0; j < 10 && !sticky; j++) {
    const lo = 32 * j;
    if (lo > lowEnd) break;
    const m = lowEnd - lo >= 31 ? 0xffffffff : (2 ** (lowEnd - lo + 1)) - 1;
    if ((acc[j] >>> 0) & m) sticky = 1;
  }
  w2 = (w2 | sticky) >>> 0;
  roundExt(sign, accBase + lead + e2 + 16383, w0, w1, w2, 64, rc, fcw);
}
/** The 32 bits hiBit .. hiBit-31 of the accumulator (zeros below bit 0). */
function bitsAt(hiBit: number): number {
  const lowBit = hiBit - 31;
  let r = 0;
  for (let b = 0; b < 32; b++) {
    const pos = lowBit + b;
    if (pos < 0) continue;
    const j = pos >>> 5, k = pos & 31;
    if (((acc[j] >>> 0) >>> k) & 1) r |= 1 << b;
  }
  return r >>> 0;
}

/**
 * Silicon's F2XM1, FYL2X, FYL2XP1, FPTAN and FPATAN results are not correctly rounded: measured against
 * a 200-bit reference, they behave as if the value fed to the final rounding lay slightly closer
 * to zero than the true one (the host's result is the lower neighbour in about 5-9% of cases and
 * almost never the upper one). Modelling that as a fixed offset of `d` units in the last place
 * toward zero (d fitted on one batch of host samples, checked on another) brings the model's
 * results closer to silicon; see BIAS_* below and the report in test/x86/fpuTrans.test.ts.
 * Adds the offset for a sum whose largest term is `lead` (scaled like the other terms).
 */
function accBias(lead: number, d: number): void {
  const ulp = 2 ** (expOf(Math.abs(lead)) - 63);
  accAdd(lead > 0 ? -d * ulp : d * ulp);
}
const BIAS_F2XM1 = 0.08, BIAS_FYL2X = 0.07, BIAS_FYL2XP1 = 0.06, BIAS_FPTAN = 0.008, BIAS_FPATAN = 0.02;

/** Round sign × (hi + lo) × 2^e2 exactly (lo may have the opposite sign of hi). */
function roundDD(sign: number, hi: number, lo: number, e2: number, rc: number, fcw: number): void {
  accStart(hi); accAdd(hi); accAdd(lo); roundAcc(sign, e2, rc, fcw);
}

// ---- series ---------------------------------------------------------------------------------------
/** sin(r)/r - 1 for u = r^2: -u/3! + u^2/5! - ... */
function sinFactorM1(uh: number, ul: number): void {
  let th = 1, tl = 0;
  for (let n = 16; n >= 2; n--) {
    ddMul(uh, ul, th, tl); ddDivInt(H, L, (2 * n) * (2 * n + 1)); ddAdd(1, 0, -H, -L); th = H; tl = L;
  }
  ddMul(uh, ul, th, tl); ddDivInt(-H, -L, 6);
}
/** cos(r) - 1 + u/2 for u = r^2: u^2/4! - u^3/6! + ... */
function cosTail(uh: number, ul: number): void {
  let th = 1, tl = 0;
  for (let n = 16; n >= 3; n--) {
    ddMul(uh, ul, th, tl); ddDivInt(H, L, (2 * n - 1) * (2 * n)); ddAdd(1, 0, -H, -L); th = H; tl = L;
  }
  ddMul(uh, ul, th, tl); ddMul(uh, ul, H, L); ddDivInt(H, L, 24);
}
/** atan(t)/t - 1 for u = t^2 <= 1/64: -u/3 + u^2/5 - ... */
function atanFactorM1(uh: number, ul: number): void {
  let th = 0, tl = 0;
  for (let n = 24; n >= 2; n--) {
    // t = 1/(2n+1) - u t
    ddMul(uh, ul, th, tl); const ph = H, pl = L;
    ddDivInt(1, 0, 2 * n + 1); ddAdd(H, L, -ph, -pl); th = H; tl = L;
  }
  // -u (1/3 - u t)
  ddMul(uh, ul, th, tl); const ph = H, pl = L;
  ddDivInt(1, 0, 3); ddAdd(H, L, -ph, -pl); ddMul(uh, ul, H, L); H = -H; L = -L;
}
/** atan(t)/t for u = t^2 <= 1/64. */
function atanFactor(uh: number, ul: number): void { atanFactorM1(uh, ul); ddAdd(1, 0, H, L); }
/** atanh(s)/s for u = s^2 (u <= 0.03): 1 + u/3 + u^2/5 + ... */
function atanhFactor(uh: number, ul: number): void {
  let th = 0, tl = 0;
  for (let n = 30; n >= 1; n--) {
    ddMul(uh, ul, th, tl); const ph = H, pl = L;
    ddDivInt(1, 0, 2 * n + 1); ddAdd(H, L, ph, pl); th = H; tl = L;
  }
  ddMul(uh, ul, th, tl); ddAdd(1, 0, H, L);
}
/** (e^y - 1)/y for y (dd, |y| <= 0.7): 1 + y/2 + y^2/6 + ... */
function expm1Factor(yh: number, yl: number): void {
  let th = 1, tl = 0;
  for (let n = 34; n >= 2; n--) {
    ddMul(yh, yl, th, tl); ddDivInt(H, L, n); ddAdd(1, 0, H, L); th = H; tl = L;
  }
  H = th; L = tl;
}

// ---- trigonometric argument reduction ---------------------------------------------------------
// pi66 / 2 as a 66-bit integer M × 2^-65 (pi = C90FDAA2 2168C234 C4C6628B... × 2^-62; its 66-bit
// rounding is the 64-bit truncation followed by bits 11, since the next bit is 0).
const M2 = 3, M1 = ((0xc90fdaa2 << 2) | (0x2168c234 >>> 30)) >>> 0, M0 = ((0x2168c234 << 2) | 3) >>> 0;
/** Reduced argument: |x| = k × pi66/2 + (rH + rL) × 2^rE, quadrant k mod 4 in rK. */
let rH = 0, rL = 0, rE = 0, rK = 0;
function reduce(e: number, h: number, l: number): void {
  unpack(e, h, l);
  if (uE < -1) { rH = uH; rL = uL; rE = uE; rK = 0; return; } // |x| < 0.5 < pi/4
  h >>>= 0; l >>>= 0;
  if (e === 0) { e = 1; }
  while (h < 0x80000000) { h = ((h << 1) | (l >>> 31)) >>> 0; l = (l << 1) >>> 0; }
  // N = X × 2^(uE + 2): stream its bits (64 + uE + 2 of them) through a restoring division by M.
  const nbits = 64 + uE + 2;
  let r2 = 0, r1 = 0, r0 = 0, q = 0;
  for (let i = 0; i < nbits; i++) {
    const bit = i < 32 ? (h >>> (31 - i)) & 1 : i < 64 ? (l >>> (63 - i)) & 1 : 0;
    r2 = ((r2 << 1) | (r1 >>> 31)) >>> 0; r1 = ((r1 << 1) | (r0 >>> 31)) >>> 0; r0 = ((r0 << 1) | bit) >>> 0;
    q = (q << 1) & 3;
    if (r2 > M2 || (r2 === M2 && (r1 > M1 || (r1 === M1 && r0 >= M0)))) {
      let d0 = r0 - M0, b = 0;
      if (d0 < 0) { d0 += 4294967296; b = 1; }
      let d1 = r1 - M1 - b; b = 0;
      if (d1 < 0) { d1 += 4294967296; b = 1; }
      r2 = r2 - M2 - b; r1 = d1; r0 = d0; q |= 1;
    }
  }
  // nearest multiple: if 2r > M, r = r - M (negative), k + 1
  const t2 = ((r2 << 1) | (r1 >>> 31)) >>> 0, t1 = ((r1 << 1) | (r0 >>> 31)) >>> 0, t0 = (r0 << 1) >>> 0;
  let neg = false;
  if (t2 > M2 || (t2 === M2 && (t1 > M1 || (t1 === M1 && t0 > M0)))) {
    let d0 = M0 - r0, b = 0;
    if (d0 < 0) { d0 += 4294967296; b = 1; }
    let d1 = M1 - r1 - b; b = 0;
    if (d1 < 0) { d1 += 4294967296; b = 1; }
    r2 = M2 - r2 - b; r1 = d1; r0 = d0; q = (q + 1) & 3; neg = true;
  }
  twoSum((r2 * 4294967296 + r1) * 4294967296, r0);
  rH = neg ? -H : H; rL = neg ? -L : L; rE = -65; rK = q;
  if (rH === 0) rE = 0;
  // bring r to [1, 2) × 2^rE so that squares stay in range for the factor series
  if (rH !== 0) {
    f64[0] = Math.abs(rH);
    const ex = ((u32[1] >>> 20) & 0x7ff) - 1023;
    const s = 2 ** -ex; rH *= s; rL *= s; rE += ex;
  }
}

/** u = r^2 for r = (rH + rL) × 2^rE (dd, with the scale applied), clamped below (see TINY_U). */
let qH = 0, qL = 0;
function square(): void {
  ddMul(rH, rL, rH, rL);
  const sc = 2 * rE < -1000 ? 0 : 2 ** (2 * rE);
  qH = H * sc; qL = L * sc;
  if (qH < TINY_U) { qH = TINY_U; qL = 0; }
}

/** Accumulate m × sin(r) with the terms scaled by 2^-rE (the caller rounds with e2 = rE). */
function sinTerms(m: number): void {
  square(); sinFactorM1(qH, qL); ddMul(rH, rL, H, L);
  const ch = H, cl = L;
  accStart(rH); accAdd(m * rH); accAdd(m * rL); accAdd(m * ch); accAdd(m * cl);
}
/** Accumulate m × cos(r) = m (1 - r^2/2 + tail), r^2 taken exactly (e2 = 0). */
function cosTerms(m: number): void {
  square(); cosTail(qH, qL);
  const th = H, tl = L;
  const sc = -m * 2 ** (2 * rE - 1);
  accStart(1); accAdd(m);
  twoProd(rH, rH); accAdd(H * sc); accAdd(L * sc);
  twoProd(rH, rL); accAdd(H * sc * 2); accAdd(L * sc * 2);
  twoProd(rL, rL); accAdd(H * sc); accAdd(L * sc);
  accAdd(m * th); accAdd(m * tl);
}

// ---- public kernels (result in R; flags in R.fx) ----------------------------------------------
/** which: 0 sin, 1 cos, 2 tan. Finite nonzero |x| < 2^63 (callers screen the rest). */
export function trig(which: number, s: number, e: number, h: number, l: number, rc: number, fcw: number): void {
  if (e === 0) R.fx |= DE;
  if (e === 0) {
    // A denormal operand (measured): FSIN, FPTAN and FSINCOS's sine return the operand's value
    // (exactTiny: a pseudo-denormal comes back normalized, exponent field 1; a true denormal stays
    // and signals UE, wrapped when UE is unmasked), FCOS and FSINCOS's cosine return 1.0; always
    // DE and PE, C1 = 0.
    if (which === 1) { R.fx |= PE; setResult(0, 0x3fff, 0x80000000, 0); return; }
    exactTiny(s, e, h, l, fcw);
    return;
  }
  if (which !== 2 && e < 16383 - 68) {
    // |x| < 2^-68 (measured threshold): FSIN returns x and FCOS 1.0, with PE and C1 = 0 in
    // every rounding mode, not the correctly rounded value.
    R.fx |= PE;
    if (which === 0) setResult(s, e, h, l); else setResult(0, 0x3fff, 0x80000000, 0);
    return;
  }
  if (which === 2 && e < 16383 - 33) {
    // FPTAN, |x| < 2^-33 (measured): below 2^-68 the result is x with PE and C1 = 0 in every
    // rounding mode; from 2^-68 to 2^-33 it is x rounded as if the exact value lay just below |x|
    // (x - 1 ulp when rounding toward zero, x otherwise), again with C1 = 0 - not tan's
    // correctly rounded value (which lies above |x|).
    if (e < 16383 - 68 || (h === 0x80000000 && l === 0)) { R.fx |= PE; setResult(s, e, h, l); return; }
    unpack(e, h, l);
    accStart(uH); accAdd(uH); accAdd(uL); accAdd(-(2 ** -200));
    roundAcc(s, uE, rc, fcw);
    R.fx &= ~C1;
    return;
  }
  reduce(e, h, l);
  if (rH === 0) { rH = 1; rL = 0; rE = -400; } // exact multiple of pi66/2: not reachable with 64-bit significands
  const k = rK;
  if (which === 2) {
    square(); const uh = qH, ul = qL;
    sinFactorM1(uh, ul); const s1h = H, s1l = L;
    cosTail(uh, ul); ddAdd(H, L, -uh / 2, -ul / 2); const c1h = H, c1l = L; // cos r - 1
    if ((k & 1) === 0) {
      // tan r = r + r (S - C) / C with S = sin(r)/r, C = cos r
      ddAdd(s1h, s1l, -c1h, -c1l); const nh = H, nl = L;
      ddAdd(1, 0, c1h, c1l); ddDiv(nh, nl, H, L); ddMul(rH, rL, H, L);
      accStart(rH); accAdd(rH); accAdd(rL); accAdd(H); accAdd(L); accBias(rH, BIAS_FPTAN);
      roundAcc(s, rE, rc, fcw);
    } else {
      // -cot r = -(C / S) / r
      ddAdd(1, 0, c1h, c1l); const ch = H, cl = L;
      ddAdd(1, 0, s1h, s1l); ddDiv(ch, cl, H, L); ddDiv(H, L, rH, rL);
      accStart(H); accAdd(H); accAdd(L); accBias(H, BIAS_FPTAN);
      roundAcc(s ^ 1, -rE, rc, fcw);
    }
    return;
  }
  const useSin = which === 0 ? (k & 1) === 0 : (k & 1) === 1;
  const negQ = which === 0 ? (k & 2) !== 0 : ((k + 1) & 2) !== 0;
  if (useSin) { sinTerms(1); roundAcc((which === 0 ? s : 0) ^ (negQ ? 1 : 0), rE, rc, fcw); }
  else { cosTerms(1); roundAcc((which === 0 ? s : 0) ^ (negQ ? 1 : 0), 0, rc, fcw); }
}

/** atan2(y, x) for finite nonzero x and y (FPATAN). */
export function atan2(sy: number, ey: number, hy: number, ly: number, sx: number, ex: number, hx: number, lx: number, rc: number, fcw: number): void {
  if (ey === 0 || ex === 0) R.fx |= DE;
  unpack(ey, hy, ly); const yh = uH, yl = uL, yE = uE;
  unpack(ex, hx, lx); const xh = uH, xl = uL, xE = uE;
  const ySmall = yE < xE || (yE === xE && (yh < xh || (yh === xh && yl <= xl)));
  // t = smaller / larger as dd × 2^tE (t <= 1)
  let th: number, tl: number, tE: number;
  if (ySmall) { ddDiv(yh, yl, xh, xl); tE = yE - xE; } else { ddDiv(xh, xl, yh, yl); tE = xE - yE; }
  th = H; tl = L;
  if (ySmall && sx === 0 && th * 2 ** (tE + 40) < 1) {
    // 0 < t < 2^-40 (measured threshold): silicon returns t = y/x itself, rounded, with PE even
    // when exact (so a denormal result also signals UE), not atan(t) (which lies just below t).
    accStart(th); accAdd(th); accAdd(tl); roundAcc(sy, tE, rc, fcw);
    R.fx |= PE | (R.e === 0 && (R.h | R.l) !== 0 ? UE : 0);
    return;
  }
  // atan(t) as dd × 2^aE
  let ah: number, al: number, aE: number;
  if (tE <= -4) {
    ddMul(th, tl, th, tl);
    const sc = 2 * tE < -1000 ? 0 : 2 ** (2 * tE);
    let uh = H * sc, ul = L * sc;
    if (uh < TINY_U) { uh = TINY_U; ul = 0; }
    atanFactorM1(uh, ul); ddMul(th, tl, H, L);
    if (ySmall && sx === 0) { accStart(th); accAdd(th); accAdd(tl); accAdd(H); accAdd(L); roundAcc(sy, tE, rc, fcw); return; }
    ddAdd(th, tl, H, L); ah = H; al = L; aE = tE;
  } else {
    const sc = 2 ** tE; th *= sc; tl *= sc;
    // halve the angle three times: atan t = 2 atan(t / (1 + sqrt(1 + t^2)))
    for (let i = 0; i < 3; i++) {
      ddMul(th, tl, th, tl); ddAdd(1, 0, H, L); ddSqrt(H, L); ddAdd(1, 0, H, L); ddDiv(th, tl, H, L); th = H; tl = L;
    }
    ddMul(th, tl, th, tl); atanFactor(H, L); ddMul(th, tl, H, L); ah = H * 8; al = L * 8; aE = 0;
  }
  if (ySmall && sx === 0) { accStart(ah); accAdd(ah); accAdd(al); accBias(ah, BIAS_FPATAN); roundAcc(sy, aE, rc, fcw); return; }
  const sc = 2 ** aE;
  ah *= sc; al *= sc;
  if (ySmall) ddAdd(PI_H, PI_L, -ah, -al); // x < 0: pi - a
  else if (sx === 0) ddAdd(PI2_H, PI2_L, -ah, -al);
  else ddAdd(PI2_H, PI2_L, ah, al);
  accStart(H); accAdd(H); accAdd(L); accBias(H, BIAS_FPATAN);
  roundAcc(sy, 0, rc, fcw);
}

/** 2^x - 1 for finite nonzero x (F2XM1). */
export function exp2m1(s: number, e: number, h: number, l: number, rc: number, fcw: number): void {
  if (e === 0) R.fx |= DE;
  unpack(e, h, l);
  if (uE === 0 && uH === 1 && uL === 0) { R.fx |= PE; setResult(s, s ? 0x3ffe : 0x3fff, 0x80000000, 0); return; } // ±1: exact, yet PE (measured)
  if (uE >= 0) {
    // |x| > 1, outside the documented domain: the operand is returned unchanged with PE (measured)
    R.fx |= PE; setResult(s, e, h, l); return;
  }
  // y = x ln2 (dd × 2^uE), then 2^x - 1 = y × (e^y - 1)/y
  ddMul(uH, uL, LN2_H, LN2_L); const yh = H, yl = L;
  const sc = uE < -1000 ? 0 : 2 ** uE;
  let ph = yh * sc, pl = yl * sc;
  if (Math.abs(ph) < TINY_U) { ph = TINY_U; pl = 0; }
  expm1Factor(s ? -ph : ph, s ? -pl : pl);
  ddMul(yh, yl, H, L);
  accStart(H); accAdd(H); accAdd(L); accBias(H, BIAS_F2XM1);
  roundAcc(s, uE, rc, fcw);
}

/** ln(m) for m = (mh + ml) in [sqrt(1/2), sqrt(2)], as dd in H, L (via 2 atanh((m-1)/(m+1))). */
function lnNear1(mh: number, ml: number): void {
  ddAdd(mh, ml, -1, 0); const nh = H, nl = L;
  if (nh === 0) { H = 0; L = 0; return; }
  ddAdd(mh, ml, 1, 0); ddDiv(nh, nl, H, L); const sh = H, sl = L;
  ddMul(sh, sl, sh, sl);
  let uh = H, ul = L;
  if (uh < TINY_U) { uh = TINY_U; ul = 0; }
  atanhFactor(uh, ul); ddMul(sh, sl, H, L); H *= 2; L *= 2;
}

/** log2(m × 2^k) for m = mh + ml in [1, 2), as dd in H, L. */
function lg2(mh: number, ml: number, k: number): void {
  if (mh > Math.SQRT2) { mh /= 2; ml /= 2; k++; }
  lnNear1(mh, ml); ddMul(H, L, LOG2E_H, LOG2E_L);
  ddAdd(k, 0, H, L);
}
/** Normalize a positive dd to [1, 2) × 2^nE (nh, nl). */
let nh = 0, nl = 0, nE = 0;
function normDD(h: number, l: number): void {
  f64[0] = h;
  const ex = ((u32[1] >>> 20) & 0x7ff) - 1023, sc = 2 ** -ex;
  nh = h * sc; nl = l * sc; nE = ex;
}

/** y × log2(x) for finite nonzero y and finite x > 0 (FYL2X). */
export function yl2x(sy: number, ey: number, hy: number, ly: number, ex: number, hx: number, lx: number, rc: number, fcw: number): void {
  if (ey === 0 || ex === 0) R.fx |= DE;
  unpack(ex, hx, lx);
  lg2(uH, uL, uE);
  const lh = H, ll = L;
  if (lh === 0) { setResult(sy, 0, 0, 0); return; } // x = 1: ±0 with y's sign
  const pow2 = uH === 1 && uL === 0;
  unpack(ey, hy, ly);
  ddMul(uH, uL, lh, ll);
  // x = 2^k (k != 0): silicon behaves as if log2(x) were k plus a tiny positive amount: PE is set,
  // the directed roundings and C1 follow, and a denormal result signals UE (measured).
  accStart(H); accAdd(H); accAdd(L); if (pow2) accAdd(uH * 2 ** -300); else accBias(H, BIAS_FYL2X);
  roundAcc(sy, uE, rc, fcw);
  R.fx |= PE;
}

/** y × log2(1 + x) for finite nonzero x, y (FYL2XP1); 1 + x must be positive. */
export function yl2xp1(sy: number, ey: number, hy: number, ly: number, sx: number, ex: number, hx: number, lx: number, rc: number, fcw: number): void {
  if (ey === 0 || ex === 0) R.fx |= DE;
  unpack(ex, hx, lx);
  const xh = sx ? -uH : uH, xl = sx ? -uL : uL, xE = uE;
  let lh: number, ll: number, lE: number;
  if (xE >= -2 && (xE >= -1 || xh > 1.1715728752538097 || xh < -1.1715728752538097)) {
    // |x| > 1 - sqrt(2)/2 (outside the documented domain, computed as y log2(1 + x))
    // (x >= 2^110: log2(1 + x) = log2(x) + a positive amount below 2^-109, kept as a sticky term)
    const huge = xE >= 110;
    if (huge) { lg2(uH, uL, uE); }
    else { ddAdd(1, 0, xh * 2 ** xE, xl * 2 ** xE); const oh = H, ol = L; normDD(oh, ol); lg2(nh, nl, nE); }
    const gh = H, gl = L;
    unpack(ey, hy, ly);
    ddMul(uH, uL, gh, gl);
    accStart(H); accAdd(H); accAdd(L); if (huge) accAdd(uH * 2 ** -300); else accBias(H, BIAS_FYL2XP1);
    roundAcc(sy, uE, rc, fcw);
    R.fx |= PE; // also for an exact result (x = 1: y × 1; measured)
    return;
  }
  if (xE >= -8) {
    const sc = 2 ** xE;
    const vh = xh * sc, vl = xl * sc;
    // ln(1+x) = 2 atanh(x / (2 + x))
    ddAdd(2, 0, vh, vl); ddDiv(vh, vl, H, L); const sh = H, sl = L;
    ddMul(sh, sl, sh, sl); atanhFactor(H, L); ddMul(sh, sl, H, L); lh = H * 2; ll = L * 2; lE = 0;
  } else {
    // tiny x: ln(1+x) = x × 2/(2+x) × atanh(s)/s with s = x/(2+x); the exponent kept apart
    const sc = xE < -1000 ? 0 : 2 ** xE;
    let vh = xh * sc, vl = xl * sc;
    if (Math.abs(vh) < TINY_U) { vh = sx ? -TINY_U : TINY_U; vl = 0; }
    ddAdd(2, 0, vh, vl); const dh = H, dl = L;
    ddDiv(2, 0, dh, dl); const gh = H, gl = L; // 2/(2+x)
    ddDiv(vh, vl, dh, dl); ddMul(H, L, H, L); atanhFactor(H, L);
    ddMul(gh, gl, H, L); ddMul(xh, xl, H, L); lh = H; ll = L; lE = xE;
  }
  ddMul(lh, ll, LOG2E_H, LOG2E_L); const ph = H, pl = L;
  unpack(ey, hy, ly);
  ddMul(uH, uL, ph, pl);
  accStart(H); accAdd(H); accAdd(L); accBias(H, BIAS_FYL2XP1);
  roundAcc(sy, uE + lE, rc, fcw);
}

/** Round the constant sign × (c1 + c2) (pi multiples) per RC: PE, C1 as for a computed result. */
export function constant(sign: number, ch: number, cl: number, rc: number, fcw: number): void { roundDD(sign, ch, cl, 0, rc, fcw); }
export const PI = [PI_H, PI_L], PI2 = [PI2_H, PI2_L], PI4 = [PI_H / 4, PI_L / 4], PI34 = [0, 0];
ddMul(PI_H, PI_L, 0.75, 0); PI34[0] = H; PI34[1] = L;
