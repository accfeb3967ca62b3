/**
 * Expressions (NASM manual §3.5): parsed from tokens into a small tree and evaluated with
 * 64-bit two's-complement BigInt arithmetic. Precedence, lowest first: `? :`, `||`, `^^`, `&&`,
 * comparisons, `|`, `^`, `&`, shifts, `+ -`, `* / // % %%`, unary `- + ~ !`. `/` and `%` are
 * unsigned, `//` and `%%` signed, as in NASM. A symbol not (yet) defined evaluates to
 * `undefined`, which the assembler treats as "unknown in this pass".
 */
import { AsmError, type Token } from './lexer';

export type Expr =
  | { k: 'num'; v: bigint }
  | { k: 'sym'; name: string; col: number }
  | { k: 'here' }
  | { k: 'start' }
  | { k: 'un'; op: string; a: Expr }
  | { k: 'bin'; op: string; a: Expr; b: Expr }
  | { k: 'cond'; c: Expr; a: Expr; b: Expr };

export interface EvalContext {
  /** Value of a symbol, or undefined when it is not known yet. */
  symbol(name: string, col: number): bigint | undefined;
  here: bigint;
  start: bigint;
}

const LEVELS: string[][] = [
  ['||'], ['^^'], ['&&'], ['==', '=', '!=', '<>', '<', '<=', '>', '>='], ['|'], ['^'], ['&'],
  ['<<', '>>', '<<<', '>>>'], ['+', '-'], ['*', '/', '//', '%', '%%'],
];

export class ExprParser {
  pos: number;
  constructor(readonly toks: Token[], start = 0) {
    this.pos = start;
  }

  peek(): Token {
    return this.toks[this.pos];
  }

  parse(): Expr {
    const c = this.level(0);
    const t = this.peek();
    if (t.kind === 'op' && t.text === '?') {
      this.pos++;
      const a = this.parse();
      const colon = this.peek();
      if (!(colon.kind === 'op' && colon.text === ':')) throw new AsmError("expected ':' in '? :' expression", colon.col);
      this.pos++;
      const b = this.parse();
      return { k: 'cond', c, a, b };
    }
    return c;
  }

  private level(n: number): Expr {
    if (n === LEVELS.length) return this.unary();
    let a = this.level(n + 1);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !LEVELS[n].includes(t.text)) return a;
      this.pos++;
      const b = this.level(n + 1);
      a = { k: 'bin', op: t.text, a, b };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === 'op' && ['-', '+', '~', '!'].includes(t.text)) {
      this.pos++;
      return { k: 'un', op: t.text, a: this.unary() };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.kind === 'number') {
      this.pos++;
      return { k: 'num', v: t.value! };
    }
    if (t.kind === 'string') {
      this.pos++;
      // A string in an expression is its bytes, little-endian (NASM manual §3.4.4).
      const bytes = t.bytes!;
      if (bytes.length > 8) throw new AsmError('character constant longer than 8 bytes', t.col, t.text.length);
      let v = 0n;
      for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
      return { k: 'num', v };
    }
    if (t.kind === 'ident') {
      this.pos++;
      if (t.text === '$') return { k: 'here' };
      if (t.text === '$$') return { k: 'start' };
      return { k: 'sym', name: t.text, col: t.col };
    }
    if (t.kind === 'op' && t.text === '(') {
      this.pos++;
      const e = this.parse();
      const c = this.peek();
      if (!(c.kind === 'op' && c.text === ')')) throw new AsmError("expected ')'", c.col);
      this.pos++;
      return e;
    }
    if (t.kind === 'eol') throw new AsmError('expression expected', t.col);
    throw new AsmError(`unexpected '${t.text}' in expression`, t.col, Math.max(1, t.text.length));
  }
}

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => v & M64;

/** Evaluate; undefined when a symbol is not known yet. Division by zero is an error. */
export function evaluate(e: Expr, ctx: EvalContext): bigint | undefined {
  switch (e.k) {
    case 'num': return e.v;
    case 'here': return ctx.here;
    case 'start': return ctx.start;
    case 'sym': return ctx.symbol(e.name, e.col);
    case 'un': {
      const a = evaluate(e.a, ctx);
      if (a === undefined) return undefined;
      switch (e.op) {
        case '-': return s64(-a);
        case '+': return a;
        case '~': return s64(~a);
        default: return a === 0n ? 1n : 0n;
      }
    }
    case 'cond': {
      const c = evaluate(e.c, ctx);
      const a = evaluate(e.a, ctx);
      const b = evaluate(e.b, ctx);
      if (c === undefined) return undefined;
      return c !== 0n ? a : b;
    }
    case 'bin': {
      const a = evaluate(e.a, ctx);
      const b = evaluate(e.b, ctx);
      if (a === undefined || b === undefined) return undefined;
      switch (e.op) {
        case '+': return s64(a + b);
        case '-': return s64(a - b);
        case '*': return s64(a * b);
        case '/': if (b === 0n) throw new AsmError('division by zero'); return s64(u64(a) / u64(b));
        case '%': if (b === 0n) throw new AsmError('division by zero'); return s64(u64(a) % u64(b));
        case '//': if (b === 0n) throw new AsmError('division by zero'); return s64(s64(a) / s64(b));
        case '%%': if (b === 0n) throw new AsmError('division by zero'); return s64(s64(a) % s64(b));
        case '<<': case '<<<': return s64(a << (b & 63n));
        case '>>': return s64(u64(a) >> (b & 63n));
        case '>>>': return s64(s64(a) >> (b & 63n));
        case '&': return s64(a & b);
        case '|': return s64(a | b);
        case '^': return s64(a ^ b);
        case '==': case '=': return a === b ? 1n : 0n;
        case '!=': case '<>': return a !== b ? 1n : 0n;
        case '<': return s64(a) < s64(b) ? 1n : 0n;
        case '<=': return s64(a) <= s64(b) ? 1n : 0n;
        case '>': return s64(a) > s64(b) ? 1n : 0n;
        case '>=': return s64(a) >= s64(b) ? 1n : 0n;
        case '&&': return a !== 0n && b !== 0n ? 1n : 0n;
        case '||': return a !== 0n || b !== 0n ? 1n : 0n;
        case '^^': return (a !== 0n) !== (b !== 0n) ? 1n : 0n;
      }
      throw new AsmError(`unknown operator ${e.op}`);
    }
  }
}

/** Symbols an expression mentions (references, go-to-definition). */
export function symbolsOf(e: Expr, out: { name: string; col: number }[] = []): { name: string; col: number }[] {
  if (e.k === 'sym') out.push({ name: e.name, col: e.col });
  else if (e.k === 'un') symbolsOf(e.a, out);
  else if (e.k === 'bin') { symbolsOf(e.a, out); symbolsOf(e.b, out); }
  else if (e.k === 'cond') { symbolsOf(e.c, out); symbolsOf(e.a, out); symbolsOf(e.b, out); }
  return out;
}

/**
 * How many section-relative values (labels, `$`, `$$`) an expression carries, net: 0 means an
 * absolute number (`lbl2 - lbl1`, `$ - $$`, equ constants), anything else a relocatable value.
 * NASM does not shrink instructions over relocatable values (`push lbl` keeps imm32, `mov rax,
 * lbl` keeps imm64) even in flat binaries; the encoder follows it.
 */
export function relocationOf(e: Expr, symbolReloc: (name: string) => number): number {
  switch (e.k) {
    case 'num': return 0;
    case 'here': case 'start': return 1;
    case 'sym': return symbolReloc(e.name);
    case 'un': return e.op === '-' ? -relocationOf(e.a, symbolReloc) : e.op === '+' ? relocationOf(e.a, symbolReloc) : relocationOf(e.a, symbolReloc) !== 0 ? 1 : 0;
    case 'bin': {
      const a = relocationOf(e.a, symbolReloc);
      const b = relocationOf(e.b, symbolReloc);
      if (e.op === '+') return a + b;
      if (e.op === '-') return a - b;
      return a !== 0 || b !== 0 ? 1 : 0;
    }
    case 'cond': return relocationOf(e.a, symbolReloc) !== 0 || relocationOf(e.b, symbolReloc) !== 0 ? 1 : 0;
  }
}
