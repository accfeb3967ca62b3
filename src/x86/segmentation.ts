/**
 * Segment-register loads with their architectural checks (SDM vol. 3A chapter 3, §5.4-§5.8,
 * chapter 7 for the TSS; vol. 2 MOV, POP, LDS/LES/LFS/LGS/LSS, JMP, CALL, RET pseudo-code).
 *
 * Error codes: a fault "(selector)" pushes the selector's index and TI bits (selector & 0xfffc)
 * plus EXT (bit 0) when an external event caused it (SDM vol. 3A §6.13). Every function here
 * takes an `ext` (0 or 1) where the interrupt-delivery path needs it.
 *
 * ---- API for other layers (interrupt delivery, IRET, task switching) ----------------------------
 *  loadSegment(c, seg, sel)           MOV/POP/LxS semantics in every mode (real, v8086, protected,
 *                                     compatibility, 64-bit) for ES/SS/DS/FS/GS.
 *  readCodeDescriptor(c, sel, ext)    #GP(ext) for a null selector, #GP(sel|ext) beyond the table
 *                                     or not a code segment; returns the Descriptor (not yet checked
 *                                     for privilege or presence: callers apply their rules).
 *  commitCs(c, sel, d, newCpl)        load CS (selector RPL := newCpl, cache from d, accessed bit),
 *                                     set c.cpl (flushTlb when it changes), updateModeFromSegments.
 *                                     Does no checks: call it after every check passed and after
 *                                     every memory write of the transfer (it changes CPL).
 *  readTssStack(c, ring, ext)         the inner stack for `ring` from the current TSS (TR):
 *                                     32-bit TSS ss/esp, 16-bit TSS ss/sp, 64-bit TSS rsp0-2 with SS =
 *                                     null selector (RPL = ring). #TS(TR selector|ext) past the TSS
 *                                     limit. Result in tssSs / tssSpLo / tssSpHi (module scratch).
 *  readTssIst(c, n, ext)              IST n (1..7) of a 64-bit TSS into tssSpLo / tssSpHi.
 *  checkInnerStack(c, ssSel, dpl, ext)  the new-stack checks of a privilege-raising CALL through a
 *                                     gate or an interrupt (SDM vol. 3A §5.8.5, §6.12.1): #TS(ext)
 *                                     null, #TS(ss|ext) beyond the table / RPL≠dpl / DPL≠dpl / not
 *                                     writable data, #SS(ss|ext) not present. Returns the Descriptor.
 *  commitSs(c, sel, d)                load SS from a checked descriptor (accessed bit), update mode.
 *  commitNullSs(c, rpl)               IA-32e inner-level transfers: SS := null selector with RPL.
 *  frame.init(c, base, limit, attr, bits, spLo, spHi, errCode)  (a shared FrameWriter)
 *                                     builds a stack frame on a stack that is not loaded yet
 *                                     (explicit base/limit/attr/size), with all limit checks made
 *                                     by reserve() before any byte is written (#SS(errSel)).
 *  nullInvalidDataSegments(c)         after a return to an outer level: ES/DS/FS/GS whose DPL <
 *                                     the new CPL (data or non-conforming code) become null.
 *  setAccessed(c, sel, d)             set a code/data descriptor's accessed bit (once; it may #PF).
 *  targetIs64(c, d) / checkTargetIp(c, d, lo, hi)  whether a transfer lands in 64-bit mode, and
 *                                     its #GP(0) check (canonical, or within the CS limit).
 *  Task switches (task gates in the IDT, IRET with NT = 1): taskSwitch.ts.
 *  Far JMP/CALL/RET built from these: insn/farTransfer.ts.
 *
 * Hidden caches in real-address mode (SDM vol. 3A §20.1.1, §9.9.2 and the "unreal mode" that
 * follows from it): a real-mode load writes only the selector and base = selector << 4; the
 * limit and attributes stay whatever the last protected-mode load put there. In virtual-8086
 * mode a load also sets limit 0xFFFF and the ring-3 read/write data attributes.
 */
import type { Cpu } from './cpu';
import type { Descriptor } from './descriptors';
import {
  ATTR_UNUSABLE, decodeDescriptor, descriptorAddress, readDescriptor, updateModeFromSegments,
} from './descriptors';
import { CpuException, Vector } from './exceptions';
import { Flag, Seg } from './registers';

const TWO32 = 4294967296;

export function selectorFault(vector: number, sel: number, ext: number, detail: string): CpuException {
  return new CpuException(vector, (sel & 0xfffc) | ext, detail);
}

export function isNullSelector(sel: number): boolean {
  return (sel & 0xfffc) === 0;
}

/** Attributes of a code segment: 64-bit (L) when IA-32e mode is active. */
function attrL(a: number): boolean { return (a & 0x2000) !== 0; }

/**
 * Set the accessed bit (type bit 0) of the code/data descriptor `sel` names, when it is clear
 * (SDM vol. 3A §3.4.5.1: the processor sets it when it loads the selector). A locked
 * implicit supervisor write (it may #PF on a read-only descriptor page).
 */
export function setAccessed(c: Cpu, sel: number, d: Descriptor): void {
  if (d.s === 0 || (d.type & 1) !== 0) return;
  const a = descriptorAddress(c, sel, Vector.GP);
  const hi = c.linHi;
  const s = (a >>> 0) + 5;
  c.writeSystem(s | 0, s >= TWO32 ? (hi + 1) | 0 : hi, 1, ((d.hi >>> 8) & 0xff) | 1);
  // Done once: a later commit with the same descriptor does not write again.
  d.hi |= 0x100;
  d.type |= 1;
  d.attr |= 1;
}

function cacheFrom(c: Cpu, seg: number, sel: number, d: Descriptor): void {
  c.segSel[seg] = sel;
  c.segBaseLo[seg] = d.base | 0;
  c.segBaseHi[seg] = 0;
  c.segLimit[seg] = d.limit;
  c.segAttr[seg] = d.attr | (d.s ? 1 : 0);
}

// ---- data and stack segment loads ---------------------------------------------------------------

/**
 * Load ES/SS/DS/FS/GS with `sel` as MOV, POP and LDS/LES/LFS/LGS/LSS do (SDM vol. 2B MOV
 * "Operation"; vol. 3A §5.4.1, §5.6, §5.7). Real mode: selector and base only (unreal mode
 * keeps the limit and attributes); virtual-8086 mode: base = sel << 4, limit 0xFFFF, DPL-3
 * read/write data. Protected mode: the descriptor checks; CS is never loaded here.
 */
export function loadSegment(c: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!c.protectedMode) {
    c.segSel[seg] = sel;
    c.segBaseLo[seg] = sel << 4;
    c.segBaseHi[seg] = 0;
    // A real-mode load makes the register usable again (its limit and type stay).
    c.segAttr[seg] &= ~ATTR_UNUSABLE;
    return;
  }
  if ((c.flagsRest & Flag.VM) !== 0) {
    c.segSel[seg] = sel;
    c.segBaseLo[seg] = sel << 4;
    c.segBaseHi[seg] = 0;
    c.segLimit[seg] = 0xffff;
    c.segAttr[seg] = 0xf3;
    return;
  }
  if (seg === Seg.SS) loadStackSegment(c, sel);
  else loadDataSegment(c, seg, sel);
}

/** DS/ES/FS/GS in protected mode (SDM vol. 2B MOV; vol. 3A §5.6 figure 5-4 for the DPL/RPL/CPL rule). */
export function loadDataSegment(c: Cpu, seg: number, sel: number): void {
  if (isNullSelector(sel)) {
    // A null selector loads and marks the register unusable (SDM vol. 3A §3.4.2); a later
    // access through it faults #GP(0). Intel processors also clear the base.
    c.segSel[seg] = sel;
    c.segBaseLo[seg] = 0;
    c.segBaseHi[seg] = 0;
    c.segLimit[seg] = 0;
    c.segAttr[seg] = ATTR_UNUSABLE;
    return;
  }
  const d = readDescriptor(c, sel, Vector.GP);
  // Data, or readable code (type bit 3 = code, bit 1 = readable for code).
  if (d.s === 0 || (d.type & 0xa) === 8) {
    throw selectorFault(Vector.GP, sel, 0, 'not a data or readable code segment');
  }
  const conformingCode = (d.type & 0xc) === 0xc;
  if (!conformingCode && ((sel & 3) > d.dpl || c.cpl > d.dpl)) {
    throw selectorFault(Vector.GP, sel, 0, 'segment DPL below CPL or RPL');
  }
  if (!d.present) throw selectorFault(Vector.NP, sel, 0, 'segment not present');
  setAccessed(c, sel, d);
  cacheFrom(c, seg, sel, d);
}

/** SS in protected mode (SDM vol. 2B MOV; vol. 3A §5.7). */
export function loadStackSegment(c: Cpu, sel: number): void {
  const rpl = sel & 3;
  if (isNullSelector(sel)) {
    // 64-bit mode allows a null SS at CPL 0-2 when RPL = CPL (SDM vol. 2B MOV).
    if (c.bitness === 64 && c.cpl !== 3 && rpl === c.cpl) {
      commitNullSs(c, rpl, sel);
      return;
    }
    throw selectorFault(Vector.GP, 0, 0, 'null selector loaded into SS');
  }
  const d = readDescriptor(c, sel, Vector.GP);
  if (rpl !== c.cpl) throw selectorFault(Vector.GP, sel, 0, 'SS selector RPL differs from CPL');
  if (d.s === 0 || (d.type & 0xa) !== 2) throw selectorFault(Vector.GP, sel, 0, 'SS is not a writable data segment');
  if (d.dpl !== c.cpl) throw selectorFault(Vector.GP, sel, 0, 'SS descriptor DPL differs from CPL');
  if (!d.present) throw selectorFault(Vector.SS, sel, 0, 'stack segment not present');
  commitSs(c, sel, d);
}

/** Load SS from a descriptor that passed its checks; sets the accessed bit. */
export function commitSs(c: Cpu, sel: number, d: Descriptor): void {
  setAccessed(c, sel, d);
  cacheFrom(c, Seg.SS, sel, d);
  updateModeFromSegments(c);
}

/** SS := a null selector with RPL `rpl` (IA-32e mode inner transfers, SDM vol. 3A §5.8.5.1, §6.14.4). */
export function commitNullSs(c: Cpu, rpl: number, sel = rpl): void {
  c.segSel[Seg.SS] = sel & 0xffff;
  c.segBaseLo[Seg.SS] = 0;
  c.segBaseHi[Seg.SS] = 0;
  c.segLimit[Seg.SS] = 0;
  // Unusable; SS.DPL always reflects the CPL (SDM vol. 3C §24.4.1).
  c.segAttr[Seg.SS] = ATTR_UNUSABLE | (rpl << 5) | 0x3;
  updateModeFromSegments(c);
}

/**
 * The checks on a new inner stack taken from the TSS (SDM vol. 2A CALL "MORE-PRIVILEGE";
 * vol. 3A §6.12.1.1): #TS(ext) for a null selector, #TS(ss|ext) beyond the table, RPL or DPL
 * not equal to the new CPL `dpl`, not a writable data segment; #SS(ss|ext) not present.
 */
export function checkInnerStack(c: Cpu, ss: number, dpl: number, ext: number): Descriptor {
  if (isNullSelector(ss)) throw new CpuException(Vector.TS, ext, 'null SS in the TSS');
  const a = descriptorAddressOr(c, ss, Vector.TS, ext);
  const d = readAt(c, a);
  if ((ss & 3) !== dpl || d.dpl !== dpl || d.s === 0 || (d.type & 0xa) !== 2) {
    throw selectorFault(Vector.TS, ss, ext, 'invalid inner stack segment in the TSS');
  }
  if (!d.present) throw selectorFault(Vector.SS, ss, ext, 'inner stack segment not present');
  return d;
}

/** descriptorAddress with the EXT bit in its fault. */
function descriptorAddressOr(c: Cpu, sel: number, vector: number, ext: number): number {
  if (ext === 0) return descriptorAddress(c, sel, vector);
  const index = sel & 0xfff8;
  const limit = sel & 4 ? ((c.segAttr[Seg.LDTR] & ATTR_UNUSABLE) ? -1 : c.segLimit[Seg.LDTR]) : c.gdtrLimit;
  if (index + 7 > limit) throw selectorFault(vector, sel, ext, 'selector beyond the descriptor table');
  return descriptorAddress(c, sel, vector);
}

function readAt(c: Cpu, a: number): Descriptor {
  const hi = c.linHi;
  const lo = c.readSystem(a, hi, 4);
  const s = (a >>> 0) + 4;
  return decodeDescriptor(lo, c.readSystem(s | 0, s >= TWO32 && c.longMode ? (hi + 1) | 0 : hi, 4));
}

// ---- code segments ------------------------------------------------------------------------------

/**
 * Read the descriptor of a code-segment selector for a transfer: #GP(ext) if null,
 * #GP(sel|ext) beyond the table or not a code segment; in IA-32e mode a code segment with both
 * L and D set is #GP(sel|ext) too (SDM vol. 2A JMP/CALL, vol. 3A §5.2.1). Privilege and
 * presence are the caller's rules.
 */
export function readCodeDescriptor(c: Cpu, sel: number, ext = 0): Descriptor {
  if (isNullSelector(sel)) throw new CpuException(Vector.GP, ext, 'null code segment selector');
  const d = readAt(c, descriptorAddressOr(c, sel, Vector.GP, ext));
  if (d.s === 0 || (d.type & 8) === 0) throw selectorFault(Vector.GP, sel, ext, 'not a code segment');
  if (c.longMode && (d.attr & 0x6000) === 0x6000) throw selectorFault(Vector.GP, sel, ext, 'code segment with both L and D set');
  return d;
}

/**
 * Load CS from a checked code descriptor: selector with RPL = newCpl, the cache, the accessed
 * bit; CPL := newCpl (flushing the TLB when it changes); bitness from CS.L/D.
 */
export function commitCs(c: Cpu, sel: number, d: Descriptor, newCpl: number): void {
  setAccessed(c, sel, d);
  cacheFrom(c, Seg.CS, (sel & 0xfffc) | newCpl, d);
  if (c.cpl !== newCpl) {
    c.cpl = newCpl;
    c.flushTlb();
  }
  updateModeFromSegments(c);
}

/** True when a transfer to code descriptor `d` lands in 64-bit mode. */
export function targetIs64(c: Cpu, d: Descriptor): boolean {
  return c.longMode && attrL(d.attr);
}

/**
 * The instruction-pointer check of a far transfer (SDM vol. 2A JMP/CALL/RET): a 64-bit target
 * must be canonical, any other must lie within the new segment's limit. #GP(0).
 */
export function checkTargetIp(c: Cpu, d: Descriptor, lo: number, hi: number): void {
  if (targetIs64(c, d)) {
    if (((hi << c.canonShift) >> c.canonShift) !== hi) throw new CpuException(Vector.GP, 0, 'far transfer target not canonical');
  } else if (hi !== 0 || lo >>> 0 > d.limit) {
    throw new CpuException(Vector.GP, 0, 'far transfer target outside the code segment limit');
  }
}

// ---- the TSS --------------------------------------------------------------------------------------

/** Outputs of readTssStack / readTssIst. */
export let tssSs = 0;
export let tssSpLo = 0;
export let tssSpHi = 0;

function tssRead(c: Cpu, off: number, n: number): number {
  const s = (c.segBaseLo[Seg.TR] >>> 0) + off;
  const hi = c.longMode ? (c.segBaseHi[Seg.TR] + (s >= TWO32 ? 1 : 0)) | 0 : 0;
  return c.readSystem(s | 0, hi, n);
}

function tssLimitCheck(c: Cpu, last: number, ext: number): void {
  if ((c.segAttr[Seg.TR] & ATTR_UNUSABLE) !== 0 || last > c.segLimit[Seg.TR]) {
    throw selectorFault(Vector.TS, c.segSel[Seg.TR], ext, 'inner stack beyond the TSS limit');
  }
}

/**
 * The stack for privilege level `ring` (0-2) from the current TSS (SDM vol. 3A §7.2.1 figure
 * 7-2, §7.2.2 (16-bit), §7.7 figure 7-11 (64-bit); vol. 2A CALL "MORE-PRIVILEGE"). Sets
 * tssSs, tssSpLo, tssSpHi. A 64-bit TSS gives SS = null selector with RPL = ring.
 */
export function readTssStack(c: Cpu, ring: number, ext = 0): void {
  const type = c.segAttr[Seg.TR] & 0xf;
  if (c.longMode) {
    const off = ring * 8 + 4;
    tssLimitCheck(c, off + 7, ext);
    tssSpLo = tssRead(c, off, 4);
    tssSpHi = tssRead(c, off + 4, 4);
    tssSs = ring;
  } else if (type === 1 || type === 3) {
    const off = ring * 4 + 2;
    tssLimitCheck(c, off + 3, ext);
    tssSpLo = tssRead(c, off, 2);
    tssSpHi = 0;
    tssSs = tssRead(c, off + 2, 2);
  } else {
    const off = ring * 8 + 4;
    tssLimitCheck(c, off + 5, ext);
    tssSpLo = tssRead(c, off, 4);
    tssSpHi = 0;
    tssSs = tssRead(c, off + 4, 2);
  }
}

/** IST entry n (1..7) of the 64-bit TSS into tssSpLo/tssSpHi (SDM vol. 3A §6.14.5, figure 7-11). */
export function readTssIst(c: Cpu, n: number, ext = 0): void {
  const off = 0x24 + (n - 1) * 8; // IST1 at offset 0x24
  tssLimitCheck(c, off + 7, ext);
  tssSpLo = tssRead(c, off, 4);
  tssSpHi = tssRead(c, off + 4, 4);
}

// ---- building a frame on a stack that is not loaded yet -------------------------------------------

/**
 * Pushes onto an explicit stack (base/limit/attr and stack size 16/32/64) as implicit
 * supervisor writes: used for the inner stack of a privilege change, before SS:RSP and CPL are
 * committed. reserve(n) checks the whole frame (limit/expand-down, or canonical form for a
 * 64-bit stack) and raises #SS(errCode) before anything is written.
 */
export class FrameWriter {
  base = 0; limit = 0; attr = 0; bits = 32; spLo = 0; spHi = 0; errCode = 0;
  private c: Cpu | null = null;

  init(c: Cpu, base: number, limit: number, attr: number, bits: number, spLo: number, spHi: number, errCode: number): this {
    this.c = c; this.base = base; this.limit = limit; this.attr = attr; this.bits = bits;
    this.spLo = spLo; this.spHi = spHi; this.errCode = errCode;
    return this;
  }

  /** Check that n bytes below the stack pointer can be written. */
  private fail(): CpuException {
    return new CpuException(Vector.SS, this.errCode, 'new stack cannot hold the frame');
  }

  reserve(n: number): void {
    if (this.bits === 64) {
      const s = (this.spLo >>> 0) - n;
      const hi = s < 0 ? (this.spHi - 1) | 0 : this.spHi;
      const k = this.c!.canonShift;
      if (((hi << k) >> k) !== hi || ((this.spHi << k) >> k) !== this.spHi) throw this.fail();
      return;
    }
    const max = this.bits === 32 ? 0xffffffff : 0xffff;
    const top = this.bits === 32 ? this.spLo >>> 0 : this.spLo & 0xffff;
    let low: number, last: number;
    if (top === 0) {
      // A stack pointer of 0 wraps: the frame sits at the top of the segment's offsets.
      low = max + 1 - n;
      last = max;
    } else {
      if (top < n) throw this.fail();
      low = top - n;
      last = top - 1;
    }
    if (!limitOk(this.attr, this.limit, low, last)) throw this.fail();
  }

  push(n: number, vlo: number, vhi = 0): void {
    let a: number, ahi: number;
    if (this.bits === 64) {
      const s = (this.spLo >>> 0) - n;
      this.spHi = s < 0 ? (this.spHi - 1) | 0 : this.spHi;
      this.spLo = s | 0;
      a = this.spLo; ahi = this.spHi;
    } else {
      const mask = this.bits === 32 ? -1 : 0xffff;
      const sp = (this.spLo - n) & mask;
      this.spLo = this.bits === 32 ? sp | 0 : (this.spLo & ~0xffff) | sp;
      a = ((sp >>> 0) + this.base) | 0; ahi = 0;
    }
    if (n === 8) {
      const s = (a >>> 0) + 4;
      this.c!.writeSystem(a, ahi, 4, vlo);
      this.c!.writeSystem(s | 0, s >= TWO32 ? (ahi + 1) | 0 : ahi, 4, vhi);
    } else {
      this.c!.writeSystem(a, ahi, n, vlo);
    }
  }
}

/** One shared FrameWriter (ops must not allocate); init() it before each use. */
export const frame = new FrameWriter();

/** Offsets lo..hi inside a data segment with `attr`/`limit` (expand-down aware, SDM vol. 3A §5.3). */
export function limitOk(attr: number, limit: number, lo: number, hi: number): boolean {
  if ((attr & 0x18) === 0x10 && (attr & 4) !== 0) {
    const top = attr & 0x4000 ? 0xffffffff : 0xffff;
    return lo > limit && hi <= top;
  }
  return hi <= limit;
}

// ---- returns to an outer level ---------------------------------------------------------------------

/**
 * After RET/IRET to an outer privilege level (SDM vol. 2B RET "RETURN-TO-OUTER-PRIVILEGE-LEVEL"):
 * each of ES, FS, GS, DS that holds a data or non-conforming code segment with DPL < CPL is
 * loaded with a null selector (made unusable; the base is kept).
 */
export function nullInvalidDataSegments(c: Cpu): void {
  for (const s of DATA_SEGS) {
    const a = c.segAttr[s];
    if (a & ATTR_UNUSABLE) continue;
    const conforming = (a & 0x1c) === 0x1c;
    if (!conforming && ((a >>> 5) & 3) < c.cpl) {
      c.segSel[s] = 0;
      c.segAttr[s] = a | ATTR_UNUSABLE;
    }
  }
}
const DATA_SEGS = [Seg.ES, Seg.FS, Seg.GS, Seg.DS];
