/**
 * The VMX instructions executed by guest code in VMX root operation and outside VMX operation —
 * a guest that is itself a hypervisor (`vtx run --hypervisor none`). This is the processor's side
 * of them only: operands read from and written to the guest's memory through the processor
 * (segmentation, paging: the faults of each instruction's "Protected Mode Exceptions"), the
 * result in RFLAGS (§30.2 conventions), RIP. Everything VMX is the engine's: the same
 * VmxEngine methods the built-in hypervisor calls from TypeScript (vmxInstructions.ts, engine.ts,
 * vmEntry.ts), so there is one implementation of VMX (SDM vol. 3C chapter 30).
 *
 * Memory operands are read where each instruction's "Operation" reads them: after the #UD and
 * CPL checks (VMXON also after its #GP checks; INVEPT/INVVPID after the type check). VMWRITE's
 * source is read after the CPL check and before the VMCS checks (the pseudocode does not say
 * when; an operand is fetched before the instruction's work). VMREAD's and VMPTRST's memory
 * destination is written last; a fault there leaves RFLAGS and the VMCS unchanged.
 *
 * VMLAUNCH/VMRESUME: a VMfail leaves the processor after the instruction with the flags set; a
 * successful entry continues at the guest's RIP in non-root operation; an entry that fails
 * while or after loading guest state (§26.8, exit reason with bit 31) continues at the VMCS's
 * HOST_RIP with the host state loaded (RFLAGS = 2, §27.5.3). A later VM exit of this VMCS
 * continues at HOST_RIP too (`cpu.vmExitStops` false: the run loop does not return).
 *
 * VMCALL in VMX root operation (§30.3 VMCALL): the modelled processor does not support the
 * dual-monitor treatment of SMIs and SMM (IA32_VMX_BASIC[49] = 0), so after the #UD and CPL
 * checks it is VMfail(1) "VMCALL executed in VMX root operation" (VMfailInvalid without a current
 * VMCS). VMFUNC outside non-root operation is #UD (the processor's op, insn/vmxOps.ts).
 */
import type { Cpu } from '../x86/cpu';
import type { DecodedInsn } from '../x86/decoded';
import { InsnExit } from '../x86/vmxInsnHooks';
import type { VmxOperands, VmxRootHooks } from '../x86/vmxRootHooks';
import type { VmxEngine, VmxStatus } from './engine';
import { SUCCEED } from './engine';
import type { Descriptor128 } from './vmxInstructions';
import { VmInsnError, rootOperationChecks, vmfail } from './vmxInstructions';

const TWO32 = 4294967296;

/** RFLAGS bits the VMX conventions set or clear: CF, PF, AF, ZF, SF, OF (§30.2). */
const STATUS_FLAGS = 0x8d5;
const CF = 0x1;
const ZF = 0x40;

/** VMsucceed clears the six flags; VMfailInvalid sets CF; VMfailValid sets ZF (§30.2). */
export function statusFlags(s: VmxStatus): number {
  return s.status === 'succeed' ? 0 : s.status === 'failInvalid' ? CF : ZF;
}

/** A register operand's value as a number: exact below 2^53, else some value at least 2^53 (never a valid encoding, type or address). */
function regValue(c: Cpu, reg: number, size: 4 | 8): number {
  const lo = c.lo[reg] >>> 0;
  if (size === 4) return lo;
  return (c.hi[reg] >>> 0) * TWO32 + lo;
}

/** The 64-bit memory operand as a number (see PointerOperand in vmxInstructions.ts). */
function readPointer(c: Cpu, ops: VmxOperands): number {
  const lo = c.read64(ops.mem!(c), c.linHi) >>> 0;
  return (c.vHi >>> 0) * TWO32 + lo;
}

/** The 128-bit INVEPT/INVVPID descriptor, read as two quadwords (linear addresses wrap at 4 GiB outside 64-bit mode). */
function readDescriptor(c: Cpu, ops: VmxOperands, out: Descriptor128): Descriptor128 {
  const lin = ops.mem!(c);
  const linHi = c.linHi;
  out.lo0 = c.read64(lin, linHi);
  out.hi0 = c.vHi;
  let lo = (lin >>> 0) + 8;
  let hi = linHi;
  if (lo >= TWO32) {
    lo -= TWO32;
    hi = c.bitness === 64 ? (linHi + 1) | 0 : 0;
  }
  out.lo1 = c.read64(lo | 0, hi);
  out.hi1 = c.vHi;
  return out;
}

/** Creates the hooks for one engine (attached by the VmxEngine constructor). */
export function createRootHooks(engine: VmxEngine): VmxRootHooks {
  const desc: Descriptor128 = { lo0: 0, hi0: 0, lo1: 0, hi1: 0 };
  return {
    execute(c: Cpu, d: DecodedInsn, ops: VmxOperands, reason: number): void {
      if (reason === InsnExit.Vmlaunch || reason === InsnExit.Vmresume) {
        vmEntry(engine, c, d, reason === InsnExit.Vmlaunch);
        return;
      }
      const s = instruction(engine, c, ops, reason, desc);
      complete(c, d, s);
    },
  };
}

/** Every VMX instruction but VMLAUNCH/VMRESUME: its status (faults thrown). */
function instruction(engine: VmxEngine, c: Cpu, ops: VmxOperands, reason: number, desc: Descriptor128): VmxStatus {
  switch (reason) {
    case InsnExit.Vmxon:
      return engine.vmxon(() => readPointer(c, ops));
    case InsnExit.Vmxoff:
      return engine.vmxoff();
    case InsnExit.Vmclear:
      return engine.vmclear(() => readPointer(c, ops));
    case InsnExit.Vmptrld:
      return engine.vmptrld(() => readPointer(c, ops));
    case InsnExit.Vmptrst: {
      const p = engine.vmptrst();
      // FFFFFFFF_FFFFFFFFH without a current VMCS (§30.3 VMPTRST).
      const lo = p < 0 ? -1 : p % TWO32 | 0;
      const hi = p < 0 ? -1 : Math.floor(p / TWO32) | 0;
      c.write64(ops.mem!(c), c.linHi, lo, hi);
      return (engine.lastStatus = SUCCEED);
    }
    case InsnExit.Vmread: {
      const lo = engine.vmread(regValue(c, ops.reg, ops.size));
      const hi = engine.readHi;
      const s = engine.lastStatus;
      if (s.status !== 'succeed') return s;
      // The destination has the operand size: 64 bits in 64-bit mode, else 32 (§30.3 VMREAD).
      if (ops.rmReg >= 0) {
        c.lo[ops.rmReg] = lo;
        c.hi[ops.rmReg] = ops.size === 8 ? hi : 0;
      } else if (ops.size === 8) {
        c.write64(ops.mem!(c), c.linHi, lo, hi);
      } else {
        c.write32(ops.mem!(c), c.linHi, lo);
      }
      return s;
    }
    case InsnExit.Vmwrite: {
      rootOperationChecks(c, 'VMWRITE');
      const encoding = regValue(c, ops.reg, ops.size);
      let lo: number, hi = 0;
      if (ops.rmReg >= 0) {
        lo = c.lo[ops.rmReg];
        hi = c.hi[ops.rmReg];
      } else if (ops.size === 8) {
        lo = c.read64(ops.mem!(c), c.linHi);
        hi = c.vHi;
      } else {
        lo = c.read32(ops.mem!(c), c.linHi);
      }
      return engine.vmwrite(encoding, lo, hi);
    }
    case InsnExit.Invept:
      return engine.inveptWith(regValue(c, ops.reg, ops.size), () => readDescriptor(c, ops, desc));
    case InsnExit.Invvpid:
      return engine.invvpidWith(regValue(c, ops.reg, ops.size), () => readDescriptor(c, ops, desc));
    case InsnExit.Vmcall:
      rootOperationChecks(c, 'VMCALL');
      return (engine.lastStatus = vmfail(engine, VmInsnError.VMCALL_IN_ROOT));
    default:
      throw new Error(`internal: ${reason} is not a VMX instruction the root hooks execute`);
  }
}

/** The instruction completed in root operation: RFLAGS per its status, RIP after it. */
function complete(c: Cpu, d: DecodedInsn, s: VmxStatus): void {
  c.setRflags(statusFlags(s), STATUS_FLAGS);
  c.ripLo = d.nextLo;
  c.ripHi = d.nextHi;
}

/** VMLAUNCH/VMRESUME by guest code (see the file comment). */
function vmEntry(engine: VmxEngine, c: Cpu, d: DecodedInsn, launch: boolean): void {
  const out = launch ? engine.vmlaunch() : engine.vmresume();
  if (out.kind === 'fail') {
    complete(c, d, out.status);
    return;
  }
  // 'entered': the guest's state is loaded (RIP included); 'exitOnEntry': the host's is (HOST_RIP).
  // Either way translated-code chaining from this block must not be followed.
  c.codeChanged();
}
