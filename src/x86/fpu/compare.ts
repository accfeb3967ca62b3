/**
 * x87 compares and classification (SDM vol. 2A): FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP,
 * FICOM/FICOMP, FCOMI/FCOMIP/FUCOMI/FUCOMIP (EFLAGS), FTST, FXAM.
 */
import { OpKind } from 'iced-x86';
import type { DecodedInsn } from '../decoded';
import type { Op } from '../operands';
import * as stack from './stack';
import * as operands from './operands';
import type { Src } from './operands';

// Plain copies: property loads instead of the module namespaces' accessors (hot path; under the
// CommonJS transform every imported name is read through a getter).
const { IE, SF, C1, C0, C2, C3, sf, R, isEmpty, pop, commit, check, ctx, recordPointers } = stack;
const { regIndex, srcReg, srcMem, memKind } = operands;

// ---- compares -------------------------------------------------------------------------------
const CC = [0, C0, C3, C0 | C2 | C3];

export function fcom(quiet: boolean, pops: number, int: boolean): (d: DecodedInsn) => Op | null {
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

export function fcomi(quiet: boolean, popAfter: boolean): (d: DecodedInsn) => Op | null {
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
      // C1 is cleared on stack underflow (SDM vol. 2A FCOMI), otherwise kept, also when an
      // unmasked invalid operation is reported (measured on silicon).
      const c1 = r === 3 && (R.fx & SF) !== 0 ? 0 : f.fsw & C1;
      const stop = commit(f, R.fx & ~C1);
      f.fsw = (f.fsw & ~C1) | c1;
      // EFLAGS (SDM vol. 2A FCOMI): ZF PF CF = 000 >, 001 <, 100 =, 111 unordered; OF SF AF = 0.
      const zf = r >= 2 ? 1 : 0, pf = r === 3 ? 1 : 0, cf = r === 1 || r === 3 ? 1 : 0;
      c.fRes = zf ? 0 : 1; c.fSgn = 0; c.fPar = pf ? 0 : 1; c.fCO = cf ? (0xc0000000 | 0) : 0; c.fAux = 0;
      if (popAfter && !stop) pop(f); // EFLAGS are set even when an unmasked exception stops the pop (measured)
    };
  };
}
export function fxam(d: DecodedInsn): Op | null {
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

export function ftst(d: DecodedInsn): Op | null {
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
