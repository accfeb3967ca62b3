/**
 * x87 register stack and the checks every x87 instruction shares (SDM vol. 1 chapter 8):
 * physical registers and tags (§8.1.2, §8.1.7), merging exception flags into the FSW with the
 * unmasked-exception rules (§8.4-8.5, see commit()), precision/rounding control, #NM and #MF
 * (SDM vol. 3A §2.5 table 2-2), and the last instruction/data pointers (§8.1.8-8.1.9).
 */
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { CpuException, Vector } from '../exceptions';
import { effectiveAddress, type AddrFn } from '../operands';
import type { FpuState } from './state';
import * as softfloat from './softfloat';
import * as softfloatOps from './softfloatOps';
import * as softfloatConvert from './softfloatConvert';

/**
 * The soft-float as one plain object: property loads instead of the module namespaces'
 * accessors (hot path). Other fpu files copy it (and the helpers below) into local consts.
 */
export const sf = { ...softfloat, ...softfloatOps, ...softfloatConvert };
export const R = softfloat.R;
export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20, SF = 0x40, C1 = 0x200;
export const C0 = 0x100, C2 = 0x400, C3 = 0x4000, ES = 0x80, B = 0x8000;
export const TWO32 = 4294967296;

// ---- state helpers ---------------------------------------------------------------------------
export function phys(f: FpuState, i: number): number { return (f.top + i) & 7; }
export function isEmpty(f: FpuState, p: number): boolean { return ((f.ftw >> (2 * p)) & 3) === 3; }

/** Tag of a register's contents (SDM vol. 1 §8.1.7). */
export function tagOf(e: number, h: number, l: number): number {
  if (e === 0x7fff) return 2;
  if (e === 0) return h === 0 && l === 0 ? 1 : 2;
  return h & 0x80000000 ? 0 : 2;
}

export function writeReg(f: FpuState, p: number, s: number, e: number, h: number, l: number): void {
  f.signExp[p] = (s << 15) | e;
  f.sigHi[p] = h;
  f.sigLo[p] = l;
  f.ftw = (f.ftw & ~(3 << (2 * p))) | (tagOf(e, h, l) << (2 * p));
}
export function writeResult(f: FpuState, p: number): void { writeReg(f, p, R.s, R.e, R.h, R.l); }
export function setEmpty(f: FpuState, p: number): void { f.ftw |= 3 << (2 * p); }
export function pop(f: FpuState): void { setEmpty(f, f.top); f.top = (f.top + 1) & 7; }

/** Full status word with TOP (SDM vol. 1 §8.1.3). */
export function statusWord(f: FpuState): number { return (f.fsw & ~0x3800) | (f.top << 11); }


/**
 * Merge exception flags `x` (softfloat fx) into FSW. C1 takes x's C1 (rounded up / stack
 * overflow) — the instructions that define C1 this way. Returns true when an unmasked IE/ZE/DE
 * means the destination must not be written.
 */
export function commit(f: FpuState, x: number): boolean {
  const unmasked = x & ~f.fcw & 0x3f;
  if (unmasked & (IE | ZE | DE)) {
    // Pre-computation exception unmasked (SDM vol. 1 §4.9.2, §8.5): the operation does not
    // happen, so only the operand exceptions are flagged (measured: no PE/UE/C1 then).
    // C1 is cleared unless the exception is a stack overflow (measured: silicon clears C1 whenever
    // an unmasked exception is reported).
    f.fsw = (f.fsw & ~C1) | (x & (IE | ZE | DE | SF)) | (x & SF ? x & C1 : 0) | ES | B;
    recordFault(f);
    return true;
  }
  f.fsw = (f.fsw & ~C1) | (x & (0x7f | C1));
  if (unmasked) { f.fsw |= ES | B; recordFault(f); }
  return false;
}

export function pc(f: FpuState): number {
  const p = (f.fcw >> 8) & 3;
  return p === 0 ? 24 : p === 2 ? 53 : 64;
}
export function rc(f: FpuState): number { return (f.fcw >> 10) & 3; }

// ---- exceptions -----------------------------------------------------------------------------
export function nm(): CpuException { return new CpuException(Vector.NM, undefined, 'x87 instruction with CR0.EM or CR0.TS set'); }
export function mf(): CpuException { return new CpuException(Vector.MF, undefined, 'pending unmasked x87 exception'); }

/** The checks before every ESC instruction: #NM, then (waiting forms) a pending #MF. */
export function check(c: Cpu, waiting: boolean): void {
  if (c.cr0 & 0xc) throw nm();
  if (waiting && (c.fpu.fsw & ES) !== 0 && (c.cr0 & 0x20) !== 0) throw mf();
}

// ---- instruction/data pointers (SDM vol. 1 §8.1.8-8.1.9) --------------------------------------
function fopOf(d: DecodedInsn): number {
  const b = d.bytes;
  for (let i = 0; i < b.length - 1; i++) {
    if (b[i] >= 0xd8 && b[i] <= 0xdf) return ((b[i] & 7) << 8) | b[i + 1];
  }
  return 0;
}

export interface Ctx {
  d: DecodedInsn;
  fop: number;
  ipLo: number;
  ipHi: number;
  /** Effective address of the memory operand (offset), or null. */
  ea: AddrFn | null;
  seg: number;
}

export function ctx(d: DecodedInsn): Ctx {
  return {
    d, fop: fopOf(d), ipLo: d.ipLo, ipHi: d.ipHi,
    ea: d.mem ? effectiveAddress(d.mem) : null, seg: d.mem ? d.mem.seg : 0,
  };
}

/**
 * Record the last instruction pointer for a non-control instruction. Like the processors that
 * report CPUID.(EAX=07H,ECX=0):EBX[6] FDP_EXCPTN_ONLY and EBX[13] "FCS/FDS deprecated" (this
 * host's silicon), FCS and FDS are stored as 0, and FOP and FDP are recorded only when the
 * instruction raises an unmasked exception (SDM vol. 1 §8.1.8-8.1.9; see commit()).
 */
let curX: Ctx | null = null;
let curC: Cpu | null = null;
export function recordPointers(c: Cpu, x: Ctx): void {
  const f = c.fpu;
  f.fipLo = x.ipLo; f.fipHi = x.ipHi; f.fcs = 0;
  curX = x; curC = c;
}

export function recordFault(f: FpuState): void {
  const x = curX, c = curC;
  if (x === null || c === null) return;
  f.fop = x.fop;
  // Without a memory operand the data pointer keeps its previous value (measured on silicon).
  if (x.ea !== null) { f.fdpLo = x.ea(c); f.fdpHi = c.linHi; f.fds = 0; }
}
