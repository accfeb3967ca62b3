/**
 * x87 inputs and state conversion for the conformance harness (README.md, "x87").
 *
 * The x87 state travels as an FXSAVE-style image (host.ts X87Image): the host loads it with
 * FXRSTOR64 before the instruction and reads it back from the signal frame's FXSAVE area; our
 * side loads the same values into `cpu.fpu` (physical registers, TOP, full tag word).
 */
import type { FpuState } from '../../src/x86/fpu/state';
import type { X87Image } from './host';
import type { Rng } from './rng';
import { fpValue32, fpValue64 } from './generator';

/** An 80-bit value: sign+exponent (16 bits) and the 64-bit significand. */
export interface F80 { se: number; sig: bigint }

/** 80-bit values leaning to the edges, including the encodings only the x87 has (SDM vol. 1 §8.2.2). */
export function fpValue80(rng: Rng): F80 {
  const s = rng.chance(0.5) ? 0x8000 : 0;
  const J = 1n << 63n;
  const frac = (): bigint => rng.u64() & (J - 1n);
  const fromDouble = (v: bigint): F80 => {
    // Exact widening of a binary64 normal (others fall back to a random normal).
    const e = Number((v >> 52n) & 0x7ffn);
    if (e === 0 || e === 0x7ff) return { se: s | (0x3fff + rng.range(-20, 20)), sig: J | frac() };
    return { se: (Number(v >> 63n) << 15) | (e - 1023 + 16383), sig: J | ((v & ((1n << 52n) - 1n)) << 11n) };
  };
  switch (rng.int(16)) {
    case 0: return { se: s, sig: 0n }; // zero
    case 1: return { se: s | 0x7fff, sig: J }; // infinity
    case 2: return { se: s | 0x7fff, sig: J | (1n << 62n) | (rng.chance(0.5) ? 0n : frac() >> 1n) }; // QNaN (incl. the indefinite)
    case 3: return { se: s | 0x7fff, sig: J | 1n | (frac() >> 2n) }; // SNaN
    case 4: return { se: s, sig: 1n | (frac() >> BigInt(rng.int(63))) }; // denormal
    case 5: return { se: s, sig: J | (rng.chance(0.5) ? 0n : frac()) }; // pseudo-denormal
    case 6: return { se: s | rng.pick([1, 2, 0x3fff, 0x7ffe]), sig: frac() >> BigInt(rng.int(63)) }; // unnormal
    case 7: return { se: s | 0x7fff, sig: rng.chance(0.3) ? 0n : frac() }; // pseudo-infinity / pseudo-NaN
    case 8: return { se: s | 0x3fff, sig: J | (rng.chance(0.5) ? 0n : frac()) }; // [1, 2)
    case 9: return { se: s | rng.pick([0x7ffe, 0x7ffd, 1, 2, 0x43fe, 0x43ff, 0x3bff, 0x3c00, 0x407e, 0x407f, 0x3f80, 0x3f81]) , sig: J | frac() };
    case 10: { // integers (FIST/FRNDINT/FPREM territory), sometimes exact, sometimes with fractions
      const e = rng.range(0, 64);
      const sig = J | (rng.chance(0.5) ? frac() & ~((1n << BigInt(Math.max(0, 63 - e))) - 1n) : frac());
      return { se: s | (0x3fff + e), sig };
    }
    case 11: return { se: s | (0x3fff + rng.range(-70, 70)), sig: J | frac() };
    case 12: return fromDouble(fpValue64(rng));
    case 13: return { se: s | (0x3fff + rng.pick([15, 31, 63, 62, 14, 30])), sig: J | (rng.chance(0.5) ? 0n : frac() >> 60n) | (rng.chance(0.3) ? (1n << 63n) - 1n : 0n) };
    default: return { se: s | (1 + rng.int(0x7ffe)), sig: J | frac() };
  }
}

/** Packed BCD (10 bytes) leaning to edges: valid digits, the indefinite, invalid digits. */
export function bcdValue(rng: Rng): Uint8Array {
  const b = new Uint8Array(10);
  const n = rng.pick([0, 1, 2, 9, 18, 18]);
  for (let i = 0; i < 9; i++) b[i] = i * 2 < n ? (rng.int(10) | (rng.int(10) << 4)) : 0;
  if (rng.chance(0.08)) b[rng.int(9)] |= 0xa0 + rng.int(6); // invalid digit
  b[9] = rng.chance(0.5) ? 0x80 : 0;
  if (rng.chance(0.05)) { b.fill(0xff, 7, 10); b[7] = 0xc0; b.fill(0, 0, 7); } // packed BCD indefinite
  if (rng.chance(0.05)) b[9] |= rng.int(0x80); // bits 72-78 are ignored
  return b;
}

function tagOf(se: number, sig: bigint): number {
  const e = se & 0x7fff;
  if (e === 0x7fff) return 2;
  if (e === 0) return sig === 0n ? 1 : 2;
  return sig >> 63n ? 0 : 2;
}

/**
 * A random x87 state: 8 registers of edge values, TOP, empty tags (sometimes all empty or
 * none), FCW with random PC/RC/masks (about 35% with some exception unmasked), FSW with
 * condition codes, sticky flags and — consistent with the masks — ES/B.
 */
export function genX87(rng: Rng): X87Image {
  const st = new Uint8Array(80);
  const top = rng.int(8);
  const style = rng.int(10);
  let ftw = 0;
  for (let p = 0; p < 8; p++) {
    const empty = style === 0 ? true : style === 1 ? false : rng.chance(0.3);
    if (!empty) ftw |= 1 << p;
  }
  for (let i = 0; i < 8; i++) {
    const v = fpValue80(rng);
    for (let k = 0; k < 8; k++) st[10 * i + k] = Number((v.sig >> BigInt(8 * k)) & 0xffn);
    st[10 * i + 8] = v.se & 0xff;
    st[10 * i + 9] = v.se >> 8;
  }
  let masks = 0x3f;
  if (rng.chance(0.35)) masks &= ~(1 + rng.int(63));
  const fcw = masks | 0x40 | (rng.pick([3, 3, 2, 0, 1]) << 8) | (rng.int(4) << 10) | (rng.chance(0.1) ? 0x1000 : 0);
  let flags = rng.chance(0.3) ? rng.int(0x80) : 0; // IE DE ZE OE UE PE SF
  if (flags & ~masks & 0x3f) flags |= 0x8080; // ES and B follow the unmasked flags
  const cc = rng.chance(0.5) ? (rng.int(16) * 0x100) & 0x4700 | (rng.chance(0.5) ? 0x4000 : 0) : 0;
  const fsw = (flags | (cc & 0x4700) | (top << 11)) & 0xffff;
  // Last-instruction pointers from an earlier x87 instruction (kept or replaced by this one).
  const ptr = (): bigint => (rng.chance(0.5) ? 0n : rng.u64() & ((1n << 47n) - 1n));
  return { fcw, fsw, ftw, fop: rng.chance(0.5) ? 0 : rng.int(0x800), fip: ptr(), fdp: ptr(), st };
}

/**
 * The x87 state for an MMX instruction: genX87's (random TOP, empty registers, pending
 * exceptions for #MF), with about half of the registers holding MMX-style contents (an integer
 * edge pattern in the significand, bits 79:64 all ones as an MMX write leaves them, or random).
 */
export function genMmx(rng: Rng): X87Image {
  const x = genX87(rng);
  for (let i = 0; i < 8; i++) {
    if (rng.chance(0.5)) continue;
    const v = rng.edge(64);
    for (let k = 0; k < 8; k++) x.st[10 * i + k] = Number((v >> BigInt(8 * k)) & 0xffn);
    const se = rng.chance(0.7) ? 0xffff : rng.int(0x10000);
    x.st[10 * i + 8] = se & 0xff;
    x.st[10 * i + 9] = se >> 8;
  }
  return x;
}

/** Load an image into our FPU (stack order ST(i) = physical (TOP + i) & 7). */
export function loadFpu(f: FpuState, x: X87Image): void {
  const top = (x.fsw >> 11) & 7;
  f.fcw = x.fcw;
  f.fsw = x.fsw & ~0x3800;
  f.top = top;
  let ftw = 0;
  for (let i = 0; i < 8; i++) {
    const p = (top + i) & 7;
    let sig = 0n;
    for (let k = 7; k >= 0; k--) sig = (sig << 8n) | BigInt(x.st[10 * i + k]);
    const se = x.st[10 * i + 8] | (x.st[10 * i + 9] << 8);
    f.sigLo[p] = Number(sig & 0xffffffffn);
    f.sigHi[p] = Number(sig >> 32n);
    f.signExp[p] = se;
    ftw |= ((x.ftw >> p) & 1 ? tagOf(se, sig) : 3) << (2 * p);
  }
  f.ftw = ftw;
  f.fop = x.fop;
  f.fipLo = Number(x.fip & 0xffffffffn) | 0;
  f.fipHi = Number(x.fip >> 32n) | 0;
  f.fdpLo = Number(x.fdp & 0xffffffffn) | 0;
  f.fdpHi = Number(x.fdp >> 32n) | 0;
  f.fcs = 0;
  f.fds = 0;
}

/** Our FPU as an FXSAVE-style image. */
export function saveFpu(f: FpuState): X87Image {
  const st = new Uint8Array(80);
  let ftw = 0;
  for (let p = 0; p < 8; p++) if (((f.ftw >> (2 * p)) & 3) !== 3) ftw |= 1 << p;
  for (let i = 0; i < 8; i++) {
    const p = (f.top + i) & 7;
    const lo = f.sigLo[p] >>> 0, hi = f.sigHi[p] >>> 0;
    for (let k = 0; k < 4; k++) { st[10 * i + k] = (lo >>> (8 * k)) & 0xff; st[10 * i + 4 + k] = (hi >>> (8 * k)) & 0xff; }
    st[10 * i + 8] = f.signExp[p] & 0xff;
    st[10 * i + 9] = f.signExp[p] >> 8;
  }
  return {
    fcw: f.fcw & 0xffff, fsw: ((f.fsw & ~0x3800) | ((f.top & 7) << 11)) & 0xffff, ftw, fop: f.fop & 0x7ff,
    fip: (BigInt(f.fipHi >>> 0) << 32n) | BigInt(f.fipLo >>> 0),
    fdp: (BigInt(f.fdpHi >>> 0) << 32n) | BigInt(f.fdpLo >>> 0), st,
  };
}

/** The 80-bit register ST(i) of an image as text: sign+exponent:significand. */
export function stHex(x: X87Image, i: number): string {
  let sig = 0n;
  for (let k = 7; k >= 0; k--) sig = (sig << 8n) | BigInt(x.st[10 * i + k]);
  const se = x.st[10 * i + 8] | (x.st[10 * i + 9] << 8);
  return `${se.toString(16).padStart(4, '0')}:${sig.toString(16).padStart(16, '0')}`;
}

/** Write a memory operand value of an x87 form (by iced's memory size in the form name). */
export function x87MemValue(rng: Rng, formName: string, size: number): Uint8Array | null {
  const out = new Uint8Array(size);
  const put = (v: bigint, n: number): void => { for (let k = 0; k < n; k++) out[k] = Number((v >> BigInt(8 * k)) & 0xffn); };
  if (/m32fp/.test(formName)) put(BigInt(fpValue32(rng)), 4);
  else if (/m64fp/.test(formName)) put(fpValue64(rng), 8);
  else if (/m80fp/.test(formName)) { const v = fpValue80(rng); put(v.sig, 8); out[8] = v.se & 0xff; out[9] = v.se >> 8; }
  else if (/m80bcd/.test(formName)) out.set(bcdValue(rng));
  else if (/Fldcw/.test(formName)) put(BigInt(genX87(rng).fcw | (rng.chance(0.1) ? rng.int(0x10000) : 0)), 2);
  else return null;
  return out;
}
