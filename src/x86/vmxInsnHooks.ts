/** Instruction-caused VM exits: the processor's questions (see vmxHooks.ts). */
import type { Cpu } from './cpu';
import type { DecodedInsn } from './decoded';

/**
 * Instruction-caused exits (SDM vol. 3C §25.1.2-25.1.3). Each method returns normally when the
 * instruction does not exit (it then executes as usual), or performs the exit and throws
 * VM_EXIT. Called only when `c.nonRoot` is true. Owner: src/vmx/insnExits*.ts.
 */
export interface InstructionExitHooks {
  /** Instructions that exit unconditionally or by one control bit, with no operand to decode (reason = basic exit reason). */
  instruction(c: Cpu, d: DecodedInsn, reason: number): void;
  /** IN/OUT/INS/OUTS (§25.1.3 I/O bitmaps): `rep` and `string` forms, `size` 1/2/4. */
  io(c: Cpu, d: DecodedInsn, port: number, size: number, input: boolean, string: boolean, rep: boolean): void;
  /** RDMSR/WRMSR with ECX = `msr` (§25.1.3 MSR bitmaps). */
  msr(c: Cpu, d: DecodedInsn, msr: number, write: boolean): void;
  /**
   * MOV to CR0/CR3/CR4/CR8, CLTS, LMSW (§25.1.3, §25.3): exits or returns the value the
   * instruction writes (guest/host masks: owned bits keep the guest's current value).
   * `type` 0 MOV to CR, 2 CLTS, 3 LMSW; `gpr` the source register (0-15), or -1.
   */
  crWrite(c: Cpu, d: DecodedInsn, cr: number, type: number, gpr: number, valueLo: number, valueHi: number): void;
  /** MOV from CR: exits (CR3/CR8 store exiting) or returns the value read (CR0/CR4 read shadows). Value in (return, c.vHi). */
  crRead(c: Cpu, d: DecodedInsn, cr: number, gpr: number, valueLo: number, valueHi: number): number;
  /** MOV DR (MOV-DR exiting). */
  drAccess(c: Cpu, d: DecodedInsn, dr: number, gpr: number, toDr: boolean): void;
}

