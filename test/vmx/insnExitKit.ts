/**
 * A bare non-root setup for instruction-exit tests: a Cpu in a chosen mode with an engine whose
 * current VMCS and decoded controls are set directly (no VM entry), and `engine.exit` replaced
 * by a recorder. This tests the decisions and the exit information of src/vmx/insnExit*.ts on
 * their own; test/vmx/harness.ts runs the full VM entry/exit path.
 */
import { Decoder, DecoderOptions, Instruction } from 'iced-x86';
import { Cpu, RunResult } from '../../src/x86/cpu';
import type { DecodedInsn } from '../../src/x86/decoded';
import { describe } from '../../src/x86/decoded';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, StartMode } from '../../src/x86/modes';
import { GPR_NAMES } from '../../src/x86/registers';
import type { EventExitHooks } from '../../src/x86/vmxHooks';
import { VmxEngine } from '../../src/vmx/engine';
import { Vmcs } from '../../src/vmx/vmcs';
import { PROC_BASED, PROC_BASED2, bitsOf } from '../../src/vmx/controlBits';
import { encode } from '../x86/run';

export const CODE = 0x1000;
export const VMCS_AT = 0x20000;
export const IO_A = 0x21000;
export const IO_B = 0x22000;
export const MSR_BITMAP = 0x23000;
export const VAPIC = 0x24000;
export const EPTP_LIST = 0x25000;

/**
 * The way exits leave ops in these tests: false, VM_EXIT is thrown (the processor today); true,
 * the op returns with `exitTaken` (the processor's `exitReturns`, see insnExitReturns.test.ts).
 */
export const protocol = { returns: false };

export interface ExitRecord {
  reason: number;
  qual: bigint;
  len: number;
  info: number;
  rip: bigint;
}

export interface Setup {
  mode?: StartMode;
  /** Primary / secondary processor-based control names (PROC_BASED / PROC_BASED2 tables). */
  proc?: string[];
  proc2?: string[];
  /** VMCS fields by name. */
  fields?: Record<string, bigint | number>;
  regs?: Partial<Record<(typeof GPR_NAMES)[number], number | bigint>>;
  memory?: Array<[number, number[] | Uint8Array]>;
  cpl?: number;
  /** CR4 bits set in addition to the mode's (CR4.VMXE is always set; clear it in `before`). */
  cr4?: number;
  /** Adjust the processor before running. */
  before?: (cpu: Cpu, engine: VmxEngine) => void;
}

export interface NonRoot {
  cpu: Cpu;
  engine: VmxEngine;
  vmcs: Vmcs;
  mem: PhysicalMemory;
  exits: ExitRecord[];
  result: RunResult;
  /** The vector of the exception the code raised (delivered in the guest, or stopping the run), if any. */
  fault(): number | undefined;
  /** The single exit (fails if there is not exactly one). */
  exit(): ExitRecord;
  reg(name: (typeof GPR_NAMES)[number]): bigint;
  field(name: string): bigint;
}

function toBytes(code: Uint8Array | number[] | Instruction[], bitness: 16 | 32 | 64): Uint8Array {
  if (code instanceof Uint8Array) return code;
  if (code.length > 0 && typeof code[0] !== 'number') return encode(bitness, code as Instruction[]);
  return Uint8Array.from(code as number[]);
}

/** Run `code` at 0x1000 in non-root operation until the first VM exit, HLT, or a fault. */
export function runNonRoot(code: Uint8Array | number[] | Instruction[], s: Setup = {}): NonRoot {
  const mode = s.mode ?? 'long';
  const bitness = mode === 'long' ? 64 : mode === 'real' ? 16 : 32;
  const mem = new PhysicalMemory(0x100000);
  mem.load(CODE, toBytes(code, bitness));
  for (const [a, b] of s.memory ?? []) mem.load(a, b instanceof Uint8Array ? b : Uint8Array.from(b));
  const cpu = new Cpu(mem);
  enterMode(cpu, mode);
  cpu.setRip(CODE);
  cpu.setReg64(4, 0x8000);
  for (const [name, v] of Object.entries(s.regs ?? {})) {
    cpu.setReg64(GPR_NAMES.indexOf(name as (typeof GPR_NAMES)[number]), BigInt(v as number | bigint));
  }
  const engine = new VmxEngine(cpu);
  const vmcs = new Vmcs(VMCS_AT);
  engine.current = vmcs;
  vmcs.write('IO_BITMAP_A', IO_A);
  vmcs.write('IO_BITMAP_B', IO_B);
  vmcs.write('MSR_BITMAPS', MSR_BITMAP);
  vmcs.write('VIRTUAL_APIC_ADDRESS', VAPIC);
  vmcs.write('EPTP_LIST_ADDRESS', EPTP_LIST);
  for (const [name, v] of Object.entries(s.fields ?? {})) vmcs.write(name, v);
  engine.proc = s.proc === undefined ? 0 : bitsOf(PROC_BASED, ...s.proc);
  engine.proc2 = s.proc2 === undefined ? 0 : bitsOf(PROC_BASED2, ...s.proc2);
  if (engine.proc2 !== 0) engine.proc |= bitsOf(PROC_BASED, 'ACTIVATE_SECONDARY_CONTROLS');
  const exits: ExitRecord[] = [];
  (engine as unknown as { exit: (...a: number[]) => void }).exit = (reason, qLo, qHi, len, info, ripLo, ripHi) => {
    exits.push({
      reason,
      qual: (BigInt(qHi >>> 0) << 32n) | BigInt(qLo >>> 0),
      len,
      info: info >>> 0,
      rip: (BigInt(ripHi >>> 0) << 32n) | BigInt(ripLo >>> 0),
    });
    cpu.nonRoot = false;
  };
  // Exceptions in non-root operation go to the event hooks (EVENTS' part): a stub records the
  // vector and stops the run, so these tests see which fault an instruction raised.
  const faults: number[] = [];
  cpu.vmxEvents = new Proxy({}, {
    get: (_t, name) => (name === 'deliver'
      ? (c: Cpu, vector: number) => { faults.push(vector); c.stopRequested = true; }
      : () => false),
  }) as EventExitHooks;
  cpu.inVmxOperation = true;
  cpu.nonRoot = true;
  if (protocol.returns) (cpu as unknown as { exitReturns: boolean }).exitReturns = true;
  // CR4.VMXE is 1 in non-root operation (IA32_VMX_CR4_FIXED0); `cr4` adds bits to the mode's CR4.
  cpu.cr4 |= (1 << 13) | (s.cr4 ?? 0);
  if (s.cpl !== undefined) cpu.cpl = s.cpl;
  s.before?.(cpu, engine);
  const result = cpu.run(1000);
  return {
    cpu, engine, vmcs, mem, exits, result,
    fault: () => faults[0] ?? result.exception?.vector,
    exit() {
      if (exits.length !== 1) throw new Error(`expected one VM exit, got ${exits.length} (run: ${result.reason} ${result.exception?.name ?? ''} ${result.exception?.detail ?? ''})`);
      return exits[0];
    },
    reg: (name) => cpu.getReg64(GPR_NAMES.indexOf(name)),
    field: (name) => vmcs.read(name),
  };
}

/** Decode one instruction (for the pure encoders of insnExitInfo.ts). */
export function decodeOne(bitness: 16 | 32 | 64, bytes: number[], ip = CODE): DecodedInsn {
  const buf = Uint8Array.from(bytes);
  const dec = new Decoder(bitness, buf, DecoderOptions.None);
  dec.ip = BigInt(ip);
  const ins = new Instruction();
  try {
    dec.decodeOut(ins);
    const d = describe(ins, bitness, buf.slice(0, ins.length));
    if (d.invalid) throw new Error(`invalid instruction ${bytes.map((b) => b.toString(16)).join(' ')}`);
    return d;
  } finally {
    dec.free();
    ins.free();
  }
}

/** Set bit `n` of a bitmap page at `base` in `mem`. */
export function setBit(mem: PhysicalMemory, base: number, n: number): void {
  const a = base + (n >>> 3);
  mem.write8(a, mem.read8(a) | (1 << (n & 7)));
}
