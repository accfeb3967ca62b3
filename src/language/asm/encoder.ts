/**
 * Instruction encoding through iced-x86 (never hand-made opcode tables): the parsed operands
 * are matched against every iced `Code` of the mnemonic (its OpCodeInfo operand kinds, memory
 * size and modes), each match is filled into an iced `Instruction` and encoded with `Encoder`,
 * and the shortest encoding wins (ties: the first form in iced's order, which is the opcode
 * order NASM's tables follow, e.g. `mov r/m32, r32` before `mov r32, r/m32`).
 * NASM's own choices that differ from "shortest" are applied here and named in comments.
 */
import {
  Code, CodeExt, Encoder, EncodingKind, Instruction, MemorySize, MemorySizeExt, Mnemonic, OpCodeOperandKind as K,
  OpKind, Register,
} from 'iced-x86';
import { AsmError } from './lexer';
import type { MemOperand, Operand } from './operands';
import type { RegInfo } from './registers';

interface Form {
  code: Code;
  kinds: K[];
  memBytes: number;
  memSize: MemorySize;
  operandSize: number;
  mode16: boolean;
  mode32: boolean;
  mode64: boolean;
}

let FORMS: Map<string, Form[]> | null = null;

/** Every iced Code by lower-case mnemonic (built once; OpCodeInfo objects are freed). */
export function formsByMnemonic(): Map<string, Form[]> {
  if (FORMS !== null) return FORMS;
  const m = new Map<string, Form[]>();
  for (const v of Object.values(Code)) {
    if (typeof v !== 'number') continue;
    const o = CodeExt.opCode(v);
    try {
      if (!o.isInstruction || o.encoding === EncodingKind.MVEX) continue;
      const name = Mnemonic[o.mnemonic].toLowerCase();
      const kinds: K[] = [];
      for (let i = 0; i < o.opCount; i++) kinds.push(o.opKind(i));
      const f: Form = {
        code: v, kinds, memSize: o.memorySize, memBytes: MemorySizeExt.size(o.memorySize), operandSize: o.operandSize,
        mode16: o.mode16, mode32: o.mode32, mode64: o.mode64,
      };
      let list = m.get(name);
      if (list === undefined) m.set(name, (list = []));
      list.push(f);
    } finally {
      o.free();
    }
  }
  FORMS = m;
  return m;
}

const CC_ALIASES: Record<string, string> = {
  z: 'e', nz: 'ne', c: 'b', nc: 'ae', nae: 'b', nb: 'ae', na: 'be', nbe: 'a', pe: 'p', po: 'np',
  nge: 'l', nl: 'ge', ng: 'le', nle: 'g',
};
const ALIASES: Record<string, string> = {
  sal: 'shl', icebp: 'int1', fwait: 'wait', retn: 'ret', loopz: 'loope', loopnz: 'loopne', xlat: 'xlatb',
  iretw: 'iret', pushfw: 'pushf', popfw: 'popf',
};

/** iced's mnemonic for a NASM mnemonic (condition-code aliases and NASM spellings). */
export function canonicalMnemonic(m: string): string {
  const l = m.toLowerCase();
  if (l in ALIASES) return ALIASES[l];
  for (const p of ['j', 'set', 'cmov']) {
    if (l.startsWith(p) && l.slice(p.length) in CC_ALIASES) return p + CC_ALIASES[l.slice(p.length)];
  }
  return l;
}

export function isMnemonic(m: string): boolean {
  return formsByMnemonic().has(canonicalMnemonic(m));
}

/** An operand with its expressions evaluated by the assembler. */
export type Resolved =
  | { op: Operand & { k: 'reg' } }
  | { op: MemOperand; disp: bigint; reloc?: boolean }
  | { op: Operand & { k: 'imm' }; value: bigint; reloc?: boolean }
  | { op: Operand & { k: 'farptr' }; seg: bigint; off: bigint };

export interface EncodeRequest {
  mnemonic: string;
  operands: Resolved[];
  bits: 16 | 32 | 64;
  ip: bigint;
  lock: boolean;
  rep: 'rep' | 'repne' | null;
  /** `o16`/`o32`/`o64` prefix: the operand size wanted (0: any). */
  opSize?: number;
  /** `a16`/`a32`/`a64` prefix: the address size of implicit string operands (0: the mode's). */
  addrSize?: number;
  col: number;
}

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
const FIXED_REG: Partial<Record<K, Register>> = {
  [K.es]: Register.ES, [K.cs]: Register.CS, [K.ss]: Register.SS, [K.ds]: Register.DS, [K.fs]: Register.FS, [K.gs]: Register.GS,
  [K.al]: Register.AL, [K.cl]: Register.CL, [K.ax]: Register.AX, [K.dx]: Register.DX, [K.eax]: Register.EAX, [K.rax]: Register.RAX,
  [K.st0]: Register.ST0,
};
const MEM_OR_REG = new Set<K>([
  K.r8_or_mem, K.r16_or_mem, K.r32_or_mem, K.r32_or_mem_mpx, K.r64_or_mem, K.r64_or_mem_mpx, K.mm_or_mem, K.xmm_or_mem,
  K.ymm_or_mem, K.zmm_or_mem, K.bnd_or_mem_mpx, K.k_or_mem,
]);
const MEM_ONLY = new Set<K>([K.mem, K.mem_mpx, K.mem_mib, K.sibmem]);
const STRING_KINDS = new Set<K>([K.seg_rSI, K.es_rDI, K.seg_rDI, K.seg_rBX_al]);

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

interface Fill {
  (ins: Instruction, i: number, prevImm: boolean): boolean;
}

/** How operand `r` fills kind `k` of form `f`, or null when it cannot. */
function matcher(f: Form, k: K, r: Resolved, bits: number, mnemonic: string, opSize: number): Fill | null {
  const op = r.op;
  if (op.k === 'reg') {
    const fixed = FIXED_REG[k];
    if (fixed !== undefined) return op.r.reg === fixed ? (ins, i) => { ins.setOpKind(i, OpKind.Register); ins.setOpRegister(i, fixed); return true; } : null;
    if (GPR_KINDS[k] !== op.r.cls) return null;
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
    // Like near branches, a far pointer takes the mode's operand size unless o16/o32 or a size says otherwise.
    const want = opSize !== 0 ? opSize : op.size !== 0 ? op.size * 8 : bits;
    if (f.operandSize !== 0 && f.operandSize !== want) return null;
    if (k === K.farbr2_2 && (op.size === 4 || off > 0xffffn || off < 0n)) return null;
    if (k === K.farbr4_2 && op.size === 2) return null;
    return (ins, i) => {
      ins.setOpKind(i, k === K.farbr2_2 ? OpKind.FarBranch16 : OpKind.FarBranch32);
      if (k === K.farbr2_2) ins.farBranch16 = Number(off & 0xffffn);
      else ins.farBranch32 = Number(off & 0xffffffffn);
      ins.farBranchSelector = Number(seg & 0xffffn);
      return true;
    };
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
  switch (k) {
    case K.imm8_const_1:
      if (v !== 1n) return null;
      return (ins, i) => { ins.setOpKind(i, OpKind.Immediate8); ins.immediate8 = 1; return true; };
    case K.imm8:
      if (!fitsEither(v, 8)) return null;
      return (ins, i, prevImm) => {
        if (prevImm) { ins.setOpKind(i, OpKind.Immediate8_2nd); ins.immediate8_2nd = Number(BigInt.asUintN(8, v)); }
        else { ins.setOpKind(i, OpKind.Immediate8); ins.immediate8 = Number(BigInt.asUintN(8, v)); }
        return true;
      };
    case K.imm8sex16:
      if (!fitsEither(v, 16) || !sex8Fits(v, 16)) return null;
      return (ins, i) => { ins.setOpKind(i, OpKind.Immediate8to16); ins.immediate8to16 = Number(BigInt.asIntN(8, v)); return true; };
    case K.imm8sex32:
      if (!fitsEither(v, 32) || !sex8Fits(v, 32)) return null;
      return (ins, i) => { ins.setOpKind(i, OpKind.Immediate8to32); ins.immediate8to32 = Number(BigInt.asIntN(8, v)); return true; };
    case K.imm8sex64:
      if (!sex8Fits(v, 64)) return null;
      return (ins, i) => { ins.setOpKind(i, OpKind.Immediate8to64); ins.immediate8to64 = BigInt.asIntN(8, v); return true; };
    case K.imm16:
      if (!fitsEither(v, 16)) return null;
      return (ins, i) => { ins.setOpKind(i, OpKind.Immediate16); ins.immediate16 = Number(BigInt.asUintN(16, v)); return true; };
    case K.imm32:
      if (!fitsEither(v, 32)) return null;
      return (ins, i) => { ins.setOpKind(i, OpKind.Immediate32); ins.immediate32 = Number(BigInt.asUintN(32, v)); return true; };
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

function available(f: Form, bits: number): boolean {
  return bits === 16 ? f.mode16 : bits === 32 ? f.mode32 : f.mode64;
}

/** Operands NASM supplies when they are left out. */
function defaultOperands(mnemonic: string, ops: Resolved[], col: number): Resolved[] {
  if ((mnemonic === 'aam' || mnemonic === 'aad') && ops.length === 0) {
    return [{ op: { k: 'imm', expr: { k: 'num', v: 10n }, size: 0, strict: false, short: false, near: false, far: false, col, end: col }, value: 10n }];
  }
  return ops;
}

export interface Encoded {
  bytes: Uint8Array;
  code: Code;
}

/** Encode one instruction; throws AsmError with a message a person understands. */
export function encodeInstruction(req: EncodeRequest): Encoded {
  let mnemonic = canonicalMnemonic(req.mnemonic);
  const opSize = req.opSize ?? 0;
  // `o64 sysret` is iced's SYSRETQ (likewise sysexit, iret): a mnemonic of its own.
  if (opSize === 64 && !(formsByMnemonic().get(mnemonic) ?? []).some((f) => f.operandSize === 64) && formsByMnemonic().has(`${mnemonic}q`)) {
    mnemonic = `${mnemonic}q`;
  }
  const forms = formsByMnemonic().get(mnemonic);
  if (forms === undefined) throw new AsmError(`unknown instruction '${req.mnemonic}'`, req.col, req.mnemonic.length);
  let ops = defaultOperands(mnemonic, req.operands, req.col);
  // NASM: `mov r64, imm` with an immediate that zero-extends from 32 bits is `mov r32, imm32`.
  if (mnemonic === 'mov' && req.bits === 64 && ops.length === 2 && ops[0].op.k === 'reg' && ops[0].op.r.cls === 'gpr64' && ops[1].op.k === 'imm') {
    const v = BigInt.asUintN(64, (ops[1] as { value: bigint }).value);
    const imm = ops[1].op;
    if (v <= 0xffffffffn && !imm.strict && imm.size === 0 && (ops[1] as { reloc?: boolean }).reloc !== true) {
      const r32 = ops[0].op.r.reg - Register.RAX + Register.EAX;
      ops = [{ op: { ...ops[0].op, r: { reg: r32, cls: 'gpr32', size: 4 } as RegInfo } }, ops[1]];
    }
  }
  // NASM: `mov sreg, r16` in 32/64-bit code has no operand-size prefix (the r32 form).
  if (mnemonic === 'mov' && req.bits !== 16 && ops.length === 2 && ops[0].op.k === 'reg' && ops[0].op.r.cls === 'seg' &&
    ops[1].op.k === 'reg' && ops[1].op.r.cls === 'gpr16') {
    const r32 = ops[1].op.r.reg - Register.AX + Register.EAX;
    ops = [ops[0], { op: { ...ops[1].op, r: { reg: r32, cls: 'gpr32', size: 4 } as RegInfo } }];
  }
  const candidates: { bytes: Uint8Array; form: Form }[] = [];
  let lastError = '';
  const tryOps = (operands: Resolved[]): void => {
    for (const f of forms) {
      if (!available(f, req.bits)) continue;
      if (opSize !== 0 && f.operandSize !== 0 && f.operandSize !== opSize) continue;
      let fills: (Fill | null)[];
      if (operands.length === 0 && f.kinds.length > 0 && f.kinds.every((k) => STRING_KINDS.has(k) || FIXED_REG[k] !== undefined)) {
        // String instructions written without operands (movsb, stosd, insb, xlatb).
        fills = f.kinds.map((k) => implicitFill(k, req.addrSize || req.bits));
      } else {
        if (f.kinds.length !== operands.length) continue;
        fills = f.kinds.map((k, i) => matcher(f, k, operands[i], req.bits, mnemonic, opSize));
      }
      if (fills.some((x) => x === null)) continue;
      const ins = new Instruction();
      const enc = new Encoder(req.bits);
      try {
        ins.code = f.code;
        let prevImm = false;
        let ok = true;
        fills.forEach((fill, i) => {
          ok &&= fill!(ins, i, prevImm);
          const kind = ins.opKind(i);
          prevImm ||= kind === OpKind.Immediate8 || kind === OpKind.Immediate16;
        });
        if (!ok) continue;
        if (req.lock) ins.hasLockPrefix = true;
        if (req.rep === 'rep') ins.hasRepPrefix = true;
        if (req.rep === 'repne') ins.hasRepnePrefix = true;
        enc.encode(ins, req.ip);
        candidates.push({ bytes: enc.takeBuffer(), form: f });
      } catch (e) {
        lastError = (e as Error).message;
      } finally {
        enc.free();
        ins.free();
      }
    }
  };
  tryOps(ops);
  // NASM accepts both operand orders of XCHG (and picks the short accumulator form).
  if (mnemonic === 'xchg' && ops.length === 2) tryOps([ops[1], ops[0]]);
  // x87: `fadd st1` means `fadd st0, st1`.
  if (candidates.length === 0 && mnemonic.startsWith('f') && ops.length === 1 && ops[0].op.k === 'reg' && ops[0].op.r.cls === 'st') {
    tryOps([{ op: { ...ops[0].op, r: { reg: Register.ST0, cls: 'st', size: 0 } } }, ops[0]]);
  }
  if (candidates.length === 0) {
    if (/distance|too far|fit in an i8/i.test(lastError)) throw new AsmError('short jump is out of range', req.col);
    throw new AsmError(
      `invalid combination of opcode and operands for '${req.mnemonic}'${ops.length > 0 ? ` (${ops.map(describeOperand).join(', ')})` : ''} in ${req.bits}-bit code`,
      req.col, req.mnemonic.length);
  }
  // An unsized memory operand must not leave the operation size open.
  const mem = ops.find((r) => r.op.k === 'mem' && r.op.size === 0 && !r.op.far);
  if (mem !== undefined) {
    const sizes = new Set(candidates.map((c) => c.form.memBytes));
    if (sizes.size > 1) throw new AsmError(`operation size not specified for '${req.mnemonic}' (write byte, word, dword or qword before the memory operand)`, mem.op.col, mem.op.end - mem.op.col);
  }
  // Shortest wins; at equal length NASM prefers the sign-extended imm8 form (`add ax, 2` is
  // 83 C0 02, not 05 02 00), otherwise the first form in iced's (opcode) order.
  const sex8 = (c: { form: Form }): boolean => c.form.kinds.some((k) => k === K.imm8sex16 || k === K.imm8sex32 || k === K.imm8sex64);
  let pool = candidates;
  // `mov r64, lbl`: NASM keeps the imm64 form for a relocatable value.
  if (ops.some((o) => o.op.k === 'imm' && (o as { reloc?: boolean }).reloc === true) && candidates.some((c) => c.form.kinds.includes(K.imm64))) {
    pool = candidates.filter((c) => c.form.kinds.includes(K.imm64));
  }
  let best = pool[0];
  for (const c of pool) {
    if (c.bytes.length < best.bytes.length || (c.bytes.length === best.bytes.length && sex8(c) && !sex8(best))) best = c;
  }
  return { bytes: best.bytes, code: best.form.code };
}

function implicitFill(k: K, bits: number): Fill {
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

function describeOperand(r: Resolved): string {
  const op = r.op;
  if (op.k === 'reg') return op.r.cls === 'seg' ? 'segment register' : op.r.cls.replace('gpr', 'r');
  if (op.k === 'mem') return op.size === 0 ? 'memory' : `${op.size * 8}-bit memory`;
  if (op.k === 'farptr') return 'far pointer';
  return 'immediate';
}
