/**
 * Every VMCS field of the SDM (vol. 3C appendix B, "Field Encoding in VMCS"), one row each:
 * encoding, name, width, group, whether it is read-only (the VM-exit information fields) and a
 * description; control fields name the table of their bits. The engine, VMREAD/VMWRITE, the
 * debugger's views, the VMCS panel and docs/vmx.md all read this table.
 *
 * Encoding layout (§24.11.2): bit 0 access type (1 = high 32 bits of a 64-bit field), bits 9:1
 * index, bits 11:10 type (0 control, 1 VM-exit information, 2 guest state, 3 host state),
 * bits 14:13 width (0 16-bit, 1 64-bit, 2 32-bit, 3 natural width).
 *
 * `supported`: the modelled CPU implements the field (VMREAD/VMWRITE of an unsupported field
 * fail with VM-instruction error 12). Fields of features the model does not have are listed so
 * tools can name them, and marked unsupported.
 */
import type { ControlBit } from './controlBits';
import { ENTRY_CONTROLS, EXIT_CONTROLS, PIN_BASED, PROC_BASED, PROC_BASED2, PROC_BASED3 } from './controlBits';

export type FieldWidth = 16 | 32 | 64 | 'natural';
export type FieldGroup = 'control' | 'exit-info' | 'guest' | 'host';

export interface VmcsField {
  encoding: number;
  name: string;
  width: FieldWidth;
  group: FieldGroup;
  readOnly: boolean;
  supported: boolean;
  description: string;
  /** Control fields: the names of their bits. */
  bits?: readonly ControlBit[];
  /** Dense index into the VMCS value arrays (vmcs.ts), assigned in table order. */
  index: number;
}

type Row = [encoding: number, name: string, description: string, supported?: boolean, bits?: readonly ControlBit[]];

function widthOf(encoding: number): FieldWidth {
  return ([16, 64, 32, 'natural'] as const)[(encoding >> 13) & 3];
}
function groupOf(encoding: number): FieldGroup {
  return (['control', 'exit-info', 'guest', 'host'] as const)[(encoding >> 10) & 3];
}

const ROWS: Row[] = [
  // ---- 16-bit control fields (B.1.1) ----
  [0x0000, 'VIRTUAL_PROCESSOR_ID', 'VPID tagging cached translations (when "enable VPID" is 1)'],
  [0x0002, 'POSTED_INTERRUPT_NOTIFICATION_VECTOR', 'posted-interrupt notification vector', false],
  [0x0004, 'EPTP_INDEX', 'index of the current EPTP in the EPTP list (EPT-violation #VE)', false],
  [0x0006, 'HLAT_PREFIX_SIZE', 'HLAT prefix size', false],
  [0x0008, 'LAST_PID_POINTER_INDEX', 'last PID-pointer index (IPI virtualization)', false],
  // ---- 16-bit guest-state fields (B.1.2) ----
  [0x0800, 'GUEST_ES_SELECTOR', 'guest ES selector'],
  [0x0802, 'GUEST_CS_SELECTOR', 'guest CS selector'],
  [0x0804, 'GUEST_SS_SELECTOR', 'guest SS selector'],
  [0x0806, 'GUEST_DS_SELECTOR', 'guest DS selector'],
  [0x0808, 'GUEST_FS_SELECTOR', 'guest FS selector'],
  [0x080a, 'GUEST_GS_SELECTOR', 'guest GS selector'],
  [0x080c, 'GUEST_LDTR_SELECTOR', 'guest LDTR selector'],
  [0x080e, 'GUEST_TR_SELECTOR', 'guest TR selector'],
  [0x0810, 'GUEST_INTERRUPT_STATUS', 'guest interrupt status (RVI, SVI) for virtual-interrupt delivery', false],
  [0x0812, 'GUEST_PML_INDEX', 'page-modification-log index', false],
  [0x0814, 'GUEST_UINV', 'user-interrupt notification vector', false],
  // ---- 16-bit host-state fields (B.1.3) ----
  [0x0c00, 'HOST_ES_SELECTOR', 'host ES selector'],
  [0x0c02, 'HOST_CS_SELECTOR', 'host CS selector'],
  [0x0c04, 'HOST_SS_SELECTOR', 'host SS selector'],
  [0x0c06, 'HOST_DS_SELECTOR', 'host DS selector'],
  [0x0c08, 'HOST_FS_SELECTOR', 'host FS selector'],
  [0x0c0a, 'HOST_GS_SELECTOR', 'host GS selector'],
  [0x0c0c, 'HOST_TR_SELECTOR', 'host TR selector'],
  // ---- 64-bit control fields (B.2.1) ----
  [0x2000, 'IO_BITMAP_A', 'physical address of I/O bitmap A (ports 0x0000-0x7FFF)'],
  [0x2002, 'IO_BITMAP_B', 'physical address of I/O bitmap B (ports 0x8000-0xFFFF)'],
  [0x2004, 'MSR_BITMAPS', 'physical address of the MSR bitmaps'],
  [0x2006, 'VM_EXIT_MSR_STORE_ADDRESS', 'physical address of the VM-exit MSR-store area'],
  [0x2008, 'VM_EXIT_MSR_LOAD_ADDRESS', 'physical address of the VM-exit MSR-load area'],
  [0x200a, 'VM_ENTRY_MSR_LOAD_ADDRESS', 'physical address of the VM-entry MSR-load area'],
  [0x200c, 'EXECUTIVE_VMCS_POINTER', 'executive-VMCS pointer (dual-monitor treatment of SMM)', false],
  [0x200e, 'PML_ADDRESS', 'page-modification-log address', false],
  [0x2010, 'TSC_OFFSET', 'TSC offset added to the guest TSC'],
  [0x2012, 'VIRTUAL_APIC_ADDRESS', 'physical address of the virtual-APIC page (TPR shadow)'],
  [0x2014, 'APIC_ACCESS_ADDRESS', 'physical address of the APIC-access page'],
  [0x2016, 'POSTED_INTERRUPT_DESCRIPTOR_ADDRESS', 'posted-interrupt descriptor address', false],
  [0x2018, 'VM_FUNCTION_CONTROLS', 'VM-function controls (bit 0: EPTP switching)'],
  [0x201a, 'EPT_POINTER', 'EPT pointer: memory type 2:0, walk length - 1 5:3, A/D enable 6, PML4/PML5 address'],
  [0x201c, 'EOI_EXIT_BITMAP_0', 'EOI-exit bitmap for vectors 0-63', false],
  [0x201e, 'EOI_EXIT_BITMAP_1', 'EOI-exit bitmap for vectors 64-127', false],
  [0x2020, 'EOI_EXIT_BITMAP_2', 'EOI-exit bitmap for vectors 128-191', false],
  [0x2022, 'EOI_EXIT_BITMAP_3', 'EOI-exit bitmap for vectors 192-255', false],
  [0x2024, 'EPTP_LIST_ADDRESS', 'physical address of the EPTP list (VMFUNC 0)'],
  [0x2026, 'VMREAD_BITMAP_ADDRESS', 'VMREAD bitmap (VMCS shadowing)', false],
  [0x2028, 'VMWRITE_BITMAP_ADDRESS', 'VMWRITE bitmap (VMCS shadowing)', false],
  [0x202a, 'VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS', '#VE information address', false],
  [0x202c, 'XSS_EXITING_BITMAP', 'XSS-exiting bitmap: XSAVES/XRSTORS exit when a set bit meets IA32_XSS & EDX:EAX'],
  [0x202e, 'ENCLS_EXITING_BITMAP', 'ENCLS-exiting bitmap', false],
  [0x2030, 'SUB_PAGE_PERMISSION_TABLE_POINTER', 'sub-page-permission-table pointer', false],
  [0x2032, 'TSC_MULTIPLIER', 'TSC multiplier (fixed point, 48 fraction bits)'],
  [0x2034, 'TERTIARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', 'tertiary processor-based VM-execution controls', false, PROC_BASED3],
  [0x2036, 'ENCLV_EXITING_BITMAP', 'ENCLV-exiting bitmap', false],
  [0x2038, 'LOW_PASID_DIRECTORY_ADDRESS', 'low PASID directory address', false],
  [0x203a, 'HIGH_PASID_DIRECTORY_ADDRESS', 'high PASID directory address', false],
  [0x203c, 'SHARED_EPT_POINTER', 'shared EPT pointer', false],
  [0x203e, 'PCONFIG_EXITING_BITMAP', 'PCONFIG-exiting bitmap', false],
  [0x2040, 'HLAT_POINTER', 'hypervisor-managed linear-address translation pointer', false],
  [0x2042, 'PID_POINTER_TABLE_ADDRESS', 'PID-pointer table address', false],
  [0x2044, 'SECONDARY_VM_EXIT_CONTROLS', 'secondary VM-exit controls', false],
  [0x204a, 'IA32_SPEC_CTRL_MASK', 'IA32_SPEC_CTRL mask', false],
  [0x204c, 'IA32_SPEC_CTRL_SHADOW', 'IA32_SPEC_CTRL shadow', false],
  // ---- 64-bit read-only data field (B.2.2) ----
  [0x2400, 'GUEST_PHYSICAL_ADDRESS', 'guest-physical address of an EPT violation or misconfiguration'],
  // ---- 64-bit guest-state fields (B.2.3) ----
  [0x2800, 'VMCS_LINK_POINTER', 'VMCS link pointer (all ones unless VMCS shadowing)'],
  [0x2802, 'GUEST_IA32_DEBUGCTL', 'guest IA32_DEBUGCTL'],
  [0x2804, 'GUEST_IA32_PAT', 'guest IA32_PAT'],
  [0x2806, 'GUEST_IA32_EFER', 'guest IA32_EFER'],
  [0x2808, 'GUEST_IA32_PERF_GLOBAL_CTRL', 'guest IA32_PERF_GLOBAL_CTRL', false],
  [0x280a, 'GUEST_PDPTE0', 'guest PDPTE 0 (PAE paging with EPT)'],
  [0x280c, 'GUEST_PDPTE1', 'guest PDPTE 1'],
  [0x280e, 'GUEST_PDPTE2', 'guest PDPTE 2'],
  [0x2810, 'GUEST_PDPTE3', 'guest PDPTE 3'],
  [0x2812, 'GUEST_IA32_BNDCFGS', 'guest IA32_BNDCFGS', false],
  [0x2814, 'GUEST_IA32_RTIT_CTL', 'guest IA32_RTIT_CTL', false],
  [0x2816, 'GUEST_IA32_LBR_CTL', 'guest IA32_LBR_CTL', false],
  [0x2818, 'GUEST_IA32_PKRS', 'guest IA32_PKRS', false],
  // ---- 64-bit host-state fields (B.2.4) ----
  [0x2c00, 'HOST_IA32_PAT', 'host IA32_PAT'],
  [0x2c02, 'HOST_IA32_EFER', 'host IA32_EFER'],
  [0x2c04, 'HOST_IA32_PERF_GLOBAL_CTRL', 'host IA32_PERF_GLOBAL_CTRL', false],
  [0x2c06, 'HOST_IA32_PKRS', 'host IA32_PKRS', false],
  // ---- 32-bit control fields (B.3.1) ----
  [0x4000, 'PIN_BASED_VM_EXECUTION_CONTROLS', 'pin-based VM-execution controls', true, PIN_BASED],
  [0x4002, 'PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', 'primary processor-based VM-execution controls', true, PROC_BASED],
  [0x4004, 'EXCEPTION_BITMAP', 'exception bitmap: bit n set = exception n causes a VM exit'],
  [0x4006, 'PAGE_FAULT_ERROR_CODE_MASK', 'page-fault error-code mask'],
  [0x4008, 'PAGE_FAULT_ERROR_CODE_MATCH', 'page-fault error-code match'],
  [0x400a, 'CR3_TARGET_COUNT', 'number of CR3-target values'],
  [0x400c, 'PRIMARY_VM_EXIT_CONTROLS', 'primary VM-exit controls', true, EXIT_CONTROLS],
  [0x400e, 'VM_EXIT_MSR_STORE_COUNT', 'number of MSRs stored on VM exit'],
  [0x4010, 'VM_EXIT_MSR_LOAD_COUNT', 'number of MSRs loaded on VM exit'],
  [0x4012, 'VM_ENTRY_CONTROLS', 'VM-entry controls', true, ENTRY_CONTROLS],
  [0x4014, 'VM_ENTRY_MSR_LOAD_COUNT', 'number of MSRs loaded on VM entry'],
  [0x4016, 'VM_ENTRY_INTERRUPTION_INFORMATION', 'event to inject: vector 7:0, type 10:8, deliver error code 11, valid 31'],
  [0x4018, 'VM_ENTRY_EXCEPTION_ERROR_CODE', 'error code of the injected exception'],
  [0x401a, 'VM_ENTRY_INSTRUCTION_LENGTH', 'instruction length for injected software interrupts and exceptions'],
  [0x401c, 'TPR_THRESHOLD', 'TPR threshold (bits 3:0)'],
  [0x401e, 'SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', 'secondary processor-based VM-execution controls', true, PROC_BASED2],
  [0x4020, 'PLE_GAP', 'PAUSE-loop exiting gap (TSC ticks between two PAUSEs of one loop)'],
  [0x4022, 'PLE_WINDOW', 'PAUSE-loop exiting window (TSC ticks a loop may spin)'],
  [0x4024, 'INSTRUCTION_TIMEOUT_CONTROL', 'notify window', false],
  // ---- 32-bit read-only data fields (B.3.2) ----
  [0x4400, 'VM_INSTRUCTION_ERROR', 'error number of the last failed VMX instruction (VMfailValid)'],
  [0x4402, 'EXIT_REASON', 'exit reason: basic reason 15:0, entry failure 31'],
  [0x4404, 'VM_EXIT_INTERRUPTION_INFORMATION', 'event that caused the exit: vector, type, error code valid, NMI unblocking, valid'],
  [0x4406, 'VM_EXIT_INTERRUPTION_ERROR_CODE', 'error code of the exception that caused the exit'],
  [0x4408, 'IDT_VECTORING_INFORMATION', 'event being delivered when the exit happened'],
  [0x440a, 'IDT_VECTORING_ERROR_CODE', 'error code of the event being delivered'],
  [0x440c, 'VM_EXIT_INSTRUCTION_LENGTH', 'length of the instruction that caused the exit'],
  [0x440e, 'VM_EXIT_INSTRUCTION_INFORMATION', 'operand description of the instruction that caused the exit'],
  // ---- 32-bit guest-state fields (B.3.3) ----
  [0x4800, 'GUEST_ES_LIMIT', 'guest ES limit'],
  [0x4802, 'GUEST_CS_LIMIT', 'guest CS limit'],
  [0x4804, 'GUEST_SS_LIMIT', 'guest SS limit'],
  [0x4806, 'GUEST_DS_LIMIT', 'guest DS limit'],
  [0x4808, 'GUEST_FS_LIMIT', 'guest FS limit'],
  [0x480a, 'GUEST_GS_LIMIT', 'guest GS limit'],
  [0x480c, 'GUEST_LDTR_LIMIT', 'guest LDTR limit'],
  [0x480e, 'GUEST_TR_LIMIT', 'guest TR limit'],
  [0x4810, 'GUEST_GDTR_LIMIT', 'guest GDTR limit'],
  [0x4812, 'GUEST_IDTR_LIMIT', 'guest IDTR limit'],
  [0x4814, 'GUEST_ES_ACCESS_RIGHTS', 'guest ES access rights'],
  [0x4816, 'GUEST_CS_ACCESS_RIGHTS', 'guest CS access rights'],
  [0x4818, 'GUEST_SS_ACCESS_RIGHTS', 'guest SS access rights'],
  [0x481a, 'GUEST_DS_ACCESS_RIGHTS', 'guest DS access rights'],
  [0x481c, 'GUEST_FS_ACCESS_RIGHTS', 'guest FS access rights'],
  [0x481e, 'GUEST_GS_ACCESS_RIGHTS', 'guest GS access rights'],
  [0x4820, 'GUEST_LDTR_ACCESS_RIGHTS', 'guest LDTR access rights'],
  [0x4822, 'GUEST_TR_ACCESS_RIGHTS', 'guest TR access rights'],
  [0x4824, 'GUEST_INTERRUPTIBILITY_STATE', 'blocking by STI 0, by MOV SS 1, by SMI 2, by NMI 3, enclave interruption 4'],
  [0x4826, 'GUEST_ACTIVITY_STATE', 'activity state: 0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI'],
  [0x4828, 'GUEST_SMBASE', 'guest SMBASE', false],
  [0x482a, 'GUEST_IA32_SYSENTER_CS', 'guest IA32_SYSENTER_CS'],
  [0x482e, 'VMX_PREEMPTION_TIMER_VALUE', 'VMX-preemption timer value'],
  // ---- 32-bit host-state field (B.3.4) ----
  [0x4c00, 'HOST_IA32_SYSENTER_CS', 'host IA32_SYSENTER_CS'],
  // ---- natural-width control fields (B.4.1) ----
  [0x6000, 'CR0_GUEST_HOST_MASK', 'CR0 bits owned by the host'],
  [0x6002, 'CR4_GUEST_HOST_MASK', 'CR4 bits owned by the host'],
  [0x6004, 'CR0_READ_SHADOW', 'CR0 read shadow'],
  [0x6006, 'CR4_READ_SHADOW', 'CR4 read shadow'],
  [0x6008, 'CR3_TARGET_VALUE_0', 'CR3-target value 0'],
  [0x600a, 'CR3_TARGET_VALUE_1', 'CR3-target value 1'],
  [0x600c, 'CR3_TARGET_VALUE_2', 'CR3-target value 2'],
  [0x600e, 'CR3_TARGET_VALUE_3', 'CR3-target value 3'],
  // ---- natural-width read-only data fields (B.4.2) ----
  [0x6400, 'EXIT_QUALIFICATION', 'exit qualification'],
  [0x6402, 'IO_RCX', 'I/O RCX (SMI exits)', false],
  [0x6404, 'IO_RSI', 'I/O RSI (SMI exits)', false],
  [0x6406, 'IO_RDI', 'I/O RDI (SMI exits)', false],
  [0x6408, 'IO_RIP', 'I/O RIP (SMI exits)', false],
  [0x640a, 'GUEST_LINEAR_ADDRESS', 'guest-linear address of the access that caused the exit'],
  // ---- natural-width guest-state fields (B.4.3) ----
  [0x6800, 'GUEST_CR0', 'guest CR0'],
  [0x6802, 'GUEST_CR3', 'guest CR3'],
  [0x6804, 'GUEST_CR4', 'guest CR4'],
  [0x6806, 'GUEST_ES_BASE', 'guest ES base'],
  [0x6808, 'GUEST_CS_BASE', 'guest CS base'],
  [0x680a, 'GUEST_SS_BASE', 'guest SS base'],
  [0x680c, 'GUEST_DS_BASE', 'guest DS base'],
  [0x680e, 'GUEST_FS_BASE', 'guest FS base'],
  [0x6810, 'GUEST_GS_BASE', 'guest GS base'],
  [0x6812, 'GUEST_LDTR_BASE', 'guest LDTR base'],
  [0x6814, 'GUEST_TR_BASE', 'guest TR base'],
  [0x6816, 'GUEST_GDTR_BASE', 'guest GDTR base'],
  [0x6818, 'GUEST_IDTR_BASE', 'guest IDTR base'],
  [0x681a, 'GUEST_DR7', 'guest DR7'],
  [0x681c, 'GUEST_RSP', 'guest RSP'],
  [0x681e, 'GUEST_RIP', 'guest RIP'],
  [0x6820, 'GUEST_RFLAGS', 'guest RFLAGS'],
  [0x6822, 'GUEST_PENDING_DEBUG_EXCEPTIONS', 'pending debug exceptions: B3-B0 3:0, enabled breakpoint 12, BS 14, RTM 16'],
  [0x6824, 'GUEST_IA32_SYSENTER_ESP', 'guest IA32_SYSENTER_ESP'],
  [0x6826, 'GUEST_IA32_SYSENTER_EIP', 'guest IA32_SYSENTER_EIP'],
  [0x6828, 'GUEST_IA32_S_CET', 'guest IA32_S_CET', false],
  [0x682a, 'GUEST_SSP', 'guest shadow-stack pointer', false],
  [0x682c, 'GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR', 'guest IA32_INTERRUPT_SSP_TABLE_ADDR', false],
  // ---- natural-width host-state fields (B.4.4) ----
  [0x6c00, 'HOST_CR0', 'host CR0'],
  [0x6c02, 'HOST_CR3', 'host CR3'],
  [0x6c04, 'HOST_CR4', 'host CR4'],
  [0x6c06, 'HOST_FS_BASE', 'host FS base'],
  [0x6c08, 'HOST_GS_BASE', 'host GS base'],
  [0x6c0a, 'HOST_TR_BASE', 'host TR base'],
  [0x6c0c, 'HOST_GDTR_BASE', 'host GDTR base'],
  [0x6c0e, 'HOST_IDTR_BASE', 'host IDTR base'],
  [0x6c10, 'HOST_IA32_SYSENTER_ESP', 'host IA32_SYSENTER_ESP'],
  [0x6c12, 'HOST_IA32_SYSENTER_EIP', 'host IA32_SYSENTER_EIP'],
  [0x6c14, 'HOST_RSP', 'host RSP'],
  [0x6c16, 'HOST_RIP', 'host RIP (where a VM exit continues)'],
  [0x6c18, 'HOST_IA32_S_CET', 'host IA32_S_CET', false],
  [0x6c1a, 'HOST_SSP', 'host shadow-stack pointer', false],
  [0x6c1c, 'HOST_IA32_INTERRUPT_SSP_TABLE_ADDR', 'host IA32_INTERRUPT_SSP_TABLE_ADDR', false],
];

export const VMCS_FIELDS: readonly VmcsField[] = ROWS.map(([encoding, name, description, supported = true, bits], index) => {
  const group = groupOf(encoding);
  return {
    encoding, name, width: widthOf(encoding), group, readOnly: group === 'exit-info',
    supported, description, bits, index,
  };
});

/** Fields by full encoding (access type 0). */
export const FIELD_BY_ENCODING: ReadonlyMap<number, VmcsField> = new Map(VMCS_FIELDS.map((f) => [f.encoding, f]));
export const FIELD_BY_NAME: ReadonlyMap<string, VmcsField> = new Map(VMCS_FIELDS.map((f) => [f.name, f]));

/** Dense index of the field named `name` (throws for a typo: a host-side bug). */
export function fieldIndex(name: string): number {
  const f = FIELD_BY_NAME.get(name);
  if (f === undefined) throw new Error(`no VMCS field named ${name}`);
  return f.index;
}

/** Number of fields (size of the VMCS value arrays). */
export const FIELD_COUNT = VMCS_FIELDS.length;

/**
 * Resolve an encoding as VMREAD/VMWRITE see it (§24.11.2, §30.3): the field and whether the
 * access is to the high 32 bits of a 64-bit field. null: no such field, or access type 1 on a
 * field that is not 64-bit, or bits 63:15 / reserved bit 12 set.
 */
export function resolveEncoding(lo: number, hi: number): { field: VmcsField; high: boolean } | null {
  if (hi !== 0 || (lo & ~0x7fff) !== 0 || (lo & 0x1000) !== 0) return null;
  const high = (lo & 1) === 1;
  const f = FIELD_BY_ENCODING.get(lo & ~1);
  if (f === undefined || (high && f.width !== 64)) return null;
  return { field: f, high };
}
