/**
 * Identity page tables for a long-mode start state (modes.ts `enterMode`): 4-level tables that
 * map the low 512 GiB linear = physical, either as a read-only region outside RAM or written into
 * RAM where the start state asks. Values only — the walks that read them are in paging.ts.
 */
import type { Cpu } from './cpu';
import { has1GPages } from './paging';

const TWO32 = 4294967296;

/** High dword of the entry identityEntry returned last. */
let entryHi = 0;

/** enterMode's read-only identity tables end here by default: the top of the 39-bit physical space. */
export const IDENTITY_TABLES_END = 0x8000000000;
const IDENTITY_NAME = 'identity page tables';

/** Physical 1 GiB window that linear addresses beyond the identity-mapped 512 GiB reach (nothing is there). */
const VOID_WINDOW = 0x7f80000000;

/**
 * Values of the identity-mapping tables (4-level paging; U/S = R/W = 1, XD = 0, A and D preset
 * so the processor never writes them). Page 0 is the PML4: entry 0 maps the low 512 GiB
 * identically (page 1, a PDPT), entries 1..511 — the rest of the canonical space, both halves —
 * reach a PDPT (page 2) whose pages all map the empty physical window at VOID_WINDOW, so those
 * addresses read all-ones and drop writes as addresses beyond RAM always have (and do not fault).
 * With 1-GByte pages that is all (3 pages); without them page 3 is the void page directory and
 * pages 4..515 the identity page directories of 2 MiB pages.
 * Returns the 8-byte entry at byte offset `off` of the tables based at `base` (low dword; high in entryHi).
 */
function identityEntry(base: number, big: boolean, off: number): number {
  const page = Math.floor(off / 4096);
  const i = (off % 4096) >>> 3;
  let v = 0;
  if (page === 0) v = base + (i === 0 ? 0x1000 : 0x2000) + 0x27;
  else if (page === 1) v = big ? i * 2 ** 30 + 0xe7 : base + (4 + i) * 0x1000 + 0x27;
  else if (page === 2) v = big ? VOID_WINDOW + 0xe7 : base + 0x3000 + 0x27;
  else if (!big && page === 3) v = VOID_WINDOW + 0xe7;
  else if (!big && page < 516) v = (page - 4) * 2 ** 30 + i * 2 ** 21 + 0xe7;
  entryHi = Math.floor(v / TWO32) | 0;
  return v % TWO32 | 0;
}

/** Size in bytes of the identity tables. */
export function identityTablesSize(big: boolean): number {
  return (big ? 3 : 516) * 4096;
}

/**
 * Identity-map tables for a long-mode start state (4-level paging, linear = physical for the low
 * 512 GiB). With `at` undefined the tables are a read-only region outside RAM just below
 * IDENTITY_TABLES_END (no guest memory used, nothing a guest writes can collide with them);
 * with `at` they are written into RAM there. Returns the CR3 value.
 */
export function buildIdentityTables(c: Cpu, at?: number): number {
  const big = has1GPages(c);
  const size = identityTablesSize(big);
  if (at === undefined) {
    const base = IDENTITY_TABLES_END - size;
    const existing = c.mem.mmioAt(base);
    if (existing === null) {
      c.mem.addMmio({
        start: base,
        end: base + size,
        name: IDENTITY_NAME,
        read(addr: number, n: number): number {
          const off = addr - base;
          const o8 = off - (off % 8);
          const eLo = identityEntry(base, big, o8);
          const eHi = entryHi;
          const shift = (off % 8) * 8;
          let v: number;
          if (shift === 0) v = eLo;
          else if (shift === 32) v = eHi;
          else {
            // Unaligned: assemble byte by byte.
            v = 0;
            for (let k = 0; k < n; k++) {
              const b = off + k;
              const e = identityEntry(base, big, b - (b % 8));
              const byte = (b % 8) < 4 ? (e >>> (8 * (b % 8))) & 0xff : (entryHi >>> (8 * ((b % 8) - 4))) & 0xff;
              v |= byte << (8 * k);
            }
            return n === 4 ? v | 0 : v;
          }
          return n === 4 ? v | 0 : n === 2 ? v & 0xffff : v & 0xff;
        },
        write(): void {
          // Read-only: writes are dropped.
        },
      });
    } else if (existing.name !== IDENTITY_NAME) {
      throw new Error(`cannot place identity page tables at 0x${base.toString(16)}: ${existing.name} is there`);
    }
    return base;
  }
  if (at % 4096 !== 0) throw new RangeError(`page tables must be 4 KiB aligned, not at 0x${at.toString(16)}`);
  if (at < 0 || at + size > c.mem.size) throw new RangeError(`page tables (${size} bytes) at 0x${at.toString(16)} do not fit in RAM`);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  for (let off = 0; off < size; off += 8) {
    const eLo = identityEntry(at, big, off);
    view.setUint32(off, eLo >>> 0, true);
    view.setUint32(off + 4, entryHi >>> 0, true);
  }
  c.mem.load(at, bytes);
  // The tables may overwrite translated code.
  c.flushCode();
  return at;
}
