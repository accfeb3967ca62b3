/**
 * What the instruction-exit files share: the control bits they test, the VMCS fields they read,
 * and `insnExit`, which records an instruction-caused VM exit through the engine and throws
 * VM_EXIT (SDM vol. 3C §27.1: the exit happens instead of the instruction, RIP = the
 * instruction's address, VM-exit instruction length = its length, §27.2.4).
 */
import type { Cpu } from '../x86/cpu';
import type { DecodedInsn } from '../x86/decoded';
import { VM_EXIT } from '../x86/vmxHooks';
import { PROC_BASED, PROC_BASED2, bitOf } from './controlBits';
import type { VmxEngine } from './engine';
import { fieldIndex } from './fields';
import type { Vmcs } from './vmcs';

// ---- primary processor-based controls (§24.6.2 table 24-6) -------------------------------------
export const P_TSC_OFFSETTING = bitOf(PROC_BASED, 'USE_TSC_OFFSETTING');
export const P_HLT = bitOf(PROC_BASED, 'HLT_EXITING');
export const P_INVLPG = bitOf(PROC_BASED, 'INVLPG_EXITING');
export const P_MWAIT = bitOf(PROC_BASED, 'MWAIT_EXITING');
export const P_RDPMC = bitOf(PROC_BASED, 'RDPMC_EXITING');
export const P_RDTSC = bitOf(PROC_BASED, 'RDTSC_EXITING');
export const P_CR3_LOAD = bitOf(PROC_BASED, 'CR3_LOAD_EXITING');
export const P_CR3_STORE = bitOf(PROC_BASED, 'CR3_STORE_EXITING');
export const P_CR8_LOAD = bitOf(PROC_BASED, 'CR8_LOAD_EXITING');
export const P_CR8_STORE = bitOf(PROC_BASED, 'CR8_STORE_EXITING');
export const P_TPR_SHADOW = bitOf(PROC_BASED, 'USE_TPR_SHADOW');
export const P_MOV_DR = bitOf(PROC_BASED, 'MOV_DR_EXITING');
export const P_UNCOND_IO = bitOf(PROC_BASED, 'UNCONDITIONAL_IO_EXITING');
export const P_IO_BITMAPS = bitOf(PROC_BASED, 'USE_IO_BITMAPS');
export const P_MSR_BITMAPS = bitOf(PROC_BASED, 'USE_MSR_BITMAPS');
export const P_MONITOR = bitOf(PROC_BASED, 'MONITOR_EXITING');
export const P_PAUSE = bitOf(PROC_BASED, 'PAUSE_EXITING');

// ---- secondary processor-based controls (§24.6.2 table 24-7) -----------------------------------
export const S_DESC_TABLE = bitOf(PROC_BASED2, 'DESCRIPTOR_TABLE_EXITING');
export const S_RDTSCP = bitOf(PROC_BASED2, 'ENABLE_RDTSCP');
export const S_X2APIC = bitOf(PROC_BASED2, 'VIRTUALIZE_X2APIC_MODE');
export const S_WBINVD = bitOf(PROC_BASED2, 'WBINVD_EXITING');
export const S_UNRESTRICTED = bitOf(PROC_BASED2, 'UNRESTRICTED_GUEST');
export const S_PLE = bitOf(PROC_BASED2, 'PAUSE_LOOP_EXITING');
export const S_RDRAND = bitOf(PROC_BASED2, 'RDRAND_EXITING');
export const S_INVPCID = bitOf(PROC_BASED2, 'ENABLE_INVPCID');
export const S_VMFUNC = bitOf(PROC_BASED2, 'ENABLE_VM_FUNCTIONS');
export const S_RDSEED = bitOf(PROC_BASED2, 'RDSEED_EXITING');
export const S_XSAVES = bitOf(PROC_BASED2, 'ENABLE_XSAVES_XRSTORS');
export const S_TSC_SCALING = bitOf(PROC_BASED2, 'USE_TSC_SCALING');

// ---- VMCS fields ----------------------------------------------------------------------------
export const F = {
  ioBitmapA: fieldIndex('IO_BITMAP_A'),
  ioBitmapB: fieldIndex('IO_BITMAP_B'),
  msrBitmaps: fieldIndex('MSR_BITMAPS'),
  tscOffset: fieldIndex('TSC_OFFSET'),
  tscMultiplier: fieldIndex('TSC_MULTIPLIER'),
  virtualApic: fieldIndex('VIRTUAL_APIC_ADDRESS'),
  tprThreshold: fieldIndex('TPR_THRESHOLD'),
  cr0Mask: fieldIndex('CR0_GUEST_HOST_MASK'),
  cr4Mask: fieldIndex('CR4_GUEST_HOST_MASK'),
  cr0Shadow: fieldIndex('CR0_READ_SHADOW'),
  cr4Shadow: fieldIndex('CR4_READ_SHADOW'),
  cr3TargetCount: fieldIndex('CR3_TARGET_COUNT'),
  cr3Target0: fieldIndex('CR3_TARGET_VALUE_0'),
  cr3Target1: fieldIndex('CR3_TARGET_VALUE_1'),
  cr3Target2: fieldIndex('CR3_TARGET_VALUE_2'),
  cr3Target3: fieldIndex('CR3_TARGET_VALUE_3'),
  pleGap: fieldIndex('PLE_GAP'),
  pleWindow: fieldIndex('PLE_WINDOW'),
  xssExiting: fieldIndex('XSS_EXITING_BITMAP'),
  vmfuncControls: fieldIndex('VM_FUNCTION_CONTROLS'),
  eptpList: fieldIndex('EPTP_LIST_ADDRESS'),
  eptPointer: fieldIndex('EPT_POINTER'),
  guestLinear: fieldIndex('GUEST_LINEAR_ADDRESS'),
} as const;

const TWO32 = 4294967296;

/** The current VMCS of non-root operation (there always is one: VM entry needs it). */
export function vmcsOf(engine: VmxEngine): Vmcs {
  const v = engine.current;
  if (v === null) throw new Error('internal: VMX non-root operation without a current VMCS');
  return v;
}

/** A 64-bit physical-address field as a number (addresses stay below 2^53). */
export function physField(v: Vmcs, i: number): number {
  return (v.hi[i] >>> 0) * TWO32 + (v.lo[i] >>> 0);
}

/** Byte `addr` of physical memory (bitmaps), through the engine's physical access. */
export function physByte(engine: VmxEngine, addr: number): number {
  const a = addr - (addr % 4);
  return (engine.phys.read32(a) >>> ((addr - a) * 8)) & 0xff;
}

/** 32 bits of physical memory at `addr` (the virtual-APIC page, the EPTP list). */
export function physRead32(engine: VmxEngine, addr: number): number {
  return engine.phys.read32(addr) | 0;
}

/** Write 32 bits of physical memory (engine.phys writes through the processor: code stays exact). */
export function physWrite32(engine: VmxEngine, addr: number, v: number): void {
  engine.phys.write32(addr, v);
}

/**
 * The guest-linear-address field for the exits that report one (§27.2.1: LMSW with a memory
 * operand, INS/OUTS): written before the exit is recorded; every other exit leaves the field
 * alone (the SDM leaves it undefined for them).
 */
export function setGuestLinear(engine: VmxEngine, lo: number, hi: number): void {
  vmcsOf(engine).set64(F.guestLinear, lo, hi);
}

/**
 * Leave the op after an exit was performed (vmxInsnHooks.ts, "how an exit leaves the op"): a
 * processor whose run loop stops a block when `exitTaken` is set after an op (it says so with
 * `exitReturns`) gets `exitTaken` and a return; otherwise VM_EXIT is thrown. Returning is much
 * cheaper than a throw in V8 (a throw and catch cost about 1 µs), which decides the exit rate.
 */
function leaveOp(c: Cpu): true {
  if ((c as unknown as { exitReturns?: boolean }).exitReturns !== true) throw VM_EXIT;
  c.exitTaken = true;
  return true;
}

/**
 * A fault-like instruction exit: the instruction does not execute; the saved RIP is its own
 * address and the instruction length its length (§27.2.4). Returns true (or throws VM_EXIT);
 * the caller returns at once and the op returns without doing anything else.
 */
export function insnExit(engine: VmxEngine, d: DecodedInsn, reason: number, qualLo: number, qualHi: number, info: number): true {
  // The instruction does not complete: breakpoint matches it made (an I/O breakpoint found by
  // the TSS check before the exit) are not reported, as for a fault (SDM vol. 3B §18.3.1.2).
  engine.cpu.dbgHits = 0;
  engine.exit(reason, qualLo, qualHi, d.length, info, d.ipLo, d.ipHi);
  return leaveOp(engine.cpu);
}

/**
 * A trap-like exit after the instruction completed (TPR below threshold, §29.1.2): RIP is the
 * next instruction's, the instruction retires (it counts on the deterministic clock), and the
 * instruction length is not reported (undefined for this exit; written 0). Returns true (or
 * throws VM_EXIT).
 */
export function trapExit(engine: VmxEngine, c: Cpu, d: DecodedInsn, reason: number): true {
  c.icount++;
  engine.exit(reason, 0, 0, 0, 0, d.nextLo, d.nextHi);
  return leaveOp(c);
}
