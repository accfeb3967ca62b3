/** Event-caused VM exits: the processor's questions (see vmxHooks.ts). */
import type { Cpu } from './cpu';
import type { DecodedInsn } from './decoded';
import type { CpuException } from './exceptions';

/**
 * VMX interruption types (SDM vol. 3C §24.8.3 table 24-14, §24.9.2, §24.9.3): the encoding of
 * bits 10:8 of the VM-entry/VM-exit interruption-information and IDT-vectoring fields.
 */
export const enum IntType {
  External = 0, Nmi = 2, HardwareException = 3, SoftwareInterrupt = 4,
  PrivilegedSoftwareException = 5, SoftwareException = 6, Other = 7,
}

/**
 * Events between instructions and during delivery in VMX non-root operation (SDM vol. 3C §25.2,
 * §25.4, §25.5, §26.6, §27.2.3). Called only when `c.nonRoot` is true: the processor routes its
 * event logic (interrupts.ts) here instead of delivering directly, so the root path pays one
 * boolean test. Owner: src/vmx/eventExits*.ts.
 *
 * A hook that takes a VM exit performs it and sets `c.exitTaken` (the run loop then stops or
 * continues at HOST_RIP); it never throws out of `deliver`/`betweenInstructions`.
 */
export interface EventExitHooks {
  /**
   * Deliver an event through the guest IDT (interrupts.ts deliverEvent/deliverException in
   * non-root operation), with the exception bitmap (§25.2), the double-fault rules and
   * triple-fault exits, and IDT-vectoring information for exits during delivery (§27.2.4).
   * `type` is the VMX interruption type (IntType), `insnLen` the instruction length for the
   * software types (the return address is then past the instruction).
   */
  deliver(
    c: Cpu, vector: number, errorCode: number | undefined, kind: number, retLo: number, retHi: number,
    source: CpuException | null, type: number, insnLen: number,
  ): void;
  /** Whether an exception raised now would exit through the exception bitmap (§25.2), without doing anything. */
  exceptionExits(c: Cpu, vector: number, errorCode: number): boolean;
  /** INT n / INT3 / INTO / INT1 executed by an op (interrupts.ts softwareInterrupt). */
  softwareInterrupt(c: Cpu, vector: number, kind: number, nextLo: number, nextHi: number): void;
  /**
   * Between instructions (interrupts.ts serviceEvents): INIT/SIPI, MTF, debug traps, the
   * preemption timer, NMI/interrupt windows, NMI and external interrupts with their exiting
   * controls, activity states. Returns true when exactly one instruction must run before the
   * next call (as serviceEvents).
   */
  betweenInstructions(c: Cpu): boolean;
  /** IRET's effect on (virtual-)NMI blocking (§25.3 "IRET"), in place of `c.nmiBlocked = false`. */
  iret(c: Cpu): void;
  /**
   * A task switch passed its initial checks (§25.4.2): it exits instead (reason 9). `source`:
   * 0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT (the exit-qualification encoding, §27.2.1).
   * Throws VM_EXIT_DEFERRED (the exit is completed with the instruction's address and length).
   */
  taskSwitch(c: Cpu, selector: number, source: number): void;
  /**
   * The run loop caught VM_EXIT_DEFERRED from the op of `d` (RIP inside a block is not the
   * instruction's): complete the exit the hook recorded with d's address and length. Returns
   * false when, knowing the instruction, there is no exit and the hook completed the
   * instruction itself (CD 03 / CD 04 are INT n, not INT3 / INTO): it then retired.
   */
  completeDeferred(c: Cpu, d: DecodedInsn): boolean;
}

/**
 * Thrown by an event hook from inside an op when the exit needs the instruction's address and
 * length (a software exception that exits, a task switch): the run loop sets RIP to the
 * instruction and calls `completeDeferred`. Never allocated per exit.
 */
export class VmExitDeferred {
  readonly vmExitDeferred = true;
}
export const VM_EXIT_DEFERRED = new VmExitDeferred();
