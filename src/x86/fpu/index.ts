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
 *
 * Layout: this file is the translator table. stack.ts holds the register stack, commit() and the
 * #NM/#MF checks; operands.ts the operand loaders; loadStore.ts, arith.ts, compare.ts and
 * control.ts the translators; softfloat*.ts and transcendental.ts the arithmetic.
 */
import { Mnemonic } from 'iced-x86';
import type { TranslatorTable } from '../translator';
import * as stack from './stack';
import { fld, fldConst, fst, fstpnce, pushResult, fcmov, fxch, fbld, fbstp } from './loadStore';
import { ArOp, arith, unary, twoRegs, fscaleOp, fpremOp, fxtract, trigOp, binTrans, fpatanFn, fyl2xFn, fyl2xp1Fn, f2xm1Fn } from './arith';
import { fcom, fcomi, fxam, ftst } from './compare';
import { envOps, envOpsWaiting, finit, control, stackReg, fstsw, fstcw, fldcw, fwait } from './control';

export { tagOf, statusWord } from './stack';
export { fullTags, finit } from './control';

// Plain copies: property loads instead of the module namespace's accessors (hot path; under the
// CommonJS transform every imported name is read through a getter).
const { sf, C1, C2, phys, setEmpty, pop, commit, pc, rc, check, ctx, recordPointers } = stack;

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
  [Mnemonic.Fprem]: twoRegs(fpremOp(false), C1 | C2),
  [Mnemonic.Fprem1]: twoRegs(fpremOp(true), C1 | C2),
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
  [Mnemonic.Fldcw]: fldcw,
  [Mnemonic.Fnstcw]: (d) => fstcw(d, false),
  [Mnemonic.Fstcw]: (d) => fstcw(d, true),
  [Mnemonic.Fnstsw]: (d) => fstsw(d, false),
  [Mnemonic.Fstsw]: (d) => fstsw(d, true),
  [Mnemonic.Fnclex]: control(false, (_c, f) => { f.fsw &= ~(0x80ff); }),
  [Mnemonic.Fclex]: control(true, (_c, f) => { f.fsw &= ~(0x80ff); }),
  [Mnemonic.Fninit]: control(false, (_c, f) => finit(f)),
  [Mnemonic.Finit]: control(true, (_c, f) => finit(f)),
  // FFREE/FFREEP clear C1 (measured; the SDM leaves C0-C3 undefined).
  [Mnemonic.Ffree]: stackReg((_c, f, i) => { f.fsw &= ~C1; setEmpty(f, phys(f, i)); }),
  [Mnemonic.Ffreep]: stackReg((_c, f, i) => { f.fsw &= ~C1; setEmpty(f, phys(f, i)); pop(f); }),
  [Mnemonic.Fincstp]: stackReg((_c, f) => { f.fsw &= ~C1; f.top = (f.top + 1) & 7; }),
  [Mnemonic.Fdecstp]: stackReg((_c, f) => { f.fsw &= ~C1; f.top = (f.top - 1) & 7; }),
  [Mnemonic.Fnop]: stackReg(() => {}),
  // FSTP1 alias (D9 D8+i) behaves as FSTP ST(i), except with ST0 empty (loadStore.ts fstpnce).
  [Mnemonic.Fstpnce]: fstpnce,
  // 287 leftovers: FNENI/FNDISI/FNSETPM execute as no-ops on the 387 and later (they are ignored by IA-32 processors).
  [Mnemonic.Fneni]: control(false, () => {}),
  [Mnemonic.Fndisi]: control(false, () => {}),
  [Mnemonic.Fnsetpm]: control(false, () => {}),
  // WAIT/FWAIT (SDM vol. 2B WAIT): #NM if CR0.MP and CR0.TS; then pending unmasked exceptions.
  [Mnemonic.Wait]: fwait,
  [Mnemonic.Fnstenv]: (d) => envOps(d, true, false),
  [Mnemonic.Fstenv]: (d) => envOpsWaiting(d, false),
  [Mnemonic.Fldenv]: (d) => envOps(d, false, false),
  [Mnemonic.Fnsave]: (d) => envOps(d, true, true),
  [Mnemonic.Fsave]: (d) => envOpsWaiting(d, true),
  [Mnemonic.Frstor]: (d) => envOps(d, false, true),
};
