/**
 * The LineTable of model.ts over rows grouped in sequences (DWARF 5 §6.2.2: a sequence is a
 * run of increasing addresses ended by an end_sequence row that gives the first address after
 * it; the same shape is built from the assembler's listing). Every query is a binary search
 * over arrays prepared once, so a kernel with tens of thousands of rows stays cheap.
 *
 *  - lineAt: the row whose range [row.address, next row's address) in its sequence holds the
 *    address (rows of zero length never cover anything; the later row at an address wins).
 *  - isStatementStart: some is_stmt row of a real line (line > 0) starts at the address.
 *  - bind: the smallest line >= the requested one that has statement rows in that file; its
 *    addresses are those of the statement rows that begin a run of the line (a row directly
 *    after a row of the same file and line in its sequence continues that run and adds no
 *    address, so one pass over the line stops once).
 */
import type { LineTable, SourcePosition } from '../model';
import type { SourceRow } from './dwarfLines';
import { baseName, normalizePath } from './sourcePaths';

interface FileLines {
  /** Statement run starts sorted by line, then address. */
  lines: Int32Array;
  addresses: Float64Array;
}

export class RowLineTable implements LineTable {
  /** Covering ranges sorted by start; rangeRow indexes `rows`. */
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  /** maxEnd[i] = the largest end among ranges 0..i (overlapping sequences stay correct). */
  private readonly maxEnd: Float64Array;
  private readonly rangeRow: Int32Array;
  private readonly stmtStarts: Set<number>;
  private readonly byFile = new Map<string, FileLines>();
  private readonly byBase = new Map<string, string[]>();
  private readonly fileList: string[];
  private readonly fileSet: Set<string>;

  /** `rows` in sequences, each ended by an endSequence row (the readers close a sequence a truncated program left open). */
  constructor(readonly rows: readonly SourceRow[]) {
    const ranges: Array<[number, number, number]> = [];
    this.stmtStarts = new Set();
    const runs = new Map<string, Array<[number, number]>>();
    let seqStart = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (r.endSequence) {
        seqStart = i + 1;
        continue;
      }
      const next = rows[i + 1];
      if (next !== undefined && next.address > r.address) ranges.push([r.address, next.address, i]);
      if (!r.isStmt || r.line <= 0 || r.file === '') continue;
      this.stmtStarts.add(r.address);
      const prev = i > seqStart ? rows[i - 1] : undefined;
      if (prev && prev.file === r.file && prev.line === r.line) continue;
      let list = runs.get(r.file);
      if (!list) runs.set(r.file, (list = []));
      list.push([r.line, r.address]);
    }
    ranges.sort((a, b) => a[0] - b[0] || a[2] - b[2]);
    const n = ranges.length;
    this.starts = new Float64Array(n);
    this.ends = new Float64Array(n);
    this.maxEnd = new Float64Array(n);
    this.rangeRow = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.starts[i] = ranges[i][0];
      this.ends[i] = ranges[i][1];
      this.rangeRow[i] = ranges[i][2];
      this.maxEnd[i] = Math.max(ranges[i][1], i > 0 ? this.maxEnd[i - 1] : -Infinity);
    }
    const files = new Set<string>();
    for (const r of rows) if (!r.endSequence && r.line > 0 && r.file !== '') files.add(r.file);
    this.fileList = [...files].sort();
    this.fileSet = files;
    for (const [file, list] of runs) {
      list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      this.byFile.set(file, { lines: Int32Array.from(list, (x) => x[0]), addresses: Float64Array.from(list, (x) => x[1]) });
    }
    for (const f of this.fileList) {
      const b = baseName(f);
      const l = this.byBase.get(b);
      if (l) l.push(f);
      else this.byBase.set(b, [f]);
    }
  }

  files(): readonly string[] {
    return this.fileList;
  }

  lineAt(address: number): SourcePosition | undefined {
    // The last range starting at or below the address, then back while an earlier one may still cover it.
    let lo = 0, hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid] <= address) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0 && this.maxEnd[i] > address; i--) {
      if (address < this.ends[i]) {
        const r = this.rows[this.rangeRow[i]];
        if (r.line <= 0 || r.file === '') return undefined;
        return r.column > 0 ? { file: r.file, line: r.line, column: r.column } : { file: r.file, line: r.line };
      }
    }
    return undefined;
  }

  /** The table's name for `file`: the same absolute path, else the only file with its base name. */
  resolveFile(file: string): string | undefined {
    const norm = normalizePath(file);
    if (this.fileSet.has(norm)) return norm;
    const same = this.byBase.get(baseName(norm));
    return same && same.length === 1 ? same[0] : undefined;
  }

  bind(file: string, line: number): { line: number; addresses: number[] } | undefined {
    const f = this.resolveFile(file);
    const fl = f === undefined ? undefined : this.byFile.get(f);
    if (!fl) return undefined;
    let lo = 0, hi = fl.lines.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (fl.lines[mid] < line) lo = mid + 1;
      else hi = mid;
    }
    if (lo === fl.lines.length) return undefined;
    const found = fl.lines[lo];
    const addresses: number[] = [];
    for (let i = lo; i < fl.lines.length && fl.lines[i] === found; i++) {
      if (addresses[addresses.length - 1] !== fl.addresses[i]) addresses.push(fl.addresses[i]);
    }
    return { line: found, addresses };
  }

  isStatementStart(address: number): boolean {
    return this.stmtStarts.has(address);
  }
}
