/**
 * The debugger's breakpoints on the processor (host-side, invisible to the guest — unlike the
 * guest's own debug registers in debugRegs.ts, which raise #DB in the guest).
 *
 * - Code breakpoints: linear addresses of CS:RIP. The run loop asks `allow` once per translated
 *   block (never per instruction): the block runs up to, not including, the first instruction on
 *   a breakpoint, and `run` returns 'break' before it executes (a fault-like stop, as an
 *   instruction breakpoint of SDM vol. 3B §18.3.1.1). `skipLinear` lets a resume execute the
 *   instruction it is stopped on once (the role RFLAGS.RF plays for DR breakpoints).
 * - Watches (data breakpoints): guest-linear or guest-physical byte ranges, read / write /
 *   read-write. Their pages stay out of the software TLB (as DR data breakpoints, mmu.ts), so
 *   every access to them takes the slow path, which calls `access`; while any watch is armed the
 *   run loop executes one instruction per block and returns 'break' after an instruction that
 *   met one (a trap-like stop after the access, SDM vol. 3B §18.3.1.2). A faulting instruction's
 *   hits are dropped (it did not complete).
 *
 * Nothing costs anything while the Cpu's `hostDebug` is null; the engine sets it only while a
 * breakpoint is armed.
 */
import type { Block } from './block';
import { Seg } from './registers';
import { Access } from './mmu';

const TWO32 = 4294967296;

export type WatchKind = 'read' | 'write' | 'readWrite';

export interface Watch {
  id: number;
  /** First byte and length. */
  start: number;
  length: number;
  kind: WatchKind;
  /** true: guest-physical addresses; false: guest-linear. */
  physical: boolean;
}

export interface WatchHit {
  id: number;
  /** The address of the access (linear or physical, as the watch). */
  address: number;
  size: number;
  write: boolean;
}

/** What the processor needs of a Cpu here (kept minimal to avoid a cycle with cpu.ts). */
interface CpuView {
  bitness: 16 | 32 | 64;
  segBaseLo: Int32Array;
  translate(lo: number, hi: number, access: Access): number;
}

export class HostDebug {
  /**
   * Code breakpoints by linear address: the debugger's address numbers (src/debugger/address.ts),
   * the 64-bit address read as signed ((hi | 0) * 2^32 + lo), so upper-half addresses are exact.
   */
  private readonly code = new Set<number>();
  /** Linear 4 KiB pages holding a code breakpoint (the per-block check is one lookup). */
  private readonly codePages = new Map<number, number>();
  private watches: Watch[] = [];
  /** The linear address whose breakpoint is ignored for the first block after a resume (NaN: none; -1 is an address). */
  skipLinear = NaN;
  /** Watch hits of the instruction that just ran. */
  hits: WatchHit[] = [];

  get hasWatches(): boolean {
    return this.watches.length > 0;
  }

  get empty(): boolean {
    return this.code.size === 0 && this.watches.length === 0;
  }

  setCode(addresses: Iterable<number>): void {
    this.code.clear();
    this.codePages.clear();
    for (const a of addresses) {
      this.code.add(a);
      const p = Math.floor(a / 4096);
      this.codePages.set(p, (this.codePages.get(p) ?? 0) + 1);
    }
  }

  hasCode(linear: number): boolean {
    return this.code.has(linear);
  }

  /** Replace the watches; the caller flushes the TLB (the watched pages change). */
  setWatches(w: readonly Watch[]): void {
    this.watches = [...w];
  }

  /**
   * How many of block `b`'s first instructions may run (at most `left`): stops before the first
   * instruction on a code breakpoint, one instruction at a time while watches are armed. 0: the
   * instruction at RIP is on a breakpoint (the run returns 'break').
   */
  allow(c: CpuView, b: Block, left: number): number {
    const skip = this.skipLinear;
    this.skipLinear = NaN;
    if (this.watches.length > 0 && left > 1) left = 1;
    if (this.code.size === 0) return left;
    const base = c.bitness === 64 ? 0 : c.segBaseLo[Seg.CS] >>> 0;
    const lin = (i: number): number => {
      if (c.bitness === 64) return (b.ipHi[i] | 0) * TWO32 + (b.ipLo[i] >>> 0);
      return ((b.ipLo[i] >>> 0) + base) % TWO32;
    };
    const first = lin(0);
    // A block stays on its page except for its last instruction, which may cross into the next.
    const p = Math.floor(first / 4096);
    if (!this.codePages.has(p) && !this.codePages.has(p + 1)) return left;
    const n = b.n < left ? b.n : left;
    for (let i = 0; i < n; i++) {
      const a = i === 0 ? first : lin(i);
      if (this.code.has(a) && !(i === 0 && a === skip)) return i;
    }
    return left;
  }

  /** A slow-path access of `n` bytes at linear (lo, hi): record the watches it meets. */
  access(c: CpuView, lo: number, hi: number, n: number, write: boolean): void {
    const linear = (hi | 0) * TWO32 + (lo >>> 0);
    let phys = -1;
    for (const w of this.watches) {
      if (write ? w.kind === 'read' : w.kind === 'write') continue;
      let a = linear;
      if (w.physical) {
        if (phys < 0) phys = c.translate(lo, hi, write ? Access.Write : Access.Read);
        a = phys;
      }
      if (a < w.start + w.length && a + n > w.start) this.hits.push({ id: w.id, address: a, size: n, write });
    }
  }

  /**
   * True when the linear page of (lo, hi) holds a watched byte: it must not enter the TLB. A
   * physical watch is matched through the page's translation (translated again on the access).
   */
  watchedPage(c: CpuView, lo: number, hi: number): boolean {
    const linear = (hi | 0) * TWO32 + (lo >>> 0);
    const page = Math.floor(linear / 4096);
    let ppage = -1;
    for (const w of this.watches) {
      let p = page;
      if (w.physical) {
        if (ppage < 0) ppage = Math.floor(c.translate(lo, hi, Access.Read) / 4096);
        p = ppage;
      }
      if (p >= Math.floor(w.start / 4096) && p <= Math.floor((w.start + w.length - 1) / 4096)) return true;
    }
    return false;
  }
}
