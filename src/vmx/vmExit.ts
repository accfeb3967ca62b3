/**
 * VM exits (SDM vol. 3C chapter 27), performed by `performVmExit` — the engine's `exit`:
 *   §27.2 record the exit information: exit reason, exit qualification, instruction length and
 *     information; VM-exit interruption information and IDT-vectoring information from
 *     `setExitExtra` when the caller gave them, else written with the valid bit 0 (the SDM's
 *     value for exits that do not report them; their error codes are then undefined and left
 *     alone, as are the guest-linear and guest-physical address fields, which the callers that
 *     report them write before calling). The valid bit of the VM-entry interruption-information
 *     field is cleared (§24.8.3).
 *   §27.3 save guest state (vmExitSave.ts), §27.4 the MSR-store area, §27.5 load host state
 *     (hostState.ts), §27.6 the VM-exit MSR-load area; a failure in 27.4-27.6 is a VMX abort
 *     (§27.7).
 * It only changes state: the caller then throws VM_EXIT (an op) or returns true / sets
 * cpu.exitTaken (between instructions). No allocation on this path.
 *
 * `entryFailure` is the §26.8 path of a VM entry that fails during or after loading guest state.
 */
import type { VmxEngine } from './engine';
import type { Vmcs } from './vmcs';
import { areaAddress, loadMsrArea, storeMsrArea } from './msrAreas';
import { Abort, loadHostState, vmxAbort } from './hostState';
import { saveGuestState } from './vmExitSave';
import {
  I_ENTRY_INT_INFO, I_EXIT_INSN_INFO, I_EXIT_INSN_LEN, I_EXIT_INT_ERR, I_EXIT_INT_INFO, I_EXIT_MSR_LOAD_ADDR,
  I_EXIT_MSR_LOAD_COUNT, I_EXIT_MSR_STORE_ADDR, I_EXIT_MSR_STORE_COUNT, I_EXIT_QUAL, I_EXIT_REASON, I_IDT_ERR,
  I_IDT_INFO, transitionState,
} from './vmExitFields';
import type { TransitionState } from './vmExitFields';

const INFO_EC = 0x800;

/**
 * The exit-information fields an exit reports besides reason, qualification, length and
 * instruction information (§27.2.2, §27.2.4): VM-exit interruption information and error code,
 * IDT-vectoring information and error code. Given before `engine.exit(...)`; consumed by it.
 * (Guest-linear and guest-physical addresses are written into the VMCS directly by the callers.)
 */
export function setExitExtra(engine: VmxEngine, intInfo: number, intErr: number, idtInfo: number, idtErr: number): void {
  const st = transitionState(engine);
  st.extraSet = true;
  st.extraIntInfo = intInfo | 0;
  st.extraIntErr = intErr | 0;
  st.extraIdtInfo = idtInfo | 0;
  st.extraIdtErr = idtErr | 0;
}

/** Perform a VM exit (see the file comment). `reason` may carry bit 31 only through entryFailure. */
export function performVmExit(
  engine: VmxEngine, reason: number, qualLo: number, qualHi: number, insnLen: number, insnInfo: number,
  ripLo: number, ripHi: number,
): void {
  const v = engine.current;
  const c = engine.cpu;
  if (v === null || !c.nonRoot) throw new Error('internal: VM exit outside VMX non-root operation');
  const st = transitionState(engine);
  const lo = v.lo, hi = v.hi;
  // ---- §27.2 exit information ----
  // Bits 30:16 carry flags of other features (none modelled); bit 31 only through entryFailure.
  lo[I_EXIT_REASON] = reason & 0x7fffffff;
  lo[I_EXIT_QUAL] = qualLo;
  hi[I_EXIT_QUAL] = qualHi;
  lo[I_EXIT_INSN_LEN] = insnLen;
  lo[I_EXIT_INSN_INFO] = insnInfo;
  if (st.extraSet) {
    st.extraSet = false;
    lo[I_EXIT_INT_INFO] = st.extraIntInfo;
    if ((st.extraIntInfo & INFO_EC) !== 0) lo[I_EXIT_INT_ERR] = st.extraIntErr;
    lo[I_IDT_INFO] = st.extraIdtInfo;
    if ((st.extraIdtInfo & INFO_EC) !== 0) lo[I_IDT_ERR] = st.extraIdtErr;
  } else {
    lo[I_EXIT_INT_INFO] = 0;
    lo[I_IDT_INFO] = 0;
  }
  lo[I_ENTRY_INT_INFO] &= 0x7fffffff;
  // ---- §27.3 guest state ----
  saveGuestState(engine, v, st, reason, ripLo, ripHi);
  // ---- §27.4 MSR-store area ----
  const storeCount = lo[I_EXIT_MSR_STORE_COUNT];
  if (storeCount !== 0) {
    if (storeMsrArea(c, engine.phys, areaAddress(lo[I_EXIT_MSR_STORE_ADDR], hi[I_EXIT_MSR_STORE_ADDR]), storeCount >>> 0) !== 0) {
      vmxAbort(engine, v, Abort.MsrStore);
      return;
    }
  }
  c.nonRoot = false;
  // ---- §27.5 host state, §27.6 MSR-load area ----
  returnToHost(engine, v, st, true);
  if (engine.observers.length !== 0 && !c.inShutdown) engine.notifyVmExit(reason & 0x7fffffff);
}

/** §27.5 and §27.6 (also the end of a VM-entry failure, §26.8 steps 2-4). */
function returnToHost(engine: VmxEngine, v: Vmcs, st: TransitionState, sysenterSaved: boolean): void {
  const c = engine.cpu;
  const a = loadHostState(engine, v, st, sysenterSaved);
  if (a !== 0) {
    vmxAbort(engine, v, a);
    return;
  }
  const count = v.lo[I_EXIT_MSR_LOAD_COUNT];
  if (count !== 0) {
    const addr = areaAddress(v.lo[I_EXIT_MSR_LOAD_ADDR], v.hi[I_EXIT_MSR_LOAD_ADDR]);
    if (loadMsrArea(c, engine.phys, addr, count >>> 0) !== 0) vmxAbort(engine, v, Abort.MsrLoad);
  }
}

/**
 * A VM entry that failed during or after loading guest state (§26.8): exit reason `basic` (33
 * invalid guest state, 34 MSR loading) with bit 31 set and the exit qualification — every other
 * exit-information field, the guest-state area and the VM-entry interruption-information field
 * unchanged, no MSR-store — then host state and the VM-exit MSR-load area as for a VM exit. NMI
 * blocking is what it was before the entry (`nmiBlocked`).
 */
export function entryFailure(engine: VmxEngine, basic: number, qualification: number, nmiBlocked: boolean): void {
  const v = engine.current!;
  const c = engine.cpu;
  const st = transitionState(engine);
  v.lo[I_EXIT_REASON] = (basic & 0xffff) | 0x80000000;
  v.lo[I_EXIT_QUAL] = qualification;
  v.hi[I_EXIT_QUAL] = 0;
  c.nonRoot = false;
  st.virtualNmis = false;
  returnToHost(engine, v, st, false);
  c.nmiBlocked = nmiBlocked;
  if (engine.observers.length !== 0 && !c.inShutdown) engine.notifyVmExit(((basic & 0xffff) | 0x80000000) >>> 0);
}
