/**
 * One logical source line parsed into a statement: an optional label and one of instruction,
 * data (`db`…`dz`), reservation (`resb`…), `times`, `align`/`alignb`, `equ`, or a directive
 * (`org`, `bits`/`use16`…, `section`/`segment`, `default rel|abs`, ignored `global`/`extern`/
 * `cpu`). Parsing happens once; the assembler's passes only evaluate.
 */
import { AsmError, tokenize, type Token } from './lexer';
import { ExprParser, type Expr } from './expr';
import { parseOperand, splitOperands, type Operand } from './operands';
import { isMnemonic } from './encoder';
import { registerOf } from './registers';
import type { SourceLine } from './preprocessor';

export type DataItem = { k: 'expr'; e: Expr; col: number } | { k: 'str'; bytes: number[]; col: number } | { k: 'undef' };

export type Body =
  | {
    k: 'insn'; mnemonic: string; col: number; operandToks: Token[][]; lock: boolean; rep: 'rep' | 'repne' | null;
    opSize: number; addrSize: number; to: boolean;
  }
  | { k: 'data'; unit: number; items: DataItem[] }
  | { k: 'res'; unit: number; count: Expr }
  | { k: 'align'; n: Expr; zero: boolean }
  | { k: 'equ'; e: Expr }
  | { k: 'org'; e: Expr }
  | { k: 'bits'; bits: 16 | 32 | 64 }
  | { k: 'section'; name: string; align: number | null; nobits: boolean | null }
  | { k: 'default'; rel: boolean }
  | { k: 'none' };

export interface Statement {
  src: SourceLine;
  label: { name: string; col: number } | null;
  /** A name alone on its line without a colon (NASM's label-orphan warning: often a misspelt instruction). */
  orphan?: boolean;
  times: Expr | null;
  body: Body;
  /** Operands parsed once per `default rel` state (instructions only). */
  operands?: Operand[];
}

const DATA_UNITS: Record<string, number> = { db: 1, dw: 2, dd: 4, dq: 8, dt: 10, do: 16, dy: 32, dz: 64 };
const RES_UNITS: Record<string, number> = { resb: 1, resw: 2, resd: 4, resq: 8, rest: 10, reso: 16, resy: 32, resz: 64 };
const IGNORED = new Set(['global', 'extern', 'cpu', 'common', 'static', 'float', 'warning', 'map', 'absolute']);
const PREFIXES: Record<string, string> = {
  lock: 'lock', rep: 'rep', repe: 'rep', repz: 'rep', repne: 'repne', repnz: 'repne',
  o16: 'o16', o32: 'o32', o64: 'o64', a16: 'a16', a32: 'a32', a64: 'a64',
};

function expr(toks: Token[], start: number, what: string, thenWord = false): { e: Expr; pos: number } {
  const p = new ExprParser(toks, start);
  const e = p.parse();
  if (p.peek().kind === 'eol' || (p.peek().kind === 'op' && p.peek().text === ',') || (thenWord && p.peek().kind === 'ident')) return { e, pos: p.pos };
  throw new AsmError(`unexpected '${p.peek().text}' in ${what}`, p.peek().col, Math.max(1, p.peek().text.length));
}

function wholeExpr(toks: Token[], start: number, what: string): Expr {
  const { e, pos } = expr(toks, start, what);
  if (toks[pos].kind !== 'eol') throw new AsmError(`unexpected '${toks[pos].text}' after ${what}`, toks[pos].col);
  return e;
}

/** Parse the statement of one logical line. */
export function parseStatement(src: SourceLine): Statement {
  const st: Statement = { src, label: null, times: null, body: { k: 'none' } };
  let text = src.text.trim();
  // [directive] brackets (NASM's primitive form).
  const prim = /^\[\s*([A-Za-z]+)\b([^\]]*)\]\s*(;.*)?$/.exec(text);
  if (prim !== null) text = `${prim[1]} ${prim[2]}`;
  const toks = tokenize(text);
  // Column adjustment: tokens are relative to the trimmed text.
  const shift = src.text.indexOf(text.slice(0, 1)) >= 0 && prim === null ? src.text.length - src.text.trimStart().length : 0;
  for (const t of toks) t.col += shift;
  let i = 0;
  if (toks[0].kind === 'eol') return st;
  // Label: `name:` or `name` followed by something that is not an instruction or directive.
  if (toks[0].kind === 'ident' && toks[1].kind === 'op' && toks[1].text === ':' && registerOf(toks[0].text)?.cls !== 'seg') {
    st.label = { name: toks[0].text, col: toks[0].col };
    i = 2;
  } else if (toks[0].kind === 'ident' && !isKeyword(toks[0].text) && toks[1].kind === 'ident' &&
    (isKeyword(toks[1].text) || toks[1].text.toLowerCase() === 'equ')) {
    st.label = { name: toks[0].text, col: toks[0].col };
    i = 1;
  } else if (toks[0].kind === 'ident' && !isKeyword(toks[0].text) && toks[1].kind === 'eol') {
    // A lone name is a label (NASM warns: "label alone on a line without a colon").
    st.label = { name: toks[0].text, col: toks[0].col };
    st.orphan = true;
    return st;
  }
  if (toks[i].kind === 'eol') return st;
  const head = toks[i];
  if (head.kind !== 'ident') throw new AsmError(`instruction or directive expected, found '${head.text}'`, head.col);
  let word = head.text.toLowerCase();
  if (word === 'times') {
    const r = expr(toks, i + 1, 'times count', true);
    st.times = r.e;
    i = r.pos;
    if (toks[i].kind !== 'ident') throw new AsmError('times needs an instruction or data after its count', toks[i].col);
    word = toks[i].text.toLowerCase();
  }
  const at = toks[i];
  i++;
  if (word === 'equ') {
    if (st.label === null) throw new AsmError('equ needs a label', at.col);
    st.body = { k: 'equ', e: wholeExpr(toks, i, 'equ value') };
    return st;
  }
  if (word in DATA_UNITS) {
    st.body = { k: 'data', unit: DATA_UNITS[word], items: dataItems(toks, i) };
    return st;
  }
  if (word in RES_UNITS) {
    st.body = { k: 'res', unit: RES_UNITS[word], count: wholeExpr(toks, i, 'reservation count') };
    return st;
  }
  switch (word) {
    case 'align': case 'alignb': {
      const { e, pos } = expr(toks, i, 'alignment');
      if (toks[pos].kind !== 'eol' && word === 'align' && !/^\s*nop\s*$/i.test(toks.slice(pos + 1, -1).map((t) => t.text).join(' '))) {
        throw new AsmError('only nop is supported as the fill of align', toks[pos].col);
      }
      st.body = { k: 'align', n: e, zero: word === 'alignb' };
      return st;
    }
    case 'org': st.body = { k: 'org', e: wholeExpr(toks, i, 'origin') }; return st;
    case 'bits': case 'use16': case 'use32': case 'use64': {
      const n = word === 'bits' ? Number(toks[i].value ?? -1) : Number(word.slice(3));
      if (n !== 16 && n !== 32 && n !== 64) throw new AsmError('bits must be 16, 32 or 64', toks[i]?.col ?? at.col);
      st.body = { k: 'bits', bits: n };
      return st;
    }
    case 'section': case 'segment': {
      const name = toks[i]?.kind === 'ident' ? toks[i].text : '';
      if (name === '') throw new AsmError('section needs a name', at.col);
      let align: number | null = null;
      let nobits: boolean | null = null;
      const attrs = toks.slice(i + 1, -1).map((t) => t.text).join('');
      const a = /align=(\d+)/i.exec(attrs);
      if (a !== null) align = Number(a[1]);
      if (/nobits/i.test(attrs)) nobits = true;
      if (/progbits/i.test(attrs)) nobits = false;
      st.body = { k: 'section', name, align, nobits };
      return st;
    }
    case 'default': {
      const w = toks[i]?.text.toLowerCase();
      if (w !== 'rel' && w !== 'abs') throw new AsmError('default takes rel or abs', toks[i]?.col ?? at.col);
      st.body = { k: 'default', rel: w === 'rel' };
      return st;
    }
  }
  if (IGNORED.has(word)) return st;
  // Instruction, with prefixes.
  let lock = false;
  let rep: 'rep' | 'repne' | null = null;
  let opSize = 0;
  let addrSize = 0;
  let mn = at;
  let j = i;
  while (mn.text.toLowerCase() in PREFIXES) {
    const p = PREFIXES[mn.text.toLowerCase()];
    if (p === 'lock') lock = true;
    else if (p === 'rep' || p === 'repne') rep = p;
    else if (p[0] === 'o') opSize = Number(p.slice(1));
    else addrSize = Number(p.slice(1));
    if (toks[j].kind !== 'ident') {
      if (toks[j].kind === 'eol') break;
      throw new AsmError('instruction expected after prefix', toks[j].col);
    }
    mn = toks[j];
    j++;
  }
  if (!isMnemonic(mn.text) && !(mn.text.toLowerCase() in PREFIXES)) {
    throw new AsmError(`unknown instruction or directive '${mn.text}'`, mn.col, mn.text.length);
  }
  // x87 `fadd to st1`.
  const to = toks[j]?.kind === 'ident' && toks[j].text.toLowerCase() === 'to' && toks[j + 1]?.kind === 'ident';
  st.body = { k: 'insn', mnemonic: mn.text.toLowerCase(), col: mn.col, operandToks: splitOperands(toks, to ? j + 1 : j), lock, rep, opSize, addrSize, to };
  return st;
}

function isKeyword(w: string): boolean {
  const l = w.toLowerCase();
  return isMnemonic(l) || l in DATA_UNITS || l in RES_UNITS || l in PREFIXES || IGNORED.has(l) ||
    ['times', 'equ', 'align', 'alignb', 'org', 'bits', 'section', 'segment', 'default', 'use16', 'use32', 'use64'].includes(l);
}

function dataItems(toks: Token[], start: number): DataItem[] {
  const items: DataItem[] = [];
  let i = start;
  for (;;) {
    const t = toks[i];
    if (t.kind === 'eol') throw new AsmError('data expected', t.col);
    const next = toks[i + 1];
    if (t.kind === 'string' && (next.kind === 'eol' || (next.kind === 'op' && next.text === ','))) {
      items.push({ k: 'str', bytes: t.bytes!, col: t.col });
      i++;
    } else if (t.kind === 'op' && t.text === '?') {
      items.push({ k: 'undef' });
      i++;
    } else {
      const r = expr(toks, i, 'data');
      items.push({ k: 'expr', e: r.e, col: t.col });
      i = r.pos;
    }
    if (toks[i].kind === 'eol') return items;
    i++; // the comma
  }
}

/** Operands of an instruction statement (parsed on demand; `default rel` decides [label]). */
export function operandsOf(st: Statement, defaultRel: boolean): Operand[] {
  if (st.body.k !== 'insn') return [];
  return st.body.operandToks.map((t) => parseOperand(t, defaultRel));
}
