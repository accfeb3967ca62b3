/**
 * Sign extension of the accumulator: CBW/CWDE/CDQE, CWD/CDQ/CQO (SDM vol. 2A); SETcc and CMOVcc
 * (SDM vol. 2B SETcc, vol. 2A CMOVcc; conditions as in vol. 1 appendix B); XLAT/XLATB (vol. 2B).
 * None of them changes a flag.
 */
import { ConditionCode, Mnemonic, OpKind } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import type { Op } from '../operands';
import { operandReader, operandReader64, operandWriter, segmented } from '../operands';
import type { TranslatorTable } from '../translator';
import { ccNibble, conditionTest } from './branch';

const TWO32 = 4294967296;
const RAX = 0;
const RDX = 2;
const RBX = 3;

// ---- CBW / CWDE / CDQE, CWD / CDQ / CQO --------------------------------------------------------

const cbw: Op = (c) => { c.lo[RAX] = (c.lo[RAX] & ~0xffff) | (((c.lo[RAX] << 24) >> 24) & 0xffff); };
const cwde: Op = (c) => { c.lo[RAX] = (c.lo[RAX] << 16) >> 16; c.hi[RAX] = 0; };
const cdqe: Op = (c) => { c.hi[RAX] = c.lo[RAX] >> 31; };
const cwd: Op = (c) => { c.lo[RDX] = (c.lo[RDX] & ~0xffff) | (((c.lo[RAX] << 16) >> 31) & 0xffff); };
const cdq: Op = (c) => { c.lo[RDX] = c.lo[RAX] >> 31; c.hi[RDX] = 0; };
const cqo: Op = (c) => { const s = c.hi[RAX] >> 31; c.lo[RDX] = s; c.hi[RDX] = s; };

// ---- conditions by mnemonic --------------------------------------------------------------------

const CC = [
  ConditionCode.o, ConditionCode.no, ConditionCode.b, ConditionCode.ae, ConditionCode.e, ConditionCode.ne,
  ConditionCode.be, ConditionCode.a, ConditionCode.s, ConditionCode.ns, ConditionCode.p, ConditionCode.np,
  ConditionCode.l, ConditionCode.ge, ConditionCode.le, ConditionCode.g,
];
const SETCC = [
  Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete, Mnemonic.Setne,
  Mnemonic.Setbe, Mnemonic.Seta, Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp,
  Mnemonic.Setl, Mnemonic.Setge, Mnemonic.Setle, Mnemonic.Setg,
];
const CMOVCC = [
  Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb, Mnemonic.Cmovae, Mnemonic.Cmove, Mnemonic.Cmovne,
  Mnemonic.Cmovbe, Mnemonic.Cmova, Mnemonic.Cmovs, Mnemonic.Cmovns, Mnemonic.Cmovp, Mnemonic.Cmovnp,
  Mnemonic.Cmovl, Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg,
];

/** SETcc r/m8: the byte is 1 if the condition holds, else 0. */
function setcc(cc: number) {
  return (d: DecodedInsn): Op => {
    const test = conditionTest(cc);
    const g = d.opKinds[0] === OpKind.Register ? gprOf(d.opRegs[0]) : null;
    if (g !== null) {
      const r = g.index;
      if (g.high8) return (c) => { c.lo[r] = (c.lo[r] & ~0xff00) | (test(c) ? 0x100 : 0); };
      return (c) => { c.lo[r] = (c.lo[r] & ~0xff) | (test(c) ? 1 : 0); };
    }
    const wr = operandWriter(d, 0, 1);
    return (c) => wr(c, test(c) ? 1 : 0);
  };
}

/**
 * CMOVcc r, r/m (SDM vol. 2A CMOVcc): the source is read (and may fault) whatever the condition;
 * a 32-bit destination is zero-extended even when the condition is false (vol. 1 §3.4.1.1: the
 * 32-bit operand-size form always writes its destination register).
 */
function cmovcc(cc: number) {
  return (d: DecodedInsn): Op => {
    const test = conditionTest(cc);
    const size = d.opSizes[0];
    const r = gprOf(d.opRegs[0])!.index;
    const srcReg = d.opKinds[1] === OpKind.Register ? gprOf(d.opRegs[1])!.index : -1;
    if (size === 8) {
      if (srcReg >= 0) {
        const s = srcReg;
        return (c) => { if (test(c)) { c.lo[r] = c.lo[s]; c.hi[r] = c.hi[s]; } };
      }
      const rd = operandReader64(d, 1);
      return (c) => {
        const lo = rd(c), hi = c.vHi;
        if (test(c)) { c.lo[r] = lo; c.hi[r] = hi; }
      };
    }
    if (size === 4) {
      if (srcReg >= 0) {
        const s = srcReg;
        return (c) => { if (test(c)) c.lo[r] = c.lo[s]; c.hi[r] = 0; };
      }
      const rd = operandReader(d, 1, 4);
      return (c) => {
        const v = rd(c);
        if (test(c)) c.lo[r] = v;
        c.hi[r] = 0;
      };
    }
    const rd = operandReader(d, 1, 2);
    return (c) => {
      const v = rd(c);
      if (test(c)) c.lo[r] = (c.lo[r] & ~0xffff) | v;
    };
  };
}

/**
 * XLAT/XLATB (SDM vol. 2B XLAT): AL = [seg:rBX + ZeroExtend(AL)], the sum wrapped to the address
 * size (BX, EBX or RBX), DS unless overridden.
 */
function xlat(d: DecodedInsn): Op {
  const m = d.mem!;
  const addrSize = m.addrSize;
  const off = addrSize === 8
    ? (c: Cpu): number => {
      const s = (c.lo[RBX] >>> 0) + (c.lo[RAX] & 0xff);
      c.linHi = (c.hi[RBX] + (s >= TWO32 ? 1 : 0)) | 0;
      return s | 0;
    }
    : addrSize === 4
      ? (c: Cpu): number => { c.linHi = 0; return (c.lo[RBX] + (c.lo[RAX] & 0xff)) | 0; }
      : (c: Cpu): number => { c.linHi = 0; return (c.lo[RBX] + (c.lo[RAX] & 0xff)) & 0xffff; };
  const addr = segmented(d.bitness, m.seg, 1, off);
  return (c) => {
    const v = c.read8(addr(c), c.linHi);
    c.lo[RAX] = (c.lo[RAX] & ~0xff) | v;
  };
}

export const convertHandlers: TranslatorTable = {
  [Mnemonic.Cbw]: () => cbw,
  [Mnemonic.Cwde]: () => cwde,
  [Mnemonic.Cdqe]: () => cdqe,
  [Mnemonic.Cwd]: () => cwd,
  [Mnemonic.Cdq]: () => cdq,
  [Mnemonic.Cqo]: () => cqo,
  [Mnemonic.Xlatb]: xlat,
};
for (let i = 0; i < 16; i++) {
  const cc = ccNibble(CC[i]);
  convertHandlers[SETCC[i]] = setcc(cc);
  convertHandlers[CMOVCC[i]] = cmovcc(cc);
}
