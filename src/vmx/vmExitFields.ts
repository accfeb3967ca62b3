/**
 * What the VM transitions (vmEntry*.ts, vmExit*.ts, hostState.ts, msrAreas.ts, injection.ts)
 * share: the dense indices of the VMCS fields they read and write (fields.ts), the control bits
 * they test (controlBits.ts), and the per-engine transition state — the processor state the
 * transitions need but the Cpu does not model (IA32_DEBUGCTL), the host's NMI blocking kept
 * across a guest run with "virtual NMIs", the capability values read once per engine, and the
 * exit extras of engine.setExitExtra. SDM vol. 3C chapters 26 (VM entries) and 27 (VM exits).
 */
import type { Cpu } from '../x86/cpu';
import { getStored } from '../x86/msr';
import { maxPhysAddr } from '../x86/paging';
import { maxLinearBits } from '../x86/controlRegisters';
import { ENTRY_CONTROLS, EXIT_CONTROLS, PIN_BASED, PROC_BASED, PROC_BASED2, bitOf } from './controlBits';
import { fieldIndex } from './fields';
import { VMX_MSR } from './capabilities';
import type { VmxEngine } from './engine';

const f = fieldIndex;

// ---- control fields (§24.6-24.8) ------------------------------------------------------------
export const I_PIN = f('PIN_BASED_VM_EXECUTION_CONTROLS');
export const I_PROC = f('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
export const I_PROC2 = f('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
export const I_EXIT_CTLS = f('PRIMARY_VM_EXIT_CONTROLS');
export const I_ENTRY_CTLS = f('VM_ENTRY_CONTROLS');
export const I_EXC_BITMAP = f('EXCEPTION_BITMAP');
export const I_EXIT_MSR_STORE_COUNT = f('VM_EXIT_MSR_STORE_COUNT');
export const I_EXIT_MSR_STORE_ADDR = f('VM_EXIT_MSR_STORE_ADDRESS');
export const I_EXIT_MSR_LOAD_COUNT = f('VM_EXIT_MSR_LOAD_COUNT');
export const I_EXIT_MSR_LOAD_ADDR = f('VM_EXIT_MSR_LOAD_ADDRESS');
export const I_ENTRY_MSR_LOAD_COUNT = f('VM_ENTRY_MSR_LOAD_COUNT');
export const I_ENTRY_MSR_LOAD_ADDR = f('VM_ENTRY_MSR_LOAD_ADDRESS');
export const I_ENTRY_INT_INFO = f('VM_ENTRY_INTERRUPTION_INFORMATION');
export const I_ENTRY_EXC_ERR = f('VM_ENTRY_EXCEPTION_ERROR_CODE');
export const I_ENTRY_INSN_LEN = f('VM_ENTRY_INSTRUCTION_LENGTH');

// ---- exit-information fields (§24.9) --------------------------------------------------------
export const I_EXIT_REASON = f('EXIT_REASON');
export const I_EXIT_QUAL = f('EXIT_QUALIFICATION');
export const I_EXIT_INT_INFO = f('VM_EXIT_INTERRUPTION_INFORMATION');
export const I_EXIT_INT_ERR = f('VM_EXIT_INTERRUPTION_ERROR_CODE');
export const I_IDT_INFO = f('IDT_VECTORING_INFORMATION');
export const I_IDT_ERR = f('IDT_VECTORING_ERROR_CODE');
export const I_EXIT_INSN_LEN = f('VM_EXIT_INSTRUCTION_LENGTH');
export const I_EXIT_INSN_INFO = f('VM_EXIT_INSTRUCTION_INFORMATION');

// ---- guest-state fields (§24.4), in segment order ES CS SS DS FS GS LDTR TR ------------------
const SEG_NAMES = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'];
export const I_GUEST_SEL = Int32Array.from(SEG_NAMES, (s) => f(`GUEST_${s}_SELECTOR`));
export const I_GUEST_BASE = Int32Array.from(SEG_NAMES, (s) => f(`GUEST_${s}_BASE`));
export const I_GUEST_LIMIT = Int32Array.from(SEG_NAMES, (s) => f(`GUEST_${s}_LIMIT`));
export const I_GUEST_AR = Int32Array.from(SEG_NAMES, (s) => f(`GUEST_${s}_ACCESS_RIGHTS`));
export const I_GUEST_CR0 = f('GUEST_CR0');
export const I_GUEST_CR3 = f('GUEST_CR3');
export const I_GUEST_CR4 = f('GUEST_CR4');
export const I_GUEST_DR7 = f('GUEST_DR7');
export const I_GUEST_RSP = f('GUEST_RSP');
export const I_GUEST_RIP = f('GUEST_RIP');
export const I_GUEST_RFLAGS = f('GUEST_RFLAGS');
export const I_GUEST_GDTR_BASE = f('GUEST_GDTR_BASE');
export const I_GUEST_GDTR_LIMIT = f('GUEST_GDTR_LIMIT');
export const I_GUEST_IDTR_BASE = f('GUEST_IDTR_BASE');
export const I_GUEST_IDTR_LIMIT = f('GUEST_IDTR_LIMIT');
export const I_GUEST_DEBUGCTL = f('GUEST_IA32_DEBUGCTL');
export const I_GUEST_PAT = f('GUEST_IA32_PAT');
export const I_GUEST_EFER = f('GUEST_IA32_EFER');
export const I_GUEST_SYSENTER_CS = f('GUEST_IA32_SYSENTER_CS');
export const I_GUEST_SYSENTER_ESP = f('GUEST_IA32_SYSENTER_ESP');
export const I_GUEST_SYSENTER_EIP = f('GUEST_IA32_SYSENTER_EIP');
export const I_GUEST_INTERRUPTIBILITY = f('GUEST_INTERRUPTIBILITY_STATE');
export const I_GUEST_PENDING_DBG = f('GUEST_PENDING_DEBUG_EXCEPTIONS');
export const I_GUEST_PDPTE = Int32Array.from([0, 1, 2, 3], (i) => f(`GUEST_PDPTE${i}`));

// ---- host-state fields (§24.5) --------------------------------------------------------------
const HOST_SEGS = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'];
export const I_HOST_SEL = Int32Array.from(HOST_SEGS, (s) => f(`HOST_${s}_SELECTOR`));
export const I_HOST_TR_SEL = f('HOST_TR_SELECTOR');
export const I_HOST_CR0 = f('HOST_CR0');
export const I_HOST_CR3 = f('HOST_CR3');
export const I_HOST_CR4 = f('HOST_CR4');
export const I_HOST_FS_BASE = f('HOST_FS_BASE');
export const I_HOST_GS_BASE = f('HOST_GS_BASE');
export const I_HOST_TR_BASE = f('HOST_TR_BASE');
export const I_HOST_GDTR_BASE = f('HOST_GDTR_BASE');
export const I_HOST_IDTR_BASE = f('HOST_IDTR_BASE');
export const I_HOST_SYSENTER_CS = f('HOST_IA32_SYSENTER_CS');
export const I_HOST_SYSENTER_ESP = f('HOST_IA32_SYSENTER_ESP');
export const I_HOST_SYSENTER_EIP = f('HOST_IA32_SYSENTER_EIP');
export const I_HOST_RSP = f('HOST_RSP');
export const I_HOST_RIP = f('HOST_RIP');
export const I_HOST_PAT = f('HOST_IA32_PAT');
export const I_HOST_EFER = f('HOST_IA32_EFER');

// ---- control bits -----------------------------------------------------------------------------
export const PIN_VIRTUAL_NMIS = bitOf(PIN_BASED, 'VIRTUAL_NMIS');
export const PROC_SECONDARY = bitOf(PROC_BASED, 'ACTIVATE_SECONDARY_CONTROLS');
export const PROC2_EPT = bitOf(PROC_BASED2, 'ENABLE_EPT');
export const PROC2_UNRESTRICTED = bitOf(PROC_BASED2, 'UNRESTRICTED_GUEST');
export const EXIT_SAVE_DEBUG = bitOf(EXIT_CONTROLS, 'SAVE_DEBUG_CONTROLS');
export const EXIT_HOST_64 = bitOf(EXIT_CONTROLS, 'HOST_ADDRESS_SPACE_SIZE');
export const EXIT_SAVE_PAT = bitOf(EXIT_CONTROLS, 'SAVE_IA32_PAT');
export const EXIT_LOAD_PAT = bitOf(EXIT_CONTROLS, 'LOAD_IA32_PAT');
export const EXIT_SAVE_EFER = bitOf(EXIT_CONTROLS, 'SAVE_IA32_EFER');
export const EXIT_LOAD_EFER = bitOf(EXIT_CONTROLS, 'LOAD_IA32_EFER');
export const ENTRY_LOAD_DEBUG = bitOf(ENTRY_CONTROLS, 'LOAD_DEBUG_CONTROLS');
export const ENTRY_IA32E = bitOf(ENTRY_CONTROLS, 'IA32E_MODE_GUEST');
export const ENTRY_LOAD_PAT = bitOf(ENTRY_CONTROLS, 'LOAD_IA32_PAT');
export const ENTRY_LOAD_EFER = bitOf(ENTRY_CONTROLS, 'LOAD_IA32_EFER');

// ---- MSR indices (SDM vol. 4 chapter 2) ---------------------------------------------------------
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_PAT = 0x277;

// ---- processor-state bits -----------------------------------------------------------------------
export const CR0_PE = 1;
export const CR0_PG = 1 << 31;
export const CR4_PAE = 1 << 5;
export const CR4_LA57 = 1 << 12;
export const CR4_PCIDE = 1 << 17;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;

/**
 * Per-engine state of the transitions. `debugctlLo/Hi` is IA32_DEBUGCTL (MSR 1D9H), which the
 * processor model does not implement: VM entry loads it and VM exit saves and clears it as the
 * SDM says, so the VMCS round trip is exact.
 */
export class TransitionState {
  debugctlLo = 0;
  debugctlHi = 0;
  /** The host's (real) NMI blocking while a guest runs with "virtual NMIs" = 1 (§25.3, §27.5.5). */
  hostNmiBlocked = false;
  /** "virtual NMIs" of the guest that runs now. */
  virtualNmis = false;
  /** The SYSENTER MSRs as the last guest-state save read them (hostState.ts compares, §27.5.1). */
  sysCs = 0;
  sysEspLo = 0;
  sysEspHi = 0;
  sysEipLo = 0;
  sysEipHi = 0;
  // ---- exit extras (engine.setExitExtra), consumed by the next performVmExit ----
  extraSet = false;
  extraIntInfo = 0;
  extraIntErr = 0;
  extraIdtInfo = 0;
  extraIdtErr = 0;
  // ---- constants of this processor, read once (capability MSRs do not change) ----
  readonly cr0Fixed0: number;
  readonly cr0Fixed1: number;
  readonly cr4Fixed0: number;
  readonly cr4Fixed1: number;
  /** Mask of CR3 bits 63:32 within MAXPHYADDR (§27.5.1 clears the others). */
  readonly physHiMask: number;
  /** Linear-address width N (48 or 57): host bases and SYSENTER values are sign-extended from bit N-1. */
  readonly linearBits: number;
  /** IA32_VMX_MISC bit 5: VM exits store IA32_EFER.LMA into the "IA-32e mode guest" control (§A.6). */
  readonly storeLma: boolean;

  constructor(c: Cpu) {
    this.storeLma = (getStored(c, VMX_MSR.MISC) & (1 << 5)) !== 0;
    this.cr0Fixed0 = getStored(c, VMX_MSR.CR0_FIXED0);
    this.cr0Fixed1 = getStored(c, VMX_MSR.CR0_FIXED1);
    this.cr4Fixed0 = getStored(c, VMX_MSR.CR4_FIXED0);
    this.cr4Fixed1 = getStored(c, VMX_MSR.CR4_FIXED1);
    const m = maxPhysAddr(c);
    this.physHiMask = m >= 64 ? -1 : m <= 32 ? 0 : (1 << (m - 32)) - 1;
    this.linearBits = maxLinearBits(c);
  }
}

const states = new WeakMap<VmxEngine, TransitionState>();
let lastEngine: VmxEngine | null = null;
let lastState: TransitionState | null = null;

/** The transition state of `engine` (one lookup per engine switch, none on the hot path). */
export function transitionState(engine: VmxEngine): TransitionState {
  if (engine === lastEngine) return lastState!;
  let s = states.get(engine);
  if (s === undefined) {
    s = new TransitionState(engine.cpu);
    states.set(engine, s);
  }
  lastEngine = engine;
  lastState = s;
  return s;
}

/** Sign-extend a 64-bit value (halves) from bit N-1 (§27.5.1, §27.5.2: "bits 63:N set to bit N-1"). */
export function canonHi(hi: number, bits: number): number {
  const s = 64 - bits;
  return (hi << s) >> s;
}
