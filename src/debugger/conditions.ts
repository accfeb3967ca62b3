/**
 * The condition language of exit breakpoints (and of conditional breakpoints generally):
 * C-like expressions over named values — `leaf == 1`, `port == 0x604 && write && value == 0x2000`,
 * `msr >= 0x800 && msr < 0x840`, `cr == 0 && (value & 0x80000000)`, `gpa >= 0xfee00000`,
 * `vector == 14`, `rip == 0x7c00`. Numbers in any NASM notation (0x604, 604h, 0b101), the
 * operators `|| && ! == != < <= > >= | ^ & << >> + - * / % ~` and parentheses. Booleans are 1
 * and 0; values are unsigned 64-bit (addresses compare as a person expects). A name that is not available for the exit is an error, reported when the condition is
 * set (with the names that are available), never a silent false.
 */
import { AsmError, tokenize } from '../language/asm/lexer';
import { ExprParser, symbolsOf, type Expr } from '../language/asm/expr';

export type ConditionValue = bigint | boolean | string;

export class ConditionError extends Error {}

export interface Condition {
  text: string;
  expr: Expr;
  /** Names the condition reads. */
  names: string[];
}

/** Parse a condition; throws ConditionError with a message a person understands. */
export function parseCondition(text: string): Condition {
  try {
    const toks = tokenize(text);
    const p = new ExprParser(toks);
    const expr = p.parse();
    const t = p.peek();
    if (t.kind !== 'eol') throw new AsmError(`unexpected '${t.text}'`, t.col);
    return { text, expr, names: [...new Set(symbolsOf(expr).map((s) => s.name))] };
  } catch (e) {
    if (e instanceof AsmError) throw new ConditionError(`condition '${text}': ${e.message}${e.col > 0 ? ` at column ${e.col + 1}` : ''}`);
    throw e;
  }
}

/** Check that every name the condition reads is one of `available` (case-insensitive). */
export function checkNames(c: Condition, available: readonly string[]): void {
  const known = new Set(available.map((n) => n.toLowerCase()));
  const missing = c.names.filter((n) => !known.has(n.toLowerCase()));
  if (missing.length > 0) {
    throw new ConditionError(`condition '${c.text}': unknown name${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} (available: ${available.join(', ')})`);
  }
}

/**
 * Evaluate against `values` (names case-insensitive). A name missing at evaluation time (the
 * exit does not report it, e.g. `value` of an IN) makes the condition false, not an error.
 */
export function evaluateCondition(c: Condition, values: Readonly<Record<string, ConditionValue | undefined>>): boolean {
  const lower = new Map<string, ConditionValue | undefined>();
  for (const [k, v] of Object.entries(values)) lower.set(k.toLowerCase(), v);
  return evaluateConditionWith(c, (name) => lower.get(name.toLowerCase()));
}

/**
 * The same with a lookup of names (as written in the condition) — for hot callers that resolve
 * names once (exit filters check every VM exit) instead of building a case-folded map each time.
 */
export function evaluateConditionWith(c: Condition, lookup: (name: string) => ConditionValue | undefined): boolean {
  let missing = false;
  const v = unsignedEval(c.expr, (name) => {
    const x = lookup(name);
    if (x === undefined || typeof x === 'string') {
      missing = true;
      return 0n;
    }
    return typeof x === 'boolean' ? (x ? 1n : 0n) : BigInt.asUintN(64, x);
  });
  return !missing && v !== 0n;
}

/**
 * The unsigned 64-bit value of the expression (watch expressions, log-message interpolation):
 * unlike a condition, a name without a value is an error naming it.
 */
export function evaluateValue(c: Condition, values: Readonly<Record<string, ConditionValue | undefined>>): bigint {
  const lower = new Map<string, ConditionValue | undefined>();
  for (const [k, v] of Object.entries(values)) lower.set(k.toLowerCase(), v);
  return unsignedEval(c.expr, (name) => {
    const x = lower.get(name.toLowerCase());
    if (x === undefined || typeof x === 'string') throw new ConditionError(`'${name}' is not known here`);
    return typeof x === 'boolean' ? (x ? 1n : 0n) : BigInt.asUintN(64, x);
  });
}

const U = (v: bigint): bigint => BigInt.asUintN(64, v);

/**
 * Unsigned 64-bit evaluation of the expression tree (the assembler's own evaluation is NASM's,
 * signed). Also the debugger's evaluate (src/debugger/inspect), whose `sym` resolves registers,
 * memory, VMCS fields and symbols.
 */
export function unsignedEval(e: Expr, sym: (name: string) => bigint): bigint {
  switch (e.k) {
    case 'num': return U(e.v);
    case 'here': case 'start': return 0n;
    case 'sym': return sym(e.name);
    case 'un': {
      const a = unsignedEval(e.a, sym);
      return e.op === '-' ? U(-a) : e.op === '~' ? U(~a) : e.op === '!' ? (a === 0n ? 1n : 0n) : a;
    }
    case 'cond': return unsignedEval(e.c, sym) !== 0n ? unsignedEval(e.a, sym) : unsignedEval(e.b, sym);
    case 'bin': {
      if (e.op === '&&') return unsignedEval(e.a, sym) !== 0n && unsignedEval(e.b, sym) !== 0n ? 1n : 0n;
      if (e.op === '||') return unsignedEval(e.a, sym) !== 0n || unsignedEval(e.b, sym) !== 0n ? 1n : 0n;
      const a = unsignedEval(e.a, sym);
      const b = unsignedEval(e.b, sym);
      switch (e.op) {
        case '+': return U(a + b);
        case '-': return U(a - b);
        case '*': return U(a * b);
        case '/': case '//': return b === 0n ? 0n : a / b;
        case '%': case '%%': return b === 0n ? 0n : a % b;
        case '<<': case '<<<': return U(a << (b & 63n));
        case '>>': case '>>>': return a >> (b & 63n);
        case '&': return a & b;
        case '|': return a | b;
        case '^': return a ^ b;
        case '==': case '=': return a === b ? 1n : 0n;
        case '!=': case '<>': return a !== b ? 1n : 0n;
        case '<': return a < b ? 1n : 0n;
        case '<=': return a <= b ? 1n : 0n;
        case '>': return a > b ? 1n : 0n;
        case '>=': return a >= b ? 1n : 0n;
        case '^^': return (a !== 0n) !== (b !== 0n) ? 1n : 0n;
      }
      throw new ConditionError(`unsupported operator ${e.op}`);
    }
  }
}
