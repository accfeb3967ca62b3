/**
 * binutils' reading of call frame information as the oracle of the unwind tests:
 * `readelf -W --debug-dump=frames-interp` gives, for every FDE, the rows of its unwind table
 * (location, CFA, and each register's rule in readelf's notation), and `ruleText` writes our
 * UnwindRow in the same notation.
 */
import { execFileSync } from 'node:child_process';
import type { RegisterRule, UnwindRow } from '../../src/debugger/model';
import { signed } from './higherHalfKernel';

export interface OracleFde { section: string; start: number; end: number; columns: string[]; rows: Array<{ loc: number; cells: string[] }> }

export const REG_NAMES: Record<32 | 64, string[]> = {
  32: ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip'],
  64: ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'],
};

export function readelfFrames(path: string): OracleFde[] {
  const text = execFileSync('readelf', ['-W', '--debug-dump=frames-interp', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const out: OracleFde[] = [];
  const cies = new Map<string, OracleFde>();
  const cieOf = new Map<OracleFde, string>();
  let section = '';
  let cur: OracleFde | undefined;
  for (const l of text.split('\n')) {
    const sec = /^Contents of the (\S+) section:/.exec(l);
    if (sec) { section = sec[1]; continue; }
    const fde = /FDE cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(l);
    if (fde) {
      cur = { section, start: signed(fde[2]), end: signed(fde[3]), columns: [], rows: [] };
      out.push(cur);
      cieOf.set(cur, `${section}:${Number.parseInt(fde[1], 16)}`);
      continue;
    }
    const cie = /^([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ CIE/.exec(l);
    if (cie) { cur = { section, start: 0, end: 0, columns: [], rows: [] }; cies.set(`${section}:${Number.parseInt(cie[1], 16)}`, cur); continue; }
    if (/ZERO terminator/.test(l)) { cur = undefined; continue; }
    if (!cur) continue;
    const cols = l.trim().split(/\s+/);
    if (cols[0] === 'LOC') { cur.columns = cols.slice(2); continue; }
    if (/^[0-9a-f]{8,16}$/.test(cols[0]) && cols.length === cur.columns.length + 2) cur.rows.push({ loc: signed(cols[0]), cells: cols.slice(1) });
  }
  // An FDE without instructions prints no rows: its CIE's initial row is in force throughout.
  for (const f of out) {
    const c = cies.get(cieOf.get(f)!);
    if (f.rows.length === 0 && c && c.rows.length > 0) {
      f.columns = c.columns;
      f.rows = [{ loc: f.start, cells: c.rows[0].cells }];
    }
  }
  return out;
}

function rule(r: RegisterRule | undefined, names: string[]): string {
  if (r === undefined) return 'u';
  switch (r.kind) {
    case 'undefined': return 'u';
    case 'same': return 's';
    case 'offset': return `c${r.offset >= 0 ? '+' : ''}${r.offset}`;
    case 'valOffset': return `v${r.offset >= 0 ? '+' : ''}${r.offset}`;
    case 'register': return names[r.register] ?? `r${r.register}`;
    case 'expression': return 'exp';
    case 'valExpression': return 'vexp';
  }
}

/** Our row in readelf's cells for `columns` (CFA first). */
export function ruleText(row: UnwindRow | undefined, columns: string[], bits: 32 | 64): string[] {
  if (!row) return ['none'];
  const names = REG_NAMES[bits];
  const cfa = row.cfa === undefined ? 'exp' : `${names[row.cfa.register] ?? `r${row.cfa.register}`}${row.cfa.offset >= 0 ? '+' : ''}${row.cfa.offset}`;
  return [cfa, ...columns.map((c) => rule(row.registers.get(c === 'ra' ? row.returnAddressRegister : names.indexOf(c)), names))];
}
