/**
 * Tokens of NASM-syntax assembly (NASM manual §3.4 constants, §3.5 expressions): identifiers
 * (labels, mnemonics, registers, `.local`, `..@x`, `$`, `$$`), numbers in every NASM notation,
 * strings ('…', "…", `…` with escapes), operators and punctuation. One line at a time; every
 * token keeps its column so errors point at the right place.
 */

export type TokenKind = 'ident' | 'number' | 'string' | 'op' | 'eol';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Numbers: the value. */
  value?: bigint;
  /** Strings: the bytes. */
  bytes?: number[];
  /** 0-based column in the source line. */
  col: number;
}

export class AsmError extends Error {
  constructor(message: string, readonly col = 0, readonly length = 1) {
    super(message);
  }
}

const OPS3 = ['<<<', '>>>'];
const OPS2 = ['<<', '>>', '//', '%%', '==', '!=', '<>', '<=', '>=', '&&', '||', '^^'];
const OPS1 = '+-*/%&|^~!()[],:<>=?{}';

function isIdentStart(ch: string): boolean {
  // `?` continues identifiers but does not start one: alone it is the `? :` operator or the
  // uninitialised-data marker.
  return /[A-Za-z_.@$]/.test(ch);
}
function isIdentChar(ch: string): boolean {
  return /[A-Za-z0-9_.?@$#~]/.test(ch);
}

/** Parse a NASM numeric constant (`0x1F`, `1Fh`, `$1F`, `0b101`, `101b`, `0o17`, `17q`, `1_000`). */
export function parseNumber(text: string): bigint | null {
  let t = text.toLowerCase().replace(/_/g, '');
  if (t.length === 0) return null;
  let base = 10;
  if (/^0[xh]/.test(t)) { base = 16; t = t.slice(2); }
  else if (/^0[bhy]/.test(t) && !/^0b[0-9a-f]*h$/.test(t)) { base = 2; t = t.slice(2); }
  else if (/^0[oq]/.test(t)) { base = 8; t = t.slice(2); }
  else if (/^0d/.test(t)) { base = 10; t = t.slice(2); }
  else if (/^\$[0-9]/.test(t)) { base = 16; t = t.slice(1); }
  else if (/h$/.test(t)) { base = 16; t = t.slice(0, -1); }
  else if (/[qo]$/.test(t)) { base = 8; t = t.slice(0, -1); }
  else if (/[by]$/.test(t)) { base = 2; t = t.slice(0, -1); }
  else if (/d$/.test(t) && /^[0-9]+d$/.test(t)) { t = t.slice(0, -1); }
  if (t.length === 0) return null;
  const digits = '0123456789abcdef'.slice(0, base);
  let v = 0n;
  for (const ch of t) {
    const d = digits.indexOf(ch);
    if (d < 0) return null;
    v = v * BigInt(base) + BigInt(d);
  }
  return v;
}

function utf8(s: string): number[] {
  return Array.from(Buffer.from(s, 'utf8'));
}

/** Backquoted strings understand C-style escapes (NASM manual §3.4.2). */
function unescape(body: string, col: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== '\\') {
      out.push(...utf8(ch));
      continue;
    }
    const n = body[++i];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, a: 7, b: 8, f: 12, v: 11, e: 27, '\\': 92, "'": 39, '"': 34, '`': 96, '?': 63 };
    if (n === 'x') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 1))?.[0] ?? '';
      if (hex === '') throw new AsmError('\\x needs hexadecimal digits', col + i);
      out.push(parseInt(hex, 16));
      i += hex.length;
    } else if (n !== undefined && /[0-7]/.test(n)) {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      out.push(parseInt(oct, 8) & 0xff);
      i += oct.length - 1;
    } else if (n !== undefined && n in simple) {
      out.push(simple[n]);
    } else {
      throw new AsmError(`unknown escape \\${n ?? ''}`, col + i);
    }
  }
  return out;
}

/** Split one source line (comments already removed or not) into tokens. */
export function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (ch === ';') break;
    if (ch === ' ' || ch === '\t' || ch === '\r') { i++; continue; }
    const col = i;
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = line.indexOf(ch, i + 1);
      if (end < 0) throw new AsmError('unterminated string', col, line.length - col);
      const body = line.slice(i + 1, end);
      const bytes = ch === '`' ? unescape(body, col + 1) : utf8(body);
      out.push({ kind: 'string', text: line.slice(i, end + 1), bytes, col });
      i = end + 1;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '$' && /[0-9]/.test(line[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < line.length && /[0-9A-Za-z_]/.test(line[j])) j++;
      // A decimal point makes it a float, which these guests do not need.
      const text = line.slice(i, j);
      const value = parseNumber(text);
      if (value === null) throw new AsmError(`invalid number '${text}'`, col, text.length);
      out.push({ kind: 'number', text, value, col });
      i = j;
      continue;
    }
    if (isIdentStart(ch)) {
      let j = i + 1;
      while (j < line.length && isIdentChar(line[j])) j++;
      out.push({ kind: 'ident', text: line.slice(i, j), col });
      i = j;
      continue;
    }
    const three = line.slice(i, i + 3);
    const two = line.slice(i, i + 2);
    if (OPS3.includes(three)) { out.push({ kind: 'op', text: three, col }); i += 3; continue; }
    if (OPS2.includes(two)) { out.push({ kind: 'op', text: two, col }); i += 2; continue; }
    if (OPS1.includes(ch)) { out.push({ kind: 'op', text: ch, col }); i++; continue; }
    throw new AsmError(`unexpected character '${ch}'`, col);
  }
  out.push({ kind: 'eol', text: '', col: line.length });
  return out;
}

/** The line without its comment (a `;` outside strings). */
export function stripComment(line: string): string {
  let q: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (q !== null) {
      if (ch === q) q = null;
      else if (q === '`' && ch === '\\') i++;
    } else if (ch === "'" || ch === '"' || ch === '`') {
      q = ch;
    } else if (ch === ';') {
      return line.slice(0, i);
    }
  }
  return line;
}
