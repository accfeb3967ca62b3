/**
 * Test kit for the system-instruction tests (control registers, MSRs, fast system calls, port
 * I/O): nasm-assembled code, a machine configured before it runs, identity page tables with
 * user access, and a recording port bus.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cpu, RunResult } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, StartMode } from '../../src/x86/modes';
import { GPR_NAMES } from '../../src/x86/registers';
import type { PortBus } from '../../src/x86/io';
import { DEFAULT_CPUID, type CpuidModel } from '../../src/x86/cpuid';

export const hasNasm = spawnSync('nasm', ['-v'], { encoding: 'utf8' }).status === 0;
export const CODE = 0x1000;
/** Identity page tables: PML4 at 0x70000, PDPT 0x71000, PD 0x72000 (2 MiB pages, U/S = 1). */
export const PML4 = 0x70000;

/** Assemble `src` (NASM syntax) as a flat binary at `org`. */
export function asm(bits: 16 | 32 | 64, src: string, org = CODE): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'vtx-sys-'));
  try {
    writeFileSync(join(dir, 'a.asm'), `bits ${bits}\norg 0x${org.toString(16)}\n${src}\n`);
    const r = spawnSync('nasm', ['-f', 'bin', '-o', join(dir, 'a.bin'), join(dir, 'a.asm')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nasm failed: ${r.stderr}`);
    return new Uint8Array(readFileSync(join(dir, 'a.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function w32(mem: PhysicalMemory, a: number, v: number): void {
  for (let i = 0; i < 4; i++) mem.write8(a + i, (v >>> (8 * i)) & 0xff);
}

/** 4-level identity map of the first 1 GiB with 2 MiB pages, present, writable, user. */
export function identityTables(mem: PhysicalMemory): void {
  w32(mem, PML4, (PML4 + 0x1000) | 7);
  w32(mem, PML4 + 0x1000, (PML4 + 0x2000) | 7);
  for (let i = 0; i < 512; i++) {
    w32(mem, PML4 + 0x2000 + 8 * i, ((i << 21) | 0x87) >>> 0);
    w32(mem, PML4 + 0x2000 + 8 * i + 4, i >>> 11);
  }
}

export interface Machine {
  cpu: Cpu;
  mem: PhysicalMemory;
  result: RunResult;
  reg(name: (typeof GPR_NAMES)[number]): bigint;
}

export interface Setup {
  mode?: StartMode;
  /** Runs after enterMode and before the run: set CPL, segments, MSRs, ports... */
  setup?: (cpu: Cpu, mem: PhysicalMemory) => void;
  regs?: Partial<Record<(typeof GPR_NAMES)[number], number | bigint>>;
  rflags?: number;
  max?: number;
  /** A CPUID model other than the default. */
  cpuid?: CpuidModel;
}

/** DEFAULT_CPUID with extra feature bits: [leaf, subleaf, register, bit]. */
export function cpuidWith(...bits: Array<[number, number, 'eax' | 'ebx' | 'ecx' | 'edx', number]>): CpuidModel {
  return {
    leaves: DEFAULT_CPUID.leaves.map((l) => {
      const n = { ...l };
      for (const [leaf, sub, reg, bit] of bits) {
        if (l.leaf === leaf && (l.subleaf ?? 0) === sub) n[reg] = (n[reg] | (1 << bit)) | 0;
      }
      return n;
    }),
  };
}

/** Load `code` at 0x1000, enter `mode` (identity tables in CR3 for long/compat), run. */
export function run(code: Uint8Array, s: Setup = {}): Machine {
  const mem = new PhysicalMemory(0x100000);
  mem.load(CODE, code);
  identityTables(mem);
  const cpu = new Cpu(mem, { cpuid: s.cpuid });
  const mode = s.mode ?? 'long';
  enterMode(cpu, mode);
  if (mode === 'long' || mode === 'compat') {
    cpu.cr3Lo = PML4;
    cpu.cr3Hi = 0;
    cpu.flushTlb();
  }
  cpu.setRip(CODE);
  cpu.setReg64(4, 0x8000);
  for (const [name, v] of Object.entries(s.regs ?? {})) {
    cpu.setReg64(GPR_NAMES.indexOf(name as (typeof GPR_NAMES)[number]), BigInt(v as number | bigint));
  }
  if (s.rflags !== undefined) cpu.setRflags(s.rflags);
  s.setup?.(cpu, mem);
  const result = cpu.run(s.max ?? 10000);
  return { cpu, mem, result, reg: (n) => cpu.getReg64(GPR_NAMES.indexOf(n)) };
}

/** The run stopped on an exception with this vector (and error code when given). */
export function faulted(m: Machine, vector: number, errorCode?: number): boolean {
  const e = m.result.exception;
  if (m.result.reason !== 'exception' || e === undefined) return false;
  return e.vector === vector && (errorCode === undefined || e.errorCode === errorCode);
}

export function describeStop(m: Machine): string {
  const e = m.result.exception;
  return `${m.result.reason}${e ? `: ${e.name} ${e.errorCode ?? ''} ${e.detail} at ${e.text}` : ''}`;
}

/** A port bus that records accesses and answers reads from a table (default 0xff.. per size). */
export class RecordingPorts implements PortBus {
  readonly log: Array<[string, number, number, number]> = [];
  readonly values = new Map<number, number[]>();
  portIn(port: number, size: number): number {
    const q = this.values.get(port);
    const v = q !== undefined && q.length > 0 ? q.shift()! : size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    this.log.push(['in', port, size, v]);
    return v;
  }
  portOut(port: number, size: number, value: number): void {
    this.log.push(['out', port, size, value]);
  }
}
