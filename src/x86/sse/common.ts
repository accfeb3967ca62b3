/**
 * Shared pieces of the SSE group: the availability checks of SDM vol. 3A §13.1.3/§13.4
 * (table 13-? "Action taken for combinations of OSFXSR, OSXMMEXCPT, SSE... CR0.EM, CR0.TS"),
 * XMM operand decoding, 32/64/128-bit memory accesses (legacy-SSE 16-byte alignment, SDM vol. 1
 * §10.4.1.1 / vol. 2 §2.4 "#GP(0) if a memory operand is not aligned on a 16-byte boundary"),
 * scratch vectors, and the MXCSR exception reporting of SDM vol. 1 §11.5.2.
 */
import { OpKind, Register } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { CpuException, Vector, gp0, ud } from '../exceptions';
import { linearAddress, type AddrFn } from '../operands';

/** A 16-byte scratch vector with typed views. */
export class Vec {
  readonly buf = new ArrayBuffer(16);
  readonly i32 = new Int32Array(this.buf);
  readonly u32 = new Uint32Array(this.buf);
  readonly i16 = new Int16Array(this.buf);
  readonly u16 = new Uint16Array(this.buf);
  readonly i8 = new Int8Array(this.buf);
  readonly u8 = new Uint8Array(this.buf);
  readonly f32 = new Float32Array(this.buf);
  readonly f64 = new Float64Array(this.buf);
}
/** Destination (first operand) value, source value, result. */
export const A = new Vec();
export const B = new Vec();
export const R = new Vec();
/** Extra scratch (third operand: XMM0 of PBLENDVB/BLENDVPS). */
export const X = new Vec();

/** R = A (the destination's value, for kernels that write only some lanes). */
export function copyAR(): void {
  R.i32[0] = A.i32[0]; R.i32[1] = A.i32[1]; R.i32[2] = A.i32[2]; R.i32[3] = A.i32[3];
}

export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR4_OSFXSR = 1 << 9;
export const CR4_OSXMMEXCPT = 1 << 10;

/**
 * SSE availability (SDM vol. 3A §13.1.3-13.1.4, vol. 2 "SIMD Floating-Point exceptions"
 * tables): CR0.EM=1 or CR4.OSFXSR=0 → #UD; CR0.TS=1 → #NM.
 */
export function sseCheck(c: Cpu): void {
  if ((c.cr0 & CR0_EM) !== 0 || (c.cr4 & CR4_OSFXSR) === 0) throw ud('SSE instruction with CR0.EM=1 or CR4.OSFXSR=0');
  if ((c.cr0 & CR0_TS) !== 0) throw new CpuException(Vector.NM, undefined, 'SSE instruction with CR0.TS=1');
}

/** XMM register number of an iced register, or -1. */
export function xmmOf(r: Register): number {
  return r >= Register.XMM0 && r <= Register.XMM15 ? r - Register.XMM0 : -1;
}
export function isMmx(d: DecodedInsn): boolean {
  for (let i = 0; i < d.opCount; i++) {
    const r = d.opRegs[i];
    if (r >= Register.MM0 && r <= Register.MM7) return true;
  }
  return false;
}
export function isReg(d: DecodedInsn, i: number): boolean {
  return d.opKinds[i] === OpKind.Register;
}

const TWO32 = 4294967296;

/** Linear address + 8 (carry into the high half only in 64-bit mode). */
function plus8(c: Cpu, lo: number): number {
  const s = (lo >>> 0) + 8;
  if (s >= TWO32 && c.bitness === 64) c.linHi = (c.linHi + 1) | 0;
  return s | 0;
}

/** Reads 16 bytes at a linear address into `v`. */
export function read128(c: Cpu, lo: number, hi: number, v: Vec): void {
  const a = c.read64(lo, hi);
  const b = c.vHi;
  c.linHi = hi;
  const lo2 = plus8(c, lo);
  const x = c.read64(lo2, c.linHi);
  v.i32[0] = a; v.i32[1] = b; v.i32[2] = x; v.i32[3] = c.vHi;
}


/** Writes 16 bytes, checking the whole range first so a fault changes nothing. */
export function write128(c: Cpu, lo: number, hi: number, w0: number, w1: number, w2: number, w3: number): void {
  c.checkWrite(lo, hi, 16);
  c.write64(lo, hi, w0, w1);
  c.linHi = hi;
  const lo2 = plus8(c, lo);
  c.write64(lo2, c.linHi, w2, w3);
}

/**
 * Linear address of the memory operand for an access of `size` bytes; `align` adds the 16-byte
 * alignment check of legacy SSE 128-bit operands (#GP(0)).
 */
export function memAddr(d: DecodedInsn, size: number, align: boolean, write = false): AddrFn {
  const a = linearAddress(d, d.mem!, size, write);
  if (!align) return a;
  return (c) => {
    const lo = a(c);
    if ((lo & 15) !== 0) throw gp0('misaligned 16-byte SSE memory operand');
    return lo;
  };
}

/**
 * Loads operand `i` (an XMM register or memory of `size` = 4, 8 or 16 bytes) into `v`.
 * Memory narrower than 16 bytes fills the low lanes and leaves the rest of `v` zero.
 */
export type Loader = (c: Cpu, v: Vec) => void;
export function loader(d: DecodedInsn, i: number, size: number, align: boolean): Loader {
  if (d.opKinds[i] === OpKind.Register) {
    const x = xmmOf(d.opRegs[i]);
    if (x < 0) throw new Error(`internal: operand ${i} of ${d.mnemonic} is not an XMM register`);
    const o = 4 * x;
    return (c, v) => {
      const s = c.sse.xmm;
      v.i32[0] = s[o]; v.i32[1] = s[o + 1]; v.i32[2] = s[o + 2]; v.i32[3] = s[o + 3];
    };
  }
  const a = memAddr(d, size, align && size === 16);
  if (size === 16) return (c, v) => { const lo = a(c); read128(c, lo, c.linHi, v); };
  if (size === 8) return (c, v) => { const lo = a(c); v.i32[0] = c.read64(lo, c.linHi); v.i32[1] = c.vHi; v.i32[2] = 0; v.i32[3] = 0; };
  if (size === 4) return (c, v) => { const lo = a(c); v.i32[0] = c.read32(lo, c.linHi); v.i32[1] = 0; v.i32[2] = 0; v.i32[3] = 0; };
  if (size === 2) return (c, v) => { const lo = a(c); v.i32[0] = c.read16(lo, c.linHi); v.i32[1] = 0; v.i32[2] = 0; v.i32[3] = 0; };
  throw new Error(`internal: SSE memory size ${size}`);
}

export function loadXmm(c: Cpu, x: number, v: Vec): void {
  const s = c.sse.xmm, o = 4 * x;
  v.i32[0] = s[o]; v.i32[1] = s[o + 1]; v.i32[2] = s[o + 2]; v.i32[3] = s[o + 3];
}
export function storeXmm(c: Cpu, x: number, v: Vec): void {
  const s = c.sse.xmm, o = 4 * x;
  s[o] = v.i32[0]; s[o + 1] = v.i32[1]; s[o + 2] = v.i32[2]; s[o + 3] = v.i32[3];
}

// ---- MXCSR (SDM vol. 1 §10.2.3) ----------------------------------------------------------------
export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32;
export const MXCSR_DAZ = 1 << 6;
export const MXCSR_FTZ = 1 << 15;
/** Writable MXCSR bits (MXCSR_MASK of FXSAVE; DAZ supported). */
export const MXCSR_MASK = 0xffff;

/**
 * Exceptions detected by the current instruction, accumulated by the float kernels:
 * `pre` = invalid/denormal/zero-divide (before computation), `post` = overflow/underflow/precision.
 */
export const fx = { pre: 0, post: 0, ueTinyExact: 0, banked: 0 };
export function fxReset(): void {
  fx.pre = 0; fx.post = 0; fx.ueTinyExact = 0; fx.banked = 0;
}

/**
 * SDM vol. 1 §11.5.2.1-11.5.2.2: an unmasked pre-computation exception (IE, DE, ZE) in any element
 * stops the instruction before any result is stored (flags of the pre-computation exceptions are
 * set); otherwise an unmasked post-computation exception (OE, UE, PE) also leaves the destination
 * unchanged. #XM when CR4.OSXMMEXCPT=1, else #UD. Returns normally when the results may be
 * stored (flags set in MXCSR).
 */
export function fxCommit(c: Cpu): void {
  const masks = (c.sse.mxcsr >>> 7) & 0x3f;
  const pre = fx.pre;
  c.sse.mxcsr |= fx.banked;
  if ((pre & ~masks) !== 0) {
    c.sse.mxcsr |= pre;
    throw simdFault(c);
  }
  // An exact tiny result signals underflow only when UE is unmasked (§4.9.1.5).
  let post = fx.post;
  if ((masks & UE) === 0) post |= fx.ueTinyExact;
  if ((post & ~masks) !== 0) {
    c.sse.mxcsr |= pre | post;
    throw simdFault(c);
  }
  c.sse.mxcsr |= pre | post;
}

export function simdFault(c: Cpu): CpuException {
  return (c.cr4 & CR4_OSXMMEXCPT) !== 0
    ? new CpuException(Vector.XM, undefined, 'unmasked SIMD floating-point exception')
    : ud('unmasked SIMD floating-point exception with CR4.OSXMMEXCPT=0');
}

/** The processor running the current floating-point op (for multi-stage kernels). */
export const fxCtx: { c: Cpu | null } = { c: null };
/**
 * Between the stages of a multi-step instruction (DPPS/DPPD: products, then sums): an unmasked
 * exception of the first stage ends the instruction there (host-measured).
 */
export function fxCheckpoint(): void {
  const c = fxCtx.c!;
  const masks = (c.sse.mxcsr >>> 7) & 0x3f;
  if (((fx.pre | fx.post | fx.ueTinyExact) & ~masks) !== 0) fxCommit(c);
  // The first stage completed: its (masked) flags stay reported whatever the next stage does.
  fx.banked |= fx.pre | fx.post;
  fx.pre = 0; fx.post = 0; fx.ueTinyExact = 0;
}
