/**
 * I/O instructions and RDMSR/WRMSR in VMX non-root operation (SDM vol. 3C §25.1.3): the
 * unconditional-I/O control, the I/O bitmaps A/B (§24.6.4) and the MSR bitmaps (§24.6.9), and
 * the x2APIC-mode TPR virtualization of RDMSR/WRMSR 808H (§29.5).
 */
import { OpKind } from 'iced-x86';
import type { Cpu } from '../x86/cpu';
import type { DecodedInsn } from '../x86/decoded';
import { gp0 } from '../x86/exceptions';
import { Gpr } from '../x86/registers';
import { Exit } from './exitReasons';
import type { VmxEngine } from './engine';
import {
  F, P_IO_BITMAPS, P_MSR_BITMAPS, P_UNCOND_IO, S_X2APIC, insnExit, physByte, physField, physRead32, physWrite32, setGuestLinear, vmcsOf,
} from './insnExitCore';
import { readVtpr, tprVirtualization, writeVtpr } from './insnExitCr';
import { ioQualification, out, stringIoInfo, stringIoLinear } from './insnExitInfo';

/**
 * Whether an access to ports port..port+size-1 exits by the I/O bitmaps: a bit set for any of
 * them (A holds 0000H-7FFFH, B 8000H-FFFFH; bit n%8 of byte n/8), or an access that wraps
 * around the 16-bit port space (§25.1.3).
 */
export function ioBitmapExits(engine: VmxEngine, port: number, size: number): boolean {
  if (port + size - 1 > 0xffff) return true;
  const v = vmcsOf(engine);
  for (let p = port; p < port + size; p++) {
    const base = physField(v, p < 0x8000 ? F.ioBitmapA : F.ioBitmapB);
    const n = p & 0x7fff;
    if (((physByte(engine, base + (n >>> 3)) >>> (n & 7)) & 1) !== 0) return true;
  }
  return false;
}

/**
 * IN/OUT/INS/OUTS: with "use I/O bitmaps" the bitmaps decide ("unconditional I/O exiting" is
 * then ignored), otherwise "unconditional I/O exiting". The exit records the qualification of
 * table 27-5, for INS/OUTS the instruction information (table 27-8; IA32_VMX_BASIC[54] = 1) and
 * the guest-linear address of the memory operand (§27.2.1).
 */
export function ioExit(
  engine: VmxEngine, c: Cpu, d: DecodedInsn, port: number, size: number, input: boolean, string: boolean, rep: boolean,
): boolean {
  const proc = engine.proc;
  const exits = (proc & P_IO_BITMAPS) !== 0 ? ioBitmapExits(engine, port, size) : (proc & P_UNCOND_IO) !== 0;
  if (!exits) return false;
  const immediate = !string && (d.opKinds[input ? 1 : 0] === OpKind.Immediate8);
  const qual = ioQualification(port, size, input, string, rep, immediate);
  let info = 0;
  if (string) {
    const lo = stringIoLinear(c, d, input);
    setGuestLinear(engine, lo, out.hi);
    info = stringIoInfo(d, input);
  }
  return insnExit(engine, d, Exit.IoInstruction, qual, 0, info);
}

/**
 * RDMSR/WRMSR (§25.1.3): exit when "use MSR bitmaps" is 0, when ECX is outside 0-1FFFH and
 * C0000000H-C0001FFFH, or when the MSR's bit is set in the bitmap for its range and direction
 * (read low +0, read high +400H, write low +800H, write high +C00H of the MSR-bitmap page).
 */
export function msrBitmapExits(engine: VmxEngine, msr: number, write: boolean): boolean {
  if ((engine.proc & P_MSR_BITMAPS) === 0) return true;
  const m = msr >>> 0;
  let off: number;
  if (m <= 0x1fff) off = 0;
  else if (m >= 0xc0000000 && m <= 0xc0001fff) off = 0x400;
  else return true;
  if (write) off += 0x800;
  const n = m & 0x1fff;
  const base = physField(vmcsOf(engine), F.msrBitmaps);
  return ((physByte(engine, base + off + (n >>> 3)) >>> (n & 7)) & 1) !== 0;
}

const X2APIC_TPR = 0x808;

/**
 * RDMSR/WRMSR that did not fault for CPL: the exit decision, then the x2APIC TPR virtualization
 * (§29.5, "virtualize x2APIC mode" = 1; without APIC-register virtualization only MSR 808H is
 * virtualized). Returns true when the instruction was completed here.
 */
export function msrAccess(engine: VmxEngine, c: Cpu, d: DecodedInsn, msr: number, write: boolean): boolean {
  if (msrBitmapExits(engine, msr, write)) return insnExit(engine, d, write ? Exit.MsrWrite : Exit.MsrRead, 0, 0, 0);
  if ((msr >>> 0) !== X2APIC_TPR || (engine.proc2 & S_X2APIC) === 0) return false;
  if (!write) {
    // EDX:EAX = bytes 87H:80H of the virtual-APIC page (even if the APIC is not in x2APIC mode).
    const base = physField(vmcsOf(engine), F.virtualApic);
    c.lo[Gpr.RAX] = readVtpr(engine); c.hi[Gpr.RAX] = 0;
    c.lo[Gpr.RDX] = physRead32(engine, base + 0x84); c.hi[Gpr.RDX] = 0;
    return true;
  }
  // WRMSR 808H: bits 63:8 of EDX:EAX are reserved (#GP(0)); VTPR = EAX, bytes 87H:84H = EDX.
  const eax = c.lo[Gpr.RAX], edx = c.lo[Gpr.RDX];
  if ((eax & ~0xff) !== 0 || edx !== 0) throw gp0('WRMSR 808H (virtualized x2APIC TPR): bits 63:8 are reserved');
  writeVtpr(engine, eax);
  physWrite32(engine, physField(vmcsOf(engine), F.virtualApic) + 0x84, 0);
  tprVirtualization(engine, c, d);
  return true;
}
