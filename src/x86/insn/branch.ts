/** Near jumps and conditional jumps (SDM vol. 2A, Jcc and JMP). */
import { Code, Mnemonic, ConditionCode } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { gp0 } from '../exceptions';
import type { Op } from '../operands';
import { Seg } from '../registers';
import type { TranslatorTable } from '../translator';
import { condition } from './arith';
import { PARITY } from '../state';
import { canonicalHi, canonicalNow, farJmp, jumpIndirect, jumpToConstant } from './control';

/** Map iced's ConditionCode to the opcode's low nibble (o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g). */
export function ccNibble(cc: ConditionCode): number {
  switch (cc) {
    case ConditionCode.o: return 0;
    case ConditionCode.no: return 1;
    case ConditionCode.b: return 2;
    case ConditionCode.ae: return 3;
    case ConditionCode.e: return 4;
    case ConditionCode.ne: return 5;
    case ConditionCode.be: return 6;
    case ConditionCode.a: return 7;
    case ConditionCode.s: return 8;
    case ConditionCode.ns: return 9;
    case ConditionCode.p: return 10;
    case ConditionCode.np: return 11;
    case ConditionCode.l: return 12;
    case ConditionCode.ge: return 13;
    case ConditionCode.le: return 14;
    case ConditionCode.g: return 15;
    default: throw new Error(`internal: no condition code ${cc}`);
  }
}

/** The condition of opcode nibble `cc` as a specialised test. */
export function conditionTest(cc: number): (c: Cpu) => boolean {
  switch (cc) {
    case 2: return (c) => c.fCO < 0;
    case 3: return (c) => c.fCO >= 0;
    case 4: return (c) => c.fRes === 0;
    case 5: return (c) => c.fRes !== 0;
    case 6: return (c) => c.fCO < 0 || c.fRes === 0;
    case 7: return (c) => c.fCO >= 0 && c.fRes !== 0;
    case 8: return (c) => c.fSgn < 0;
    case 9: return (c) => c.fSgn >= 0;
    // OF = fCO bit 31 ^ bit 30, so (fCO ^ fCO << 1) < 0 is OF; SF ^ OF is the sign of fSgn ^ that.
    case 0: return (c) => (c.fCO ^ (c.fCO << 1)) < 0;
    case 1: return (c) => (c.fCO ^ (c.fCO << 1)) >= 0;
    case 10: return (c) => PARITY[c.fPar & 0xff] === 1;
    case 11: return (c) => PARITY[c.fPar & 0xff] === 0;
    case 12: return (c) => (c.fSgn ^ c.fCO ^ (c.fCO << 1)) < 0;
    case 13: return (c) => (c.fSgn ^ c.fCO ^ (c.fCO << 1)) >= 0;
    case 14: return (c) => c.fRes === 0 || (c.fSgn ^ c.fCO ^ (c.fCO << 1)) < 0;
    case 15: return (c) => c.fRes !== 0 && (c.fSgn ^ c.fCO ^ (c.fCO << 1)) >= 0;
    default: return (c) => condition(c, cc);
  }
}

/**
 * Jcc (SDM vol. 2A Jcc): RIP becomes the target (iced gives it already truncated to the operand
 * size) when the condition holds. A taken branch to a target beyond CS.limit (outside 64-bit
 * mode) or to a non-canonical target (64-bit mode) raises #GP(0) with RIP at the Jcc.
 */
function jcc(d: DecodedInsn): Op {
  const test = conditionTest(ccNibble(conditionCodeOf(d)));
  const tLo = d.targetLo;
  const nLo = d.nextLo, nHi = d.nextHi;
  if (d.bitness === 64) {
    const tHi = d.targetHi;
    if (!canonicalHi(tHi)) {
      return (c) => {
        if (test(c)) {
          if (!canonicalNow(c, tHi)) throw gp0('branch target not canonical');
          c.ripLo = tLo; c.ripHi = tHi;
        } else {
          c.ripLo = nLo; c.ripHi = nHi;
        }
      };
    }
    return (c) => {
      if (test(c)) { c.ripLo = tLo; c.ripHi = tHi; } else { c.ripLo = nLo; c.ripHi = nHi; }
    };
  }
  const t = tLo >>> 0;
  return (c) => {
    if (test(c)) {
      if (t > c.segLimit[Seg.CS]) throw gp0('branch target outside the code segment limit');
      c.ripLo = tLo; c.ripHi = 0;
    } else {
      c.ripLo = nLo; c.ripHi = nHi;
    }
  };
}

/** JMP (SDM vol. 2A JMP): near relative, near indirect, and the real-mode far forms. */
function jmp(d: DecodedInsn): Op | null {
  switch (d.code) {
    case Code.Jmp_rel8_16: case Code.Jmp_rel8_32: case Code.Jmp_rel8_64:
    case Code.Jmp_rel16: case Code.Jmp_rel32_32: case Code.Jmp_rel32_64:
      return jumpToConstant(d);
    case Code.Jmp_rm16: case Code.Jmp_rm32: case Code.Jmp_rm64:
      return jumpIndirect(d);
    case Code.Jmp_ptr1616: case Code.Jmp_ptr1632: case Code.Jmp_m1616: case Code.Jmp_m1632:
    case Code.Jmp_m1664:
      return farJmp(d);
    default:
      return null;
  }
}

const CC_BY_MNEMONIC = new Map<Mnemonic, ConditionCode>([
  [Mnemonic.Jo, ConditionCode.o], [Mnemonic.Jno, ConditionCode.no], [Mnemonic.Jb, ConditionCode.b],
  [Mnemonic.Jae, ConditionCode.ae], [Mnemonic.Je, ConditionCode.e], [Mnemonic.Jne, ConditionCode.ne],
  [Mnemonic.Jbe, ConditionCode.be], [Mnemonic.Ja, ConditionCode.a], [Mnemonic.Js, ConditionCode.s],
  [Mnemonic.Jns, ConditionCode.ns], [Mnemonic.Jp, ConditionCode.p], [Mnemonic.Jnp, ConditionCode.np],
  [Mnemonic.Jl, ConditionCode.l], [Mnemonic.Jge, ConditionCode.ge], [Mnemonic.Jle, ConditionCode.le],
  [Mnemonic.Jg, ConditionCode.g],
]);

function conditionCodeOf(d: DecodedInsn): ConditionCode {
  return CC_BY_MNEMONIC.get(d.mnemonic)!;
}

export const branchHandlers: TranslatorTable = {
  [Mnemonic.Jmp]: jmp,
};
for (const m of CC_BY_MNEMONIC.keys()) branchHandlers[m] = jcc;
