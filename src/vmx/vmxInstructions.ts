/**
 * The VMX instructions of VMX root operation as the engine performs them (SDM vol. 3C chapter 30,
 * "VMX Instruction Reference": VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE,
 * VMLAUNCH/VMRESUME up to the VM-entry checks, INVEPT, INVVPID), with the conventions of §30.2:
 * VMsucceed, VMfailInvalid (no current VMCS), VMfailValid(n) with n written to the
 * VM-instruction error field of the current VMCS (§30.4 lists the numbers).
 *
 * The caller is the host: the built-in hypervisor (TypeScript), or guest code that is itself a
 * hypervisor (vmxGuestInstructions.ts: the processor's VMX instruction ops in VMX root operation and
 * outside VMX operation). Memory operands are `PointerOperand`s: a value from a TypeScript host,
 * or a read of the guest's memory made where the SDM's "Operation" reads it, so that its faults
 * come after the checks that precede the read. The processor state the SDM's pseudocode consults (CR0,
 * RFLAGS.VM, IA32_EFER.LMA, CS.L, CPL, the operating mode that sets the operand size) is the
 * Cpu's; the faults the pseudocode raises (#UD, #GP(0)) are thrown as CpuException. In non-root
 * operation these instructions exit instead (insnExits.ts): a host calling them then is a host
 * bug, reported as an Error.
 *
 * Not modelled: "VM entry with events blocked by MOV SS" (error 26) — the processor's interrupt
 * shadow does not record whether STI or MOV SS made it; the dual-monitor treatment of SMM (errors 14, 16-25, 23); VMCS shadowing (error 11 is
 * reported for a region whose shadow-VMCS indicator is 1).
 */
import type { Cpu } from '../x86/cpu';
import { gp0, ud } from '../x86/exceptions';
import { getStored } from '../x86/msr';
import { maxPhysAddr } from '../x86/paging';
import { maxLinearBits } from '../x86/controlRegisters';
import { VMCS_FIELDS, fieldIndex } from './fields';
import { Vmcs } from './vmcs';
import type { VmxEngine, VmxStatus } from './engine';
import { FAIL_INVALID, SUCCEED, failValid } from './engine';
import { VMX_MSR } from './capabilities';

/** VM-instruction error numbers (§30.4) the engine reports (vmxInstructionsErrors.ts lists them all). */
export const VmInsnError = {
  VMCALL_IN_ROOT: 1,
  VMCLEAR_INVALID_ADDRESS: 2,
  VMCLEAR_VMXON_POINTER: 3,
  VMLAUNCH_NON_CLEAR: 4,
  VMRESUME_NON_LAUNCHED: 5,
  ENTRY_INVALID_CONTROLS: 7,
  ENTRY_INVALID_HOST_STATE: 8,
  VMPTRLD_INVALID_ADDRESS: 9,
  VMPTRLD_VMXON_POINTER: 10,
  VMPTRLD_BAD_REVISION: 11,
  UNSUPPORTED_COMPONENT: 12,
  VMWRITE_READ_ONLY: 13,
  VMXON_IN_ROOT: 15,
  INVALID_INVEPT_INVVPID_OPERAND: 28,
} as const;

const I_VM_INSTRUCTION_ERROR = fieldIndex('VM_INSTRUCTION_ERROR');

/**
 * A VMX instruction's 64-bit memory operand (VMXON, VMCLEAR, VMPTRLD): the physical address
 * itself (a TypeScript host), or a function that reads it from the guest's memory through the
 * processor (segmentation, paging; it may throw the access's CpuException). A value of 2^53 or
 * more need not be exact: it is beyond every physical-address width.
 */
export type PointerOperand = number | (() => number);

/** The INVEPT/INVVPID descriptor (§30.3): bits 63:0 as (lo0, hi0), bits 127:64 as (lo1, hi1). */
export interface Descriptor128 {
  lo0: number;
  hi0: number;
  lo1: number;
  hi1: number;
}
/** The descriptor itself (a TypeScript host) or its read from the guest's memory (see PointerOperand). */
export type DescriptorOperand = Descriptor128 | (() => Descriptor128);

function pointer(p: PointerOperand): number {
  return typeof p === 'number' ? p : p();
}

function descriptor(p: DescriptorOperand): Descriptor128 {
  return typeof p === 'function' ? p() : p;
}

const CR0_PE = 1;
const RFLAGS_VM = 1 << 17;
const EFER_LMA = 1 << 10;
const CS_L = 0x2000;
const CS = 1;

// ---- field lookup by encoding, dense (VMREAD/VMWRITE are on the host's hot path) ---------------
/** Width codes: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural (encoding bits 14:13, §24.11.2). */
const W16 = 0, W64 = 1, W32 = 2;
/**
 * For each 15-bit encoding: 0 when it names no supported field (error 12), else
 * (field index + 1) << 1 | high-access bit. Bit 12 of an encoding is reserved (must be 0) and
 * access type 1 exists only for 64-bit fields; both resolve to 0.
 */
const BY_ENCODING = new Int32Array(0x8000);
const WIDTH = new Uint8Array(VMCS_FIELDS.length);
const READ_ONLY = new Uint8Array(VMCS_FIELDS.length);
for (const f of VMCS_FIELDS) {
  WIDTH[f.index] = (f.encoding >> 13) & 3;
  READ_ONLY[f.index] = f.readOnly ? 1 : 0;
  if (!f.supported) continue;
  BY_ENCODING[f.encoding] = (f.index + 1) << 1;
  if (WIDTH[f.index] === W64) BY_ENCODING[f.encoding | 1] = ((f.index + 1) << 1) | 1;
}

/** The entry of BY_ENCODING for a register operand (encodings above 0x7FFF name no field). */
function lookup(encoding: number): number {
  if (!(encoding >= 0 && encoding < 0x8000) || encoding !== Math.floor(encoding)) return 0;
  return BY_ENCODING[encoding];
}

// ---- conventions ------------------------------------------------------------------------------
/**
 * VMfail(n) of §30.2: VMfailValid(n) with the error recorded in the current VMCS when there is
 * one, else VMfailInvalid.
 */
export function vmfail(engine: VmxEngine, error: number): VmxStatus {
  const v = engine.current;
  if (v === null) return FAIL_INVALID;
  v.set32(I_VM_INSTRUCTION_ERROR, error);
  return failValid(error);
}

/**
 * The #UD conditions shared by every VMX instruction but VMXON (§30.3 pseudocode, first line):
 * outside VMX operation, CR0.PE = 0, RFLAGS.VM = 1, or compatibility mode. Then, since only a
 * host calls the engine: non-root operation is a host bug; CPL > 0 is #GP(0).
 */
export function rootOperationChecks(c: Cpu, name: string): void {
  if (!c.inVmxOperation) throw ud(`${name} outside VMX operation`);
  modeChecks(c, name);
  if (c.nonRoot) throw new Error(`${name}: the host called the engine while the processor is in VMX non-root operation`);
  if (c.cpl !== 0) throw gp0(`${name} at CPL ${c.cpl}`);
}

function modeChecks(c: Cpu, name: string): void {
  if ((c.cr0 & CR0_PE) === 0) throw ud(`${name} in real-address mode`);
  if ((c.flagsRest & RFLAGS_VM) !== 0) throw ud(`${name} in virtual-8086 mode`);
  if ((c.efer & EFER_LMA) !== 0 && (c.segAttr[CS] & CS_L) === 0) throw ud(`${name} in compatibility mode`);
}

/** Physical-address width for VMX pointers: 32 when IA32_VMX_BASIC[48] = 1, else MAXPHYADDR (§A.1). */
export function vmxPhysWidth(c: Cpu): number {
  getStored(c, VMX_MSR.BASIC);
  return (c.vHi & (1 << 16)) !== 0 ? 32 : maxPhysAddr(c);
}

/** A 4-KByte-aligned physical address within the width (the VMXON/VMCLEAR/VMPTRLD operand rule). */
function pointerOk(c: Cpu, addr: number): boolean {
  return Number.isSafeInteger(addr) && addr >= 0 && addr % 4096 === 0 && addr < 2 ** vmxPhysWidth(c);
}

function revisionId(c: Cpu): number {
  return getStored(c, VMX_MSR.BASIC) & 0x7fffffff;
}

function fixedOk(v: number, fixed0: number, fixed1: number): boolean {
  return (v & fixed0) === fixed0 && (v & ~fixed1) === 0;
}

// ---- VMXON / VMXOFF -----------------------------------------------------------------------------
/** VMXON (§30.3 VMXON; enabling VMX operation §23.7). */
export function vmxon(engine: VmxEngine, operand: PointerOperand): VmxStatus {
  const c = engine.cpu;
  // #UD: CR4.VMXE = 0 (a register operand cannot be expressed here), then the mode conditions.
  if ((c.cr4 & (1 << 13)) === 0) throw ud('VMXON with CR4.VMXE = 0');
  modeChecks(c, 'VMXON');
  if (c.inVmxOperation) {
    if (c.nonRoot) throw new Error('VMXON: the host called the engine while the processor is in VMX non-root operation');
    if (c.cpl !== 0) throw gp0(`VMXON at CPL ${c.cpl}`);
    return vmfail(engine, VmInsnError.VMXON_IN_ROOT);
  }
  if (c.cpl !== 0) throw gp0(`VMXON at CPL ${c.cpl}`);
  // CR0 and CR4 must have the values VMX operation supports (§23.8, IA32_VMX_CR0/CR4_FIXED0/1).
  const cr0f0 = getStored(c, VMX_MSR.CR0_FIXED0);
  const cr0f1 = getStored(c, VMX_MSR.CR0_FIXED1);
  const cr4f0 = getStored(c, VMX_MSR.CR4_FIXED0);
  const cr4f1 = getStored(c, VMX_MSR.CR4_FIXED1);
  if (!fixedOk(c.cr0, cr0f0, cr0f1)) throw gp0('VMXON: CR0 has a value not supported in VMX operation (IA32_VMX_CR0_FIXED0/1)');
  if (!fixedOk(c.cr4, cr4f0, cr4f1)) throw gp0('VMXON: CR4 has a value not supported in VMX operation (IA32_VMX_CR4_FIXED0/1)');
  // IA32_FEATURE_CONTROL (§23.7): lock bit, and "enable VMXON outside SMX" (SMX is not modelled).
  const fc = getStored(c, 0x3a);
  if ((fc & 1) === 0) throw gp0('VMXON: IA32_FEATURE_CONTROL is not locked');
  if ((fc & 4) === 0) throw gp0('VMXON: IA32_FEATURE_CONTROL does not enable VMXON outside SMX');
  const addr = pointer(operand);
  if (!pointerOk(c, addr)) return FAIL_INVALID;
  const rev = engine.phys.read32(addr);
  if ((rev & 0x7fffffff) !== revisionId(c) || rev < 0) return FAIL_INVALID;
  engine.vmxonRegion = addr;
  engine.current = null;
  c.inVmxOperation = true;
  return SUCCEED;
}

/**
 * VMXOFF (§30.3 VMXOFF): leave VMX operation. The SDM asks software to VMCLEAR every active VMCS
 * first and leaves the data of any other undefined; this model writes it back to its region,
 * so nothing is lost.
 */
export function vmxoff(engine: VmxEngine): VmxStatus {
  const c = engine.cpu;
  rootOperationChecks(c, 'VMXOFF');
  for (const v of engine.active.values()) v.storeTo(engine.phys);
  engine.active.clear();
  engine.current = null;
  engine.vmxonRegion = -1;
  c.inVmxOperation = false;
  return SUCCEED;
}

// ---- VMCLEAR / VMPTRLD / VMPTRST ----------------------------------------------------------------
/** VMCLEAR (§30.3 VMCLEAR; §24.11.3 launch state). */
export function vmclear(engine: VmxEngine, operand: PointerOperand): VmxStatus {
  const c = engine.cpu;
  rootOperationChecks(c, 'VMCLEAR');
  const addr = pointer(operand);
  if (!pointerOk(c, addr)) return vmfail(engine, VmInsnError.VMCLEAR_INVALID_ADDRESS);
  if (addr === engine.vmxonRegion) return vmfail(engine, VmInsnError.VMCLEAR_VMXON_POINTER);
  const v = engine.active.get(addr);
  if (v !== undefined) {
    // The processor's copy goes to memory, with launch state "clear"; it is no longer active.
    v.launched = false;
    v.storeTo(engine.phys);
    engine.active.delete(addr);
  } else {
    // Not active: only the launch state in the region changes (vmcs.ts layout: +8).
    engine.phys.write32(addr + 8, 0);
  }
  if (engine.current === v && v !== undefined) engine.current = null;
  return SUCCEED;
}

/** VMPTRLD (§30.3 VMPTRLD): make the VMCS at `addr` current (and active). */
export function vmptrld(engine: VmxEngine, operand: PointerOperand): VmxStatus {
  const c = engine.cpu;
  rootOperationChecks(c, 'VMPTRLD');
  const addr = pointer(operand);
  if (!pointerOk(c, addr)) return vmfail(engine, VmInsnError.VMPTRLD_INVALID_ADDRESS);
  if (addr === engine.vmxonRegion) return vmfail(engine, VmInsnError.VMPTRLD_VMXON_POINTER);
  const rev = engine.phys.read32(addr);
  // Bit 31 (shadow-VMCS indicator) is accepted only with "VMCS shadowing", not modelled.
  if ((rev & 0x7fffffff) !== revisionId(c) || rev < 0) return vmfail(engine, VmInsnError.VMPTRLD_BAD_REVISION);
  let v = engine.active.get(addr);
  if (v === undefined) {
    v = new Vmcs(addr);
    v.loadFrom(engine.phys);
    engine.active.set(addr, v);
  }
  engine.current = v;
  return SUCCEED;
}

/** VMPTRST (§30.3 VMPTRST): the current-VMCS pointer, -1 for FFFFFFFF_FFFFFFFFH. */
export function vmptrst(engine: VmxEngine): number {
  rootOperationChecks(engine.cpu, 'VMPTRST');
  engine.lastStatus = SUCCEED;
  return engine.current === null ? -1 : engine.current.address;
}

// ---- VMREAD / VMWRITE ---------------------------------------------------------------------------
/**
 * VMREAD (§30.3 VMREAD): the field's low 32 bits; the high 32 bits in engine.readHi. The
 * destination has the operand size of the mode (64 bits in 64-bit mode, else 32): a field
 * shorter than it is zero-extended, a longer one truncated (natural-width and full 64-bit
 * fields read their low half outside 64-bit mode). Status in engine.lastStatus (0 returned
 * on failure).
 */
export function vmread(engine: VmxEngine, encoding: number): number {
  rootOperationChecks(engine.cpu, 'VMREAD');
  const v = engine.current;
  engine.readHi = 0;
  if (v === null) {
    engine.lastStatus = FAIL_INVALID;
    return 0;
  }
  const e = lookup(encoding);
  if (e === 0) {
    engine.lastStatus = vmfail(engine, VmInsnError.UNSUPPORTED_COMPONENT);
    return 0;
  }
  const i = (e >> 1) - 1;
  engine.lastStatus = SUCCEED;
  if ((e & 1) !== 0) return v.hi[i]; // access type 1: bits 63:32 of a 64-bit field
  const w = WIDTH[i];
  if (w === W16) return v.lo[i] & 0xffff;
  if (w !== W32 && engine.cpu.bitness === 64) engine.readHi = v.hi[i];
  return v.lo[i];
}

/**
 * VMWRITE (§30.3 VMWRITE): the source operand has the mode's operand size (`hi` is ignored
 * outside 64-bit mode); a shorter field takes its low bits, a longer field has its high bits
 * cleared; access type 1 writes bits 63:32 of a 64-bit field. Read-only (VM-exit information)
 * fields fail with error 13 unless IA32_VMX_MISC[29] reports VMWRITE to them (§A.6).
 */
export function vmwrite(engine: VmxEngine, encoding: number, lo: number, hi: number): VmxStatus {
  const c = engine.cpu;
  rootOperationChecks(c, 'VMWRITE');
  const v = engine.current;
  if (v === null) return (engine.lastStatus = FAIL_INVALID);
  const e = lookup(encoding);
  if (e === 0) return (engine.lastStatus = vmfail(engine, VmInsnError.UNSUPPORTED_COMPONENT));
  const i = (e >> 1) - 1;
  if (READ_ONLY[i] !== 0 && (getStored(c, VMX_MSR.MISC) & (1 << 29)) === 0) {
    return (engine.lastStatus = vmfail(engine, VmInsnError.VMWRITE_READ_ONLY));
  }
  if ((e & 1) !== 0) {
    v.set64(i, v.lo[i], lo | 0);
  } else {
    const w = WIDTH[i];
    if (w === W16) v.set64(i, lo & 0xffff, 0);
    else if (w === W32) v.set64(i, lo | 0, 0);
    else v.set64(i, lo | 0, c.bitness === 64 ? hi | 0 : 0);
  }
  return (engine.lastStatus = SUCCEED);
}

// ---- INVEPT / INVVPID ---------------------------------------------------------------------------
/** Reported IA32_VMX_EPT_VPID_CAP bit `bit` (§A.10). */
function eptVpidCap(c: Cpu, bit: number): boolean {
  const lo = getStored(c, VMX_MSR.EPT_VPID_CAP);
  return bit < 32 ? ((lo >>> bit) & 1) === 1 : ((c.vHi >>> (bit - 32)) & 1) === 1;
}

/** The instruction exists: the secondary-control capability allows "enable EPT"/"enable VPID" and the cap bit is set. */
function secondaryAllowed(c: Cpu, bit: number): boolean {
  getStored(c, VMX_MSR.PROCBASED_CTLS);
  if ((c.vHi & 0x80000000) === 0) return false;
  getStored(c, VMX_MSR.PROCBASED_CTLS2);
  return ((c.vHi >>> bit) & 1) === 1;
}

/**
 * INVEPT (§30.3 INVEPT) up to the invalidation: #UD when the processor does not support it,
 * VMfail(28) for an unsupported type (checked before the descriptor is read) or, for
 * single-context, an EPTP VM entry would reject. `eptpValid` is the EPT helper's check. Returns
 * the failure, or null with the descriptor read into `out`.
 */
export function inveptChecks(engine: VmxEngine, type: number, operand: DescriptorOperand,
  eptpValid: (engine: VmxEngine, lo: number, hi: number) => boolean, out: Descriptor128): VmxStatus | null {
  const c = engine.cpu;
  if (!secondaryAllowed(c, 1) || !eptVpidCap(c, 20)) throw ud('INVEPT is not supported');
  rootOperationChecks(c, 'INVEPT');
  // Types 1 and 2 exist, each if IA32_VMX_EPT_VPID_CAP bit 25/26 reports it.
  if (!((type === 1 && eptVpidCap(c, 25)) || (type === 2 && eptVpidCap(c, 26)))) {
    return vmfail(engine, VmInsnError.INVALID_INVEPT_INVVPID_OPERAND);
  }
  Object.assign(out, descriptor(operand));
  if (type === 1 && !eptpValid(engine, out.lo0 | 0, out.hi0 | 0)) return vmfail(engine, VmInsnError.INVALID_INVEPT_INVVPID_OPERAND);
  return null;
}

/**
 * INVVPID (§30.3 INVVPID) up to the invalidation: #UD when not supported; VMfail(28) for an
 * unsupported type (checked before the descriptor is read), descriptor bits 63:16 not zero, VPID
 * 0 for types 0, 1, 3, or a non-canonical linear address (descriptor bits 127:64) for type 0.
 * Returns the failure, or null with the descriptor read into `out`.
 */
export function invvpidChecks(engine: VmxEngine, type: number, operand: DescriptorOperand, out: Descriptor128): VmxStatus | null {
  const c = engine.cpu;
  if (!secondaryAllowed(c, 5) || !eptVpidCap(c, 32)) throw ud('INVVPID is not supported');
  rootOperationChecks(c, 'INVVPID');
  if (!(type >= 0 && type <= 3 && type === Math.floor(type)) || !eptVpidCap(c, 40 + type)) {
    return vmfail(engine, VmInsnError.INVALID_INVEPT_INVVPID_OPERAND);
  }
  Object.assign(out, descriptor(operand));
  if ((out.lo0 & ~0xffff) !== 0 || out.hi0 !== 0) return vmfail(engine, VmInsnError.INVALID_INVEPT_INVVPID_OPERAND);
  if (type !== 2 && (out.lo0 & 0xffff) === 0) return vmfail(engine, VmInsnError.INVALID_INVEPT_INVVPID_OPERAND);
  if (type === 0) {
    // Canonical for the processor's linear-address width (57 bits when it supports 5-level paging).
    const s = 64 - maxLinearBits(c);
    if (((out.hi1 << s) >> s) !== (out.hi1 | 0)) return vmfail(engine, VmInsnError.INVALID_INVEPT_INVVPID_OPERAND);
  }
  return null;
}
