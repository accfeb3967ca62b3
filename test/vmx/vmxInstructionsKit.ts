/**
 * A small fixture for the VMX-instruction tests (CORE): a 64-bit host processor with CR0/CR4 as
 * VMX operation requires, a VmxEngine, and VMXON/VMCS regions carrying the revision identifier.
 * No VMCS content: these tests are about the instructions themselves (SDM vol. 3C chapter 30).
 */
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode } from '../../src/x86/modes';
import { CpuException } from '../../src/x86/exceptions';
import type { EngineOptions, VmxStatus } from '../../src/vmx/engine';
import { VmxEngine } from '../../src/vmx/engine';
import { REVISION_ID } from '../../src/vmx/capabilities';
import { FIELD_BY_NAME } from '../../src/vmx/fields';

export const VMXON = 0x10000;
export const VMCS_A = 0x11000;
export const VMCS_B = 0x12000;
export const VMCS_C = 0x13000;
export const CR4_VMXE = 1 << 13;

export interface Kit {
  cpu: Cpu;
  mem: PhysicalMemory;
  engine: VmxEngine;
  w32(addr: number, v: number): void;
  r32(addr: number): number;
}

/** A host ready for VMXON (not yet in VMX operation). */
export function host(options: EngineOptions = {}): Kit {
  const mem = new PhysicalMemory(0x100000);
  const cpu = new Cpu(mem);
  enterMode(cpu, 'long');
  cpu.cr4 |= CR4_VMXE;
  const engine = new VmxEngine(cpu, options);
  const w32 = (a: number, v: number) => {
    for (let i = 0; i < 4; i++) mem.write8(a + i, (v >>> (8 * i)) & 0xff);
  };
  const r32 = (a: number) => mem.read8(a) | (mem.read8(a + 1) << 8) | (mem.read8(a + 2) << 16) | (mem.read8(a + 3) << 24);
  for (const a of [VMXON, VMCS_A, VMCS_B, VMCS_C]) w32(a, REVISION_ID);
  return { cpu, mem, engine, w32, r32 };
}

/** In VMX root operation; with `load`, VMCS_A cleared and current. */
export function root(load = true, options: EngineOptions = {}): Kit {
  const k = host(options);
  expectOk(k.engine.vmxon(VMXON));
  if (load) {
    expectOk(k.engine.vmclear(VMCS_A));
    expectOk(k.engine.vmptrld(VMCS_A));
  }
  return k;
}

export function expectOk(s: VmxStatus): void {
  if (s.status !== 'succeed') throw new Error(`expected VMsucceed, got ${JSON.stringify(s)}`);
}

/** The status as text: 'ok', 'invalid' or 'valid:N'. */
export function st(s: VmxStatus): string {
  return s.status === 'succeed' ? 'ok' : s.status === 'failInvalid' ? 'invalid' : `valid:${s.error}`;
}

/** The vector of the CpuException `f` throws, or -1 when it returns. */
export function fault(f: () => unknown): number {
  try {
    f();
    return -1;
  } catch (e) {
    if (e instanceof CpuException) return e.vector;
    throw e;
  }
}

export function enc(name: string): number {
  const f = FIELD_BY_NAME.get(name);
  if (f === undefined) throw new Error(`no field ${name}`);
  return f.encoding;
}

export const UD = 6;
export const GP = 13;
