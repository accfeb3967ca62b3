/**
 * The EPT and VPID features of the modelled CPU: the bits of IA32_VMX_EPT_VPID_CAP (MSR 48CH,
 * SDM vol. 3C appendix A.10), one row each, and the EPTP validity rules that follow from them
 * (§24.6.11 "Extended-Page-Table Pointer", checked at VM entry per §26.2.1.1 and by INVEPT).
 * capabilities.ts builds the MSR from this table and docs/vmx.md lists it (one table, many uses).
 */
import type { VmxEngine } from './engine';
import { maxPhysAddr } from '../x86/paging';

export interface EptFeature {
  /** Bit of IA32_VMX_EPT_VPID_CAP (0..63). */
  bit: number;
  name: string;
  description: string;
  /** Reported as 1 (the engine implements it). */
  modelled: boolean;
}

const f = (bit: number, name: string, description: string, modelled = true): EptFeature => ({ bit, name, description, modelled });

/** IA32_VMX_EPT_VPID_CAP, appendix A.10. */
export const EPT_VPID_FEATURES: readonly EptFeature[] = [
  f(0, 'EXECUTE_ONLY', 'EPT entries may allow instruction fetches without reads (bits 2:0 = 100b)'),
  f(6, 'WALK_LENGTH_4', 'page-walk length of 4 (EPTP bits 5:3 = 3)'),
  f(7, 'WALK_LENGTH_5', 'page-walk length of 5 (EPTP bits 5:3 = 4)'),
  f(8, 'MEMTYPE_UC', 'the EPT paging structures may be uncacheable (EPTP memory type 0)'),
  f(14, 'MEMTYPE_WB', 'the EPT paging structures may be write-back (EPTP memory type 6)'),
  f(16, 'PAGE_2MB', 'EPT PDEs may map 2-MByte pages'),
  f(17, 'PAGE_1GB', 'EPT PDPTEs may map 1-GByte pages'),
  f(20, 'INVEPT', 'the INVEPT instruction'),
  f(21, 'ACCESSED_DIRTY', 'accessed and dirty flags for EPT (EPTP bit 6)'),
  f(22, 'ADVANCED_EXIT_INFO', 'advanced VM-exit information for EPT violations (qualification bits 9-11)', false),
  f(23, 'SUPERVISOR_SHADOW_STACK', 'supervisor shadow-stack control (EPTP bit 7)', false),
  f(25, 'INVEPT_SINGLE_CONTEXT', 'INVEPT type 1 (single-context)'),
  f(26, 'INVEPT_ALL_CONTEXT', 'INVEPT type 2 (all-context)'),
  f(32, 'INVVPID', 'the INVVPID instruction'),
  f(40, 'INVVPID_INDIVIDUAL_ADDRESS', 'INVVPID type 0 (individual-address)'),
  f(41, 'INVVPID_SINGLE_CONTEXT', 'INVVPID type 1 (single-context)'),
  f(42, 'INVVPID_ALL_CONTEXT', 'INVVPID type 2 (all-context)'),
  f(43, 'INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS', 'INVVPID type 3 (single-context, retaining globals)'),
];

function capValue(): { lo: number; hi: number } {
  let lo = 0;
  let hi = 0;
  for (const x of EPT_VPID_FEATURES) {
    if (!x.modelled) continue;
    if (x.bit < 32) lo |= 1 << x.bit;
    else hi |= 1 << (x.bit - 32);
  }
  return { lo: lo | 0, hi: hi | 0 };
}

/** The value of IA32_VMX_EPT_VPID_CAP the model reports (halves). */
export const EPT_VPID_CAP = capValue();

/** True when the capability bit `bit` (0..63) is reported. */
export function eptCap(bit: number): boolean {
  return bit < 32 ? ((EPT_VPID_CAP.lo >>> bit) & 1) === 1 : ((EPT_VPID_CAP.hi >>> (bit - 32)) & 1) === 1;
}

/** Mask, in the high dword of a 64-bit physical address, of the bits below MAXPHYADDR. */
export function physHiMask(maxPhy: number): number {
  return maxPhy <= 32 ? 0 : (2 ** (maxPhy - 32) - 1) | 0;
}

/**
 * Why an EPTP value would make VM entry fail (§26.2.1.1, the EPTP bullet; field layout §24.6.11,
 * table 24-8), or null when it is valid:
 *  - bits 2:0, the memory type of the EPT paging structures: UC (0) or WB (6), as reported by
 *    IA32_VMX_EPT_VPID_CAP bits 8 and 14;
 *  - bits 5:3, page-walk length minus 1: 3 (4 levels, cap bit 6) or 4 (5 levels, cap bit 7);
 *  - bit 6, accessed/dirty enable: 0 unless cap bit 21;
 *  - bit 7 (supervisor shadow stack, cap bit 23 not reported) and bits 11:8: reserved, 0;
 *  - bits 63:MAXPHYADDR: reserved, 0.
 */
export function eptpProblem(maxPhy: number, lo: number, hi: number): string | null {
  const mt = lo & 7;
  if (!((mt === 0 && eptCap(8)) || (mt === 6 && eptCap(14)))) return `EPTP memory type ${mt} is not supported`;
  const pwl = (lo >>> 3) & 7;
  if (!((pwl === 3 && eptCap(6)) || (pwl === 4 && eptCap(7)))) return `EPTP page-walk length ${pwl + 1} is not supported`;
  if ((lo & 0x40) !== 0 && !eptCap(21)) return 'EPTP enables accessed/dirty flags, which are not supported';
  if ((lo & 0x80) !== 0 && !eptCap(23)) return 'EPTP bit 7 (supervisor shadow stack) is reserved';
  if ((lo & 0xf00) !== 0) return 'EPTP bits 11:8 are reserved';
  if ((hi & ~physHiMask(maxPhy)) !== 0) return `EPTP bits 63:${maxPhy} are reserved`;
  return null;
}

/** The EPTP check of §26.2.1.1 for entry checks and INVEPT: true when `lo/hi` is a valid EPTP. */
export function eptpValid(engine: VmxEngine, lo: number, hi: number): boolean {
  return eptpProblem(maxPhysAddr(engine.cpu), lo, hi) === null;
}
