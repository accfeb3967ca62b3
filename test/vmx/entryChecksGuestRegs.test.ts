/**
 * §26.3.1.1 (control registers, debug registers, MSRs), §26.3.1.3 (GDTR/IDTR) and §26.3.1.4
 * (RIP, RFLAGS) guest-state checks: each failing VMCS gives a VM-entry failure, exit reason 33,
 * qualification 0, and the named check.
 */
import { getStored, setStored } from '../../src/x86/msr';
import { runCases, Case } from './entryChecksCases';
import { Fixture, ENTRY, PROC, PROC2, guest } from './entryChecksFixture';

const ENTRYF = 'VM_ENTRY_CONTROLS';
const PROC2F = 'SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS';
const W = 1n << 39n;
const NONCANON = 0x1234000000000000n;
const G1 = (m: string) => guest(`26.3.1.1 ${m}`);
const G3 = (m: string) => guest(`26.3.1.3 ${m}`);
const G4 = (m: string) => guest(`26.3.1.4 ${m}`);
const loadDebug = (fx: Fixture) => fx.or(ENTRYF, ENTRY('LOAD_DEBUG_CONTROLS'));
const loadEfer = (fx: Fixture, v: number | bigint) => { fx.or(ENTRYF, ENTRY('LOAD_IA32_EFER')); fx.set('GUEST_IA32_EFER', v); };
const allowEntry = (fx: Fixture, bits: number) => { const lo = getStored(fx.cpu, 0x490); setStored(fx.cpu, 0x490, lo, fx.cpu.vHi | bits); };
/** Segment state that satisfies the virtual-8086 rules (base = selector * 16, limit FFFFH, AR F3H). */
const v86Segs = (fx: Fixture) => {
  for (const s of ['CS', 'SS', 'DS', 'ES', 'FS', 'GS']) {
    const sel = Number(fx.get(`GUEST_${s}_SELECTOR`));
    fx.set(`GUEST_${s}_BASE`, sel * 16);
    fx.set(`GUEST_${s}_LIMIT`, 0xffff);
    fx.set(`GUEST_${s}_ACCESS_RIGHTS`, 0xf3);
  }
};
const ug = (fx: Fixture) => fx.or(PROC2F, PROC2('ENABLE_EPT') | PROC2('UNRESTRICTED_GUEST'));

const cases: Case[] = [
  // ---- CR0 ----
  { name: 'CR0.PE clear without unrestricted guest', kind: '32pae', change: (fx) => fx.set('GUEST_CR0', 0x30), expect: G1('guest CR0 fixed bits') },
  { name: 'CR0.NE clear', change: (fx) => fx.set('GUEST_CR0', 0x80000011), expect: G1('guest CR0 fixed bits') },
  { name: 'CR0.PG clear in a 32-bit guest without unrestricted guest', kind: '32pae', change: (fx) => { fx.set('GUEST_CR0', 0x31); }, expect: G1('guest CR0 fixed bits') },
  { name: 'CR0 bit 32', change: (fx) => fx.set('GUEST_CR0', 0x180000031n), expect: G1('guest CR0 fixed bits') },
  { name: 'unrestricted guest: CR0.PE = CR0.PG = 0 passes', kind: 'real', change: (fx) => fx.set('GUEST_CR0', 0x20), expect: null },
  { name: 'unrestricted guest: CR0.NE still required', kind: 'real', change: (fx) => fx.set('GUEST_CR0', 0x10), expect: G1('guest CR0 fixed bits') },
  { name: 'unrestricted guest: CR0.PE = 1, PG = 0 passes', kind: 'real', change: (fx) => { fx.set('GUEST_CR0', 0x21); fx.set('GUEST_CS_SELECTOR', 0x08); fx.set('GUEST_CS_BASE', 0); }, expect: null },
  { name: 'unrestricted guest ignored when secondary controls are not active', kind: 'real', change: (fx) => fx.andNot('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', PROC('ACTIVATE_SECONDARY_CONTROLS')), expect: G1('guest CR0 fixed bits') },
  { name: 'CR0.PG without CR0.PE (unrestricted guest)', kind: 'real', change: (fx) => fx.set('GUEST_CR0', 0x80000020), expect: G1('guest CR0.PG without CR0.PE') },
  { name: 'CR0 with CD and NW passes', change: (fx) => fx.set('GUEST_CR0', 0xe0000031), expect: null },
  // ---- CR4 ----
  { name: 'CR4.VMXE clear', change: (fx) => fx.set('GUEST_CR4', 0x20), expect: G1('guest CR4 fixed bits') },
  { name: 'CR4 bit 22 (not in FIXED1)', change: (fx) => fx.set('GUEST_CR4', 0x402020), expect: G1('guest CR4 fixed bits') },
  { name: 'CR4 bit 63', change: (fx) => fx.set('GUEST_CR4', (1n << 63n) | 0x2020n), expect: G1('guest CR4 fixed bits') },
  { name: 'CR4.CET without CR0.WP (CET allowed by FIXED1)', change: (fx) => { setStored(fx.cpu, 0x489, 0xb73fff, 0); fx.set('GUEST_CR4', 0x802020); }, expect: G1('guest CR4.CET without CR0.WP') },
  { name: 'CR4.CET with CR0.WP passes (CET allowed by FIXED1)', change: (fx) => { setStored(fx.cpu, 0x489, 0xb73fff, 0); fx.set('GUEST_CR4', 0x802020); fx.set('GUEST_CR0', 0x80010031); }, expect: null },
  // ---- DEBUGCTL ----
  { name: 'DEBUGCTL bit 2 with load debug controls', change: (fx) => { loadDebug(fx); fx.set('GUEST_IA32_DEBUGCTL', 4); }, expect: G1('guest IA32_DEBUGCTL reserved bits') },
  { name: 'DEBUGCTL bit 32 with load debug controls', change: (fx) => { loadDebug(fx); fx.set('GUEST_IA32_DEBUGCTL', 1n << 32n); }, expect: G1('guest IA32_DEBUGCTL reserved bits') },
  { name: 'DEBUGCTL LBR|BTF passes', change: (fx) => { loadDebug(fx); fx.set('GUEST_IA32_DEBUGCTL', 3); }, expect: null },
  { name: 'DEBUGCTL not checked without load debug controls', change: (fx) => fx.set('GUEST_IA32_DEBUGCTL', 0xffff), expect: null },
  // ---- IA-32e mode ----
  { name: 'IA-32e mode guest without CR0.PG (unrestricted guest)', change: (fx) => { ug(fx); fx.set('GUEST_CR0', 0x21); }, expect: G1('IA-32e mode guest without CR0.PG') },
  { name: 'IA-32e mode guest without CR4.PAE', change: (fx) => fx.set('GUEST_CR4', 0x2000), expect: G1('IA-32e mode guest without CR4.PAE') },
  { name: 'CR4.PCIDE outside IA-32e mode', kind: '32pae', change: (fx) => fx.set('GUEST_CR4', 0x22020), expect: G1('guest CR4.PCIDE outside IA-32e mode') },
  { name: 'CR4.PCIDE in IA-32e mode passes', change: (fx) => fx.set('GUEST_CR4', 0x22020), expect: null },
  // ---- CR3, DR7, SYSENTER ----
  { name: 'CR3 bit 39 (beyond width)', change: (fx) => fx.set('GUEST_CR3', W | 0x2000n), expect: G1('guest CR3 beyond physical-address width') },
  { name: 'CR3 bit 63', change: (fx) => fx.set('GUEST_CR3', (1n << 63n) | 0x2000n), expect: G1('guest CR3 beyond physical-address width') },
  { name: 'DR7 bit 32 with load debug controls', change: (fx) => { loadDebug(fx); fx.set('GUEST_DR7', 0x100000400n); }, expect: G1('guest DR7 bits 63:32 not 0') },
  { name: 'DR7 bit 32 without load debug controls passes', change: (fx) => fx.set('GUEST_DR7', 0x100000400n), expect: null },
  { name: 'SYSENTER_ESP not canonical', change: (fx) => fx.set('GUEST_IA32_SYSENTER_ESP', NONCANON), expect: G1('guest IA32_SYSENTER_ESP not canonical') },
  { name: 'SYSENTER_EIP not canonical', change: (fx) => fx.set('GUEST_IA32_SYSENTER_EIP', NONCANON), expect: G1('guest IA32_SYSENTER_EIP not canonical') },
  // ---- MSRs loaded on entry ----
  { name: 'PERF_GLOBAL_CTRL bits (control allowed by the MSR)', change: (fx) => { allowEntry(fx, ENTRY('LOAD_IA32_PERF_GLOBAL_CTRL')); fx.or(ENTRYF, ENTRY('LOAD_IA32_PERF_GLOBAL_CTRL')); fx.set('GUEST_IA32_PERF_GLOBAL_CTRL', 1); }, expect: G1('guest IA32_PERF_GLOBAL_CTRL reserved bits') },
  ...[2, 3, 8, 0x80].map((t): Case => ({ name: `PAT entry with memory type ${t}`, change: (fx) => { fx.or(ENTRYF, ENTRY('LOAD_IA32_PAT')); fx.set('GUEST_IA32_PAT', BigInt(t) << 8n); }, expect: G1('guest IA32_PAT invalid memory type') })),
  { name: 'PAT with every valid type passes', change: (fx) => { fx.or(ENTRYF, ENTRY('LOAD_IA32_PAT')); fx.set('GUEST_IA32_PAT', 0x0706050401000000n); }, expect: null },
  { name: 'EFER reserved bit 9', change: (fx) => loadEfer(fx, 0xf00), expect: G1('guest IA32_EFER reserved bits') },
  { name: 'EFER reserved bit 63', change: (fx) => loadEfer(fx, (1n << 63n) | 0xd00n), expect: G1('guest IA32_EFER reserved bits') },
  { name: 'EFER.LMA clear for an IA-32e mode guest', change: (fx) => loadEfer(fx, 0x900), expect: G1('guest IA32_EFER.LMA differs from IA-32e mode guest') },
  { name: 'EFER.LMA set for a 32-bit guest', kind: '32pae', change: (fx) => loadEfer(fx, 0x400), expect: G1('guest IA32_EFER.LMA differs from IA-32e mode guest') },
  { name: 'EFER.LME clear with LMA and paging', change: (fx) => loadEfer(fx, 0xc00), expect: G1('guest IA32_EFER.LME differs from LMA with paging') },
  { name: 'EFER.LME set without LMA in a paged 32-bit guest', kind: '32pae', change: (fx) => loadEfer(fx, 0x100), expect: G1('guest IA32_EFER.LME differs from LMA with paging') },
  { name: 'EFER.LME set without paging passes (unrestricted guest)', kind: 'real', change: (fx) => loadEfer(fx, 0x100), expect: null },
  { name: 'EFER 0xd01 for an IA-32e mode guest passes', change: (fx) => loadEfer(fx, 0xd01), expect: null },
  { name: 'BNDCFGS bits (control allowed by the MSR)', change: (fx) => { allowEntry(fx, ENTRY('LOAD_IA32_BNDCFGS')); fx.or(ENTRYF, ENTRY('LOAD_IA32_BNDCFGS')); fx.set('GUEST_IA32_BNDCFGS', 1); }, expect: G1('guest IA32_BNDCFGS reserved bits') },
  // ---- §26.3.1.3 GDTR / IDTR ----
  { name: 'GDTR base not canonical', change: (fx) => fx.set('GUEST_GDTR_BASE', NONCANON), expect: G3('guest GDTR base not canonical') },
  { name: 'IDTR base not canonical', change: (fx) => fx.set('GUEST_IDTR_BASE', NONCANON), expect: G3('guest IDTR base not canonical') },
  { name: 'GDTR limit bit 16', change: (fx) => fx.set('GUEST_GDTR_LIMIT', 0x10000), expect: G3('guest GDTR limit bits 31:16 not 0') },
  { name: 'IDTR limit bit 31', change: (fx) => fx.set('GUEST_IDTR_LIMIT', 0x80000000), expect: G3('guest IDTR limit bits 31:16 not 0') },
  { name: 'GDTR/IDTR limit 0xffff passes', change: (fx) => { fx.set('GUEST_GDTR_LIMIT', 0xffff); fx.set('GUEST_IDTR_LIMIT', 0xffff); }, expect: null },
  // ---- §26.3.1.4 RIP ----
  { name: 'RIP bit 32 in a 32-bit guest', kind: '32pae', change: (fx) => fx.set('GUEST_RIP', 0x100001000n), expect: G4('guest RIP bits 63:32 not 0') },
  { name: 'RIP bit 32 in compatibility mode (IA-32e, CS.L = 0)', change: (fx) => { fx.set('GUEST_CS_ACCESS_RIGHTS', 0xc09b); fx.set('GUEST_RIP', 0x100001000n); }, expect: G4('guest RIP bits 63:32 not 0') },
  { name: 'RIP not canonical in 64-bit mode', change: (fx) => fx.set('GUEST_RIP', NONCANON), expect: G4('guest RIP not canonical') },
  { name: 'RIP above 4 GiB in 64-bit mode passes', change: (fx) => fx.set('GUEST_RIP', 0x7fff00001000n), expect: null },
  { name: 'RIP in the upper canonical half passes', change: (fx) => fx.set('GUEST_RIP', 0xffffffff80001000n), expect: null },
  { name: 'CS.L ignored outside IA-32e mode: RIP bit 32 still fails', kind: '32pae', change: (fx) => { fx.set('GUEST_CS_ACCESS_RIGHTS', 0xa09b); fx.set('GUEST_RIP', 0x100000000n); }, expect: G4('guest RIP bits 63:32 not 0') },
  // ---- RFLAGS ----
  ...[3, 5, 15, 22, 31].map((b): Case => ({ name: `RFLAGS reserved bit ${b}`, change: (fx) => fx.set('GUEST_RFLAGS', 2 | (1 << b) >>> 0), expect: G4('guest RFLAGS reserved bits') })),
  { name: 'RFLAGS reserved bit 40', change: (fx) => fx.set('GUEST_RFLAGS', (1n << 40n) | 2n), expect: G4('guest RFLAGS reserved bits') },
  { name: 'RFLAGS bit 1 clear', change: (fx) => fx.set('GUEST_RFLAGS', 0), expect: G4('guest RFLAGS reserved bits') },
  { name: 'RFLAGS with every defined flag but VM passes', change: (fx) => fx.set('GUEST_RFLAGS', 0x3d7fd7 & ~0x20000), expect: null },
  { name: 'RFLAGS.VM in an IA-32e mode guest (virtual-8086 segments)', change: (fx) => { v86Segs(fx); fx.set('GUEST_RFLAGS', 0x20002); }, expect: G4('guest RFLAGS.VM in IA-32e mode or real mode') },
  { name: 'RFLAGS.VM with CR0.PE = 0 (unrestricted guest)', kind: 'real', change: (fx) => { v86Segs(fx); fx.set('GUEST_RFLAGS', 0x20002); }, expect: G4('guest RFLAGS.VM in IA-32e mode or real mode') },
  { name: 'external interrupt injected with RFLAGS.IF = 0', change: (fx) => fx.set('VM_ENTRY_INTERRUPTION_INFORMATION', 0x80000020), expect: G4('external interrupt injected with RFLAGS.IF = 0') },
  { name: 'external interrupt injected with RFLAGS.IF = 1 passes', change: (fx) => { fx.set('VM_ENTRY_INTERRUPTION_INFORMATION', 0x80000020); fx.set('GUEST_RFLAGS', 0x202); }, expect: null },
  { name: 'NMI injected with RFLAGS.IF = 0 passes', change: (fx) => fx.set('VM_ENTRY_INTERRUPTION_INFORMATION', 0x80000202), expect: null },
  { name: 'RFLAGS.VM in a paged 32-bit guest with virtual-8086 segments passes', kind: '32pae', change: (fx) => { v86Segs(fx); fx.set('GUEST_RFLAGS', 0x20002); }, expect: null },
  { name: 'RFLAGS.VM in an IA-32e mode guest: segment checks come first', change: (fx) => fx.set('GUEST_RFLAGS', 0x20002), expect: guest('26.3.1.2 guest CS base not selector * 16 (virtual-8086)') },
  // ---- ordering ----
  { name: 'order: CR0 before CR4', change: (fx) => { fx.set('GUEST_CR0', 0); fx.set('GUEST_CR4', 0); }, expect: G1('guest CR0 fixed bits') },
  { name: 'order: registers before segments', change: (fx) => { fx.set('GUEST_CR3', W); fx.set('GUEST_TR_SELECTOR', 0x1c); }, expect: G1('guest CR3 beyond physical-address width') },
  { name: 'order: GDTR before RIP', change: (fx) => { fx.set('GUEST_GDTR_LIMIT', 0x10000); fx.set('GUEST_RIP', NONCANON); }, expect: G3('guest GDTR limit bits 31:16 not 0') },
  { name: 'order: RIP before RFLAGS', change: (fx) => { fx.set('GUEST_RFLAGS', 0); fx.set('GUEST_RIP', NONCANON); }, expect: G4('guest RIP not canonical') },
];

runCases('§26.3.1.1/3/4 guest registers', cases);
