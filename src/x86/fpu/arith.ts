/**
 * x87 arithmetic translators (SDM vol. 2A): FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR and their P/I forms,
 * one-operand ST0 ops, FSCALE, FPREM/FPREM1, FXTRACT, and the transcendentals FSIN/FCOS/FSINCOS/
 * FPTAN/FPATAN/F2XM1/FYL2X/FYL2XP1 (the math is in transcendental.ts).
 */
import { OpKind } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import type { Op } from '../operands';
import type { FpuState } from './state';
import type * as softfloat from './softfloat';
import * as tr from './transcendental';
import * as stack from './stack';
import * as operands from './operands';
import type { Src } from './operands';

// Plain copies: property loads instead of the module namespaces' accessors (hot path; under the
// CommonJS transform every imported name is read through a getter).
const { IE, DE, ZE, PE, SF, C1, C0, C2, C3, sf, R, phys, isEmpty, writeReg, writeResult, pop, commit, pc, rc, check, ctx, recordPointers } = stack;
const { regIndex, srcReg, srcMem, memKind } = operands;

// ---- arithmetic -----------------------------------------------------------------------------
export const enum ArOp { Add, Sub, SubR, Mul, Div, DivR }

export function arith(op: ArOp, int: boolean, popAfter: boolean): (d: DecodedInsn) => Op | null {
  return (d) => {
    const x = ctx(d);
    let dst: number, src: Src;
    if (d.opCount === 1 && d.opKinds[0] === OpKind.Memory) {
      dst = 0; src = srcMem(d, memKind(d, int), true);
    } else if (d.opCount === 2) {
      dst = regIndex(d.opRegs[0]); src = srcReg(regIndex(d.opRegs[1]));
    } else return null;
    return (c) => {
      check(c, true);
      const f = c.fpu;
      sf.clearFlags();
      const ok = src(c);
      const s2 = R.s, e2 = R.e, h2 = R.h, l2 = R.l;
      recordPointers(c, x);
      const pd = phys(f, dst);
      if (!ok || isEmpty(f, pd)) {
        // stack underflow (SDM vol. 1 §8.5.1.1): IE + SF, C1 = 0; masked response: indefinite
        if (commit(f, IE | SF)) return;
        sf.setIndefinite(); writeResult(f, pd);
        if (popAfter) pop(f);
        return;
      }
      const s1 = f.signExp[pd] >>> 15, e1 = f.signExp[pd] & 0x7fff, h1 = f.sigHi[pd], l1 = f.sigLo[pd];
      const p = pc(f), r = rc(f), w = f.fcw;
      switch (op) {
        case ArOp.Add: sf.add(s1, e1, h1, l1, s2, e2, h2, l2, p, r, w); break;
        case ArOp.Sub: sf.add(s1, e1, h1, l1, s2, e2, h2, l2, p, r, w, 1); break;
        case ArOp.SubR: sf.add(s2, e2, h2, l2, s1, e1, h1, l1, p, r, w, 1); break;
        case ArOp.Mul: sf.mul(s1, e1, h1, l1, s2, e2, h2, l2, p, r, w); break;
        case ArOp.Div: sf.div(s1, e1, h1, l1, s2, e2, h2, l2, p, r, w); break;
        default: sf.div(s2, e2, h2, l2, s1, e1, h1, l1, p, r, w); break;
      }
      if (commit(f, R.fx)) return;
      writeResult(f, pd);
      if (popAfter) pop(f);
    };
  };
}


/** One-operand ST0 ops. */
export function unary(fn: (c: Cpu, f: FpuState, s: number, e: number, h: number, l: number) => void, defC1 = true): (d: DecodedInsn) => Op | null {
  return (d) => {
    const x = ctx(d);
    return (c) => {
      check(c, true);
      const f = c.fpu;
      recordPointers(c, x);
      const p = f.top;
      if (isEmpty(f, p)) {
        if (commit(f, IE | SF)) return;
        sf.setIndefinite(); writeResult(f, p); return;
      }
      sf.clearFlags();
      fn(c, f, f.signExp[p] >>> 15, f.signExp[p] & 0x7fff, f.sigHi[p], f.sigLo[p]);
      if (defC1) { if (commit(f, R.fx)) return; }
      writeResult(f, p);
    };
  };
}
// ---- FSCALE / FXTRACT / FPREM ------------------------------------------------------------------
export function twoRegs(fn: (f: FpuState, p0: number, p1: number) => boolean, underflowClears = C1): (d: DecodedInsn) => Op | null {
  // fn returns true when it wrote its results itself. underflowClears: the condition codes a stack
  // underflow clears (C1 per SDM vol. 1 §8.5.1.1; FPREM/FPREM1 also C2, measured).
  return (d) => {
    const x = ctx(d);
    return (c) => {
      check(c, true);
      const f = c.fpu;
      recordPointers(c, x);
      const p0 = f.top, p1 = (f.top + 1) & 7;
      sf.clearFlags();
      if (isEmpty(f, p0) || isEmpty(f, p1)) {
        const stop = commit(f, IE | SF);
        f.fsw &= ~underflowClears;
        if (stop) return;
        sf.setIndefinite(); writeResult(f, p0); return;
      }
      fn(f, p0, p1);
    };
  };
}

/** FSCALE: ST0 × 2^trunc(ST1) (SDM vol. 2A FSCALE), rounded to the 64-bit significand. */
export function fscaleOp(f: FpuState, p0: number, p1: number): boolean {
  const s0 = f.signExp[p0] >>> 15, e0 = f.signExp[p0] & 0x7fff, h0 = f.sigHi[p0], l0 = f.sigLo[p0];
  const s1 = f.signExp[p1] >>> 15, e1 = f.signExp[p1] & 0x7fff, h1 = f.sigHi[p1], l1 = f.sigLo[p1];
  const k0 = sf.classify(e0, h0, l0), k1 = sf.classify(e1, h1, l1);
  const nan = (k: softfloat.K): boolean => k === sf.K.QNaN || k === sf.K.SNaN;
  if (k0 === sf.K.Unsupported || k1 === sf.K.Unsupported) { sf.addFlags(IE); sf.setIndefinite(); }
  else if (nan(k0) || nan(k1)) { sf.add(s0, e0, h0, l0, s1, e1, h1, l1, 64, 0, f.fcw); }
  else {
    if (k0 === sf.K.Denormal || k1 === sf.K.Denormal) sf.addFlags(DE);
    if (k1 === sf.K.Inf) {
      if (s1 === 0) {
        if (k0 === sf.K.Zero) { sf.addFlags(IE); sf.setIndefinite(); } else sf.setResult(s0, 0x7fff, 0x80000000, 0);
      } else if (k0 === sf.K.Inf) { sf.addFlags(IE); sf.setIndefinite(); } else sf.setResult(s0, 0, 0, 0);
    } else if (k0 === sf.K.Zero || k0 === sf.K.Inf) {
      sf.setResult(s0, e0, h0, l0);
    } else if (k1 === sf.K.Zero) {
      // Scale by ±0: ST0 unchanged, not rounded (no UE for a denormal even when UE is unmasked);
      // a pseudo-denormal comes back with exponent 1 (measured on silicon).
      sf.setResult(s0, e0 === 0 && (h0 & 0x80000000) !== 0 ? 1 : e0, h0, l0);
    } else {
      // n = trunc(ST1), clamped (a scale beyond ±2^16 overflows/underflows anyway).
      let n = 0;
      const u = (e1 || 1) - 16383;
      if (u >= 16) n = 70000;
      else if (u >= 0) n = Math.floor(((h1 >>> 0) / 2 ** (31 - u)));
      n = s1 ? -n : n;
      // normalize ST0 and round as an extended result with exponent + n
      let e = e0 || 1, h = h0 >>> 0, l = l0 >>> 0;
      while ((h & 0x80000000) === 0) { h = ((h << 1) | (l >>> 31)) >>> 0; l = (l << 1) >>> 0; e--; }
      sf.roundExt(s0, e + n, h, l, 0, 64, rc(f), f.fcw);
    }
  }
  if (commit(f, R.fx)) return true;
  writeResult(f, p0);
  return true;
}

/**
 * FPREM/FPREM1. Without a quotient (invalid operation, NaN operand, or an unmasked exception that
 * stops the operation; also stack underflow, see twoRegs) silicon clears C2 and C1 and keeps C0 and
 * C3 (measured; the SDM leaves them undefined then).
 */
export function fpremOp(nearest: boolean): (f: FpuState, p0: number, p1: number) => boolean {
  return (f, p0, p1) => {
    const e0 = f.signExp[p0] & 0x7fff, h0 = f.sigHi[p0], l0 = f.sigLo[p0];
    const e1 = f.signExp[p1] & 0x7fff, h1 = f.sigHi[p1], l1 = f.sigLo[p1];
    sf.prem(f.signExp[p0] >>> 15, e0, h0, l0, f.signExp[p1] >>> 15, e1, h1, l1, nearest, f.fcw);
    const noQuotient = (R.fx & IE) !== 0 || isNaNOp(e0, h0, l0) || isNaNOp(e1, h1, l1);
    if (commit(f, R.fx & ~C1)) { f.fsw &= ~(C1 | C2); return true; }
    f.fsw = noQuotient ? f.fsw & ~(C1 | C2) : (f.fsw & ~(C0 | C1 | C2 | C3)) | R.premCC;
    writeResult(f, p0);
    return true;
  };
}
function isNaNOp(e: number, h: number, l: number): boolean {
  const k = sf.classify(e, h, l);
  return k === sf.K.QNaN || k === sf.K.SNaN;
}

/** FXTRACT (SDM vol. 2A): ST0 = exponent, then push the significand (exponent 0). */
export function fxtract(d: DecodedInsn): Op | null {
  const x = ctx(d);
  return (c) => {
    check(c, true);
    const f = c.fpu;
    recordPointers(c, x);
    const p0 = f.top, pn = (f.top - 1) & 7;
    if (isEmpty(f, p0)) {
      if (commit(f, IE | SF)) return;
      sf.setIndefinite(); writeResult(f, p0); f.top = pn; writeResult(f, pn); return;
    }
    if (!isEmpty(f, pn)) {
      if (commit(f, IE | SF | C1)) return;
      sf.setIndefinite(); writeResult(f, p0); f.top = pn; writeResult(f, pn); return;
    }
    const s = f.signExp[p0] >>> 15, e = f.signExp[p0] & 0x7fff, h = f.sigHi[p0], l = f.sigLo[p0];
    sf.clearFlags();
    const k = sf.classify(e, h, l);
    let es = 0, ee = 0, eh = 0, el = 0, ms = s, me = 0, mh = 0, ml = 0;
    if (k === sf.K.Unsupported) { sf.addFlags(IE); es = ms = 1; ee = me = 0x7fff; eh = mh = 0xc0000000; }
    else if (k === sf.K.QNaN || k === sf.K.SNaN) {
      if (k === sf.K.SNaN) sf.addFlags(IE);
      es = ms = s; ee = me = 0x7fff; eh = mh = (h | 0x40000000) >>> 0; el = ml = l;
    } else if (k === sf.K.Zero) {
      // ZE; exponent = -infinity, significand = the zero
      sf.addFlags(ZE); es = 1; ee = 0x7fff; eh = 0x80000000; me = 0; mh = 0; ml = 0;
    } else if (k === sf.K.Inf) {
      es = 0; ee = 0x7fff; eh = 0x80000000; me = 0x7fff; mh = 0x80000000;
    } else {
      if (k === sf.K.Denormal) sf.addFlags(DE);
      let ne = e || 1, nh = h >>> 0, nl = l >>> 0;
      while ((nh & 0x80000000) === 0) { nh = ((nh << 1) | (nl >>> 31)) >>> 0; nl = (nl << 1) >>> 0; ne--; }
      const u = ne - 16383;
      sf.fromInt(u < 0 ? 1 : 0, 0, Math.abs(u));
      es = R.s; ee = R.e; eh = R.h; el = R.l;
      me = 0x3fff; mh = nh; ml = nl;
    }
    if (commit(f, R.fx)) return;
    writeReg(f, p0, es, ee, eh, el);
    f.top = pn;
    writeReg(f, pn, ms, me, mh, ml);
  };
}

// ---- transcendentals (SDM vol. 2A FSIN/FCOS/FSINCOS/FPTAN/FPATAN/F2XM1/FYL2X/FYL2XP1) ----------
/** Load ST(i) fields into module scratch. */
let ts = 0, te = 0, th = 0, tl = 0;
function ld(f: FpuState, p: number): void { ts = f.signExp[p] >>> 15; te = f.signExp[p] & 0x7fff; th = f.sigHi[p]; tl = f.sigLo[p]; }

/**
 * FSIN (0), FCOS (1), FSINCOS (2: ST0 = cos after pushing, ST1 = sin), FPTAN (3: ST0 = tan, then
 * push 1.0). |ST0| >= 2^63: C2 = 1, operand unchanged, nothing pushed. Otherwise C2 = 0.
 * Stack underflow/overflow as for FXTRACT (SDM vol. 1 §8.5.1.1).
 */
export function trigOp(which: number): (d: DecodedInsn) => Op | null {
  const push = which >= 2;
  return (d) => {
    const x = ctx(d);
    return (c) => {
      check(c, true);
      const f = c.fpu;
      recordPointers(c, x);
      const p0 = f.top, pn = (f.top - 1) & 7;
      if (isEmpty(f, p0) || (push && !isEmpty(f, pn))) {
        const ovf = !isEmpty(f, p0);
        // C2 is cleared here, also when the exception is unmasked (measured on silicon).
        const stop = commit(f, IE | SF | (ovf ? C1 : 0));
        f.fsw &= ~C2;
        if (stop) return;
        sf.setIndefinite(); writeResult(f, p0);
        if (push) { f.top = pn; writeResult(f, pn); }
        return;
      }
      ld(f, p0);
      const s = ts, e = te, h = th, l = tl;
      sf.clearFlags();
      const k = sf.classify(e, h, l);
      const r = rc(f), w = f.fcw;
      let s2 = 0, e2 = 0x3fff, h2 = 0x80000000, l2 = 0; // the pushed value (FSINCOS: cos; FPTAN: 1.0)
      if (k === sf.K.Unsupported || k === sf.K.Inf) { sf.addFlags(IE); sf.setIndefinite(); s2 = R.s; e2 = R.e; h2 = R.h; l2 = R.l; }
      else if (k === sf.K.SNaN || k === sf.K.QNaN) {
        if (k === sf.K.SNaN) sf.addFlags(IE);
        sf.setResult(s, e, (h | 0x40000000) >>> 0, l); s2 = R.s; e2 = R.e; h2 = R.h; l2 = R.l;
      } else if (k === sf.K.Zero) {
        if (which === 1) sf.setResult(0, 0x3fff, 0x80000000, 0); else sf.setResult(s, 0, 0, 0);
      } else if (e >= 16383 + 63) {
        // Out of range (SDM vol. 2A FSIN: |x| >= 2^63): C2 = 1, ST0 unchanged.
        if (commit(f, k === sf.K.Denormal ? DE : 0)) return;
        f.fsw |= C2;
        return;
      } else if (which === 2) {
        tr.trig(1, s, e, h, l, r, w);
        s2 = R.s; e2 = R.e; h2 = R.h; l2 = R.l;
        const fxCos = R.fx;
        tr.trig(0, s, e, h, l, r, w);
        R.fx = (R.fx & ~C1) | fxCos; // C1 reports the rounding of the cosine (measured)
      } else tr.trig(which === 3 ? 2 : which, s, e, h, l, r, w);
      const stop = commit(f, R.fx);
      f.fsw &= ~C2; // also when an unmasked exception stops the operation (measured on silicon)
      if (stop) return;
      writeResult(f, p0);
      if (push) { f.top = pn; writeReg(f, pn, s2, e2, h2, l2); }
    };
  };
}

/** Two-operand transcendentals on ST1 (y) and ST0 (x): result to ST1, then pop. */
export function binTrans(fn: (f: FpuState, sy: number, ey: number, hy: number, ly: number, sx: number, ex: number, hx: number, lx: number) => void): (d: DecodedInsn) => Op | null {
  return (d) => {
    const x = ctx(d);
    return (c) => {
      check(c, true);
      const f = c.fpu;
      recordPointers(c, x);
      const p0 = f.top, p1 = (f.top + 1) & 7;
      sf.clearFlags();
      if (isEmpty(f, p0) || isEmpty(f, p1)) {
        if (commit(f, IE | SF)) return;
        sf.setIndefinite(); writeResult(f, p1); pop(f); return;
      }
      ld(f, p0); const sx = ts, ex = te, hx = th, lx = tl;
      ld(f, p1);
      const kx = sf.classify(ex, hx, lx), ky = sf.classify(te, th, tl);
      if (kx === sf.K.Unsupported || ky === sf.K.Unsupported) { sf.addFlags(IE); sf.setIndefinite(); }
      else if (kx === sf.K.QNaN || kx === sf.K.SNaN || ky === sf.K.QNaN || ky === sf.K.SNaN) sf.add(sx, ex, hx, lx, ts, te, th, tl, 64, 0, f.fcw);
      else {
        if (kx === sf.K.Denormal || ky === sf.K.Denormal) sf.addFlags(DE);
        fn(f, ts, te, th, tl, sx, ex, hx, lx);
      }
      if (commit(f, R.fx)) return;
      writeResult(f, p1);
      pop(f);
    };
  };
}

function isZ(e: number, h: number, l: number): boolean { return e === 0 && h === 0 && l === 0; }
function isI(e: number, _h: number, _l: number): boolean { return e === 0x7fff; } // NaNs screened already

/** FPATAN: ST1 = arctan(ST1 / ST0) with the quadrant of (ST0, ST1) (SDM vol. 2A FPATAN table). */
export function fpatanFn(f: FpuState, sy: number, ey: number, hy: number, ly: number, sx: number, ex: number, hx: number, lx: number): void {
  const r = rc(f), w = f.fcw;
  const zy = isZ(ey, hy, ly), zx = isZ(ex, hx, lx), iy = isI(ey, hy, ly), ix = isI(ex, hx, lx);
  if (zy) { if (sx === 0) sf.setResult(sy, 0, 0, 0); else tr.constant(sy, tr.PI[0], tr.PI[1], r, w); return; }
  if (iy) {
    if (!ix) tr.constant(sy, tr.PI2[0], tr.PI2[1], r, w);
    else if (sx === 0) tr.constant(sy, tr.PI4[0], tr.PI4[1], r, w);
    else tr.constant(sy, tr.PI34[0], tr.PI34[1], r, w);
    return;
  }
  if (zx) { tr.constant(sy, tr.PI2[0], tr.PI2[1], r, w); return; }
  if (ix) { if (sx === 0) sf.setResult(sy, 0, 0, 0); else tr.constant(sy, tr.PI[0], tr.PI[1], r, w); return; }
  tr.atan2(sy, ey, hy, ly, sx, ex, hx, lx, r, w);
}

/** FYL2X: ST1 = ST1 × log2(ST0) (SDM vol. 2A FYL2X table). */
export function fyl2xFn(f: FpuState, sy: number, ey: number, hy: number, ly: number, sx: number, ex: number, hx: number, lx: number): void {
  const zy = isZ(ey, hy, ly), zx = isZ(ex, hx, lx), iy = isI(ey, hy, ly), ix = isI(ex, hx, lx);
  if (sx !== 0 && !zx) { R.fx = (R.fx & ~DE) | IE; sf.setIndefinite(); return; } // no DE then (measured)
  if (zx) {
    R.fx &= ~DE; // x = ±0: no DE for a denormal y (measured)
    if (zy) { sf.addFlags(IE); sf.setIndefinite(); return; }
    if (!iy) sf.addFlags(ZE);
    sf.setResult(sy ^ 1, 0x7fff, 0x80000000, 0); return;
  }
  if (ix) {
    if (zy) { sf.addFlags(IE); sf.setIndefinite(); return; }
    sf.setResult(sy, 0x7fff, 0x80000000, 0); return;
  }
  const one = ex === 0x3fff && hx === 0x80000000 && lx === 0;
  const below = ex < 0x3fff;
  if (iy || zy) {
    if (one && iy) { sf.addFlags(IE); sf.setIndefinite(); return; }
    sf.setResult(one ? sy : below ? sy ^ 1 : sy, iy ? 0x7fff : 0, iy ? 0x80000000 : 0, 0); return;
  }
  tr.yl2x(sy, ey, hy, ly, ex, hx, lx, rc(f), f.fcw);
}

/** FYL2XP1: ST1 = ST1 × log2(ST0 + 1) (SDM vol. 2A FYL2XP1 table). */
export function fyl2xp1Fn(f: FpuState, sy: number, ey: number, hy: number, ly: number, sx: number, ex: number, hx: number, lx: number): void {
  const zy = isZ(ey, hy, ly), zx = isZ(ex, hx, lx), iy = isI(ey, hy, ly), ix = isI(ex, hx, lx);
  const le1 = sx !== 0 && !zx && ex >= 0x3fff; // x <= -1
  if (zx) { if (iy) { sf.addFlags(IE); sf.setIndefinite(); return; } sf.setResult(sx ^ sy, 0, 0, 0); return; }
  if (zy) { if (ix) { sf.addFlags(IE); sf.setIndefinite(); return; } sf.setResult(sx ^ sy, 0, 0, 0); return; }
  if (iy && !ix) { sf.setResult(sx ^ sy, 0x7fff, 0x80000000, 0); return; } // also for x <= -1 (measured)
  if (le1 && ix) { R.fx = (R.fx & ~DE) | IE; sf.setIndefinite(); return; } // x = -inf: no DE (measured)
  // x <= -1, outside the documented domain: the result is x itself with PE (measured)
  if (le1) { sf.addFlags(PE); sf.setResult(sx, ex, hx, lx); return; }
  if (ix || iy) { sf.setResult(sx ^ sy, 0x7fff, 0x80000000, 0); return; }
  if (sx === 0 && ex === 0x3fff && hx === 0x80000000 && lx === 0) { sf.exactTiny(sy, ey, hy, ly, f.fcw); return; } // x = 1: y × log2(2) = y (measured)
  tr.yl2xp1(sy, ey, hy, ly, sx, ex, hx, lx, rc(f), f.fcw);
}

/** F2XM1: ST0 = 2^ST0 - 1 (SDM vol. 2A F2XM1; defined for -1 <= ST0 <= +1). */
export function f2xm1Fn(_c: Cpu, f: FpuState, s: number, e: number, h: number, l: number): void {
  const k = sf.classify(e, h, l);
  if (k === sf.K.Unsupported) { sf.addFlags(IE); sf.setIndefinite(); return; }
  if (k === sf.K.SNaN) { sf.addFlags(IE); sf.setResult(s, e, h | 0x40000000, l); return; }
  if (k === sf.K.QNaN || k === sf.K.Zero) { sf.setResult(s, e, h, l); return; }
  if (k === sf.K.Inf) { if (s) sf.setResult(1, 0x3fff, 0x80000000, 0); else sf.setResult(0, 0x7fff, 0x80000000, 0); return; }
  tr.exp2m1(s, e, h, l, rc(f), f.fcw);
}
