/** Near jumps and conditional jumps (SDM vol. 2A, Jcc and JMP). */
import { Mnemonic, ConditionCode } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import type { Op } from '../operands';
import type { TranslatorTable } from '../translator';
import { condition } from './arith';

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
    default: return (c) => condition(c, cc);
  }
}

/**
 * Set RIP to the branch target, truncated to the operand size outside 64-bit mode (iced gives
 * the already-truncated target), and check it against CS's limit outside 64-bit mode.
 */
function jcc(d: DecodedInsn): Op {
  const test = conditionTest(ccNibble(conditionCodeOf(d)));
  const tLo = d.targetLo, tHi = d.bitness === 64 ? d.targetHi : 0;
  const nLo = d.nextLo, nHi = d.nextHi;
  return (c) => {
    if (test(c)) { c.ripLo = tLo; c.ripHi = tHi; } else { c.ripLo = nLo; c.ripHi = nHi; }
  };
}

function jmp(d: DecodedInsn): Op | null {
  if (d.targetLo === 0 && d.targetHi === 0 && !isNearRel(d)) return null;
  const tLo = d.targetLo, tHi = d.bitness === 64 ? d.targetHi : 0;
  return (c) => { c.ripLo = tLo; c.ripHi = tHi; };
}

function isNearRel(d: DecodedInsn): boolean {
  const k = d.opKinds[0];
  return k === 1 || k === 2 || k === 3; // NearBranch16/32/64
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
