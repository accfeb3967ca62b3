/**
 * The instruction boundary (SDM vol. 3A §6.9): what the run loop services between blocks while
 * `c.eventPending` is set — RF, the single-step and data-breakpoint traps of the previous
 * instruction, NMI, maskable interrupts and instruction breakpoints, in the priority of table
 * 6-2, each delivered through interrupts.ts `deliverEvent`. See interrupts.ts for the rules of
 * the interrupt shadow and VMX non-root operation.
 */
import type { Cpu } from './cpu';
import { Vector } from './exceptions';
import { Flag } from './registers';
import { codeBreakpointNear, codeBreakpoints } from './debugRegs';
import { deliverEvent, EventKind } from './interrupts';

/**
 * RF (loaded by IRET) is cleared once the next instruction completes (SDM vol. 3B §17.3.1.1):
 * called at each boundary while `c.rfPending`; true when that instruction is still to run
 * (exactly one instruction runs next), false once RF is cleared. Also VMX non-root operation's
 * boundary (src/vmx/eventExitBoundary.ts).
 */
export function retireRf(c: Cpu): boolean {
  if (c.rfArmed) {
    c.rfPending = false;
    c.rfArmed = false;
    c.flagsRest &= ~Flag.RF;
    return false;
  }
  c.rfArmed = true;
  return true;
}

/** Raise NMI (the platform's NMI line; SDM vol. 3A §6.7). */
export function raiseNmi(c: Cpu): void {
  c.nmiPending = true;
  c.eventPending = true;
}

/**
 * Between blocks while `c.eventPending` is set. Returns true when the run loop must execute
 * exactly one instruction and call again (single-stepping, the interrupt-shadow window, RF).
 * Priority (SDM vol. 3A §6.9, table 6-2): single-step trap of the previous instruction, NMI,
 * maskable interrupt. Several events may be delivered at one boundary (a trap-gate handler can
 * be interrupted before its first instruction), bounded by the loop.
 */
export function serviceEvents(c: Cpu): boolean {
  // VMX non-root operation: windows, MTF, preemption timer, exiting controls (§25.2, §25.5).
  if (c.nonRoot) return c.vmxEvents!.betweenInstructions(c);
  c.eventPending = false;
  const shadow = c.interruptShadow;
  c.interruptShadow = false;
  let one = false;
  if (c.rfPending && retireRf(c)) one = true;
  for (let n = 0; n < 6 && !c.inShutdown; n++) {
    if (c.stepArmed || c.dbgHits !== 0) {
      if (shadow) {
        // A MOV SS / POP SS shadow defers the single-step and data-breakpoint traps past the
        // next instruction (SDM vol. 3A §6.8.3).
        c.eventPending = true;
        return true;
      }
      // One #DB reports the single-step (BS), the data/I/O breakpoints (B0-B3) the previous
      // instruction met and a task switch to a TSS with T = 1 (BT) (SDM vol. 3B §18.3.1.2,
      // §18.3.1.4, §18.3.1.5; debugRegs.ts).
      c.dr6 = (c.dr6 | (c.stepArmed ? 0x4000 : 0) | (c.dbgHits & 0x800f)) >>> 0;
      c.stepArmed = false;
      c.dbgHits = 0;
      deliverEvent(c, Vector.DB, undefined, EventKind.Exception, c.ripLo, c.ripHi);
      continue;
    }
    if (shadow) break;
    if (c.nmiPending && !c.nmiBlocked) {
      c.nmiPending = false;
      c.nmiBlocked = true;
      deliverEvent(c, Vector.NMI, undefined, EventKind.External, c.ripLo, c.ripHi);
      continue;
    }
    const intr = c.intr;
    if (intr !== null) {
      const v = intr.pendingVector();
      if (v >= 0) {
        if (c.flagsRest & Flag.IF) {
          intr.acknowledge(v);
          deliverEvent(c, v, undefined, EventKind.External, c.ripLo, c.ripHi);
          continue;
        }
        // Pending but masked by IF: look again after the next block (POPF may set IF).
        c.eventPending = true;
      }
    }
    if (c.dbgCode !== 0 && !c.halted) {
      // Instruction breakpoints: a fault before the instruction at CS:RIP executes, lowest in
      // priority (SDM vol. 3A §6.9 table 6-2; vol. 3B §18.3.1.1).
      const hit = codeBreakpoints(c);
      if (hit !== 0) {
        c.dr6 = (c.dr6 | hit) >>> 0;
        deliverEvent(c, Vector.DB, undefined, EventKind.Exception, c.ripLo, c.ripHi);
        continue;
      }
    }
    break;
  }
  if (c.inShutdown) return false;
  if (shadow) {
    c.eventPending = true;
    one = true;
  }
  if ((c.flagsRest & Flag.TF) !== 0 && !c.halted) {
    // The next instruction starts with TF set: it traps when it completes.
    c.stepArmed = true;
    c.eventPending = true;
    one = true;
  }
  if (c.debugActive) {
    // Enabled breakpoints (debugRegs.ts): look again at the next boundary. Data breakpoints
    // need a look after every instruction; instruction breakpoints only while the block about
    // to run can reach one (I/O instructions end their block anyway).
    c.eventPending = true;
    if (c.dbgWatch !== 0 || (c.dbgCode !== 0 && codeBreakpointNear(c))) one = true;
  }
  if (one) c.eventPending = true;
  return one;
}
