/**
 * VM-entry checks on the guest-state area, SDM vol. 3C §26.3.1: control registers, debug
 * registers and MSRs (§26.3.1.1), segment registers with the virtual-8086 and unrestricted-guest
 * rules (§26.3.1.2), GDTR/IDTR (§26.3.1.3), RIP and RFLAGS (§26.3.1.4), non-register state
 * (§26.3.1.5) and the PDPTEs of PAE paging (§26.3.1.6), in the SDM's order. A failure is a VM
 * exit with reason 33 | 0x80000000 ("VM-entry failure due to invalid guest state"); the exit
 * qualification is 0, or (§26.8) 2 for a PDPTE, 3 for NMI injection under STI blocking and 4 for
 * the VMCS link pointer. Each function returns the first failing check's name (the
 * qualification in `guestQualification`) or null.
 */
import type { PhysAccess } from './vmcs';
import { fieldIndex } from './fields';
import { bitOf, ENTRY_CONTROLS, PIN_BASED, PROC_BASED, PROC_BASED2 } from './controlBits';
import { CheckCaps, DEBUGCTL_VALID, EFER_VALID, canonical, patOk, withinWidth } from './entryChecksCommon';
import { fixedOk } from './entryChecksHost';

const F = fieldIndex;
const I_PIN = F('PIN_BASED_VM_EXECUTION_CONTROLS');
const I_PROC = F('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
const I_PROC2 = F('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
const I_ENTRY = F('VM_ENTRY_CONTROLS');
const I_INJ_INFO = F('VM_ENTRY_INTERRUPTION_INFORMATION');
const I_CR0 = F('GUEST_CR0');
const I_CR3 = F('GUEST_CR3');
const I_CR4 = F('GUEST_CR4');
const I_DR7 = F('GUEST_DR7');
const I_DEBUGCTL = F('GUEST_IA32_DEBUGCTL');
const I_SYSENTER_ESP = F('GUEST_IA32_SYSENTER_ESP');
const I_SYSENTER_EIP = F('GUEST_IA32_SYSENTER_EIP');
const I_PERF = F('GUEST_IA32_PERF_GLOBAL_CTRL');
const I_PAT = F('GUEST_IA32_PAT');
const I_EFER = F('GUEST_IA32_EFER');
const I_BNDCFGS = F('GUEST_IA32_BNDCFGS');
const I_RIP = F('GUEST_RIP');
const I_RFLAGS = F('GUEST_RFLAGS');
const I_ACTIVITY = F('GUEST_ACTIVITY_STATE');
const I_INTERRUPTIBILITY = F('GUEST_INTERRUPTIBILITY_STATE');
const I_PENDING_DBG = F('GUEST_PENDING_DEBUG_EXCEPTIONS');
const I_LINK = F('VMCS_LINK_POINTER');
const I_GDTR_BASE = F('GUEST_GDTR_BASE');
const I_IDTR_BASE = F('GUEST_IDTR_BASE');
const I_GDTR_LIMIT = F('GUEST_GDTR_LIMIT');
const I_IDTR_LIMIT = F('GUEST_IDTR_LIMIT');
const I_PDPTE0 = F('GUEST_PDPTE0');

/** Segment register numbers in the VMCS order (ES CS SS DS FS GS LDTR TR). */
const SEG_NAMES = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'] as const;
const SEL = SEG_NAMES.map((n) => F(`GUEST_${n}_SELECTOR`));
const BASE = SEG_NAMES.map((n) => F(`GUEST_${n}_BASE`));
const LIMIT = SEG_NAMES.map((n) => F(`GUEST_${n}_LIMIT`));
const AR = SEG_NAMES.map((n) => F(`GUEST_${n}_ACCESS_RIGHTS`));
const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;
/** The data/code registers in the order the SDM names them: CS, SS, DS, ES, FS, GS. */
const CODE_DATA = [CS, SS, DS, ES, FS, GS];
const DATA = [DS, ES, FS, GS];
const CANON_SEGS = [TR, FS, GS];
const HIGH_SEGS = [SS, DS, ES];

const msg = (what: string) => SEG_NAMES.map((n) => `26.3.1.2 guest ${n} ${what}`);
const M_V86_BASE = msg('base not selector * 16 (virtual-8086)');
const M_V86_LIMIT = msg('limit not FFFFH (virtual-8086)');
const M_V86_AR = msg('access rights not F3H (virtual-8086)');
const M_BASE_CANON = msg('base not canonical');
const M_BASE_HIGH = msg('base bits 63:32 not 0');
const M_TYPE = msg('type');
const M_ACCESSED = msg('type not accessed');
const M_READABLE = msg('code segment not readable');
const M_S = msg('S bit');
const M_DPL = msg('DPL');
const M_P = msg('not present');
const M_RES8 = msg('access rights bits 11:8 not 0');
const M_DB = msg('D/B set with L in IA-32e mode');
const M_G = msg('G bit inconsistent with limit');
const M_RES17 = msg('access rights bits 31:17 not 0');

const PIN_VNMI = bitOf(PIN_BASED, 'VIRTUAL_NMIS');
const P_SECONDARY = bitOf(PROC_BASED, 'ACTIVATE_SECONDARY_CONTROLS');
const P2_EPT = bitOf(PROC_BASED2, 'ENABLE_EPT');
const P2_UNRESTRICTED = bitOf(PROC_BASED2, 'UNRESTRICTED_GUEST');
const E_LOAD_DEBUG = bitOf(ENTRY_CONTROLS, 'LOAD_DEBUG_CONTROLS');
const E_IA32E = bitOf(ENTRY_CONTROLS, 'IA32E_MODE_GUEST');
const E_SMM = bitOf(ENTRY_CONTROLS, 'ENTRY_TO_SMM');
const E_LOAD_PERF = bitOf(ENTRY_CONTROLS, 'LOAD_IA32_PERF_GLOBAL_CTRL');
const E_LOAD_PAT = bitOf(ENTRY_CONTROLS, 'LOAD_IA32_PAT');
const E_LOAD_EFER = bitOf(ENTRY_CONTROLS, 'LOAD_IA32_EFER');
const E_LOAD_BNDCFGS = bitOf(ENTRY_CONTROLS, 'LOAD_IA32_BNDCFGS');

const CR0_PE = 1, CR0_WP = 1 << 16, CR0_PG = 1 << 31;
const CR4_PAE = 1 << 5, CR4_PCIDE = 1 << 17, CR4_CET = 1 << 23;
const RF_TF = 1 << 8, RF_IF = 1 << 9, RF_VM = 1 << 17;

/** Exit qualification of the last failure reported by a guest check (§26.8). */
export let guestQualification = 0;

function fail(q: number, check: string): string {
  guestQualification = q;
  return check;
}

/** G must be 0 if limit bits 11:0 are not all 1, and 1 if any of limit bits 31:20 is 1. */
function granularityOk(ar: number, limit: number): boolean {
  const g = (ar & 0x8000) !== 0;
  if ((limit & 0xfff) !== 0xfff && g) return false;
  if ((limit & 0xfff00000) !== 0 && !g) return false;
  return true;
}

/** §26.3.1.1: control registers, debug registers, MSRs. */
function checkRegisters(caps: CheckCaps, lo: Int32Array, hi: Int32Array, entry: number, proc2: number): string | null {
  const cr0 = lo[I_CR0];
  const cr4 = lo[I_CR4];
  // With "unrestricted guest" (and secondary controls active) PE and PG need not be 1 (§26.3.1.1).
  const relax = (proc2 & P2_UNRESTRICTED) !== 0 ? (CR0_PE | CR0_PG) : 0;
  if (!fixedOk(cr0, hi[I_CR0], caps.cr0Fixed0 & ~relax, caps.cr0Fixed0Hi, caps.cr0Fixed1, caps.cr0Fixed1Hi)) {
    return '26.3.1.1 guest CR0 fixed bits';
  }
  if ((cr0 & CR0_PG) !== 0 && (cr0 & CR0_PE) === 0) return '26.3.1.1 guest CR0.PG without CR0.PE';
  if (!fixedOk(cr4, hi[I_CR4], caps.cr4Fixed0, caps.cr4Fixed0Hi, caps.cr4Fixed1, caps.cr4Fixed1Hi)) {
    return '26.3.1.1 guest CR4 fixed bits';
  }
  if ((cr4 & CR4_CET) !== 0 && (cr0 & CR0_WP) === 0) return '26.3.1.1 guest CR4.CET without CR0.WP';
  if ((entry & E_LOAD_DEBUG) !== 0 && ((lo[I_DEBUGCTL] & ~DEBUGCTL_VALID) !== 0 || hi[I_DEBUGCTL] !== 0)) {
    return '26.3.1.1 guest IA32_DEBUGCTL reserved bits';
  }
  if ((entry & E_IA32E) !== 0) {
    if ((cr0 & CR0_PG) === 0) return '26.3.1.1 IA-32e mode guest without CR0.PG';
    if ((cr4 & CR4_PAE) === 0) return '26.3.1.1 IA-32e mode guest without CR4.PAE';
  } else if ((cr4 & CR4_PCIDE) !== 0) {
    return '26.3.1.1 guest CR4.PCIDE outside IA-32e mode';
  }
  if (!withinWidth(lo[I_CR3], hi[I_CR3], caps.physBits)) return '26.3.1.1 guest CR3 beyond physical-address width';
  if ((entry & E_LOAD_DEBUG) !== 0 && hi[I_DR7] !== 0) return '26.3.1.1 guest DR7 bits 63:32 not 0';
  if (!canonical(hi[I_SYSENTER_ESP], caps.linBits)) return '26.3.1.1 guest IA32_SYSENTER_ESP not canonical';
  if (!canonical(hi[I_SYSENTER_EIP], caps.linBits)) return '26.3.1.1 guest IA32_SYSENTER_EIP not canonical';
  // No performance counters or MPX on the modelled CPU: every bit of these MSRs is reserved.
  if ((entry & E_LOAD_PERF) !== 0 && (lo[I_PERF] !== 0 || hi[I_PERF] !== 0)) {
    return '26.3.1.1 guest IA32_PERF_GLOBAL_CTRL reserved bits';
  }
  if ((entry & E_LOAD_PAT) !== 0 && !patOk(lo[I_PAT], hi[I_PAT])) return '26.3.1.1 guest IA32_PAT invalid memory type';
  if ((entry & E_LOAD_EFER) !== 0) {
    const e = lo[I_EFER];
    if ((e & ~EFER_VALID) !== 0 || hi[I_EFER] !== 0) return '26.3.1.1 guest IA32_EFER reserved bits';
    const ia32e = (entry & E_IA32E) !== 0 ? 1 : 0;
    if (((e >> 10) & 1) !== ia32e) return '26.3.1.1 guest IA32_EFER.LMA differs from IA-32e mode guest';
    if ((cr0 & CR0_PG) !== 0 && ((e >> 10) & 1) !== ((e >> 8) & 1)) return '26.3.1.1 guest IA32_EFER.LME differs from LMA with paging';
  }
  if ((entry & E_LOAD_BNDCFGS) !== 0 && (lo[I_BNDCFGS] !== 0 || hi[I_BNDCFGS] !== 0)) {
    return '26.3.1.1 guest IA32_BNDCFGS reserved bits';
  }
  return null;
}

/** §26.3.1.2: segment registers. */
function checkSegments(caps: CheckCaps, lo: Int32Array, hi: Int32Array, entry: number, proc2: number): string | null {
  const v86 = (lo[I_RFLAGS] & RF_VM) !== 0;
  const ug = (proc2 & P2_UNRESTRICTED) !== 0;
  const ia32e = (entry & E_IA32E) !== 0;
  const usable = (s: number) => (lo[AR[s]] & 0x10000) === 0;
  // ---- selectors ----
  if ((lo[SEL[TR]] & 4) !== 0) return '26.3.1.2 guest TR selector TI set';
  if (usable(LDTR) && (lo[SEL[LDTR]] & 4) !== 0) return '26.3.1.2 guest LDTR selector TI set';
  if (!v86 && !ug && (lo[SEL[SS]] & 3) !== (lo[SEL[CS]] & 3)) return '26.3.1.2 guest SS.RPL differs from CS.RPL';
  // ---- bases ----
  if (v86) {
    for (const s of CODE_DATA) {
      if (lo[BASE[s]] !== ((lo[SEL[s]] & 0xffff) << 4) || hi[BASE[s]] !== 0) return M_V86_BASE[s];
    }
  }
  for (const s of CANON_SEGS) if (!canonical(hi[BASE[s]], caps.linBits)) return M_BASE_CANON[s];
  if (usable(LDTR) && !canonical(hi[BASE[LDTR]], caps.linBits)) return M_BASE_CANON[LDTR];
  if (hi[BASE[CS]] !== 0) return M_BASE_HIGH[CS];
  for (const s of HIGH_SEGS) if (usable(s) && hi[BASE[s]] !== 0) return M_BASE_HIGH[s];
  // ---- limits ----
  if (v86) for (const s of CODE_DATA) if (lo[LIMIT[s]] !== 0xffff) return M_V86_LIMIT[s];
  // ---- access rights: CS, SS, DS, ES, FS, GS ----
  if (v86) {
    for (const s of CODE_DATA) if (lo[AR[s]] !== 0xf3) return M_V86_AR[s];
  } else {
    const csType = lo[AR[CS]] & 0xf;
    // Type
    if (!(csType === 9 || csType === 11 || csType === 13 || csType === 15 || (ug && csType === 3))) return M_TYPE[CS];
    if (usable(SS) && (lo[AR[SS]] & 0xf) !== 3 && (lo[AR[SS]] & 0xf) !== 7) return M_TYPE[SS];
    for (const s of DATA) {
      if (!usable(s)) continue;
      const t = lo[AR[s]] & 0xf;
      if ((t & 1) === 0) return M_ACCESSED[s];
      if ((t & 8) !== 0 && (t & 2) === 0) return M_READABLE[s];
    }
    // S
    for (const s of CODE_DATA) if ((s === CS || usable(s)) && (lo[AR[s]] & 0x10) === 0) return M_S[s];
    // DPL
    const dpl = (s: number) => (lo[AR[s]] >> 5) & 3;
    if (csType === 3 && dpl(CS) !== 0) return M_DPL[CS];
    if ((csType === 9 || csType === 11) && dpl(CS) !== dpl(SS)) return M_DPL[CS];
    if ((csType === 13 || csType === 15) && dpl(CS) > dpl(SS)) return M_DPL[CS];
    if (!ug && dpl(SS) !== (lo[SEL[SS]] & 3)) return M_DPL[SS];
    if ((csType === 3 || (lo[I_CR0] & CR0_PE) === 0) && dpl(SS) !== 0) return M_DPL[SS];
    if (!ug) {
      for (const s of DATA) {
        if (usable(s) && (lo[AR[s]] & 0xf) <= 11 && dpl(s) < (lo[SEL[s]] & 3)) return M_DPL[s];
      }
    }
    // P, reserved 11:8, D/B, G, reserved 31:17
    for (const s of CODE_DATA) if ((s === CS || usable(s)) && (lo[AR[s]] & 0x80) === 0) return M_P[s];
    for (const s of CODE_DATA) if ((s === CS || usable(s)) && (lo[AR[s]] & 0xf00) !== 0) return M_RES8[s];
    if (ia32e && (lo[AR[CS]] & 0x2000) !== 0 && (lo[AR[CS]] & 0x4000) !== 0) return M_DB[CS];
    for (const s of CODE_DATA) if ((s === CS || usable(s)) && !granularityOk(lo[AR[s]], lo[LIMIT[s]])) return M_G[s];
    for (const s of CODE_DATA) if ((s === CS || usable(s)) && (lo[AR[s]] & 0xfffe0000) !== 0) return M_RES17[s];
  }
  // ---- access rights: TR ----
  const tr = lo[AR[TR]];
  const trType = tr & 0xf;
  if (ia32e ? trType !== 11 : trType !== 3 && trType !== 11) return M_TYPE[TR];
  if ((tr & 0x10) !== 0) return M_S[TR];
  if ((tr & 0x80) === 0) return M_P[TR];
  if ((tr & 0xf00) !== 0) return M_RES8[TR];
  if (!granularityOk(tr, lo[LIMIT[TR]])) return M_G[TR];
  if ((tr & 0x10000) !== 0) return '26.3.1.2 guest TR unusable';
  if ((tr & 0xfffe0000) !== 0) return M_RES17[TR];
  // ---- access rights: LDTR (only when usable) ----
  if (usable(LDTR)) {
    const ld = lo[AR[LDTR]];
    if ((ld & 0xf) !== 2) return M_TYPE[LDTR];
    if ((ld & 0x10) !== 0) return M_S[LDTR];
    if ((ld & 0x80) === 0) return M_P[LDTR];
    if ((ld & 0xf00) !== 0) return M_RES8[LDTR];
    if (!granularityOk(ld, lo[LIMIT[LDTR]])) return M_G[LDTR];
    if ((ld & 0xfffe0000) !== 0) return M_RES17[LDTR];
  }
  return null;
}

/** §26.3.1.3: GDTR and IDTR. */
function checkDescriptorTables(caps: CheckCaps, lo: Int32Array, hi: Int32Array): string | null {
  if (!canonical(hi[I_GDTR_BASE], caps.linBits)) return '26.3.1.3 guest GDTR base not canonical';
  if (!canonical(hi[I_IDTR_BASE], caps.linBits)) return '26.3.1.3 guest IDTR base not canonical';
  if ((lo[I_GDTR_LIMIT] & 0xffff0000) !== 0) return '26.3.1.3 guest GDTR limit bits 31:16 not 0';
  if ((lo[I_IDTR_LIMIT] & 0xffff0000) !== 0) return '26.3.1.3 guest IDTR limit bits 31:16 not 0';
  return null;
}

/** §26.3.1.4: RIP and RFLAGS. */
export function checkRipRflags(caps: CheckCaps, lo: Int32Array, hi: Int32Array): string | null {
  const entry = lo[I_ENTRY];
  const long = (entry & E_IA32E) !== 0 && (lo[AR[CS]] & 0x2000) !== 0;
  if (!long) {
    if (hi[I_RIP] !== 0) return '26.3.1.4 guest RIP bits 63:32 not 0';
  } else if (!canonical(hi[I_RIP], caps.linBits)) {
    return '26.3.1.4 guest RIP not canonical';
  }
  const rf = lo[I_RFLAGS];
  if (hi[I_RFLAGS] !== 0 || (rf & 0xffc08028) !== 0 || (rf & 2) === 0) return '26.3.1.4 guest RFLAGS reserved bits';
  if ((rf & RF_VM) !== 0 && ((entry & E_IA32E) !== 0 || (lo[I_CR0] & CR0_PE) === 0)) {
    return '26.3.1.4 guest RFLAGS.VM in IA-32e mode or real mode';
  }
  const inj = lo[I_INJ_INFO];
  if (inj < 0 && ((inj >> 8) & 7) === 0 && (rf & RF_IF) === 0) return '26.3.1.4 external interrupt injected with RFLAGS.IF = 0';
  return null;
}

/** §26.3.1.5 except the VMCS link pointer: activity state, interruptibility, pending debug exceptions. */
export function checkNonRegister(caps: CheckCaps, lo: Int32Array, hi: Int32Array): string | null {
  const entry = lo[I_ENTRY];
  const act = lo[I_ACTIVITY];
  const intr = lo[I_INTERRUPTIBILITY];
  const inj = lo[I_INJ_INFO];
  const injType = (inj >> 8) & 7;
  const injVector = inj & 0xff;
  // ---- activity state (IA32_VMX_MISC bits 8:6 report HLT, shutdown, wait-for-SIPI) ----
  if (act < 0 || act > 3 || (act !== 0 && (caps.miscLo & (1 << (5 + act))) === 0)) {
    return '26.3.1.5 activity state not supported';
  }
  if (act === 1 && ((lo[AR[SS]] >> 5) & 3) !== 0) return '26.3.1.5 HLT activity state with SS.DPL not 0';
  if (act !== 0 && (intr & 3) !== 0) return '26.3.1.5 inactive state with STI or MOV-SS blocking';
  if (inj < 0 && act !== 0) {
    let allowed: boolean;
    if (act === 1) {
      allowed = injType === 0 || injType === 2 || (injType === 3 && (injVector === 1 || injVector === 18)) ||
        (injType === 7 && injVector === 0);
    } else if (act === 2) {
      allowed = injType === 2 || (injType === 3 && injVector === 18);
    } else {
      allowed = false;
    }
    if (!allowed) return '26.3.1.5 injected event blocked in the activity state';
  }
  if (act === 3 && (entry & E_SMM) !== 0) return '26.3.1.5 wait-for-SIPI with entry to SMM';
  // ---- interruptibility state (bit 4, enclave interruption, needs SGX: reserved here) ----
  if ((intr & ~0xf) !== 0) return '26.3.1.5 interruptibility reserved bits';
  if ((intr & 3) === 3) return '26.3.1.5 blocking by both STI and MOV-SS';
  if ((intr & 1) !== 0 && (lo[I_RFLAGS] & RF_IF) === 0) return '26.3.1.5 blocking by STI with RFLAGS.IF = 0';
  if (inj < 0 && injType === 0 && (intr & 3) !== 0) return '26.3.1.5 external interrupt injected under STI or MOV-SS blocking';
  if (inj < 0 && injType === 2 && (intr & 2) !== 0) return '26.3.1.5 NMI injected under MOV-SS blocking';
  // Some processors also refuse NMI injection under STI blocking; §26.8 gives it qualification 3.
  // The modelled CPU is one of them.
  if (inj < 0 && injType === 2 && (intr & 1) !== 0) return fail(3, '26.3.1.5 NMI injected under STI blocking');
  if ((intr & 4) !== 0) return '26.3.1.5 blocking by SMI outside SMM';
  if ((entry & E_SMM) !== 0 && (intr & 4) === 0) return '26.3.1.5 entry to SMM without blocking by SMI';
  if ((lo[I_PIN] & PIN_VNMI) !== 0 && inj < 0 && injType === 2 && (intr & 8) !== 0) {
    return '26.3.1.5 virtual-NMI blocking with NMI injection';
  }
  // ---- pending debug exceptions ----
  const pd = lo[I_PENDING_DBG];
  if ((pd & 0xfffeaff0) !== 0 || hi[I_PENDING_DBG] !== 0) return '26.3.1.5 pending debug exceptions reserved bits';
  if ((pd & 0x10000) !== 0 && !caps.rtm) return '26.3.1.5 pending debug exceptions RTM without RTM support';
  if ((intr & 3) !== 0 || act === 1) {
    const tf = (lo[I_RFLAGS] & RF_TF) !== 0;
    const btf = (lo[I_DEBUGCTL] & 2) !== 0;
    const bs = (pd & 0x4000) !== 0;
    if (tf && !btf && !bs) return '26.3.1.5 pending debug exceptions BS clear with TF set';
    if ((!tf || btf) && bs) return '26.3.1.5 pending debug exceptions BS set without single-step';
  }
  if ((pd & 0x10000) !== 0) {
    if ((pd & 0xefff) !== 0 || (pd & 0x1000) === 0) return '26.3.1.5 pending debug exceptions RTM with other bits';
    if ((intr & 2) !== 0) return '26.3.1.5 pending debug exceptions RTM with MOV-SS blocking';
  }
  return null;
}

/**
 * §26.3.1.5 VMCS link pointer (qualification 4). When it is not all ones: bits 11:0 zero, within
 * the physical-address width, the 32 bits it points to hold the VMCS revision identifier with
 * bit 31 equal to "VMCS shadowing", and it is not the current VMCS. Reads memory: run on every
 * entry.
 */
export function checkLinkPointer(caps: CheckCaps, lo: Int32Array, hi: Int32Array, phys: PhysAccess, currentVmcs: number): string | null {
  const pl = lo[I_LINK];
  const ph = hi[I_LINK];
  if (pl === -1 && ph === -1) return null;
  if ((pl & 0xfff) !== 0 || !withinWidth(pl, ph, caps.physBits)) return fail(4, '26.3.1.5 VMCS link pointer address');
  const proc2 = (lo[I_PROC] & P_SECONDARY) !== 0 ? lo[I_PROC2] : 0;
  const shadowing = (proc2 & (1 << 14)) !== 0 ? 1 : 0;
  const rev = phys.read32(pl);
  if ((rev & 0x7fffffff) !== (caps.basicLo & 0x7fffffff) || (rev >>> 31) !== shadowing) {
    return fail(4, '26.3.1.5 VMCS link pointer revision identifier');
  }
  if (ph === 0 && pl === currentVmcs) return fail(4, '26.3.1.5 VMCS link pointer is the current VMCS');
  return null;
}

/**
 * §26.3.1.6 PDPTEs (qualification 2), when the guest will use PAE paging (CR0.PG = 1, CR4.PAE = 1,
 * not IA-32e mode): with EPT the four PDPTE fields, without EPT the four entries at CR3[31:5]
 * in memory. A present entry must have bits 2:1, 8:5 and 63:MAXPHYADDR clear.
 */
export function checkPdptes(caps: CheckCaps, lo: Int32Array, hi: Int32Array, phys: PhysAccess): string | null {
  if ((lo[I_CR0] & CR0_PG) === 0 || (lo[I_CR4] & CR4_PAE) === 0 || (lo[I_ENTRY] & E_IA32E) !== 0) return null;
  const proc2 = (lo[I_PROC] & P_SECONDARY) !== 0 ? lo[I_PROC2] : 0;
  const ept = (proc2 & P2_EPT) !== 0;
  const table = lo[I_CR3] & ~0x1f;
  for (let k = 0; k < 4; k++) {
    const el = ept ? lo[I_PDPTE0 + k] : phys.read32((table + k * 8) >>> 0);
    const eh = ept ? hi[I_PDPTE0 + k] : phys.read32((table + k * 8 + 4) >>> 0);
    if ((el & 1) === 0) continue;
    if ((el & 0x1e6) !== 0 || !withinWidth(el, eh, caps.physBits)) return fail(2, `26.3.1.6 PDPTE${k} reserved bits`);
  }
  return null;
}

/** Every register check of §26.3.1.1-§26.3.1.5 that depends only on VMCS fields, in order. */
export function checkGuestFields(caps: CheckCaps, lo: Int32Array, hi: Int32Array): string | null {
  guestQualification = 0;
  const entry = lo[I_ENTRY];
  const proc2 = (lo[I_PROC] & P_SECONDARY) !== 0 ? lo[I_PROC2] : 0;
  return checkRegisters(caps, lo, hi, entry, proc2) ??
    checkSegments(caps, lo, hi, entry, proc2) ??
    checkDescriptorTables(caps, lo, hi) ??
    checkRipRflags(caps, lo, hi) ??
    checkNonRegister(caps, lo, hi);
}

/** Reset the qualification before a partial re-run (entryChecks.ts). */
export function resetGuestQualification(): void {
  guestQualification = 0;
}
