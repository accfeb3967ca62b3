/** MOV between general registers, memory and immediates (SDM vol. 2B, MOV). */
import { Mnemonic, OpKind } from 'iced-x86';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import type { Op } from '../operands';
import { operandReader, operandReader64, operandWriter, operandWriter64 } from '../operands';
import type { TranslatorTable } from '../translator';

function mov(d: DecodedInsn): Op | null {
  const size = d.opSizes[0];
  const k0 = d.opKinds[0], k1 = d.opKinds[1];
  const g0 = k0 === OpKind.Register ? gprOf(d.opRegs[0]) : null;
  const g1 = k1 === OpKind.Register ? gprOf(d.opRegs[1]) : null;
  if ((k0 === OpKind.Register && g0 === null) || (k1 === OpKind.Register && g1 === null)) {
    return null; // segment, control and debug register moves belong to the system layer
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
