/**
 * VMX instructions executed by guest code outside VMX non-root operation: a guest that is itself
 * a hypervisor (`vtx run --hypervisor none`, "bring your own hypervisor"). The processor decodes
 * the operands (this file's `VmxOperands`, built once per translated instruction by
 * insn/vmxOps.ts); the VT-x engine executes the instruction (src/vmx/vmxGuestInstructions.ts)
 * — the same engine methods a TypeScript host calls, so there is one implementation of VMX.
 * Without the engine (a processor without VMX) these instructions are #UD.
 */
import type { Cpu } from './cpu';
import type { DecodedInsn } from './decoded';
import type { AddrFn } from './operands';

/** The operands of one VMX instruction, resolved at translation time (SDM vol. 3C §30.3 per instruction). */
export interface VmxOperands {
  /**
   * Linear address of the memory operand (segment checks for `memSize` bytes and the access
   * kind made; the high half in c.linHi), or null when the instruction has none or its r/m
   * operand is a register. VMXON/VMCLEAR/VMPTRLD read 8 bytes, VMPTRST writes 8, VMREAD writes
   * and VMWRITE reads the operand size, INVEPT/INVVPID read 16.
   */
  mem: AddrFn | null;
  memSize: number;
  /** The r/m operand of VMREAD/VMWRITE when it is a register: its number; else -1. */
  rmReg: number;
  /** The register operand: VMREAD's source, VMWRITE's destination (the field encoding), INVEPT/INVVPID's type; else -1. */
  reg: number;
  /** Operand size of VMREAD/VMWRITE and of the INVEPT/INVVPID type register: 8 in 64-bit mode, else 4. */
  size: 4 | 8;
}

/** Owner: src/vmx/vmxGuestInstructions.ts (attached by the engine, VmxEngine constructor). */
export interface VmxRootHooks {
  /**
   * Execute the VMX instruction `reason` (InsnExit.Vmxon ... Vmcall) in VMX root operation or
   * outside VMX operation, with every check of its "Operation" section: faults are thrown as
   * CpuException (RIP is then the instruction's); otherwise the hook sets RIP — the next
   * instruction, the guest's RIP after a VM entry, or HOST_RIP after a VM entry that failed
   * with a VM exit (§26.8) — and RFLAGS (§30.2 conventions).
   */
  execute(c: Cpu, d: DecodedInsn, ops: VmxOperands, reason: number): void;
}
