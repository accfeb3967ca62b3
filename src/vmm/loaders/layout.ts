/**
 * The loader's boot area in guest memory: the GDT the processor starts with, the Multiboot
 * information structure, the identity-mapping page tables of a long-mode start, and a stack.
 *
 * The area starts at 0x80000 (512 KiB, conventional memory well below the EBDA at 0x9fc00)
 * when that range is free; when the image itself occupies it, the area goes to the first 4 KiB
 * boundary after the image. Layout from its base B:
 *   B+0x000  GDT (flat descriptors, see below)
 *   B+0x100  Multiboot information structure (116 bytes)
 *   B+0x200  Multiboot memory map (20+4-byte entries)
 *   B+0x300  boot loader name "vtx"
 *   B+0x400  command line (NUL-terminated, at most 3071 bytes)
 *   B+0x1000 PML4, B+0x2000 PDPT, B+0x3000... page directories (long mode only)
 *   then 16 KiB of stack; the start RSP/ESP is the end of the area (16-byte aligned).
 *
 * Descriptors are written with the accessed bit set, as the processor would have left them
 * after loading them (SDM vol. 3A §3.4.5.1), so the segment caches equal a reload of each.
 */
import type { PhysicalMemory } from '../../x86/physicalMemory';
import { LoadError, hex } from './errors';
import { checkRam } from './elf';
import type { SegmentStart } from './bootPlan';

export const BOOT_AREA_DEFAULT = 0x80000;
export const GDT_OFFSET = 0x000;
export const MBI_OFFSET = 0x100;
export const MMAP_OFFSET = 0x200;
export const NAME_OFFSET = 0x300;
export const CMDLINE_OFFSET = 0x400;
export const CMDLINE_MAX = 0x1000 - CMDLINE_OFFSET - 1;
export const TABLES_OFFSET = 0x1000;
export const STACK_SIZE = 0x4000;
const EBDA = 0x9fc00;

/** Access rights (VMCS layout) of the flat descriptors. */
export const ATTR_CODE32 = 0xc09b;
export const ATTR_DATA32 = 0xc093;
export const ATTR_CODE64 = 0xa09b;

/** Descriptor high and low dwords for a flat (base 0, 4 GiB, G=1) segment with access rights `attr`. */
export function flatDescriptor(attr: number): [number, number] {
  const hi = ((attr & 0xff) << 8) | (0xf << 16) | (((attr >>> 12) & 0xf) << 20);
  return [0x0000ffff, hi >>> 0];
}

export const flat = (selector: number, attr: number): SegmentStart => ({ selector, base: 0, limit: 0xffffffff, attr });

/** GDT layouts. Protected: 0x08 32-bit code, 0x10 data. Long: 0x08 64-bit code, 0x10 data, 0x18 32-bit code. */
export const GDT_PROTECTED = [ATTR_CODE32, ATTR_DATA32];
export const GDT_LONG = [ATTR_CODE64, ATTR_DATA32, ATTR_CODE32];

export interface BootArea {
  base: number;
  size: number;
  /** Page directories (long mode), 0 otherwise. */
  pageDirectories: number;
  stackTop: number;
}

/** Page directories needed to identity-map max(4 GiB, RAM) with 2 MiB pages (at most 512 GiB). */
export function pageDirectoriesFor(memSize: number): number {
  return Math.min(512, Math.max(4, Math.ceil(memSize / 2 ** 30)));
}

/** Choose the boot area's base so that it avoids the loaded `ranges` ([start, end) pairs). */
export function placeBootArea(mem: PhysicalMemory, ranges: Array<[number, number]>, long: boolean): BootArea {
  const pds = long ? pageDirectoriesFor(mem.guestRamSize) : 0;
  const size = TABLES_OFFSET + (long ? (2 + pds) * 0x1000 : 0) + STACK_SIZE;
  const free = (b: number) =>
    b + size <= mem.guestRamSize && ranges.every(([s, e]) => e <= b || s >= b + size) && mem.mmioAt(b) === null && mem.mmioAt(b + size - 1) === null;
  const candidates: number[] = [];
  if (BOOT_AREA_DEFAULT + size <= EBDA) candidates.push(BOOT_AREA_DEFAULT);
  const end = ranges.reduce((m, [, e]) => Math.max(m, e), 0);
  candidates.push(Math.ceil(end / 0x1000) * 0x1000, 0x1000);
  for (const b of candidates) {
    if (free(b)) return { base: b, size, pageDirectories: pds, stackTop: b + size };
  }
  throw new LoadError(`no room in guest RAM (${hex(mem.guestRamSize)} bytes) for the loader's ${size}-byte boot area next to the image`);
}

function dwords(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint32(4 * i, x >>> 0, true));
  return out;
}

/** Write a GDT of a null descriptor then flat descriptors with the given access rights; returns the GDTR value. */
export function writeGdt(mem: PhysicalMemory, area: BootArea, attrs: number[]): { base: number; limit: number } {
  const words = [0, 0];
  for (const a of attrs) words.push(...flatDescriptor(a));
  const base = area.base + GDT_OFFSET;
  mem.load(base, dwords(words));
  return { base, limit: 8 * (attrs.length + 1) - 1 };
}

/**
 * Identity-map max(4 GiB, RAM) with 2 MiB pages (SDM vol. 3A §4.5: PML4E/PDPTE present + R/W,
 * PDE present + R/W + PS). Returns CR3.
 */
export function writeIdentityMap(mem: PhysicalMemory, area: BootArea): number {
  const pml4 = area.base + TABLES_OFFSET;
  const pdpt = pml4 + 0x1000;
  const pd0 = pdpt + 0x1000;
  const n = area.pageDirectories;
  checkRam(mem, pml4, (2 + n) * 0x1000, 'page tables');
  const q = (words: number[], count: number, f: (i: number) => [number, number]) => {
    for (let i = 0; i < count; i++) { const [lo, hi] = f(i); words.push(lo, hi); }
  };
  const a: number[] = [];
  q(a, 1, () => [pdpt | 3, 0]);
  mem.load(pml4, dwords(a));
  const b: number[] = [];
  q(b, n, (j) => [(pd0 + j * 0x1000) | 3, 0]);
  mem.load(pdpt, dwords(b));
  for (let j = 0; j < n; j++) {
    const c: number[] = [];
    q(c, 512, (i) => {
      const addr = (j * 512 + i) * 0x200000;
      return [((addr % 2 ** 32) | 0x83) >>> 0, Math.floor(addr / 2 ** 32)];
    });
    mem.load(pd0 + j * 0x1000, dwords(c));
  }
  return pml4;
}

export { dwords };
