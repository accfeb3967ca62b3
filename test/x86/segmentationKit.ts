/**
 * Test kit for the segmentation tests: nasm-assembled code, descriptor builders (SDM vol. 3A
 * §3.4.5 figure 3-8, §5.8.3 figure 5-8, §5.8.3.1 figure 5-9, §7.2.2 figure 7-3) and a machine
 * with a GDT in guest memory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cpu, RunResult } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, StartMode } from '../../src/x86/modes';
import { setSegmentCache } from '../../src/x86/descriptors';

export const hasNasm = spawnSync('nasm', ['-v'], { encoding: 'utf8' }).status === 0;

export const CODE = 0x1000;
export const GDT = 0x20000;

/** Assemble `src` (NASM syntax) as a flat binary at `org`. */
export function asm(bits: 16 | 32 | 64, src: string, org = CODE): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'vtx-seg-'));
  try {
    writeFileSync(join(dir, 'a.asm'), `bits ${bits}\norg 0x${org.toString(16)}\n${src}\n`);
    const r = spawnSync('nasm', ['-f', 'bin', '-o', join(dir, 'a.bin'), join(dir, 'a.asm')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nasm failed: ${r.stderr}`);
    return new Uint8Array(readFileSync(join(dir, 'a.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 8-byte code/data/system descriptor: access byte (P DPL S type), flags nibble (G D/B L AVL). */
export function desc(base: number, limit: number, access: number, flags: number): number[] {
  return [
    limit & 0xff, (limit >>> 8) & 0xff, base & 0xff, (base >>> 8) & 0xff, (base >>> 16) & 0xff,
    access & 0xff, ((flags & 0xf) << 4) | ((limit >>> 16) & 0xf), (base >>> 24) & 0xff,
  ];
}

/** 16/32-bit call gate (type 4 or 0xC) or task gate (type 5). */
export function gate(sel: number, offset: number, type: number, dpl: number, params = 0, present = true): number[] {
  return [
    offset & 0xff, (offset >>> 8) & 0xff, sel & 0xff, (sel >>> 8) & 0xff, params & 0x1f,
    (present ? 0x80 : 0) | (dpl << 5) | type, (offset >>> 16) & 0xff, (offset >>> 24) & 0xff,
  ];
}

/** 16-byte IA-32e call gate (type 0xC) or system descriptor halves. */
export function gate64(sel: number, offLo: number, offHi: number, dpl: number): number[] {
  return [...gate(sel, offLo, 0xc, dpl), offHi & 0xff, (offHi >>> 8) & 0xff, (offHi >>> 16) & 0xff, (offHi >>> 24) & 0xff, 0, 0, 0, 0];
}

/** 16-byte IA-32e TSS/LDT descriptor. */
export function sys64(base: number, baseHi: number, limit: number, access: number): number[] {
  return [...desc(base, limit, access, 0), baseHi & 0xff, (baseHi >>> 8) & 0xff, (baseHi >>> 16) & 0xff, (baseHi >>> 24) & 0xff, 0, 0, 0, 0];
}

/** The standard GDT used by the tests (index = selector >> 3). */
export function standardGdt(): number[][] {
  const g: number[][] = [];
  g[0] = [0, 0, 0, 0, 0, 0, 0, 0];
  g[1] = desc(0, 0xfffff, 0x9a, 0xc); // 0x08 code32 DPL0
  g[2] = desc(0, 0xfffff, 0x92, 0xc); // 0x10 data32 DPL0
  g[3] = desc(0, 0xfffff, 0x9a, 0xa); // 0x18 code64 DPL0
  g[4] = desc(0, 0xfffff, 0xf2, 0xc); // 0x20 data32 DPL3
  g[5] = desc(0, 0xfffff, 0xfa, 0xc); // 0x28 code32 DPL3
  g[6] = desc(0, 0xfffff, 0x12, 0xc); // 0x30 data, not present
  g[7] = desc(0, 0xfffff, 0x90, 0xc); // 0x38 read-only data DPL0
  g[8] = desc(0, 0xfffff, 0x98, 0xc); // 0x40 execute-only code DPL0
  g[9] = desc(0, 0xfffff, 0x9e, 0xc); // 0x48 conforming readable code DPL0
  g[10] = desc(0x30000, 0x67, 0x89, 0); // 0x50 32-bit TSS (available)
  g[11] = desc(0x31000, 0x17, 0x82, 0); // 0x58 LDT
  g[12] = [0, 0, 0, 0, 0, 0, 0, 0]; // 0x60 call gate (per test)
  g[13] = desc(0x12345, 0xfff, 0x92, 0x4); // 0x68 data, base 0x12345, limit 0xfff
  g[14] = desc(0, 0xfffff, 0xfa, 0xa); // 0x70 code64 DPL3
  g[15] = desc(0, 0xffff, 0x92, 0); // 0x78 data16 DPL0
  g[16] = desc(0, 0xffff, 0x9a, 0); // 0x80 code16 DPL0
  g[17] = gate(0x50, 0, 5, 0); // 0x88 task gate
  g[18] = desc(0, 0xfffff, 0xb2, 0xc); // 0x90 data32 DPL1
  g[19] = desc(0, 0xfffff, 0x16, 0xc); // 0x98 expand-down data, not present
  g[20] = desc(0x40000, 0xfff, 0xf2, 0x4); // 0xa0 data32 DPL3 base 0x40000 (ring-3 stack)
  g[21] = [0, 0, 0, 0, 0, 0, 0, 0];
  return g;
}

export interface Machine {
  cpu: Cpu;
  mem: PhysicalMemory;
  run(max?: number): RunResult;
  /** Byte n of descriptor `sel` in the GDT. */
  gdtByte(sel: number, n: number): number;
}

export interface MachineSetup {
  gdt?: number[][];
  memory?: Array<[number, number[] | Uint8Array]>;
  regs?: Record<number, number>;
  /** Run at this CPL: CS = `cs` (a code selector of that DPL), SS = `ss`. */
  cpl?: number;
  cs?: number;
  ss?: number;
  ssBase?: number;
}

/** A processor in `mode` with the GDT at 0x20000, code at 0x1000, RSP = 0x8000. */
export function machine(mode: StartMode, bits: 16 | 32 | 64, src: string, setup: MachineSetup = {}): Machine {
  const mem = new PhysicalMemory(0x100000);
  mem.load(CODE, asm(bits, src));
  const gdt = setup.gdt ?? standardGdt();
  const bytes = gdt.flatMap((e) => e ?? [0, 0, 0, 0, 0, 0, 0, 0]);
  mem.load(GDT, Uint8Array.from(bytes));
  for (const [a, b] of setup.memory ?? []) mem.load(a, b instanceof Uint8Array ? b : Uint8Array.from(b));
  const cpu = new Cpu(mem);
  enterMode(cpu, mode);
  cpu.gdtrBaseLo = GDT;
  cpu.gdtrBaseHi = 0;
  cpu.gdtrLimit = bytes.length - 1;
  cpu.setRip(CODE);
  cpu.setReg64(4, 0x8000);
  if (mode === 'long') setSegmentCache(cpu, 1, 0x18, 0, 0xffffffff, 0xa09b);
  if (setup.cpl !== undefined) {
    const cs = setup.cs ?? (mode === 'long' ? 0x73 : 0x2b);
    const ss = setup.ss ?? 0x23;
    cpu.cpl = setup.cpl;
    cpu.flushTlb();
    const codeAttr = mode === 'long' ? 0xa0fb : 0xc0fb;
    setSegmentCache(cpu, 1, cs, 0, 0xffffffff, codeAttr);
    setSegmentCache(cpu, 2, ss, setup.ssBase ?? 0, 0xffffffff, 0xc0f3);
    for (const s of [0, 3, 4, 5]) setSegmentCache(cpu, s, 0x23, 0, 0xffffffff, 0xc0f3);
  }
  for (const [r, v] of Object.entries(setup.regs ?? {})) cpu.setReg64(Number(r), BigInt(v));
  return {
    cpu,
    mem,
    run: (max = 10000) => cpu.run(max),
    gdtByte: (sel, n) => mem.read8(GDT + (sel & 0xfff8) + n),
  };
}
