/**
 * What a run report says: `summarize()` turns a stopped run into a plain JSON object (the
 * `--json` output and what tests check), `formatSummary()` renders it for people (the terminal
 * and the VS Code output channel). Register values are hex strings ("0x1f") so 64-bit values
 * survive JSON exactly; BigInt is fine here, at the edge.
 */
import { bytesHex, decodeOne, disassemble } from '../x86/decoded';
import { Access } from '../x86/mmu';
import { formatFlags, GPR_NAMES, SEG_NAMES } from '../x86/registers';
import type { Cpu, RunResult } from '../x86/cpu';
import type { MachineRunResult } from '../vmm/machine';
import type { StartMode } from '../x86/modes';
import type { GuestRun } from './runGuest';
import type { VmmRunResult } from '../vmm/vmm';
import { guestView } from '../hypervisor/guestView';

/** How the run ended: "exit" (isa-debug-exit or ACPI power-off), "hlt" (HLT with nothing to
 * wake the processor), "exception" (one it could not deliver), "limit" (the instruction limit
 * was reached), "shutdown" (triple fault). */
export type StopReason = 'exit' | 'hlt' | 'exception' | 'limit' | 'shutdown' | 'vmexit'
  /** A debugger breakpoint (src/x86/hostDebug.ts). */
  | 'break'
  /** Under the hypervisor: QEMU's ACPI power-off (word 0x2000 to port 0x604), reference §1. */
  | 'SystemDown'
  /** VM entry failed (the failing check is in `detail`). */
  | 'FailEntry'
  /** The guest reached guest-physical memory that is neither RAM nor a device. */
  | 'NestedPageFault'
  /** An exit the hypervisor does not handle. */
  | 'Halt'
  /** The vCPU went down (an INIT to itself) with no processor to start it again. */
  | 'CpuDown'
  /** A debugger stopped on a VM exit before the hypervisor handled it. */
  | 'exitBreak';

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
  /** For "exit": the exit code ((value << 1) | 1 from isa-debug-exit, 0 after power-off); else null. */
  exitCode: number | null;
  /** For "exit": the device ("isa-debug-exit", "ACPI power-off"); else null. */
  exitDevice: string | null;
  instructions: number;
  /** The start mode (a guest may switch modes itself: the registers show where it ended). */
  mode: StartMode;
  /** Image format: "flat", "elf" or "multiboot". */
  format: string;
  /** rax..r15, rip, rflags, es..gs (selectors), cr0, cr3, cr4, efer: lower-case names, hex strings. */
  registers: Record<string, string>;
  /** The set RFLAGS bits by name, "PF ZF IF". */
  flags: string;
  /** The instruction at RIP (where execution would continue), with its bytes. */
  next: { address: string; bytes: string; disassembly: string };
  exception?: ExceptionSummary;
  /** Flat images: where the image was loaded; ELF/Multiboot: the entry point. */
  loadAddress: string;
  entry: string;
  imageSize: number;
  /** Everything the guest wrote to COM1, decoded as UTF-8. */
  serial: string;
  /**
   * VM exits by reason name (SDM appendix C names), in order of first occurrence: under the
   * built-in hypervisor, the guest's exits to it; with `hypervisor: 'none'`, the exits of the
   * guest hypervisor's own VMCSs (a VM-entry failure with an exit counts under its basic reason).
   */
  exits?: Record<string, number>;
  /** Why the run stopped, in words, when the stop reason alone does not say (entry failure, unhandled exit). */
  detail?: string;
  /** 'builtin' (VMX non-root under the built-in hypervisor) or 'none' (bare VT-x: the machine directly, VMX for the guest's own use). */
  hypervisor?: 'builtin' | 'none';
}

function hex(v: number | bigint): string {
  return `0x${(typeof v === 'number' ? v >>> 0 : v).toString(16)}`;
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
  return { address: hex(rip), bytes: bytesHex(bytes.subarray(0, len)), disassembly: disassemble(bytes, cpu.bitness, rip) };
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

/**
 * What summarize needs: a run on the machine (GuestRun), or a bare-processor run (the benchmark)
 * without machine, format and start mode (then: no serial output, flat, the options' mode).
 */
export type SummaryInput = Pick<GuestRun, 'cpu' | 'memory' | 'options' | 'imageSize' | 'seconds'> &
  Partial<Pick<GuestRun, 'machine' | 'format' | 'startMode' | 'vmm' | 'guestVmx'>> & { result: RunResult | MachineRunResult | VmmRunResult };

export function summarize(run: SummaryInput): RunSummary {
  const { cpu, options } = run;
  const result: MachineRunResult | VmmRunResult = run.result;
  const vmm = run.vmm ?? null;
  // After a VM exit the processor holds the host's state: report the guest's.
  const guest = vmm !== null && !cpu.nonRoot ? guestView(vmm.vcpu) : null;
  const regs = guest !== null ? Object.fromEntries(Object.entries(guest.regs).map(([k, v]) => [k, hex(v)])) : registersOf(cpu);
  if (vmm !== null && cpu.nonRoot) {
    // In non-root operation CR0/CR4 read as the guest sees them (read shadows under the masks).
    const v = vmm.vcpu.v;
    const merge = (real: number, shadow: string, mask: string): bigint => {
      const m = v.peek(mask);
      return (BigInt(real >>> 0) & ~m) | (v.peek(shadow) & m);
    };
    regs.cr0 = hex(merge(cpu.cr0, 'CR0_READ_SHADOW', 'CR0_GUEST_HOST_MASK'));
    regs.cr4 = hex(merge(cpu.cr4, 'CR4_READ_SHADOW', 'CR4_GUEST_HOST_MASK'));
  }
  const exited = result.reason === 'exit' || result.reason === 'SystemDown';
  const s: RunSummary = {
    stopReason: result.reason,
    exitCode: exited ? result.exitCode ?? 0 : null,
    exitDevice: exited ? result.exitHow ?? null : null,
    instructions: cpu.icount,
    mode: run.startMode ?? options.mode,
    format: run.format ?? 'flat',
    registers: regs,
    flags: formatFlags(guest !== null ? Number(guest.regs.rflags) : cpu.getRflags()),
    next: guest !== null
      ? { address: hex(guest.next.address), bytes: bytesHex(guest.next.bytes), disassembly: guest.next.text || '(not in guest RAM)' }
      : instructionAtRip(cpu),
    loadAddress: hex(options.loadAddress),
    entry: hex(options.entry),
    imageSize: run.imageSize,
    serial: run.machine === undefined ? '' : new TextDecoder('utf-8').decode(run.machine.serialBytes()),
  };
  if (run.vmm !== undefined) s.hypervisor = vmm !== null ? 'builtin' : 'none';
  if (vmm !== null) s.exits = vmm.vcpu.exitTable();
  else if (run.guestVmx != null && run.guestVmx.used) s.exits = run.guestVmx.exitTable();
  const detail = (result as VmmRunResult).detail;
  if (detail !== undefined) s.detail = detail;
  const e = result.exception;
  if (e !== undefined) {
    s.exception = {
      vector: e.vector,
      name: e.name,
      errorCode: e.errorCode === undefined ? null : hex(e.errorCode),
      rip: hex(e.rip),
      bytes: bytesHex(e.bytes),
      disassembly: e.text,
      detail: e.detail,
    };
  }
  return s;
}

const STOP_TEXT: Record<StopReason, string> = {
  exit: 'exit (the guest stopped the machine)',
  hlt: 'hlt (the guest executed HLT)',
  exception: 'exception (the guest raised an exception it cannot handle yet)',
  limit: 'limit (the instruction limit was reached)',
  shutdown: 'shutdown (triple fault)',
  vmexit: 'vmexit (a VM exit the hypervisor passed up)',
  SystemDown: 'SystemDown (the guest powered off: word 0x2000 to port 0x604)',
  FailEntry: 'FailEntry (VM entry failed)',
  NestedPageFault: 'NestedPageFault (the guest reached unmapped guest-physical memory)',
  Halt: 'Halt (the hypervisor stopped the guest)',
  CpuDown: 'CpuDown (the vCPU took an INIT and no other processor can start it)',
  exitBreak: 'exitBreak (stopped on a VM exit, before the hypervisor handles it)',
  break: 'break (stopped on a debugger breakpoint)',
};

function pad(v: string, digits: number): string {
  return `0x${v.slice(2).padStart(digits, '0')}`;
}

/** The human-readable report, one string of lines. */
export function formatSummary(s: RunSummary): string {
  const r = s.registers;
  // Register widths follow the mode the processor is in now (EFER.LMA, CR0.PE).
  const wide = (parseInt(r.efer, 16) & 0x400) !== 0;
  const real = (parseInt(r.cr0, 16) & 1) === 0;
  const digits = wide ? 16 : 8;
  const lines: string[] = [];
  lines.push(`stop:         ${STOP_TEXT[s.stopReason]}`);
  if (s.exitCode !== null) lines.push(`exit code:    ${s.exitCode} (${s.exitDevice ?? 'exit'})`);
  if (s.detail !== undefined) lines.push(`why:          ${s.detail}`);
  lines.push(`instructions: ${s.instructions}`);
  const where0 = s.format === 'flat' ? `image ${s.imageSize} bytes at ${s.loadAddress}` : `${s.format} image, ${s.imageSize} bytes`;
  lines.push(`mode:         ${s.mode}, ${where0}, entry ${s.entry}`);
  const where = real ? `${pad(r.cs, 4).slice(2)}:${pad(r.rip, 4).slice(2)}` : pad(r.rip, digits);
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
  if (s.exits !== undefined) {
    lines.push(...formatExitTable(s.exits, s.hypervisor === 'none' ? 'VM exits of the guest hypervisor\'s VMCSs' : 'VM exits'));
  }
  return lines.join('\n');
}

/** The table of VM exits by reason: count and share, most frequent first. */
export function formatExitTable(exits: Record<string, number>, title = 'VM exits'): string[] {
  const rows = Object.entries(exits).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((t, [, n]) => t + n, 0);
  const head = `${title}:`.padEnd(Math.max(14, title.length + 2));
  if (total === 0) return [`${head}none`];
  const w = Math.max(6, ...rows.map(([k]) => k.length));
  const lines = [`${head}${total}`, `  ${'reason'.padEnd(w)}  ${'count'.padStart(9)}  share`];
  for (const [k, n] of rows) lines.push(`  ${k.padEnd(w)}  ${String(n).padStart(9)}  ${((100 * n) / total).toFixed(1).padStart(5)}%`);
  return lines;
}
