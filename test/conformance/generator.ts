/**
 * Case generation: one instruction (bytes encoded by iced-x86 from a chosen form, or raw bytes
 * for string instructions and XLAT), an input register/flag state and memory patches, all
 * derived from (seed, mode, index) so any case can be replayed alone.
 *
 * Operands get edge values (0, 1, -1, sign boundaries, shift counts 0/1/31/32/63/64...);
 * memory operands and implicit pointers are solved to land inside the shared data/stack
 * regions (sometimes straddling their ends or in unmapped memory on purpose); branch targets
 * land in the INT3-filled code region, in unmapped memory or at non-canonical addresses.
 */
import {
  Code, Decoder, DecoderOptions, Encoder, Instruction, Mnemonic, OpCodeOperandKind as K, OpKind, Register,
} from 'iced-x86';
import { describe, gprOf } from '../../src/x86/decoded';
import type { DecodedInsn } from '../../src/x86/decoded';
import {
  CODE_BASE, CODE_END, DATA_BASE, DATA_END, DATA_SIZE, INSN_ADDR, STACK_BASE, STACK_END, STACK_SIZE,
  inDataOrStack,
} from './layout';
import type { Form, Mode } from './forms';
import { Rng } from './rng';
import { X87_INIT } from './host';
import type { X87Image } from './host';
import { genMmx, genX87, x87MemValue } from './x87';
import {
  MemSpec, RegFile, Retry, dataSpot, faultAddress, genMem, inStub, isSafeLinear, mod, pickLinear, segBase,
} from './address';
import { flagsUndefinedBySdm, icedFlagsToEflags } from './undefined';
import type { InputView } from './undefined';

export interface Patch {
  addr: number;
  data: Uint8Array;
}

export interface Pristine {
  data: Uint8Array;
  stack: Uint8Array;
}

export interface GenEnv {
  /** GS holds a data segment based at DATA_BASE in compatibility mode too (LDT available). */
  gsCompat: boolean;
}

export interface Case {
  mode: Mode;
  index: number;
  form: Form;
  bytes: Uint8Array;
  insnAddr: number;
  /** Input GPRs as (lo, hi) uint32 pairs, RAX..R15. */
  regs: Uint32Array;
  rflags: number;
  patches: Patch[];
  /** Mnemonic the case is counted under (decoded mnemonic when listed, else the form's). */
  group: string;
  /** EFLAGS bits the SDM leaves undefined for this instruction and these inputs. */
  undefFlags: number;
  /** GPRs whose result the SDM leaves undefined (bit i = register i). */
  undefRegs: number;
  /** Memory ranges whose result the SDM leaves undefined. */
  undefMem: Array<[number, number]>;
  /** Decoded instruction (our decoder's view), for reports. */
  decoded: DecodedInsn;
  /** XMM0-15 inputs (4 uint32 lanes each) and MXCSR (SSE forms get varied values; others zero/0x1F80). */
  xmm: Uint32Array;
  mxcsr: number;
  /** True for SSE forms (inputs are printed in reports). */
  sse: boolean;
  /** XMM registers whose result the SDM leaves implementation-specific (bit i = XMMi). */
  undefXmm: number;
  /** x87 state input (x87 forms get varied values; others the FNINIT state). */
  x87: X87Image;
}

export const EFLAGS_TF = 1 << 8;
export const EFLAGS_AC = 1 << 18;
export const EFLAGS_RF = 1 << 16;
export const EFLAGS_ID = 1 << 21;
export const EFLAGS_DF = 1 << 10;

const M64 = (1n << 64n) - 1n;
const SHIFT_COUNTS = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255];
const BIT_OFFSETS = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255];

export function makePristine(seed: number): Pristine {
  const rng = new Rng(seed, 0x5157);
  const fill = (n: number): Uint8Array => {
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = rng.u32();
      a[i] = v; a[i + 1] = v >>> 8; a[i + 2] = v >>> 16; a[i + 3] = v >>> 24;
    }
    return a;
  };
  return { data: fill(DATA_SIZE), stack: fill(STACK_SIZE) };
}

type Loc =
  | { t: 'reg'; idx: number; size: number; high8: boolean }
  | { t: 'mem'; addr: bigint | null; size: number }
  | { t: 'imm'; value: bigint; size: number }
  | { t: 'none' };

const NONE: Loc = { t: 'none' };

function regSizeOf(k: K): number {
  switch (k) {
    case K.r8_or_mem: case K.r8_reg: case K.r8_opcode: case K.al: case K.cl: return 1;
    case K.r16_or_mem: case K.r16_reg: case K.r16_opcode: case K.ax: return 2;
    case K.r32_or_mem: case K.r32_reg: case K.r32_opcode: case K.r32_vvvv: case K.eax: return 4;
    case K.r64_or_mem: case K.r64_reg: case K.r64_opcode: case K.r64_vvvv: case K.rax: return 8;
    default: return 0;
  }
}

function isRm(k: K): boolean {
  return k === K.r8_or_mem || k === K.r16_or_mem || k === K.r32_or_mem || k === K.r64_or_mem || k === K.xmm_or_mem ||
    k === K.mm_or_mem;
}

function isRegKind(k: K): boolean {
  return k === K.r8_reg || k === K.r16_reg || k === K.r32_reg || k === K.r64_reg ||
    k === K.r8_opcode || k === K.r16_opcode || k === K.r32_opcode || k === K.r64_opcode ||
    k === K.r32_vvvv || k === K.r64_vvvv;
}

const FIXED_REG: Partial<Record<K, Register>> = {
  [K.al]: Register.AL, [K.ax]: Register.AX, [K.eax]: Register.EAX, [K.rax]: Register.RAX, [K.cl]: Register.CL,
};

const IMM: Partial<Record<K, [OpKind, number, boolean]>> = {
  [K.imm8]: [OpKind.Immediate8, 8, false],
  [K.imm8sex16]: [OpKind.Immediate8to16, 8, true],
  [K.imm8sex32]: [OpKind.Immediate8to32, 8, true],
  [K.imm8sex64]: [OpKind.Immediate8to64, 8, true],
  [K.imm16]: [OpKind.Immediate16, 16, false],
  [K.imm32]: [OpKind.Immediate32, 32, false],
  [K.imm32sex64]: [OpKind.Immediate32to64, 32, true],
  [K.imm64]: [OpKind.Immediate64, 64, false],
  [K.imm8_const_1]: [OpKind.Immediate8, 8, false],
};

function gprRegister(size: number, idx: number, high8: boolean): Register {
  if (size === 8) return Register.RAX + idx;
  if (size === 4) return Register.EAX + idx;
  if (size === 2) return Register.AX + idx;
  if (high8) return Register.AH + idx;
  return idx < 4 ? Register.AL + idx : idx < 8 ? Register.SPL + (idx - 4) : Register.R8L + (idx - 8);
}

const SHIFTS = new Set<Mnemonic>([
  Mnemonic.Shl, Mnemonic.Sal, Mnemonic.Shr, Mnemonic.Sar, Mnemonic.Rol, Mnemonic.Ror, Mnemonic.Rcl, Mnemonic.Rcr,
  Mnemonic.Shld, Mnemonic.Shrd,
]);
const BT = new Set<Mnemonic>([Mnemonic.Bt, Mnemonic.Bts, Mnemonic.Btr, Mnemonic.Btc]);
const NO_ACCESS = new Set<Mnemonic>([Mnemonic.Lea, Mnemonic.Nop, Mnemonic.Reservednop]);
const LOOPS = new Set<Mnemonic>([Mnemonic.Loop, Mnemonic.Loope, Mnemonic.Loopne, Mnemonic.Jcxz, Mnemonic.Jecxz, Mnemonic.Jrcxz]);

/** State of one case under construction. */
class Build implements InputView {
  readonly rf: RegFile;
  rflags: number;
  readonly mem = new Map<number, number>();
  readonly locs: Loc[] = [];
  undefRegs = 0;
  readonly undefMem: Array<[number, number]> = [];
  lock = false;
  memSpec: MemSpec | null = null;
  /** Address of the instruction's first byte. */
  insn = INSN_ADDR;
  memOp = -1;
  /** XMM register of operand 0, or -1. */
  xmmDst = -1;
  readonly bits: number;

  constructor(readonly rng: Rng, readonly form: Form, readonly mode: Mode, readonly pristine: Pristine) {
    this.bits = mode;
    const regs: bigint[] = [];
    for (let i = 0; i < 16; i++) regs.push(rng.reg64());
    this.rf = { regs, fixed: new Array<boolean>(16).fill(false) };
    // The stack pointer always points into the stack region (sometimes at its edges).
    const r = rng.float();
    let sp: number;
    if (r < 0.04) sp = STACK_BASE + rng.pick([0, 2, 4, 8]);
    else if (r < 0.08) sp = STACK_END - rng.pick([0, 2, 4, 8]);
    else sp = STACK_BASE + STACK_SIZE / 2 + rng.range(-64, 64) * 8 + (rng.chance(0.1) ? rng.range(1, 7) : 0);
    regs[4] = mode === 64 ? BigInt(sp) : (rng.u64() & ~0xffffffffn) | BigInt(sp);
    this.rf.fixed[4] = true;
    let fl = 0x202;
    for (const b of [0, 2, 4, 6, 7, 11]) if (rng.chance(0.5)) fl |= 1 << b;
    if (rng.chance(0.25)) fl |= EFLAGS_DF;
    if (rng.chance(0.5)) fl |= EFLAGS_ID;
    this.rflags = fl;
  }

  reg(i: number): bigint {
    return this.rf.regs[i];
  }

  get memLinear(): bigint | null {
    return this.memSpec?.linear ?? null;
  }

  get sp(): number {
    return Number(this.rf.regs[4] & 0xffffffffn);
  }

  readByte(a: number): number {
    const v = this.mem.get(a);
    if (v !== undefined) return v;
    if (a >= DATA_BASE && a < DATA_END) return this.pristine.data[a - DATA_BASE];
    if (a >= STACK_BASE && a < STACK_END) return this.pristine.stack[a - STACK_BASE];
    return 0;
  }

  readMem(addr: bigint, size: number): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.readByte(Number(addr) + i));
    return v;
  }

  /** Write the bytes of [addr, addr+size) that lie in the data/stack regions. */
  writeMem(addr: bigint, size: number, v: bigint): void {
    if (addr < 0n || addr >= 0x100000000n) return;
    const a = Number(addr);
    for (let i = 0; i < size; i++) {
      if (inDataOrStack(a + i, 1)) this.mem.set(a + i, Number((v >> BigInt(8 * i)) & 0xffn));
    }
  }

  getReg(idx: number, size: number, high8 = false): bigint {
    const v = this.rf.regs[idx];
    if (high8) return (v >> 8n) & 0xffn;
    return size === 8 ? v : v & ((1n << BigInt(size * 8)) - 1n);
  }

  /** Set the low `size` bytes of a register (false when the register is pinned as a pointer). */
  setReg(idx: number, size: number, v: bigint, high8 = false): boolean {
    if (this.rf.fixed[idx]) return false;
    const cur = this.rf.regs[idx];
    if (high8) {
      this.rf.regs[idx] = (cur & ~0xff00n) | ((v & 0xffn) << 8n);
    } else if (size === 8) {
      this.rf.regs[idx] = v & M64;
    } else {
      const m = (1n << BigInt(size * 8)) - 1n;
      this.rf.regs[idx] = (cur & ~m) | (v & m);
    }
    return true;
  }

  get(l: Loc): bigint {
    if (l.t === 'reg') return this.getReg(l.idx, l.size, l.high8);
    if (l.t === 'mem') return l.addr === null ? 0n : this.readMem(l.addr, l.size);
    if (l.t === 'imm') return l.value;
    return 0n;
  }

  set(l: Loc, v: bigint): boolean {
    if (l.t === 'reg') return this.setReg(l.idx, l.size, v, l.high8);
    if (l.t === 'mem' && l.addr !== null) {
      this.writeMem(l.addr, l.size, v);
      return true;
    }
    return false;
  }

  pin(idx: number, v: bigint): void {
    this.rf.regs[idx] = v & M64;
    this.rf.fixed[idx] = true;
  }
}

export class Generator {
  private readonly encoders = new Map<number, Encoder>();

  constructor(readonly seed: number, readonly pristine: Pristine, readonly env: GenEnv) {}

  dispose(): void {
    for (const e of this.encoders.values()) e.free();
    this.encoders.clear();
  }

  private encoder(bits: number): Encoder {
    let e = this.encoders.get(bits);
    if (e === undefined) {
      e = new Encoder(bits);
      this.encoders.set(bits, e);
    }
    return e;
  }

  generate(form: Form, index: number): Case {
    const rng = new Rng(this.seed, form.mode, index);
    let last = '';
    for (let attempt = 0; attempt < 40; attempt++) {
      try {
        return this.attempt(form, index, rng);
      } catch (e) {
        if (!(e instanceof Retry)) throw e;
        last = e.message;
      }
    }
    throw new Error(`cannot generate a case for ${form.name} (${form.mode}-bit): ${last}`);
  }

  private attempt(form: Form, index: number, rng: Rng): Case {
    const b = new Build(rng, form, form.mode, this.pristine);
    // Where the instruction goes: usually at a page start; sometimes straddling a page
    // boundary inside the code region; sometimes running off the end of the code region,
    // so fetching it faults (#PF at the first byte past the region).
    const place = rng.float();
    if (place < 0.08) b.insn = INSN_ADDR - rng.range(1, 14);
    let bytes: Uint8Array;
    switch (form.kind) {
      case 'string': bytes = this.genString(b); break;
      case 'xlat': bytes = this.genXlat(b); break;
      case 'invalid64': bytes = this.genInvalid64(b); break;
      default: bytes = this.genGeneric(b); break;
    }
    if (form.kind === 'string' || form.kind === 'xlat') bytes = this.planPrefixes(b, bytes).apply(bytes);
    if (bytes.length > 15) throw new Retry('instruction longer than 15 bytes');
    const d = this.decode(bytes, form.mode, b.insn);
    if (d.length !== bytes.length) throw new Error(`internal: ${form.name}: decoded length ${d.length} != ${bytes.length}`);
    if (form.kind !== 'invalid64' && !d.invalid && d.code !== form.code) {
      throw new Retry(`encoded ${Code[d.code]} instead of ${form.name}`);
    }
    this.checkSafety(b, d);
    let undefFlags = 0;
    if (!d.invalid) {
      undefFlags = SHIFTS.has(d.mnemonic) ? 0 : icedFlagsToEflags(d.rflagsUndefined);
      const extra = flagsUndefinedBySdm(d, b);
      undefFlags |= extra.flags;
      b.undefRegs |= extra.regs;
      for (const m of extra.mem) b.undefMem.push(m);
    }
    let insnAddr = b.insn;
    if (place >= 0.08 && place < 0.1 && bytes.length >= 2) insnAddr = CODE_END - rng.range(1, bytes.length - 1);
    const regs = new Uint32Array(32);
    for (let i = 0; i < 16; i++) {
      regs[2 * i] = Number(b.rf.regs[i] & 0xffffffffn);
      regs[2 * i + 1] = Number((b.rf.regs[i] >> 32n) & 0xffffffffn);
    }
    const listed = d.invalid ? form.group : Mnemonic[d.mnemonic].toUpperCase();
    const xmm = new Uint32Array(64);
    let mxcsr = 0x1f80;
    let undefXmm = 0;
    if (form.sse) {
      const rng = b.rng;
      for (let r = 0; r < 16; r++) {
        const style = rng.int(4);
        for (let q = 0; q < 4; q += 2) {
          if (style === 0) { xmm[4 * r + q] = fpValue32(rng); xmm[4 * r + q + 1] = fpValue32(rng); }
          else if (style === 1) {
            const v = fpValue64(rng);
            xmm[4 * r + q] = Number(v & 0xffffffffn); xmm[4 * r + q + 1] = Number(v >> 32n);
          } else {
            const v = rng.edge(64);
            xmm[4 * r + q] = Number(v & 0xffffffffn); xmm[4 * r + q + 1] = Number(v >> 32n);
          }
        }
      }
      if (rng.chance(0.4)) {
        mxcsr = (rng.int(4) << 13) | 0x1f80;
        if (rng.chance(0.3)) mxcsr |= 1 << 6; // DAZ
        if (rng.chance(0.3)) mxcsr |= 1 << 15; // FTZ
        if (rng.chance(0.3)) mxcsr &= ~(rng.int(64) << 7); // unmask some exceptions
        if (rng.chance(0.3)) mxcsr |= rng.int(64); // sticky flags already set
      }
      // RCP/RSQRT results are approximations whose exact bits are implementation-specific.
      if (/^(RCP|RSQRT)/.test(listed) && b.xmmDst >= 0) undefXmm |= 1 << b.xmmDst;
    }
    return {
      mode: form.mode, index, form, bytes, insnAddr, regs, rflags: b.rflags >>> 0,
      patches: patchesOf(b.mem), group: listed, undefFlags, undefRegs: b.undefRegs, undefMem: b.undefMem, decoded: d,
      xmm, mxcsr, sse: form.sse, undefXmm, x87: form.x87 ? genX87(b.rng) : form.mmx ? genMmx(b.rng) : X87_INIT,
    };
  }

  private decode(bytes: Uint8Array, mode: Mode, ip: number): DecodedInsn {
    const dec = new Decoder(mode, bytes, DecoderOptions.None);
    const ins = new Instruction();
    try {
      dec.ip = BigInt(ip);
      dec.decodeOut(ins);
      return describe(ins, mode, bytes.slice(0, ins.length));
    } finally {
      ins.free();
      dec.free();
    }
  }

  private encode(ins: Instruction, mode: Mode, ip: number): Uint8Array {
    const enc = this.encoder(mode);
    let n: number;
    try {
      n = enc.encode(ins, BigInt(ip));
    } catch (e) {
      enc.takeBuffer(); // drop anything a failed encode left behind
      throw new Retry(`encoder: ${String(e)}`);
    }
    const out = enc.takeBuffer();
    if (out.length !== n) throw new Error(`internal: encoder buffer holds ${out.length} bytes for a ${n}-byte instruction`);
    return out;
  }

  // ---- generic forms (iced encoder) ---------------------------------------------------------
  private genGeneric(b: Build): Uint8Array {
    const { form: f, rng, mode } = b;
    const ins = Instruction.create(f.code);
    try {
      const nregs = mode === 64 ? 16 : 8;
      const mn = f.mnemonic;
      // Pointer roles fixed before memory operands are solved.
      if (mn === Mnemonic.Enter || mn === Mnemonic.Leave) {
        const off = mn === Mnemonic.Enter ? rng.range(0, 0x80) * 8 : rng.range(-0x40, 0x80) * 8;
        let bp = b.sp + off + (rng.chance(0.05) ? rng.range(1, 7) : 0);
        if (rng.chance(0.05)) bp = STACK_BASE + rng.pick([0, 8, 16]);
        b.pin(5, mode === 64 ? BigInt(bp) : (rng.u64() & ~0xffffffffn) | BigInt(bp >>> 0));
      }
      let useMem = false;
      for (let i = 0; i < f.ops.length; i++) {
        const k = f.ops[i];
        if (isRm(k)) useMem = rng.chance(0.5);
        if (k === K.mem || k === K.mem_offs || (isRm(k) && useMem)) {
          b.memOp = i;
          b.locs.push(NONE); // filled below
          continue;
        }
        if (k === K.st0 || k === K.sti_opcode) {
          ins.setOpKind(i, OpKind.Register);
          ins.setOpRegister(i, k === K.st0 ? Register.ST0 : Register.ST0 + rng.int(8));
          b.locs.push(NONE);
          continue;
        }
        if (k === K.mm_reg || k === K.mm_rm || k === K.mm_or_mem) {
          ins.setOpKind(i, OpKind.Register);
          ins.setOpRegister(i, Register.MM0 + rng.int(8));
          b.locs.push(NONE);
          continue;
        }
        if (k === K.seg_rDI) {
          // MASKMOVQ/MASKMOVDQU DS:rDI destination (8/16 bytes; only the bytes the mask selects are written).
          ins.setOpKind(i, mode === 64 ? OpKind.MemorySegRDI : OpKind.MemorySegEDI);
          const seg = rng.chance(0.12) && (mode === 64 || this.env.gsCompat) ? Register.GS : Register.None;
          const lin = pickLinear(rng, f.memSize, mode, seg === Register.GS ? { kinds: ['data'] } : {});
          const off = seg === Register.GS ? lin - segBase(Register.GS) : lin;
          b.pin(7, mode === 64 ? off & M64 : (rng.u64() & ~0xffffffffn) | (off & 0xffffffffn));
          ins.segmentPrefix = seg;
          b.locs.push({ t: 'mem', addr: lin, size: f.memSize });
          continue;
        }
        if (k === K.xmm_reg || k === K.xmm_rm || k === K.xmm_or_mem) {
          const idx = rng.int(nregs);
          ins.setOpKind(i, OpKind.Register);
          ins.setOpRegister(i, Register.XMM0 + idx);
          if (i === 0) b.xmmDst = idx;
          b.locs.push(NONE);
          continue;
        }
        if (isRegKind(k) || isRm(k)) {
          const size = regSizeOf(k);
          let idx: number, high8 = false;
          if (size === 1 && rng.chance(mode === 64 ? 0.2 : 0.5)) {
            idx = rng.int(4);
            high8 = true;
          } else idx = rng.int(nregs);
          const r = gprRegister(size, idx, high8);
          ins.setOpKind(i, OpKind.Register);
          ins.setOpRegister(i, r);
          b.locs.push({ t: 'reg', idx, size, high8 });
          continue;
        }
        const fixed = FIXED_REG[k];
        if (fixed !== undefined) {
          ins.setOpKind(i, OpKind.Register);
          ins.setOpRegister(i, fixed);
          const g = gprOf(fixed)!;
          b.locs.push({ t: 'reg', idx: g.index, size: g.size, high8: false });
          continue;
        }
        if (k === K.seg_reg) {
          ins.setOpKind(i, OpKind.Register);
          ins.setOpRegister(i, Register.ES + rng.int(6));
          b.locs.push(NONE);
          continue;
        }
        const imm = IMM[k];
        if (imm !== undefined) {
          const [kind, width, signed] = imm;
          const isEnterLevel = mn === Mnemonic.Enter && i === 1;
          const v = k === K.imm8_const_1 ? 1n : this.immValue(b, i, width);
          ins.setOpKind(i, isEnterLevel ? OpKind.Immediate8_2nd : kind);
          if (width === 64) ins.setImmediateU64(i, v);
          else if (signed) ins.setImmediateI64(i, BigInt.asIntN(width, v));
          else ins.setImmediateU32(i, Number(v));
          b.locs.push({ t: 'imm', value: v, size: width / 8 });
          continue;
        }
        if (k === K.br16_1 || k === K.br32_1 || k === K.br64_1 || k === K.br16_2 || k === K.br32_4 || k === K.br64_4) {
          b.locs.push(NONE); // after the length is known
          continue;
        }
        throw new Error(`internal: operand kind ${K[k]} of ${f.name}`);
      }
      // The memory operand.
      if (b.memOp >= 0) {
        const k = f.ops[b.memOp];
        const size = f.memSize || regSizeOf(k) || 1;
        if (k === K.mem_offs) this.genMoffs(b, ins, size);
        else {
          const noAccess = NO_ACCESS.has(mn) || mn === Mnemonic.Ud0 || mn === Mnemonic.Ud1;
          const spec = genMem(rng, mode, b.rf, {
            size, noAccess,
            align: mn === Mnemonic.Cmpxchg16b || (f.sse && size === 16) ? (rng.chance(0.85) ? 16 : undefined) : undefined,
            margin: BT.has(mn) && isRegKind(f.ops[1]) ? 600 : 32,
            kinds: BT.has(mn) && isRegKind(f.ops[1]) ? ['data'] : undefined,
            gsUsable: mode === 64 || this.env.gsCompat,
          });
          b.memSpec = spec;
          ins.setOpKind(b.memOp, OpKind.Memory);
          ins.memoryBase = spec.base;
          ins.memoryIndex = spec.index;
          ins.memoryIndexScale = spec.scale;
          ins.memoryDisplacement = spec.disp;
          ins.memoryDisplSize = spec.displSize;
          ins.segmentPrefix = spec.seg;
          b.locs[b.memOp] = { t: 'mem', addr: spec.linear, size };
          if (spec.linear !== null) b.set(b.locs[b.memOp], rng.edge(Math.min(size, 8) * 8));
          if (spec.linear !== null && size === 16) b.writeMem(spec.linear + 8n, 8, rng.edge(64));
          if (spec.linear !== null && f.x87 && rng.chance(0.85)) {
            const v = x87MemValue(rng, f.name, size);
            if (v !== null) for (let o = 0; o < v.length; o++) b.writeMem(spec.linear + BigInt(o), 1, BigInt(v[o]));
          }
          if (spec.linear !== null && f.sse && rng.chance(0.7)) {
            for (let o = 0; o + 4 <= size; o += 8) {
              if (size - o >= 8) b.writeMem(spec.linear + BigInt(o), 8, fpValue64(rng));
              else b.writeMem(spec.linear + BigInt(o), 4, BigInt(fpValue32(rng)));
            }
          }
        }
        if (f.lockable && b.memOp === 0) b.lock = rng.chance(0.3);
      }
      this.shape(b);
      // Branches: the length first, then a target that avoids the instruction itself.
      const bi = f.ops.findIndex((k) => k === K.br16_1 || k === K.br32_1 || k === K.br64_1 ||
        k === K.br16_2 || k === K.br32_4 || k === K.br64_4);
      const bk = bi >= 0 ? f.ops[bi] : K.None;
      const setTarget = (t: bigint): void => {
        if (bk === K.br16_1 || bk === K.br16_2) { ins.setOpKind(bi, OpKind.NearBranch16); ins.nearBranch16 = Number(t & 0xffffn); }
        else if (bk === K.br32_1 || bk === K.br32_4) { ins.setOpKind(bi, OpKind.NearBranch32); ins.nearBranch32 = Number(t & 0xffffffffn); }
        else { ins.setOpKind(bi, OpKind.NearBranch64); ins.nearBranch64 = t; }
      };
      if (bi >= 0) setTarget(BigInt(b.insn + 0x20));
      const first = this.encode(ins, mode, b.insn);
      // Prefixes added to the encoding move the instruction's end, which RIP-relative operands
      // and branch displacements are relative to: encode again with the start moved by as much.
      const plan = this.planPrefixes(b, first);
      if (bi >= 0) setTarget(this.relTarget(b, bk, first.length + plan.extra));
      const out = this.encode(ins, mode, b.insn + plan.extra);
      if (out.length !== first.length) throw new Retry('length changed between encodings');
      return plan.apply(out);
    } finally {
      ins.free();
    }
  }

  private genMoffs(b: Build, ins: Instruction, size: number): void {
    const { rng, mode } = b;
    const asz = mode === 64 ? (rng.chance(0.2) ? 32 : 64) : rng.chance(0.15) ? 16 : 32;
    let seg: Register = Register.None;
    if (rng.chance(0.15)) seg = rng.pick([Register.ES, Register.CS, Register.SS, Register.DS]);
    else if ((asz === 16 && this.env.gsCompat) || (rng.chance(0.12) && (mode === 64 || this.env.gsCompat))) seg = Register.GS;
    const lin = seg === Register.GS ? pickLinear(rng, size, mode, { kinds: ['data'] }) : pickLinear(rng, size, mode);
    const M = 1n << BigInt(asz);
    const ea = mod(lin - segBase(seg), M);
    const linear = mode === 64 ? mod(segBase(seg) + ea, 1n << 64n) : mod(segBase(seg) + ea, 1n << 32n);
    if (inStub(linear) || inStub(linear + BigInt(size - 1))) throw new Retry('moffs in stub');
    ins.setOpKind(b.memOp, OpKind.Memory);
    ins.memoryBase = Register.None;
    ins.memoryIndex = Register.None;
    ins.memoryDisplacement = ea;
    ins.memoryDisplSize = asz / 8;
    ins.segmentPrefix = seg;
    b.locs[b.memOp] = { t: 'mem', addr: linear, size };
    b.set(b.locs[b.memOp], rng.edge(size * 8));
    b.memSpec = { base: Register.None, index: Register.None, scale: 1, disp: ea, displSize: asz / 8, seg, addrSize: asz as 16 | 32 | 64, linear };
  }

  private immValue(b: Build, i: number, width: number): bigint {
    const { rng, form: f } = b;
    const mn = f.mnemonic;
    if (SHIFTS.has(mn) || mn === Mnemonic.Rorx) return BigInt(rng.chance(0.7) ? rng.pick(SHIFT_COUNTS) : rng.int(256));
    if (BT.has(mn)) return BigInt(rng.chance(0.7) ? rng.pick(BIT_OFFSETS) : rng.int(256));
    if (mn === Mnemonic.Enter) {
      // Frame sizes: mostly inside the stack region; big ones fault on the final-RSP write check.
      if (i === 0) {
        const r = rng.float();
        return BigInt(r < 0.6 ? rng.int(0x400) : r < 0.85 ? rng.pick([0, 1, 2, 8, 16, 0x100, 0x7f8, 0xff8]) : rng.pick([0x1000, 0x7fff, 0xffff, rng.int(0x10000)]));
      }
      return BigInt(rng.chance(0.8) ? rng.pick([0, 1, 2, 3, 4, 8, 31, 32, 33, 63, 0xff]) : rng.int(256));
    }
    if (mn === Mnemonic.Ret) return BigInt(rng.pick([0, 1, 2, 4, 8, 16, 0x100, 0x7ff, 0xfffe, 0xffff]));
    if (mn === Mnemonic.Aam || mn === Mnemonic.Aad) return BigInt(rng.chance(0.7) ? rng.pick([10, 0, 1, 2, 7, 16, 0x7f, 0x80, 0xff]) : rng.int(256));
    return rng.edge(width);
  }

  /** Target of a relative branch of kind `k` whose encoding is `len` bytes long. */
  private relTarget(b: Build, k: K, len: number): bigint {
    const { rng, mode } = b;
    const next = b.insn + len;
    for (let tries = 0; tries < 50; tries++) {
      let t: bigint;
      if (k === K.br16_1 || k === K.br32_1 || k === K.br64_1) {
        let rel = rng.chance(0.3) ? rng.pick([-128, 127, 0, 1, -len - 1, 126, -127]) : rng.range(-128, 127);
        if (rel >= -len && rel < 0) rel = -len - 1 - rng.int(8);
        t = BigInt(next + rel);
      } else if (k === K.br16_2) {
        t = BigInt(next) + BigInt.asIntN(16, rng.edge(16));
      } else if (rng.chance(0.7)) {
        t = BigInt(CODE_BASE + rng.int(CODE_END - CODE_BASE));
      } else {
        t = BigInt(next) + BigInt.asIntN(32, rng.edge(32));
      }
      if (k === K.br16_1 || k === K.br16_2) t &= 0xffffn;
      else if (k === K.br32_1 || k === K.br32_4 || mode === 32) t &= 0xffffffffn;
      else t = BigInt.asUintN(64, t);
      if (t >= BigInt(b.insn) && t < BigInt(next)) continue;
      if (inStub(t)) continue;
      if (mode === 64 && !isSafeLinear(t, 16, 64)) continue;
      return t;
    }
    throw new Retry('no branch target');
  }

  /** A target for an indirect branch or return of `bits` operand size. */
  private flowTarget(b: Build, bits: number): bigint {
    const { rng, mode } = b;
    for (let tries = 0; tries < 50; tries++) {
      const r = rng.float();
      let t: bigint;
      if (r < 0.6) t = BigInt(CODE_BASE + rng.int(CODE_END - CODE_BASE));
      else if (r < 0.75) t = faultAddress(rng, 32);
      else if (r < 0.9 && mode === 64) t = faultAddress(rng, 64);
      else t = rng.bits(bits);
      t = BigInt.asUintN(bits, t);
      if (t >= BigInt(b.insn) && t < BigInt(b.insn + 16)) continue;
      if (inStub(t)) continue;
      if (mode === 64 && !isSafeLinear(t, 16, 64)) continue;
      return t;
    }
    throw new Retry('no flow target');
  }

  /** Mnemonic-specific operand values (counts, divisors, equal compares, pointers). */
  private shape(b: Build): void {
    const { rng, form: f } = b;
    const mn = f.mnemonic;
    const loc = (i: number): Loc => b.locs[i] ?? NONE;
    const opBits = f.opSize || 8 * (regSizeOf(f.ops[0]) || 8);
    if (SHIFTS.has(mn) || mn === Mnemonic.Shlx || mn === Mnemonic.Sarx || mn === Mnemonic.Shrx) {
      const ci = f.ops.findIndex((k) => k === K.cl);
      if (ci >= 0) b.setReg(1, 1, BigInt(rng.chance(0.8) ? rng.pick(SHIFT_COUNTS) : rng.int(256)));
      if (mn === Mnemonic.Shlx || mn === Mnemonic.Sarx || mn === Mnemonic.Shrx) {
        b.set(loc(2), BigInt(rng.chance(0.8) ? rng.pick(SHIFT_COUNTS) : rng.int(256)) | (rng.u64() & ~0xffn));
      }
      return;
    }
    if (BT.has(mn) && isRegKind(f.ops[1])) {
      const off = loc(1);
      const bits = regSizeOf(f.ops[1]) * 8;
      if (loc(0).t === 'reg') {
        b.set(off, rng.chance(0.6) ? BigInt(rng.pick(BIT_OFFSETS)) : rng.edge(bits));
        return;
      }
      const m = loc(0);
      if (m.t !== 'mem' || m.addr === null) return;
      if (rng.chance(0.9)) b.set(off, BigInt.asUintN(bits, BigInt(rng.range(-8 * 400, 8 * 400))));
      else if (bits > 16) b.set(off, BigInt.asUintN(bits, (faultAddress(rng, 32) - m.addr) * 8n));
      // Whatever the offset ended up as (it may be a pinned pointer), the access must be safe.
      const o = BigInt.asIntN(bits, b.get(off));
      const unit = BigInt(bits / 8);
      const q = o >= 0n ? o / BigInt(bits) : -((-o + BigInt(bits) - 1n) / BigInt(bits));
      const a = m.addr + q * unit;
      if (!isSafeLinear(a - 8n, 24, b.mode) || inStub(a) || inStub(a + 8n)) throw new Retry('bit offset reaches unsafe memory');
      if (a >= BigInt(DATA_BASE) && a < BigInt(DATA_END)) b.writeMem(a, Number(unit), rng.edge(bits));
      return;
    }
    switch (mn) {
      case Mnemonic.Div: case Mnemonic.Idiv: this.shapeDiv(b, mn === Mnemonic.Idiv, loc(0), regSizeOf(f.ops[0]) || f.memSize); return;
      case Mnemonic.Cmpxchg:
        if (rng.chance(0.5)) {
          const size = regSizeOf(f.ops[1]);
          b.setReg(0, size, b.get(loc(0)));
        }
        return;
      case Mnemonic.Cmpxchg8b: case Mnemonic.Cmpxchg16b: {
        const m = loc(0);
        if (m.t !== 'mem' || m.addr === null || !rng.chance(0.5)) return;
        const half = f.mnemonic === Mnemonic.Cmpxchg8b ? 4 : 8;
        b.writeMem(m.addr, half, b.getReg(0, half));
        b.writeMem(m.addr + BigInt(half), half, b.getReg(2, half));
        return;
      }
      case Mnemonic.Bsf: case Mnemonic.Bsr: case Mnemonic.Tzcnt: case Mnemonic.Lzcnt: case Mnemonic.Popcnt: {
        const r = rng.float();
        const bits = regSizeOf(f.ops[0]) * 8;
        if (r < 0.25) b.set(loc(1), 0n);
        else if (r < 0.4) b.set(loc(1), 1n << BigInt(rng.int(bits)));
        return;
      }
      case Mnemonic.Bextr: {
        const start = rng.chance(0.7) ? rng.pick([0, 1, 7, 8, 31, 32, 33, 63, 64, 255]) : rng.int(256);
        const len = rng.chance(0.7) ? rng.pick([0, 1, 7, 8, 31, 32, 33, 63, 64, 255]) : rng.int(256);
        b.set(loc(2), BigInt(start | (len << 8)) | (rng.u64() & ~0xffffn));
        return;
      }
      case Mnemonic.Bzhi:
        b.set(loc(2), BigInt(rng.chance(0.7) ? rng.pick([0, 1, 7, 8, 31, 32, 33, 63, 64, 255]) : rng.int(256)) | (rng.u64() & ~0xffn));
        return;
      case Mnemonic.Ret: {
        const sz = opBits / 8;
        b.writeMem(BigInt(b.sp), sz, this.flowTarget(b, opBits));
        return;
      }
      case Mnemonic.Jmp: case Mnemonic.Call: {
        const l = loc(0);
        if (l.t === 'none' || l.t === 'imm') return; // relative forms: target chosen later
        if (!b.set(l, this.flowTarget(b, opBits))) {
          // A pinned register (the stack pointer, a pointer): the jump goes there; it must be safe.
          const t = b.get(l);
          if (inStub(t) || (b.mode === 64 && !isSafeLinear(t, 16, 64))) throw new Retry('unsafe indirect target');
        }
        return;
      }
      case Mnemonic.Popf: case Mnemonic.Popfd: case Mnemonic.Popfq: {
        const sz = opBits / 8;
        // TF and AC stay clear: single-stepping or alignment checks would break the harness.
        b.writeMem(BigInt(b.sp), sz, BigInt((rng.u32() & ~(EFLAGS_TF | EFLAGS_AC)) >>> 0));
        return;
      }
      default:
        break;
    }
    if (LOOPS.has(mn)) {
      const v = rng.chance(0.7)
        ? rng.pick([0n, 1n, 2n, 0xffffn, 0x10000n, 0x10001n, 0xffffffffn, 0x100000000n, 0x100000001n, M64])
        : rng.reg64();
      b.setReg(1, 8, v);
    }
  }

  private shapeDiv(b: Build, signed: boolean, divisor: Loc, size: number): void {
    const { rng } = b;
    const bits = size * 8;
    const mask = (1n << BigInt(bits)) - 1n;
    const r = rng.float();
    if (r < 0.1) b.set(divisor, 0n);
    else if (r < 0.4) {
      const sign = 1n << BigInt(bits - 1);
      b.set(divisor, rng.pick([1n, mask, 2n, 3n, 10n, sign, sign - 1n, sign + 1n, mask - 1n]));
    }
    const dv = b.get(divisor);
    const dvs = signed ? BigInt.asIntN(bits, dv) : dv;
    const r2 = rng.float();
    let dividend: bigint | null = null;
    if (dvs !== 0n && r2 < 0.55) {
      const q = signed ? BigInt.asIntN(bits, rng.edge(bits)) : rng.edge(bits);
      const absd = dvs < 0n ? -dvs : dvs;
      let rem = absd > 1n ? rng.bits(bits) % absd : 0n;
      const prod = q * dvs;
      if (signed && (prod < 0n || (prod === 0n && rng.chance(0.5)))) rem = -rem;
      dividend = prod + rem;
    } else if (dvs !== 0n && r2 < 0.75) {
      const q = signed ? (rng.chance(0.5) ? 1n << BigInt(bits - 1) : -(1n << BigInt(bits - 1)) - 1n) : 1n << BigInt(bits);
      dividend = q * dvs;
    }
    if (dividend === null) return;
    const wide = BigInt.asUintN(2 * bits, dividend);
    if (bits === 8) b.setReg(0, 2, wide);
    else {
      b.setReg(0, size, wide & mask);
      b.setReg(2, size, wide >> BigInt(bits));
    }
  }

  // ---- string instructions and XLAT (raw bytes) ---------------------------------------------
  private genString(b: Build): Uint8Array {
    const { rng, form: f, mode } = b;
    const mn = f.mnemonic;
    const name = Mnemonic[mn];
    const elem = ({ b: 1, w: 2, d: 4, q: 8 } as Record<string, number>)[name[name.length - 1]];
    const family = name.slice(0, 4).toLowerCase();
    const opcode = ({ movs: 0xa4, cmps: 0xa6, stos: 0xaa, lods: 0xac, scas: 0xae } as Record<string, number>)[family] + (elem === 1 ? 0 : 1);
    const usesSrc = family === 'movs' || family === 'cmps' || family === 'lods';
    const usesDst = family !== 'lods';
    const compares = family === 'cmps' || family === 'scas';
    const asz = mode === 64 ? (rng.chance(0.2) ? 32 : 64) : rng.chance(0.2) ? 16 : 32;
    const prefixes: number[] = [];
    let rep = 0;
    const r = rng.float();
    if (r < 0.45) rep = 0xf3;
    else if (r < 0.65 && compares) rep = 0xf2;
    if (rep) prefixes.push(rep);
    if (elem === 2) prefixes.push(0x66);
    if (asz !== mode) prefixes.push(0x67);
    let seg = -1;
    const gsOk = mode === 64 || this.env.gsCompat;
    if (usesSrc && rng.chance(asz === 16 ? 0.8 : 0.3)) {
      seg = asz === 16 && gsOk ? 0x65 : rng.pick(gsOk ? [0x26, 0x2e, 0x36, 0x3e, 0x65, 0x65] : [0x26, 0x2e, 0x36, 0x3e]);
    } else if (!usesSrc && rng.chance(0.1)) seg = rng.pick([0x2e, 0x3e]); // ignored on STOS/SCAS
    if (seg >= 0) prefixes.push(seg);
    // Random prefix order.
    for (let i = prefixes.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [prefixes[i], prefixes[j]] = [prefixes[j], prefixes[i]];
    }
    const bytes = [...prefixes];
    if (elem === 8) bytes.push(rng.chance(0.8) ? 0x48 : rng.pick([0x49, 0x4c, 0x4f]));
    else if (mode === 64 && rng.chance(0.05)) bytes.push(0x40);
    bytes.push(opcode);

    const count = rep ? (rng.chance(0.85) ? rng.range(0, 12) : rng.range(13, 40)) : 1;
    const down = (b.rflags & EFLAGS_DF) !== 0;
    const span = Math.max(count, 1) * elem;
    const M = 1n << BigInt(asz);
    const hiMask = M64 ^ (M - 1n);
    const place = (idx: number, sb: bigint): bigint => {
      let lin: number;
      const k = rng.float();
      if (k < 0.06) lin = down ? DATA_BASE + rng.range(0, span) : DATA_END - rng.range(1, span); // runs off the end: #PF midway
      else if (k < 0.2 && sb === 0n) lin = STACK_BASE + 64 + span + rng.int(STACK_SIZE - 2 * span - 128);
      else lin = dataSpot(rng, span, rng.chance(0.7) ? elem : 1);
      const ea = mod(BigInt(lin) - sb, M);
      b.rf.regs[idx] = (b.rf.regs[idx] & hiMask) | ea;
      b.rf.fixed[idx] = true;
      // Linear address actually used (16-bit offsets without a base land in the first 64 KiB).
      return mode === 64 ? mod(sb + ea, 1n << 64n) : mod(sb + ea, 1n << 32n);
    };
    const srcSeg = seg === 0x65 ? Register.GS : Register.None;
    const src = usesSrc ? place(6, segBase(srcSeg)) : null;
    const dst = usesDst ? place(7, 0n) : null;
    // Count (only the address-size part counts; the rest is noise).
    b.rf.regs[1] = (rep ? (rng.u64() & hiMask) | BigInt(count) : rng.reg64());
    // Memory contents; compares sometimes see runs of equal elements.
    const step = down ? -BigInt(elem) : BigInt(elem);
    const n = Math.max(count, 1);
    const equalRun = compares && rng.chance(0.6) ? rng.range(0, n) : -1;
    const acc = b.getReg(0, elem);
    for (let i = 0; i < n; i++) {
      const v = rng.edge(elem * 8);
      if (src !== null) b.writeMem(src + step * BigInt(i), elem, v);
      if (dst !== null) {
        const eq = i < equalRun;
        const w = family === 'cmps' ? (eq ? v : rng.edge(elem * 8)) : family === 'scas' ? (eq ? acc : rng.edge(elem * 8)) : rng.edge(elem * 8);
        b.writeMem(dst + step * BigInt(i), elem, w);
      }
    }
    return Uint8Array.from(bytes);
  }

  private genXlat(b: Build): Uint8Array {
    const { rng, mode } = b;
    const asz = mode === 64 ? (rng.chance(0.2) ? 32 : 64) : rng.chance(0.2) ? 16 : 32;
    const gsOk = mode === 64 || this.env.gsCompat;
    const bytes: number[] = [];
    let sb = 0n;
    if ((asz === 16 && gsOk) || rng.chance(0.3)) {
      const p = asz === 16 && gsOk ? 0x65 : rng.pick(gsOk ? [0x26, 0x2e, 0x36, 0x3e, 0x65] : [0x26, 0x2e, 0x36, 0x3e]);
      bytes.push(p);
      if (p === 0x65) sb = segBase(Register.GS);
    }
    if (asz !== mode) bytes.push(0x67);
    if (mode === 64 && rng.chance(0.2)) bytes.push(0x48);
    for (let i = bytes.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      if (bytes[i] !== 0x48 && bytes[j] !== 0x48) [bytes[i], bytes[j]] = [bytes[j], bytes[i]];
    }
    bytes.push(0xd7);
    const M = 1n << BigInt(asz);
    const table = rng.chance(0.95) ? dataSpot(rng, 256) : DATA_END - rng.range(1, 255);
    const ea = mod(BigInt(table) - sb, M);
    b.rf.regs[3] = (b.rf.regs[3] & (M64 ^ (M - 1n))) | ea;
    b.rf.fixed[3] = true;
    const al = b.getReg(0, 1);
    const lin = mode === 64 ? mod(sb + mod(ea + al, M), 1n << 64n) : mod(sb + mod(ea + al, M), 1n << 32n);
    b.writeMem(lin, 1, rng.edge(8));
    return Uint8Array.from(bytes);
  }

  private genInvalid64(b: Build): Uint8Array {
    // The 32-bit encoding of a BCD instruction (no operands but AAM/AAD's imm8).
    const op = ({ Daa: 0x27, Das: 0x2f, Aaa: 0x37, Aas: 0x3f, Aam: 0xd4, Aad: 0xd5 } as Record<string, number>)[Mnemonic[b.form.mnemonic]];
    return op === 0xd4 || op === 0xd5 ? Uint8Array.of(op, b.rng.int(256)) : Uint8Array.of(op);
  }

  // ---- prefixes -------------------------------------------------------------------------------
  /**
   * Prefixes added to an encoding: LOCK (legal on a lockable memory destination, #UD anywhere
   * else) and, sometimes, prefixes that do not change the instruction: a redundant segment
   * override, an empty REX, or a REX.W that is ignored because a legacy prefix follows it.
   * Returns how many bytes are added (before the opcode) and the function that adds them.
   */
  private planPrefixes(b: Build, bytes: Uint8Array): { extra: number; apply: (x: Uint8Array) => Uint8Array } {
    const { rng, mode, form: f } = b;
    const lock = b.lock || rng.chance(0.03);
    const LEGACY = new Set([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]);
    let i = 0;
    let hasSeg = false;
    while (i < bytes.length && LEGACY.has(bytes[i])) {
      if ([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65].includes(bytes[i])) hasSeg = true;
      i++;
    }
    const hasRex = mode === 64 && (bytes[i] & 0xf0) === 0x40;
    let ins: ((x: number[]) => void) | null = null;
    let front = false; // added before LOCK (at the very start)
    const r = rng.float();
    if (!f.vex && r < 0.12) {
      if (r < 0.05) {
        if (!hasSeg && f.kind === 'generic') {
          const p = rng.pick(mode === 64 ? [0x26, 0x2e, 0x36, 0x3e] : [0x26, 0x36, 0x3e]);
          ins = (x) => x.unshift(p);
        }
      } else if (r < 0.09) {
        if (mode === 64 && !hasRex) ins = (x) => x.splice(i, 0, 0x40);
      } else if (mode === 64 && !hasRex && (i > 0 || lock)) {
        ins = (x) => x.unshift(0x48);
        front = true;
      }
    }
    const extra = (lock ? 1 : 0) + (ins !== null ? 1 : 0);
    if (bytes.length + extra > 15) return { extra: 0, apply: (x) => x };
    return {
      extra,
      apply: (x) => {
        const out = [...x];
        if (ins !== null && !front) ins(out);
        if (lock) out.unshift(0xf0);
        if (ins !== null && front) ins(out);
        return Uint8Array.from(out);
      },
    };
  }

  /** The explicit memory operand's address, recomputed from the decoded bytes, must be the one chosen. */
  private checkSafety(b: Build, d: DecodedInsn): void {
    if (d.invalid || d.mem === null || b.memSpec === null || b.memSpec.linear === null) return;
    const m = d.mem;
    const M = 1n << BigInt(8 * m.addrSize);
    let ea: bigint;
    if (m.ripRelative) ea = (BigInt(m.dispHi >>> 0) << 32n) | BigInt(m.dispLo >>> 0);
    else {
      ea = (BigInt(m.dispHi >>> 0) << 32n) | BigInt(m.dispLo >>> 0);
      if (m.base >= 0) ea += b.rf.regs[m.base];
      if (m.index >= 0) ea += b.rf.regs[m.index] * BigInt(m.scale);
    }
    ea = mod(ea, M);
    const sb = m.seg === 5 ? segBase(Register.GS) : 0n;
    const lin = b.mode === 64 ? mod(sb + ea, 1n << 64n) : mod(sb + ea, 1n << 32n);
    const ok = lin === b.memSpec.linear;
    // POP m with an RSP base addresses memory after the pop; allow that shift.
    const popShift = d.mnemonic === Mnemonic.Pop && m.base === 4;
    if (!ok && !popShift) {
      throw new Error(`internal: ${b.form.name}: decoded address 0x${lin.toString(16)} != chosen 0x${b.memSpec.linear.toString(16)}`);
    }
    if (!isSafeLinear(lin - 16n, m.size + 32, b.mode)) throw new Retry('unsafe address');
  }
}

function patchesOf(mem: Map<number, number>): Patch[] {
  const addrs = [...mem.keys()].sort((a, b) => a - b);
  const out: Patch[] = [];
  let i = 0;
  while (i < addrs.length) {
    let j = i;
    while (j + 1 < addrs.length && addrs[j + 1] === addrs[j] + 1 && j - i < 255) j++;
    const data = new Uint8Array(j - i + 1);
    for (let k = i; k <= j; k++) data[k - i] = mem.get(addrs[k])!;
    out.push({ addr: addrs[i], data });
    i = j + 1;
  }
  return out;
}


/** Binary32 bit patterns that lean to the edges: zeros, infinities, NaNs, denormals, 1, extremes. */
export function fpValue32(rng: Rng): number {
  const sign = rng.chance(0.5) ? 0x80000000 : 0;
  switch (rng.int(12)) {
    case 0: return sign >>> 0;
    case 1: return (sign | 0x7f800000) >>> 0;
    case 2: return (sign | 0x7fc00000 | rng.int(0x400000)) >>> 0; // QNaN
    case 3: return (sign | 0x7f800000 | (1 + rng.int(0x3fffff))) >>> 0; // SNaN
    case 4: return (sign | (1 + rng.int(0x7fffff))) >>> 0; // denormal
    case 5: return (sign | 0x3f800000 | (rng.chance(0.5) ? 0 : rng.int(0x800000))) >>> 0; // [1, 2)
    case 6: return (sign | (rng.pick([0x7f000000, 0x7e800000, 0x00800000, 0x01000000, 0x0c800000, 0x72800000]) + rng.int(0x800000))) >>> 0;
    case 7: return (sign | (rng.range(0x3e, 0x50) << 23) | rng.int(0x800000)) >>> 0; // integers and fractions
    case 8: return (sign | 0x4f000000 | rng.int(4)) >>> 0; // near 2^31
    default: return (sign | ((1 + rng.int(254)) << 23) | rng.int(0x800000)) >>> 0;
  }
}
/** Binary64 bit patterns with the same leaning. */
export function fpValue64(rng: Rng): bigint {
  const sign = rng.chance(0.5) ? 1n << 63n : 0n;
  const frac = (): bigint => rng.u64() & ((1n << 52n) - 1n);
  const exp = (e: number): bigint => BigInt(e) << 52n;
  switch (rng.int(12)) {
    case 0: return sign;
    case 1: return sign | exp(0x7ff);
    case 2: return sign | exp(0x7ff) | (1n << 51n) | (frac() >> 1n);
    case 3: return sign | exp(0x7ff) | 1n | (frac() >> 2n);
    case 4: return sign | 1n | frac();
    case 5: return sign | exp(0x3ff) | (rng.chance(0.5) ? 0n : frac());
    case 6: return sign | exp(rng.pick([0x7fe, 0x7fd, 1, 2, 0x3c0, 0x340, 0x380, 0x47f, 0x36a])) | frac();
    case 7: return sign | exp(rng.range(0x3fc, 0x43e)) | frac();
    case 8: return sign | exp(rng.pick([0x41e, 0x43e])) | BigInt(rng.int(4));
    default: return sign | exp(1 + rng.int(0x7fe)) | frac();
  }
}
