/**
 * The virtual machine under the hypervisor (issue 5): the PC of machine.ts (memory, devices,
 * the deterministic clock) whose processor runs the guest in VMX non-root operation through the
 * built-in hypervisor (src/hypervisor), and the VMM's exit loop that completes what the
 * hypervisor passes up (reference §1): port I/O to the devices (string and REP forms included),
 * MSRs, MMIO through EPT violations (the xAPIC page), hypercalls, external interrupts queued for
 * injection, QEMU's power-off on port 0x604 as SystemDown; triple faults, entry failures and
 * accesses to unmapped guest-physical memory end the run with a report.
 *
 * Ports and MSRs the hypervisor does not intercept reach the devices and the processor's MSRs
 * directly (the guest owns them, as on the seed's platform).
 *
 * Hypercall ABI (VMCALL): number in RAX, arguments in RDI, RSI, RDX, RCX, R8, R9, result in
 * RAX (0 success, -1 unknown number or bad argument):
 *   0 HC_PRINT  (RDI = guest-linear address of the text, RSI = its length): the text goes to
 *               the serial output, as if written to COM1;
 *   1 HC_EXIT   (RDI = exit code): the run ends with that exit code ('exit', "hypercall").
 */
import { CpuException, VECTOR_NAMES } from '../x86/exceptions';
import { guestView } from '../hypervisor/guestView';
import { readMsr as cpuReadMsr, writeMsr as cpuWriteMsr } from '../x86/msr';
import { eferSettable } from '../x86/controlRegisters';
import { PhysicalMemory } from '../x86/physicalMemory';
import type { ExceptionReport } from '../x86/cpu';
import type { DecodedExit } from '../vmx/exitDecode';
import { Machine, type MachineOptions, type MachineRunResult, type MachineStopReason } from './machine';
import type { BootPlan } from './loaders/bootPlan';
import { hypervisorLayout, type HypervisorLayout } from '../hypervisor/layout';
import { VmxVcpu } from '../hypervisor/vcpu';
import type { VCpuExit } from '../hypervisor/vcpuExit';
import type { Interception } from '../hypervisor/interception';
import { pagingOf, readGuest } from '../hypervisor/guestMemory';
import { APIC_DEFAULT_BASE } from './devices/lapic';
import { raiseInit } from '../vmx/eventExits';

/** MSR → the VMCS guest-state field that holds the guest's value while the host runs (also read by the debugger). */
export const GUEST_STATE_MSRS: Readonly<Record<number, string>> = {
  0xc0000080: 'GUEST_IA32_EFER', 0x277: 'GUEST_IA32_PAT', 0x174: 'GUEST_IA32_SYSENTER_CS',
  0x175: 'GUEST_IA32_SYSENTER_ESP', 0x176: 'GUEST_IA32_SYSENTER_EIP', 0xc0000100: 'GUEST_FS_BASE',
  0xc0000101: 'GUEST_GS_BASE', 0x1d9: 'GUEST_IA32_DEBUGCTL',
};

export const HC_PRINT = 0n;
export const HC_EXIT = 1n;

export type VmmStopReason = MachineStopReason | 'SystemDown' | 'FailEntry' | 'NestedPageFault' | 'Halt' | 'CpuDown';

export interface VmmRunResult {
  /** 'exitBreak': `stopOnExit` asked to stop on this exit; it is handled when the run resumes. */
  reason: VmmStopReason | 'exitBreak';
  exception?: ExceptionReport;
  exitCode?: number;
  exitHow?: string;
  /** What ended the run, in words (entry failure check, unhandled exit, unmapped access). */
  detail?: string;
  /** The last VM exit (decoded). */
  lastExit?: DecodedExit;
}

export interface VmmOptions extends MachineOptions {
  /** Guest RAM (default 64 MiB). */
  ramSize?: number;
  interception?: Interception;
  /** Called for every VM exit, before the VMM acts on it (tracing, debugger). */
  onExit?: (e: DecodedExit, x: VCpuExit) => void;
  /**
   * Asked for every VM exit before the hypervisor handles it (exit breakpoints): true stops the
   * run with 'exitBreak' and the exit as the processor reported it; the next `run` handles it.
   */
  stopOnExit?: (e: DecodedExit) => boolean;
}

export class Vmm {
  readonly machine: Machine;
  readonly vcpu: VmxVcpu;
  readonly layout: HypervisorLayout;
  private inGuest = false;
  /** An exit read but not handled yet (a stop before the handler). */
  private pendingExit = false;
  /** A VM-entry failure stopped on by stopOnExit: its failed check, reported when the run resumes. */
  private pendingEntryCheck: string | null = null;
  stopOnExit: ((e: DecodedExit) => boolean) | undefined;
  private readonly onExit: ((e: DecodedExit, x: VCpuExit) => void) | undefined;
  /** Report (not deliver) exceptions until the guest loads an IDT (machine.ts 'auto'). */
  private readonly reportWithoutIdt: boolean;

  constructor(options: VmmOptions = {}) {
    const ram = options.ramSize ?? options.memorySize ?? 64 * 1024 * 1024;
    this.layout = hypervisorLayout(ram);
    const mem = new PhysicalMemory(this.layout.physSize);
    mem.guestRamSize = ram;
    this.machine = new Machine({ ...options, memory: mem });
    const m = this.machine;
    this.vcpu = new VmxVcpu(m.cpu, this.layout, {
      interception: options.interception,
      mmioHoles: [[APIC_DEFAULT_BASE, APIC_DEFAULT_BASE + 0x1000]],
      apic: { rdmsr: (i) => m.lapic.rdmsr(i), wrmsr: (i, lo, hi) => m.lapic.wrmsr(i, lo, hi), takeOutgoing: () => m.lapic.takeOutgoing() },
    });
    // An INIT IPI that includes the processor itself is the INIT signal: in VMX non-root
    // operation a VM exit (SDM vol. 3C §25.2), which the hypervisor reports as CpuDown.
    m.lapic.onInitSelf = () => raiseInit(this.vcpu.engine);
    this.onExit = options.onExit;
    this.stopOnExit = options.stopOnExit;
    this.vcpu.eagerDecode = options.onExit !== undefined || options.stopOnExit !== undefined;
    this.reportWithoutIdt = options.exceptions === 'auto';
  }

  get cpu(): Machine['cpu'] {
    return this.machine.cpu;
  }

  /** Set the vCPU up for the loaded image (the loaders fill guest RAM first). */
  boot(plan: BootPlan): void {
    this.vcpu.setup(plan);
    this.inGuest = false;
  }

  /** Run until `maxInstructions` have retired in total (cpu.icount) or the guest stops. */
  run(maxInstructions: number): VmmRunResult {
    const m = this.machine;
    const vcpu = this.vcpu;
    for (;;) {
      if (m.exit !== null) return { reason: 'exit', exitCode: m.exit.code, exitHow: m.exit.how };
      if (this.pendingEntryCheck !== null) {
        const check = this.pendingEntryCheck;
        this.pendingEntryCheck = null;
        return this.entryFailed(check);
      }
      if (!this.inGuest && !this.pendingExit) {
        const out = vcpu.enter();
        if (out.kind === 'fail') {
          const s = out.status;
          const what = s.status === 'failValid' ? `VMfailValid(${s.error})` : 'VMfailInvalid';
          return { reason: 'FailEntry', detail: `VM entry failed: ${what}${out.check !== undefined ? ` — ${out.check}` : ''}` };
        }
        this.inGuest = true;
        if (out.kind === 'exitOnEntry') {
          this.inGuest = false;
          vcpu.readExit();
          if (this.stopOnExit !== undefined && this.stopOnExit(vcpu.lastExit!)) {
            // A VM-entry failure is an exit too (SDM vol. 3C §26.8): stop on it before its handler.
            this.pendingEntryCheck = out.check;
            return { reason: 'exitBreak', lastExit: vcpu.lastExit! };
          }
          return this.entryFailed(out.check);
        }
      }
      if (!this.pendingExit) {
        const r: MachineRunResult = m.run(maxInstructions);
        if (r.reason !== 'vmexit') return { ...r };
        this.inGuest = false;
        vcpu.readExit();
        if (this.stopOnExit !== undefined && this.stopOnExit(vcpu.lastExit!)) {
          this.pendingExit = true;
          return { reason: 'exitBreak', lastExit: vcpu.lastExit! };
        }
      }
      this.pendingExit = false;
      const x = vcpu.runHandler();
      if (this.onExit !== undefined) this.onExit(vcpu.lastExit!, x);
      if (x.kind === 'Nothing' && vcpu.lastReason !== 0) continue;
      const e = vcpu.lastExit!;
      const unhandled = this.unhandledException(e);
      if (unhandled !== null) return unhandled;
      const stop = this.dispatch(x, e);
      if (stop !== null) return { ...stop, lastExit: e };
    }
  }

  /** The handler of a VM-entry failure (an exit on entry) ends the run with its check. */
  private entryFailed(check: string): VmmRunResult {
    const vcpu = this.vcpu;
    const x = vcpu.runHandler();
    if (this.onExit !== undefined) this.onExit(vcpu.lastExit!, x);
    return { reason: 'FailEntry', detail: `VM entry failed: ${vcpu.lastExit!.summary} — ${check}`, lastExit: vcpu.lastExit! };
  }

  /**
   * An intercepted exception (the seed intercepts #UD) in a guest that has loaded no IDT yet,
   * when the machine reports such exceptions instead of delivering them (flat images, the same
   * rule as without the hypervisor: machine.ts 'auto'): the run stops with the report.
   */
  private unhandledException(e: DecodedExit): VmmRunResult | null {
    if (e.reason !== 0 || !this.reportWithoutIdt) return null;
    const v = this.vcpu.v;
    const base = v.read('GUEST_IDTR_BASE');
    const limit = v.read32('GUEST_IDTR_LIMIT');
    if (base !== 0n || (limit !== 0x3ff && limit !== 0xffff)) return null;
    const vector = Number(e.fields.vector);
    const g = guestView(this.vcpu);
    const errorCode = e.fields.errorCode === undefined ? undefined : Number(e.fields.errorCode);
    return {
      reason: 'exception', lastExit: e,
      exception: {
        vector, errorCode, name: VECTOR_NAMES[vector] ?? `vector ${vector}`,
        detail: `intercepted by the hypervisor (exception bitmap) and not delivered: the guest has not loaded an IDT`,
        rip: g.regs.rip, bytes: g.next.bytes, text: g.next.text,
      },
    };
  }

  /** Act on what the hypervisor passed up; a result ends the run. */
  private dispatch(x: VCpuExit, e: DecodedExit): VmmRunResult | null {
    const m = this.machine;
    const vcpu = this.vcpu;
    switch (x.kind) {
      case 'Nothing':
        return null;
      case 'IoRead': {
        if (!x.string) {
          vcpu.completeRead(BigInt(m.bus.portIn(x.port, x.width) >>> 0));
        } else {
          const values: number[] = [];
          for (let i = 0; i < x.count; i++) values.push(m.bus.portIn(x.port, x.width) >>> 0);
          vcpu.completeStringRead(values);
        }
        return null;
      }
      case 'IoWrite':
        for (const d of x.data) m.bus.portOut(x.port, x.width, d);
        return null;
      case 'SystemDown':
        return { reason: 'SystemDown', exitCode: 0, exitHow: 'ACPI power-off (SystemDown)' };
      case 'SysRegRead':
        try {
          const own = this.guestStateMsr(x.addr);
          if (own !== undefined) {
            vcpu.completeRead(vcpu.v.read(own));
            return null;
          }
          const lo = cpuReadMsr(m.cpu, x.addr, m.cpu.icount);
          vcpu.completeRead((BigInt(m.cpu.vHi >>> 0) << 32n) | BigInt(lo >>> 0));
        } catch (err) {
          if (!(err instanceof CpuException)) throw err;
          vcpu.refuseRead();
        }
        return null;
      case 'SysRegWrite':
        try {
          if (this.guestStateMsr(x.addr) !== undefined) {
            vcpu.completeWrite(this.writeGuestStateMsr(x.addr, x.value));
            return null;
          }
          cpuWriteMsr(m.cpu, x.addr, Number(x.value & 0xffffffffn) | 0, Number(x.value >> 32n) | 0, m.cpu.icount);
          vcpu.completeWrite(true);
        } catch (err) {
          if (!(err instanceof CpuException)) throw err;
          vcpu.completeWrite(false);
        }
        return null;
      case 'MmioRead': case 'MmioWrite': {
        const dev = m.mem.mmioAt(x.addr);
        if (dev === null) return { reason: 'NestedPageFault', detail: `the guest accessed guest-physical 0x${x.addr.toString(16)}, which is neither RAM nor a device (${e.summary})` };
        const write = (data: bigint): void => {
          if (x.width === 8) {
            dev.write(x.addr, 4, Number(data & 0xffffffffn) | 0);
            dev.write(x.addr + 4, 4, Number((data >> 32n) & 0xffffffffn) | 0);
          } else {
            dev.write(x.addr, x.width, Number(BigInt.asUintN(x.width * 8, data)) | 0);
          }
        };
        if (x.kind === 'MmioRead') {
          let v: bigint;
          if (x.width === 8) v = BigInt(dev.read(x.addr, 4) >>> 0) | (BigInt(dev.read(x.addr + 4, 4) >>> 0) << 32n);
          else v = BigInt(dev.read(x.addr, x.width) >>> 0);
          // A read-modify-write instruction writes its result back to the device.
          const back = vcpu.completeMmio(v);
          if (back !== null) write(back);
        } else {
          write(x.data);
          vcpu.completeMmio();
        }
        return null;
      }
      case 'NestedPageFault':
      {
        const a = x.access;
        const what = a.execute ? 'instruction fetch from' : a.write ? 'write to' : 'read of';
        return { reason: 'NestedPageFault', detail: `EPT violation the VMM cannot resolve: ${what} guest-physical 0x${x.addr.toString(16)} (${e.summary})` };
      }
      case 'Hypercall':
        return this.hypercall(x.nr, x.args);
      case 'ExternalInterrupt':
        vcpu.queueEvent(x.vector);
        return null;
      case 'Halt':
        if (x.why === 'HLT') {
          // HLT exiting: the vCPU waits for an interrupt — the processor's HLT activity state.
          vcpu.v.write('GUEST_ACTIVITY_STATE', 1);
          return null;
        }
        return { reason: x.why?.startsWith('triple fault') === true ? 'shutdown' : 'Halt', detail: x.why };
      case 'FailEntry':
        return { reason: 'FailEntry', detail: `VM entry failed: ${x.check}` };
      // One vCPU: there is no other processor to start or to interrupt — the IPI is lost, as it
      // is on a PC whose APIC bus has no such APIC ID; the guest continues.
      case 'CpuUp': case 'SendIpi':
        return null;
      case 'CpuDown':
        return { reason: 'CpuDown', detail: 'the vCPU took an INIT (VM exit 3) and waits for a start-up IPI that no other processor can send' };
    }
  }

  /**
   * MSRs that VM entry and exit switch (SDM vol. 3C §26.3.2.1, §27.3.1: the guest's value lives in
   * the VMCS guest-state area while the host runs): an intercepted RDMSR/WRMSR of one of them is
   * the guest's field, never the processor's (which holds the host's value then).
   */
  private guestStateMsr(msr: number): string | undefined {
    return GUEST_STATE_MSRS[msr];
  }

  /** WRMSR of a VMCS-resident MSR with the processor's rules (SDM vol. 4); false: #GP. */
  private writeGuestStateMsr(msr: number, value: bigint): boolean {
    const v = this.vcpu.v;
    const field = GUEST_STATE_MSRS[msr];
    if (msr === 0xc0000080) {
      // EFER: SCE, LME, NXE settable; LMA read-only; LME cannot change while paging is on.
      const settable = BigInt(eferSettable(this.cpu));
      const old = v.read(field);
      if ((value & ~(settable | 0x400n)) !== 0n) return false;
      const cr0 = v.read('GUEST_CR0');
      if (((value ^ old) & 0x100n) !== 0n && (cr0 & 0x80000000n) !== 0n) return false;
      v.write(field, (value & ~0x400n) | (old & 0x400n));
      return true;
    }
    if (msr === 0x277) {
      // PAT: each entry a valid memory type (0, 1, 4, 5, 6, 7).
      for (let i = 0n; i < 64n; i += 8n) if ([2n, 3n].includes((value >> i) & 0xffn) || ((value >> i) & 0xf8n) !== 0n) return false;
    } else if (msr === 0x174) {
      value &= 0xffffn;
    } else if (msr === 0x175 || msr === 0x176 || msr === 0xc0000100 || msr === 0xc0000101) {
      // Addresses: canonical (SDM vol. 4: #GP otherwise).
      const s = BigInt.asIntN(64, value);
      if (s >= 1n << 47n || s < -(1n << 47n)) return false;
    } else if (msr === 0x1d9) {
      if ((value & ~0x3n) !== 0n) return false;
    }
    v.write(field, value);
    return true;
  }

  private hypercall(nr: bigint, args: readonly bigint[]): VmmRunResult | null {
    const m = this.machine;
    if (nr === HC_PRINT) {
      const len = Number(args[1] > 65536n ? 65536n : args[1]);
      const bytes = readGuest(m.mem, pagingOf(this.vcpu.v), args[0], len);
      if (bytes === null) {
        this.vcpu.setReg('rax', 0xffffffffffffffffn);
        return null;
      }
      for (const b of bytes) m.uart.hostOutput(b);
      this.vcpu.setReg('rax', 0n);
      return null;
    }
    if (nr === HC_EXIT) {
      m.requestExit(Number(args[0] & 0xffffffffn), 'hypercall');
      return { reason: 'exit', exitCode: Number(args[0] & 0xffffffffn), exitHow: 'hypercall' };
    }
    this.vcpu.setReg('rax', 0xffffffffffffffffn);
    return null;
  }
}
