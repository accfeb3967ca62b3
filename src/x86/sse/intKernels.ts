/**
 * Packed-integer kernels (SDM vol. 2 instruction pages of PADD*, PSUB*, PMUL*, PMIN/PMAX,
 * PCMP*, shifts, PACK*, PUNPCK*, PSHUF*, PALIGNR, PMOVZX/SX, PBLEND*, PABS, PSIGN, PHADD/PHSUB,
 * PSADBW, PAVG*, PMADD*). Each kernel reads A (destination value), B (source value), an
 * immediate, and writes the whole result R (R starts as a copy of A).
 */
import type { Vec } from './common';

export type Kernel = (a: Vec, b: Vec, r: Vec, imm: number) => void;

export const ss8 = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);
export const us8 = (v: number): number => (v > 255 ? 255 : v < 0 ? 0 : v);
export const ss16 = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const us16 = (v: number): number => (v > 65535 ? 65535 : v < 0 ? 0 : v);

function lanes8(f: (x: number, y: number) => number, signed: boolean): Kernel {
  return signed
    ? (a, b, r) => { for (let i = 0; i < 16; i++) r.i8[i] = f(a.i8[i], b.i8[i]); }
    : (a, b, r) => { for (let i = 0; i < 16; i++) r.u8[i] = f(a.u8[i], b.u8[i]); };
}
function lanes16(f: (x: number, y: number) => number, signed: boolean): Kernel {
  return signed
    ? (a, b, r) => { for (let i = 0; i < 8; i++) r.i16[i] = f(a.i16[i], b.i16[i]); }
    : (a, b, r) => { for (let i = 0; i < 8; i++) r.u16[i] = f(a.u16[i], b.u16[i]); };
}
function lanes32(f: (x: number, y: number) => number, signed: boolean): Kernel {
  return signed
    ? (a, b, r) => { for (let i = 0; i < 4; i++) r.i32[i] = f(a.i32[i], b.i32[i]); }
    : (a, b, r) => { for (let i = 0; i < 4; i++) r.u32[i] = f(a.u32[i], b.u32[i]); };
}
function add64(a: Vec, b: Vec, r: Vec, sub: boolean): void {
  for (let q = 0; q < 4; q += 2) {
    const al = a.u32[q], bl = sub ? ~b.u32[q] >>> 0 : b.u32[q];
    const s = al + bl + (sub ? 1 : 0);
    const carry = s >= 4294967296 ? 1 : 0;
    r.i32[q] = s | 0;
    r.i32[q + 1] = (a.i32[q + 1] + (sub ? ~b.i32[q + 1] : b.i32[q + 1]) + carry) | 0;
  }
}
const cmpEq64: Kernel = (a, b, r) => {
  for (let q = 0; q < 4; q += 2) {
    const m = a.i32[q] === b.i32[q] && a.i32[q + 1] === b.i32[q + 1] ? -1 : 0;
    r.i32[q] = m; r.i32[q + 1] = m;
  }
};
const cmpGt64: Kernel = (a, b, r) => {
  for (let q = 0; q < 4; q += 2) {
    const ah = a.i32[q + 1], bh = b.i32[q + 1];
    const gt = ah > bh || (ah === bh && a.u32[q] > b.u32[q]);
    const m = gt ? -1 : 0;
    r.i32[q] = m; r.i32[q + 1] = m;
  }
};

/** Shift count of PSLL/PSRL/PSRA with an XMM/m128 count: the low 64 bits, unsigned. */
function count64(b: Vec): number {
  return b.u32[1] !== 0 ? 0xffffffff : b.u32[0];
}
function shiftKernel(width: 16 | 32 | 64, kind: 'l' | 'r' | 'a', n: number, a: Vec, r: Vec): void {
  if (width === 16) {
    for (let i = 0; i < 8; i++) {
      if (kind === 'a') r.i16[i] = a.i16[i] >> (n > 15 ? 15 : n);
      else r.u16[i] = n > 15 ? 0 : kind === 'l' ? a.u16[i] << n : a.u16[i] >>> n;
    }
  } else if (width === 32) {
    for (let i = 0; i < 4; i++) {
      if (kind === 'a') r.i32[i] = a.i32[i] >> (n > 31 ? 31 : n);
      else r.i32[i] = n > 31 ? 0 : kind === 'l' ? a.i32[i] << n : a.i32[i] >>> n;
    }
  } else {
    for (let q = 0; q < 4; q += 2) {
      const lo = a.u32[q], hi = a.u32[q + 1];
      if (n > 63) { r.i32[q] = 0; r.i32[q + 1] = 0; }
      else if (n === 0) { r.i32[q] = lo; r.i32[q + 1] = hi; }
      else if (kind === 'l') {
        if (n >= 32) { r.i32[q + 1] = lo << (n - 32); r.i32[q] = 0; }
        else { r.i32[q + 1] = (hi << n) | (lo >>> (32 - n)); r.i32[q] = lo << n; }
      } else if (n >= 32) { r.i32[q] = hi >>> (n - 32); r.i32[q + 1] = 0; }
      else { r.i32[q] = (lo >>> n) | (hi << (32 - n)); r.i32[q + 1] = hi >>> n; }
    }
  }
}
export function shiftByVec(width: 16 | 32 | 64, kind: 'l' | 'r' | 'a'): Kernel {
  return (a, b, r) => shiftKernel(width, kind, count64(b), a, r);
}
export function shiftByImm(width: 16 | 32 | 64, kind: 'l' | 'r' | 'a'): Kernel {
  return (a, _b, r, imm) => shiftKernel(width, kind, imm & 0xff, a, r);
}
export const pslldq: Kernel = (a, _b, r, imm) => {
  const n = imm & 0xff;
  for (let i = 15; i >= 0; i--) r.u8[i] = i - n >= 0 ? a.u8[i - n] : 0;
};
export const psrldq: Kernel = (a, _b, r, imm) => {
  const n = imm & 0xff;
  for (let i = 0; i < 16; i++) r.u8[i] = i + n < 16 ? a.u8[i + n] : 0;
};

function interleave(size: 1 | 2 | 4 | 8, high: boolean): Kernel {
  return (a, b, r) => {
    const n = 8 / size; // elements per half
    const base = high ? 8 : 0;
    const t = T2;
    for (let e = 0; e < n; e++) {
      for (let k = 0; k < size; k++) {
        t[2 * e * size + k] = a.u8[base + e * size + k];
        t[(2 * e + 1) * size + k] = b.u8[base + e * size + k];
      }
    }
    r.u8.set(t);
  };
}

const T = new Uint8Array(32);
const T2 = new Uint8Array(16);
const W = new Float64Array(8);

export const INT_KERNELS: Record<string, Kernel> = {
  Paddb: lanes8((x, y) => x + y, false),
  Paddw: lanes16((x, y) => x + y, false),
  Paddd: lanes32((x, y) => (x + y) | 0, true),
  Paddq: (a, b, r) => add64(a, b, r, false),
  Psubb: lanes8((x, y) => x - y, false),
  Psubw: lanes16((x, y) => x - y, false),
  Psubd: lanes32((x, y) => (x - y) | 0, true),
  Psubq: (a, b, r) => add64(a, b, r, true),
  Paddsb: lanes8((x, y) => ss8(x + y), true),
  Paddsw: lanes16((x, y) => ss16(x + y), true),
  Paddusb: lanes8((x, y) => us8(x + y), false),
  Paddusw: lanes16((x, y) => us16(x + y), false),
  Psubsb: lanes8((x, y) => ss8(x - y), true),
  Psubsw: lanes16((x, y) => ss16(x - y), true),
  Psubusb: lanes8((x, y) => us8(x - y), false),
  Psubusw: lanes16((x, y) => us16(x - y), false),
  Pmullw: lanes16((x, y) => Math.imul(x, y), true),
  Pmulld: lanes32((x, y) => Math.imul(x, y), true),
  Pmulhw: lanes16((x, y) => (x * y) >> 16, true),
  Pmulhuw: lanes16((x, y) => (x * y) >>> 16, false),
  Pmulhrsw: lanes16((x, y) => (((x * y) >> 14) + 1) >> 1, true),
  Pmuludq: (a, b, r) => {
    for (let q = 0; q < 4; q += 2) {
      const x = a.u32[q], y = b.u32[q];
      const xl = x & 0xffff, xh = x >>> 16, yl = y & 0xffff, yh = y >>> 16;
      const ll = xl * yl, mid = xh * yl + xl * yh; // < 2^33
      const lo = ll + (mid % 65536) * 65536;
      r.i32[q] = lo | 0;
      r.i32[q + 1] = (xh * yh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296)) | 0;
    }
  },
  Pmuldq: (a, b, r) => {
    for (let q = 0; q < 4; q += 2) {
      const x = a.i32[q], y = b.i32[q];
      const neg = (x < 0) !== (y < 0);
      const ax = Math.abs(x), ay = Math.abs(y);
      const xl = ax % 65536, xh = Math.floor(ax / 65536), yl = ay % 65536, yh = Math.floor(ay / 65536);
      const ll = xl * yl, mid = xh * yl + xl * yh;
      const lo = ll + (mid % 65536) * 65536;
      let rl = lo % 4294967296;
      let rh = xh * yh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296);
      if (neg && (rl !== 0 || rh !== 0)) {
        rl = 4294967296 - rl; rh = ~rh + (rl === 4294967296 ? 1 : 0);
      }
      r.i32[q] = rl | 0; r.i32[q + 1] = rh | 0;
    }
  },
  Pmaddwd: (a, b, r) => {
    for (let i = 0; i < 4; i++) r.i32[i] = (a.i16[2 * i] * b.i16[2 * i] + a.i16[2 * i + 1] * b.i16[2 * i + 1]) | 0;
  },
  Pmaddubsw: (a, b, r) => {
    for (let i = 0; i < 8; i++) r.i16[i] = ss16(a.u8[2 * i] * b.i8[2 * i] + a.u8[2 * i + 1] * b.i8[2 * i + 1]);
  },
  Psadbw: (a, b, r) => {
    for (let h = 0; h < 2; h++) {
      let s = 0;
      for (let i = 0; i < 8; i++) s += Math.abs(a.u8[8 * h + i] - b.u8[8 * h + i]);
      r.i32[2 * h] = s; r.i32[2 * h + 1] = 0;
    }
  },
  Pavgb: lanes8((x, y) => (x + y + 1) >> 1, false),
  Pavgw: lanes16((x, y) => (x + y + 1) >> 1, false),
  Pminub: lanes8(Math.min, false), Pmaxub: lanes8(Math.max, false),
  Pminsb: lanes8(Math.min, true), Pmaxsb: lanes8(Math.max, true),
  Pminuw: lanes16(Math.min, false), Pmaxuw: lanes16(Math.max, false),
  Pminsw: lanes16(Math.min, true), Pmaxsw: lanes16(Math.max, true),
  Pminud: lanes32(Math.min, false), Pmaxud: lanes32(Math.max, false),
  Pminsd: lanes32(Math.min, true), Pmaxsd: lanes32(Math.max, true),
  Pabsb: (_a, b, r) => { for (let i = 0; i < 16; i++) r.u8[i] = Math.abs(b.i8[i]); },
  Pabsw: (_a, b, r) => { for (let i = 0; i < 8; i++) r.u16[i] = Math.abs(b.i16[i]); },
  Pabsd: (_a, b, r) => { for (let i = 0; i < 4; i++) r.i32[i] = Math.abs(b.i32[i]) | 0; },
  Psignb: lanes8((x, y) => (y < 0 ? -x : y === 0 ? 0 : x), true),
  Psignw: lanes16((x, y) => (y < 0 ? -x : y === 0 ? 0 : x), true),
  Psignd: lanes32((x, y) => (y < 0 ? -x | 0 : y === 0 ? 0 : x), true),
  Pcmpeqb: lanes8((x, y) => (x === y ? 0xff : 0), false),
  Pcmpeqw: lanes16((x, y) => (x === y ? 0xffff : 0), false),
  Pcmpeqd: lanes32((x, y) => (x === y ? -1 : 0), true),
  Pcmpeqq: cmpEq64,
  Pcmpgtb: lanes8((x, y) => (x > y ? -1 : 0), true),
  Pcmpgtw: lanes16((x, y) => (x > y ? -1 : 0), true),
  Pcmpgtd: lanes32((x, y) => (x > y ? -1 : 0), true),
  Pcmpgtq: cmpGt64,
  Pand: lanes32((x, y) => x & y, true),
  Pandn: lanes32((x, y) => ~x & y, true),
  Por: lanes32((x, y) => x | y, true),
  Pxor: lanes32((x, y) => x ^ y, true),
  Andps: lanes32((x, y) => x & y, true), Andpd: lanes32((x, y) => x & y, true),
  Andnps: lanes32((x, y) => ~x & y, true), Andnpd: lanes32((x, y) => ~x & y, true),
  Orps: lanes32((x, y) => x | y, true), Orpd: lanes32((x, y) => x | y, true),
  Xorps: lanes32((x, y) => x ^ y, true), Xorpd: lanes32((x, y) => x ^ y, true),
  Packsswb: (a, b, r) => {
    for (let i = 0; i < 8; i++) { T[i] = ss8(a.i16[i]); T[8 + i] = ss8(b.i16[i]); }
    for (let i = 0; i < 16; i++) r.u8[i] = T[i];
  },
  Packuswb: (a, b, r) => {
    for (let i = 0; i < 8; i++) { T[i] = us8(a.i16[i]); T[8 + i] = us8(b.i16[i]); }
    for (let i = 0; i < 16; i++) r.u8[i] = T[i];
  },
  Packssdw: (a, b, r) => {
    const t = W;
    for (let i = 0; i < 4; i++) { t[i] = ss16(a.i32[i]); t[4 + i] = ss16(b.i32[i]); }
    for (let i = 0; i < 8; i++) r.i16[i] = t[i];
  },
  Packusdw: (a, b, r) => {
    const t = W;
    for (let i = 0; i < 4; i++) { t[i] = us16(a.i32[i]); t[4 + i] = us16(b.i32[i]); }
    for (let i = 0; i < 8; i++) r.u16[i] = t[i];
  },
  Punpcklbw: interleave(1, false), Punpckhbw: interleave(1, true),
  Punpcklwd: interleave(2, false), Punpckhwd: interleave(2, true),
  Punpckldq: interleave(4, false), Punpckhdq: interleave(4, true),
  Punpcklqdq: interleave(8, false), Punpckhqdq: interleave(8, true),
  Unpcklps: interleave(4, false), Unpckhps: interleave(4, true),
  Unpcklpd: interleave(8, false), Unpckhpd: interleave(8, true),
  Pshufd: (_a, b, r, imm) => { for (let i = 0; i < 4; i++) r.i32[i] = b.i32[(imm >> (2 * i)) & 3]; },
  Pshuflw: (_a, b, r, imm) => {
    for (let i = 0; i < 4; i++) r.u16[i] = b.u16[(imm >> (2 * i)) & 3];
    r.i32[2] = b.i32[2]; r.i32[3] = b.i32[3];
  },
  Pshufhw: (_a, b, r, imm) => {
    for (let i = 0; i < 4; i++) r.u16[4 + i] = b.u16[4 + ((imm >> (2 * i)) & 3)];
    r.i32[0] = b.i32[0]; r.i32[1] = b.i32[1];
  },
  Pshufb: (a, b, r) => {
    for (let i = 0; i < 16; i++) { const s = b.u8[i]; r.u8[i] = s & 0x80 ? 0 : a.u8[s & 15]; }
  },
  Palignr: (a, b, r, imm) => {
    // dest:src concatenated (dest high), shifted right by imm bytes (SDM vol. 2 PALIGNR).
    for (let i = 0; i < 16; i++) { T[i] = b.u8[i]; T[16 + i] = a.u8[i]; }
    const n = imm & 0xff;
    for (let i = 0; i < 16; i++) r.u8[i] = i + n < 32 ? T[i + n] : 0;
  },
  Shufps: (a, b, r, imm) => {
    const x0 = a.i32[imm & 3], x1 = a.i32[(imm >> 2) & 3], y0 = b.i32[(imm >> 4) & 3], y1 = b.i32[(imm >> 6) & 3];
    r.i32[0] = x0; r.i32[1] = x1; r.i32[2] = y0; r.i32[3] = y1;
  },
  Shufpd: (a, b, r, imm) => {
    const s = imm & 1 ? 2 : 0, t = imm & 2 ? 2 : 0;
    const x0 = a.i32[s], x1 = a.i32[s + 1], y0 = b.i32[t], y1 = b.i32[t + 1];
    r.i32[0] = x0; r.i32[1] = x1; r.i32[2] = y0; r.i32[3] = y1;
  },
  Pblendw: (a, b, r, imm) => { for (let i = 0; i < 8; i++) r.u16[i] = (imm >> i) & 1 ? b.u16[i] : a.u16[i]; },
  Blendps: (a, b, r, imm) => { for (let i = 0; i < 4; i++) r.i32[i] = (imm >> i) & 1 ? b.i32[i] : a.i32[i]; },
  Blendpd: (a, b, r, imm) => {
    for (let i = 0; i < 4; i++) r.i32[i] = (imm >> (i >> 1)) & 1 ? b.i32[i] : a.i32[i];
  },
  Phaddw: (a, b, r) => {
    const t = W;
    for (let i = 0; i < 4; i++) { t[i] = a.i16[2 * i] + a.i16[2 * i + 1]; t[4 + i] = b.i16[2 * i] + b.i16[2 * i + 1]; }
    for (let i = 0; i < 8; i++) r.i16[i] = t[i];
  },
  Phaddsw: (a, b, r) => {
    const t = W;
    for (let i = 0; i < 4; i++) { t[i] = ss16(a.i16[2 * i] + a.i16[2 * i + 1]); t[4 + i] = ss16(b.i16[2 * i] + b.i16[2 * i + 1]); }
    for (let i = 0; i < 8; i++) r.i16[i] = t[i];
  },
  Phaddd: (a, b, r) => {
    const t0 = (a.i32[0] + a.i32[1]) | 0, t1 = (a.i32[2] + a.i32[3]) | 0, t2 = (b.i32[0] + b.i32[1]) | 0, t3 = (b.i32[2] + b.i32[3]) | 0;
    r.i32[0] = t0; r.i32[1] = t1; r.i32[2] = t2; r.i32[3] = t3;
  },
  Phsubw: (a, b, r) => {
    const t = W;
    for (let i = 0; i < 4; i++) { t[i] = a.i16[2 * i] - a.i16[2 * i + 1]; t[4 + i] = b.i16[2 * i] - b.i16[2 * i + 1]; }
    for (let i = 0; i < 8; i++) r.i16[i] = t[i];
  },
  Phsubsw: (a, b, r) => {
    const t = W;
    for (let i = 0; i < 4; i++) { t[i] = ss16(a.i16[2 * i] - a.i16[2 * i + 1]); t[4 + i] = ss16(b.i16[2 * i] - b.i16[2 * i + 1]); }
    for (let i = 0; i < 8; i++) r.i16[i] = t[i];
  },
  Phsubd: (a, b, r) => {
    const t0 = (a.i32[0] - a.i32[1]) | 0, t1 = (a.i32[2] - a.i32[3]) | 0, t2 = (b.i32[0] - b.i32[1]) | 0, t3 = (b.i32[2] - b.i32[3]) | 0;
    r.i32[0] = t0; r.i32[1] = t1; r.i32[2] = t2; r.i32[3] = t3;
  },
  Phminposuw: (_a, b, r) => {
    let m = b.u16[0], k = 0;
    for (let i = 1; i < 8; i++) if (b.u16[i] < m) { m = b.u16[i]; k = i; }
    r.i32[0] = m | (k << 16); r.i32[1] = 0; r.i32[2] = 0; r.i32[3] = 0;
  },
};

/** MPSADBW (SSE4.1): eight sums of absolute differences of 4-byte groups (SDM vol. 2 MPSADBW). */
export const mpsadbw: Kernel = (a, b, r, imm) => {
  const ao = ((imm >> 2) & 1) * 4, bo = (imm & 3) * 4;
  for (let i = 0; i < 8; i++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += Math.abs(a.u8[ao + i + k] - b.u8[bo + k]);
    W[i] = s;
  }
  for (let i = 0; i < 8; i++) r.u16[i] = W[i];
};

/** PMOVZX/PMOVSX: (source element size, destination element size, signed). */
export function pmovx(from: 1 | 2 | 4, to: 2 | 4 | 8, signed: boolean): Kernel {
  return (_a, b, r) => {
    const n = 16 / to;
    const t = W;
    for (let i = 0; i < n; i++) {
      t[i] = from === 1 ? (signed ? b.i8[i] : b.u8[i]) : from === 2 ? (signed ? b.i16[i] : b.u16[i]) : (signed ? b.i32[i] : b.u32[i]);
    }
    for (let i = 0; i < n; i++) {
      const v = t[i];
      if (to === 2) r.u16[i] = v & 0xffff;
      else if (to === 4) r.i32[i] = v | 0;
      else { r.i32[2 * i] = v | 0; r.i32[2 * i + 1] = v < 0 ? -1 : 0; }
    }
  };
}
