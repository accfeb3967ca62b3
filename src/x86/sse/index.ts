/**
 * SSE/SSE2/SSE3/SSSE3/SSE4.1/SSE4.2 instructions (SDM vol. 1 chapters 10-12, vol. 2 instruction
 * pages), legacy (non-VEX) encodings with XMM operands: this file's table, plus stateInsn.ts
 * (LDMXCSR/STMXCSR, FXSAVE/FXRSTOR, MOVNTI, MASKMOVDQU, CRC32), pcmpstr.ts (PCMPESTRI/...) and
 * xsave.ts (the XSAVE family), and mmx.ts: the MMX-register (MMn) forms of the shared mnemonics
 * and the MMX-only instructions (EMMS, PSHUFW, MOVNTQ, MASKMOVQ, MOVQ2DQ/MOVDQ2Q, CVT*PI*), chosen
 * by `dispatch` below. Not implemented (#UD): VEX/EVEX forms (AVX is not reported by CPUID).
 * MOVSD/CMPSD (XMM forms) are reached through `sseStringAlias`, called by string.ts.
 *
 * Each op first checks availability (CR0.EM, CR4.OSFXSR → #UD; CR0.TS → #NM; common.ts), then
 * reads its operands (memory faults before any state changes; 16-byte alignment #GP(0) for the
 * aligned forms), computes into scratch vectors and stores the destination last. Floating-point
 * ops report MXCSR exceptions through fxCommit (masked → flags; unmasked → #XM/#UD, no store).
 */
import { Code, EncodingKind, Mnemonic, OpKind } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import { operandReader, operandReader64, operandWriter, operandWriter64, type Op } from '../operands';
import { type Translator, type TranslatorTable, unsupported } from '../translator';
import { mmxOnly, mmxShared } from './mmx';
import {
  A, B, R, X, type Vec, copyAR, fxCommit, fxCtx, isMmx, isReg, loadXmm, loader, memAddr,
  sseCheck, storeXmm, write128, xmmOf,
} from './common';
import { Op2, bits32, f32, fpBegin, fm, hi64 } from './fp';
import {
  addsubpd, addsubps, cmppd, cmpps, comi32, comi64, cvtSrc32, cvtSrc64, hpd, hps,
  i64ToF32, i64ToF64, mmpd, mmps, pd, ps, sqrtpd, sqrtps, toInt,
} from './fpKernels';
import { CVT } from './cvtKernels';
import { dppd, dpps } from './fpKernels';
import { INT_KERNELS, type Kernel, mpsadbw, pmovx, pslldq, psrldq, shiftByImm, shiftByVec } from './intKernels';
import { xsaveHandlers } from './xsave';
import { ldmxcsr, stmxcsr, fxsaveT, fxrstorT, movnti, maskmovdqu, crc32 } from './stateInsn';
import { pcmpstrHandlers } from './pcmpstr';

const NO_ALIGN = new Set<Mnemonic>([
  Mnemonic.Movups, Mnemonic.Movupd, Mnemonic.Movdqu, Mnemonic.Lddqu, Mnemonic.Pcmpestri, Mnemonic.Pcmpestrm,
  Mnemonic.Pcmpistri, Mnemonic.Pcmpistrm,
]);


/** `xmm1, xmm2/m (, imm8)`: R = kernel(A = xmm1, B = source), stored to xmm1. */
function binary(kernel: Kernel, fp: boolean, xmm0 = false): Translator {
  return (d) => {
    if (d.opCount < 2) return null;
    const dst = xmmOf(d.opRegs[0]);
    if (dst < 0) return null;
    const mem = d.opKinds[1] === OpKind.Memory;
    const ld = loader(d, 1, mem ? d.mem!.size : 16, !NO_ALIGN.has(d.mnemonic));
    const imm = d.immLo & 0xff;
    if (xmm0) {
      return (c) => {
        sseCheck(c); ld(c, B); loadXmm(c, dst, A); loadXmm(c, 0, X); copyAR();
        kernel(A, B, R, imm); storeXmm(c, dst, R);
      };
    }
    if (fp) {
      return (c) => {
        sseCheck(c); ld(c, B); loadXmm(c, dst, A); copyAR();
        fpBegin(c.sse.mxcsr);
        fxCtx.c = c;
        kernel(A, B, R, imm);
        fxCommit(c);
        storeXmm(c, dst, R);
      };
    }
    return (c) => {
      sseCheck(c); ld(c, B); loadXmm(c, dst, A); copyAR();
      kernel(A, B, R, imm); storeXmm(c, dst, R);
    };
  };
}

/** Shifts: `xmm, imm8` or `xmm, xmm/m128`. */
function shift(width: 16 | 32 | 64, kind: 'l' | 'r' | 'a'): Translator {
  const byImm = binary(shiftByImm(width, kind), false);
  const byVec = binary(shiftByVec(width, kind), false);
  return (d) => {
    if (d.opKinds[1] !== OpKind.Register && d.opKinds[1] !== OpKind.Memory) {
      const dst = xmmOf(d.opRegs[0]);
      const k = shiftByImm(width, kind);
      const imm = d.immLo & 0xff;
      return (c) => { sseCheck(c); loadXmm(c, dst, A); copyAR(); k(A, B, R, imm); storeXmm(c, dst, R); };
    }
    void byImm;
    return byVec(d);
  };
}
function byteShift(k: Kernel): Translator {
  return (d) => {
    const dst = xmmOf(d.opRegs[0]);
    const imm = d.immLo & 0xff;
    return (c) => { sseCheck(c); loadXmm(c, dst, A); copyAR(); k(A, B, R, imm); storeXmm(c, dst, R); };
  };
}

const blendv = (size: 1 | 4 | 8): Kernel => (a, b, r) => {
  for (let i = 0; i < 16; i += size) {
    const sel = (X.u8[i + size - 1] & 0x80) !== 0;
    for (let k = 0; k < size; k++) r.u8[i + k] = sel ? b.u8[i + k] : a.u8[i + k];
  }
};

// ---- moves ------------------------------------------------------------------------------------
/** MOVAPS/MOVUPS/MOVAPD/MOVUPD/MOVDQA/MOVDQU/LDDQU/MOVNT*: 128-bit moves. */
function move128(d: DecodedInsn): Op | null {
  const align = !NO_ALIGN.has(d.mnemonic);
  if (isReg(d, 0)) {
    const dst = xmmOf(d.opRegs[0]);
    const ld = loader(d, 1, 16, align);
    return (c) => { sseCheck(c); ld(c, B); storeXmm(c, dst, B); };
  }
  const src = xmmOf(d.opRegs[1]);
  if (src < 0) return null;
  const a = memAddr(d, 16, align, true);
  return (c) => {
    sseCheck(c);
    const lo = a(c);
    const x = c.sse.xmm, o = 4 * src;
    write128(c, lo, c.linHi, x[o], x[o + 1], x[o + 2], x[o + 3]);
  };
}

/** MOVSS / MOVSD (xmm): register forms merge the low element; loads zero the rest. */
export function moveScalar(d: DecodedInsn, size: 4 | 8): Op | null {
  const lanes = size / 4;
  if (isReg(d, 0) && isReg(d, 1)) {
    const dst = xmmOf(d.opRegs[0]), src = xmmOf(d.opRegs[1]);
    return (c) => {
      sseCheck(c);
      const x = c.sse.xmm;
      for (let i = 0; i < lanes; i++) x[4 * dst + i] = x[4 * src + i];
    };
  }
  if (isReg(d, 0)) {
    const dst = xmmOf(d.opRegs[0]);
    const ld = loader(d, 1, size, false);
    return (c) => { sseCheck(c); ld(c, B); storeXmm(c, dst, B); };
  }
  const src = xmmOf(d.opRegs[1]);
  const a = memAddr(d, size, false, true);
  if (size === 4) return (c) => { sseCheck(c); const lo = a(c); c.write32(lo, c.linHi, c.sse.xmm[4 * src]); };
  return (c) => { sseCheck(c); const lo = a(c); c.write64(lo, c.linHi, c.sse.xmm[4 * src], c.sse.xmm[4 * src + 1]); };
}

/** MOVD/MOVQ between XMM and GPR/memory, and MOVQ xmm, xmm/m64 / xmm/m64, xmm. */
function movdq(d: DecodedInsn): Op | null {
  const name = Code[d.code];
  if (name === 'Movd_xmm_rm32') {
    const dst = xmmOf(d.opRegs[0]); const rd = operandReader(d, 1, 4);
    return (c) => { sseCheck(c); const v = rd(c); const x = c.sse.xmm; x[4 * dst] = v; x[4 * dst + 1] = 0; x[4 * dst + 2] = 0; x[4 * dst + 3] = 0; };
  }
  if (name === 'Movq_xmm_rm64') {
    const dst = xmmOf(d.opRegs[0]); const rd = operandReader64(d, 1);
    return (c) => { sseCheck(c); const v = rd(c); const x = c.sse.xmm; x[4 * dst] = v; x[4 * dst + 1] = c.vHi; x[4 * dst + 2] = 0; x[4 * dst + 3] = 0; };
  }
  if (name === 'Movd_rm32_xmm') {
    const src = xmmOf(d.opRegs[1]); const wr = operandWriter(d, 0, 4);
    return (c) => { sseCheck(c); wr(c, c.sse.xmm[4 * src]); };
  }
  if (name === 'Movq_rm64_xmm') {
    const src = xmmOf(d.opRegs[1]); const wr = operandWriter64(d, 0);
    return (c) => { sseCheck(c); wr(c, c.sse.xmm[4 * src], c.sse.xmm[4 * src + 1]); };
  }
  if (name === 'Movq_xmm_xmmm64') {
    const dst = xmmOf(d.opRegs[0]); const ld = loader(d, 1, 8, false);
    return (c) => { sseCheck(c); ld(c, B); B.i32[2] = 0; B.i32[3] = 0; storeXmm(c, dst, B); };
  }
  if (name === 'Movq_xmmm64_xmm') {
    const src = xmmOf(d.opRegs[1]);
    if (isReg(d, 0)) {
      const dst = xmmOf(d.opRegs[0]);
      return (c) => { sseCheck(c); const x = c.sse.xmm; x[4 * dst] = x[4 * src]; x[4 * dst + 1] = x[4 * src + 1]; x[4 * dst + 2] = 0; x[4 * dst + 3] = 0; };
    }
    const a = memAddr(d, 8, false, true);
    return (c) => { sseCheck(c); const lo = a(c); c.write64(lo, c.linHi, c.sse.xmm[4 * src], c.sse.xmm[4 * src + 1]); };
  }
  return null;
}

/** MOVHPS/MOVHPD/MOVLPS/MOVLPD (m64 forms), MOVHLPS/MOVLHPS (register forms). */
function moveHalf(high: boolean): Translator {
  return (d) => {
    const off = high ? 2 : 0;
    if (isReg(d, 0) && isReg(d, 1)) {
      // MOVHLPS (iced: Movhlps) / MOVLHPS share opcodes with MOVLPS/MOVHPS.
      return null;
    }
    if (isReg(d, 0)) {
      const dst = xmmOf(d.opRegs[0]); const ld = loader(d, 1, 8, false);
      return (c) => { sseCheck(c); ld(c, B); const x = c.sse.xmm; x[4 * dst + off] = B.i32[0]; x[4 * dst + off + 1] = B.i32[1]; };
    }
    const src = xmmOf(d.opRegs[1]); const a = memAddr(d, 8, false, true);
    return (c) => { sseCheck(c); const lo = a(c); c.write64(lo, c.linHi, c.sse.xmm[4 * src + off], c.sse.xmm[4 * src + off + 1]); };
  };
}
const movhlps: Translator = (d) => {
  const dst = xmmOf(d.opRegs[0]), src = xmmOf(d.opRegs[1]);
  return (c) => { sseCheck(c); const x = c.sse.xmm; x[4 * dst] = x[4 * src + 2]; x[4 * dst + 1] = x[4 * src + 3]; };
};
const movlhps: Translator = (d) => {
  const dst = xmmOf(d.opRegs[0]), src = xmmOf(d.opRegs[1]);
  return (c) => { sseCheck(c); const x = c.sse.xmm; x[4 * dst + 2] = x[4 * src]; x[4 * dst + 3] = x[4 * src + 1]; };
};

/** MOVMSKPS/MOVMSKPD/PMOVMSKB r32/r64, xmm (zero-extended). */
function movmsk(kind: 'ps' | 'pd' | 'b'): Translator {
  return (d) => {
    const g = gprOf(d.opRegs[0])!.index, src = xmmOf(d.opRegs[1]);
    return (c) => {
      sseCheck(c);
      loadXmm(c, src, B);
      let m = 0;
      if (kind === 'ps') for (let i = 0; i < 4; i++) m |= (B.u32[i] >>> 31) << i;
      else if (kind === 'pd') m = (B.u32[1] >>> 31) | ((B.u32[3] >>> 31) << 1);
      else for (let i = 0; i < 16; i++) m |= (B.u8[i] >>> 7) << i;
      c.lo[g] = m; c.hi[g] = 0;
    };
  };
}

function dup(kind: 'dd' | 'sh' | 'sl'): Translator {
  return (d) => {
    const dst = xmmOf(d.opRegs[0]);
    const ld = loader(d, 1, kind === 'dd' ? (isReg(d, 1) ? 16 : 8) : 16, true);
    return (c) => {
      sseCheck(c); ld(c, B);
      if (kind === 'dd') { B.i32[2] = B.i32[0]; B.i32[3] = B.i32[1]; }
      else if (kind === 'sh') { B.i32[0] = B.i32[1]; B.i32[2] = B.i32[3]; }
      else { B.i32[1] = B.i32[0]; B.i32[3] = B.i32[2]; }
      storeXmm(c, dst, B);
    };
  };
}

// ---- PINSR/PEXTR/EXTRACTPS/INSERTPS ------------------------------------------------------------
function pinsr(size: 1 | 2 | 4 | 8): Translator {
  return (d) => {
    const dst = xmmOf(d.opRegs[0]);
    const imm = d.immLo & 0xff;
    if (size === 8) {
      const rd = operandReader64(d, 1);
      const q = (imm & 1) * 2;
      return (c) => { sseCheck(c); const lo = rd(c); const x = c.sse.xmm; x[4 * dst + q] = lo; x[4 * dst + q + 1] = c.vHi; };
    }
    const rd = isReg(d, 1) ? operandReader(d, 1, 4) : operandReader(d, 1, size);
    const n = 16 / size;
    const idx = imm & (n - 1);
    return (c) => {
      sseCheck(c);
      const v = rd(c);
      loadXmm(c, dst, R);
      if (size === 1) R.u8[idx] = v; else if (size === 2) R.u16[idx] = v; else R.i32[idx] = v;
      storeXmm(c, dst, R);
    };
  };
}
function pextr(size: 1 | 2 | 4 | 8): Translator {
  return (d) => {
    const src = xmmOf(d.opRegs[1]);
    const imm = d.immLo & 0xff;
    if (size === 8) {
      const wr = operandWriter64(d, 0);
      const q = (imm & 1) * 2;
      return (c) => { sseCheck(c); wr(c, c.sse.xmm[4 * src + q], c.sse.xmm[4 * src + q + 1]); };
    }
    const n = 16 / size;
    const idx = imm & (n - 1);
    const mem = d.opKinds[0] === OpKind.Memory;
    // Register destinations are zero-extended (a 32-bit write clears the upper half).
    const wr = mem ? operandWriter(d, 0, size) : operandWriter(d, 0, 4);
    return (c) => {
      sseCheck(c);
      loadXmm(c, src, B);
      wr(c, size === 1 ? B.u8[idx] : size === 2 ? B.u16[idx] : B.i32[idx]);
    };
  };
}
const insertps: Translator = (d) => {
  const dst = xmmOf(d.opRegs[0]);
  const imm = d.immLo & 0xff;
  const reg = isReg(d, 1);
  const ld = loader(d, 1, reg ? 16 : 4, false);
  const sIdx = reg ? (imm >> 6) & 3 : 0, dIdx = (imm >> 4) & 3;
  return (c) => {
    sseCheck(c); ld(c, B); loadXmm(c, dst, R);
    R.i32[dIdx] = B.i32[sIdx];
    for (let i = 0; i < 4; i++) if ((imm >> i) & 1) R.i32[i] = 0;
    storeXmm(c, dst, R);
  };
};

// ---- conversions ------------------------------------------------------------------------------------
/** CVTSI2SS/CVTSI2SD xmm, r/m32|64. */
function cvtsi2(double: boolean): Translator {
  return (d) => {
    const dst = xmmOf(d.opRegs[0]);
    const wide = Code[d.code].endsWith('rm64');
    const rd32 = wide ? null : operandReader(d, 1, 4);
    const rd64 = wide ? operandReader64(d, 1) : null;
    return (c) => {
      sseCheck(c);
      let lo: number, hi: number;
      if (rd64 !== null) { lo = rd64(c); hi = c.vHi; } else { lo = rd32!(c); hi = lo >> 31; }
      fpBegin(c.sse.mxcsr);
      const x = c.sse.xmm;
      if (double) {
        const rl = i64ToF64(lo, hi);
        const rh = hi64.v;
        fxCommit(c);
        x[4 * dst] = rl; x[4 * dst + 1] = rh;
      } else {
        const r = i64ToF32(lo, hi);
        fxCommit(c);
        x[4 * dst] = r;
      }
    };
  };
}

/** CVT(T)SS2SI / CVT(T)SD2SI r32|r64, xmm/m32|m64. */
function cvt2si(double: boolean, truncate: boolean): Translator {
  return (d) => {
    const g = gprOf(d.opRegs[0])!;
    const bits = g.size === 8 ? 64 : 32;
    const ld = loader(d, 1, double ? 8 : 4, false);
    return (c) => {
      sseCheck(c); ld(c, B);
      fpBegin(c.sse.mxcsr);
      let lo: number;
      if (double) lo = toInt(cvtSrc64(B.i32[0], B.i32[1]), isNaNBits64(B), bits, truncate);
      else lo = toInt(cvtSrc32(B.i32[0]), (B.i32[0] & 0x7fffffff) > 0x7f800000, bits, truncate);
      const hi = hi64.v;
      fxCommit(c);
      c.lo[g.index] = lo; c.hi[g.index] = bits === 64 ? hi : 0;
    };
  };
}
function isNaNBits64(v: Vec): boolean {
  const h = v.i32[1] & 0x7fffffff;
  return h > 0x7ff00000 || (h === 0x7ff00000 && v.i32[0] !== 0);
}

/** COMISS/UCOMISS/COMISD/UCOMISD: ZF/PF/CF from the relation, OF/SF/AF cleared (SDM vol. 2 COMISS). */
function comi(double: boolean, signalQnan: boolean): Translator {
  return (d) => {
    const a = xmmOf(d.opRegs[0]);
    const ld = loader(d, 1, double ? 8 : 4, false);
    return (c) => {
      sseCheck(c); ld(c, B);
      fpBegin(c.sse.mxcsr);
      const x = c.sse.xmm;
      const rel = double ? comi64(x[4 * a], x[4 * a + 1], B.i32[0], B.i32[1], signalQnan) : comi32(x[4 * a], B.i32[0], signalQnan);
      fxCommit(c);
      const zf = rel === 0 || rel === 3, pf = rel === 3, cf = rel === 1 || rel === 3;
      setFlags(c, zf, pf, cf);
    };
  };
}
/** ZF, PF, CF as given; OF, SF, AF cleared. */
function setFlags(c: Cpu, zf: boolean, pf: boolean, cf: boolean): void {
  c.fRes = zf ? 0 : 1;
  c.fSgn = 0;
  c.fPar = pf ? 0 : 1;
  c.fCO = cf ? (3 << 30) : 0;
  c.fAux = 0;
}

const ptest: Translator = (d) => {
  const a = xmmOf(d.opRegs[0]);
  const ld = loader(d, 1, 16, true);
  return (c) => {
    sseCheck(c); ld(c, B); loadXmm(c, a, A);
    let z = 0, cz = 0;
    for (let i = 0; i < 4; i++) { z |= A.i32[i] & B.i32[i]; cz |= ~A.i32[i] & B.i32[i]; }
    setFlags(c, z === 0, false, cz === 0);
  };
};

// ---- the table ----------------------------------------------------------------------------------------
const T: TranslatorTable = {};
for (const [name, k] of Object.entries(INT_KERNELS)) {
  const m = (Mnemonic as unknown as Record<string, Mnemonic>)[name];
  T[m] = binary(k, false);
}
const fpOps: Array<[Mnemonic, Kernel]> = [
  [Mnemonic.Addps, ps(Op2.Add, 4)], [Mnemonic.Addss, ps(Op2.Add, 1)], [Mnemonic.Addpd, pd(Op2.Add, 2)], [Mnemonic.Addsd, pd(Op2.Add, 1)],
  [Mnemonic.Subps, ps(Op2.Sub, 4)], [Mnemonic.Subss, ps(Op2.Sub, 1)], [Mnemonic.Subpd, pd(Op2.Sub, 2)], [Mnemonic.Subsd, pd(Op2.Sub, 1)],
  [Mnemonic.Mulps, ps(Op2.Mul, 4)], [Mnemonic.Mulss, ps(Op2.Mul, 1)], [Mnemonic.Mulpd, pd(Op2.Mul, 2)], [Mnemonic.Mulsd, pd(Op2.Mul, 1)],
  [Mnemonic.Divps, ps(Op2.Div, 4)], [Mnemonic.Divss, ps(Op2.Div, 1)], [Mnemonic.Divpd, pd(Op2.Div, 2)], [Mnemonic.Divsd, pd(Op2.Div, 1)],
  [Mnemonic.Sqrtps, sqrtps(4)], [Mnemonic.Sqrtss, sqrtps(1)], [Mnemonic.Sqrtpd, sqrtpd(2)], [Mnemonic.Sqrtsd, sqrtpd(1)],
  [Mnemonic.Minps, mmps(false, 4)], [Mnemonic.Minss, mmps(false, 1)], [Mnemonic.Minpd, mmpd(false, 2)], [Mnemonic.Minsd, mmpd(false, 1)],
  [Mnemonic.Maxps, mmps(true, 4)], [Mnemonic.Maxss, mmps(true, 1)], [Mnemonic.Maxpd, mmpd(true, 2)], [Mnemonic.Maxsd, mmpd(true, 1)],
  [Mnemonic.Cmpps, cmpps(4)], [Mnemonic.Cmpss, cmpps(1)], [Mnemonic.Cmppd, cmppd(2)],
  [Mnemonic.Addsubps, addsubps], [Mnemonic.Addsubpd, addsubpd],
  [Mnemonic.Haddps, hps(Op2.Add)], [Mnemonic.Hsubps, hps(Op2.Sub)], [Mnemonic.Haddpd, hpd(Op2.Add)], [Mnemonic.Hsubpd, hpd(Op2.Sub)],
];
for (const [m, k] of fpOps) T[m] = binary(k, true);
for (const [name, k] of Object.entries(CVT)) {
  const m = (Mnemonic as unknown as Record<string, Mnemonic>)[name];
  T[m] = binary(k, !name.startsWith('R') || name.startsWith('Round'));
}
T[Mnemonic.Psllw] = shift(16, 'l'); T[Mnemonic.Pslld] = shift(32, 'l'); T[Mnemonic.Psllq] = shift(64, 'l');
T[Mnemonic.Psrlw] = shift(16, 'r'); T[Mnemonic.Psrld] = shift(32, 'r'); T[Mnemonic.Psrlq] = shift(64, 'r');
T[Mnemonic.Psraw] = shift(16, 'a'); T[Mnemonic.Psrad] = shift(32, 'a');
T[Mnemonic.Pslldq] = byteShift(pslldq); T[Mnemonic.Psrldq] = byteShift(psrldq);
T[Mnemonic.Pmovzxbw] = binary(pmovx(1, 2, false), false); T[Mnemonic.Pmovzxbd] = binary(pmovx(1, 4, false), false);
T[Mnemonic.Pmovzxbq] = binary(pmovx(1, 8, false), false); T[Mnemonic.Pmovzxwd] = binary(pmovx(2, 4, false), false);
T[Mnemonic.Pmovzxwq] = binary(pmovx(2, 8, false), false); T[Mnemonic.Pmovzxdq] = binary(pmovx(4, 8, false), false);
T[Mnemonic.Pmovsxbw] = binary(pmovx(1, 2, true), false); T[Mnemonic.Pmovsxbd] = binary(pmovx(1, 4, true), false);
T[Mnemonic.Pmovsxbq] = binary(pmovx(1, 8, true), false); T[Mnemonic.Pmovsxwd] = binary(pmovx(2, 4, true), false);
T[Mnemonic.Pmovsxwq] = binary(pmovx(2, 8, true), false); T[Mnemonic.Pmovsxdq] = binary(pmovx(4, 8, true), false);
T[Mnemonic.Pblendvb] = binary(blendv(1), false, true);
T[Mnemonic.Blendvps] = binary(blendv(4), false, true);
T[Mnemonic.Blendvpd] = binary(blendv(8), false, true);
for (const m of [Mnemonic.Movaps, Mnemonic.Movups, Mnemonic.Movapd, Mnemonic.Movupd, Mnemonic.Movdqa, Mnemonic.Movdqu,
  Mnemonic.Lddqu, Mnemonic.Movntps, Mnemonic.Movntpd, Mnemonic.Movntdq, Mnemonic.Movntdqa]) T[m] = move128;
T[Mnemonic.Movss] = (d) => moveScalar(d, 4);
T[Mnemonic.Movd] = movdq;
T[Mnemonic.Movq] = movdq;
T[Mnemonic.Movhps] = moveHalf(true); T[Mnemonic.Movhpd] = moveHalf(true);
T[Mnemonic.Movlps] = moveHalf(false); T[Mnemonic.Movlpd] = moveHalf(false);
T[Mnemonic.Movhlps] = movhlps; T[Mnemonic.Movlhps] = movlhps;
T[Mnemonic.Movmskps] = movmsk('ps'); T[Mnemonic.Movmskpd] = movmsk('pd'); T[Mnemonic.Pmovmskb] = movmsk('b');
T[Mnemonic.Movddup] = dup('dd'); T[Mnemonic.Movshdup] = dup('sh'); T[Mnemonic.Movsldup] = dup('sl');
T[Mnemonic.Pinsrb] = pinsr(1); T[Mnemonic.Pinsrw] = pinsr(2); T[Mnemonic.Pinsrd] = pinsr(4); T[Mnemonic.Pinsrq] = pinsr(8);
T[Mnemonic.Pextrb] = pextr(1); T[Mnemonic.Pextrw] = pextr(2); T[Mnemonic.Pextrd] = pextr(4); T[Mnemonic.Pextrq] = pextr(8);
T[Mnemonic.Extractps] = pextr(4);
T[Mnemonic.Insertps] = insertps;
T[Mnemonic.Cvtsi2ss] = cvtsi2(false); T[Mnemonic.Cvtsi2sd] = cvtsi2(true);
T[Mnemonic.Cvtss2si] = cvt2si(false, false); T[Mnemonic.Cvttss2si] = cvt2si(false, true);
T[Mnemonic.Cvtsd2si] = cvt2si(true, false); T[Mnemonic.Cvttsd2si] = cvt2si(true, true);
T[Mnemonic.Comiss] = comi(false, true); T[Mnemonic.Ucomiss] = comi(false, false);
T[Mnemonic.Comisd] = comi(true, true); T[Mnemonic.Ucomisd] = comi(true, false);
T[Mnemonic.Ptest] = ptest;
T[Mnemonic.Dpps] = binary(dpps, true);
T[Mnemonic.Dppd] = binary(dppd, true);
T[Mnemonic.Mpsadbw] = binary(mpsadbw, false);
T[Mnemonic.Movnti] = movnti;
T[Mnemonic.Maskmovdqu] = maskmovdqu;
T[Mnemonic.Crc32] = crc32;
T[Mnemonic.Ldmxcsr] = ldmxcsr; T[Mnemonic.Stmxcsr] = stmxcsr;
T[Mnemonic.Fxsave] = fxsaveT; T[Mnemonic.Fxsave64] = fxsaveT;
T[Mnemonic.Fxrstor] = fxrstorT; T[Mnemonic.Fxrstor64] = fxrstorT;

const movsdXmm: Translator = (d) => moveScalar(d, 8);
const cmpsdXmm: Translator = binary(cmppd(1), true);

/**
 * Hook for string.ts: MOVSD and CMPSD are both string instructions and SSE2 instructions with
 * the same iced mnemonic. string.ts owns the mnemonics and calls this for the forms it does not
 * handle (Movsd_xmm_xmmm64, Movsd_xmmm64_xmm, Cmpsd_xmm_xmmm64_imm8).
 */
export function sseStringAlias(d: DecodedInsn): Op | null {
  switch (d.code) {
    case Code.Movsd_xmm_xmmm64: case Code.Movsd_xmmm64_xmm: return movsdXmm(d);
    case Code.Cmpsd_xmm_xmmm64_imm8: return cmpsdXmm(d);
    default: return null;
  }
}

/**
 * Dispatch by encoding and register file: VEX/EVEX encodings are not implemented (AVX is not
 * reported by CPUID): #UD with that reason. Forms with an MMX register go to mmx.ts.
 */
function dispatch(t: TranslatorTable, mmx: TranslatorTable): TranslatorTable {
  const out: TranslatorTable = {};
  const keys = new Set([...Object.keys(t), ...Object.keys(mmx)]);
  for (const k of keys) {
    const f = (t as Record<string, Translator>)[k], g = (mmx as Record<string, Translator>)[k];
    (out as Record<string, Translator>)[k] = (d) => {
      if (d.encoding !== 0) return unsupported(`${EncodingKind[d.encoding]}-encoded form: AVX/AVX-512 are not implemented by the processor model (not reported by CPUID)`);
      if (f === undefined || isMmx(d)) return g !== undefined ? g(d) : unsupported('MMX-register form not implemented by the processor model');
      return f(d);
    };
  }
  return out;
}

export const sseHandlers: TranslatorTable = dispatch({ ...T, ...pcmpstrHandlers, ...xsaveHandlers }, { ...mmxShared, ...mmxOnly });
void f32; void bits32; void fm;
