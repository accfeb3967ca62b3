/**
 * Packed and scalar float conversions, ROUND* and RCP/RSQRT as kernels over A/B/R (SDM vol. 2
 * CVT*, ROUND*, RCP*, RSQRT* pages). Shared by the XMM forms (index.ts) and the MMX-register
 * conversions (mmx.ts).
 */
import type { Vec } from './common';
import { bits64, hi64, round32 } from './fp';
import { cvtSrc32, cvtSrc64, f32ToF64, f64ToF32, rcp32, round32Lane, round64Lane, rsqrt32, toInt } from './fpKernels';
import type { Kernel } from './intKernels';

/** Packed and scalar float conversions as kernels over A/B/R. */
export const CVT: Record<string, Kernel> = {
  Cvtss2sd: (_a, b, r) => { r.i32[0] = f32ToF64(b.i32[0]); r.i32[1] = hi64.v; },
  Cvtsd2ss: (_a, b, r) => { r.i32[0] = f64ToF32(b.i32[0], b.i32[1]); },
  Cvtps2pd: (_a, b, r) => {
    const l0 = f32ToF64(b.i32[0]), h0 = hi64.v, l1 = f32ToF64(b.i32[1]), h1 = hi64.v;
    r.i32[0] = l0; r.i32[1] = h0; r.i32[2] = l1; r.i32[3] = h1;
  },
  Cvtpd2ps: (_a, b, r) => {
    r.i32[0] = f64ToF32(b.i32[0], b.i32[1]); r.i32[1] = f64ToF32(b.i32[2], b.i32[3]); r.i32[2] = 0; r.i32[3] = 0;
  },
  Cvtdq2ps: (_a, b, r) => { for (let i = 0; i < 4; i++) r.i32[i] = round32(b.i32[i], 0); },
  Cvtdq2pd: (_a, b, r) => {
    const x = b.i32[0], y = b.i32[1];
    r.i32[0] = bits64(x); r.i32[1] = hi64.v; r.i32[2] = bits64(y); r.i32[3] = hi64.v;
  },
  Cvtps2dq: (_a, b, r) => { for (let i = 0; i < 4; i++) r.i32[i] = toInt(cvtSrc32(b.i32[i]), (b.i32[i] & 0x7fffffff) > 0x7f800000, 32, false); },
  Cvttps2dq: (_a, b, r) => { for (let i = 0; i < 4; i++) r.i32[i] = toInt(cvtSrc32(b.i32[i]), (b.i32[i] & 0x7fffffff) > 0x7f800000, 32, true); },
  Cvtpd2dq: (_a, b, r) => {
    for (let i = 0; i < 2; i++) r.i32[i] = toInt(cvtSrc64(b.i32[2 * i], b.i32[2 * i + 1]), nan64at(b, i), 32, false);
    r.i32[2] = 0; r.i32[3] = 0;
  },
  Cvttpd2dq: (_a, b, r) => {
    for (let i = 0; i < 2; i++) r.i32[i] = toInt(cvtSrc64(b.i32[2 * i], b.i32[2 * i + 1]), nan64at(b, i), 32, true);
    r.i32[2] = 0; r.i32[3] = 0;
  },
  Roundps: (_a, b, r, imm) => { for (let i = 0; i < 4; i++) r.i32[i] = round32Lane(b.i32[i], imm); },
  Roundss: (_a, b, r, imm) => { r.i32[0] = round32Lane(b.i32[0], imm); },
  Roundpd: (_a, b, r, imm) => {
    for (let i = 0; i < 4; i += 2) { r.i32[i] = round64Lane(b.i32[i], b.i32[i + 1], imm); r.i32[i + 1] = hi64.v; }
  },
  Roundsd: (_a, b, r, imm) => { r.i32[0] = round64Lane(b.i32[0], b.i32[1], imm); r.i32[1] = hi64.v; },
  Rcpps: (_a, b, r) => { for (let i = 0; i < 4; i++) r.i32[i] = rcp32(b.i32[i]); },
  Rcpss: (_a, b, r) => { r.i32[0] = rcp32(b.i32[0]); },
  Rsqrtps: (_a, b, r) => { for (let i = 0; i < 4; i++) r.i32[i] = rsqrt32(b.i32[i]); },
  Rsqrtss: (_a, b, r) => { r.i32[0] = rsqrt32(b.i32[0]); },
};
function nan64at(v: Vec, i: number): boolean {
  const h = v.i32[2 * i + 1] & 0x7fffffff;
  return h > 0x7ff00000 || (h === 0x7ff00000 && v.i32[2 * i] !== 0);
}

