/**
 * x87 operand sources and memory addresses: ST(i) and m32fp/m64fp/m80fp/m16int/m32int/m64int
 * loaders that leave the value in the soft-float result `R` (SDM vol. 1 §8.1, §4.2), and the
 * linear-address stepping of multi-byte memory areas.
 */
import { Register } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { linearAddress, type AddrFn } from '../operands';
import * as stack from './stack';

// Plain copies: property loads instead of the module namespaces' accessors (hot path; under the
// CommonJS transform every imported name is read through a getter).
const { sf, phys, isEmpty, TWO32 } = stack;

/**
 * High half of the address addLin() returned. One shared plain object (not an exported `let`,
 * which other modules could only read through an accessor).
 */
export const lin = { hi2: 0 };

// ---- operand sources ---------------------------------------------------------------------
/** A source operand loader: sets R.s/rE/rH/rL (and fx for conversion flags). Returns false on stack underflow. */
export type Src = (c: Cpu) => boolean;

export function regIndex(r: Register): number { return r - Register.ST0; }

export function srcReg(i: number): Src {
  return (c) => {
    const f = c.fpu, p = phys(f, i);
    if (isEmpty(f, p)) return false;
    sf.setResult(f.signExp[p] >>> 15, f.signExp[p] & 0x7fff, f.sigHi[p], f.sigLo[p]);
    return true;
  };
}

export function addr(d: DecodedInsn, size: number, write = false): AddrFn {
  return linearAddress(d, d.mem!, size, write);
}

/** Memory source in format `kind`: 'f32' | 'f64' | 'f80' | 'i16' | 'i32' | 'i64'. */
export function srcMem(d: DecodedInsn, kind: string, raw = false): Src {
  switch (kind) {
    case 'f32': { const a = addr(d, 4); return (c) => { sf.fromF32(c.read32(a(c), c.linHi), raw); return true; }; }
    case 'f64': { const a = addr(d, 8); return (c) => { const lo = c.read64(a(c), c.linHi); sf.fromF64(lo, c.vHi, raw); return true; }; }
    case 'f80': {
      const a = addr(d, 10);
      const wide = d.bitness === 64;
      return (c) => {
        const lo = a(c), hi = c.linHi;
        const l = c.read64(lo, hi), h = c.vHi;
        const lo2 = addLin(lo, hi, 8, wide);
        const se = c.read16(lo2, lin.hi2);
        sf.setResult(se >>> 15, se & 0x7fff, h, l);
        return true;
      };
    }
    case 'i16': { const a = addr(d, 2); return (c) => { const v = (c.read16(a(c), c.linHi) << 16) >> 16; sf.fromInt(v < 0 ? 1 : 0, 0, Math.abs(v)); return true; }; }
    case 'i32': { const a = addr(d, 4); return (c) => { const v = c.read32(a(c), c.linHi) | 0; sf.fromInt(v < 0 ? 1 : 0, 0, Math.abs(v)); return true; }; }
    default: {
      const a = addr(d, 8);
      return (c) => {
        let l = c.read64(a(c), c.linHi) >>> 0, h = c.vHi >>> 0;
        const neg = h >>> 31;
        if (neg) { l = (~l + 1) >>> 0; h = (~h + (l === 0 ? 1 : 0)) >>> 0; }
        sf.fromInt(neg, h, l);
        return true;
      };
    }
  }
}

export function memKind(d: DecodedInsn, int: boolean): string {
  const n = d.mem!.size;
  if (int) return n === 2 ? 'i16' : n === 4 ? 'i32' : 'i64';
  return n === 4 ? 'f32' : n === 8 ? 'f64' : 'f80';
}

/** Advance to the next linear byte address (with the carry into the high half). */
export function addLin(lo: number, hi: number, k: number, wide = true): number {
  const s = (lo >>> 0) + k;
  lin.hi2 = s >= TWO32 && wide ? (hi + 1) | 0 : hi;
  return s | 0;
}
