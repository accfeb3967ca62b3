/**
 * BMI1/BMI2 and ADX: ANDN, BEXTR, BLSI, BLSMSK, BLSR, BZHI, PDEP, PEXT, RORX, SARX, SHLX, SHRX,
 * MULX, ADCX, ADOX (SDM vol. 2A/2B instruction pages of the same names).
 *
 * The VEX-encoded ones (all but ADCX/ADOX) exist with 32- and 64-bit operands (VEX.W1 selects
 * 64 bits in 64-bit mode only) and raise #UD in real and virtual-8086 mode (SDM vol. 2A §2.3.8,
 * table 2-23: VEX prefixes are not recognised there). iced decodes them in 16-bit code, so the op
 * checks CR0.PE and EFLAGS.VM at run time outside 64-bit mode. VEX.L1 and a non-1111b VEX.vvvv
 * where it is reserved are already invalid encodings in iced.
 *
 * 32-bit destinations are zero-extended into the upper half. Flags the SDM leaves undefined are
 * produced as Intel hardware produces them (measured).
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import { ud } from '../exceptions';
import type { Op } from '../operands';
import { operandReader, operandReader64 } from '../operands';
import type { TranslatorTable } from '../translator';

const TWO32 = 4294967296;
const EFLAGS_VM = 1 << 17;

/** VEX instructions are #UD in real and virtual-8086 mode (checked at run time below 64-bit). */
function vex(d: DecodedInsn, op: Op): Op {
  if (d.bitness === 64) return op;
  return (c) => {
    if (!c.protectedMode || (c.flagsRest & EFLAGS_VM) !== 0) throw ud('VEX-encoded instruction in real or virtual-8086 mode');
    op(c);
  };
}

function reg(d: DecodedInsn, i: number): number {
  return gprOf(d.opRegs[i])!.index;
}

// ---- flag helpers ------------------------------------------------------------------------------
// Logical BMI1 results: SF, ZF from the result, CF as given, OF = 0. AF and PF are undefined;
// Intel hardware clears both, and BEXTR's undefined SF as well (measured).

function bmiFlags(c: Cpu, r: number, sgn: number, cf: number): void {
  c.fRes = r;
  c.fSgn = sgn;
  c.fPar = 1;
  c.fCO = (cf << 31) | (cf << 30);
  c.fAux = 0;
}

// ---- 64-bit multiply and shifts on halves ---------------------------------------------------
let mHi = 0;

/** Unsigned 32 x 32 -> 64: returns the low half (int32), high half in mHi. */
function mul32(a: number, b: number): number {
  const ua = a >>> 0;
  const p1 = ua * (b & 0xffff); // < 2^48, exact
  const p2 = ua * (b >>> 16); // < 2^48, exact
  const p2lo = p2 % 65536;
  const s = p1 + p2lo * 65536; // < 2^49, exact
  mHi = (Math.floor(s / TWO32) + Math.floor(p2 / 65536)) | 0;
  return s | 0;
}

let sHi = 0;

function shr64(lo: number, hi: number, k: number): number {
  if (k === 0) { sHi = hi; return lo; }
  if (k < 32) { sHi = hi >>> k; return (lo >>> k) | (hi << (32 - k)); }
  sHi = 0;
  return k < 64 ? hi >>> (k - 32) : 0;
}

function shl64(lo: number, hi: number, k: number): number {
  if (k === 0) { sHi = hi; return lo; }
  if (k < 32) { sHi = (hi << k) | (lo >>> (32 - k)); return lo << k; }
  sHi = k < 64 ? lo << (k - 32) : 0;
  return 0;
}

function sar64(lo: number, hi: number, k: number): number {
  if (k === 0) { sHi = hi; return lo; }
  if (k < 32) { sHi = hi >> k; return (lo >>> k) | (hi << (32 - k)); }
  sHi = hi >> 31;
  return hi >> (k - 32);
}

// ---- two-source integer ops -----------------------------------------------------------------
type F32 = (c: Cpu, a: number, b: number) => number;
/** 64-bit: returns the low half, high half in c.vHi. */
type F64 = (c: Cpu, aLo: number, aHi: number, bLo: number, bHi: number) => number;

/** dst = f(op[ia], op[ib]); the 32-bit form zero-extends. */
function binary(d: DecodedInsn, ia: number, ib: number, f: F32, f64: F64): Op {
  const r = reg(d, 0);
  if (d.opSizes[0] === 8) {
    const ra = operandReader64(d, ia);
    const rb = operandReader64(d, ib);
    return vex(d, (c) => {
      const aLo = ra(c), aHi = c.vHi;
      const bLo = rb(c), bHi = c.vHi;
      c.lo[r] = f64(c, aLo, aHi, bLo, bHi);
      c.hi[r] = c.vHi;
    });
  }
  const ra = operandReader(d, ia, 4);
  const rb = operandReader(d, ib, 4);
  return vex(d, (c) => {
    const a = ra(c);
    const v = f(c, a, rb(c));
    c.lo[r] = v;
    c.hi[r] = 0;
  });
}

/** ANDN: dst = ~src1 & src2; SF, ZF from the result, CF = OF = 0. */
const andn: F32 = (c, a, b) => {
  const r = ~a & b;
  bmiFlags(c, r, r, 0);
  return r;
};
const andn64: F64 = (c, aLo, aHi, bLo, bHi) => {
  const lo = ~aLo & bLo, hi = ~aHi & bHi;
  bmiFlags(c, lo | hi, hi, 0);
  c.vHi = hi;
  return lo;
};

/** BEXTR: start = ctl[7:0], length = ctl[15:8]; ZF from the result, CF = OF = 0 (SF: 0). */
const bextr: F32 = (c, v, ctl) => {
  const start = ctl & 0xff, len = (ctl >>> 8) & 0xff;
  let r = start >= 32 ? 0 : v >>> start;
  if (len < 32) r &= len === 0 ? 0 : 0xffffffff >>> (32 - len);
  r |= 0;
  bmiFlags(c, r, 0, 0);
  return r;
};
const bextr64: F64 = (c, lo, hi, ctl) => {
  const start = ctl & 0xff, len = (ctl >>> 8) & 0xff;
  let rl = 0, rh = 0;
  if (start < 64) { rl = shr64(lo, hi, start); rh = sHi; }
  if (len < 64) {
    if (len <= 32) { rl &= len === 0 ? 0 : -1 >>> (32 - len); rh = 0; }
    else rh &= -1 >>> (64 - len);
  }
  rl |= 0;
  bmiFlags(c, rl | rh, 0, 0);
  c.vHi = rh;
  return rl;
};

/** BZHI: n = src2[7:0]; bits n and above cleared when n < width; CF = (n > width - 1). */
const bzhi: F32 = (c, v, ctl) => {
  const n = ctl & 0xff;
  let r = v, cf = 1;
  if (n < 32) { r = n === 0 ? 0 : v & (-1 >>> (32 - n)); cf = 0; }
  bmiFlags(c, r, r, cf);
  return r;
};
const bzhi64: F64 = (c, lo, hi, ctl) => {
  const n = ctl & 0xff;
  let rl = lo, rh = hi, cf = 1;
  if (n < 64) {
    cf = 0;
    if (n <= 32) { rl = n === 0 ? 0 : lo & (-1 >>> (32 - n)); rh = 0; }
    else rh = hi & (-1 >>> (64 - n));
  }
  bmiFlags(c, rl | rh, rh, cf);
  c.vHi = rh;
  return rl;
};

/** PDEP: deposit the low bits of src at the positions of the set bits of mask. */
const pdep: F32 = (_c, src, mask) => {
  let r = 0, m = mask, k = 1;
  while (m !== 0) {
    const low = m & -m;
    if ((src & k) !== 0) r |= low;
    m ^= low;
    k <<= 1;
  }
  return r;
};
const pdep64: F64 = (c, sLo, sHi, mLo, mHi2) => {
  let rl = 0, rh = 0, i = 0, m = mLo;
  while (m !== 0) {
    const low = m & -m;
    if (((i < 32 ? sLo >>> i : sHi >>> (i - 32)) & 1) !== 0) rl |= low;
    m ^= low;
    i++;
  }
  m = mHi2;
  while (m !== 0) {
    const low = m & -m;
    if (((i < 32 ? sLo >>> i : sHi >>> (i - 32)) & 1) !== 0) rh |= low;
    m ^= low;
    i++;
  }
  c.vHi = rh;
  return rl;
};

/** PEXT: gather the bits of src at the set bits of mask into the low bits. */
const pext: F32 = (_c, src, mask) => {
  let r = 0, m = mask, k = 1;
  while (m !== 0) {
    const low = m & -m;
    if ((src & low) !== 0) r |= k;
    m ^= low;
    k <<= 1;
  }
  return r;
};
const pext64: F64 = (c, sLo, sHi, mLo, mHi2) => {
  let rl = 0, rh = 0, i = 0, m = mLo;
  while (m !== 0) {
    const low = m & -m;
    if ((sLo & low) !== 0) { if (i < 32) rl |= 1 << i; else rh |= 1 << (i - 32); }
    m ^= low;
    i++;
  }
  m = mHi2;
  while (m !== 0) {
    const low = m & -m;
    if ((sHi & low) !== 0) { if (i < 32) rl |= 1 << i; else rh |= 1 << (i - 32); }
    m ^= low;
    i++;
  }
  c.vHi = rh;
  return rl;
};

/** SHLX/SHRX/SARX: count = src2 masked to 5 (6) bits; no flags. */
const shlx: F32 = (_c, v, n) => v << (n & 31);
const shrx: F32 = (_c, v, n) => (v >>> (n & 31)) | 0;
const sarx: F32 = (_c, v, n) => v >> (n & 31);
const shlx64: F64 = (c, lo, hi, n) => { const rl = shl64(lo, hi, n & 63); c.vHi = sHi; return rl; };
const shrx64: F64 = (c, lo, hi, n) => { const rl = shr64(lo, hi, n & 63) | 0; c.vHi = sHi; return rl; };
const sarx64: F64 = (c, lo, hi, n) => { const rl = sar64(lo, hi, n & 63); c.vHi = sHi; return rl; };

// ---- one-source BMI1 ops (destination in VEX.vvvv) ------------------------------------------

type U32 = (c: Cpu, v: number) => number;
type U64 = (c: Cpu, lo: number, hi: number) => number;

function unary(d: DecodedInsn, f: U32, f64: U64): Op {
  const r = reg(d, 0);
  if (d.opSizes[0] === 8) {
    const rd = operandReader64(d, 1);
    return vex(d, (c) => {
      const lo = rd(c);
      c.lo[r] = f64(c, lo, c.vHi);
      c.hi[r] = c.vHi;
    });
  }
  const rd = operandReader(d, 1, 4);
  return vex(d, (c) => {
    c.lo[r] = f(c, rd(c));
    c.hi[r] = 0;
  });
}

/** BLSI: dst = -src & src; CF = (src != 0); SF, ZF from the result; OF = 0. */
const blsi: U32 = (c, v) => {
  const r = -v & v;
  bmiFlags(c, r, r, v !== 0 ? 1 : 0);
  return r;
};
const blsi64: U64 = (c, lo, hi) => {
  // -x for 64 bits: ~x + 1 on halves.
  const nLo = -lo | 0;
  const nHi = (~hi + (lo === 0 ? 1 : 0)) | 0;
  const rl = nLo & lo, rh = nHi & hi;
  bmiFlags(c, rl | rh, rh, (lo | hi) !== 0 ? 1 : 0);
  c.vHi = rh;
  return rl;
};

/** BLSMSK: dst = (src - 1) ^ src; CF = (src == 0); ZF = 0; SF from the result; OF = 0. */
const blsmsk: U32 = (c, v) => {
  const r = ((v - 1) ^ v) | 0;
  bmiFlags(c, 1, r, v === 0 ? 1 : 0);
  return r;
};
const blsmsk64: U64 = (c, lo, hi) => {
  const mLo = (lo - 1) | 0;
  const mHi3 = (hi - (lo === 0 ? 1 : 0)) | 0;
  const rl = mLo ^ lo, rh = mHi3 ^ hi;
  bmiFlags(c, 1, rh, (lo | hi) === 0 ? 1 : 0);
  c.vHi = rh;
  return rl;
};

/** BLSR: dst = (src - 1) & src; CF = (src == 0); SF, ZF from the result; OF = 0. */
const blsr: U32 = (c, v) => {
  const r = (v - 1) & v;
  bmiFlags(c, r, r, v === 0 ? 1 : 0);
  return r;
};
const blsr64: U64 = (c, lo, hi) => {
  const mLo = (lo - 1) | 0;
  const mHi3 = (hi - (lo === 0 ? 1 : 0)) | 0;
  const rl = mLo & lo, rh = mHi3 & hi;
  bmiFlags(c, rl | rh, rh, (lo | hi) === 0 ? 1 : 0);
  c.vHi = rh;
  return rl;
};

// ---- RORX, MULX ------------------------------------------------------------------------------

/** RORX: rotate right by imm8 masked to 5 (6) bits; no flags. */
function rorx(d: DecodedInsn): Op {
  const r = reg(d, 0);
  if (d.opSizes[0] === 8) {
    const rd = operandReader64(d, 1);
    let k = d.immLo & 63;
    const swap = k >= 32;
    if (swap) k -= 32;
    return vex(d, (c) => {
      let a = rd(c), b = c.vHi;
      if (swap) { const t = a; a = b; b = t; }
      if (k === 0) { c.lo[r] = a; c.hi[r] = b; return; }
      c.lo[r] = (a >>> k) | (b << (32 - k));
      c.hi[r] = (b >>> k) | (a << (32 - k));
    });
  }
  const rd = operandReader(d, 1, 4);
  const k = d.immLo & 31;
  return vex(d, (c) => {
    const v = rd(c);
    c.lo[r] = k === 0 ? v : (v >>> k) | (v << (32 - k));
    c.hi[r] = 0;
  });
}

/**
 * MULX: unsigned EDX/RDX * r/m; DEST2 (VEX.vvvv) gets the low half, then DEST1 (ModRM.reg) the
 * high half, so the high half wins when both name the same register. No flags.
 */
function mulx(d: DecodedInsn): Op {
  const rh = reg(d, 0), rl = reg(d, 1);
  if (d.opSizes[0] === 8) {
    const rd = operandReader64(d, 2);
    return vex(d, (c) => {
      const bLo = rd(c), bHi = c.vHi;
      const aLo = c.lo[2], aHi = c.hi[2];
      const p0 = mul32(aLo, bLo), p0h = mHi;
      const p1 = mul32(aLo, bHi), p1h = mHi;
      const p2 = mul32(aHi, bLo), p2h = mHi;
      const p3 = mul32(aHi, bHi), p3h = mHi;
      const t = (p0h >>> 0) + (p1 >>> 0) + (p2 >>> 0);
      const t1 = Math.floor(t / TWO32);
      const u = (p1h >>> 0) + (p2h >>> 0) + (p3 >>> 0) + t1;
      const u1 = Math.floor(u / TWO32);
      c.lo[rl] = p0;
      c.hi[rl] = t | 0;
      c.lo[rh] = u | 0;
      c.hi[rh] = (p3h + u1) | 0;
    });
  }
  const rd = operandReader(d, 2, 4);
  return vex(d, (c) => {
    const lo = mul32(c.lo[2], rd(c));
    const hi = mHi;
    c.lo[rl] = lo;
    c.hi[rl] = 0;
    c.lo[rh] = hi;
    c.hi[rh] = 0;
  });
}

// ---- ADCX, ADOX ------------------------------------------------------------------------------

/**
 * ADCX: unsigned add with CF as carry in and out; ADOX: the same with OF. No other flag changes
 * (SDM "ADCX", "ADOX"). Legacy encodings, valid in every mode.
 */
function adx(d: DecodedInsn, useOf: boolean): Op {
  const r = reg(d, 0);
  if (d.opSizes[0] === 8) {
    const rd = operandReader64(d, 1);
    return (c) => {
      const bLo = rd(c), bHi = c.vHi;
      const fco = c.fCO;
      const cf = fco >>> 31;
      const of = (fco ^ (fco << 1)) >>> 31;
      const s = (c.lo[r] >>> 0) + (bLo >>> 0) + (useOf ? of : cf);
      const h = (c.hi[r] >>> 0) + (bHi >>> 0) + (s >= TWO32 ? 1 : 0);
      const out = h >= TWO32 ? 1 : 0;
      c.lo[r] = s | 0;
      c.hi[r] = h | 0;
      if (useOf) c.fCO = (cf << 31) | ((cf ^ out) << 30);
      else c.fCO = (out << 31) | ((out ^ of) << 30);
    };
  }
  const rd = operandReader(d, 1, 4);
  return (c) => {
    const b = rd(c);
    const fco = c.fCO;
    const cf = fco >>> 31;
    const of = (fco ^ (fco << 1)) >>> 31;
    const s = (c.lo[r] >>> 0) + (b >>> 0) + (useOf ? of : cf);
    const out = s >= TWO32 ? 1 : 0;
    c.lo[r] = s | 0;
    c.hi[r] = 0;
    if (useOf) c.fCO = (cf << 31) | ((cf ^ out) << 30);
    else c.fCO = (out << 31) | ((out ^ of) << 30);
  };
}

export const bmiHandlers: TranslatorTable = {
  [Mnemonic.Andn]: (d) => binary(d, 1, 2, andn, andn64),
  [Mnemonic.Bextr]: (d) => binary(d, 1, 2, bextr, bextr64),
  [Mnemonic.Bzhi]: (d) => binary(d, 1, 2, bzhi, bzhi64),
  [Mnemonic.Pdep]: (d) => binary(d, 1, 2, pdep, pdep64),
  [Mnemonic.Pext]: (d) => binary(d, 1, 2, pext, pext64),
  [Mnemonic.Shlx]: (d) => binary(d, 1, 2, shlx, shlx64),
  [Mnemonic.Shrx]: (d) => binary(d, 1, 2, shrx, shrx64),
  [Mnemonic.Sarx]: (d) => binary(d, 1, 2, sarx, sarx64),
  [Mnemonic.Blsi]: (d) => unary(d, blsi, blsi64),
  [Mnemonic.Blsmsk]: (d) => unary(d, blsmsk, blsmsk64),
  [Mnemonic.Blsr]: (d) => unary(d, blsr, blsr64),
  [Mnemonic.Rorx]: rorx,
  [Mnemonic.Mulx]: mulx,
  [Mnemonic.Adcx]: (d) => adx(d, false),
  [Mnemonic.Adox]: (d) => adx(d, true),
};
