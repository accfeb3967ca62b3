/**
 * Control- and debug-register accesses in VMX non-root operation: which exit (SDM vol. 3C
 * §25.1.3: MOV to/from CR0/CR3/CR4/CR8, CLTS, LMSW, MOV DR) and how the others behave (§25.3:
 * guest/host masks and read shadows of CR0/CR4; §29.3: CR8 and the TPR shadow; §29.1.2 TPR
 * virtualization and the TPR-below-threshold exit).
 */
import type { Cpu } from '../x86/cpu';
import type { DecodedInsn } from '../x86/decoded';
import { gp0 } from '../x86/exceptions';
import { Exit } from './exitReasons';
import type { VmxEngine } from './engine';
import {
  F, S_UNRESTRICTED, P_CR3_LOAD, P_CR3_STORE, P_CR8_LOAD, P_CR8_STORE, P_MOV_DR, P_TPR_SHADOW, insnExit, physField,
  physRead32, physWrite32, setGuestLinear, trapExit, vmcsOf,
} from './insnExitCore';
import { CR_CLTS, CR_LMSW, CR_MOV_FROM, CR_MOV_TO, crQualification, drQualification, memoryLinear, out } from './insnExitInfo';

const CR0_PE = 1 << 0;
const CR0_TS = 1 << 3;
const CR0_PG = 1 << 31;
/** Offset of VTPR in the virtual-APIC page (§29.1.1). */
const VTPR = 0x80;

/**
 * MOV to CR (§25.1.3): CR0/CR4 exit unless the source matches the read shadow in every bit set
 * in the guest/host mask; CR3 exits with "CR3-load exiting" unless the value equals one of the
 * first CR3-target-count target values; CR8 exits with "CR8-load exiting". Otherwise (§25.3) the
 * bits owned by the host are not modified; CR8 with "use TPR shadow" writes VTPR (§29.3).
 */
export function movToCr(engine: VmxEngine, c: Cpu, d: DecodedInsn, cr: number, gpr: number, lo: number, hi: number): number {
  const v = vmcsOf(engine);
  if (cr === 0 || cr === 4) {
    const m = cr === 0 ? F.cr0Mask : F.cr4Mask;
    const s = cr === 0 ? F.cr0Shadow : F.cr4Shadow;
    const mLo = v.lo[m], mHi = v.hi[m];
    if ((((lo ^ v.lo[s]) & mLo) | ((hi ^ v.hi[s]) & mHi)) !== 0) {
      insnExit(engine, d, Exit.CrAccess, crQualification(cr, CR_MOV_TO, gpr, false, 0), 0, 0);
      return 0;
    }
    // The real register's high half is 0 (CR0/CR4 bits 63:32 are reserved).
    const cur = cr === 0 ? c.cr0 : c.cr4;
    c.vHi = hi & ~mHi;
    const value = (lo & ~mLo) | (cur & mLo);
    checkFixedBits(engine, cr, value);
    return value;
  }
  const proc = engine.proc;
  if (cr === 3) {
    if ((proc & P_CR3_LOAD) !== 0 && !isCr3Target(engine, lo, hi)) {
      insnExit(engine, d, Exit.CrAccess, crQualification(3, CR_MOV_TO, gpr, false, 0), 0, 0);
      return 0;
    }
    c.vHi = hi;
    return lo;
  }
  // CR8 (64-bit mode only). Bits 63:4 of the source must be 0 (#GP(0), after the exit check;
  // also with the TPR shadow, §29.3), so the value returned is 0-15 and -1 can mean "done".
  if ((proc & P_CR8_LOAD) !== 0) {
    insnExit(engine, d, Exit.CrAccess, crQualification(8, CR_MOV_TO, gpr, false, 0), 0, 0);
    return -1;
  }
  if ((lo & ~0xf) !== 0 || hi !== 0) throw gp0('MOV to CR8: bits 63:4 are reserved');
  c.vHi = 0;
  if ((proc & P_TPR_SHADOW) === 0) return lo;
  // §29.3: VTPR[7:4] = source[3:0], VTPR[3:0] and bytes 81H-83H of the page are cleared; then
  // TPR virtualization (§29.1.2).
  writeVtpr(engine, (lo & 0xf) << 4);
  tprVirtualization(engine, c, d); // may exit (trap-like): the op returns either way
  return -1;
}

/**
 * §23.8: in VMX operation a MOV to CR0/CR4 that would give a bit fixed by IA32_VMX_CR0/CR4_
 * FIXED0/FIXED1 another value is #GP(0) — except CR0.PE and CR0.PG in non-root operation with
 * "unrestricted guest" (§25.3, §26.3.1.1).
 */
function checkFixedBits(engine: VmxEngine, cr: number, value: number): void {
  const m = engine.caps.msr;
  let must1 = cr === 0 ? m.CR0_FIXED0.lo & m.CR0_FIXED1.lo : m.CR4_FIXED0.lo & m.CR4_FIXED1.lo;
  const must0 = cr === 0 ? ~(m.CR0_FIXED0.lo | m.CR0_FIXED1.lo) : ~(m.CR4_FIXED0.lo | m.CR4_FIXED1.lo);
  if (cr === 0 && (engine.proc2 & S_UNRESTRICTED) !== 0) must1 &= ~(CR0_PE | CR0_PG);
  if ((value & must1) !== must1 || (value & must0) !== 0) {
    throw gp0(`MOV to CR${cr}: a bit fixed in VMX operation (IA32_VMX_CR${cr}_FIXED0/1) would change`);
  }
}

/** The value equals one of the first n CR3-target values (n = CR3-target count; at most 4 by the entry checks). */
function isCr3Target(engine: VmxEngine, lo: number, hi: number): boolean {
  const v = vmcsOf(engine);
  const n = v.lo[F.cr3TargetCount];
  for (let k = 0; k < n && k < 4; k++) {
    const i = F.cr3Target0 + k * (F.cr3Target1 - F.cr3Target0);
    if (v.lo[i] === lo && v.hi[i] === hi) return true;
  }
  return false;
}

/**
 * MOV from CR and SMSW (`gpr` -1): CR3/CR8-store exiting (§25.1.3); CR0/CR4 read the shadow
 * in the bits set in the mask (§25.3); CR8 with the TPR shadow reads VTPR[7:4] (§29.3).
 */
export function movFromCr(engine: VmxEngine, c: Cpu, d: DecodedInsn, cr: number, gpr: number, lo: number, hi: number): number {
  const v = vmcsOf(engine);
  if (cr === 0 || cr === 4) {
    const m = cr === 0 ? F.cr0Mask : F.cr4Mask;
    const s = cr === 0 ? F.cr0Shadow : F.cr4Shadow;
    c.vHi = (hi & ~v.hi[m]) | (v.hi[s] & v.hi[m]);
    return (lo & ~v.lo[m]) | (v.lo[s] & v.lo[m]);
  }
  const proc = engine.proc;
  if (cr === 3) {
    if ((proc & P_CR3_STORE) !== 0) {
      insnExit(engine, d, Exit.CrAccess, crQualification(3, CR_MOV_FROM, gpr, false, 0), 0, 0);
      return 0;
    }
    c.vHi = hi;
    return lo;
  }
  if ((proc & P_CR8_STORE) !== 0) {
    insnExit(engine, d, Exit.CrAccess, crQualification(8, CR_MOV_FROM, gpr, false, 0), 0, 0);
    return 0;
  }
  c.vHi = 0;
  if ((proc & P_TPR_SHADOW) !== 0) return (readVtpr(engine) >>> 4) & 0xf;
  c.vHi = hi;
  return lo;
}

/**
 * CLTS (§25.1.3): exits when CR0.TS is set in both the guest/host mask and the read shadow;
 * otherwise, with TS owned by the host, CLTS does not modify CR0.TS (§25.3): returns true.
 */
export function clts(engine: VmxEngine, d: DecodedInsn): boolean {
  const v = vmcsOf(engine);
  const owned = (v.lo[F.cr0Mask] & CR0_TS) !== 0;
  if (owned && (v.lo[F.cr0Shadow] & CR0_TS) !== 0) {
    return insnExit(engine, d, Exit.CrAccess, crQualification(0, CR_CLTS, 0, false, 0), 0, 0);
  }
  return owned;
}

/**
 * LMSW (§25.1.3): exits when, for a bit of 3:0 set in the mask, LMSW would write a value other
 * than the shadow's — for PE only when it would set it (LMSW never clears PE). The exit
 * qualification carries the source (31:16) and the operand type (bit 6); a memory operand's
 * linear address goes to the guest-linear-address field (§27.2.1). Otherwise returns the bits
 * of 3:0 that stay unchanged (owned by the host, §25.3).
 */
export function lmsw(engine: VmxEngine, c: Cpu, d: DecodedInsn, src: number): number {
  const v = vmcsOf(engine);
  const mask = v.lo[F.cr0Mask] & 0xf;
  const shadow = v.lo[F.cr0Shadow];
  const pe = (mask & 1) !== 0 && (src & 1) !== 0 && (shadow & 1) === 0;
  if (pe || (mask & 0xe & (src ^ shadow)) !== 0) {
    const m = d.mem;
    if (m !== null) {
      const lo = memoryLinear(c, d, m);
      setGuestLinear(engine, lo, out.hi);
    }
    insnExit(engine, d, Exit.CrAccess, crQualification(0, CR_LMSW, 0, m !== null, src), 0, 0);
    return 0;
  }
  return mask;
}

/** MOV DR (§25.1.3): exits with "MOV-DR exiting", before the instruction's own checks. */
export function movDr(engine: VmxEngine, d: DecodedInsn, dr: number, gpr: number, toDr: boolean): boolean {
  return (engine.proc & P_MOV_DR) !== 0 && insnExit(engine, d, Exit.DrAccess, drQualification(dr, toDr, gpr), 0, 0);
}

// ---- the virtual-APIC page's TPR (§29.1.1) ------------------------------------------------

/** VTPR (bytes 83H:80H of the virtual-APIC page). */
export function readVtpr(engine: VmxEngine): number {
  return physRead32(engine, physField(vmcsOf(engine), F.virtualApic) + VTPR);
}

export function writeVtpr(engine: VmxEngine, value: number): void {
  physWrite32(engine, physField(vmcsOf(engine), F.virtualApic) + VTPR, value);
}

/**
 * TPR virtualization (§29.1.2) without virtual-interrupt delivery (its allowed-1 setting is 0):
 * true when the VM exit "TPR below threshold" is due, VTPR[7:4] < TPR threshold[3:0].
 */
export function tprBelowThreshold(engine: VmxEngine): boolean {
  const threshold = vmcsOf(engine).lo[F.tprThreshold] & 0xf;
  return ((readVtpr(engine) >>> 4) & 0xf) < threshold;
}

/**
 * TPR virtualization after an instruction's write of VTPR (MOV to CR8, WRMSR of the x2APIC TPR):
 * the trap-like exit after instruction `d` when the TPR is below the threshold. (A write through
 * the APIC-access page is followed by APIC-write emulation at the instruction boundary instead:
 * apicWriteEmulation.)
 */
export function tprVirtualization(engine: VmxEngine, c: Cpu, d: DecodedInsn): boolean {
  return tprBelowThreshold(engine) && trapExit(engine, c, d, Exit.TprBelowThreshold);
}

/**
 * APIC-write emulation (§29.4.3.2) after an instruction whose write to the APIC-access page was
 * virtualized — always at offset 080H here ("APIC-register virtualization" and "virtual-interrupt
 * delivery" are 0, ept.ts): bytes 3:1 of VTPR are cleared, then TPR virtualization (§29.1.2).
 * Returns true when the trap-like exit "TPR below threshold" is due (the boundary takes it with
 * RIP of the next instruction).
 */
export function apicWriteEmulation(engine: VmxEngine): boolean {
  writeVtpr(engine, readVtpr(engine) & 0xff);
  return tprBelowThreshold(engine);
}
