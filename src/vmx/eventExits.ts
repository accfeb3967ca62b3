/**
 * EventExitHooks (src/x86/vmxEventHooks.ts): exceptions, interrupts, NMI, the interrupt and NMI
 * windows, MTF, the VMX-preemption timer, INIT/SIPI, activity states, task switches and IRET in
 * non-root operation (SDM vol. 3C §25.2-25.5, §26.7, §27.1-27.3). The parts:
 *   eventExitCore.ts      shared constants, the per-engine EventState, takeExit
 *   eventExitDelivery.ts  exception bitmap, double/triple fault, IDT vectoring, task switch, IRET
 *   eventExitBoundary.ts  the instruction-boundary priorities (windows, NMI, interrupts, MTF)
 *   preemptionTimer.ts    the VMX-preemption timer
 *
 * The transitions (vmEntry.ts / vmExit.ts) call, in this order:
 *   VM entry: load guest state, interruptibility (cpu.interruptShadow, cpu.nmiBlocked) and the
 *     decoded controls (engine.pin/proc/exitCtls/exceptionBitmap), set cpu.nonRoot, then
 *     `eventsOnVmEntry(engine, vectoring, mtfInjected)` (activity state, timer, MTF, §26.7), then
 *     inject with `injectEvent(engine, type, vector, errorCode, insnLen)` (§26.6).
 *   VM exit: while saving guest state (§27.3.4), `eventsOnVmExit(engine)` writes the activity
 *     state and (with "save VMX-preemption timer value") the timer value, and resets the state.
 *     It runs once per exit (the event exits call it too, for safety).
 */
import type { Cpu } from '../x86/cpu';
import type { DecodedInsn } from '../x86/decoded';
import type { CpuException } from '../x86/exceptions';
import { EventKind } from '../x86/interrupts';
import type { EventExitHooks } from '../x86/vmxHooks';
import type { VmxEngine } from './engine';
import {
  Activity, I_ACTIVITY, PROC_INT_WINDOW, PROC_MTF, PROC_NMI_WINDOW, eventState, guestActivity, onExit,
} from './eventExitCore';
import { betweenInstructionsVmx } from './eventExitBoundary';
import {
  completeDeferredVmx, deliverVmx, exceptionExits, iretVmx, softwareInterruptVmx, taskSwitchVmx,
} from './eventExitDelivery';
import { armTimer, saveTimer, timerValue } from './preemptionTimer';

export { nmiUnblockedByIret } from './eventExitDelivery';

export function createEventHooks(engine: VmxEngine): EventExitHooks {
  eventState(engine);
  onExit.save = eventsOnVmExit;
  return {
    deliver: (c: Cpu, vector: number, ec: number | undefined, kind: number, retLo: number, retHi: number,
      source: CpuException | null, type: number, insnLen: number) =>
      deliverVmx(engine, c, vector, ec, kind, retLo, retHi, source, type, insnLen),
    exceptionExits: (_c: Cpu, vector: number, errorCode: number) => exceptionExits(engine, vector, errorCode),
    softwareInterrupt: (c: Cpu, vector: number, kind: number, nextLo: number, nextHi: number) =>
      softwareInterruptVmx(engine, c, vector, kind, nextLo, nextHi),
    betweenInstructions: (c: Cpu) => betweenInstructionsVmx(engine, c),
    iret: (c: Cpu) => iretVmx(engine, c),
    taskSwitch: (_c: Cpu, selector: number, source: number) => taskSwitchVmx(engine, selector, source),
    completeDeferred: (c: Cpu, d: DecodedInsn) => completeDeferredVmx(engine, c, d),
  };
}

/**
 * At VM entry, after guest state, interruptibility and controls are loaded and before
 * injection (§26.7): the activity state (HLT halts the processor; shutdown and wait-for-SIPI
 * too, with the events they block), the VMX-preemption timer (§26.7.4), MTF (§25.5.2: pending
 * before the first instruction when the entry is vectoring or injects a pending MTF VM exit —
 * type 7 vector 0 — otherwise after the first instruction when the control is 1). Makes the run
 * loop look at the first boundary (windows open at entry exit at once, §26.7.5-26.7.6).
 */
export function eventsOnVmEntry(engine: VmxEngine, vectoring = false, mtfInjected = false): void {
  const c = engine.cpu;
  const st = eventState(engine);
  st.inGuest = true;
  st.vecInfo = 0;
  st.swFault = null;
  st.iretUnblocked = false;
  st.dbQual = -1;
  st.apicWritten = 0;
  const act = engine.current !== null ? engine.current.lo[I_ACTIVITY] & 3 : 0;
  st.activity = act >= Activity.Shutdown ? act : Activity.Active;
  c.halted = act !== Activity.Active;
  st.mtf = mtfInjected || (vectoring && (engine.proc & PROC_MTF) !== 0) ? 1 : (engine.proc & PROC_MTF) !== 0 ? 2 : 0;
  armTimer(engine, st);
  // Look at the first boundary when anything there can act (windows open at entry exit at once,
  // §26.7.5-26.7.6); VM entry itself may ask too (pending debug exceptions, blocking).
  if (st.mtf !== 0 || st.timerActive || st.initPending || c.halted || c.nmiPending || c.intr !== null ||
    (engine.proc & (PROC_INT_WINDOW | PROC_NMI_WINDOW)) !== 0 || (c.flagsRest & 0x100) !== 0 ||
    c.stepArmed || c.dbgHits !== 0 || c.debugActive || c.rfPending || c.interruptShadow) {
    c.eventPending = true;
  }
}

/** At VM exit (§27.3.4): save activity state and the timer value; reset the event state. */
export function eventsOnVmExit(engine: VmxEngine): void {
  const st = eventState(engine);
  if (!st.inGuest) return;
  st.inGuest = false;
  const c = engine.cpu;
  // Saved state is the processor's own write, not a VMWRITE: no write counter (vmcs.ts).
  if (engine.current !== null) engine.current.lo[I_ACTIVITY] = guestActivity(c, st);
  saveTimer(engine, st);
  st.activity = Activity.Active;
  st.mtf = 0;
  st.vecInfo = 0;
  st.swFault = null;
  st.iretUnblocked = false;
  st.dbQual = -1;
  // A write to the APIC-access page virtualized by the operation that exited gets no APIC-write
  // emulation (§29.4.3.2).
  st.apicWritten = 0;
  // The host starts active (§27.5: the return to the active state follows the exit).
  c.halted = false;
}

/** The guest's activity state now (§24.4.2): 0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI. */
export function guestActivityState(engine: VmxEngine): number {
  return guestActivity(engine.cpu, eventState(engine));
}

/** The VMX-preemption timer's current value (for views), or -1 when it is not active. */
export function preemptionTimerNow(engine: VmxEngine): number {
  const st = eventState(engine);
  return st.timerActive ? timerValue(engine.cpu, st) : -1;
}

/**
 * The INIT signal (§25.2, §23.8): in non-root operation it exits (reason 3) at the next
 * boundary (blocked in wait-for-SIPI); in VMX root operation it is blocked and stays pending
 * until the next VM entry.
 */
export function raiseInit(engine: VmxEngine): void {
  eventState(engine).initPending = true;
  engine.cpu.eventPending = true;
}

/** A start-up IPI (§25.2): exits (reason 4, qualification = vector) in wait-for-SIPI, otherwise discarded. */
export function raiseSipi(engine: VmxEngine, vector: number): void {
  const c = engine.cpu;
  const st = eventState(engine);
  if (!c.nonRoot || st.activity !== Activity.WaitForSipi) return;
  st.sipiVector = vector & 0xff;
  c.eventPending = true;
}

/**
 * Deliver a VM-entry-injected event (§26.6.1) of interruption `type` through the guest IDT —
 * the exception bitmap does not apply to the injected event itself (§26.6.1.2) — with the exits
 * its delivery can cause (exception bitmap on nested faults, triple fault, task gate,
 * EPT) recorded with IDT-vectoring information. `errorCode` undefined when "deliver error code"
 * is 0; `insnLen` for software interrupts/exceptions (the return address is RIP + length).
 * An injected NMI sets (virtual-)NMI blocking before delivery (§26.6.1.2). Type 7 (pending MTF
 * VM exit) is not delivered: pass `mtfInjected` to eventsOnVmEntry. Returns true when delivery
 * caused a VM exit (cpu.exitTaken).
 */
export function injectEvent(engine: VmxEngine, type: number, vector: number, errorCode: number | undefined, insnLen: number): boolean {
  const c = engine.cpu;
  if (type === 7 || type === 1) return false;
  const kind = type === 3 ? EventKind.Exception : type === 5 ? EventKind.Icebp
    : type === 4 || type === 6 ? EventKind.Software : EventKind.External;
  let retLo = c.ripLo, retHi = c.ripHi;
  if (type >= 4 && type <= 6) {
    const s = (c.ripLo >>> 0) + insnLen;
    retLo = s | 0;
    retHi = c.bitness === 64 && s >= 4294967296 ? (c.ripHi + 1) | 0 : c.ripHi;
  }
  if (type === 2) c.nmiBlocked = true;
  c.exitTaken = false;
  deliverVmx(engine, c, vector & 0xff, type === 3 ? errorCode : undefined, kind, retLo, retHi, null, type, insnLen, true);
  return c.exitTaken;
}
