/**
 * Control transfers: near CALL and RET, LOOP/LOOPE/LOOPNE, JCXZ/JECXZ/JRCXZ, the near-target
 * checks shared with JMP and Jcc (branch.ts), and the real-address-mode far forms of JMP, CALL
 * and RET (SDM vol. 2A CALL, JMP, Jcc; vol. 2B LOOP/LOOPcc, RET).
 *
 * Target checks (same pages): outside 64-bit mode a target beyond CS.limit raises #GP(0); in
 * 64-bit mode a non-canonical target raises #GP(0) on the branch itself (RIP not updated, RSP
 * not changed; a CALL has already written its return address, as silicon does). A 16-bit
 * operand size truncates the target to 16 bits (iced already wraps relative targets to the
 * operand size). Near branches in 64-bit mode always use a 64-bit
 * operand size on Intel processors (66h is ignored; iced's Intel decoding says so).
 *
 * Far transfers in real-address mode load CS without descriptors: CS.selector = selector,
 * CS.base = selector << 4, limit and attributes unchanged (SDM vol. 3A §20.1.1, §20.1.4). The
 * protected-mode and IA-32e forms (descriptors, call gates, privilege changes) are in
 * farTransfer.ts.
 */
import { Code, Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { CpuException, gp0, ss0 } from '../exceptions';
import type { Op } from '../operands';
import { linearAddress, operandReader, operandReader64 } from '../operands';
import { Flag, Gpr, Seg } from '../registers';
import { farCallProtected, farJmpProtected, farRetProtected } from './farTransfer';
import { adjustSp, peek } from '../stack';
import type { TranslatorTable } from '../translator';

const TWO32 = 4294967296;

/**
 * True when a 64-bit value with high half `hi` is canonical for 48-bit linear addresses — then it
 * is canonical for 57-bit ones too, so translators use it to drop the run-time check for constant
 * targets; a target that fails it is checked at run time with canonicalNow.
 */
export function canonicalHi(hi: number): boolean {
  return ((hi << 16) >> 16) === hi;
}

/** True when high half `hi` is canonical for the linear-address width in force (48 or 57 bits, SDM vol. 3A §4.5). */
export function canonicalNow(c: Cpu, hi: number): boolean {
  return ((hi << c.canonShift) >> c.canonShift) === hi;
}

function targetFault(): CpuException {
  return gp0('branch target outside the code segment limit or not canonical');
}

/**
 * Op for an unconditional branch to the constant target of a relative JMP (or a taken branch
 * with no other effect): CS.limit check outside 64-bit mode, canonical check in 64-bit mode.
 */
export function jumpToConstant(d: DecodedInsn): Op {
  const tLo = d.targetLo;
  if (d.bitness === 64) {
    const tHi = d.targetHi;
    if (!canonicalHi(tHi)) {
      return (c) => {
        if (!canonicalNow(c, tHi)) throw targetFault();
        c.ripLo = tLo; c.ripHi = tHi;
      };
    }
    return (c) => { c.ripLo = tLo; c.ripHi = tHi; };
  }
  const t = tLo >>> 0;
  return (c) => {
    if (t > c.segLimit[Seg.CS]) throw targetFault();
    c.ripLo = tLo;
    c.ripHi = 0;
  };
}

/**
 * Store a near CALL's 8-byte return address where the push puts it, without moving RSP (done
 * once the target is known to be good). Stack faults: #SS(0) (canonical), then #PF.
 */
function storeReturn64(c: Cpu, lo: number, hi: number): void {
  const s = (c.lo[Gpr.RSP] >>> 0) - 8;
  const h = s < 0 ? (c.hi[Gpr.RSP] - 1) | 0 : c.hi[Gpr.RSP];
  if (((h << c.canonShift) >> c.canonShift) !== h) throw ss0('stack address not canonical');
  c.write64(s | 0, h, lo, hi);
}

/** As storeReturn64 for a 2- or 4-byte return address on a 16/32-bit (or 64-bit) stack. */
function storeReturn(c: Cpu, size: number, v: number): void {
  if (c.stackBits === 64) {
    const s = (c.lo[Gpr.RSP] >>> 0) - size;
    let h = c.hi[Gpr.RSP];
    if (s < 0) h = (h - 1) | 0;
    if (((h << c.canonShift) >> c.canonShift) !== h) throw ss0('stack address not canonical');
    if (size === 4) c.write32(s | 0, h, v); else c.write16(s | 0, h, v);
    return;
  }
  const a = stackSlot(c, -size, size);
  if (size === 4) c.write32(a, 0, v); else c.write16(a, 0, v);
}

// ---- near indirect JMP (FF /4) and near CALL (E8, FF /2) ----------------------------------------

/** Near JMP through a register or memory operand of 2, 4 or 8 bytes. */
export function jumpIndirect(d: DecodedInsn): Op {
  const size = d.opSizes[0];
  if (size === 8) {
    const rd = operandReader64(d, 0);
    return (c) => {
      const lo = rd(c);
      const hi = c.vHi;
      if (((hi << c.canonShift) >> c.canonShift) !== hi) throw targetFault();
      c.ripLo = lo;
      c.ripHi = hi;
    };
  }
  const rd = operandReader(d, 0, size);
  const mask = size === 2 ? 0xffff : -1;
  if (d.bitness === 64) {
    return (c) => { c.ripLo = rd(c) & mask; c.ripHi = 0; };
  }
  return (c) => {
    const t = rd(c) & mask;
    if (t >>> 0 > c.segLimit[Seg.CS]) throw targetFault();
    c.ripLo = t;
    c.ripHi = 0;
  };
}

/*
 * Near CALL (SDM vol. 2A CALL). Measured on silicon, in 64-bit mode (non-canonical target) and
 * in compatibility mode (target beyond CS.limit): the return address is written to the stack
 * first, then the bad target raises #GP(0) with RIP at the CALL and RSP unchanged. A stack
 * fault therefore wins over a bad target.
 */
function callRel(d: DecodedInsn, size: number): Op {
  const tLo = d.targetLo, tHi = d.targetHi;
  const rLo = d.nextLo, rHi = d.nextHi;
  if (d.bitness === 64) {
    const call: Op = (c) => {
      const s = (c.lo[Gpr.RSP] >>> 0) - 8;
      const h = s < 0 ? (c.hi[Gpr.RSP] - 1) | 0 : c.hi[Gpr.RSP];
      if (((h << c.canonShift) >> c.canonShift) !== h) throw ss0('stack address not canonical');
      c.write64(s | 0, h, rLo, rHi);
      c.lo[Gpr.RSP] = s | 0;
      c.hi[Gpr.RSP] = h;
      c.ripLo = tLo;
      c.ripHi = tHi;
    };
    if (canonicalHi(tHi)) return call;
    return (c) => {
      if (canonicalNow(c, tHi)) { call(c); return; }
      storeReturn64(c, rLo, rHi);
      throw targetFault();
    };
  }
  const t = tLo >>> 0;
  return (c) => {
    storeReturn(c, size, rLo);
    if (t > c.segLimit[Seg.CS]) throw targetFault();
    adjustSp(c, -size);
    c.ripLo = tLo;
    c.ripHi = 0;
  };
}

function callIndirect(d: DecodedInsn, size: number): Op {
  const rLo = d.nextLo, rHi = d.nextHi;
  if (size === 8) {
    const rd = operandReader64(d, 0);
    return (c) => {
      const lo = rd(c);
      const hi = c.vHi;
      const s = (c.lo[Gpr.RSP] >>> 0) - 8;
      const h = s < 0 ? (c.hi[Gpr.RSP] - 1) | 0 : c.hi[Gpr.RSP];
      if (((h << c.canonShift) >> c.canonShift) !== h) throw ss0('stack address not canonical');
      c.write64(s | 0, h, rLo, rHi);
      if (((hi << c.canonShift) >> c.canonShift) !== hi) throw targetFault();
      c.lo[Gpr.RSP] = s | 0;
      c.hi[Gpr.RSP] = h;
      c.ripLo = lo;
      c.ripHi = hi;
    };
  }
  const rd = operandReader(d, 0, size);
  const mask = size === 2 ? 0xffff : -1;
  const b64 = d.bitness === 64;
  return (c) => {
    const t = rd(c) & mask;
    storeReturn(c, size, rLo);
    if (!b64 && t >>> 0 > c.segLimit[Seg.CS]) throw targetFault();
    adjustSp(c, -size);
    c.ripLo = t;
    c.ripHi = 0;
  };
}

function call(d: DecodedInsn): Op | null {
  switch (d.code) {
    case Code.Call_rel16: return callRel(d, 2);
    case Code.Call_rel32_32: return callRel(d, 4);
    case Code.Call_rel32_64: return callRel(d, 8);
    case Code.Call_rm16: return callIndirect(d, 2);
    case Code.Call_rm32: return callIndirect(d, 4);
    case Code.Call_rm64: return callIndirect(d, 8);
    case Code.Call_ptr1616: case Code.Call_ptr1632: case Code.Call_m1616: case Code.Call_m1632:
    case Code.Call_m1664:
      return farCall(d);
    default: return null;
  }
}

// ---- near RET (C3, C2 iw) ----------------------------------------------------------------------

function retNear(d: DecodedInsn, size: number): Op {
  const imm = d.opCount > 0 ? d.immLo & 0xffff : 0;
  if (d.bitness === 64 && size === 8) {
    const inc = 8 + imm;
    return (c) => {
      const lo = c.lo[Gpr.RSP], hi = c.hi[Gpr.RSP];
      if (((hi << c.canonShift) >> c.canonShift) !== hi) throw ss0('stack address not canonical');
      const tLo = c.read64(lo, hi);
      const tHi = c.vHi;
      if (((tHi << c.canonShift) >> c.canonShift) !== tHi) throw targetFault();
      const s = (lo >>> 0) + inc;
      c.lo[Gpr.RSP] = s | 0;
      if (s >= TWO32) c.hi[Gpr.RSP] = (hi + 1) | 0;
      c.ripLo = tLo;
      c.ripHi = tHi;
    };
  }
  const b64 = d.bitness === 64;
  const inc = size + imm;
  return (c) => {
    const v = peek(c, size); // 16-bit values come zero-extended
    if (!b64 && v >>> 0 > c.segLimit[Seg.CS]) throw targetFault();
    adjustSp(c, inc);
    c.ripLo = v;
    c.ripHi = 0;
  };
}

function ret(d: DecodedInsn): Op | null {
  switch (d.code) {
    case Code.Retnw: case Code.Retnw_imm16: return retNear(d, 2);
    case Code.Retnd: case Code.Retnd_imm16: return retNear(d, 4);
    case Code.Retnq: case Code.Retnq_imm16: return retNear(d, 8);
    default: return null;
  }
}

// ---- LOOP, LOOPE, LOOPNE, JCXZ, JECXZ, JRCXZ ---------------------------------------------------

const LOOP = 0, LOOPE = 1, LOOPNE = 2;

/**
 * LOOPcc (SDM vol. 2B LOOP/LOOPcc): the counter is CX, ECX or RCX by the address size; it is
 * decremented without touching the flags, and the branch is taken when it is not zero (and ZF
 * is 1 for LOOPE, 0 for LOOPNE). A faulting target leaves the counter as it was. A 32-bit
 * counter write zero-extends into RCX (as every 32-bit register write; measured on silicon).
 */
function loop(d: DecodedInsn, kind: number): Op {
  const tLo = d.targetLo;
  const tHi = d.bitness === 64 ? d.targetHi : 0;
  const nLo = d.nextLo, nHi = d.nextHi;
  const b64 = d.bitness === 64;
  const bad = b64 && !canonicalHi(tHi); // not canonical under 48 bits: check the width in force
  const t = tLo >>> 0;
  const asz = d.addrSize;
  const zfWanted = kind === LOOPE; // LOOPE: ZF=1 (fRes === 0); LOOPNE: ZF=0
  return (c) => {
    const cLo = c.lo[Gpr.RCX];
    let nlo: number, nhi: number, nz: boolean;
    if (asz === 8) {
      nlo = (cLo - 1) | 0;
      nhi = cLo === 0 ? (c.hi[Gpr.RCX] - 1) | 0 : c.hi[Gpr.RCX];
      nz = (nlo | nhi) !== 0;
    } else if (asz === 4) {
      nlo = (cLo - 1) | 0;
      nhi = 0;
      nz = nlo !== 0;
    } else {
      const n16 = (cLo - 1) & 0xffff;
      nlo = (cLo & ~0xffff) | n16;
      nhi = c.hi[Gpr.RCX];
      nz = n16 !== 0;
    }
    const taken = nz && (kind === LOOP || (c.fRes === 0) === zfWanted);
    if (taken) {
      if ((bad && !canonicalNow(c, tHi)) || (!b64 && t > c.segLimit[Seg.CS])) throw targetFault();
      c.ripLo = tLo;
      c.ripHi = tHi;
    } else {
      c.ripLo = nLo;
      c.ripHi = nHi;
    }
    c.lo[Gpr.RCX] = nlo;
    c.hi[Gpr.RCX] = nhi;
  };
}

/** JCXZ/JECXZ/JRCXZ (SDM vol. 2A Jcc): branch when the counter of the mnemonic's size is 0. */
function jcxz(d: DecodedInsn, size: number): Op {
  const tLo = d.targetLo;
  const tHi = d.bitness === 64 ? d.targetHi : 0;
  const nLo = d.nextLo, nHi = d.nextHi;
  const b64 = d.bitness === 64;
  const bad = b64 && !canonicalHi(tHi); // not canonical under 48 bits: check the width in force
  const t = tLo >>> 0;
  const zero = size === 8 ? (c: Cpu) => (c.lo[Gpr.RCX] | c.hi[Gpr.RCX]) === 0
    : size === 4 ? (c: Cpu) => c.lo[Gpr.RCX] === 0
      : (c: Cpu) => (c.lo[Gpr.RCX] & 0xffff) === 0;
  return (c) => {
    if (zero(c)) {
      if ((bad && !canonicalNow(c, tHi)) || (!b64 && t > c.segLimit[Seg.CS])) throw targetFault();
      c.ripLo = tLo;
      c.ripHi = tHi;
    } else {
      c.ripLo = nLo;
      c.ripHi = nHi;
    }
  };
}

// ---- real-address-mode far JMP, CALL, RET ------------------------------------------------------

/** Load CS the real-mode way and jump (SDM vol. 3A §20.1.1: base = selector * 16). */
function loadCsReal(c: Cpu, selector: number, eip: number): void {
  c.segSel[Seg.CS] = selector;
  c.segBaseLo[Seg.CS] = (selector & 0xffff) << 4;
  c.segBaseHi[Seg.CS] = 0;
  c.ripLo = eip;
  c.ripHi = 0;
  c.codeChanged();
}

/** Linear address of the stack slot `delta` bytes from SP for `n` bytes (16/32-bit stacks). */
function stackSlot(c: Cpu, delta: number, n: number): number {
  const sp = c.stackBits === 32 ? (c.lo[Gpr.RSP] + delta) >>> 0 : (c.lo[Gpr.RSP] + delta) & 0xffff;
  if (sp + n - 1 > c.segLimit[Seg.SS]) throw ss0('stack access outside the stack segment limit');
  return (sp + c.segBaseLo[Seg.SS]) | 0;
}

/** Reads the far pointer operand: offset returned (high half of an m16:64 offset in `c.vHi`), selector in `farSel`. */
type FarPointer = (c: Cpu) => number;
let farSel = 0;

function farPointer(d: DecodedInsn, osz: number): FarPointer {
  if (d.code === Code.Jmp_ptr1616 || d.code === Code.Jmp_ptr1632 ||
    d.code === Code.Call_ptr1616 || d.code === Code.Call_ptr1632) {
    const sel = d.farSelector & 0xffff;
    const off = osz === 2 ? d.farOffset & 0xffff : d.farOffset | 0;
    return (c) => { farSel = sel; c.vHi = 0; return off; };
  }
  // m16:16 / m16:32 / m16:64: the offset, then the selector (SDM vol. 2A JMP, CALL).
  const addr = linearAddress(d, d.mem!, osz + 2);
  return (c) => {
    const a = addr(c);
    const h = c.linHi;
    const s = (a >>> 0) + osz;
    const sh = s >= TWO32 && d.bitness === 64 ? (h + 1) | 0 : h;
    farSel = c.read16(s | 0, sh);
    if (osz === 8) return c.read64(a, h);
    c.vHi = 0;
    return osz === 2 ? c.read16(a, h) : c.read32(a, h);
  };
}

function farOperandSize(d: DecodedInsn): number {
  switch (d.code) {
    case Code.Jmp_ptr1616: case Code.Jmp_m1616: case Code.Call_ptr1616: case Code.Call_m1616: return 2;
    case Code.Jmp_m1664: case Code.Call_m1664: return 8;
    default: return 4;
  }
}

/** Protected mode outside virtual-8086 mode: descriptor-based far transfers (farTransfer.ts). */
function descriptorMode(c: Cpu): boolean {
  return c.protectedMode && (c.flagsRest & Flag.VM) === 0;
}

/** Far JMP (EA, FF /5): real-address and virtual-8086 mode here, protected mode in farTransfer.ts. */
export function farJmp(d: DecodedInsn): Op | null {
  const osz = farOperandSize(d);
  const ptr = farPointer(d, osz);
  const next = d.nextLo;
  return (c) => {
    const off = ptr(c);
    const sel = farSel;
    if (descriptorMode(c)) {
      farJmpProtected(c, sel, off, c.vHi, osz, next);
      return;
    }
    const eip = osz === 2 ? off & 0xffff : off >>> 0;
    if (eip > c.segLimit[Seg.CS]) throw targetFault();
    loadCsReal(c, sel, eip);
  };
}

/**
 * Far CALL (9A, FF /3) in real-address mode: push CS then the return offset with the operand
 * size (a 32-bit CS slot is zero-extended), then load CS:EIP. Both stack slots are checked
 * before anything is written. As measured for near CALL and for the protected-mode far CALL
 * (compatibility mode, target beyond CS.limit), the return address is stored before the target
 * offset is checked; a bad target then raises #GP(0) with SP unchanged. Protected mode:
 * farTransfer.ts.
 */
function farCall(d: DecodedInsn): Op {
  const osz = farOperandSize(d);
  const ptr = farPointer(d, osz);
  const ret = d.nextLo, retHi = d.nextHi;
  return (c) => {
    const off = ptr(c);
    const sel = farSel;
    if (descriptorMode(c)) {
      farCallProtected(c, sel, off, c.vHi, osz, ret, retHi);
      return;
    }
    const aCs = stackSlot(c, -osz, osz);
    const aIp = stackSlot(c, -2 * osz, osz);
    if (osz === 2) {
      c.write16(aCs, 0, c.segSel[Seg.CS]);
      c.write16(aIp, 0, ret & 0xffff);
    } else {
      c.write32(aCs, 0, c.segSel[Seg.CS]);
      c.write32(aIp, 0, ret);
    }
    const eip = osz === 2 ? off & 0xffff : off >>> 0;
    if (eip > c.segLimit[Seg.CS]) throw targetFault();
    adjustSp(c, -2 * osz);
    loadCsReal(c, sel, eip);
  };
}

/** Far RET (CB, CA iw): pop EIP then CS (SDM vol. 2B RET); protected mode in farTransfer.ts. */
function retFar(d: DecodedInsn): Op | null {
  const osz = d.code === Code.Retfw || d.code === Code.Retfw_imm16 ? 2
    : d.code === Code.Retfd || d.code === Code.Retfd_imm16 ? 4
      : d.code === Code.Retfq || d.code === Code.Retfq_imm16 ? 8 : 0;
  if (osz === 0) return null;
  const imm = d.opCount > 0 ? d.immLo & 0xffff : 0;
  return (c) => {
    if (descriptorMode(c)) {
      farRetProtected(c, osz, imm);
      return;
    }
    const aIp = stackSlot(c, 0, osz);
    const aCs = stackSlot(c, osz, osz);
    const eip = osz === 2 ? c.read16(aIp, 0) : c.read32(aIp, 0) >>> 0;
    const sel = c.read16(aCs, 0);
    if (eip > c.segLimit[Seg.CS]) throw targetFault();
    adjustSp(c, 2 * osz + imm);
    loadCsReal(c, sel, eip);
  };
}

export const controlHandlers: TranslatorTable = {
  [Mnemonic.Call]: call,
  [Mnemonic.Ret]: ret,
  [Mnemonic.Retf]: retFar,
  [Mnemonic.Loop]: (d) => loop(d, LOOP),
  [Mnemonic.Loope]: (d) => loop(d, LOOPE),
  [Mnemonic.Loopne]: (d) => loop(d, LOOPNE),
  [Mnemonic.Jcxz]: (d) => jcxz(d, 2),
  [Mnemonic.Jecxz]: (d) => jcxz(d, 4),
  [Mnemonic.Jrcxz]: (d) => jcxz(d, 8),
};
