/**
 * The debugger's expression language: the condition language of exit breakpoints
 * (conditions.ts: the assembler's expression parser, unsigned 64-bit evaluation) whose names
 * resolve against the stopped machine — registers (registerNames.ts), `vmcs.FIELD`,
 * `msr.NAME`, the exit's decoded fields (`leaf`, `port`, `qual`...), symbols (`kmain+4`) — plus
 * memory reads `[expr]` and `byte/word/dword/qword [expr]` at guest-linear addresses (default
 * size: the guest's address size). Brackets are parsed by the same parser: each `[...]` becomes
 * a placeholder name whose value is the read.
 */
import { AsmError, tokenize, type Token } from '../../language/asm/lexer';
import { ExprParser, type Expr } from '../../language/asm/expr';
import { unsignedEval } from '../conditions';
import { addressBig } from '../address';
import { EvaluateError } from '../model';
import { FIELD_BY_NAME, VMCS_FIELDS } from '../../vmx/fields';
import { MSRS } from '../../x86/msr';
import { registerRef, REGISTER_NAMES } from './registerNames';
import { exitField, exitFieldNames, type Ctx } from './context';
import { readValue, MemoryAccessError } from './memoryAccess';
import { closeNames } from './suggest';
import { messageOf } from './format';

export const SIZES: Readonly<Record<string, number>> = { byte: 1, word: 2, dword: 4, qword: 8 };
const MEM = '\u0001m';

export interface MemRef {
  size: number | undefined;
  expr: Expr;
}

export interface Parsed {
  expr: Expr;
  mems: MemRef[];
}

function fail(e: unknown, text: string): never {
  if (e instanceof EvaluateError) throw e;
  if (e instanceof AsmError) throw new EvaluateError(`'${text}': ${e.message}${e.col > 0 ? ` at column ${e.col + 1}` : ''}`);
  throw e;
}

/** Replace every `[size] [ ... ]` by a placeholder identifier, parsing the inside. */
function rewrite(toks: Token[], mems: MemRef[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    let size: number | undefined;
    let j = i;
    if (t.kind === 'ident' && SIZES[t.text.toLowerCase()] !== undefined) {
      let k = i + 1;
      if (toks[k]?.kind === 'ident' && toks[k].text.toLowerCase() === 'ptr') k++;
      if (toks[k]?.kind === 'op' && toks[k].text === '[') {
        size = SIZES[t.text.toLowerCase()];
        j = k;
      }
    }
    const open = toks[j];
    if (open.kind === 'op' && open.text === '[') {
      let depth = 0;
      let end = -1;
      for (let k = j; k < toks.length; k++) {
        if (toks[k].kind === 'op' && toks[k].text === '[') depth++;
        if (toks[k].kind === 'op' && toks[k].text === ']' && --depth === 0) { end = k; break; }
      }
      if (end < 0) throw new AsmError("missing ']'", open.col);
      const inner = rewrite([...toks.slice(j + 1, end), { kind: 'eol', text: '', col: toks[end].col }], mems);
      const p = new ExprParser(inner);
      const expr = p.parse();
      if (p.peek().kind !== 'eol') throw new AsmError(`unexpected '${p.peek().text}'`, p.peek().col);
      mems.push({ size, expr });
      out.push({ kind: 'ident', text: `${MEM}${mems.length - 1}`, col: t.col });
      i = end;
      continue;
    }
    out.push(t);
  }
  return out;
}

/** Parse `text` (memory brackets included); throws EvaluateError. */
export function parseExpression(text: string): Parsed {
  try {
    const mems: MemRef[] = [];
    const toks = rewrite(tokenize(text), mems);
    const p = new ExprParser(toks);
    const expr = p.parse();
    const t = p.peek();
    if (t.kind !== 'eol') throw new AsmError(`unexpected '${t.text}'`, t.col);
    return { expr, mems };
  } catch (e) {
    return fail(e, text);
  }
}

/** Every name evaluate knows in this context (suggestions, completions). */
export function knownNames(ctx: Ctx): string[] {
  return [
    ...REGISTER_NAMES, ...VMCS_FIELDS.map((f) => `vmcs.${f.name}`), ...MSRS.map((m) => `msr.${m.name}`),
    ...exitFieldNames(ctx), ...ctx.t.info.symbols.all().map((s) => s.name),
  ];
}

export type Value = bigint | boolean | string;

/** The value of one name (not a memory placeholder), or undefined when nothing has that name. */
export function resolveName(ctx: Ctx, raw: string): Value | undefined {
  const name = raw.startsWith('$') ? raw.slice(1) : raw;
  const r = registerRef(ctx.g, name);
  if (r !== undefined) return r.get();
  const lower = name.toLowerCase();
  if (lower.startsWith('vmcs.')) {
    const f = FIELD_BY_NAME.get(name.slice(5).toUpperCase());
    if (f !== undefined && !ctx.g.hasVmcs) throw new EvaluateError(`${name}: there is no current VMCS (the guest hypervisor has not executed VMPTRLD)`);
    return f === undefined ? undefined : ctx.g.field(f.name);
  }
  if (lower.startsWith('msr.')) {
    const key = name.slice(4);
    const m = MSRS.find((x) => x.name.toLowerCase() === key.toLowerCase() || x.name.toLowerCase() === `ia32_${key.toLowerCase()}`);
    const idx = m?.index ?? (/^(0x)?[0-9a-f]+$/i.test(key) ? Number.parseInt(key.replace(/^0x/i, ''), 16) : undefined);
    if (idx === undefined) return undefined;
    const v = ctx.g.msr(idx >>> 0);
    if (v === undefined) throw new EvaluateError(`MSR ${key} is not implemented by the modelled processor`);
    return v;
  }
  const x = exitField(ctx, name);
  if (x !== undefined) return x;
  const s = ctx.t.info.symbols.lookup(name);
  // A symbol's address number (signed for the upper half: src/debugger/address.ts) as the unsigned 64-bit value.
  if (s !== undefined) return addressBig(s);
  return undefined;
}

function unknown(ctx: Ctx, name: string): EvaluateError {
  const close = closeNames(name, knownNames(ctx));
  return new EvaluateError(`unknown name '${name}'${close.length > 0 ? ` (did you mean ${close.map((c) => `'${c}'`).join(', ')}?)` : ''}`);
}

/** Guest address size in bytes: the default size of `[expr]`. */
export function defaultSize(ctx: Ctx): number {
  return ctx.g.bitness() / 8;
}

/** Evaluate a parsed expression to a value (bigint for arithmetic, boolean/string as resolved). */
export function evaluateParsed(ctx: Ctx, p: Parsed, text: string): Value {
  const bools = new Set<string>();
  const sym = (name: string): bigint => {
    if (name.startsWith(MEM)) {
      const m = p.mems[Number(name.slice(MEM.length))];
      const addr = unsignedEval(m.expr, sym);
      try {
        return readValue(ctx.g, addr, m.size ?? defaultSize(ctx));
      } catch (e) {
        if (e instanceof MemoryAccessError) throw new EvaluateError(e.message);
        throw e;
      }
    }
    const v = resolveName(ctx, name);
    if (v === undefined) throw unknown(ctx, name);
    if (typeof v === 'string') throw new EvaluateError(`'${name}' is text ("${v}"), not a number`);
    if (typeof v === 'boolean') {
      bools.add(name);
      return v ? 1n : 0n;
    }
    return v;
  };
  try {
    if (p.expr.k === 'sym' && !p.expr.name.startsWith(MEM)) {
      const v = resolveName(ctx, p.expr.name);
      if (v === undefined) throw unknown(ctx, p.expr.name);
      return v;
    }
    const v = unsignedEval(p.expr, sym);
    return isBoolean(p.expr, bools) ? v !== 0n : v;
  } catch (e) {
    if (e instanceof EvaluateError) throw e;
    throw new EvaluateError(`'${text}': ${messageOf(e)}`);
  }
}

const BOOL_OPS = new Set(['==', '=', '!=', '<>', '<', '<=', '>', '>=', '&&', '||', '^^']);

function isBoolean(e: Expr, bools: Set<string>): boolean {
  switch (e.k) {
    case 'bin': return BOOL_OPS.has(e.op);
    case 'un': return e.op === '!';
    case 'sym': return bools.has(e.name);
    case 'cond': return isBoolean(e.a, bools) && isBoolean(e.b, bools);
    default: return false;
  }
}

export function evaluateText(ctx: Ctx, text: string): Value {
  return evaluateParsed(ctx, parseExpression(text), text);
}

/** Evaluate to a number (for `set` and addresses); booleans are 1/0. */
export function evaluateNumber(ctx: Ctx, text: string): bigint {
  const v = evaluateText(ctx, text);
  if (typeof v === 'string') throw new EvaluateError(`'${text}' is text ("${v}"), not a number`);
  return typeof v === 'boolean' ? (v ? 1n : 0n) : v;
}

/** Display form: `0x` + lowercase hex, `true`/`false`, text as is. */
export function formatValue(v: Value): string {
  return typeof v === 'bigint' ? `0x${v.toString(16)}` : typeof v === 'boolean' ? String(v) : v;
}
