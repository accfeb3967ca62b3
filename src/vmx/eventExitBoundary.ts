/**
 * Instruction boundaries in VMX non-root operation (EventExitHooks.betweenInstructions; the
 * processor's serviceEvents for the guest). Priority on one boundary (SDM vol. 3A §6.9 table
 * 6-2 with the VMX events of vol. 3C §25.2 and §25.5.2):
 *   0. APIC-write emulation of the instruction that completed, when it virtualized a write to the
 *      APIC-access page (`apicWritten`, ept.ts; §29.4.3.2: before SMIs, INIT and lower events):
 *      VTPR bytes 3:1 cleared and TPR virtualization, whose "TPR below threshold" exit (43) is
 *      trap-like (RIP of the next instruction; instruction length undefined, written 0);
 *   1. INIT (exit 3; blocked in wait-for-SIPI) and SIPI in wait-for-SIPI (exit 4, qualification
 *      = vector; discarded in other states, §26.7.2);
 *   2. a pending MTF VM exit (37; not in shutdown or wait-for-SIPI, §25.5.2);
 *   3. debug traps of the previous instruction (single-step, data/I/O breakpoints): #DB, which
 *      the exception bitmap may turn into exit 0 with DR6-format qualification (§27.2.1);
 *   4. VMX-preemption timer at zero (52; not in wait-for-SIPI);
 *   5. NMI window (8): no virtual-NMI blocking and no STI/MOV-SS blocking (the SDM lets STI
 *      blocking prevent it; this model does);
 *   6. NMI: "NMI exiting" → exit 0 (type 2, vector 2), unless blocked by NMI without virtual
 *      NMIs; NMIs are not blocked by STI/MOV SS when they exit (implementation choice §25.4.1);
 *      otherwise delivered through the IDT when nothing blocks it (NMI blocking set first);
 *   7. interrupt window (7): RFLAGS.IF = 1, no STI/MOV-SS blocking, active or HLT;
 *   8. external interrupts: "external-interrupt exiting" → exit 1 whatever RFLAGS.IF and the
 *      interrupt shadow (§25.4.1; acknowledged with the vector recorded when "acknowledge
 *      interrupt on exit" is 1, otherwise left pending with the information field invalid);
 *      otherwise delivered when IF = 1 and no shadow; blocked in shutdown and wait-for-SIPI;
 *   9. instruction breakpoints (faults, lowest).
 * Exits from HLT save activity state HLT (the return to active follows the exit, §27.1).
 * The wait-for-SIPI state blocks external interrupts, NMIs, INIT and the windows; shutdown
 * blocks external interrupts, the interrupt window and MTF (§26.7.2).
 */
import type { Cpu } from '../x86/cpu';
import { codeBreakpointNear, codeBreakpoints } from '../x86/debugRegs';
import { Vector } from '../x86/exceptions';
import { EventKind } from '../x86/interrupts';
import { retireRf } from '../x86/eventBoundary';
import { Flag } from '../x86/registers';
import type { VmxEngine } from './engine';
import {
  Activity, EXIT_ACK_INT, EXIT_EXCEPTION_NMI, EXIT_EXTERNAL_INTERRUPT, EXIT_INIT, EXIT_INTERRUPT_WINDOW,
  EXIT_MTF, EXIT_NMI_WINDOW, EXIT_PREEMPTION_TIMER, EXIT_SIPI, PIN_EXT_INT, PIN_NMI, PIN_VIRTUAL_NMIS,
  PROC_INT_WINDOW, PROC_NMI_WINDOW, eventState, interruptionInfo, takeExit,
} from './eventExitCore';
import type { EventState } from './eventExitCore';
import { deliverVmx, exceptionExits } from './eventExitDelivery';
import { timerExpired, updateDeadline } from './preemptionTimer';
import { Exit } from './exitReasons';
import { apicWriteEmulation } from './insnExitCr';

/** Qualification bits of a #DB exit (§27.2.1 table 27-1): B3-B0, BD, BS (BT is not reported). */
const DB_QUAL_MASK = 0x600f;

/** Shadow (STI / MOV-SS blocking) of the boundary being serviced: an exit saves it (§27.3.4). */
let boundaryShadow = false;

function exitHere(engine: VmxEngine, c: Cpu, reason: number, qual: number, info: number): void {
  c.interruptShadow = boundaryShadow;
  takeExit(engine, reason, qual, 0, 0, c.ripLo, c.ripHi, info, 0, 0, 0);
}

/** EventExitHooks.betweenInstructions. Returns true when exactly one instruction must run next. */
export function betweenInstructionsVmx(engine: VmxEngine, c: Cpu): boolean {
  const st = eventState(engine);
  c.eventPending = false;
  st.iretUnblocked = false;
  const shadow = c.interruptShadow;
  c.interruptShadow = false;
  boundaryShadow = shadow;
  let one = false;
  if (c.rfPending && retireRf(c)) one = true;
  if (st.apicWritten !== 0) {
    st.apicWritten = 0;
    if (apicWriteEmulation(engine)) {
      exitHere(engine, c, Exit.TprBelowThreshold, 0, 0);
      return false;
    }
  }
  const pin = engine.pin, proc = engine.proc;
  for (let n = 0; n < 6; n++) {
    const act = st.activity >= Activity.Shutdown ? st.activity : c.halted ? Activity.Hlt : Activity.Active;
    // ---- 1. INIT, SIPI ----
    if (st.initPending && act !== Activity.WaitForSipi) {
      // INIT exits unconditionally (§25.2); no state is changed and nothing pending is cleared.
      st.initPending = false;
      exitHere(engine, c, EXIT_INIT, 0, 0);
      return false;
    }
    if (st.sipiVector >= 0) {
      const vec = st.sipiVector;
      st.sipiVector = -1;
      if (act === Activity.WaitForSipi) {
        exitHere(engine, c, EXIT_SIPI, vec, 0);
        return false;
      }
    }
    if (act === Activity.WaitForSipi) break;
    // ---- 2. MTF ----
    if (st.mtf === 1 && act !== Activity.Shutdown) {
      st.mtf = 0;
      exitHere(engine, c, EXIT_MTF, 0, 0);
      return false;
    }
    // ---- 3. debug traps of the previous instruction ----
    if (c.stepArmed || c.dbgHits !== 0) {
      if (shadow) {
        // MOV SS / POP SS blocking defers them past the next instruction (vol. 3A §6.8.3).
        c.eventPending = true;
        return true;
      }
      const bits = (c.stepArmed ? 0x4000 : 0) | (c.dbgHits & 0x800f);
      c.stepArmed = false;
      c.dbgHits = 0;
      if (exceptionExits(engine, Vector.DB, 0)) {
        // DR6 is not updated; the qualification reports the conditions (§27.1, §27.2.1).
        exitHere(engine, c, EXIT_EXCEPTION_NMI, bits & DB_QUAL_MASK, interruptionInfo(Vector.DB, 3, false));
        return false;
      }
      c.dr6 = (c.dr6 | bits) >>> 0;
      deliverVmx(engine, c, Vector.DB, undefined, EventKind.Exception, c.ripLo, c.ripHi, null, 3, 0);
      if (c.exitTaken) return false;
      boundaryShadow = false;
      continue;
    }
    // ---- 4. preemption timer ----
    if (timerExpired(c, st)) {
      exitHere(engine, c, EXIT_PREEMPTION_TIMER, 0, 0);
      return false;
    }
    // ---- 5. NMI window ----
    if ((proc & PROC_NMI_WINDOW) !== 0 && !c.nmiBlocked && !shadow) {
      exitHere(engine, c, EXIT_NMI_WINDOW, 0, 0);
      return false;
    }
    // ---- 6. NMI ----
    if (c.nmiPending) {
      if ((pin & PIN_NMI) !== 0) {
        if ((pin & PIN_VIRTUAL_NMIS) !== 0 || !c.nmiBlocked) {
          c.nmiPending = false;
          exitHere(engine, c, EXIT_EXCEPTION_NMI, 0, interruptionInfo(Vector.NMI, 2, false));
          // An NMI that exits blocks NMIs after the exit (§27.5.5 non-register state).
          c.nmiBlocked = true;
          return false;
        }
      } else if (!c.nmiBlocked && !shadow) {
        c.nmiPending = false;
        c.nmiBlocked = true;
        deliverVmx(engine, c, Vector.NMI, undefined, EventKind.External, c.ripLo, c.ripHi, null, 2, 0);
        if (c.exitTaken) return false;
        boundaryShadow = false;
        continue;
      }
    }
    // ---- 7. interrupt window ----
    const ifSet = (c.flagsRest & Flag.IF) !== 0;
    if ((proc & PROC_INT_WINDOW) !== 0 && ifSet && !shadow && act !== Activity.Shutdown) {
      exitHere(engine, c, EXIT_INTERRUPT_WINDOW, 0, 0);
      return false;
    }
    // ---- 8. external interrupts ----
    const intr = c.intr;
    if (intr !== null && act !== Activity.Shutdown) {
      const v = intr.pendingVector();
      if (v >= 0) {
        if ((pin & PIN_EXT_INT) !== 0) {
          let info = 0;
          if ((engine.exitCtls & EXIT_ACK_INT) !== 0) {
            intr.acknowledge(v);
            info = interruptionInfo(v, 0, false);
          }
          exitHere(engine, c, EXIT_EXTERNAL_INTERRUPT, 0, info);
          return false;
        }
        if (ifSet && !shadow) {
          intr.acknowledge(v);
          deliverVmx(engine, c, v, undefined, EventKind.External, c.ripLo, c.ripHi, null, 0, 0);
          if (c.exitTaken) return false;
          boundaryShadow = false;
          continue;
        }
        // Masked by IF: look again after the next block (POPF may set IF).
        c.eventPending = true;
      }
    }
    // ---- 9. instruction breakpoints ----
    if (c.dbgCode !== 0 && !c.halted && !shadow) {
      const hit = codeBreakpoints(c);
      if (hit !== 0) {
        st.dbQual = hit & DB_QUAL_MASK;
        if (!exceptionExits(engine, Vector.DB, 0)) c.dr6 = (c.dr6 | hit) >>> 0;
        deliverVmx(engine, c, Vector.DB, undefined, EventKind.Exception, c.ripLo, c.ripHi, null, 3, 0);
        st.dbQual = -1;
        if (c.exitTaken) return false;
        boundaryShadow = false;
        continue;
      }
    }
    break;
  }
  return schedule(engine, st, c, shadow, one);
}

/** When to look again: the next boundary (one instruction), the timer deadline, or when something is raised. */
function schedule(engine: VmxEngine, st: EventState, c: Cpu, shadow: boolean, stepOne: boolean): boolean {
  let one = stepOne;
  updateDeadline(c, st);
  if (shadow) one = true;
  if ((c.flagsRest & Flag.TF) !== 0 && !c.halted) {
    c.stepArmed = true;
    one = true;
  }
  if (c.debugActive) {
    c.eventPending = true;
    if (c.dbgWatch !== 0 || (c.dbgCode !== 0 && codeBreakpointNear(c))) one = true;
  }
  if (st.mtf === 2 && !c.halted) {
    // The next instruction is the one MTF steps over (§25.5.2).
    st.mtf = 1;
    one = true;
  }
  // Waiting for the interrupt window with IF = 0: POPF can open it in the middle of a block.
  if ((engine.proc & PROC_INT_WINDOW) !== 0 && (c.flagsRest & Flag.IF) === 0 && !c.halted) one = true;
  // A halted guest re-checks on every run (timer, signals; §25.5.1: the timer counts in HLT).
  if (c.halted || st.initPending || st.sipiVector >= 0) c.eventPending = true;
  if (one) c.eventPending = true;
  return one;
}
