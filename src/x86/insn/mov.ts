/**
 * MOV between general registers, memory and immediates, including the moffs forms A0-A3 (a
 * memory operand with only a displacement), and to/from segment registers (SDM vol. 2B, MOV).
 */
import { Mnemonic, OpKind } from 'iced-x86';
import type { DecodedInsn } from '../decoded';
import { gprOf, segOf } from '../decoded';
import type { Op } from '../operands';
import { linearAddress, operandReader, operandReader64, operandWriter, operandWriter64 } from '../operands';
import { Seg } from '../registers';
import type { TranslatorTable } from '../translator';
import { movControl } from './controlRegs';
import { loadSegment } from '../segmentation';

/**
 * MOV r/m, Sreg: a memory destination receives 16 bits; a 32/64-bit register destination is
 * zero-extended (SDM MOV: P6 and later fill the upper bytes with zeros; measured for EAX and
 * RAX), a 16-bit one keeps the rest of the register.
 */
function movFromSreg(d: DecodedInsn, s: number): Op | null {
  if (d.opKinds[0] === OpKind.Memory) {
    const a = linearAddress(d, d.mem!, 2, true);
    return (c) => c.write16(a(c), c.linHi, c.segSel[s]);
  }
  const g = gprOf(d.opRegs[0]);
  if (g === null) return null;
  const r = g.index;
  if (d.opSizes[0] === 2) return (c) => { c.lo[r] = (c.lo[r] & ~0xffff) | c.segSel[s]; };
  return (c) => { c.lo[r] = c.segSel[s]; c.hi[r] = 0; };
}

/**
 * MOV Sreg, r/m16 (the low 16 bits of a register, or a word of memory). MOV to CS is #UD. The
 * load itself (real-mode base = selector << 4, or the protected-mode descriptor checks) is
 * segmentation.ts loadSegment. MOV SS inhibits interrupts until the end of the next
 * instruction (SDM vol. 3A §6.8.3): the block ends after it and the event logic is told.
 */
function movToSreg(d: DecodedInsn, s: number): Op | null {
  if (s === Seg.CS || s > Seg.GS) return null;
  const rd = operandReader(d, 1, 2);
  if (s === Seg.SS) {
    d.endsBlock = true;
    d.setsRip = false;
    return (c) => {
      loadSegment(c, s, rd(c));
      c.interruptShadow = true;
      c.eventPending = true;
    };
  }
  return (c) => loadSegment(c, s, rd(c));
}

function mov(d: DecodedInsn): Op | null {
  const size = d.opSizes[0];
  const k0 = d.opKinds[0], k1 = d.opKinds[1];
  const g0 = k0 === OpKind.Register ? gprOf(d.opRegs[0]) : null;
  const g1 = k1 === OpKind.Register ? gprOf(d.opRegs[1]) : null;
  if (k1 === OpKind.Register && g1 === null && segOf(d.opRegs[1]) >= 0) return movFromSreg(d, segOf(d.opRegs[1]));
  if (k0 === OpKind.Register && g0 === null && segOf(d.opRegs[0]) >= 0) return movToSreg(d, segOf(d.opRegs[0]));
  if ((k0 === OpKind.Register && g0 === null) || (k1 === OpKind.Register && g1 === null)) {
    return movControl(d); // MOV to/from CRn and DRn (controlRegs.ts)
  }
  if (size === 8) {
    if (g0 !== null && g1 !== null) {
      const r = g0.index, s = g1.index;
      return (c) => { c.lo[r] = c.lo[s]; c.hi[r] = c.hi[s]; };
    }
    if (g0 !== null && k1 !== OpKind.Memory) {
      const r = g0.index, lo = d.immLo, hi = d.immHi;
      return (c) => { c.lo[r] = lo; c.hi[r] = hi; };
    }
    const rd = operandReader64(d, 1);
    const wr = operandWriter64(d, 0);
    if (g0 !== null) {
      const r = g0.index;
      return (c) => { c.lo[r] = rd(c); c.hi[r] = c.vHi; };
    }
    return (c) => { const lo = rd(c); wr(c, lo, c.vHi); };
  }
  if (size === 4 && g0 !== null && g1 !== null) {
    const r = g0.index, s = g1.index;
    return (c) => { c.lo[r] = c.lo[s]; c.hi[r] = 0; };
  }
  if (size === 4 && g0 !== null && k1 !== OpKind.Memory) {
    const r = g0.index, v = d.immLo | 0;
    return (c) => { c.lo[r] = v; c.hi[r] = 0; };
  }
  const rd = operandReader(d, 1, size);
  const wr = operandWriter(d, 0, size);
  return (c) => wr(c, rd(c));
}

export const movHandlers: TranslatorTable = {
  [Mnemonic.Mov]: mov,
};
