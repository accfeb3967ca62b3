/**
 * What a run report says: `summarize()` turns a stopped run into a plain JSON object (the
 * `--json` output and what tests check), `formatSummary()` renders it for people (the terminal
 * and the VS Code output channel). Register values are hex strings ("0x1f") so 64-bit values
 * survive JSON exactly; BigInt is fine here, at the edge.
 */
import { decodeOne, disassemble } from '../x86/decoded';
import { Access } from '../x86/mmu';
import { formatFlags, GPR_NAMES, SEG_NAMES } from '../x86/registers';
import type { Cpu } from '../x86/cpu';
import type { GuestMode, GuestRun } from './runGuest';

/** How the run ended: "hlt" (the guest executed HLT), "exception" (one it could not deliver),
 * "limit" (the instruction limit was reached), "shutdown" (triple fault; not produced yet). */
export type StopReason = 'hlt' | 'exception' | 'limit' | 'shutdown';

export interface ExceptionSummary {
  vector: number;
  /** e.g. "#UD invalid opcode". */
  name: string;
  /** Hex string, or null when the exception has no error code. */
  errorCode: string | null;
  /** RIP (IP/EIP) of the faulting instruction. */
  rip: string;
  /** Bytes of the faulting instruction, "0f 0b". */
  bytes: string;
  /** NASM syntax, e.g. "ud2". */
  disassembly: string;
  /** Why, in the processor model's words. */
  detail: string;
}

export interface RunSummary {
  stopReason: StopReason;
  instructions: number;
  mode: GuestMode;
  /** rax..r15, rip, rflags, es..gs (selectors), cr0, cr3, cr4, efer: lower-case names, hex strings. */
  registers: Record<string, string>;
  /** The set RFLAGS bits by name, "PF ZF IF". */
  flags: string;
  /** The instruction at RIP (where execution would continue), with its bytes. */
  next: { address: string; bytes: string; disassembly: string };
  exception?: ExceptionSummary;
  loadAddress: string;
  entry: string;
  imageSize: number;
}

function hex(v: number | bigint): string {
  return `0x${(typeof v === 'number' ? v >>> 0 : v).toString(16)}`;
}

function byteString(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Up to 15 bytes at the current RIP (CS base added outside 64-bit mode) and their decoding. */
function instructionAtRip(cpu: Cpu): { address: string; bytes: string; disassembly: string } {
  const rip = cpu.getRip();
  const base = cpu.bitness === 64 ? 0n : BigInt(cpu.segBaseLo[1] >>> 0);
  // Linear addresses wrap at 4 GiB outside 64-bit mode.
  const wrap = cpu.bitness === 64 ? 0xffffffffffffffffn : 0xffffffffn;
  const raw = new Uint8Array(15);
  let n = 0;
  for (; n < 15; n++) {
    const a = (rip + base + BigInt(n)) & wrap;
    let phys: number;
    try {
      phys = cpu.translate(Number(a & 0xffffffffn) | 0, Number(a >> 32n) | 0, Access.Execute);
    } catch {
      break; // not fetchable (a fault once paging exists): show what could be read
    }
    if (!cpu.mem.isRam(phys)) break;
    raw[n] = cpu.mem.read8(phys);
  }
  if (n === 0) return { address: hex(rip), bytes: '', disassembly: '(not in guest RAM)' };
  const bytes = raw.subarray(0, n);
  const len = Math.max(1, Math.min(n, decodeOne(bytes, cpu.bitness, rip).length));
  return { address: hex(rip), bytes: byteString(bytes.subarray(0, len)), disassembly: disassemble(bytes, cpu.bitness, rip) };
}

export function registersOf(cpu: Cpu): Record<string, string> {
  const regs: Record<string, string> = {};
  GPR_NAMES.forEach((name, i) => { regs[name] = hex(cpu.getReg64(i)); });
  regs.rip = hex(cpu.getRip());
  regs.rflags = hex(cpu.getRflags());
  SEG_NAMES.forEach((name, i) => { regs[name] = hex(cpu.segSel[i]); });
  regs.cr0 = hex(cpu.cr0);
  regs.cr3 = hex((BigInt(cpu.cr3Hi >>> 0) << 32n) | BigInt(cpu.cr3Lo >>> 0));
  regs.cr4 = hex(cpu.cr4);
  regs.efer = hex(cpu.efer);
  return regs;
}

export function summarize(run: GuestRun): RunSummary {
  const { cpu, result, options } = run;
  const s: RunSummary = {
    stopReason: result.reason,
    instructions: cpu.icount,
    mode: options.mode,
    registers: registersOf(cpu),
    flags: formatFlags(cpu.getRflags()),
    next: instructionAtRip(cpu),
    loadAddress: hex(options.loadAddress),
    entry: hex(options.entry),
    imageSize: run.imageSize,
  };
  const e = result.exception;
  if (e !== undefined) {
    s.exception = {
      vector: e.vector,
      name: e.name,
      errorCode: e.errorCode === undefined ? null : hex(e.errorCode),
      rip: hex(e.rip),
      bytes: byteString(e.bytes),
      disassembly: e.text,
      detail: e.detail,
    };
  }
  return s;
}

const STOP_TEXT: Record<StopReason, string> = {
  hlt: 'hlt (the guest executed HLT)',
  exception: 'exception (the guest raised an exception it cannot handle yet)',
  limit: 'limit (the instruction limit was reached)',
  shutdown: 'shutdown (triple fault)',
};

function pad(v: string, digits: number): string {
  return `0x${v.slice(2).padStart(digits, '0')}`;
}

/** The human-readable report, one string of lines. */
export function formatSummary(s: RunSummary): string {
  const r = s.registers;
  const wide = s.mode === 'long';
  const digits = wide ? 16 : 8;
  const lines: string[] = [];
  lines.push(`stop:         ${STOP_TEXT[s.stopReason]}`);
  lines.push(`instructions: ${s.instructions}`);
  lines.push(`mode:         ${s.mode}, image ${s.imageSize} bytes at ${s.loadAddress}, entry ${s.entry}`);
  const where = s.mode === 'real' ? `${pad(r.cs, 4).slice(2)}:${pad(r.rip, 4).slice(2)}` : pad(r.rip, digits);
  lines.push(`rip:          ${where}  next: ${s.next.bytes}  ${s.next.disassembly}`);
  const names = wide
    ? [['rax', 'rbx', 'rcx', 'rdx'], ['rsi', 'rdi', 'rbp', 'rsp'], ['r8', 'r9', 'r10', 'r11'], ['r12', 'r13', 'r14', 'r15']]
    : [['rax', 'rbx', 'rcx', 'rdx'], ['rsi', 'rdi', 'rbp', 'rsp']];
  for (const row of names) {
    lines.push('  ' + row.map((n) => `${(wide ? n : 'e' + n.slice(1)).padEnd(3)} ${pad(r[n], digits)}`).join('  '));
  }
  lines.push(`  rflags ${pad(r.rflags, 8)}  [${s.flags || 'no flags set'}]`);
  lines.push('  ' + SEG_NAMES.map((n) => `${n} ${pad(r[n], 4)}`).join('  '));
  lines.push(`  cr0 ${pad(r.cr0, 8)}  cr3 ${r.cr3}  cr4 ${pad(r.cr4, 8)}  efer ${r.efer}`);
  const e = s.exception;
  if (e !== undefined) {
    const code = e.errorCode === null ? 'no error code' : `error code ${e.errorCode}`;
    lines.push(`exception:    ${e.name} (vector ${e.vector}, ${code})`);
    lines.push(`  at ${e.rip}: ${e.bytes}  ${e.disassembly}`);
    if (e.detail) lines.push(`  ${e.detail}`);
  }
  return lines.join('\n');
}
