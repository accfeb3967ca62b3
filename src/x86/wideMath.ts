/**
 * Double-width integer arithmetic on int32 limbs for MUL, IMUL, DIV and IDIV (insn/muldiv.ts):
 * 32x32 -> 64 and 64x64 -> 128 multiplication, 128/64 and 64/32 division.
 *
 * Multiplication uses 16x16-bit partial products with Math.imul (see `mulhu`) and exact double
 * sums; the general 128/64 division is Knuth's algorithm D (TAOCP vol. 2 §4.3.1) in base 2^16.
 * No BigInt and no allocation per call: the 128-bit results go to the exported scratch objects
 * `prod` and `quot` (int32 fields; read them right after the call), the 64/32 quotient is the
 * return value of `div64by32`. (Plain objects measured as fast as module-local variables in the
 * esbuild bundle; an Int32Array was slower there.)
 */

const TWO32 = 4294967296;

/** 128-bit product limbs (int32, p0 lowest) of the last mulu64/muls64. */
export const prod = { p0: 0, p1: 0, p2: 0, p3: 0 };

/**
 * Quotient (q1:q0) and remainder (r1:r0), int32 halves, of the last successful divu128 or knuth.
 * div64by32 leaves its remainder's bit pattern in r0.
 */
export const quot = { q0: 0, q1: 0, r0: 0, r1: 0 };

// Knuth algorithm D scratch: normalised dividend (9 limbs), divisor (4 limbs), quotient digits.
const U = new Int32Array(9);
const V = new Int32Array(4);
const Q = new Int32Array(8);

/**
 * High half (int32 bit pattern) of the unsigned 32x32 -> 64 product of the bit patterns of
 * `a` and `b`, from four 16x16-bit partial products (each exact in Math.imul's 32 bits).
 * The low half is Math.imul(a, b).
 */
export function mulhu(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const lh = Math.imul(a0, b1), hl = Math.imul(a1, b0);
  const mid = (Math.imul(a0, b0) >>> 16) + (lh & 0xffff) + (hl & 0xffff); // < 3 * 2^16
  return (Math.imul(a1, b1) + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}

/** High half of the signed 32x32 -> 64 product: the unsigned one corrected for negative factors. */
export function mulhs(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}

/** Unsigned 64x64 -> 128 product of (aHi:aLo) and (bHi:bLo) into `prod`. */
export function mulu64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  // a*b = aHi*bHi*2^64 + (aHi*bLo + aLo*bHi)*2^32 + aLo*bLo; column sums stay below 2^34.
  const lhL = Math.imul(aLo, bHi), hlL = Math.imul(aHi, bLo);
  prod.p0 = Math.imul(aLo, bLo);
  let s = (mulhu(aLo, bLo) >>> 0) + (lhL >>> 0) + (hlL >>> 0);
  prod.p1 = s | 0;
  let carry = s >= TWO32 ? (s >= 2 * TWO32 ? 2 : 1) : 0;
  s = (mulhu(aLo, bHi) >>> 0) + (mulhu(aHi, bLo) >>> 0) + (Math.imul(aHi, bHi) >>> 0) + carry;
  prod.p2 = s | 0;
  carry = s >= TWO32 ? (s >= 2 * TWO32 ? 2 : 1) : 0;
  prod.p3 = (mulhu(aHi, bHi) + carry) | 0;
}

/** Signed 64x64 -> 128: the unsigned product minus b*2^64 if a < 0 and minus a*2^64 if b < 0. */
export function muls64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulu64(aLo, aHi, bLo, bHi);
  if (aHi < 0) sub128hi(bLo, bHi);
  if (bHi < 0) sub128hi(aLo, aHi);
}

/** (prod.p3:prod.p2) -= (xHi:xLo) modulo 2^64. */
function sub128hi(xLo: number, xHi: number): void {
  const s = (prod.p2 >>> 0) - (xLo >>> 0);
  prod.p2 = s | 0;
  prod.p3 = (prod.p3 - xHi - (s < 0 ? 1 : 0)) | 0;
}

/**
 * Unsigned 128/64 division of (n3:n2:n1:n0) by (dHi:dLo) != 0. Returns false (and changes
 * nothing the caller sees) when the quotient does not fit in 64 bits; otherwise leaves the
 * quotient in quot.q1:quot.q0 and the remainder in quot.r1:quot.r0.
 */
export function divu128(n0: number, n1: number, n2: number, n3: number, dLo: number, dHi: number): boolean {
  // The quotient fits in 64 bits iff the dividend's upper half is below the divisor.
  const n3u = n3 >>> 0, dHu = dHi >>> 0;
  if (n3u > dHu || (n3u === dHu && (n2 >>> 0) >= (dLo >>> 0))) return false;
  if (dHi === 0) {
    const d = dLo >>> 0;
    // n3 === 0 and n2 < d here.
    if (n2 === 0 && (n1 >>> 0) < 0x200000) {
      // Dividend below 2^53: one exact double division (floor(n/d) is exact for n, d < 2^53).
      const n = (n1 >>> 0) * TWO32 + (n0 >>> 0);
      const q = Math.floor(n / d);
      const r = n - q * d;
      quot.q0 = q | 0;
      quot.q1 = Math.floor(q / TWO32) | 0;
      quot.r0 = r | 0;
      quot.r1 = 0;
      return true;
    }
    // Long division by a 32-bit divisor, 16 bits at a time: r < d keeps r*2^16 + limb < 2^48.
    let r = n2 >>> 0;
    let cur = r * 65536 + (n1 >>> 16);
    const a = Math.floor(cur / d); r = cur - a * d;
    cur = r * 65536 + (n1 & 0xffff);
    const b = Math.floor(cur / d); r = cur - b * d;
    cur = r * 65536 + (n0 >>> 16);
    const e = Math.floor(cur / d); r = cur - e * d;
    cur = r * 65536 + (n0 & 0xffff);
    const f = Math.floor(cur / d); r = cur - f * d;
    quot.q0 = (e << 16) | f;
    quot.q1 = (a << 16) | b;
    quot.r0 = r | 0;
    quot.r1 = 0;
    return true;
  }
  if ((n3 | n2) === 0 && (n1 >>> 0) < 0x200000 && dHu < 0x200000) {
    // Dividend and divisor below 2^53 (the divisor is >= 2^32, so the quotient is < 2^21).
    const n = (n1 >>> 0) * TWO32 + (n0 >>> 0);
    const dv = dHu * TWO32 + (dLo >>> 0);
    const q = Math.floor(n / dv);
    const r = n - q * dv;
    quot.q0 = q | 0;
    quot.q1 = 0;
    quot.r0 = r | 0;
    quot.r1 = Math.floor(r / TWO32) | 0;
    return true;
  }
  knuth(n0, n1, n2, n3, dLo, dHi);
  return true;
}

/**
 * Knuth's algorithm D in base 2^16 for a divisor of 3 or 4 limbs (dHi !== 0). Every product is a
 * 16x16-bit value and every estimate numerator is below 2^32, so the doubles are exact.
 * The caller guarantees a quotient below 2^64; results go to `quot` as for divu128.
 */
export function knuth(n0: number, n1: number, n2: number, n3: number, dLo: number, dHi: number): void {
  const n = (dHi >>> 16) !== 0 ? 4 : 3;
  const top = n === 4 ? dHi >>> 16 : dHi & 0xffff;
  const s = Math.clz32(top) - 16; // normalising shift, 0..15
  const rs = 32 - s;
  const dl = dLo << s;
  const dh = s === 0 ? dHi : (dHi << s) | (dLo >>> rs);
  V[0] = dl & 0xffff; V[1] = dl >>> 16; V[2] = dh & 0xffff; V[3] = dh >>> 16;
  const u0 = n0 << s;
  const u1 = s === 0 ? n1 : (n1 << s) | (n0 >>> rs);
  const u2 = s === 0 ? n2 : (n2 << s) | (n1 >>> rs);
  const u3 = s === 0 ? n3 : (n3 << s) | (n2 >>> rs);
  U[0] = u0 & 0xffff; U[1] = u0 >>> 16; U[2] = u1 & 0xffff; U[3] = u1 >>> 16;
  U[4] = u2 & 0xffff; U[5] = u2 >>> 16; U[6] = u3 & 0xffff; U[7] = u3 >>> 16;
  U[8] = s === 0 ? 0 : n3 >>> rs;
  const vTop = V[n - 1], vNext = V[n - 2];
  for (let j = 8 - n; j >= 0; j--) {
    const num = U[j + n] * 65536 + U[j + n - 1];
    let qhat = Math.floor(num / vTop);
    let rhat = num - qhat * vTop;
    while (qhat >= 65536 || qhat * vNext > rhat * 65536 + U[j + n - 2]) {
      qhat--;
      rhat += vTop;
      if (rhat >= 65536) break;
    }
    // Multiply and subtract qhat * V from U[j .. j+n].
    let k = 0, t = 0;
    for (let i = 0; i < n; i++) {
      const p = qhat * V[i]; // < 2^32
      t = U[i + j] - k - (p & 0xffff);
      U[i + j] = t & 0xffff;
      k = (p >>> 16) - (t >> 16);
    }
    t = U[j + n] - k;
    U[j + n] = t & 0xffff;
    if (t < 0) {
      // qhat was one too large (rare): add the divisor back.
      qhat--;
      let cy = 0;
      for (let i = 0; i < n; i++) {
        t = U[i + j] + V[i] + cy;
        U[i + j] = t & 0xffff;
        cy = t >>> 16;
      }
      U[j + n] = (U[j + n] + cy) & 0xffff;
    }
    Q[j] = qhat;
  }
  // The quotient is below 2^64 (checked by the caller): digits 4 and up are zero.
  quot.q0 = Q[0] | (Q[1] << 16);
  quot.q1 = Q[2] | (Q[3] << 16);
  const rl = U[0] | (U[1] << 16);
  const rh = U[2] | (U[3] << 16);
  quot.r0 = s === 0 ? rl : (rl >>> s) | (rh << rs);
  quot.r1 = (rh >>> s) | 0;
}

/**
 * Unsigned (hi:lo) / dv with hi < dv < 2^32 (all non-negative numbers): returns the quotient
 * (a non-negative number below 2^32) and leaves the remainder's bit pattern in quot.r0.
 */
export function div64by32(hi: number, lo: number, dv: number): number {
  if (hi < 0x200000) {
    const n = hi * TWO32 + lo; // < 2^53: exact
    const q = Math.floor(n / dv);
    quot.r0 = (n - q * dv) | 0;
    return q;
  }
  let cur = hi * 65536 + (lo >>> 16); // < 2^48
  const a = Math.floor(cur / dv);
  cur = (cur - a * dv) * 65536 + (lo & 0xffff);
  const b = Math.floor(cur / dv);
  quot.r0 = (cur - b * dv) | 0;
  return a * 65536 + b;
}

/** Test hooks: the limb arithmetic as plain functions (tests compare them with BigInt). */
export const limbs = {
  mulu64(aLo: number, aHi: number, bLo: number, bHi: number): [number, number, number, number] {
    mulu64(aLo, aHi, bLo, bHi);
    return [prod.p0, prod.p1, prod.p2, prod.p3];
  },
  muls64(aLo: number, aHi: number, bLo: number, bHi: number): [number, number, number, number] {
    muls64(aLo, aHi, bLo, bHi);
    return [prod.p0, prod.p1, prod.p2, prod.p3];
  },
  divu128(n0: number, n1: number, n2: number, n3: number, dLo: number, dHi: number): [number, number, number, number] | null {
    return divu128(n0, n1, n2, n3, dLo, dHi) ? [quot.q0, quot.q1, quot.r0, quot.r1] : null;
  },
  knuth(n0: number, n1: number, n2: number, n3: number, dLo: number, dHi: number): [number, number, number, number] {
    knuth(n0, n1, n2, n3, dLo, dHi);
    return [quot.q0, quot.q1, quot.r0, quot.r1];
  },
};
