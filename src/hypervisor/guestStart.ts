/**
 * The guest's start state in VMCS guest-state fields (reference §2 "Guest state"), from a
 * loader's boot plan:
 *  - real mode (flat images, the seed's start under unrestricted guest): CS:IP = 0:entry (or
 *    (entry >> 4):(entry & 0xF) above 64 KiB), CR0 = 0x6000_0010 (ET, NW, CD), CR4 = 0, data
 *    segments selector 0, base 0, limit 0xFFFF, access rights 0x93 (CS 0x9B), TR 0x8B, LDTR
 *    0x82, GDTR/IDTR base 0 limit 0xFFFF, CR3 0, DR7 0x400, RSP from the plan (0x7C00 for a
 *    boot-sector guest; the seed's 0 otherwise), RFLAGS 0x2;
 *  - 32-bit protected mode (Multiboot: SDM vol. 3A §9.9, Multiboot 0.6.96 §3.2) and 64-bit mode
 *    (the ELF convenience boot) from the plan's GDT, segments, CR3 and registers.
 * Always: interruptibility 0, activity 0, preemption-timer value 1,000,000 (timer not enabled),
 * VMCS link pointer all ones, DEBUGCTL 0, PAT = host PAT.
 *
 * CR0 and CR4 follow the seed's masks and shadows (crPolicy.ts): the guest reads what it wrote;
 * the real registers have the bits VMX operation needs.
 */
import type { BootPlan, SegmentStart } from '../vmm/loaders/bootPlan';
import type { VmcsAccess } from './setup';
import { crInitial, type CrPolicy } from './crPolicy';

const SEGS = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'] as const;
const UNUSABLE = 0x10000;
export const PREEMPTION_TIMER_START = 1_000_000;

function segment(v: VmcsAccess, name: string, s: SegmentStart): void {
  v.write(`GUEST_${name}_SELECTOR`, s.selector);
  v.write(`GUEST_${name}_BASE`, s.base);
  v.write(`GUEST_${name}_LIMIT`, s.limit >>> 0);
  v.write(`GUEST_${name}_ACCESS_RIGHTS`, s.attr);
}

/** Write the guest state for `plan`; returns the CR0/CR4 values the guest believes it has. */
export function writeGuestStart(v: VmcsAccess, plan: BootPlan, policy: CrPolicy): { cr0: number; cr4: number; efer: number } {
  const regs = plan.regs;
  let cr0: number, cr4: number, efer: bigint;
  if (plan.mode === 'real') {
    cr0 = 0x60000010;
    cr4 = 0;
    efer = 0n;
    const sel = plan.entry < 0x10000 ? 0 : plan.entry >>> 4;
    for (const s of SEGS) {
      if (s === 'CS') segment(v, s, { selector: sel, base: sel << 4, limit: 0xffff, attr: 0x9b });
      else segment(v, s, { selector: 0, base: 0, limit: 0xffff, attr: 0x93 });
    }
    segment(v, 'LDTR', { selector: 0, base: 0, limit: 0xffff, attr: 0x82 });
    segment(v, 'TR', { selector: 0, base: 0, limit: 0xffff, attr: 0x8b });
    v.write('GUEST_GDTR_BASE', 0);
    v.write('GUEST_GDTR_LIMIT', 0xffff);
    v.write('GUEST_IDTR_BASE', 0);
    v.write('GUEST_IDTR_LIMIT', 0xffff);
    v.write('GUEST_CR3', 0);
    v.write('GUEST_RIP', plan.entry - (sel << 4));
    v.write('GUEST_RSP', (regs.rsp ?? 0n) & 0xffffn);
  } else {
    if (plan.gdt === undefined || plan.segments === undefined) throw new Error(`a ${plan.mode}-mode boot plan needs a GDT and segments`);
    const long = plan.mode === 'long' || plan.mode === 'compat';
    cr0 = 0x11 | (long ? 0x80000020 : plan.format === 'flat' ? 0x20 : 0);
    cr4 = long ? 0x20 : 0;
    efer = long ? 0x500n : 0n;
    for (const s of SEGS) segment(v, s, s === 'CS' ? plan.segments.cs : plan.segments.ds);
    segment(v, 'LDTR', { selector: 0, base: 0, limit: 0, attr: UNUSABLE });
    segment(v, 'TR', { selector: 0, base: 0, limit: 0x67, attr: 0x8b });
    v.write('GUEST_GDTR_BASE', plan.gdt.base);
    v.write('GUEST_GDTR_LIMIT', plan.gdt.limit);
    // IDTR base 0, limit 0x3FF as the bare machine starts (no IDT loaded yet: flat binaries get
    // an exception report until they load one).
    v.write('GUEST_IDTR_BASE', 0);
    v.write('GUEST_IDTR_LIMIT', 0x3ff);
    v.write('GUEST_CR3', plan.cr3 ?? 0);
    v.write('GUEST_RIP', plan.entry);
    v.write('GUEST_RSP', regs.rsp ?? 0n);
  }
  const cr = crInitial(policy, cr0, cr4);
  v.write('GUEST_CR0', cr.cr0);
  v.write('CR0_READ_SHADOW', cr.shadow0);
  v.write('CR0_GUEST_HOST_MASK', cr.mask0);
  v.write('GUEST_CR4', cr.cr4);
  v.write('CR4_READ_SHADOW', cr.shadow4);
  v.write('CR4_GUEST_HOST_MASK', cr.mask4);
  v.write('GUEST_IA32_EFER', efer);
  v.write('GUEST_DR7', 0x400);
  v.write('GUEST_IA32_DEBUGCTL', 0);
  v.write('GUEST_IA32_PAT', 0x0007040600070406n);
  v.write('GUEST_IA32_SYSENTER_CS', 0);
  v.write('GUEST_IA32_SYSENTER_ESP', 0);
  v.write('GUEST_IA32_SYSENTER_EIP', 0);
  v.write('GUEST_RFLAGS', plan.rflags ?? 2);
  v.write('GUEST_INTERRUPTIBILITY_STATE', 0);
  v.write('GUEST_ACTIVITY_STATE', 0);
  v.write('GUEST_PENDING_DEBUG_EXCEPTIONS', 0);
  v.write('VMX_PREEMPTION_TIMER_VALUE', PREEMPTION_TIMER_START);
  v.write('VMCS_LINK_POINTER', 0xffffffffffffffffn);
  return { cr0, cr4, efer: Number(efer) };
}
