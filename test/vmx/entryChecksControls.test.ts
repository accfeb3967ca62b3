/**
 * §26.2.1 checks on the VMX controls: one VMCS per check, each failing with VMfailValid 7 and
 * the named check (SDM vol. 3C §26.2.1.1-§26.2.1.3), plus the settings that must still pass.
 */
import { setStored, getStored } from '../../src/x86/msr';
import { runCases, Case } from './entryChecksCases';
import { EPTP_OK, Fixture, PIN, PROC, PROC2, EXIT, ENTRY, ctl } from './entryChecksFixture';

const PINF = 'PIN_BASED_VM_EXECUTION_CONTROLS';
const PROCF = 'PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS';
const PROC2F = 'SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS';
const EXITF = 'PRIMARY_VM_EXIT_CONTROLS';
const ENTRYF = 'VM_ENTRY_CONTROLS';
const INJ = 'VM_ENTRY_INTERRUPTION_INFORMATION';

/** Let the capability MSRs allow extra bits (allowed-1) of a control MSR (TRUE one for 0x48d-0x490). */
function allow(fx: Fixture, msr: number, bits: number): void {
  const lo = getStored(fx.cpu, msr);
  setStored(fx.cpu, msr, lo, fx.cpu.vHi | bits);
}
const basic48 = (fx: Fixture) => { const lo = getStored(fx.cpu, 0x480); setStored(fx.cpu, 0x480, lo, fx.cpu.vHi | (1 << 16)); };
const allowProc2 = (bits: number) => (fx: Fixture) => allow(fx, 0x48b, bits);
const p2 = (fx: Fixture, bits: number) => fx.or(PROC2F, bits);
const tpr = (fx: Fixture) => { fx.or(PROCF, PROC('USE_TPR_SHADOW')); fx.set('VIRTUAL_APIC_ADDRESS', 0x6000); };
const W = 1n << 39n; // first address bit beyond the test CPU's 39-bit physical-address width
const R = (m: string) => ctl(`26.2.1.1 ${m}`);
const X = (m: string) => ctl(`26.2.1.2 ${m}`);
const N = (m: string) => ctl(`26.2.1.3 ${m}`);
const inj = (type: number, vector: number, err = false, extra = 0) =>
  (0x80000000 | (type << 8) | vector | (err ? 0x800 : 0) | extra) >>> 0;

const cases: Case[] = [
  // ---- pin-based ----
  { name: 'pin-based: unmodelled posted interrupts bit', change: (fx) => fx.or(PINF, PIN('PROCESS_POSTED_INTERRUPTS')), expect: R('pin-based controls: reserved bits') },
  { name: 'pin-based: default1 bit 1 cleared', change: (fx) => fx.andNot(PINF, 2), expect: R('pin-based controls: reserved bits') },
  { name: 'pin-based: default1 bit 4 cleared', change: (fx) => fx.andNot(PINF, 16), expect: R('pin-based controls: reserved bits') },
  { name: 'pin-based: reserved bit 31', change: (fx) => fx.or(PINF, 0x80000000), expect: R('pin-based controls: reserved bits') },
  { name: 'pin-based: every modelled bit at once passes', change: (fx) => { fx.or(PINF, PIN('EXTERNAL_INTERRUPT_EXITING') | PIN('NMI_EXITING') | PIN('VIRTUAL_NMIS') | PIN('ACTIVATE_VMX_PREEMPTION_TIMER')); }, expect: null },
  { name: 'pin-based: non-TRUE MSR is not used when BASIC[55] = 1', setup: (fx) => setStored(fx.cpu, 0x481, 0xff, 0xff), change: (fx) => fx.or(PINF, PIN('NMI_EXITING')), expect: null },
  { name: 'pin-based: non-TRUE MSR is used when BASIC[55] = 0', change: (fx) => { const lo = getStored(fx.cpu, 0x480); setStored(fx.cpu, 0x480, lo, fx.cpu.vHi & ~(1 << 23)); setStored(fx.cpu, 0x481, 0x17, 0xff); fx.or(PINF, PIN('NMI_EXITING')); }, expect: R('pin-based controls: reserved bits') },
  // ---- primary ----
  { name: 'primary: unmodelled tertiary controls bit', change: (fx) => fx.or(PROCF, PROC('ACTIVATE_TERTIARY_CONTROLS')), expect: R('primary processor-based controls: reserved bits') },
  { name: 'primary: reserved bit 0', change: (fx) => fx.or(PROCF, 1), expect: R('primary processor-based controls: reserved bits') },
  { name: 'primary: default1 bit 26 cleared', change: (fx) => fx.andNot(PROCF, 1 << 26), expect: R('primary processor-based controls: reserved bits') },
  { name: 'primary: reserved bit 18', change: (fx) => fx.or(PROCF, 1 << 18), expect: R('primary processor-based controls: reserved bits') },
  { name: 'primary: CR3 exiting bits may be 0 with the TRUE MSR', change: (fx) => fx.andNot(PROCF, (1 << 15) | (1 << 16)), expect: null },
  { name: 'primary: CR3 exiting bits must be 1 with the non-TRUE MSR', setup: (fx) => { const lo = getStored(fx.cpu, 0x480); setStored(fx.cpu, 0x480, lo, fx.cpu.vHi & ~(1 << 23)); fx.or(PROCF, (1 << 15) | (1 << 16)); fx.or('PRIMARY_VM_EXIT_CONTROLS', 1 << 2); fx.or('VM_ENTRY_CONTROLS', 1 << 2); }, change: (fx) => fx.andNot(PROCF, 1 << 16), expect: R('primary processor-based controls: reserved bits') },
  // ---- secondary ----
  { name: 'secondary: unmodelled APIC-register virtualization', change: (fx) => p2(fx, PROC2('APIC_REGISTER_VIRTUALIZATION')), expect: R('secondary processor-based controls: reserved bits') },
  { name: 'secondary: reserved bit 29', change: (fx) => p2(fx, 1 << 29), expect: R('secondary processor-based controls: reserved bits') },
  { name: 'secondary: ignored when not activated', change: (fx) => { fx.andNot(PROCF, PROC('ACTIVATE_SECONDARY_CONTROLS')); fx.set(PROC2F, 0xffffffff); }, expect: null },
  { name: 'secondary: not activated when the CPU lacks it (allowed-1 of bit 31 = 0)', setup: (fx) => { fx.andNot(PROCF, PROC('ACTIVATE_SECONDARY_CONTROLS')); }, change: (fx) => fx.set(PROC2F, 0x12345678), expect: null },
  // ---- CR3-target count ----
  { name: 'CR3-target count 5', change: (fx) => fx.set('CR3_TARGET_COUNT', 5), expect: R('CR3-target count too large') },
  { name: 'CR3-target count 4 passes', change: (fx) => fx.set('CR3_TARGET_COUNT', 4), expect: null },
  { name: 'CR3-target count 0x80000000', change: (fx) => fx.set('CR3_TARGET_COUNT', 0x80000000), expect: R('CR3-target count too large') },
  // ---- I/O bitmaps ----
  { name: 'I/O bitmap A not aligned', change: (fx) => { fx.or(PROCF, PROC('USE_IO_BITMAPS')); fx.set('IO_BITMAP_A', 0x7008); fx.set('IO_BITMAP_B', 0x8000); }, expect: R('I/O bitmap A address') },
  { name: 'I/O bitmap A beyond physical width', change: (fx) => { fx.or(PROCF, PROC('USE_IO_BITMAPS')); fx.set('IO_BITMAP_A', W | 0x7000n); fx.set('IO_BITMAP_B', 0x8000); }, expect: R('I/O bitmap A address') },
  { name: 'I/O bitmap B not aligned', change: (fx) => { fx.or(PROCF, PROC('USE_IO_BITMAPS')); fx.set('IO_BITMAP_A', 0x7000); fx.set('IO_BITMAP_B', 0x8800); }, expect: R('I/O bitmap B address') },
  { name: 'I/O bitmap B with bit 63', change: (fx) => { fx.or(PROCF, PROC('USE_IO_BITMAPS')); fx.set('IO_BITMAP_A', 0x7000); fx.set('IO_BITMAP_B', (1n << 63n) | 0x8000n); }, expect: R('I/O bitmap B address') },
  { name: 'I/O bitmaps aligned pass', change: (fx) => { fx.or(PROCF, PROC('USE_IO_BITMAPS')); fx.set('IO_BITMAP_A', 0x7000); fx.set('IO_BITMAP_B', (W - 0x1000n)); }, expect: null },
  { name: 'I/O bitmap addresses ignored without use I/O bitmaps', change: (fx) => { fx.set('IO_BITMAP_A', 0x7001); fx.set('IO_BITMAP_B', 0x8001); }, expect: null },
  // ---- MSR bitmaps ----
  { name: 'MSR bitmap not aligned', change: (fx) => { fx.or(PROCF, PROC('USE_MSR_BITMAPS')); fx.set('MSR_BITMAPS', 0x9800); }, expect: R('MSR-bitmap address') },
  { name: 'MSR bitmap beyond physical width', change: (fx) => { fx.or(PROCF, PROC('USE_MSR_BITMAPS')); fx.set('MSR_BITMAPS', W); }, expect: R('MSR-bitmap address') },
  { name: 'MSR bitmap ignored without use MSR bitmaps', change: (fx) => fx.set('MSR_BITMAPS', 0x9801), expect: null },
  // ---- TPR shadow ----
  { name: 'virtual-APIC address not aligned', change: (fx) => { tpr(fx); fx.set('VIRTUAL_APIC_ADDRESS', 0x6040); }, expect: R('virtual-APIC address') },
  { name: 'virtual-APIC address beyond width', change: (fx) => { tpr(fx); fx.set('VIRTUAL_APIC_ADDRESS', W | 0x6000n); }, expect: R('virtual-APIC address') },
  { name: 'TPR threshold bit 4', change: (fx) => { tpr(fx); fx.set('TPR_THRESHOLD', 0x10); }, expect: R('TPR threshold bits 31:4') },
  { name: 'TPR threshold bit 31', change: (fx) => { tpr(fx); fx.set('TPR_THRESHOLD', 0x80000000); }, expect: R('TPR threshold bits 31:4') },
  { name: 'TPR threshold above VTPR[7:4]', change: (fx) => { tpr(fx); fx.mem.load(0x6080, Uint8Array.of(0x40)); fx.set('TPR_THRESHOLD', 5); }, expect: R('TPR threshold above VTPR[7:4]') },
  { name: 'TPR threshold equal to VTPR[7:4] passes', change: (fx) => { tpr(fx); fx.mem.load(0x6080, Uint8Array.of(0x4f)); fx.set('TPR_THRESHOLD', 4); }, expect: null },
  { name: 'VTPR lowered in memory after a passing entry (no VMWRITE)', setup: (fx) => { tpr(fx); fx.mem.load(0x6080, Uint8Array.of(0x50)); fx.set('TPR_THRESHOLD', 5); }, change: (fx) => fx.mem.load(0x6080, Uint8Array.of(0x40)), expect: R('TPR threshold above VTPR[7:4]') },
  { name: 'TPR threshold vs VTPR not checked with virtualize APIC accesses', change: (fx) => { tpr(fx); fx.set('TPR_THRESHOLD', 15); p2(fx, PROC2('VIRTUALIZE_APIC_ACCESSES')); fx.set('APIC_ACCESS_ADDRESS', 0xfee00000); }, expect: null },
  { name: 'TPR threshold bits 31:4 not checked with virtual-interrupt delivery', setup: allowProc2(PROC2('VIRTUAL_INTERRUPT_DELIVERY')), change: (fx) => { tpr(fx); fx.or(PINF, PIN('EXTERNAL_INTERRUPT_EXITING')); p2(fx, PROC2('VIRTUAL_INTERRUPT_DELIVERY')); fx.set('TPR_THRESHOLD', 0xff0); }, expect: null },
  { name: 'virtualize x2APIC mode without TPR shadow', change: (fx) => p2(fx, PROC2('VIRTUALIZE_X2APIC_MODE')), expect: R('APIC virtualization without TPR shadow') },
  { name: 'APIC-register virtualization without TPR shadow', setup: allowProc2(PROC2('APIC_REGISTER_VIRTUALIZATION')), change: (fx) => p2(fx, PROC2('APIC_REGISTER_VIRTUALIZATION')), expect: R('APIC virtualization without TPR shadow') },
  { name: 'virtual-interrupt delivery without TPR shadow', setup: allowProc2(PROC2('VIRTUAL_INTERRUPT_DELIVERY')), change: (fx) => { fx.or(PINF, PIN('EXTERNAL_INTERRUPT_EXITING')); p2(fx, PROC2('VIRTUAL_INTERRUPT_DELIVERY')); }, expect: R('APIC virtualization without TPR shadow') },
  // ---- NMI controls ----
  { name: 'virtual NMIs without NMI exiting', change: (fx) => fx.or(PINF, PIN('VIRTUAL_NMIS')), expect: R('virtual NMIs without NMI exiting') },
  { name: 'NMI-window exiting without virtual NMIs', change: (fx) => { fx.or(PINF, PIN('NMI_EXITING')); fx.or(PROCF, PROC('NMI_WINDOW_EXITING')); }, expect: R('NMI-window exiting without virtual NMIs') },
  { name: 'NMI-window exiting with virtual NMIs passes', change: (fx) => { fx.or(PINF, PIN('NMI_EXITING') | PIN('VIRTUAL_NMIS')); fx.or(PROCF, PROC('NMI_WINDOW_EXITING')); }, expect: null },
  // ---- APIC access ----
  { name: 'APIC-access address not aligned', change: (fx) => { p2(fx, PROC2('VIRTUALIZE_APIC_ACCESSES')); fx.set('APIC_ACCESS_ADDRESS', 0xfee00010); }, expect: R('APIC-access address') },
  { name: 'APIC-access address beyond width', change: (fx) => { p2(fx, PROC2('VIRTUALIZE_APIC_ACCESSES')); fx.set('APIC_ACCESS_ADDRESS', W); }, expect: R('APIC-access address') },
  { name: 'virtualize x2APIC mode with virtualize APIC accesses', change: (fx) => { tpr(fx); p2(fx, PROC2('VIRTUALIZE_X2APIC_MODE') | PROC2('VIRTUALIZE_APIC_ACCESSES')); fx.set('APIC_ACCESS_ADDRESS', 0xfee00000); }, expect: R('virtualize x2APIC mode with virtualize APIC accesses') },
  { name: 'virtualize x2APIC mode with TPR shadow passes', change: (fx) => { tpr(fx); p2(fx, PROC2('VIRTUALIZE_X2APIC_MODE')); }, expect: null },
  { name: 'virtual-interrupt delivery without external-interrupt exiting', setup: allowProc2(PROC2('VIRTUAL_INTERRUPT_DELIVERY')), change: (fx) => { tpr(fx); p2(fx, PROC2('VIRTUAL_INTERRUPT_DELIVERY')); }, expect: R('virtual-interrupt delivery without external-interrupt exiting') },
  // ---- posted interrupts (allowed through the capability MSRs for these cases) ----
  ...postedCases(),
  // ---- VPID ----
  { name: 'enable VPID with VPID 0', change: (fx) => { p2(fx, PROC2('ENABLE_VPID')); fx.set('VIRTUAL_PROCESSOR_ID', 0); }, expect: R('VPID is 0') },
  { name: 'enable VPID with VPID 0xffff passes', change: (fx) => { p2(fx, PROC2('ENABLE_VPID')); fx.set('VIRTUAL_PROCESSOR_ID', 0xffff); }, expect: null },
  { name: 'VPID 0 without enable VPID passes', change: (fx) => fx.set('VIRTUAL_PROCESSOR_ID', 0), expect: null },
  // ---- EPTP ----
  ...eptpCases(),
  // ---- PML, unrestricted guest, MBEC, SPP, PT ----
  { name: 'PML without EPT', setup: allowProc2(PROC2('ENABLE_PML')), change: (fx) => { p2(fx, PROC2('ENABLE_PML')); fx.set('PML_ADDRESS', 0xa000); }, expect: R('PML without EPT') },
  { name: 'PML address not aligned', setup: allowProc2(PROC2('ENABLE_PML')), change: (fx) => { p2(fx, PROC2('ENABLE_PML') | PROC2('ENABLE_EPT')); fx.set('PML_ADDRESS', 0xa008); }, expect: R('PML address') },
  { name: 'unrestricted guest without EPT', change: (fx) => p2(fx, PROC2('UNRESTRICTED_GUEST')), expect: R('unrestricted guest or mode-based execute control without EPT') },
  { name: 'mode-based execute control without EPT', setup: allowProc2(PROC2('MODE_BASED_EXECUTE_CONTROL_FOR_EPT')), change: (fx) => p2(fx, PROC2('MODE_BASED_EXECUTE_CONTROL_FOR_EPT')), expect: R('unrestricted guest or mode-based execute control without EPT') },
  { name: 'sub-page write permissions without EPT', setup: allowProc2(PROC2('SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT')), change: (fx) => p2(fx, PROC2('SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT')), expect: R('sub-page write permissions without EPT') },
  { name: 'SPPTP not aligned', setup: allowProc2(PROC2('SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT')), change: (fx) => { p2(fx, PROC2('SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT') | PROC2('ENABLE_EPT')); fx.set('SUB_PAGE_PERMISSION_TABLE_POINTER', 0xb001); }, expect: R('SPPTP') },
  { name: 'Intel PT guest-physical addresses without EPT', setup: allowProc2(PROC2('INTEL_PT_USES_GUEST_PHYSICAL_ADDRESSES')), change: (fx) => p2(fx, PROC2('INTEL_PT_USES_GUEST_PHYSICAL_ADDRESSES')), expect: R('Intel PT guest-physical addresses without EPT') },
  { name: 'Intel PT guest-physical addresses without load/clear IA32_RTIT_CTL', setup: allowProc2(PROC2('INTEL_PT_USES_GUEST_PHYSICAL_ADDRESSES')), change: (fx) => p2(fx, PROC2('INTEL_PT_USES_GUEST_PHYSICAL_ADDRESSES') | PROC2('ENABLE_EPT')), expect: R('Intel PT guest-physical addresses without load/clear IA32_RTIT_CTL') },
  { name: 'Intel PT guest-physical addresses with load/clear IA32_RTIT_CTL passes', setup: (fx) => { allow(fx, 0x48b, PROC2('INTEL_PT_USES_GUEST_PHYSICAL_ADDRESSES')); allow(fx, 0x490, ENTRY('LOAD_IA32_RTIT_CTL')); allow(fx, 0x48f, EXIT('CLEAR_IA32_RTIT_CTL')); }, change: (fx) => { p2(fx, PROC2('INTEL_PT_USES_GUEST_PHYSICAL_ADDRESSES') | PROC2('ENABLE_EPT')); fx.or(ENTRYF, ENTRY('LOAD_IA32_RTIT_CTL')); fx.or(EXITF, EXIT('CLEAR_IA32_RTIT_CTL')); }, expect: null },
  // ---- VM functions ----
  { name: 'VM-function control bit 1 (not reported)', change: (fx) => { p2(fx, PROC2('ENABLE_VM_FUNCTIONS')); fx.set('VM_FUNCTION_CONTROLS', 2); }, expect: R('VM-function controls: reserved bits') },
  { name: 'VM-function control bit 63', change: (fx) => { p2(fx, PROC2('ENABLE_VM_FUNCTIONS')); fx.set('VM_FUNCTION_CONTROLS', 1n << 63n); }, expect: R('VM-function controls: reserved bits') },
  { name: 'EPTP switching without EPT', change: (fx) => { p2(fx, PROC2('ENABLE_VM_FUNCTIONS')); fx.set('VM_FUNCTION_CONTROLS', 1); fx.set('EPTP_LIST_ADDRESS', 0xc000); }, expect: R('EPTP switching without EPT') },
  { name: 'EPTP-list address not aligned', change: (fx) => { p2(fx, PROC2('ENABLE_VM_FUNCTIONS') | PROC2('ENABLE_EPT')); fx.set('VM_FUNCTION_CONTROLS', 1); fx.set('EPTP_LIST_ADDRESS', 0xc100); }, expect: R('EPTP-list address') },
  { name: 'EPTP switching set up correctly passes', change: (fx) => { p2(fx, PROC2('ENABLE_VM_FUNCTIONS') | PROC2('ENABLE_EPT')); fx.set('VM_FUNCTION_CONTROLS', 1); fx.set('EPTP_LIST_ADDRESS', 0xc000); }, expect: null },
  { name: 'VM-function controls ignored without enable VM functions', change: (fx) => fx.set('VM_FUNCTION_CONTROLS', 0xffn), expect: null },
  // ---- VMCS shadowing, #VE ----
  { name: 'VMREAD-bitmap address not aligned', setup: allowProc2(PROC2('VMCS_SHADOWING')), change: (fx) => { p2(fx, PROC2('VMCS_SHADOWING')); fx.set('VMREAD_BITMAP_ADDRESS', 0xd001); fx.set('VMWRITE_BITMAP_ADDRESS', 0xe000); }, expect: R('VMREAD-bitmap address') },
  { name: 'VMWRITE-bitmap address beyond width', setup: allowProc2(PROC2('VMCS_SHADOWING')), change: (fx) => { p2(fx, PROC2('VMCS_SHADOWING')); fx.set('VMREAD_BITMAP_ADDRESS', 0xd000); fx.set('VMWRITE_BITMAP_ADDRESS', W); }, expect: R('VMWRITE-bitmap address') },
  { name: '#VE information address not aligned', setup: allowProc2(PROC2('EPT_VIOLATION_VE')), change: (fx) => { p2(fx, PROC2('EPT_VIOLATION_VE')); fx.set('VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS', 0xf004); }, expect: R('virtualization-exception information address') },
  // ---- §26.2.1.2 VM-exit controls ----
  { name: 'exit: unmodelled load IA32_PERF_GLOBAL_CTRL', change: (fx) => fx.or(EXITF, EXIT('LOAD_IA32_PERF_GLOBAL_CTRL')), expect: X('VM-exit controls: reserved bits') },
  { name: 'exit: default1 bit 0 cleared', change: (fx) => fx.andNot(EXITF, 1), expect: X('VM-exit controls: reserved bits') },
  { name: 'exit: secondary exit controls bit 31', change: (fx) => fx.or(EXITF, 0x80000000), expect: X('VM-exit controls: reserved bits') },
  { name: 'exit: save preemption timer without activating it', change: (fx) => fx.or(EXITF, EXIT('SAVE_VMX_PREEMPTION_TIMER_VALUE')), expect: X('save preemption timer without activate preemption timer') },
  { name: 'exit: save preemption timer with the timer active passes', change: (fx) => { fx.or(EXITF, EXIT('SAVE_VMX_PREEMPTION_TIMER_VALUE')); fx.or(PINF, PIN('ACTIVATE_VMX_PREEMPTION_TIMER')); }, expect: null },
  ...msrAreaCases('VM_EXIT_MSR_STORE', X, 'VM-exit MSR-store'),
  ...msrAreaCases('VM_EXIT_MSR_LOAD', X, 'VM-exit MSR-load'),
  // ---- §26.2.1.3 VM-entry controls ----
  { name: 'entry: unmodelled load IA32_BNDCFGS', change: (fx) => fx.or(ENTRYF, ENTRY('LOAD_IA32_BNDCFGS')), expect: N('VM-entry controls: reserved bits') },
  { name: 'entry: default1 bit 12 cleared', change: (fx) => fx.andNot(ENTRYF, 1 << 12), expect: N('VM-entry controls: reserved bits') },
  { name: 'entry: reserved bit 31', change: (fx) => fx.or(ENTRYF, 0x80000000), expect: N('VM-entry controls: reserved bits') },
  { name: 'entry: entry to SMM outside SMM', setup: (fx) => allow(fx, 0x490, ENTRY('ENTRY_TO_SMM') | ENTRY('DEACTIVATE_DUAL_MONITOR_TREATMENT')), change: (fx) => fx.or(ENTRYF, ENTRY('ENTRY_TO_SMM')), expect: N('entry to SMM outside SMM') },
  { name: 'entry: deactivate dual-monitor treatment outside SMM', setup: (fx) => allow(fx, 0x490, ENTRY('ENTRY_TO_SMM') | ENTRY('DEACTIVATE_DUAL_MONITOR_TREATMENT')), change: (fx) => fx.or(ENTRYF, ENTRY('DEACTIVATE_DUAL_MONITOR_TREATMENT')), expect: N('deactivate dual-monitor treatment outside SMM') },
  ...msrAreaCases('VM_ENTRY_MSR_LOAD', N, 'VM-entry MSR-load'),
  // ---- event injection ----
  { name: 'inject: reserved type 1', change: (fx) => fx.set(INJ, inj(1, 32)), expect: N('injection: reserved interruption type') },
  { name: 'inject: other event (MTF) vector 0 passes', change: (fx) => fx.set(INJ, inj(7, 0)), expect: null },
  { name: 'inject: other event vector 1', change: (fx) => fx.set(INJ, inj(7, 1)), expect: N('injection: other event vector not 0') },
  { name: 'inject: other event without MTF support', setup: (fx) => { const lo = getStored(fx.cpu, 0x48e); setStored(fx.cpu, 0x48e, lo, fx.cpu.vHi & ~PROC('MONITOR_TRAP_FLAG')); }, change: (fx) => fx.set(INJ, inj(7, 0)), expect: N('injection: other event not supported') },
  { name: 'inject: NMI with vector 3', change: (fx) => fx.set(INJ, inj(2, 3)), expect: N('injection: NMI vector not 2') },
  { name: 'inject: NMI vector 2 passes', change: (fx) => fx.set(INJ, inj(2, 2)), expect: null },
  { name: 'inject: hardware exception vector 32', change: (fx) => fx.set(INJ, inj(3, 32)), expect: N('injection: hardware exception vector > 31') },
  { name: 'inject: hardware exception vector 255', change: (fx) => fx.set(INJ, inj(3, 255)), expect: N('injection: hardware exception vector > 31') },
  { name: 'inject: external interrupt vector 255 passes', change: (fx) => { fx.set(INJ, inj(0, 255)); fx.set('GUEST_RFLAGS', 0x202); }, expect: null },
  { name: 'inject: #BP with an error code', change: (fx) => fx.set(INJ, inj(3, 3, true)), expect: N('injection: error code delivered where none is allowed') },
  { name: 'inject: #UD with an error code', change: (fx) => fx.set(INJ, inj(3, 6, true)), expect: N('injection: error code delivered where none is allowed') },
  { name: 'inject: #MC with an error code', change: (fx) => fx.set(INJ, inj(3, 18, true)), expect: N('injection: error code delivered where none is allowed') },
  { name: 'inject: external interrupt with an error code', change: (fx) => { fx.set(INJ, inj(0, 0x40, true)); fx.set('GUEST_RFLAGS', 0x202); }, expect: N('injection: error code delivered where none is allowed') },
  { name: 'inject: software interrupt with an error code', change: (fx) => { fx.set(INJ, inj(4, 0x80, true)); fx.set('VM_ENTRY_INSTRUCTION_LENGTH', 2); }, expect: N('injection: error code delivered where none is allowed') },
  ...[8, 10, 11, 12, 13, 14, 17].map((v): Case => ({ name: `inject: vector ${v} without its error code`, change: (fx) => fx.set(INJ, inj(3, v)), expect: N('injection: error code missing') })),
  ...[8, 10, 11, 12, 13, 14, 17].map((v): Case => ({ name: `inject: vector ${v} with its error code passes`, change: (fx) => fx.set(INJ, inj(3, v, true)), expect: null })),
  { name: 'inject: #GP with an error code into a real-mode guest (CR0.PE = 0)', kind: 'real', change: (fx) => fx.set(INJ, inj(3, 13, true)), expect: N('injection: error code delivered where none is allowed') },
  { name: 'inject: #GP without an error code into a real-mode guest passes', kind: 'real', change: (fx) => fx.set(INJ, inj(3, 13)), expect: null },
  { name: 'inject: BASIC[56] allows #BP with an error code', opts: { basic56: true }, change: (fx) => fx.set(INJ, inj(3, 3, true)), expect: null },
  { name: 'inject: BASIC[56] allows #GP without an error code', opts: { basic56: true }, change: (fx) => fx.set(INJ, inj(3, 13)), expect: null },
  { name: 'inject: BASIC[56] still refuses an error code for an NMI', opts: { basic56: true }, change: (fx) => fx.set(INJ, inj(2, 2, true)), expect: N('injection: error code delivered where none is allowed') },
  { name: 'inject: reserved bit 12', change: (fx) => fx.set(INJ, inj(3, 6, false, 1 << 12)), expect: N('injection: reserved bits 30:12') },
  { name: 'inject: reserved bit 30', change: (fx) => fx.set(INJ, inj(3, 6, false, 1 << 30)), expect: N('injection: reserved bits 30:12') },
  { name: 'inject: error code bit 16', change: (fx) => { fx.set(INJ, inj(3, 13, true)); fx.set('VM_ENTRY_EXCEPTION_ERROR_CODE', 0x10000); }, expect: N('injection: error code bits 31:16') },
  { name: 'inject: error code 0xffff passes', change: (fx) => { fx.set(INJ, inj(3, 13, true)); fx.set('VM_ENTRY_EXCEPTION_ERROR_CODE', 0xffff); }, expect: null },
  { name: 'inject: error code field ignored without deliver-error-code', change: (fx) => { fx.set(INJ, inj(3, 6)); fx.set('VM_ENTRY_EXCEPTION_ERROR_CODE', 0xffffffff); }, expect: null },
  ...[4, 5, 6].map((t): Case => ({ name: `inject: type ${t} with instruction length 16`, change: (fx) => { fx.set(INJ, inj(t, t === 5 ? 1 : 3)); fx.set('VM_ENTRY_INSTRUCTION_LENGTH', 16); }, expect: N('injection: instruction length > 15') })),
  ...[4, 5, 6].map((t): Case => ({ name: `inject: type ${t} with instruction length 0 and MISC[30] = 0`, opts: { misc30: false }, change: (fx) => { fx.set(INJ, inj(t, t === 5 ? 1 : 3)); fx.set('VM_ENTRY_INSTRUCTION_LENGTH', 0); }, expect: N('injection: instruction length 0') })),
  { name: 'inject: software interrupt with length 0 and MISC[30] = 1 passes', change: (fx) => { fx.set(INJ, inj(4, 0x80)); fx.set('VM_ENTRY_INSTRUCTION_LENGTH', 0); }, expect: null },
  { name: 'inject: software exception with length 15 passes', change: (fx) => { fx.set(INJ, inj(6, 3)); fx.set('VM_ENTRY_INSTRUCTION_LENGTH', 15); }, expect: null },
  { name: 'inject: length not checked for a hardware exception', change: (fx) => { fx.set(INJ, inj(3, 6)); fx.set('VM_ENTRY_INSTRUCTION_LENGTH', 0xffffffff); }, expect: null },
  { name: 'inject: nothing checked with the valid bit clear', change: (fx) => fx.set(INJ, 0x7fffffff), expect: null },
  { name: 'inject: injection checks come before the MSR-load area', change: (fx) => { fx.set(INJ, inj(1, 0)); fx.set('VM_ENTRY_MSR_LOAD_COUNT', 1); fx.set('VM_ENTRY_MSR_LOAD_ADDRESS', 1); }, expect: N('injection: reserved interruption type') },
  // ---- IA32_VMX_BASIC[48]: 32-bit physical addresses for VMCS-referenced structures (§A.1) ----
  { name: 'BASIC[48]: I/O bitmap A at 4 GiB', setup: basic48, change: (fx) => { fx.or(PROCF, PROC('USE_IO_BITMAPS')); fx.set('IO_BITMAP_A', 1n << 32n); fx.set('IO_BITMAP_B', 0x8000); }, expect: R('I/O bitmap A address') },
  { name: 'BASIC[48]: MSR-load area crossing 4 GiB', setup: basic48, change: (fx) => { fx.set('VM_ENTRY_MSR_LOAD_ADDRESS', 0xfffffff0); fx.set('VM_ENTRY_MSR_LOAD_COUNT', 2); }, expect: N('VM-entry MSR-load area end') },
  { name: 'BASIC[48]: MSR-load area ending at 4 GiB passes', setup: basic48, change: (fx) => { fx.set('VM_ENTRY_MSR_LOAD_ADDRESS', 0xffffffe0); fx.set('VM_ENTRY_MSR_LOAD_COUNT', 2); }, expect: null },
  // ---- ordering ----
  { name: 'order: pin-based before primary', change: (fx) => { fx.or(PINF, 1 << 30); fx.or(PROCF, 1); }, expect: R('pin-based controls: reserved bits') },
  { name: 'order: execution controls before exit controls', change: (fx) => { fx.set('CR3_TARGET_COUNT', 9); fx.andNot(EXITF, 1); }, expect: R('CR3-target count too large') },
  { name: 'order: exit controls before entry controls', change: (fx) => { fx.andNot(EXITF, 1); fx.andNot(ENTRYF, 1); }, expect: X('VM-exit controls: reserved bits') },
  { name: 'order: control failures before host-state failures', change: (fx) => { fx.andNot(ENTRYF, 1); fx.set('HOST_CR0', 0); }, expect: N('VM-entry controls: reserved bits') },
];

function postedCases(): Case[] {
  const setup = (fx: Fixture) => {
    allow(fx, 0x48d, PIN('PROCESS_POSTED_INTERRUPTS'));
    allow(fx, 0x48b, PROC2('VIRTUAL_INTERRUPT_DELIVERY'));
  };
  const base = (fx: Fixture) => {
    tpr(fx);
    fx.or(PINF, PIN('PROCESS_POSTED_INTERRUPTS') | PIN('EXTERNAL_INTERRUPT_EXITING'));
    p2(fx, PROC2('VIRTUAL_INTERRUPT_DELIVERY'));
    fx.or(EXITF, EXIT('ACKNOWLEDGE_INTERRUPT_ON_EXIT'));
    fx.set('POSTED_INTERRUPT_NOTIFICATION_VECTOR', 0xf2);
    fx.set('POSTED_INTERRUPT_DESCRIPTOR_ADDRESS', 0xe040);
  };
  return [
    { name: 'posted interrupts set up correctly pass', setup, change: base, expect: null },
    { name: 'posted interrupts without virtual-interrupt delivery', setup, change: (fx) => { base(fx); fx.andNot(PROC2F, PROC2('VIRTUAL_INTERRUPT_DELIVERY')); }, expect: R('posted interrupts without virtual-interrupt delivery') },
    { name: 'posted interrupts without acknowledge interrupt on exit', setup, change: (fx) => { base(fx); fx.andNot(EXITF, EXIT('ACKNOWLEDGE_INTERRUPT_ON_EXIT')); }, expect: R('posted interrupts without acknowledge interrupt on exit') },
    { name: 'posted-interrupt notification vector 0x100', setup, change: (fx) => { base(fx); fx.set('POSTED_INTERRUPT_NOTIFICATION_VECTOR', 0x100); }, expect: R('posted-interrupt notification vector') },
    { name: 'posted-interrupt descriptor not 64-byte aligned', setup, change: (fx) => { base(fx); fx.set('POSTED_INTERRUPT_DESCRIPTOR_ADDRESS', 0xe020); }, expect: R('posted-interrupt descriptor address') },
    { name: 'posted-interrupt descriptor beyond width', setup, change: (fx) => { base(fx); fx.set('POSTED_INTERRUPT_DESCRIPTOR_ADDRESS', W); }, expect: R('posted-interrupt descriptor address') },
  ];
}

function eptpCases(): Case[] {
  const ept = (eptp: bigint) => (fx: Fixture) => { p2(fx, PROC2('ENABLE_EPT')); fx.set('EPT_POINTER', eptp); };
  const base = 0x5000n | (3n << 3n);
  const bad = R('EPTP invalid');
  const capsWithout = (bit: number) => (fx: Fixture) => { const lo = getStored(fx.cpu, 0x48c); setStored(fx.cpu, 0x48c, lo & ~(1 << bit), fx.cpu.vHi); };
  return [
    { name: 'EPTP WB, 4-level, A/D passes', change: ept(EPTP_OK), expect: null },
    { name: 'EPTP UC passes', change: ept(base | 0n), expect: null },
    ...[1n, 2n, 3n, 4n, 5n, 7n].map((mt): Case => ({ name: `EPTP memory type ${mt}`, change: ept(base | mt), expect: bad })),
    { name: 'EPTP UC when the CPU does not report UC', setup: capsWithout(8), change: ept(base), expect: bad },
    { name: 'EPTP WB when the CPU does not report WB', setup: capsWithout(14), change: ept(base | 6n), expect: bad },
    ...[0n, 1n, 2n, 5n, 6n, 7n].map((w): Case => ({ name: `EPTP walk length ${w + 1n}`, change: ept(0x5006n | (w << 3n)), expect: bad })),
    { name: 'EPTP 5-level walk passes', change: ept(0x5006n | (4n << 3n)), expect: null },
    { name: 'EPTP 5-level walk without the capability', setup: capsWithout(7), change: ept(0x5006n | (4n << 3n)), expect: bad },
    { name: 'EPTP 4-level walk without the capability', setup: capsWithout(6), change: ept(0x5006n | (3n << 3n)), expect: bad },
    { name: 'EPTP A/D enable without the capability', setup: capsWithout(21), change: ept(EPTP_OK), expect: bad },
    { name: 'EPTP supervisor shadow-stack bit 7 without the capability', change: ept(0x501en | 0x80n), expect: bad },
    ...[8n, 9n, 10n, 11n].map((b): Case => ({ name: `EPTP reserved bit ${b}`, change: ept(0x501en | (1n << b)), expect: bad })),
    { name: 'EPTP address bit 39 (beyond width)', change: ept(0x501en | W), expect: bad },
    { name: 'EPTP address bit 63', change: ept(0x501en | (1n << 63n)), expect: bad },
    { name: 'EPTP address just below the width passes', change: ept(0x501en | (W - 0x1000n)), expect: null },
    { name: 'EPTP not checked without enable EPT', change: (fx) => fx.set('EPT_POINTER', 0xffffn), expect: null },
  ];
}

function msrAreaCases(prefix: string, sec: (m: string) => { error: number; check: string }, what: string): Case[] {
  const area = (addr: bigint, count: number) => (fx: Fixture) => { fx.set(`${prefix}_ADDRESS`, addr); fx.set(`${prefix}_COUNT`, count); };
  return [
    { name: `${what} address not 16-byte aligned`, change: area(0x20008n, 1), expect: sec(`${what} address`) },
    { name: `${what} address beyond width`, change: area(W, 1), expect: sec(`${what} address`) },
    { name: `${what} area ending beyond width`, change: area(W - 0x10n, 2), expect: sec(`${what} area end`) },
    { name: `${what} area ending exactly at the width passes`, change: area(W - 0x20n, 2), expect: null },
    { name: `${what} area whose count reaches past the width`, change: area(W - 0x10000n, 0x1001), expect: sec(`${what} area end`) },
    { name: `${what} address not checked with count 0`, change: area(0x20001n, 0), expect: null },
  ];
}

runCases('§26.2.1 controls', cases);
