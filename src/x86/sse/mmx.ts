/**
 * MMX technology (SDM vol. 1 chapter 9; vol. 2 instruction pages): the MMX-register (MM0-MM7)
 * forms of the MMX, SSE, SSE2 and SSSE3 integer instructions, EMMS, and the conversions and moves
 * between MMX and XMM registers (CVTPI2PS, CVTPS2PI, CVTTPS2PI, CVTPI2PD, CVTPD2PI, CVTTPD2PI,
 * MOVQ2DQ, MOVDQ2Q).
 *
 * Aliasing (SDM vol. 1 §9.5; vol. 3A §12.2, table 12-2 "Effects of MMX Instructions on x87 FPU
 * State"): MMn is the 64-bit significand of physical x87 register Rn, whatever TOP is. Every MMX instruction
 * sets TOP to 0; all but EMMS tag every register valid (our full tag word stays consistent
 * with the contents, so a register that was empty gets the tag its contents give, and FXSAVE's
 * abridged tag shows all registers non-empty); a write to MMn also sets bits 79:64 of Rn (sign and
 * exponent) to all ones. EMMS tags all registers empty. When the x87 effects happen relative to
 * the instruction's faults was measured on the host (test/conformance): a faulting memory read
 * leaves TOP and the tags as they were; a store to memory (MOVD/MOVQ/MOVNTQ) sets TOP to 0 before
 * its access faults and the tags only when it completes; MASKMOVQ, and the conversions with an MMX
 * register, make the whole transition (TOP and tags) before their memory faults / #XM.
 *
 * Availability (SDM vol. 3A §12.1 and §13.1, the "Action taken" tables for CR0.EM/MP/TS;
 * vol. 2 "Exceptions Type" tables for MMX): CR0.EM=1 → #UD, CR0.TS=1 → #NM, then a pending
 * unmasked x87 exception → #MF (CR0.NE=1; as the waiting x87 instructions, fpu/stack.ts). CR4.OSFXSR
 * does not matter, except for the instructions that also use XMM registers (the conversions,
 * MOVQ2DQ, MOVDQ2Q), which follow the SSE rules first (common.ts sseCheck) and then #MF.
 *
 * Kernels: the 128-bit kernels of intKernels.ts that work lane by lane give the MMX result in
 * the low 8 bytes; the ones whose lanes cross (packs, high unpacks, PSHUFB's index mask,
 * PALIGNR, the horizontal adds) have 64-bit versions here.
 */
import { Code, Mnemonic, OpKind, Register } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import { CpuException, Vector, ud } from '../exceptions';
import { ES, mf, tagOf } from '../fpu/stack';
import type { FpuState } from '../fpu/state';
import { linearAddress, operandReader, operandReader64, operandWriter, operandWriter64, type Op } from '../operands';
import type { Translator, TranslatorTable } from '../translator';
import {
  A, B, CR0_EM, CR0_TS, R, type Vec, copyAR, fxCommit, fxCtx, loadXmm, loader, memAddr, sseCheck, storeXmm, xmmOf,
} from './common';
import { CVT } from './cvtKernels';
import { fpBegin } from './fp';
import { INT_KERNELS, type Kernel, shiftByImm, shiftByVec, ss16, ss8, us8 } from './intKernels';

const CR0_NE = 1 << 5;

// ---- availability and the x87 state ------------------------------------------------------------
/** MMX availability: CR0.EM → #UD, CR0.TS → #NM, pending unmasked x87 exception → #MF. */
export function mmxCheck(c: Cpu): void {
  const cr0 = c.cr0;
  if ((cr0 & (CR0_EM | CR0_TS)) !== 0) {
    if ((cr0 & CR0_EM) !== 0) throw ud('MMX instruction with CR0.EM=1');
    throw new CpuException(Vector.NM, undefined, 'MMX instruction with CR0.TS=1');
  }
  if ((c.fpu.fsw & ES) !== 0 && (cr0 & CR0_NE) !== 0) throw mf();
}
/** The SSE checks, then #MF: instructions with both XMM and MMX operands. */
function sseMmxCheck(c: Cpu): void {
  sseCheck(c);
  if ((c.fpu.fsw & ES) !== 0 && (c.cr0 & CR0_NE) !== 0) throw mf();
}

/** The x87-to-MMX transition: TOP = 0, every register tagged non-empty (its contents' tag). */
export function mmxEnter(f: FpuState): void {
  f.top = 0;
  const t = f.ftw;
  if ((t & (t >>> 1) & 0x5555) === 0) return; // no register empty
  let n = 0;
  for (let p = 0; p < 8; p++) n |= tagOf(f.signExp[p] & 0x7fff, f.sigHi[p], f.sigLo[p]) << (2 * p);
  f.ftw = n;
}
/** MMn = hi:lo; bits 79:64 of Rn all ones (tag: special). Call after mmxEnter. */
export function mmWrite(f: FpuState, n: number, lo: number, hi: number): void {
  f.sigLo[n] = lo; f.sigHi[n] = hi; f.signExp[n] = 0xffff;
  f.ftw = (f.ftw & ~(3 << (2 * n))) | (2 << (2 * n));
}
function loadMm(c: Cpu, n: number, v: Vec): void {
  const f = c.fpu;
  v.i32[0] = f.sigLo[n]; v.i32[1] = f.sigHi[n]; v.i32[2] = 0; v.i32[3] = 0;
}
function mmOf(r: Register): number {
  return r >= Register.MM0 && r <= Register.MM7 ? r - Register.MM0 : -1;
}

/** Operand `i` (an MMX register, or memory of `size` bytes) into the low lanes of `v`, the rest 0. */
type Loader = (c: Cpu, v: Vec) => void;
function mmLoader(d: DecodedInsn, i: number, size: 4 | 8): Loader {
  if (d.opKinds[i] === OpKind.Register) {
    const n = mmOf(d.opRegs[i]);
    if (n < 0) throw new Error(`internal: operand ${i} of ${d.mnemonic} is not an MMX register`);
    return (c, v) => loadMm(c, n, v);
  }
  const a = memAddr(d, size, false);
  if (size === 8) return (c, v) => { const lo = a(c); v.i32[0] = c.read64(lo, c.linHi); v.i32[1] = c.vHi; v.i32[2] = 0; v.i32[3] = 0; };
  return (c, v) => { const lo = a(c); v.i32[0] = c.read32(lo, c.linHi); v.i32[1] = 0; v.i32[2] = 0; v.i32[3] = 0; };
}


/** `mm1, mm2/m64 (, imm8)`: MMn = kernel(A = mm1, B = source) (low 8 bytes of R). */
function binary(kernel: Kernel): Translator {
  return (d) => {
    const dst = mmOf(d.opRegs[0]);
    if (dst < 0 || d.opCount < 2) return null;
    const ld = mmLoader(d, 1, d.opKinds[1] === OpKind.Memory && d.mem!.size === 4 ? 4 : 8);
    const imm = d.immLo & 0xff;
    return (c) => {
      mmxCheck(c); ld(c, B); loadMm(c, dst, A); copyAR();
      kernel(A, B, R, imm);
      const f = c.fpu;
      mmxEnter(f); mmWrite(f, dst, R.i32[0], R.i32[1]);
    };
  };
}

/** PSLL/PSRL/PSRA `mm, imm8` or `mm, mm/m64`. */
function shift(width: 16 | 32 | 64, kind: 'l' | 'r' | 'a'): Translator {
  const byVec = binary(shiftByVec(width, kind));
  const k = shiftByImm(width, kind);
  return (d) => {
    if (d.opKinds[1] === OpKind.Register || d.opKinds[1] === OpKind.Memory) return byVec(d);
    const dst = mmOf(d.opRegs[0]);
    const imm = d.immLo & 0xff;
    return (c) => {
      mmxCheck(c); loadMm(c, dst, A); copyAR(); k(A, B, R, imm);
      const f = c.fpu;
      mmxEnter(f); mmWrite(f, dst, R.i32[0], R.i32[1]);
    };
  };
}

// ---- 64-bit kernels (lanes crossing) -------------------------------------------------------------
const T = new Float64Array(16);

function pack(f: (v: number) => number, from: 2 | 4): Kernel {
  const n = 8 / from; // elements per source
  return (a, b, r) => {
    for (let i = 0; i < n; i++) {
      T[i] = f(from === 2 ? a.i16[i] : a.i32[i]);
      T[n + i] = f(from === 2 ? b.i16[i] : b.i32[i]);
    }
    if (from === 2) for (let i = 0; i < 8; i++) r.u8[i] = T[i];
    else for (let i = 0; i < 4; i++) r.i16[i] = T[i];
  };
}
/** PUNPCKH*: the high halves of the two 64-bit operands, interleaved. */
function unpackHigh(size: 1 | 2 | 4): Kernel {
  return (a, b, r) => {
    const n = 4 / size;
    for (let e = 0; e < n; e++) {
      for (let k = 0; k < size; k++) {
        T[2 * e * size + k] = a.u8[4 + e * size + k];
        T[(2 * e + 1) * size + k] = b.u8[4 + e * size + k];
      }
    }
    for (let i = 0; i < 8; i++) r.u8[i] = T[i];
  };
}
const pshufb: Kernel = (a, b, r) => {
  for (let i = 0; i < 8; i++) T[i] = a.u8[i];
  for (let i = 0; i < 8; i++) { const s = b.u8[i]; r.u8[i] = s & 0x80 ? 0 : T[s & 7]; }
};
const palignr: Kernel = (a, b, r, imm) => {
  // dest:src (dest high), shifted right by imm bytes (SDM vol. 2 PALIGNR, 64-bit form).
  for (let i = 0; i < 8; i++) { T[i] = b.u8[i]; T[8 + i] = a.u8[i]; }
  for (let i = 0; i < 8; i++) r.u8[i] = i + imm < 16 ? T[i + imm] : 0;
};
function hadd16(f: (x: number, y: number) => number): Kernel {
  return (a, b, r) => {
    for (let i = 0; i < 2; i++) { T[i] = f(a.i16[2 * i], a.i16[2 * i + 1]); T[2 + i] = f(b.i16[2 * i], b.i16[2 * i + 1]); }
    for (let i = 0; i < 4; i++) r.i16[i] = T[i];
  };
}
function hadd32(sub: boolean): Kernel {
  return (a, b, r) => {
    const x = sub ? (a.i32[0] - a.i32[1]) | 0 : (a.i32[0] + a.i32[1]) | 0;
    const y = sub ? (b.i32[0] - b.i32[1]) | 0 : (b.i32[0] + b.i32[1]) | 0;
    r.i32[0] = x; r.i32[1] = y;
  };
}
const pshufw: Kernel = (_a, b, r, imm) => {
  const w0 = b.u16[imm & 3], w1 = b.u16[(imm >> 2) & 3], w2 = b.u16[(imm >> 4) & 3], w3 = b.u16[(imm >> 6) & 3];
  r.u16[0] = w0; r.u16[1] = w1; r.u16[2] = w2; r.u16[3] = w3;
};

// ---- moves ----------------------------------------------------------------------------------------
/** MOVD/MOVQ with an MMX register (SDM vol. 2 MOVD/MOVQ). */
function movdq(d: DecodedInsn): Op | null {
  switch (d.code) {
    case Code.Movd_mm_rm32: {
      const dst = mmOf(d.opRegs[0]); const rd = operandReader(d, 1, 4);
      return (c) => { mmxCheck(c); const v = rd(c); const f = c.fpu; mmxEnter(f); mmWrite(f, dst, v, 0); };
    }
    case Code.Movq_mm_rm64: {
      const dst = mmOf(d.opRegs[0]); const rd = operandReader64(d, 1);
      return (c) => { mmxCheck(c); const v = rd(c); const h = c.vHi; const f = c.fpu; mmxEnter(f); mmWrite(f, dst, v, h); };
    }
    case Code.Movq_mm_mmm64: {
      const dst = mmOf(d.opRegs[0]); const ld = mmLoader(d, 1, 8);
      return (c) => { mmxCheck(c); ld(c, B); const f = c.fpu; mmxEnter(f); mmWrite(f, dst, B.i32[0], B.i32[1]); };
    }
    case Code.Movd_rm32_mm: {
      const src = mmOf(d.opRegs[1]); const wr = operandWriter(d, 0, 4);
      return (c) => { mmxCheck(c); c.fpu.top = 0; wr(c, c.fpu.sigLo[src]); mmxEnter(c.fpu); };
    }
    case Code.Movq_rm64_mm: {
      const src = mmOf(d.opRegs[1]); const wr = operandWriter64(d, 0);
      return (c) => { mmxCheck(c); c.fpu.top = 0; wr(c, c.fpu.sigLo[src] | 0, c.fpu.sigHi[src] | 0); mmxEnter(c.fpu); };
    }
    case Code.Movq_mmm64_mm: return store64(d);
    default: return null;
  }
}
/** MOVQ mm/m64, mm and MOVNTQ m64, mm. */
function store64(d: DecodedInsn): Op | null {
  const src = mmOf(d.opRegs[1]);
  if (src < 0) return null;
  if (d.opKinds[0] === OpKind.Register) {
    const dst = mmOf(d.opRegs[0]);
    return (c) => { mmxCheck(c); const f = c.fpu; const lo = f.sigLo[src], hi = f.sigHi[src]; mmxEnter(f); mmWrite(f, dst, lo, hi); };
  }
  const a = memAddr(d, 8, false, true);
  return (c) => {
    mmxCheck(c);
    c.fpu.top = 0; // before the store's faults (host-measured), the tags after
    const lo = a(c);
    c.write64(lo, c.linHi, c.fpu.sigLo[src] | 0, c.fpu.sigHi[src] | 0);
    mmxEnter(c.fpu);
  };
}

/** MASKMOVQ mm1, mm2: the bytes of mm1 whose mask byte (mm2) has bit 7 set, to DS:rDI. */
const maskmovq: Translator = (d) => {
  const src = mmOf(d.opRegs[1]), msk = mmOf(d.opRegs[2]);
  const a = linearAddress(d, { ...d.mem!, size: 8 }, 8, true);
  return (c) => {
    mmxCheck(c);
    mmxEnter(c.fpu); // TOP and tags before the store's faults (host-measured)
    loadMm(c, src, A); loadMm(c, msk, B);
    // The 8 bytes are checked even when the mask selects none (the SDM leaves faults with an
    // all-zero mask implementation-dependent; the host faults).
    const lo = a(c), hi = c.linHi;
    c.checkWrite(lo, hi, 8);
    for (let i = 0; i < 8; i++) {
      if ((B.u8[i] & 0x80) === 0) continue;
      const s = (lo >>> 0) + i;
      c.write8(s | 0, s >= 4294967296 && c.bitness === 64 ? (hi + 1) | 0 : hi, A.u8[i]);
    }
  };
};

/** PINSRW mm, r32/m16, imm8 (word imm & 3). */
const pinsrw: Translator = (d) => {
  const dst = mmOf(d.opRegs[0]);
  const rd = d.opKinds[1] === OpKind.Register ? operandReader(d, 1, 4) : operandReader(d, 1, 2);
  const idx = d.immLo & 3;
  return (c) => {
    mmxCheck(c);
    const v = rd(c);
    loadMm(c, dst, R);
    R.u16[idx] = v;
    const f = c.fpu;
    mmxEnter(f); mmWrite(f, dst, R.i32[0], R.i32[1]);
  };
};
/** PEXTRW r32/r64, mm, imm8 (word imm & 3, zero-extended). */
const pextrw: Translator = (d) => {
  const src = mmOf(d.opRegs[1]);
  const g = gprOf(d.opRegs[0])!.index;
  const idx = d.immLo & 3;
  return (c) => {
    mmxCheck(c);
    loadMm(c, src, B);
    c.lo[g] = B.u16[idx]; c.hi[g] = 0;
    mmxEnter(c.fpu);
  };
};
/** PMOVMSKB r32/r64, mm. */
const pmovmskb: Translator = (d) => {
  const src = mmOf(d.opRegs[1]);
  const g = gprOf(d.opRegs[0])!.index;
  return (c) => {
    mmxCheck(c);
    loadMm(c, src, B);
    let m = 0;
    for (let i = 0; i < 8; i++) m |= (B.u8[i] >>> 7) << i;
    c.lo[g] = m; c.hi[g] = 0;
    mmxEnter(c.fpu);
  };
};

/**
 * EMMS: every x87 register tagged empty (SDM vol. 2 EMMS), and TOP = 0 like every MMX instruction
 * (SDM vol. 3A §12.2: "each time an MMX instruction is executed, the TOS value is set to 000B"; host-measured).
 */
const emms: Translator = () => (c) => { mmxCheck(c); c.fpu.top = 0; c.fpu.ftw = 0xffff; };

/** MOVQ2DQ xmm, mm: xmm = zero-extended mm. MOVDQ2Q mm, xmm: mm = the low quadword of xmm. */
const movq2dq: Translator = (d) => {
  const dst = xmmOf(d.opRegs[0]), src = mmOf(d.opRegs[1]);
  return (c) => {
    sseMmxCheck(c);
    const f = c.fpu, x = c.sse.xmm, o = 4 * dst;
    x[o] = f.sigLo[src]; x[o + 1] = f.sigHi[src]; x[o + 2] = 0; x[o + 3] = 0;
    mmxEnter(f);
  };
};
const movdq2q: Translator = (d) => {
  const dst = mmOf(d.opRegs[0]), src = xmmOf(d.opRegs[1]);
  return (c) => {
    sseMmxCheck(c);
    const f = c.fpu, x = c.sse.xmm;
    const lo = x[4 * src], hi = x[4 * src + 1];
    mmxEnter(f); mmWrite(f, dst, lo, hi);
  };
};

// ---- conversions -------------------------------------------------------------------------------
/**
 * CVTPI2PS/CVTPI2PD xmm, mm/m64: two int32 to floats. With an MMX register source the
 * instruction is an MMX instruction (#MF, the x87 transition); with a memory source it is not
 * (SDM vol. 2 CVTPI2PS/CVTPI2PD: "does not cause a transition to MMX technology and does not take
 * x87 FPU exceptions").
 */
function cvtpi2(double: boolean): Translator {
  const k = double ? CVT.Cvtdq2pd : CVT.Cvtdq2ps;
  return (d) => {
    const dst = xmmOf(d.opRegs[0]);
    const mmSrc = d.opKinds[1] === OpKind.Register;
    const ld = mmLoader(d, 1, 8);
    return (c) => {
      if (mmSrc) sseMmxCheck(c); else sseCheck(c);
      ld(c, B);
      if (mmSrc) mmxEnter(c.fpu); // before a SIMD floating-point exception (host-measured)
      loadXmm(c, dst, A); copyAR();
      fpBegin(c.sse.mxcsr); fxCtx.c = c;
      k(A, B, R, 0);
      fxCommit(c);
      if (!double) { R.i32[2] = A.i32[2]; R.i32[3] = A.i32[3]; }
      storeXmm(c, dst, R);
    };
  };
}
/** CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128 (legacy SSE alignment). */
function cvt2pi(double: boolean, truncate: boolean): Translator {
  const k = double ? (truncate ? CVT.Cvttpd2dq : CVT.Cvtpd2dq) : (truncate ? CVT.Cvttps2dq : CVT.Cvtps2dq);
  return (d) => {
    const dst = mmOf(d.opRegs[0]);
    const ld = loader(d, 1, double ? 16 : 8, true);
    return (c) => {
      sseMmxCheck(c);
      ld(c, B);
      if (!double) { B.i32[2] = 0; B.i32[3] = 0; } // +0.0 converts exactly: no flags from lanes 2-3
      const f = c.fpu;
      mmxEnter(f); // before a SIMD floating-point exception (host-measured)
      fpBegin(c.sse.mxcsr); fxCtx.c = c;
      k(A, B, R, 0);
      fxCommit(c);
      mmWrite(f, dst, R.i32[0], R.i32[1]);
    };
  };
}

// ---- the tables --------------------------------------------------------------------------------------
/** MMX-register forms of mnemonics the SSE group shares (dispatched by sse/index.ts). */
export const mmxShared: TranslatorTable = {};
const LANEWISE = [
  'Paddb', 'Paddw', 'Paddd', 'Paddq', 'Psubb', 'Psubw', 'Psubd', 'Psubq', 'Paddsb', 'Paddsw', 'Paddusb', 'Paddusw',
  'Psubsb', 'Psubsw', 'Psubusb', 'Psubusw', 'Pmullw', 'Pmulhw', 'Pmulhuw', 'Pmulhrsw', 'Pmuludq', 'Pmaddwd',
  'Pmaddubsw', 'Psadbw', 'Pavgb', 'Pavgw', 'Pminub', 'Pmaxub', 'Pminsw', 'Pmaxsw', 'Pabsb', 'Pabsw', 'Pabsd',
  'Psignb', 'Psignw', 'Psignd', 'Pcmpeqb', 'Pcmpeqw', 'Pcmpeqd', 'Pcmpgtb', 'Pcmpgtw', 'Pcmpgtd',
  'Pand', 'Pandn', 'Por', 'Pxor', 'Punpcklbw', 'Punpcklwd', 'Punpckldq',
];
for (const name of LANEWISE) {
  const m = (Mnemonic as unknown as Record<string, Mnemonic>)[name];
  mmxShared[m] = binary(INT_KERNELS[name]);
}
mmxShared[Mnemonic.Packsswb] = binary(pack(ss8, 2));
mmxShared[Mnemonic.Packuswb] = binary(pack(us8, 2));
mmxShared[Mnemonic.Packssdw] = binary(pack(ss16, 4));
mmxShared[Mnemonic.Punpckhbw] = binary(unpackHigh(1));
mmxShared[Mnemonic.Punpckhwd] = binary(unpackHigh(2));
mmxShared[Mnemonic.Punpckhdq] = binary(unpackHigh(4));
mmxShared[Mnemonic.Pshufb] = binary(pshufb);
mmxShared[Mnemonic.Palignr] = binary(palignr);
mmxShared[Mnemonic.Phaddw] = binary(hadd16((x, y) => x + y));
mmxShared[Mnemonic.Phaddsw] = binary(hadd16((x, y) => ss16(x + y)));
mmxShared[Mnemonic.Phsubw] = binary(hadd16((x, y) => x - y));
mmxShared[Mnemonic.Phsubsw] = binary(hadd16((x, y) => ss16(x - y)));
mmxShared[Mnemonic.Phaddd] = binary(hadd32(false));
mmxShared[Mnemonic.Phsubd] = binary(hadd32(true));
mmxShared[Mnemonic.Psllw] = shift(16, 'l'); mmxShared[Mnemonic.Pslld] = shift(32, 'l'); mmxShared[Mnemonic.Psllq] = shift(64, 'l');
mmxShared[Mnemonic.Psrlw] = shift(16, 'r'); mmxShared[Mnemonic.Psrld] = shift(32, 'r'); mmxShared[Mnemonic.Psrlq] = shift(64, 'r');
mmxShared[Mnemonic.Psraw] = shift(16, 'a'); mmxShared[Mnemonic.Psrad] = shift(32, 'a');
mmxShared[Mnemonic.Movd] = movdq;
mmxShared[Mnemonic.Movq] = movdq;
mmxShared[Mnemonic.Pinsrw] = pinsrw;
mmxShared[Mnemonic.Pextrw] = pextrw;
mmxShared[Mnemonic.Pmovmskb] = pmovmskb;

/** Mnemonics that exist only with MMX registers (every legacy form is handled here). */
export const mmxOnly: TranslatorTable = {
  [Mnemonic.Emms]: emms,
  [Mnemonic.Pshufw]: binary(pshufw),
  [Mnemonic.Movntq]: store64,
  [Mnemonic.Maskmovq]: maskmovq,
  [Mnemonic.Movq2dq]: movq2dq,
  [Mnemonic.Movdq2q]: movdq2q,
  [Mnemonic.Cvtpi2ps]: cvtpi2(false),
  [Mnemonic.Cvtpi2pd]: cvtpi2(true),
  [Mnemonic.Cvtps2pi]: cvt2pi(false, false),
  [Mnemonic.Cvttps2pi]: cvt2pi(false, true),
  [Mnemonic.Cvtpd2pi]: cvt2pi(true, false),
  [Mnemonic.Cvttpd2pi]: cvt2pi(true, true),
};
