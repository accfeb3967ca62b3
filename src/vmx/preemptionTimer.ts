/**
 * The VMX-preemption timer (SDM vol. 3C §25.5.1, §26.7.4 loading at VM entry, §27.3.4 saving
 * at VM exit). While "activate VMX-preemption timer" is 1 the timer counts down from the value
 * VM entry loaded by one every time bit X of the TSC changes, X = IA32_VMX_MISC[4:0]; at zero a
 * VM exit occurs (reason 52) on that instruction boundary. A value of 0 at entry exits before
 * the first guest instruction.
 *
 * The TSC of this processor model is `cpu.tsc()` = tscOffset + icount * tscPerInstruction, so
 * the timer runs on the deterministic clock: with the model's rate 0 it counts retired
 * instructions. The timer also counts in the HLT and shutdown states (§25.5.1): a platform that
 * lets a halted guest sleep advances the TSC (cpu.tscOffset, as src/vmm/machine.ts does) and the
 * next `run` takes the exit. Known deviation: a guest WRMSR to IA32_TIME_STAMP_COUNTER moves
 * the timer too (the hardware timer counts only TSC increments).
 *
 * The run loop ends its block exactly where the timer expires (`cpu.vmxDeadline`).
 */
import type { Cpu } from '../x86/cpu';
import { getStored } from '../x86/msr';
import type { VmxEngine } from './engine';
import type { EventState } from './eventExitCore';
import { EXIT_SAVE_TIMER, I_TIMER, PIN_TIMER } from './eventExitCore';

const IA32_VMX_MISC = 0x485;

/** Arm the timer at VM entry from the VMCS value (§26.7.4). */
export function armTimer(engine: VmxEngine, st: EventState): void {
  const c = engine.cpu;
  st.timerActive = (engine.pin & PIN_TIMER) !== 0;
  if (!st.timerActive) {
    c.vmxDeadline = Infinity;
    return;
  }
  st.timerValue = engine.current!.lo[I_TIMER] >>> 0;
  st.timerShift = getStored(c, IA32_VMX_MISC) & 0x1f;
  st.timerStartTsc = c.tsc();
  updateDeadline(c, st);
}

/** Timer ticks (changes of TSC bit X) between the entry and now. */
function elapsed(c: Cpu, st: EventState): number {
  const unit = 2 ** st.timerShift;
  return Math.floor(c.tsc() / unit) - Math.floor(st.timerStartTsc / unit);
}

/** The timer's current value (0 once expired). */
export function timerValue(c: Cpu, st: EventState): number {
  const left = st.timerValue - elapsed(c, st);
  return left > 0 ? left : 0;
}

/** The timer counted down to zero. */
export function timerExpired(c: Cpu, st: EventState): boolean {
  return st.timerActive && timerValue(c, st) === 0;
}

/**
 * The instruction count at which the timer reaches zero (cpu.vmxDeadline): the TSC value where
 * the tick count reaches the loaded value, in retired instructions from now.
 */
export function updateDeadline(c: Cpu, st: EventState): void {
  if (!st.timerActive) {
    c.vmxDeadline = Infinity;
    return;
  }
  const unit = 2 ** st.timerShift;
  const expireTsc = (Math.floor(st.timerStartTsc / unit) + st.timerValue) * unit;
  const now = c.tsc();
  if (expireTsc <= now) {
    c.vmxDeadline = c.icount;
    return;
  }
  const per = c.tscPerInstruction > 0 ? c.tscPerInstruction : 1;
  c.vmxDeadline = c.icount + Math.ceil((expireTsc - now) / per);
}

/** At VM exit: store the value when "save VMX-preemption timer value" is 1 (§27.3.4); stop the timer. */
export function saveTimer(engine: VmxEngine, st: EventState): void {
  const c = engine.cpu;
  if (st.timerActive && (engine.exitCtls & EXIT_SAVE_TIMER) !== 0 && engine.current !== null) {
    engine.current.lo[I_TIMER] = timerValue(c, st) | 0;
  }
  st.timerActive = false;
  c.vmxDeadline = Infinity;
}
