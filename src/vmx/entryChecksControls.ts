/**
 * VM-entry checks on the VMX controls, SDM vol. 3C §26.2.1 (VM-execution controls §26.2.1.1,
 * VM-exit controls §26.2.1.2, VM-entry controls §26.2.1.3), in the order the SDM lists them.
 * A failure makes VMLAUNCH/VMRESUME fail with VMfailValid 7 ("VM entry with invalid control
 * field(s)"); each returns the name of the first failing check, or null.
 */
import type { PhysAccess } from './vmcs';
import { fieldIndex } from './fields';
import { bitOf, ENTRY_CONTROLS, EXIT_CONTROLS, PIN_BASED, PROC_BASED, PROC_BASED2 } from './controlBits';
import { CheckCaps, ctlOk, msrAreaProblem, pageAddrOk, withinWidth } from './entryChecksCommon';

const F = fieldIndex;
const I_PIN = F('PIN_BASED_VM_EXECUTION_CONTROLS');
const I_PROC = F('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
const I_PROC2 = F('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
const I_EXIT = F('PRIMARY_VM_EXIT_CONTROLS');
const I_ENTRY = F('VM_ENTRY_CONTROLS');
const I_CR3_COUNT = F('CR3_TARGET_COUNT');
const I_IO_A = F('IO_BITMAP_A');
const I_IO_B = F('IO_BITMAP_B');
const I_MSR_BITMAPS = F('MSR_BITMAPS');
const I_VAPIC = F('VIRTUAL_APIC_ADDRESS');
const I_TPR_THRESHOLD = F('TPR_THRESHOLD');
const I_APIC_ACCESS = F('APIC_ACCESS_ADDRESS');
const I_PI_VECTOR = F('POSTED_INTERRUPT_NOTIFICATION_VECTOR');
const I_PI_DESC = F('POSTED_INTERRUPT_DESCRIPTOR_ADDRESS');
const I_VPID = F('VIRTUAL_PROCESSOR_ID');
const I_EPTP = F('EPT_POINTER');
const I_PML = F('PML_ADDRESS');
const I_SPPTP = F('SUB_PAGE_PERMISSION_TABLE_POINTER');
const I_VMFUNC = F('VM_FUNCTION_CONTROLS');
const I_EPTP_LIST = F('EPTP_LIST_ADDRESS');
const I_VMREAD_BITMAP = F('VMREAD_BITMAP_ADDRESS');
const I_VMWRITE_BITMAP = F('VMWRITE_BITMAP_ADDRESS');
const I_VE_INFO = F('VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS');
const I_EXIT_STORE_COUNT = F('VM_EXIT_MSR_STORE_COUNT');
const I_EXIT_STORE_ADDR = F('VM_EXIT_MSR_STORE_ADDRESS');
const I_EXIT_LOAD_COUNT = F('VM_EXIT_MSR_LOAD_COUNT');
const I_EXIT_LOAD_ADDR = F('VM_EXIT_MSR_LOAD_ADDRESS');
const I_ENTRY_LOAD_COUNT = F('VM_ENTRY_MSR_LOAD_COUNT');
const I_ENTRY_LOAD_ADDR = F('VM_ENTRY_MSR_LOAD_ADDRESS');
const I_INJ_INFO = F('VM_ENTRY_INTERRUPTION_INFORMATION');
const I_INJ_ERROR = F('VM_ENTRY_EXCEPTION_ERROR_CODE');
const I_INJ_LENGTH = F('VM_ENTRY_INSTRUCTION_LENGTH');
const I_GUEST_CR0 = F('GUEST_CR0');

const PIN_EXT_INT = bitOf(PIN_BASED, 'EXTERNAL_INTERRUPT_EXITING');
const PIN_NMI = bitOf(PIN_BASED, 'NMI_EXITING');
const PIN_VNMI = bitOf(PIN_BASED, 'VIRTUAL_NMIS');
const PIN_TIMER = bitOf(PIN_BASED, 'ACTIVATE_VMX_PREEMPTION_TIMER');
const PIN_POSTED = bitOf(PIN_BASED, 'PROCESS_POSTED_INTERRUPTS');
const P_TPR_SHADOW = bitOf(PROC_BASED, 'USE_TPR_SHADOW');
const P_NMI_WINDOW = bitOf(PROC_BASED, 'NMI_WINDOW_EXITING');
const P_IO_BITMAPS = bitOf(PROC_BASED, 'USE_IO_BITMAPS');
const P_MSR_BITMAPS = bitOf(PROC_BASED, 'USE_MSR_BITMAPS');
const P_MTF = bitOf(PROC_BASED, 'MONITOR_TRAP_FLAG');
const P_SECONDARY = bitOf(PROC_BASED, 'ACTIVATE_SECONDARY_CONTROLS');
const P2_APIC_ACCESS = bitOf(PROC_BASED2, 'VIRTUALIZE_APIC_ACCESSES');
const P2_EPT = bitOf(PROC_BASED2, 'ENABLE_EPT');
const P2_X2APIC = bitOf(PROC_BASED2, 'VIRTUALIZE_X2APIC_MODE');
const P2_VPID = bitOf(PROC_BASED2, 'ENABLE_VPID');
const P2_UNRESTRICTED = bitOf(PROC_BASED2, 'UNRESTRICTED_GUEST');
const P2_APIC_REG = bitOf(PROC_BASED2, 'APIC_REGISTER_VIRTUALIZATION');
const P2_VID = bitOf(PROC_BASED2, 'VIRTUAL_INTERRUPT_DELIVERY');
const P2_VMFUNC = bitOf(PROC_BASED2, 'ENABLE_VM_FUNCTIONS');
const P2_SHADOW = bitOf(PROC_BASED2, 'VMCS_SHADOWING');
const P2_PML = bitOf(PROC_BASED2, 'ENABLE_PML');
const P2_VE = bitOf(PROC_BASED2, 'EPT_VIOLATION_VE');
const P2_MBEC = bitOf(PROC_BASED2, 'MODE_BASED_EXECUTE_CONTROL_FOR_EPT');
const P2_SPP = bitOf(PROC_BASED2, 'SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT');
const P2_PT_GPA = bitOf(PROC_BASED2, 'INTEL_PT_USES_GUEST_PHYSICAL_ADDRESSES');
const X_SAVE_TIMER = bitOf(EXIT_CONTROLS, 'SAVE_VMX_PREEMPTION_TIMER_VALUE');
const X_ACK_INT = bitOf(EXIT_CONTROLS, 'ACKNOWLEDGE_INTERRUPT_ON_EXIT');
const E_SMM = bitOf(ENTRY_CONTROLS, 'ENTRY_TO_SMM');
const E_LOAD_RTIT = bitOf(ENTRY_CONTROLS, 'LOAD_IA32_RTIT_CTL');
const X_CLEAR_RTIT = bitOf(EXIT_CONTROLS, 'CLEAR_IA32_RTIT_CTL');
const E_DUAL = bitOf(ENTRY_CONTROLS, 'DEACTIVATE_DUAL_MONITOR_TREATMENT');

/**
 * EPTP validity (§26.2.1.1 "enable EPT" checks, §24.6.11 table 24-8), against
 * IA32_VMX_EPT_VPID_CAP (§A.10): memory type UC (cap bit 8) or WB (cap bit 14); walk length 4
 * (bits 5:3 = 3, cap bit 6) or 5 (= 4, cap bit 7); A/D enable (bit 6) only with cap bit 21;
 * supervisor shadow-stack control (bit 7) only with cap bit 23; bits 11:8 and 63:N zero.
 * Local copy of the EPT helper's `eptpValid` (ept.ts), kept identical in meaning.
 */
export function eptpValidFor(caps: CheckCaps, lo: number, hi: number): boolean {
  const mt = lo & 7;
  if (!((mt === 0 && (caps.eptCapLo & (1 << 8)) !== 0) || (mt === 6 && (caps.eptCapLo & (1 << 14)) !== 0))) return false;
  const walk = (lo >> 3) & 7;
  if (!((walk === 3 && (caps.eptCapLo & (1 << 6)) !== 0) || (walk === 4 && (caps.eptCapLo & (1 << 7)) !== 0))) return false;
  if ((lo & 0x40) !== 0 && (caps.eptCapLo & (1 << 21)) === 0) return false;
  if ((lo & 0x80) !== 0 && (caps.eptCapLo & (1 << 23)) === 0) return false;
  return (lo & 0xf00) === 0 && withinWidth(lo, hi, caps.physBits);
}

/**
 * The vector/type rules of the VM-entry interruption-information field (§26.2.1.3), the checks a
 * VMRESUME re-runs when only the injection fields changed. `guestCr0` is the guest CR0 field
 * (its PE bit decides whether an error code is delivered).
 */
export function checkInjection(caps: CheckCaps, lo: Int32Array, guestCr0: number): string | null {
  const info = lo[I_INJ_INFO];
  if (info >= 0) return null; // valid bit 31 clear: nothing is injected, no checks
  const type = (info >> 8) & 7;
  const vector = info & 0xff;
  // Type 1 is reserved; type 7 (other event) only when the MTF control may be 1.
  if (type === 1) return '26.2.1.3 injection: reserved interruption type';
  if (type === 7 && (caps.proc1 & P_MTF) === 0) return '26.2.1.3 injection: other event not supported';
  if (type === 2 && vector !== 2) return '26.2.1.3 injection: NMI vector not 2';
  if (type === 3 && vector > 31) return '26.2.1.3 injection: hardware exception vector > 31';
  if (type === 7 && vector !== 0) return '26.2.1.3 injection: other event vector not 0';
  // Deliver-error-code (bit 11): 1 exactly for a hardware exception, with CR0.PE = 1 in the
  // guest CR0 field and (unless IA32_VMX_BASIC[56]) a vector of #DF, #TS, #NP, #SS, #GP, #PF, #AC.
  const anyVector = (caps.basicHi & (1 << (56 - 32))) !== 0;
  const errVector = vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
  const wantsErr = type === 3 && (guestCr0 & 1) !== 0 && (anyVector || errVector);
  const hasErr = (info & 0x800) !== 0;
  if (hasErr && !wantsErr) return '26.2.1.3 injection: error code delivered where none is allowed';
  if (!hasErr && wantsErr && !anyVector) return '26.2.1.3 injection: error code missing';
  if ((info & 0x7ffff000) !== 0) return '26.2.1.3 injection: reserved bits 30:12';
  if (hasErr && (lo[I_INJ_ERROR] & 0xffff0000) !== 0) return '26.2.1.3 injection: error code bits 31:16';
  if (type >= 4 && type <= 6) {
    const len = lo[I_INJ_LENGTH];
    if (len < 0 || len > 15) return '26.2.1.3 injection: instruction length > 15';
    if (len === 0 && (caps.miscLo & (1 << 30)) === 0) return '26.2.1.3 injection: instruction length 0';
  }
  return null;
}

/**
 * Every check of §26.2.1 in order. `lo`/`hi` are the VMCS's value arrays. `phys` reads the
 * virtual-APIC page for the TPR-threshold check.
 */
export function checkControls(caps: CheckCaps, lo: Int32Array, hi: Int32Array, phys: PhysAccess): string | null {
  const pin = lo[I_PIN];
  const proc = lo[I_PROC];
  const N = caps.physBits;
  // ---- §26.2.1.1 VM-execution control fields ----
  if (!ctlOk(pin, caps.pin0, caps.pin1)) return '26.2.1.1 pin-based controls: reserved bits';
  if (!ctlOk(proc, caps.proc0, caps.proc1)) return '26.2.1.1 primary processor-based controls: reserved bits';
  // With "activate secondary controls" 0 the processor acts as if every secondary control were 0.
  const proc2 = (proc & P_SECONDARY) !== 0 ? lo[I_PROC2] : 0;
  if ((proc & P_SECONDARY) !== 0 && !ctlOk(proc2, caps.proc20, caps.proc21)) {
    return '26.2.1.1 secondary processor-based controls: reserved bits';
  }
  const cr3Targets = (caps.miscLo >>> 16) & 0x1ff;
  if ((lo[I_CR3_COUNT] >>> 0) > cr3Targets) return '26.2.1.1 CR3-target count too large';
  if ((proc & P_IO_BITMAPS) !== 0) {
    if (!pageAddrOk(lo[I_IO_A], hi[I_IO_A], N)) return '26.2.1.1 I/O bitmap A address';
    if (!pageAddrOk(lo[I_IO_B], hi[I_IO_B], N)) return '26.2.1.1 I/O bitmap B address';
  }
  if ((proc & P_MSR_BITMAPS) !== 0 && !pageAddrOk(lo[I_MSR_BITMAPS], hi[I_MSR_BITMAPS], N)) {
    return '26.2.1.1 MSR-bitmap address';
  }
  if ((proc & P_TPR_SHADOW) !== 0) {
    if (!pageAddrOk(lo[I_VAPIC], hi[I_VAPIC], N)) return '26.2.1.1 virtual-APIC address';
    if ((proc2 & P2_VID) === 0) {
      const thr = lo[I_TPR_THRESHOLD];
      if ((thr & ~0xf) !== 0) return '26.2.1.1 TPR threshold bits 31:4';
      if ((proc2 & P2_APIC_ACCESS) === 0) {
        // VTPR is byte 80H of the virtual-APIC page; its bits 7:4 bound the threshold.
        const vtpr = phys.read32(lo[I_VAPIC] + 0x80) & 0xff;
        if ((thr & 0xf) > (vtpr >> 4)) return '26.2.1.1 TPR threshold above VTPR[7:4]';
      }
    }
  } else if ((proc2 & (P2_X2APIC | P2_APIC_REG | P2_VID)) !== 0) {
    return '26.2.1.1 APIC virtualization without TPR shadow';
  }
  if ((pin & PIN_NMI) === 0 && (pin & PIN_VNMI) !== 0) return '26.2.1.1 virtual NMIs without NMI exiting';
  if ((pin & PIN_VNMI) === 0 && (proc & P_NMI_WINDOW) !== 0) return '26.2.1.1 NMI-window exiting without virtual NMIs';
  if ((proc2 & P2_APIC_ACCESS) !== 0 && !pageAddrOk(lo[I_APIC_ACCESS], hi[I_APIC_ACCESS], N)) {
    return '26.2.1.1 APIC-access address';
  }
  if ((proc2 & P2_X2APIC) !== 0 && (proc2 & P2_APIC_ACCESS) !== 0) {
    return '26.2.1.1 virtualize x2APIC mode with virtualize APIC accesses';
  }
  if ((proc2 & P2_VID) !== 0 && (pin & PIN_EXT_INT) === 0) {
    return '26.2.1.1 virtual-interrupt delivery without external-interrupt exiting';
  }
  if ((pin & PIN_POSTED) !== 0) {
    if ((proc2 & P2_VID) === 0) return '26.2.1.1 posted interrupts without virtual-interrupt delivery';
    if ((lo[I_EXIT] & X_ACK_INT) === 0) return '26.2.1.1 posted interrupts without acknowledge interrupt on exit';
    if ((lo[I_PI_VECTOR] & 0xff00) !== 0) return '26.2.1.1 posted-interrupt notification vector';
    if ((lo[I_PI_DESC] & 0x3f) !== 0 || !withinWidth(lo[I_PI_DESC], hi[I_PI_DESC], N)) {
      return '26.2.1.1 posted-interrupt descriptor address';
    }
  }
  if ((proc2 & P2_VPID) !== 0 && (lo[I_VPID] & 0xffff) === 0) return '26.2.1.1 VPID is 0';
  if ((proc2 & P2_EPT) !== 0 && !eptpValidFor(caps, lo[I_EPTP], hi[I_EPTP])) return '26.2.1.1 EPTP invalid';
  if ((proc2 & P2_PML) !== 0) {
    if ((proc2 & P2_EPT) === 0) return '26.2.1.1 PML without EPT';
    if (!pageAddrOk(lo[I_PML], hi[I_PML], N)) return '26.2.1.1 PML address';
  }
  if ((proc2 & (P2_UNRESTRICTED | P2_MBEC)) !== 0 && (proc2 & P2_EPT) === 0) {
    return '26.2.1.1 unrestricted guest or mode-based execute control without EPT';
  }
  if ((proc2 & P2_SPP) !== 0) {
    if ((proc2 & P2_EPT) === 0) return '26.2.1.1 sub-page write permissions without EPT';
    if (!pageAddrOk(lo[I_SPPTP], hi[I_SPPTP], N)) return '26.2.1.1 SPPTP';
  }
  if ((proc2 & P2_PT_GPA) !== 0) {
    if ((proc2 & P2_EPT) === 0) return '26.2.1.1 Intel PT guest-physical addresses without EPT';
    // The VM-entry "load IA32_RTIT_CTL" and VM-exit "clear IA32_RTIT_CTL" controls must be 1.
    if ((lo[I_ENTRY] & E_LOAD_RTIT) === 0 || (lo[I_EXIT] & X_CLEAR_RTIT) === 0) {
      return '26.2.1.1 Intel PT guest-physical addresses without load/clear IA32_RTIT_CTL';
    }
  }
  if ((proc2 & P2_VMFUNC) !== 0) {
    // VM-function controls: only bits IA32_VMX_VMFUNC reports may be 1 (§A.11).
    const vl = lo[I_VMFUNC];
    const vh = hi[I_VMFUNC];
    if ((vl & ~caps.vmfuncLo) !== 0 || (vh & ~caps.vmfuncHi) !== 0) return '26.2.1.1 VM-function controls: reserved bits';
    if ((vl & 1) !== 0) {
      if ((proc2 & P2_EPT) === 0) return '26.2.1.1 EPTP switching without EPT';
      if (!pageAddrOk(lo[I_EPTP_LIST], hi[I_EPTP_LIST], N)) return '26.2.1.1 EPTP-list address';
    }
  }
  if ((proc2 & P2_SHADOW) !== 0) {
    if (!pageAddrOk(lo[I_VMREAD_BITMAP], hi[I_VMREAD_BITMAP], N)) return '26.2.1.1 VMREAD-bitmap address';
    if (!pageAddrOk(lo[I_VMWRITE_BITMAP], hi[I_VMWRITE_BITMAP], N)) return '26.2.1.1 VMWRITE-bitmap address';
  }
  if ((proc2 & P2_VE) !== 0 && !pageAddrOk(lo[I_VE_INFO], hi[I_VE_INFO], N)) {
    return '26.2.1.1 virtualization-exception information address';
  }

  // ---- §26.2.1.2 VM-exit control fields ----
  const exit = lo[I_EXIT];
  if (!ctlOk(exit, caps.exit0, caps.exit1)) return '26.2.1.2 VM-exit controls: reserved bits';
  if ((pin & PIN_TIMER) === 0 && (exit & X_SAVE_TIMER) !== 0) {
    return '26.2.1.2 save preemption timer without activate preemption timer';
  }
  if (lo[I_EXIT_STORE_COUNT] !== 0) {
    const p = msrAreaProblem(lo[I_EXIT_STORE_ADDR], hi[I_EXIT_STORE_ADDR], lo[I_EXIT_STORE_COUNT], N);
    if (p === 1) return '26.2.1.2 VM-exit MSR-store address';
    if (p === 2) return '26.2.1.2 VM-exit MSR-store area end';
  }
  if (lo[I_EXIT_LOAD_COUNT] !== 0) {
    const p = msrAreaProblem(lo[I_EXIT_LOAD_ADDR], hi[I_EXIT_LOAD_ADDR], lo[I_EXIT_LOAD_COUNT], N);
    if (p === 1) return '26.2.1.2 VM-exit MSR-load address';
    if (p === 2) return '26.2.1.2 VM-exit MSR-load area end';
  }

  // ---- §26.2.1.3 VM-entry control fields ----
  const entry = lo[I_ENTRY];
  if (!ctlOk(entry, caps.entry0, caps.entry1)) return '26.2.1.3 VM-entry controls: reserved bits';
  const inj = checkInjection(caps, lo, lo[I_GUEST_CR0]);
  if (inj !== null) return inj;
  if (lo[I_ENTRY_LOAD_COUNT] !== 0) {
    const p = msrAreaProblem(lo[I_ENTRY_LOAD_ADDR], hi[I_ENTRY_LOAD_ADDR], lo[I_ENTRY_LOAD_COUNT], N);
    if (p === 1) return '26.2.1.3 VM-entry MSR-load address';
    if (p === 2) return '26.2.1.3 VM-entry MSR-load area end';
  }
  // The logical processor is never in SMM: both SMM controls must be 0 (and so not both 1).
  if ((entry & E_SMM) !== 0) return '26.2.1.3 entry to SMM outside SMM';
  if ((entry & E_DUAL) !== 0) return '26.2.1.3 deactivate dual-monitor treatment outside SMM';
  return null;
}

/**
 * The memory-dependent part of §26.2.1.1 (re-run on every entry even when no field changed):
 * the TPR threshold against VTPR on the virtual-APIC page.
 */
export function checkControlsMemory(lo: Int32Array, phys: PhysAccess): string | null {
  const proc = lo[I_PROC];
  if ((proc & P_TPR_SHADOW) === 0) return null;
  const proc2 = (proc & P_SECONDARY) !== 0 ? lo[I_PROC2] : 0;
  if ((proc2 & (P2_VID | P2_APIC_ACCESS)) !== 0) return null;
  const vtpr = phys.read32(lo[I_VAPIC] + 0x80) & 0xff;
  return (lo[I_TPR_THRESHOLD] & 0xf) > (vtpr >> 4) ? '26.2.1.1 TPR threshold above VTPR[7:4]' : null;
}
