/**
 * What the language server knows about one document: the assembly of it (diagnostics, symbols,
 * references, listing) and, per line, the label scope (for `.local` labels) and the statement.
 * Everything is computed from the assembler, so the editor and `vtx asm` always agree.
 */
import { assemble, type AssembleResult } from '../asm/assembler';
import type { FileReader } from '../asm/preprocessor';
import { stripComment } from '../asm/lexer';

export interface LabelDef {
  /** Qualified name (`start.loop`). */
  name: string;
  /** As written (`.loop`). */
  text: string;
  line: number; // 0-based
  col: number;
  value: bigint | undefined;
  kind: 'label' | 'equ' | 'macro' | 'define';
}

export interface Analysis {
  uri: string;
  file: string;
  lines: string[];
  result: AssembleResult;
  /** Labels defined in this document. */
  labels: LabelDef[];
  /** Global label in effect on each line (for `.local` names). */
  scope: string[];
}

const LABEL_AT = /^\s*([A-Za-z_.?$@][\w.?$@#~]*)(?=\s*:|\s+(?:equ|db|dw|dd|dq|dt|resb|resw|resd|resq|times)\b)/i;

export function analyze(text: string, uri: string, file: string, reader: FileReader, bits: 16 | 32 | 64 = 16): Analysis {
  const result = assemble(text, { file, reader, bits });
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const scope: string[] = [];
  const labels: LabelDef[] = [];
  let current = '';
  lines.forEach((line, i) => {
    const m = LABEL_AT.exec(stripComment(line));
    if (m !== null) {
      const raw = m[1];
      const name = raw.startsWith('.') && !raw.startsWith('..') ? current + raw : raw;
      if (!raw.startsWith('.')) current = raw;
      const sym = result.symbols.get(name);
      labels.push({ name, text: raw, line: i, col: line.indexOf(raw), value: sym?.value, kind: sym?.kind ?? 'label' });
    }
    scope.push(current);
    const mac = /^\s*%macro\s+([A-Za-z_.?$][\w.?$@#~]*)/i.exec(line);
    if (mac !== null) labels.push({ name: mac[1], text: mac[1], line: i, col: line.indexOf(mac[1], line.indexOf('%macro') + 6), value: undefined, kind: 'macro' });
    const def = /^\s*%(?:define|xdefine|assign)\s+([A-Za-z_.?$][\w.?$@#~]*)/i.exec(line);
    if (def !== null) labels.push({ name: def[1], text: def[1], line: i, col: line.indexOf(def[1], line.indexOf('%') + 2), value: undefined, kind: 'define' });
  });
  return { uri, file, lines, result, labels, scope };
}

/** The identifier under (line, character), or null. */
export function wordAt(a: Analysis, line: number, character: number): { text: string; start: number; end: number } | null {
  const l = a.lines[line];
  if (l === undefined) return null;
  const re = /[A-Za-z_.?$@%][\w.?$@#~]*/g;
  for (let m = re.exec(l); m !== null; m = re.exec(l)) {
    if (character >= m.index && character <= m.index + m[0].length) return { text: m[0], start: m.index, end: m.index + m[0].length };
  }
  return null;
}

/** Qualified symbol name of `text` written on `line`. */
export function qualify(a: Analysis, line: number, text: string): string {
  return text.startsWith('.') && !text.startsWith('..') ? (a.scope[line] ?? '') + text : text;
}

/** Every occurrence (definition and uses) of the qualified `name` in this document. */
export function occurrences(a: Analysis, name: string): { line: number; col: number; length: number }[] {
  const out: { line: number; col: number; length: number }[] = [];
  const seen = new Set<string>();
  const add = (line: number, col: number, length: number): void => {
    const k = `${line}:${col}`;
    if (!seen.has(k)) { seen.add(k); out.push({ line, col, length }); }
  };
  for (const d of a.labels) if (d.name === name) add(d.line, d.col, d.text.length);
  for (const r of a.result.references) {
    if (r.name !== name || r.file !== a.file) continue;
    const text = a.lines[r.line - 1] ?? '';
    const raw = /^[A-Za-z_.?$@][\w.?$@#~]*/.exec(text.slice(r.col))?.[0];
    // A reference inside a macro expansion has columns of the expanded text: keep it only if
    // the document really has the name there.
    if (raw === undefined || qualify(a, r.line - 1, raw) !== name) continue;
    add(r.line - 1, r.col, raw.length);
  }
  // Macros and defines are not assembler symbols: find them textually.
  if (a.labels.some((d) => d.name === name && (d.kind === 'macro' || d.kind === 'define'))) {
    const re = new RegExp(`(?<![\\w.?$@#~])${name.replace(/[.?$]/g, '\\$&')}(?![\\w.?$@#~])`, 'g');
    a.lines.forEach((l, i) => {
      const code = stripComment(l);
      for (let m = re.exec(code); m !== null; m = re.exec(code)) add(i, m.index, name.length);
    });
  }
  return out.sort((x, y) => x.line - y.line || x.col - y.col);
}
