/**
 * VM-entry checks on the host-state area, SDM vol. 3C §26.2.2 (control registers and MSRs),
 * §26.2.3 (segment and descriptor-table registers) and §26.2.4 (address-space size), in the
 * SDM's order. A failure makes VMLAUNCH/VMRESUME fail with VMfailValid 8 ("VM entry with invalid
 * host-state field(s)"). Returns the name of the first failing check, or null.
 */
import { fieldIndex } from './fields';
import { bitOf, ENTRY_CONTROLS, EXIT_CONTROLS } from './controlBits';
import { CheckCaps, EFER_VALID, canonical, patOk, withinWidth } from './entryChecksCommon';

const F = fieldIndex;
const I_EXIT = F('PRIMARY_VM_EXIT_CONTROLS');
const I_ENTRY = F('VM_ENTRY_CONTROLS');
const I_CR0 = F('HOST_CR0');
const I_CR3 = F('HOST_CR3');
const I_CR4 = F('HOST_CR4');
const I_SYSENTER_ESP = F('HOST_IA32_SYSENTER_ESP');
const I_SYSENTER_EIP = F('HOST_IA32_SYSENTER_EIP');
const I_PAT = F('HOST_IA32_PAT');
const I_EFER = F('HOST_IA32_EFER');
const I_PERF = F('HOST_IA32_PERF_GLOBAL_CTRL');
const I_RIP = F('HOST_RIP');
const SELECTORS: ReadonlyArray<[number, string]> = [
  [F('HOST_ES_SELECTOR'), 'ES'], [F('HOST_CS_SELECTOR'), 'CS'], [F('HOST_SS_SELECTOR'), 'SS'],
  [F('HOST_DS_SELECTOR'), 'DS'], [F('HOST_FS_SELECTOR'), 'FS'], [F('HOST_GS_SELECTOR'), 'GS'],
  [F('HOST_TR_SELECTOR'), 'TR'],
];
const SELECTOR_CHECK = SELECTORS.map(([, n]) => `26.2.3 host ${n} selector RPL/TI not 0`);
const I_CS_SEL = F('HOST_CS_SELECTOR');
const I_SS_SEL = F('HOST_SS_SELECTOR');
const I_TR_SEL = F('HOST_TR_SELECTOR');
const BASES: ReadonlyArray<[number, string]> = [
  [F('HOST_FS_BASE'), 'FS'], [F('HOST_GS_BASE'), 'GS'], [F('HOST_GDTR_BASE'), 'GDTR'],
  [F('HOST_IDTR_BASE'), 'IDTR'], [F('HOST_TR_BASE'), 'TR'],
];
const BASE_CHECK = BASES.map(([, n]) => `26.2.3 host ${n} base not canonical`);

const X_HOST64 = bitOf(EXIT_CONTROLS, 'HOST_ADDRESS_SPACE_SIZE');
const X_LOAD_PERF = bitOf(EXIT_CONTROLS, 'LOAD_IA32_PERF_GLOBAL_CTRL');
const X_LOAD_PAT = bitOf(EXIT_CONTROLS, 'LOAD_IA32_PAT');
const X_LOAD_EFER = bitOf(EXIT_CONTROLS, 'LOAD_IA32_EFER');
const E_IA32E = bitOf(ENTRY_CONTROLS, 'IA32E_MODE_GUEST');
const CR4_PAE = 1 << 5;
const CR4_PCIDE = 1 << 17;

/** Bits a CR value must have (FIXED0) and may have (FIXED1), both halves (§A.7, §A.8). */
export function fixedOk(lo: number, hi: number, f0: number, f0hi: number, f1: number, f1hi: number): boolean {
  return (lo & f0) === f0 && (hi & f0hi) === f0hi && (lo & ~f1) === 0 && (hi & ~f1hi) === 0;
}

/**
 * Every check of §26.2.2-§26.2.4. `ia32e` is the processor's IA32_EFER.LMA at the time of the
 * VM entry (§26.2.4 compares the host address-space size with it).
 */
export function checkHost(caps: CheckCaps, lo: Int32Array, hi: Int32Array, ia32e: boolean): string | null {
  const exit = lo[I_EXIT];
  const host64 = (exit & X_HOST64) !== 0;
  // ---- §26.2.2 host control registers, MSRs ----
  if (!fixedOk(lo[I_CR0], hi[I_CR0], caps.cr0Fixed0, caps.cr0Fixed0Hi, caps.cr0Fixed1, caps.cr0Fixed1Hi)) {
    return '26.2.2 host CR0 fixed bits';
  }
  if (!fixedOk(lo[I_CR4], hi[I_CR4], caps.cr4Fixed0, caps.cr4Fixed0Hi, caps.cr4Fixed1, caps.cr4Fixed1Hi)) {
    return '26.2.2 host CR4 fixed bits';
  }
  // CR3: bits 63:MAXPHYADDR must be 0 (no LAM: bits 62:61 are not special on this CPU).
  if (!withinWidth(lo[I_CR3], hi[I_CR3], caps.physBits)) return '26.2.2 host CR3 beyond physical-address width';
  if (!canonical(hi[I_SYSENTER_ESP], caps.linBits)) return '26.2.2 host IA32_SYSENTER_ESP not canonical';
  if (!canonical(hi[I_SYSENTER_EIP], caps.linBits)) return '26.2.2 host IA32_SYSENTER_EIP not canonical';
  if ((exit & X_LOAD_PERF) !== 0 && (lo[I_PERF] !== 0 || hi[I_PERF] !== 0)) {
    // The modelled CPU has no performance counters: every IA32_PERF_GLOBAL_CTRL bit is reserved.
    return '26.2.2 host IA32_PERF_GLOBAL_CTRL reserved bits';
  }
  if ((exit & X_LOAD_PAT) !== 0 && !patOk(lo[I_PAT], hi[I_PAT])) return '26.2.2 host IA32_PAT invalid memory type';
  if ((exit & X_LOAD_EFER) !== 0) {
    const e = lo[I_EFER];
    if ((e & ~EFER_VALID) !== 0 || hi[I_EFER] !== 0) return '26.2.2 host IA32_EFER reserved bits';
    if (((e >> 10) & 1) !== (host64 ? 1 : 0)) return '26.2.2 host IA32_EFER.LMA differs from host address-space size';
    if (((e >> 8) & 1) !== (host64 ? 1 : 0)) return '26.2.2 host IA32_EFER.LME differs from host address-space size';
  }
  // ---- §26.2.3 host segment and descriptor-table registers ----
  for (let k = 0; k < SELECTORS.length; k++) {
    if ((lo[SELECTORS[k][0]] & 7) !== 0) return SELECTOR_CHECK[k];
  }
  if ((lo[I_CS_SEL] & 0xffff) === 0) return '26.2.3 host CS selector is 0';
  if ((lo[I_TR_SEL] & 0xffff) === 0) return '26.2.3 host TR selector is 0';
  if (!host64 && (lo[I_SS_SEL] & 0xffff) === 0) return '26.2.3 host SS selector is 0 without 64-bit host';
  for (let k = 0; k < BASES.length; k++) {
    if (!canonical(hi[BASES[k][0]], caps.linBits)) return BASE_CHECK[k];
  }
  // ---- §26.2.4 address-space size ----
  const entry = lo[I_ENTRY];
  if (!ia32e) {
    if ((entry & E_IA32E) !== 0) return '26.2.4 IA-32e mode guest outside IA-32e mode';
    if (host64) return '26.2.4 host address-space size outside IA-32e mode';
  } else if (!host64) {
    return '26.2.4 host address-space size 0 in IA-32e mode';
  }
  if (!host64) {
    if ((entry & E_IA32E) !== 0) return '26.2.4 IA-32e mode guest without 64-bit host';
    if ((lo[I_CR4] & CR4_PCIDE) !== 0) return '26.2.4 host CR4.PCIDE without 64-bit host';
    if (hi[I_RIP] !== 0) return '26.2.4 host RIP bits 63:32 without 64-bit host';
  } else {
    if ((lo[I_CR4] & CR4_PAE) === 0) return '26.2.4 host CR4.PAE clear with 64-bit host';
    if (!canonical(hi[I_RIP], caps.linBits)) return '26.2.4 host RIP not canonical';
  }
  return null;
}
