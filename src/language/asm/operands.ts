/**
 * Instruction operands in NASM syntax (NASM manual §3.3 effective addresses): registers,
 * memory references `[seg: base + index*scale + disp]` with `rel`/`abs`, immediates (any
 * expression), far pointers `seg:offset`, and the size keywords `byte word dword qword tword
 * oword yword zword`, `far`, `near`, `short`, `strict`.
 */
import { Register } from 'iced-x86';
import { AsmError, type Token } from './lexer';
import { ExprParser, type Expr } from './expr';
import { registerOf, type RegInfo } from './registers';

export const SIZE_KEYWORDS: Readonly<Record<string, number>> = {
  byte: 1, word: 2, dword: 4, fword: 6, qword: 8, tword: 10, oword: 16, xword: 16, yword: 32, zword: 64,
};

export interface MemOperand {
  k: 'mem';
  /** Size keyword in bytes, 0 when none. */
  size: number;
  far: boolean;
  seg: Register;
  base: RegInfo | null;
  index: RegInfo | null;
  scale: number;
  disp: Expr | null;
  /** `rel` given (or `default rel` applies), `abs` given. */
  rel: boolean;
  abs: boolean;
  col: number;
  end: number;
}

export interface RegOperand { k: 'reg'; r: RegInfo; col: number; end: number; size: number }
export interface ImmOperand {
  k: 'imm';
  expr: Expr;
  size: number;
  strict: boolean;
  short: boolean;
  near: boolean;
  far: boolean;
  col: number;
  end: number;
}
export interface FarOperand { k: 'farptr'; seg: Expr; off: Expr; size: number; col: number; end: number }

export type Operand = MemOperand | RegOperand | ImmOperand | FarOperand;

/** Split tokens (up to eol) into operands on top-level commas. */
export function splitOperands(toks: Token[], start: number): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  let level = 0;
  for (let i = start; i < toks.length; i++) {
    const t = toks[i];
    if (t.kind === 'eol') break;
    if (t.kind === 'op' && (t.text === '[' || t.text === '(')) level++;
    if (t.kind === 'op' && (t.text === ']' || t.text === ')')) level--;
    if (t.kind === 'op' && t.text === ',' && level === 0) {
      out.push(cur);
      cur = [];
      continue;
    }
    cur.push(t);
  }
  if (cur.length > 0 || out.length > 0) out.push(cur);
  return out;
}

function eolAfter(toks: Token[]): Token[] {
  const last = toks[toks.length - 1];
  return [...toks, { kind: 'eol', text: '', col: last === undefined ? 0 : last.col + last.text.length }];
}

function exprOf(toks: Token[], what: string): Expr {
  if (toks.length === 0) throw new AsmError(`${what} expected`);
  const p = new ExprParser(eolAfter(toks));
  const e = p.parse();
  const t = p.peek();
  if (t.kind !== 'eol') throw new AsmError(`unexpected '${t.text}' in ${what}`, t.col, Math.max(1, t.text.length));
  return e;
}

/** Parse one operand's tokens. `defaultRel`: NASM's `default rel` is in effect. */
export function parseOperand(toks: Token[], defaultRel: boolean): Operand {
  if (toks.length === 0) throw new AsmError('operand expected');
  const col = toks[0].col;
  const lastTok = toks[toks.length - 1];
  const end = lastTok.col + Math.max(1, lastTok.text.length);
  let size = 0;
  let strict = false, short = false, near = false, far = false;
  let i = 0;
  for (; i < toks.length && toks[i].kind === 'ident'; i++) {
    const w = toks[i].text.toLowerCase();
    if (w in SIZE_KEYWORDS) size = SIZE_KEYWORDS[w];
    else if (w === 'strict') strict = true;
    else if (w === 'short') short = true;
    else if (w === 'near') near = true;
    else if (w === 'far') far = true;
    else break;
  }
  const rest = toks.slice(i);
  if (rest.length === 0) throw new AsmError('operand expected after size keyword', col);
  // seg:[mem] (segment override written outside the brackets)
  let seg = Register.None;
  let body = rest;
  if (rest.length >= 3 && rest[0].kind === 'ident' && rest[1].kind === 'op' && rest[1].text === ':' && rest[2].kind === 'op' && rest[2].text === '[') {
    const r = registerOf(rest[0].text);
    if (r === undefined || r.cls !== 'seg') throw new AsmError(`'${rest[0].text}' is not a segment register`, rest[0].col, rest[0].text.length);
    seg = r.reg;
    body = rest.slice(2);
  }
  if (body[0].kind === 'op' && body[0].text === '[') {
    const close = body[body.length - 1];
    if (!(close.kind === 'op' && close.text === ']')) throw new AsmError("expected ']' at the end of the memory operand", close.col);
    return parseMemory(body.slice(1, -1), size, far, seg, defaultRel, col, end);
  }
  if (body.length === 1 && body[0].kind === 'ident') {
    const r = registerOf(body[0].text);
    if (r !== undefined) return { k: 'reg', r, col, end, size };
  }
  // seg:offset far pointer (top-level colon)
  const colon = body.findIndex((t) => t.kind === 'op' && t.text === ':');
  if (colon > 0) {
    return { k: 'farptr', seg: exprOf(body.slice(0, colon), 'segment'), off: exprOf(body.slice(colon + 1), 'offset'), size, col, end };
  }
  return { k: 'imm', expr: exprOf(body, 'operand'), size, strict, short, near, far, col, end };
}

function parseMemory(
  inner: Token[], size: number, far: boolean, segOuter: Register, defaultRel: boolean, col: number, end: number,
): MemOperand {
  let seg = segOuter;
  let rel = defaultRel;
  let abs = false;
  let toks = inner;
  // Leading keywords inside the brackets: rel, abs, a size for the address (ignored: NASM's [dword x]).
  while (toks.length > 0 && toks[0].kind === 'ident') {
    const w = toks[0].text.toLowerCase();
    if (w === 'rel') { rel = true; abs = false; }
    else if (w === 'abs') { abs = true; rel = false; }
    else if (w in SIZE_KEYWORDS && toks.length > 1 && !(toks[1].kind === 'op' && toks[1].text === '*')) { /* displacement size hint */ }
    else break;
    toks = toks.slice(1);
  }
  if (toks.length >= 2 && toks[0].kind === 'ident' && toks[1].kind === 'op' && toks[1].text === ':') {
    const r = registerOf(toks[0].text);
    if (r === undefined || r.cls !== 'seg') throw new AsmError(`'${toks[0].text}' is not a segment register`, toks[0].col, toks[0].text.length);
    seg = r.reg;
    toks = toks.slice(2);
  }
  if (toks.length === 0) throw new AsmError('empty memory reference', col);
  // Split into top-level terms on + and -; register terms are pulled out, the rest is the displacement.
  const terms: { neg: boolean; toks: Token[] }[] = [];
  let cur: Token[] = [];
  let neg = false;
  let level = 0;
  for (const t of toks) {
    if (t.kind === 'op' && t.text === '(') level++;
    if (t.kind === 'op' && t.text === ')') level--;
    if (level === 0 && t.kind === 'op' && (t.text === '+' || t.text === '-') && cur.length > 0) {
      terms.push({ neg, toks: cur });
      cur = [];
      neg = t.text === '-';
      continue;
    }
    if (level === 0 && t.kind === 'op' && (t.text === '+' || t.text === '-') && cur.length === 0) {
      if (t.text === '-') neg = !neg;
      continue;
    }
    cur.push(t);
  }
  if (cur.length > 0) terms.push({ neg, toks: cur });
  let base: RegInfo | null = null;
  let index: RegInfo | null = null;
  let scale = 1;
  const dispParts: { neg: boolean; toks: Token[] }[] = [];
  for (const term of terms) {
    const regAt = term.toks.findIndex((t) => t.kind === 'ident' && registerOf(t.text) !== undefined);
    if (regAt < 0) {
      dispParts.push(term);
      continue;
    }
    const rt = term.toks[regAt];
    const r = registerOf(rt.text)!;
    if (term.neg) throw new AsmError('a register cannot be subtracted in an address', rt.col, rt.text.length);
    let s = 1;
    if (term.toks.length === 3 && term.toks[1].kind === 'op' && term.toks[1].text === '*') {
      const other = term.toks[regAt === 0 ? 2 : 0];
      if (other.kind !== 'number') throw new AsmError('the scale must be 1, 2, 4 or 8', other.col, other.text.length);
      s = Number(other.value);
    } else if (term.toks.length !== 1) {
      throw new AsmError('unsupported register expression in an address', rt.col, rt.text.length);
    }
    if (![1, 2, 4, 8].includes(s)) throw new AsmError('the scale must be 1, 2, 4 or 8', rt.col, rt.text.length);
    if (r.cls === 'ip') {
      // [rip + x]: RIP-relative with an explicit offset from the next instruction.
      if (base !== null) throw new AsmError('RIP cannot be combined with another register', rt.col, rt.text.length);
      base = r;
      continue;
    }
    if (s === 1 && base === null && index === null) base = r;
    else if (s === 1 && index === null) index = r;
    else if (index === null) { index = r; scale = s; }
    else throw new AsmError('too many registers in an address', rt.col, rt.text.length);
  }
  let disp: Expr | null = null;
  for (const part of dispParts) {
    let e = exprOf(part.toks, 'displacement');
    if (part.neg) e = { k: 'un', op: '-', a: e };
    disp = disp === null ? e : { k: 'bin', op: '+', a: disp, b: e };
  }
  return { k: 'mem', size, far, seg, base, index, scale, disp, rel: rel && base === null && index === null, abs, col, end };
}
