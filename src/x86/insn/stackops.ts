/**
 * Stack: PUSH, POP (all forms), PUSHA/POPA, PUSHF/POPF, ENTER, LEAVE (SDM vol. 2B, each
 * instruction's page; vol. 1 §6.2 for the stack-address and operand sizes).
 *
 * Every op computes the new stack pointer into locals, does all its memory accesses, and only
 * then writes RSP (and the other registers), so a fault leaves the registers as they were.
 * In 64-bit code the stack-address size is always 64 and those forms are specialised for it;
 * in 16/32-bit code it comes from SS.B (`c.stackBits`) at run time.
 */
import { Code, Mnemonic, OpKind } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { gprOf, segOf } from '../decoded';
import { gp0 } from '../exceptions';
import type { Op } from '../operands';
import {
  effectiveAddress, linearAddress, operandReader, operandReader64, segmentCheck, segmented,
} from '../operands';
import { Flag, Gpr, Seg } from '../registers';
import type { TranslatorTable } from '../translator';
import { ssFault, stackLinear, stackRead, stackWrite } from '../stack';
import { loadSegment } from '../segmentation';

const TWO32 = 4294967296;
const RSP = Gpr.RSP;
const RBP = Gpr.RBP;
const CR4_VME = 1;

// ---- stack-pointer arithmetic and stack accesses at an explicit stack pointer ----------------
/** High half of the last `spAdd` result. */
let spHi = 0;

/**
 * Stack pointer (lo, hi) plus `delta` with stack-address size `sb`: 64 carries into the high
 * half, 32 wraps ESP, 16 wraps SP and keeps ESP[31:16]. Returns lo; the high half is in `spHi`.
 */
function spAdd(sb: number, lo: number, hi: number, delta: number): number {
  if (sb === 64) {
    const s = (lo >>> 0) + delta;
    spHi = (hi + Math.floor(s / TWO32)) | 0;
    return s | 0;
  }
  spHi = hi;
  if (sb === 32) return (lo + delta) | 0;
  return (lo & ~0xffff) | ((lo + delta) & 0xffff);
}


/** Push n bytes (vhi only for n = 8) with the current stack-address size. */
function pushAny(c: Cpu, n: number, vlo: number, vhi: number): void {
  const sb = c.stackBits;
  const lo = spAdd(sb, c.lo[RSP], c.hi[RSP], -n);
  const hi = spHi;
  stackWrite(c, sb, lo, hi, n, vlo, vhi);
  c.lo[RSP] = lo;
  c.hi[RSP] = hi;
}

// ---- 64-bit mode fast paths (stack-address size 64, SS base ignored) --------------------------
function push64q(c: Cpu, vlo: number, vhi: number): void {
  const s = (c.lo[RSP] >>> 0) - 8;
  const hi = s < 0 ? (c.hi[RSP] - 1) | 0 : c.hi[RSP];
  if (((hi << c.canonShift) >> c.canonShift) !== hi) throw ssFault();
  const lo = s | 0;
  c.write64(lo, hi, vlo, vhi);
  c.lo[RSP] = lo;
  c.hi[RSP] = hi;
}

/** 32-bit code with a 32-bit stack (the flat case) or anything else through pushAny. */
function push32d(c: Cpu, v: number): void {
  if (c.stackBits === 32) {
    const sp = (c.lo[RSP] - 4) >>> 0;
    if ((c.segAttr[Seg.SS] & 0x1000e) !== 2 || sp + 3 > c.segLimit[Seg.SS]) segmentCheck(c, Seg.SS, sp, 3, true);
    c.write32((sp + c.segBaseLo[Seg.SS]) | 0, 0, v);
    c.lo[RSP] = sp | 0;
    return;
  }
  pushAny(c, 4, v, 0);
}

/** Operand size (2, 4 or 8) of a PUSH/POP of a segment register, from iced's code name. */
function segStackSize(d: DecodedInsn): number {
  const name = Code[d.code];
  return name.startsWith('Pushq') || name.startsWith('Popq') ? 8
    : name.startsWith('Pushd') || name.startsWith('Popd') ? 4 : 2;
}

// ---- PUSH (SDM vol. 2B PUSH) -------------------------------------------------------------------
function push(d: DecodedInsn): Op | null {
  const k = d.opKinds[0];
  if (k === OpKind.Register) {
    const s = segOf(d.opRegs[0]);
    if (s >= 0) {
      // SDM PUSH: with a 32-bit operand size, recent Intel processors write the selector with a
      // 16-bit move and leave the upper half of the slot unmodified (measured on an Intel host);
      // a 64-bit push writes the selector zero-extended to 8 bytes (measured).
      const n = segStackSize(d);
      if (d.bitness === 64 && n === 8) return (c) => push64q(c, c.segSel[s], 0);
      if (n === 4) {
        return (c) => {
          const sb = c.stackBits;
          const lo = spAdd(sb, c.lo[RSP], c.hi[RSP], -4);
          const hi = spHi;
          stackWrite(c, sb, lo, hi, 2, c.segSel[s], 0);
          c.lo[RSP] = lo;
          c.hi[RSP] = hi;
        };
      }
      return (c) => pushAny(c, n, c.segSel[s], 0);
    }
    const g = gprOf(d.opRegs[0]);
    if (g === null) return null;
    const r = g.index;
    const n = d.opSizes[0];
    // PUSH rSP pushes the value before the push (SDM: "the old value").
    if (n === 8) return (c) => push64q(c, c.lo[r], c.hi[r]);
    if (n === 4) return (c) => push32d(c, c.lo[r]);
    return (c) => pushAny(c, 2, c.lo[r], 0);
  }
  const n = d.opSizes[0];
  if (k === OpKind.Memory) {
    if (n === 8) {
      const rd = operandReader64(d, 0);
      return (c) => { const lo = rd(c); push64q(c, lo, c.vHi); };
    }
    const rd = operandReader(d, 0, n);
    if (n === 4) return (c) => push32d(c, rd(c));
    return (c) => pushAny(c, 2, rd(c), 0);
  }
  // Immediates, already sign-extended to the operand size by the decoder.
  const lo = d.immLo | 0, hi = d.immHi | 0;
  if (n === 8) return (c) => push64q(c, lo, hi);
  if (n === 4) return (c) => push32d(c, lo);
  const w = lo & 0xffff;
  return (c) => pushAny(c, 2, w, 0);
}

// ---- POP (SDM vol. 2B POP) ---------------------------------------------------------------------
function pop(d: DecodedInsn): Op | null {
  const k = d.opKinds[0];
  const n = d.opSizes[0];
  if (k === OpKind.Register) {
    const s = segOf(d.opRegs[0]);
    if (s >= 0) {
      // POP Sreg (SDM vol. 2B POP): the load's checks (segmentation.ts) come before RSP moves.
      if (s === Seg.CS || s > Seg.GS) return null;
      const sn = segStackSize(d);
      const isSs = s === Seg.SS;
      if (isSs) {
        // POP SS inhibits interrupts for one instruction (SDM vol. 3A §6.8.3): end the block here.
        d.endsBlock = true;
        d.setsRip = false;
      }
      return (c) => {
        const sb = c.stackBits;
        const sLo = c.lo[RSP], sHi = c.hi[RSP];
        const v = stackRead(c, sb, sLo, sHi, sn) & 0xffff;
        const lo = spAdd(sb, sLo, sHi, sn);
        const hi = spHi;
        loadSegment(c, s, v);
        // The stack-address size for the increment is the one before the load (SDM POP:
        // "the stack pointer is incremented" using the current size).
        c.lo[RSP] = lo;
        c.hi[RSP] = hi;
        if (isSs) {
          c.interruptShadow = true;
          c.eventPending = true;
        }
      };
    }
    const g = gprOf(d.opRegs[0]);
    if (g === null) return null;
    const r = g.index;
    // POP rSP: the popped value replaces the incremented stack pointer (SDM POP).
    if (n === 8) {
      return (c) => {
        const lo = c.lo[RSP], hi = c.hi[RSP];
        if (((hi << c.canonShift) >> c.canonShift) !== hi) throw ssFault();
        const v = c.read64(lo, hi), vh = c.vHi;
        const s2 = (lo >>> 0) + 8;
        c.lo[RSP] = s2 | 0;
        c.hi[RSP] = s2 >= TWO32 ? (hi + 1) | 0 : hi;
        c.lo[r] = v;
        c.hi[r] = vh;
      };
    }
    if (n === 4) {
      return (c) => {
        if (c.stackBits === 32) {
          const sp = c.lo[RSP] >>> 0;
          if ((c.segAttr[Seg.SS] & 0x1000e) !== 2 || sp + 3 > c.segLimit[Seg.SS]) segmentCheck(c, Seg.SS, sp, 3, false);
          const v = c.read32((sp + c.segBaseLo[Seg.SS]) | 0, 0);
          c.lo[RSP] = (sp + 4) | 0;
          c.lo[r] = v;
          c.hi[r] = 0;
          return;
        }
        const sb = c.stackBits;
        const sLo = c.lo[RSP], sHi = c.hi[RSP];
        const v = stackRead(c, sb, sLo, sHi, 4);
        c.lo[RSP] = spAdd(sb, sLo, sHi, 4);
        c.hi[RSP] = spHi;
        c.lo[r] = v;
        c.hi[r] = 0;
      };
    }
    return (c) => {
      const sb = c.stackBits;
      const sLo = c.lo[RSP], sHi = c.hi[RSP];
      const v = stackRead(c, sb, sLo, sHi, 2);
      c.lo[RSP] = spAdd(sb, sLo, sHi, 2);
      c.hi[RSP] = spHi;
      c.lo[r] = (c.lo[r] & ~0xffff) | v;
    };
  }
  if (k !== OpKind.Memory || d.mem === null) return null;
  // POP r/m: a destination address based on rSP is computed with the incremented rSP (SDM
  // POP); the write happens before rSP is updated so a fault leaves it unchanged.
  const m = d.mem;
  let lin: (c: Cpu) => number;
  if (m.base === RSP) {
    const ea = effectiveAddress(m);
    let eaLo = 0, eaHi = 0;
    const seg = segmented(d.bitness, m.seg, n, (c) => { c.linHi = eaHi; return eaLo; }, true);
    lin = (c) => {
      const oLo = c.lo[RSP], oHi = c.hi[RSP];
      c.lo[RSP] = spAdd(c.stackBits, oLo, oHi, n);
      c.hi[RSP] = spHi;
      eaLo = ea(c);
      eaHi = c.linHi;
      c.lo[RSP] = oLo;
      c.hi[RSP] = oHi;
      return seg(c);
    };
  } else {
    lin = linearAddress(d, m, n, true);
  }
  return (c) => {
    const sb = c.stackBits;
    const sLo = c.lo[RSP], sHi = c.hi[RSP];
    const v = stackRead(c, sb, sLo, sHi, n);
    const vh = c.vHi;
    const a = lin(c);
    if (n === 8) c.write64(a, c.linHi, v, vh);
    else if (n === 4) c.write32(a, c.linHi, v);
    else c.write16(a, c.linHi, v);
    c.lo[RSP] = spAdd(sb, sLo, sHi, n);
    c.hi[RSP] = spHi;
  };
}

// ---- PUSHA / POPA (SDM vol. 2B PUSHA/PUSHAD, POPA/POPAD; 16/32-bit code only) -----------------
function pusha(d: DecodedInsn, n: number): Op | null {
  if (d.bitness === 64) return null;
  return (c) => {
    const sb = c.stackBits;
    const temp = c.lo[RSP];
    let lo = c.lo[RSP];
    const hi = c.hi[RSP];
    // All eight slots are checked before anything is written. Real-address and virtual-8086
    // mode report a slot outside the SS limit as #GP(0) (SDM PUSHA, their exception lists).
    const gpOnLimit = !c.protectedMode || (c.flagsRest & Flag.VM) !== 0;
    for (let i = 0; i < 8; i++) {
      lo = spAdd(sb, lo, hi, -n);
      const sp = sb === 32 ? lo >>> 0 : lo & 0xffff;
      if (gpOnLimit && sp + n - 1 > c.segLimit[Seg.SS]) throw gp0('PUSHA: stack slot outside the SS limit');
      stackLinear(c, sb, lo, hi, n, true);
    }
    lo = c.lo[RSP];
    for (let i = 0; i < 8; i++) {
      lo = spAdd(sb, lo, hi, -n);
      stackWrite(c, sb, lo, hi, n, i === RSP ? temp : c.lo[i], 0);
    }
    c.lo[RSP] = lo;
  };
}

function popa(d: DecodedInsn, n: number): Op | null {
  if (d.bitness === 64) return null;
  const vals = new Int32Array(8);
  return (c) => {
    const sb = c.stackBits;
    let lo = c.lo[RSP];
    const hi = c.hi[RSP];
    // Read DI, SI, BP, (skipped SP), BX, DX, CX, AX first; then write the registers.
    for (let i = 7; i >= 0; i--) {
      vals[i] = stackRead(c, sb, lo, hi, n);
      lo = spAdd(sb, lo, hi, n);
    }
    for (let i = 0; i < 8; i++) {
      if (i === RSP) continue;
      if (n === 4) { c.lo[i] = vals[i]; c.hi[i] = 0; }
      else c.lo[i] = (c.lo[i] & ~0xffff) | vals[i];
    }
    c.lo[RSP] = lo;
  };
}

// ---- PUSHF / POPF (SDM vol. 2B PUSHF/PUSHFD/PUSHFQ, POPF/POPFD/POPFQ) -------------------------
function pushf(_d: DecodedInsn, n: number): Op | null {
  return (c) => {
    const fl = c.getRflags();
    let v: number;
    if ((fl & Flag.VM) !== 0 && ((fl >>> 12) & 3) < 3) {
      // Virtual-8086 mode with IOPL < 3: #GP unless CR4.VME and a 16-bit operand, which pushes
      // VIF in the IF position and IOPL = 3.
      if (n !== 2 || (c.cr4 & CR4_VME) === 0) throw gp0('PUSHF in virtual-8086 mode with IOPL < 3');
      v = (fl & 0xffff & ~Flag.IF) | (((fl >>> 19) & 1) << 9) | Flag.IOPL;
    } else {
      // VM and RF are cleared in the image (00FCFFFFH).
      v = n === 2 ? fl & 0xffff : fl & 0x00fcffff;
    }
    pushAny(c, n, v, 0);
  };
}

/** Non-reserved RFLAGS bits except RF, VM, VIF, VIP (CF PF AF ZF SF TF IF DF OF IOPL NT AC ID). */
const POPF_BITS = 0x00247fd5;
/** Non-reserved bits of FLAGS[15:0]. */
const POPF_BITS16 = 0x7fd5;

/**
 * POPF: which bits change depends on CR0.PE, CPL, IOPL, VM and the operand size (SDM POPF
 * operation). 32/64-bit forms clear RF. May change TF, IF, AC or DF: the block ends after it.
 */
function popf(d: DecodedInsn, n: number): Op | null {
  d.endsBlock = true;
  d.setsRip = false;
  return (c) => {
    const sb = c.stackBits;
    const sLo = c.lo[RSP], sHi = c.hi[RSP];
    let v = stackRead(c, sb, sLo, sHi, n);
    const fl = c.flagsRest;
    const iopl = (fl >>> 12) & 3;
    let mask: number;
    if ((fl & Flag.VM) === 0) {
      if (c.cpl === 0 || !c.protectedMode) {
        mask = n === 2 ? POPF_BITS16 : POPF_BITS;
      } else {
        mask = (n === 2 ? POPF_BITS16 : POPF_BITS) & ~Flag.IOPL;
        if (c.cpl > iopl) mask &= ~Flag.IF;
      }
    } else if (iopl === 3) {
      mask = (n === 2 ? POPF_BITS16 : POPF_BITS) & ~Flag.IOPL;
    } else {
      if (n !== 2 || (c.cr4 & CR4_VME) === 0) throw gp0('POPF in virtual-8086 mode with IOPL < 3');
      if (((fl & Flag.VIP) !== 0 && (v & Flag.IF) !== 0) || (v & Flag.TF) !== 0) {
        throw gp0('POPF in virtual-8086 mode: TF set, or IF set with VIP pending');
      }
      // EFLAGS.VIF := popped IF; IF and IOPL unchanged.
      v = (v & 0xffff) | (((v >>> 9) & 1) << 19);
      mask = (POPF_BITS16 & ~Flag.IOPL & ~Flag.IF) | Flag.VIF;
    }
    if (n !== 2) {
      // RF is cleared by the 32/64-bit forms.
      mask |= Flag.RF;
      v &= ~Flag.RF;
    }
    c.setRflags(v, mask);
    c.lo[RSP] = spAdd(sb, sLo, sHi, n);
    c.hi[RSP] = spHi;
  };
}

// ---- ENTER / LEAVE (SDM vol. 2A ENTER, vol. 2A LEAVE) -----------------------------------------
/**
 * ENTER imm16, imm8: push rBP, copy (level - 1) frame pointers from the old frame (walking a
 * temporary copy of rBP with the stack-address size; measured: rBP's upper bits are not
 * changed by the walk), push the new frame pointer, probe the new top of stack for a write, then
 * rSP -= imm16 and rBP := frame pointer.
 */
function enter(d: DecodedInsn): Op | null {
  const name = Code[d.code];
  const n = name.startsWith('Enterq') ? 8 : name.startsWith('Enterd') ? 4 : 2;
  const alloc = d.immLo & 0xffff;
  const level = d.imm2 & 31;
  if (d.bitness === 64 && n === 8 && level === 0) {
    return (c) => {
      const s = (c.lo[RSP] >>> 0) - 8;
      const hi = s < 0 ? (c.hi[RSP] - 1) | 0 : c.hi[RSP];
      if (((hi << c.canonShift) >> c.canonShift) !== hi) throw ssFault();
      const lo = s | 0;
      c.write64(lo, hi, c.lo[RBP], c.hi[RBP]);
      const s2 = (lo >>> 0) - alloc;
      const nLo = s2 | 0, nHi = s2 < 0 ? (hi - 1) | 0 : hi;
      if (((nHi << c.canonShift) >> c.canonShift) !== nHi) throw ssFault();
      c.rmwBegin(nLo, nHi, 8); // write probe of the new top of stack (see below)
      c.lo[RSP] = nLo;
      c.hi[RSP] = nHi;
      c.lo[RBP] = lo;
      c.hi[RBP] = hi;
    };
  }
  return (c) => {
    const sb = c.stackBits;
    let lo = spAdd(sb, c.lo[RSP], c.hi[RSP], -n);
    let hi = spHi;
    stackWrite(c, sb, lo, hi, n, c.lo[RBP], c.hi[RBP]);
    const ftLo = lo, ftHi = hi;
    if (level > 0) {
      let bLo = c.lo[RBP], bHi = c.hi[RBP];
      for (let i = 1; i < level; i++) {
        bLo = spAdd(sb, bLo, bHi, -n);
        bHi = spHi;
        const v = stackRead(c, sb, bLo, bHi, n), vh = c.vHi;
        lo = spAdd(sb, lo, hi, -n);
        hi = spHi;
        stackWrite(c, sb, lo, hi, n, v, vh);
      }
      lo = spAdd(sb, lo, hi, -n);
      hi = spHi;
      stackWrite(c, sb, lo, hi, n, ftLo, ftHi);
    }
    lo = spAdd(sb, lo, hi, -alloc);
    hi = spHi;
    // The new top of stack is checked as an n-byte write (SS limit / canonical -> #SS(0), paging
    // -> #PF) without storing anything, after the pushes (measured on an Intel host: CR2 is the
    // new RSP, or the next page when only its last bytes are unmapped; memory is unchanged).
    c.rmwBegin(stackLinear(c, sb, lo, hi, n, true), c.linHi, n);
    c.lo[RSP] = lo;
    c.hi[RSP] = hi;
    if (n === 8) { c.lo[RBP] = ftLo; c.hi[RBP] = ftHi; }
    else if (n === 4) { c.lo[RBP] = ftLo; c.hi[RBP] = 0; }
    else c.lo[RBP] = (c.lo[RBP] & ~0xffff) | (ftLo & 0xffff);
  };
}

/** LEAVE: rSP := rBP (stack-address size), then rBP := pop (operand size). */
function leave(d: DecodedInsn): Op | null {
  const name = Code[d.code];
  const n = name.startsWith('Leaveq') ? 8 : name.startsWith('Leaved') ? 4 : 2;
  if (d.bitness === 64 && n === 8) {
    return (c) => {
      const lo = c.lo[RBP], hi = c.hi[RBP];
      if (((hi << c.canonShift) >> c.canonShift) !== hi) throw ssFault();
      const v = c.read64(lo, hi), vh = c.vHi;
      const s = (lo >>> 0) + 8;
      c.lo[RSP] = s | 0;
      c.hi[RSP] = s >= TWO32 ? (hi + 1) | 0 : hi;
      c.lo[RBP] = v;
      c.hi[RBP] = vh;
    };
  }
  return (c) => {
    const sb = c.stackBits;
    let lo: number, hi: number;
    if (sb === 64) { lo = c.lo[RBP]; hi = c.hi[RBP]; }
    else if (sb === 32) { lo = c.lo[RBP]; hi = c.hi[RSP]; }
    else { lo = (c.lo[RSP] & ~0xffff) | (c.lo[RBP] & 0xffff); hi = c.hi[RSP]; }
    const v = stackRead(c, sb, lo, hi, n), vh = c.vHi;
    c.lo[RSP] = spAdd(sb, lo, hi, n);
    c.hi[RSP] = spHi;
    if (n === 8) { c.lo[RBP] = v; c.hi[RBP] = vh; }
    else if (n === 4) { c.lo[RBP] = v; c.hi[RBP] = 0; }
    else c.lo[RBP] = (c.lo[RBP] & ~0xffff) | v;
  };
}

export const stackHandlers: TranslatorTable = {
  [Mnemonic.Push]: push,
  [Mnemonic.Pop]: pop,
  [Mnemonic.Pusha]: (d) => pusha(d, 2),
  [Mnemonic.Pushad]: (d) => pusha(d, 4),
  [Mnemonic.Popa]: (d) => popa(d, 2),
  [Mnemonic.Popad]: (d) => popa(d, 4),
  [Mnemonic.Pushf]: (d) => pushf(d, 2),
  [Mnemonic.Pushfd]: (d) => pushf(d, 4),
  [Mnemonic.Pushfq]: (d) => pushf(d, 8),
  [Mnemonic.Popf]: (d) => popf(d, 2),
  [Mnemonic.Popfd]: (d) => popf(d, 4),
  [Mnemonic.Popfq]: (d) => popf(d, 8),
  [Mnemonic.Enter]: enter,
  [Mnemonic.Leave]: leave,
};
