/**
 * The VMX instructions (SDM vol. 3C chapter 30: VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST,
 * VMREAD, VMWRITE, VMLAUNCH, VMRESUME, VMCALL, INVEPT, INVVPID, VMFUNC), GETSEC (vol. 2A) and
 * RDPMC (vol. 2B) as the processor executes them.
 *
 * In VMX non-root operation they ask the engine (vmxInsnHooks.ts), which makes them exit
 * (§25.1.2) or, for VMFUNC, performs the VM function. Elsewhere — in VMX root operation and
 * outside VMX operation, executed by a guest that is itself a hypervisor — the VT-x engine
 * executes them (vmxRootHooks.ts: the operands decoded here, the instruction's checks, VM
 * entries and their failures in src/vmx); without the engine (a processor without VMX) they are
 * #UD. VMFUNC outside non-root operation is #UD (§30.3 VMFUNC). GETSEC is #UD (SMX is not
 * modelled: CR4.SMXE stays 0 in root operation). RDPMC: no performance counters are modelled, so every counter number is
 * #GP(0), after the CR4.PCE/CPL check.
 */
import { Mnemonic, OpKind } from 'iced-x86';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import { gp0, ud } from '../exceptions';
import type { Op } from '../operands';
import { linearAddress } from '../operands';
import type { TranslatorTable } from '../translator';
import { InsnExit } from '../vmxInsnHooks';
import type { VmxOperands } from '../vmxRootHooks';

const CR4_PCE = 1 << 8;

function endBlock(d: DecodedInsn): void {
  d.endsBlock = true;
  d.setsRip = false;
}

/**
 * The operands of a VMX instruction (SDM vol. 3C §30.3): VMXON/VMCLEAR/VMPTRLD m64 (read),
 * VMPTRST m64 (written), VMREAD r/m, reg (the r/m written), VMWRITE reg, r/m (read),
 * INVEPT/INVVPID reg, m128 (read); the others have none.
 */
function vmxOperands(d: DecodedInsn, reason: number): VmxOperands {
  const size = d.bitness === 64 ? 8 : 4;
  const o: VmxOperands = { mem: null, memSize: 0, rmReg: -1, reg: -1, size };
  const regOf = (i: number): number => gprOf(d.opRegs[i])!.index;
  const memOf = (i: number, n: number, write: boolean): void => {
    if (d.opKinds[i] === OpKind.Register) {
      o.rmReg = regOf(i);
    } else if (d.mem !== null) {
      o.mem = linearAddress(d, d.mem, n, write);
      o.memSize = n;
    }
  };
  switch (reason) {
    case InsnExit.Vmxon: case InsnExit.Vmclear: case InsnExit.Vmptrld: memOf(0, 8, false); break;
    case InsnExit.Vmptrst: memOf(0, 8, true); break;
    case InsnExit.Vmread: memOf(0, size, true); o.reg = regOf(1); break;
    case InsnExit.Vmwrite: o.reg = regOf(0); memOf(1, size, false); break;
    case InsnExit.Invept: case InsnExit.Invvpid: o.reg = regOf(0); memOf(1, 16, false); break;
    default: break;
  }
  return o;
}

/** A VMX instruction: exits in non-root operation, executed by the engine elsewhere, #UD without it (see the file comment). */
function vmxInstruction(reason: number, name: string) {
  return (d: DecodedInsn): Op => {
    endBlock(d);
    // In root operation the engine sets RIP (the next instruction, or where a VM entry went).
    d.setsRip = true;
    const ops = vmxOperands(d, reason);
    return (c) => {
      if (c.nonRoot && c.vmxInsn!.instruction(c, d, reason)) return;
      if (c.vmxRoot !== null && !c.nonRoot) {
        c.vmxRoot.execute(c, d, ops, reason);
        return;
      }
      throw ud(c.inVmxOperation ? `${name} in VMX operation without the VT-x engine` : `${name} outside VMX operation (the processor has no VMX)`);
    };
  };
}

/** VMFUNC: the VM function runs in non-root operation (EPTP switching); #UD elsewhere (§30.3 VMFUNC). */
function vmfunc(d: DecodedInsn): Op {
  endBlock(d);
  return (c) => {
    if (!c.nonRoot) throw ud('VMFUNC outside VMX non-root operation');
    c.vmxInsn!.instruction(c, d, InsnExit.Vmfunc);
  };
}

/** GETSEC (SDM vol. 2A chapter 7): #UD with CR4.SMXE = 0; in non-root operation the hook decides (§25.1.2). */
function getsec(d: DecodedInsn): Op {
  endBlock(d);
  return (c) => {
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.Getsec)) return;
    throw ud('GETSEC: SMX is not modelled (CR4.SMXE = 0)');
  };
}

/**
 * RDPMC (SDM vol. 2B): #GP(0) at CPL > 0 (and in virtual-8086 mode) unless CR4.PCE = 1; RDPMC
 * exiting in non-root operation (§25.1.3); then #GP(0) for the counter number in ECX, as no
 * counter is modelled (CPUID leaf 0AH reports none).
 */
function rdpmc(d: DecodedInsn): Op {
  return (c) => {
    if (c.cpl !== 0 && (c.cr4 & CR4_PCE) === 0) throw gp0('RDPMC at CPL > 0 with CR4.PCE = 0');
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.Rdpmc)) return;
    throw gp0('RDPMC: no performance-monitoring counter is modelled');
  };
}

export const vmxOpHandlers: TranslatorTable = {
  [Mnemonic.Vmxon]: vmxInstruction(InsnExit.Vmxon, 'VMXON'),
  [Mnemonic.Vmxoff]: vmxInstruction(InsnExit.Vmxoff, 'VMXOFF'),
  [Mnemonic.Vmclear]: vmxInstruction(InsnExit.Vmclear, 'VMCLEAR'),
  [Mnemonic.Vmptrld]: vmxInstruction(InsnExit.Vmptrld, 'VMPTRLD'),
  [Mnemonic.Vmptrst]: vmxInstruction(InsnExit.Vmptrst, 'VMPTRST'),
  [Mnemonic.Vmread]: vmxInstruction(InsnExit.Vmread, 'VMREAD'),
  [Mnemonic.Vmwrite]: vmxInstruction(InsnExit.Vmwrite, 'VMWRITE'),
  [Mnemonic.Vmlaunch]: vmxInstruction(InsnExit.Vmlaunch, 'VMLAUNCH'),
  [Mnemonic.Vmresume]: vmxInstruction(InsnExit.Vmresume, 'VMRESUME'),
  [Mnemonic.Vmcall]: vmxInstruction(InsnExit.Vmcall, 'VMCALL'),
  [Mnemonic.Invept]: vmxInstruction(InsnExit.Invept, 'INVEPT'),
  [Mnemonic.Invvpid]: vmxInstruction(InsnExit.Invvpid, 'INVVPID'),
  [Mnemonic.Vmfunc]: vmfunc,
  [Mnemonic.Getsec]: getsec,
  [Mnemonic.Rdpmc]: rdpmc,
};
