/**
 * A guest in VMX non-root operation with EPT, without VM entry: the processor is put in
 * non-root operation directly (cpu.nonRoot, engine.proc2, a current VMCS with EPT_POINTER), so
 * the EPT tests depend only on ept*.ts and paging.ts. VM exits are recorded (engine.exit is
 * replaced by a recorder that leaves non-root operation) instead of loading host state.
 *
 * Guest memory (guest-physical): code at 0x1000, data pages 0x4000-0x9000, stack below 0x8000;
 * long mode: 4-level guest paging at 0x10000 (PML4) / 0x11000 (PDPT) / 0x12000 (PD) / 0x13000
 * (PT) mapping linear 0-2 MiB identically with 4 KiB pages (P, R/W, U/S, A, D preset).
 * EPT (EptBuilder) at host-physical 0x700000, identity over 0-2 MiB with 4 KiB pages.
 */
import { Cpu } from '../../src/x86/cpu';
import type { RunResult } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode } from '../../src/x86/modes';
import { CpuException } from '../../src/x86/exceptions';
import { DeferredVmExit } from '../../src/x86/vmxEptHooks';
import { VmxEngine } from '../../src/vmx/engine';
import { Vmcs } from '../../src/vmx/vmcs';
import { EptBuilder, PAGE_4K } from '../../src/vmx/eptBuilder';
import { ENABLE_EPT, ENABLE_VPID, eptOnVmEntry, eptOnVmExit } from '../../src/vmx/ept';

export const RAM = 0x800000;
export const EPT_TABLES = 0x700000;
export const CODE = 0x1000;
export const PML4 = 0x10000;
export const PDPT = 0x11000;
export const PD = 0x12000;
export const PT = 0x13000;
/** Guest paging-structure flags: P, R/W, U/S, A (non-leaf); leaf adds D. */
export const G_TABLE = 0x27;
export const G_LEAF = 0x67;

export interface RecordedExit {
  reason: number;
  qual: number;
  ripLo: number;
  ripHi: number;
  gpa: bigint;
  gla: bigint;
}

export interface EptGuestOptions {
  mode?: 'long' | 'protected' | 'real';
  /** Guest code bytes at guest-physical (and linear) 0x1000. */
  code?: number[];
  levels?: 4 | 5;
  accessedDirty?: boolean;
  /** "enable EPT" (default true). */
  ept?: boolean;
  /** Extra secondary controls. */
  proc2?: number;
  /** VPID (turns on "enable VPID"). */
  vpid?: number;
}

export class EptGuest {
  readonly mem = new PhysicalMemory(RAM);
  readonly cpu = new Cpu(this.mem);
  readonly engine = new VmxEngine(this.cpu);
  readonly vmcs = new Vmcs(0x3f0000);
  readonly ept: EptBuilder;
  readonly exits: RecordedExit[] = [];

  constructor(readonly options: EptGuestOptions = {}) {
    const { cpu, engine, mem } = this;
    engine.current = this.vmcs;
    this.ept = new EptBuilder(mem, { tablesAt: EPT_TABLES, levels: options.levels ?? 4, accessedDirty: options.accessedDirty ?? false });
    this.ept.identity(0, 0x200000, { maxPage: PAGE_4K });
    this.vmcs.write('EPT_POINTER', this.ept.eptpValue());
    let p2 = (options.ept ?? true) ? ENABLE_EPT : 0;
    if (options.vpid !== undefined) {
      p2 |= ENABLE_VPID;
      this.vmcs.write('VIRTUAL_PROCESSOR_ID', options.vpid);
    }
    engine.proc2 = p2 | (options.proc2 ?? 0);
    const mode = options.mode ?? 'long';
    enterMode(cpu, mode);
    if (mode === 'long') {
      this.w64(PML4, PDPT | G_TABLE);
      this.w64(PDPT, PD | G_TABLE);
      this.w64(PD, PT | G_TABLE);
      for (let i = 0; i < 512; i++) this.w64(PT + i * 8, i * 0x1000 + G_LEAF);
      cpu.cr3Lo = PML4;
      cpu.cr3Hi = 0;
      cpu.flushTlb();
    }
    if (mode === 'real') cpu.setRip(CODE);
    else cpu.setRip(CODE);
    cpu.setReg64(4, 0x8000n);
    if (options.code !== undefined) mem.load(CODE, Uint8Array.from(options.code));
    // The exit door: record, leave non-root operation, switch the TLB context back.
    (engine as unknown as { exit: (...a: number[]) => void }).exit = (reason, qual, _qh, _len, _info, ripLo, ripHi) => {
      this.exits.push({ reason, qual, ripLo, ripHi, gpa: this.vmcs.read('GUEST_PHYSICAL_ADDRESS'), gla: this.vmcs.read('GUEST_LINEAR_ADDRESS') });
      cpu.nonRoot = false;
      eptOnVmExit(engine);
    };
    // Take a DeferredVmExit straight to the recorder (the processor's own path goes through the
    // event hooks, eventExitDelivery.ts, which also need a complete VMCS).
    const c = cpu as unknown as { deliverException(e: CpuException): boolean };
    const orig = c.deliverException.bind(cpu);
    c.deliverException = (e: CpuException): boolean => {
      if (e instanceof DeferredVmExit) {
        e.take(cpu);
        cpu.exitTaken = true;
        return true;
      }
      return orig(e);
    };
    this.enter();
  }

  /** (Re-)enter non-root operation at the current RIP. */
  enter(): void {
    this.cpu.nonRoot = true;
    eptOnVmEntry(this.engine);
  }

  w64(at: number, v: number): void {
    const lo = v % 4294967296;
    const hi = Math.floor(v / 4294967296);
    for (let i = 0; i < 4; i++) this.mem.write8(at + i, (lo >>> (8 * i)) & 0xff);
    for (let i = 0; i < 4; i++) this.mem.write8(at + 4 + i, (hi >>> (8 * i)) & 0xff);
  }

  r64(at: number): bigint {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(this.mem.read8(at + i));
    return v;
  }

  r32(at: number): number {
    let v = 0;
    for (let i = 0; i < 4; i++) v |= this.mem.read8(at + i) << (8 * i);
    return v >>> 0;
  }

  /** Run up to `n` more instructions. */
  run(n = 1000): RunResult {
    return this.cpu.run(this.cpu.icount + n);
  }

  /** The only exit recorded (fails the test otherwise). */
  get exit(): RecordedExit {
    if (this.exits.length !== 1) throw new Error(`expected one VM exit, got ${this.exits.length}`);
    return this.exits[0];
  }

  /** Translate in the guest directly; returns the host-physical address or the exit thrown. */
  translate(lin: number, access: number): number | DeferredVmExit {
    try {
      return this.cpu.translate(lin, 0, access);
    } catch (e) {
      if (e instanceof DeferredVmExit) return e;
      throw e;
    }
  }
}

// ---- a few encodings (64-bit unless noted) ------------------------------------------------------
const d32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
/** mov eax, [abs32] (64-bit: SIB absolute). */
export const loadEax = (a: number): number[] => [0x8b, 0x04, 0x25, ...d32(a)];
/** mov [abs32], eax. */
export const storeEax = (a: number): number[] => [0x89, 0x04, 0x25, ...d32(a)];
/** add dword [abs32], 1. */
export const addMem = (a: number): number[] => [0x83, 0x04, 0x25, ...d32(a), 0x01];
/** mov eax, imm32. */
export const movEax = (v: number): number[] => [0xb8, ...d32(v)];
/** jmp rax / jmp eax. */
export const JMP_RAX = [0xff, 0xe0];
/** mov eax, [abs32] in 16/32-bit code (A1 moffs; 32-bit address). */
export const loadEax32 = (a: number): number[] => [0xa1, ...d32(a)];
export const HLT = [0xf4];
