/**
 * MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV (SDM vol. 2A/2B instruction pages).
 *
 * 64-bit forms use 64x64->128 multiplication and 128/64 division on 16/32-bit limbs
 * (src/x86/wideMath.ts: Math.imul partial products and Knuth's algorithm D). No BigInt and no
 * allocation per executed instruction: the wide results come back through wideMath's scratch
 * objects `prod` and `quot`.
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
import * as wideMath from '../wideMath';

// Module-local bindings of the helpers the ops call. Under tsx (tests, conformance) each file is
// CommonJS and every use of an imported name goes through a getter on the other module's exports
// object, which made MUL/DIV-heavy code ~1.6x slower; in the esbuild bundle this costs nothing.
const { div64by32, divu128, mulhs, mulhu, mulu64, muls64, prod, quot } = wideMath;

const TWO32 = 4294967296;
const RAX = 0;
const RDX = 2;

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
      const p0 = prod.p0, p1 = prod.p1, p2 = prod.p2, p3 = prod.p3;
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
      const p0 = prod.p0, p1 = prod.p1, p2 = prod.p2, p3 = prod.p3;
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
      c.lo[RAX] = quot.q0; c.hi[RAX] = quot.q1; c.lo[RDX] = quot.r0; c.hi[RDX] = quot.r1;
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
      c.lo[RAX] = q | 0; c.hi[RAX] = 0; c.lo[RDX] = quot.r0; c.hi[RDX] = 0;
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
      let qLo = quot.q0, qHi = quot.q1;
      if (negN !== negD) {
        // Magnitude up to 2^63.
        if ((qHi >>> 0) > 0x80000000 || (qHi === (0x80000000 | 0) && qLo !== 0)) throw de('quotient too large');
        qLo = (-qLo) | 0;
        qHi = (qLo === 0 ? -qHi : ~qHi) | 0;
      } else if (qHi < 0) {
        throw de('quotient too large');
      }
      let rLo = quot.r0, rHi = quot.r1;
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
      let r = quot.r0;
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
