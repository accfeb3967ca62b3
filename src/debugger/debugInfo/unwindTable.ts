/**
 * The program's call frame information as a lookup: the FDEs of `.debug_frame` and `.eh_frame`
 * (DWARF 4/5 §6.4; .debug_frame first where both cover an address), sorted by start address; the
 * row at an address is computed when asked (a stack trace asks once per frame).
 */
import type { UnwindRow } from '../model';
import { rowAt } from './dwarfCfa';
import { readFrameEntries, type Fde, type FrameSection } from './dwarfFrameEntries';

export class UnwindTable {
  private readonly fdes: Fde[];

  constructor(sections: readonly FrameSection[], private readonly bits: 32 | 64, warnings: string[]) {
    const all: Fde[] = [];
    for (const s of sections) all.push(...readFrameEntries(s, bits, warnings));
    // Stable: for equal starts the earlier section (.debug_frame) wins.
    this.fdes = all.sort((a, b) => a.start - b.start);
  }

  get size(): number { return this.fdes.length; }

  /** The FDE covering `pc` (the last one starting at or below it that still covers it). */
  fdeAt(pc: number): Fde | undefined {
    let lo = 0;
    let hi = this.fdes.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.fdes[mid].start <= pc) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    for (let i = found; i >= 0 && i >= found - 8; i--) {
      const f = this.fdes[i];
      if (pc - f.start < f.length) {
        // Prefer the first of equal starts (.debug_frame before .eh_frame).
        let k = i;
        while (k > 0 && this.fdes[k - 1].start === f.start) k--;
        return this.fdes[k];
      }
    }
    return undefined;
  }

  /** The unwind row in force at `pc`, or undefined where no FDE covers it. */
  rowAt(pc: number): UnwindRow | undefined {
    const f = this.fdeAt(pc);
    return f ? rowAt(f, pc, this.bits) : undefined;
  }
}
