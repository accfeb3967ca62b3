/**
 * Which instructions cause VM exits in VMX non-root operation, and under which condition
 * (SDM vol. 3C §25.1.2 "Instructions That Cause VM Exits Unconditionally", §25.1.3
 * "Instructions That Cause VM Exits Conditionally"). One row per instruction family, naming
 * the exit reason and the control that decides it. The language server's hovers and the docs
 * read this table; the engine's decisions (insnExits*.ts) are tested against it.
 */
import { EXIT_REASON_BY_NUMBER } from './exitReasons';
import { PIN_BASED, PROC_BASED, PROC_BASED2, PROC_BASED3, type ControlBit } from './controlBits';

export type ExitCondition =
  | { kind: 'always' }
  /** A VM-execution control bit (`field`: which control field). */
  | { kind: 'control'; field: 'primary' | 'secondary' | 'tertiary' | 'pin'; control: string }
  | { kind: 'io-bitmap' }
  | { kind: 'msr-bitmap' }
  | { kind: 'cr-access' }
  | { kind: 'exception-bitmap'; vector: number }
  | { kind: 'xss-bitmap' }
  | { kind: 'vmfunc' };

export interface InstructionExit {
  /** Lower-case mnemonics (NASM spelling) the row covers. */
  mnemonics: readonly string[];
  reason: number;
  condition: ExitCondition;
  /** What a person should know, in one sentence. */
  note: string;
}

const always = (mnemonics: string[], reason: number, note: string): InstructionExit =>
  ({ mnemonics, reason, condition: { kind: 'always' }, note });
const ctl = (mnemonics: string[], reason: number, field: 'primary' | 'secondary' | 'tertiary', control: string, note: string): InstructionExit =>
  ({ mnemonics, reason, condition: { kind: 'control', field, control }, note });

export const INSTRUCTION_EXITS: readonly InstructionExit[] = [
  always(['cpuid'], 10, 'CPUID always exits in VMX non-root operation; the hypervisor supplies EAX-EDX.'),
  always(['getsec'], 11, 'GETSEC exits when CR4.SMXE = 1 (otherwise #UD).'),
  always(['invd'], 13, 'INVD always exits.'),
  always(['xsetbv'], 55, 'XSETBV always exits; the hypervisor checks and loads XCR0.'),
  always(['vmcall'], 18, 'VMCALL always exits: the hypercall to the hypervisor.'),
  always(['vmclear'], 19, 'VMCLEAR in non-root operation exits.'),
  always(['vmlaunch'], 20, 'VMLAUNCH in non-root operation exits.'),
  always(['vmptrld'], 21, 'VMPTRLD in non-root operation exits.'),
  always(['vmptrst'], 22, 'VMPTRST in non-root operation exits.'),
  always(['vmread'], 23, 'VMREAD in non-root operation exits (without VMCS shadowing).'),
  always(['vmresume'], 24, 'VMRESUME in non-root operation exits.'),
  always(['vmwrite'], 25, 'VMWRITE in non-root operation exits (without VMCS shadowing).'),
  always(['vmxoff'], 26, 'VMXOFF in non-root operation exits.'),
  always(['vmxon'], 27, 'VMXON in non-root operation exits.'),
  always(['invept'], 50, 'INVEPT in non-root operation exits.'),
  always(['invvpid'], 53, 'INVVPID in non-root operation exits.'),
  ctl(['hlt'], 12, 'primary', 'HLT_EXITING', 'HLT exits if "HLT exiting" is set; otherwise the vCPU sleeps until an interrupt.'),
  ctl(['invlpg'], 14, 'primary', 'INVLPG_EXITING', 'INVLPG exits if "INVLPG exiting" is set.'),
  ctl(['mwait'], 36, 'primary', 'MWAIT_EXITING', 'MWAIT exits if "MWAIT exiting" is set.'),
  ctl(['rdpmc'], 15, 'primary', 'RDPMC_EXITING', 'RDPMC exits if "RDPMC exiting" is set.'),
  ctl(['rdtsc'], 16, 'primary', 'RDTSC_EXITING', 'RDTSC exits if "RDTSC exiting" is set; otherwise it returns the TSC plus the TSC offset.'),
  ctl(['rdtscp'], 51, 'primary', 'RDTSC_EXITING', 'RDTSCP exits if "RDTSC exiting" is set (and is #UD unless "enable RDTSCP").'),
  ctl(['monitor'], 39, 'primary', 'MONITOR_EXITING', 'MONITOR exits if "MONITOR exiting" is set.'),
  ctl(['pause'], 40, 'primary', 'PAUSE_EXITING', 'PAUSE exits if "PAUSE exiting" is set, or after a PAUSE loop longer than the PLE window with "PAUSE-loop exiting".'),
  ctl(['mov dr'], 29, 'primary', 'MOV_DR_EXITING', 'MOV to or from a debug register exits if "MOV-DR exiting" is set.'),
  ctl(['wbinvd', 'wbnoinvd'], 54, 'secondary', 'WBINVD_EXITING', 'WBINVD exits if "WBINVD exiting" is set.'),
  ctl(['rdrand'], 57, 'secondary', 'RDRAND_EXITING', 'RDRAND exits if "RDRAND exiting" is set.'),
  ctl(['rdseed'], 61, 'secondary', 'RDSEED_EXITING', 'RDSEED exits if "RDSEED exiting" is set.'),
  ctl(['invpcid'], 58, 'primary', 'INVLPG_EXITING', 'INVPCID exits if "INVLPG exiting" is set (and is #UD unless "enable INVPCID").'),
  ctl(['lgdt', 'lidt', 'sgdt', 'sidt'], 46, 'secondary', 'DESCRIPTOR_TABLE_EXITING', 'exits if "descriptor-table exiting" is set (GDTR/IDTR access).'),
  ctl(['lldt', 'ltr', 'sldt', 'str'], 47, 'secondary', 'DESCRIPTOR_TABLE_EXITING', 'exits if "descriptor-table exiting" is set (LDTR/TR access).'),
  ctl(['loadiwkey'], 69, 'tertiary', 'LOADIWKEY_EXITING', 'LOADIWKEY exits if "LOADIWKEY exiting" is set.'),
  { mnemonics: ['in', 'out', 'insb', 'insw', 'insd', 'outsb', 'outsw', 'outsd'], reason: 30, condition: { kind: 'io-bitmap' },
    note: 'exits if the port (each byte it touches) is set in the I/O bitmaps, or always with "unconditional I/O exiting" and no bitmaps.' },
  { mnemonics: ['rdmsr'], reason: 31, condition: { kind: 'msr-bitmap' },
    note: 'exits if the MSR is set in the read half of the MSR bitmaps; MSRs outside 0-0x1FFF and 0xC0000000-0xC0001FFF always exit.' },
  { mnemonics: ['wrmsr'], reason: 32, condition: { kind: 'msr-bitmap' },
    note: 'exits if the MSR is set in the write half of the MSR bitmaps; MSRs outside both ranges always exit.' },
  { mnemonics: ['mov cr', 'clts', 'lmsw'], reason: 28, condition: { kind: 'cr-access' },
    note: 'MOV to CR0/CR4, CLTS and LMSW exit when they would change a bit the host owns (CR0/CR4 guest/host mask); MOV to/from CR3 and CR8 exit by their load/store controls; MOV from CR0/CR4 reads the read shadow for owned bits.' },
  { mnemonics: ['xsaves', 'xrstors'], reason: 63, condition: { kind: 'xss-bitmap' },
    note: 'exits when "enable XSAVES/XRSTORS" is set and a component in IA32_XSS & EDX:EAX is set in the XSS-exiting bitmap (XRSTORS: reason 64).' },
  { mnemonics: ['vmfunc'], reason: 59, condition: { kind: 'vmfunc' },
    note: 'VMFUNC exits when the function in EAX is not enabled in the VM-function controls or its checks fail.' },
  { mnemonics: ['int3'], reason: 0, condition: { kind: 'exception-bitmap', vector: 3 },
    note: 'the #BP it raises exits if bit 3 of the exception bitmap is set.' },
  { mnemonics: ['into'], reason: 0, condition: { kind: 'exception-bitmap', vector: 4 },
    note: 'the #OF it raises (OF = 1) exits if bit 4 of the exception bitmap is set.' },
  { mnemonics: ['ud2', 'ud0', 'ud1'], reason: 0, condition: { kind: 'exception-bitmap', vector: 6 },
    note: 'the #UD it raises exits if bit 6 of the exception bitmap is set (the built-in hypervisor sets it, as the seed does).' },
];

const CONTROL_TABLES: Record<string, readonly ControlBit[]> = {
  pin: PIN_BASED, primary: PROC_BASED, secondary: PROC_BASED2, tertiary: PROC_BASED3,
};

// Every row names a real exit reason and control bit (a typo is a host-side bug: fail at load).
for (const row of INSTRUCTION_EXITS) {
  if (!EXIT_REASON_BY_NUMBER.has(row.reason)) throw new Error(`instructionExits: no exit reason ${row.reason}`);
  const c = row.condition;
  if (c.kind === 'control' && !CONTROL_TABLES[c.field].some((b) => b.name === c.control)) {
    throw new Error(`instructionExits: no ${c.field} control named ${c.control}`);
  }
}

/** The row for an instruction (mnemonic plus, for MOV, its operands: MOV CR / MOV DR). */
export function exitOf(mnemonic: string, operands: readonly string[] = []): InstructionExit | undefined {
  let m = mnemonic.toLowerCase();
  if (m === 'mov') {
    if (operands.some((o) => /^cr\d+$/i.test(o.trim()))) m = 'mov cr';
    else if (operands.some((o) => /^dr\d+$/i.test(o.trim()))) m = 'mov dr';
  }
  return INSTRUCTION_EXITS.find((r) => r.mnemonics.includes(m));
}
