/**
 * Shifts and rotates: SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR, SHLD, SHRD (SDM vol. 2B, "SAL/SAR/
 * SHL/SHR—Shift", "RCL/RCR/ROL/ROR—Rotate", "SHLD—Double Precision Shift Left", "SHRD—Double
 * Precision Shift Right").
 *
 * Counts are masked to 5 bits (6 bits for 64-bit operands); RCL/RCR of 8/16-bit operands then
 * rotate by the masked count modulo 9/17. A masked count of 0 changes neither the destination
 * nor any flag, but a memory destination is still accessed for writing (a read-only page faults,
 * as on Intel hardware). Flags the SDM leaves undefined (OF for counts other than 1, AF after
 * shifts, CF of 8/16-bit SHL/SHR beyond the operand width, SHLD/SHRD of 16-bit operands with
 * counts above 16) are produced the way Intel hardware produces them (measured on a Xeon host).
 *
 * Kernels take the operand value (8/16-bit zero-extended, 32-bit int32, 64-bit as two halves),
 * a masked count that is not zero, and return the result (64-bit: low half, high in `c.vHi`).
 */
import { Mnemonic, OpKind } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import type { Op } from '../operands';
import { operandRmw, regReader, regWriter } from '../operands';
import type { TranslatorTable } from '../translator';

/** Narrow kernel: `v` of `size` bytes, count 1..31. */
type Kern = (c: Cpu, v: number, n: number, size: number) => number;
/** 64-bit kernel: value as halves, count 1..63; returns the low half, high half in c.vHi. */
type Kern64 = (c: Cpu, lo: number, hi: number, n: number) => number;
/** Double-precision narrow kernel (SHLD/SHRD): destination `v`, source `s`. */
type DKern = (c: Cpu, v: number, s: number, n: number, size: number) => number;
type DKern64 = (c: Cpu, lo: number, hi: number, sLo: number, sHi: number, n: number) => number;

const MASKS = [0, 0xff, 0xffff, 0, -1];

// ---- 64-bit helpers on halves (k in 0..64); the high half of the result goes to `rHi` -------
let rHi = 0;

function shl64raw(lo: number, hi: number, k: number): number {
  if (k === 0) { rHi = hi; return lo; }
  if (k < 32) { rHi = (hi << k) | (lo >>> (32 - k)); return lo << k; }
  rHi = k < 64 ? lo << (k - 32) : 0;
  return 0;
}

function shr64raw(lo: number, hi: number, k: number): number {
  if (k === 0) { rHi = hi; return lo; }
  if (k < 32) { rHi = hi >>> k; return (lo >>> k) | (hi << (32 - k)); }
  rHi = 0;
  return k < 64 ? (hi >>> (k - 32)) | 0 : 0;
}

/** Bit `k` (0..63) of a 64-bit value. */
function bit64(lo: number, hi: number, k: number): number {
  return k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1;
}

/** ZF, SF, PF of a narrow result (`sh` = 32 - width). */
function szp(c: Cpu, r: number, sh: number): void {
  const x = (r << sh) >> sh;
  c.fRes = x;
  c.fSgn = x;
  c.fPar = r;
}

function szp64(c: Cpu, lo: number, hi: number): void {
  c.fRes = lo | hi;
  c.fSgn = hi;
  c.fPar = lo;
}

// ---- SHL/SAL, SHR, SAR -----------------------------------------------------------------------
// CF is the last bit shifted out; OF (defined for count 1) is MSB(result) XOR CF for SHL, the
// original MSB for SHR and 0 for SAR. For larger counts Intel hardware sets OF as the first
// one-bit step would (SHL: the original MSB XOR the bit below it), and clears AF (measured).

const shl: Kern = (c, v, n, size) => {
  const sh = 32 - 8 * size;
  const r = v << n;
  const cf = ((v << sh) >>> (32 - n)) & 1;
  const of = ((v << sh) ^ (v << (sh + 1))) >>> 31;
  szp(c, r, sh);
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  c.fAux = 0;
  return r;
};

const shr: Kern = (c, v, n, size) => {
  const sh = 32 - 8 * size;
  const u = size === 4 ? v >>> 0 : v;
  const r = (u >>> n) | 0;
  const cf = (u >>> (n - 1)) & 1;
  const of = (v << sh) >>> 31;
  szp(c, r, sh);
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  c.fAux = 0;
  return r;
};

const sar: Kern = (c, v, n, size) => {
  const sh = 32 - 8 * size;
  const x = (v << sh) >> sh;
  const r = x >> n;
  const cf = (x >> (n - 1)) & 1;
  szp(c, r, sh);
  c.fCO = (cf << 31) | (cf << 30);
  c.fAux = 0;
  return r;
};

const shl64: Kern64 = (c, lo, hi, n) => {
  const cf = bit64(lo, hi, 64 - n);
  const rl = shl64raw(lo, hi, n);
  const rh = rHi;
  szp64(c, rl, rh);
  c.fCO = (cf << 31) | ((cf ^ ((hi ^ (hi << 1)) >>> 31)) << 30);
  c.fAux = 0;
  c.vHi = rh;
  return rl;
};

const shr64: Kern64 = (c, lo, hi, n) => {
  const cf = bit64(lo, hi, n - 1);
  const rl = shr64raw(lo, hi, n);
  const rh = rHi;
  szp64(c, rl, rh);
  c.fCO = (cf << 31) | ((cf ^ (hi >>> 31)) << 30);
  c.fAux = 0;
  c.vHi = rh;
  return rl;
};

const sar64: Kern64 = (c, lo, hi, n) => {
  const cf = n <= 32 ? (n === 32 ? lo >>> 31 : (lo >>> (n - 1)) & 1) : (hi >> (n - 33)) & 1;
  let rl: number, rh: number;
  if (n < 32) { rl = (lo >>> n) | (hi << (32 - n)); rh = hi >> n; }
  else { rl = hi >> (n - 32); rh = hi >> 31; }
  szp64(c, rl, rh);
  c.fCO = (cf << 31) | (cf << 30);
  c.fAux = 0;
  c.vHi = rh;
  return rl;
};

// ---- ROL, ROR: only CF and OF change -----------------------------------------------------------
// ROL: CF = LSB(result), OF = MSB(result) XOR CF.  ROR: CF = MSB(result), OF = MSB XOR MSB-1.
// The rotation is by the masked count modulo the width; CF/OF are set even when that is 0.
// For counts other than 1 Intel hardware sets OF as after the first one-bit step (measured):
// ROL: MSB(src) XOR MSB-1(src); ROR: MSB(src) XOR LSB(src).

const rol: Kern = (c, v, n, size) => {
  const w = 8 * size;
  const k = n & (w - 1);
  const r = k === 0 ? v : size === 4 ? (v << k) | (v >>> (32 - k)) : ((v << k) | (v >>> (w - k))) & MASKS[size];
  const cf = r & 1;
  const t = v << (32 - w);
  c.fCO = (cf << 31) | ((cf ^ ((t ^ (t << 1)) >>> 31)) << 30);
  return r;
};

const ror: Kern = (c, v, n, size) => {
  const w = 8 * size;
  const k = n & (w - 1);
  const r = k === 0 ? v : size === 4 ? (v >>> k) | (v << (32 - k)) : ((v >>> k) | (v << (w - k))) & MASKS[size];
  const cf = (r << (32 - w)) >>> 31;
  const of = ((v << (32 - w)) >>> 31) ^ (v & 1);
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  return r;
};

const rol64: Kern64 = (c, lo, hi, n) => {
  let a = lo, b = hi, k = n;
  if (k >= 32) { a = hi; b = lo; k -= 32; }
  let rl = a, rh = b;
  if (k !== 0) { rl = (a << k) | (b >>> (32 - k)); rh = (b << k) | (a >>> (32 - k)); }
  const cf = rl & 1;
  c.fCO = (cf << 31) | ((cf ^ ((hi ^ (hi << 1)) >>> 31)) << 30);
  c.vHi = rh;
  return rl;
};

const ror64: Kern64 = (c, lo, hi, n) => {
  let a = lo, b = hi, k = n;
  if (k >= 32) { a = hi; b = lo; k -= 32; }
  let rl = a, rh = b;
  if (k !== 0) { rl = (a >>> k) | (b << (32 - k)); rh = (b >>> k) | (a << (32 - k)); }
  const cf = rh >>> 31;
  c.fCO = (cf << 31) | ((cf ^ (hi >>> 31) ^ (lo & 1)) << 30);
  c.vHi = rh;
  return rl;
};

// With an immediate count other than 1 and a register destination, Intel hardware leaves OF
// unchanged instead (measured; the memory forms use the formula above).
const rolImm: Kern = (c, v, n, size) => {
  const of = (c.fCO ^ (c.fCO << 1)) >>> 31;
  const r = rol(c, v, n, size);
  const cf = c.fCO >>> 31;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  return r;
};
const rorImm: Kern = (c, v, n, size) => {
  const of = (c.fCO ^ (c.fCO << 1)) >>> 31;
  const r = ror(c, v, n, size);
  const cf = c.fCO >>> 31;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  return r;
};
const rol64Imm: Kern64 = (c, lo, hi, n) => {
  const of = (c.fCO ^ (c.fCO << 1)) >>> 31;
  const r = rol64(c, lo, hi, n);
  const cf = c.fCO >>> 31;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  return r;
};
const ror64Imm: Kern64 = (c, lo, hi, n) => {
  const of = (c.fCO ^ (c.fCO << 1)) >>> 31;
  const r = ror64(c, lo, hi, n);
  const cf = c.fCO >>> 31;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  return r;
};

// ---- RCL, RCR: rotate through CF (width + 1 bits) ---------------------------------------------
// SDM: tempCOUNT = (COUNT & mask) MOD 9 / MOD 17 for 8/16-bit operands. OF (defined for count 1):
// RCL: MSB(result) XOR CF(after); RCR: MSB(original) XOR CF(before). For other counts Intel
// hardware sets OF as after the first one-bit step (RCL: MSB(src) XOR MSB-1(src)), and when
// tempCOUNT is 0 it changes no flag at all (measured).

const rcl: Kern = (c, v, n, size) => {
  const cf = c.fCO >>> 31;
  let r: number, ncf: number;
  if (size === 4) {
    r = (v << n) | (cf << (n - 1)) | ((v >>> 1) >>> (32 - n));
    ncf = (v >>> (32 - n)) & 1;
  } else {
    const w = 8 * size;
    const t = n % (w + 1);
    // A rotation by 0 after the modulo leaves the value and every flag as they were (measured).
    if (t === 0) return v;
    {
      const x = v | (cf << w);
      const y = (x << t) | (x >>> (w + 1 - t));
      r = y & MASKS[size];
      ncf = (y >>> w) & 1;
    }
  }
  const t0 = v << (32 - 8 * size);
  c.fCO = (ncf << 31) | ((ncf ^ ((t0 ^ (t0 << 1)) >>> 31)) << 30);
  return r;
};

const rcr: Kern = (c, v, n, size) => {
  const cf = c.fCO >>> 31;
  let r: number, ncf: number;
  if (size === 4) {
    r = (v >>> n) | (cf << (32 - n)) | (n === 1 ? 0 : v << (33 - n));
    ncf = (v >>> (n - 1)) & 1;
  } else {
    const w = 8 * size;
    const t = n % (w + 1);
    // A rotation by 0 after the modulo leaves the value and every flag as they were (measured).
    if (t === 0) return v;
    {
      const x = v | (cf << w);
      const y = (x >>> t) | (x << (w + 1 - t));
      r = y & MASKS[size];
      ncf = (y >>> w) & 1;
    }
  }
  const of = ((v << (32 - 8 * size)) >>> 31) ^ cf;
  c.fCO = (ncf << 31) | ((ncf ^ of) << 30);
  return r;
};

const rcl64: Kern64 = (c, lo, hi, n) => {
  const cf = c.fCO >>> 31;
  const ncf = bit64(lo, hi, 64 - n);
  let rl = shl64raw(lo, hi, n);
  let rh = rHi;
  const ol = shr64raw(lo, hi, 65 - n);
  rl |= ol;
  rh |= rHi;
  if (n - 1 < 32) rl |= cf << (n - 1);
  else rh |= cf << (n - 33);
  c.fCO = (ncf << 31) | ((ncf ^ ((hi ^ (hi << 1)) >>> 31)) << 30);
  c.vHi = rh;
  return rl;
};

const rcr64: Kern64 = (c, lo, hi, n) => {
  const cf = c.fCO >>> 31;
  const ncf = bit64(lo, hi, n - 1);
  let rl = shr64raw(lo, hi, n);
  let rh = rHi;
  const ol = shl64raw(lo, hi, 65 - n);
  rl |= ol;
  rh |= rHi;
  const k = 64 - n; // position of the old CF
  if (k < 32) rl |= cf << k;
  else rh |= cf << (k - 32);
  const of = (hi >>> 31) ^ cf;
  c.fCO = (ncf << 31) | ((ncf ^ of) << 30);
  c.vHi = rh;
  return rl;
};

// ---- SHLD, SHRD ---------------------------------------------------------------------------------
// CF = last bit shifted out of the destination; OF (defined for count 1) = sign change. For
// other counts Intel hardware sets OF as after the first one-bit step (SHLD: MSB(dst) XOR
// MSB-1(dst); SHRD: MSB(dst) XOR LSB(src)) and clears AF. A 16-bit count of 17..31 gives an
// undefined result; Intel hardware then shifts src:dst by count - 16, i.e. the 48-bit pattern
// dst:src:dst for SHLD and dst:src:dst read the other way for SHRD (measured).

const shld: DKern = (c, v, s, n, size) => {
  let r: number, cf: number;
  if (size === 4) {
    r = (v << n) | (s >>> (32 - n));
    cf = (v >>> (32 - n)) & 1;
  } else if (n <= 16) {
    r = ((v << n) | (s >>> (16 - n))) & 0xffff;
    cf = (v >>> (16 - n)) & 1;
  } else {
    // Count 17..31 (undefined): src:dest shifted left by n - 16, as Intel hardware does.
    const k = n - 16;
    r = ((s << k) | (v >>> (16 - k))) & 0xffff;
    cf = (s >>> (16 - k)) & 1;
  }
  const sh = 32 - 8 * size;
  szp(c, r, sh);
  const of = ((v << sh) ^ (v << (sh + 1))) >>> 31;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  c.fAux = 0;
  return r;
};

const shrd: DKern = (c, v, s, n, size) => {
  let r: number, cf: number;
  if (size === 4) {
    r = (v >>> n) | (s << (32 - n));
    cf = (v >>> (n - 1)) & 1;
  } else if (n <= 16) {
    r = ((v >>> n) | (s << (16 - n))) & 0xffff;
    cf = (v >>> (n - 1)) & 1;
  } else {
    const k = n - 16;
    r = ((s >>> k) | (v << (16 - k))) & 0xffff;
    cf = (s >>> (k - 1)) & 1;
  }
  const sh = 32 - 8 * size;
  szp(c, r, sh);
  const of = ((v << sh) >>> 31) ^ (s & 1);
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  c.fAux = 0;
  return r;
};

const shld64: DKern64 = (c, lo, hi, sLo, sHi, n) => {
  const cf = bit64(lo, hi, 64 - n);
  let rl = shl64raw(lo, hi, n);
  let rh = rHi;
  rl |= shr64raw(sLo, sHi, 64 - n);
  rh |= rHi;
  szp64(c, rl, rh);
  const of = (hi ^ (hi << 1)) >>> 31;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  c.fAux = 0;
  c.vHi = rh;
  return rl;
};

const shrd64: DKern64 = (c, lo, hi, sLo, sHi, n) => {
  const cf = bit64(lo, hi, n - 1);
  let rl = shr64raw(lo, hi, n);
  let rh = rHi;
  rl |= shl64raw(sLo, sHi, 64 - n);
  rh |= rHi;
  szp64(c, rl, rh);
  const of = (hi >>> 31) ^ (sLo & 1);
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  c.fAux = 0;
  c.vHi = rh;
  return rl;
};

// ---- translators ------------------------------------------------------------------------------

const nop: Op = () => {};

/**
 * Count operand `i`: CL (runtime) or an immediate (masked now). Returns -1 for CL, else the
 * masked immediate.
 */
function countOf(d: DecodedInsn, i: number, mask: number): number {
  return d.opKinds[i] === OpKind.Register ? -1 : d.immLo & mask;
}

/**
 * SHL/SHR/SAR/ROL/ROR/RCL/RCR r/m, 1|imm8|CL. `kImm`/`k64Imm` replace the kernels for a
 * register destination with an immediate count other than 1 (ROL/ROR, whose OF then differs).
 */
function shift(d: DecodedInsn, k0: Kern, k640: Kern64, kImm = k0, k64Imm = k640): Op {
  const size = d.opSizes[0];
  const mask = size === 8 ? 0x3f : 0x1f;
  const imm = countOf(d, 1, mask);
  const g = d.opKinds[0] === OpKind.Register ? gprOf(d.opRegs[0]) : null;
  const k = imm > 1 && g !== null ? kImm : k0;
  const k64 = imm > 1 && g !== null ? k64Imm : k640;
  if (g !== null) {
    const r = g.index;
    if (size === 8) {
      if (imm === 0) return nop;
      if (imm > 0) return (c) => { c.lo[r] = k64(c, c.lo[r], c.hi[r], imm); c.hi[r] = c.vHi; };
      return (c) => {
        const n = c.lo[1] & 0x3f;
        if (n !== 0) { c.lo[r] = k64(c, c.lo[r], c.hi[r], n); c.hi[r] = c.vHi; }
      };
    }
    if (size === 4) {
      // A 32-bit destination is written (zero-extended) even when the count is 0 (measured).
      if (imm === 0) return (c) => { c.hi[r] = 0; };
      if (imm > 0) return (c) => { c.lo[r] = k(c, c.lo[r], imm, 4); c.hi[r] = 0; };
      return (c) => {
        const n = c.lo[1] & 0x1f;
        if (n !== 0) c.lo[r] = k(c, c.lo[r], n, 4);
        c.hi[r] = 0;
      };
    }
    const rd = regReader(r, size, g.high8);
    const wr = regWriter(r, size, g.high8);
    if (imm === 0) return nop;
    if (imm > 0) return (c) => wr(c, k(c, rd(c), imm, size));
    return (c) => {
      const n = c.lo[1] & 0x1f;
      if (n !== 0) wr(c, k(c, rd(c), n, size));
    };
  }
  // Memory: the write access is checked even for a count of 0 (rmw begin), nothing is stored.
  const m = operandRmw(d, 0, size);
  if (size === 8) {
    if (imm === 0) return (c) => { m.begin(c); };
    if (imm > 0) return (c) => { const lo = m.begin(c); const rl = k64(c, lo, c.vHi, imm); m.end64(c, rl, c.vHi); };
    return (c) => {
      const lo = m.begin(c);
      const n = c.lo[1] & 0x3f;
      if (n !== 0) { const rl = k64(c, lo, c.vHi, n); m.end64(c, rl, c.vHi); }
    };
  }
  if (imm === 0) return (c) => { m.begin(c); };
  if (imm > 0) return (c) => m.end(c, k(c, m.begin(c), imm, size));
  return (c) => {
    const v = m.begin(c);
    const n = c.lo[1] & 0x1f;
    if (n !== 0) m.end(c, k(c, v, n, size));
  };
}

/** SHLD/SHRD r/m, r, imm8|CL. */
function double(d: DecodedInsn, k: DKern, k64: DKern64): Op {
  const size = d.opSizes[0];
  const mask = size === 8 ? 0x3f : 0x1f;
  const imm = countOf(d, 2, mask);
  const s = gprOf(d.opRegs[1])!.index;
  const g = d.opKinds[0] === OpKind.Register ? gprOf(d.opRegs[0]) : null;
  if (g !== null) {
    const r = g.index;
    if (size === 8) {
      if (imm === 0) return nop;
      if (imm > 0) return (c) => { c.lo[r] = k64(c, c.lo[r], c.hi[r], c.lo[s], c.hi[s], imm); c.hi[r] = c.vHi; };
      return (c) => {
        const n = c.lo[1] & 0x3f;
        if (n !== 0) { c.lo[r] = k64(c, c.lo[r], c.hi[r], c.lo[s], c.hi[s], n); c.hi[r] = c.vHi; }
      };
    }
    if (size === 4) {
      if (imm === 0) return (c) => { c.hi[r] = 0; };
      if (imm > 0) return (c) => { c.lo[r] = k(c, c.lo[r], c.lo[s], imm, 4); c.hi[r] = 0; };
      return (c) => {
        const n = c.lo[1] & 0x1f;
        if (n !== 0) c.lo[r] = k(c, c.lo[r], c.lo[s], n, 4);
        c.hi[r] = 0;
      };
    }
    if (imm === 0) return nop;
    if (imm > 0) return (c) => { c.lo[r] = (c.lo[r] & ~0xffff) | k(c, c.lo[r] & 0xffff, c.lo[s] & 0xffff, imm, 2); };
    return (c) => {
      const n = c.lo[1] & 0x1f;
      if (n !== 0) c.lo[r] = (c.lo[r] & ~0xffff) | k(c, c.lo[r] & 0xffff, c.lo[s] & 0xffff, n, 2);
    };
  }
  const m = operandRmw(d, 0, size);
  if (size === 8) {
    if (imm === 0) return (c) => { m.begin(c); };
    return (c) => {
      const lo = m.begin(c);
      const n = imm > 0 ? imm : c.lo[1] & 0x3f;
      if (n !== 0) { const rl = k64(c, lo, c.vHi, c.lo[s], c.hi[s], n); m.end64(c, rl, c.vHi); }
    };
  }
  const sm = size === 4 ? -1 : 0xffff;
  if (imm === 0) return (c) => { m.begin(c); };
  return (c) => {
    const v = m.begin(c);
    const n = imm > 0 ? imm : c.lo[1] & 0x1f;
    if (n !== 0) m.end(c, k(c, v, c.lo[s] & sm, n, size));
  };
}

export const shiftHandlers: TranslatorTable = {
  [Mnemonic.Shl]: (d) => shift(d, shl, shl64),
  [Mnemonic.Sal]: (d) => shift(d, shl, shl64),
  [Mnemonic.Shr]: (d) => shift(d, shr, shr64),
  [Mnemonic.Sar]: (d) => shift(d, sar, sar64),
  [Mnemonic.Rol]: (d) => shift(d, rol, rol64, rolImm, rol64Imm),
  [Mnemonic.Ror]: (d) => shift(d, ror, ror64, rorImm, ror64Imm),
  [Mnemonic.Rcl]: (d) => shift(d, rcl, rcl64),
  [Mnemonic.Rcr]: (d) => shift(d, rcr, rcr64),
  [Mnemonic.Shld]: (d) => double(d, shld, shld64),
  [Mnemonic.Shrd]: (d) => double(d, shrd, shrd64),
};
