/**
 * Fixture for the VM-entry check tests: a Cpu + memory + VmxEngine with a current VMCS whose
 * controls, host state and guest state pass every check of SDM vol. 3C §26.2/§26.3, in three
 * guest flavours (64-bit, 32-bit protected with PAE paging, real mode under unrestricted guest).
 * Each test mutates one field and asserts the exact failure.
 *
 * The capability MSRs are installed by the fixture (a documented set derived from
 * controlBits.ts, see `installTestCaps`) so the expectations do not move when the engine's
 * capability model changes; `realCaps: true` keeps whatever the engine installed.
 */
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode } from '../../src/x86/modes';
import { setStored } from '../../src/x86/msr';
import { VmxEngine } from '../../src/vmx/engine';
import { Vmcs } from '../../src/vmx/vmcs';
import type { ControlBit } from '../../src/vmx/controlBits';
import { ENTRY_CONTROLS, EXIT_CONTROLS, PIN_BASED, PROC_BASED, PROC_BASED2, bitOf } from '../../src/vmx/controlBits';
import { checkAllUncached, checkControlsAndHost, checkGuestState } from '../../src/vmx/entryChecks';

export const VMCS_ADDR = 0x10000;
export const REVISION = 1;

const mask = (t: readonly ControlBit[], pick: (b: ControlBit) => boolean) =>
  t.reduce((m, b) => (pick(b) ? m | (1 << b.bit) : m), 0);
const allowed1 = (t: readonly ControlBit[]) => mask(t, (b) => b.modelled || b.default1 === true);
const default1 = (t: readonly ControlBit[]) => mask(t, (b) => b.default1 === true);

export const PIN_ALLOWED1 = allowed1(PIN_BASED);
export const PROC_ALLOWED1 = allowed1(PROC_BASED);
export const PROC2_ALLOWED1 = allowed1(PROC_BASED2);
export const EXIT_ALLOWED1 = allowed1(EXIT_CONTROLS);
export const ENTRY_ALLOWED1 = allowed1(ENTRY_CONTROLS);
/**
 * The test CPU's TRUE allowed-0 settings: the default1 class except what the SDM lets a TRUE MSR
 * clear on real processors — CR3-load/store exiting (primary bits 15, 16) and save/load debug
 * controls (exit and entry bit 2), which the non-TRUE MSRs report as 1 (§A.3.2, A.4, A.5).
 */
export const PIN_DEFAULT1 = default1(PIN_BASED);
export const PROC_DEFAULT1 = default1(PROC_BASED) & ~((1 << 15) | (1 << 16));
export const EXIT_DEFAULT1 = default1(EXIT_CONTROLS) & ~(1 << 2);
export const ENTRY_DEFAULT1 = default1(ENTRY_CONTROLS) & ~(1 << 2);
/** The non-TRUE allowed-0 settings: bits 15 and 16 (CR3 exiting) and bit 2 of exit/entry must be 1 there. */
export const PROC_NONTRUE_ALLOWED0 = PROC_DEFAULT1 | (1 << 15) | (1 << 16);
const EXIT_NONTRUE_ALLOWED0 = EXIT_DEFAULT1 | (1 << 2);
const ENTRY_NONTRUE_ALLOWED0 = ENTRY_DEFAULT1 | (1 << 2);

export const EPT_CAP_LO = 1 | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 14) | (1 << 16) | (1 << 17) | (1 << 20) | (1 << 21) | (1 << 25) | (1 << 26);
export const CR4_FIXED1 = 0x00373fff;
export const CR0_FIXED0 = 0x80000021;

/**
 * Install the test CPU's capability MSRs (SDM appendix A): BASIC revision 1, 4 KiB region, WB,
 * TRUE controls (bit 55), INS/OUTS info (bit 54); controls allowed-1 = modelled bits; MISC: timer
 * rate 5, HLT/shutdown/wait-for-SIPI, 4 CR3 targets, zero-length injection (bit 30) as given;
 * CR0 FIXED0 PE|NE|PG, FIXED1 all low bits; CR4 FIXED0 VMXE, FIXED1 0x373FFF; EPT caps with
 * 4- and 5-level walks, UC and WB, A/D; VMFUNC EPTP switching.
 */
export function installTestCaps(cpu: Cpu, opts: { basic56?: boolean; misc30?: boolean } = {}): void {
  const basicHi = 0x1000 | (6 << 18) | (1 << 22) | (1 << 23) | (opts.basic56 ? 1 << 24 : 0);
  setStored(cpu, 0x480, REVISION, basicHi);
  setStored(cpu, 0x481, PIN_DEFAULT1, PIN_ALLOWED1);
  setStored(cpu, 0x482, PROC_NONTRUE_ALLOWED0, PROC_ALLOWED1);
  setStored(cpu, 0x483, EXIT_NONTRUE_ALLOWED0, EXIT_ALLOWED1);
  setStored(cpu, 0x484, ENTRY_NONTRUE_ALLOWED0, ENTRY_ALLOWED1);
  setStored(cpu, 0x485, 5 | (7 << 6) | (4 << 16) | (1 << 29) | (opts.misc30 === false ? 0 : 1 << 30), 0);
  setStored(cpu, 0x486, CR0_FIXED0, 0);
  setStored(cpu, 0x487, -1, 0);
  setStored(cpu, 0x488, 0x2000, 0);
  setStored(cpu, 0x489, CR4_FIXED1, 0);
  setStored(cpu, 0x48a, 0x2e, 0);
  setStored(cpu, 0x48b, 0, PROC2_ALLOWED1);
  setStored(cpu, 0x48c, EPT_CAP_LO, 0xf01);
  setStored(cpu, 0x48d, PIN_DEFAULT1, PIN_ALLOWED1);
  setStored(cpu, 0x48e, PROC_DEFAULT1, PROC_ALLOWED1);
  setStored(cpu, 0x48f, EXIT_DEFAULT1, EXIT_ALLOWED1);
  setStored(cpu, 0x490, ENTRY_DEFAULT1, ENTRY_ALLOWED1);
  setStored(cpu, 0x491, 1, 0);
}

export type GuestKind = '64' | '32pae' | 'real';

export interface Fixture {
  cpu: Cpu;
  mem: PhysicalMemory;
  engine: VmxEngine;
  vmcs: Vmcs;
  /** Write a field (by name; no VMWRITE checks; bumps the group's write epoch). */
  set(name: string, value: bigint | number): void;
  get(name: string): bigint;
  /** Set/clear bits of a 32-bit field. */
  or(name: string, bits: number): void;
  andNot(name: string, bits: number): void;
  /** What a VM entry would report, uncached: §26.2 failure, else §26.3 failure, else null. */
  check(): ReturnType<typeof checkAllUncached>;
  /** The same through the cached entry points (as the engine calls them). */
  checkCached(): ReturnType<typeof checkAllUncached>;
}

export const bit = bitOf;
export const PIN = (n: string) => bitOf(PIN_BASED, n);
export const PROC = (n: string) => bitOf(PROC_BASED, n);
export const PROC2 = (n: string) => bitOf(PROC_BASED2, n);
export const EXIT = (n: string) => bitOf(EXIT_CONTROLS, n);
export const ENTRY = (n: string) => bitOf(ENTRY_CONTROLS, n);

export const EPTP_OK = 0x5000n | 6n | (3n << 3n) | 0x40n;

export function makeFixture(kind: GuestKind = '64', opts: { realCaps?: boolean; basic56?: boolean; misc30?: boolean } = {}): Fixture {
  const mem = new PhysicalMemory(0x100000);
  const cpu = new Cpu(mem);
  enterMode(cpu, 'long');
  const engine = new VmxEngine(cpu);
  if (opts.realCaps !== true) installTestCaps(cpu, opts);
  const vmcs = new Vmcs(VMCS_ADDR);
  vmcs.revision = REVISION;
  engine.current = vmcs;
  const set = (name: string, value: bigint | number) => vmcs.write(name, value);
  const fx: Fixture = {
    cpu, mem, engine, vmcs, set,
    get: (name) => vmcs.read(name),
    or: (name, bits) => set(name, (Number(vmcs.read(name) & 0xffffffffn) | bits) >>> 0),
    andNot: (name, bits) => set(name, (Number(vmcs.read(name) & 0xffffffffn) & ~bits) >>> 0),
    check: () => checkAllUncached(engine),
    checkCached: () => checkControlsAndHost(engine) ?? checkGuestState(engine),
  };

  // ---- controls ----
  set('PIN_BASED_VM_EXECUTION_CONTROLS', PIN_DEFAULT1);
  set('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', (PROC_DEFAULT1 | PROC('ACTIVATE_SECONDARY_CONTROLS')) >>> 0);
  set('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', 0);
  set('PRIMARY_VM_EXIT_CONTROLS', EXIT_DEFAULT1 | EXIT('HOST_ADDRESS_SPACE_SIZE'));
  set('VM_ENTRY_CONTROLS', ENTRY_DEFAULT1 | (kind === '64' ? ENTRY('IA32E_MODE_GUEST') : 0));
  set('EPT_POINTER', EPTP_OK);
  set('VIRTUAL_PROCESSOR_ID', 1);

  // ---- host state (64-bit host) ----
  set('HOST_CR0', 0x80000031);
  set('HOST_CR3', 0x1000);
  set('HOST_CR4', 0x2020);
  set('HOST_CS_SELECTOR', 0x08);
  for (const s of ['ES', 'SS', 'DS', 'FS', 'GS']) set(`HOST_${s}_SELECTOR`, 0x10);
  set('HOST_TR_SELECTOR', 0x18);
  set('HOST_GDTR_BASE', 0x3000);
  set('HOST_IDTR_BASE', 0x4000);
  set('HOST_RSP', 0x9000);
  set('HOST_RIP', 0x400000);
  set('HOST_IA32_PAT', 0x0007040600070406n);
  set('HOST_IA32_EFER', 0xd00);

  // ---- guest state ----
  set('VMCS_LINK_POINTER', 0xffffffffffffffffn);
  set('GUEST_DR7', 0x400);
  set('GUEST_RFLAGS', 2);
  set('GUEST_RIP', 0x1000);
  set('GUEST_RSP', 0x8000);
  set('GUEST_IA32_PAT', 0x0007040600070406n);
  set('GUEST_LDTR_ACCESS_RIGHTS', 0x10000);
  set('GUEST_TR_SELECTOR', 0x18);
  set('GUEST_TR_ACCESS_RIGHTS', 0x8b);
  set('GUEST_TR_LIMIT', 0x67);
  set('GUEST_GDTR_BASE', 0x3000);
  set('GUEST_GDTR_LIMIT', 0x27);
  set('GUEST_IDTR_BASE', 0x4000);
  set('GUEST_IDTR_LIMIT', 0xfff);
  const data = ['ES', 'SS', 'DS', 'FS', 'GS'];
  if (kind === 'real') {
    // Real mode under unrestricted guest (needs EPT): CR0.PE = CR0.PG = 0 (§26.3.1.1 exception).
    set('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', PROC2('ENABLE_EPT') | PROC2('UNRESTRICTED_GUEST'));
    set('GUEST_CR0', 0x30);
    set('GUEST_CR4', 0x2000);
    set('GUEST_CS_SELECTOR', 0xf000);
    set('GUEST_CS_BASE', 0xf0000);
    set('GUEST_CS_LIMIT', 0xffff);
    set('GUEST_CS_ACCESS_RIGHTS', 0x9b);
    for (const s of data) {
      set(`GUEST_${s}_LIMIT`, 0xffff);
      set(`GUEST_${s}_ACCESS_RIGHTS`, 0x93);
    }
    set('GUEST_TR_SELECTOR', 0);
  } else {
    set('GUEST_CR0', 0x80000031);
    set('GUEST_CR3', 0x2000);
    set('GUEST_CR4', 0x2020);
    set('GUEST_CS_SELECTOR', 0x08);
    set('GUEST_CS_LIMIT', 0xffffffff);
    set('GUEST_CS_ACCESS_RIGHTS', kind === '64' ? 0xa09b : 0xc09b);
    for (const s of data) {
      set(`GUEST_${s}_SELECTOR`, 0x10);
      set(`GUEST_${s}_LIMIT`, 0xffffffff);
      set(`GUEST_${s}_ACCESS_RIGHTS`, 0xc093);
    }
    if (kind === '32pae') {
      // PDPT at 0x2000 (CR3), four present entries pointing at page directories.
      for (let k = 0; k < 4; k++) mem.load(0x2000 + k * 8, Uint8Array.of(0x01, 0x30 + k * 0x10, 0, 0, 0, 0, 0, 0));
    }
  }
  return fx;
}

/** Expected §26.2 failure. */
export const ctl = (check: string) => ({ error: 7, check });
export const host = (check: string) => ({ error: 8, check });
/** Expected §26.3 failure. */
export const guest = (check: string, qualification = 0) => ({ qualification, check });
