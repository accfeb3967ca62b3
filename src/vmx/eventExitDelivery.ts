/**
 * Event delivery in VMX non-root operation (SDM vol. 3C §25.2 "Other Causes of VM Exits",
 * §25.3 IRET, §25.4.2 task switches, §27.2.2-27.2.4 exit information):
 *  - the exception bitmap decides whether an exception (hardware exception, INT1, INT3, INTO)
 *    exits (reason 0); for #PF the page-fault error-code mask/match inverts bit 14's meaning;
 *  - the double-fault rules of vol. 3A §6.15 run as outside VMX; a fault while delivering #DF
 *    that the bitmap does not take is a triple fault, which exits (reason 2) instead of shutdown;
 *  - an exit during delivery (an exception the bitmap takes, a task gate, an EPT violation or
 *    misconfiguration, an APIC access) records the event being delivered in the IDT-vectoring
 *    fields (§27.2.4) — but not when the event (or the #DF it became) exits directly, nor for a
 *    triple fault;
 *  - an exception exit reports NMI unblocking due to IRET (interruption information bit 12).
 */
import type { Cpu } from '../x86/cpu';
import type { DecodedInsn } from '../x86/decoded';
import { CpuException, Vector } from '../x86/exceptions';
import { EventKind, becomesDoubleFault, deliverOnce, loadCr2, withExt } from '../x86/interrupts';
import { PageFault } from '../x86/paging';
import { VM_EXIT } from '../x86/vmxHooks';
import { VM_EXIT_DEFERRED } from '../x86/vmxEventHooks';
import { DeferredVmExit } from '../x86/vmxEptHooks';
import { Mnemonic } from 'iced-x86';
import type { VmxEngine } from './engine';
import {
  Activity, Deferred, EXIT_EXCEPTION_NMI, EXIT_TASK_SWITCH, EXIT_TRIPLE_FAULT, INFO_EC, INFO_NMI_UNBLOCK,
  I_EXIT_LEN, I_GUEST_RIP, I_IDT_ERR, I_IDT_INFO, I_PFEC_MASK, I_PFEC_MATCH, PIN_NMI, PIN_VIRTUAL_NMIS,
  eventState, exceptionHasEc, interruptionInfo, onExit, takeExit,
} from './eventExitCore';
import type { EventState } from './eventExitCore';

/** VMX interruption type of an event the processor raises, from how it arose (§24.9.2). */
export function typeOfKind(kind: number, vector: number): number {
  switch (kind) {
    case EventKind.Exception: return 3;
    case EventKind.Icebp: return 5;
    // INT3 and INTO are software exceptions (6); INT n software interrupts (4). The op does not
    // say which opcode it was; CD 03 / CD 04 are taken as INT3 / INTO (completeDeferred knows).
    case EventKind.Software: return vector === Vector.BP || vector === Vector.OF ? 6 : 4;
    // External: an interrupt; callers delivering an NMI pass type 2 explicitly.
    default: return 0;
  }
}

/**
 * The exception bitmap (§24.6.3, §25.2): bit `vector` says whether the exception exits; for #PF,
 * when (error code AND mask) = match the exception exits iff bit 14 is 1, otherwise iff it is 0.
 */
export function exceptionExits(engine: VmxEngine, vector: number, errorCode: number): boolean {
  const bit = (engine.exceptionBitmap >>> vector) & 1;
  if (vector !== Vector.PF) return bit === 1;
  const v = engine.current!;
  const matches = ((errorCode & v.lo[I_PFEC_MASK]) | 0) === (v.lo[I_PFEC_MATCH] | 0);
  return matches ? bit === 1 : bit === 0;
}

/**
 * Exit qualification of an exception exit (§27.2.1 table 27-1): #PF the faulting linear
 * address (CR2 is not loaded, §27.1), #DB the DR6-format bits of the debug exception (DR6 is not
 * updated); 0 otherwise. High half in c.vHi.
 */
function exceptionQualification(c: Cpu, st: EventState, vector: number, type: number, source: CpuException | null): number {
  c.vHi = 0;
  if (vector === Vector.PF && source instanceof PageFault) {
    c.vHi = source.linearHi;
    return source.linearLo;
  }
  if (vector === Vector.DB && type === 3) {
    const q = st.dbQual;
    st.dbQual = -1;
    // A #DB raised by an op is the general-detect fault of MOV DR (BD, bit 13).
    return q >= 0 ? q : 0x2000;
  }
  return 0;
}

/** Bit 12 of the exit interruption information (§27.2.3): the exception came from an IRET that unblocked NMIs. */
function nmiUnblockBit(engine: VmxEngine, st: EventState, vector: number, idtInfo: number): number {
  const unblocked = st.iretUnblocked;
  st.iretUnblocked = false;
  if (!unblocked || idtInfo !== 0 || vector === Vector.DF) return 0;
  // Undefined (0 here) when NMI exiting is 1 and virtual NMIs is 0.
  if ((engine.pin & PIN_NMI) !== 0 && (engine.pin & PIN_VIRTUAL_NMIS) === 0) return 0;
  return INFO_NMI_UNBLOCK;
}

/** Record the IDT-vectoring fields after an exit another part performed during delivery (EPT, APIC access). */
function patchVectoring(engine: VmxEngine, info: number, err: number, len: number): void {
  const v = engine.current;
  if (v === null) return;
  const lo = v.lo;
  lo[I_IDT_INFO] = info;
  if ((info & INFO_EC) !== 0) lo[I_IDT_ERR] = err;
  if (((info >>> 8) & 7) >= 4 && ((info >>> 8) & 7) <= 6) lo[I_EXIT_LEN] = len;
}

/** After another part's exit during delivery: IDT vectoring (when an event was being delivered), state saved, run loop told. */
function exitedDuring(engine: VmxEngine, c: Cpu, info: number, err: number, len: number): void {
  if (info !== 0) patchVectoring(engine, info, err, len);
  onExit.save(engine);
  c.exitTaken = true;
  c.eventPending = true;
}

/**
 * Deliver an event in non-root operation (EventExitHooks.deliver): exits as the file comment
 * says, otherwise through the guest IDT. Returns normally in every case.
 */
export function deliverVmx(
  engine: VmxEngine, c: Cpu, vector: number, ec: number | undefined, kind: number, retLo: number, retHi: number,
  source: CpuException | null, vmxType: number, insnLen: number, injected = false,
): void {
  const st = eventState(engine);
  let v = vector, code = ec, k = kind, src = source, len = insnLen;
  let t = vmxType >= 0 ? vmxType : typeOfKind(kind, vector);
  // The event whose delivery raised the current one (IDT vectoring), 0 when none.
  let prevInfo = 0, prevErr = 0, prevLen = 0;
  if (src !== null && src === st.swFault) {
    // A fault while INT n/INT3/INTO/INT1 was being delivered from its op (softwareInterruptVmx):
    // RIP is back at that instruction, whose length follows from the return address it used.
    prevInfo = st.swInfo;
    prevLen = (st.swNextLo - c.ripLo) & (c.bitness === 16 ? 0xffff : -1);
    if (prevLen < 0 || prevLen > 15) prevLen = 0;
    st.swFault = null;
  }
  if (src instanceof DeferredVmExit) {
    // An EPT violation/misconfiguration or APIC access of an instruction (or of the delivery of
    // a software interrupt from its op): the exit, at the instruction (vmxEptHooks.ts).
    src.take(c);
    exitedDuring(engine, c, prevInfo, prevErr, prevLen);
    return;
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    // ---- exits caused directly by this event (§25.2 exception bitmap; an event injected by VM
    // entry is delivered without consulting it, §26.6.1.2) ----
    if ((t === 3 || t === 5 || t === 6) && v < 32 && !(injected && attempt === 0) && exceptionExits(engine, v, code ?? 0)) {
      const withEc = exceptionHasEc(v, t);
      const qual = exceptionQualification(c, st, v, t, src);
      const info = interruptionInfo(v, t, withEc) | nmiUnblockBit(engine, st, v, prevInfo);
      // Software exceptions exit with RIP at the instruction and its length (§27.2.5).
      const exitLen = t === 5 || t === 6 ? len : prevInfo !== 0 && ((prevInfo >>> 8) & 7) >= 4 && ((prevInfo >>> 8) & 7) <= 6 ? prevLen : 0;
      takeExit(engine, EXIT_EXCEPTION_NMI, qual, c.vHi, exitLen, c.ripLo, c.ripHi, info, code ?? 0, prevInfo, prevErr);
      return;
    }
    st.iretUnblocked = false;
    const curInfo = interruptionInfo(v, t, exceptionHasEc(v, t));
    const curErr = code ?? 0;
    st.vecInfo = curInfo;
    st.vecErr = curErr;
    st.vecLen = len;
    try {
      if (v === Vector.PF && k === EventKind.Exception && src !== null) loadCr2(c, src);
      // The general-detect #DB of MOV DR (raised by the op) reports BD in DR6 when delivered.
      if (v === Vector.DB && t === 3 && src !== null) c.dr6 = (c.dr6 | 0x2000) >>> 0;
      deliverOnce(c, v, code, k, retLo, retHi);
      st.vecInfo = 0;
      if (st.activity === Activity.Shutdown && t === 2) st.activity = Activity.Active;
      // An event delivered before an instruction could execute: MTF follows it (§25.5.2).
      if (st.mtf === 2) st.mtf = 1;
      if (st.mtf !== 0) c.eventPending = true;
      return;
    } catch (x) {
      st.vecInfo = 0;
      if (x instanceof DeferredVmExit) {
        // EPT violation/misconfiguration or APIC access during delivery (§27.2.4): RIP is the
        // guest's as before the event; the event being delivered is the IDT vectoring.
        x.take(c);
        exitedDuring(engine, c, curInfo, curErr, len);
        return;
      }
      if (x === VM_EXIT) {
        // Another part exited during delivery: it is "during event delivery".
        exitedDuring(engine, c, curInfo, curErr, len);
        return;
      }
      if (x === VM_EXIT_DEFERRED) {
        // A task gate in the IDT (§25.4.2): the exit needs no instruction here; RIP is current.
        completeTaskSwitch(engine, st, c.ripLo, c.ripHi, len, curInfo, curErr);
        return;
      }
      if (!(x instanceof CpuException)) throw x;
      const ext = k === EventKind.Software ? 0 : 1;
      const second = withExt(x, ext);
      const hw = k === EventKind.Exception;
      // The exception raised during delivery meets the exception bitmap before the double-fault
      // rules: an exit then records the event being delivered (§25.2, §27.2.4).
      if (exceptionExits(engine, second.vector, second.errorCode ?? 0)) {
        const sv = second.vector;
        const qual = exceptionQualification(c, st, sv, 3, x);
        const exitLen = t >= 4 && t <= 6 ? len : 0;
        const sinfo = interruptionInfo(sv, 3, exceptionHasEc(sv, 3));
        takeExit(engine, EXIT_EXCEPTION_NMI, qual, c.vHi, exitLen, c.ripLo, c.ripHi, sinfo, second.errorCode ?? 0, curInfo, curErr);
        return;
      }
      if (hw && v === Vector.DF) {
        // Triple fault (§25.2): a VM exit, not shutdown; not "during event delivery" (§27.2.4).
        takeExit(engine, EXIT_TRIPLE_FAULT, 0, 0, 0, c.ripLo, c.ripHi, 0, 0, 0, 0);
        return;
      }
      const sv = second.vector;
      if (hw && becomesDoubleFault(v, sv)) {
        // A #DF that exits does so directly: no IDT-vectoring information (§27.2.4).
        v = Vector.DF;
        code = 0;
        src = null;
        prevInfo = 0;
        prevErr = 0;
        prevLen = 0;
      } else {
        v = sv;
        code = second.errorCode;
        src = x;
        prevInfo = curInfo;
        prevErr = curErr;
        prevLen = len;
      }
      // The nested exception is a fault of the current instruction or boundary: it returns to
      // RIP, not past a software interrupt.
      if (k === EventKind.Software || k === EventKind.Icebp) {
        retLo = c.ripLo;
        retHi = c.ripHi;
      }
      k = EventKind.Exception;
      t = 3;
      len = 0;
    }
  }
  takeExit(engine, EXIT_TRIPLE_FAULT, 0, 0, 0, c.ripLo, c.ripHi, 0, 0, 0, 0);
}

/**
 * INT n / INT3 / INTO / INT1 from the op (EventExitHooks.softwareInterrupt): INT3/INTO (software
 * exceptions) and INT1 (privileged software exception) consult the exception bitmap; an exit
 * takes RIP at the instruction and its length (completed by completeDeferred). A fault during
 * delivery becomes the instruction's fault, remembered for its IDT-vectoring information.
 */
export function softwareInterruptVmx(engine: VmxEngine, c: Cpu, vector: number, kind: number, nextLo: number, nextHi: number): void {
  const st = eventState(engine);
  const t = typeOfKind(kind, vector);
  if (t !== 4 && exceptionExits(engine, vector, 0)) {
    st.defKind = Deferred.SoftwareException;
    st.defVector = vector;
    throw VM_EXIT_DEFERRED;
  }
  const info = interruptionInfo(vector, t, false);
  st.vecInfo = info;
  st.vecErr = 0;
  st.vecLen = 0;
  try {
    deliverOnce(c, vector, undefined, kind, nextLo, nextHi);
  } catch (x) {
    st.vecInfo = 0;
    if (x === VM_EXIT) {
      // EPT/APIC-access exit during delivery: fix the vectoring fields, RIP and length with the instruction.
      st.defKind = Deferred.PatchAfterExit;
      st.defIdtInfo = info;
      throw VM_EXIT_DEFERRED;
    }
    if (x === VM_EXIT_DEFERRED) {
      // Through a task gate: completeDeferred takes the exit with this event as vectoring.
      st.defIdtInfo = info;
      st.defIdtErr = 0;
      throw x;
    }
    if (x instanceof CpuException) {
      const e = withExt(x, kind === EventKind.Software ? 0 : 1);
      st.swFault = e;
      st.swInfo = info;
      st.swNextLo = nextLo;
      throw e;
    }
    throw x;
  }
  st.vecInfo = 0;
  st.iretUnblocked = false;
  if (st.mtf !== 0) c.eventPending = true;
}

/** The interruption type of the software-interrupt instruction `d` (§24.9.2). */
function typeOfInsn(d: DecodedInsn, fallback: number): number {
  switch (d.mnemonic) {
    case Mnemonic.Int1: return 5;
    case Mnemonic.Int3: case Mnemonic.Into: return 6;
    case Mnemonic.Int: return 4;
    default: return fallback;
  }
}

/** Task switch exit (reason 9, §27.2.1 table 27-3: selector 15:0, source 31:30). */
function completeTaskSwitch(
  engine: VmxEngine, st: EventState, ripLo: number, ripHi: number, len: number, idtInfo: number, idtErr: number,
): void {
  const qual = st.defQual;
  st.defKind = Deferred.None;
  takeExit(engine, EXIT_TASK_SWITCH, qual, 0, len, ripLo, ripHi, 0, 0, idtInfo, idtErr);
}

/** EventExitHooks.taskSwitch: record and defer (§25.4.2). */
export function taskSwitchVmx(engine: VmxEngine, selector: number, source: number): never {
  const st = eventState(engine);
  st.defKind = Deferred.TaskSwitch;
  st.defQual = ((selector & 0xffff) | ((source & 3) << 30)) | 0;
  st.defIdtInfo = st.vecInfo;
  st.defIdtErr = st.vecErr;
  throw VM_EXIT_DEFERRED;
}

/** EventExitHooks.completeDeferred: the exit recorded by an op's hook, at instruction `d`. */
export function completeDeferredVmx(engine: VmxEngine, c: Cpu, d: DecodedInsn): boolean {
  const st = eventState(engine);
  const kind = st.defKind;
  st.defKind = Deferred.None;
  if (kind === Deferred.SoftwareException) {
    const t = typeOfInsn(d, 6);
    if (t === 4) {
      // CD 03 / CD 04: INT n, a software interrupt, which the exception bitmap does not take.
      // Deliver it now from the instruction (faults in delivery are its own, with vectoring).
      c.ripLo = d.ipLo;
      c.ripHi = d.ipHi;
      deliverVmx(engine, c, st.defVector, undefined, EventKind.Software, d.nextLo, d.nextHi, null, 4, d.length);
      return c.exitTaken;
    }
    const info = interruptionInfo(st.defVector, t, false) | nmiUnblockBit(engine, st, st.defVector, 0);
    const qual = 0;
    takeExit(engine, EXIT_EXCEPTION_NMI, qual, 0, d.length, d.ipLo, d.ipHi, info, 0, 0, 0);
  } else if (kind === Deferred.TaskSwitch) {
    let idt = st.defIdtInfo;
    if (idt !== 0) idt = (idt & ~0x700) | (typeOfInsn(d, (idt >>> 8) & 7) << 8);
    completeTaskSwitch(engine, st, d.ipLo, d.ipHi, d.length, idt, st.defIdtErr);
  } else if (kind === Deferred.PatchAfterExit) {
    // The exit is done; the saved guest RIP must be this instruction's address (§27.3.3).
    const idt = (st.defIdtInfo & ~0x700) | (typeOfInsn(d, (st.defIdtInfo >>> 8) & 7) << 8);
    patchVectoring(engine, idt, 0, d.length);
    const v = engine.current;
    if (v !== null) {
      v.lo[I_GUEST_RIP] = d.ipLo;
      v.hi[I_GUEST_RIP] = d.ipHi;
    }
    onExit.save(engine);
  }
  st.defIdtInfo = 0;
  st.defIdtErr = 0;
  return true;
}

/** EventExitHooks.iret: IRET and NMI blocking in non-root operation (§25.3). */
export function iretVmx(engine: VmxEngine, c: Cpu): void {
  const st = eventState(engine);
  const pin = engine.pin;
  if ((pin & PIN_NMI) === 0 || (pin & PIN_VIRTUAL_NMIS) !== 0) {
    // NMI exiting 0: IRET unblocks NMIs; virtual NMIs 1: it removes virtual-NMI blocking.
    st.iretUnblocked = c.nmiBlocked;
    c.nmiBlocked = false;
  } else {
    // NMI exiting 1, virtual NMIs 0: IRET does not affect blocking of NMIs.
    st.iretUnblocked = false;
  }
  c.eventPending = true;
}

/** For other parts (EPT violation qualification bit 12): the current instruction is an IRET that unblocked NMIs. */
export function nmiUnblockedByIret(engine: VmxEngine): boolean {
  return eventState(engine).iretUnblocked;
}
