/** Event-caused VM exits: the processor's questions (see vmxHooks.ts). */
import type { Cpu } from './cpu';
import type { CpuException } from './exceptions';

/**
 * Events between instructions and during delivery (§25.2, §25.5, §26.6). Owner: src/vmx/eventExits*.ts.
 */
export interface EventExitHooks {
  /**
   * An exception (fault/trap/abort, software INT3/INTO/INT n as the SDM counts them) is about to
   * be delivered in non-root operation. Returns true when it caused a VM exit (exception bitmap,
   * triple fault), false to deliver it in the guest.
   */
  exception(c: Cpu, e: CpuException, kind: number): boolean;
  /**
   * Between instructions: interrupt window, NMI window, MTF, preemption timer, pending external
   * interrupt/NMI exiting, TPR threshold. Returns true when a VM exit was taken.
   */
  betweenInstructions(c: Cpu): boolean;
}

