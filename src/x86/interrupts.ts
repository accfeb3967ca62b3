/**
 * Event delivery (SDM vol. 3A chapter 6): exceptions, software interrupts, external interrupts
 * and NMI through the IVT (real mode, SDM vol. 3A §20.1.4) or the IDT (protected mode §6.10-6.12,
 * IA-32e mode §6.14), with the double-fault rules of §6.15 (interrupt 8, tables 6-4 and 6-5) and
 * shutdown on a triple fault.
 *
 * Delivery is atomic: everything that can fault (IDT read, gate and descriptor checks, TSS stack
 * read, the frame's stack writes) happens before any register changes, so a fault during delivery
 * leaves the processor as it was and the second exception is handled from that state.
 *
 * Between blocks the run loop calls `serviceEvents` (eventBoundary.ts) while `c.eventPending` is set: the single-step
 * trap (RFLAGS.TF, SDM vol. 3B §17.3.1.4), the interrupt shadow after STI / MOV SS / POP SS
 * (SDM vol. 3A §6.8.3, vol. 2B STI; here it blocks maskable interrupts, NMI and the single-step
 * trap on the one boundary that follows the instruction — the STI page allows NMI inhibition
 * there; a held single-step trap is delivered after the next instruction), NMI (§6.7.1) and
 * maskable interrupts (§6.8.1), then the debug-register breakpoints (debugRegs.ts; SDM vol. 3B
 * chapter 18): data/I/O breakpoint hits and the TSS T flag are reported with the single-step
 * trap, instruction breakpoints are faults checked last, before the next instruction.
 *
 * Task gates in the IDT (outside IA-32e mode) switch tasks through taskSwitch.ts (SDM vol. 3A
 * §6.12.2) and push the error code on the new task's stack.
 *
 * In VMX non-root operation (`c.nonRoot`) deliverEvent, deliverException, softwareInterrupt and
 * serviceEvents hand the event to the engine's EventExitHooks (vmxEventHooks.ts; SDM vol. 3C
 * §25.2-25.5): exception bitmap, exiting controls, windows, MTF, timer, IDT-vectoring
 * information. The root path pays one boolean test.
 */
import type { Cpu } from './cpu';
import { DeferredVmExit } from './vmxEptHooks';
import { CpuException, Vector, hasErrorCode } from './exceptions';
import {
  ATTR_UNUSABLE, decodeDescriptor, readDescriptor, descriptorAddress, updateModeFromSegments, type Descriptor,
} from './descriptors';
import { Flag, Gpr, Seg } from './registers';
import { switchThroughTaskGate, TaskReason } from './taskSwitch';
import { push } from './stack';
import { checkV86HandlerSegment } from './v86';

const V86_DATA_SEGS = [Seg.ES, Seg.DS, Seg.FS, Seg.GS];

const TWO32 = 4294967296;

/** How an event arose: it decides the EXT bit, the gate-DPL check and the saved RF. */
export const enum EventKind {
  /** A processor-detected exception (fault, trap or abort): EXT = 1 in error codes during its delivery. */
  Exception = 0,
  /** INT n, INT3, INTO: EXT = 0, gate DPL checked against CPL (SDM vol. 3A §6.12.1.1). */
  Software = 1,
  /** INT1 (ICEBP): delivered like a hardware #DB trap, EXT = 1, no DPL check (SDM vol. 2A INT n). */
  Icebp = 2,
  /** Maskable external interrupt or NMI: EXT = 1, no DPL check. */
  External = 3,
}

/** Exception classes for the double-fault rules (SDM vol. 3A §6.15, table 6-4). */
export function isContributory(vector: number): boolean {
  return vector === 0 || (vector >= 10 && vector <= 13);
}

/**
 * A `second` exception raised while delivering the exception `first` becomes #DF (SDM vol. 3A
 * §6.15 table 6-5): contributory then contributory, or #PF then #PF or contributory.
 */
export function becomesDoubleFault(first: number, second: number): boolean {
  return (isContributory(first) && isContributory(second)) || (first === Vector.PF && (second === Vector.PF || isContributory(second)));
}

/**
 * Fault-class exceptions: the saved RFLAGS image has RF = 1 (SDM vol. 3B §17.3.1.1; measured on
 * an Intel host: the frame of a #UD or #GP has RF set, that of the INT3 trap does not).
 */
function isFault(vector: number): boolean {
  return vector === 0 || (vector >= 5 && vector <= 7) || (vector >= 10 && vector <= 14) ||
    vector === 16 || vector === 17 || vector === 19 || vector === 20 || vector === 21;
}

/** The error code with the EXT bit (bit 0) OR'd in, for #TS/#NP/#SS/#GP raised during delivery (SDM vol. 3A §6.13). */
export function withExt(e: CpuException, ext: number): CpuException {
  if (ext === 0 || e.errorCode === undefined || e.vector < 10 || e.vector > 13) return e;
  return new CpuException(e.vector, e.errorCode | ext, e.detail);
}

// ---- the stack frame: slots are checked and written before anything is committed ----------
/** Linear addresses (lo, hi) and sizes of the frame slots, filled by `frameSlot`. */
const slotLo: number[] = [];
const slotHi: number[] = [];

/**
 * Linear address of a push slot at offset `o` (already wrapped to the stack width) in a legacy
 * stack segment (base, limit, attr): limit and expand-down checks (SDM vol. 3A §5.3), #SS(errSel).
 */
function legacySlot(base: number, limit: number, attr: number, o: number, n: number, big: boolean, errSel: number): number {
  if (attr & 4) {
    const top = big ? 0xffffffff : 0xffff;
    if (o <= limit || o + n - 1 > top) throw new CpuException(Vector.SS, errSel, 'interrupt frame outside the stack segment');
  } else if (o + n - 1 > limit) {
    throw new CpuException(Vector.SS, errSel, 'interrupt frame outside the stack segment');
  }
  return (base + o) | 0;
}

function writeSlot(c: Cpu, lo: number, hi: number, n: number, v: number, vHi: number, system: boolean): void {
  if (system) {
    // Pushes on a privilege change target the inner stack: supervisor accesses (SDM vol. 3A §4.6).
    if (n === 8) {
      c.writeSystem(lo, hi, 4, v);
      const s = (lo >>> 0) + 4;
      c.writeSystem(s | 0, s >= TWO32 ? (hi + 1) | 0 : hi, 4, vHi);
    } else {
      c.writeSystem(lo, hi, n, v);
    }
  } else if (n === 8) {
    c.write64(lo, hi, v, vHi);
  } else if (n === 4) {
    c.write32(lo, hi, v);
  } else {
    c.write16(lo, hi, v);
  }
}

// ---- TSS stack pointers (SDM vol. 3A §7.2.1 32-bit TSS, §7.6 16-bit TSS, §7.7 64-bit TSS) ----
function tssRead(c: Cpu, off: number, n: number, ext: number): number {
  const tsel = c.segSel[Seg.TR];
  if ((c.segAttr[Seg.TR] & (ATTR_UNUSABLE | 0x80)) !== 0x80 || off + n - 1 > c.segLimit[Seg.TR]) {
    throw new CpuException(Vector.TS, (tsel & 0xfffc) | ext, 'stack pointer beyond the TSS limit');
  }
  const s = (c.segBaseLo[Seg.TR] >>> 0) + off;
  const hi = c.longMode ? (c.segBaseHi[Seg.TR] + (s >= TWO32 ? 1 : 0)) | 0 : 0;
  return c.readSystem(s | 0, hi, n);
}

/** Set a segment descriptor's accessed bit if it is clear (SDM vol. 3A §3.4.5.1). */
function markAccessed(c: Cpu, sel: number, d: Descriptor): void {
  if (d.hi & 0x100) return;
  const a = descriptorAddress(c, sel, Vector.GP, 8);
  const s = (a >>> 0) + 5;
  c.writeSystem(s | 0, s >= TWO32 ? (c.linHi + 1) | 0 : c.linHi, 1, ((d.hi >>> 8) & 0xff) | 1);
}

// ---- one delivery attempt -----------------------------------------------------------------
/**
 * Deliver one event. Throws a CpuException (without EXT; the caller adds it) when delivery
 * faults, leaving the processor unchanged. `retLo/retHi` is the saved instruction pointer.
 */
export function deliverOnce(c: Cpu, vector: number, ec: number | undefined, kind: EventKind, retLo: number, retHi: number): void {
  if (!c.protectedMode) {
    deliverReal(c, vector, retLo);
  } else {
    deliverProtected(c, vector, ec, kind, retLo, retHi);
  }
  c.halted = false;
  c.stepArmed = false;
  if (vector === Vector.DB && kind !== EventKind.Icebp) c.dr7 &= ~0x2000; // DR7.GD cleared on #DB (SDM vol. 3B §17.2.4)
}

/** Real-address mode: IVT entry vector*4 at the IDTR base (SDM vol. 3A §20.1.4; vol. 2A INT n "REAL-ADDRESS-MODE"). */
function deliverReal(c: Cpu, vector: number, retLo: number): void {
  const at = vector * 4;
  if (at + 3 > c.idtrLimit) throw new CpuException(Vector.GP, 0, 'vector beyond the IVT limit');
  const base = (c.idtrBaseLo >>> 0) + at;
  const ip = c.readSystem(base | 0, 0, 2);
  const cs = c.readSystem((base + 2) | 0, 0, 2);
  // Three 16-bit pushes: FLAGS, CS, IP (SP wraps within 64 KiB).
  const big = c.stackBits === 32;
  const mask = big ? 0xffffffff : 0xffff;
  const sp = c.lo[Gpr.RSP];
  const ssBase = c.segBaseLo[Seg.SS], ssLim = c.segLimit[Seg.SS], ssAttr = c.segAttr[Seg.SS] & ~ATTR_UNUSABLE;
  const vals = [c.getRflags() & 0xffff, c.segSel[Seg.CS], retLo & 0xffff];
  let p = sp;
  for (let k = 0; k < 3; k++) {
    p = (p - 2) & mask;
    slotLo[k] = legacySlot(ssBase, ssLim, ssAttr, p >>> 0, 2, big, 0);
  }
  for (let k = 0; k < 3; k++) c.write16(slotLo[k], 0, vals[k]);
  c.lo[Gpr.RSP] = big ? p | 0 : (sp & ~0xffff) | p;
  c.flagsRest &= ~(Flag.IF | Flag.TF | Flag.AC);
  c.segSel[Seg.CS] = cs;
  c.segBaseLo[Seg.CS] = cs << 4;
  c.segBaseHi[Seg.CS] = 0;
  c.ripLo = ip;
  c.ripHi = 0;
  c.codeChanged();
}

function deliverProtected(c: Cpu, vector: number, ec: number | undefined, kind: EventKind, retLo: number, retHi: number): void {
  // From virtual-8086 mode (SDM vol. 3A §20.3.1.1, §6.12.1; vol. 2A INT n
  // "INTERRUPT-FROM-VIRTUAL-8086-MODE"): to privilege level 0 only, with GS, FS, DS, ES pushed
  // above the usual SS, ESP, EFLAGS, CS, EIP frame and the four data registers made null.
  const fromV86 = (c.flagsRest & Flag.VM) !== 0;
  const ext = kind === EventKind.Software ? 0 : 1;
  const long = c.longMode;
  const idtErr = vector * 8 + 2 + ext;
  const gsz = long ? 16 : 8;
  // The gate (SDM vol. 3A §6.11 / §6.14.1).
  if (vector * gsz + gsz - 1 > c.idtrLimit) throw new CpuException(Vector.GP, idtErr, 'vector beyond the IDT limit');
  const ga = (c.idtrBaseLo >>> 0) + vector * gsz;
  const gHi = long ? (c.idtrBaseHi + (ga >= TWO32 ? 1 : 0)) | 0 : 0;
  const rd = (off: number): number => {
    const s = (ga >>> 0) + off;
    return c.readSystem(s | 0, long && s >= TWO32 ? (gHi + 1) | 0 : gHi, 4);
  };
  const w0 = rd(0), w1 = rd(4);
  const type = (w1 >>> 8) & 0x1f;
  const gdpl = (w1 >>> 13) & 3;
  let w2 = 0;
  if (long) {
    w2 = rd(8);
    const w3 = rd(12);
    if (type !== 0x0e && type !== 0x0f) throw new CpuException(Vector.GP, idtErr, 'not a 64-bit interrupt or trap gate');
    if ((w3 >>> 8) & 0x1f) throw new CpuException(Vector.GP, idtErr, 'gate upper type field not zero');
  } else if (type !== 0x05 && type !== 0x06 && type !== 0x07 && type !== 0x0e && type !== 0x0f) {
    throw new CpuException(Vector.GP, idtErr, 'not an interrupt, trap or task gate');
  }
  if (kind === EventKind.Software && gdpl < c.cpl) throw new CpuException(Vector.GP, idtErr, 'software interrupt through a gate with DPL < CPL');
  if ((w1 & 0x8000) === 0) throw new CpuException(Vector.NP, idtErr, 'gate not present');
  if (type === 0x05) {
    deliverTaskGate(c, vector, ec, kind, w0, w1, retLo);
    return;
  }
  const gate32 = long || (type & 8) !== 0;
  const trapGate = (type & 1) !== 0;
  const sel = w0 >>> 16;
  let offLo = gate32 ? ((w0 & 0xffff) | (w1 & 0xffff0000)) : w0 & 0xffff;
  const offHi = long ? w2 : 0;
  // The target code segment (SDM vol. 2A INT n operation, "PROTECTED-MODE").
  if ((sel & 0xfffc) === 0) throw new CpuException(Vector.GP, 0, 'null code-segment selector in the gate');
  const cd = readDescriptor(c, sel, Vector.GP);
  if (cd.s === 0 || (cd.type & 8) === 0 || cd.dpl > c.cpl) {
    throw new CpuException(Vector.GP, sel & 0xfffc, 'gate target is not a code segment with DPL <= CPL');
  }
  if (!cd.present) throw new CpuException(Vector.NP, sel & 0xfffc, 'gate target segment not present');
  if (fromV86) checkV86HandlerSegment(sel, cd.type, cd.dpl);
  if (long && ((cd.attr & 0x2000) === 0 || (cd.attr & 0x4000) !== 0)) {
    throw new CpuException(Vector.GP, sel & 0xfffc, 'IA-32e mode gate target is not a 64-bit code segment');
  }
  const conforming = (cd.type & 4) !== 0;
  const newCpl = conforming ? c.cpl : cd.dpl;
  const change = newCpl < c.cpl;
  // Exceptions of the error-code vectors push one (0 when the raiser gave none); INT n and
  // external interrupts never do, whatever the vector (SDM vol. 3A §6.13).
  const pushEc = kind === EventKind.Exception && hasErrorCode(vector);
  if (pushEc && ec === undefined) ec = 0;
  const flags = (c.getRflags() | (kind === EventKind.Exception && isFault(vector) ? Flag.RF : 0)) >>> 0;
  const oldSs = c.segSel[Seg.SS];
  const oldSpLo = c.lo[Gpr.RSP], oldSpHi = c.hi[Gpr.RSP];
  const csImage = c.segSel[Seg.CS];
  let nSlots = 0;
  const vLo: number[] = [];
  const vHi: number[] = [];
  let newSpLo: number, newSpHi = 0;
  let ssSel = 0, ssDesc: Descriptor | null = null;
  const ist = long ? w1 & 7 : 0;

  if (long) {
    // IA-32e mode (SDM vol. 3A §6.14.2-§6.14.5): 8-byte slots, RSP aligned to 16, SS:RSP always pushed.
    let spLo = oldSpLo, spHi = oldSpHi;
    if (ist !== 0) {
      spLo = tssRead(c, 0x1c + ist * 8, 4, ext);
      spHi = tssRead(c, 0x20 + ist * 8, 4, ext);
    } else if (change) {
      spLo = tssRead(c, 4 + newCpl * 8, 4, ext);
      spHi = tssRead(c, 8 + newCpl * 8, 4, ext);
    }
    if (((offHi << c.canonShift) >> c.canonShift) !== offHi) throw new CpuException(Vector.GP, 0, 'handler RIP not canonical');
    spLo &= ~0xf;
    const frame = [oldSs, 0, oldSpLo, oldSpHi, flags, 0, csImage, 0, retLo, retHi];
    if (pushEc) frame.push(ec!, 0);
    nSlots = frame.length / 2;
    let s = spLo >>> 0, h = spHi;
    for (let k = 0; k < nSlots; k++) {
      if (s < 8) h = (h - 1) | 0;
      s = (s - 8 + TWO32) % TWO32;
      if (((h << c.canonShift) >> c.canonShift) !== h) throw new CpuException(Vector.SS, 0, 'interrupt stack not canonical');
      slotLo[k] = s | 0;
      slotHi[k] = h;
      vLo.push(frame[2 * k]);
      vHi.push(frame[2 * k + 1]);
    }
    for (let k = 0; k < nSlots; k++) writeSlot(c, slotLo[k], slotHi[k], 8, vLo[k], vHi[k], change);
    newSpLo = s | 0;
    newSpHi = h;
    ssSel = newCpl;
  } else {
    const n = gate32 ? 4 : 2;
    let base: number, limit: number, attr: number, big: boolean, sp: number, errSel: number;
    if (change) {
      // Inner stack from the TSS (SDM vol. 2A INT n, "INTER-PRIVILEGE-LEVEL-INTERRUPT").
      const tssType = c.segAttr[Seg.TR] & 0xf;
      let newSp: number;
      if (tssType === 1 || tssType === 3) {
        newSp = tssRead(c, 2 + newCpl * 4, 2, ext);
        ssSel = tssRead(c, 4 + newCpl * 4, 2, ext);
      } else {
        newSp = tssRead(c, 4 + newCpl * 8, 4, ext);
        ssSel = tssRead(c, 8 + newCpl * 8, 2, ext);
      }
      if ((ssSel & 0xfffc) === 0) throw new CpuException(Vector.TS, 0, 'null stack selector in the TSS');
      if ((ssSel & 3) !== newCpl) throw new CpuException(Vector.TS, ssSel & 0xfffc, 'TSS stack selector RPL differs from the new CPL');
      const sd = readDescriptor(c, ssSel, Vector.TS);
      if (sd.s === 0 || (sd.type & 0xa) !== 2 || sd.dpl !== newCpl) {
        throw new CpuException(Vector.TS, ssSel & 0xfffc, 'TSS stack segment is not a writable data segment at the new CPL');
      }
      if (!sd.present) throw new CpuException(Vector.SS, ssSel & 0xfffc, 'TSS stack segment not present');
      ssDesc = sd;
      base = sd.base;
      limit = sd.limit;
      attr = sd.attr;
      big = (sd.attr & 0x4000) !== 0;
      sp = newSp;
      errSel = ssSel & 0xfffc;
    } else {
      base = c.segBaseLo[Seg.SS];
      limit = c.segLimit[Seg.SS];
      attr = c.segAttr[Seg.SS];
      big = c.stackBits !== 16;
      sp = oldSpLo;
      errSel = 0;
      if (attr & ATTR_UNUSABLE) throw new CpuException(Vector.SS, 0, 'stack segment unusable');
    }
    const frame = change ? [oldSs, oldSpLo, flags, csImage, retLo] : [flags, csImage, retLo];
    if (fromV86) {
      frame.unshift(c.segSel[Seg.GS], c.segSel[Seg.FS], c.segSel[Seg.DS], c.segSel[Seg.ES]);
    }
    if (pushEc) frame.push(ec!);
    nSlots = frame.length;
    const mask = big ? 0xffffffff : 0xffff;
    let p = sp;
    for (let k = 0; k < nSlots; k++) {
      p = (p - n) & mask;
      slotLo[k] = legacySlot(base, limit, attr, p >>> 0, n, big, errSel);
      // Selectors are pushed zero-extended to the slot size.
      vLo.push(n === 2 ? frame[k] & 0xffff : frame[k]);
    }
    if ((offLo >>> 0) > cd.limit) throw new CpuException(Vector.GP, 0, 'handler offset beyond the code-segment limit');
    for (let k = 0; k < nSlots; k++) writeSlot(c, slotLo[k], 0, n, vLo[k], 0, change);
    newSpLo = big ? p | 0 : change ? (sp & ~0xffff) | p : (oldSpLo & ~0xffff) | p;
    if (!gate32) offLo &= 0xffff;
  }

  // Accessed bits (descriptor writes can fault too, so before the commit).
  markAccessed(c, sel, cd);
  if (ssDesc !== null) markAccessed(c, ssSel, ssDesc);

  // ---- commit -----------------------------------------------------------------------------
  if (change) {
    if (long) {
      // A null SS with RPL = new CPL (SDM vol. 3A §6.14.4).
      c.segSel[Seg.SS] = newCpl;
      c.segBaseLo[Seg.SS] = 0;
      c.segBaseHi[Seg.SS] = 0;
      c.segLimit[Seg.SS] = 0;
      c.segAttr[Seg.SS] = ATTR_UNUSABLE | (newCpl << 5);
    } else {
      const sd = ssDesc!;
      c.segSel[Seg.SS] = ssSel;
      c.segBaseLo[Seg.SS] = sd.base | 0;
      c.segBaseHi[Seg.SS] = 0;
      c.segLimit[Seg.SS] = sd.limit;
      c.segAttr[Seg.SS] = sd.attr | 1;
    }
  }
  c.lo[Gpr.RSP] = newSpLo;
  if (long) c.hi[Gpr.RSP] = newSpHi;
  if (fromV86) {
    // GS, FS, DS, ES := null (unusable in protected mode).
    for (const s of V86_DATA_SEGS) {
      c.segSel[s] = 0;
      c.segBaseLo[s] = 0;
      c.segBaseHi[s] = 0;
      c.segLimit[s] = 0;
      c.segAttr[s] = ATTR_UNUSABLE;
    }
  }
  c.segSel[Seg.CS] = (sel & 0xfffc) | newCpl;
  c.segBaseLo[Seg.CS] = cd.base | 0;
  c.segBaseHi[Seg.CS] = 0;
  c.segLimit[Seg.CS] = cd.limit;
  c.segAttr[Seg.CS] = cd.attr | 1;
  if (c.cpl !== newCpl) {
    c.cpl = newCpl;
    c.flushTlb();
  }
  c.ripLo = offLo | 0;
  c.ripHi = offHi;
  // TF, VM, RF, NT cleared; IF too through an interrupt gate (SDM vol. 3A §6.12.1.3).
  c.flagsRest &= ~(Flag.TF | Flag.VM | Flag.RF | Flag.NT | (trapGate ? 0 : Flag.IF));
  updateModeFromSegments(c);
}

/**
 * Delivery through a task gate outside IA-32e mode (SDM vol. 3A §6.12.2 "Interrupt Tasks", §7.3;
 * vol. 2A INT n "TASK-GATE"): a nesting task switch to the TSS the gate names (the old task's
 * saved EIP is `retLo`; its saved EFLAGS has RF = 1 for a fault, §18.3.1.1), then, in the new
 * task, the error code of an exception that has one is pushed on the new task's stack (a
 * doubleword: only 32-bit TSSs are implemented) and EIP is checked against the new CS limit.
 * Faults after the switch are raised in the new task's context, as the SDM describes.
 */
function deliverTaskGate(c: Cpu, vector: number, ec: number | undefined, kind: EventKind, w0: number, w1: number, retLo: number): void {
  const gate = decodeDescriptor(w0, w1);
  const setRf = kind === EventKind.Exception && isFault(vector) && (c.flagsRest & Flag.RF) === 0;
  if (setRf) c.flagsRest |= Flag.RF;
  try {
    switchThroughTaskGate(c, gate, TaskReason.Interrupt, retLo);
  } catch (x) {
    if (setRf) c.flagsRest &= ~Flag.RF;
    throw x;
  }
  // The error code goes on the new task's stack, sized by the new TSS (a 16-bit TSS, type 1/3,
  // takes a word: SDM vol. 3A §6.12.2, §7.6).
  if (kind === EventKind.Exception && hasErrorCode(vector)) push(c, c.segAttr[Seg.TR] & 8 ? 4 : 2, ec ?? 0);
  if ((c.ripLo >>> 0) > c.segLimit[Seg.CS]) throw new CpuException(Vector.GP, 0, 'new task EIP beyond its code-segment limit');
}

// ---- entry points -------------------------------------------------------------------------
/** Enter shutdown (triple fault, SDM vol. 3A §6.15 "Interrupt 8"): the run stops with 'shutdown'. */
function shutdown(c: Cpu, why: string): void {
  c.inShutdown = true;
  c.shutdownReason = why;
  c.halted = true;
}

/**
 * Deliver an event raised outside an instruction's own operation (an exception, an external
 * interrupt, NMI, a single-step trap), applying the double-fault rules (SDM vol. 3A §6.15,
 * table 6-5): a contributory exception while delivering a contributory one, or a contributory
 * exception or #PF while delivering a #PF, becomes #DF (error code 0); any fault while
 * delivering #DF is a triple fault (shutdown). Other combinations are handled serially: the
 * second exception is delivered. Returns normally in every case (possibly in shutdown).
 */
export function deliverEvent(
  c: Cpu, vector: number, ec: number | undefined, kind: EventKind, retLo: number, retHi: number,
  source: CpuException | null = null, vmxType = -1, insnLen = 0,
): void {
  if (c.nonRoot) {
    // VMX non-root operation: exception bitmap, triple-fault exits, IDT-vectoring information
    // (SDM vol. 3C §25.2, §27.2.4; src/vmx/eventExits*.ts). `vmxType` is the VMX interruption
    // type when the caller knows it (-1: derived from `kind` and the vector).
    c.vmxEvents!.deliver(c, vector, ec, kind, retLo, retHi, source, vmxType, insnLen);
    return;
  }
  let v = vector, code = ec, k = kind, src = source;
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      if (v === Vector.PF && k === EventKind.Exception && src !== null) loadCr2(c, src);
      deliverOnce(c, v, code, k, retLo, retHi);
      return;
    } catch (x) {
      if (!(x instanceof CpuException)) throw x;
      const ext = k === EventKind.Software ? 0 : 1;
      const second = withExt(x, ext);
      const hw = k === EventKind.Exception;
      if (hw && v === Vector.DF) {
        shutdown(c, `triple fault: ${second.toString()} while delivering #DF`);
        return;
      }
      const sv = second.vector;
      if (hw && becomesDoubleFault(v, sv)) {
        v = Vector.DF;
        code = 0;
        src = null;
      } else {
        v = sv;
        code = second.errorCode;
        src = x;
      }
      k = EventKind.Exception;
    }
  }
  shutdown(c, 'exception delivery did not converge');
}

/**
 * CR2 gets the faulting linear address when a #PF is delivered (SDM vol. 3A §4.7). The paging
 * code may carry it on the exception (`linearLo`/`linearHi` or `cr2Lo`/`cr2Hi`) or set CR2
 * itself when it raises the fault; both work.
 */
export function loadCr2(c: Cpu, e: CpuException): void {
  const x = e as unknown as { linearLo?: number; linearHi?: number; cr2Lo?: number; cr2Hi?: number };
  const lo = x.linearLo ?? x.cr2Lo;
  if (typeof lo === 'number') {
    c.cr2Lo = lo | 0;
    c.cr2Hi = (x.linearHi ?? x.cr2Hi ?? 0) | 0;
  }
}

/**
 * Deliver a fault or trap raised by an instruction (the run loop has put RIP back at the
 * faulting instruction). Returns false when the processor is set to stop on exceptions
 * (`c.deliverExceptions` false: bare-processor runs and tests), so the run reports it.
 */
export function deliverException(c: Cpu, e: CpuException): boolean {
  if (c.nonRoot) {
    // In VMX non-root operation every exception is the guest's: delivered through its IDT or a
    // VM exit (SDM vol. 3C §25.2). Only the report-until-an-IDT rule of flat images
    // (`deliverExceptions` false) stops the run for one that would not exit, as without VMX.
    if (c.reportWithoutIdt && !c.deliverExceptions && !(e instanceof DeferredVmExit) && !c.vmxEvents!.exceptionExits(c, e.vector, e.errorCode ?? 0)) return false;
    c.stepArmed = false;
    c.vmxEvents!.deliver(c, e.vector, e.errorCode, EventKind.Exception, c.ripLo, c.ripHi, e, 3, 0);
    return true;
  }
  if (!c.deliverExceptions) return false;
  c.stepArmed = false;
  deliverEvent(c, e.vector, e.errorCode, EventKind.Exception, c.ripLo, c.ripHi, e);
  return true;
}

/**
 * INT n / INT3 / INTO / INT1 from inside the instruction's op: delivers with the return address
 * after the instruction (a trap). A fault during delivery is thrown (without EXT for INT n, with
 * EXT for INT1) and becomes the instruction's fault. With `c.deliverExceptions` false, INT3,
 * INTO and INT1 stop the run (thrown as the exception) instead; INT n is always delivered.
 */
export function softwareInterrupt(c: Cpu, vector: number, kind: EventKind, nextLo: number, nextHi: number): void {
  if (c.nonRoot) {
    // Exception bitmap for INT3/INTO/INT1, IDT-vectoring for exits during delivery (§25.2).
    c.vmxEvents!.softwareInterrupt(c, vector, kind, nextLo, nextHi);
    return;
  }
  if (!c.deliverExceptions && kind !== EventKind.Software) {
    throw new CpuException(vector, undefined, 'software exception (exceptions are not delivered)');
  }
  try {
    deliverOnce(c, vector, undefined, kind, nextLo, nextHi);
  } catch (x) {
    if (x instanceof CpuException) throw withExt(x, kind === EventKind.Software ? 0 : 1);
    throw x;
  }
}
