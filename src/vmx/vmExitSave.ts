/**
 * Saving guest state on a VM exit (SDM vol. 3C §27.3). The values go straight into the VMCS
 * arrays without counting as writes (vmcs.writeEpoch): they are the processor's own state, which
 * the guest-state checks accept (entryChecks.ts relies on that).
 *
 * §27.3.1: CR0 and CR4 as they are (not the read shadows), CR3; DR7 and IA32_DEBUGCTL with "save
 * debug controls"; the SYSENTER MSRs; IA32_PAT / IA32_EFER with "save IA32_PAT" / "save
 * IA32_EFER". §27.3.2: selector, base, limit (bytes) and access rights of ES..GS, LDTR, TR
 * (access-rights bits 31:17 and 11:8 saved as 0, the unusable bit as 1 for an unusable
 * register); GDTR/IDTR base and limit. §27.3.3: RIP (the exit's), RSP, RFLAGS. §27.3.4: the
 * activity state and the VMX-preemption timer (eventExits.ts eventsOnVmExit), interruptibility
 * (bit 0 STI or bit 1 MOV SS blocking — the processor keeps one interrupt shadow, reported as
 * STI blocking when RFLAGS.IF = 1 and as MOV-SS blocking otherwise; bit 3 (virtual-)NMI
 * blocking), pending debug exceptions (see keepsPendingDebug), and the PDPTEs when EPT is on with
 * PAE paging. §27.3.3's RFLAGS.RF rules for instruction, APIC-access and EPT exits are applied
 * here (RF_RULE); for exits caused by exceptions (reason 0) eventExits.ts knows the vector.
 */
import { pdpteHi, pdpteRegister } from '../x86/paging';
import { getStored } from '../x86/msr';
import type { VmxEngine } from './engine';
import type { Vmcs } from './vmcs';
import { eventsOnVmExit } from './eventExits';
import {
  CR0_PG, CR4_PAE, EFER_LMA, ENTRY_IA32E, I_ENTRY_CTLS, EXIT_SAVE_DEBUG, EXIT_SAVE_EFER, EXIT_SAVE_PAT, I_GUEST_AR, I_GUEST_BASE, I_GUEST_CR0,
  I_GUEST_CR3, I_GUEST_CR4, I_GUEST_DEBUGCTL, I_GUEST_DR7, I_GUEST_EFER, I_GUEST_GDTR_BASE, I_GUEST_GDTR_LIMIT,
  I_GUEST_IDTR_BASE, I_GUEST_IDTR_LIMIT, I_GUEST_INTERRUPTIBILITY, I_GUEST_LIMIT, I_GUEST_PAT, I_GUEST_PDPTE,
  I_GUEST_PENDING_DBG, I_GUEST_RFLAGS, I_GUEST_RIP, I_GUEST_RSP, I_GUEST_SEL, I_GUEST_SYSENTER_CS,
  I_GUEST_SYSENTER_EIP, I_GUEST_SYSENTER_ESP, MSR_PAT, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, PROC2_EPT,
} from './vmExitFields';
import type { TransitionState } from './vmExitFields';

const IF = 1 << 9;
/** Access-rights bits the VMCS keeps (§24.4.1: 31:17 and 11:8 reserved). */
const AR_MASK = 0x1f0ff;

/** §27.3.3 RFLAGS.RF: 1 = saved as 0 (instruction-caused exits), 2 = saved as 1 (APIC access, EPT), 0 = as it is. */
const RF_RULE = new Uint8Array(128);
// Appendix C: exits caused by executing an instruction (unconditionally or by a control).
for (const r of [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 36, 39, 40,
  46, 47, 50, 51, 53, 54, 55, 57, 58, 59, 60, 61, 63, 64, 67, 68, 69]) RF_RULE[r] = 1;
// APIC access (44), EPT violation (48), EPT misconfiguration (49): RF = 1 when not during event
// delivery (for an exit during delivery the RF of the event's frame would apply; the model saves 1).
RF_RULE[44] = 2;
RF_RULE[48] = 2;
RF_RULE[49] = 2;
const RF = 1 << 16;

/**
 * §27.3.4: the pending debug exceptions are saved only for INIT (3), MTF (37) and TPR below
 * threshold (43) exits — and for exits under MOV-SS blocking of debug exceptions, which the
 * processor model does not distinguish from STI blocking — and saved as 0 for every other exit.
 */
function keepsPendingDebug(reason: number): boolean {
  return reason === 3 || reason === 37 || reason === 43;
}

export function saveGuestState(engine: VmxEngine, v: Vmcs, st: TransitionState, reason: number, ripLo: number, ripHi: number): void {
  const c = engine.cpu;
  const lo = v.lo, hi = v.hi;
  const x = engine.exitCtls;
  // ---- §27.3.1 ----
  lo[I_GUEST_CR0] = c.cr0;
  hi[I_GUEST_CR0] = 0;
  lo[I_GUEST_CR3] = c.cr3Lo;
  hi[I_GUEST_CR3] = c.cr3Hi;
  lo[I_GUEST_CR4] = c.cr4;
  hi[I_GUEST_CR4] = 0;
  if ((x & EXIT_SAVE_DEBUG) !== 0) {
    lo[I_GUEST_DR7] = c.dr7;
    hi[I_GUEST_DR7] = 0;
    lo[I_GUEST_DEBUGCTL] = st.debugctlLo;
    hi[I_GUEST_DEBUGCTL] = st.debugctlHi;
  }
  lo[I_GUEST_SYSENTER_CS] = st.sysCs = getStored(c, MSR_SYSENTER_CS);
  lo[I_GUEST_SYSENTER_ESP] = st.sysEspLo = getStored(c, MSR_SYSENTER_ESP);
  hi[I_GUEST_SYSENTER_ESP] = st.sysEspHi = c.vHi;
  lo[I_GUEST_SYSENTER_EIP] = st.sysEipLo = getStored(c, MSR_SYSENTER_EIP);
  hi[I_GUEST_SYSENTER_EIP] = st.sysEipHi = c.vHi;
  if ((x & EXIT_SAVE_PAT) !== 0) {
    lo[I_GUEST_PAT] = getStored(c, MSR_PAT);
    hi[I_GUEST_PAT] = c.vHi;
  }
  if ((x & EXIT_SAVE_EFER) !== 0) {
    lo[I_GUEST_EFER] = c.efer;
    hi[I_GUEST_EFER] = 0;
  }
  // ---- §27.3.2 ----
  for (let s = 0; s < 8; s++) {
    lo[I_GUEST_SEL[s]] = c.segSel[s];
    lo[I_GUEST_BASE[s]] = c.segBaseLo[s];
    hi[I_GUEST_BASE[s]] = c.segBaseHi[s];
    lo[I_GUEST_LIMIT[s]] = c.segLimit[s] | 0;
    lo[I_GUEST_AR[s]] = c.segAttr[s] & AR_MASK;
  }
  lo[I_GUEST_GDTR_BASE] = c.gdtrBaseLo;
  hi[I_GUEST_GDTR_BASE] = c.gdtrBaseHi;
  lo[I_GUEST_GDTR_LIMIT] = c.gdtrLimit & 0xffff;
  lo[I_GUEST_IDTR_BASE] = c.idtrBaseLo;
  hi[I_GUEST_IDTR_BASE] = c.idtrBaseHi;
  lo[I_GUEST_IDTR_LIMIT] = c.idtrLimit & 0xffff;
  // ---- §27.3.3 ----
  lo[I_GUEST_RIP] = ripLo;
  hi[I_GUEST_RIP] = ripHi;
  lo[I_GUEST_RSP] = c.lo[4];
  hi[I_GUEST_RSP] = c.hi[4];
  const rule = RF_RULE[reason & 0x7f];
  const rflags = c.getRflags();
  lo[I_GUEST_RFLAGS] = rule === 0 ? rflags : rule === 1 ? rflags & ~RF : rflags | RF;
  hi[I_GUEST_RFLAGS] = 0;
  // ---- §27.3.4 ----
  const flags = c.flagsRest;
  lo[I_GUEST_INTERRUPTIBILITY] = (c.interruptShadow ? ((flags & IF) !== 0 ? 1 : 2) : 0) | (c.nmiBlocked ? 8 : 0);
  if (keepsPendingDebug(reason)) {
    // B3:0 the matched breakpoints, bit 12 when one of them is enabled in DR7, BS for a pending
    // single-step trap (RFLAGS.TF = 1 when the instruction began).
    const b = c.dbgHits & 0xf;
    let enabled = 0;
    for (let k = 0; k < 4; k++) if (((b >> k) & 1) !== 0 && ((c.dr7 >>> (2 * k)) & 3) !== 0) enabled = 0x1000;
    lo[I_GUEST_PENDING_DBG] = (c.stepArmed ? 0x4000 : 0) | b | enabled;
  } else {
    lo[I_GUEST_PENDING_DBG] = 0;
  }
  hi[I_GUEST_PENDING_DBG] = 0;
  if ((engine.proc2 & PROC2_EPT) !== 0 && (c.cr0 & CR0_PG) !== 0 && (c.cr4 & CR4_PAE) !== 0 && (c.efer & EFER_LMA) === 0) {
    for (let i = 0; i < 4; i++) {
      lo[I_GUEST_PDPTE[i]] = pdpteRegister(c, i);
      hi[I_GUEST_PDPTE[i]] = pdpteHi;
    }
  }
  // IA32_VMX_MISC bit 5 (1 in capabilities.ts): the exit stores IA32_EFER.LMA into the "IA-32e mode
  // guest" entry control (§27.2, appendix A.6). A change is a write the entry checks must see.
  const ia32e = (c.efer & EFER_LMA) !== 0 ? ENTRY_IA32E : 0;
  if (st.storeLma && (lo[I_ENTRY_CTLS] & ENTRY_IA32E) !== ia32e) v.set32(I_ENTRY_CTLS, (lo[I_ENTRY_CTLS] & ~ENTRY_IA32E) | ia32e);
  // Activity state and preemption timer (EVENTS' part of §27.3.4).
  eventsOnVmExit(engine);
}

const I_RFLAGS = I_GUEST_RFLAGS;
/**
 * §27.3.3 for exits caused directly by an exception (reason 0) — the saved RF is the one the
 * exception's frame would hold: 1 for a fault other than an instruction-breakpoint #DB. For
 * eventExits.ts, after `engine.exit(...)` of such an exit (performVmExit cannot tell a fault
 * from a trap: the vector is recorded afterwards).
 */
export function saveRfOfFault(engine: VmxEngine): void {
  const v = engine.current;
  if (v !== null) v.lo[I_RFLAGS] |= RF;
}
