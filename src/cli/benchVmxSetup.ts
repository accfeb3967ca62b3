/**
 * A complete, valid VMX setup on a fresh processor: the host in 64-bit mode in VMX root
 * operation (VMXON done), one current VMCS with valid host state, controls chosen from the
 * capability MSRs (controlChoice.ts, SDM vol. 3C §31.5.1) and a valid guest state for a 64-bit,
 * 32-bit protected (paged) or real-mode (unrestricted guest + identity EPT) guest, per the
 * checks of §26.2-26.3. Used by the exit-heavy benchmark (benchVmx.ts) and by the tests
 * (test/vmx/harness.ts adds the test conveniences).
 *
 * Everything goes through the VMX instructions as a hypervisor would issue them (engine.vmxon,
 * vmclear, vmptrld, vmwrite, vmlaunch, vmresume, vmread) — engine.ts's contract.
 *
 * Physical memory layout (all below 1 MiB except the guest's code and stack):
 *   0x01000 host code (HLT: HOST_RIP)     0x03000 top of the host stack (HOST_RSP)
 *   0x10000 VMXON region   0x11000 VMCS   0x12000 a second VMCS region for tests
 *   0x13000 MSR bitmaps    0x14000 I/O bitmap A   0x15000 I/O bitmap B
 *   0x16000 virtual-APIC page   0x17000 APIC-access page
 *   0x18000 VM-exit MSR-store area   0x19000 VM-exit MSR-load area   0x1a000 VM-entry MSR-load area
 *   0x20000 guest 4-level page tables (PML4, PDPT, PD: identity, 2 MiB pages, first 1 GiB)
 *   0x23000 guest 32-bit page directory (4 MiB pages, identity over 4 GiB)
 *   0x24000 guest GDT, 0x25000 guest TSS, 0x26000 guest IDT, 0x27000 guest exception/interrupt
 *   handler stubs (benchVmxGuestTables.ts); the real-mode guest's IVT at 0
 *   0x40000-0x80000 EPT paging structures (eptBuilder.ts)
 *   0x09000 real-mode guest code (CS 0, IP 0x9000; SS:SP 0:0xf000)
 *   0x100000 protected/long-mode guest code; 0x200000 top of its stack
 */
import { Cpu } from '../x86/cpu';
import type { RunResult } from '../x86/cpu';
import { enterMode } from '../x86/modes';
import { getStored } from '../x86/msr';
import { PhysicalMemory } from '../x86/physicalMemory';
import type { VmEntryOutcome, VmxStatus } from '../vmx/engine';
import { VmxEngine } from '../vmx/engine';
import { FIELD_BY_NAME } from '../vmx/fields';
import type { Vmcs } from '../vmx/vmcs';
import type { ControlRequest, ControlValues, CtlsMsr } from '../vmx/controlChoice';
import { applyFixed, chooseControls, MSR_VMX } from '../vmx/controlChoice';
import { writeGuestTables } from './benchVmxGuestTables';
import { EptBuilder, PAGE_1G, PAGE_2M } from '../vmx/eptBuilder';

export const LAYOUT = {
  HOST_CODE: 0x1000, HOST_STACK: 0x3000,
  VMXON: 0x10000, VMCS: 0x11000, VMCS2: 0x12000,
  MSR_BITMAP: 0x13000, IO_BITMAP_A: 0x14000, IO_BITMAP_B: 0x15000,
  VIRTUAL_APIC: 0x16000, APIC_ACCESS: 0x17000,
  EXIT_MSR_STORE: 0x18000, EXIT_MSR_LOAD: 0x19000, ENTRY_MSR_LOAD: 0x1a000,
  GUEST_PML4: 0x20000, GUEST_PD32: 0x23000,
  EPT_TABLES: 0x40000, EPT_TABLES_SIZE: 0x40000,
  REAL_CODE: 0x9000, REAL_STACK: 0xf000,
  GUEST_CODE: 0x100000, GUEST_STACK: 0x200000,
} as const;

export type GuestMode = 'long' | 'protected' | 'real';

export interface VmxMachineOptions {
  /** Guest mode (default 'long'). 'real' turns on unrestricted guest and EPT. */
  mode?: GuestMode;
  /** Identity EPT over RAM (default: true for 'real', false otherwise). */
  ept?: boolean;
  /** EPT with accessed/dirty flags (EPTP bit 6). */
  eptAccessedDirty?: boolean;
  /** 32-bit protected guest without paging (needs unrestricted guest: EPT is turned on). */
  unpaged?: boolean;
  /** VPID (nonzero turns on "enable VPID"). */
  vpid?: number;
  /** More controls to set or clear, by name (controlBits.ts). */
  controls?: ControlRequest;
  /** RAM size (default 4 MiB). */
  memorySize?: number;
  /** Guest code, loaded at the mode's entry point. */
  code?: Uint8Array;
}

/** The methods of engine.ts the setup drives (the VMX instructions). */
export interface EngineOps {
  vmxon(addr: number): VmxStatus;
  vmclear(addr: number): VmxStatus;
  vmptrld(addr: number): VmxStatus;
  vmwrite(encoding: number, lo: number, hi?: number): VmxStatus;
  vmread(encoding: number): number;
  readHi: number;
  lastStatus: VmxStatus;
  vmlaunch(): VmEntryOutcome;
  vmresume(): VmEntryOutcome;
}

const TWO32 = 4294967296;
const CR0_PE = 1, CR0_ET = 0x10, CR0_NE = 0x20, CR0_PG = 0x80000000;
const CR4_PSE = 0x10, CR4_PAE = 0x20, CR4_VMXE = 0x2000;

/** Encoding of a VMCS field by name (throws on a typo). */
export function enc(name: string): number {
  const f = FIELD_BY_NAME.get(name);
  if (f === undefined) throw new Error(`no VMCS field named ${name}`);
  return f.encoding;
}

function statusText(s: VmxStatus): string {
  return s.status === 'failValid' ? `VMfailValid(${s.error})` : s.status === 'failInvalid' ? 'VMfailInvalid' : 'VMsucceed';
}

export class VmxMachine {
  readonly mem: PhysicalMemory;
  readonly cpu: Cpu;
  readonly engine: VmxEngine;
  readonly mode: GuestMode;
  readonly controls: ControlValues;
  readonly ept: EptBuilder | null;
  readonly entryRip: number;
  /** The engine's VMX-instruction methods (the bench's host calls them directly). */
  readonly ops: EngineOps;

  constructor(options: VmxMachineOptions = {}) {
    const mode = options.mode ?? 'long';
    this.mode = mode;
    const unrestricted = mode === 'real' || options.unpaged === true;
    const useEpt = options.ept ?? unrestricted;
    if (unrestricted && !useEpt) throw new Error('unrestricted guest needs EPT (§26.2.1.1)');
    this.mem = new PhysicalMemory(options.memorySize ?? 0x400000);
    this.cpu = new Cpu(this.mem);
    const c = this.cpu;
    // Host: 64-bit mode, flat segments, identity paging; HLT at HOST_RIP.
    enterMode(c, 'long');
    this.mem.write8(LAYOUT.HOST_CODE, 0xf4);
    c.setRip(LAYOUT.HOST_CODE);
    c.setReg64(4, BigInt(LAYOUT.HOST_STACK));
    this.engine = new VmxEngine(c);
    this.ops = this.engine;
    c.cr0 = applyFixed(c.cr0, this.msr(MSR_VMX.CR0_FIXED0).lo, this.msr(MSR_VMX.CR0_FIXED1).lo);
    c.cr4 = applyFixed(c.cr4 | CR4_VMXE, this.msr(MSR_VMX.CR4_FIXED0).lo, this.msr(MSR_VMX.CR4_FIXED1).lo);
    const rev = this.msr(MSR_VMX.BASIC).lo & 0x7fffffff;
    this.write32(LAYOUT.VMXON, rev);
    this.write32(LAYOUT.VMCS, rev);
    this.write32(LAYOUT.VMCS2, rev);
    this.check('VMXON', this.ops.vmxon(LAYOUT.VMXON));
    this.check('VMCLEAR', this.ops.vmclear(LAYOUT.VMCS));
    this.check('VMPTRLD', this.ops.vmptrld(LAYOUT.VMCS));

    // Controls (§31.5.1 algorithm 3): what the mode needs plus the caller's.
    const req = options.controls ?? {};
    const proc2 = [...(req.proc2 ?? [])];
    if (useEpt) proc2.push('ENABLE_EPT');
    if (unrestricted) proc2.push('UNRESTRICTED_GUEST');
    if ((options.vpid ?? 0) !== 0) proc2.push('ENABLE_VPID');
    const entry = [...(req.entry ?? [])];
    if (mode === 'long') entry.push('IA32E_MODE_GUEST');
    const exit = [...(req.exit ?? []), 'HOST_ADDRESS_SPACE_SIZE'];
    this.controls = chooseControls((i) => this.msr(i), { ...req, proc2, entry, exit });
    this.writeControls(this.controls);
    this.vmwrite('VMCS_LINK_POINTER', -1, -1);
    this.vmwrite('IO_BITMAP_A', LAYOUT.IO_BITMAP_A);
    this.vmwrite('IO_BITMAP_B', LAYOUT.IO_BITMAP_B);
    this.vmwrite('MSR_BITMAPS', LAYOUT.MSR_BITMAP);
    this.vmwrite('VIRTUAL_APIC_ADDRESS', LAYOUT.VIRTUAL_APIC);
    this.vmwrite('APIC_ACCESS_ADDRESS', LAYOUT.APIC_ACCESS);
    this.vmwrite('VM_EXIT_MSR_STORE_ADDRESS', LAYOUT.EXIT_MSR_STORE);
    this.vmwrite('VM_EXIT_MSR_LOAD_ADDRESS', LAYOUT.EXIT_MSR_LOAD);
    this.vmwrite('VM_ENTRY_MSR_LOAD_ADDRESS', LAYOUT.ENTRY_MSR_LOAD);
    if ((options.vpid ?? 0) !== 0) this.vmwrite('VIRTUAL_PROCESSOR_ID', options.vpid!);
    this.ept = null;
    if (useEpt) {
      const caps = this.msr(MSR_VMX.EPT_VPID_CAP);
      const ept = new EptBuilder(this.mem, {
        tablesAt: LAYOUT.EPT_TABLES, tablesSize: LAYOUT.EPT_TABLES_SIZE, accessedDirty: options.eptAccessedDirty,
      });
      // Identity over RAM, 1 GiB pages when IA32_VMX_EPT_VPID_CAP bit 17 reports them (§A.10).
      const size = Math.ceil(this.mem.size / PAGE_2M) * PAGE_2M;
      ept.identity(0, size, { maxPage: (caps.lo & (1 << 17)) !== 0 ? PAGE_1G : PAGE_2M });
      const p = ept.eptp();
      this.vmwrite('EPT_POINTER', p.lo, p.hi);
      this.ept = ept;
    }
    this.writeHostState();
    this.entryRip = this.writeGuestState(mode, options.unpaged === true);
    if (options.code !== undefined) this.mem.load(this.entryRip, options.code);
  }

  /** A capability MSR (what RDMSR returns: the engine installs them in the processor's MSRs). */
  msr(index: number): CtlsMsr {
    const lo = getStored(this.cpu, index);
    return { lo, hi: this.cpu.vHi };
  }

  private check(what: string, s: VmxStatus): void {
    if (s.status !== 'succeed') throw new Error(`${what} failed: ${statusText(s)}`);
  }

  write8(addr: number, v: number): void {
    this.mem.write8(addr, v);
  }

  write32(addr: number, v: number): void {
    for (let i = 0; i < 4; i++) this.mem.write8(addr + i, (v >>> (8 * i)) & 0xff);
  }

  read32(addr: number): number {
    let v = 0;
    for (let i = 0; i < 4; i++) v |= this.mem.read8(addr + i) << (8 * i);
    return v;
  }

  /** VMWRITE by field name (halves); throws when VMWRITE fails. */
  vmwrite(name: string, lo: number, hi = 0): void {
    const s = this.ops.vmwrite(enc(name), lo | 0, hi | 0);
    if (s.status !== 'succeed') throw new Error(`VMWRITE ${name} failed: ${statusText(s)}`);
  }

  /** VMWRITE of a BigInt/number value by name. */
  write(name: string, value: bigint | number): void {
    const v = BigInt.asUintN(64, BigInt(value));
    this.vmwrite(name, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
  }

  /** VMREAD by name as a BigInt (throws when VMREAD fails). */
  read(name: string): bigint {
    const lo = this.ops.vmread(enc(name));
    const s = this.ops.lastStatus;
    if (s.status !== 'succeed') throw new Error(`VMREAD ${name} failed: ${statusText(s)}`);
    return (BigInt(this.ops.readHi >>> 0) << 32n) | BigInt(lo >>> 0);
  }

  /** VMREAD by name, low 32 bits as an unsigned number. */
  read32f(name: string): number {
    return this.ops.vmread(enc(name)) >>> 0;
  }

  /** The current VMCS object (engine.current). */
  get vmcs(): Vmcs {
    const v = this.engine.current;
    if (v === null) throw new Error('no current VMCS');
    return v;
  }

  writeControls(v: ControlValues): void {
    this.vmwrite('PIN_BASED_VM_EXECUTION_CONTROLS', v.pin);
    this.vmwrite('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', v.proc);
    this.vmwrite('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', v.proc2);
    this.vmwrite('PRIMARY_VM_EXIT_CONTROLS', v.exit);
    this.vmwrite('VM_ENTRY_CONTROLS', v.entry);
  }

  /** Host state (§26.2.2-26.2.4): the processor's current 64-bit state, flat selectors. */
  private writeHostState(): void {
    const c = this.cpu;
    this.vmwrite('HOST_CR0', c.cr0);
    this.vmwrite('HOST_CR3', c.cr3Lo, c.cr3Hi);
    this.vmwrite('HOST_CR4', c.cr4);
    this.vmwrite('HOST_CS_SELECTOR', 0x08);
    for (const s of ['SS', 'DS', 'ES', 'FS', 'GS']) this.vmwrite(`HOST_${s}_SELECTOR`, 0x10);
    this.vmwrite('HOST_TR_SELECTOR', 0x18);
    for (const s of ['FS', 'GS', 'TR', 'GDTR', 'IDTR']) this.vmwrite(`HOST_${s}_BASE`, 0);
    this.vmwrite('HOST_IA32_SYSENTER_CS', 0);
    this.vmwrite('HOST_IA32_SYSENTER_ESP', 0);
    this.vmwrite('HOST_IA32_SYSENTER_EIP', 0);
    this.vmwrite('HOST_IA32_PAT', 0x00070406, 0x00070406);
    this.vmwrite('HOST_IA32_EFER', 0x500);
    this.vmwrite('HOST_RSP', LAYOUT.HOST_STACK);
    this.vmwrite('HOST_RIP', LAYOUT.HOST_CODE);
  }

  private guestSegment(s: string, sel: number, base: number, limit: number, attr: number): void {
    this.vmwrite(`GUEST_${s}_SELECTOR`, sel);
    this.vmwrite(`GUEST_${s}_BASE`, base);
    this.vmwrite(`GUEST_${s}_LIMIT`, limit);
    this.vmwrite(`GUEST_${s}_ACCESS_RIGHTS`, attr);
  }

  /** Guest state (§26.3.1) for `mode`; returns the guest's entry RIP (linear = physical). */
  private writeGuestState(mode: GuestMode, unpaged: boolean): number {
    const fixed0 = this.msr(MSR_VMX.CR0_FIXED0).lo, fixed1 = this.msr(MSR_VMX.CR0_FIXED1).lo;
    const fixed40 = this.msr(MSR_VMX.CR4_FIXED0).lo, fixed41 = this.msr(MSR_VMX.CR4_FIXED1).lo;
    const relax = (this.controls.proc2 & (1 << 7)) !== 0 ? CR0_PE | CR0_PG : 0;
    let cr0: number, cr4: number, cr3 = 0, rip: number, rsp: number;
    if (mode === 'real') {
      cr0 = CR0_ET | CR0_NE;
      cr4 = 0;
      rip = LAYOUT.REAL_CODE;
      rsp = LAYOUT.REAL_STACK;
      for (const s of ['ES', 'SS', 'DS', 'FS', 'GS']) this.guestSegment(s, 0, 0, 0xffff, 0x93);
      this.guestSegment('CS', 0, 0, 0xffff, 0x9b);
    } else {
      rip = LAYOUT.GUEST_CODE;
      rsp = LAYOUT.GUEST_STACK;
      const long = mode === 'long';
      for (const s of ['ES', 'SS', 'DS', 'FS', 'GS']) this.guestSegment(s, 0x10, 0, 0xffffffff, 0xc093);
      this.guestSegment('CS', 0x08, 0, 0xffffffff, long ? 0xa09b : 0xc09b);
      if (long) {
        cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
        cr4 = CR4_PAE;
        cr3 = this.buildLongTables();
        this.vmwrite('GUEST_IA32_EFER', 0x500);
      } else if (unpaged) {
        cr0 = CR0_PE | CR0_ET | CR0_NE;
        cr4 = 0;
      } else {
        cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
        cr4 = CR4_PSE;
        cr3 = this.buildPd32();
      }
    }
    this.guestSegment('LDTR', 0, 0, 0, 0x10000);
    const t = writeGuestTables(this, mode, rsp);
    this.guestSegment('TR', mode === 'real' ? 0 : 0x18, t.trBase, t.trLimit, 0x8b);
    this.vmwrite('GUEST_GDTR_BASE', t.gdtBase);
    this.vmwrite('GUEST_GDTR_LIMIT', t.gdtLimit);
    this.vmwrite('GUEST_IDTR_BASE', t.idtBase);
    this.vmwrite('GUEST_IDTR_LIMIT', t.idtLimit);
    this.vmwrite('GUEST_CR0', applyFixed(cr0, fixed0, fixed1, relax));
    this.vmwrite('GUEST_CR3', cr3);
    this.vmwrite('GUEST_CR4', applyFixed(cr4 | CR4_VMXE, fixed40, fixed41));
    this.vmwrite('GUEST_DR7', 0x400);
    this.vmwrite('GUEST_IA32_DEBUGCTL', 0);
    this.vmwrite('GUEST_IA32_PAT', 0x00070406, 0x00070406);
    this.vmwrite('GUEST_IA32_SYSENTER_CS', 0);
    this.vmwrite('GUEST_IA32_SYSENTER_ESP', 0);
    this.vmwrite('GUEST_IA32_SYSENTER_EIP', 0);
    this.vmwrite('GUEST_RSP', rsp);
    this.vmwrite('GUEST_RIP', rip);
    this.vmwrite('GUEST_RFLAGS', 2);
    this.vmwrite('GUEST_ACTIVITY_STATE', 0);
    this.vmwrite('GUEST_INTERRUPTIBILITY_STATE', 0);
    this.vmwrite('GUEST_PENDING_DEBUG_EXCEPTIONS', 0);
    return rip;
  }

  /** 4-level identity tables for the guest's first GiB (2 MiB pages; A/D preset). §4.5 of vol. 3A. */
  private buildLongTables(): number {
    const pml4 = LAYOUT.GUEST_PML4, pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
    this.write32(pml4, pdpt | 0x27);
    this.write32(pdpt, pd | 0x27);
    for (let i = 0; i < 512; i++) this.write32(pd + i * 8, (i * PAGE_2M + 0xe7) | 0);
    return pml4;
  }

  /** A 32-bit page directory mapping all 4 GiB with 4 MiB pages (CR4.PSE; vol. 3A §4.3). */
  private buildPd32(): number {
    const pd = LAYOUT.GUEST_PD32;
    for (let i = 0; i < 1024; i++) this.write32(pd + i * 4, ((i * 0x400000) % TWO32 + 0xe7) | 0);
    return pd;
  }

  // ---- running ---------------------------------------------------------------------------

  vmlaunch(): VmEntryOutcome {
    return this.ops.vmlaunch();
  }

  vmresume(): VmEntryOutcome {
    return this.ops.vmresume();
  }

  /** Run the guest until a VM exit (or HLT/exception/limit) or `max` more instructions. */
  run(max = 1_000_000): RunResult {
    return this.cpu.run(this.cpu.icount + max);
  }

  /** Guest RIP += VM-exit instruction length (the host emulated the instruction). */
  skipInstruction(): void {
    const rip = this.ops.vmread(enc('GUEST_RIP'));
    const ripHi = this.ops.readHi;
    const len = this.ops.vmread(enc('VM_EXIT_INSTRUCTION_LENGTH'));
    const lo = (rip >>> 0) + len;
    this.vmwrite('GUEST_RIP', lo | 0, lo >= TWO32 ? (ripHi + 1) | 0 : ripHi);
  }
}
