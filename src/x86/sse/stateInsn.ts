/**
 * SSE state and store instructions outside the arithmetic groups: LDMXCSR/STMXCSR, FXSAVE/FXRSTOR,
 * MOVNTI, MASKMOVDQU, and CRC32 (SSE4.2) (SDM vol. 1 §10.5, vol. 2 instruction pages).
 */
import { OpKind } from 'iced-x86';
import type { Cpu } from '../cpu';
import { gprOf } from '../decoded';
import { CpuException, Vector, gp0 } from '../exceptions';
import { linearAddress, operandReader, operandReader64, operandWriter, operandWriter64 } from '../operands';
import type { Translator } from '../translator';
import { A, CR0_EM, CR0_TS, MXCSR_MASK, X, isMmx, loadXmm, memAddr, sseCheck, xmmOf } from './common';
import { fxrstor, fxsave } from './fxsave';
// ---- MXCSR, FXSAVE/FXRSTOR ----------------------------------------------------------------------
export const ldmxcsr: Translator = (d) => {
  const rd = operandReader(d, 0, 4);
  return (c) => {
    sseCheck(c);
    const v = rd(c);
    // Setting a reserved bit raises #GP(0) (SDM vol. 2 LDMXCSR).
    if ((v & ~MXCSR_MASK) !== 0) throw gp0('LDMXCSR with reserved MXCSR bits set');
    c.sse.mxcsr = v;
  };
};
export const stmxcsr: Translator = (d) => {
  const wr = operandWriter(d, 0, 4);
  return (c) => { sseCheck(c); wr(c, c.sse.mxcsr); };
};
/** FXSAVE/FXRSTOR: #NM when CR0.TS or CR0.EM (SDM vol. 2 FXSAVE "Protected Mode Exceptions"). */
function fxCheck(c: Cpu): void {
  if ((c.cr0 & (CR0_TS | CR0_EM)) !== 0) throw new CpuException(Vector.NM, undefined, 'FXSAVE/FXRSTOR with CR0.TS or CR0.EM');
}
export const fxsaveT: Translator = (d) => {
  const a = memAddr(d, 512, true, true);
  const wide = d.rexW && d.bitness === 64;
  return (c) => { fxCheck(c); const lo = a(c); fxsave(c, lo, c.linHi, wide); };
};
export const fxrstorT: Translator = (d) => {
  const a = memAddr(d, 512, true, false);
  const wide = d.rexW && d.bitness === 64;
  return (c) => { fxCheck(c); const lo = a(c); fxrstor(c, lo, c.linHi, wide); };
};

/** MOVNTI m32/m64, r32/r64 (SSE2; a GPR store, not subject to CR0.TS/EM or CR4.OSFXSR). */
export const movnti: Translator = (d) => {
  if (d.opSizes[1] === 8) {
    const wr = operandWriter64(d, 0); const r = gprOf(d.opRegs[1])!.index;
    return (c) => wr(c, c.lo[r], c.hi[r]);
  }
  const wr = operandWriter(d, 0, 4); const r = gprOf(d.opRegs[1])!.index;
  return (c) => wr(c, c.lo[r]);
};

/**
 * MASKMOVDQU xmm1, xmm2: stores the bytes of xmm1 whose mask byte (xmm2) has bit 7 set to
 * DS:rDI (segment override allowed). Both halves are checked before any byte is written, the high
 * quadword first, even when the mask selects no byte (the SDM leaves faults with an all-zero mask
 * implementation-dependent; the host's CR2 shows this order, test/conformance).
 */
export const maskmovdqu: Translator = (d) => {
  if (isMmx(d)) return null;
  const src = xmmOf(d.opRegs[1]), msk = xmmOf(d.opRegs[2]);
  const a = linearAddress(d, { ...d.mem!, size: 16 }, 16, true);
  return (c) => {
    sseCheck(c);
    loadXmm(c, src, A); loadXmm(c, msk, X);
    const lo = a(c), hi = c.linHi;
    const s8 = (lo >>> 0) + 8;
    c.checkWrite(s8 | 0, s8 >= 4294967296 && c.bitness === 64 ? (hi + 1) | 0 : hi, 8);
    c.checkWrite(lo, hi, 8);
    for (let i = 0; i < 16; i++) {
      if ((X.u8[i] & 0x80) === 0) continue;
      const s = (lo >>> 0) + i;
      c.write8(s | 0, s >= 4294967296 && c.bitness === 64 ? (hi + 1) | 0 : hi, A.u8[i]);
    }
  };
};

/** CRC32 (SSE4.2): CRC-32C (polynomial 0x11EDC6F41, bit-reflected) of 1/2/4/8 source bytes. */
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  return t;
})();
export const crc32: Translator = (d) => {
  const dst = gprOf(d.opRegs[0])!.index;
  const size = d.opKinds[1] === OpKind.Register ? gprOf(d.opRegs[1])!.size : d.mem!.size;
  const rd = size === 8 ? null : operandReader(d, 1, size);
  const rd64 = size === 8 ? operandReader64(d, 1) : null;
  return (c) => {
    let lo: number, hi = 0;
    if (rd64 !== null) { lo = rd64(c); hi = c.vHi; } else lo = rd!(c);
    let crc = c.lo[dst];
    for (let i = 0; i < size; i++) {
      const b = i < 4 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 4))) & 0xff;
      crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ b) & 0xff];
    }
    c.lo[dst] = crc; c.hi[dst] = 0;
  };
};

