/**
 * Bit instructions: BT, BTS, BTR, BTC, BSF, BSR, LZCNT, TZCNT, POPCNT (SDM vol. 2A "BT—Bit
 * Test", "BTC", "BTR", "BTS", "BSF—Bit Scan Forward", "BSR—Bit Scan Reverse", "LZCNT—Count the
 * Number of Leading Zero Bits", vol. 2B "POPCNT—Return the Count of Number of Bits Set to 1",
 * "TZCNT—Count the Number of Trailing Zero Bits").
 *
 * BT* with a register bit offset and a memory operand address the operand-sized word at
 * EA + (size/8) * (offset SAR log2(size*8)), the offset taken as a signed value of the operand
 * size (SDM "BT", table 3-2 and its operation); the sum is wrapped to the address size. An
 * immediate offset, or any offset with a register operand, is taken modulo the operand width.
 * Flags the SDM leaves undefined are produced as Intel hardware produces them (measured).
 */
import { Mnemonic, OpKind } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import type { AddrFn, Op } from '../operands';
import { effectiveAddress, operandReader, operandReader64, segmented } from '../operands';
import type { TranslatorTable } from '../translator';

const TWO32 = 4294967296;

// ---- BT, BTS, BTR, BTC ------------------------------------------------------------------------

const enum BtKind { Test = 0, Set = 1, Reset = 2, Complement = 3 }

/** CF = the selected bit; ZF unchanged; OF, SF, AF, PF undefined (Intel hardware: unchanged). */
function btFlags(c: Cpu, bit: number): void {
  const of = (c.fCO ^ (c.fCO << 1)) >>> 31;
  c.fCO = (bit << 31) | ((bit ^ of) << 30);
}

/** The new value of a 32-bit (or narrower) word after BTS/BTR/BTC of bit mask `m`. */
function btApply(kind: BtKind, v: number, m: number): number {
  return kind === BtKind.Set ? v | m : kind === BtKind.Reset ? v & ~m : v ^ m;
}

/**
 * Linear address of the word holding a bit selected by register `r` (signed offset of `size`
 * bytes) relative to the memory operand: EA + size * (offset SAR log2(8 * size)).
 */
function btAddress(d: DecodedInsn, size: number, r: number, write: boolean): AddrFn {
  const m = d.mem!;
  const ea = effectiveAddress(m);
  let off: AddrFn;
  if (m.addrSize === 8) {
    if (size === 8) {
      off = (c) => {
        const lo = ea(c), hi = c.linHi;
        const oLo = c.lo[r], oHi = c.hi[r];
        // (offset SAR 6) * 8 = (offset SAR 3) with the low three bits cleared.
        const dLo = ((oLo >>> 3) | (oHi << 29)) & ~7;
        const dHi = oHi >> 3;
        const s = (lo >>> 0) + (dLo >>> 0);
        c.linHi = (hi + dHi + (s >= TWO32 ? 1 : 0)) | 0;
        return s | 0;
      };
    } else {
      const sh = size === 4 ? 0 : 16;
      const q = size === 4 ? 5 : 4;
      const k = size === 4 ? 2 : 1;
      off = (c) => {
        const lo = ea(c), hi = c.linHi;
        const dv = (((c.lo[r] << sh) >> sh) >> q) << k;
        const s = (lo >>> 0) + (dv >>> 0);
        c.linHi = (hi + (dv >> 31) + (s >= TWO32 ? 1 : 0)) | 0;
        return s | 0;
      };
    }
  } else {
    // 16/32-bit addressing: only the low 32 bits of a 64-bit offset can matter after wrapping.
    const wrap = m.addrSize === 4 ? -1 : 0xffff;
    if (size === 8) {
      off = (c) => {
        const lo = ea(c);
        const dv = ((c.lo[r] >>> 3) | (c.hi[r] << 29)) & ~7;
        c.linHi = 0;
        return (lo + dv) & wrap;
      };
    } else {
      const sh = size === 4 ? 0 : 16;
      const q = size === 4 ? 5 : 4;
      const k = size === 4 ? 2 : 1;
      off = (c) => {
        const lo = ea(c);
        const dv = (((c.lo[r] << sh) >> sh) >> q) << k;
        c.linHi = 0;
        return (lo + dv) & wrap;
      };
    }
  }
  return segmented(d.bitness, m.seg, size, off, write);
}

function bt(d: DecodedInsn, kind: BtKind): Op {
  const size = d.opSizes[0];
  const bits = 8 * size;
  const regOff = d.opKinds[1] === OpKind.Register;
  const s = regOff ? gprOf(d.opRegs[1])!.index : -1;
  const imm = d.immLo & (bits - 1);
  const g = d.opKinds[0] === OpKind.Register ? gprOf(d.opRegs[0]) : null;

  if (g !== null) {
    const r = g.index;
    if (size === 8) {
      return (c) => {
        const n = regOff ? c.lo[s] & 63 : imm;
        if (n < 32) {
          const v = c.lo[r];
          btFlags(c, (v >>> n) & 1);
          if (kind !== BtKind.Test) c.lo[r] = btApply(kind, v, 1 << n);
        } else {
          const v = c.hi[r];
          btFlags(c, (v >>> (n - 32)) & 1);
          if (kind !== BtKind.Test) c.hi[r] = btApply(kind, v, 1 << (n - 32));
        }
      };
    }
    if (size === 4) {
      return (c) => {
        const n = regOff ? c.lo[s] & 31 : imm;
        const v = c.lo[r];
        btFlags(c, (v >>> n) & 1);
        if (kind !== BtKind.Test) {
          c.lo[r] = btApply(kind, v, 1 << n);
          c.hi[r] = 0;
        }
      };
    }
    return (c) => {
      const n = regOff ? c.lo[s] & 15 : imm;
      const v = c.lo[r];
      btFlags(c, (v >>> n) & 1);
      if (kind !== BtKind.Test) c.lo[r] = (v & ~0xffff) | (btApply(kind, v, 1 << n) & 0xffff);
    };
  }

  // BTS/BTR/BTC write: the segment must be writable (SDM vol. 3A §5.4).
  const write = kind !== BtKind.Test;
  const a = regOff ? btAddress(d, size, s, write) : segmented(d.bitness, d.mem!.seg, size, effectiveAddress(d.mem!), write);
  const nmask = bits - 1;
  if (kind === BtKind.Test) {
    if (size === 8) {
      return (c) => {
        const n = regOff ? c.lo[s] & 63 : imm;
        const lo = c.read64(a(c), c.linHi);
        btFlags(c, n < 32 ? (lo >>> n) & 1 : (c.vHi >>> (n - 32)) & 1);
      };
    }
    if (size === 4) {
      return (c) => {
        const n = regOff ? c.lo[s] & 31 : imm;
        btFlags(c, (c.read32(a(c), c.linHi) >>> n) & 1);
      };
    }
    return (c) => {
      const n = regOff ? c.lo[s] & 15 : imm;
      btFlags(c, (c.read16(a(c), c.linHi) >>> n) & 1);
    };
  }
  if (size === 8) {
    return (c) => {
      const n = regOff ? c.lo[s] & 63 : imm;
      const lo = c.rmwBegin(a(c), c.linHi, 8);
      const hi = c.vHi;
      if (n < 32) {
        btFlags(c, (lo >>> n) & 1);
        c.rmwEnd64(btApply(kind, lo, 1 << n), hi);
      } else {
        btFlags(c, (hi >>> (n - 32)) & 1);
        c.rmwEnd64(lo, btApply(kind, hi, 1 << (n - 32)));
      }
    };
  }
  return (c) => {
    const n = regOff ? c.lo[s] & nmask : imm;
    const v = c.rmwBegin(a(c), c.linHi, size);
    btFlags(c, (v >>> n) & 1);
    c.rmwEnd(size, btApply(kind, v, 1 << n));
  };
}

// ---- BSF, BSR, LZCNT, TZCNT, POPCNT ------------------------------------------------------------

function ctz32(v: number): number {
  return 31 - Math.clz32(v & -v);
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

/**
 * BSF/BSR: a zero source sets ZF and leaves the destination unchanged, all of it (a 32-bit
 * destination's upper half too, measured). Otherwise ZF = 0 and the destination gets the index.
 * CF, OF, SF, AF, PF are undefined; Intel hardware clears them and sets PF from the result's
 * parity (measured).
 */
function bitScanFlags(c: Cpu, zero: boolean, r: number): void {
  c.fRes = zero ? 0 : 1;
  c.fSgn = 0;
  c.fPar = zero ? 0 : r;
  c.fCO = 0;
  c.fAux = 0;
}

/** 64-bit index function: value as halves -> index (only called with a non-zero value). */
type Scan64 = (lo: number, hi: number) => number;
type Scan32 = (v: number) => number;

const bsf32: Scan32 = (v) => ctz32(v);
const bsr32: Scan32 = (v) => 31 - Math.clz32(v);
const bsf64: Scan64 = (lo, hi) => (lo !== 0 ? ctz32(lo) : 32 + ctz32(hi));
const bsr64: Scan64 = (lo, hi) => (hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo));

function bitScan(d: DecodedInsn, f: Scan32, f64: Scan64): Op {
  const size = d.opSizes[0];
  const r = gprOf(d.opRegs[0])!.index;
  if (size === 8) {
    const rd = operandReader64(d, 1);
    return (c) => {
      const lo = rd(c), hi = c.vHi;
      if ((lo | hi) === 0) { bitScanFlags(c, true, 0); return; }
      const x = f64(lo, hi);
      bitScanFlags(c, false, x);
      c.lo[r] = x;
      c.hi[r] = 0;
    };
  }
  const rd = operandReader(d, 1, size);
  if (size === 4) {
    return (c) => {
      const v = rd(c);
      if (v === 0) { bitScanFlags(c, true, 0); return; }
      const x = f(v);
      bitScanFlags(c, false, x);
      c.lo[r] = x;
      c.hi[r] = 0;
    };
  }
  return (c) => {
    const v = rd(c);
    if (v === 0) { bitScanFlags(c, true, 0); return; }
    const x = f(v);
    bitScanFlags(c, false, x);
    c.lo[r] = (c.lo[r] & ~0xffff) | x;
  };
}

/**
 * LZCNT/TZCNT: CF = (source == 0), ZF = (result == 0); OF, SF, AF, PF undefined (Intel
 * hardware clears them, measured).
 */
function countFlags(c: Cpu, srcZero: boolean, r: number): void {
  c.fRes = r;
  c.fSgn = 0;
  c.fPar = 1;
  c.fCO = srcZero ? (1 << 31) | (1 << 30) : 0;
  c.fAux = 0;
}

function count(d: DecodedInsn, lead: boolean): Op {
  const size = d.opSizes[0];
  const r = gprOf(d.opRegs[0])!.index;
  if (size === 8) {
    const rd = operandReader64(d, 1);
    return lead
      ? (c) => {
        const lo = rd(c), hi = c.vHi;
        const x = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
        countFlags(c, x === 64, x);
        c.lo[r] = x;
        c.hi[r] = 0;
      }
      : (c) => {
        const lo = rd(c), hi = c.vHi;
        const x = lo !== 0 ? ctz32(lo) : hi !== 0 ? 32 + ctz32(hi) : 64;
        countFlags(c, x === 64, x);
        c.lo[r] = x;
        c.hi[r] = 0;
      };
  }
  const rd = operandReader(d, 1, size);
  if (size === 4) {
    return lead
      ? (c) => {
        const x = Math.clz32(rd(c));
        countFlags(c, x === 32, x);
        c.lo[r] = x;
        c.hi[r] = 0;
      }
      : (c) => {
        const v = rd(c);
        const x = v === 0 ? 32 : ctz32(v);
        countFlags(c, x === 32, x);
        c.lo[r] = x;
        c.hi[r] = 0;
      };
  }
  return lead
    ? (c) => {
      const x = Math.clz32(rd(c)) - 16;
      countFlags(c, x === 16, x);
      c.lo[r] = (c.lo[r] & ~0xffff) | x;
    }
    : (c) => {
      const v = rd(c);
      const x = v === 0 ? 16 : ctz32(v);
      countFlags(c, x === 16, x);
      c.lo[r] = (c.lo[r] & ~0xffff) | x;
    };
}

/** POPCNT: ZF = (source == 0); OF, SF, AF, CF, PF cleared (SDM "POPCNT", flags affected). */
function popcntFlags(c: Cpu, x: number): void {
  c.fRes = x;
  c.fSgn = 0;
  c.fPar = 1;
  c.fCO = 0;
  c.fAux = 0;
}

function popcnt(d: DecodedInsn): Op {
  const size = d.opSizes[0];
  const r = gprOf(d.opRegs[0])!.index;
  if (size === 8) {
    const rd = operandReader64(d, 1);
    return (c) => {
      const lo = rd(c);
      const x = popcount32(lo) + popcount32(c.vHi);
      popcntFlags(c, x);
      c.lo[r] = x;
      c.hi[r] = 0;
    };
  }
  const rd = operandReader(d, 1, size);
  if (size === 4) {
    return (c) => {
      const x = popcount32(rd(c));
      popcntFlags(c, x);
      c.lo[r] = x;
      c.hi[r] = 0;
    };
  }
  return (c) => {
    const x = popcount32(rd(c));
    popcntFlags(c, x);
    c.lo[r] = (c.lo[r] & ~0xffff) | x;
  };
}

export const bitHandlers: TranslatorTable = {
  [Mnemonic.Bt]: (d) => bt(d, BtKind.Test),
  [Mnemonic.Bts]: (d) => bt(d, BtKind.Set),
  [Mnemonic.Btr]: (d) => bt(d, BtKind.Reset),
  [Mnemonic.Btc]: (d) => bt(d, BtKind.Complement),
  [Mnemonic.Bsf]: (d) => bitScan(d, bsf32, bsf64),
  [Mnemonic.Bsr]: (d) => bitScan(d, bsr32, bsr64),
  [Mnemonic.Lzcnt]: (d) => count(d, true),
  [Mnemonic.Tzcnt]: (d) => count(d, false),
  [Mnemonic.Popcnt]: (d) => popcnt(d),
};
