/**
 * How a parsed operand fills one operand kind of an iced form (encoder.ts tries every form of a
 * mnemonic): register classes and fixed registers, memory with its size and address size,
 * immediates that fit (NASM's sign-extension rules), branches, far pointers, and the implicit
 * string operands. Each fill writes the operand into an iced `Instruction`.
 */
import { Instruction, MemorySize, OpCodeOperandKind as K, OpKind, Register } from 'iced-x86';
import type { MemOperand } from './operands';
import type { Form, Resolved } from './encoder';

const GPR_KINDS: Partial<Record<K, string>> = {
  [K.r8_reg]: 'gpr8', [K.r8_opcode]: 'gpr8', [K.r8_or_mem]: 'gpr8',
  [K.r16_reg]: 'gpr16', [K.r16_reg_mem]: 'gpr16', [K.r16_rm]: 'gpr16', [K.r16_opcode]: 'gpr16', [K.r16_or_mem]: 'gpr16',
  [K.r32_reg]: 'gpr32', [K.r32_reg_mem]: 'gpr32', [K.r32_rm]: 'gpr32', [K.r32_opcode]: 'gpr32', [K.r32_vvvv]: 'gpr32',
  [K.r32_or_mem]: 'gpr32', [K.r32_or_mem_mpx]: 'gpr32',
  [K.r64_reg]: 'gpr64', [K.r64_reg_mem]: 'gpr64', [K.r64_rm]: 'gpr64', [K.r64_opcode]: 'gpr64', [K.r64_vvvv]: 'gpr64',
  [K.r64_or_mem]: 'gpr64', [K.r64_or_mem_mpx]: 'gpr64',
  [K.seg_reg]: 'seg', [K.k_reg]: 'k', [K.kp1_reg]: 'k', [K.k_rm]: 'k', [K.k_vvvv]: 'k', [K.k_or_mem]: 'k',
  [K.mm_reg]: 'mm', [K.mm_rm]: 'mm', [K.mm_or_mem]: 'mm',
  [K.xmm_reg]: 'xmm', [K.xmm_rm]: 'xmm', [K.xmm_vvvv]: 'xmm', [K.xmmp3_vvvv]: 'xmm', [K.xmm_is4]: 'xmm', [K.xmm_is5]: 'xmm', [K.xmm_or_mem]: 'xmm',
  [K.ymm_reg]: 'ymm', [K.ymm_rm]: 'ymm', [K.ymm_vvvv]: 'ymm', [K.ymm_is4]: 'ymm', [K.ymm_is5]: 'ymm', [K.ymm_or_mem]: 'ymm',
  [K.zmm_reg]: 'zmm', [K.zmm_rm]: 'zmm', [K.zmm_vvvv]: 'zmm', [K.zmmp3_vvvv]: 'zmm', [K.zmm_or_mem]: 'zmm',
  [K.cr_reg]: 'cr', [K.dr_reg]: 'dr', [K.tr_reg]: 'tr', [K.bnd_reg]: 'bnd', [K.bnd_or_mem_mpx]: 'bnd',
  [K.tmm_reg]: 'tmm', [K.tmm_rm]: 'tmm', [K.tmm_vvvv]: 'tmm', [K.sti_opcode]: 'st',
};
export const FIXED_REG: Partial<Record<K, Register>> = {
  [K.es]: Register.ES, [K.cs]: Register.CS, [K.ss]: Register.SS, [K.ds]: Register.DS, [K.fs]: Register.FS, [K.gs]: Register.GS,
  [K.al]: Register.AL, [K.cl]: Register.CL, [K.ax]: Register.AX, [K.dx]: Register.DX, [K.eax]: Register.EAX, [K.rax]: Register.RAX,
  [K.st0]: Register.ST0,
};
const MEM_OR_REG = new Set<K>([
  K.r8_or_mem, K.r16_or_mem, K.r32_or_mem, K.r32_or_mem_mpx, K.r64_or_mem, K.r64_or_mem_mpx, K.mm_or_mem, K.xmm_or_mem,
  K.ymm_or_mem, K.zmm_or_mem, K.bnd_or_mem_mpx, K.k_or_mem,
]);
const MEM_ONLY = new Set<K>([K.mem, K.mem_mpx, K.mem_mib, K.sibmem]);
export const STRING_KINDS = new Set<K>([K.seg_rSI, K.es_rDI, K.seg_rDI, K.seg_rBX_al]);

const IMM_BITS: Partial<Record<K, number>> = {
  [K.imm8]: 8, [K.imm8_const_1]: 8, [K.imm8sex16]: 8, [K.imm8sex32]: 8, [K.imm8sex64]: 8,
  [K.imm16]: 16, [K.imm32]: 32, [K.imm32sex64]: 32, [K.imm64]: 64,
};
const SHORT_BRANCH = new Set<K>([K.br16_1, K.br32_1, K.br64_1]);
const NEAR_BRANCH = new Set<K>([K.br16_2, K.br32_4, K.br64_4, K.xbegin_2, K.xbegin_4, K.brdisp_2, K.brdisp_4]);

/** v (two's complement, any width) fits an n-bit field read as signed or unsigned. */
function fitsEither(v: bigint, n: number): boolean {
  const s = BigInt.asIntN(64, v);
  return s < 0n ? s >= -(1n << BigInt(n - 1)) : s <= (1n << BigInt(n)) - 1n;
}
/** The low `width` bits of v are the sign extension of its low 8 bits. */
function sex8Fits(v: bigint, width: number): boolean {
  const w = BigInt.asUintN(width, v);
  return BigInt.asUintN(width, BigInt.asIntN(8, w)) === w;
}

const isFarMem = (ms: MemorySize): boolean => MemorySize[ms]?.startsWith('SegPtr') ?? false;

function addrSizeOf(m: MemOperand, bits: number): number {
  const r = m.base ?? m.index;
  if (r === null) return bits;
  if (r.cls === 'ip') return r.reg === Register.EIP ? 32 : 64;
  if (r.cls === 'gpr16') return 16;
  if (r.cls === 'gpr32') return 32;
  return 64;
}

/** Fill a memory operand into `ins`. Returns false when the address cannot be encoded. */
function setMemory(ins: Instruction, m: MemOperand, disp: bigint, bits: number, reloc: boolean): boolean {
  let base = m.base?.reg ?? Register.None;
  let index = m.index?.reg ?? Register.None;
  let scale = m.scale;
  const as = addrSizeOf(m, bits);
  if (as === 16) {
    // [si+bx] is [bx+si]: 16-bit addressing has BX/BP as base, SI/DI as index.
    if ((base === Register.SI || base === Register.DI) && (index === Register.BX || index === Register.BP)) [base, index] = [index, base];
    if (scale !== 1) return false;
  } else if (index !== Register.None && (index === Register.ESP || index === Register.RSP) && scale === 1 && base !== Register.None) {
    // ESP/RSP cannot be an index: [eax+esp] is [esp+eax].
    [base, index] = [index, base];
  }
  ins.memoryBase = base;
  ins.memoryIndex = index;
  ins.memoryIndexScale = scale;
  ins.segmentPrefix = m.seg;
  let displSize: number;
  if (base === Register.RIP || base === Register.EIP) {
    ins.memoryDisplacement = BigInt.asUintN(64, disp);
    displSize = 8;
  } else if (m.rel && bits === 64 && m.seg !== Register.FS && m.seg !== Register.GS) {
    ins.memoryBase = Register.RIP;
    ins.memoryDisplacement = BigInt.asUintN(64, disp);
    displSize = 8;
  } else {
    ins.memoryDisplacement = BigInt.asUintN(as === 64 ? 64 : as, disp);
    if (base === Register.None) displSize = as === 16 ? 2 : as === 32 ? 4 : 8;
    // A relocatable displacement keeps its full size (NASM: [ebx + lbl] is disp32).
    else if (reloc) displSize = as === 16 ? 2 : as === 32 ? 4 : 8;
    else displSize = m.disp === null || disp === 0n ? 0 : 1;
  }
  ins.memoryDisplSize = displSize;
  return true;
}

export interface Fill {
  (ins: Instruction, i: number, prevImm: boolean): boolean;
  /** The immediate does not fit the field and is truncated. */
  truncated?: boolean;
}

const R32M16_READERS = new Set(['lldt', 'ltr', 'verr', 'verw', 'lmsw', 'arpl', 'lar', 'lsl', 'mov']);

/** How operand `r` fills kind `k` of form `f`, or null when it cannot. */
export function matcher(f: Form, k: K, r: Resolved, bits: number, mnemonic: string, opSize: number, index: number): Fill | null {
  const op = r.op;
  if (op.k === 'reg') {
    const fixed = FIXED_REG[k];
    if (fixed !== undefined) return op.r.reg === fixed ? (ins, i) => { ins.setOpKind(i, OpKind.Register); ins.setOpRegister(i, fixed); return true; } : null;
    if (GPR_KINDS[k] !== op.r.cls) {
      // NASM writes `lldt ax`, `mov ds, ax`, `lsl eax, bx`, `arpl dx, bx` in 32/64-bit code
      // without the operand-size prefix: the r32/m16 form with the full register.
      const wide = op.r.cls === 'gpr16' && R32M16_READERS.has(mnemonic) && (mnemonic !== 'mov' || index === 1) &&
        (((k === K.r32_or_mem || k === K.r64_or_mem) && f.memBytes === 2) || (mnemonic === 'arpl' && k === K.r32_reg));
      if (!wide) return null;
      const reg = op.r.reg - Register.AX + (k === K.r64_or_mem ? Register.RAX : Register.EAX);
      return (ins, i) => { ins.setOpKind(i, OpKind.Register); ins.setOpRegister(i, reg); return true; };
    }
    if (op.size !== 0 && op.r.size !== 0 && op.size !== op.r.size) return null;
    return (ins, i) => { ins.setOpKind(i, OpKind.Register); ins.setOpRegister(i, op.r.reg); return true; };
  }
  if (op.k === 'mem') {
    const m = op;
    const disp = (r as { disp: bigint }).disp;
    if (k === K.mem_offs) {
      if (m.base !== null || m.index !== null || m.rel) return null;
      if (m.size !== 0 && f.memBytes !== 0 && m.size !== f.memBytes) return null;
      return (ins, i) => {
        ins.setOpKind(i, OpKind.Memory);
        ins.memoryBase = Register.None;
        ins.memoryIndex = Register.None;
        ins.segmentPrefix = m.seg;
        ins.memoryDisplacement = BigInt.asUintN(bits, disp);
        ins.memoryDisplSize = bits / 8;
        return true;
      };
    }
    if (!MEM_OR_REG.has(k) && !MEM_ONLY.has(k)) return null;
    const far = isFarMem(f.memSize);
    if ((mnemonic === 'jmp' || mnemonic === 'call') && far !== m.far) return null;
    if (m.size !== 0 && f.memBytes !== 0 && m.size !== f.memBytes && !far) return null;
    const reloc = (r as { reloc?: boolean }).reloc === true;
    return (ins, i) => { ins.setOpKind(i, OpKind.Memory); return setMemory(ins, m, disp, bits, reloc); };
  }
  if (op.k === 'farptr') {
    const { seg, off } = r as { seg: bigint; off: bigint };
    if (k !== K.farbr2_2 && k !== K.farbr4_2) return null;
    // Like near branches, a far pointer takes the mode's operand size unless o16/o32 or a size
    // says otherwise (NASM truncates a wider offset in 16-bit code, with a warning).
    const want = opSize !== 0 ? opSize : op.size !== 0 ? op.size * 8 : bits;
    if (f.operandSize !== 0 && f.operandSize !== want) return null;
    if (k === K.farbr2_2 && op.size === 4) return null;
    if (k === K.farbr4_2 && op.size === 2) return null;
    const fill: Fill = (ins, i) => {
      ins.setOpKind(i, k === K.farbr2_2 ? OpKind.FarBranch16 : OpKind.FarBranch32);
      if (k === K.farbr2_2) ins.farBranch16 = Number(off & 0xffffn);
      else ins.farBranch32 = Number(off & 0xffffffffn);
      ins.farBranchSelector = Number(seg & 0xffffn);
      return true;
    };
    if ((k === K.farbr2_2 && !fitsEither(off, 16)) || !fitsEither(seg, 16)) fill.truncated = true;
    return fill;
  }
  // Immediates and branch targets.
  const v = (r as { value: bigint }).value;
  if (SHORT_BRANCH.has(k) || NEAR_BRANCH.has(k)) {
    // NASM's branches take the mode's operand size (E9 rel32 in 32- and 64-bit code, never the
    // 66-prefixed rel16 form) unless o16/o32 or a size keyword asks for another.
    const want = opSize !== 0 ? opSize : op.size !== 0 ? op.size * 8 : bits;
    if (f.operandSize !== 0 && f.operandSize !== want && !(bits === 64 && want === 32 && f.operandSize === 64)) return null;
    if (op.short && !SHORT_BRANCH.has(k)) return null;
    if (op.near && SHORT_BRANCH.has(k)) return null;
    return (ins, i) => {
      if (k === K.br16_1 || k === K.br16_2 || k === K.xbegin_2 || k === K.brdisp_2) {
        ins.setOpKind(i, OpKind.NearBranch16);
        ins.nearBranch16 = Number(BigInt.asUintN(16, v));
      } else if (k === K.br32_1 || k === K.br32_4 || k === K.xbegin_4 || k === K.brdisp_4) {
        ins.setOpKind(i, OpKind.NearBranch32);
        ins.nearBranch32 = Number(BigInt.asUintN(32, v));
      } else {
        ins.setOpKind(i, OpKind.NearBranch64);
        ins.nearBranch64 = BigInt.asUintN(64, v);
      }
      return true;
    };
  }
  const width = IMM_BITS[k];
  if (width === undefined) return null;
  // `push imm` takes the mode's operand size (NASM: push 0x1234 in 32-bit code is push dword).
  if (mnemonic === 'push' && f.kinds.length === 1 && op.size === 0) {
    const want = opSize !== 0 ? opSize : bits;
    if (f.operandSize !== 0 && f.operandSize !== want) return null;
  }
  // A relocatable immediate is never shortened to a sign-extended form (NASM: `push lbl` is
  // push imm32, `add eax, lbl` is 05 imm32, `mov rax, lbl` is the imm64 form).
  const reloc = (r as { reloc?: boolean }).reloc === true;
  if (reloc && (k === K.imm8sex16 || k === K.imm8sex32 || k === K.imm8sex64)) return null;
  if (op.size !== 0) {
    // An explicit size: `push byte 5` takes an imm8 form; otherwise the operand size (or the
    // immediate's width) must equal the size given; `strict` forbids the shorter sign-extended form.
    if (op.size === 1 ? width !== 8 : f.operandSize !== 0 ? f.operandSize !== op.size * 8 && width !== op.size * 8 : width !== op.size * 8) return null;
    if (op.strict && op.size !== 1 && width === 8) return null;
  }
  // A value wider than the field is truncated, as NASM does (with a warning); a form that
  // needs no truncation is preferred when there is one (see `truncated`).
  const mark = (fill: Fill, fits: boolean): Fill => { if (!fits) fill.truncated = true; return fill; };
  switch (k) {
    case K.imm8_const_1:
      if (v !== 1n) return null;
      return (ins, i) => { ins.setOpKind(i, OpKind.Immediate8); ins.immediate8 = 1; return true; };
    case K.imm8:
      return mark((ins, i, prevImm) => {
        if (prevImm) { ins.setOpKind(i, OpKind.Immediate8_2nd); ins.immediate8_2nd = Number(BigInt.asUintN(8, v)); }
        else { ins.setOpKind(i, OpKind.Immediate8); ins.immediate8 = Number(BigInt.asUintN(8, v)); }
        return true;
      }, fitsEither(v, 8));
    case K.imm8sex16:
      if (!sex8Fits(v, 16)) return null;
      return mark((ins, i) => { ins.setOpKind(i, OpKind.Immediate8to16); ins.immediate8to16 = Number(BigInt.asIntN(8, v)); return true; }, fitsEither(v, 16));
    case K.imm8sex32:
      if (!sex8Fits(v, 32)) return null;
      return mark((ins, i) => { ins.setOpKind(i, OpKind.Immediate8to32); ins.immediate8to32 = Number(BigInt.asIntN(8, v)); return true; }, fitsEither(v, 32));
    case K.imm8sex64:
      if (!sex8Fits(v, 64)) return null;
      return (ins, i) => { ins.setOpKind(i, OpKind.Immediate8to64); ins.immediate8to64 = BigInt.asIntN(8, v); return true; };
    case K.imm16:
      return mark((ins, i) => { ins.setOpKind(i, OpKind.Immediate16); ins.immediate16 = Number(BigInt.asUintN(16, v)); return true; }, fitsEither(v, 16));
    case K.imm32:
      return mark((ins, i) => { ins.setOpKind(i, OpKind.Immediate32); ins.immediate32 = Number(BigInt.asUintN(32, v)); return true; }, fitsEither(v, 32));
    case K.imm32sex64: {
      const s = BigInt.asIntN(64, v);
      if (s < -(1n << 31n) || s >= 1n << 31n) return null;
      return (ins, i) => { ins.setOpKind(i, OpKind.Immediate32to64); ins.immediate32to64 = s; return true; };
    }
    case K.imm64:
      return (ins, i) => { ins.setOpKind(i, OpKind.Immediate64); ins.immediate64 = BigInt.asUintN(64, v); return true; };
  }
  return null;
}

export function implicitFill(k: K, bits: number): Fill {
  const fixed = FIXED_REG[k];
  if (fixed !== undefined) return (ins, i) => { ins.setOpKind(i, OpKind.Register); ins.setOpRegister(i, fixed); return true; };
  const kindBySize = (a: OpKind, b: OpKind, c: OpKind): OpKind => (bits === 16 ? a : bits === 32 ? b : c);
  return (ins, i) => {
    if (k === K.seg_rSI) ins.setOpKind(i, kindBySize(OpKind.MemorySegSI, OpKind.MemorySegESI, OpKind.MemorySegRSI));
    else if (k === K.es_rDI) ins.setOpKind(i, kindBySize(OpKind.MemoryESDI, OpKind.MemoryESEDI, OpKind.MemoryESRDI));
    else if (k === K.seg_rDI) ins.setOpKind(i, kindBySize(OpKind.MemorySegDI, OpKind.MemorySegEDI, OpKind.MemorySegRDI));
    else {
      ins.setOpKind(i, OpKind.Memory);
      ins.memoryBase = bits === 16 ? Register.BX : bits === 32 ? Register.EBX : Register.RBX;
      ins.memoryIndex = Register.AL;
    }
    ins.segmentPrefix = Register.None;
    return true;
  };
}
