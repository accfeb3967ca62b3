/**
 * Oracles for the debug-information tests: binutils' own reading of a file (readelf's decoded
 * line table and symbol table), and reference semantics of the LineTable queries computed by
 * plain linear scans over those rows (what lineAt / bind / isStatementStart must answer).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import type { SourceRow } from '../../src/debugger/debugInfo/dwarfLines';
import { baseName } from '../../src/debugger/debugInfo/sourcePaths';

export function hasTool(name: string, args = ['--version']): boolean {
  const r = spawnSync(name, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/** One row as readelf prints it: the file's base name, the line (null on an end_sequence row), address, is_stmt. */
export interface OracleRow { base: string; line: number | null; address: number; stmt: boolean }

/** `readelf -W --debug-dump=decodedline`: every row in program order. */
export function readelfLines(path: string): OracleRow[] {
  const text = execFileSync('readelf', ['-W', '--debug-dump=decodedline', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const rows: OracleRow[] = [];
  for (const l of text.split('\n')) {
    const m = /^(\S+)\s+(\d+|-)\s+(0x[0-9a-f]+)(?:\s+\d+)?\s*(x?)\s*$/.exec(l);
    if (!m) continue;
    rows.push({ base: baseName(m[1]), line: m[2] === '-' ? null : Number(m[2]), address: Number(m[3]), stmt: m[4] === 'x' });
  }
  return rows;
}

/** Our rows in the oracle's shape (is_stmt is not printed on end_sequence rows). */
export function asOracle(rows: readonly SourceRow[]): OracleRow[] {
  return rows.map((r) => ({ base: baseName(r.file), line: r.endSequence ? null : r.line, address: r.address, stmt: r.endSequence ? false : r.isStmt }));
}

export interface OracleSymbol { name: string; address: number; size: number; kind: 'function' | 'object' | 'label' }

/** `readelf -sW`, .symtab only: FUNC/IFUNC, OBJECT and NOTYPE symbols defined in a section (absolute ones apart). */
export function readelfSymbols(path: string, absolute = new Map<string, number>()): OracleSymbol[] {
  const text = execFileSync('readelf', ['-sW', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const out: OracleSymbol[] = [];
  let inSymtab = false;
  for (const l of text.split('\n')) {
    if (l.startsWith('Symbol table')) inSymtab = l.includes("'.symtab'");
    if (!inSymtab) continue;
    const m = /^\s*\d+:\s+([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+(\w+)\s+(\w+)\s+\w+\s+(\w+)\s+(\S+)\s*$/.exec(l);
    if (!m) continue;
    const [, value, size, type, , ndx, name] = m;
    const kind = type === 'FUNC' || type === 'IFUNC' ? 'function' : type === 'OBJECT' ? 'object' : type === 'NOTYPE' ? 'label' : undefined;
    if (!kind || ndx === 'UND') continue;
    if (ndx === 'ABS') {
      absolute.set(name, parseInt(value, 16));
      continue;
    }
    out.push({ name, address: parseInt(value, 16), size: Number(size), kind });
  }
  return out;
}

/** `nm`: name → address of defined symbols. */
export function nmAddresses(path: string): Map<string, number> {
  const text = execFileSync('nm', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new Map<string, number>();
  for (const l of text.split('\n')) {
    const m = /^([0-9a-f]+)\s+\w\s+(\S+)$/.exec(l);
    if (m) out.set(m[2], parseInt(m[1], 16));
  }
  return out;
}

/** The sequences of oracle rows (each ends with its end_sequence row). */
export function sequences(rows: readonly OracleRow[]): OracleRow[][] {
  const out: OracleRow[][] = [];
  let cur: OracleRow[] = [];
  for (const r of rows) {
    cur.push(r);
    if (r.line === null) {
      out.push(cur);
      cur = [];
    }
  }
  return out;
}

/** Reference lineAt: in the sequence holding the address, the last row at or below it. */
export function refLineAt(seqs: readonly OracleRow[][], address: number): { base: string; line: number } | undefined {
  for (const s of seqs) {
    if (address < s[0].address || address >= s[s.length - 1].address) continue;
    let best: OracleRow | undefined;
    for (const r of s) if (r.line !== null && r.address <= address) best = r;
    return best && best.line! > 0 ? { base: best.base, line: best.line! } : undefined;
  }
  return undefined;
}

/** Reference isStatementStart. */
export function refIsStmt(rows: readonly OracleRow[], address: number): boolean {
  return rows.some((r) => r.line !== null && r.line > 0 && r.stmt && r.address === address);
}

/**
 * Reference bind: the smallest line >= `line` of the file with statement rows; the addresses of
 * those statement rows not directly preceded in their sequence by a row of the same file and line.
 */
export function refBind(seqs: readonly OracleRow[][], base: string, line: number): { line: number; addresses: number[] } | undefined {
  const cands: Array<{ line: number; address: number }> = [];
  for (const s of seqs) {
    s.forEach((r, i) => {
      if (r.line === null || r.base !== base || !r.stmt || r.line <= 0) return;
      const p = s[i - 1];
      if (p && p.line === r.line && p.base === r.base) return;
      cands.push({ line: r.line, address: r.address });
    });
  }
  const at = cands.filter((c) => c.line >= line);
  if (at.length === 0) return undefined;
  const found = Math.min(...at.map((c) => c.line));
  return { line: found, addresses: [...new Set(at.filter((c) => c.line === found).map((c) => c.address))].sort((a, b) => a - b) };
}
