/**
 * Stack frames: the frame at CS:RIP, then its callers, one frame at a time the way debuggers
 * unwind (at most 64 frames, each caller's stack pointer above the callee's, every read through
 * the guest's paging without faulting it — an unreadable stack ends the walk):
 *  1. where the program's call frame information covers the frame's code (DWARF .debug_frame /
 *     .eh_frame: `DebugInfo.unwind`, DWARF 4/5 §6.4), its row gives the CFA, the return address
 *     and the caller's saved registers — right at every instruction, with or without a frame
 *     pointer;
 *  2. elsewhere (flat binaries, assembly, ELF without CFI) the innermost frame is analysed at its
 *     PC: at a function's first instruction (or at a RET) the return address is at [RSP]; just
 *     after its `push rbp` at [RSP + w] with the caller's RBP at [RSP];
 *  3. otherwise the frame-pointer chain (RBP/EBP → saved frame pointer, return address above it)
 *     while it is plausible (above the stack pointer, within 1 MiB of it, aligned).
 * A caller's CFI row is looked up at its return address - 1 (the call instruction: a call at a
 * function's end returns past it).
 */
import type { StoppedMachine } from '../stoppedMachine';
import type { DebugInfo, SourcePosition, UnwindRow } from '../model';
import { addAddress, addressOf, formatAddress } from '../address';
import { guestBitness, guestReg, readGuestMemory, readGuestValue, ripLinear } from './guestState';

export interface Frame {
  id: number;
  /** Linear address of the frame's instruction. */
  pc: number;
  name: string;
  source?: SourcePosition;
}

/** The psABI DWARF register numbers of the general registers (i386 psABI §2.4.2, x86-64 psABI §3.6.2), by our names. */
const DWARF_GPRS: Record<32 | 64, readonly string[]> = {
  32: ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'],
  64: ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'],
};
const SP: Record<32 | 64, number> = { 32: 4, 64: 7 };
const BP: Record<32 | 64, number> = { 32: 5, 64: 6 };
/** How far above the innermost stack pointer a frame may be (a wild pointer ends the walk). */
const STACK_SPAN = 0x100000n;

/** One frame's registers while unwinding (DWARF numbering; undefined = not known). */
interface UnwindState { pc: number; regs: Array<bigint | undefined> }

function frameName(info: DebugInfo, pc: number): string {
  const s = info.symbols.nameAt(pc);
  if (s === undefined) return formatAddress(pc);
  return s.offset === 0 ? s.name : `${s.name}+0x${s.offset.toString(16)}`;
}

/**
 * A caller's frame at its return address: named and placed in the source by the call instruction
 * (return address - 1), as debuggers do — a call ending a line or a function returns past it.
 */
function callerFrame(info: DebugInfo, id: number, pc: number): Frame {
  const at = addAddress(pc, -1);
  const s = info.symbols.nameAt(at);
  const name = s === undefined ? formatAddress(pc) : `${s.name}+0x${(s.offset + 1).toString(16)}`;
  return { id, pc, name, source: info.lines?.lineAt(at) };
}

export function stackFrames(m: StoppedMachine, info: DebugInfo, max = 64): Frame[] {
  const pc = ripLinear(m);
  const frames: Frame[] = [{ id: 0, pc, name: frameName(info, pc), source: info.lines?.lineAt(pc) }];
  if (max <= 1) return frames;
  const mode = guestBitness(m);
  if (mode === 16) return frames.concat(legacyChain(m, info, max));
  const bits = mode;
  const mask = (1n << BigInt(bits)) - 1n;
  let st: UnwindState = { pc, regs: DWARF_GPRS[bits].map((n) => guestReg(m, n) & mask) };
  const sp0 = st.regs[SP[bits]]!;
  while (frames.length < max) {
    const next = callerOf(m, info, st, bits, frames.length === 1);
    if (next === undefined || next.pc === 0) break;
    const sp = st.regs[SP[bits]]!;
    const nsp = next.regs[SP[bits]];
    if (nsp === undefined || nsp <= sp || nsp - sp0 > STACK_SPAN) break;
    frames.push(callerFrame(info, frames.length, next.pc));
    st = next;
  }
  return frames;
}

/** The caller's state, or undefined where the walk ends. */
function callerOf(m: StoppedMachine, info: DebugInfo, st: UnwindState, bits: 32 | 64, innermost: boolean): UnwindState | undefined {
  const row = info.unwind?.(innermost ? st.pc : addAddress(st.pc, -1));
  if (row !== undefined && row.cfa !== undefined) return cfiCaller(m, row, st, bits);
  if (innermost) {
    const p = prologueCaller(m, info, st, bits);
    if (p !== undefined) return p;
  }
  return chainCaller(m, st, bits);
}

const mem = (m: StoppedMachine, a: bigint, bits: 32 | 64): bigint | undefined => readGuestValue(m, a & ((1n << BigInt(bits)) - 1n), bits / 8);
const toPc = (v: bigint, bits: 32 | 64): number => (bits === 64 ? addressOf(v) : Number(v));

/** DWARF CFI: CFA = register + offset; each register by its rule; the caller's SP is the CFA. */
function cfiCaller(m: StoppedMachine, row: UnwindRow, st: UnwindState, bits: 32 | 64): UnwindState | undefined {
  const mask = (1n << BigInt(bits)) - 1n;
  const base = st.regs[row.cfa!.register];
  if (base === undefined) return undefined;
  const cfa = (base + BigInt(row.cfa!.offset)) & mask;
  const ruleValue = (reg: number): bigint | undefined | null => {
    const r = row.registers.get(reg);
    if (r === undefined || r.kind === 'same') return reg < st.regs.length ? st.regs[reg] : undefined;
    switch (r.kind) {
      case 'offset': return mem(m, cfa + BigInt(r.offset), bits) ?? null;
      case 'valOffset': return (cfa + BigInt(r.offset)) & mask;
      case 'register': return st.regs[r.register];
      default: return undefined;
    }
  };
  const ra = ruleValue(row.returnAddressRegister);
  if (ra === undefined || ra === null) return undefined; // undefined RA: the outermost frame
  const regs = st.regs.map((_, i) => {
    const v = ruleValue(i);
    return v === null ? undefined : v;
  });
  regs[SP[bits]] = cfa;
  const pc = toPc(ra, bits);
  return Number.isNaN(pc) ? undefined : { pc, regs };
}

/**
 * Without CFI, the innermost frame at a function's entry (the symbol's first instruction, after
 * an ENDBR), at a RET, or just after the entry's `push rbp` (0x55; REX 0x40 0x55 too).
 */
function prologueCaller(m: StoppedMachine, info: DebugInfo, st: UnwindState, bits: 32 | 64): UnwindState | undefined {
  const w = BigInt(bits / 8);
  const sp = st.regs[SP[bits]]!;
  const popReturn = (at: bigint, savedBp: bigint | undefined, newSp: bigint): UnwindState | undefined => {
    const ra = mem(m, at, bits);
    if (ra === undefined || !followsCall(m, ra)) return undefined;
    const regs = st.regs.slice();
    if (savedBp !== undefined) regs[BP[bits]] = savedBp;
    regs[SP[bits]] = newSp;
    const pc = toPc(ra, bits);
    return Number.isNaN(pc) ? undefined : { pc, regs };
  };
  const here = readGuestMemory(m, BigInt.asUintN(64, BigInt(st.pc)), 1);
  if (here[0] === 0xc3 || here[0] === 0xc2) return popReturn(sp, undefined, sp + w);
  const sym = info.symbols.nameAt(st.pc);
  if (sym === undefined) return undefined;
  const start = addAddress(st.pc, -sym.offset);
  const code = readGuestMemory(m, BigInt.asUintN(64, BigInt(start)), 6);
  let entry = 0;
  if (code[0] === 0xf3 && code[1] === 0x0f && code[2] === 0x1e && (code[3] === 0xfa || code[3] === 0xfb)) entry = 4;
  if (sym.offset <= entry) return popReturn(sp, undefined, sp + w);
  const push = code[entry] === 0x55 ? 1 : code[entry] === 0x40 && code[entry + 1] === 0x55 ? 2 : 0;
  if (push > 0 && sym.offset === entry + push) {
    const savedBp = mem(m, sp, bits);
    if (savedBp === undefined) return undefined;
    return popReturn(sp + w, savedBp, sp + 2n * w);
  }
  return undefined;
}

/**
 * True when the bytes before `ra` end with a CALL (E8 rel32, or FF /2 with its ModRM, SIB and
 * displacement, SDM vol. 2A "CALL"): a word on the stack that is a return address, not a value a
 * label in the middle of code happens to find at [RSP].
 */
function followsCall(m: StoppedMachine, ra: bigint): boolean {
  if (ra < 7n) return false;
  const b = readGuestMemory(m, ra - 7n, 7);
  if (b.length < 7) return false;
  if (b[2] === 0xe8) return true;
  for (let k = 2; k <= 7; k++) {
    if (b[7 - k] !== 0xff) continue;
    const modrm = b[8 - k];
    if (modrm === undefined || ((modrm >> 3) & 7) !== 2) continue;
    const mod = modrm >> 6;
    const rm = modrm & 7;
    let len = 2;
    if (mod !== 3 && rm === 4) {
      len++;
      if (mod === 0 && ((b[9 - k] ?? 0) & 7) === 5) len += 4;
    }
    if (mod === 1) len += 1;
    else if (mod === 2 || (mod === 0 && rm === 5)) len += 4;
    if (len === k) return true;
  }
  return false;
}

/** The frame-pointer chain: [RBP] = the caller's RBP, [RBP + w] = the return address. */
function chainCaller(m: StoppedMachine, st: UnwindState, bits: 32 | 64): UnwindState | undefined {
  const w = BigInt(bits / 8);
  const bp = st.regs[BP[bits]];
  const sp = st.regs[SP[bits]]!;
  if (bp === undefined || bp === 0n || bp < sp || bp - sp > STACK_SPAN || bp % w !== 0n) return undefined;
  const saved = mem(m, bp, bits);
  const ret = mem(m, bp + w, bits);
  if (saved === undefined || ret === undefined || ret === 0n) return undefined;
  const regs = st.regs.slice();
  regs[BP[bits]] = saved;
  regs[SP[bits]] = bp + 2n * w;
  const pc = toPc(ret, bits);
  return Number.isNaN(pc) ? undefined : { pc, regs };
}

/** 16-bit code: the BP chain as before (no CFI there). */
function legacyChain(m: StoppedMachine, info: DebugInfo, max: number): Frame[] {
  const out: Frame[] = [];
  const rsp = guestReg(m, 'rsp') & 0xffffn;
  let bp = guestReg(m, 'rbp') & 0xffffn;
  while (out.length + 1 < max) {
    if (bp === 0n || bp < rsp || bp % 2n !== 0n) break;
    const saved = readGuestValue(m, bp, 2);
    const ret = readGuestValue(m, bp + 2n, 2);
    if (saved === undefined || ret === undefined || ret === 0n) break;
    const r = Number(ret);
    out.push(callerFrame(info, out.length + 1, r));
    if (saved <= bp) break;
    bp = saved;
  }
  return out;
}

/** Where the current function returns to: the caller's frame, else the word at the stack pointer (before a prologue). */
export function returnAddress(m: StoppedMachine, info: DebugInfo, atFunctionStart: boolean): number | undefined {
  const bits = guestBitness(m);
  const w = bits / 8;
  if (!atFunctionStart) {
    const f = stackFrames(m, info, 2);
    if (f.length > 1) return f[1].pc;
  }
  const v = readGuestValue(m, guestReg(m, 'rsp') & (bits === 64 ? (1n << 64n) - 1n : (1n << BigInt(bits)) - 1n), w);
  if (v === undefined) return undefined;
  const r = bits === 64 ? addressOf(v) : Number(v);
  return Number.isNaN(r) ? undefined : r;
}
