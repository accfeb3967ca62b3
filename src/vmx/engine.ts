/**
 * The VT-x engine: one logical processor's VMX state (SDM vol. 3C chapters 24-29) as hardware,
 * with no policy. Its public methods mirror the VMX instructions; the built-in hypervisor
 * (src/hypervisor) calls them from TypeScript, and the processor's VMX instruction ops call the
 * same methods for a guest that is itself a hypervisor (vmxGuestInstructions.ts).
 *
 * Parts, each in its own file:
 *   capabilities.ts      the documented virtual CPU's capability MSRs (what the engine enforces)
 *   vmxInstructions.ts   VMXON/VMXOFF/VMCLEAR/VMPTRLD/VMPTRST/VMREAD/VMWRITE/INVEPT/INVVPID
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
import { hasFeature, withFeatures } from '../x86/cpuid';
import type { Vmcs } from './vmcs';
import type { PhysAccess } from './vmcs';
import { createInsnHooks } from './insnExits';
import { createEventHooks } from './eventExits';
import { createRootHooks } from './vmxGuestInstructions';
import { createEptHooks, invept as eptInvept, invvpid as eptInvvpid } from './ept';
import { eptpValid } from './eptFeatures';
import type { CapabilityOverrides } from './capabilities';
import { Capabilities, lockFeatureControl } from './capabilities';
import { checkControlsAndHost } from './entryChecks';
import { enterGuest } from './vmEntry';
import { performVmExit, setExitExtra } from './vmExit';
import {
  VmInsnError, inveptChecks, invvpidChecks, rootOperationChecks, vmclear, vmfail, vmptrld, vmptrst, vmread,
  vmwrite, vmxoff, vmxon,
} from './vmxInstructions';
import type { Descriptor128, DescriptorOperand, PointerOperand } from './vmxInstructions';

/** Outcome of a VMX instruction (SDM vol. 3C §30.2 conventions). */
export type VmxStatus =
  | { readonly status: 'succeed' }
  | { readonly status: 'failInvalid' }
  | { readonly status: 'failValid'; readonly error: number };

export const SUCCEED: VmxStatus = Object.freeze({ status: 'succeed' });
export const FAIL_INVALID: VmxStatus = Object.freeze({ status: 'failInvalid' });
/** VMfailValid for the VM-instruction error numbers 0-31 (§30.4), preallocated. */
const FAIL_VALID: readonly VmxStatus[] = Array.from({ length: 32 }, (_, error) => Object.freeze({ status: 'failValid' as const, error }));
/** VMfailValid(error): a shared constant for the numbers of §30.4. */
export const failValid = (error: number): VmxStatus =>
  error >= 0 && error < 32 && error === (error | 0) ? FAIL_VALID[error] : { status: 'failValid', error };

/**
 * Outcome of VMLAUNCH/VMRESUME: entry failed early (VMfail), failed late (a VM exit with bit 31
 * of the exit reason set, already recorded in the VMCS), or the processor is now in non-root
 * operation and `cpu.run` executes the guest until a VM exit.
 */
export type VmEntryOutcome =
  | { kind: 'fail'; status: VmxStatus; check?: string }
  | { kind: 'exitOnEntry'; reason: number; check: string }
  | { kind: 'entered' };

/** The successful outcome (shared: VMRESUME does not allocate). */
export const ENTERED: VmEntryOutcome = Object.freeze({ kind: 'entered' });

/** Memory the engine reads and writes (VMCS regions, bitmaps, MSR areas, EPT tables): physical. */
export function physAccessOf(cpu: Cpu): PhysAccess {
  const mem = cpu.mem;
  return {
    read32: (a) => {
      const p = mem.page(Math.floor(a / 4096));
      const o = a & 0xfff;
      if (p !== null && o <= 0xffc) return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
      return mem.read8(a) | (mem.read8(a + 1) << 8) | (mem.read8(a + 2) << 16) | (mem.read8(a + 3) << 24);
    },
    write32: (a, v) => {
      // Through the processor, so translated code stays exact if a VMCS or bitmap shares a page with code.
      for (let i = 0; i < 4; i++) cpu.writePhys8(a + i, (v >>> (i * 8)) & 0xff);
    },
  };
}

/**
 * Told of every VM transition the engine performs (statistics, the debugger). Called after the
 * fact, with the processor already in its new state: after a VM exit, the host state of the
 * current VMCS is loaded (RIP = HOST_RIP, before the host's first instruction); after a VM
 * entry, the guest's (or, for an entry that failed with a VM exit, the host's again). Not
 * called for VMX aborts' shutdown, nor for VMfail (the instruction's flags say it).
 */
export interface VmxObserver {
  /** A VM exit, or a VM-entry failure with a VM exit (`reason` has bit 31, §26.8), was performed. */
  vmExit(engine: VmxEngine, reason: number): void;
  /** VMLAUNCH (`launch`) or VMRESUME ended with `outcome` (VMfail, exit on entry, or entered). */
  vmEntry(engine: VmxEngine, launch: boolean, outcome: VmEntryOutcome): void;
}

export interface EngineOptions {
  /** Overrides of capability MSRs (tests; other CPU models). See capabilities.ts. */
  capabilities?: CapabilityOverrides;
  /**
   * Leave IA32_FEATURE_CONTROL as it is (default: locked with VMXON outside SMX enabled, as
   * firmware leaves a VMX-capable machine, unless already locked).
   */
  keepFeatureControl?: boolean;
}

export class VmxEngine {
  readonly phys: PhysAccess;
  /** The capability MSRs this engine reports and enforces (also installed in the Cpu's MSRs). */
  readonly caps: Capabilities;
  /** Physical address of the VMXON region, or -1 outside VMX operation. */
  vmxonRegion = -1;
  /** The current VMCS (VMPTRLD), or null (current-VMCS pointer all ones). */
  current: Vmcs | null = null;
  /** VMCS data cached by the processor, by region address (§24.11.1: several may be active). */
  readonly active = new Map<number, Vmcs>();

  /** Status of the last VMREAD/VMWRITE/VMPTRST (VMREAD returns its value). */
  lastStatus: VmxStatus = SUCCEED;
  /** Bits 63:32 of the last VMREAD's value (0 outside 64-bit mode and for narrower fields). */
  readHi = 0;

  // ---- controls of the current entry, decoded once per VM entry (vmEntry.ts fills them; they
  // cannot change in non-root operation, where VMWRITE exits) ---------------------------------
  pin = 0;
  proc = 0;
  /** Secondary controls, 0 when "activate secondary controls" is 0. */
  proc2 = 0;
  exitCtls = 0;
  entryCtls = 0;
  exceptionBitmap = 0;
  /** Successful VM entries so far (PAUSE-loop exiting starts a new loop after each). */
  entries = 0;
  /** Told of every VM exit and VM entry, in the order added (see VmxObserver; addObserver). */
  readonly observers: VmxObserver[] = [];

  constructor(readonly cpu: Cpu, options: EngineOptions = {}) {
    this.phys = physAccessOf(cpu);
    // A processor with the engine is VMX-capable: CPUID.1:ECX.VMX = 1 (SDM vol. 3C §23.6), which
    // also makes CR4.VMXE settable. (The built-in hypervisor hides it from its guests.)
    if (!hasFeature(cpu.cpuid, 'VMX')) cpu.cpuid = withFeatures(cpu.cpuid, ['VMX']);
    this.caps = new Capabilities(cpu, options.capabilities);
    this.caps.install(cpu);
    if (options.keepFeatureControl !== true) lockFeatureControl(cpu);
    cpu.vmxInsn = createInsnHooks(this);
    cpu.vmxEvents = createEventHooks(this);
    cpu.vmxEpt = createEptHooks(this);
    // Guest code executes the VMX instructions against this engine too (a guest hypervisor).
    cpu.vmxRoot = createRootHooks(this);
  }

  get inVmxOperation(): boolean {
    return this.cpu.inVmxOperation;
  }

  get nonRoot(): boolean {
    return this.cpu.nonRoot;
  }

  // ---- the VMX instructions (vmxInstructions.ts; SDM vol. 3C chapter 30) -------------------
  /** VMXON with the VMXON region at physical `addr` (or the guest's read of its operand). */
  vmxon(addr: PointerOperand): VmxStatus {
    return (this.lastStatus = vmxon(this, addr));
  }

  vmxoff(): VmxStatus {
    return (this.lastStatus = vmxoff(this));
  }

  vmclear(addr: PointerOperand): VmxStatus {
    return (this.lastStatus = vmclear(this, addr));
  }

  vmptrld(addr: PointerOperand): VmxStatus {
    return (this.lastStatus = vmptrld(this, addr));
  }

  /** The current-VMCS pointer, -1 when there is none (FFFFFFFF_FFFFFFFFH). */
  vmptrst(): number {
    return vmptrst(this);
  }

  /** VMREAD: low 32 bits returned, bits 63:32 in `readHi`, status in `lastStatus`. */
  vmread(encoding: number): number {
    return vmread(this, encoding);
  }

  /** VMREAD as a BigInt (host-side convenience); throws an Error when VMREAD fails. */
  vmread64(encoding: number): bigint {
    const lo = vmread(this, encoding);
    const s = this.lastStatus;
    if (s.status !== 'succeed') {
      throw new Error(`VMREAD 0x${encoding.toString(16)}: ${s.status === 'failValid' ? `VMfailValid(${s.error})` : 'VMfailInvalid'}`);
    }
    return (BigInt(this.readHi >>> 0) << 32n) | BigInt(lo >>> 0);
  }

  /** VMWRITE of (lo, hi) — `hi` is used only in 64-bit mode and for 64-bit/natural fields. */
  vmwrite(encoding: number, lo: number, hi = 0): VmxStatus {
    return vmwrite(this, encoding, lo, hi);
  }

  vmlaunch(): VmEntryOutcome {
    const out = this.vmEntry(true);
    for (const o of this.observers) o.vmEntry(this, true, out);
    return out;
  }

  vmresume(): VmEntryOutcome {
    const out = this.vmEntry(false);
    for (const o of this.observers) o.vmEntry(this, false, out);
    return out;
  }

  /** Tell `o` of every VM exit and VM entry from now on (statistics, the debugger). */
  addObserver(o: VmxObserver): void {
    if (!this.observers.includes(o)) this.observers.push(o);
  }

  removeObserver(o: VmxObserver): void {
    const i = this.observers.indexOf(o);
    if (i >= 0) this.observers.splice(i, 1);
  }

  /** Tell the observers of a VM exit or a VM-entry failure with an exit (vmExit.ts). */
  notifyVmExit(reason: number): void {
    for (const o of this.observers) o.vmExit(this, reason);
  }

  /**
   * VMLAUNCH/VMRESUME (§30.3): the instruction's own checks (VMfailInvalid without a current
   * VMCS, VMfailValid 4/5 for the launch state), then the checks of §26.2 (VMfailValid 7 or 8),
   * then the guest-state checks, loading and injection of §26.3-26.6 (enterGuest).
   */
  private vmEntry(launch: boolean): VmEntryOutcome {
    rootOperationChecks(this.cpu, launch ? 'VMLAUNCH' : 'VMRESUME');
    const v = this.current;
    if (v === null) return this.entryFail(FAIL_INVALID);
    if (launch && v.launched) return this.entryFail(vmfail(this, VmInsnError.VMLAUNCH_NON_CLEAR));
    if (!launch && !v.launched) return this.entryFail(vmfail(this, VmInsnError.VMRESUME_NON_LAUNCHED));
    const r = checkControlsAndHost(this);
    if (r !== null) return this.entryFail(vmfail(this, r.error), r.check);
    this.lastStatus = SUCCEED;
    return enterGuest(this, launch);
  }

  private entryFail(status: VmxStatus, check?: string): VmEntryOutcome {
    this.lastStatus = status;
    return check === undefined ? { kind: 'fail', status } : { kind: 'fail', status, check };
  }

  /**
   * Perform a VM exit (SDM vol. 3C chapter 27) with the given basic exit reason (bit 31 for a
   * VM-entry failure), exit qualification, instruction length and information, and the guest
   * RIP to save. Extra fields (guest-linear/physical address, interruption and IDT-vectoring
   * information) are set before with setExitExtra. The caller then throws VM_EXIT (an op) or
   * returns true (a between-instructions hook).
   */
  exit(reason: number, qualLo: number, qualHi: number, insnLen: number, insnInfo: number, ripLo: number, ripHi: number): void {
    performVmExit(this, reason, qualLo, qualHi, insnLen, insnInfo, ripLo, ripHi);
  }

  /**
   * The exit-information fields an exit reports besides those `exit` takes (§27.2.2-27.2.4):
   * VM-exit interruption information and error code, IDT-vectoring information and error code
   * (vmExit.ts setExitExtra). Call before `exit`; consumed by it. Guest-linear and
   * guest-physical addresses are written into the VMCS directly by the callers that report them.
   */
  setExitExtra(intInfo: number, intErr: number, idtInfo: number, idtErr: number): void {
    setExitExtra(this, intInfo, intErr, idtInfo, idtErr);
  }

  /** INVEPT of `type` (1 single-context, 2 all-context) with descriptor EPTP (lo, hi). */
  invept(type: number, eptpLo: number, eptpHi: number): VmxStatus {
    return this.inveptWith(type, { lo0: eptpLo | 0, hi0: eptpHi | 0, lo1: 0, hi1: 0 });
  }

  /** INVEPT with its descriptor operand (a value, or the guest's memory read when the SDM reads it). */
  inveptWith(type: number, operand: DescriptorOperand): VmxStatus {
    const desc = this.desc;
    const r = inveptChecks(this, type, operand, eptpValid, desc);
    if (r !== null) return (this.lastStatus = r);
    const s = eptInvept(this, type, desc.lo0 | 0, desc.hi0 | 0);
    return (this.lastStatus = s.status === 'failValid' ? vmfail(this, s.error) : SUCCEED);
  }

  /** INVVPID of `type` (0-3) for `vpid` (descriptor bits 63:0) and linear address (lo, hi). */
  invvpid(type: number, vpid: number, linLo: number, linHi: number): VmxStatus {
    // Descriptor bits 63:0 as halves; a value that is no integer in 0..2^64 fails the bits 63:16 check.
    const exact = Number.isSafeInteger(vpid) && vpid >= 0;
    const lo0 = exact ? vpid % 0x100000000 | 0 : -1;
    const hi0 = exact ? Math.floor(vpid / 0x100000000) | 0 : -1;
    return this.invvpidWith(type, { lo0, hi0, lo1: linLo | 0, hi1: linHi | 0 });
  }

  /** INVVPID with its descriptor operand (a value, or the guest's memory read when the SDM reads it). */
  invvpidWith(type: number, operand: DescriptorOperand): VmxStatus {
    const desc = this.desc;
    const r = invvpidChecks(this, type, operand, desc);
    if (r !== null) return (this.lastStatus = r);
    const s = eptInvvpid(this, type, desc.lo0 & 0xffff, desc.lo1 | 0, desc.hi1 | 0);
    return (this.lastStatus = s.status === 'failValid' ? vmfail(this, s.error) : SUCCEED);
  }

  /** Scratch for the INVEPT/INVVPID descriptor (no allocation per instruction). */
  private readonly desc: Descriptor128 = { lo0: 0, hi0: 0, lo1: 0, hi1: 0 };
}
