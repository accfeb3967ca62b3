/**
 * InstructionExitHooks (src/x86/vmxInsnHooks.ts): which instructions exit in VMX non-root
 * operation (SDM vol. 3C §25.1.2 unconditionally, §25.1.3 by the VM-execution controls), how the
 * others behave there (§25.3), and the exit information they record (§27.2.1, §27.2.4).
 *
 *   insnExits.ts      this file: the hooks object; instructions with no operand to examine,
 *                     the VMX instructions, descriptor-table exiting, XSAVES/XRSTORS, VMFUNC
 *   insnExitCr.ts     MOV CR, CLTS, LMSW, MOV DR, the TPR shadow
 *   insnExitIo.ts     I/O bitmaps, MSR bitmaps, x2APIC TPR virtualization
 *   insnExitTime.ts   RDTSC/RDTSCP, TSC offsetting/scaling, PAUSE-loop exiting
 *   insnExitInfo.ts   qualification and instruction-information encodings
 *   insnExitCore.ts   shared control bits, fields, and the exit itself
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../x86/cpu';
import type { DecodedInsn } from '../x86/decoded';
import { gp0, ud } from '../x86/exceptions';
import { getStored, msrInfo } from '../x86/msr';
import { Flag, Gpr } from '../x86/registers';
import type { InstructionExitHooks } from '../x86/vmxHooks';
import { InsnExit } from '../x86/vmxInsnHooks';
import { eptOnVmEntry } from './ept';
import { eptpValid } from './eptFeatures';
import { Exit } from './exitReasons';
import type { VmxEngine } from './engine';
import {
  F, P_HLT, P_INVLPG, P_MONITOR, P_MWAIT, P_RDPMC, S_DESC_TABLE, S_INVPCID, S_RDTSCP, S_RDRAND, S_RDSEED, S_VMFUNC, S_WBINVD,
  S_XSAVES, insnExit, physField, physRead32, vmcsOf,
} from './insnExitCore';
import { clts, lmsw, movDr, movFromCr, movToCr } from './insnExitCr';
import { ioExit, msrAccess } from './insnExitIo';
import {
  descriptorTableInfo, displacementQualification, memoryInstructionInfo, memoryLinear, out, rdrandInfo,
  systemSelectorInfo, vmreadWriteInfo,
} from './insnExitInfo';
import { guestTsc, newPauseLoop, pause, timeStamp } from './insnExitTime';

const CR4_VMXE = 1 << 13;
const CR4_SMXE = 1 << 14;
const IA32_XSS = 0xda0;

/**
 * Creates the hooks for one engine. MONITOR's armed state (for MWAIT's exit qualification bit 0,
 * §27.2.1) is tracked from the MONITORs executed in non-root operation.
 */
export function createInsnHooks(engine: VmxEngine): InstructionExitHooks {
  const pauseLoop = newPauseLoop();
  let monitorArmed = false;
  return {
    instruction(c, d, reason) {
      switch (reason) {
        case InsnExit.Hlt:
          return (engine.proc & P_HLT) !== 0 && insnExit(engine, d, Exit.Hlt, 0, 0, 0);
        case InsnExit.Invlpg: {
          // Qualification: the linear-address operand, bits 63:32 clear outside 64-bit mode.
          if ((engine.proc & P_INVLPG) === 0 || d.mem === null) return false;
          const lo = memoryLinear(c, d, d.mem);
          return insnExit(engine, d, Exit.Invlpg, lo, out.hi, 0);
        }
        case InsnExit.Invpcid:
          // §25.3: #UD when "enable INVPCID" is 0, before any other fault; CPL > 0 is #GP(0)
          // before the exit; "INVLPG exiting" makes INVPCID exit (§25.1.3).
          if ((engine.proc2 & S_INVPCID) === 0) throw ud('INVPCID with "enable INVPCID" = 0 in VMX non-root operation');
          if (c.cpl !== 0) throw gp0('INVPCID at CPL > 0');
          return (engine.proc & P_INVLPG) !== 0 && memoryOperandExit(engine, d, Exit.Invpcid, memoryInstructionInfo(d));
        case InsnExit.Rdpmc:
          return (engine.proc & P_RDPMC) !== 0 && insnExit(engine, d, Exit.Rdpmc, 0, 0, 0);
        case InsnExit.Monitor:
          if ((engine.proc & P_MONITOR) !== 0) return insnExit(engine, d, Exit.Monitor, 0, 0, 0);
          monitorArmed = true;
          return false;
        case InsnExit.Mwait:
          // Qualification bit 0: MWAIT executed with the monitor hardware armed.
          if ((engine.proc & P_MWAIT) !== 0) return insnExit(engine, d, Exit.Mwait, monitorArmed ? 1 : 0, 0, 0);
          monitorArmed = false;
          return false;
        case InsnExit.Wbinvd:
          return (engine.proc2 & S_WBINVD) !== 0 && insnExit(engine, d, Exit.Wbinvd, 0, 0, 0);
        case InsnExit.Rdrand:
          return (engine.proc2 & S_RDRAND) !== 0 && insnExit(engine, d, Exit.Rdrand, 0, 0, rdrandInfo(d));
        case InsnExit.Rdseed:
          return (engine.proc2 & S_RDSEED) !== 0 && insnExit(engine, d, Exit.Rdseed, 0, 0, rdrandInfo(d));
        case InsnExit.GdtrIdtr:
        case InsnExit.LdtrTr:
          return descriptorTable(engine, d, reason);
        case InsnExit.Getsec:
          // §25.1.2 footnote: #UD when CR4.SMXE = 0, else a VM exit whatever CPL or EAX.
          if ((c.cr4 & CR4_SMXE) === 0) throw ud('GETSEC with CR4.SMXE = 0');
          return insnExit(engine, d, Exit.Getsec, 0, 0, 0);
        case InsnExit.Cpuid:
        case InsnExit.Invd:
        case InsnExit.Xsetbv:
        case InsnExit.Vmcall:
          // §25.1.2: unconditional (VMCALL: no mode check in VMX operation, §30.3 VMCALL).
          return insnExit(engine, d, reason, 0, 0, 0);
        case InsnExit.Vmfunc:
          return vmfunc(engine, c, d);
        default:
          return vmxInstruction(engine, c, d, reason);
      }
    },
    io: (c, d, port, size, input, string, rep) => ioExit(engine, c, d, port, size, input, string, rep),
    msr: (c, d, msr, write) => msrAccess(engine, c, d, msr, write),
    movToCr: (c, d, cr, gpr, lo, hi) => movToCr(engine, c, d, cr, gpr, lo, hi),
    movFromCr: (c, d, cr, gpr, lo, hi) => movFromCr(engine, c, d, cr, gpr, lo, hi),
    clts: (_c, d) => clts(engine, d),
    lmsw: (c, d, src) => lmsw(engine, c, d, src),
    movDr: (_c, d, dr, gpr, toDr) => movDr(engine, d, dr, gpr, toDr),
    timeStamp: (c, d, reason, tsc) => timeStamp(engine, c, d, reason, tsc),
    tscMsr: (c, lo, hi) => guestTsc(engine, c, lo, hi),
    rdpid: () => {
      if ((engine.proc2 & S_RDTSCP) === 0) throw ud('RDPID with "enable RDTSCP" = 0 in VMX non-root operation');
    },
    pause: (c, d) => pause(engine, pauseLoop, c, d),
    xss: (c, d, reason, eax, edx) => xss(engine, c, d, reason, eax, edx),
  };
}

/** An exit whose qualification is the memory operand's displacement (§27.2.1). */
function memoryOperandExit(engine: VmxEngine, d: DecodedInsn, reason: number, info: number): true {
  const lo = displacementQualification(d);
  return insnExit(engine, d, reason, lo, out.hi, info);
}

/**
 * The VMX instructions (§25.1.2: unconditional exits). Their #UD conditions come first (§30.3
 * pseudocode: CR0.PE = 0, RFLAGS.VM = 1, compatibility mode; VMXON also CR4.VMXE = 0); the exit
 * precedes the CPL check. Qualification and information per §27.2.1 and tables 27-9/27-13/27-14.
 */
function vmxInstruction(engine: VmxEngine, c: Cpu, d: DecodedInsn, reason: number): true {
  if (!c.protectedMode || (c.flagsRest & Flag.VM) !== 0 || (c.longMode && d.bitness !== 64)) {
    throw ud('VMX instruction outside protected mode, in virtual-8086 mode or in compatibility mode');
  }
  switch (reason) {
    case InsnExit.Vmlaunch:
    case InsnExit.Vmresume:
    case InsnExit.Vmxoff:
      return insnExit(engine, d, reason, 0, 0, 0);
    case InsnExit.Vmxon:
      if ((c.cr4 & CR4_VMXE) === 0) throw ud('VMXON with CR4.VMXE = 0');
      return memoryOperandExit(engine, d, reason, memoryInstructionInfo(d));
    case InsnExit.Vmclear:
    case InsnExit.Vmptrld:
    case InsnExit.Vmptrst:
    case InsnExit.Invept:
    case InsnExit.Invvpid:
      return memoryOperandExit(engine, d, reason, memoryInstructionInfo(d));
    case InsnExit.Vmread:
    case InsnExit.Vmwrite:
      return memoryOperandExit(engine, d, reason, vmreadWriteInfo(d, reason === InsnExit.Vmwrite));
    default:
      throw new Error(`internal: instruction exit reason ${reason} is not an instruction hook`);
  }
}

/**
 * LGDT/LIDT/SGDT/SIDT (reason 46) and LLDT/LTR/SLDT/STR (reason 47) with "descriptor-table
 * exiting" (§25.1.3), after their #UD and CPL checks: qualification = displacement, information
 * per tables 27-10 and 27-11 with the instruction identity.
 */
function descriptorTable(engine: VmxEngine, d: DecodedInsn, reason: number): boolean {
  if ((engine.proc2 & S_DESC_TABLE) === 0) return false;
  let info: number;
  switch (d.mnemonic) {
    case Mnemonic.Sgdt: info = descriptorTableInfo(d, 0); break;
    case Mnemonic.Sidt: info = descriptorTableInfo(d, 1); break;
    case Mnemonic.Lgdt: info = descriptorTableInfo(d, 2); break;
    case Mnemonic.Lidt: info = descriptorTableInfo(d, 3); break;
    case Mnemonic.Sldt: info = systemSelectorInfo(d, 0); break;
    case Mnemonic.Str: info = systemSelectorInfo(d, 1); break;
    case Mnemonic.Lldt: info = systemSelectorInfo(d, 2); break;
    default: info = systemSelectorInfo(d, 3); break; // LTR
  }
  return memoryOperandExit(engine, d, reason, info);
}

/**
 * XSAVES/XRSTORS (§25.3: #UD when "enable XSAVES/XRSTORS" is 0; §25.1.3: exit when any bit is
 * set in EDX:EAX AND IA32_XSS AND the XSS-exiting bitmap). CPL > 0 is #GP(0) before the exit.
 */
function xss(engine: VmxEngine, c: Cpu, d: DecodedInsn, reason: number, eax: number, edx: number): boolean {
  if ((engine.proc2 & S_XSAVES) === 0) throw ud('XSAVES/XRSTORS with "enable XSAVES/XRSTORS" = 0 in VMX non-root operation');
  if (c.cpl !== 0) throw gp0('XSAVES/XRSTORS at CPL > 0');
  let xssLo = 0, xssHi = 0;
  if (msrInfo(IA32_XSS) !== undefined) {
    xssLo = getStored(c, IA32_XSS);
    xssHi = c.vHi;
  }
  const v = vmcsOf(engine);
  return ((eax & xssLo & v.lo[F.xssExiting]) | (edx & xssHi & v.hi[F.xssExiting])) !== 0
    && memoryOperandExit(engine, d, reason, memoryInstructionInfo(d));
}

/**
 * VMFUNC (§25.5.6): #UD when "enable VM functions" is 0 (§25.3); a VM exit (reason 59) when
 * EAX names a function whose bit is 0 in the VM-function controls, or when the function fails:
 * EPTP switching (function 0, §25.5.6.3) with ECX >= 512 or a list entry that is not a valid
 * EPTP (§24.6.11, ept's eptpValid). A valid entry becomes the EPT pointer.
 */
function vmfunc(engine: VmxEngine, c: Cpu, d: DecodedInsn): boolean {
  if ((engine.proc2 & S_VMFUNC) === 0) throw ud('VMFUNC with "enable VM functions" = 0');
  const fn = c.lo[Gpr.RAX] >>> 0;
  const v = vmcsOf(engine);
  const enabled = fn < 32 ? (v.lo[F.vmfuncControls] >>> fn) & 1 : fn < 64 ? (v.hi[F.vmfuncControls] >>> (fn - 32)) & 1 : 0;
  if (enabled === 0 || fn !== 0) return insnExit(engine, d, Exit.Vmfunc, 0, 0, 0);
  const index = c.lo[Gpr.RCX] >>> 0;
  if (index >= 512) return insnExit(engine, d, Exit.Vmfunc, 0, 0, 0);
  const entry = physField(v, F.eptpList) + index * 8;
  const lo = physRead32(engine, entry), hi = physRead32(engine, entry + 4);
  if (!eptpValid(engine, lo, hi)) return insnExit(engine, d, Exit.Vmfunc, 0, 0, 0);
  // The entry becomes the EPT pointer; translations are looked up under its EP4TA from now on
  // (the TLB context switch of VM entry; invalidating more than required is allowed, §28.3.3).
  v.set64(F.eptPointer, lo, hi);
  eptOnVmEntry(engine);
  c.codeChanged();
  return false;
}
