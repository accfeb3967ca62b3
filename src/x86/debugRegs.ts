/**
 * Debug-register breakpoints (SDM vol. 3B chapter 18, §18.2 debug registers, §18.3.1 #DB
 * conditions).
 *
 * DR7 enables up to four breakpoints; DR0-DR3 hold their linear addresses. This module decodes
 * DR7 into a compact form kept on the processor (`updateDebugState`), so that nothing costs
 * anything while DR7 enables no breakpoint:
 *
 * - Instruction breakpoints (R/W = 00): while one is enabled (`c.dbgCode` != 0) `serviceEvents`
 *   (interrupts.ts) runs at every block boundary; when the code about to run is on the page of
 *   a breakpoint (`codeBreakpointNear`) the run loop executes one instruction at a time and the
 *   linear address of CS:RIP is compared with the breakpoints before each (`codeBreakpoints`). A match
 *   is a fault-class #DB taken before the instruction executes; RFLAGS.RF = 1 suppresses it for
 *   one instruction (§18.3.1.1). The #DB's saved RF is the current RF (0), as §18.3.1.1 lists.
 *   An instruction breakpoint on the instruction right after MOV SS / POP SS is not reported
 *   (the SDM allows this: "the breakpoint will not be triggered").
 * - Data breakpoints (R/W = 01 write, 11 read or write): the pages that hold a watched address
 *   are kept out of the software TLB (mmu.ts), so every access to them takes the slow path,
 *   which compares the access with the watched ranges (`Mmu.dbgCheck`) and records hits in
 *   `c.dbgHits`. The run loop executes one instruction at a time while data breakpoints are
 *   enabled (I/O instructions end their block, so I/O breakpoints need no stepping) and
 *   `serviceEvents` turns the hits of the instruction that just completed into a trap-class #DB (§18.3.1.2), together with a pending single-step (BS) if any. A faulting
 *   instruction's hits are discarded. Deviation: a REP string instruction reports its hit after
 *   the whole instruction rather than after the iteration that hit (§18.3.1.2 takes the trap
 *   after the iteration).
 * - I/O breakpoints (R/W = 10 with CR4.DE = 1, §18.2.4): IN/OUT/INS/OUTS compare their port
 *   range with DRn[15:0] (aligned down to LEN) before the permission check (`ioBreakpoint`);
 *   a hit is a trap after the instruction, like a data breakpoint (§18.3.1.2 "Data Memory and
 *   I/O Breakpoint Exception Conditions"). R/W = 10 without CR4.DE is undefined and ignored.
 * - LEN (§18.2.5): 00 = 1 byte, 01 = 2, 11 = 4, 10 = 8 (IA-32e capable processors); the low
 *   address bits below the length are ignored (the range is aligned down). Instruction
 *   breakpoints use LEN = 00; other lengths are treated as 1 byte.
 * - DR6.B0-B3 (§18.2.3): set for each enabled breakpoint whose condition is met when the #DB is
 *   taken; a breakpoint whose condition is met but that DR7 does not enable sets its B bit too
 *   when the #DB is generated (instruction breakpoints at that address; data breakpoints whose
 *   range the same slow-path access overlaps) — the SDM says such bits "may or may not be set".
 *   B0-B3 accumulate (the processor never clears them).
 * - Task switches clear DR7.L0-L3 (§18.2.4).
 */
import type { Cpu } from './cpu';
import { Seg } from './registers';

/** Length in bytes of DR7.LENn (SDM vol. 3B §18.2.5). */
const LEN_BYTES = [1, 2, 8, 4];

/**
 * Recompute the decoded breakpoints from DR7 and DR0-DR3 after any of them (or CR4.DE) changed.
 * Flushes the TLB when the set of watched data pages changes.
 */
export function updateDebugState(c: Cpu): void {
  const dr7 = c.dr7;
  let code = 0, data = 0, codeAll = 0, dataAll = 0, io = 0;
  const de = (c.cr4 & 8) !== 0;
  for (let k = 0; k < 4; k++) {
    const en = (dr7 >>> (2 * k)) & 3;
    const rw = (dr7 >>> (16 + 4 * k)) & 3;
    const len = rw === 0 ? 1 : LEN_BYTES[(dr7 >>> (18 + 4 * k)) & 3];
    c.dbgLen[k] = len;
    c.dbgRw[k] = rw;
    c.dbgLo[k] = c.drLo[k] & ~(len - 1);
    c.dbgHi[k] = c.drHi[k];
    if (rw === 0) {
      codeAll |= 1 << k;
      if (en !== 0) code |= 1 << k;
    } else if (rw === 1 || rw === 3) {
      dataAll |= 1 << k;
      if (en !== 0) data |= 1 << k;
    } else if (de && en !== 0) {
      io |= 1 << k;
    }
  }
  const dataChanged = data !== 0 || c.dbgWatch !== 0;
  c.dbgCode = code;
  c.dbgCodeAll = codeAll;
  c.dbgWatch = data;
  c.dbgWatchAll = dataAll;
  c.dbgIo = io;
  c.debugActive = code !== 0 || data !== 0 || io !== 0;
  if (dataChanged) c.flushTlb();
  // The run loop looks at events between instructions while breakpoints are enabled.
  if (c.debugActive) c.eventPending = true;
}

/** Linear address of CS:RIP, low half (high half in c.linHi); no limit checks (fetch does them). */
function ripLinear(c: Cpu): number {
  if (c.bitness === 64) {
    c.linHi = c.ripHi;
    return c.ripLo;
  }
  c.linHi = 0;
  return ((c.ripLo >>> 0) + c.segBaseLo[Seg.CS]) | 0;
}

/**
 * Instruction breakpoints matching the instruction at CS:RIP: a mask of DR6.B0-B3 bits, 0 when no
 * enabled breakpoint matches. When an enabled one matches, matching breakpoints that DR7 does
 * not enable are included (SDM vol. 3B §18.2.3). RF = 1 suppresses them (§18.3.1.1).
 */
export function codeBreakpoints(c: Cpu): number {
  if ((c.flagsRest & 0x10000) !== 0) return 0;
  const lo = ripLinear(c), hi = c.linHi;
  let hit = 0;
  const all = c.dbgCodeAll;
  for (let k = 0; k < 4; k++) {
    if (((all >>> k) & 1) !== 0 && c.dbgLo[k] === lo && c.dbgHi[k] === hi) hit |= 1 << k;
  }
  return (hit & c.dbgCode) !== 0 ? hit : 0;
}

/**
 * An I/O instruction accesses ports port..port+size-1: record the enabled I/O breakpoints it
 * meets (SDM vol. 3B §18.2.4, R/W = 10 with CR4.DE = 1); reported as a trap after it.
 */
export function ioBreakpoint(c: Cpu, port: number, size: number): void {
  const m = c.dbgIo;
  let hit = 0;
  for (let k = 0; k < 4; k++) {
    if (((m >>> k) & 1) === 0) continue;
    const b = c.dbgLo[k] & 0xffff;
    if (port < b + c.dbgLen[k] && port + size > b) hit |= 1 << k;
  }
  if (hit !== 0) {
    c.dbgHits |= hit;
    c.eventPending = true;
  }
}

/**
 * True when an enabled instruction breakpoint lies on the linear page of CS:RIP or in the first
 * bytes of the next one: a translated block never leaves its page except for one instruction
 * that crosses the boundary, so otherwise the whole block can run without looking.
 */
export function codeBreakpointNear(c: Cpu): boolean {
  const lo = ripLinear(c), hi = c.linHi;
  const page = lo & ~0xfff;
  if (page === -4096) return true; // the next page is across a 4 GiB boundary: be safe
  const m = c.dbgCode;
  for (let k = 0; k < 4; k++) {
    if (((m >>> k) & 1) !== 0 && c.dbgHi[k] === hi && ((c.dbgLo[k] - page) >>> 0) < 0x1010) return true;
  }
  return false;
}

/** Clear DR7.L0-L3 on a task switch (SDM vol. 3B §18.2.4). */
export function taskSwitchDebug(c: Cpu): void {
  if ((c.dr7 & 0x55) === 0) return;
  c.dr7 &= ~0x55;
  updateDebugState(c);
}
