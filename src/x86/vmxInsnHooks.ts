/** Instruction-caused VM exits: the processor's questions (see vmxHooks.ts). */
import type { Cpu } from './cpu';
import type { DecodedInsn } from './decoded';

/**
 * Basic exit reasons of the instructions that ask `InstructionExitHooks.instruction` (SDM vol. 3C
 * appendix C). The processor names them here because src/x86 never imports src/vmx; the numbers
 * are the SDM's and equal src/vmx/exitReasons.ts.
 */
export const InsnExit = {
  Cpuid: 10, Getsec: 11, Hlt: 12, Invd: 13, Invlpg: 14, Rdpmc: 15, Rdtsc: 16, Vmcall: 18,
  Vmclear: 19, Vmlaunch: 20, Vmptrld: 21, Vmptrst: 22, Vmread: 23, Vmresume: 24, Vmwrite: 25,
  Vmxoff: 26, Vmxon: 27, Mwait: 36, Monitor: 39, GdtrIdtr: 46, LdtrTr: 47, Invept: 50,
  Rdtscp: 51, Invvpid: 53, Wbinvd: 54, Xsetbv: 55, Rdrand: 57, Invpcid: 58, Vmfunc: 59,
  Rdseed: 61, Xsaves: 63, Xrstors: 64,
} as const;

/**
 * Instruction-caused exits (SDM vol. 3C §25.1.2-25.1.3) and the instruction behaviour VMX
 * non-root operation changes (§25.3). Called only when `c.nonRoot` is true, from the place in
 * the instruction's op where the exit's priority is right (§25.1.1: #UD, privilege-level faults
 * and TSS I/O-bitmap faults come first; a fault-like exit precedes every other fault).
 * Owner: src/vmx/insnExits*.ts.
 *
 * How an exit leaves the op: the hook performs the exit, then either throws VM_EXIT or — when
 * the processor's run loop supports it (`curBlock`, see src/vmx/insnExitCore.ts leaveOp) —
 * sets `c.exitTaken` and returns. So after any hook call the op returns at once when the
 * boolean methods return true, or, for the methods returning a value, when `c.exitTaken` is set.
 */
export interface InstructionExitHooks {
  /**
   * Instructions that exit unconditionally or by a control bit (reason from InsnExit). The hook
   * applies that instruction's own VMX rules, also the #UD ones of §25.3 that take priority over
   * everything (RDTSCP/INVPCID/VMFUNC disabled, VMX instructions outside protected mode): call
   * it before the instruction's privilege check where the table below says so.
   *   before the CPL check: INVPCID (the hook checks CPL itself), VMX instructions, GETSEC.
   *   after the CPL/#UD checks: everything else.
   */
  instruction(c: Cpu, d: DecodedInsn, reason: number): boolean;
  /** IN/OUT/INS/OUTS after the TSS I/O-permission check (§25.1.3 I/O bitmaps): `size` 1/2/4. True: exited. */
  io(c: Cpu, d: DecodedInsn, port: number, size: number, input: boolean, string: boolean, rep: boolean): boolean;
  /**
   * RDMSR/WRMSR after the CPL check, ECX = `msr` (§25.1.3 MSR bitmaps). Returns true when the
   * op must return: it exited, or the hook completed the instruction (x2APIC TPR virtualization,
   * §29.5: RDMSR's result is then in EDX:EAX, WRMSR's value in the virtual-APIC page).
   */
  msr(c: Cpu, d: DecodedInsn, msr: number, write: boolean): boolean;
  /**
   * MOV to CR0/CR3/CR4/CR8 after the CPL check, source GPR `gpr` = hi:lo. Exits, or returns the
   * value to load (low half; high half in c.vHi): CR0/CR4 bits owned by the host keep their
   * current value (§25.3). CR8 with the TPR shadow (§29.3): the virtual TPR is written and -1 is
   * returned (nothing to load); a TPR-below-threshold exit (trap-like) may follow. Check
   * c.exitTaken after it.
   */
  movToCr(c: Cpu, d: DecodedInsn, cr: number, gpr: number, lo: number, hi: number): number;
  /**
   * MOV from CR0/CR3/CR4/CR8 and SMSW (`gpr` -1) after the CPL check: exits (CR3/CR8-store
   * exiting) or returns the value read (low half; high half in c.vHi): CR0/CR4 owned bits come
   * from the read shadows, CR8 from the virtual TPR. Check c.exitTaken after it.
   */
  movFromCr(c: Cpu, d: DecodedInsn, cr: number, gpr: number, lo: number, hi: number): number;
  /** CLTS after the CPL check: true when the op must return: it exited, or CR0.TS is owned by the host (CLTS leaves it). */
  clts(c: Cpu, d: DecodedInsn): boolean;
  /**
   * LMSW after the CPL check and the operand read (§25.1.1: operand faults first), `src` the
   * 16-bit source: exits, or returns the CR0 bits (of 3:0) LMSW must leave unchanged. Check
   * c.exitTaken after it.
   */
  lmsw(c: Cpu, d: DecodedInsn, src: number): number;
  /** MOV DR before any of its checks (§25.1.3: the exit precedes #GP for CPL, #UD for DR4/5 and #DB). */
  movDr(c: Cpu, d: DecodedInsn, dr: number, gpr: number, toDr: boolean): boolean;
  /**
   * RDTSC/RDTSCP (`reason` InsnExit.Rdtsc/Rdtscp) in place of their CR4.TSD check (the hook
   * makes it, after RDTSCP's #UD): exits (RDTSC exiting) or returns the guest's TSC from the
   * processor's TSC `tsc` with TSC offsetting/scaling applied (§25.3), high half in c.vHi.
   * Check c.exitTaken after it.
   */
  timeStamp(c: Cpu, d: DecodedInsn, reason: number, tsc: number): number;
  /** RDPID: #UD when "enable RDTSCP" is 0 (§25.3; RDPID reads IA32_TSC_AUX like RDTSCP). */
  rdpid(c: Cpu): void;
  /** RDMSR of IA32_TIME_STAMP_COUNTER: the value read with offsetting/scaling (high half in c.vHi). */
  tscMsr(c: Cpu, lo: number, hi: number): number;
  /** PAUSE: PAUSE exiting and PAUSE-loop exiting (§25.1.3), on the deterministic clock. */
  pause(c: Cpu, d: DecodedInsn): boolean;
  /**
   * XSAVES/XRSTORS (reason 63/64) with requested-feature bitmap EDX:EAX, after their own #UD
   * checks and before the CPL check: #UD when "enable XSAVES/XRSTORS" is 0 (§25.3), #GP(0) at
   * CPL > 0 (checked here), then the XSS-exiting bitmap decides.
   */
  xss(c: Cpu, d: DecodedInsn, reason: number, eax: number, edx: number): boolean;
}
