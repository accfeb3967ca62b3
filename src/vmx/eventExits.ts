/**
 * EventExitHooks (src/x86/vmxEventHooks.ts): exceptions, interrupts, NMI, the interrupt and NMI
 * windows, MTF and the VMX-preemption timer in non-root operation (SDM vol. 3C §25.2, §25.5).
 * SEAM: nothing exits yet; being written (issue 4).
 */
import type { EventExitHooks } from '../x86/vmxHooks';
import type { VmxEngine } from './engine';

export function createEventHooks(_engine: VmxEngine): EventExitHooks {
  return {
    exception: () => false,
    betweenInstructions: () => false,
  };
}
