/**
 * Guest-physical memory: sparse RAM in 4 KiB pages, allocated on first touch, so a 4 GiB guest
 * costs only the pages it uses. Addresses are plain numbers (exact up to 2^53). Addresses above
 * the RAM size are unmapped: reads return all-ones, writes are dropped (an MMIO hook point for
 * the platform layer).
 */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PAGE_MASK = 0xfff;

/** A memory-mapped device region outside RAM (SDM: the APIC page, device BARs). */
export interface MmioRegion {
  start: number;
  /** Exclusive end. */
  end: number;
  name: string;
  /** Read `size` (1, 2, 4) bytes at guest-physical `addr`. */
  read(addr: number, size: number): number;
  write(addr: number, size: number, value: number): void;
}

export class PhysicalMemory {
  private readonly pages = new Map<number, Uint8Array>();
  private readonly mmio: MmioRegion[] = [];
  /** Number of 4 KiB pages of RAM. */
  readonly pageCount: number;
  /**
   * The RAM a guest sees (loaders, memory maps, CMOS): all of it, unless a hypervisor keeps its
   * own structures above (src/hypervisor/layout.ts), which the guest must neither be told of
   * nor reach.
   */
  guestRamSize: number;

  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`invalid memory size ${size}`);
    this.pageCount = Math.ceil(size / PAGE_SIZE);
    this.guestRamSize = size;
  }

  /** Map a device region; it takes precedence over RAM in its range (page-granular). */
  addMmio(region: MmioRegion): void {
    if (region.start % PAGE_SIZE !== 0 || region.end % PAGE_SIZE !== 0 || region.end <= region.start) {
      throw new Error(`MMIO region ${region.name} must cover whole 4 KiB pages`);
    }
    this.mmio.push(region);
    for (let a = region.start; a < region.end; a += PAGE_SIZE) this.pages.delete(a / PAGE_SIZE);
  }

  mmioAt(addr: number): MmioRegion | null {
    for (const r of this.mmio) if (addr >= r.start && addr < r.end) return r;
    return null;
  }

  /** Sized read of a non-RAM address: a device's register, or all-ones when nothing is there. */
  readIo(addr: number, size: number): number {
    const r = this.mmioAt(addr);
    if (r !== null) return r.read(addr, size);
    return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
  }

  writeIo(addr: number, size: number, value: number): void {
    const r = this.mmioAt(addr);
    if (r !== null) r.write(addr, size, value);
  }

  /** The backing bytes of RAM page `ppn`, or null when it is not RAM (unmapped or a device). */
  page(ppn: number): Uint8Array | null {
    let p = this.pages.get(ppn);
    if (p !== undefined) return p;
    if (ppn < 0 || ppn >= this.pageCount) return null;
    if (this.mmio.length > 0 && this.mmioAt(ppn * PAGE_SIZE) !== null) return null;
    p = new Uint8Array(PAGE_SIZE);
    this.pages.set(ppn, p);
    return p;
  }

  /** Pages actually allocated (for memory-use reports and tests). */
  get touchedPages(): number {
    return this.pages.size;
  }

  isRam(addr: number): boolean {
    return addr >= 0 && addr < this.size;
  }

  read8(addr: number): number {
    const p = this.page(Math.floor(addr / PAGE_SIZE));
    return p === null ? this.readIo(addr, 1) & 0xff : p[addr & PAGE_MASK];
  }

  write8(addr: number, v: number): void {
    const p = this.page(Math.floor(addr / PAGE_SIZE));
    if (p !== null) p[addr & PAGE_MASK] = v;
    else this.writeIo(addr, 1, v & 0xff);
  }

  /** Copy bytes into guest-physical memory (loaders). Throws when the range is not RAM. */
  load(addr: number, bytes: Uint8Array): void {
    if (addr < 0 || addr + bytes.length > this.size) {
      throw new RangeError(
        `cannot load ${bytes.length} bytes at 0x${addr.toString(16)}: guest RAM is 0x${this.size.toString(16)} bytes`,
      );
    }
    for (let i = 0; i < bytes.length; ) {
      const a = addr + i;
      const p = this.page(Math.floor(a / PAGE_SIZE))!;
      const off = a & PAGE_MASK;
      const n = Math.min(PAGE_SIZE - off, bytes.length - i);
      p.set(bytes.subarray(i, i + n), off);
      i += n;
    }
  }

  /** Copy bytes out of guest-physical memory (debugger, tests). Unmapped bytes read as 0xff. */
  readBytes(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8(addr + i);
    return out;
  }
}
