/**
 * What the event-exit files share (SDM vol. 3C §25.2, §25.5, §27.2.2-27.2.4): the control bits
 * and VMCS fields they read, the per-engine event state (activity state, pending MTF, the event
 * being delivered for IDT-vectoring information, INIT/SIPI signals, the preemption timer) and
 * `takeExit`, which performs an event-caused VM exit through the engine and records the
 * interruption and IDT-vectoring fields.
 */
import type { Cpu } from '../x86/cpu';
import { hasErrorCode } from '../x86/exceptions';
import { ENTRY_CONTROLS, EXIT_CONTROLS, PIN_BASED, PROC_BASED, bitOf } from './controlBits';
import type { VmxEngine } from './engine';
import { fieldIndex } from './fields';
import type { Vmcs } from './vmcs';

// ---- controls (§24.6.1 table 24-5, §24.6.2 table 24-6, §24.7.1 table 24-11) ------------------
export const PIN_EXT_INT = bitOf(PIN_BASED, 'EXTERNAL_INTERRUPT_EXITING');
export const PIN_NMI = bitOf(PIN_BASED, 'NMI_EXITING');
export const PIN_VIRTUAL_NMIS = bitOf(PIN_BASED, 'VIRTUAL_NMIS');
export const PIN_TIMER = bitOf(PIN_BASED, 'ACTIVATE_VMX_PREEMPTION_TIMER');
export const PROC_INT_WINDOW = bitOf(PROC_BASED, 'INTERRUPT_WINDOW_EXITING');
export const PROC_NMI_WINDOW = bitOf(PROC_BASED, 'NMI_WINDOW_EXITING');
export const PROC_MTF = bitOf(PROC_BASED, 'MONITOR_TRAP_FLAG');
export const EXIT_ACK_INT = bitOf(EXIT_CONTROLS, 'ACKNOWLEDGE_INTERRUPT_ON_EXIT');
export const EXIT_SAVE_TIMER = bitOf(EXIT_CONTROLS, 'SAVE_VMX_PREEMPTION_TIMER_VALUE');
export const ENTRY_IA32E = bitOf(ENTRY_CONTROLS, 'IA32E_MODE_GUEST');

// ---- fields --------------------------------------------------------------------------------
export const I_EXIT_INT_INFO = fieldIndex('VM_EXIT_INTERRUPTION_INFORMATION');
export const I_EXIT_INT_ERR = fieldIndex('VM_EXIT_INTERRUPTION_ERROR_CODE');
export const I_IDT_INFO = fieldIndex('IDT_VECTORING_INFORMATION');
export const I_IDT_ERR = fieldIndex('IDT_VECTORING_ERROR_CODE');
export const I_EXIT_LEN = fieldIndex('VM_EXIT_INSTRUCTION_LENGTH');
export const I_GUEST_RIP = fieldIndex('GUEST_RIP');
export const I_PFEC_MASK = fieldIndex('PAGE_FAULT_ERROR_CODE_MASK');
export const I_PFEC_MATCH = fieldIndex('PAGE_FAULT_ERROR_CODE_MATCH');
export const I_TIMER = fieldIndex('VMX_PREEMPTION_TIMER_VALUE');
export const I_ACTIVITY = fieldIndex('GUEST_ACTIVITY_STATE');

// ---- basic exit reasons used here (appendix C) --------------------------------------------
export const EXIT_EXCEPTION_NMI = 0;
export const EXIT_EXTERNAL_INTERRUPT = 1;
export const EXIT_TRIPLE_FAULT = 2;
export const EXIT_INIT = 3;
export const EXIT_SIPI = 4;
export const EXIT_INTERRUPT_WINDOW = 7;
export const EXIT_NMI_WINDOW = 8;
export const EXIT_TASK_SWITCH = 9;
export const EXIT_MTF = 37;
export const EXIT_PREEMPTION_TIMER = 52;

/** Interruption-information valid bit (31), error-code-valid bit (11), NMI unblocking due to IRET (12). */
export const INFO_VALID = 0x80000000 | 0;
export const INFO_EC = 0x800;
export const INFO_NMI_UNBLOCK = 0x1000;

/** Guest activity states (§24.4.2). */
export const enum Activity { Active = 0, Hlt = 1, Shutdown = 2, WaitForSipi = 3 }

/** Interruption information for vector/type, with bit 11 when a hardware exception delivers an error code. */
export function interruptionInfo(vector: number, type: number, withEc: boolean): number {
  return INFO_VALID | (type << 8) | (vector & 0xff) | (withEc ? INFO_EC : 0);
}

/** A hardware exception (type 3) that pushes an error code (§24.9.2, vol. 3A §6.13). */
export function exceptionHasEc(vector: number, type: number): boolean {
  return type === 3 && hasErrorCode(vector);
}

/** Deferred exit kinds (completed by completeDeferred with the instruction's address and length). */
export const enum Deferred { None = 0, SoftwareException = 1, TaskSwitch = 2, PatchAfterExit = 3 }

/** Per-engine event state (one logical processor). */
export class EventState {
  /** Guest in non-root operation since the last eventsOnVmEntry (cleared by eventsOnVmExit). */
  inGuest = false;
  /** Shutdown (2) or wait-for-SIPI (3) activity of the guest; HLT is `cpu.halted` (§24.4.2). */
  activity = 0;
  /** Monitor trap flag: 0 none, 1 an MTF exit is pending on this boundary, 2 pending after the next instruction (§25.5.2). */
  mtf = 0;
  /** The event being delivered through the guest IDT now (IDT-vectoring information, §27.2.4), 0 none. */
  vecInfo = 0;
  vecErr = 0;
  vecLen = 0;
  /** A fault raised while INT n/INT3/INTO/INT1 was delivered from its op: its vectoring information. */
  swFault: unknown = null;
  swInfo = 0;
  swNextLo = 0;
  /** The instruction being executed is an IRET that removed (virtual-)NMI blocking (§27.2.3 bit 12). */
  iretUnblocked = false;
  /** Exception-exit qualification for the next #DB (DR6-format bits, §27.2.1 table 27-1); -1 none. */
  dbQual = -1;
  /**
   * Size in bytes of the write to the APIC-access page that the instruction executing had
   * virtualized (0: none; §29.4.3.1, ept.ts): APIC-write emulation follows at the instruction
   * boundary (eventExitBoundary.ts); a VM exit before it cancels it (§29.4.3.2).
   */
  apicWritten = 0;
  // ---- a deferred exit (VM_EXIT_DEFERRED) ----
  defKind: Deferred = Deferred.None;
  defReason = 0;
  defQual = 0;
  defVector = 0;
  defIdtInfo = 0;
  defIdtErr = 0;
  // ---- INIT and SIPI (§25.2, §23.8) ----
  initPending = false;
  sipiVector = -1;
  // ---- VMX-preemption timer (§25.5.1; preemptionTimer.ts) ----
  timerActive = false;
  /** Value loaded at entry, the TSC then, and the rate X (the timer counts when TSC bit X changes). */
  timerValue = 0;
  timerStartTsc = 0;
  timerShift = 0;
}

const STATES = new WeakMap<VmxEngine, EventState>();

export function eventState(engine: VmxEngine): EventState {
  let s = STATES.get(engine);
  if (s === undefined) {
    s = new EventState();
    STATES.set(engine, s);
  }
  return s;
}

/** The current VMCS of non-root operation. */
export function vmcsOf(engine: VmxEngine): Vmcs {
  const v = engine.current;
  if (v === null) throw new Error('internal: VMX non-root operation without a current VMCS');
  return v;
}

/** The activity state the guest is in (§24.4.2), as VM exits save it. */
export function guestActivity(c: Cpu, st: EventState): number {
  if (st.activity >= Activity.Shutdown) return st.activity;
  return c.halted ? Activity.Hlt : Activity.Active;
}

/** The engine's exit door (engine.ts `exit`, contract A; performVmExit of vmExit.ts). */
interface ExitDoor {
  exit(reason: number, qualLo: number, qualHi: number, insnLen: number, insnInfo: number, ripLo: number, ripHi: number): void;
}

/** Hook for eventExits.ts: save the event state into the VMCS and reset it (set by eventExits.ts). */
export const onExit: { save: (engine: VmxEngine) => void } = { save: () => {} };

/**
 * Perform an event-caused VM exit (SDM vol. 3C chapter 27): the engine records reason,
 * qualification, instruction length and guest RIP, saves guest state and loads host state;
 * then the VM-exit interruption information/error code (§27.2.2) and the IDT-vectoring
 * information/error code (§27.2.4) are written — 0 (valid bit clear) when not given, as the SDM
 * requires for exits that do not report them. Sets `cpu.exitTaken` for the run loop.
 */
export function takeExit(
  engine: VmxEngine, reason: number, qualLo: number, qualHi: number, insnLen: number,
  ripLo: number, ripHi: number, intInfo: number, intErr: number, idtInfo: number, idtErr: number,
): void {
  const c = engine.cpu;
  const st = eventState(engine);
  st.vecInfo = 0;
  (engine as unknown as ExitDoor).exit(reason, qualLo, qualHi, insnLen, 0, ripLo, ripHi);
  const v = engine.current;
  if (v !== null) {
    // Exit information is the processor's output, not a VMWRITE: no write epoch (vmcs.ts).
    const lo = v.lo;
    lo[I_EXIT_INT_INFO] = intInfo;
    if ((intInfo & INFO_EC) !== 0) lo[I_EXIT_INT_ERR] = intErr;
    lo[I_IDT_INFO] = idtInfo;
    if ((idtInfo & INFO_EC) !== 0) lo[I_IDT_ERR] = idtErr;
  }
  // The event state is saved (activity, timer) once per exit: here if performVmExit did not.
  onExit.save(engine);
  c.exitTaken = true;
  // The run loop looks at `exitTaken` after serviceEvents; an exit taken outside `run` (during
  // VM-entry injection) is reported by the next call.
  c.eventPending = true;
}
