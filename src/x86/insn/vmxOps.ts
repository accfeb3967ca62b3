/**
 * The VMX instructions (SDM vol. 3C chapter 30: VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST,
 * VMREAD, VMWRITE, VMLAUNCH, VMRESUME, VMCALL, INVEPT, INVVPID, VMFUNC), GETSEC (vol. 2A) and
 * RDPMC (vol. 2B) as the processor executes them.
 *
 * In VMX non-root operation they ask the engine (vmxInsnHooks.ts), which makes them exit
 * (§25.1.2) or, for VMFUNC, performs the VM function. Elsewhere: outside VMX operation each is
 * #UD (VMXON needs CR4.VMXE = 1, which needs VMX in CPUID); in VMX root operation executed by
 * guest code (a guest that is itself a hypervisor — nested virtualization, a later issue) they
 * are not modelled and raise #UD too. GETSEC is #UD (SMX is not modelled: CR4.SMXE stays 0 in
 * root operation). RDPMC: no performance counters are modelled, so every counter number is
 * #GP(0), after the CR4.PCE/CPL check.
 */
import { Mnemonic } from 'iced-x86';
import type { DecodedInsn } from '../decoded';
import { gp0, ud } from '../exceptions';
import type { Op } from '../operands';
import type { TranslatorTable } from '../translator';
import { InsnExit } from '../vmxInsnHooks';

const CR4_PCE = 1 << 8;

function endBlock(d: DecodedInsn): void {
  d.endsBlock = true;
  d.setsRip = false;
}

/** A VMX instruction: exits in non-root operation, #UD elsewhere (see the file comment). */
function vmxInstruction(reason: number, name: string) {
  return (d: DecodedInsn): Op => {
    endBlock(d);
    return (c) => {
      if (c.nonRoot && c.vmxInsn!.instruction(c, d, reason)) return;
      throw ud(c.inVmxOperation
        ? `${name} in VMX root operation by guest code (nested virtualization is not modelled)`
        : `${name} outside VMX operation`);
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
