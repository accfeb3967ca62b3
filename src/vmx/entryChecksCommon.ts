/**
 * Shared pieces of the VM-entry checks (SDM vol. 3C §26.2, §26.3): the capability MSRs as the
 * checks read them, and address-width helpers. The capability values are read from the Cpu's
 * stored MSRs (capabilities.ts installs them there, msr.ts setStored), so the checks enforce
 * exactly what a guest hypervisor reading IA32_VMX_* would see.
 */
import type { Cpu } from '../x86/cpu';
import { getStored } from '../x86/msr';
import { maxPhysAddr } from '../x86/paging';
import { maxLinearBits } from '../x86/controlRegisters';

/** The capability MSRs (appendix A), as allowed-0 (lo) / allowed-1 (hi) pairs where they are controls. */
export class CheckCaps {
  basicLo = 0;
  basicHi = 0;
  pin0 = 0; pin1 = 0;
  proc0 = 0; proc1 = 0;
  proc20 = 0; proc21 = 0;
  exit0 = 0; exit1 = 0;
  entry0 = 0; entry1 = 0;
  miscLo = 0; miscHi = 0;
  cr0Fixed0 = 0; cr0Fixed0Hi = 0; cr0Fixed1 = 0; cr0Fixed1Hi = 0;
  cr4Fixed0 = 0; cr4Fixed0Hi = 0; cr4Fixed1 = 0; cr4Fixed1Hi = 0;
  eptCapLo = 0; eptCapHi = 0;
  vmfuncLo = 0; vmfuncHi = 0;
  /** Physical-address width the checks use (32 when IA32_VMX_BASIC[48] is 1, §A.1). */
  physBits = 36;
  /** The processor's linear-address width (57 with 5-level paging, else 48). */
  linBits = 48;
  /** Processor supports RTM (CPUID.(EAX=7,ECX=0):EBX[11]). */
  rtm = false;
}

function rd(c: Cpu, index: number): [number, number] {
  const lo = getStored(c, index);
  return [lo, c.vHi];
}

/**
 * Read the capability MSRs of `c` into `out` (§A.1-A.11). With IA32_VMX_BASIC[55] = 1 the TRUE_
 * MSRs give the controls' allowed-0 settings (§A.2-A.5: "VM entry checks against the TRUE MSR").
 */
export function readCaps(c: Cpu, out: CheckCaps): CheckCaps {
  [out.basicLo, out.basicHi] = rd(c, 0x480);
  const useTrue = (out.basicHi & (1 << (55 - 32))) !== 0;
  [out.pin0, out.pin1] = rd(c, useTrue ? 0x48d : 0x481);
  [out.proc0, out.proc1] = rd(c, useTrue ? 0x48e : 0x482);
  [out.exit0, out.exit1] = rd(c, useTrue ? 0x48f : 0x483);
  [out.entry0, out.entry1] = rd(c, useTrue ? 0x490 : 0x484);
  [out.miscLo, out.miscHi] = rd(c, 0x485);
  [out.cr0Fixed0, out.cr0Fixed0Hi] = rd(c, 0x486);
  [out.cr0Fixed1, out.cr0Fixed1Hi] = rd(c, 0x487);
  [out.cr4Fixed0, out.cr4Fixed0Hi] = rd(c, 0x488);
  [out.cr4Fixed1, out.cr4Fixed1Hi] = rd(c, 0x489);
  // Secondary controls exist only when the primary MSR allows "activate secondary controls" (§A.3.3).
  if ((out.proc1 & 0x80000000) !== 0) [out.proc20, out.proc21] = rd(c, 0x48b);
  else out.proc20 = out.proc21 = 0;
  [out.eptCapLo, out.eptCapHi] = rd(c, 0x48c);
  [out.vmfuncLo, out.vmfuncHi] = rd(c, 0x491);
  out.physBits = (out.basicHi & (1 << (48 - 32))) !== 0 ? 32 : maxPhysAddr(c);
  out.linBits = maxLinearBits(c);
  out.rtm = false; // the modelled CPU does not report RTM (CPUID.7.0:EBX[11] = 0)
  return out;
}

/** A control value is allowed when every allowed-0 bit is 1 and no bit outside allowed-1 is 1 (§A.3). */
export function ctlOk(v: number, allowed0: number, allowed1: number): boolean {
  return (v & allowed0) === allowed0 && (v & ~allowed1) === 0;
}

/** No bit at or above `bits` is set in the 64-bit value (lo, hi) (a physical-address width check). */
export function withinWidth(lo: number, hi: number, bits: number): boolean {
  void lo;
  if (bits >= 64) return true;
  if (bits <= 32) return hi === 0 && (bits === 32 || (lo >>> bits) === 0);
  return (hi >>> (bits - 32)) === 0;
}

/** (lo, hi) is canonical for a `bits`-wide linear address (bits 63:bits-1 identical). */
export function canonical(hi: number, bits: number): boolean {
  const s = 64 - bits;
  return ((hi << s) >> s) === hi;
}

/** A 4-KByte-aligned physical address within the width: the usual "bits 11:0 zero, width" pair. */
export function pageAddrOk(lo: number, hi: number, bits: number): boolean {
  return (lo & 0xfff) === 0 && withinWidth(lo, hi, bits);
}

const TWO32 = 4294967296;

/**
 * An MSR-load/store area (§26.2.1.2, §26.2.1.3): address bits 3:0 zero and within the width,
 * and the last byte (address + count * 16 - 1, computed wide) within the width. `count` != 0.
 * Returns 0 when fine, 1 for the address, 2 for the last byte.
 */
export function msrAreaProblem(lo: number, hi: number, count: number, bits: number): 0 | 1 | 2 {
  if ((lo & 0xf) !== 0 || !withinWidth(lo, hi, bits)) return 1;
  const last = (hi >>> 0) * TWO32 + (lo >>> 0) + (count >>> 0) * 16 - 1;
  return last < 2 ** bits ? 0 : 2;
}

/** Each byte of a PAT value is a valid memory type: 0, 1, 4, 5, 6, 7 (vol. 3A §12.12.2). */
export function patOk(lo: number, hi: number): boolean {
  for (let i = 0; i < 8; i++) {
    const b = ((i < 4 ? lo : hi) >>> (8 * (i & 3))) & 0xff;
    if (b === 2 || b === 3 || b > 7) return false;
  }
  return true;
}

/** IA32_EFER bits the modelled CPU implements: SCE 0, LME 8, LMA 10, NXE 11 (msr.ts). */
export const EFER_VALID = 0xd01;
/**
 * IA32_DEBUGCTL bits the modelled CPU implements for the VMCS field: LBR (0) and BTF (1). The
 * processor has no branch-trace store or performance monitoring, so every other bit is reserved
 * (vol. 3B §17.4.1) and a VM entry that would load one fails.
 */
export const DEBUGCTL_VALID = 0x3;
