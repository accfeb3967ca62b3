/**
 * The PC: guest-physical memory, the processor and the devices, run on one deterministic clock.
 *
 * Time is counted in ticks of one guest instruction (devices/clock.ts): `now = instructions
 * retired + ticks slept in HLT`. The run loop executes the processor up to the earlier of the
 * instruction limit and the next device deadline (and at most `maxSlice` instructions, so that a
 * timer the guest arms while running is seen within that many instructions), then services the
 * timers that are due, which raise interrupts. Nothing reads the host clock: the same guest
 * takes the same interrupts at the same instruction counts on every run.
 *
 * Interrupts: the machine is the processor's `InterruptSource` (src/x86/io.ts). The local APIC
 * offers its highest deliverable vector first; the 8259 pair's INTR reaches the processor
 * through LINT0 in ExtINT mode (or directly while the APIC is disabled). Whenever a controller
 * gets a pending vector the machine sets `cpu.eventPending`, and the processor's event logic
 * (src/x86/interrupts.ts `serviceEvents`) asks `pendingVector()` and calls `acknowledge()` when
 * it delivers — RFLAGS.IF, the interrupt shadow and delivery itself are the processor's business.
 *
 * HLT (SDM vol. 2A HLT; vol. 3A §6.3): the processor sleeps until an interrupt. When the
 * processor stops in HLT with RFLAGS.IF = 1 the machine advances time to the next timer deadline
 * (the TSC advances with it) and continues; it stops with 'hlt' when no interrupt can ever wake
 * it: IF = 0, nothing armed, an interrupt pending that the processor does not take, or
 * `maxIdleTicks` of guest time (default 60 s) asleep without a single instruction retiring.
 *
 * Stop reasons: 'exit' (isa-debug-exit or ACPI power-off; `exitCode` says which value),
 * 'hlt', 'limit', 'exception' (one the processor could not deliver), 'shutdown' (triple fault).
 */
import { Cpu } from '../x86/cpu';
import type { ExceptionReport } from '../x86/cpu';
import { cpuidLookup } from '../x86/cpuid';
import type { InterruptSource, MsrBus } from '../x86/io';
import { PhysicalMemory } from '../x86/physicalMemory';
import type { DeviceHost, TimedDevice } from './devices/clock';
import { CmosRtc, DEFAULT_RTC_START } from './devices/cmos';
import { LocalApic } from './devices/lapic';
import { PicPair } from './devices/pic';
import { Pit8254 } from './devices/pit';
import {
  ACPI_PM1A_CNT, AcpiPmControl, DEBUG_EXIT_PORT, DebugExitDevice, PostCodePort,
} from './devices/platformPorts';
import { PortIoBus } from './devices/portBus';
import { COM1_BASE, COM1_IRQ, Uart16550 } from './devices/uart';
import { VmxEngine } from '../vmx/engine';
import { raiseInit } from '../vmx/eventExits';

export type MachineStopReason = 'exit' | 'hlt' | 'limit' | 'exception' | 'shutdown' | 'vmexit' | 'break';

export interface MachineRunResult {
  reason: MachineStopReason;
  exception?: ExceptionReport;
  /** For 'exit': the exit code ((value << 1) | 1 for isa-debug-exit, 0 for power-off). */
  exitCode?: number;
  /** For 'exit': which device ("isa-debug-exit", "ACPI power-off"). */
  exitHow?: string;
}

export interface MachineOptions {
  /** Guest RAM in bytes (ignored when `memory` is given). */
  memorySize?: number;
  memory?: PhysicalMemory;
  /** Receives each byte the guest transmits on COM1, as it is written. */
  serialSink?: (byte: number) => void;
  /** Start the APIC as firmware leaves it (virtual wire) rather than in its reset state. Default true. */
  firmwareApic?: boolean;
  /** RTC date at time 0, seconds since 1970 (default 2026-01-01 00:00:00 UTC). */
  rtcStart?: number;
  /**
   * Longest run of instructions between two looks at the devices (default 1,000,000). A device
   * that needs attention sooner (a timer armed, an exit) sets the processor's `stopRequested`,
   * so timers stay exact whatever the slice.
   */
  maxSlice?: number;
  /** Guest time a halted processor may sleep without retiring an instruction before the run stops (default 60 s). */
  maxIdleTicks?: number;
  /**
   * Exceptions raised by instructions: 'deliver' through the IVT/IDT as a PC does (default);
   * 'stop' the run with a report (the bare processor's behaviour); 'auto' deliver once the guest
   * has loaded an IDTR other than the reset value (base 0, limit 0x3ff), else stop — so a flat
   * binary that never sets up exception handling gets a report instead of a triple fault.
   */
  exceptions?: 'deliver' | 'stop' | 'auto';
  /**
   * A processor with VT-x for guest code ("bring your own hypervisor", `--hypervisor none`): the
   * VT-x engine is attached (CPUID reports VMX, IA32_FEATURE_CONTROL locked with VMXON outside
   * SMX enabled as firmware leaves it, the capability MSRs), the guest's VMX instructions execute
   * against it, and a VM exit continues at the guest VMCS's HOST_RIP (the run does not stop).
   * Default false: VMX instructions are #UD. (The built-in hypervisor attaches its own engine.)
   */
  vmx?: boolean;
}

const IF_BIT = 0x200;

export class Machine implements DeviceHost, InterruptSource, MsrBus {
  readonly mem: PhysicalMemory;
  readonly cpu: Cpu;
  readonly bus = new PortIoBus();
  readonly pic = new PicPair();
  readonly pit: Pit8254;
  readonly uart: Uart16550;
  readonly cmos: CmosRtc;
  readonly post = new PostCodePort();
  readonly lapic: LocalApic;
  private readonly timed: TimedDevice[];
  /** Ticks the processor spent asleep in HLT. */
  idleTicks = 0;
  private exitInfo: { code: number; how: string } | null = null;
  private readonly maxSlice: number;
  private readonly maxIdleTicks: number;
  /** Device interrupt/timer notifications (statistics). */
  timerChanges = 0;
  /** The VT-x engine guest code uses (MachineOptions.vmx), or null. */
  readonly vmx: VmxEngine | null = null;

  constructor(options: MachineOptions = {}) {
    this.mem = options.memory ?? new PhysicalMemory(options.memorySize ?? 64 * 1024 * 1024);
    this.cpu = new Cpu(this.mem);
    const exceptions = options.exceptions ?? 'deliver';
    if (exceptions === 'auto') {
      const cpu = this.cpu;
      cpu.reportWithoutIdt = true;
      // Read only when an exception is raised, so a getter costs nothing on the hot path.
      Object.defineProperty(cpu, 'deliverExceptions', {
        configurable: true,
        // An IDTR at base 0 with the real-mode IVT's limit (0x3FF) or the reset limit (0xFFFF,
        // the VMX real-mode start of the hypervisor) means "no IDT loaded yet".
        get: () => cpu.idtrBaseLo !== 0 || cpu.idtrBaseHi !== 0 || (cpu.idtrLimit !== 0x3ff && cpu.idtrLimit !== 0xffff),
        set: () => {},
      });
    } else {
      this.cpu.deliverExceptions = exceptions === 'deliver';
    }
    this.maxSlice = Math.max(1, options.maxSlice ?? 1_000_000);
    this.maxIdleTicks = options.maxIdleTicks ?? 60_000_000_000;
    const maxPhys = cpuidLookup(this.cpu.cpuid, 0x80000008, 0)[0] & 0xff;
    this.lapic = new LocalApic(this, this.cpu, maxPhys === 0 ? 36 : maxPhys);
    if (options.firmwareApic ?? true) this.lapic.firmwareSetup();
    this.pit = new Pit8254(this);
    // The 8254's OUT0 idles high (it is low only in mode 0 before terminal count), so the PIC
    // sees IRQ 0 high from the start and a mode 2/3 control word makes no edge.
    this.pic.setIrq(0, true);
    this.uart = new Uart16550(this, COM1_BASE, COM1_IRQ, options.serialSink);
    this.cmos = new CmosRtc(this, this.mem.guestRamSize, options.rtcStart ?? DEFAULT_RTC_START);
    this.timed = [this.pit, this.lapic];

    const b = this.bus;
    b.register(0x20, 0x21, this.pic);
    b.register(0xa0, 0xa1, this.pic);
    b.register(0x40, 0x43, this.pit);
    b.register(0x61, 0x61, this.pit);
    b.register(0x70, 0x71, this.cmos);
    b.register(0x80, 0x80, this.post);
    b.register(DEBUG_EXIT_PORT, DEBUG_EXIT_PORT + 3, new DebugExitDevice(this), true);
    b.register(ACPI_PM1A_CNT, ACPI_PM1A_CNT + 1, new AcpiPmControl(this), true);
    b.register(COM1_BASE, COM1_BASE + 7, this.uart);
    this.mem.addMmio(this.lapic.mmio());

    this.cpu.io = this.bus;
    this.cpu.intr = this;
    this.cpu.msrBus = this;
    if (options.vmx === true) {
      const engine = new VmxEngine(this.cpu);
      this.vmx = engine;
      // The host of every VMCS is guest code: VM exits continue at its HOST_RIP.
      this.cpu.vmExitStops = false;
      // INIT to itself: blocked (held pending) in VMX root operation, a VM exit in non-root
      // operation (SDM vol. 3C §23.8, §25.2); outside VMX operation ignored, as without VMX
      // (processor reset is not modelled).
      this.lapic.onInitSelf = () => {
        if (this.cpu.inVmxOperation) raiseInit(engine);
      };
    }
  }

  // ---- DeviceHost ----------------------------------------------------------------------------
  now(): number {
    return this.cpu.icount + this.idleTicks;
  }

  setIrq(irq: number, level: boolean): void {
    this.pic.setIrq(irq, level);
    this.interruptsChanged();
  }

  interruptsChanged(): void {
    if (this.exitInfo === null && this.pendingVector() >= 0) this.cpu.eventPending = true;
  }

  timersChanged(): void {
    this.timerChanges++;
    // A deadline may now come before the end of the running slice: let the run loop look.
    this.requestCpuStop();
  }

  requestExit(code: number, how: string): void {
    if (this.exitInfo !== null) return;
    this.exitInfo = { code, how };
    // Power is off: no more port writes, no interrupts; the processor stops at the end of the
    // block (through the stop hook, or as if halted when the processor has no such hook).
    this.bus.frozen = true;
    this.cpu.eventPending = false;
    this.requestCpuStop();
  }

  /**
   * Set together with `cpu.stopRequested` by a tool that must see the machine before its next
   * instruction (the debugger stopping on a VM exit or entry of a guest hypervisor's VMCS):
   * `run` then returns (with 'limit') instead of treating the processor's return as a device's
   * request and going on. Cleared when `run` returns.
   */
  returnRequested = false;

  /** Make the processor return from `run()` at the next block boundary (cpu.stopRequested). */
  private requestCpuStop(): void {
    this.cpu.stopRequested = true;
  }

  /** The exit the guest requested, if any. */
  get exit(): { code: number; how: string } | null {
    return this.exitInfo;
  }

  // ---- InterruptSource -----------------------------------------------------------------------
  pendingVector(): number {
    if (this.exitInfo !== null) return -1;
    const a = this.lapic.pendingVector();
    if (a >= 0) return a;
    if (this.lapic.passesPic()) return this.pic.pendingVector();
    return -1;
  }

  acknowledge(vector: number): void {
    if (this.lapic.pendingVector() === vector) this.lapic.acknowledge(vector);
    else if (this.lapic.passesPic()) this.pic.inta();
  }

  /** CR8 is the local APIC's TPR[7:4] (SDM vol. 3A §10.8.6.1). */
  readCr8(): number {
    return this.lapic.readCr8();
  }

  writeCr8(value: number): void {
    this.lapic.writeCr8(value);
  }

  // ---- MsrBus (x2APIC, IA32_APIC_BASE, IA32_TSC_DEADLINE) -----------------------------------
  rdmsr(index: number): [number, number] | null {
    return this.lapic.rdmsr(index);
  }

  wrmsr(index: number, lo: number, hi: number): boolean {
    return this.lapic.wrmsr(index, lo, hi);
  }

  // ---- time ----------------------------------------------------------------------------------
  /** The earliest device deadline (machine ticks), or Infinity. */
  nextDeadline(now = this.now()): number {
    let t = Infinity;
    for (const d of this.timed) {
      const x = d.nextDeadline(now);
      if (x < t) t = x;
    }
    return t;
  }

  /** Service every device whose deadline has come. */
  serviceTimers(now = this.now()): void {
    for (const d of this.timed) if (d.nextDeadline(now) <= now) d.service(now);
  }

  /** Sleep (HLT) until machine time `t`: time and the TSC advance, no instruction retires. */
  private sleepUntil(t: number): void {
    const dt = t - this.now();
    if (dt <= 0) return;
    this.idleTicks += dt;
    this.cpu.tscOffset += dt * this.cpu.tscPerInstruction;
  }

  private interruptsEnabled(): boolean {
    return (this.cpu.flagsRest & IF_BIT) !== 0;
  }

  // ---- running -------------------------------------------------------------------------------
  /** Run until `maxInstructions` instructions have retired in total (as `cpu.icount`) or the guest stops. */
  run(maxInstructions: number): MachineRunResult {
    const cpu = this.cpu;
    let pendingWhileHalted = -1;
    let sleptSince = -1;
    let sleptTicks = 0;
    for (;;) {
      if (this.exitInfo !== null) return this.exitResult();
      let now = this.now();
      this.serviceTimers(now);
      if (this.exitInfo !== null) return this.exitResult();
      if (cpu.icount >= maxInstructions) return { reason: 'limit' };
      let stopAt = Math.min(maxInstructions, cpu.icount + this.maxSlice);
      const next = this.nextDeadline(now);
      if (next - now < stopAt - cpu.icount) stopAt = cpu.icount + Math.max(1, next - now);
      if (this.pendingVector() >= 0) cpu.eventPending = true;
      const r = cpu.run(stopAt);
      if (this.exitInfo !== null) return this.exitResult();
      if (this.returnRequested) {
        // A tool (the debugger's VMX observer) asked to look at the machine now: return at once.
        this.returnRequested = false;
        return r.reason === 'limit' ? { reason: 'limit' } : r;
      }
      if (r.reason === 'limit') continue;
      if (r.reason !== 'hlt') return r;
      // HLT: sleep until an interrupt can arrive.
      if (!this.interruptsEnabled()) return { reason: 'hlt' };
      now = this.now();
      if (sleptSince !== cpu.icount) {
        sleptSince = cpu.icount;
        sleptTicks = 0;
      }
      if (this.pendingVector() >= 0) {
        // An interrupt is pending but the processor stayed halted: nothing will deliver it.
        if (pendingWhileHalted === cpu.icount) return { reason: 'hlt' };
        pendingWhileHalted = cpu.icount;
        cpu.eventPending = true;
        continue;
      }
      let t = this.nextDeadline(now);
      if (t === Infinity) return { reason: 'hlt' };
      if (t <= now) t = now + 1;
      sleptTicks += t - now;
      if (sleptTicks > this.maxIdleTicks) return { reason: 'hlt' };
      this.sleepUntil(t);
    }
  }

  private exitResult(): MachineRunResult {
    this.cpu.halted = false;
    this.cpu.stopRequested = false;
    const e = this.exitInfo!;
    return { reason: 'exit', exitCode: e.code, exitHow: e.how };
  }

  /** Bytes the guest wrote to COM1 so far. */
  serialBytes(): Uint8Array {
    return Uint8Array.from(this.uart.output);
  }
}

