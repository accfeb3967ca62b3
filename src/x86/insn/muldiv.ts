/**
 * MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV (SDM vol. 2A/2B instruction pages).
 *
 * 64-bit forms use 64x64->128 multiplication and 128/64 division built from 16/32-bit limbs:
 * 16x16-bit partial products with Math.imul (see `mulhu`) and exact double sums, and
 * Knuth's algorithm D (TAOCP vol. 2 §4.3.1) in base 2^16 for the general division. No BigInt and
 * no allocation per executed instruction: results go through module-level scratch variables.
 *
 * Flags. MUL/IMUL: CF = OF = "the upper half is significant" (SDM). SF, ZF, AF, PF are undefined;
 * we match what Intel silicon produces (measured on a family 6 model 0xA7 core): SF = sign of the
 * low half of the result (AL/AX/EAX/RAX or the two/three-operand destination), PF = parity of its
 * low byte, ZF = 0, AF = 0. DIV/IDIV: all six are undefined; the same core leaves them unchanged,
 * and so do we. #DE (divide error) is raised before anything changes, for a zero divisor and for
 * a quotient that does not fit the destination (SDM vol. 2A DIV/IDIV operation).
 */
import { Mnemonic, OpKind } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import { de } from '../exceptions';
import type { Op } from '../operands';
import { operandReader, operandReader64 } from '../operands';
import type { TranslatorTable } from '../translator';

const TWO32 = 4294967296;
const RAX = 0;
const RDX = 2;

// ---- limb arithmetic (exported for tests) --------------------------------------------------

/**
 * High half (int32 bit pattern) of the unsigned 32x32 -> 64 product of the bit patterns of
 * `a` and `b`, from four 16x16-bit partial products (each exact in Math.imul's 32 bits).
 * The low half is Math.imul(a, b).
 */
function mulhu(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const lh = Math.imul(a0, b1), hl = Math.imul(a1, b0);
  const mid = (Math.imul(a0, b0) >>> 16) + (lh & 0xffff) + (hl & 0xffff); // < 3 * 2^16
  return (Math.imul(a1, b1) + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}

/** High half of the signed 32x32 -> 64 product: the unsigned one corrected for negative factors. */
function mulhs(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}

/** 128-bit product limbs (int32, little-endian) of the last mulu64/muls64. */
let p0 = 0, p1 = 0, p2 = 0, p3 = 0;

function mulu64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  // a*b = aHi*bHi*2^64 + (aHi*bLo + aLo*bHi)*2^32 + aLo*bLo; column sums stay below 2^34.
  const lhL = Math.imul(aLo, bHi), hlL = Math.imul(aHi, bLo);
  p0 = Math.imul(aLo, bLo);
  let s = (mulhu(aLo, bLo) >>> 0) + (lhL >>> 0) + (hlL >>> 0);
  p1 = s | 0;
  let carry = s >= TWO32 ? (s >= 2 * TWO32 ? 2 : 1) : 0;
  s = (mulhu(aLo, bHi) >>> 0) + (mulhu(aHi, bLo) >>> 0) + (Math.imul(aHi, bHi) >>> 0) + carry;
  p2 = s | 0;
  carry = s >= TWO32 ? (s >= 2 * TWO32 ? 2 : 1) : 0;
  p3 = (mulhu(aHi, bHi) + carry) | 0;
}

/** Signed 64x64 -> 128: the unsigned product minus b*2^64 if a < 0 and minus a*2^64 if b < 0. */
function muls64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulu64(aLo, aHi, bLo, bHi);
  if (aHi < 0) sub128hi(bLo, bHi);
  if (bHi < 0) sub128hi(aLo, aHi);
}

/** (p3:p2) -= (xHi:xLo) modulo 2^64. */
function sub128hi(xLo: number, xHi: number): void {
  const s = (p2 >>> 0) - (xLo >>> 0);
  p2 = s | 0;
  p3 = (p3 - xHi - (s < 0 ? 1 : 0)) | 0;
}

/** Quotient and remainder (int32 halves) of the last successful divu128. */
let q0 = 0, q1 = 0, r0 = 0, r1 = 0;

// Knuth algorithm D scratch: normalised dividend (9 limbs), divisor (4 limbs), quotient digits.
const U = new Int32Array(9);
const V = new Int32Array(4);
const Q = new Int32Array(8);

/**
 * Unsigned 128/64 division of (n3:n2:n1:n0) by (dHi:dLo) != 0. Returns false (and changes
 * nothing the caller sees) when the quotient does not fit in 64 bits; otherwise leaves the
 * quotient in q1:q0 and the remainder in r1:r0.
 */
function divu128(n0: number, n1: number, n2: number, n3: number, dLo: number, dHi: number): boolean {
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
      q0 = q | 0;
      q1 = Math.floor(q / TWO32) | 0;
      r0 = r | 0;
      r1 = 0;
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
    q1 = (a << 16) | b;
    q0 = (e << 16) | f;
    r0 = r | 0;
    r1 = 0;
    return true;
  }
  if ((n3 | n2) === 0 && (n1 >>> 0) < 0x200000 && dHu < 0x200000) {
    // Dividend and divisor below 2^53 (the divisor is >= 2^32, so the quotient is < 2^21).
    const n = (n1 >>> 0) * TWO32 + (n0 >>> 0);
    const dv = dHu * TWO32 + (dLo >>> 0);
    const q = Math.floor(n / dv);
    const r = n - q * dv;
    q0 = q | 0;
    q1 = 0;
    r0 = r | 0;
    r1 = Math.floor(r / TWO32) | 0;
    return true;
  }
  knuth(n0, n1, n2, n3, dLo, dHi);
  return true;
}

/**
 * Knuth's algorithm D in base 2^16 for a divisor of 3 or 4 limbs (dHi !== 0). Every product is a
 * 16x16-bit value and every estimate numerator is below 2^32, so the doubles are exact.
 */
function knuth(n0: number, n1: number, n2: number, n3: number, dLo: number, dHi: number): void {
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
  q0 = Q[0] | (Q[1] << 16);
  q1 = Q[2] | (Q[3] << 16);
  const rl = U[0] | (U[1] << 16);
  const rh = U[2] | (U[3] << 16);
  r0 = s === 0 ? rl : (rl >>> s) | (rh << rs);
  r1 = (rh >>> s) | 0;
}

/** Test hooks: the limb arithmetic as plain functions (tests compare them with BigInt). */
export const limbs = {
  mulu64(aLo: number, aHi: number, bLo: number, bHi: number): [number, number, number, number] {
    mulu64(aLo, aHi, bLo, bHi);
    return [p0, p1, p2, p3];
  },
  muls64(aLo: number, aHi: number, bLo: number, bHi: number): [number, number, number, number] {
    muls64(aLo, aHi, bLo, bHi);
    return [p0, p1, p2, p3];
  },
  divu128(n0: number, n1: number, n2: number, n3: number, dLo: number, dHi: number): [number, number, number, number] | null {
    return divu128(n0, n1, n2, n3, dLo, dHi) ? [q0, q1, r0, r1] : null;
  },
  knuth(n0: number, n1: number, n2: number, n3: number, dLo: number, dHi: number): [number, number, number, number] {
    knuth(n0, n1, n2, n3, dLo, dHi);
    return [q0, q1, r0, r1];
  },
};

// ---- flags ---------------------------------------------------------------------------------

/** MUL/IMUL flags: CF = OF = `ovf`; SF = bit 31 of `signed31` (the low half's sign moved there), PF from `low`; ZF = AF = 0. */
function mulFlags(c: Cpu, low: number, signed31: number, ovf: number): void {
  c.fRes = 1;
  c.fSgn = signed31;
  c.fPar = low;
  c.fAux = 0;
  c.fCO = ovf << 31;
}

// ---- translators ---------------------------------------------------------------------------

/** MUL r/m (SDM vol. 2B MUL): AX / DX:AX / EDX:EAX / RDX:RAX = accumulator * src, unsigned. */
function mul(d: DecodedInsn): Op {
  const size = d.opSizes[0];
  if (size === 8) {
    const src = operandReader64(d, 0);
    return (c) => {
      const bLo = src(c), bHi = c.vHi;
      mulu64(c.lo[RAX], c.hi[RAX], bLo, bHi);
      c.lo[RAX] = p0; c.hi[RAX] = p1; c.lo[RDX] = p2; c.hi[RDX] = p3;
      mulFlags(c, p0, p1, (p2 | p3) !== 0 ? 1 : 0);
    };
  }
  const src = operandReader(d, 0, size);
  if (size === 4) {
    return (c) => {
      const a = c.lo[RAX], b = src(c);
      const lo = Math.imul(a, b), hi = mulhu(a, b);
      c.lo[RAX] = lo; c.hi[RAX] = 0; c.lo[RDX] = hi; c.hi[RDX] = 0;
      mulFlags(c, lo, lo, hi !== 0 ? 1 : 0);
    };
  }
  if (size === 2) {
    return (c) => {
      const b = src(c);
      const p = (c.lo[RAX] & 0xffff) * b; // < 2^32
      const lo = p & 0xffff, hi = p >>> 16;
      c.lo[RAX] = (c.lo[RAX] & ~0xffff) | lo;
      c.lo[RDX] = (c.lo[RDX] & ~0xffff) | hi;
      mulFlags(c, lo, lo << 16, hi !== 0 ? 1 : 0);
    };
  }
  return (c) => {
    const b = src(c);
    const p = (c.lo[RAX] & 0xff) * b;
    c.lo[RAX] = (c.lo[RAX] & ~0xffff) | p;
    mulFlags(c, p & 0xff, p << 24, p > 0xff ? 1 : 0);
  };
}

/** IMUL r/m, the one-operand form (SDM vol. 2A IMUL): signed, double-width result. */
function imul1(d: DecodedInsn): Op {
  const size = d.opSizes[0];
  if (size === 8) {
    const src = operandReader64(d, 0);
    return (c) => {
      const bLo = src(c), bHi = c.vHi;
      muls64(c.lo[RAX], c.hi[RAX], bLo, bHi);
      c.lo[RAX] = p0; c.hi[RAX] = p1; c.lo[RDX] = p2; c.hi[RDX] = p3;
      const ext = p1 >> 31;
      mulFlags(c, p0, p1, p2 !== ext || p3 !== ext ? 1 : 0);
    };
  }
  const src = operandReader(d, 0, size);
  if (size === 4) {
    return (c) => {
      const a = c.lo[RAX], b = src(c);
      const lo = Math.imul(a, b), hi = mulhs(a, b);
      c.lo[RAX] = lo; c.hi[RAX] = 0; c.lo[RDX] = hi; c.hi[RDX] = 0;
      mulFlags(c, lo, lo, hi !== lo >> 31 ? 1 : 0);
    };
  }
  if (size === 2) {
    return (c) => {
      const b = src(c);
      const p = ((c.lo[RAX] << 16) >> 16) * ((b << 16) >> 16); // |p| <= 2^30
      c.lo[RAX] = (c.lo[RAX] & ~0xffff) | (p & 0xffff);
      c.lo[RDX] = (c.lo[RDX] & ~0xffff) | ((p >>> 16) & 0xffff);
      mulFlags(c, p & 0xffff, p << 16, ((p << 16) >> 16) !== p ? 1 : 0);
    };
  }
  return (c) => {
    const b = src(c);
    const p = ((c.lo[RAX] << 24) >> 24) * ((b << 24) >> 24);
    c.lo[RAX] = (c.lo[RAX] & ~0xffff) | (p & 0xffff);
    mulFlags(c, p & 0xff, p << 24, ((p << 24) >> 24) !== p ? 1 : 0);
  };
}

/**
 * Whether the signed 64x64 product overflows 64 bits, given the high half `hi` of its low 64 bits.
 * P, the product of the factors as doubles, has a relative error below 2^-51 and the exact sign.
 * If |P| >= 1.8e19 the true product is beyond 2^63 in magnitude: overflow. Otherwise the true
 * product T is below 2^64 in magnitude, and its truncation to 64 bits differs from T exactly when
 * the truncation's sign differs from T's (T in [2^63, 2^64) wraps negative, T in (-2^64, -2^63)
 * wraps positive); T = 0 gives P = 0 and no overflow.
 */
function imul64Overflow(aLo: number, aHi: number, bLo: number, bHi: number, hi: number): number {
  const pd = (aHi * TWO32 + (aLo >>> 0)) * (bHi * TWO32 + (bLo >>> 0));
  if (pd >= 1.8e19 || pd <= -1.8e19) return 1;
  return (hi < 0) !== (pd < 0) && pd !== 0 ? 1 : 0;
}

/**
 * IMUL r, r/m and IMUL r, r/m, imm (SDM vol. 2A IMUL): the destination gets the product
 * truncated to the operand size; CF = OF = the truncated product differs from the full one.
 */
function imulN(d: DecodedInsn): Op {
  const size = d.opSizes[0];
  const r = gprOf(d.opRegs[0])!.index;
  const three = d.opCount === 3;
  // Second factor: operand 1 times (operand 2 for the three-operand form, else the destination).
  if (size === 8) {
    const src = operandReader64(d, 1);
    const iLo = d.immLo, iHi = d.immHi;
    const op = (c: Cpu, aLo: number, aHi: number, bLo: number, bHi: number): void => {
      // The low 64 bits of the product are the same signed or unsigned.
      const lo = Math.imul(aLo, bLo);
      const hi = (mulhu(aLo, bLo) + Math.imul(aLo, bHi) + Math.imul(aHi, bLo)) | 0;
      c.lo[r] = lo; c.hi[r] = hi;
      mulFlags(c, lo, hi, imul64Overflow(aLo, aHi, bLo, bHi, hi));
    };
    if (three) return (c) => { const bLo = src(c); op(c, bLo, c.vHi, iLo, iHi); };
    if (d.opKinds[1] === OpKind.Register) {
      const s = gprOf(d.opRegs[1])!.index;
      return (c) => op(c, c.lo[r], c.hi[r], c.lo[s], c.hi[s]);
    }
    return (c) => { const bLo = src(c); op(c, c.lo[r], c.hi[r], bLo, c.vHi); };
  }
  if (size === 4) {
    const imm = d.immLo | 0;
    if (!three && d.opKinds[1] === OpKind.Register) {
      const s = gprOf(d.opRegs[1])!.index;
      return (c) => {
        const a = c.lo[r], b = c.lo[s];
        const lo = Math.imul(a, b);
        // The double product is exact when it fits in 32 bits and otherwise cannot equal lo.
        c.lo[r] = lo; c.hi[r] = 0;
        mulFlags(c, lo, lo, a * b !== lo ? 1 : 0);
      };
    }
    const src = operandReader(d, 1, 4);
    if (three) {
      return (c) => {
        const a = src(c);
        const lo = Math.imul(a, imm);
        c.lo[r] = lo; c.hi[r] = 0;
        mulFlags(c, lo, lo, a * imm !== lo ? 1 : 0);
      };
    }
    return (c) => {
      const b = src(c), a = c.lo[r];
      const lo = Math.imul(a, b);
      c.lo[r] = lo; c.hi[r] = 0;
      mulFlags(c, lo, lo, a * b !== lo ? 1 : 0);
    };
  }
  // 16-bit: the product of two int16 values is exact.
  const src = operandReader(d, 1, 2);
  const imm = (d.immLo << 16) >> 16;
  const fin = (c: Cpu, p: number): void => {
    const lo = p & 0xffff;
    c.lo[r] = (c.lo[r] & ~0xffff) | lo;
    mulFlags(c, lo, p << 16, ((p << 16) >> 16) !== p ? 1 : 0);
  };
  if (three) return (c) => fin(c, ((src(c) << 16) >> 16) * imm);
  return (c) => { const b = src(c); fin(c, ((c.lo[r] << 16) >> 16) * ((b << 16) >> 16)); };
}

function imul(d: DecodedInsn): Op {
  return d.opCount === 1 ? imul1(d) : imulN(d);
}

/** DIV r/m (SDM vol. 2A DIV): unsigned; quotient to AL/AX/EAX/RAX, remainder to AH/DX/EDX/RDX. */
function div(d: DecodedInsn): Op {
  const size = d.opSizes[0];
  if (size === 8) {
    const src = operandReader64(d, 0);
    return (c) => {
      const dLo = src(c), dHi = c.vHi;
      if ((dLo | dHi) === 0) throw de('divide by zero');
      if (!divu128(c.lo[RAX], c.hi[RAX], c.lo[RDX], c.hi[RDX], dLo, dHi)) throw de('quotient too large');
      c.lo[RAX] = q0; c.hi[RAX] = q1; c.lo[RDX] = r0; c.hi[RDX] = r1;
    };
  }
  const src = operandReader(d, 0, size);
  if (size === 4) {
    return (c) => {
      const dv = src(c) >>> 0;
      if (dv === 0) throw de('divide by zero');
      const hi = c.lo[RDX] >>> 0, lo = c.lo[RAX] >>> 0;
      if (hi >= dv) throw de('quotient too large');
      const q = div64by32(hi, lo, dv);
      c.lo[RAX] = q | 0; c.hi[RAX] = 0; c.lo[RDX] = dr | 0; c.hi[RDX] = 0;
    };
  }
  if (size === 2) {
    return (c) => {
      const dv = src(c);
      if (dv === 0) throw de('divide by zero');
      const n = (((c.lo[RDX] & 0xffff) << 16) | (c.lo[RAX] & 0xffff)) >>> 0;
      const q = Math.floor(n / dv);
      if (q > 0xffff) throw de('quotient too large');
      c.lo[RAX] = (c.lo[RAX] & ~0xffff) | q;
      c.lo[RDX] = (c.lo[RDX] & ~0xffff) | (n - q * dv);
    };
  }
  return (c) => {
    const dv = src(c);
    if (dv === 0) throw de('divide by zero');
    const n = c.lo[RAX] & 0xffff;
    const q = Math.floor(n / dv);
    if (q > 0xff) throw de('quotient too large');
    c.lo[RAX] = (c.lo[RAX] & ~0xffff) | ((n - q * dv) << 8) | q;
  };
}

/** Remainder of the last div64by32. */
let dr = 0;

/** Unsigned (hi:lo) / dv with hi < dv < 2^32 (all non-negative numbers): quotient < 2^32, remainder in `dr`. */
function div64by32(hi: number, lo: number, dv: number): number {
  if (hi < 0x200000) {
    const n = hi * TWO32 + lo; // < 2^53: exact
    const q = Math.floor(n / dv);
    dr = n - q * dv;
    return q;
  }
  let cur = hi * 65536 + (lo >>> 16); // < 2^48
  const a = Math.floor(cur / dv);
  cur = (cur - a * dv) * 65536 + (lo & 0xffff);
  const b = Math.floor(cur / dv);
  dr = cur - b * dv;
  return a * 65536 + b;
}

/** IDIV r/m (SDM vol. 2A IDIV): signed, quotient truncated toward zero, remainder has the dividend's sign. */
function idiv(d: DecodedInsn): Op {
  const size = d.opSizes[0];
  if (size === 8) {
    const src = operandReader64(d, 0);
    return (c) => {
      let dLo = src(c), dHi = c.vHi;
      if ((dLo | dHi) === 0) throw de('divide by zero');
      let n0 = c.lo[RAX], n1 = c.hi[RAX], n2 = c.lo[RDX], n3 = c.hi[RDX];
      const negN = n3 < 0, negD = dHi < 0;
      if (negN) {
        // 128-bit two's complement negation.
        n0 = ~n0; n1 = ~n1; n2 = ~n2; n3 = ~n3;
        n0 = (n0 + 1) | 0;
        if (n0 === 0) { n1 = (n1 + 1) | 0; if (n1 === 0) { n2 = (n2 + 1) | 0; if (n2 === 0) n3 = (n3 + 1) | 0; } }
      }
      if (negD) {
        dLo = (-dLo) | 0;
        dHi = (dLo === 0 ? -dHi : ~dHi) | 0;
      }
      if (!divu128(n0, n1, n2, n3, dLo, dHi)) throw de('quotient too large');
      let qLo = q0, qHi = q1;
      if (negN !== negD) {
        // Magnitude up to 2^63.
        if ((qHi >>> 0) > 0x80000000 || (qHi === (0x80000000 | 0) && qLo !== 0)) throw de('quotient too large');
        qLo = (-qLo) | 0;
        qHi = (qLo === 0 ? -qHi : ~qHi) | 0;
      } else if (qHi < 0) {
        throw de('quotient too large');
      }
      let rLo = r0, rHi = r1;
      if (negN) {
        rLo = (-rLo) | 0;
        rHi = (rLo === 0 ? -rHi : ~rHi) | 0;
      }
      c.lo[RAX] = qLo; c.hi[RAX] = qHi; c.lo[RDX] = rLo; c.hi[RDX] = rHi;
    };
  }
  const src = operandReader(d, 0, size);
  if (size === 4) {
    return (c) => {
      const dv = src(c);
      if (dv === 0) throw de('divide by zero');
      let hi = c.lo[RDX], lo = c.lo[RAX];
      const negN = hi < 0;
      if (negN) {
        lo = (-lo) | 0;
        hi = (lo === 0 ? -hi : ~hi) | 0;
      }
      const hu = hi >>> 0, lu = lo >>> 0, du = Math.abs(dv);
      if (hu >= du) throw de('quotient too large');
      const q = div64by32(hu, lu, du);
      let r = dr;
      let qs: number;
      if (negN !== dv < 0) {
        if (q > 0x80000000) throw de('quotient too large');
        qs = -q;
      } else {
        if (q > 0x7fffffff) throw de('quotient too large');
        qs = q;
      }
      if (negN) r = -r;
      c.lo[RAX] = qs | 0; c.hi[RAX] = 0; c.lo[RDX] = r | 0; c.hi[RDX] = 0;
    };
  }
  if (size === 2) {
    return (c) => {
      const dv = (src(c) << 16) >> 16;
      if (dv === 0) throw de('divide by zero');
      const n = ((c.lo[RDX] & 0xffff) << 16) | (c.lo[RAX] & 0xffff); // int32
      const q = Math.trunc(n / dv); // exact: |n| <= 2^31
      if (q > 0x7fff || q < -0x8000) throw de('quotient too large');
      c.lo[RAX] = (c.lo[RAX] & ~0xffff) | (q & 0xffff);
      c.lo[RDX] = (c.lo[RDX] & ~0xffff) | ((n - q * dv) & 0xffff);
    };
  }
  return (c) => {
    const dv = (src(c) << 24) >> 24;
    if (dv === 0) throw de('divide by zero');
    const n = (c.lo[RAX] << 16) >> 16;
    const q = Math.trunc(n / dv);
    if (q > 0x7f || q < -0x80) throw de('quotient too large');
    c.lo[RAX] = (c.lo[RAX] & ~0xffff) | (((n - q * dv) & 0xff) << 8) | (q & 0xff);
  };
}

export const mulDivHandlers: TranslatorTable = {
  [Mnemonic.Mul]: mul,
  [Mnemonic.Imul]: imul,
  [Mnemonic.Div]: div,
  [Mnemonic.Idiv]: idiv,
};
