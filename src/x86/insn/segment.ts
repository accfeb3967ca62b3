/**
 * Descriptor-table and segment instructions (SDM vol. 2A/2B, each instruction's page; vol. 3A
 * §2.4 for GDTR/IDTR/LDTR/TR, §3.4.5 and §7.2 for the descriptor formats):
 * LGDT/LIDT/SGDT/SIDT, LLDT/SLDT, LTR/STR, LAR/LSL/VERR/VERW, ARPL, LDS/LES/LFS/LGS/LSS.
 * Protected-mode far JMP/CALL/RET live in farTransfer.ts (dispatched from control.ts and
 * branch.ts, which own those mnemonics).
 *
 * UMIP is not reported by the CPUID model, so SGDT/SIDT/SLDT/STR work at any CPL.
 */
import { Code, Mnemonic, OpKind } from 'iced-x86';
import { isCanonical, maxLinearBits } from '../controlRegisters';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import type { Descriptor } from '../descriptors';
import { ATTR_UNUSABLE, decodeDescriptor, descriptorAddress } from '../descriptors';
import { Vector, gp0, ud } from '../exceptions';
import type { Op, ReadFn } from '../operands';
import { linearAddress, operandReader, operandRmw } from '../operands';
import { Flag, Seg } from '../registers';
import { isNullSelector, loadSegment, selectorFault } from '../segmentation';
import type { TranslatorTable } from '../translator';
import { InsnExit } from '../vmxInsnHooks';

const TWO32 = 4294967296;

/** Real-address or virtual-8086 mode: LLDT, SLDT, LTR, STR, LAR, LSL, VERR, VERW, ARPL are #UD. */
function notProtected(c: Cpu): boolean {
  return !c.protectedMode || (c.flagsRest & Flag.VM) !== 0;
}

/** Address plus n, carrying into the high half in 64-bit mode (hi given; result hi in c.linHi). */
function addrPlus(c: Cpu, a: number, hi: number, n: number, b64: boolean): number {
  const s = (a >>> 0) + n;
  c.linHi = s >= TWO32 && b64 ? (hi + 1) | 0 : hi;
  return s | 0;
}

// ---- LGDT, LIDT, SGDT, SIDT ------------------------------------------------------------------

/**
 * LGDT/LIDT m16&32 / m16&64 (SDM vol. 2A LGDT/LIDT): #GP(0) at CPL > 0 in protected mode
 * (and virtual-8086 mode); a 16-bit operand size loads a 24-bit base; 64-bit mode loads an
 * 8-byte base (operand size fixed at 64), which must be canonical (#GP(0)).
 */
function lgdt(d: DecodedInsn, idt: boolean): Op | null {
  if (d.mem === null) return null;
  const form = d.code === Code.Lgdt_m1632_16 || d.code === Code.Lidt_m1632_16 ? 2
    : d.code === Code.Lgdt_m1664 || d.code === Code.Lidt_m1664 ? 8 : 4;
  const addr = linearAddress(d, d.mem, form === 8 ? 10 : 6);
  const b64 = d.bitness === 64;
  return (c) => {
    if (c.protectedMode && c.cpl !== 0) throw gp0('LGDT/LIDT at CPL > 0');
    // Descriptor-table exiting precedes the operand's faults (SDM vol. 3C §25.1.3).
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.GdtrIdtr)) return;
    const a = addr(c);
    const h = c.linHi;
    const limit = c.read16(a, h);
    const b = addrPlus(c, a, h, 2, b64);
    let lo: number, hi = 0;
    if (form === 8) {
      lo = c.read64(b, c.linHi);
      hi = c.vHi;
      // Base addresses loaded into GDTR/IDTR/LDTR/TR are checked against the widest linear
      // address the processor supports (57 bits with LA57), whatever CR4.LA57 is (SDM vol. 3A
      // §4.5; Intel's 5-level paging white paper, canonicality checking on other addresses).
      if (!isCanonical(hi, maxLinearBits(c))) throw gp0('LGDT/LIDT base not canonical');
    } else {
      lo = c.read32(b, c.linHi);
      if (form === 2) lo &= 0xffffff;
    }
    if (idt) {
      c.idtrLimit = limit; c.idtrBaseLo = lo; c.idtrBaseHi = hi;
    } else {
      c.gdtrLimit = limit; c.gdtrBaseLo = lo; c.gdtrBaseHi = hi;
    }
  };
}

/**
 * SGDT/SIDT (SDM vol. 2B SGDT): the limit, then the base: 4 bytes (the full 32-bit base for
 * both 16- and 32-bit operand sizes) or 8 bytes in 64-bit mode.
 */
function sgdt(d: DecodedInsn, idt: boolean): Op | null {
  if (d.mem === null) return null;
  const b64 = d.bitness === 64;
  const addr = linearAddress(d, d.mem, b64 ? 10 : 6, true);
  return (c) => {
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.GdtrIdtr)) return;
    const a = addr(c);
    const h = c.linHi;
    const limit = idt ? c.idtrLimit : c.gdtrLimit;
    const lo = idt ? c.idtrBaseLo : c.gdtrBaseLo;
    const hi = idt ? c.idtrBaseHi : c.gdtrBaseHi;
    const b = addrPlus(c, a, h, 2, b64);
    const bh = c.linHi;
    // Probe the last byte first so a fault on the second page leaves memory untouched.
    const e = addrPlus(c, a, h, b64 ? 9 : 5, b64);
    c.write8(e, c.linHi, b64 ? (hi >>> 24) & 0xff : (lo >>> 24) & 0xff);
    c.write16(a, h, limit);
    if (b64) c.write64(b, bh, lo, hi);
    else c.write32(b, bh, lo);
  };
}

// ---- LLDT, LTR, SLDT, STR --------------------------------------------------------------------

/** Read a system descriptor from the GDT (16 bytes in IA-32e mode), #GP(sel) beyond the limit. */
function readGdtSystem(c: Cpu, sel: number): Descriptor {
  if (sel & 4) throw selectorFault(Vector.GP, sel, 0, 'system descriptor selector refers to the LDT');
  const bytes = c.longMode ? 16 : 8;
  const a = descriptorAddress(c, sel, Vector.GP, bytes);
  const h = c.linHi;
  const w = [0, 0, 0, 0];
  for (let k = 0; k < bytes / 4; k++) {
    const s = (a >>> 0) + 4 * k;
    w[k] = c.readSystem(s | 0, s >= TWO32 ? (h + 1) | 0 : h, 4);
  }
  const desc = decodeDescriptor(w[0], w[1], w[2]);
  if (c.longMode && (w[3] >>> 8) & 0x1f) throw selectorFault(Vector.GP, sel, 0, 'upper type field of a 16-byte descriptor not zero');
  return desc;
}

function systemSegmentBaseOk(c: Cpu, desc: Descriptor): boolean {
  return !c.longMode || isCanonical(desc.baseHi, maxLinearBits(c)); // see LGDT: the widest supported width
}

/** LLDT r/m16 (SDM vol. 2A LLDT): a null selector makes LDTR unusable. */
function lldt(d: DecodedInsn): Op {
  const rd = operandReader(d, 0, 2);
  return (c) => {
    if (notProtected(c)) throw ud('LLDT in real-address or virtual-8086 mode');
    if (c.cpl !== 0) throw gp0('LLDT at CPL > 0');
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.LdtrTr)) return;
    const sel = rd(c);
    if (isNullSelector(sel)) {
      c.segSel[Seg.LDTR] = sel;
      c.segAttr[Seg.LDTR] = ATTR_UNUSABLE;
      return;
    }
    const desc = readGdtSystem(c, sel);
    if (desc.s !== 0 || desc.type !== 2) throw selectorFault(Vector.GP, sel, 0, 'not an LDT descriptor');
    if (!desc.present) throw selectorFault(Vector.NP, sel, 0, 'LDT not present');
    if (!systemSegmentBaseOk(c, desc)) throw selectorFault(Vector.GP, sel, 0, 'LDT base not canonical');
    c.segSel[Seg.LDTR] = sel;
    c.segBaseLo[Seg.LDTR] = desc.base | 0;
    c.segBaseHi[Seg.LDTR] = c.longMode ? desc.baseHi : 0;
    c.segLimit[Seg.LDTR] = desc.limit;
    c.segAttr[Seg.LDTR] = desc.attr;
  };
}

/** LTR r/m16 (SDM vol. 2A LTR): an available TSS, which is marked busy in the GDT. */
function ltr(d: DecodedInsn): Op {
  const rd = operandReader(d, 0, 2);
  return (c) => {
    if (notProtected(c)) throw ud('LTR in real-address or virtual-8086 mode');
    if (c.cpl !== 0) throw gp0('LTR at CPL > 0');
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.LdtrTr)) return;
    const sel = rd(c);
    if (isNullSelector(sel)) throw gp0('LTR with a null selector');
    const desc = readGdtSystem(c, sel);
    const okType = c.longMode ? desc.type === 9 : desc.type === 9 || desc.type === 1;
    if (desc.s !== 0 || !okType) throw selectorFault(Vector.GP, sel, 0, 'not an available TSS');
    if (!desc.present) throw selectorFault(Vector.NP, sel, 0, 'TSS not present');
    if (!systemSegmentBaseOk(c, desc)) throw selectorFault(Vector.GP, sel, 0, 'TSS base not canonical');
    // Busy bit (type bit 1), a locked write of the descriptor's access byte.
    const a = descriptorAddress(c, sel, Vector.GP);
    const h = c.linHi;
    const s = (a >>> 0) + 5;
    c.writeSystem(s | 0, s >= TWO32 ? (h + 1) | 0 : h, 1, ((desc.hi >>> 8) & 0xff) | 2);
    c.segSel[Seg.TR] = sel;
    c.segBaseLo[Seg.TR] = desc.base | 0;
    c.segBaseHi[Seg.TR] = c.longMode ? desc.baseHi : 0;
    c.segLimit[Seg.TR] = desc.limit;
    c.segAttr[Seg.TR] = desc.attr | 2;
  };
}

/**
 * SLDT/STR r/m16 (SDM vol. 2B SLDT, STR): memory gets 16 bits; a 32/64-bit register receives
 * the selector zero-extended, a 16-bit one keeps its upper bits.
 */
function storeSystemSelector(d: DecodedInsn, seg: number): Op | null {
  let store: (c: Cpu, v: number) => void;
  if (d.opKinds[0] === OpKind.Memory) {
    const a = linearAddress(d, d.mem!, 2, true);
    store = (c, v) => c.write16(a(c), c.linHi, v);
  } else {
    const g = gprOf(d.opRegs[0]);
    if (g === null) return null;
    const r = g.index;
    store = d.opSizes[0] === 2
      ? (c, v) => { c.lo[r] = (c.lo[r] & ~0xffff) | v; }
      : (c, v) => { c.lo[r] = v; c.hi[r] = 0; };
  }
  return (c) => {
    if (notProtected(c)) throw ud('SLDT/STR in real-address or virtual-8086 mode');
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.LdtrTr)) return;
    store(c, c.segSel[seg]);
  };
}

// ---- LAR, LSL, VERR, VERW --------------------------------------------------------------------

/**
 * The descriptor `sel` names if it is visible at the current CPL for LAR/LSL/VERR/VERW (SDM
 * vol. 2A LAR: null or beyond the table, or DPL < CPL or DPL < RPL for anything but a
 * conforming code segment, gives ZF = 0 and no fault), else null.
 */
function visibleDescriptor(c: Cpu, sel: number): Descriptor | null {
  if (isNullSelector(sel)) return null;
  const index = sel & 0xfff8;
  if (sel & 4) {
    if (c.segAttr[Seg.LDTR] & ATTR_UNUSABLE || index + 7 > c.segLimit[Seg.LDTR]) return null;
  } else if (index + 7 > c.gdtrLimit) {
    return null;
  }
  const a = descriptorAddress(c, sel, Vector.GP);
  const h = c.linHi;
  const s = (a >>> 0) + 4;
  const desc = decodeDescriptor(c.readSystem(a, h, 4), c.readSystem(s | 0, s >= TWO32 && c.longMode ? (h + 1) | 0 : h, 4));
  const conformingCode = desc.s !== 0 && (desc.type & 0xc) === 0xc;
  if (!conformingCode && (desc.dpl < c.cpl || desc.dpl < (sel & 3))) return null;
  return desc;
}

/** System descriptor types LAR accepts (SDM vol. 2A LAR table 3-52 / 3-53). */
function larType(c: Cpu, t: number): boolean {
  if (c.longMode) return t === 2 || t === 9 || t === 0xb || t === 0xc;
  return t === 1 || t === 2 || t === 3 || t === 4 || t === 5 || t === 9 || t === 0xb || t === 0xc;
}

/** System descriptor types LSL accepts (SDM vol. 2A LSL table 3-61). */
function lslType(c: Cpu, t: number): boolean {
  if (c.longMode) return t === 2 || t === 9 || t === 0xb;
  return t === 1 || t === 2 || t === 3 || t === 9 || t === 0xb;
}

function setZf(c: Cpu, z: boolean): void {
  c.fRes = z ? 0 : 1;
}

function selectorSource(d: DecodedInsn): ReadFn {
  if (d.opKinds[1] === OpKind.Memory) return operandReader(d, 1, 2);
  const g = gprOf(d.opRegs[1])!;
  const r = g.index;
  return (c) => c.lo[r] & 0xffff;
}

/**
 * LAR r, r/m16: access rights (descriptor dword 1 AND 00FFFF00H; the 16-bit form keeps bits
 * 15:8) with ZF = 1; ZF = 0 and the destination unchanged otherwise (measured on an Intel host:
 * LAR returns the limit bits 19:16 too, and a failing 32-bit LAR leaves the upper half of the
 * 64-bit register alone). LSL r, r/m16: the byte-granular limit.
 */
function larLsl(d: DecodedInsn, lsl: boolean): Op | null {
  const src = selectorSource(d);
  const g = gprOf(d.opRegs[0]);
  if (g === null) return null;
  const r = g.index;
  const size = d.opSizes[0];
  return (c) => {
    if (notProtected(c)) throw ud('LAR/LSL in real-address or virtual-8086 mode');
    const desc = visibleDescriptor(c, src(c));
    if (desc === null || (desc.s === 0 && !(lsl ? lslType(c, desc.type) : larType(c, desc.type)))) {
      setZf(c, false);
      return;
    }
    const v = lsl ? desc.limit | 0 : desc.hi & 0x00ffff00;
    if (size === 2) c.lo[r] = (c.lo[r] & ~0xffff) | (v & 0xffff);
    else { c.lo[r] = v; c.hi[r] = 0; }
    setZf(c, true);
  };
}

/** VERR/VERW r/m16 (SDM vol. 2B VERR/VERW): ZF = 1 when the segment is readable / writable at CPL. */
function verify(d: DecodedInsn, write: boolean): Op {
  const rd = operandReader(d, 0, 2);
  return (c) => {
    if (notProtected(c)) throw ud('VERR/VERW in real-address or virtual-8086 mode');
    const desc = visibleDescriptor(c, rd(c));
    let ok = false;
    if (desc !== null && desc.s !== 0) {
      const code = (desc.type & 8) !== 0;
      ok = write ? !code && (desc.type & 2) !== 0 : !code || (desc.type & 2) !== 0;
    }
    setZf(c, ok);
  };
}

// ---- ARPL --------------------------------------------------------------------------------------

/** ARPL r/m16, r16 (SDM vol. 2A ARPL): raise the destination's RPL to the source's; ZF says so. */
function arpl(d: DecodedInsn): Op | null {
  if (d.bitness === 64) return null; // 63 /r is MOVSXD in 64-bit mode
  const g = gprOf(d.opRegs[1]);
  if (g === null) return null;
  const s = g.index;
  const rmw = operandRmw(d, 0, 2);
  return (c) => {
    if (notProtected(c)) throw ud('ARPL in real-address or virtual-8086 mode');
    const v = rmw.begin(c) & 0xffff;
    const want = c.lo[s] & 3;
    if ((v & 3) < want) {
      rmw.end(c, (v & ~3) | want);
      setZf(c, true);
    } else {
      rmw.end(c, v);
      setZf(c, false);
    }
  };
}

// ---- LDS, LES, LFS, LGS, LSS -------------------------------------------------------------------

/**
 * LDS/LES/LFS/LGS/LSS r, m16:16 / m16:32 / m16:64 (SDM vol. 2A LDS): the segment load (with
 * every check: segmentation.ts) happens before the register is written, so a fault leaves it.
 */
function loadFarPointer(d: DecodedInsn, seg: number): Op | null {
  if (d.mem === null) return null;
  const g = gprOf(d.opRegs[0]);
  if (g === null) return null;
  const r = g.index;
  const osz = d.opSizes[0];
  const addr = linearAddress(d, d.mem, osz + 2);
  const b64 = d.bitness === 64;
  return (c) => {
    const a = addr(c);
    const h = c.linHi;
    let lo: number, hi = 0;
    if (osz === 8) { lo = c.read64(a, h); hi = c.vHi; } else lo = osz === 4 ? c.read32(a, h) : c.read16(a, h);
    const sa = addrPlus(c, a, h, osz, b64);
    const sel = c.read16(sa, c.linHi);
    loadSegment(c, seg, sel);
    if (osz === 2) c.lo[r] = (c.lo[r] & ~0xffff) | lo;
    else { c.lo[r] = lo; c.hi[r] = hi; }
  };
}

export const segmentHandlers: TranslatorTable = {
  [Mnemonic.Lgdt]: (d) => lgdt(d, false),
  [Mnemonic.Lidt]: (d) => lgdt(d, true),
  [Mnemonic.Sgdt]: (d) => sgdt(d, false),
  [Mnemonic.Sidt]: (d) => sgdt(d, true),
  [Mnemonic.Lldt]: lldt,
  [Mnemonic.Ltr]: ltr,
  [Mnemonic.Sldt]: (d) => storeSystemSelector(d, Seg.LDTR),
  [Mnemonic.Str]: (d) => storeSystemSelector(d, Seg.TR),
  [Mnemonic.Lar]: (d) => larLsl(d, false),
  [Mnemonic.Lsl]: (d) => larLsl(d, true),
  [Mnemonic.Verr]: (d) => verify(d, false),
  [Mnemonic.Verw]: (d) => verify(d, true),
  [Mnemonic.Arpl]: arpl,
  [Mnemonic.Lds]: (d) => loadFarPointer(d, Seg.DS),
  [Mnemonic.Les]: (d) => loadFarPointer(d, Seg.ES),
  [Mnemonic.Lfs]: (d) => loadFarPointer(d, Seg.FS),
  [Mnemonic.Lgs]: (d) => loadFarPointer(d, Seg.GS),
  [Mnemonic.Lss]: (d) => loadFarPointer(d, Seg.SS),
};


