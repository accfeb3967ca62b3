/**
 * The VT-x engine: one logical processor's VMX state (SDM vol. 3C chapters 24-29) as hardware,
 * with no policy. Its public methods mirror the VMX instructions; the built-in hypervisor
 * (src/hypervisor) calls them from TypeScript, and the processor's VMX instruction ops call the
 * same methods for a guest that is itself a hypervisor (nested, issue 10).
 *
 * Parts, each in its own file:
 *   capabilities.ts      the documented virtual CPU's capability MSRs (what the engine enforces)
 *   vmxInstructions.ts   VMXON/VMXOFF/VMCLEAR/VMPTRLD/VMPTRST/VMREAD/VMWRITE semantics
 *   entryChecks*.ts      the checks of §26.2 (controls, host state) and §26.3 (guest state)
 *   vmEntry.ts           loading guest state, MSR-load area, activity state, event injection
 *   vmExit.ts            recording exit information, saving guest state, loading host state
 *   insnExits*.ts        InstructionExitHooks: which instructions exit and their information
 *   eventExits*.ts       EventExitHooks: exceptions, interrupts, windows, MTF, preemption timer
 *   ept*.ts              EptHooks: EPT walks, violations, misconfigurations, the tagged TLB
 * SDM numbering in src/vmx follows the edition the issues cite: vol. 3C chapter 24 "VMCS",
 * 25 "VMX non-root operation", 26 "VM entries", 27 "VM exits", 28 "VMX support for address
 * translation", 29 "APIC virtualization", 30 "VMX instruction reference", appendix A
 * (capability MSRs), B (field encodings), C (exit reasons). Newer editions add one to each
 * chapter number.
 */
import type { Cpu } from '../x86/cpu';
import { Vmcs } from './vmcs';
import type { PhysAccess } from './vmcs';
import { createInsnHooks } from './insnExits';
import { createEventHooks } from './eventExits';
import { createEptHooks } from './ept';

/** Outcome of a VMX instruction (SDM vol. 3C §30.2 conventions). */
export type VmxStatus =
  | { status: 'succeed' }
  | { status: 'failInvalid' }
  | { status: 'failValid'; error: number };

export const SUCCEED: VmxStatus = { status: 'succeed' };
export const FAIL_INVALID: VmxStatus = { status: 'failInvalid' };
export const failValid = (error: number): VmxStatus => ({ status: 'failValid', error });

/**
 * Outcome of VMLAUNCH/VMRESUME: entry failed early (VMfail), failed late (a VM exit with bit 31
 * of the exit reason set, already recorded in the VMCS), or the processor is now in non-root
 * operation and `cpu.run` executes the guest until a VM exit.
 */
export type VmEntryOutcome =
  | { kind: 'fail'; status: VmxStatus; check?: string }
  | { kind: 'exitOnEntry'; reason: number; check: string }
  | { kind: 'entered' };

/** Memory the engine reads and writes (VMCS regions, bitmaps, MSR areas, EPT tables): physical. */
export function physAccessOf(cpu: Cpu): PhysAccess {
  const mem = cpu.mem;
  return {
    read32: (a) => mem.readIo(a, 4) | 0,
    write32: (a, v) => {
      // Keep translated code exact if a VMCS or bitmap shares a page with code.
      for (let i = 0; i < 4; i++) cpu.writePhys8(a + i, (v >>> (i * 8)) & 0xff);
    },
  };
}

export interface EngineOptions {
  /** Overrides of the capability model (tests; CPU models). See capabilities.ts. */
  capabilities?: unknown;
}

export class VmxEngine {
  readonly phys: PhysAccess;
  /** Physical address of the VMXON region, or -1 outside VMX operation. */
  vmxonRegion = -1;
  /** The current VMCS (VMPTRLD), or null (current-VMCS pointer all ones). */
  current: Vmcs | null = null;
  /** VMCS data cached by the processor, by region address (§24.11.1: several may be active). */
  readonly active = new Map<number, Vmcs>();

  // ---- controls of the current entry, decoded once per VM entry (vmEntry.ts fills them; they
  // cannot change in non-root operation, where VMWRITE exits) ---------------------------------
  pin = 0;
  proc = 0;
  /** Secondary controls, 0 when "activate secondary controls" is 0. */
  proc2 = 0;
  exitCtls = 0;
  entryCtls = 0;
  exceptionBitmap = 0;

  constructor(readonly cpu: Cpu, _options: EngineOptions = {}) {
    this.phys = physAccessOf(cpu);
    cpu.vmxInsn = createInsnHooks(this);
    cpu.vmxEvents = createEventHooks(this);
    cpu.vmxEpt = createEptHooks(this);
  }

  get inVmxOperation(): boolean {
    return this.cpu.inVmxOperation;
  }

  get nonRoot(): boolean {
    return this.cpu.nonRoot;
  }
}
