/**
 * VM entry after the checks of §26.2 passed (SDM vol. 3C chapter 26; engine.ts runs the
 * VMLAUNCH/VMRESUME checks and §26.2 first, then calls `enterGuest`):
 *   1. the VM-execution, VM-exit and VM-entry controls of this entry are decoded into the engine
 *      (engine.pin/proc/proc2/exitCtls/entryCtls/exceptionBitmap; proc2 is 0 unless "activate
 *      secondary controls" is 1) — they cannot change until the next VM exit;
 *   2. §26.3.1 guest-state checks (entryChecks.ts) — a failure is a VM-entry failure (§26.8) with
 *      exit reason 33 and the checks' qualification;
 *   3. §26.3.2 loading guest state (vmEntryLoad.ts);
 *   4. §26.4 the VM-entry MSR-load area (msrAreas.ts) — a failure is a VM-entry failure with exit
 *      reason 34, qualification = the failing entry's number from 1;
 *   5. the launch state becomes "launched" (VMLAUNCH), the processor enters non-root operation,
 *      the TLB switches to the guest's context (§26.3.2.5 / §28.3.3.3: ept.ts eptOnVmEntry:
 *      nothing is invalidated with VPID on, the VPID-0 mappings are with VPID off);
 *   6. §26.6-26.7 activity state, timer, MTF and event injection (injection.ts).
 * A failed entry (§26.8) returns { kind: 'exitOnEntry', reason } with the full exit reason (bit 31
 * set) as recorded in the VMCS; the processor is then back in the host state.
 */
import type { VmEntryOutcome, VmxEngine } from './engine';
// engine.ts imports this file; ENTERED is only read when enterGuest runs, after both loaded.
import { ENTERED } from './engine';
import { checkGuestState } from './entryChecks';
import { eptOnVmEntry } from './ept';
import { loadGuestState } from './vmEntryLoad';
import { areaAddress, loadMsrArea } from './msrAreas';
import { injectOnEntry } from './injection';
import { entryFailure } from './vmExit';
import {
  I_ENTRY_CTLS, I_ENTRY_MSR_LOAD_ADDR, I_ENTRY_MSR_LOAD_COUNT, I_EXC_BITMAP, I_EXIT_CTLS, I_PIN, I_PROC, I_PROC2,
  PROC_SECONDARY, transitionState,
} from './vmExitFields';

/** Basic exit reasons of a VM-entry failure (appendix C). */
export const ENTRY_FAIL_GUEST_STATE = 33;
export const ENTRY_FAIL_MSR_LOADING = 34;

export function enterGuest(engine: VmxEngine, launch: boolean): VmEntryOutcome {
  const v = engine.current;
  const c = engine.cpu;
  if (v === null) throw new Error('internal: VM entry without a current VMCS');
  const lo = v.lo;
  // ---- 1. controls of this entry ----
  engine.pin = lo[I_PIN];
  const proc = lo[I_PROC];
  engine.proc = proc;
  engine.proc2 = (proc & PROC_SECONDARY) !== 0 ? lo[I_PROC2] : 0;
  engine.exitCtls = lo[I_EXIT_CTLS];
  engine.entryCtls = lo[I_ENTRY_CTLS];
  engine.exceptionBitmap = lo[I_EXC_BITMAP];
  const nmiBefore = c.nmiBlocked;
  // ---- 2. §26.3.1 ----
  const g = checkGuestState(engine);
  if (g !== null) {
    entryFailure(engine, ENTRY_FAIL_GUEST_STATE, g.qualification, nmiBefore);
    return { kind: 'exitOnEntry', reason: (ENTRY_FAIL_GUEST_STATE | 0x80000000) >>> 0, check: g.check };
  }
  // ---- 3. §26.3.2 ----
  loadGuestState(engine, v, transitionState(engine));
  // ---- 4. §26.4 ----
  const count = lo[I_ENTRY_MSR_LOAD_COUNT];
  if (count !== 0) {
    const bad = loadMsrArea(c, engine.phys, areaAddress(lo[I_ENTRY_MSR_LOAD_ADDR], v.hi[I_ENTRY_MSR_LOAD_ADDR]), count >>> 0);
    if (bad !== 0) {
      entryFailure(engine, ENTRY_FAIL_MSR_LOADING, bad, nmiBefore);
      return { kind: 'exitOnEntry', reason: (ENTRY_FAIL_MSR_LOADING | 0x80000000) >>> 0, check: `26.4 VM-entry MSR-load area entry ${bad}` };
    }
  }
  // ---- 5. ----
  if (launch) v.launched = true;
  engine.entries++;
  c.nonRoot = true;
  c.halted = false;
  eptOnVmEntry(engine);
  // ---- 6. §26.6-26.7 ----
  injectOnEntry(engine, v);
  return ENTERED;
}
