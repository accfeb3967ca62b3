/**
 * x87 control and environment instructions (SDM vol. 1 §8.1.10, vol. 2A): FNSTENV/FLDENV/
 * FNSAVE/FRSTOR and their waiting forms, FLDCW/FSTCW, FSTSW, FINIT, WAIT, and the translator
 * builders for the simple control ops (FNCLEX, FFREE, FINCSTP, ...) used by the table in index.ts.
 */
import { OpKind } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import type { Op } from '../operands';
import type { FpuState } from './state';
import * as stack from './stack';
import type { Ctx } from './stack';
import * as operands from './operands';

// Plain copies: property loads instead of the module namespaces' accessors (hot path; under the
// CommonJS transform every imported name is read through a getter).
const { ES, B, phys, isEmpty, tagOf, statusWord, nm, mf, check, ctx, recordPointers } = stack;
const { regIndex, addr, addLin, lin } = operands;

// ---- environment -----------------------------------------------------------------------------
/** Linear byte address helper for multi-byte areas. */
export function envOps(d: DecodedInsn, save: boolean, regs: boolean): Op {
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
    // Silicon accesses the first field (2 or 4 bytes) and then the last byte of the image before
    // anything else (measured: the CR2 of a #PF on a straddling image), and a fault leaves memory
    // and state unchanged.
    if (save) {
      c.checkWrite(lo, hi, n); c.checkWrite(addLin(lo, hi, total - 1, wide), lin.hi2, 1);
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
        // FNSTENV masks all exceptions (SDM vol. 2A FSTENV); ES and B follow the masks, so they are
        // cleared (measured on silicon).
        f.fcw |= 0x3f;
        f.fsw &= ~(ES | B);
      }
      return;
    }
    // Load: read everything first (the first field and the last byte first, as above).
    rd(0, n); c.read8(addLin(lo, hi, total - 1, wide), lin.hi2);
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
  if (n === 2) eC!.write16(l2, lin.hi2, v & 0xffff); else eC!.write32(l2, lin.hi2, v);
}
function envR(k: number, n: number): number {
  const l2 = addLin(eLo, eHi, k, eWide);
  return n === 2 ? eC!.read16(l2, lin.hi2) : eC!.read32(l2, lin.hi2);
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
export function control(waiting: boolean, fn: (c: Cpu, f: FpuState) => void): (d: DecodedInsn) => Op | null {
  return () => (c) => { check(c, waiting); fn(c, c.fpu); };
}

export function stackReg(fn: (c: Cpu, f: FpuState, i: number, x: Ctx) => void): (d: DecodedInsn) => Op | null {
  return (d) => {
    const x = ctx(d);
    const i = d.opCount > 0 && d.opKinds[0] === OpKind.Register ? regIndex(d.opRegs[d.opCount - 1]) : 1;
    return (c) => { check(c, true); recordPointers(c, x); fn(c, c.fpu, i, x); };
  };
}

export function fstsw(d: DecodedInsn, waiting: boolean): Op | null {
  if (d.opKinds[0] === OpKind.Register) {
    return (c) => { check(c, waiting); c.lo[0] = (c.lo[0] & ~0xffff) | statusWord(c.fpu); };
  }
  const a = addr(d, 2, true);
  return (c) => { check(c, waiting); c.write16(a(c), c.linHi, statusWord(c.fpu)); };
}

/** FSTENV/FSAVE: FNSTENV/FNSAVE after the waiting form's #NM/#MF checks. */
export function envOpsWaiting(d: DecodedInsn, regs: boolean): Op {
  const op = envOps(d, true, regs);
  return (c) => { check(c, true); op(c); };
}

/** FLDCW m16 (SDM vol. 2A FLDCW). */
export function fldcw(d: DecodedInsn): Op | null {
  const a = addr(d, 2);
  return (c) => {
    check(c, true);
    const v = c.read16(a(c), c.linHi), f = c.fpu;
    f.fcw = (v & 0x1f3f) | 0x40; // reserved bits read 0 except bit 6 (measured)
    // ES and B follow the new masks: set when a flagged exception is unmasked, cleared when none is
    // (measured on silicon; SDM vol. 1 §8.5 "unmasking a pending exception" sets ES).
    if (f.fsw & ~f.fcw & 0x3f) f.fsw |= ES | B; else f.fsw &= ~(ES | B);
  };
}

/** FNSTCW / FSTCW m16 (SDM vol. 2A FSTCW). */
export function fstcw(d: DecodedInsn, waiting: boolean): Op | null {
  const a = addr(d, 2, true);
  return (c) => { check(c, waiting); c.write16(a(c), c.linHi, c.fpu.fcw); };
}

/** WAIT/FWAIT (SDM vol. 2B WAIT): #NM if CR0.MP and CR0.TS; then pending unmasked exceptions. */
export function fwait(): Op | null {
  return (c) => {
    if ((c.cr0 & 0xa) === 0xa) throw nm();
    if ((c.fpu.fsw & ES) !== 0 && (c.cr0 & 0x20) !== 0) throw mf();
  };
}
