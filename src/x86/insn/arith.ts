/**
 * Flag-setting arithmetic kernels shared by every instruction group (SDM vol. 1 §3.4.3.1,
 * appendix A for which flags each instruction sets). See state.ts for the flag layout.
 *
 * Narrow kernels take values of `size` bytes (8/16-bit zero-extended, 32-bit int32) and return
 * the result (callers truncate on write). 64-bit kernels take halves, return the low half and
 * leave the high half in `c.vHi`.
 */
import type { Cpu } from '../cpu';

const TWO32 = 4294967296;

/** Shift that moves the sign bit of a `size`-byte value to bit 31. */
export function signShift(size: number): number {
  return 32 - 8 * size;
}

/** Flags of a result of `size` bytes with explicit carry vector (add/sub). */
function setArith(c: Cpu, r: number, cv: number, sh: number): void {
  const x = (r << sh) >> sh;
  c.fRes = x;
  c.fSgn = x;
  c.fPar = r;
  c.fCO = cv << sh;
  c.fAux = cv;
}

/** Flags of a logical result (CF = OF = 0; AF left clear, the SDM leaves it undefined). */
export function setLogic(c: Cpu, r: number, size: number): void {
  const sh = 32 - 8 * size;
  const x = (r << sh) >> sh;
  c.fRes = x;
  c.fSgn = x;
  c.fPar = r;
  c.fCO = 0;
  c.fAux = 0;
}

/** Set ZF, SF, PF from a result of `size` bytes, leaving CF, OF and AF to the caller. */
export function setSzp(c: Cpu, r: number, size: number): void {
  const sh = 32 - 8 * size;
  const x = (r << sh) >> sh;
  c.fRes = x;
  c.fSgn = x;
  c.fPar = r;
}

export function setLogic64(c: Cpu, lo: number, hi: number): void {
  c.fRes = lo | hi;
  c.fSgn = hi;
  c.fPar = lo;
  c.fCO = 0;
  c.fAux = 0;
}

export function setSzp64(c: Cpu, lo: number, hi: number): void {
  c.fRes = lo | hi;
  c.fSgn = hi;
  c.fPar = lo;
}

// ---- narrow (1, 2, 4 bytes) ------------------------------------------------------------------
export function add(c: Cpu, a: number, b: number, size: number): number {
  const r = (a + b) | 0;
  setArith(c, r, (a & b) | ((a | b) & ~r), 32 - 8 * size);
  return r;
}

export function adc(c: Cpu, a: number, b: number, size: number): number {
  const r = (a + b + (c.fCO >>> 31)) | 0;
  setArith(c, r, (a & b) | ((a | b) & ~r), 32 - 8 * size);
  return r;
}

export function sub(c: Cpu, a: number, b: number, size: number): number {
  const r = (a - b) | 0;
  setArith(c, r, (~a & b) | (~(a ^ b) & r), 32 - 8 * size);
  return r;
}

export function sbb(c: Cpu, a: number, b: number, size: number): number {
  const r = (a - b - (c.fCO >>> 31)) | 0;
  setArith(c, r, (~a & b) | (~(a ^ b) & r), 32 - 8 * size);
  return r;
}

/** INC/DEC: like add/sub of 1 but CF is kept. */
export function inc(c: Cpu, a: number, size: number): number {
  const cf = c.fCO >>> 31;
  const r = (a + 1) | 0;
  const sh = 32 - 8 * size;
  setArith(c, r, a & ~r, sh);
  const of = (c.fCO ^ (c.fCO << 1)) >>> 31;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  return r;
}

export function dec(c: Cpu, a: number, size: number): number {
  const cf = c.fCO >>> 31;
  const r = (a - 1) | 0;
  const sh = 32 - 8 * size;
  setArith(c, r, ~a & r, sh);
  const of = (c.fCO ^ (c.fCO << 1)) >>> 31;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  return r;
}

export function and(c: Cpu, a: number, b: number, size: number): number {
  const r = a & b;
  setLogic(c, r, size);
  return r;
}
export function or(c: Cpu, a: number, b: number, size: number): number {
  const r = a | b;
  setLogic(c, r, size);
  return r;
}
export function xor(c: Cpu, a: number, b: number, size: number): number {
  const r = a ^ b;
  setLogic(c, r, size);
  return r;
}

// ---- 64-bit ----------------------------------------------------------------------------------
function setArith64(c: Cpu, lo: number, hi: number, cvLo: number, cvHi: number): void {
  c.fRes = lo | hi;
  c.fSgn = hi;
  c.fPar = lo;
  c.fCO = cvHi;
  c.fAux = cvLo;
}

export function add64(c: Cpu, aLo: number, aHi: number, bLo: number, bHi: number, cin = 0): number {
  const s = (aLo >>> 0) + (bLo >>> 0) + cin;
  const lo = s | 0;
  const hi = (aHi + bHi + (s >= TWO32 ? 1 : 0)) | 0;
  setArith64(c, lo, hi, (aLo & bLo) | ((aLo | bLo) & ~lo), (aHi & bHi) | ((aHi | bHi) & ~hi));
  c.vHi = hi;
  return lo;
}

export function adc64(c: Cpu, aLo: number, aHi: number, bLo: number, bHi: number): number {
  return add64(c, aLo, aHi, bLo, bHi, c.fCO >>> 31);
}

export function sub64(c: Cpu, aLo: number, aHi: number, bLo: number, bHi: number, bin = 0): number {
  const s = (aLo >>> 0) - (bLo >>> 0) - bin;
  const lo = s | 0;
  const hi = (aHi - bHi - (s < 0 ? 1 : 0)) | 0;
  setArith64(c, lo, hi, (~aLo & bLo) | (~(aLo ^ bLo) & lo), (~aHi & bHi) | (~(aHi ^ bHi) & hi));
  c.vHi = hi;
  return lo;
}

export function sbb64(c: Cpu, aLo: number, aHi: number, bLo: number, bHi: number): number {
  return sub64(c, aLo, aHi, bLo, bHi, c.fCO >>> 31);
}

export function inc64(c: Cpu, aLo: number, aHi: number): number {
  const cf = c.fCO >>> 31;
  const lo = add64(c, aLo, aHi, 1, 0);
  const of = (c.fCO ^ (c.fCO << 1)) >>> 31;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  return lo;
}

export function dec64(c: Cpu, aLo: number, aHi: number): number {
  const cf = c.fCO >>> 31;
  const lo = sub64(c, aLo, aHi, 1, 0);
  const of = (c.fCO ^ (c.fCO << 1)) >>> 31;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  return lo;
}

export function and64(c: Cpu, aLo: number, aHi: number, bLo: number, bHi: number): number {
  const lo = aLo & bLo, hi = aHi & bHi;
  setLogic64(c, lo, hi);
  c.vHi = hi;
  return lo;
}
export function or64(c: Cpu, aLo: number, aHi: number, bLo: number, bHi: number): number {
  const lo = aLo | bLo, hi = aHi | bHi;
  setLogic64(c, lo, hi);
  c.vHi = hi;
  return lo;
}
export function xor64(c: Cpu, aLo: number, aHi: number, bLo: number, bHi: number): number {
  const lo = aLo ^ bLo, hi = aHi ^ bHi;
  setLogic64(c, lo, hi);
  c.vHi = hi;
  return lo;
}

// ---- conditions (SDM vol. 1 appendix B) --------------------------------------------------------
/** Evaluate condition code `cc` (0..15 as in the Jcc/SETcc/CMOVcc opcode low nibble). */
export function condition(c: Cpu, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = ((c.fCO ^ (c.fCO << 1)) >>> 31) === 1; break; // O
    case 1: r = c.fCO < 0; break; // B/C
    case 2: r = c.fRes === 0; break; // Z
    case 3: r = c.fCO < 0 || c.fRes === 0; break; // BE
    case 4: r = c.fSgn < 0; break; // S
    case 5: r = c.pf === 1; break; // P
    case 6: r = (c.fSgn < 0) !== (((c.fCO ^ (c.fCO << 1)) >>> 31) === 1); break; // L
    default: r = c.fRes === 0 || (c.fSgn < 0) !== (((c.fCO ^ (c.fCO << 1)) >>> 31) === 1); break; // LE
  }
  return (cc & 1) === 0 ? r : !r;
}
