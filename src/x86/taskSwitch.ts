/**
 * Hardware task switching with 32-bit and 16-bit TSSs (SDM vol. 3A §7.3, table 7-1; §7.2.1
 * figure 7-2 for the 32-bit TSS layout, §7.6 figure 7-11 for the 16-bit one; §7.4 task linking). Used by far JMP/CALL to a TSS descriptor or a task gate
 * (farTransfer.ts) and exported for task gates in the IDT and IRET with NT = 1.
 *
 *   taskSwitch(c, sel, tss, reason, retLo)
 *     sel/tss: the new task's TSS selector and its (already read) GDT descriptor;
 *     reason:  TaskReason.Jmp | Call | Iret | Interrupt (busy-bit, NT and back-link rules of §7.3
 *              steps 6-10); retLo: the EIP saved in the old TSS (the next instruction for
 *              JMP/CALL/IRET/INT n and traps, the faulting instruction for faults).
 *   The caller makes the JMP/CALL privilege checks (see farTransfer.ts); an interrupt's caller
 *   pushes the error code on the new task's stack afterwards.
 *   switchThroughTaskGate(c, gate, reason, retLo)  task gate (IDT or GDT) → its TSS → switch.
 *   iretTaskReturn(c, retLo)                       IRET with NT = 1: back to the linked task.
 *
 * Deviation (documented): the new task's segment descriptors are validated before anything is
 * committed, so a #TS/#NP/#SS/#GP raised by them is reported in the context of the old task
 * (the SDM raises them in the new task's context, after the switch). Task switches in IA-32e
 * mode raise #GP(selector) (IA-32e mode has no task switching at all: the callers reject such
 * descriptors).
 *
 * 16-bit TSSs (types 1 available / 3 busy; SDM vol. 3A §7.6, figure 7-11), minimum limit 2BH:
 *   00 previous-task link  02 SP0 04 SS0 06 SP1 08 SS1 0A SP2 0C SS2  0E IP  10 FLAGS
 *   12 AX 14 CX 16 DX 18 BX 1A SP 1C BP 1E SI 20 DI  22 ES 24 CS 26 SS 28 DS  2A LDT selector
 * The old task's state is saved in the format of the old TSS, the new one loaded in the format
 * of the new TSS, so 16-bit and 32-bit tasks switch to each other. A 16-bit TSS has no CR3 (the
 * page tables stay), no FS/GS (their selectors and caches stay), no T flag and no I/O map.
 * Saving drops the upper halves of EIP, EFLAGS and the registers; loading gives EIP = IP and
 * EFLAGS = FLAGS (upper half 0). The SDM leaves the upper 16 bits of the general registers
 * "modified and not maintained" after a load from a 16-bit TSS; vtx sets them to 0FFFFH.
 */
import type { Cpu } from './cpu';
import type { Descriptor } from './descriptors';
import { ATTR_UNUSABLE, decodeDescriptor, descriptorAddress } from './descriptors';
import { Vector } from './exceptions';
import { Flag, Seg } from './registers';
import { isNullSelector, selectorFault, setAccessed } from './segmentation';
import { updateModeFromSegments } from './descriptors';
import { writeCr3 } from './controlRegisters';
import { taskSwitchDebug } from './debugRegs';

export const enum TaskReason { Jmp = 0, Call = 1, Iret = 2, Interrupt = 3 }

const CR0_TS = 1 << 3;
/** TaskReason → the source field (bits 31:30) of a task-switch exit qualification: CALL 0, IRET 1, JMP 2, IDT 3. */
const TASK_SWITCH_SOURCE = [2, 0, 1, 3];
/** Segment registers in TSS order: ES CS SS DS FS GS at 0x48.. (4 bytes apart; 16-bit TSS: ES..DS at 0x22, 2 apart). */
const TSS_SEGS = [Seg.ES, Seg.CS, Seg.SS, Seg.DS, Seg.FS, Seg.GS];

/** True for a 16-bit TSS type (1 available, 3 busy); 9/0xB are 32-bit. */
function is16(type: number): boolean {
  return (type & 8) === 0;
}

function tssAddr(base: number, off: number): number {
  return (base + off) | 0;
}

/** Byte offset of a descriptor's access byte (+5) in the GDT, for busy-bit updates. */
function setBusy(c: Cpu, sel: number, busy: boolean): void {
  const a = descriptorAddress(c, sel, Vector.GP);
  const h = c.linHi;
  const acc = c.readSystem((a + 5) | 0, h, 1);
  c.writeSystem((a + 5) | 0, h, 1, busy ? acc | 2 : acc & ~2);
}

const nsel = new Int32Array(7);
const ndesc: (Descriptor | null)[] = [null, null, null, null, null, null, null];

/** Read the descriptor `sel` names in the GDT or in the LDT given by (base, limit, usable). */
function readIn(c: Cpu, sel: number, ldtBase: number, ldtLimit: number, ldtOk: boolean, vec: number): Descriptor {
  const index = sel & 0xfff8;
  let a: number;
  if (sel & 4) {
    if (!ldtOk || index + 7 > ldtLimit) throw selectorFault(vec, sel, 0, 'selector beyond the new task\'s LDT');
    a = (ldtBase + index) | 0;
  } else {
    if (index + 7 > c.gdtrLimit) throw selectorFault(vec, sel, 0, 'selector beyond the GDT');
    a = (c.gdtrBaseLo + index) | 0;
  }
  return decodeDescriptor(c.readSystem(a, 0, 4), c.readSystem((a + 4) | 0, 0, 4));
}

/** Perform a task switch to the 32-bit or 16-bit TSS `sel` (descriptor `tss`). */
export function taskSwitch(c: Cpu, sel: number, tss: Descriptor, reason: TaskReason, retLo: number): void {
  if (c.longMode) throw selectorFault(Vector.GP, sel, 0, 'task switching in IA-32e mode');
  const t = tss.type;
  const new16 = is16(t);
  const old16 = is16(c.segAttr[Seg.TR] & 0xf);
  // Step 3: present and limit >= 67H (32-bit TSS) or 2BH (16-bit TSS) (SDM vol. 3A table 7-1).
  if (!tss.present) throw selectorFault(Vector.NP, sel, 0, 'TSS not present');
  if (tss.limit < (new16 ? 0x2b : 0x67)) throw selectorFault(Vector.TS, sel, 0, new16 ? 'TSS limit below 0x2B' : 'TSS limit below 0x67');
  // Step 4: available for JMP/CALL/interrupts, busy for IRET.
  const busy = (t & 2) !== 0;
  if (reason === TaskReason.Iret ? !busy : busy) {
    throw selectorFault(reason === TaskReason.Iret ? Vector.TS : Vector.GP, sel, 0, busy ? 'TSS busy' : 'TSS not busy');
  }
  // In VMX non-root operation a task switch exits unconditionally (SDM vol. 3C §25.4.2).
  if (c.nonRoot) c.vmxEvents!.taskSwitch(c, sel, TASK_SWITCH_SOURCE[reason]);
  const nb = tss.base | 0;
  const rd = (off: number, n: number) => c.readSystem(tssAddr(nb, off), 0, n);
  // Read the whole new state first.
  let cr3 = 0, eip: number, eflags: number, ldtSel: number, debugTrap = false;
  const gpr = [0, 0, 0, 0, 0, 0, 0, 0];
  if (new16) {
    eip = rd(0x0e, 2);
    eflags = rd(0x10, 2);
    for (let i = 0; i < 8; i++) gpr[i] = rd(0x12 + 2 * i, 2) | 0xffff0000; // upper halves: see the header
    for (let i = 0; i < 4; i++) nsel[i] = rd(0x22 + 2 * i, 2);
    // FS and GS are not in a 16-bit TSS: they keep their selectors and caches.
    nsel[4] = c.segSel[Seg.FS];
    nsel[5] = c.segSel[Seg.GS];
    ldtSel = rd(0x2a, 2);
  } else {
    cr3 = rd(0x1c, 4);
    eip = rd(0x20, 4);
    eflags = rd(0x24, 4);
    for (let i = 0; i < 8; i++) gpr[i] = rd(0x28 + 4 * i, 4);
    for (let i = 0; i < 6; i++) nsel[i] = rd(0x48 + 4 * i, 2);
    ldtSel = rd(0x60, 2);
    // T (debug trap) flag, bit 0 at offset 0x64 (SDM vol. 3A §7.2.1; vol. 3B §18.3.1.5).
    debugTrap = (rd(0x64, 2) & 1) !== 0;
  }
  const vm = (eflags & Flag.VM) !== 0;

  // Validate the new LDT (SDM vol. 3A table 7-1: #TS(LDT selector)).
  let ldtBase = 0, ldtLimit = 0, ldtOk = false;
  let ldtDesc: Descriptor | null = null;
  if (!isNullSelector(ldtSel)) {
    if (ldtSel & 4) throw selectorFault(Vector.TS, ldtSel, 0, 'new task LDT selector refers to an LDT');
    const d = readIn(c, ldtSel, 0, 0, false, Vector.TS);
    if (d.s !== 0 || d.type !== 2) throw selectorFault(Vector.TS, ldtSel, 0, 'new task LDT descriptor is not an LDT');
    if (!d.present) throw selectorFault(Vector.TS, ldtSel, 0, 'new task LDT not present');
    ldtBase = d.base | 0; ldtLimit = d.limit; ldtOk = true; ldtDesc = d;
  }
  // Validate CS, SS, then data segments with the new CPL (= CS.RPL) unless entering V86 mode.
  const cpl = vm ? 3 : nsel[1] & 3;
  if (!vm) {
    const cs = nsel[1];
    if (isNullSelector(cs)) throw selectorFault(Vector.TS, cs, 0, 'new task CS is null');
    const d = readIn(c, cs, ldtBase, ldtLimit, ldtOk, Vector.TS);
    if (d.s === 0 || (d.type & 8) === 0) throw selectorFault(Vector.TS, cs, 0, 'new task CS is not code');
    if (d.type & 4 ? d.dpl > cpl : d.dpl !== cpl) throw selectorFault(Vector.TS, cs, 0, 'new task CS privilege');
    if (!d.present) throw selectorFault(Vector.NP, cs, 0, 'new task CS not present');
    ndesc[1] = d;
    const ss = nsel[2];
    if (isNullSelector(ss)) throw selectorFault(Vector.TS, ss, 0, 'new task SS is null');
    const s = readIn(c, ss, ldtBase, ldtLimit, ldtOk, Vector.TS);
    if ((ss & 3) !== cpl || s.dpl !== cpl || s.s === 0 || (s.type & 0xa) !== 2) {
      throw selectorFault(Vector.TS, ss, 0, 'new task SS invalid');
    }
    if (!s.present) throw selectorFault(Vector.SS, ss, 0, 'new task SS not present');
    ndesc[2] = s;
    for (const k of new16 ? [0, 3] : [0, 3, 4, 5]) {
      const v = nsel[k];
      ndesc[k] = null;
      if (isNullSelector(v)) continue;
      const dd = readIn(c, v, ldtBase, ldtLimit, ldtOk, Vector.TS);
      if (dd.s === 0 || (dd.type & 0xa) === 8) throw selectorFault(Vector.TS, v, 0, 'new task data segment invalid');
      if ((dd.type & 0xc) !== 0xc && (dd.dpl < cpl || dd.dpl < (v & 3))) {
        throw selectorFault(Vector.TS, v, 0, 'new task data segment privilege');
      }
      if (!dd.present) throw selectorFault(Vector.NP, v, 0, 'new task data segment not present');
      ndesc[k] = dd;
    }
  }

  // Steps 6-8: old TSS busy bit, NT in the saved image, save the old state.
  const oldSel = c.segSel[Seg.TR];
  const ob = c.segBaseLo[Seg.TR];
  let oldFlags = c.getRflags();
  if (reason === TaskReason.Iret) oldFlags &= ~Flag.NT;
  const wr = (off: number, n: number, v: number) => c.writeSystem(tssAddr(ob, off), 0, n, v);
  if (old16) {
    wr(0x0e, 2, retLo & 0xffff);
    wr(0x10, 2, oldFlags & 0xffff);
    for (let i = 0; i < 8; i++) wr(0x12 + 2 * i, 2, c.lo[i] & 0xffff);
    for (let i = 0; i < 4; i++) wr(0x22 + 2 * i, 2, c.segSel[TSS_SEGS[i]]);
  } else {
    wr(0x20, 4, retLo);
    wr(0x24, 4, oldFlags);
    for (let i = 0; i < 8; i++) wr(0x28 + 4 * i, 4, c.lo[i]);
    for (let i = 0; i < 6; i++) wr(0x48 + 4 * i, 4, c.segSel[TSS_SEGS[i]]);
  }
  if (reason === TaskReason.Jmp || reason === TaskReason.Iret) setBusy(c, oldSel, false);
  // Steps 9-10: back link and NT for nesting switches; the new TSS becomes busy.
  if (reason === TaskReason.Call || reason === TaskReason.Interrupt) {
    c.writeSystem(tssAddr(nb, 0), 0, 2, oldSel);
    eflags |= Flag.NT;
  }
  if (reason !== TaskReason.Iret) setBusy(c, sel, true);
  if (ndesc[1] !== null && !vm) setAccessed(c, nsel[1], ndesc[1]!);

  // Step 11: TR; CR0.TS.
  c.segSel[Seg.TR] = sel;
  c.segBaseLo[Seg.TR] = tss.base | 0;
  c.segBaseHi[Seg.TR] = 0;
  c.segLimit[Seg.TR] = tss.limit;
  c.segAttr[Seg.TR] = tss.attr | 2;
  c.cr0 |= CR0_TS;
  // DR7.L0-L3 (local breakpoint enables) are cleared on every task switch (SDM vol. 3B §18.2.4).
  taskSwitchDebug(c);
  // Step 12: CR3 (when paging; a 16-bit TSS has none), LDTR, EFLAGS, EIP, general registers, segments.
  if (!new16 && (c.cr0 & 0x80000000) !== 0) writeCr3(c, cr3, 0);
  c.segSel[Seg.LDTR] = ldtSel;
  if (ldtDesc !== null) {
    c.segBaseLo[Seg.LDTR] = ldtDesc.base | 0;
    c.segBaseHi[Seg.LDTR] = 0;
    c.segLimit[Seg.LDTR] = ldtDesc.limit;
    c.segAttr[Seg.LDTR] = ldtDesc.attr;
  } else {
    c.segAttr[Seg.LDTR] = ATTR_UNUSABLE;
  }
  c.setRflags(eflags);
  for (let i = 0; i < 8; i++) { c.lo[i] = gpr[i]; c.hi[i] = 0; }
  for (let i = 0; i < (new16 ? 4 : 6); i++) {
    const s = TSS_SEGS[i];
    const v = nsel[i];
    if (vm) {
      c.segSel[s] = v; c.segBaseLo[s] = v << 4; c.segBaseHi[s] = 0; c.segLimit[s] = 0xffff; c.segAttr[s] = 0xf3;
      continue;
    }
    const d = ndesc[i];
    c.segSel[s] = v;
    if (d === null) {
      c.segBaseLo[s] = 0; c.segBaseHi[s] = 0; c.segLimit[s] = 0; c.segAttr[s] = ATTR_UNUSABLE;
      continue;
    }
    c.segBaseLo[s] = d.base | 0;
    c.segBaseHi[s] = 0;
    c.segLimit[s] = d.limit;
    c.segAttr[s] = d.attr | 1;
  }
  c.ripLo = eip;
  c.ripHi = 0;
  if (c.cpl !== cpl) c.cpl = cpl;
  c.flushTlb();
  updateModeFromSegments(c);
  if ((eflags & Flag.RF) !== 0) {
    // RF loaded from the TSS: it suppresses instruction breakpoints for the task's first
    // instruction and is cleared after it (SDM vol. 3B §18.3.1.1; interrupts.ts serviceEvents).
    c.rfPending = true;
    c.rfArmed = false;
    c.eventPending = true;
  }
  if (debugTrap) {
    // A #DB trap with DR6.BT before the new task's first instruction (interrupts.ts serviceEvents).
    c.dbgHits |= 0x8000;
    c.eventPending = true;
  }
}

/** The TSS descriptor a task gate names (JMP/CALL/interrupts): GDT only, an available 32-bit or 16-bit TSS. */
export function taskGateTarget(c: Cpu, gate: Descriptor, reason: TaskReason): { sel: number; tss: Descriptor } {
  const sel = gate.gateSelector;
  if (sel & 4) throw selectorFault(Vector.GP, sel, 0, 'task gate names an LDT selector');
  if (isNullSelector(sel)) throw selectorFault(Vector.GP, sel, 0, 'task gate names a null selector');
  const a = descriptorAddress(c, sel, Vector.GP);
  const h = c.linHi;
  const tss = decodeDescriptor(c.readSystem(a, h, 4), c.readSystem((a + 4) | 0, h, 4));
  if (tss.s !== 0 || (tss.type !== 9 && tss.type !== 1 && tss.type !== 0xb && tss.type !== 3)) {
    throw selectorFault(Vector.GP, sel, 0, 'task gate does not name a TSS');
  }
  if (reason !== TaskReason.Iret && (tss.type & 2)) throw selectorFault(Vector.GP, sel, 0, 'TSS busy');
  return { sel, tss };
}



/** A task gate (from the IDT or a far JMP/CALL whose checks passed): switch to the task it names. */
export function switchThroughTaskGate(c: Cpu, gate: Descriptor, reason: TaskReason, retLo: number): void {
  const g = taskGateTarget(c, gate, reason);
  taskSwitch(c, g.sel, g.tss, reason, retLo);
}

/**
 * IRET with EFLAGS.NT = 1 outside IA-32e mode (SDM vol. 2A IRET "TASK-RETURN"; vol. 3A §7.4):
 * back to the task in the current TSS's previous-task link, which must name a busy TSS in the
 * GDT (#TS(link) otherwise; not present: #NP(link)). `retLo` is the EIP after the IRET.
 */
export function iretTaskReturn(c: Cpu, retLo: number): void {
  const link = c.readSystem(c.segBaseLo[Seg.TR], 0, 2);
  if ((link & 4) !== 0 || isNullSelector(link)) throw selectorFault(Vector.TS, link, 0, 'previous-task link is not a GDT selector');
  const tss = readIn(c, link, 0, 0, false, Vector.TS);
  if (tss.s !== 0 || (tss.type !== 0xb && tss.type !== 3)) throw selectorFault(Vector.TS, link, 0, 'previous-task link is not a busy TSS');
  taskSwitch(c, link, tss, TaskReason.Iret, retLo);
}
