/**
 * "The stopped machine" the engine and inspection work on, with or without the built-in
 * hypervisor:
 *  - under the built-in hypervisor (`hypervisor: "builtin"`) the guest runs in VMX non-root
 *    operation on the Vmm; stopped on a VM exit before the handler, the processor holds the
 *    host's state and the guest's RIP/RSP/RFLAGS/CRs/segments are in the VMCS guest-state area
 *    (SDM vol. 3C §27.3);
 *  - in bare VT-x mode (`hypervisor: "none"`) the program *is* the machine: its registers are
 *    always the processor's — the guest hypervisor's (L1) in VMX root operation, its nested
 *    guest's (L2) in non-root operation — and the VMCS the views show is the one the guest's
 *    VMPTRLD made current (SDM vol. 3C §24.1, §30.3 VMPTRLD).
 */
import type { Machine } from '../vmm/machine';
import type { Vmm } from '../vmm/vmm';
import type { Cpu } from '../x86/cpu';
import type { VmxEngine } from '../vmx/engine';
import type { Vmcs } from '../vmx/vmcs';

export interface StoppedMachine {
  readonly machine: Machine;
  readonly cpu: Cpu;
  /** The built-in hypervisor's VMM; null in bare VT-x mode. */
  readonly vmm: Vmm | null;
  /** The VT-x engine whose current VMCS the views show (the built-in hypervisor's, or the guest's own). */
  readonly vmx: VmxEngine | null;
  /** Guest-physical ranges the hypervisor leaves unmapped for device MMIO (the memory map of vtx/ept). */
  readonly mmioHoles: readonly (readonly [number, number])[];
}

export function builtinMachine(vmm: Vmm): StoppedMachine {
  return { machine: vmm.machine, cpu: vmm.cpu, vmm, vmx: vmm.vcpu.engine, mmioHoles: vmm.vcpu.mmioHoles };
}

export function bareMachine(machine: Machine): StoppedMachine {
  return { machine, cpu: machine.cpu, vmm: null, vmx: machine.vmx, mmioHoles: [] };
}

/** The current VMCS (VMPTRLD), or null. */
export function currentVmcs(m: StoppedMachine): Vmcs | null {
  return m.vmx?.current ?? null;
}

/**
 * True when the processor holds every register of the program being debugged: always in bare
 * mode; under the built-in hypervisor only while stopped between guest instructions (non-root).
 */
export function heldByProcessor(m: StoppedMachine): boolean {
  return m.vmm === null || m.cpu.nonRoot;
}

/**
 * True when the code in view runs as a VMX guest of the current VMCS, so its controls apply
 * (CR0/CR4 read shadows §25.3, TSC offsetting, EPT §28.2): always under the built-in hypervisor,
 * in bare mode only while the nested guest runs (non-root operation).
 */
export function underVmx(m: StoppedMachine): boolean {
  return m.vmm !== null || m.cpu.nonRoot;
}
