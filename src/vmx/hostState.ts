/**
 * Loading host state on a VM exit (SDM vol. 3C §27.5) — also the state a VM-entry failure during
 * or after guest-state loading returns to (§26.8 step 2) — and the VMX abort (§27.7).
 *
 * §27.5.1: CR0/CR3/CR4 from the host fields, keeping CR0.ET/CD/NW, CR0's reserved bits and the
 * bits fixed in VMX operation (IA32_VMX_CR0/CR4_FIXED0/1); CR3 bits 63:52 and beyond MAXPHYADDR
 * cleared; CR4.PAE set with "host address-space size", CR4.PCIDE cleared without it. DR7 = 400H,
 * IA32_DEBUGCTL = 0, SYSENTER MSRs from the fields (ESP/EIP sign-extended from the linear-address
 * width), IA32_EFER.LMA/LME = "host address-space size" (then the IA32_EFER field with "load
 * IA32_EFER"), IA32_PAT with "load IA32_PAT".
 * §27.5.2: selectors from the fields; CS base 0, limit FFFFFFFFH, type 11, S 1, DPL 0, P 1,
 * L = host address-space size, D/B = its inverse, G 1; SS/DS/ES/FS/GS unusable iff the selector
 * is null, else base 0 (FS/GS from the base fields), limit FFFFFFFFH, type 3, S 1, DPL 0, P 1,
 * D/B 1, G 1; TR base from its field, limit 67H, type 11 (busy TSS), S 0, P 1; LDTR selector 0
 * and unusable; GDTR/IDTR bases from the fields, limits FFFFH.
 * §27.5.3: RIP/RSP from the fields (bits 63:32 cleared for a 32-bit host), RFLAGS = 2.
 * §27.5.4: a PAE-paging host (not IA-32e) reloads its PDPTEs; a reserved bit is VMX abort 2.
 * §27.5.5: no blocking by STI or MOV SS; NMI blocking unchanged (with "virtual NMIs" the guest's
 * was virtual: the host's own is restored); the TLB rules (ept.ts eptOnVmExit).
 */
import type { Cpu } from '../x86/cpu';
import { updateModeFromSegments } from '../x86/descriptors';
import { getStored, setStored } from '../x86/msr';
import { loadPdptes } from '../x86/paging';
import { updateDebugState } from '../x86/debugRegs';
import type { VmxEngine } from './engine';
import type { Vmcs } from './vmcs';
import { eptOnVmExit } from './ept';
import {
  CR0_PE, CR0_PG, CR4_LA57, CR4_PAE, CR4_PCIDE, EFER_LMA, EFER_LME, EXIT_HOST_64, EXIT_LOAD_EFER, EXIT_LOAD_PAT,
  I_HOST_CR0, I_HOST_CR3, I_HOST_CR4, I_HOST_EFER, I_HOST_FS_BASE, I_HOST_GDTR_BASE, I_HOST_GS_BASE, I_HOST_IDTR_BASE,
  I_HOST_PAT, I_HOST_RIP, I_HOST_RSP, I_HOST_SEL, I_HOST_SYSENTER_CS, I_HOST_SYSENTER_EIP, I_HOST_SYSENTER_ESP,
  I_HOST_TR_BASE, I_HOST_TR_SEL, MSR_PAT, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, canonHi,
} from './vmExitFields';
import type { TransitionState } from './vmExitFields';

/** CR0 bits a VM transition never changes: ET (4), 15:6, 17, 28:19, NW (29), CD (30) (§26.3.2.1, §27.5.1). */
export const CR0_KEEP = (1 << 4) | 0xffc0 | (1 << 17) | 0x1ff80000 | (1 << 29) | (1 << 30);

const CODE64 = 0xa09b;
const CODE32 = 0xc09b;
const DATA = 0xc093;
const TSS_BUSY = 0x8b;
const UNUSABLE = 0x10000;

/** VMX-abort indicators (§27.7). */
export const enum Abort {
  MsrStore = 1,
  HostPdpte = 2,
  Corrupt = 3,
  MsrLoad = 4,
  MachineCheck = 5,
  LongModeToLegacy = 6,
}

/** Set a stored MSR only when it changes (setStored allocates; the usual exit changes nothing). */
export function putMsr(c: Cpu, index: number, lo: number, hi: number): void {
  const cur = getStored(c, index);
  if (cur === (lo | 0) && c.vHi === (hi | 0)) return;
  setStored(c, index, lo, hi);
}

/**
 * After CR0.PE / IA32_EFER.LMA / segments / RFLAGS.VM were loaded by a transition: the mode flags,
 * CPL-independent code size (descriptors.ts), and the translated code when the operating mode
 * changed (translators specialise on it). The TLB is the caller's (ept.ts swap rules).
 */
export function applyMode(c: Cpu): void {
  const pe = (c.cr0 & CR0_PE) !== 0;
  const lma = (c.efer & EFER_LMA) !== 0;
  const changed = pe !== c.protectedMode || lma !== c.longMode;
  c.protectedMode = pe;
  c.longMode = lma;
  c.canonShift = (c.cr4 & CR4_LA57) !== 0 ? 7 : 16;
  updateModeFromSegments(c);
  if (changed) c.flushCode();
}

/**
 * Load the host state of `v` into the processor (§27.5.1-27.5.5). Returns 0, or the VMX-abort
 * indicator when the host state cannot be established (the caller aborts).
 */
export function loadHostState(engine: VmxEngine, v: Vmcs, st: TransitionState, sysenterSaved: boolean): number {
  const c = engine.cpu;
  const lo = v.lo, hi = v.hi;
  const host64 = (engine.exitCtls & EXIT_HOST_64) !== 0;
  // §27.5: a processor in IA-32e mode cannot exit to a 32-bit host.
  if (!host64 && (c.efer & EFER_LMA) !== 0) return Abort.LongModeToLegacy;

  // ---- §27.5.1 control registers, debug registers, MSRs ----
  // Bits fixed in VMX operation keep their fixed value (1 for FIXED0, 0 outside FIXED1).
  c.cr0 = (((c.cr0 & CR0_KEEP) | (lo[I_HOST_CR0] & ~CR0_KEEP)) | st.cr0Fixed0) & st.cr0Fixed1;
  let cr4 = (lo[I_HOST_CR4] | st.cr4Fixed0) & st.cr4Fixed1;
  cr4 = host64 ? cr4 | CR4_PAE : cr4 & ~CR4_PCIDE;
  const oldCr4 = c.cr4;
  c.cr4 = cr4;
  c.cr3Lo = lo[I_HOST_CR3];
  c.cr3Hi = host64 ? hi[I_HOST_CR3] & st.physHiMask & 0xfffff : 0;
  if (c.dr7 !== 0x400 || ((oldCr4 ^ cr4) & 8) !== 0) {
    c.dr7 = 0x400;
    updateDebugState(c);
  }
  st.debugctlLo = 0;
  st.debugctlHi = 0;
  const n = st.linearBits;
  const csLo = lo[I_HOST_SYSENTER_CS];
  const espLo = lo[I_HOST_SYSENTER_ESP], espHi = canonHi(hi[I_HOST_SYSENTER_ESP], n);
  const eipLo = lo[I_HOST_SYSENTER_EIP], eipHi = canonHi(hi[I_HOST_SYSENTER_EIP], n);
  if (sysenterSaved) {
    // The values the guest-state save just read are the MSRs' current values: write only changes.
    if (csLo !== st.sysCs) setStored(c, MSR_SYSENTER_CS, csLo, 0);
    if (espLo !== st.sysEspLo || espHi !== st.sysEspHi) setStored(c, MSR_SYSENTER_ESP, espLo, espHi);
    if (eipLo !== st.sysEipLo || eipHi !== st.sysEipHi) setStored(c, MSR_SYSENTER_EIP, eipLo, eipHi);
  } else {
    putMsr(c, MSR_SYSENTER_CS, csLo, 0);
    putMsr(c, MSR_SYSENTER_ESP, espLo, espHi);
    putMsr(c, MSR_SYSENTER_EIP, eipLo, eipHi);
  }
  let efer = host64 ? c.efer | EFER_LMA | EFER_LME : c.efer & ~(EFER_LMA | EFER_LME);
  if ((engine.exitCtls & EXIT_LOAD_EFER) !== 0) efer = lo[I_HOST_EFER];
  c.efer = efer;
  if ((engine.exitCtls & EXIT_LOAD_PAT) !== 0) putMsr(c, MSR_PAT, lo[I_HOST_PAT], hi[I_HOST_PAT]);

  // ---- §27.5.2 segment and descriptor-table registers ----
  for (let s = 0; s < 6; s++) {
    const sel = lo[I_HOST_SEL[s]] & 0xffff;
    c.segSel[s] = sel;
    c.segBaseLo[s] = 0;
    c.segBaseHi[s] = 0;
    c.segLimit[s] = 0xffffffff;
    if (s === 1) c.segAttr[s] = host64 ? CODE64 : CODE32;
    else c.segAttr[s] = sel === 0 ? DATA | UNUSABLE : DATA;
  }
  c.segBaseLo[4] = lo[I_HOST_FS_BASE];
  c.segBaseHi[4] = canonHi(hi[I_HOST_FS_BASE], n);
  c.segBaseLo[5] = lo[I_HOST_GS_BASE];
  c.segBaseHi[5] = canonHi(hi[I_HOST_GS_BASE], n);
  c.segSel[6] = 0;
  c.segBaseLo[6] = 0;
  c.segBaseHi[6] = 0;
  c.segLimit[6] = 0;
  c.segAttr[6] = UNUSABLE;
  c.segSel[7] = lo[I_HOST_TR_SEL] & 0xffff;
  c.segBaseLo[7] = lo[I_HOST_TR_BASE];
  c.segBaseHi[7] = canonHi(hi[I_HOST_TR_BASE], n);
  c.segLimit[7] = 0x67;
  c.segAttr[7] = TSS_BUSY;
  c.gdtrBaseLo = lo[I_HOST_GDTR_BASE];
  c.gdtrBaseHi = canonHi(hi[I_HOST_GDTR_BASE], n);
  c.gdtrLimit = 0xffff;
  c.idtrBaseLo = lo[I_HOST_IDTR_BASE];
  c.idtrBaseHi = canonHi(hi[I_HOST_IDTR_BASE], n);
  c.idtrLimit = 0xffff;
  c.cpl = 0;

  // ---- §27.5.3 RIP, RSP, RFLAGS ----
  c.ripLo = lo[I_HOST_RIP];
  c.ripHi = host64 ? hi[I_HOST_RIP] : 0;
  c.lo[4] = lo[I_HOST_RSP];
  c.hi[4] = host64 ? hi[I_HOST_RSP] : 0;
  c.setRflags(2);
  applyMode(c);

  // ---- §27.5.4 PDPTEs of a PAE-paging 32-bit host ----
  if (!host64 && (c.cr0 & CR0_PG) !== 0 && (cr4 & CR4_PAE) !== 0 && !loadPdptes(c)) return Abort.HostPdpte;

  // ---- §27.5.5 non-register state ----
  c.interruptShadow = false;
  c.stepArmed = false;
  c.dbgHits = 0;
  c.rfPending = false;
  c.rfArmed = false;
  if (st.virtualNmis) {
    c.nmiBlocked = st.hostNmiBlocked;
    st.virtualNmis = false;
  }
  eptOnVmExit(engine);
  return 0;
}

/**
 * VMX abort (§27.7): the indicator is written at byte 4 of the VMCS region and the logical
 * processor enters the shutdown state (only reset or INIT leave it). The VMCS data are left as
 * they are (the SDM calls them suspect).
 */
export function vmxAbort(engine: VmxEngine, v: Vmcs, indicator: number): void {
  const c = engine.cpu;
  v.abortIndicator = indicator;
  engine.phys.write32(v.address + 4, indicator);
  c.nonRoot = false;
  c.inShutdown = true;
  c.halted = true;
  c.shutdownReason = `VMX abort (indicator ${indicator}, SDM vol. 3C §27.7)`;
}
