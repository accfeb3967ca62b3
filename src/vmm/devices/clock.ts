/**
 * The deterministic time base the devices run on. Machine time is counted in "ticks" of one
 * guest instruction: `now = instructions retired + ticks slept in HLT`. Nothing reads the host
 * clock, so the same guest and inputs always see the same times and interrupts at the same
 * instruction counts.
 *
 * Documented rates (notional, chosen so that the familiar programming constants work):
 * - the processor: 1 instruction = 1 ns, a 1 GHz clock; the TSC counts 1 per tick.
 * - the local APIC timer's bus clock: 1 GHz, one bus clock per tick, before the divide
 *   configuration (SDM vol. 3A §10.5.4).
 * - the 8254 PIT input clock: 1.193182 MHz, modelled as one PIT clock every 838 ticks.
 * - the RTC advances one second every 1,000,000,000 ticks from a fixed start date.
 */
export const TICKS_PER_SECOND = 1_000_000_000;
export const APIC_TICKS_PER_BUS_CLOCK = 1;
export const PIT_TICKS_PER_CLOCK = 838;

/** What a device may ask of the machine it is plugged into. */
export interface DeviceHost {
  /** Current machine time in ticks (at the start of the running block inside an op). */
  now(): number;
  /** Drive ISA IRQ line `irq` (0-15) to `level` (the PIC latches rising edges in edge mode). */
  setIrq(irq: number, level: boolean): void;
  /** The interrupt controllers' state changed: the processor must look for a pending interrupt. */
  interruptsChanged(): void;
  /** A device changed its timer: the machine recomputes its next deadline. */
  timersChanged(): void;
  /** The guest asked the machine to stop (power-off, isa-debug-exit). */
  requestExit(code: number, how: string): void;
}

/** A device with timed events. `nextDeadline` is in machine ticks (Infinity when nothing is armed). */
export interface TimedDevice {
  nextDeadline(now: number): number;
  /** Called when machine time has reached or passed a deadline: raise whatever is due. */
  service(now: number): void;
}
