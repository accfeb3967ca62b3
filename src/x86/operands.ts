/**
 * Closure builders for operands: effective-address arithmetic (SDM vol. 2A §2.1.5, table 2-1/2-2
 * for 16/32-bit forms, §2.2.1.6 for RIP-relative), segmentation (SDM vol. 3A §3.4, §5.3 limit
 * checks; vol. 1 §3.3.7 for the 64-bit flat model with FS/GS bases and canonical checks), and
 * readers/writers of register, memory and immediate operands specialised at translation time.
 *
 * Register writes follow SDM vol. 1 §3.4.1.1: 8/16-bit writes keep the rest of the register,
 * 32-bit writes zero-extend into the upper half.
 */
import { OpKind } from 'iced-x86';
import type { Cpu } from './cpu';
import type { DecodedInsn, MemOperand } from './decoded';
import { gprOf } from './decoded';
import { CpuException, Vector } from './exceptions';
import { Seg } from './registers';

export type Op = (cpu: Cpu) => void;
/** Returns an address's low half; the high half goes to `cpu.linHi`. */
export type AddrFn = (cpu: Cpu) => number;
/** Reads a value of 1, 2 or 4 bytes (8/16-bit zero-extended, 32-bit as int32). */
export type ReadFn = (cpu: Cpu) => number;
/** Reads a 64-bit value: returns the low half, high half in `cpu.vHi`. */
export type Read64Fn = (cpu: Cpu) => number;
export type WriteFn = (cpu: Cpu, v: number) => void;
export type Write64Fn = (cpu: Cpu, lo: number, hi: number) => void;

export interface Rmw {
  /** Checks the write, reads the current value (64-bit: low half, high in cpu.vHi). */
  begin: ReadFn;
  end: WriteFn;
  end64: Write64Fn;
}

const TWO32 = 4294967296;

function segFault(seg: number): CpuException {
  return seg === Seg.SS
    ? new CpuException(Vector.SS, 0, 'stack address outside the segment or not canonical')
    : new CpuException(Vector.GP, 0, 'address outside the segment limit or not canonical');
}

/**
 * Effective address (the offset within the segment), wrapped to the address size.
 * Returns the low half; the high half (64-bit addressing only, else 0) goes to cpu.linHi.
 */
export function effectiveAddress(m: MemOperand): AddrFn {
  const { base, index, scale } = m;
  const dLo = m.dispLo | 0;
  const dLoU = m.dispLo >>> 0;
  const dHi = m.dispHi | 0;
  if (m.addrSize === 8) {
    if (base < 0 && index < 0) {
      return (cpu) => { cpu.linHi = dHi; return dLo; };
    }
    if (index < 0) {
      return (cpu) => {
        const s = (cpu.lo[base] >>> 0) + dLoU;
        cpu.linHi = (cpu.hi[base] + dHi + (s >= TWO32 ? 1 : 0)) | 0;
        return s | 0;
      };
    }
    if (base < 0) {
      return (cpu) => {
        const s = (cpu.lo[index] >>> 0) * scale + dLoU;
        cpu.linHi = (Math.imul(cpu.hi[index], scale) + dHi + Math.floor(s / TWO32)) | 0;
        return s | 0;
      };
    }
    return (cpu) => {
      const s = (cpu.lo[base] >>> 0) + (cpu.lo[index] >>> 0) * scale + dLoU;
      cpu.linHi = (cpu.hi[base] + Math.imul(cpu.hi[index], scale) + dHi + Math.floor(s / TWO32)) | 0;
      return s | 0;
    };
  }
  if (m.addrSize === 4) {
    if (base < 0 && index < 0) return (cpu) => { cpu.linHi = 0; return dLo; };
    if (index < 0) return (cpu) => { cpu.linHi = 0; return (cpu.lo[base] + dLo) | 0; };
    if (base < 0) return (cpu) => { cpu.linHi = 0; return (Math.imul(cpu.lo[index], scale) + dLo) | 0; };
    return (cpu) => { cpu.linHi = 0; return (cpu.lo[base] + Math.imul(cpu.lo[index], scale) + dLo) | 0; };
  }
  // 16-bit addressing: [BX|BP] + [SI|DI] + disp, wrapped to 16 bits.
  if (base < 0 && index < 0) return (cpu) => { cpu.linHi = 0; return dLo & 0xffff; };
  if (index < 0) return (cpu) => { cpu.linHi = 0; return (cpu.lo[base] + dLo) & 0xffff; };
  if (base < 0) return (cpu) => { cpu.linHi = 0; return (cpu.lo[index] + dLo) & 0xffff; };
  return (cpu) => { cpu.linHi = 0; return (cpu.lo[base] + cpu.lo[index] + dLo) & 0xffff; };
}

/**
 * Segmentation of an offset closure: returns the linear address of an access of `size` bytes.
 * 64-bit mode: only FS/GS add a base; the address must be canonical (#GP(0), #SS(0) for SS).
 * Otherwise: base + offset modulo 2^32, after the checks of SDM vol. 3A §5.3-5.4 in protected
 * mode (see segmentCheck). `write` selects the write-permission check.
 */
export function segmented(bitness: number, seg: number, size: number, off: AddrFn, write = false): AddrFn {
  if (bitness === 64) {
    if (seg === Seg.FS || seg === Seg.GS) {
      return (c) => {
        const lo = off(c);
        const s = (lo >>> 0) + (c.segBaseLo[seg] >>> 0);
        const hi = (c.linHi + c.segBaseHi[seg] + (s >= TWO32 ? 1 : 0)) | 0;
        if (((hi << c.canonShift) >> c.canonShift) !== hi) throw segFault(seg);
        c.linHi = hi;
        return s | 0;
      };
    }
    return (c) => {
      const lo = off(c);
      const hi = c.linHi;
      if (((hi << c.canonShift) >> c.canonShift) !== hi) throw segFault(seg);
      return lo;
    };
  }
  const last = size > 0 ? size - 1 : 0;
  // Fast case: a usable, expand-up, writable data segment (type 2/3) within its limit.
  return (c) => {
    const o = off(c) >>> 0;
    if ((c.segAttr[seg] & 0x1000e) !== 2 || o + last > c.segLimit[seg]) segmentCheck(c, seg, o, last, write);
    c.linHi = 0;
    return (o + c.segBaseLo[seg]) | 0;
  };
}

/**
 * The full segment checks outside 64-bit mode (SDM vol. 3A §5.3 limit checking, §5.4 type
 * checking, §3.4.5.1 expand-down segments): in real mode only the limit applies; in protected
 * mode a null/unusable segment, a write to a code or read-only data segment, or a read of an
 * execute-only code segment fault too. #SS(0) for SS, #GP(0) otherwise.
 */
export function segmentCheck(c: Cpu, seg: number, o: number, last: number, write: boolean): void {
  const a = c.segAttr[seg];
  const limit = c.segLimit[seg];
  if (c.protectedMode) {
    if (a & 0x10000) throw segFault(seg);
    const code = (a & 8) !== 0;
    if (write ? code || (a & 2) === 0 : code && (a & 2) === 0) throw segFault(seg);
    if (!code && (a & 4) !== 0) {
      // Expand-down: valid offsets are limit+1 .. 0xffff or 0xffffffff (by the B flag).
      const top = a & 0x4000 ? 0xffffffff : 0xffff;
      if (o <= limit || o + last > top) throw segFault(seg);
      return;
    }
  }
  if (o + last > limit) throw segFault(seg);
}

/** Linear address of memory operand `m` for an access of `size` bytes (default: its own size). */
export function linearAddress(d: DecodedInsn, m: MemOperand, size = m.size, write = false): AddrFn {
  return segmented(d.bitness, m.seg, size, effectiveAddress(m), write);
}

function memOf(d: DecodedInsn): MemOperand {
  if (d.mem === null) throw new Error(`internal: no memory operand in ${d.mnemonic}`);
  return d.mem;
}

export function regReader(reg: number, size: number, high8: boolean): ReadFn {
  if (size === 1) return high8 ? (c) => (c.lo[reg] >> 8) & 0xff : (c) => c.lo[reg] & 0xff;
  if (size === 2) return (c) => c.lo[reg] & 0xffff;
  return (c) => c.lo[reg];
}

export function regWriter(reg: number, size: number, high8: boolean): WriteFn {
  if (size === 1) {
    return high8
      ? (c, v) => { c.lo[reg] = (c.lo[reg] & ~0xff00) | ((v & 0xff) << 8); }
      : (c, v) => { c.lo[reg] = (c.lo[reg] & ~0xff) | (v & 0xff); };
  }
  if (size === 2) return (c, v) => { c.lo[reg] = (c.lo[reg] & ~0xffff) | (v & 0xffff); };
  return (c, v) => { c.lo[reg] = v; c.hi[reg] = 0; };
}

function readMem(addr: AddrFn, size: number): ReadFn {
  if (size === 4) return (c) => c.read32(addr(c), c.linHi);
  if (size === 2) return (c) => c.read16(addr(c), c.linHi);
  return (c) => c.read8(addr(c), c.linHi);
}

function writeMem(addr: AddrFn, size: number): WriteFn {
  if (size === 4) return (c, v) => c.write32(addr(c), c.linHi, v);
  if (size === 2) return (c, v) => c.write16(addr(c), c.linHi, v);
  return (c, v) => c.write8(addr(c), c.linHi, v);
}

function isImm(k: OpKind): boolean {
  return k >= OpKind.Immediate8 && k <= OpKind.Immediate32to64;
}

/** Reader of operand `i` as a value of `size` bytes (1, 2, 4). */
export function operandReader(d: DecodedInsn, i: number, size = d.opSizes[i]): ReadFn {
  const k = d.opKinds[i];
  if (k === OpKind.Register) {
    const g = gprOf(d.opRegs[i]);
    if (g === null) throw new Error(`internal: operand ${i} of ${d.mnemonic} is not a GPR`);
    return regReader(g.index, size, g.high8);
  }
  if (k === OpKind.Memory) return readMem(linearAddress(d, memOf(d), size), size);
  if (isImm(k)) {
    const v = size === 1 ? d.immLo & 0xff : size === 2 ? d.immLo & 0xffff : d.immLo | 0;
    return () => v;
  }
  throw new Error(`internal: cannot read operand kind ${k} of ${d.mnemonic}`);
}

/** Reader of operand `i` as a 64-bit value (low half returned, high half in cpu.vHi). */
export function operandReader64(d: DecodedInsn, i: number): Read64Fn {
  const k = d.opKinds[i];
  if (k === OpKind.Register) {
    const r = gprOf(d.opRegs[i])!.index;
    return (c) => { c.vHi = c.hi[r]; return c.lo[r]; };
  }
  if (k === OpKind.Memory) {
    const a = linearAddress(d, memOf(d), 8);
    return (c) => c.read64(a(c), c.linHi);
  }
  if (isImm(k)) {
    const lo = d.immLo, hi = d.immHi;
    return (c) => { c.vHi = hi; return lo; };
  }
  throw new Error(`internal: cannot read operand kind ${k} of ${d.mnemonic}`);
}

/** Writer of operand `i` (1, 2 or 4 bytes; 4-byte register writes zero the upper half). */
export function operandWriter(d: DecodedInsn, i: number, size = d.opSizes[i]): WriteFn {
  const k = d.opKinds[i];
  if (k === OpKind.Register) {
    const g = gprOf(d.opRegs[i])!;
    return regWriter(g.index, size, g.high8);
  }
  if (k === OpKind.Memory) return writeMem(linearAddress(d, memOf(d), size, true), size);
  throw new Error(`internal: cannot write operand kind ${k} of ${d.mnemonic}`);
}

export function operandWriter64(d: DecodedInsn, i: number): Write64Fn {
  const k = d.opKinds[i];
  if (k === OpKind.Register) {
    const r = gprOf(d.opRegs[i])!.index;
    return (c, lo, hi) => { c.lo[r] = lo; c.hi[r] = hi; };
  }
  if (k === OpKind.Memory) {
    const a = linearAddress(d, memOf(d), 8, true);
    return (c, lo, hi) => c.write64(a(c), c.linHi, lo, hi);
  }
  throw new Error(`internal: cannot write operand kind ${k} of ${d.mnemonic}`);
}

/**
 * Read-modify-write access to operand `i` of `size` bytes (1, 2, 4 or 8). For memory, `begin`
 * raises any fault of the write before anything changes, and `end`/`end64` store without
 * translating again.
 */
export function operandRmw(d: DecodedInsn, i: number, size = d.opSizes[i]): Rmw {
  const k = d.opKinds[i];
  if (k === OpKind.Register) {
    const g = gprOf(d.opRegs[i])!;
    const r = g.index;
    if (size === 8) {
      return {
        begin: (c) => { c.vHi = c.hi[r]; return c.lo[r]; },
        end: () => { throw new Error('internal: 32-bit end on a 64-bit rmw'); },
        end64: (c, lo, hi) => { c.lo[r] = lo; c.hi[r] = hi; },
      };
    }
    return {
      begin: regReader(r, size, g.high8),
      end: regWriter(r, size, g.high8),
      end64: () => { throw new Error('internal: 64-bit end on a narrow rmw'); },
    };
  }
  if (k === OpKind.Memory) {
    const a = linearAddress(d, memOf(d), size, true);
    return {
      begin: (c) => c.rmwBegin(a(c), c.linHi, size),
      end: (c, v) => c.rmwEnd(size, v),
      end64: (c, lo, hi) => c.rmwEnd64(lo, hi),
    };
  }
  throw new Error(`internal: cannot modify operand kind ${k} of ${d.mnemonic}`);
}

/** Size in bytes of the instruction's main operand (operand 0, else operand 1). */
export function operandSize(d: DecodedInsn): number {
  return d.opSizes[0] || d.opSizes[1] || 0;
}
