/**
 * RDPID, RDRAND/RDSEED, MONITOR/MWAIT, LFENCE/SFENCE/MFENCE, CLFLUSH/CLFLUSHOPT and
 * RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE (SDM vol. 2 instruction pages).
 *
 * Each checks that CPUID reports its feature (else #UD), so a custom CPUID model without the
 * feature gets the #UD real hardware gives.
 *
 * RDRAND and RDSEED are deterministic: a xoshiro128** generator per processor, seeded by
 * setRandomSeed (default seed fixed), so runs reproduce.
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { CpuidModel } from '../cpuid';
import { CR4_FSGSBASE, cpuidBit, isCanonical, maxLinearBits } from '../controlRegisters';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import { gp0, ud } from '../exceptions';
import { Access } from '../mmu';
import type { AddrFn, Op } from '../operands';
import { linearAddress, segmented } from '../operands';
import { Gpr, Seg } from '../registers';
import type { TranslatorTable } from '../translator';
import { InsnExit } from '../vmxInsnHooks';
import { getTscAux } from './system';

// ---- CPUID feature checks, cached per CPUID model ------------------------------------------------
const FEATURES = {
  RDPID: [7, 0, 'ecx', 22],
  RDRAND: [1, 0, 'ecx', 30],
  RDSEED: [7, 0, 'ebx', 18],
  MONITOR: [1, 0, 'ecx', 3],
  CLFSH: [1, 0, 'edx', 19],
  CLFLUSHOPT: [7, 0, 'ebx', 23],
  FSGSBASE: [7, 0, 'ebx', 0],
  MWAIT_INT_BREAK: [5, 0, 'ecx', 1],
} as const;
type Feature = keyof typeof FEATURES;
const featureCache = new WeakMap<CpuidModel, Map<Feature, boolean>>();

function has(c: Cpu, f: Feature): boolean {
  let m = featureCache.get(c.cpuid);
  if (m === undefined) featureCache.set(c.cpuid, (m = new Map()));
  let v = m.get(f);
  if (v === undefined) {
    const [leaf, sub, reg, bit] = FEATURES[f];
    v = cpuidBit(c, leaf, sub, reg, bit);
    m.set(f, v);
  }
  return v;
}

function need(c: Cpu, f: Feature, what: string): void {
  if (!has(c, f)) throw ud(`${what}: CPUID does not report ${f}`);
}

// ---- RDPID --------------------------------------------------------------------------------------
/** RDPID (SDM vol. 2B): the register = IA32_TSC_AUX (zero-extended); any CPL. */
function rdpid(d: DecodedInsn): Op | null {
  const g = gprOf(d.opRegs[0]);
  if (g === null) return null;
  const r = g.index;
  return (c) => {
    need(c, 'RDPID', 'RDPID');
    if (c.nonRoot) c.vmxInsn!.rdpid(c); // #UD unless "enable RDTSCP" (SDM vol. 3C §25.3)
    c.lo[r] = getTscAux(c);
    c.hi[r] = 0;
  };
}

// ---- RDRAND / RDSEED -----------------------------------------------------------------------------
const rngState = new WeakMap<Cpu, Uint32Array>();

/** Seed the processor's RDRAND/RDSEED generator (splitmix32 expands the seed into 128 bits). */
export function setRandomSeed(c: Cpu, seed: number): void {
  const s = new Uint32Array(4);
  let x = seed >>> 0;
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    s[i] = (z ^ (z >>> 16)) >>> 0;
  }
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  rngState.set(c, s);
}

const DEFAULT_SEED = 0x76747821; // "vtx!"

/** Next 32 random bits (xoshiro128**). */
function next32(c: Cpu): number {
  let s = rngState.get(c);
  if (s === undefined) {
    setRandomSeed(c, DEFAULT_SEED);
    s = rngState.get(c)!;
  }
  const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9);
  const t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return r | 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * RDRAND / RDSEED (SDM vol. 2B): a random value of the operand size; CF = 1 (a value was
 * available), OF, SF, ZF, AF, PF = 0.
 */
function rdrand(feature: 'RDRAND' | 'RDSEED') {
  return (d: DecodedInsn): Op | null => {
    const g = gprOf(d.opRegs[0]);
    if (g === null) return null;
    const r = g.index, size = g.size;
    const reason = feature === 'RDRAND' ? InsnExit.Rdrand : InsnExit.Rdseed;
    return (c) => {
      need(c, feature, feature);
      if (c.nonRoot && c.vmxInsn!.instruction(c, d, reason)) return; // RDRAND/RDSEED exiting (SDM vol. 3C §25.1.3)
      if (size === 8) {
        c.lo[r] = next32(c);
        c.hi[r] = next32(c);
      } else if (size === 4) {
        c.lo[r] = next32(c);
        c.hi[r] = 0;
      } else {
        c.lo[r] = (c.lo[r] & ~0xffff) | (next32(c) & 0xffff);
      }
      c.fRes = 1; // ZF = 0
      c.fSgn = 0; // SF = 0
      c.fPar = 1; // PF = 0 (odd parity)
      c.fAux = 0; // AF = 0
      c.setCfOf(1, 0);
    };
  };
}

// ---- MONITOR / MWAIT -------------------------------------------------------------------------------
function monitorAddress(d: DecodedInsn): AddrFn {
  let seg = d.segPrefix >= 0 ? d.segPrefix : Seg.DS;
  if (d.bitness === 64 && seg !== Seg.FS && seg !== Seg.GS) seg = Seg.DS;
  const asz = d.addrSize;
  const off: AddrFn = asz === 8
    ? (c) => { c.linHi = c.hi[Gpr.RAX]; return c.lo[Gpr.RAX]; }
    : asz === 4 ? (c) => { c.linHi = 0; return c.lo[Gpr.RAX]; }
    : (c) => { c.linHi = 0; return c.lo[Gpr.RAX] & 0xffff; };
  return segmented(d.bitness, seg, 1, off);
}

/**
 * MONITOR (SDM vol. 2B): arms address monitoring at [seg:rAX]. #UD at CPL > 0, #GP(0) for
 * ECX != 0 (no extensions) or a bad address; the address is translated like a read (#PF).
 * No state is kept: MWAIT here never waits for the monitored line.
 */
function monitor(d: DecodedInsn): Op {
  const addr = monitorAddress(d);
  return (c) => {
    need(c, 'MONITOR', 'MONITOR');
    if (c.cpl !== 0) throw ud('MONITOR at CPL > 0');
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.Monitor)) return; // MONITOR exiting (SDM vol. 3C §25.1.3)
    if (c.lo[Gpr.RCX] !== 0) throw gp0('MONITOR: unsupported extensions in ECX');
    const a = addr(c);
    c.translate(a, c.linHi, Access.Read);
  };
}

/**
 * MWAIT (SDM vol. 2B): #UD at CPL > 0; #GP(0) for ECX[31:1] != 0 or ECX[0] = 1 without the
 * interrupt-break extension. Executes as a wake-up that happened at once (the SDM allows MWAIT
 * to return for implementation-specific reasons), i.e. a NOP.
 */
function mwait(d: DecodedInsn): Op {
  d.endsBlock = true;
  d.setsRip = false;
  return (c) => {
    need(c, 'MONITOR', 'MWAIT');
    if (c.cpl !== 0) throw ud('MWAIT at CPL > 0');
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.Mwait)) return; // MWAIT exiting (SDM vol. 3C §25.1.3)
    const ecx = c.lo[Gpr.RCX];
    if ((ecx & ~1) !== 0 || ((ecx & 1) !== 0 && !has(c, 'MWAIT_INT_BREAK'))) throw gp0('MWAIT: invalid extensions in ECX');
  };
}

// ---- fences and cache-line flushes -----------------------------------------------------------------
/** LFENCE, SFENCE, MFENCE: ordering only; the model executes in program order (SDM vol. 2A/2B). */
const fence = (): Op => () => {};

/**
 * CLFLUSH / CLFLUSHOPT (SDM vol. 2A): there is no cache, but the operand is checked like a byte
 * read (segment, canonical form, page translation).
 */
function clflush(feature: 'CLFSH' | 'CLFLUSHOPT') {
  return (d: DecodedInsn): Op | null => {
    if (d.mem === null) return null;
    const a = linearAddress(d, d.mem, 1);
    return (c) => {
      need(c, feature, feature);
      const lo = a(c);
      c.translate(lo, c.linHi, Access.Read);
    };
  };
}

// ---- RDFSBASE / RDGSBASE / WRFSBASE / WRGSBASE ------------------------------------------------------
/**
 * SDM vol. 2B RDFSBASE/WRFSBASE: 64-bit mode only; #UD when CR4.FSGSBASE = 0. A 32-bit operand
 * reads the low half (zero-extended) or writes a zero-extended base; a 64-bit write must be
 * canonical (#GP(0)).
 */
function fsgsbase(seg: number, write: boolean) {
  return (d: DecodedInsn): Op | null => {
    if (d.bitness !== 64) return null;
    const g = gprOf(d.opRegs[0]);
    if (g === null) return null;
    const r = g.index, wide = g.size === 8;
    const check = (c: Cpu): void => {
      if ((c.cr4 & CR4_FSGSBASE) === 0) throw ud('FSGSBASE instruction with CR4.FSGSBASE = 0');
    };
    if (!write) {
      return wide
        ? (c) => { check(c); c.lo[r] = c.segBaseLo[seg]; c.hi[r] = c.segBaseHi[seg]; }
        : (c) => { check(c); c.lo[r] = c.segBaseLo[seg]; c.hi[r] = 0; };
    }
    return wide
      ? (c) => {
        check(c);
        if (!isCanonical(c.hi[r], maxLinearBits(c))) throw gp0('WRFSBASE/WRGSBASE: non-canonical base');
        c.segBaseLo[seg] = c.lo[r];
        c.segBaseHi[seg] = c.hi[r];
      }
      : (c) => { check(c); c.segBaseLo[seg] = c.lo[r]; c.segBaseHi[seg] = 0; };
  };
}

export const sysMiscHandlers: TranslatorTable = {
  [Mnemonic.Rdpid]: rdpid,
  [Mnemonic.Rdrand]: rdrand('RDRAND'),
  [Mnemonic.Rdseed]: rdrand('RDSEED'),
  [Mnemonic.Monitor]: monitor,
  [Mnemonic.Mwait]: mwait,
  [Mnemonic.Lfence]: fence,
  [Mnemonic.Sfence]: fence,
  [Mnemonic.Mfence]: fence,
  [Mnemonic.Clflush]: clflush('CLFSH'),
  [Mnemonic.Clflushopt]: clflush('CLFLUSHOPT'),
  [Mnemonic.Rdfsbase]: fsgsbase(Seg.FS, false),
  [Mnemonic.Rdgsbase]: fsgsbase(Seg.GS, false),
  [Mnemonic.Wrfsbase]: fsgsbase(Seg.FS, true),
  [Mnemonic.Wrgsbase]: fsgsbase(Seg.GS, true),
};
