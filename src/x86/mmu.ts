/**
 * Linear-address memory access with a software TLB (SDM vol. 3A §4.10 for the real TLB's rules).
 * A hit is an index, two compares and typed-array loads. Misses translate through `translate()`
 * (identity until paging arrives with the system-architecture layer) and fill the TLB.
 *
 * Self-modifying code: pages holding translated code are never entered into the write TLB, so
 * every write to them takes the slow path, which drops the translated code first.
 *
 * Values: 8/16-bit reads return zero-extended numbers, 32-bit reads an int32, 64-bit reads the
 * low half as int32 with the high half in `vHi`.
 */
import { CpuState } from './state';
import { gp0 } from './exceptions';
import { PhysicalMemory, PAGE_SIZE } from './physicalMemory';
import type { HostDebug } from './hostDebug';

export const TLB_BITS = 8;
export const TLB_SIZE = 1 << TLB_BITS;
const TLB_MASK = TLB_SIZE - 1;
const TWO32 = 4294967296;

/** Kind of access, for translation and fault reporting. */
export const enum Access {
  Read = 0,
  Write = 1,
  Execute = 2,
  /** Bit set for an implicit supervisor access (descriptor tables, IDT, TSS: SDM vol. 3A §4.6). */
  System = 4,
}

export abstract class Mmu extends CpuState {
  readonly tlbRLo = new Int32Array(TLB_SIZE).fill(-1);
  readonly tlbRHi = new Int32Array(TLB_SIZE);
  readonly tlbRPage: (Uint8Array | null)[] = new Array<Uint8Array | null>(TLB_SIZE).fill(null);
  readonly tlbWLo = new Int32Array(TLB_SIZE).fill(-1);
  readonly tlbWHi = new Int32Array(TLB_SIZE);
  readonly tlbWPage: (Uint8Array | null)[] = new Array<Uint8Array | null>(TLB_SIZE).fill(null);
  readonly tlbWPpn = new Float64Array(TLB_SIZE).fill(-1);

  // Location prepared by rmwBegin for the write-back of a read-modify-write instruction.
  private rmwPage: Uint8Array | null = null;
  private rmwOff = 0;
  private rmwLo = 0;
  private rmwHi = 0;

  // ---- debug-register data breakpoints (debugRegs.ts; SDM vol. 3B §18.2) ---------------------
  /** Enabled data breakpoints (mask of 0..3): their pages stay out of the TLB. 0: no cost at all. */
  dbgWatch = 0;
  /** Breakpoints configured as data breakpoints (R/W = 01 or 11), enabled or not. */
  dbgWatchAll = 0;
  /** Enabled / all instruction breakpoints (R/W = 00). */
  dbgCode = 0;
  dbgCodeAll = 0;
  /** Enabled I/O breakpoints (R/W = 10 with CR4.DE = 1). */
  dbgIo = 0;
  /** Any breakpoint enabled: the run loop executes one instruction at a time. */
  debugActive = false;
  /** Decoded DR0-DR3: address aligned to the length (lo, hi), length in bytes, R/W field. */
  readonly dbgLo = new Int32Array(4);
  readonly dbgHi = new Int32Array(4);
  readonly dbgLen = new Int32Array(4);
  readonly dbgRw = new Int32Array(4);
  /**
   * Debug traps of the instruction executing, in DR6 layout: data/I/O breakpoint hits (B0-B3)
   * and BT (bit 15, task switch to a TSS with T = 1); taken as one #DB after the instruction.
   */
  dbgHits = 0;
  /**
   * The debugger's breakpoints (hostDebug.ts): null while none is armed (no cost at all);
   * `hostWatching` is true while it has watches, whose pages stay out of the TLB.
   */
  hostDebug: HostDebug | null = null;
  hostWatching = false;

  constructor(readonly mem: PhysicalMemory) {
    super();
  }

  /**
   * Translate a linear address to a physical one for `access`, raising the architectural fault
   * when the access is not allowed. `size`: the bytes of a data access that lies within one page
   * (1-8), 0 when unknown or not one access (instruction fetches, byte-wise slow paths, implicit
   * system accesses). VMX non-root operation needs it for the APIC-access page (SDM vol. 3C
   * §29.4.2-29.4.3): an access of known size may come back redirected as `-1 - address`, an
   * address for this access only that must not enter the TLB (only calls with a size can get
   * one). Identity for now; paging overrides this.
   */
  translate(lo: number, hi: number, _access: Access, _size = 0): number {
    return (hi >>> 0) * TWO32 + (lo >>> 0);
  }

  /** True when physical page `ppn` holds translated code. */
  protected abstract isCodePage(ppn: number): boolean;
  /** A byte at offset `off` of code page `ppn` is being written: drop code that covers it. */
  protected abstract codeWritten(ppn: number, off: number): void;

  flushTlb(): void {
    // CR4.LA57 (bit 12) selects 57-bit linear addresses (SDM vol. 3A §4.5).
    this.canonShift = (this.cr4 & 0x1000) !== 0 ? 7 : 16;
    this.tlbRLo.fill(-1);
    this.tlbWLo.fill(-1);
    this.tlbWPpn.fill(-1);
    this.tlbRPage.fill(null);
    this.tlbWPage.fill(null);
  }

  /** Remove write-TLB entries that map physical page `ppn` (it now holds code). */
  protected dropWriteTlbFor(ppn: number): void {
    for (let i = 0; i < TLB_SIZE; i++) {
      if (this.tlbWPpn[i] === ppn) {
        this.tlbWLo[i] = -1;
        this.tlbWPage[i] = null;
        this.tlbWPpn[i] = -1;
      }
    }
  }

  /** True when the 4 KiB linear page of (lo, hi) holds an address an enabled data breakpoint watches. */
  private watchedPage(lo: number, hi: number): boolean {
    const w = this.dbgWatch;
    const p = lo & ~0xfff;
    for (let k = 0; k < 4; k++) {
      if (((w >>> k) & 1) !== 0 && (this.dbgLo[k] & ~0xfff) === p && this.dbgHi[k] === hi) return true;
    }
    return false;
  }

  /**
   * A slow-path access of `n` bytes at (lo, hi): record the data breakpoints it meets (SDM vol. 3B
   * §18.3.1.2: R/W = 01 on writes, 11 on reads and writes). Breakpoints that DR7 does not enable
   * are recorded with the enabled ones (DR6 B bits "may or may not be set" for them, §18.2.3).
   */
  private dbgCheck(lo: number, hi: number, n: number, write: boolean): void {
    const all = this.dbgWatchAll;
    const s = lo >>> 0;
    let hit = 0;
    for (let k = 0; k < 4; k++) {
      if (((all >>> k) & 1) === 0 || (!write && this.dbgRw[k] !== 3) || this.dbgHi[k] !== hi) continue;
      const b = this.dbgLo[k] >>> 0;
      if (s < b + this.dbgLen[k] && s + n > b) hit |= 1 << k;
    }
    if ((hit & this.dbgWatch) !== 0) {
      this.dbgHits |= hit;
      this.eventPending = true;
    }
  }

  /** TLB miss of a read of `size` bytes within one page. */
  private fillRead(lo: number, hi: number, size: number): Uint8Array | null {
    if (this.dbgWatch !== 0 && this.watchedPage(lo, hi)) return null;
    if (this.hostWatching && this.hostDebug!.watchedPage(this, lo, hi)) return null;
    // A translation redirected for this access only (negative, see translate) has no page here:
    // nothing is cached and the slow path (readSlow) makes the access.
    const phys = this.translate(lo, hi, Access.Read, size);
    const page = this.mem.page(Math.floor(phys / PAGE_SIZE));
    if (page !== null) {
      const i = (lo >>> 12) & TLB_MASK;
      this.tlbRLo[i] = lo & ~0xfff;
      this.tlbRHi[i] = hi;
      this.tlbRPage[i] = page;
    }
    return page;
  }

  /** TLB miss of a write of `size` bytes within one page. */
  private fillWrite(lo: number, hi: number, size: number): Uint8Array | null {
    if (this.dbgWatch !== 0 && this.watchedPage(lo, hi)) return null;
    if (this.hostWatching && this.hostDebug!.watchedPage(this, lo, hi)) return null;
    // Redirected for this access only (negative): no page, not cached; writeSlow writes it.
    const phys = this.translate(lo, hi, Access.Write, size);
    const ppn = Math.floor(phys / PAGE_SIZE);
    const page = this.mem.page(ppn);
    if (page !== null && !this.isCodePage(ppn)) {
      const i = (lo >>> 12) & TLB_MASK;
      this.tlbWLo[i] = lo & ~0xfff;
      this.tlbWHi[i] = hi;
      this.tlbWPage[i] = page;
      this.tlbWPpn[i] = ppn;
      return page;
    }
    return null;
  }

  /**
   * A write of `size` bytes that the translation redirected is being made (VMX non-root
   * operation: a write to the APIC-access page virtualized to the virtual-APIC page, SDM vol. 3C
   * §29.4.3.1, which APIC-write emulation follows after the instruction, §29.4.3.2). The
   * processor tells the engine and ends the block after the instruction (cpu.ts).
   */
  protected redirectedWrite(_size: number): void {}

  /** Linear address + n, as (lo, this.vHi-free) halves: returns lo, carries into `nextHi`. */
  private nextHi = 0;
  private addLin(lo: number, hi: number, n: number): number {
    const s = (lo >>> 0) + n;
    // Outside 64-bit mode linear addresses wrap at 4 GiB.
    if (s >= TWO32 && this.bitness === 64) {
      const nh = (hi + 1) | 0;
      // An access that starts canonical but runs past the canonical boundary faults (SDM vol. 1 §3.3.7.1).
      if (((nh << this.canonShift) >> this.canonShift) !== nh) throw gp0('access crosses out of the canonical address range');
      this.nextHi = nh;
    } else {
      this.nextHi = hi;
    }
    return s | 0;
  }

  /** A slow-path access of `n` bytes: the guest's DR data breakpoints and the debugger's watches. */
  private watchAccess(lo: number, hi: number, n: number, write: boolean): void {
    if (this.dbgWatch !== 0) this.dbgCheck(lo, hi, n, write);
    if (this.hostWatching) this.hostDebug!.access(this, lo, hi, n, write);
  }

  // ---- slow paths: byte at a time, each byte translated (page-crossing and MMIO) -----------
  /** `report` false: a part of a larger access already checked against the data breakpoints (read64). */
  private readSlow(lo: number, hi: number, n: number, report = true): number {
    if (report) this.watchAccess(lo, hi, n, false);
    if ((lo & 0xfff) <= 0x1000 - n) {
      // Within one page: one translation of the whole access. A page that is not RAM gets one
      // sized device access (an APIC register is read as a dword, not as four bytes).
      let phys = this.translate(lo, hi, Access.Read, n);
      if (phys < 0) phys = -1 - phys;
      const page = this.mem.page(Math.floor(phys / PAGE_SIZE));
      if (page === null) {
        const v = this.mem.readIo(phys, n);
        return n === 4 ? v | 0 : v & (n === 2 ? 0xffff : 0xff);
      }
      const o = phys % PAGE_SIZE;
      let w = 0;
      for (let k = 0; k < n; k++) w |= page[o + k] << (8 * k);
      return n === 4 ? w | 0 : w >>> 0;
    }
    // Crossing a page: translate every page touched first, so a fault leaves nothing half-done.
    let v = 0;
    for (let k = 0; k < n; k++) {
      const l = this.addLin(lo, hi, k);
      const h = this.nextHi;
      const page = this.fillRead(l, h, 0);
      const b = page !== null ? page[l & 0xfff] : this.mem.read8(this.translate(l, h, Access.Read));
      v |= b << (8 * k);
    }
    return n === 4 ? v | 0 : v >>> 0;
  }

  /** Translate all pages a write of n bytes touches; returns nothing, faults before any byte is written. */
  /** Check a write of `n` bytes (every page it touches) without writing: a later write cannot fault. */
  checkWrite(lo: number, hi: number, n: number): void {
    // The size matters to the translation only for an access within one page.
    this.translate(lo, hi, Access.Write, (lo & 0xfff) <= 0x1000 - n ? n : 0);
    const l = this.addLin(lo, hi, n - 1);
    // A fault on the second page reports that page's first byte (CR2), as the processor does.
    if ((l & ~0xfff) !== (lo & ~0xfff) || this.nextHi !== hi) this.translate(l & ~0xfff, this.nextHi, Access.Write);
  }

  private writeByteSlow(lo: number, hi: number, b: number): void {
    const phys = this.translate(lo, hi, Access.Write);
    const ppn = Math.floor(phys / PAGE_SIZE);
    if (this.isCodePage(ppn)) this.codeWritten(ppn, phys % PAGE_SIZE);
    this.mem.write8(phys, b & 0xff);
  }

  /** `report` false: a part of a larger access already checked against the data breakpoints (write64). */
  private writeSlow(lo: number, hi: number, n: number, v: number, report = true): void {
    if (report) this.watchAccess(lo, hi, n, true);
    if ((lo & 0xfff) <= 0x1000 - n) {
      // Within one page: one translation of the whole access; a device page gets one sized write.
      let phys = this.translate(lo, hi, Access.Write, n);
      if (phys < 0) {
        phys = -1 - phys;
        this.redirectedWrite(n);
      }
      if (this.mem.page(Math.floor(phys / PAGE_SIZE)) === null) this.mem.writeIo(phys, n, n === 1 ? v & 0xff : v);
      else for (let k = 0; k < n; k++) this.writePhys8(phys + k, v >>> (8 * k));
      return;
    }
    this.checkWrite(lo, hi, n);
    for (let k = 0; k < n; k++) {
      const l = this.addLin(lo, hi, k);
      this.writeByteSlow(l, this.nextHi, v >>> (8 * k));
    }
  }

  // ---- reads -------------------------------------------------------------------------------
  read8(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.tlbRLo[i] === (lo & ~0xfff) && this.tlbRHi[i] === hi) return this.tlbRPage[i]![lo & 0xfff];
    const p = this.fillRead(lo, hi, 1);
    if (p !== null) return p[lo & 0xfff];
    return this.readSlow(lo, hi, 1);
  }

  read16(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tlbRLo[i] === (lo & ~0xfff) && this.tlbRHi[i] === hi && o < 0xfff) {
      const p = this.tlbRPage[i]!;
      return p[o] | (p[o + 1] << 8);
    }
    if (o < 0xfff) {
      const p = this.fillRead(lo, hi, 2);
      if (p !== null) return p[o] | (p[o + 1] << 8);
    }
    return this.readSlow(lo, hi, 2);
  }

  read32(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tlbRLo[i] === (lo & ~0xfff) && this.tlbRHi[i] === hi && o <= 0xffc) {
      const p = this.tlbRPage[i]!;
      return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
    }
    if (o <= 0xffc) {
      const p = this.fillRead(lo, hi, 4);
      if (p !== null) return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
    }
    return this.readSlow(lo, hi, 4);
  }

  /** Returns the low half; the high half is left in `vHi`. */
  read64(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tlbRLo[i] === (lo & ~0xfff) && this.tlbRHi[i] === hi && o <= 0xff8) {
      const p = this.tlbRPage[i]!;
      this.vHi = p[o + 4] | (p[o + 5] << 8) | (p[o + 6] << 16) | (p[o + 7] << 24);
      return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
    }
    if (o <= 0xff8) {
      const p = this.fillRead(lo, hi, 8);
      if (p !== null) {
        this.vHi = p[o + 4] | (p[o + 5] << 8) | (p[o + 6] << 16) | (p[o + 7] << 24);
        return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
      }
    }
    return this.read64Slow(lo, hi);
  }

  /** read64 past the TLB (out of line, so read64 itself stays small enough to inline). */
  private read64Slow(lo: number, hi: number): number {
    // Check the whole range before reading so a fault on the second page happens first-to-last.
    // The data breakpoints see one access of 8 bytes, as the processor makes (not two of 4).
    this.watchAccess(lo, hi, 8, false);
    if ((lo & 0xfff) <= 0xff8) {
      // Within one page (a watched page or a device): one translation of the 8-byte access.
      let phys = this.translate(lo, hi, Access.Read, 8);
      if (phys < 0) phys = -1 - phys;
      const p = this.mem.page(Math.floor(phys / PAGE_SIZE));
      if (p === null) {
        const l = this.mem.readIo(phys, 4) | 0;
        this.vHi = this.mem.readIo(phys + 4, 4) | 0;
        return l;
      }
      const q = phys % PAGE_SIZE;
      this.vHi = p[q + 4] | (p[q + 5] << 8) | (p[q + 6] << 16) | (p[q + 7] << 24);
      return p[q] | (p[q + 1] << 8) | (p[q + 2] << 16) | (p[q + 3] << 24);
    }
    const l = this.readSlow(lo, hi, 4, false);
    const lo2 = this.addLin(lo, hi, 4);
    this.vHi = this.readSlow(lo2, this.nextHi, 4, false);
    return l;
  }

  // ---- writes ------------------------------------------------------------------------------
  write8(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.tlbWLo[i] === (lo & ~0xfff) && this.tlbWHi[i] === hi) {
      this.tlbWPage[i]![lo & 0xfff] = v;
      return;
    }
    const page = this.fillWrite(lo, hi, 1);
    if (page !== null) page[lo & 0xfff] = v;
    else this.writeSlow(lo, hi, 1, v);
  }

  write16(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tlbWLo[i] === (lo & ~0xfff) && this.tlbWHi[i] === hi && o < 0xfff) {
      const p = this.tlbWPage[i]!;
      p[o] = v;
      p[o + 1] = v >>> 8;
      return;
    }
    if (o < 0xfff) {
      const page = this.fillWrite(lo, hi, 2);
      if (page !== null) {
        page[o] = v;
        page[o + 1] = v >>> 8;
        return;
      }
    }
    this.writeSlow(lo, hi, 2, v);
  }

  write32(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tlbWLo[i] === (lo & ~0xfff) && this.tlbWHi[i] === hi && o <= 0xffc) {
      const p = this.tlbWPage[i]!;
      p[o] = v;
      p[o + 1] = v >>> 8;
      p[o + 2] = v >>> 16;
      p[o + 3] = v >>> 24;
      return;
    }
    if (o <= 0xffc) {
      const page = this.fillWrite(lo, hi, 4);
      if (page !== null) {
        page[o] = v;
        page[o + 1] = v >>> 8;
        page[o + 2] = v >>> 16;
        page[o + 3] = v >>> 24;
        return;
      }
    }
    this.writeSlow(lo, hi, 4, v);
  }

  write64(lo: number, hi: number, vlo: number, vhi: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tlbWLo[i] === (lo & ~0xfff) && this.tlbWHi[i] === hi && o <= 0xff8) {
      const p = this.tlbWPage[i]!;
      p[o] = vlo;
      p[o + 1] = vlo >>> 8;
      p[o + 2] = vlo >>> 16;
      p[o + 3] = vlo >>> 24;
      p[o + 4] = vhi;
      p[o + 5] = vhi >>> 8;
      p[o + 6] = vhi >>> 16;
      p[o + 7] = vhi >>> 24;
      return;
    }
    if (o <= 0xff8) {
      const p = this.fillWrite(lo, hi, 8);
      if (p !== null) {
        p[o] = vlo;
        p[o + 1] = vlo >>> 8;
        p[o + 2] = vlo >>> 16;
        p[o + 3] = vlo >>> 24;
        p[o + 4] = vhi;
        p[o + 5] = vhi >>> 8;
        p[o + 6] = vhi >>> 16;
        p[o + 7] = vhi >>> 24;
        return;
      }
    }
    this.checkWrite(lo, hi, 8);
    // One access of 8 bytes for the data breakpoints (a MOV of a quadword is one write), then its halves.
    this.watchAccess(lo, hi, 8, true);
    this.writeSlow(lo, hi, 4, vlo, false);
    const lo2 = this.addLin(lo, hi, 4);
    this.writeSlow(lo2, this.nextHi, 4, vhi, false);
  }

  /** Write a sized value (1, 2 or 4 bytes). */
  writeN(lo: number, hi: number, size: number, v: number): void {
    if (size === 4) this.write32(lo, hi, v);
    else if (size === 2) this.write16(lo, hi, v);
    else this.write8(lo, hi, v);
  }

  /** Read a sized value (1, 2 or 4 bytes). */
  readN(lo: number, hi: number, size: number): number {
    return size === 4 ? this.read32(lo, hi) : size === 2 ? this.read16(lo, hi) : this.read8(lo, hi);
  }

  // ---- read-modify-write: check the write first, read, then write back without re-checking ---
  /**
   * Begin a read-modify-write of `size` bytes at a linear address: raises any write fault now
   * (before the instruction changes anything), then returns the current value (64-bit: low
   * half, high half in `vHi`). Finish with `rmwEnd*`.
   */
  rmwBegin(lo: number, hi: number, size: number): number {
    const o = lo & 0xfff;
    this.rmwLo = lo;
    this.rmwHi = hi;
    if (o <= 0x1000 - size) {
      const i = (lo >>> 12) & TLB_MASK;
      let p: Uint8Array | null = null;
      if (this.tlbWLo[i] === (lo & ~0xfff) && this.tlbWHi[i] === hi) p = this.tlbWPage[i];
      else p = this.fillWrite(lo, hi, size);
      if (p !== null) {
        this.rmwPage = p;
        this.rmwOff = o;
        if (size === 4) return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
        if (size === 1) return p[o];
        if (size === 2) return p[o] | (p[o + 1] << 8);
        this.vHi = p[o + 4] | (p[o + 5] << 8) | (p[o + 6] << 16) | (p[o + 7] << 24);
        return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
      }
    }
    this.checkWrite(lo, hi, size);
    this.rmwPage = null;
    if (size === 8) return this.read64(lo, hi);
    return this.readN(lo, hi, size);
  }

  /** Write back 1, 2 or 4 bytes at the location of the last `rmwBegin`. */
  rmwEnd(size: number, v: number): void {
    const p = this.rmwPage;
    if (p !== null) {
      const o = this.rmwOff;
      p[o] = v;
      if (size > 1) {
        p[o + 1] = v >>> 8;
        if (size > 2) {
          p[o + 2] = v >>> 16;
          p[o + 3] = v >>> 24;
        }
      }
      return;
    }
    this.writeSlow(this.rmwLo, this.rmwHi, size, v);
  }

  /** Write back 8 bytes at the location of the last `rmwBegin`. */
  rmwEnd64(vlo: number, vhi: number): void {
    const p = this.rmwPage;
    if (p !== null) {
      const o = this.rmwOff;
      p[o] = vlo;
      p[o + 1] = vlo >>> 8;
      p[o + 2] = vlo >>> 16;
      p[o + 3] = vlo >>> 24;
      p[o + 4] = vhi;
      p[o + 5] = vhi >>> 8;
      p[o + 6] = vhi >>> 16;
      p[o + 7] = vhi >>> 24;
      return;
    }
    this.write64(this.rmwLo, this.rmwHi, vlo, vhi);
  }

  // ---- implicit supervisor accesses (descriptor tables, IDT, TSS), never through the TLB ----
  /** Read `n` (1, 2, 4) bytes as an implicit supervisor access. */
  readSystem(lo: number, hi: number, n: number): number {
    let v = 0;
    for (let k = 0; k < n; k++) {
      const l = this.addLin(lo, hi, k);
      v |= this.mem.read8(this.translate(l, this.nextHi, Access.Read | Access.System)) << (8 * k);
    }
    return n === 4 ? v | 0 : v >>> 0;
  }

  /** Write `n` (1, 2, 4) bytes as an implicit supervisor access (e.g. a descriptor's accessed bit). */
  writeSystem(lo: number, hi: number, n: number, v: number): void {
    const phys: number[] = [];
    for (let k = 0; k < n; k++) {
      const l = this.addLin(lo, hi, k);
      phys.push(this.translate(l, this.nextHi, Access.Write | Access.System));
    }
    for (let k = 0; k < n; k++) this.writePhys8(phys[k], v >>> (8 * k));
  }

  /** Write one byte of guest-physical memory, dropping translated code it covers (page walks, DMA). */
  writePhys8(phys: number, v: number): void {
    const ppn = Math.floor(phys / PAGE_SIZE);
    if (this.isCodePage(ppn)) this.codeWritten(ppn, phys % PAGE_SIZE);
    this.mem.write8(phys, v & 0xff);
  }
}
