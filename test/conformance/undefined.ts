/**
 * What the SDM leaves undefined, so the comparison can ignore it (unless --strict).
 *
 * Flags: iced-x86's instruction info (`rflagsUndefined`) is the base. It is static per
 * instruction, so for shifts and rotates it is replaced by the SDM's count-dependent rules:
 *   - SHL/SAL/SHR/SAR (vol. 2B): masked count 0 -> no flag changes; AF undefined for a non-zero
 *     count; OF undefined unless the count is 1; CF undefined for SHL/SHR when the count is at
 *     least the operand width (8/16-bit operands).
 *   - ROL/ROR/RCL/RCR (vol. 2B "RCL/RCR/ROL/ROR"): masked count 0 -> no flag changes; OF
 *     undefined unless the masked count is 1.
 *   - SHLD/SHRD (vol. 2B): count 0 -> nothing changes; AF undefined; OF undefined unless the
 *     count is 1; a count greater than the operand size (16-bit forms) leaves the result and
 *     every status flag undefined.
 * Results:
 *   - BSF/BSR with a zero source: destination undefined (vol. 2A).
 *   - BSWAP with a 16-bit register: result undefined (vol. 2A).
 */
import { Mnemonic, OpKind } from 'iced-x86';
import type { DecodedInsn } from '../../src/x86/decoded';
import { gprOf } from '../../src/x86/decoded';

export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const STATUS = CF | PF | AF | ZF | SF | OF;

/** iced-x86 RflagsBits (OF=1 SF=2 ZF=4 AF=8 CF=16 PF=32 DF=64 IF=128 AC=256) to EFLAGS bits. */
export function icedFlagsToEflags(v: number): number {
  let r = 0;
  if (v & 1) r |= OF;
  if (v & 2) r |= SF;
  if (v & 4) r |= ZF;
  if (v & 8) r |= AF;
  if (v & 16) r |= CF;
  if (v & 32) r |= PF;
  if (v & 64) r |= DF;
  if (v & 128) r |= 1 << 9;
  if (v & 256) r |= 1 << 18;
  return r;
}

/** The inputs of a case, as far as the undefined-ness rules need them. */
export interface InputView {
  reg(i: number): bigint;
  readMem(addr: bigint, size: number): bigint;
  readonly memLinear: bigint | null;
}

export interface Undefined {
  flags: number;
  regs: number;
  mem: Array<[number, number]>;
}

/** The count-dependent and value-dependent undefined parts of one instruction. */
export function flagsUndefinedBySdm(d: DecodedInsn, v: InputView): Undefined {
  const out: Undefined = { flags: 0, regs: 0, mem: [] };
  const m = d.mnemonic;
  const size = d.opSizes[0] * 8;
  const destUndefined = (): void => {
    if (d.opKinds[0] === OpKind.Register) {
      const g = gprOf(d.opRegs[0]);
      if (g !== null) out.regs |= 1 << g.index;
    } else if (d.opKinds[0] === OpKind.Memory && v.memLinear !== null && v.memLinear < 0x100000000n) {
      out.mem.push([Number(v.memLinear), d.opSizes[0]]);
    }
  };
  const countOf = (i: number): number => {
    if (d.opKinds[i] === OpKind.Register) return Number(v.reg(1) & 0xffn); // CL
    return d.immLo & 0xff;
  };
  switch (m) {
    case Mnemonic.Shl: case Mnemonic.Sal: case Mnemonic.Shr: case Mnemonic.Sar: {
      const c = countOf(1) & (size === 64 ? 0x3f : 0x1f);
      if (c === 0) break;
      out.flags |= AF;
      if (c > 1) out.flags |= OF;
      if (m !== Mnemonic.Sar && c >= size) out.flags |= CF;
      break;
    }
    case Mnemonic.Rol: case Mnemonic.Ror: case Mnemonic.Rcl: case Mnemonic.Rcr: {
      const c = countOf(1) & (size === 64 ? 0x3f : 0x1f);
      if (c > 1) out.flags |= OF;
      break;
    }
    case Mnemonic.Shld: case Mnemonic.Shrd: {
      const c = countOf(2) & (size === 64 ? 0x3f : 0x1f);
      if (c === 0) break;
      out.flags |= AF;
      if (c > 1) out.flags |= OF;
      if (c > size) {
        out.flags |= STATUS;
        destUndefined();
      }
      break;
    }
    case Mnemonic.Bsf: case Mnemonic.Bsr: {
      let src: bigint;
      if (d.opKinds[1] === OpKind.Register) {
        const g = gprOf(d.opRegs[1])!;
        src = v.reg(g.index) & ((1n << BigInt(g.size * 8)) - 1n);
      } else if (v.memLinear !== null) {
        src = v.readMem(v.memLinear, d.opSizes[1]);
      } else src = 1n;
      if (src === 0n) destUndefined();
      break;
    }
    case Mnemonic.Bswap:
      if (size === 16) destUndefined();
      break;
    default:
      break;
  }
  return out;
}
