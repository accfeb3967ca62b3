/**
 * Processor identification and time: CPUID, RDTSC, RDTSCP, and the always-undefined opcodes
 * UD0, UD1, UD2 (SDM vol. 2A CPUID, vol. 2B RDTSC, RDTSCP, UD).
 *
 * Time is deterministic: the TSC is tscOffset + (instructions retired before this one) *
 * tscPerInstruction — no wall clock anywhere — so the same program reads the same values.
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu';
import { cpuidDynamic, cpuidInto } from '../cpuid';
import type { DecodedInsn } from '../decoded';
import { gp0, ud } from '../exceptions';
import type { Op } from '../operands';
import { Gpr } from '../registers';
import type { TranslatorTable } from '../translator';
import { InsnExit } from '../vmxInsnHooks';

const TWO32 = 4294967296;
/** CR4.TSD: RDTSC/RDTSCP only at CPL 0 (SDM vol. 3A §2.5). */
const CR4_TSD = 1 << 2;

// ---- IA32_TSC_AUX (MSR C000_0103H), read by RDTSCP ---------------------------------------------
const tscAuxOf = new WeakMap<Cpu, number>();

/** IA32_TSC_AUX of `c` (0 after reset; the MSR layer writes it with setTscAux). */
export function getTscAux(c: Cpu): number {
  return tscAuxOf.get(c) ?? 0;
}

export function setTscAux(c: Cpu, v: number): void {
  tscAuxOf.set(c, v | 0);
}

// ---- CPUID -------------------------------------------------------------------------------------
const cpuidOut = new Int32Array(4);

/** CPUID (SDM vol. 2A): EAX (leaf) and ECX (subleaf) in; EAX, EBX, ECX, EDX out, zero-extended. */
function cpuid(d: DecodedInsn): Op {
  return (c) => {
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.Cpuid)) return; // exits unconditionally (SDM vol. 3C §25.1.2)
    cpuidInto(c.cpuid, c.lo[Gpr.RAX], c.lo[Gpr.RCX], cpuidOut);
    cpuidDynamic(c.lo[Gpr.RAX], c.cr4, cpuidOut); // CPUID.1:ECX.OSXSAVE = CR4.OSXSAVE
    c.lo[Gpr.RAX] = cpuidOut[0]; c.hi[Gpr.RAX] = 0;
    c.lo[Gpr.RBX] = cpuidOut[1]; c.hi[Gpr.RBX] = 0;
    c.lo[Gpr.RCX] = cpuidOut[2]; c.hi[Gpr.RCX] = 0;
    c.lo[Gpr.RDX] = cpuidOut[3]; c.hi[Gpr.RDX] = 0;
  };
}

// ---- RDTSC / RDTSCP ----------------------------------------------------------------------------
/** The TSC as seen by the instruction at `blockIndex` in its block. */
function tscAt(c: Cpu, blockIndex: number): number {
  return Math.floor(c.tscOffset + (c.icount + blockIndex) * c.tscPerInstruction);
}

/**
 * RDTSC (SDM vol. 2B): EDX:EAX = TSC; #GP(0) when CR4.TSD = 1 and CPL > 0. In 64-bit mode the
 * upper halves of RAX and RDX are cleared.
 */
function rdtsc(d: DecodedInsn): Op {
  const idx = d.blockIndex;
  return (c) => {
    if (c.nonRoot) {
      // VMX non-root operation: TSD check, RDTSC exiting, TSC offsetting/scaling (vol. 3C §25.3).
      const lo = c.vmxInsn!.timeStamp(c, d, InsnExit.Rdtsc, tscAt(c, idx));
      if (c.exitTaken) return;
      c.lo[Gpr.RAX] = lo; c.hi[Gpr.RAX] = 0;
      c.lo[Gpr.RDX] = c.vHi; c.hi[Gpr.RDX] = 0;
      return;
    }
    if ((c.cr4 & CR4_TSD) !== 0 && c.cpl !== 0) throw gp0('RDTSC with CR4.TSD = 1 at CPL > 0');
    const t = tscAt(c, idx);
    c.lo[Gpr.RAX] = t | 0; c.hi[Gpr.RAX] = 0;
    c.lo[Gpr.RDX] = Math.floor(t / TWO32) | 0; c.hi[Gpr.RDX] = 0;
  };
}

/** RDTSCP (SDM vol. 2B): as RDTSC, and ECX = IA32_TSC_AUX[31:0]. */
function rdtscp(d: DecodedInsn): Op {
  const idx = d.blockIndex;
  return (c) => {
    if (c.nonRoot) {
      // VMX non-root operation: #UD unless "enable RDTSCP", TSD check, exiting, offsetting (vol. 3C §25.3).
      const lo = c.vmxInsn!.timeStamp(c, d, InsnExit.Rdtscp, tscAt(c, idx));
      if (c.exitTaken) return;
      c.lo[Gpr.RAX] = lo; c.hi[Gpr.RAX] = 0;
      c.lo[Gpr.RDX] = c.vHi; c.hi[Gpr.RDX] = 0;
      c.lo[Gpr.RCX] = getTscAux(c); c.hi[Gpr.RCX] = 0;
      return;
    }
    if ((c.cr4 & CR4_TSD) !== 0 && c.cpl !== 0) throw gp0('RDTSCP with CR4.TSD = 1 at CPL > 0');
    const t = tscAt(c, idx);
    c.lo[Gpr.RAX] = t | 0; c.hi[Gpr.RAX] = 0;
    c.lo[Gpr.RDX] = Math.floor(t / TWO32) | 0; c.hi[Gpr.RDX] = 0;
    c.lo[Gpr.RCX] = getTscAux(c); c.hi[Gpr.RCX] = 0;
  };
}

// ---- UD0, UD1, UD2 ------------------------------------------------------------------------------
/** Raise #UD (SDM vol. 2B UD: "generates an invalid opcode exception"); operands are not read. */
function undefinedOpcode(d: DecodedInsn): Op {
  const what = d.mnemonic === Mnemonic.Ud0 ? 'UD0' : d.mnemonic === Mnemonic.Ud1 ? 'UD1' : 'UD2';
  d.endsBlock = true;
  d.setsRip = false;
  return () => { throw ud(what); };
}

export const systemHandlers: TranslatorTable = {
  [Mnemonic.Cpuid]: cpuid,
  [Mnemonic.Rdtsc]: rdtsc,
  [Mnemonic.Rdtscp]: rdtscp,
  [Mnemonic.Ud0]: undefinedOpcode,
  [Mnemonic.Ud1]: undefinedOpcode,
  [Mnemonic.Ud2]: undefinedOpcode,
};
