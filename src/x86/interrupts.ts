/**
 * Event delivery (SDM vol. 3A chapter 6): exceptions, software interrupts, external interrupts
 * and NMI through the IVT (real mode) or the IDT. To be implemented; until then nothing is
 * delivered and the run stops with a report.
 */
import type { Cpu } from './cpu';
import type { CpuException } from './exceptions';

/** Deliver a fault or trap raised by an instruction. Returns false when it cannot be delivered. */
export function deliverException(_c: Cpu, _e: CpuException): boolean {
  return false;
}

/** Called between blocks while `c.eventPending` is set: pending interrupts, NMI, traps. */
export function serviceEvents(c: Cpu): void {
  c.eventPending = false;
}
