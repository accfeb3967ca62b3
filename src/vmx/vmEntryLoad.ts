/**
 * Loading guest state on VM entry (SDM vol. 3C §26.3.2), after the guest-state checks passed:
 * §26.3.2.1 CR0 (except ET, CD, NW and the reserved bits 15:6, 17, 28:19), CR3, CR4; DR7 (bits
 *   12, 15:14 forced 0, bit 10 forced 1) and IA32_DEBUGCTL with "load debug controls"; the
 *   SYSENTER MSRs; IA32_EFER from its field with "load IA32_EFER", otherwise LMA and LME take the
 *   "IA-32e mode guest" control; IA32_PAT with "load IA32_PAT".
 * §26.3.2.2 every segment register's selector, base, limit and access rights (an unusable
 *   register keeps the unusable bit; SS.DPL always loads and becomes the CPL), GDTR and IDTR.
 * §26.3.2.3 RIP, RSP, RFLAGS.
 * §26.3.2.4 the PDPTEs for PAE paging outside IA-32e mode: from the guest-PDPTE fields with
 *   "enable EPT", otherwise from the PDPT that CR3 points to.
 * Plus the parts of §26.6-26.7 that are processor state: interruptibility (blocking by STI / MOV
 * SS → the interrupt shadow; bit 3 → NMI blocking, virtual with "virtual NMIs") and the pending
 * debug exceptions (BS → a single-step trap pending, B3:0 → breakpoint hits pending).
 * The TLB is switched by the caller (ept.ts eptOnVmEntry) once the controls are in place.
 */
import { updateDebugState } from '../x86/debugRegs';
import { loadPdptes, setPdpteRegister } from '../x86/paging';
import type { VmxEngine } from './engine';
import type { Vmcs } from './vmcs';
import { CR0_KEEP, applyMode, putMsr } from './hostState';
import {
  CR0_PG, CR4_PAE, EFER_LMA, EFER_LME, ENTRY_IA32E, ENTRY_LOAD_DEBUG, ENTRY_LOAD_EFER, ENTRY_LOAD_PAT, I_GUEST_AR,
  I_GUEST_BASE, I_GUEST_CR0, I_GUEST_CR3, I_GUEST_CR4, I_GUEST_DEBUGCTL, I_GUEST_DR7, I_GUEST_EFER, I_GUEST_GDTR_BASE,
  I_GUEST_GDTR_LIMIT, I_GUEST_IDTR_BASE, I_GUEST_IDTR_LIMIT, I_GUEST_INTERRUPTIBILITY, I_GUEST_LIMIT, I_GUEST_PAT,
  I_GUEST_PDPTE, I_GUEST_PENDING_DBG, I_GUEST_RFLAGS, I_GUEST_RIP, I_GUEST_RSP, I_GUEST_SEL, I_GUEST_SYSENTER_CS,
  I_GUEST_SYSENTER_EIP, I_GUEST_SYSENTER_ESP, MSR_PAT, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP,
  PIN_VIRTUAL_NMIS, PROC2_EPT,
} from './vmExitFields';
import type { TransitionState } from './vmExitFields';

const DR7_FORCED0 = (1 << 12) | (3 << 14);
const RFLAGS_VM = 1 << 17;
const RFLAGS_RF = 1 << 16;

/** Load the guest-state area of `v` into the processor (§26.3.2; see the file comment). */
export function loadGuestState(engine: VmxEngine, v: Vmcs, st: TransitionState): void {
  const c = engine.cpu;
  const lo = v.lo, hi = v.hi;
  const e = engine.entryCtls;
  // ---- §26.3.2.1 ----
  c.cr0 = (c.cr0 & CR0_KEEP) | (lo[I_GUEST_CR0] & ~CR0_KEEP);
  const oldCr4 = c.cr4;
  c.cr4 = lo[I_GUEST_CR4];
  c.cr3Lo = lo[I_GUEST_CR3];
  c.cr3Hi = hi[I_GUEST_CR3];
  if ((e & ENTRY_LOAD_DEBUG) !== 0) {
    const dr7 = ((lo[I_GUEST_DR7] & ~DR7_FORCED0) | 0x400) >>> 0;
    if (dr7 !== c.dr7 >>> 0 || ((oldCr4 ^ c.cr4) & 8) !== 0) {
      c.dr7 = dr7 | 0;
      updateDebugState(c);
    }
    st.debugctlLo = lo[I_GUEST_DEBUGCTL];
    st.debugctlHi = hi[I_GUEST_DEBUGCTL];
  } else if (((oldCr4 ^ c.cr4) & 8) !== 0) {
    updateDebugState(c);
  }
  putMsr(c, MSR_SYSENTER_CS, lo[I_GUEST_SYSENTER_CS], 0);
  putMsr(c, MSR_SYSENTER_ESP, lo[I_GUEST_SYSENTER_ESP], hi[I_GUEST_SYSENTER_ESP]);
  putMsr(c, MSR_SYSENTER_EIP, lo[I_GUEST_SYSENTER_EIP], hi[I_GUEST_SYSENTER_EIP]);
  if ((e & ENTRY_LOAD_EFER) !== 0) c.efer = lo[I_GUEST_EFER];
  else c.efer = (e & ENTRY_IA32E) !== 0 ? c.efer | EFER_LMA | EFER_LME : c.efer & ~(EFER_LMA | EFER_LME);
  if ((e & ENTRY_LOAD_PAT) !== 0) putMsr(c, MSR_PAT, lo[I_GUEST_PAT], hi[I_GUEST_PAT]);

  // ---- §26.3.2.2 ----
  for (let s = 0; s < 8; s++) {
    c.segSel[s] = lo[I_GUEST_SEL[s]] & 0xffff;
    c.segBaseLo[s] = lo[I_GUEST_BASE[s]];
    c.segBaseHi[s] = hi[I_GUEST_BASE[s]];
    c.segLimit[s] = lo[I_GUEST_LIMIT[s]] >>> 0;
    c.segAttr[s] = lo[I_GUEST_AR[s]];
  }
  c.gdtrBaseLo = lo[I_GUEST_GDTR_BASE];
  c.gdtrBaseHi = hi[I_GUEST_GDTR_BASE];
  c.gdtrLimit = lo[I_GUEST_GDTR_LIMIT] & 0xffff;
  c.idtrBaseLo = lo[I_GUEST_IDTR_BASE];
  c.idtrBaseHi = hi[I_GUEST_IDTR_BASE];
  c.idtrLimit = lo[I_GUEST_IDTR_LIMIT] & 0xffff;

  // ---- §26.3.2.3 ----
  c.ripLo = lo[I_GUEST_RIP];
  c.ripHi = hi[I_GUEST_RIP];
  c.lo[4] = lo[I_GUEST_RSP];
  c.hi[4] = hi[I_GUEST_RSP];
  const rflags = lo[I_GUEST_RFLAGS];
  c.setRflags(rflags);
  // CPL = SS.DPL (§24.4.1); real-address mode runs at 0, virtual-8086 mode at 3 (checked equal).
  c.cpl = (c.cr0 & 1) === 0 ? 0 : (rflags & RFLAGS_VM) !== 0 ? 3 : (c.segAttr[2] >>> 5) & 3;
  applyMode(c);

  // ---- §26.3.2.4 PDPTEs ----
  if ((c.cr0 & CR0_PG) !== 0 && (c.cr4 & CR4_PAE) !== 0 && (c.efer & EFER_LMA) === 0) {
    if ((engine.proc2 & PROC2_EPT) !== 0) {
      for (let i = 0; i < 4; i++) setPdpteRegister(c, i, lo[I_GUEST_PDPTE[i]], hi[I_GUEST_PDPTE[i]]);
    } else {
      // The guest-state checks (§26.3.1.6) already read and accepted them.
      loadPdptes(c);
    }
  }

  // ---- interruptibility and pending debug exceptions (§24.4.2, §26.6.3) ----
  const intr = lo[I_GUEST_INTERRUPTIBILITY];
  c.interruptShadow = (intr & 3) !== 0;
  st.virtualNmis = (engine.pin & PIN_VIRTUAL_NMIS) !== 0;
  if (st.virtualNmis) st.hostNmiBlocked = c.nmiBlocked;
  c.nmiBlocked = (intr & 8) !== 0;
  const dbg = lo[I_GUEST_PENDING_DBG];
  c.stepArmed = (dbg & 0x4000) !== 0;
  c.dbgHits = dbg & 0xf;
  // RFLAGS.RF = 1 suppresses instruction breakpoints for the first instruction, then clears (vol. 3B §17.3.1.1).
  c.rfPending = (rflags & RFLAGS_RF) !== 0;
  c.rfArmed = false;
  c.eventPending = true;
}
