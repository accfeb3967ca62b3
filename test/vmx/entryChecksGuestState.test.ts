/**
 * §26.3.1.5 (activity state, interruptibility, pending debug exceptions, VMCS link pointer) and
 * §26.3.1.6 (PDPTEs) guest-state checks, with the §26.8 exit qualifications: 3 for NMI injection
 * under STI blocking, 4 for the VMCS link pointer, 2 for a PDPTE, 0 otherwise.
 */
import { setStored, getStored } from '../../src/x86/msr';
import { runCases, Case } from './entryChecksCases';
import { Fixture, PIN, PROC2, REVISION, VMCS_ADDR, guest } from './entryChecksFixture';

const G5 = (m: string, q = 0) => guest(`26.3.1.5 ${m}`, q);
const INJ = 'VM_ENTRY_INTERRUPTION_INFORMATION';
const inj = (type: number, vector: number, err = false) => (0x80000000 | (type << 8) | vector | (err ? 0x800 : 0)) >>> 0;
const act = (v: number) => (fx: Fixture) => fx.set('GUEST_ACTIVITY_STATE', v);
const intr = (v: number) => (fx: Fixture) => fx.set('GUEST_INTERRUPTIBILITY_STATE', v);
const IF = (fx: Fixture) => fx.set('GUEST_RFLAGS', 0x202);
const pend = (v: number | bigint) => (fx: Fixture) => fx.set('GUEST_PENDING_DEBUG_EXCEPTIONS', v);
/** A guest running at CPL 3 (conforming CS, SS/DS.. DPL 3): HLT state is refused there. */
const cpl3 = (fx: Fixture) => {
  fx.set('GUEST_CS_ACCESS_RIGHTS', 0xa09f);
  fx.set('GUEST_CS_SELECTOR', 0x0b);
  fx.set('GUEST_SS_SELECTOR', 0x13);
  for (const s of ['SS', 'DS', 'ES', 'FS', 'GS']) fx.set(`GUEST_${s}_ACCESS_RIGHTS`, 0xc0f3);
};
const link = (addr: number | bigint) => (fx: Fixture) => fx.set('VMCS_LINK_POINTER', addr);
const rev = (fx: Fixture, at: number, v: number) => fx.mem.load(at, Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24));
const pdpte = (fx: Fixture, k: number, lo: number, hi = 0, base = 0x2000) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, lo >>> 0, true);
  new DataView(b.buffer).setUint32(4, hi >>> 0, true);
  fx.mem.load(base + k * 8, b);
};
const PD = (k: number) => guest(`26.3.1.6 PDPTE${k} reserved bits`, 2);
const ept = (fx: Fixture) => {
  fx.or('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', PROC2('ENABLE_EPT'));
  for (let k = 0; k < 4; k++) fx.set(`GUEST_PDPTE${k}`, 0x3001 + k * 0x1000);
};

const cases: Case[] = [
  // ---- activity state ----
  ...[1, 2, 3].map((a): Case => ({ name: `activity state ${a} passes`, change: act(a), expect: null })),
  { name: 'activity state 4', change: act(4), expect: G5('activity state not supported') },
  { name: 'activity state 0xffffffff', change: act(0xffffffff), expect: G5('activity state not supported') },
  ...[1, 2, 3].map((a): Case => ({ name: `activity state ${a} not reported by IA32_VMX_MISC`, setup: (fx) => { const lo = getStored(fx.cpu, 0x485); setStored(fx.cpu, 0x485, lo & ~(1 << (5 + a)), 0); }, change: act(a), expect: G5('activity state not supported') })),
  { name: 'HLT state with SS.DPL 3', change: (fx) => { cpl3(fx); act(1)(fx); }, expect: G5('HLT activity state with SS.DPL not 0') },
  { name: 'CPL 3 guest in the active state passes', change: cpl3, expect: null },
  { name: 'HLT state with blocking by STI', change: (fx) => { IF(fx); intr(1)(fx); act(1)(fx); }, expect: G5('inactive state with STI or MOV-SS blocking') },
  { name: 'shutdown state with blocking by MOV-SS', change: (fx) => { intr(2)(fx); act(2)(fx); }, expect: G5('inactive state with STI or MOV-SS blocking') },
  { name: 'wait-for-SIPI state with blocking by MOV-SS', change: (fx) => { intr(2)(fx); act(3)(fx); }, expect: G5('inactive state with STI or MOV-SS blocking') },
  { name: 'HLT state: external interrupt injection passes', change: (fx) => { IF(fx); act(1)(fx); fx.set(INJ, inj(0, 0x30)); }, expect: null },
  { name: 'HLT state: NMI injection passes', change: (fx) => { act(1)(fx); fx.set(INJ, inj(2, 2)); }, expect: null },
  { name: 'HLT state: #DB injection passes', change: (fx) => { act(1)(fx); fx.set(INJ, inj(3, 1)); }, expect: null },
  { name: 'HLT state: #MC injection passes', change: (fx) => { act(1)(fx); fx.set(INJ, inj(3, 18)); }, expect: null },
  { name: 'HLT state: pending MTF (other event) injection passes', change: (fx) => { act(1)(fx); fx.set(INJ, inj(7, 0)); }, expect: null },
  { name: 'HLT state: #GP injection', change: (fx) => { act(1)(fx); fx.set(INJ, inj(3, 13, true)); }, expect: G5('injected event blocked in the activity state') },
  { name: 'HLT state: #BP (hardware exception type) injection', change: (fx) => { act(1)(fx); fx.set(INJ, inj(3, 3)); }, expect: G5('injected event blocked in the activity state') },
  { name: 'HLT state: software interrupt injection', change: (fx) => { act(1)(fx); fx.set(INJ, inj(4, 0x80)); fx.set('VM_ENTRY_INSTRUCTION_LENGTH', 2); }, expect: G5('injected event blocked in the activity state') },
  { name: 'HLT state: software #DB (privileged software exception) injection', change: (fx) => { act(1)(fx); fx.set(INJ, inj(5, 1)); fx.set('VM_ENTRY_INSTRUCTION_LENGTH', 1); }, expect: G5('injected event blocked in the activity state') },
  { name: 'shutdown state: NMI injection passes', change: (fx) => { act(2)(fx); fx.set(INJ, inj(2, 2)); }, expect: null },
  { name: 'shutdown state: #MC injection passes', change: (fx) => { act(2)(fx); fx.set(INJ, inj(3, 18)); }, expect: null },
  { name: 'shutdown state: external interrupt injection', change: (fx) => { IF(fx); act(2)(fx); fx.set(INJ, inj(0, 0x30)); }, expect: G5('injected event blocked in the activity state') },
  { name: 'shutdown state: #DB injection', change: (fx) => { act(2)(fx); fx.set(INJ, inj(3, 1)); }, expect: G5('injected event blocked in the activity state') },
  { name: 'wait-for-SIPI state: NMI injection', change: (fx) => { act(3)(fx); fx.set(INJ, inj(2, 2)); }, expect: G5('injected event blocked in the activity state') },
  { name: 'wait-for-SIPI state: #MC injection', change: (fx) => { act(3)(fx); fx.set(INJ, inj(3, 18)); }, expect: G5('injected event blocked in the activity state') },
  // ---- interruptibility ----
  { name: 'interruptibility bit 4 (enclave interruption, no SGX)', change: intr(0x10), expect: G5('interruptibility reserved bits') },
  { name: 'interruptibility bit 31', change: intr(0x80000000), expect: G5('interruptibility reserved bits') },
  { name: 'blocking by STI and MOV-SS', change: (fx) => { IF(fx); intr(3)(fx); }, expect: G5('blocking by both STI and MOV-SS') },
  { name: 'blocking by STI with RFLAGS.IF = 0', change: intr(1), expect: G5('blocking by STI with RFLAGS.IF = 0') },
  { name: 'blocking by STI with RFLAGS.IF = 1 passes', change: (fx) => { IF(fx); intr(1)(fx); }, expect: null },
  { name: 'blocking by MOV-SS with RFLAGS.IF = 0 passes', change: intr(2), expect: null },
  { name: 'external interrupt injected under MOV-SS blocking', change: (fx) => { IF(fx); intr(2)(fx); fx.set(INJ, inj(0, 0x30)); }, expect: G5('external interrupt injected under STI or MOV-SS blocking') },
  { name: 'external interrupt injected under STI blocking', change: (fx) => { IF(fx); intr(1)(fx); fx.set(INJ, inj(0, 0x30)); }, expect: G5('external interrupt injected under STI or MOV-SS blocking') },
  { name: 'NMI injected under MOV-SS blocking', change: (fx) => { intr(2)(fx); fx.set(INJ, inj(2, 2)); }, expect: G5('NMI injected under MOV-SS blocking') },
  { name: 'NMI injected under STI blocking (qualification 3)', change: (fx) => { IF(fx); intr(1)(fx); fx.set(INJ, inj(2, 2)); }, expect: G5('NMI injected under STI blocking', 3) },
  { name: 'hardware exception injected under STI blocking passes', change: (fx) => { IF(fx); intr(1)(fx); fx.set(INJ, inj(3, 6)); }, expect: null },
  { name: 'blocking by SMI outside SMM', change: intr(4), expect: G5('blocking by SMI outside SMM') },
  { name: 'blocking by NMI passes', change: intr(8), expect: null },
  { name: 'NMI injection with blocking by NMI passes without virtual NMIs', change: (fx) => { intr(8)(fx); fx.set(INJ, inj(2, 2)); }, expect: null },
  { name: 'NMI injection with virtual-NMI blocking', change: (fx) => { fx.or('PIN_BASED_VM_EXECUTION_CONTROLS', PIN('NMI_EXITING') | PIN('VIRTUAL_NMIS')); intr(8)(fx); fx.set(INJ, inj(2, 2)); }, expect: G5('virtual-NMI blocking with NMI injection') },
  { name: 'virtual-NMI blocking without NMI injection passes', change: (fx) => { fx.or('PIN_BASED_VM_EXECUTION_CONTROLS', PIN('NMI_EXITING') | PIN('VIRTUAL_NMIS')); intr(8)(fx); }, expect: null },
  // ---- pending debug exceptions ----
  ...[4, 11, 13, 15, 17, 31].map((b): Case => ({ name: `pending debug exceptions bit ${b}`, change: pend((1 << b) >>> 0), expect: G5('pending debug exceptions reserved bits') })),
  { name: 'pending debug exceptions bit 40', change: pend(1n << 40n), expect: G5('pending debug exceptions reserved bits') },
  { name: 'pending debug exceptions RTM bit without RTM support', change: pend(0x11000), expect: G5('pending debug exceptions RTM without RTM support') },
  { name: 'pending debug exceptions B3-B0 and enabled breakpoint pass', change: pend(0x100f), expect: null },
  { name: 'pending BS with TF and no blocking passes', change: (fx) => { fx.set('GUEST_RFLAGS', 0x102); pend(0x4000)(fx); }, expect: null },
  { name: 'STI blocking, TF = 1, BTF = 0, BS = 0', change: (fx) => { fx.set('GUEST_RFLAGS', 0x302); intr(1)(fx); }, expect: G5('pending debug exceptions BS clear with TF set') },
  { name: 'MOV-SS blocking, TF = 1, BTF = 0, BS = 0', change: (fx) => { fx.set('GUEST_RFLAGS', 0x102); intr(2)(fx); }, expect: G5('pending debug exceptions BS clear with TF set') },
  { name: 'HLT state, TF = 1, BTF = 0, BS = 0', change: (fx) => { fx.set('GUEST_RFLAGS', 0x102); act(1)(fx); }, expect: G5('pending debug exceptions BS clear with TF set') },
  { name: 'STI blocking, TF = 1, BTF = 0, BS = 1 passes', change: (fx) => { fx.set('GUEST_RFLAGS', 0x302); intr(1)(fx); pend(0x4000)(fx); }, expect: null },
  { name: 'MOV-SS blocking, TF = 0, BS = 1', change: (fx) => { intr(2)(fx); pend(0x4000)(fx); }, expect: G5('pending debug exceptions BS set without single-step') },
  { name: 'HLT state, TF = 1, BTF = 1, BS = 1', change: (fx) => { fx.set('GUEST_RFLAGS', 0x102); fx.set('GUEST_IA32_DEBUGCTL', 2); act(1)(fx); pend(0x4000)(fx); }, expect: G5('pending debug exceptions BS set without single-step') },
  { name: 'HLT state, TF = 1, BTF = 1, BS = 0 passes', change: (fx) => { fx.set('GUEST_RFLAGS', 0x102); fx.set('GUEST_IA32_DEBUGCTL', 2); act(1)(fx); }, expect: null },
  // ---- VMCS link pointer (qualification 4) ----
  { name: 'link pointer not 4-KByte aligned', change: link(0x11008), expect: G5('VMCS link pointer address', 4) },
  { name: 'link pointer beyond the physical-address width', change: link(1n << 39n), expect: G5('VMCS link pointer address', 4) },
  { name: 'link pointer 0xffffffff (not all 64 ones)', change: link(0xffffffff), expect: G5('VMCS link pointer address', 4) },
  { name: 'link pointer to a region with another revision identifier', change: (fx) => { rev(fx, 0x11000, REVISION + 1); link(0x11000)(fx); }, expect: G5('VMCS link pointer revision identifier', 4) },
  { name: 'link pointer to a shadow VMCS without VMCS shadowing', change: (fx) => { rev(fx, 0x11000, (REVISION | 0x80000000) >>> 0); link(0x11000)(fx); }, expect: G5('VMCS link pointer revision identifier', 4) },
  { name: 'link pointer to an ordinary VMCS passes', change: (fx) => { rev(fx, 0x11000, REVISION); link(0x11000)(fx); }, expect: null },
  { name: 'link pointer to the current VMCS', change: (fx) => { rev(fx, VMCS_ADDR, REVISION); link(VMCS_ADDR)(fx); }, expect: G5('VMCS link pointer is the current VMCS', 4) },
  { name: 'link pointer region rewritten in memory after a passing entry', setup: (fx) => { rev(fx, 0x11000, REVISION); link(0x11000)(fx); }, change: (fx) => rev(fx, 0x11000, 7), expect: G5('VMCS link pointer revision identifier', 4) },
  // ---- PDPTEs (qualification 2) ----
  { name: 'PAE guest with valid PDPTEs passes', kind: '32pae', change: () => undefined, expect: null },
  ...[1, 2, 5, 6, 7, 8].map((b): Case => ({ name: `PDPTE0 reserved bit ${b} (from memory, no EPT)`, kind: '32pae', change: (fx) => pdpte(fx, 0, 0x3001 | (1 << b)), expect: PD(0) })),
  { name: 'PDPTE3 reserved bit 63 (execute-disable is reserved in PDPTEs)', kind: '32pae', change: (fx) => pdpte(fx, 3, 0x6001, 0x80000000), expect: PD(3) },
  { name: 'PDPTE2 address bit 39 (beyond width)', kind: '32pae', change: (fx) => pdpte(fx, 2, 0x5001, 0x80), expect: PD(2) },
  { name: 'non-present PDPTE with reserved bits passes', kind: '32pae', change: (fx) => pdpte(fx, 1, 0xfffffffe, -1), expect: null },
  { name: 'PDPTE with PWT, PCD and available bits passes', kind: '32pae', change: (fx) => pdpte(fx, 1, 0x4e19), expect: null },
  { name: 'PDPTE made bad in memory after a passing entry (no VMWRITE)', kind: '32pae', change: (fx) => pdpte(fx, 1, 0x4003), expect: PD(1) },
  { name: 'PDPT found at CR3 bits 31:5', kind: '32pae', change: (fx) => { fx.set('GUEST_CR3', 0x2020); pdpte(fx, 0, 0x3001, 0, 0x2020); pdpte(fx, 1, 0x3003, 0, 0x2020); }, expect: PD(1) },
  { name: 'PDPTEs not checked with 32-bit paging (CR4.PAE = 0)', kind: '32pae', change: (fx) => { fx.set('GUEST_CR4', 0x2000); pdpte(fx, 0, 0x3003); }, expect: null },
  { name: 'PDPTEs not checked for an IA-32e mode guest', change: (fx) => pdpte(fx, 0, 0x3003), expect: null },
  { name: 'PDPTEs not checked without paging (unrestricted guest)', kind: 'real', change: (fx) => { fx.set('GUEST_CR4', 0x2020); pdpte(fx, 0, 0x3003, 0, 0); }, expect: null },
  { name: 'with EPT the PDPTE fields are checked, not memory', kind: '32pae', change: (fx) => { ept(fx); pdpte(fx, 0, 0x3003); }, expect: null },
  { name: 'with EPT a bad PDPTE2 field', kind: '32pae', change: (fx) => { ept(fx); fx.set('GUEST_PDPTE2', 0x5081); }, expect: PD(2) },
  { name: 'with EPT a bad PDPTE0 field beyond width', kind: '32pae', change: (fx) => { ept(fx); fx.set('GUEST_PDPTE0', (1n << 45n) | 1n); }, expect: PD(0) },
  // ---- order ----
  { name: 'order: activity before interruptibility', change: (fx) => { act(5)(fx); intr(0x20)(fx); }, expect: G5('activity state not supported') },
  { name: 'order: interruptibility before pending debug exceptions', change: (fx) => { intr(4)(fx); pend(0x10)(fx); }, expect: G5('blocking by SMI outside SMM') },
  { name: 'order: pending debug exceptions before the link pointer', change: (fx) => { pend(0x10)(fx); link(1)(fx); }, expect: G5('pending debug exceptions reserved bits') },
  { name: 'order: link pointer before PDPTEs', kind: '32pae', change: (fx) => { link(1)(fx); pdpte(fx, 0, 0x3003); }, expect: G5('VMCS link pointer address', 4) },
  { name: 'order: RFLAGS before activity state', change: (fx) => { fx.set('GUEST_RFLAGS', 0); act(9)(fx); }, expect: guest('26.3.1.4 guest RFLAGS reserved bits') },
];

runCases('§26.3.1.5-26.3.1.6 guest non-register state', cases);
