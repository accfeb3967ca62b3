/**
 * Choosing VMX control values from the capability MSRs, the way software must (SDM vol. 3C
 * appendix A.2-A.5 and §31.5.1 "Algorithms for Determining VMX Capabilities"; newer editions
 * §32.5.1). A capability MSR for a 32-bit control field reports, per bit:
 *   allowed-0 settings in bits 31:0 — a 1 there means the control must be 1;
 *   allowed-1 settings in bits 63:32 — a 0 there means the control must be 0.
 * A control that may be 0 or 1 is "flexible". IA32_VMX_BASIC bit 55 says the TRUE_ MSRs exist;
 * they may report some "default1" controls as allowed-0 (§A.2). Algorithm 3 of §31.5.1, which
 * this module implements: a control software knows is set as software wants it (error if the
 * MSR does not allow that); a flexible control software does not name is set to its default:
 * 1 for the default1 class (the non-TRUE MSR's allowed-0 bit is 1), 0 otherwise.
 *
 * The hypervisor (issue 5) and the tests use these; nothing here has state.
 */
import type { ControlBit } from './controlBits';
import {
  bitsOf, ENTRY_CONTROLS, EXIT_CONTROLS, PIN_BASED, PROC_BASED, PROC_BASED2,
} from './controlBits';

/** A 64-bit capability MSR value as halves: lo = allowed-0 settings, hi = allowed-1 settings. */
export interface CtlsMsr {
  lo: number;
  hi: number;
}

export type ControlChoice =
  | { ok: true; value: number }
  | { ok: false; error: string; mustBe1: number; mustBe0: number };

/**
 * Choose the value of one 32-bit control field. `wanted`: controls to set to 1; `notWanted`:
 * controls to set to 0; `default1`: controls of the default1 class (the non-TRUE MSR's allowed-0
 * bits when `ctls` is a TRUE_ MSR; defaults to `ctls.lo`), set to 1 when flexible and not named.
 * Fails when a wanted bit is not allowed to be 1 or a not-wanted bit is not allowed to be 0.
 */
export function choose(ctls: CtlsMsr, wanted: number, notWanted = 0, default1: number = ctls.lo): ControlChoice {
  const must1 = ctls.lo | 0;
  const may1 = ctls.hi | 0;
  if ((wanted & notWanted) !== 0) {
    return { ok: false, error: `bits 0x${((wanted & notWanted) >>> 0).toString(16)} are both wanted and not wanted`, mustBe1: 0, mustBe0: 0 };
  }
  // A wanted control the MSR does not allow to be 1, or an unwanted one it forces to 1.
  const bad1 = wanted & ~may1;
  const bad0 = notWanted & must1;
  if ((bad1 | bad0) !== 0) {
    const parts: string[] = [];
    if (bad1 !== 0) parts.push(`bits 0x${(bad1 >>> 0).toString(16)} must be 0 (allowed-1 settings 0x${(may1 >>> 0).toString(16)})`);
    if (bad0 !== 0) parts.push(`bits 0x${(bad0 >>> 0).toString(16)} must be 1 (allowed-0 settings 0x${(must1 >>> 0).toString(16)})`);
    return { ok: false, error: parts.join('; '), mustBe1: bad0, mustBe0: bad1 };
  }
  const flexible = ~must1 & may1;
  const unnamed = flexible & ~wanted & ~notWanted;
  const value = must1 | (wanted & may1) | (unnamed & default1);
  return { ok: true, value: value | 0 };
}

/** Like `choose` but throws on failure (tests, the harness). */
export function chooseOrThrow(what: string, ctls: CtlsMsr, wanted: number, notWanted = 0, default1?: number): number {
  const r = choose(ctls, wanted, notWanted, default1 ?? ctls.lo);
  if (!r.ok) throw new Error(`${what}: ${r.error}`);
  return r.value;
}

// ---- all controls at once, by name --------------------------------------------------------------

/** IA32_VMX_* capability MSR indices (SDM vol. 3C appendix A). */
export const MSR_VMX = {
  BASIC: 0x480, PINBASED_CTLS: 0x481, PROCBASED_CTLS: 0x482, EXIT_CTLS: 0x483, ENTRY_CTLS: 0x484,
  MISC: 0x485, CR0_FIXED0: 0x486, CR0_FIXED1: 0x487, CR4_FIXED0: 0x488, CR4_FIXED1: 0x489,
  VMCS_ENUM: 0x48a, PROCBASED_CTLS2: 0x48b, EPT_VPID_CAP: 0x48c, TRUE_PINBASED_CTLS: 0x48d,
  TRUE_PROCBASED_CTLS: 0x48e, TRUE_EXIT_CTLS: 0x48f, TRUE_ENTRY_CTLS: 0x490, VMFUNC: 0x491,
} as const;

/** Reads a capability MSR (RDMSR as the hypervisor would; or the engine's table). */
export type MsrReader = (index: number) => CtlsMsr;

/** Names (from controlBits.ts) of controls to set or clear, per control field. */
export interface ControlRequest {
  pin?: readonly string[];
  proc?: readonly string[];
  proc2?: readonly string[];
  exit?: readonly string[];
  entry?: readonly string[];
  /** Controls to force to 0, same layout. */
  not?: { pin?: readonly string[]; proc?: readonly string[]; proc2?: readonly string[]; exit?: readonly string[]; entry?: readonly string[] };
}

export interface ControlValues {
  pin: number;
  proc: number;
  /** 0 when no secondary control was asked for (and "activate secondary controls" is then 0 unless forced). */
  proc2: number;
  exit: number;
  entry: number;
}

const names = (t: readonly ControlBit[], n: readonly string[] | undefined): number => bitsOf(t, ...(n ?? []));

/**
 * Choose all five control fields (§31.5.1 algorithm 3): the TRUE_ MSRs when IA32_VMX_BASIC bit
 * 55 is 1, default1 class from the non-TRUE MSRs. Asking for any secondary control turns on
 * "activate secondary controls". Throws an Error naming the field when a request is impossible.
 */
export function chooseControls(read: MsrReader, req: ControlRequest = {}): ControlValues {
  const basic = read(MSR_VMX.BASIC);
  const hasTrue = (basic.hi & (1 << (55 - 32))) !== 0;
  const not = req.not ?? {};
  const one = (what: string, plain: number, trueMsr: number, want: number, notWant: number): number => {
    const p = read(plain);
    const msr = hasTrue ? read(trueMsr) : p;
    return chooseOrThrow(what, msr, want, notWant, p.lo);
  };
  const want2 = names(PROC_BASED2, req.proc2);
  const secondary = bitsOf(PROC_BASED, 'ACTIVATE_SECONDARY_CONTROLS');
  let wantProc = names(PROC_BASED, req.proc);
  if (want2 !== 0) wantProc |= secondary;
  const pin = one('pin-based controls', MSR_VMX.PINBASED_CTLS, MSR_VMX.TRUE_PINBASED_CTLS, names(PIN_BASED, req.pin), names(PIN_BASED, not.pin));
  const proc = one('primary processor-based controls', MSR_VMX.PROCBASED_CTLS, MSR_VMX.TRUE_PROCBASED_CTLS, wantProc, names(PROC_BASED, not.proc));
  let proc2 = 0;
  if ((proc & secondary) !== 0) {
    // The secondary controls have no TRUE_ MSR and no default1 class (§A.3.3).
    proc2 = chooseOrThrow('secondary processor-based controls', read(MSR_VMX.PROCBASED_CTLS2), want2, names(PROC_BASED2, not.proc2), 0);
  }
  const exit = one('VM-exit controls', MSR_VMX.EXIT_CTLS, MSR_VMX.TRUE_EXIT_CTLS, names(EXIT_CONTROLS, req.exit), names(EXIT_CONTROLS, not.exit));
  const entry = one('VM-entry controls', MSR_VMX.ENTRY_CTLS, MSR_VMX.TRUE_ENTRY_CTLS, names(ENTRY_CONTROLS, req.entry), names(ENTRY_CONTROLS, not.entry));
  return { pin, proc, proc2, exit, entry };
}

/**
 * A CR0/CR4 value made acceptable to the FIXED MSRs (§A.7, §A.8): bits 1 in FIXED0 are set,
 * bits 0 in FIXED1 are cleared. `relax` names bits exempt from FIXED0 (CR0.PE and CR0.PG under
 * "unrestricted guest", §26.3.1.1).
 */
export function applyFixed(value: number, fixed0: number, fixed1: number, relax = 0): number {
  return ((value | (fixed0 & ~relax)) & fixed1) | 0;
}
