/**
 * The instruction behind an MMIO exit (an EPT violation on an unmapped device page), decoded
 * with iced-x86 and reduced to one access: what the seed's VMM needs to emulate it against the
 * device and complete it (reference §1 MmioRead/MmioWrite, which the crate never produced [gap]).
 * Handled: MOV to and from memory (register, immediate, moffs forms), MOVZX and MOVSX from
 * memory, and CMP/TEST/AND/OR/XOR/ADD/SUB with the device register as either operand (flags
 * computed by the processor's own flag kernels, insn/arith.ts; a device destination is written
 * back) — the forms compilers and kernels use for device registers. Anything else is reported
 * as unsupported (the exit becomes a NestedPageFault the VMM reports).
 */
import { Decoder, DecoderOptions, Instruction, MemorySize, MemorySizeExt, Mnemonic, OpKind, Register, RegisterExt } from 'iced-x86';
import { Cpu } from '../x86/cpu';
import { PhysicalMemory } from '../x86/physicalMemory';
import { add, add64, and, and64, or, or64, sub, sub64, xor, xor64 } from '../x86/insn/arith';

export type MmioAccess =
  | { kind: 'read'; width: 1 | 2 | 4 | 8; dest: Register; destName: string; extend: 'zero' | 'sign'; length: number; text: string }
  | { kind: 'write'; width: 1 | 2 | 4 | 8; value: bigint; length: number; text: string }
  /** An ALU instruction with the device register as operand `memIndex` (0: destination). */
  | {
    kind: 'alu'; op: AluOp; width: 1 | 2 | 4 | 8; memIndex: 0 | 1; other: bigint; dest: Register | null;
    length: number; text: string;
  }
  | { kind: 'unsupported'; length: number; text: string; why: string };

/** Value of a general register (any size) in the processor (the guest's, after a VM exit). */
export function readGpr(cpu: Cpu, reg: Register): bigint {
  const full = RegisterExt.fullRegister(reg);
  const n = RegisterExt.number(full);
  const v = (BigInt(cpu.hi[n] >>> 0) << 32n) | BigInt(cpu.lo[n] >>> 0);
  const size = RegisterExt.size(reg);
  if (size === 1 && reg >= Register.AH && reg <= Register.BH) return (v >> 8n) & 0xffn;
  return BigInt.asUintN(size * 8, v);
}

/** Write a general register as MOV does: 32-bit writes zero the upper half, 8/16-bit keep the rest. */
export function writeGpr(cpu: Cpu, reg: Register, value: bigint): void {
  const full = RegisterExt.fullRegister(reg);
  const n = RegisterExt.number(full);
  const old = (BigInt(cpu.hi[n] >>> 0) << 32n) | BigInt(cpu.lo[n] >>> 0);
  const size = RegisterExt.size(reg);
  let v: bigint;
  if (size === 8) v = BigInt.asUintN(64, value);
  else if (size === 4) v = BigInt.asUintN(32, value);
  else if (size === 2) v = (old & ~0xffffn) | BigInt.asUintN(16, value);
  else if (reg >= Register.AH && reg <= Register.BH) v = (old & ~0xff00n) | (BigInt.asUintN(8, value) << 8n);
  else v = (old & ~0xffn) | BigInt.asUintN(8, value);
  cpu.lo[n] = Number(v & 0xffffffffn) | 0;
  cpu.hi[n] = Number(v >> 32n) | 0;
}

function immediateOf(ins: Instruction, i: number): bigint {
  return ins.immediate(i);
}

export function decodeMmio(cpu: Cpu, bytes: Uint8Array, bitness: 16 | 32 | 64, rip: bigint): MmioAccess {
  const dec = new Decoder(bitness, bytes, DecoderOptions.None);
  const ins = new Instruction();
  try {
    dec.ip = rip;
    dec.decodeOut(ins);
    const length = ins.length;
    const text = ins.toString();
    const mn = ins.mnemonic;
    const memIdx = [0, 1].find((i) => i < ins.opCount && (ins.opKind(i) === OpKind.Memory));
    if (memIdx === undefined) return { kind: 'unsupported', length, text, why: 'no memory operand' };
    if (mn === Mnemonic.Mov) {
      if (memIdx === 0) {
        const k = ins.op1Kind;
        const width = (k === OpKind.Register ? RegisterExt.size(ins.op1Register) : memWidth(ins)) as 1 | 2 | 4 | 8;
        const value = k === OpKind.Register ? readGpr(cpu, ins.op1Register) : BigInt.asUintN(width * 8, immediateOf(ins, 1));
        return { kind: 'write', width, value, length, text };
      }
      const dest = ins.op0Register;
      if (!RegisterExt.isGPR(dest)) return { kind: 'unsupported', length, text, why: 'MOV to a non-general register' };
      return { kind: 'read', width: RegisterExt.size(dest) as 1 | 2 | 4 | 8, dest, destName: Register[dest].toLowerCase(), extend: 'zero', length, text };
    }
    const alu = ALU_OPS.get(mn);
    if (alu !== undefined) {
      const width = memWidth(ins);
      const o = memIdx === 0 ? 1 : 0;
      const k = ins.opKind(o);
      const other = k === OpKind.Register ? readGpr(cpu, ins.opRegister(o)) : BigInt.asUintN(width * 8, immediateOf(ins, o));
      const dest = memIdx === 1 && alu !== 'cmp' && alu !== 'test' ? ins.op0Register : null;
      return { kind: 'alu', op: alu, width, memIndex: memIdx as 0 | 1, other, dest, length, text };
    }
    if ((mn === Mnemonic.Movzx || mn === Mnemonic.Movsx || mn === Mnemonic.Movsxd) && memIdx === 1) {
      const dest = ins.op0Register;
      return { kind: 'read', width: memWidth(ins), dest, destName: Register[dest].toLowerCase(), extend: mn === Mnemonic.Movzx ? 'zero' : 'sign', length, text };
    }
    return { kind: 'unsupported', length, text, why: `${Mnemonic[mn].toUpperCase()} on a device page is not emulated (only MOV, MOVZX, MOVSX)` };
  } finally {
    ins.free();
    dec.free();
  }
}

export type AluOp = 'cmp' | 'test' | 'and' | 'or' | 'xor' | 'add' | 'sub';
const ALU_OPS = new Map<Mnemonic, AluOp>([
  [Mnemonic.Cmp, 'cmp'], [Mnemonic.Test, 'test'], [Mnemonic.And, 'and'], [Mnemonic.Or, 'or'], [Mnemonic.Xor, 'xor'],
  [Mnemonic.Add, 'add'], [Mnemonic.Sub, 'sub'],
]);

/** A processor used only for its flag kernels (the same arithmetic as the guest's instructions). */
let flagCpu: Cpu | null = null;

/**
 * Complete an ALU access with the device's value: the new RFLAGS (arithmetic flags replaced) and
 * the result to write back to the device (destination memory) or into the register, if any.
 */
export function completeMmioAlu(
  cpu: Cpu, a: MmioAccess & { kind: 'alu' }, deviceValue: bigint, rflags: number,
): { rflags: number; writeBack: bigint | null } {
  const f = (flagCpu ??= new Cpu(new PhysicalMemory(0)));
  f.setRflags(rflags, 0xffffffff);
  const m = BigInt.asUintN(a.width * 8, deviceValue);
  const [x, y] = a.memIndex === 0 ? [m, a.other] : [a.other, m];
  let r: bigint;
  if (a.width === 8) {
    const xl = Number(x & 0xffffffffn) | 0, xh = Number(x >> 32n) | 0, yl = Number(y & 0xffffffffn) | 0, yh = Number(y >> 32n) | 0;
    const lo = a.op === 'cmp' || a.op === 'sub' ? sub64(f, xl, xh, yl, yh) : a.op === 'add' ? add64(f, xl, xh, yl, yh)
      : a.op === 'or' ? or64(f, xl, xh, yl, yh) : a.op === 'xor' ? xor64(f, xl, xh, yl, yh) : and64(f, xl, xh, yl, yh);
    r = (BigInt(f.vHi >>> 0) << 32n) | BigInt(lo >>> 0);
  } else {
    const xs = Number(x), ys = Number(y);
    const xi = a.width === 4 ? xs | 0 : xs, yi = a.width === 4 ? ys | 0 : ys;
    const v = a.op === 'cmp' || a.op === 'sub' ? sub(f, xi, yi, a.width) : a.op === 'add' ? add(f, xi, yi, a.width)
      : a.op === 'or' ? or(f, xi, yi, a.width) : a.op === 'xor' ? xor(f, xi, yi, a.width) : and(f, xi, yi, a.width);
    r = BigInt.asUintN(a.width * 8, BigInt(v));
  }
  const ARITH = 0x8d5; // CF PF AF ZF SF OF
  const out = ((rflags & ~ARITH) | (f.getRflags() & ARITH)) >>> 0;
  if (a.op === 'cmp' || a.op === 'test') return { rflags: out, writeBack: null };
  if (a.memIndex === 1) {
    writeGpr(cpu, a.dest!, r);
    return { rflags: out, writeBack: null };
  }
  return { rflags: out, writeBack: r };
}

/** The memory operand's size in bytes (1, 2, 4 or 8 for these forms). */
function memWidth(ins: Instruction): 1 | 2 | 4 | 8 {
  const n = MemorySizeExt.size(ins.memorySize as MemorySize);
  return n === 1 || n === 2 || n === 8 ? n : 4;
}

/** Complete a read: the device's value into the destination register (zero/sign extended). */
export function completeMmioRead(cpu: Cpu, a: MmioAccess & { kind: 'read' }, value: bigint): void {
  const size = RegisterExt.size(a.dest);
  let v = BigInt.asUintN(a.width * 8, value);
  if (a.extend === 'sign') v = BigInt.asUintN(size * 8, BigInt.asIntN(a.width * 8, v));
  writeGpr(cpu, a.dest, v);
}
