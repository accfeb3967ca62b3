/**
 * The built-in hypervisor's CPUID answers (reference §3 CPUID; SDM vol. 2A CPUID): the virtual
 * CPU's leaves with the seed's edits —
 *   leaf 1: VMX (ECX bit 5) cleared, hypervisor present (ECX bit 31) set, OSXSAVE (ECX bit 27)
 *           = the guest's CR4.OSXSAVE;
 *   leaf 7 subleaf 0: WAITPKG (ECX bit 5) and LA57 (ECX bit 16) cleared;
 *   leaf 0xD: sizes from the guest's XCR0 (subleaf 0 EBX) and XCR0 | IA32_XSS (subleaf 1 EBX);
 *   0x4000_0000: EAX = 0x4000_0001 and a 12-byte vendor signature in EBX, ECX, EDX;
 *   0x4000_0001: zeros.
 * Leaves 0x4000_0000-0x4FFF_FFFF are the hypervisor range (Intel reserves it for software).
 */
import type { CpuidModel } from '../x86/cpuid';
import { cpuidInto } from '../x86/cpuid';

/** The vendor signature of leaf 0x4000_0000, as EBX, ECX, EDX (12 ASCII bytes). */
export const HYPERVISOR_SIGNATURE = 'vtxvtxvtxvtx';

function ascii4(s: string): number {
  let v = 0;
  for (let i = 0; i < 4; i++) v |= (s.charCodeAt(i) & 0xff) << (8 * i);
  return v | 0;
}

const SIG = [ascii4(HYPERVISOR_SIGNATURE.slice(0, 4)), ascii4(HYPERVISOR_SIGNATURE.slice(4, 8)), ascii4(HYPERVISOR_SIGNATURE.slice(8, 12))];

/** Size of the XSAVE area (standard format) for the components in `mask` (x87/SSE legacy + header). */
export function xsaveAreaSize(model: CpuidModel, mask: number): number {
  let size = 576;
  const out = new Int32Array(4);
  for (let i = 2; i < 32; i++) {
    if (((mask >>> i) & 1) === 0) continue;
    cpuidInto(model, 0xd, i, out);
    // EAX = size of component i, EBX = its offset in the standard format.
    if (out[0] !== 0) size = Math.max(size, (out[1] >>> 0) + (out[0] >>> 0));
  }
  return size;
}

export interface GuestCpuidState {
  cr4: number;
  xcr0: number;
  xss: number;
}

/** The guest's CPUID result for (leaf, subleaf) into `out` (EAX, EBX, ECX, EDX). */
export function guestCpuid(model: CpuidModel, leaf: number, subleaf: number, g: GuestCpuidState, out: Int32Array): void {
  const l = leaf >>> 0;
  if (l === 0x40000000) {
    out[0] = 0x40000001; out[1] = SIG[0]; out[2] = SIG[1]; out[3] = SIG[2];
    return;
  }
  if (l === 0x40000001) {
    out[0] = 0; out[1] = 0; out[2] = 0; out[3] = 0;
    return;
  }
  cpuidInto(model, leaf, subleaf, out);
  if (l === 1) {
    let ecx = out[2] & ~(1 << 5);
    ecx |= 1 << 31;
    ecx = (g.cr4 & (1 << 18)) !== 0 ? ecx | (1 << 27) : ecx & ~(1 << 27);
    out[2] = ecx;
  } else if (l === 7 && (subleaf >>> 0) === 0) {
    out[2] &= ~((1 << 5) | (1 << 16));
  } else if (l === 0xd && (subleaf >>> 0) === 0) {
    out[1] = xsaveAreaSize(model, g.xcr0);
  } else if (l === 0xd && (subleaf >>> 0) === 1) {
    out[1] = xsaveAreaSize(model, g.xcr0 | g.xss);
  }
}
