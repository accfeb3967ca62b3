/**
 * Time in VMX non-root operation: RDTSC/RDTSCP exiting, TSC offsetting and scaling (SDM vol. 3C
 * §25.3 "RDTSC", "RDTSCP", "RDMSR"), and PAUSE / PAUSE-loop exiting (§25.1.3 "PAUSE") on the
 * deterministic clock.
 */
import type { Cpu } from '../x86/cpu';
import type { DecodedInsn } from '../x86/decoded';
import { gp0, ud } from '../x86/exceptions';
import { InsnExit } from '../x86/vmxInsnHooks';
import { Exit } from './exitReasons';
import type { VmxEngine } from './engine';
import { F, P_PAUSE, P_RDTSC, P_TSC_OFFSETTING, S_PLE, S_RDTSCP, S_TSC_SCALING, insnExit, vmcsOf } from './insnExitCore';

const TWO32 = 4294967296;
const CR4_TSD = 1 << 2;

const limb = new Float64Array(8);

/** High half of guestTsc's result. */
let resultHi = 0;

/**
 * The TSC the guest reads (§25.3): with "use TSC offsetting" the TSC plus the TSC offset (signed
 * 64-bit addition, modulo 2^64); with "use TSC scaling" too, the TSC is first multiplied by the
 * TSC multiplier and shifted right by 48 (bits 111:48 of the 128-bit product). Without
 * offsetting the value is the TSC. Returns the low half; the high half in c.vHi.
 */
export function guestTsc(engine: VmxEngine, c: Cpu, lo: number, hi: number): number {
  if ((engine.proc & P_TSC_OFFSETTING) === 0) {
    c.vHi = hi;
    return lo;
  }
  const v = vmcsOf(engine);
  if ((engine.proc2 & S_TSC_SCALING) !== 0) {
    lo = scale48(lo, hi, v.lo[F.tscMultiplier], v.hi[F.tscMultiplier]);
    hi = resultHi;
  }
  const s = (lo >>> 0) + (v.lo[F.tscOffset] >>> 0);
  c.vHi = (hi + v.hi[F.tscOffset] + (s >= TWO32 ? 1 : 0)) | 0;
  return s | 0;
}

/** The high half of scale48's last result. */
export function scale48Hi(): number {
  return resultHi;
}

/** Bits 111:48 of the unsigned product (aHi:aLo) * (bHi:bLo), in 16-bit limbs; high half in resultHi. */
export function scale48(aLo: number, aHi: number, bLo: number, bHi: number): number {
  const a0 = aLo & 0xffff, a1 = aLo >>> 16, a2 = aHi & 0xffff, a3 = aHi >>> 16;
  const b0 = bLo & 0xffff, b1 = bLo >>> 16, b2 = bHi & 0xffff, b3 = bHi >>> 16;
  limb[0] = a0 * b0;
  limb[1] = a0 * b1 + a1 * b0;
  limb[2] = a0 * b2 + a1 * b1 + a2 * b0;
  limb[3] = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  limb[4] = a1 * b3 + a2 * b2 + a3 * b1;
  limb[5] = a2 * b3 + a3 * b2;
  limb[6] = a3 * b3;
  limb[7] = 0;
  let carry = 0;
  for (let k = 0; k < 8; k++) {
    const t = limb[k] + carry;
    limb[k] = t % 65536;
    carry = Math.floor(t / 65536);
  }
  resultHi = (limb[5] | (limb[6] << 16)) | 0;
  return (limb[3] | (limb[4] << 16)) | 0;
}

/**
 * RDTSC/RDTSCP: RDTSCP is #UD when "enable RDTSCP" is 0 (§25.3; before anything else); CR4.TSD
 * at CPL > 0 is #GP(0) (privilege, before the exit, §25.1.1); "RDTSC exiting" makes both exit
 * (RDTSCP: exit reason 51, §25.1.3); otherwise the guest TSC. `tsc` is the processor's TSC.
 */
export function timeStamp(engine: VmxEngine, c: Cpu, d: DecodedInsn, reason: number, tsc: number): number {
  const p = reason === InsnExit.Rdtscp;
  if (p && (engine.proc2 & S_RDTSCP) === 0) throw ud('RDTSCP with "enable RDTSCP" = 0 in VMX non-root operation');
  if ((c.cr4 & CR4_TSD) !== 0 && c.cpl !== 0) throw gp0(`${p ? 'RDTSCP' : 'RDTSC'} with CR4.TSD = 1 at CPL > 0`);
  if ((engine.proc & P_RDTSC) !== 0) {
    insnExit(engine, d, p ? Exit.Rdtscp : Exit.Rdtsc, 0, 0, 0);
    return 0;
  }
  return guestTsc(engine, c, tsc % TWO32 | 0, Math.floor(tsc / TWO32) | 0);
}

// ---- PAUSE ---------------------------------------------------------------------------------

/** PAUSE-loop state of one engine (per logical processor). */
export interface PauseLoop {
  /** TSC-rate time of the previous PAUSE at CPL 0, or -1 (none since VM entry / since the last PLE exit). */
  last: number;
  /** Time of the PAUSE that was the first of the current loop. */
  first: number;
  /** The VMCS the times belong to (another VMCS means another VM entry). */
  vmcs: unknown;
  /** engine.entries at the previous PAUSE (another value: a VM entry happened since). */
  entry: number;
}

/**
 * The engine's count of successful VM entries, if it keeps one (`entries`, incremented by VM
 * entry); without it only a change of VMCS or a PAUSE-loop exit starts a new loop.
 */
function entriesOf(engine: VmxEngine): number {
  return (engine as unknown as { entries?: number }).entries ?? 0;
}

export function newPauseLoop(): PauseLoop {
  return { last: -1, first: 0, vmcs: null, entry: 0 };
}

/**
 * PAUSE (§25.1.3): "PAUSE exiting" makes every PAUSE exit. Otherwise, with "PAUSE-loop exiting"
 * and CPL = 0: a PAUSE more than PLE_Gap TSC ticks after the previous one (or the first since
 * VM entry) starts a loop; a PAUSE more than PLE_Window ticks after the loop's first exits.
 * Time is the deterministic clock: instructions retired times the TSC ticks per instruction.
 * The first PAUSE after a VM exit caused by PAUSE-loop exiting starts a new loop.
 */
export function pause(engine: VmxEngine, s: PauseLoop, c: Cpu, d: DecodedInsn): boolean {
  if ((engine.proc & P_PAUSE) !== 0) return insnExit(engine, d, Exit.Pause, 0, 0, 0);
  if ((engine.proc2 & S_PLE) === 0 || c.cpl !== 0) return false;
  const v = vmcsOf(engine);
  const now = (c.icount + d.blockIndex) * c.tscPerInstruction;
  const entry = entriesOf(engine);
  if (s.vmcs !== v || s.entry !== entry || s.last < 0 || now - s.last > (v.lo[F.pleGap] >>> 0)) {
    s.first = now;
  } else if (now - s.first > (v.lo[F.pleWindow] >>> 0)) {
    s.last = -1;
    return insnExit(engine, d, Exit.Pause, 0, 0, 0);
  }
  s.last = now;
  s.vmcs = v;
  s.entry = entry;
  return false;
}
