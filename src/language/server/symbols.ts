/**
 * Document symbols (the outline: global labels with their local labels as children, constants,
 * macros, sections) and semantic tokens (labels, constants, macros, where TextMate cannot tell).
 */
import type { Analysis } from './analysis';

export interface OutlineSymbol {
  name: string;
  kind: 'function' | 'constant' | 'macro' | 'field' | 'namespace';
  line: number;
  col: number;
  length: number;
  /** Last line the symbol covers (a global label runs to the next global label). */
  endLine: number;
  detail: string;
  children: OutlineSymbol[];
}

export function outline(a: Analysis): OutlineSymbol[] {
  const out: OutlineSymbol[] = [];
  let parent: OutlineSymbol | null = null;
  const last = a.lines.length - 1;
  for (const d of a.labels) {
    const detail = d.value !== undefined ? `0x${BigInt.asUintN(64, d.value).toString(16)}` : d.kind;
    const sym: OutlineSymbol = {
      name: d.text, kind: d.kind === 'macro' ? 'macro' : d.kind === 'label' ? (d.text.startsWith('.') ? 'field' : 'function') : 'constant',
      line: d.line, col: d.col, length: d.text.length, endLine: d.line, detail, children: [],
    };
    if (d.kind === 'label' && d.text.startsWith('.') && parent !== null) {
      parent.children.push(sym);
      parent.endLine = Math.max(parent.endLine, d.line);
      continue;
    }
    if (d.kind === 'label') {
      if (parent !== null) parent.endLine = Math.max(parent.endLine, d.line - 1);
      parent = sym;
    }
    out.push(sym);
  }
  if (parent !== null) parent.endLine = last;
  a.lines.forEach((l, i) => {
    const m = /^\s*\[?\s*(?:section|segment)\s+([\w.$]+)/i.exec(l);
    if (m !== null) out.push({ name: m[1], kind: 'namespace', line: i, col: l.indexOf(m[1]), length: m[1].length, endLine: i, detail: 'section', children: [] });
  });
  return out.sort((x, y) => x.line - y.line);
}

export const TOKEN_TYPES = ['function', 'variable', 'macro', 'enumMember'] as const;

/** Semantic tokens as [line, col, length, typeIndex] (absolute; the server delta-encodes). */
export function semanticTokens(a: Analysis): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  const typeOf = new Map<string, number>();
  for (const d of a.labels) typeOf.set(d.name, d.kind === 'macro' ? 2 : d.kind === 'label' ? 0 : 3);
  for (const d of a.labels) out.push([d.line, d.col, d.text.length, typeOf.get(d.name)!]);
  for (const r of a.result.references) {
    if (r.file !== a.file) continue;
    const t = typeOf.get(r.name);
    if (t === undefined) continue;
    const raw = /^[A-Za-z_.?$@][\w.?$@#~]*/.exec((a.lines[r.line - 1] ?? '').slice(r.col))?.[0];
    if (raw !== undefined) out.push([r.line - 1, r.col, raw.length, t]);
  }
  const seen = new Set<string>();
  return out.filter((t) => {
    const k = `${t[0]}:${t[1]}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  }).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}
