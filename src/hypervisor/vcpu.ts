/**
 * VmxVcpu: the seed's vCPU (reference §1) on the VT-x engine. `setup` creates the VMCS and
 * fills it as the crate does; `enter` injects one pending event and does VMLAUNCH the first time,
 * VMRESUME after (switching the guest's XCR0 in); when the processor comes back with a VM exit,
 * `handleExit` reads it, runs the built-in handler (handlers.ts) and returns a VCpuExit — or
 * Nothing when the hypervisor handled it itself.
 */
import type { Cpu } from '../x86/cpu';
import { VmxEngine, type VmEntryOutcome } from '../vmx/engine';
import { decodeExit, type DecodedExit } from '../vmx/exitDecode';
import { FIELD_BY_NAME } from '../vmx/fields';
import { EXIT_REASONS, EXIT_REASON_BY_NUMBER } from '../vmx/exitReasons';
import { MSR_VMX } from '../vmx/controlChoice';
import type { ControlValues } from '../vmx/controlChoice';
import type { BootPlan } from '../vmm/loaders/bootPlan';
import { EventQueue } from './eventQueue';
import { SEED_INTERCEPTION, type Interception } from './interception';
import type { HypervisorLayout } from './layout';
import { buildEpt, enterRootOperation, readMsr, seedControls, statusText, VmcsAccess, writeControls, writeHostState, writeInterception, SetupError } from './setup';
import { writeGuestStart } from './guestStart';
import type { CrPolicy } from './crPolicy';
import { handleExit as builtinHandler, type ApicMsrs } from './handlers';
import type { VCpuExit } from './vcpuExit';
import { completeMmioAlu, completeMmioRead, type MmioAccess } from './mmio';
import { pagingOf, writeGuest } from './guestMemory';

export interface VcpuOptions {
  interception?: Interception;
  /** Guest-physical ranges left out of the EPT (device MMIO: the xAPIC page). */
  mmioHoles?: readonly [number, number][];
  /** The virtual local APIC's MSRs (0x800-0x8FF), the seed's virtual x2APIC. */
  apic?: ApicMsrs;
}

const enc = (name: string): number => FIELD_BY_NAME.get(name)!.encoding;
const ENC_EXIT_REASON = enc('EXIT_REASON');
const ENC_EXIT_LENGTH = enc('VM_EXIT_INSTRUCTION_LENGTH');
const ENC_GUEST_RIP = enc('GUEST_RIP');
const ENC_INTERRUPTIBILITY = enc('GUEST_INTERRUPTIBILITY_STATE');
const ENC_CS_AR = enc('GUEST_CS_ACCESS_RIGHTS');
const ENC_ENTRY_CTLS = enc('VM_ENTRY_CONTROLS');
const ENC_GUEST_CR0 = enc('GUEST_CR0');
const ENC_IDT_INFO = enc('IDT_VECTORING_INFORMATION');
const ENC_IDT_ERROR = enc('IDT_VECTORING_ERROR_CODE');
const ENC_ENTRY_INFO = enc('VM_ENTRY_INTERRUPTION_INFORMATION');
const ENC_ENTRY_ERROR = enc('VM_ENTRY_EXCEPTION_ERROR_CODE');
const ENC_ENTRY_LENGTH = enc('VM_ENTRY_INSTRUCTION_LENGTH');

const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export class VmxVcpu {
  readonly engine: VmxEngine;
  readonly v: VmcsAccess;
  readonly events = new EventQueue();
  readonly interception: Interception;
  readonly policy: CrPolicy;
  controls!: ControlValues;
  launched = false;
  /** The guest's XCR0 and IA32_XSS (switched in around each entry, reference §1). */
  guestXcr0 = 1;
  guestXss = 0;
  private hostXcr0 = 1;
  /** Basic reason of the exit being handled (0xFFFF before the first). */
  lastReason = 0xffff;
  private lastEntryFailure = false;
  /** Decode every exit before its handler runs (set when something watches the exits). */
  eagerDecode = false;
  private decoded: DecodedExit | null = null;
  /** Exits by basic reason number (exitTable() names them). */
  readonly exitCounts = new Float64Array(70);
  /** Reasons in the order they first happened. */
  private readonly exitOrder: number[] = [];
  /** A pending I/O or MSR read the VMM completes (completeRead). */
  pending: { kind: 'io'; width: number } | { kind: 'msr' } | null = null;
  /** A pending INS (completeStringRead) and MMIO access (completeMmio). */
  pendingString: {
    port: number; width: number; count: number; linear: bigint; step: bigint; finish: (n: number) => void;
  } | null = null;
  pendingMmio: MmioAccess | null = null;
  /** A watched instruction being run once with its exiting control lifted (handlers.ts stepOver). */
  stepping: { field: string; bit: number } | null = null;
  readonly apic: ApicMsrs | null;
  /** Guest-physical ranges that are devices (left out of the EPT): EPT violations there are MMIO. */
  readonly mmioHoles: readonly (readonly [number, number])[];

  constructor(readonly cpu: Cpu, readonly layout: HypervisorLayout, private readonly options: VcpuOptions = {}) {
    this.engine = new VmxEngine(cpu);
    this.v = new VmcsAccess(this.engine);
    this.interception = options.interception ?? SEED_INTERCEPTION;
    this.apic = options.apic ?? null;
    this.mmioHoles = options.mmioHoles ?? [];
    this.policy = {
      cr0Fixed0: readMsr(cpu, MSR_VMX.CR0_FIXED0).lo, cr0Fixed1: readMsr(cpu, MSR_VMX.CR0_FIXED1).lo,
      cr4Fixed0: readMsr(cpu, MSR_VMX.CR4_FIXED0).lo, cr4Fixed1: readMsr(cpu, MSR_VMX.CR4_FIXED1).lo,
    };
  }

  /**
   * Create and fill the VMCS (reference §2): VMXON as a 64-bit host, VMCLEAR, VMPTRLD, host
   * state, controls, bitmaps, EPT, guest state from the boot plan; the guest's general
   * registers go into the processor (VM entry does not load them).
   */
  setup(plan: BootPlan): void {
    const c = this.cpu;
    enterRootOperation(c, this.engine, this.layout);
    const check = (what: string, s: ReturnType<VmxEngine['vmclear']>): void => {
      if (s.status !== 'succeed') throw new SetupError(`${what}: ${statusText(s)}`);
    };
    check('VMCLEAR', this.engine.vmclear(this.layout.vmcs));
    check('VMPTRLD', this.engine.vmptrld(this.layout.vmcs));
    writeHostState(this.v, c, this.layout);
    const entryExtra = plan.mode === 'long' || plan.mode === 'compat' ? ['IA32E_MODE_GUEST'] : [];
    this.controls = seedControls(c, this.interception, { entry: entryExtra });
    writeControls(this.v, this.controls);
    writeInterception(this.v, c, this.layout, this.interception);
    buildEpt(this.v, c, this.layout, this.options.mmioHoles ?? []);
    writeGuestStart(this.v, plan, this.policy);
    for (let i = 0; i < 16; i++) {
      c.lo[i] = 0;
      c.hi[i] = 0;
    }
    for (const [name, value] of Object.entries(plan.regs)) {
      const i = GPR_NAMES.indexOf(name);
      if (i >= 0 && name !== 'rsp' && value !== undefined) c.setReg64(i, value);
    }
    this.launched = false;
  }

  /**
   * Make this vCPU's VMCS current on the processor (reference §1 bind: VMPTRLD), before running
   * it after another VMCS was current.
   */
  bind(): void {
    const s = this.engine.vmptrld(this.layout.vmcs);
    if (s.status !== 'succeed') throw new SetupError(`VMPTRLD: ${statusText(s)}`);
  }

  /**
   * Release the VMCS (reference §1 unbind: VMCLEAR): its data is written to its region and its
   * launch state becomes clear, so the next run launches again (VMLAUNCH, not VMRESUME).
   */
  unbind(): void {
    const s = this.engine.vmclear(this.layout.vmcs);
    if (s.status !== 'succeed') throw new SetupError(`VMCLEAR: ${statusText(s)}`);
    this.launched = false;
  }

  /** Queue an event for the guest (reference §5). */
  queueEvent(vector: number, errorCode?: number): void {
    this.events.queueEvent(vector, errorCode);
  }

  /**
   * VM entry: the front event is injected when it can be (else the interrupt or NMI window is
   * requested), XCR0 switched to the guest's, VMLAUNCH or VMRESUME.
   */
  enter(): VmEntryOutcome {
    this.injectPending();
    this.hostXcr0 = this.cpu.xcr0;
    this.cpu.xcr0 = this.guestXcr0;
    const out = this.launched ? this.engine.vmresume() : this.engine.vmlaunch();
    if (out.kind === 'fail') {
      this.cpu.xcr0 = this.hostXcr0;
      return out;
    }
    this.launched = true;
    if (out.kind === 'exitOnEntry') this.cpu.xcr0 = this.hostXcr0;
    return out;
  }

  private injectPending(): void {
    if (this.events.length === 0) return;
    // (The queue is empty on the hot path: nothing below runs per exit then.)
    // An event is already being injected (a re-injection from IDT-vectoring information).
    if ((this.v.read32('VM_ENTRY_INTERRUPTION_INFORMATION') & 0x80000000) !== 0) return;
    const rflags = this.v.read32('GUEST_RFLAGS');
    const intr = this.v.read32('GUEST_INTERRUPTIBILITY_STATE');
    const d = this.events.decide((rflags & 0x200) !== 0, intr, 1);
    const proc = this.v.read32('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
    if (d.inject !== undefined) {
      // Real mode (CR0.PE = 0): no error code (SDM vol. 3C §26.2.1.3).
      if (!this.guestProtected()) d.inject.info &= ~0x800;
      this.v.write('VM_ENTRY_INTERRUPTION_INFORMATION', d.inject.info >>> 0);
      this.v.write('VM_ENTRY_EXCEPTION_ERROR_CODE', d.inject.errorCode >>> 0);
      this.v.write('VM_ENTRY_INSTRUCTION_LENGTH', d.inject.length);
      // A guest in HLT wakes to take the event (activity state active, SDM vol. 3C §26.6.3).
      if (this.v.read32('GUEST_ACTIVITY_STATE') === 1) this.v.write('GUEST_ACTIVITY_STATE', 0);
    } else if (d.interruptWindow === true && (proc & (1 << 2)) === 0) {
      this.v.write('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', proc | (1 << 2));
    } else if (d.nmiWindow === true && (proc & (1 << 22)) === 0) {
      this.v.write('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', proc | (1 << 22));
    }
  }

  /**
   * The exit being handled, decoded into named fields (exitDecode.ts) — on first use only: the
   * built-in handlers read the few fields they need directly, so an exit nobody looks at costs
   * no decoding.
   */
  get lastExit(): DecodedExit | null {
    if (this.decoded === null && this.lastReason !== 0xffff) {
      const c = this.engine.current!;
      this.decoded = decodeExit((n) => c.read(n), (r) => this.reg(r));
    }
    return this.decoded;
  }

  /** Read the exit the processor came back with, count it, run the built-in handler. */
  handleExit(): VCpuExit {
    this.readExit();
    return this.runHandler();
  }

  /**
   * The first half of handleExit: read and count the exit the processor came back with (a
   * debugger looks at it here, before the hypervisor acts: `lastExit`).
   */
  readExit(): void {
    this.cpu.xcr0 = this.hostXcr0;
    const raw = this.engine.vmread(ENC_EXIT_REASON);
    const reason = raw & 0xffff;
    this.lastReason = reason;
    this.lastEntryFailure = (raw & 0x80000000) !== 0;
    this.decoded = null;
    // A watcher (trace, debugger) must see the exit as it happened, before a handler changes it.
    if (this.eagerDecode) void this.lastExit;
    if (reason < 70) {
      if (this.exitCounts[reason] === 0) this.exitOrder.push(reason);
      this.exitCounts[reason]++;
    }
  }

  /** The second half: the built-in handler of the exit readExit read. */
  runHandler(): VCpuExit {
    const x = builtinHandler(this, this.lastReason, this.lastEntryFailure);
    this.reinjectVectoring();
    return x;
  }

  /**
   * An exit that interrupted the delivery of an event (IDT-vectoring information valid, SDM vol.
   * 3C §27.2.4) must not lose it: unless the handler injects something itself, the event is
   * injected again at the next entry, with its error code and, for software interrupts and
   * exceptions, the exit's instruction length (§26.6). The crate never did this [gap].
   */
  private reinjectVectoring(): void {
    const e = this.engine;
    const idt = e.vmread(ENC_IDT_INFO);
    if ((idt & 0x80000000) === 0) return;
    if ((e.vmread(ENC_ENTRY_INFO) & 0x80000000) !== 0) return;
    e.vmwrite(ENC_ENTRY_INFO, idt & 0x80000fff);
    if ((idt & 0x800) !== 0) e.vmwrite(ENC_ENTRY_ERROR, e.vmread(ENC_IDT_ERROR));
    const type = (idt >>> 8) & 7;
    e.vmwrite(ENC_ENTRY_LENGTH, type === 4 || type === 5 || type === 6 ? e.vmread(ENC_EXIT_LENGTH) : 0);
  }

  /** Exits of one reason so far. */
  exitCount(name: string): number {
    const r = EXIT_REASONS.find((x) => x.name === name);
    return r === undefined ? 0 : this.exitCounts[r.reason];
  }

  /** A guest general register (they stay in the processor across VM exits). */
  reg(name: string): bigint {
    if (name === 'rsp') return this.v.read('GUEST_RSP');
    const i = GPR_NAMES.indexOf(name);
    return (BigInt(this.cpu.hi[i] >>> 0) << 32n) | BigInt(this.cpu.lo[i] >>> 0);
  }

  setReg(name: string, value: bigint): void {
    if (name === 'rsp') {
      this.v.write('GUEST_RSP', value);
      return;
    }
    this.cpu.setReg64(GPR_NAMES.indexOf(name), BigInt.asUintN(64, value));
  }

  /** RIP += the exit's instruction length (never a hard-coded length: the crate's bug). */
  advanceRip(len?: bigint): void {
    const e = this.engine;
    const n = len === undefined ? e.vmread(ENC_EXIT_LENGTH) : Number(len);
    // RIP as halves, without BigInt (the hot path of every instruction exit).
    let lo = e.vmread(ENC_GUEST_RIP);
    let hi = e.readHi;
    const sum = (lo >>> 0) + n;
    lo = sum | 0;
    if (sum > 0xffffffff) hi = (hi + 1) | 0;
    if (!this.guestLongMode()) hi = 0;
    e.vmwrite(ENC_GUEST_RIP, lo, hi);
    // The instruction completed: STI/MOV-SS blocking ends (SDM vol. 3C §26.3.1.5).
    const intr = e.vmread(ENC_INTERRUPTIBILITY);
    if ((intr & 3) !== 0) e.vmwrite(ENC_INTERRUPTIBILITY, intr & ~3);
  }

  /** The guest's CR0.PE (the real register: PE is guest-owned under unrestricted guest). */
  guestProtected(): boolean {
    return (this.engine.vmread(ENC_GUEST_CR0) & 1) !== 0;
  }

  guestLongMode(): boolean {
    const e = this.engine;
    return (e.vmread(ENC_CS_AR) & 0x2000) !== 0 && (e.vmread(ENC_ENTRY_CTLS) & (1 << 9)) !== 0;
  }

  /** Inject a hardware exception into the guest at the next entry (RIP not advanced: a fault). */
  injectException(vector: number, errorCode?: number): void {
    // A guest with CR0.PE = 0 (unrestricted guest) takes exceptions without error codes: VM
    // entry refuses "deliver error code" there (SDM vol. 3C §26.2.1.3).
    const withCode = errorCode !== undefined && this.guestProtected();
    this.v.write('VM_ENTRY_INTERRUPTION_INFORMATION', (0x80000000 | (3 << 8) | (withCode ? 0x800 : 0) | vector) >>> 0);
    this.v.write('VM_ENTRY_EXCEPTION_ERROR_CODE', (errorCode ?? 0) >>> 0);
    this.v.write('VM_ENTRY_INSTRUCTION_LENGTH', 0);
  }

  /** The VMM completes an IoRead / SysRegRead exit with the value. */
  completeRead(value: bigint): void {
    const p = this.pending;
    this.pending = null;
    if (p === null) throw new Error('completeRead without a pending read');
    if (p.kind === 'io') {
      const rax = this.reg('rax');
      const mask = (1n << BigInt(p.width * 8)) - 1n;
      // IN to EAX zero-extends into RAX; AL/AX keep the rest (SDM vol. 2A IN).
      const v = p.width === 4 ? value & 0xffffffffn : (rax & ~mask) | (value & mask);
      this.setReg('rax', v);
    } else {
      this.setReg('rax', value & 0xffffffffn);
      this.setReg('rdx', (value >> 32n) & 0xffffffffn);
    }
    this.advanceRip();
  }

  /** The VMM completes a string IoRead (INS) with one value per element. */
  completeStringRead(values: readonly number[]): void {
    const p = this.pendingString;
    this.pendingString = null;
    if (p === null) throw new Error('completeStringRead without a pending INS');
    const paging = pagingOf(this.v);
    // The elements were checked writable before the port was read (handlers.ts stringIo).
    for (let i = 0; i < values.length; i++) {
      const bytes = new Uint8Array(p.width);
      for (let k = 0; k < p.width; k++) bytes[k] = Math.floor(values[i] / 256 ** k) & 0xff;
      writeGuest(this.cpu.mem, paging, BigInt.asUintN(64, p.linear + p.step * BigInt(i)), bytes, (pa, b) => this.cpu.writePhys8(pa, b));
    }
    p.finish(values.length);
  }

  /**
   * The VMM completes an MMIO exit: a read's value into the register (or an ALU instruction's
   * flags and result); then RIP advances. Returns a value the VMM must write back to the device
   * (an ALU instruction with the device register as destination), or null.
   */
  completeMmio(value?: bigint): bigint | null {
    const a = this.pendingMmio;
    this.pendingMmio = null;
    if (a === null) throw new Error('completeMmio without a pending MMIO access');
    let writeBack: bigint | null = null;
    if (a.kind === 'read') completeMmioRead(this.cpu, a, value ?? 0n);
    if (a.kind === 'alu') {
      const r = completeMmioAlu(this.cpu, a, value ?? 0n, this.v.read32('GUEST_RFLAGS'));
      this.v.write('GUEST_RFLAGS', r.rflags);
      writeBack = r.writeBack;
    }
    // EPT violations do not report an instruction length: the decoded one (SDM vol. 3C §27.2.5).
    this.advanceRip(BigInt(a.length));
    return writeBack;
  }

  /** The VMM completes a SysRegWrite it accepted (RIP advances) or refuses it (#GP). */
  completeWrite(accepted: boolean): void {
    if (accepted) this.advanceRip();
    else this.injectException(13, 0);
  }

  /** The VMM refuses a SysRegRead (an MSR the platform does not have): #GP(0). */
  refuseRead(): void {
    this.pending = null;
    this.injectException(13, 0);
  }

  /** Exit counts as an object (reason name → count), in the order reasons first happened. */
  exitTable(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.exitOrder) out[EXIT_REASON_BY_NUMBER.get(r)?.name ?? `REASON_${r}`] = this.exitCounts[r];
    return out;
  }
}

