/**
 * The SymbolTable of model.ts: symbols sorted by address, a name index, and nameAt by binary
 * search. nameAt prefers the sized symbol whose range [address, address + size) holds the
 * address (the innermost when ranges nest), else the nearest symbol at or below it within
 * 64 KiB. Among symbols at one address the better name wins: a function over an object over
 * a label, then a sized one, then the one given first (callers list global symbols first).
 */
import type { SymbolInfo, SymbolTable } from '../model';

const NEAR_LIMIT = 0x10000;
const KIND_RANK: Record<SymbolInfo['kind'], number> = { function: 3, object: 2, label: 1 };

export class SortedSymbolTable implements SymbolTable {
  private readonly sorted: SymbolInfo[];
  private readonly byName = new Map<string, number>();
  /** Every symbol by address, the best one last among equal addresses. */
  private readonly near: SymbolInfo[];
  private readonly nearAddr: Float64Array;
  /** Sized symbols by start (larger first at one start), with the enclosing range of each. */
  private readonly sized: SymbolInfo[];
  private readonly sizedStart: Float64Array;
  private readonly sizedParent: Int32Array;

  /**
   * `symbols` in order of preference (the first of two with one name is the one `lookup`
   * returns). `constants` are names with values that are not addresses (an assembler `equ`,
   * an absolute ELF symbol): found by `lookup` when no symbol has the name, never by `all` or
   * `nameAt`.
   */
  constructor(symbols: readonly SymbolInfo[], constants: ReadonlyMap<string, number> = new Map()) {
    const order = new Map<SymbolInfo, number>();
    symbols.forEach((s, i) => order.set(s, i));
    for (const s of symbols) if (!this.byName.has(s.name)) this.byName.set(s.name, s.address);
    for (const [name, value] of constants) if (!this.byName.has(name)) this.byName.set(name, value);
    // Better first: kind, then sized, then given order.
    const better = (a: SymbolInfo, b: SymbolInfo) =>
      KIND_RANK[b.kind] - KIND_RANK[a.kind] || (b.size > 0 ? 1 : 0) - (a.size > 0 ? 1 : 0) || order.get(a)! - order.get(b)!;
    this.sorted = [...symbols].sort((a, b) => a.address - b.address || better(a, b));
    this.near = [...symbols].sort((a, b) => a.address - b.address || better(b, a));
    this.nearAddr = Float64Array.from(this.near, (s) => s.address);
    this.sized = symbols.filter((s) => s.size > 0).sort((a, b) => a.address - b.address || b.size - a.size || better(b, a));
    this.sizedStart = Float64Array.from(this.sized, (s) => s.address);
    // The ranges open at each start form a stack (DWARF-free nesting): parent = the nearest earlier range still open.
    this.sizedParent = new Int32Array(this.sized.length);
    const stack: number[] = [];
    for (let i = 0; i < this.sized.length; i++) {
      const s = this.sized[i];
      while (stack.length > 0) {
        const t = this.sized[stack[stack.length - 1]];
        if (t.address + t.size > s.address) break;
        stack.pop();
      }
      this.sizedParent[i] = stack.length > 0 ? stack[stack.length - 1] : -1;
      stack.push(i);
    }
  }

  all(): readonly SymbolInfo[] {
    return this.sorted;
  }

  lookup(name: string): number | undefined {
    return this.byName.get(name);
  }

  nameAt(address: number): { name: string; offset: number } | undefined {
    for (let i = lastAtOrBelow(this.sizedStart, address); i >= 0; i = this.sizedParent[i]) {
      const s = this.sized[i];
      if (address < s.address + s.size) return { name: s.name, offset: address - s.address };
    }
    const j = lastAtOrBelow(this.nearAddr, address);
    if (j < 0) return undefined;
    const s = this.near[j];
    return address - s.address < NEAR_LIMIT ? { name: s.name, offset: address - s.address } : undefined;
  }
}

/** Index of the last element <= x in an ascending array, or -1. */
function lastAtOrBelow(a: Float64Array, x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
