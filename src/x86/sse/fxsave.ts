/**
 * FXSAVE/FXRSTOR (SDM vol. 2 FXSAVE, tables 3-53/3-56 "Non-64-bit-Mode / 64-bit-Mode Layout of
 * FXSAVE and FXRSTOR Memory Region"; vol. 1 §10.5.1). The x87 state comes from c.fpu
 * (fpu/state.ts). Bytes the layout marks reserved or available are left as they are.
 * 64-bit mode with REX.W (FXSAVE64) stores 64-bit FPU IP/DP; otherwise 32-bit offsets with
 * FCS/FDS. XMM8-15 are saved and restored only in 64-bit mode.
 */
import type { Cpu } from '../cpu';
import { gp0 } from '../exceptions';
import { MXCSR_MASK } from './common';

const IMAGE = new Int32Array(128);
const TWO32 = 4294967296;

function at(c: Cpu, lo: number, hi: number, off: number): number {
  const s = (lo >>> 0) + off;
  c.linHi = s >= TWO32 && c.bitness === 64 ? (hi + 1) | 0 : hi;
  return s | 0;
}

export function fxsave(c: Cpu, lo: number, hi: number, wide: boolean): void {
  c.checkWrite(lo, hi, 512);
  const f = c.fpu;
  const w16 = (off: number, v: number): void => { const a = at(c, lo, hi, off); c.write16(a, c.linHi, v & 0xffff); };
  const w32 = (off: number, v: number): void => { const a = at(c, lo, hi, off); c.write32(a, c.linHi, v); };
  w16(0, f.fcw);
  w16(2, (f.fsw & ~0x3800) | ((f.top & 7) << 11));
  // Abridged tag word: bit i = 1 when physical register i is not empty.
  let tag = 0;
  for (let i = 0; i < 8; i++) if (((f.ftw >> (2 * i)) & 3) !== 3) tag |= 1 << i;
  const a4 = at(c, lo, hi, 4); c.write8(a4, c.linHi, tag);
  w16(6, f.fop & 0x7ff);
  if (wide) {
    w32(8, f.fipLo); w32(12, f.fipHi);
    w32(16, f.fdpLo); w32(20, f.fdpHi);
  } else {
    w32(8, f.fipLo); w16(12, f.fcs);
    w32(16, f.fdpLo); w16(20, f.fds);
  }
  w32(24, c.sse.mxcsr);
  w32(28, MXCSR_MASK);
  for (let i = 0; i < 8; i++) {
    const p = (f.top + i) & 7;
    w32(32 + 16 * i, f.sigLo[p]);
    w32(36 + 16 * i, f.sigHi[p]);
    w16(40 + 16 * i, f.signExp[p]);
  }
  const n = c.bitness === 64 ? 16 : 8;
  for (let r = 0; r < n; r++) for (let k = 0; k < 4; k++) w32(160 + 16 * r + 4 * k, c.sse.xmm[4 * r + k]);
}

/** Full tag of a register from its contents (SDM vol. 1 §8.1.7 figure 8-7). */
function tagOf(sigLo: number, sigHi: number, se: number): number {
  const e = se & 0x7fff;
  if (e === 0x7fff) return 2;
  if (e === 0) return sigLo === 0 && sigHi === 0 ? 1 : 2;
  return (sigHi & 0x80000000) !== 0 ? 0 : 2;
}

export function fxrstor(c: Cpu, lo: number, hi: number, wide: boolean): void {
  const r32 = (off: number): number => { const a = at(c, lo, hi, off); return c.read32(a, c.linHi); };
  // Read everything first (faults before changes), then check MXCSR (#GP(0) for reserved bits).
  const mx = r32(24);
  const buf = IMAGE;
  for (let i = 0; i < 128; i++) buf[i] = r32(4 * i);
  if ((mx & ~MXCSR_MASK) !== 0) throw gp0('FXRSTOR with reserved MXCSR bits set');
  loadX87Image(c, buf, wide);
  c.sse.mxcsr = mx;
  const n = c.bitness === 64 ? 16 : 8;
  for (let r = 0; r < n; r++) for (let k = 0; k < 4; k++) c.sse.xmm[4 * r + k] = buf[40 + 4 * r + k];
}

/**
 * Load the x87 state from the legacy region of an FXSAVE/XSAVE image (SDM vol. 1 §10.5.1,
 * table 10-2), given as 32-bit words: FCW, FSW/TOP, the abridged tag byte (each tag recomputed
 * from the register's contents), FOP, the pointers (64-bit layout when `wide`), ST0-7.
 */
export function loadX87Image(c: Cpu, buf: Int32Array, wide: boolean): void {
  const f = c.fpu;
  const u16 = (off: number): number => (buf[off >> 2] >>> (8 * (off & 3))) & 0xffff;
  f.fcw = u16(0);
  const fsw = u16(2);
  f.top = (fsw >> 11) & 7;
  f.fsw = fsw & ~0x3800;
  const tag = buf[1] & 0xff;
  f.fop = u16(6) & 0x7ff;
  if (wide) {
    f.fipLo = buf[2]; f.fipHi = buf[3]; f.fdpLo = buf[4]; f.fdpHi = buf[5];
  } else {
    f.fipLo = buf[2]; f.fipHi = 0; f.fcs = u16(12); f.fdpLo = buf[4]; f.fdpHi = 0; f.fds = u16(20);
  }
  for (let i = 0; i < 8; i++) {
    const p = (f.top + i) & 7;
    f.sigLo[p] = buf[8 + 4 * i] >>> 0;
    f.sigHi[p] = buf[9 + 4 * i] >>> 0;
    f.signExp[p] = buf[10 + 4 * i] & 0xffff;
  }
  let ftw = 0;
  for (let p = 0; p < 8; p++) {
    const t = (tag >> p) & 1 ? tagOf(f.sigLo[p], f.sigHi[p], f.signExp[p]) : 3;
    ftw |= t << (2 * p);
  }
  f.ftw = ftw;
}
