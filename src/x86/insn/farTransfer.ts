/**
 * Far JMP, CALL and RET in protected mode, compatibility mode and 64-bit mode (SDM vol. 2A JMP
 * and CALL, vol. 2B RET "Operation"; vol. 3A §5.8 privilege-level checks for control transfers,
 * §5.8.3 call gates, §5.8.3.1 IA-32e call gates, §5.8.5 stack switching, §5.8.6 returns).
 *
 * Order of effects: every check and every memory read happens first; then the frame is written
 * (a #PF there leaves the registers untouched); then SS, RSP, CS, CPL and RIP are committed.
 * Task gates and TSS descriptors as targets switch tasks (taskSwitch.ts, 32-bit and 16-bit TSSs).
 */
import type { Cpu } from '../cpu';
import type { Descriptor } from '../descriptors';
import { decodeDescriptor, descriptorAddress, readDescriptor } from '../descriptors';
import { CpuException, Vector } from '../exceptions';
import { Gpr, Seg } from '../registers';
import {
  checkInnerStack, checkTargetIp, commitCs, commitNullSs, commitSs, frame, isNullSelector,
  nullInvalidDataSegments, readTssStack, selectorFault, setAccessed, targetIs64, tssSpHi, tssSpLo, tssSs,
} from '../segmentation';
import { adjustSp, stackLinear } from '../stack';
import { TaskReason, taskGateTarget, taskSwitch } from '../taskSwitch';

const TWO32 = 4294967296;
const RSP = Gpr.RSP;

function gp0(detail: string): CpuException {
  return new CpuException(Vector.GP, 0, detail);
}

/**
 * JMP/CALL to a TSS descriptor or a task gate outside IA-32e mode (SDM vol. 2A JMP/CALL
 * "TASK-GATE" and "TASK-STATE-SEGMENT"): returns false when `d` is neither.
 */
function toTask(c: Cpu, sel: number, d: Descriptor, reason: TaskReason, retLo: number): boolean {
  if (c.longMode || d.s !== 0) return false;
  const t = d.type;
  if (t === 5) {
    if (d.dpl < c.cpl || d.dpl < (sel & 3)) throw selectorFault(Vector.GP, sel, 0, 'task gate DPL below CPL or RPL');
    if (!d.present) throw selectorFault(Vector.NP, sel, 0, 'task gate not present');
    const g = taskGateTarget(c, d, reason);
    taskSwitch(c, g.sel, g.tss, reason, retLo);
    return true;
  }
  if (t === 1 || t === 9) {
    if (d.dpl < c.cpl || d.dpl < (sel & 3)) throw selectorFault(Vector.GP, sel, 0, 'TSS DPL below CPL or RPL');
    if (sel & 4) throw selectorFault(Vector.GP, sel, 0, 'TSS selector refers to the LDT');
    taskSwitch(c, sel, d, reason, retLo);
    return true;
  }
  return false;
}

// ---- current-stack accesses at an offset from RSP (normal accesses at the current CPL) ----------
function curAddr(c: Cpu, delta: number, n: number, write: boolean): number {
  const sb = c.stackBits;
  if (sb === 64) {
    const s = (c.lo[RSP] >>> 0) + delta;
    return stackLinear(c, 64, s | 0, (c.hi[RSP] + Math.floor(s / TWO32)) | 0, n, write);
  }
  return stackLinear(c, sb, (c.lo[RSP] + delta) | 0, 0, n, write);
}

function curWrite(c: Cpu, delta: number, n: number, vlo: number, vhi: number): void {
  const a = curAddr(c, delta, n, true);
  if (n === 8) c.write64(a, c.linHi, vlo, vhi);
  else if (n === 4) c.write32(a, c.linHi, vlo);
  else c.write16(a, c.linHi, vlo);
}

/** Read n bytes at RSP + delta: returns the low half; 8 bytes put the high half in c.vHi. */
function curRead(c: Cpu, delta: number, n: number): number {
  const a = curAddr(c, delta, n, false);
  if (n === 8) return c.read64(a, c.linHi);
  c.vHi = 0;
  return n === 4 ? c.read32(a, c.linHi) : c.read16(a, c.linHi);
}

// ---- gate descriptors ------------------------------------------------------------------------------

/** Read a system descriptor; in IA-32e mode the 16-byte form (with the upper type-field check). */
function readSystemDescriptor(c: Cpu, sel: number, d8: Descriptor): Descriptor {
  if (!c.longMode) return d8;
  const a = descriptorAddress(c, sel, Vector.GP, 16);
  const hi = c.linHi;
  const s2 = (a >>> 0) + 8, s3 = (a >>> 0) + 12;
  const w2 = c.readSystem(s2 | 0, s2 >= TWO32 ? (hi + 1) | 0 : hi, 4);
  const w3 = c.readSystem(s3 | 0, s3 >= TWO32 ? (hi + 1) | 0 : hi, 4);
  // SDM vol. 3A §5.8.3.1: the upper half's type field (bits 12:8 of its second dword) must be 0.
  if ((w3 >>> 8) & 0x1f) throw selectorFault(Vector.GP, sel, 0, 'call gate upper type field not zero');
  return decodeDescriptor(d8.lo, d8.hi, w2);
}

const enum Kind { Jmp, Call }

/**
 * Check a system descriptor reached by a far JMP/CALL and return it as a call gate (16-bit,
 * 32-bit, or the 64-bit gate in IA-32e mode); task gates and TSSs are not implemented.
 */
function callGate(c: Cpu, sel: number, d: Descriptor): Descriptor {
  const t = d.type;
  if (c.longMode) {
    if (t !== 0xc) throw selectorFault(Vector.GP, sel, 0, 'not a 64-bit call gate');
  } else if (t !== 4 && t !== 0xc) {
    throw selectorFault(Vector.GP, sel, 0, 'not a code segment, call gate, task gate or TSS');
  }
  const g = readSystemDescriptor(c, sel, d);
  if (g.dpl < c.cpl || g.dpl < (sel & 3)) throw selectorFault(Vector.GP, sel, 0, 'call gate DPL below CPL or RPL');
  if (!g.present) throw selectorFault(Vector.NP, sel, 0, 'call gate not present');
  return g;
}

/** The code segment a call gate names, with the JMP or CALL privilege rule (SDM vol. 2A). */
function gateTarget(c: Cpu, g: Descriptor, kind: Kind): Descriptor {
  const cs = g.gateSelector;
  if (isNullSelector(cs)) throw gp0('call gate names a null code segment');
  const d = readDescriptor(c, cs, Vector.GP);
  if (d.s === 0 || (d.type & 8) === 0) throw selectorFault(Vector.GP, cs, 0, 'call gate target is not a code segment');
  const conforming = (d.type & 4) !== 0;
  if (kind === Kind.Jmp ? (conforming ? d.dpl > c.cpl : d.dpl !== c.cpl) : d.dpl > c.cpl) {
    throw selectorFault(Vector.GP, cs, 0, 'call gate target privilege');
  }
  if (c.longMode && (!(d.attr & 0x2000) || (d.attr & 0x6000) === 0x6000)) {
    throw selectorFault(Vector.GP, cs, 0, 'IA-32e call gate target is not a 64-bit code segment');
  }
  if (!d.present) throw selectorFault(Vector.NP, cs, 0, 'code segment not present');
  return d;
}

/** Direct code-segment target of JMP/CALL: L+D, conforming / non-conforming rules, presence. */
function checkDirectCode(c: Cpu, sel: number, d: Descriptor): void {
  if (c.longMode && (d.attr & 0x6000) === 0x6000) throw selectorFault(Vector.GP, sel, 0, 'code segment with both L and D set');
  if (d.type & 4) {
    if (d.dpl > c.cpl) throw selectorFault(Vector.GP, sel, 0, 'conforming code segment DPL above CPL');
  } else if ((sel & 3) > c.cpl || d.dpl !== c.cpl) {
    throw selectorFault(Vector.GP, sel, 0, 'non-conforming code segment privilege');
  }
  if (!d.present) throw selectorFault(Vector.NP, sel, 0, 'code segment not present');
}

function readTarget(c: Cpu, sel: number): Descriptor {
  if (isNullSelector(sel)) throw gp0('null selector as far transfer target');
  const d = readDescriptor(c, sel, Vector.GP);
  if (d.s && (d.type & 8) === 0) throw selectorFault(Vector.GP, sel, 0, 'data segment as far transfer target');
  return d;
}

// ---- far JMP ---------------------------------------------------------------------------------------

/** Far JMP in protected/IA-32e mode to sel:offset (offset hi only for m16:64). */
export function farJmpProtected(c: Cpu, sel: number, offLo: number, offHi: number, osz: number, nextLo: number): void {
  const d = readTarget(c, sel);
  if (toTask(c, sel, d, TaskReason.Jmp, nextLo)) return;
  if (d.s) {
    checkDirectCode(c, sel, d);
    let lo = osz === 2 ? offLo & 0xffff : offLo;
    let hi = osz === 8 ? offHi : 0;
    if (!targetIs64(c, d)) hi = 0;
    checkTargetIp(c, d, lo, hi);
    commitCs(c, sel, d, c.cpl);
    c.ripLo = lo; c.ripHi = hi;
    return;
  }
  const g = callGate(c, sel, d);
  const t = gateTarget(c, g, Kind.Jmp);
  const lo = g.type === 4 ? g.gateOffset & 0xffff : g.gateOffset | 0;
  const hi = c.longMode ? g.gateOffsetHi : 0;
  checkTargetIp(c, t, lo, hi);
  commitCs(c, g.gateSelector, t, c.cpl);
  c.ripLo = lo; c.ripHi = hi;
}

// ---- far CALL --------------------------------------------------------------------------------------

/** Caller-stack parameters of a 16/32-bit call gate (at most 31). */
const params = new Int32Array(32);

/** Far CALL in protected/IA-32e mode; (retLo, retHi) is the return RIP. */
export function farCallProtected(
  c: Cpu, sel: number, offLo: number, offHi: number, osz: number, retLo: number, retHi: number,
): void {
  const d = readTarget(c, sel);
  if (toTask(c, sel, d, TaskReason.Call, retLo)) return;
  const oldCs = c.segSel[Seg.CS];
  if (d.s) {
    checkDirectCode(c, sel, d);
    let lo = osz === 2 ? offLo & 0xffff : offLo;
    let hi = osz === 8 ? offHi : 0;
    if (!targetIs64(c, d)) hi = 0;
    // Return address first (SDM CALL: stack room is checked before the target; a bad target
    // then faults with RSP unchanged).
    curWrite(c, -osz, osz, oldCs, 0);
    curWrite(c, -2 * osz, osz, osz === 2 ? retLo & 0xffff : retLo, osz === 8 ? retHi : 0);
    checkTargetIp(c, d, lo, hi);
    setAccessed(c, sel, d);
    adjustSp(c, -2 * osz);
    commitCs(c, sel, d, c.cpl);
    c.ripLo = lo; c.ripHi = hi;
    return;
  }
  const g = callGate(c, sel, d);
  const t = gateTarget(c, g, Kind.Call);
  const gsz = c.longMode ? 8 : g.type === 4 ? 2 : 4;
  const lo = gsz === 2 ? g.gateOffset & 0xffff : g.gateOffset | 0;
  const hi = gsz === 8 ? g.gateOffsetHi : 0;
  const cpl = c.cpl;
  if ((t.type & 4) === 0 && t.dpl < cpl) {
    callMorePrivileged(c, g, t, gsz, lo, hi, oldCs, retLo, retHi);
    return;
  }
  // Same privilege through a gate: push CS:EIP with the gate's size on the current stack.
  curWrite(c, -gsz, gsz, oldCs, 0);
  curWrite(c, -2 * gsz, gsz, gsz === 2 ? retLo & 0xffff : retLo, gsz === 8 ? retHi : 0);
  checkTargetIp(c, t, lo, hi);
  setAccessed(c, g.gateSelector, t);
  adjustSp(c, -2 * gsz);
  commitCs(c, g.gateSelector, t, cpl);
  c.ripLo = lo; c.ripHi = hi;
}

/** CALL through a gate to an inner level: the TSS stack, parameters, then CS (SDM vol. 3A §5.8.5). */
function callMorePrivileged(
  c: Cpu, g: Descriptor, t: Descriptor, gsz: number, lo: number, hi: number,
  oldCs: number, retLo: number, retHi: number,
): void {
  const dpl = t.dpl;
  const oldSs = c.segSel[Seg.SS];
  const oldSpLo = c.lo[RSP], oldSpHi = c.hi[RSP];
  readTssStack(c, dpl);
  const newSs = tssSs, spLo = tssSpLo, spHi = tssSpHi;
  if (gsz === 8) {
    // IA-32e: SS becomes a null selector with RPL = new CPL; four 8-byte pushes.
    frame.init(c, 0, 0, 0, 64, spLo, spHi, 0);
    frame.reserve(32);
    checkTargetIp(c, t, lo, hi);
    setAccessed(c, g.gateSelector, t);
    frame.push(8, oldSs, 0);
    frame.push(8, oldSpLo, c.stackBits === 64 ? oldSpHi : 0);
    frame.push(8, oldCs, 0);
    frame.push(8, retLo, c.bitness === 64 ? retHi : 0);
    const nLo = frame.spLo, nHi = frame.spHi;
    commitCs(c, g.gateSelector, t, dpl);
    commitNullSs(c, dpl);
    c.lo[RSP] = nLo; c.hi[RSP] = nHi;
    c.ripLo = lo; c.ripHi = hi;
    return;
  }
  const ssd = checkInnerStack(c, newSs, dpl, 0);
  const bits = ssd.attr & 0x4000 ? 32 : 16;
  const n = g.paramCount;
  frame.init(c, ssd.base, ssd.limit, ssd.attr, bits, spLo, 0, newSs & 0xfffc);
  frame.reserve((4 + n) * gsz);
  checkTargetIp(c, t, lo, hi);
  // Parameters from the caller's stack (normal reads at the old CPL).
  for (let i = 0; i < n; i++) params[i] = curRead(c, i * gsz, gsz);
  setAccessed(c, newSs, ssd);
  setAccessed(c, g.gateSelector, t);
  const oldSp = c.stackBits === 16 ? oldSpLo & 0xffff : oldSpLo;
  frame.push(gsz, oldSs);
  frame.push(gsz, gsz === 2 ? oldSp & 0xffff : oldSp);
  for (let i = n - 1; i >= 0; i--) frame.push(gsz, params[i]);
  frame.push(gsz, oldCs);
  frame.push(gsz, gsz === 2 ? retLo & 0xffff : retLo);
  const nsp = frame.spLo;
  commitCs(c, g.gateSelector, t, dpl);
  commitSs(c, newSs, ssd);
  if (bits === 32) c.lo[RSP] = nsp;
  else c.lo[RSP] = (c.lo[RSP] & ~0xffff) | (nsp & 0xffff);
  c.ripLo = lo; c.ripHi = 0;
}

// ---- far RET ---------------------------------------------------------------------------------------

/** Far RET (CB, CA iw) in protected/IA-32e mode with operand size osz (SDM vol. 2B RET). */
export function farRetProtected(c: Cpu, osz: number, imm: number): void {
  let ipLo = curRead(c, 0, osz);
  let ipHi = osz === 8 ? c.vHi : 0;
  if (osz === 2) ipLo &= 0xffff;
  const cs = curRead(c, osz, osz) & 0xffff;
  if (isNullSelector(cs)) throw gp0('null return code segment selector');
  const d = readDescriptor(c, cs, Vector.GP);
  const rpl = cs & 3;
  if (d.s === 0 || (d.type & 8) === 0) throw selectorFault(Vector.GP, cs, 0, 'return to a non-code segment');
  if (rpl < c.cpl) throw selectorFault(Vector.GP, cs, 0, 'return to a more privileged level');
  if (c.longMode && (d.attr & 0x6000) === 0x6000) throw selectorFault(Vector.GP, cs, 0, 'code segment with both L and D set');
  if (d.type & 4 ? d.dpl > rpl : d.dpl !== rpl) throw selectorFault(Vector.GP, cs, 0, 'return code segment privilege');
  if (!d.present) throw selectorFault(Vector.NP, cs, 0, 'return code segment not present');
  const to64 = targetIs64(c, d);
  if (!to64) ipHi = 0;
  if (rpl === c.cpl) {
    checkTargetIp(c, d, ipLo, ipHi);
    setAccessed(c, cs, d);
    adjustSp(c, 2 * osz + imm);
    commitCs(c, cs, d, rpl);
    c.ripLo = ipLo; c.ripHi = ipHi;
    return;
  }
  // Return to an outer level: SS:ESP follow the immediate's bytes.
  const base = 2 * osz + imm;
  const spLo = curRead(c, base, osz);
  const spHi = osz === 8 ? c.vHi : 0;
  const ss = curRead(c, base + osz, osz) & 0xffff;
  let ssd: Descriptor | null = null;
  if (isNullSelector(ss)) {
    // IA-32e mode: a null SS is allowed when returning to 64-bit mode at CPL < 3.
    if (!(to64 && rpl !== 3)) throw gp0('null SS on a return to an outer level');
  } else {
    ssd = readDescriptor(c, ss, Vector.GP);
    if ((ss & 3) !== rpl || ssd.s === 0 || (ssd.type & 0xa) !== 2 || ssd.dpl !== rpl) {
      throw selectorFault(Vector.GP, ss, 0, 'invalid return stack segment');
    }
    if (!ssd.present) throw selectorFault(Vector.SS, ss, 0, 'return stack segment not present');
  }
  checkTargetIp(c, d, ipLo, ipHi);
  setAccessed(c, cs, d);
  if (ssd !== null) setAccessed(c, ss, ssd);
  commitCs(c, cs, d, rpl);
  if (ssd !== null) commitSs(c, ss, ssd);
  else commitNullSs(c, rpl, ss);
  // ESP/RSP from the stack (a 16-bit operand size loads SP only), then the immediate is released
  // from the new stack too.
  if (osz === 8) { c.lo[RSP] = spLo; c.hi[RSP] = spHi; }
  else if (osz === 4) { c.lo[RSP] = spLo; c.hi[RSP] = 0; }
  else c.lo[RSP] = (c.lo[RSP] & ~0xffff) | (spLo & 0xffff);
  adjustSp(c, imm);
  c.ripLo = ipLo; c.ripHi = ipHi;
  nullInvalidDataSegments(c);
}
