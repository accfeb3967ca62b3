/**
 * Instruction encoding through iced-x86 (never hand-made opcode tables): the parsed operands
 * are matched against every iced `Code` of the mnemonic (its OpCodeInfo operand kinds, memory
 * size and modes), each match is filled into an iced `Instruction` and encoded with `Encoder`,
 * and the shortest encoding wins (ties: the first form in iced's order, which is the opcode
 * order NASM's tables follow, e.g. `mov r/m32, r32` before `mov r32, r/m32`).
 * NASM's own choices that differ from "shortest" are applied here and named in comments. How one
 * operand fills one operand kind of a form is operandFill.ts.
 */
import {
  Code, CodeExt, Encoder, EncodingKind, Instruction, MemorySize, MemorySizeExt, Mnemonic, OpCodeOperandKind as K,
  OpKind, Register,
} from 'iced-x86';
import { AsmError } from './lexer';
import type { MemOperand, Operand } from './operands';
import type { RegInfo } from './registers';
import { FIXED_REG, STRING_KINDS, implicitFill, matcher, type Fill } from './operandFill';

export interface Form {
  code: Code;
  kinds: K[];
  memBytes: number;
  memSize: MemorySize;
  operandSize: number;
  mode16: boolean;
  mode32: boolean;
  mode64: boolean;
  /** Decoded only with an iced decoder option (obsolete or undocumented forms like CMPXCHG486). */
  special: boolean;
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
        mode16: o.mode16, mode32: o.mode32, mode64: o.mode64, special: o.decoderOption !== 0,
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
  sal: 'shl', icebp: 'int1', fwait: 'wait', fsetpm: 'fnsetpm', retn: 'ret', loopz: 'loope', loopnz: 'loopne', xlat: 'xlatb',
  iretw: 'iret', pushfw: 'pushf', popfw: 'popf', pushaw: 'pusha', popaw: 'popa',
};
/** NASM's size-neutral spellings take the mode's operand size (iced names each size). */
const BY_MODE: Record<string, Record<number, string>> = {
  iret: { 32: 'iretd', 64: 'iretd' },
  pusha: { 32: 'pushad' },
  popa: { 32: 'popad' },
  pushf: { 32: 'pushfd', 64: 'pushfq' },
  popf: { 32: 'popfd', 64: 'popfq' },
};
/** Explicit 16-bit spellings that must not take the mode's size. */
const EXPLICIT_16 = new Set(['iretw', 'pushfw', 'popfw', 'pushaw', 'popaw']);
/** NASM's sized returns (RETW/RETD/RETQ, RETNW/RETND/RETNQ, RETFW/RETFD/RETFQ): the base with an operand size. */
const SIZED_RET: Record<string, [string, number]> = {
  retw: ['ret', 16], retd: ['ret', 32], retq: ['ret', 64],
  retnw: ['ret', 16], retnd: ['ret', 32], retnq: ['ret', 64],
  retfw: ['retf', 16], retfd: ['retf', 32], retfq: ['retf', 64],
};

/** iced's mnemonic for a NASM mnemonic (condition-code aliases and NASM spellings). */
/** CMPccXADD: iced spells the conditions b/be/l/le/nb/nbe/... (NASM also ae/a/e/g/ge/...). */
const XADD_CC: Record<string, string> = {
  ae: 'nb', nc: 'nb', a: 'nbe', e: 'z', ne: 'nz', g: 'nle', ge: 'nl', c: 'b', nae: 'b', na: 'be', nge: 'l', ng: 'le',
  nle: 'nle', nl: 'nl', pe: 'p', po: 'np',
};

export function canonicalMnemonic(m: string): string {
  const l = m.toLowerCase();
  if (l in ALIASES) return ALIASES[l];
  if (l in SIZED_RET) return SIZED_RET[l][0];
  const x = /^cmp([a-z]+)xadd$/.exec(l);
  if (x !== null && x[1] in XADD_CC) return `cmp${XADD_CC[x[1]]}xadd`;
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
  /** x87 `fadd to st1`. */
  to?: boolean;
  /** Internal: encoding tried in another mode to explain an error (no recursion). */
  otherModeProbe?: boolean;
  /** `a16`/`a32`/`a64` prefix: the address size of implicit string operands (0: the mode's). */
  addrSize?: number;
  col: number;
}

const X87_POP_ARITH = new Set(['faddp', 'fmulp', 'fsubp', 'fsubrp', 'fdivp', 'fdivrp']);
/** SSE4.1/SHA forms whose XMM0 operand is implicit in iced and may be written in NASM. */
const IMPLICIT_XMM0 = new Set(['pblendvb', 'blendvps', 'blendvpd', 'sha256rnds2']);

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
  /** Things NASM warns about (an immediate truncated to its field). */
  warnings: string[];
}

/** Encode one instruction; throws AsmError with a message a person understands. */
export function encodeInstruction(req: EncodeRequest): Encoded {
  let mnemonic = canonicalMnemonic(req.mnemonic);
  let opSize = req.opSize ?? 0;
  const sized = SIZED_RET[req.mnemonic.toLowerCase()];
  if (sized !== undefined) {
    if (opSize !== 0 && opSize !== sized[1]) throw new AsmError(`${req.mnemonic} is a ${sized[1]}-bit return; the o${opSize} prefix contradicts it`);
    opSize = sized[1];
  }
  const byMode = BY_MODE[mnemonic];
  if (byMode !== undefined && !EXPLICIT_16.has(req.mnemonic.toLowerCase()) && opSize !== 16) {
    if (opSize === 32 && byMode[32] !== undefined) mnemonic = byMode[32];
    else if (opSize === 64 && byMode[64] !== undefined) mnemonic = byMode[64];
    else if (opSize === 0 && byMode[req.bits] !== undefined) mnemonic = byMode[req.bits];
  }
  if (EXPLICIT_16.has(req.mnemonic.toLowerCase()) && opSize === 0) opSize = 16;
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
  const candidates: { bytes: Uint8Array; form: Form; truncated: boolean }[] = [];
  let lastError = '';
  const tryOps = (operands: Resolved[]): void => {
    for (const f of forms) {
      if (!available(f, req.bits)) continue;
      if (opSize !== 0 && f.operandSize !== 0 && f.operandSize !== opSize) continue;
      let fills: (Fill | null)[];
      if (operands.length === 0 && f.kinds.length > 0 && f.kinds.every((k) => STRING_KINDS.has(k) || FIXED_REG[k] !== undefined)) {
        // String instructions written without operands (movsb, stosd, insb, xlatb).
        fills = f.kinds.map((k) => implicitFill(k, req.addrSize || req.bits));
      } else if (f.kinds.length === operands.length) {
        fills = f.kinds.map((k, i) => matcher(f, k, operands[i], req.bits, mnemonic, opSize, i));
      } else if (f.kinds.some((k) => STRING_KINDS.has(k)) && f.kinds.filter((k) => !STRING_KINDS.has(k)).length === operands.length) {
        // An implicit [rDI] operand (maskmovq, maskmovdqu): the written operands fill the others.
        let j = 0;
        fills = f.kinds.map((k, i) => (STRING_KINDS.has(k) ? implicitFill(k, req.addrSize || req.bits) : matcher(f, k, operands[j++], req.bits, mnemonic, opSize, i)));
      } else {
        continue;
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
        candidates.push({ bytes: nasmPrefixOrder(enc.takeBuffer(), req.lock || req.rep !== null), form: f, truncated: fills.some((x) => x!.truncated === true) });
      } catch (e) {
        lastError = (e as Error).message;
      } finally {
        enc.free();
        ins.free();
      }
    }
  };
  if (IMPLICIT_XMM0.has(mnemonic) && ops.length === 3) {
    const last = ops[2].op;
    if (last.k === 'reg' && last.r.reg === Register.XMM0) ops = ops.slice(0, 2);
  }
  // NASM: `mov sreg, r32/r64` is `mov sreg, r16` (no size prefix, no REX.W); `mov r64, sreg` is
  // the r32 form (no REX.W).
  if (mnemonic === 'mov' && ops.length === 2 && ops[0].op.k === 'reg' && ops[1].op.k === 'reg') {
    const [a, b] = [ops[0].op, ops[1].op];
    if (a.r.cls === 'seg' && (b.r.cls === 'gpr32' || b.r.cls === 'gpr64')) {
      ops = [ops[0], { op: { ...b, r: { reg: b.r.reg - (b.r.cls === 'gpr32' ? Register.EAX : Register.RAX) + Register.AX, cls: 'gpr16', size: 2 } } }];
    } else if (b.r.cls === 'seg' && a.r.cls === 'gpr64') {
      ops = [{ op: { ...a, r: { reg: a.r.reg - Register.RAX + Register.EAX, cls: 'gpr32', size: 4 } } }, ops[1]];
    }
  }
  // NASM accepts both operand orders of XCHG, puts the first register in ModRM.reg and picks the
  // short accumulator form: try the swapped order first so it wins ties.
  if (mnemonic === 'xchg' && ops.length === 2) tryOps([ops[1], ops[0]]);
  tryOps(ops);
  // x87 one-operand forms: `fadd st1` is fadd st0, st1; `faddp st1` and `fadd to st1` are
  // faddp/fadd st1, st0 (NASM manual appendix B).
  if (candidates.length === 0 && mnemonic.startsWith('f') && ops.length === 1 && ops[0].op.k === 'reg' && ops[0].op.r.cls === 'st') {
    const st0: Resolved = { op: { ...ops[0].op, r: { reg: Register.ST0, cls: 'st', size: 0 } } };
    if (req.to === true || X87_POP_ARITH.has(mnemonic)) tryOps([ops[0], st0]);
    else tryOps([st0, ops[0]]);
  }
  if (candidates.length === 0) {
    if (/distance|too far|fit in an i8/i.test(lastError)) throw new AsmError('short jump is out of range', req.col);
    // The same operands would do in another mode: say so (`push rax` in 32-bit code).
    const other = ([16, 32, 64] as const).filter((b) => b !== req.bits && !req.otherModeProbe).filter((b) => {
      try {
        encodeInstruction({ ...req, bits: b, otherModeProbe: true });
        return true;
      } catch {
        return false;
      }
    });
    if (other.length > 0) {
      throw new AsmError(`instruction not valid in ${req.bits}-bit code (it is valid in ${other.join('- and ')}-bit code)`, req.col, req.mnemonic.length);
    }
    throw new AsmError(
      `invalid combination of opcode and operands for '${req.mnemonic}'${ops.length > 0 ? ` (${ops.map(describeOperand).join(', ')})` : ''} in ${req.bits}-bit code`,
      req.col, req.mnemonic.length);
  }
  // An unsized memory operand must not leave the operation size open.
  const mem = ops.find((r) => r.op.k === 'mem' && r.op.size === 0 && !r.op.far);
  if (mem !== undefined) {
    let sizes = new Set(candidates.map((c) => c.form.memBytes));
    // Forms that differ only by operand size (fldenv m14/m28, fsave m94/m108) take the mode's.
    // Near JMP/CALL through memory in 64-bit code: 64-bit operand size by default (SDM vol. 1
    // §3.6.1; NASM takes qword, while it asks for a size for PUSH/POP [mem]).
    const only64 = req.bits === 64 && (mnemonic === 'jmp' || mnemonic === 'call');
    const want = opSize !== 0 ? opSize : req.bits === 16 ? 16 : only64 ? 64 : 32;
    if (sizes.size > 1 && candidates.some((c) => c.form.operandSize === want) && new Set(candidates.map((c) => c.form.operandSize)).size > 1) {
      const keep = candidates.filter((c) => c.form.operandSize === want || c.form.operandSize === 0);
      candidates.length = 0;
      candidates.push(...keep);
      sizes = new Set(candidates.map((c) => c.form.memBytes));
    }
    if (sizes.size > 1) throw new AsmError(`operation size not specified for '${req.mnemonic}' (write byte, word, dword or qword before the memory operand)`, mem.op.col, mem.op.end - mem.op.col);
  }
  // Shortest wins; at equal length NASM prefers the sign-extended imm8 form (`add ax, 2` is
  // 83 C0 02, not 05 02 00), otherwise the first form in iced's (opcode) order.
  const sex8 = (c: { form: Form }): boolean => c.form.kinds.some((k) => k === K.imm8sex16 || k === K.imm8sex32 || k === K.imm8sex64);
  let pool = candidates.some((c) => !c.truncated) ? candidates.filter((c) => !c.truncated) : candidates;
  // Obsolete forms iced decodes only on request (CMPXCHG486's 0F A6) only when nothing else fits.
  if (pool.some((c) => !c.form.special)) pool = pool.filter((c) => !c.form.special);
  // `call far [mem]` without a size: NASM takes the mode's operand size (m16:64 in 64-bit code).
  const farMem = ops.find((o) => o.op.k === 'mem' && o.op.far && o.op.size === 0);
  if (farMem !== undefined && pool.some((c) => c.form.operandSize === req.bits)) pool = pool.filter((c) => c.form.operandSize === req.bits);
  // A memory operand in an XMM/MMX slot rather than a GPR slot (NASM: movq xmm, [m] is F3 0F 7E).
  const memIdx = ops.findIndex((o) => o.op.k === 'mem');
  if (memIdx >= 0) {
    const vecMem = (c: { form: Form }): boolean => [K.xmm_or_mem, K.mm_or_mem, K.ymm_or_mem, K.zmm_or_mem].includes(c.form.kinds[memIdx]);
    if (pool.some(vecMem) && pool.some((c) => !vecMem(c))) {
      const shortest = Math.min(...pool.map((c) => c.bytes.length));
      const vec = pool.filter((c) => vecMem(c) && c.bytes.length === shortest);
      if (vec.length > 0) pool = vec;
    }
  }
  // `mov r64, lbl`: NASM keeps the imm64 form for a relocatable value.
  if (ops.some((o) => o.op.k === 'imm' && (o as { reloc?: boolean }).reloc === true) && pool.some((c) => c.form.kinds.includes(K.imm64))) {
    pool = pool.filter((c) => c.form.kinds.includes(K.imm64));
  }
  let best = pool[0];
  for (const c of pool) {
    if (c.bytes.length < best.bytes.length || (c.bytes.length === best.bytes.length && sex8(c) && !sex8(best))) best = c;
  }
  return { bytes: best.bytes, code: best.form.code, warnings: best.truncated ? ['value does not fit the operand: truncated (as NASM does)'] : [] };
}

const LEGACY_PREFIXES = new Set([0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67]);

/**
 * NASM writes a LOCK/REP prefix the source asked for before the other legacy prefixes
 * (`lock add word [es:eax], 1` is F0 26 66 …; iced writes 26 F0 66 …). Prefix order does not
 * change the instruction; mandatory F2/F3 prefixes (SSE) are not touched (`rep` was not written).
 */
function nasmPrefixOrder(bytes: Uint8Array, userPrefix: boolean): Uint8Array {
  if (!userPrefix) return bytes;
  let n = 0;
  while (n < bytes.length && LEGACY_PREFIXES.has(bytes[n])) n++;
  const head = Array.from(bytes.subarray(0, n));
  const lockRep = head.filter((b) => b === 0xf0 || b === 0xf2 || b === 0xf3);
  if (lockRep.length === 0) return bytes;
  const rest = head.filter((b) => b !== 0xf0 && b !== 0xf2 && b !== 0xf3);
  const out = new Uint8Array(bytes.length);
  out.set([...lockRep, ...rest], 0);
  out.set(bytes.subarray(n), n);
  return out;
}

function describeOperand(r: Resolved): string {
  const op = r.op;
  if (op.k === 'reg') return op.r.cls === 'seg' ? 'segment register' : op.r.cls.replace('gpr', 'r');
  if (op.k === 'mem') return op.size === 0 ? 'memory' : `${op.size * 8}-bit memory`;
  if (op.k === 'farptr') return 'far pointer';
  return 'immediate';
}
