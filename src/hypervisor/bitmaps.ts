/**
 * The I/O and MSR bitmaps (SDM vol. 3C §24.6.4, §24.6.9; reference §4) built from an
 * Interception: I/O bitmap A covers ports 0x0000-0x7FFF and B 0x8000-0xFFFF, one bit per port
 * (bit port % 8 of byte port / 8 of the page; 1 = exit) — the whole 4 KiB page, not the first
 * 1 KiB the crate indexes [bug fixed]; the MSR bitmap is one page of four 1 KiB quarters:
 * read-low (MSRs 0-0x1FFF) at 0, read-high (0xC0000000-0xC0001FFF) at 0x400, write-low at
 * 0x800, write-high at 0xC00.
 */
import type { Interception } from './interception';

export const PAGE = 4096;

/** I/O bitmaps A and B (two pages) for `i`. */
export function ioBitmaps(i: Interception): { a: Uint8Array; b: Uint8Array } {
  const a = new Uint8Array(PAGE);
  const b = new Uint8Array(PAGE);
  const set = (port: number): void => {
    const page = port < 0x8000 ? a : b;
    const p = port & 0x7fff;
    page[p >> 3] |= 1 << (p & 7);
  };
  if (i.io === 'all') {
    a.fill(0xff);
    b.fill(0xff);
  } else {
    for (const [lo, hi] of i.io) for (let p = lo; p <= hi; p++) set(p & 0xffff);
  }
  return { a, b };
}

/** The MSR bitmap page for `i` (reads and writes of the intercepted MSRs exit). */
export function msrBitmap(i: Interception): Uint8Array {
  const page = new Uint8Array(PAGE);
  if (i.msrs === 'all') return page.fill(0xff);
  const set = (msr: number): void => {
    let base: number;
    if (msr >= 0 && msr <= 0x1fff) base = 0;
    else if (msr >= 0xc0000000 && msr <= 0xc0001fff) base = 0x400;
    else return; // outside both ranges: always exits anyway (§25.1.3)
    const bit = msr & 0x1fff;
    page[base + (bit >> 3)] |= 1 << (bit & 7);
    page[base + 0x800 + (bit >> 3)] |= 1 << (bit & 7);
  };
  for (const [lo, hi] of i.msrs) for (let m = lo; m <= hi && m - lo < 0x4000; m++) set(m >>> 0);
  return page;
}

/** Whether `port` exits under the bitmaps (for tests and views). */
export function ioBitmapSays(a: Uint8Array, b: Uint8Array, port: number): boolean {
  const page = port < 0x8000 ? a : b;
  const p = port & 0x7fff;
  return ((page[p >> 3] >> (p & 7)) & 1) === 1;
}

/** Whether RDMSR (`write` false) or WRMSR of `msr` exits under the bitmap. */
export function msrBitmapSays(page: Uint8Array, msr: number, write: boolean): boolean {
  let base: number;
  if (msr >= 0 && msr <= 0x1fff) base = 0;
  else if (msr >= 0xc0000000 && msr <= 0xc0001fff) base = 0x400;
  else return true;
  const bit = msr & 0x1fff;
  const off = base + (write ? 0x800 : 0) + (bit >> 3);
  return ((page[off] >> (bit & 7)) & 1) === 1;
}
