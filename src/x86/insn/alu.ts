/**
 * Two-operand integer arithmetic and logic: ADD, ADC, SUB, SBB, CMP, AND, OR, XOR, TEST,
 * and the one-operand INC, DEC, NEG, NOT (SDM vol. 2 instruction pages).
 */
import { Mnemonic, OpKind } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import type { Op } from '../operands';
import { operandReader, operandReader64, operandRmw } from '../operands';
import type { TranslatorTable } from '../translator';
import * as A from './arith';

type Narrow = (c: Cpu, a: number, b: number, size: number) => number;
type Wide = (c: Cpu, aLo: number, aHi: number, bLo: number, bHi: number) => number;

/** dst = op(dst, src) (or flags only when `store` is false). */
function binary(d: DecodedInsn, f: Narrow, f64: Wide, store: boolean): Op {
  const size = d.opSizes[0];
  const dst = gprOf(d.opRegs[0]);
  const srcKind = d.opKinds[1];
  if (size === 8) {
    // Fast forms: register destination with a register or immediate source.
    if (d.opKinds[0] === OpKind.Register && dst !== null) {
      const r = dst.index;
      if (srcKind === OpKind.Register) {
        const s = gprOf(d.opRegs[1])!.index;
        return store
          ? (c) => { c.lo[r] = f64(c, c.lo[r], c.hi[r], c.lo[s], c.hi[s]); c.hi[r] = c.vHi; }
          : (c) => { f64(c, c.lo[r], c.hi[r], c.lo[s], c.hi[s]); };
      }
      if (srcKind !== OpKind.Memory) {
        const iLo = d.immLo, iHi = d.immHi;
        return store
          ? (c) => { c.lo[r] = f64(c, c.lo[r], c.hi[r], iLo, iHi); c.hi[r] = c.vHi; }
          : (c) => { f64(c, c.lo[r], c.hi[r], iLo, iHi); };
      }
    }
    const src = operandReader64(d, 1);
    const m = operandRmw(d, 0, 8);
    if (!store) {
      // Read-only destination: a plain read (CMP/TEST on a read-only page must not fault).
      const rd = operandReader64(d, 0);
      return (c) => {
        const bLo = src(c), bHi = c.vHi;
        const aLo = rd(c);
        f64(c, aLo, c.vHi, bLo, bHi);
      };
    }
    return (c) => {
      const bLo = src(c), bHi = c.vHi;
      const aLo = m.begin(c);
      const lo = f64(c, aLo, c.vHi, bLo, bHi);
      m.end64(c, lo, c.vHi);
    };
  }
  if (d.opKinds[0] === OpKind.Register && dst !== null && !dst.high8 && size === 4) {
    const r = dst.index;
    if (srcKind === OpKind.Register) {
      const s = gprOf(d.opRegs[1])!;
      if (!s.high8) {
        const si = s.index;
        return store
          ? (c) => { c.lo[r] = f(c, c.lo[r], c.lo[si], 4); c.hi[r] = 0; }
          : (c) => { f(c, c.lo[r], c.lo[si], 4); };
      }
    } else if (srcKind !== OpKind.Memory) {
      const imm = d.immLo | 0;
      return store
        ? (c) => { c.lo[r] = f(c, c.lo[r], imm, 4); c.hi[r] = 0; }
        : (c) => { f(c, c.lo[r], imm, 4); };
    }
  }
  const src = operandReader(d, 1, size);
  if (!store) {
    const rd = operandReader(d, 0, size);
    return (c) => {
      const b = src(c);
      f(c, rd(c), b, size);
    };
  }
  const m = operandRmw(d, 0, size);
  return (c) => {
    const b = src(c);
    m.end(c, f(c, m.begin(c), b, size));
  };
}

function unary(d: DecodedInsn, f: (c: Cpu, a: number, size: number) => number,
  f64: (c: Cpu, lo: number, hi: number) => number): Op {
  const size = d.opSizes[0];
  const m = operandRmw(d, 0, size);
  if (size === 8) {
    const g = d.opKinds[0] === OpKind.Register ? gprOf(d.opRegs[0]) : null;
    if (g !== null) {
      const r = g.index;
      return (c) => { c.lo[r] = f64(c, c.lo[r], c.hi[r]); c.hi[r] = c.vHi; };
    }
    return (c) => {
      const lo = m.begin(c);
      const r = f64(c, lo, c.vHi);
      m.end64(c, r, c.vHi);
    };
  }
  return (c) => m.end(c, f(c, m.begin(c), size));
}

const neg = (c: Cpu, a: number, size: number): number => A.sub(c, 0, a, size);
const neg64 = (c: Cpu, lo: number, hi: number): number => A.sub64(c, 0, 0, lo, hi);
const not = (_c: Cpu, a: number): number => ~a;
const not64 = (c: Cpu, lo: number, hi: number): number => { c.vHi = ~hi; return ~lo; };

export const aluHandlers: TranslatorTable = {
  [Mnemonic.Add]: (d) => binary(d, A.add, A.add64, true),
  [Mnemonic.Adc]: (d) => binary(d, A.adc, A.adc64, true),
  [Mnemonic.Sub]: (d) => binary(d, A.sub, A.sub64, true),
  [Mnemonic.Sbb]: (d) => binary(d, A.sbb, A.sbb64, true),
  [Mnemonic.Cmp]: (d) => binary(d, A.sub, A.sub64, false),
  [Mnemonic.And]: (d) => binary(d, A.and, A.and64, true),
  [Mnemonic.Or]: (d) => binary(d, A.or, A.or64, true),
  [Mnemonic.Xor]: (d) => binary(d, A.xor, A.xor64, true),
  [Mnemonic.Test]: (d) => binary(d, A.and, A.and64, false),
  [Mnemonic.Inc]: (d) => unary(d, A.inc, A.inc64),
  [Mnemonic.Dec]: (d) => unary(d, A.dec, A.dec64),
  [Mnemonic.Neg]: (d) => unary(d, neg, neg64),
  [Mnemonic.Not]: (d) => unary(d, not, not64),
};
