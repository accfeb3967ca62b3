/**
 * Data movement: MOVZX, MOVSX, MOVSXD, XCHG, CMPXCHG, CMPXCHG8B/16B, XADD, BSWAP, LEA, MOVBE
 * (SDM vol. 2A/2B, each instruction's page). Where the SDM leaves a result undefined the value is
 * the one measured on an Intel host (noted at the place).
 */
import { Mnemonic, OpKind } from 'iced-x86';
import type { Cpu } from '../cpu';
import { cpuidLookup } from '../cpuid';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import { gp0, ud } from '../exceptions';
import type { Op, WriteFn } from '../operands';
import {
  effectiveAddress, linearAddress, operandReader, operandReader64, operandRmw, operandWriter,
  regReader, regWriter,
} from '../operands';
import type { TranslatorTable } from '../translator';
import { add, add64, sub, sub64 } from './arith';

const TWO32 = 4294967296;

/**
 * A CPUID feature test for ops whose instruction exists only when the model reports the feature
 * (leaf 1, ECX (reg 2) or EDX (reg 3) bit `bit`). Looked up once per op on first execution (an op belongs to one Cpu).
 */
function featureGate(bit: number, reg: 2 | 3 = 2): (c: Cpu) => boolean {
  let known = 0; // 0 unknown, 1 present, 2 absent
  return (c) => {
    if (known === 0) known = (cpuidLookup(c.cpuid, 1, 0)[reg] >>> bit) & 1 ? 1 : 2;
    return known === 1;
  };
}
const CPUID1_ECX_CX16 = 13;
const CPUID1_ECX_MOVBE = 22;
const CPUID1_EDX_CX8 = 8;

/** Byte-reverse a 32-bit value (SDM vol. 2A, BSWAP). */
export function bswap32(x: number): number {
  return ((x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) | 0;
}

function gprIndex(d: DecodedInsn, i: number): number {
  return d.opKinds[i] === OpKind.Register ? (gprOf(d.opRegs[i])?.index ?? -1) : -1;
}

/** A writer of a general register of `size` bytes for operand i (8-bit keeps AH..BH apart). */
function regOperandWriter(d: DecodedInsn, i: number, size: number): WriteFn {
  const g = gprOf(d.opRegs[i])!;
  return regWriter(g.index, size, g.high8);
}

// ---- MOVZX / MOVSX / MOVSXD (SDM vol. 2B) ------------------------------------------------------
/**
 * Extend operand 1 (size opSizes[1]) into the register operand 0 (opSizes[0]). `signed` selects
 * sign extension. A 32-bit destination zero-extends into the upper half; 64-bit destinations take
 * the sign (or zero) of the source in their upper half.
 */
function extend(d: DecodedInsn, signed: boolean): Op | null {
  const dst = gprOf(d.opRegs[0]);
  if (d.opKinds[0] !== OpKind.Register || dst === null) return null;
  const r = dst.index;
  const dsize = d.opSizes[0];
  const ssize = d.opSizes[1];
  const sh = 32 - 8 * ssize; // 0 for a 32-bit source
  const src = gprOf(d.opRegs[1]);
  // Fast forms: register source without a high-byte register.
  if (d.opKinds[1] === OpKind.Register && src !== null && !src.high8) {
    const s = src.index;
    if (dsize === 8) {
      if (signed) {
        if (sh === 0) return (c) => { const v = c.lo[s]; c.lo[r] = v; c.hi[r] = v >> 31; };
        return (c) => { const v = (c.lo[s] << sh) >> sh; c.lo[r] = v; c.hi[r] = v >> 31; };
      }
      const m = ssize === 1 ? 0xff : 0xffff;
      return (c) => { c.lo[r] = c.lo[s] & m; c.hi[r] = 0; };
    }
    if (dsize === 4) {
      if (sh === 0) return (c) => { c.lo[r] = c.lo[s]; c.hi[r] = 0; };
      if (signed) return (c) => { c.lo[r] = (c.lo[s] << sh) >> sh; c.hi[r] = 0; };
      const m = ssize === 1 ? 0xff : 0xffff;
      return (c) => { c.lo[r] = c.lo[s] & m; c.hi[r] = 0; };
    }
  }
  const rd = operandReader(d, 1, ssize);
  if (dsize === 8) {
    if (signed) return (c) => { const v = (rd(c) << sh) >> sh; c.lo[r] = v; c.hi[r] = v >> 31; };
    return (c) => { c.lo[r] = rd(c); c.hi[r] = 0; };
  }
  if (dsize === 4) {
    if (signed) return (c) => { c.lo[r] = (rd(c) << sh) >> sh; c.hi[r] = 0; };
    return (c) => { c.lo[r] = rd(c); c.hi[r] = 0; };
  }
  // 16-bit destination: the upper 48 bits of the register are kept.
  if (signed) return (c) => { c.lo[r] = (c.lo[r] & ~0xffff) | (((rd(c) << sh) >> sh) & 0xffff); };
  return (c) => { c.lo[r] = (c.lo[r] & ~0xffff) | (rd(c) & 0xffff); };
}

/**
 * MOVSXD (SDM vol. 2B MOVSX/MOVSXD): REX.W sign-extends r/m32 into r64; without REX.W the
 * 32-bit form is a plain move (zero-extended, measured) and the 66h form a 16-bit move.
 */
function movsxd(d: DecodedInsn): Op | null {
  return extend(d, true);
}

// ---- XCHG (SDM vol. 2B) -----------------------------------------------------------------------
function xchg(d: DecodedInsn): Op | null {
  const size = d.opSizes[0];
  const k0 = d.opKinds[0], k1 = d.opKinds[1];
  if (k0 === OpKind.Register && k1 === OpKind.Register) {
    const a = gprOf(d.opRegs[0])!, b = gprOf(d.opRegs[1])!;
    const r = a.index, s = b.index;
    if (size === 8) {
      return (c) => {
        const lo = c.lo[r], hi = c.hi[r];
        c.lo[r] = c.lo[s]; c.hi[r] = c.hi[s];
        c.lo[s] = lo; c.hi[s] = hi;
      };
    }
    if (size === 4) {
      // `xchg eax, eax` (87 C0) in 64-bit mode still writes EAX and zero-extends (90 is NOP).
      return (c) => { const v = c.lo[r]; c.lo[r] = c.lo[s]; c.hi[r] = 0; c.lo[s] = v; c.hi[s] = 0; };
    }
    const ra = regReader(r, size, a.high8), rb = regReader(s, size, b.high8);
    const wa = regWriter(r, size, a.high8), wb = regWriter(s, size, b.high8);
    return (c) => { const va = ra(c), vb = rb(c); wa(c, vb); wb(c, va); };
  }
  // One operand is memory (the processor locks the access whatever the prefix says).
  const mi = k0 === OpKind.Memory ? 0 : 1;
  const ri = 1 - mi;
  const m = operandRmw(d, mi, size);
  if (size === 8) {
    const r = gprIndex(d, ri);
    return (c) => {
      const lo = m.begin(c), hi = c.vHi;
      m.end64(c, c.lo[r], c.hi[r]);
      c.lo[r] = lo; c.hi[r] = hi;
    };
  }
  const g = gprOf(d.opRegs[ri])!;
  const rr = regReader(g.index, size, g.high8), rw = regWriter(g.index, size, g.high8);
  return (c) => {
    const old = m.begin(c);
    m.end(c, rr(c));
    rw(c, old);
  };
}

// ---- CMPXCHG (SDM vol. 2A) --------------------------------------------------------------------
/**
 * TEMP := DEST; flags of CMP accumulator, TEMP; equal: DEST := SRC, else accumulator := TEMP
 * and DEST := TEMP. A memory destination is always written (with its own value on failure). A
 * register destination is not written on failure and the accumulator is not written on success
 * — measured on an Intel host: in 64-bit mode `cmpxchg ecx, edx` keeps RCX[63:32] on failure and
 * RAX[63:32] on success, and zero-extends the register it does write.
 */
function cmpxchg(d: DecodedInsn): Op | null {
  const size = d.opSizes[0];
  const memDst = d.opKinds[0] === OpKind.Memory;
  if (size === 8) {
    const s = gprIndex(d, 1);
    if (!memDst) {
      const r = gprIndex(d, 0);
      return (c) => {
        const tLo = c.lo[r], tHi = c.hi[r];
        sub64(c, c.lo[0], c.hi[0], tLo, tHi);
        if (c.fRes === 0) { c.lo[r] = c.lo[s]; c.hi[r] = c.hi[s]; } else { c.lo[0] = tLo; c.hi[0] = tHi; }
      };
    }
    const m = operandRmw(d, 0, 8);
    return (c) => {
      const tLo = m.begin(c), tHi = c.vHi;
      sub64(c, c.lo[0], c.hi[0], tLo, tHi);
      if (c.fRes === 0) m.end64(c, c.lo[s], c.hi[s]);
      else { m.end64(c, tLo, tHi); c.lo[0] = tLo; c.hi[0] = tHi; }
    };
  }
  const acc = regReader(0, size, false);
  const accW = regWriter(0, size, false);
  const src = operandReader(d, 1, size);
  if (!memDst) {
    const dr = operandReader(d, 0, size);
    const dw = operandWriter(d, 0, size);
    return (c) => {
      const t = dr(c);
      sub(c, acc(c), t, size);
      if (c.fRes === 0) dw(c, src(c)); else accW(c, t);
    };
  }
  const m = operandRmw(d, 0, size);
  return (c) => {
    const t = m.begin(c);
    sub(c, acc(c), t, size);
    if (c.fRes === 0) m.end(c, src(c));
    else { m.end(c, t); accW(c, t); }
  };
}

/**
 * CMPXCHG8B m64 (SDM vol. 2A CMPXCHG8B/CMPXCHG16B): compare EDX:EAX with m64; equal: ZF = 1 and
 * m64 := ECX:EBX; else ZF = 0, EDX:EAX := m64 (zero-extended in 64-bit mode; not written on
 * success, measured) and m64 is written back unchanged. Only ZF changes. #UD without CPUID CX8.
 */
function cmpxchg8b(d: DecodedInsn): Op | null {
  if (d.mem === null) return null;
  const lin = linearAddress(d, d.mem, 8, true);
  const has = featureGate(CPUID1_EDX_CX8, 3);
  return (c) => {
    if (!has(c)) throw ud('CMPXCHG8B: CPUID.01H:EDX.CX8 is clear');
    const a = lin(c);
    const lo = c.rmwBegin(a, c.linHi, 8), hi = c.vHi;
    if (lo === c.lo[0] && hi === c.lo[2]) {
      c.fRes = 0;
      c.rmwEnd64(c.lo[3], c.lo[1]);
    } else {
      c.fRes = 1;
      c.rmwEnd64(lo, hi);
      c.lo[0] = lo; c.hi[0] = 0;
      c.lo[2] = hi; c.hi[2] = 0;
    }
  };
}

/**
 * CMPXCHG16B m128 (64-bit mode, REX.W): the operand must be 16-byte aligned, else #GP(0); #UD
 * when CPUID.01H:ECX.CX16 is clear. Compare RDX:RAX with m128; equal: m128 := RCX:RBX, else
 * RDX:RAX := m128 and m128 is written back unchanged.
 */
function cmpxchg16b(d: DecodedInsn): Op | null {
  if (d.mem === null || d.bitness !== 64) return null;
  const lin = linearAddress(d, d.mem, 16, true);
  const has = featureGate(CPUID1_ECX_CX16);
  return (c) => {
    if (!has(c)) throw ud('CMPXCHG16B: CPUID.01H:ECX.CX16 is clear');
    const a = lin(c);
    const ah = c.linHi;
    if ((a & 15) !== 0) throw gp0('CMPXCHG16B operand is not 16-byte aligned');
    // Both halves are on the same page (aligned), so the write check of the first covers both.
    const lo0 = c.rmwBegin(a, ah, 8), hi0 = c.vHi;
    const lo1 = c.read64((a + 8) | 0, ah), hi1 = c.vHi;
    if (lo0 === c.lo[0] && hi0 === c.hi[0] && lo1 === c.lo[2] && hi1 === c.hi[2]) {
      c.fRes = 0;
      c.rmwEnd64(c.lo[3], c.hi[3]);
      c.write64((a + 8) | 0, ah, c.lo[1], c.hi[1]);
    } else {
      c.fRes = 1;
      c.rmwEnd64(lo0, hi0);
      c.write64((a + 8) | 0, ah, lo1, hi1);
      c.lo[0] = lo0; c.hi[0] = hi0;
      c.lo[2] = lo1; c.hi[2] = hi1;
    }
  };
}

// ---- XADD (SDM vol. 2B) -----------------------------------------------------------------------
/** TEMP := SRC + DEST; SRC := DEST; DEST := TEMP (flags of the addition). */
function xadd(d: DecodedInsn): Op | null {
  const size = d.opSizes[0];
  const s = gprOf(d.opRegs[1])!;
  if (size === 8) {
    const si = s.index;
    if (d.opKinds[0] === OpKind.Register) {
      const r = gprIndex(d, 0);
      return (c) => {
        const dLo = c.lo[r], dHi = c.hi[r];
        const lo = add64(c, dLo, dHi, c.lo[si], c.hi[si]), hi = c.vHi;
        c.lo[si] = dLo; c.hi[si] = dHi;
        c.lo[r] = lo; c.hi[r] = hi;
      };
    }
    const m = operandRmw(d, 0, 8);
    return (c) => {
      const dLo = m.begin(c), dHi = c.vHi;
      const lo = add64(c, dLo, dHi, c.lo[si], c.hi[si]);
      m.end64(c, lo, c.vHi);
      c.lo[si] = dLo; c.hi[si] = dHi;
    };
  }
  const sr = regReader(s.index, size, s.high8), sw = regWriter(s.index, size, s.high8);
  if (d.opKinds[0] === OpKind.Register) {
    const dr = operandReader(d, 0, size), dw = regOperandWriter(d, 0, size);
    return (c) => {
      const dv = dr(c);
      const t = add(c, dv, sr(c), size);
      sw(c, dv);
      dw(c, t);
    };
  }
  const m = operandRmw(d, 0, size);
  return (c) => {
    const dv = m.begin(c);
    m.end(c, add(c, dv, sr(c), size));
    sw(c, dv);
  };
}

// ---- BSWAP (SDM vol. 2A) ----------------------------------------------------------------------
/**
 * 32/64-bit byte reversal. With a 16-bit operand the SDM leaves the result undefined; Intel
 * hardware (measured) clears the low word and keeps the rest of the register.
 */
function bswap(d: DecodedInsn): Op | null {
  const g = gprOf(d.opRegs[0]);
  if (g === null) return null;
  const r = g.index;
  if (d.opSizes[0] === 8) {
    return (c) => { const lo = c.lo[r]; c.lo[r] = bswap32(c.hi[r]); c.hi[r] = bswap32(lo); };
  }
  if (d.opSizes[0] === 4) return (c) => { c.lo[r] = bswap32(c.lo[r]); c.hi[r] = 0; };
  return (c) => { c.lo[r] &= ~0xffff; };
}

// ---- LEA (SDM vol. 2A) ------------------------------------------------------------------------
/**
 * The effective address (no segment base) computed with the address size, then truncated or
 * zero-extended to the operand size. A register source is #UD (iced decodes it as invalid).
 */
function lea(d: DecodedInsn): Op | null {
  const m = d.mem;
  const g = gprOf(d.opRegs[0]);
  if (m === null || g === null) return null;
  const r = g.index;
  const size = d.opSizes[0];
  const ea = effectiveAddress(m);
  if (size === 8) {
    if (m.addrSize === 8) {
      const b = m.base, x = m.index;
      const dU = m.dispLo >>> 0, dHi = m.dispHi | 0;
      if (b >= 0 && x < 0) {
        return (c) => {
          const s = (c.lo[b] >>> 0) + dU;
          c.hi[r] = (c.hi[b] + dHi + (s >= TWO32 ? 1 : 0)) | 0;
          c.lo[r] = s | 0;
        };
      }
      if (b < 0 && x < 0) {
        const lo = m.dispLo | 0;
        return (c) => { c.lo[r] = lo; c.hi[r] = dHi; };
      }
      return (c) => { c.lo[r] = ea(c); c.hi[r] = c.linHi; };
    }
    return (c) => { c.lo[r] = ea(c); c.hi[r] = 0; };
  }
  if (size === 4) {
    if (m.addrSize === 4 && m.base >= 0 && m.index < 0) {
      const b = m.base, disp = m.dispLo | 0;
      return (c) => { c.lo[r] = (c.lo[b] + disp) | 0; c.hi[r] = 0; };
    }
    return (c) => { c.lo[r] = ea(c); c.hi[r] = 0; };
  }
  return (c) => { c.lo[r] = (c.lo[r] & ~0xffff) | (ea(c) & 0xffff); };
}

// ---- MOVBE (SDM vol. 2B) ----------------------------------------------------------------------
/** Load or store with the bytes reversed; memory forms only; #UD without CPUID.01H:ECX.MOVBE. */
function movbe(d: DecodedInsn): Op | null {
  if (d.mem === null) return null;
  const size = d.opSizes[0];
  const has = featureGate(CPUID1_ECX_MOVBE);
  if (d.opKinds[0] === OpKind.Register) {
    const r = gprIndex(d, 0);
    if (size === 8) {
      const rd = operandReader64(d, 1);
      return (c) => {
        if (!has(c)) throw ud('MOVBE: CPUID.01H:ECX.MOVBE is clear');
        const lo = rd(c);
        c.lo[r] = bswap32(c.vHi); c.hi[r] = bswap32(lo);
      };
    }
    const rd = operandReader(d, 1, size);
    if (size === 4) {
      return (c) => {
        if (!has(c)) throw ud('MOVBE: CPUID.01H:ECX.MOVBE is clear');
        c.lo[r] = bswap32(rd(c)); c.hi[r] = 0;
      };
    }
    return (c) => {
      if (!has(c)) throw ud('MOVBE: CPUID.01H:ECX.MOVBE is clear');
      const v = rd(c);
      c.lo[r] = (c.lo[r] & ~0xffff) | ((v >>> 8) & 0xff) | ((v & 0xff) << 8);
    };
  }
  const s = gprIndex(d, 1);
  const lin = linearAddress(d, d.mem, size, true);
  if (size === 8) {
    return (c) => {
      if (!has(c)) throw ud('MOVBE: CPUID.01H:ECX.MOVBE is clear');
      c.write64(lin(c), c.linHi, bswap32(c.hi[s]), bswap32(c.lo[s]));
    };
  }
  if (size === 4) {
    return (c) => {
      if (!has(c)) throw ud('MOVBE: CPUID.01H:ECX.MOVBE is clear');
      c.write32(lin(c), c.linHi, bswap32(c.lo[s]));
    };
  }
  return (c) => {
    if (!has(c)) throw ud('MOVBE: CPUID.01H:ECX.MOVBE is clear');
    const v = c.lo[s];
    c.write16(lin(c), c.linHi, ((v >>> 8) & 0xff) | ((v & 0xff) << 8));
  };
}

export const dataMoveHandlers: TranslatorTable = {
  [Mnemonic.Movzx]: (d) => extend(d, false),
  [Mnemonic.Movsx]: (d) => extend(d, true),
  [Mnemonic.Movsxd]: movsxd,
  [Mnemonic.Xchg]: xchg,
  [Mnemonic.Cmpxchg]: cmpxchg,
  [Mnemonic.Cmpxchg8b]: cmpxchg8b,
  [Mnemonic.Cmpxchg16b]: cmpxchg16b,
  [Mnemonic.Xadd]: xadd,
  [Mnemonic.Bswap]: bswap,
  [Mnemonic.Lea]: lea,
  [Mnemonic.Movbe]: movbe,
};
