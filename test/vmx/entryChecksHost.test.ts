/**
 * §26.2.2-§26.2.4 checks on the host-state area: one VMCS per check, each failing with
 * VMfailValid 8 and the named check (SDM vol. 3C), plus settings that must pass.
 */
import { setStored, getStored } from '../../src/x86/msr';
import { runCases, Case } from './entryChecksCases';
import { Fixture, EXIT, ENTRY, host } from './entryChecksFixture';

const EXITF = 'PRIMARY_VM_EXIT_CONTROLS';
const ENTRYF = 'VM_ENTRY_CONTROLS';
const W = 1n << 39n;
const NONCANON = 0x1234000000000000n; // non-canonical for 48- and 57-bit linear addresses
const H2 = (m: string) => host(`26.2.2 ${m}`);
const H3 = (m: string) => host(`26.2.3 ${m}`);
const H4 = (m: string) => host(`26.2.4 ${m}`);
const LMA = 1 << 10;
const LME = 1 << 8;
/** The processor outside IA-32e mode at VM entry, with a 32-bit host and a 32-bit PAE guest. */
const host32 = (fx: Fixture) => {
  fx.cpu.efer &= ~(LMA | LME);
  fx.andNot(EXITF, EXIT('HOST_ADDRESS_SPACE_SIZE'));
};

const cases: Case[] = [
  // ---- §26.2.2 control registers ----
  { name: 'host CR0.PG clear', change: (fx) => fx.set('HOST_CR0', 0x31), expect: H2('host CR0 fixed bits') },
  { name: 'host CR0.PE clear', change: (fx) => fx.set('HOST_CR0', 0x80000030), expect: H2('host CR0 fixed bits') },
  { name: 'host CR0.NE clear', change: (fx) => fx.set('HOST_CR0', 0x80000011), expect: H2('host CR0 fixed bits') },
  { name: 'host CR0 bit 32', change: (fx) => fx.set('HOST_CR0', 0x180000031n), expect: H2('host CR0 fixed bits') },
  { name: 'host CR0 with CD and NW passes (FIXED1)', change: (fx) => fx.set('HOST_CR0', 0xe0000031), expect: null },
  { name: 'host CR0 fixed bits follow IA32_VMX_CR0_FIXED0', change: (fx) => { setStored(fx.cpu, 0x486, 0x80010021, 0); fx.set('HOST_CR0', 0x80000031); }, expect: H2('host CR0 fixed bits') },
  { name: 'host CR4.VMXE clear', change: (fx) => fx.set('HOST_CR4', 0x20), expect: H2('host CR4 fixed bits') },
  { name: 'host CR4 bit 23 (not in FIXED1)', change: (fx) => fx.set('HOST_CR4', 0x802020), expect: H2('host CR4 fixed bits') },
  { name: 'host CR4 bit 40', change: (fx) => fx.set('HOST_CR4', (1n << 40n) | 0x2020n), expect: H2('host CR4 fixed bits') },
  { name: 'host CR4 with every FIXED1 bit passes', change: (fx) => fx.set('HOST_CR4', 0x373fff), expect: null },
  { name: 'host CR3 bit 39 (beyond width)', change: (fx) => fx.set('HOST_CR3', W | 0x1000n), expect: H2('host CR3 beyond physical-address width') },
  { name: 'host CR3 bit 63', change: (fx) => fx.set('HOST_CR3', (1n << 63n) | 0x1000n), expect: H2('host CR3 beyond physical-address width') },
  { name: 'host CR3 with low flag bits passes', change: (fx) => fx.set('HOST_CR3', 0x1018), expect: null },
  { name: 'host SYSENTER_ESP not canonical', change: (fx) => fx.set('HOST_IA32_SYSENTER_ESP', NONCANON), expect: H2('host IA32_SYSENTER_ESP not canonical') },
  { name: 'host SYSENTER_EIP not canonical', change: (fx) => fx.set('HOST_IA32_SYSENTER_EIP', NONCANON), expect: H2('host IA32_SYSENTER_EIP not canonical') },
  { name: 'host SYSENTER_EIP high canonical passes', change: (fx) => fx.set('HOST_IA32_SYSENTER_EIP', 0xffffffff80000000n), expect: null },
  { name: 'host IA32_PERF_GLOBAL_CTRL bits (control allowed by the MSR)', setup: (fx) => { const lo = getStored(fx.cpu, 0x48f); setStored(fx.cpu, 0x48f, lo, fx.cpu.vHi | EXIT('LOAD_IA32_PERF_GLOBAL_CTRL')); }, change: (fx) => { fx.or(EXITF, EXIT('LOAD_IA32_PERF_GLOBAL_CTRL')); fx.set('HOST_IA32_PERF_GLOBAL_CTRL', 1); }, expect: H2('host IA32_PERF_GLOBAL_CTRL reserved bits') },
  ...[2, 3, 8, 0xff].map((t): Case => ({ name: `host PAT entry with memory type ${t}`, change: (fx) => { fx.or(EXITF, EXIT('LOAD_IA32_PAT')); fx.set('HOST_IA32_PAT', BigInt(t) << 40n); }, expect: H2('host IA32_PAT invalid memory type') })),
  { name: 'host PAT with UC, WC, WT, WP, WB, UC- passes', change: (fx) => { fx.or(EXITF, EXIT('LOAD_IA32_PAT')); fx.set('HOST_IA32_PAT', 0x0706050400000100n); }, expect: null },
  { name: 'host PAT not checked without load IA32_PAT', change: (fx) => fx.set('HOST_IA32_PAT', 0x0202020202020202n), expect: null },
  { name: 'host EFER reserved bit 1', change: (fx) => { fx.or(EXITF, EXIT('LOAD_IA32_EFER')); fx.set('HOST_IA32_EFER', 0xd02); }, expect: H2('host IA32_EFER reserved bits') },
  { name: 'host EFER reserved bit 32', change: (fx) => { fx.or(EXITF, EXIT('LOAD_IA32_EFER')); fx.set('HOST_IA32_EFER', 0x100000d00n); }, expect: H2('host IA32_EFER reserved bits') },
  { name: 'host EFER.LMA clear with a 64-bit host', change: (fx) => { fx.or(EXITF, EXIT('LOAD_IA32_EFER')); fx.set('HOST_IA32_EFER', 0x900); }, expect: H2('host IA32_EFER.LMA differs from host address-space size') },
  { name: 'host EFER.LME clear with a 64-bit host', change: (fx) => { fx.or(EXITF, EXIT('LOAD_IA32_EFER')); fx.set('HOST_IA32_EFER', 0xc00); }, expect: H2('host IA32_EFER.LME differs from host address-space size') },
  { name: 'host EFER.LMA set with a 32-bit host', kind: '32pae', setup: host32, change: (fx) => { fx.or(EXITF, EXIT('LOAD_IA32_EFER')); fx.set('HOST_IA32_EFER', 0x400); }, expect: H2('host IA32_EFER.LMA differs from host address-space size') },
  { name: 'host EFER.LME set with a 32-bit host', kind: '32pae', setup: host32, change: (fx) => { fx.or(EXITF, EXIT('LOAD_IA32_EFER')); fx.set('HOST_IA32_EFER', 0x100); }, expect: H2('host IA32_EFER.LME differs from host address-space size') },
  { name: 'host EFER 0xd01 with a 64-bit host passes', change: (fx) => { fx.or(EXITF, EXIT('LOAD_IA32_EFER')); fx.set('HOST_IA32_EFER', 0xd01); }, expect: null },
  { name: 'host EFER not checked without load IA32_EFER', change: (fx) => fx.set('HOST_IA32_EFER', 0xffff), expect: null },
  // ---- §26.2.3 selectors ----
  ...['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'TR'].flatMap((s): Case[] => [
    { name: `host ${s} selector RPL 3`, change: (fx) => fx.set(`HOST_${s}_SELECTOR`, 0x13), expect: H3(`host ${s} selector RPL/TI not 0`) },
    { name: `host ${s} selector TI`, change: (fx) => fx.set(`HOST_${s}_SELECTOR`, 0x14), expect: H3(`host ${s} selector RPL/TI not 0`) },
  ]),
  { name: 'host CS selector 0', change: (fx) => fx.set('HOST_CS_SELECTOR', 0), expect: H3('host CS selector is 0') },
  { name: 'host TR selector 0', change: (fx) => fx.set('HOST_TR_SELECTOR', 0), expect: H3('host TR selector is 0') },
  { name: 'host SS selector 0 with a 64-bit host passes', change: (fx) => fx.set('HOST_SS_SELECTOR', 0), expect: null },
  { name: 'host data selectors 0 pass', change: (fx) => { for (const s of ['DS', 'ES', 'FS', 'GS']) fx.set(`HOST_${s}_SELECTOR`, 0); }, expect: null },
  { name: 'host SS selector 0 with a 32-bit host', kind: '32pae', setup: host32, change: (fx) => fx.set('HOST_SS_SELECTOR', 0), expect: H3('host SS selector is 0 without 64-bit host') },
  ...['FS', 'GS', 'GDTR', 'IDTR', 'TR'].map((s): Case => ({ name: `host ${s} base not canonical`, change: (fx) => fx.set(`HOST_${s}_BASE`, NONCANON), expect: H3(`host ${s} base not canonical`) })),
  { name: 'host FS base in the upper canonical half passes', change: (fx) => fx.set('HOST_FS_BASE', 0xffff800000000000n), expect: null },
  // ---- §26.2.4 address-space size ----
  { name: 'IA-32e mode guest while the processor is outside IA-32e mode', change: (fx) => { fx.cpu.efer &= ~(LMA | LME); fx.andNot(EXITF, EXIT('HOST_ADDRESS_SPACE_SIZE')); }, expect: H4('IA-32e mode guest outside IA-32e mode') },
  { name: '64-bit host while the processor is outside IA-32e mode', kind: '32pae', change: (fx) => { fx.cpu.efer &= ~(LMA | LME); fx.set('HOST_CR3', 0x1000); }, expect: H4('host address-space size outside IA-32e mode') },
  { name: '32-bit host while the processor is in IA-32e mode', kind: '32pae', change: (fx) => fx.andNot(EXITF, EXIT('HOST_ADDRESS_SPACE_SIZE')), expect: H4('host address-space size 0 in IA-32e mode') },
  { name: '32-bit host with CR4.PCIDE', kind: '32pae', setup: host32, change: (fx) => fx.set('HOST_CR4', 0x22020), expect: H4('host CR4.PCIDE without 64-bit host') },
  { name: '32-bit host with RIP bit 32', kind: '32pae', setup: host32, change: (fx) => fx.set('HOST_RIP', 0x100400000n), expect: H4('host RIP bits 63:32 without 64-bit host') },
  { name: '32-bit host with RIP 0xffffffff passes', kind: '32pae', setup: host32, change: (fx) => fx.set('HOST_RIP', 0xffffffff), expect: null },
  { name: '32-bit host with CR4.PAE clear passes', kind: '32pae', setup: host32, change: (fx) => fx.set('HOST_CR4', 0x2000), expect: null },
  { name: '64-bit host with CR4.PAE clear', change: (fx) => fx.set('HOST_CR4', 0x2000), expect: H4('host CR4.PAE clear with 64-bit host') },
  { name: '64-bit host with a non-canonical RIP', change: (fx) => fx.set('HOST_RIP', NONCANON), expect: H4('host RIP not canonical') },
  { name: '64-bit host with a high canonical RIP passes', change: (fx) => fx.set('HOST_RIP', 0xffffffff81000000n), expect: null },
  { name: 'processor mode change between entries is noticed (cache)', kind: '32pae', change: (fx) => fx.cpu.efer &= ~(LMA | LME), expect: H4('host address-space size outside IA-32e mode') },
  // ---- ordering ----
  { name: 'order: CR0 before CR4', change: (fx) => { fx.set('HOST_CR0', 0); fx.set('HOST_CR4', 0); }, expect: H2('host CR0 fixed bits') },
  { name: 'order: selectors before bases', change: (fx) => { fx.set('HOST_TR_SELECTOR', 0); fx.set('HOST_FS_BASE', NONCANON); }, expect: H3('host TR selector is 0') },
  { name: 'order: §26.2.2 before §26.2.3', change: (fx) => { fx.set('HOST_CS_SELECTOR', 0); fx.set('HOST_IA32_SYSENTER_ESP', NONCANON); }, expect: H2('host IA32_SYSENTER_ESP not canonical') },
  { name: 'order: §26.2.3 before §26.2.4', change: (fx) => { fx.set('HOST_RIP', NONCANON); fx.set('HOST_GS_BASE', NONCANON); }, expect: H3('host GS base not canonical') },
  { name: 'order: host state before guest state', change: (fx) => { fx.set('HOST_RIP', NONCANON); fx.set('GUEST_CR0', 0); }, expect: H4('host RIP not canonical') },
  { name: 'IA-32e mode guest entry control with a 32-bit host in IA-32e mode', change: (fx) => { fx.andNot(EXITF, EXIT('HOST_ADDRESS_SPACE_SIZE')); fx.or(ENTRYF, ENTRY('IA32E_MODE_GUEST')); }, expect: H4('host address-space size 0 in IA-32e mode') },
];

runCases('§26.2.2-26.2.4 host state', cases);
