/**
 * The processor's one narrow door to VMX (DESIGN.md: "in non-root operation it asks the engine
 * 'does this event exit?' at each architecturally defined point"). The processor defines these
 * interfaces; the VT-x engine (src/vmx/) implements them and attaches them to the Cpu while the
 * logical processor is in VMX operation. src/x86 never imports src/vmx.
 *
 * A hook that decides "this exits" performs the whole VM exit (SDM vol. 3C chapter 28: exit
 * information recorded, guest state saved, host state loaded) and then throws VM_EXIT from an
 * op, or returns true from a between-instructions hook. The run loop catches VM_EXIT: it does
 * not touch RIP (host state is already loaded) and either returns 'vmexit' to the caller (the
 * host is TypeScript: the built-in hypervisor) or continues at HOST_RIP (the host is guest code:
 * nested, `c.vmExitStops` false).
 */
import type { Cpu } from './cpu';
import type { DecodedInsn } from './decoded';
import type { CpuException } from './exceptions';
import type { Access } from './mmu';

/** Thrown (never allocated per exit) after a VM exit has been performed. */
export class VmExitSignal {
  readonly vmExit = true;
}
export const VM_EXIT = new VmExitSignal();

/**
 * Instruction-caused exits (SDM vol. 3C §26.1.2-26.1.3). Each method returns normally when the
 * instruction does not exit (it then executes as usual), or performs the exit and throws
 * VM_EXIT. Called only when `c.nonRoot` is true. Owner: src/vmx/insnExits*.ts.
 */
export interface InstructionExitHooks {
  /** Instructions that exit unconditionally or by one control bit, with no operand to decode (reason = basic exit reason). */
  instruction(c: Cpu, d: DecodedInsn, reason: number): void;
  /** IN/OUT/INS/OUTS (§26.1.3 I/O bitmaps): `rep` and `string` forms, `size` 1/2/4. */
  io(c: Cpu, d: DecodedInsn, port: number, size: number, input: boolean, string: boolean, rep: boolean): void;
  /** RDMSR/WRMSR with ECX = `msr` (§26.1.3 MSR bitmaps). */
  msr(c: Cpu, d: DecodedInsn, msr: number, write: boolean): void;
  /**
   * MOV to CR0/CR3/CR4/CR8, CLTS, LMSW (§26.1.3, §27.3.1.x): exits or returns the value the
   * instruction writes (guest/host masks: owned bits keep the guest's current value).
   * `type` 0 MOV to CR, 2 CLTS, 3 LMSW; `gpr` the source register (0-15), or -1.
   */
  crWrite(c: Cpu, d: DecodedInsn, cr: number, type: number, gpr: number, valueLo: number, valueHi: number): void;
  /** MOV from CR: exits (CR3/CR8 store exiting) or returns the value read (CR0/CR4 read shadows). Value in (return, c.vHi). */
  crRead(c: Cpu, d: DecodedInsn, cr: number, gpr: number, valueLo: number, valueHi: number): number;
  /** MOV DR (MOV-DR exiting). */
  drAccess(c: Cpu, d: DecodedInsn, dr: number, gpr: number, toDr: boolean): void;
}

/**
 * Events between instructions and during delivery (§26.2, §26.7, §27.x). Owner: src/vmx/eventExits*.ts.
 */
export interface EventExitHooks {
  /**
   * An exception (fault/trap/abort, software INT3/INTO/INT n as the SDM counts them) is about to
   * be delivered in non-root operation. Returns true when it caused a VM exit (exception bitmap,
   * triple fault), false to deliver it in the guest.
   */
  exception(c: Cpu, e: CpuException, kind: number): boolean;
  /**
   * Between instructions: interrupt window, NMI window, MTF, preemption timer, pending external
   * interrupt/NMI exiting, TPR threshold. Returns true when a VM exit was taken.
   */
  betweenInstructions(c: Cpu): boolean;
}

/** Guest-physical accesses when EPT is on (§29.3). Owner: src/vmx/ept*.ts. */
export interface EptHooks {
  /**
   * Translate guest-physical `gpa` for `access`. Returns the host-physical address or performs
   * an EPT-violation / misconfiguration exit and throws VM_EXIT. `linLo/linHi` the guest-linear
   * address when there is one (`hasLinear`), `walk` true for a guest paging-structure access.
   */
  translate(c: Cpu, gpa: number, access: Access, linLo: number, linHi: number, hasLinear: boolean, walk: boolean): number;
}
