/**
 * The VM-entry checks of SDM vol. 3C §26.2 (VMX controls and host-state area: VMfailValid 7 or
 * 8) and §26.3.1 (guest-state area: VM-entry failure, exit reason 33), as the engine calls them:
 *   checkControlsAndHost(engine)  §26.2.1 then §26.2.2-§26.2.4   → { error: 7 | 8, check } | null
 *   checkGuestState(engine)       §26.3.1.1-§26.3.1.6            → { qualification, check } | null
 * The checks themselves are in entryChecksControls.ts, entryChecksHost.ts, entryChecksGuest.ts.
 *
 * Speed (issue 4: "entry checks are re-run only when a field they read has changed"): per Vmcs
 * object we keep the write epochs (vmcs.writeEpoch, per field group) at the last passing run.
 * On the next entry:
 *   - epochs unchanged: only the checks that read memory run (VTPR, VMCS link pointer, PDPTEs
 *     without EPT), since memory can change without a VMWRITE;
 *   - only "fast" fields were written — the event-injection fields, the guest's RIP, RSP,
 *     RFLAGS (VM bit unchanged), interruptibility, activity state, pending debug exceptions,
 *     preemption-timer value (what a host changes between a VM exit and VMRESUME): only the
 *     checks that read those fields run (§26.2.1.3 injection, §26.3.1.4, §26.3.1.5);
 *   - otherwise every check runs in order.
 * "Only fast fields were written" is decided from per-field write counters when the Vmcs keeps
 * them (`fieldWrites`, O(number of fast fields)).
 * A partial run that finds a failure is followed by a full run, so the reported check is always
 * the first in the SDM's order: results never depend on the cache (every test case compares the
 * cached entry points with `checkAllUncached`).
 *
 * The guest state a VM exit saves (vmExitSave.ts) is written without counting as a write: it
 * is the processor's own state, which passes the checks (the processor cannot reach a state
 * they reject), so it needs no re-check. Capability MSRs are read on every full run and assumed
 * constant in between (they are read-only).
 */
import type { VmxEngine } from './engine';
import type { Vmcs } from './vmcs';
import { GROUP_OF_INDEX } from './vmcs';
import { FIELD_COUNT, fieldIndex } from './fields';
import { CheckCaps, readCaps } from './entryChecksCommon';
import { checkControls, checkControlsMemory, checkInjection } from './entryChecksControls';
import { checkHost } from './entryChecksHost';
import {
  checkGuestFields, checkLinkPointer, checkNonRegister, checkPdptes, checkRipRflags, guestQualification,
  resetGuestQualification,
} from './entryChecksGuest';

export interface ControlHostFailure { error: 7 | 8; check: string }
export interface GuestStateFailure { qualification: number; check: string }

/** Counters of full and partial runs (tests and the bench's profile). */
export const entryCheckStats = {
  controlsHostFull: 0, controlsHostPartial: 0, controlsHostCached: 0,
  guestFull: 0, guestPartial: 0, guestCached: 0,
};

const EFER_LMA = 1 << 10;
const I_GUEST_CR0 = fieldIndex('GUEST_CR0');
const I_GUEST_RFLAGS = fieldIndex('GUEST_RFLAGS');

function indicesOfGroup(g: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < FIELD_COUNT; i++) if (GROUP_OF_INDEX[i] === g) out.push(i);
  return Int32Array.from(out);
}
const CTL_FIELDS = indicesOfGroup(0);
const GUEST_FIELDS = indicesOfGroup(2);

/** Control fields a host typically rewrites before VMRESUME: the event-injection fields. */
const CTL_FAST = Int32Array.from(['VM_ENTRY_INTERRUPTION_INFORMATION', 'VM_ENTRY_EXCEPTION_ERROR_CODE', 'VM_ENTRY_INSTRUCTION_LENGTH'].map(fieldIndex));
/** Guest fields whose checks are only §26.3.1.4 and §26.3.1.5 (RFLAGS only while VM stays). */
const GUEST_FAST = Int32Array.from([
  'GUEST_RIP', 'GUEST_RSP', 'GUEST_RFLAGS', 'GUEST_INTERRUPTIBILITY_STATE', 'GUEST_ACTIVITY_STATE',
  'GUEST_PENDING_DEBUG_EXCEPTIONS', 'VMX_PREEMPTION_TIMER_VALUE',
].map(fieldIndex));

function maskOf(list: Int32Array): Uint8Array {
  const m = new Uint8Array(FIELD_COUNT);
  for (const i of list) m[i] = 1;
  return m;
}
const CTL_FAST_MASK = maskOf(CTL_FAST);
const GUEST_FAST_MASK = maskOf(GUEST_FAST);

/**
 * "Only fast fields were written since the last pass" is one comparison of sums: the Vmcs
 * counts writes per field (`fieldWrites[i]`, incremented by set32/set64 together with
 * `writeEpoch[group]`; the processor's own saves on VM exit do not count).
 */
function sumWrites(w: Uint32Array, list: Int32Array): number {
  let s = 0;
  for (let k = 0; k < list.length; k++) s += w[list[k]];
  return s;
}

/** What passed for one group of fields: its write epoch and its fast fields' write sum. */
class GroupPass {
  epoch = 0;
  fastWrites = 0;
  constructor(readonly group: number, readonly fast: Int32Array, _fields: Int32Array, readonly mask: Uint8Array) {}
  record(v: Vmcs): void {
    this.epoch = v.writeEpoch[this.group];
    this.fastWrites = sumWrites(v.fieldWrites, this.fast);
  }
  recordFast(v: Vmcs): void {
    this.record(v);
  }
  unchanged(v: Vmcs): boolean {
    return v.writeEpoch[this.group] === this.epoch;
  }
  /** Since the pass, only fast fields were written. */
  onlyFast(v: Vmcs): boolean {
    return v.writeEpoch[this.group] - this.epoch === sumWrites(v.fieldWrites, this.fast) - this.fastWrites;
  }
}

class CheckCache {
  readonly caps = new CheckCaps();
  // checkControlsAndHost
  chValid = false;
  chHostEpoch = 0;
  chIa32e = false;
  chGuestPe = 0;
  readonly chCtl = new GroupPass(0, CTL_FAST, CTL_FIELDS, CTL_FAST_MASK);
  // checkGuestState
  gValid = false;
  gVm = 0;
  readonly gCtl = new GroupPass(0, CTL_FAST, CTL_FIELDS, CTL_FAST_MASK);
  readonly gGuest = new GroupPass(2, GUEST_FAST, GUEST_FIELDS, GUEST_FAST_MASK);
  constructor(readonly engine: VmxEngine) {}
}

const caches = new WeakMap<Vmcs, CheckCache>();
let lastVmcs: Vmcs | null = null;
let lastCache: CheckCache | null = null;

function cacheOf(engine: VmxEngine, v: Vmcs): CheckCache {
  if (v === lastVmcs && lastCache !== null && lastCache.engine === engine) return lastCache;
  let c = caches.get(v);
  if (c === undefined || c.engine !== engine) {
    c = new CheckCache(engine);
    caches.set(v, c);
  }
  lastVmcs = v;
  lastCache = c;
  return c;
}

function currentOf(engine: VmxEngine): Vmcs {
  const v = engine.current;
  if (v === null) throw new Error('internal: VM-entry checks without a current VMCS');
  return v;
}

/** Forget what passed for `v` (the next entry runs every check). */
export function invalidateEntryChecks(v: Vmcs): void {
  caches.delete(v);
  if (lastVmcs === v) {
    lastVmcs = null;
    lastCache = null;
  }
}

const fail78 = (error: 7 | 8, check: string): ControlHostFailure => ({ error, check });

function fullControlsAndHost(engine: VmxEngine, v: Vmcs, c: CheckCache, ia32e: boolean): ControlHostFailure | null {
  entryCheckStats.controlsHostFull++;
  c.chValid = false;
  readCaps(engine.cpu, c.caps);
  const ctl = checkControls(c.caps, v.lo, v.hi, engine.phys);
  if (ctl !== null) return fail78(7, ctl);
  const host = checkHost(c.caps, v.lo, v.hi, ia32e);
  if (host !== null) return fail78(8, host);
  c.chValid = true;
  c.chCtl.record(v);
  c.chHostEpoch = v.writeEpoch[3];
  c.chIa32e = ia32e;
  c.chGuestPe = v.lo[I_GUEST_CR0] & 1;
  return null;
}

/**
 * §26.2: the checks on the VMX controls (failure: VMfailValid 7) and on the host-state area
 * (failure: VMfailValid 8), in order; null when all pass. Reads the current VMCS and the
 * processor's IA32_EFER.LMA.
 */
export function checkControlsAndHost(engine: VmxEngine): ControlHostFailure | null {
  const v = currentOf(engine);
  const c = cacheOf(engine, v);
  const ia32e = (engine.cpu.efer & EFER_LMA) !== 0;
  if (c.chValid && ia32e === c.chIa32e && v.writeEpoch[3] === c.chHostEpoch && (v.lo[I_GUEST_CR0] & 1) === c.chGuestPe) {
    if (c.chCtl.unchanged(v)) {
      entryCheckStats.controlsHostCached++;
      const m = checkControlsMemory(v.lo, engine.phys);
      return m === null ? null : fail78(7, m);
    }
    if (c.chCtl.onlyFast(v)) {
      entryCheckStats.controlsHostPartial++;
      if (checkInjection(c.caps, v.lo, v.lo[I_GUEST_CR0]) === null && checkControlsMemory(v.lo, engine.phys) === null) {
        c.chCtl.recordFast(v);
        return null;
      }
    }
  }
  return fullControlsAndHost(engine, v, c, ia32e);
}

function guestMemory(engine: VmxEngine, v: Vmcs, c: CheckCache): GuestStateFailure | null {
  const r = checkLinkPointer(c.caps, v.lo, v.hi, engine.phys, v.address) ?? checkPdptes(c.caps, v.lo, v.hi, engine.phys);
  return r === null ? null : { qualification: guestQualification, check: r };
}

function fullGuest(engine: VmxEngine, v: Vmcs, c: CheckCache): GuestStateFailure | null {
  entryCheckStats.guestFull++;
  c.gValid = false;
  readCaps(engine.cpu, c.caps);
  const r = checkGuestFields(c.caps, v.lo, v.hi);
  if (r !== null) return { qualification: guestQualification, check: r };
  const m = guestMemory(engine, v, c);
  if (m !== null) return m;
  c.gValid = true;
  c.gCtl.record(v);
  c.gGuest.record(v);
  c.gVm = v.lo[I_GUEST_RFLAGS] & 0x20000;
  return null;
}

/**
 * §26.3.1: the checks on the guest-state area, in order; null when all pass. A failure is a
 * VM-entry failure with exit reason 33 and the returned exit qualification (§26.8).
 */
export function checkGuestState(engine: VmxEngine): GuestStateFailure | null {
  const v = currentOf(engine);
  const c = cacheOf(engine, v);
  if (c.gValid) {
    const ctlSame = c.gCtl.unchanged(v);
    if (ctlSame && c.gGuest.unchanged(v)) {
      entryCheckStats.guestCached++;
      resetGuestQualification();
      return guestMemory(engine, v, c);
    }
    if ((v.lo[I_GUEST_RFLAGS] & 0x20000) === c.gVm && (ctlSame || c.gCtl.onlyFast(v)) && c.gGuest.onlyFast(v)) {
      entryCheckStats.guestPartial++;
      resetGuestQualification();
      if (checkRipRflags(c.caps, v.lo, v.hi) === null && checkNonRegister(c.caps, v.lo, v.hi) === null) {
        const m = guestMemory(engine, v, c);
        if (m !== null) return m;
        c.gCtl.recordFast(v);
        c.gGuest.recordFast(v);
        return null;
      }
    }
  }
  return fullGuest(engine, v, c);
}

/**
 * All checks without any cache, in order: the §26.2 result, else the §26.3 result (tests, the
 * debugger's "why would this entry fail" view).
 */
export function checkAllUncached(engine: VmxEngine): ControlHostFailure | GuestStateFailure | null {
  const v = currentOf(engine);
  invalidateEntryChecks(v);
  const r = checkControlsAndHost(engine) ?? checkGuestState(engine);
  invalidateEntryChecks(v);
  return r;
}
