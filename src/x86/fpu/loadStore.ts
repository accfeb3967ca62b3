/**
 * x87 loads, stores and register moves (SDM vol. 2A): FLD/FILD, the constants FLD1/FLDPI/...
 * (SDM vol. 1 §8.3.8), FST/FSTP/FIST/FISTP/FISTTP, FBLD/FBSTP (packed BCD), FCMOVcc, FXCH.
 */
import { Mnemonic, OpKind } from 'iced-x86';
import type { DecodedInsn } from '../decoded';
import type { Op } from '../operands';
import type { FpuState } from './state';
import { condition } from '../insn/arith';
import * as stack from './stack';
import * as operands from './operands';
import type { Src } from './operands';

// Plain copies: property loads instead of the module namespaces' accessors (hot path; under the
// CommonJS transform every imported name is read through a getter).
const { IE, DE, OE, UE, PE, SF, C1, ES, B, TWO32, sf, R, phys, isEmpty, writeReg, writeResult, pop, commit, rc, check, ctx, recordPointers, recordFault } = stack;
const { regIndex, srcReg, addr, srcMem, memKind, addLin, lin } = operands;

// ---- loads and stores ----------------------------------------------------------------------
/**
 * Push the loaded value (sf.r*), with the stack-overflow check (SDM vol. 1 §8.5.1.1). C1 is set on
 * a stack overflow, except when the source was an empty ST(i) too (`underflow`: FLD ST(i) then
 * clears C1, measured on silicon).
 */
export function pushResult(f: FpuState, x: number, underflow = false): void {
  const p = (f.top - 1) & 7;
  if (!isEmpty(f, p)) {
    if (commit(f, IE | SF | (underflow ? 0 : C1))) return;
    f.top = p; sf.setIndefinite(); writeResult(f, p); return;
  }
  if ((x & ~f.fcw & DE) !== 0 && (x & ~f.fcw & IE) === 0) {
    // An unmasked DE from an m32fp/m64fp denormal still loads the value (measured).
    f.fsw = (f.fsw & ~C1) | (x & 0x7f) | ES | B;
    recordFault(f);
  } else if (commit(f, x)) return;
  f.top = p; writeResult(f, p);
}

export function fld(int: boolean): (d: DecodedInsn) => Op | null {
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
        if (!isEmpty(f, p)) { pushResult(f, 0, true); return; }
        if (commit(f, IE | SF)) return;
        f.top = p; sf.setIndefinite(); writeResult(f, p); return;
      }
      pushResult(f, R.fx);
    };
  };
}

/** Constants (SDM vol. 1 §8.3.8): the 66-bit internal constant rounded per RC. [h, l, roundsUpWhenNearest] */
export function fldConst(e: number, h: number, l: number, nearestUp: boolean, aboveTrunc: boolean): (d: DecodedInsn) => Op | null {
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

export function fst(popAfter: boolean, int: boolean, trunc: boolean): (d: DecodedInsn) => Op | null {
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
      // Unmasked IE/OE/UE/DE: no store (SDM vol. 2A FST, §4.9.1), and no segment or page check
      // of the destination either (measured on silicon).
      if (x2 & ~f.fcw & (IE | DE | OE | UE)) {
        recordPointers(c, x);
        // No store; PE and C1 are not reported then (measured).
        commit(f, x2 & (x2 & ~f.fcw & (OE | UE) ? ~(PE | C1) : ~0));
        return;
      }
      // A faulting store leaves FIP/FOP/FDP as they were (measured): the pointers are recorded
      // after the memory access.
      const lo = a(c), hi = c.linHi;
      if (bytes === 2) c.write16(lo, hi, oLo & 0xffff);
      else if (bytes === 4) c.write32(lo, hi, oLo);
      else if (bytes === 8) c.write64(lo, hi, oLo, oHi);
      else {
        // m80: the significand (8 bytes) is stored before the sign/exponent word is checked: a #PF
        // on the last 2 bytes leaves the first 8 written (measured on silicon).
        c.write64(lo, hi, oLo, oHi);
        c.write16(addLin(lo, hi, 8, wide), lin.hi2, se);
      }
      recordPointers(c, x);
      commit(f, x2);
      if (popAfter) pop(f);
    };
  };
}

/**
 * FSTPNCE ST(i) (D9 D8+i, the undocumented FSTP alias): as FSTP ST(i), except that an empty ST0 is
 * not a stack underflow: silicon then writes nothing, raises nothing, clears C1 and pops (measured).
 */
export function fstpnce(d: DecodedInsn): Op | null {
  const op = fst(true, false, false)(d);
  const x = ctx(d);
  return (c) => {
    const f = c.fpu;
    if (!isEmpty(f, f.top)) { op!(c); return; }
    check(c, true);
    recordPointers(c, x);
    f.fsw &= ~C1;
    pop(f);
  };
}

const FCMOV: Partial<Record<Mnemonic, number>> = {
  [Mnemonic.Fcmovb]: 2, [Mnemonic.Fcmovnb]: 3, [Mnemonic.Fcmove]: 4, [Mnemonic.Fcmovne]: 5,
  [Mnemonic.Fcmovbe]: 6, [Mnemonic.Fcmovnbe]: 7, [Mnemonic.Fcmovu]: 10, [Mnemonic.Fcmovnu]: 11,
};

export function fcmov(d: DecodedInsn): Op | null {
  const cc = FCMOV[d.mnemonic]!;
  const x = ctx(d);
  const i = regIndex(d.opRegs[1]);
  return (c) => {
    check(c, true);
    const f = c.fpu;
    recordPointers(c, x);
    const p0 = f.top, pi = phys(f, i);
    if (isEmpty(f, p0) || isEmpty(f, pi)) {
      // Stack underflow: C1 = 0 (SDM vol. 1 §8.5.1.1); otherwise C1 is kept (measured on silicon).
      if (commit(f, IE | SF)) return;
      sf.setIndefinite(); writeResult(f, p0); return;
    }
    if (condition(c, cc)) writeReg(f, p0, f.signExp[pi] >>> 15, f.signExp[pi] & 0x7fff, f.sigHi[pi], f.sigLo[pi]);
  };
}

export function fxch(d: DecodedInsn): Op | null {
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
/** FBLD m80bcd (SDM vol. 2A FBLD): 18 packed BCD digits + sign byte, loaded exactly. */
export function fbld(d: DecodedInsn): Op | null {
  const x = ctx(d);
  const a = addr(d, 10);
  const wide = d.bitness === 64;
  return (c) => {
    check(c, true);
    const f = c.fpu;
    const lo = a(c), hi = c.linHi;
    // Read in ascending order, as silicon does (the CR2 of a #PF on a straddling operand).
    const dl = c.read64(lo, hi), dh = c.vHi;
    const top = c.read16(addLin(lo, hi, 8, wide), lin.hi2);
    let vh = 0, vl = 0;
    const sign = (top >>> 15) & 1;
    for (let k = 8; k >= 0; k--) {
      const b = k === 8 ? top & 0xff : k >= 4 ? (dh >>> (8 * (k - 4))) & 0xff : (dl >>> (8 * k)) & 0xff;
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
export function fbstp(d: DecodedInsn): Op | null {
  const x = ctx(d);
  const a = addr(d, 10, true);
  const wide = d.bitness === 64;
  const out = new Uint8Array(10);
  return (c) => {
    check(c, true);
    const f = c.fpu;
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
    // Unmasked IE: no store and no segment/page check of the destination (measured).
    if (fx & ~f.fcw & IE) { recordPointers(c, x); commit(f, fx); return; }
    const lo = a(c), hi = c.linHi;
    // As for FSTP m80: the low 8 bytes are stored before the last 2 are checked (measured: a #PF on
    // the last 2 bytes leaves the first 8 written).
    c.write64(lo, hi, out[0] | (out[1] << 8) | (out[2] << 16) | (out[3] << 24), out[4] | (out[5] << 8) | (out[6] << 16) | (out[7] << 24));
    c.write16(addLin(lo, hi, 8, wide), lin.hi2, out[8] | (out[9] << 8));
    recordPointers(c, x);
    commit(f, fx);
    pop(f);
  };
}
