/**
 * x87 FPU instructions (SDM vol. 1 chapter 8, vol. 2 instruction pages).
 *
 * Register stack: physical register = (TOP + i) & 7 (SDM vol. 1 §8.1.2). The tag word is kept
 * complete (valid 00 / zero 01 / special 10 / empty 11, §8.1.7) on every register write.
 * Exceptions (§8.4-8.5): flags accumulate in FSW; the masked responses are produced by the
 * soft-float (softfloat.ts). Unmasked IE/ZE/DE leave the destination and TOP unchanged; any
 * unmasked exception sets ES and B, and the next waiting x87 instruction raises #MF when
 * CR0.NE = 1 (with CR0.NE = 0 the external FERR# path is not modelled: execution continues).
 * Unmasked OE/UE deliver the exponent-wrapped result to register destinations (§4.9.1.4-5).
 * #NM: CR0.EM or CR0.TS for every ESC instruction, CR0.MP and CR0.TS for WAIT (SDM vol. 3A
 * §2.5 table 2-2).
 */
import { Mnemonic, OpKind, Register } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { CpuException, Vector } from '../exceptions';
import { effectiveAddress, linearAddress, type AddrFn, type Op } from '../operands';
import type { TranslatorTable } from '../translator';
import type { FpuState } from './state';
import * as softfloat from './softfloat';
import * as tr from './transcendental';

// Plain copies: property loads instead of the module namespace's accessors (hot path).
const sf = { ...softfloat };
const R = softfloat.R;
const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20, SF = 0x40, C1 = 0x200;
import { condition } from '../insn/arith';

const C0 = 0x100, C2 = 0x400, C3 = 0x4000, ES = 0x80, B = 0x8000;
const TWO32 = 4294967296;

// ---- state helpers ---------------------------------------------------------------------------
function phys(f: FpuState, i: number): number { return (f.top + i) & 7; }
function isEmpty(f: FpuState, p: number): boolean { return ((f.ftw >> (2 * p)) & 3) === 3; }

/** Tag of a register's contents (SDM vol. 1 §8.1.7). */
export function tagOf(e: number, h: number, l: number): number {
  if (e === 0x7fff) return 2;
  if (e === 0) return h === 0 && l === 0 ? 1 : 2;
  return h & 0x80000000 ? 0 : 2;
}

function writeReg(f: FpuState, p: number, s: number, e: number, h: number, l: number): void {
  f.signExp[p] = (s << 15) | e;
  f.sigHi[p] = h;
  f.sigLo[p] = l;
  f.ftw = (f.ftw & ~(3 << (2 * p))) | (tagOf(e, h, l) << (2 * p));
}
function writeResult(f: FpuState, p: number): void { writeReg(f, p, R.s, R.e, R.h, R.l); }
function setEmpty(f: FpuState, p: number): void { f.ftw |= 3 << (2 * p); }
function pop(f: FpuState): void { setEmpty(f, f.top); f.top = (f.top + 1) & 7; }

/** Full status word with TOP (SDM vol. 1 §8.1.3). */
export function statusWord(f: FpuState): number { return (f.fsw & ~0x3800) | (f.top << 11); }


/**
 * Merge exception flags `x` (softfloat fx) into FSW. C1 takes x's C1 (rounded up / stack
 * overflow) — the instructions that define C1 this way. Returns true when an unmasked IE/ZE/DE
 * means the destination must not be written.
 */
function commit(f: FpuState, x: number): boolean {
  const unmasked = x & ~f.fcw & 0x3f;
  if (unmasked & (IE | ZE | DE)) {
    // Pre-computation exception unmasked (SDM vol. 1 §4.9.2, §8.5): the operation does not
    // happen, so only the operand exceptions are flagged (measured: no PE/UE/C1 then).
    f.fsw |= (x & (IE | ZE | DE | SF)) | ES | B;
    if (x & SF) f.fsw = (f.fsw & ~C1) | (x & C1);
    recordFault(f);
    return true;
  }
  f.fsw = (f.fsw & ~C1) | (x & (0x7f | C1));
  if (unmasked) { f.fsw |= ES | B; recordFault(f); }
  return false;
}

function pc(f: FpuState): number {
  const p = (f.fcw >> 8) & 3;
  return p === 0 ? 24 : p === 2 ? 53 : 64;
}
function rc(f: FpuState): number { return (f.fcw >> 10) & 3; }

// ---- exceptions -----------------------------------------------------------------------------
function nm(): CpuException { return new CpuException(Vector.NM, undefined, 'x87 instruction with CR0.EM or CR0.TS set'); }
function mf(): CpuException { return new CpuException(Vector.MF, undefined, 'pending unmasked x87 exception'); }

/** The checks before every ESC instruction: #NM, then (waiting forms) a pending #MF. */
function check(c: Cpu, waiting: boolean): void {
  if (c.cr0 & 0xc) throw nm();
  if (waiting && (c.fpu.fsw & ES) !== 0 && (c.cr0 & 0x20) !== 0) throw mf();
}

// ---- instruction/data pointers (SDM vol. 1 §8.1.8-8.1.9) --------------------------------------
function fopOf(d: DecodedInsn): number {
  const b = d.bytes;
  for (let i = 0; i < b.length - 1; i++) {
    if (b[i] >= 0xd8 && b[i] <= 0xdf) return ((b[i] & 7) << 8) | b[i + 1];
  }
  return 0;
}

interface Ctx {
  d: DecodedInsn;
  fop: number;
  ipLo: number;
  ipHi: number;
  /** Effective address of the memory operand (offset), or null. */
  ea: AddrFn | null;
  seg: number;
}

function ctx(d: DecodedInsn): Ctx {
  return {
    d, fop: fopOf(d), ipLo: d.ipLo, ipHi: d.ipHi,
    ea: d.mem ? effectiveAddress(d.mem) : null, seg: d.mem ? d.mem.seg : 0,
  };
}

/**
 * Record the last instruction pointer for a non-control instruction. Like the processors that
 * report CPUID.(EAX=07H,ECX=0):EBX[6] FDP_EXCPTN_ONLY and EBX[13] "FCS/FDS deprecated" (this
 * host's silicon), FCS and FDS are stored as 0, and FOP and FDP are recorded only when the
 * instruction raises an unmasked exception (SDM vol. 1 §8.1.8-8.1.9; see commit()).
 */
let curX: Ctx | null = null;
let curC: Cpu | null = null;
function recordPointers(c: Cpu, x: Ctx): void {
  const f = c.fpu;
  f.fipLo = x.ipLo; f.fipHi = x.ipHi; f.fcs = 0;
  curX = x; curC = c;
}

function recordFault(f: FpuState): void {
  const x = curX, c = curC;
  if (x === null || c === null) return;
  f.fop = x.fop;
  if (x.ea !== null) { f.fdpLo = x.ea(c); f.fdpHi = c.linHi; f.fds = 0; } else { f.fdpLo = 0; f.fdpHi = 0; f.fds = 0; }
}

// ---- operand sources ---------------------------------------------------------------------
/** A source operand loader: sets R.s/rE/rH/rL (and fx for conversion flags). Returns false on stack underflow. */
type Src = (c: Cpu) => boolean;

function regIndex(r: Register): number { return r - Register.ST0; }

function srcReg(i: number): Src {
  return (c) => {
    const f = c.fpu, p = phys(f, i);
    if (isEmpty(f, p)) return false;
    sf.setResult(f.signExp[p] >>> 15, f.signExp[p] & 0x7fff, f.sigHi[p], f.sigLo[p]);
    return true;
  };
}

function addr(d: DecodedInsn, size: number, write = false): AddrFn {
  return linearAddress(d, d.mem!, size, write);
}

/** Memory source in format `kind`: 'f32' | 'f64' | 'f80' | 'i16' | 'i32' | 'i64'. */
function srcMem(d: DecodedInsn, kind: string, raw = false): Src {
  switch (kind) {
    case 'f32': { const a = addr(d, 4); return (c) => { sf.fromF32(c.read32(a(c), c.linHi), raw); return true; }; }
    case 'f64': { const a = addr(d, 8); return (c) => { const lo = c.read64(a(c), c.linHi); sf.fromF64(lo, c.vHi, raw); return true; }; }
    case 'f80': {
      const a = addr(d, 10);
      const wide = d.bitness === 64;
      return (c) => {
        const lo = a(c), hi = c.linHi;
        const l = c.read64(lo, hi), h = c.vHi;
        const lo2 = addLin(lo, hi, 8, wide);
        const se = c.read16(lo2, linHi2);
        sf.setResult(se >>> 15, se & 0x7fff, h, l);
        return true;
      };
    }
    case 'i16': { const a = addr(d, 2); return (c) => { const v = (c.read16(a(c), c.linHi) << 16) >> 16; sf.fromInt(v < 0 ? 1 : 0, 0, Math.abs(v)); return true; }; }
    case 'i32': { const a = addr(d, 4); return (c) => { const v = c.read32(a(c), c.linHi) | 0; sf.fromInt(v < 0 ? 1 : 0, 0, Math.abs(v)); return true; }; }
    default: {
      const a = addr(d, 8);
      return (c) => {
        let l = c.read64(a(c), c.linHi) >>> 0, h = c.vHi >>> 0;
        const neg = h >>> 31;
        if (neg) { l = (~l + 1) >>> 0; h = (~h + (l === 0 ? 1 : 0)) >>> 0; }
        sf.fromInt(neg, h, l);
        return true;
      };
    }
  }
}

function memKind(d: DecodedInsn, int: boolean): string {
  const n = d.mem!.size;
  if (int) return n === 2 ? 'i16' : n === 4 ? 'i32' : 'i64';
  return n === 4 ? 'f32' : n === 8 ? 'f64' : 'f80';
}

/** Advance to the next linear byte address (with the carry into the high half). */
function addLin(lo: number, hi: number, k: number, wide = true): number {
  const s = (lo >>> 0) + k;
  linHi2 = s >= TWO32 && wide ? (hi + 1) | 0 : hi;
  return s | 0;
}
let linHi2 = 0;

// ---- arithmetic -----------------------------------------------------------------------------
const enum ArOp { Add, Sub, SubR, Mul, Div, DivR }

function arith(op: ArOp, int: boolean, popAfter: boolean): (d: DecodedInsn) => Op | null {
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
function unary(fn: (c: Cpu, f: FpuState, s: number, e: number, h: number, l: number) => void, defC1 = true): (d: DecodedInsn) => Op | null {
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

// ---- loads and stores ----------------------------------------------------------------------
/** Push the loaded value (sf.r*), with the stack-overflow check (SDM vol. 1 §8.5.1.1). */
function pushResult(f: FpuState, x: number): void {
  const p = (f.top - 1) & 7;
  if (!isEmpty(f, p)) {
    if (commit(f, IE | SF | C1)) return;
    f.top = p; sf.setIndefinite(); writeResult(f, p); return;
  }
  if ((x & ~f.fcw & DE) !== 0 && (x & ~f.fcw & IE) === 0) {
    // An unmasked DE from an m32fp/m64fp denormal still loads the value (measured).
    f.fsw = (f.fsw & ~C1) | (x & 0x7f) | ES | B;
    recordFault(f);
  } else if (commit(f, x)) return;
  f.top = p; writeResult(f, p);
}

function fld(int: boolean): (d: DecodedInsn) => Op | null {
  return (d) => {
    const x = ctx(d);
    let src: Src;
    if (d.opKinds[0] === OpKind.Memory) src = srcMem(d, memKind(d, int));
    else src = srcReg(regIndex(d.opRegs[0]));
    return (c) => {
      check(c, true);
      const f = c.fpu;
      sf.clearFlags();
      const ok = src(c);
      recordPointers(c, x);
      if (!ok) {
        // Source empty: underflow; masked response pushes the indefinite.
        const p = (f.top - 1) & 7;
        if (!isEmpty(f, p)) { pushResult(f, 0); return; }
        if (commit(f, IE | SF)) return;
        f.top = p; sf.setIndefinite(); writeResult(f, p); return;
      }
      pushResult(f, R.fx);
    };
  };
}

/** Constants (SDM vol. 1 §8.3.8): the 66-bit internal constant rounded per RC. [h, l, roundsUpWhenNearest] */
function fldConst(e: number, h: number, l: number, nearestUp: boolean, aboveTrunc: boolean): (d: DecodedInsn) => Op | null {
  // truncated value h:l; exact constant lies above it when aboveTrunc. nearest: +1 ulp when nearestUp.
  return (d) => {
    const x = ctx(d);
    return (c) => {
      check(c, true);
      const f = c.fpu, r = rc(f);
      let hh = h, ll = l;
      const up = aboveTrunc && (r === 0 ? nearestUp : r === 2);
      if (up) { ll = ll + 1; if (ll >= TWO32) { ll = 0; hh++; } }
      recordPointers(c, x);
      sf.setResult(0, e, hh, ll);
      pushResult(f, 0);
    };
  };
}

function fst(popAfter: boolean, int: boolean, trunc: boolean): (d: DecodedInsn) => Op | null {
  return (d) => {
    const x = ctx(d);
    if (d.opKinds[0] === OpKind.Register) {
      const i = regIndex(d.opRegs[0]);
      return (c) => {
        check(c, true);
        const f = c.fpu;
        recordPointers(c, x);
        const p0 = f.top, pd = phys(f, i);
        if (isEmpty(f, p0)) {
          if (commit(f, IE | SF)) return;
          sf.setIndefinite(); writeResult(f, pd);
        } else {
          commit(f, 0);
          writeReg(f, pd, f.signExp[p0] >>> 15, f.signExp[p0] & 0x7fff, f.sigHi[p0], f.sigLo[p0]);
        }
        if (popAfter) pop(f);
      };
    }
    const size = d.mem!.size;
    const a = addr(d, size, true);
    const wide = d.bitness === 64;
    const bytes = size;
    return (c) => {
      check(c, true);
      const f = c.fpu;
      const lo = a(c), hi = c.linHi;
      const p0 = f.top;
      sf.clearFlags();
      let s = 0, e = 0, h = 0, l = 0;
      if (isEmpty(f, p0)) {
        sf.addFlags(IE | SF);
        s = 1; e = 0x7fff; h = 0xc0000000; l = 0;
      } else { s = f.signExp[p0] >>> 15; e = f.signExp[p0] & 0x7fff; h = f.sigHi[p0]; l = f.sigLo[p0]; }
      let oLo = 0, oHi = 0, se = 0;
      const empty = (R.fx & SF) !== 0;
      if (int) {
        if (empty) sf.toInt(1, 0x7fff, 0xc0000000, 0, bytes, 0); else sf.toInt(s, e, h, l, bytes, trunc ? 3 : rc(f));
        oLo = R.oLo; oHi = R.oHi;
      } else if (bytes === 10) {
        oLo = l | 0; oHi = h | 0; se = (s << 15) | e;
      } else {
        if (!empty) sf.toFloat(s, e, h, l, bytes * 8, rc(f), f.fcw);
        else sf.toFloat(1, 0x7fff, 0xc0000000, 0, bytes * 8, 0, f.fcw);
        oLo = R.oLo; oHi = R.oHi;
      }
      const x2 = R.fx;
      // Unmasked IE/OE/UE/DE: no store (SDM vol. 2A FST, §4.9.1).
      recordPointers(c, x);
      if (x2 & ~f.fcw & (IE | DE | OE | UE)) {
        // No store; PE and C1 are not reported then (measured).
        commit(f, x2 & (x2 & ~f.fcw & (OE | UE) ? ~(PE | C1) : ~0));
        return;
      }
      if (bytes === 2) c.write16(lo, hi, oLo & 0xffff);
      else if (bytes === 4) c.write32(lo, hi, oLo);
      else if (bytes === 8) c.write64(lo, hi, oLo, oHi);
      else {
        // m80: 10 bytes; check both parts before writing (the second write may fault first).
        const lo2 = addLin(lo, hi, 8, wide), hi2 = linHi2;
        c.rmwBegin(lo2, hi2, 2);
        c.write64(lo, hi, oLo, oHi);
        c.write16(lo2, hi2, se);
      }
      commit(f, x2);
      if (popAfter) pop(f);
    };
  };
}

// ---- compares -------------------------------------------------------------------------------
const CC = [0, C0, C3, C0 | C2 | C3];

function fcom(quiet: boolean, pops: number, int: boolean): (d: DecodedInsn) => Op | null {
  return (d) => {
    const x = ctx(d);
    let src: Src;
    if (d.opCount === 0) src = srcReg(1);
    else if (d.opKinds[0] === OpKind.Memory) src = srcMem(d, memKind(d, int), true);
    else src = srcReg(regIndex(d.opRegs[d.opCount === 2 ? 1 : 0]));
    return (c) => {
      check(c, true);
      const f = c.fpu;
      sf.clearFlags();
      const ok = src(c);
      recordPointers(c, x);
      let r = 3;
      const p0 = f.top;
      if (!ok || isEmpty(f, p0)) sf.addFlags(IE | SF);
      else r = sf.compare(f.signExp[p0] >>> 15, f.signExp[p0] & 0x7fff, f.sigHi[p0], f.sigLo[p0], R.s, R.e, R.h, R.l, quiet);
      // The condition codes are set even when an unmasked IE/DE suppresses the pops (measured).
      const stop = commit(f, R.fx & ~C1);
      f.fsw = (f.fsw & ~(C0 | C1 | C2 | C3)) | CC[r];
      if (stop) return;
      for (let k = 0; k < pops; k++) pop(f);
    };
  };
}

function fcomi(quiet: boolean, popAfter: boolean): (d: DecodedInsn) => Op | null {
  return (d) => {
    const x = ctx(d);
    const src = srcReg(regIndex(d.opRegs[1]));
    return (c) => {
      check(c, true);
      const f = c.fpu;
      sf.clearFlags();
      const ok = src(c);
      recordPointers(c, x);
      let r = 3;
      const p0 = f.top;
      if (!ok || isEmpty(f, p0)) sf.addFlags(IE | SF);
      else r = sf.compare(f.signExp[p0] >>> 15, f.signExp[p0] & 0x7fff, f.sigHi[p0], f.sigLo[p0], R.s, R.e, R.h, R.l, quiet);
      const stop = commit(f, R.fx & ~C1);
      f.fsw &= ~C1;
      // EFLAGS (SDM vol. 2A FCOMI): ZF PF CF = 000 >, 001 <, 100 =, 111 unordered; OF SF AF = 0.
      const zf = r >= 2 ? 1 : 0, pf = r === 3 ? 1 : 0, cf = r === 1 || r === 3 ? 1 : 0;
      c.fRes = zf ? 0 : 1; c.fSgn = 0; c.fPar = pf ? 0 : 1; c.fCO = cf ? (0xc0000000 | 0) : 0; c.fAux = 0;
      if (popAfter && !stop) pop(f); // EFLAGS are set even when an unmasked exception stops the pop (measured)
    };
  };
}

// ---- environment -----------------------------------------------------------------------------
/** Linear byte address helper for multi-byte areas. */
function envOps(d: DecodedInsn, save: boolean, regs: boolean): Op {
  const big = d.opSizePrefix ? d.bitness === 16 : d.bitness !== 16; // 32-bit layout
  const envSize = big ? 28 : 14;
  const total = envSize + (regs ? 80 : 0);
  const a = addr(d, total, save);
  const waiting = !save; // FLDENV/FRSTOR wait; FNSTENV/FNSAVE do not
  const wide = d.bitness === 64;
  const rl = new Float64Array(24);
  const w = envW, rd = envR;
  return (c) => {
    check(c, waiting);
    const f = c.fpu;
    const lo = a(c), hi = c.linHi;
    const real = !c.protectedMode || (c.flagsRest & 0x20000) !== 0;
    eLo = lo; eHi = hi; eWide = wide; eC = c;
    const n = big ? 4 : 2;
    if (save) {
      // Probe the whole area first so a fault leaves memory and state unchanged.
      c.rmwBegin(lo, hi, 1); c.rmwBegin(addLin(lo, hi, total - 1, wide), linHi2, 1);
      const ftw = fullTags(f);
      w(0, f.fcw | (big ? 0xffff0000 : 0), n);
      w(n, statusWord(f) | (big ? 0xffff0000 : 0), n);
      w(2 * n, ftw | (big ? 0xffff0000 : 0), n);
      if (real) {
        // Real-address/virtual-8086 layout (SDM vol. 1 §8.1.10, figures 8-10/8-12): 20/32-bit linear pointers.
        const fip = (f.fipLo + (f.fcs << 4)) | 0, fdp = (f.fdpLo + (f.fds << 4)) | 0;
        if (big) {
          w(12, (fip & 0xffff) | 0xffff0000, 4);
          w(16, ((fip >>> 16) << 12) | (f.fop & 0x7ff), 4);
          w(20, (fdp & 0xffff) | 0xffff0000, 4);
          w(24, (fdp >>> 16) << 12, 4);
        } else {
          w(6, fip, 2);
          w(8, (((fip >>> 16) & 0xf) << 12) | (f.fop & 0x7ff), 2);
          w(10, fdp, 2);
          w(12, ((fdp >>> 16) & 0xf) << 12, 2);
        }
      } else if (big) {
        w(12, f.fipLo, 4);
        w(16, (f.fcs & 0xffff) | ((f.fop & 0x7ff) << 16), 4);
        w(20, f.fdpLo, 4);
        w(24, (f.fds & 0xffff) | 0xffff0000, 4);
      } else {
        w(6, f.fipLo, 2); w(8, f.fcs, 2); w(10, f.fdpLo, 2); w(12, f.fds, 2);
      }
      if (regs) {
        for (let i = 0; i < 8; i++) {
          const p = phys(f, i), k = envSize + 10 * i;
          w(k, f.sigLo[p], 4); w(k + 4, f.sigHi[p], 4); w(k + 8, f.signExp[p], 2);
        }
        finit(f);
      } else {
        f.fcw |= 0x3f; // FNSTENV masks all exceptions (SDM vol. 2A FSTENV)
      }
      return;
    }
    // Load: read everything first.
    const fcw = rd(0, 2), fsw = rd(n, 2), ftw = rd(2 * n, 2);
    let fipLo: number, fcs = 0, fop = 0, fdpLo: number, fds = 0;
    if (real) {
      if (big) {
        fipLo = (rd(12, 2) | ((rd(16, 4) >>> 12) << 16)) | 0; fop = rd(16, 2) & 0x7ff;
        fdpLo = (rd(20, 2) | ((rd(24, 4) >>> 12) << 16)) | 0;
      } else {
        fipLo = rd(6, 2) | ((rd(8, 2) >>> 12) << 16); fop = rd(8, 2) & 0x7ff;
        fdpLo = rd(10, 2) | ((rd(12, 2) >>> 12) << 16);
      }
    } else if (big) {
      fipLo = rd(12, 4); const t = rd(16, 4); fcs = t & 0xffff; fop = (t >>> 16) & 0x7ff;
      fdpLo = rd(20, 4); fds = rd(24, 2);
    } else {
      fipLo = rd(6, 2); fcs = rd(8, 2); fdpLo = rd(10, 2); fds = rd(12, 2);
    }
    if (regs) {
      for (let i = 0; i < 8; i++) {
        const k = envSize + 10 * i;
        rl[3 * i] = rd(k, 4) >>> 0; rl[3 * i + 1] = rd(k + 4, 4) >>> 0; rl[3 * i + 2] = rd(k + 8, 2);
      }
    }
    f.fcw = (fcw & 0x1f3f) | 0x40; f.fsw = fsw & ~0x3800; f.top = (fsw >> 11) & 7;
    f.fipLo = fipLo; f.fipHi = 0; f.fcs = fcs; f.fop = fop; f.fdpLo = fdpLo; f.fdpHi = 0; f.fds = fds;
    if (regs) {
      for (let i = 0; i < 8; i++) {
        const p = phys(f, i);
        f.sigLo[p] = rl[3 * i]; f.sigHi[p] = rl[3 * i + 1]; f.signExp[p] = rl[3 * i + 2];
      }
    }
    // Tags: only empty / non-empty is taken from memory; the rest follows the contents.
    let t = 0;
    for (let p = 0; p < 8; p++) {
      const tag = ((ftw >> (2 * p)) & 3) === 3 ? 3 : tagOf(f.signExp[p] & 0x7fff, f.sigHi[p], f.sigLo[p]);
      t |= tag << (2 * p);
    }
    f.ftw = t;
    // ES and B are recomputed from the loaded flags and masks (measured; unlike FLDCW).
    if (f.fsw & ~f.fcw & 0x3f) f.fsw |= ES | B; else f.fsw &= ~(ES | B);
  };
}

// Byte-area helpers of FNSTENV/FLDENV/FNSAVE/FRSTOR (set up by the op before use).
let eLo = 0, eHi = 0, eWide = true;
let eC: Cpu | null = null;
function envW(k: number, v: number, n: number): void {
  const l2 = addLin(eLo, eHi, k, eWide);
  if (n === 2) eC!.write16(l2, linHi2, v & 0xffff); else eC!.write32(l2, linHi2, v);
}
function envR(k: number, n: number): number {
  const l2 = addLin(eLo, eHi, k, eWide);
  return n === 2 ? eC!.read16(l2, linHi2) : eC!.read32(l2, linHi2);
}

/** The tag word with the non-empty tags computed from the contents (SDM vol. 1 §8.1.7). */
export function fullTags(f: FpuState): number {
  let t = 0;
  for (let p = 0; p < 8; p++) {
    const tag = isEmpty(f, p) ? 3 : tagOf(f.signExp[p] & 0x7fff, f.sigHi[p], f.sigLo[p]);
    t |= tag << (2 * p);
  }
  return t;
}

/** FNINIT state (SDM vol. 2A FINIT table). */
export function finit(f: FpuState): void {
  f.fcw = 0x037f; f.fsw = 0; f.top = 0; f.ftw = 0xffff;
  f.fop = 0; f.fipLo = 0; f.fipHi = 0; f.fcs = 0; f.fdpLo = 0; f.fdpHi = 0; f.fds = 0;
}

// ---- control ----------------------------------------------------------------------------------
function control(waiting: boolean, fn: (c: Cpu, f: FpuState) => void): (d: DecodedInsn) => Op | null {
  return () => (c) => { check(c, waiting); fn(c, c.fpu); };
}

function stackReg(fn: (c: Cpu, f: FpuState, i: number, x: Ctx) => void): (d: DecodedInsn) => Op | null {
  return (d) => {
    const x = ctx(d);
    const i = d.opCount > 0 && d.opKinds[0] === OpKind.Register ? regIndex(d.opRegs[d.opCount - 1]) : 1;
    return (c) => { check(c, true); recordPointers(c, x); fn(c, c.fpu, i, x); };
  };
}

const FCMOV: Partial<Record<Mnemonic, number>> = {
  [Mnemonic.Fcmovb]: 2, [Mnemonic.Fcmovnb]: 3, [Mnemonic.Fcmove]: 4, [Mnemonic.Fcmovne]: 5,
  [Mnemonic.Fcmovbe]: 6, [Mnemonic.Fcmovnbe]: 7, [Mnemonic.Fcmovu]: 10, [Mnemonic.Fcmovnu]: 11,
};

function fcmov(d: DecodedInsn): Op | null {
  const cc = FCMOV[d.mnemonic]!;
  const x = ctx(d);
  const i = regIndex(d.opRegs[1]);
  return (c) => {
    check(c, true);
    const f = c.fpu;
    recordPointers(c, x);
    const p0 = f.top, pi = phys(f, i);
    if (isEmpty(f, p0) || isEmpty(f, pi)) {
      if (commit(f, IE | SF)) return;
      sf.setIndefinite(); writeResult(f, p0); return;
    }
    commit(f, 0);
    if (condition(c, cc)) writeReg(f, p0, f.signExp[pi] >>> 15, f.signExp[pi] & 0x7fff, f.sigHi[pi], f.sigLo[pi]);
  };
}

function fxch(d: DecodedInsn): Op | null {
  const x = ctx(d);
  const i = d.opCount === 2 ? regIndex(d.opRegs[1]) : 1;
  return (c) => {
    check(c, true);
    const f = c.fpu;
    recordPointers(c, x);
    const p0 = f.top, pi = phys(f, i);
    if (isEmpty(f, p0) || isEmpty(f, pi)) {
      if (commit(f, IE | SF)) return;
      if (isEmpty(f, p0)) { sf.setIndefinite(); writeResult(f, p0); }
      if (isEmpty(f, pi)) { sf.setIndefinite(); writeResult(f, pi); }
    } else commit(f, 0);
    const s = f.signExp[p0], h = f.sigHi[p0], l = f.sigLo[p0];
    writeReg(f, p0, f.signExp[pi] >>> 15, f.signExp[pi] & 0x7fff, f.sigHi[pi], f.sigLo[pi]);
    writeReg(f, pi, s >>> 15, s & 0x7fff, h, l);
  };
}

function fxam(d: DecodedInsn): Op | null {
  const x = ctx(d);
  return (c) => {
    check(c, true);
    const f = c.fpu;
    recordPointers(c, x);
    const p = f.top, se = f.signExp[p];
    let cc: number;
    if (isEmpty(f, p)) cc = C3 | C0;
    else {
      switch (sf.classify(se & 0x7fff, f.sigHi[p], f.sigLo[p])) {
        case sf.K.Unsupported: cc = 0; break;
        case sf.K.QNaN: case sf.K.SNaN: cc = C0; break;
        case sf.K.Normal: cc = C2; break;
        case sf.K.Inf: cc = C2 | C0; break;
        case sf.K.Zero: cc = C3; break;
        default: cc = C3 | C2; break;
      }
    }
    f.fsw = (f.fsw & ~(C0 | C1 | C2 | C3)) | cc | ((se >>> 15) ? C1 : 0);
  };
}

function ftst(d: DecodedInsn): Op | null {
  const x = ctx(d);
  return (c) => {
    check(c, true);
    const f = c.fpu;
    recordPointers(c, x);
    sf.clearFlags();
    const p0 = f.top;
    let r = 3;
    if (isEmpty(f, p0)) sf.addFlags(IE | SF);
    else r = sf.compare(f.signExp[p0] >>> 15, f.signExp[p0] & 0x7fff, f.sigHi[p0], f.sigLo[p0], 0, 0, 0, 0, false);
    commit(f, R.fx & ~C1);
    f.fsw = (f.fsw & ~(C0 | C1 | C2 | C3)) | CC[r];
  };
}

// ---- FSCALE / FXTRACT / FPREM ------------------------------------------------------------------
function twoRegs(fn: (f: FpuState, p0: number, p1: number) => boolean): (d: DecodedInsn) => Op | null {
  // fn returns true when it wrote its results itself.
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
        sf.setIndefinite(); writeResult(f, p0); return;
      }
      fn(f, p0, p1);
    };
  };
}

/** FSCALE: ST0 × 2^trunc(ST1) (SDM vol. 2A FSCALE), rounded to the 64-bit significand. */
function fscaleOp(f: FpuState, p0: number, p1: number): boolean {
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
    } else {
      // n = trunc(ST1), clamped (a scale beyond ±2^16 overflows/underflows anyway).
      let n = 0;
      if (k1 !== sf.K.Zero) {
        const u = (e1 || 1) - 16383;
        if (u >= 16) n = 70000;
        else if (u >= 0) n = Math.floor(((h1 >>> 0) / 2 ** (31 - u)));
        n = s1 ? -n : n;
      }
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

function fpremOp(nearest: boolean): (f: FpuState, p0: number, p1: number) => boolean {
  return (f, p0, p1) => {
    sf.prem(f.signExp[p0] >>> 15, f.signExp[p0] & 0x7fff, f.sigHi[p0], f.sigLo[p0],
      f.signExp[p1] >>> 15, f.signExp[p1] & 0x7fff, f.sigHi[p1], f.sigLo[p1], nearest, f.fcw);
    if (commit(f, R.fx & ~C1)) return true;
    f.fsw = (f.fsw & ~(C0 | C1 | C2 | C3)) | R.premCC;
    writeResult(f, p0);
    return true;
  };
}

/** FXTRACT (SDM vol. 2A): ST0 = exponent, then push the significand (exponent 0). */
function fxtract(d: DecodedInsn): Op | null {
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

/** FBLD m80bcd (SDM vol. 2A FBLD): 18 packed BCD digits + sign byte, loaded exactly. */
function fbld(d: DecodedInsn): Op | null {
  const x = ctx(d);
  const a = addr(d, 10);
  const wide = d.bitness === 64;
  return (c) => {
    check(c, true);
    const f = c.fpu;
    const lo = a(c), hi = c.linHi;
    let vh = 0, vl = 0;
    let sign = 0;
    for (let k = 9; k >= 0; k--) {
      const b = c.read8(addLin(lo, hi, k, wide), linHi2);
      if (k === 9) { sign = b >>> 7; continue; }
      for (let half = 0; half < 2; half++) {
        // v = v * 10 + digit (digits above 9 are undefined; taken at face value)
        const dig = half === 0 ? b >>> 4 : b & 15;
        const l = vl * 10 + dig;
        const carry = Math.floor(l / TWO32);
        vl = l - carry * TWO32;
        vh = (vh * 10 + carry) % TWO32;
      }
    }
    recordPointers(c, x);
    sf.clearFlags();
    sf.fromInt(sign, vh, vl);
    if (R.e === 0) sf.setResult(sign, 0, 0, 0);
    pushResult(f, 0);
  };
}

/** FBSTP m80bcd (SDM vol. 2A FBSTP): round per RC, store 18 BCD digits, pop; out of range → IE + BCD indefinite. */
function fbstp(d: DecodedInsn): Op | null {
  const x = ctx(d);
  const a = addr(d, 10, true);
  const wide = d.bitness === 64;
  const out = new Uint8Array(10);
  return (c) => {
    check(c, true);
    const f = c.fpu;
    const lo = a(c), hi = c.linHi;
    recordPointers(c, x);
    sf.clearFlags();
    const p0 = f.top;
    let bad = false;
    out.fill(0);
    if (isEmpty(f, p0)) { sf.addFlags(IE | SF); bad = true; } else {
      const s = f.signExp[p0] >>> 15, e = f.signExp[p0] & 0x7fff;
      sf.toInt(s, e, f.sigHi[p0], f.sigLo[p0], 8, rc(f));
      let vl = R.oLo >>> 0, vh = R.oHi >>> 0;
      if (R.fx & IE) bad = true;
      else {
        if (s) { vl = (~vl + 1) >>> 0; vh = (~vh + (vl === 0 ? 1 : 0)) >>> 0; }
        // |v| must be below 10^18 (0x0DE0B6B3_A7640000)
        if (vh > 0x0de0b6b3 || (vh === 0x0de0b6b3 && vl >= 0xa7640000)) { bad = true; sf.clearFlags(); sf.addFlags(IE); }
        else {
          for (let k = 0; k < 18; k++) {
            const qh = Math.floor(vh / 10), rh = vh - qh * 10;
            const t = rh * TWO32 + vl;
            const ql = Math.floor(t / 10), dig = t - ql * 10;
            vh = qh; vl = ql;
            out[k >> 1] |= (k & 1) ? dig << 4 : dig;
          }
          out[9] = s << 7;
        }
      }
    }
    if (bad) { out.fill(0); out[7] = 0xc0; out[8] = 0xff; out[9] = 0xff; }
    const fx = R.fx;
    if (fx & ~f.fcw & IE) { commit(f, fx); return; }
    c.rmwBegin(lo, hi, 1); c.rmwBegin(addLin(lo, hi, 9, wide), linHi2, 1); // both ends writable before any store
    for (let k = 0; k < 10; k++) c.write8(addLin(lo, hi, k, wide), linHi2, out[k]);
    commit(f, fx);
    pop(f);
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
function trigOp(which: number): (d: DecodedInsn) => Op | null {
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
        if (commit(f, IE | SF | (ovf ? C1 : 0))) return;
        f.fsw &= ~C2;
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
      if (commit(f, R.fx)) return;
      f.fsw &= ~C2;
      writeResult(f, p0);
      if (push) { f.top = pn; writeReg(f, pn, s2, e2, h2, l2); }
    };
  };
}

/** Two-operand transcendentals on ST1 (y) and ST0 (x): result to ST1, then pop. */
function binTrans(fn: (f: FpuState, sy: number, ey: number, hy: number, ly: number, sx: number, ex: number, hx: number, lx: number) => void): (d: DecodedInsn) => Op | null {
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
function fpatanFn(f: FpuState, sy: number, ey: number, hy: number, ly: number, sx: number, ex: number, hx: number, lx: number): void {
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
function fyl2xFn(f: FpuState, sy: number, ey: number, hy: number, ly: number, sx: number, ex: number, hx: number, lx: number): void {
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
function fyl2xp1Fn(f: FpuState, sy: number, ey: number, hy: number, ly: number, sx: number, ex: number, hx: number, lx: number): void {
  const zy = isZ(ey, hy, ly), zx = isZ(ex, hx, lx), iy = isI(ey, hy, ly), ix = isI(ex, hx, lx);
  const le1 = sx !== 0 && !zx && ex >= 0x3fff; // x <= -1
  if (zx) { if (iy) { sf.addFlags(IE); sf.setIndefinite(); return; } sf.setResult(sx ^ sy, 0, 0, 0); return; }
  if (zy) { if (ix) { sf.addFlags(IE); sf.setIndefinite(); return; } sf.setResult(sx ^ sy, 0, 0, 0); return; }
  if (iy && !ix) { sf.setResult(sx ^ sy, 0x7fff, 0x80000000, 0); return; } // also for x <= -1 (measured)
  if (le1 && ix) { R.fx = (R.fx & ~DE) | IE; sf.setIndefinite(); return; } // x = -inf: no DE (measured)
  // x <= -1, outside the documented domain: the result is x itself with PE (measured)
  if (le1) { sf.addFlags(PE); sf.setResult(sx, ex, hx, lx); return; }
  if (ix || iy) { sf.setResult(sx ^ sy, 0x7fff, 0x80000000, 0); return; }
  tr.yl2xp1(sy, ey, hy, ly, sx, ex, hx, lx, rc(f), f.fcw);
}

/** F2XM1: ST0 = 2^ST0 - 1 (SDM vol. 2A F2XM1; defined for -1 <= ST0 <= +1). */
function f2xm1Fn(_c: Cpu, f: FpuState, s: number, e: number, h: number, l: number): void {
  const k = sf.classify(e, h, l);
  if (k === sf.K.Unsupported) { sf.addFlags(IE); sf.setIndefinite(); return; }
  if (k === sf.K.SNaN) { sf.addFlags(IE); sf.setResult(s, e, h | 0x40000000, l); return; }
  if (k === sf.K.QNaN || k === sf.K.Zero) { sf.setResult(s, e, h, l); return; }
  if (k === sf.K.Inf) { if (s) sf.setResult(1, 0x3fff, 0x80000000, 0); else sf.setResult(0, 0x7fff, 0x80000000, 0); return; }
  tr.exp2m1(s, e, h, l, rc(f), f.fcw);
}

export const fpuHandlers: TranslatorTable = {
  [Mnemonic.Fsin]: trigOp(0),
  [Mnemonic.Fcos]: trigOp(1),
  [Mnemonic.Fsincos]: trigOp(2),
  [Mnemonic.Fptan]: trigOp(3),
  [Mnemonic.Fpatan]: binTrans(fpatanFn),
  [Mnemonic.Fyl2x]: binTrans(fyl2xFn),
  [Mnemonic.Fyl2xp1]: binTrans(fyl2xp1Fn),
  [Mnemonic.F2xm1]: unary(f2xm1Fn),
  [Mnemonic.Fbld]: fbld,
  [Mnemonic.Fbstp]: fbstp,
  [Mnemonic.Fprem]: twoRegs(fpremOp(false)),
  [Mnemonic.Fprem1]: twoRegs(fpremOp(true)),
  [Mnemonic.Fxtract]: fxtract,
  [Mnemonic.Fld]: fld(false),
  [Mnemonic.Fild]: fld(true),
  [Mnemonic.Fst]: fst(false, false, false),
  [Mnemonic.Fstp]: fst(true, false, false),
  [Mnemonic.Fist]: fst(false, true, false),
  [Mnemonic.Fistp]: fst(true, true, false),
  [Mnemonic.Fisttp]: fst(true, true, true),
  // Constants: truncated 64-bit significands; (nearest rounds up, exact value above truncation).
  [Mnemonic.Fld1]: fldConst(0x3fff, 0x80000000, 0, false, false),
  [Mnemonic.Fldz]: (d) => { const x = ctx(d); return (c) => { check(c, true); recordPointers(c, x); sf.setResult(0, 0, 0, 0); pushResult(c.fpu, 0); }; },
  [Mnemonic.Fldpi]: fldConst(0x4000, 0xc90fdaa2, 0x2168c234, true, true),
  [Mnemonic.Fldl2t]: fldConst(0x4000, 0xd49a784b, 0xcd1b8afe, false, true),
  [Mnemonic.Fldl2e]: fldConst(0x3fff, 0xb8aa3b29, 0x5c17f0bb, true, true),
  [Mnemonic.Fldlg2]: fldConst(0x3ffd, 0x9a209a84, 0xfbcff798, true, true),
  [Mnemonic.Fldln2]: fldConst(0x3ffe, 0xb17217f7, 0xd1cf79ab, true, true),
  [Mnemonic.Fadd]: arith(ArOp.Add, false, false),
  [Mnemonic.Faddp]: arith(ArOp.Add, false, true),
  [Mnemonic.Fiadd]: arith(ArOp.Add, true, false),
  [Mnemonic.Fsub]: arith(ArOp.Sub, false, false),
  [Mnemonic.Fsubp]: arith(ArOp.Sub, false, true),
  [Mnemonic.Fisub]: arith(ArOp.Sub, true, false),
  [Mnemonic.Fsubr]: arith(ArOp.SubR, false, false),
  [Mnemonic.Fsubrp]: arith(ArOp.SubR, false, true),
  [Mnemonic.Fisubr]: arith(ArOp.SubR, true, false),
  [Mnemonic.Fmul]: arith(ArOp.Mul, false, false),
  [Mnemonic.Fmulp]: arith(ArOp.Mul, false, true),
  [Mnemonic.Fimul]: arith(ArOp.Mul, true, false),
  [Mnemonic.Fdiv]: arith(ArOp.Div, false, false),
  [Mnemonic.Fdivp]: arith(ArOp.Div, false, true),
  [Mnemonic.Fidiv]: arith(ArOp.Div, true, false),
  [Mnemonic.Fdivr]: arith(ArOp.DivR, false, false),
  [Mnemonic.Fdivrp]: arith(ArOp.DivR, false, true),
  [Mnemonic.Fidivr]: arith(ArOp.DivR, true, false),
  // FCHS/FABS: sign only, C1 = 0, no exceptions besides underflow (SDM vol. 2A).
  [Mnemonic.Fchs]: unary((_c, f, s, e, h, l) => { commit(f, 0); sf.setResult(s ^ 1, e, h, l); }, false),
  [Mnemonic.Fabs]: unary((_c, f, _s, e, h, l) => { commit(f, 0); sf.setResult(0, e, h, l); }, false),
  [Mnemonic.Fsqrt]: unary((_c, f, s, e, h, l) => { sf.sqrt(s, e, h, l, pc(f), rc(f), f.fcw); }),
  [Mnemonic.Frndint]: unary((_c, f, s, e, h, l) => { sf.roundInt(s, e, h, l, rc(f)); }),
  [Mnemonic.Fxch]: fxch,
  [Mnemonic.Fcom]: fcom(false, 0, false),
  [Mnemonic.Fcomp]: fcom(false, 1, false),
  [Mnemonic.Fcompp]: fcom(false, 2, false),
  [Mnemonic.Fucom]: fcom(true, 0, false),
  [Mnemonic.Fucomp]: fcom(true, 1, false),
  [Mnemonic.Fucompp]: fcom(true, 2, false),
  [Mnemonic.Ficom]: fcom(false, 0, true),
  [Mnemonic.Ficomp]: fcom(false, 1, true),
  [Mnemonic.Fcomi]: fcomi(false, false),
  [Mnemonic.Fcomip]: fcomi(false, true),
  [Mnemonic.Fucomi]: fcomi(true, false),
  [Mnemonic.Fucomip]: fcomi(true, true),
  [Mnemonic.Ftst]: ftst,
  [Mnemonic.Fxam]: fxam,
  [Mnemonic.Fcmovb]: fcmov, [Mnemonic.Fcmovnb]: fcmov, [Mnemonic.Fcmove]: fcmov, [Mnemonic.Fcmovne]: fcmov,
  [Mnemonic.Fcmovbe]: fcmov, [Mnemonic.Fcmovnbe]: fcmov, [Mnemonic.Fcmovu]: fcmov, [Mnemonic.Fcmovnu]: fcmov,
  [Mnemonic.Fscale]: twoRegs(fscaleOp),
  // Control instructions (SDM vol. 1 §8.3.11 non-waiting FN* forms; the F* forms with WAIT check #MF).
  [Mnemonic.Fldcw]: (d) => {
    const a = addr(d, 2);
    return (c) => { check(c, true); const v = c.read16(a(c), c.linHi); c.fpu.fcw = (v & 0x1f3f) | 0x40; }; // reserved bits read 0 except bit 6 (measured); ES is not recomputed (measured)
  },
  [Mnemonic.Fnstcw]: (d) => { const a = addr(d, 2, true); return (c) => { check(c, false); c.write16(a(c), c.linHi, c.fpu.fcw); }; },
  [Mnemonic.Fstcw]: (d) => { const a = addr(d, 2, true); return (c) => { check(c, true); c.write16(a(c), c.linHi, c.fpu.fcw); }; },
  [Mnemonic.Fnstsw]: (d) => fstsw(d, false),
  [Mnemonic.Fstsw]: (d) => fstsw(d, true),
  [Mnemonic.Fnclex]: control(false, (_c, f) => { f.fsw &= ~(0x80ff); }),
  [Mnemonic.Fclex]: control(true, (_c, f) => { f.fsw &= ~(0x80ff); }),
  [Mnemonic.Fninit]: control(false, (_c, f) => finit(f)),
  [Mnemonic.Finit]: control(true, (_c, f) => finit(f)),
  [Mnemonic.Ffree]: stackReg((_c, f, i) => { setEmpty(f, phys(f, i)); }),
  [Mnemonic.Ffreep]: stackReg((_c, f, i) => { setEmpty(f, phys(f, i)); pop(f); }),
  [Mnemonic.Fincstp]: stackReg((_c, f) => { f.fsw &= ~C1; f.top = (f.top + 1) & 7; }),
  [Mnemonic.Fdecstp]: stackReg((_c, f) => { f.fsw &= ~C1; f.top = (f.top - 1) & 7; }),
  [Mnemonic.Fnop]: stackReg(() => {}),
  // FSTP1 alias (D9 D8+i) behaves as FSTP ST(i).
  [Mnemonic.Fstpnce]: fst(true, false, false),
  // 287 leftovers: FNENI/FNDISI/FNSETPM execute as no-ops on the 387 and later (they are ignored by IA-32 processors).
  [Mnemonic.Fneni]: control(false, () => {}),
  [Mnemonic.Fndisi]: control(false, () => {}),
  [Mnemonic.Fnsetpm]: control(false, () => {}),
  // WAIT/FWAIT (SDM vol. 2B WAIT): #NM if CR0.MP and CR0.TS; then pending unmasked exceptions.
  [Mnemonic.Wait]: () => (c) => {
    if ((c.cr0 & 0xa) === 0xa) throw nm();
    if ((c.fpu.fsw & ES) !== 0 && (c.cr0 & 0x20) !== 0) throw mf();
  },
  [Mnemonic.Fnstenv]: (d) => envOps(d, true, false),
  [Mnemonic.Fstenv]: (d) => { const op = envOps(d, true, false); return (c) => { check(c, true); op(c); }; },
  [Mnemonic.Fldenv]: (d) => envOps(d, false, false),
  [Mnemonic.Fnsave]: (d) => envOps(d, true, true),
  [Mnemonic.Fsave]: (d) => { const op = envOps(d, true, true); return (c) => { check(c, true); op(c); }; },
  [Mnemonic.Frstor]: (d) => envOps(d, false, true),
};

function fstsw(d: DecodedInsn, waiting: boolean): Op | null {
  if (d.opKinds[0] === OpKind.Register) {
    return (c) => { check(c, waiting); c.lo[0] = (c.lo[0] & ~0xffff) | statusWord(c.fpu); };
  }
  const a = addr(d, 2, true);
  return (c) => { check(c, waiting); c.write16(a(c), c.linHi, statusWord(c.fpu)); };
}

