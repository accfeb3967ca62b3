/**
 * The bits of the VMX control fields (SDM vol. 3C §24.6.1-24.6.2 execution controls, §24.7.1
 * exit controls, §24.8.1 entry controls), one table per field. Every consumer (capabilities,
 * entry checks, exit decisions, the VMCS panel, docs/vmx.md) reads these tables.
 *
 * `modelled`: the engine implements the bit's behaviour, so the capability MSRs may report it
 * as allowed-1 (capabilities.ts derives allowed-1 from this flag and `fixed1`).
 * `fixed1`: the "default1" bits of SDM appendix A.2-A.5 (must be 1 unless a TRUE_ MSR allows 0).
 */
export interface ControlBit {
  bit: number;
  name: string;
  description: string;
  modelled: boolean;
  /** Default1 class: reported as allowed-0 = 1 in the non-TRUE capability MSR. */
  default1?: boolean;
}

const b = (bit: number, name: string, description: string, modelled = true, default1 = false): ControlBit =>
  ({ bit, name, description, modelled, default1 });

/** Pin-based VM-execution controls (§24.6.1, field 0x4000). */
export const PIN_BASED: readonly ControlBit[] = [
  b(0, 'EXTERNAL_INTERRUPT_EXITING', 'external interrupts cause VM exits'),
  b(1, 'DEFAULT1_1', 'reserved, default 1', true, true),
  b(2, 'DEFAULT1_2', 'reserved, default 1', true, true),
  b(3, 'NMI_EXITING', 'non-maskable interrupts cause VM exits'),
  b(4, 'DEFAULT1_4', 'reserved, default 1', true, true),
  b(5, 'VIRTUAL_NMIS', 'NMIs are never blocked; virtual-NMI blocking is tracked instead'),
  b(6, 'ACTIVATE_VMX_PREEMPTION_TIMER', 'the VMX-preemption timer counts down in non-root operation'),
  b(7, 'PROCESS_POSTED_INTERRUPTS', 'posted-interrupt processing', false),
];

/** Primary processor-based VM-execution controls (§24.6.2, field 0x4002). */
export const PROC_BASED: readonly ControlBit[] = [
  b(1, 'DEFAULT1_1', 'reserved, default 1', true, true),
  b(2, 'INTERRUPT_WINDOW_EXITING', 'VM exit at the start of any instruction when RFLAGS.IF = 1 and nothing blocks interrupts'),
  b(3, 'USE_TSC_OFFSETTING', 'RDTSC/RDTSCP/RDMSR(IA32_TSC) return the TSC plus the TSC offset'),
  b(4, 'DEFAULT1_4', 'reserved, default 1', true, true),
  b(5, 'DEFAULT1_5', 'reserved, default 1', true, true),
  b(6, 'DEFAULT1_6', 'reserved, default 1', true, true),
  b(7, 'HLT_EXITING', 'HLT causes a VM exit'),
  b(8, 'DEFAULT1_8', 'reserved, default 1', true, true),
  b(9, 'INVLPG_EXITING', 'INVLPG causes a VM exit'),
  b(10, 'MWAIT_EXITING', 'MWAIT causes a VM exit'),
  b(11, 'RDPMC_EXITING', 'RDPMC causes a VM exit'),
  b(12, 'RDTSC_EXITING', 'RDTSC and RDTSCP cause VM exits'),
  b(13, 'DEFAULT1_13', 'reserved, default 1', true, true),
  b(14, 'DEFAULT1_14', 'reserved, default 1', true, true),
  b(15, 'CR3_LOAD_EXITING', 'MOV to CR3 causes a VM exit unless the value is one of the CR3-target values', true, true),
  b(16, 'CR3_STORE_EXITING', 'MOV from CR3 causes a VM exit', true, true),
  b(17, 'ACTIVATE_TERTIARY_CONTROLS', 'the tertiary processor-based controls are used', false),
  b(19, 'CR8_LOAD_EXITING', 'MOV to CR8 causes a VM exit'),
  b(20, 'CR8_STORE_EXITING', 'MOV from CR8 causes a VM exit'),
  b(21, 'USE_TPR_SHADOW', 'TPR virtualization through the virtual-APIC page (MOV CR8, the x2APIC TPR MSR, offset 080H of the APIC-access page)'),
  b(22, 'NMI_WINDOW_EXITING', 'VM exit at the start of any instruction when there is no virtual-NMI blocking'),
  b(23, 'MOV_DR_EXITING', 'MOV to/from DR0-DR7 causes a VM exit'),
  b(24, 'UNCONDITIONAL_IO_EXITING', 'every I/O instruction causes a VM exit (ignored when the I/O bitmaps are used)'),
  b(25, 'USE_IO_BITMAPS', 'the I/O bitmaps decide which I/O instructions exit'),
  b(26, 'DEFAULT1_26', 'reserved, default 1', true, true),
  b(27, 'MONITOR_TRAP_FLAG', 'VM exit after the first instruction in non-root operation (single step)'),
  b(28, 'USE_MSR_BITMAPS', 'the MSR bitmaps decide which RDMSR/WRMSR exit'),
  b(29, 'MONITOR_EXITING', 'MONITOR causes a VM exit'),
  b(30, 'PAUSE_EXITING', 'PAUSE causes a VM exit'),
  b(31, 'ACTIVATE_SECONDARY_CONTROLS', 'the secondary processor-based controls are used'),
];

/** Secondary processor-based VM-execution controls (§24.6.2, field 0x401E). */
export const PROC_BASED2: readonly ControlBit[] = [
  b(0, 'VIRTUALIZE_APIC_ACCESSES', 'accesses to the APIC-access page cause APIC-access VM exits, except the TPR accesses virtualized with "use TPR shadow" (§29.4)'),
  b(1, 'ENABLE_EPT', 'extended page tables translate guest-physical addresses'),
  b(2, 'DESCRIPTOR_TABLE_EXITING', 'LGDT/LIDT/LLDT/LTR/SGDT/SIDT/SLDT/STR cause VM exits'),
  b(3, 'ENABLE_RDTSCP', 'RDTSCP does not cause #UD'),
  b(4, 'VIRTUALIZE_X2APIC_MODE', 'x2APIC MSR accesses to the TPR use the virtual-APIC page'),
  b(5, 'ENABLE_VPID', 'cached translations are tagged with the virtual-processor identifier'),
  b(6, 'WBINVD_EXITING', 'WBINVD and WBNOINVD cause VM exits'),
  b(7, 'UNRESTRICTED_GUEST', 'the guest may run unpaged and in real mode'),
  b(8, 'APIC_REGISTER_VIRTUALIZATION', 'APIC register reads are virtualized', false),
  b(9, 'VIRTUAL_INTERRUPT_DELIVERY', 'virtual-interrupt delivery', false),
  b(10, 'PAUSE_LOOP_EXITING', 'a loop of PAUSE longer than the PLE window causes a VM exit'),
  b(11, 'RDRAND_EXITING', 'RDRAND causes a VM exit'),
  b(12, 'ENABLE_INVPCID', 'INVPCID does not cause #UD'),
  b(13, 'ENABLE_VM_FUNCTIONS', 'VMFUNC is enabled'),
  b(14, 'VMCS_SHADOWING', 'VMREAD/VMWRITE in non-root operation may access a shadow VMCS', false),
  b(15, 'ENABLE_ENCLS_EXITING', 'ENCLS exits per the ENCLS-exiting bitmap', false),
  b(16, 'RDSEED_EXITING', 'RDSEED causes a VM exit'),
  b(17, 'ENABLE_PML', 'page-modification logging', false),
  b(18, 'EPT_VIOLATION_VE', 'EPT violations may cause #VE', false),
  b(19, 'CONCEAL_VMX_FROM_PT', 'Intel PT suppresses VMX packets', false),
  b(20, 'ENABLE_XSAVES_XRSTORS', 'XSAVES/XRSTORS do not cause #UD; exits per the XSS-exiting bitmap'),
  b(21, 'PASID_TRANSLATION', 'PASID translation', false),
  b(22, 'MODE_BASED_EXECUTE_CONTROL_FOR_EPT', 'EPT execute permission separate for user and supervisor', false),
  b(23, 'SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT', 'EPT sub-page write permissions', false),
  b(24, 'INTEL_PT_USES_GUEST_PHYSICAL_ADDRESSES', 'Intel PT output addresses are guest-physical', false),
  b(25, 'USE_TSC_SCALING', 'RDTSC/RDTSCP/RDMSR(IA32_TSC) scale the TSC by the TSC multiplier'),
  b(26, 'ENABLE_USER_WAIT_AND_PAUSE', 'TPAUSE/UMONITOR/UMWAIT do not cause #UD', false),
  b(27, 'ENABLE_PCONFIG', 'PCONFIG does not cause #UD', false),
  b(28, 'ENABLE_ENCLV_EXITING', 'ENCLV exits per the ENCLV-exiting bitmap', false),
  b(30, 'VMM_BUS_LOCK_DETECTION', 'bus locks cause VM exits', false),
  b(31, 'INSTRUCTION_TIMEOUT', 'VM exit when no instruction window opens within the notify window', false),
];

/** Tertiary processor-based VM-execution controls (§24.6.2, field 0x2034, 64 bits). */
export const PROC_BASED3: readonly ControlBit[] = [
  b(0, 'LOADIWKEY_EXITING', 'LOADIWKEY causes a VM exit', false),
  b(1, 'ENABLE_HLAT', 'hypervisor-managed linear-address translation', false),
  b(2, 'EPT_PAGING_WRITE_CONTROL', 'EPT paging-write control', false),
  b(3, 'GUEST_PAGING_VERIFICATION', 'guest-paging verification', false),
  b(4, 'IPI_VIRTUALIZATION', 'IPI virtualization', false),
  b(7, 'VIRTUALIZE_IA32_SPEC_CTRL', 'IA32_SPEC_CTRL virtualization', false),
];

/** Primary VM-exit controls (§24.7.1, field 0x400C). */
export const EXIT_CONTROLS: readonly ControlBit[] = [
  b(0, 'DEFAULT1_0', 'reserved, default 1', true, true),
  b(1, 'DEFAULT1_1', 'reserved, default 1', true, true),
  b(2, 'SAVE_DEBUG_CONTROLS', 'DR7 and IA32_DEBUGCTL are saved on VM exit', true, true),
  b(3, 'DEFAULT1_3', 'reserved, default 1', true, true),
  b(4, 'DEFAULT1_4', 'reserved, default 1', true, true),
  b(5, 'DEFAULT1_5', 'reserved, default 1', true, true),
  b(6, 'DEFAULT1_6', 'reserved, default 1', true, true),
  b(7, 'DEFAULT1_7', 'reserved, default 1', true, true),
  b(8, 'DEFAULT1_8', 'reserved, default 1', true, true),
  b(9, 'HOST_ADDRESS_SPACE_SIZE', 'the host is in 64-bit mode after VM exit'),
  b(10, 'DEFAULT1_10', 'reserved, default 1', true, true),
  b(11, 'DEFAULT1_11', 'reserved, default 1', true, true),
  b(12, 'LOAD_IA32_PERF_GLOBAL_CTRL', 'IA32_PERF_GLOBAL_CTRL is loaded on VM exit', false),
  b(13, 'DEFAULT1_13', 'reserved, default 1', true, true),
  b(14, 'DEFAULT1_14', 'reserved, default 1', true, true),
  b(15, 'ACKNOWLEDGE_INTERRUPT_ON_EXIT', 'the interrupt controller is acknowledged and the vector saved on an external-interrupt exit'),
  b(16, 'DEFAULT1_16', 'reserved, default 1', true, true),
  b(17, 'DEFAULT1_17', 'reserved, default 1', true, true),
  b(18, 'SAVE_IA32_PAT', 'IA32_PAT is saved on VM exit'),
  b(19, 'LOAD_IA32_PAT', 'IA32_PAT is loaded on VM exit'),
  b(20, 'SAVE_IA32_EFER', 'IA32_EFER is saved on VM exit'),
  b(21, 'LOAD_IA32_EFER', 'IA32_EFER is loaded on VM exit'),
  b(22, 'SAVE_VMX_PREEMPTION_TIMER_VALUE', 'the preemption timer value is saved on VM exit'),
  b(23, 'CLEAR_IA32_BNDCFGS', 'IA32_BNDCFGS is cleared on VM exit', false),
  b(24, 'CONCEAL_VMX_FROM_PT', 'Intel PT does not report the VM exit', false),
  b(25, 'CLEAR_IA32_RTIT_CTL', 'IA32_RTIT_CTL is cleared on VM exit', false),
  b(26, 'CLEAR_IA32_LBR_CTL', 'IA32_LBR_CTL is cleared on VM exit', false),
  b(27, 'CLEAR_UINV', 'UINV is cleared on VM exit', false),
  b(28, 'LOAD_CET_STATE', 'CET state is loaded on VM exit', false),
  b(29, 'LOAD_PKRS', 'IA32_PKRS is loaded on VM exit', false),
  b(30, 'SAVE_IA32_PERF_GLOBAL_CTL', 'IA32_PERF_GLOBAL_CTL is saved on VM exit', false),
  b(31, 'ACTIVATE_SECONDARY_CONTROLS', 'the secondary VM-exit controls are used', false),
];

/** VM-entry controls (§24.8.1, field 0x4012). */
export const ENTRY_CONTROLS: readonly ControlBit[] = [
  b(0, 'DEFAULT1_0', 'reserved, default 1', true, true),
  b(1, 'DEFAULT1_1', 'reserved, default 1', true, true),
  b(2, 'LOAD_DEBUG_CONTROLS', 'DR7 and IA32_DEBUGCTL are loaded on VM entry', true, true),
  b(3, 'DEFAULT1_3', 'reserved, default 1', true, true),
  b(4, 'DEFAULT1_4', 'reserved, default 1', true, true),
  b(5, 'DEFAULT1_5', 'reserved, default 1', true, true),
  b(6, 'DEFAULT1_6', 'reserved, default 1', true, true),
  b(7, 'DEFAULT1_7', 'reserved, default 1', true, true),
  b(8, 'DEFAULT1_8', 'reserved, default 1', true, true),
  b(9, 'IA32E_MODE_GUEST', 'the guest is in IA-32e mode after VM entry'),
  b(10, 'ENTRY_TO_SMM', 'the logical processor is in SMM after VM entry', false),
  b(11, 'DEACTIVATE_DUAL_MONITOR_TREATMENT', 'the dual-monitor treatment is deactivated', false),
  b(12, 'DEFAULT1_12', 'reserved, default 1', true, true),
  b(13, 'LOAD_IA32_PERF_GLOBAL_CTRL', 'IA32_PERF_GLOBAL_CTRL is loaded on VM entry', false),
  b(14, 'LOAD_IA32_PAT', 'IA32_PAT is loaded on VM entry'),
  b(15, 'LOAD_IA32_EFER', 'IA32_EFER is loaded on VM entry'),
  b(16, 'LOAD_IA32_BNDCFGS', 'IA32_BNDCFGS is loaded on VM entry', false),
  b(17, 'CONCEAL_VMX_FROM_PT', 'Intel PT does not report the VM entry', false),
  b(18, 'LOAD_IA32_RTIT_CTL', 'IA32_RTIT_CTL is loaded on VM entry', false),
  b(19, 'LOAD_UINV', 'UINV is loaded on VM entry', false),
  b(20, 'LOAD_CET_STATE', 'CET state is loaded on VM entry', false),
  b(21, 'LOAD_GUEST_IA32_LBR_CTL', 'IA32_LBR_CTL is loaded on VM entry', false),
  b(22, 'LOAD_PKRS', 'IA32_PKRS is loaded on VM entry', false),
];

/** Mask of the bits of `table` whose name is listed (engine constants are built from names). */
export function bitsOf(table: readonly ControlBit[], ...names: string[]): number {
  let m = 0;
  for (const n of names) {
    const e = table.find((x) => x.name === n);
    if (e === undefined) throw new Error(`no control bit named ${n}`);
    m |= 1 << e.bit;
  }
  return m;
}

/** The single bit named `name` of `table`. */
export const bitOf = (table: readonly ControlBit[], name: string): number => bitsOf(table, name);
