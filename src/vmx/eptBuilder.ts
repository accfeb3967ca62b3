/**
 * Building EPT paging structures in physical memory (SDM vol. 3C §28.2.2 "EPT translation
 * mechanism", §24.6.11 "Extended-page-table pointer"). For tests and the hypervisor: an identity
 * map in one call, single mappings with any permissions, memory type and page size, and access to
 * the entry that maps an address at each level (to make misconfigurations and violations).
 *
 * Entry layout (§28.2.2, tables 28-1..28-6): bit 0 read, 1 write, 2 execute (supervisor-mode
 * execute with mode-based execute control), 5:3 EPT memory type (leaf entries), 6 ignore PAT
 * (leaf), 7 page size (PDPTE: 1 GiB, PDE: 2 MiB), 8 accessed, 9 dirty (leaf), 10 user-mode
 * execute, 51:12 physical address. Non-leaf entries built here grant R/W/X so permissions come
 * from the leaf.
 * EPTP (§24.6.11): bits 2:0 memory type of the paging structures (0 UC, 6 WB), 5:3 page-walk
 * length minus 1 (3 or 4), 6 enable accessed/dirty flags, 51:12 the root table.
 */
import type { PhysicalMemory } from '../x86/physicalMemory';

export const EPT_R = 1;
export const EPT_W = 2;
export const EPT_X = 4;
export const EPT_RWX = 7;
export const EPT_IGNORE_PAT = 1 << 6;
export const EPT_PAGE_SIZE = 1 << 7;
export const EPT_ACCESSED = 1 << 8;
export const EPT_DIRTY = 1 << 9;
export const EPT_USER_X = 1 << 10;
export const MT_UC = 0;
export const MT_WC = 1;
export const MT_WT = 4;
export const MT_WP = 5;
export const MT_WB = 6;

export const PAGE_4K = 0x1000;
export const PAGE_2M = 0x200000;
export const PAGE_1G = 0x40000000;

const TWO32 = 4294967296;

export interface EptBuilderOptions {
  /** Physical address of the first page the builder may use for tables (4 KiB aligned). */
  tablesAt: number;
  /** Bytes available there (default 1 MiB). */
  tablesSize?: number;
  /** Page-walk length: 4 (default) or 5 levels. */
  levels?: 4 | 5;
  /** EPTP bit 6: the processor sets accessed/dirty flags (§28.2.4). */
  accessedDirty?: boolean;
  /** EPTP memory type of the paging structures (default WB). */
  eptpMemType?: number;
}

export interface MapOptions {
  /** R/W/X bits 2:0 and optionally EPT_USER_X (default R|W|X). */
  perms?: number;
  /** EPT memory type of the leaf (default WB). */
  memType?: number;
  ignorePat?: boolean;
  /** Pre-set accessed and dirty flags in the leaf. */
  accessed?: boolean;
  dirty?: boolean;
  /** Leaf size: 4 KiB (default), 2 MiB or 1 GiB. */
  pageSize?: number;
}

/** Level numbers as the SDM names the tables: 5 PML5, 4 PML4, 3 PDPT, 2 PD, 1 PT. */
export type EptLevel = 1 | 2 | 3 | 4 | 5;

function shiftOf(level: number): number {
  return 12 + 9 * (level - 1);
}

/** Index of `gpa` in the table of `level` (bits 12+9(level-1) .. +8). */
function indexOf(gpa: number, level: number): number {
  return Math.floor(gpa / 2 ** shiftOf(level)) % 512;
}

export class EptBuilder {
  readonly levels: 4 | 5;
  readonly accessedDirty: boolean;
  readonly eptpMemType: number;
  /** Physical address of the root (PML4 or PML5) table. */
  readonly root: number;
  private next: number;
  private readonly end: number;

  constructor(readonly mem: PhysicalMemory, options: EptBuilderOptions) {
    if (options.tablesAt % PAGE_4K !== 0) throw new Error('EPT tables must be 4 KiB aligned');
    this.levels = options.levels ?? 4;
    this.accessedDirty = options.accessedDirty ?? false;
    this.eptpMemType = options.eptpMemType ?? MT_WB;
    this.next = options.tablesAt;
    this.end = options.tablesAt + (options.tablesSize ?? 0x100000);
    this.root = this.allocTable();
  }

  /** Bytes of table memory used so far. */
  get used(): number {
    return this.next - this.root;
  }

  /** EPTP as halves (§24.6.11). */
  eptp(): { lo: number; hi: number } {
    const lo = (this.root % TWO32) | this.eptpMemType | ((this.levels - 1) << 3) | (this.accessedDirty ? 0x40 : 0);
    return { lo: lo | 0, hi: Math.floor(this.root / TWO32) | 0 };
  }

  /** EPTP as a BigInt (VMWRITE from tests). */
  eptpValue(): bigint {
    const { lo, hi } = this.eptp();
    return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  }

  private allocTable(): number {
    if (this.next + PAGE_4K > this.end) throw new Error('EPT builder: out of table memory');
    const a = this.next;
    this.next += PAGE_4K;
    for (let i = 0; i < PAGE_4K; i++) this.mem.write8(a + i, 0);
    return a;
  }

  private read64(a: number): number {
    let lo = 0, hi = 0;
    for (let i = 0; i < 4; i++) lo |= this.mem.read8(a + i) << (8 * i);
    for (let i = 0; i < 4; i++) hi |= this.mem.read8(a + 4 + i) << (8 * i);
    return (hi >>> 0) * TWO32 + (lo >>> 0);
  }

  private write64(a: number, lo: number, hi: number): void {
    for (let i = 0; i < 4; i++) this.mem.write8(a + i, (lo >>> (8 * i)) & 0xff);
    for (let i = 0; i < 4; i++) this.mem.write8(a + 4 + i, (hi >>> (8 * i)) & 0xff);
  }

  /**
   * Physical address of the entry for `gpa` in the table of `level`, creating the tables above
   * it when `create` (else null when a table on the way is missing or a larger page maps it).
   */
  entryAddress(gpa: number, level: EptLevel, create = false): number | null {
    let table = this.root;
    for (let l = this.levels; l > level; l--) {
      const ea = table + indexOf(gpa, l) * 8;
      const e = this.read64(ea);
      if ((e & 7) === 0) {
        if (!create) return null;
        const t = this.allocTable();
        this.write64(ea, (t % TWO32) | EPT_RWX, Math.floor(t / TWO32));
        table = t;
      } else {
        if (l <= 3 && Math.floor(e / 128) % 2 === 1) return null; // a 1 GiB/2 MiB page maps it
        table = Math.floor(e / PAGE_4K) % 2 ** 40 * PAGE_4K;
      }
    }
    return table + indexOf(gpa, level) * 8;
  }

  /** The raw 64-bit entry for `gpa` at `level` (0n when absent). */
  readEntry(gpa: number, level: EptLevel): bigint {
    const a = this.entryAddress(gpa, level);
    if (a === null) return 0n;
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(this.mem.read8(a + i));
    return v;
  }

  /** Overwrite the entry for `gpa` at `level` (creating the tables above it). */
  writeEntry(gpa: number, level: EptLevel, value: bigint): void {
    const a = this.entryAddress(gpa, level, true)!;
    const v = BigInt.asUintN(64, value);
    this.write64(a, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
  }

  /** Physical address of the table of `level` that maps `gpa` (tests poke whole tables). */
  tableAddress(gpa: number, level: EptLevel): number | null {
    const a = this.entryAddress(gpa, level);
    return a === null ? null : a - indexOf(gpa, level) * 8;
  }

  /** Map [gpa, gpa+size) to [hpa, hpa+size) with pages of `options.pageSize`. */
  map(gpa: number, hpa: number, size: number, options: MapOptions = {}): void {
    const ps = options.pageSize ?? PAGE_4K;
    if (ps !== PAGE_4K && ps !== PAGE_2M && ps !== PAGE_1G) throw new Error(`EPT page size ${ps}`);
    if (gpa % ps !== 0 || hpa % ps !== 0 || size % ps !== 0) throw new Error('EPT map: addresses and size must be page aligned');
    const level: EptLevel = ps === PAGE_4K ? 1 : ps === PAGE_2M ? 2 : 3;
    const perms = options.perms ?? EPT_RWX;
    const mt = options.memType ?? MT_WB;
    let flags = (perms & (7 | EPT_USER_X)) | (mt << 3);
    if (options.ignorePat === true) flags |= EPT_IGNORE_PAT;
    if (level > 1) flags |= EPT_PAGE_SIZE;
    if (options.accessed === true) flags |= EPT_ACCESSED;
    if (options.dirty === true) flags |= EPT_DIRTY;
    for (let off = 0; off < size; off += ps) {
      const a = this.entryAddress(gpa + off, level, true);
      if (a === null) throw new Error(`EPT map: 0x${(gpa + off).toString(16)} is inside a larger page`);
      const h = hpa + off;
      this.write64(a, ((h % TWO32) | flags) | 0, Math.floor(h / TWO32) | 0);
    }
  }

  /** Identity-map [start, start+size) with the largest pages up to `maxPage` that fit. */
  identity(start: number, size: number, options: MapOptions & { maxPage?: number } = {}): void {
    const max = options.maxPage ?? PAGE_2M;
    let a = start;
    const end = start + size;
    while (a < end) {
      let ps = PAGE_4K;
      if (max >= PAGE_1G && a % PAGE_1G === 0 && end - a >= PAGE_1G) ps = PAGE_1G;
      else if (max >= PAGE_2M && a % PAGE_2M === 0 && end - a >= PAGE_2M) ps = PAGE_2M;
      this.map(a, a, ps, { ...options, pageSize: ps });
      a += ps;
    }
  }
}
