/**
 * The NASM preprocessor subset guests use (NASM manual chapter 4): `%define`/`%xdefine`/
 * `%undef` (with or without parameters), `%assign`, `%if`/`%elif`/`%else`/`%endif`,
 * `%ifdef`/`%ifndef`/`%elifdef`/`%elifndef`, `%macro`/`%endmacro` (parameters `%1`..`%n`, `%0`,
 * local labels `%%x`, a parameter range `min-max` and `+` greedy last parameter),
 * `%rep`/`%endrep`, `%include`, and the standard macro `__BITS__` following the `bits`
 * directive. Output: logical lines, each with the file and line the debugger maps it to
 * (a macro's expansion maps to the line that invoked it).
 */
import { AsmError, tokenize, stripComment } from './lexer';
import { ExprParser, evaluate } from './expr';

export interface SourceLine {
  text: string;
  file: string;
  /** 1-based line number in `file`. */
  line: number;
}

export interface FileReader {
  /** Contents of `name` included from `from`, or null when it cannot be found. */
  read(name: string, from: string): { path: string; text: string } | null;
}

export interface Diagnostic {
  file: string;
  line: number;
  /** 0-based column and length in the source line. */
  col: number;
  length: number;
  message: string;
  severity: 'error' | 'warning';
}

interface Define {
  params: string[] | null;
  body: string;
}

interface Macro {
  name: string;
  min: number;
  max: number;
  greedy: boolean;
  body: SourceLine[];
  file: string;
  line: number;
  /** %imacro: invoked in any letter case; %macro names are case-sensitive (NASM manual §4.3). */
  insensitive: boolean;
}

interface Cond {
  /** This branch is being assembled. */
  active: boolean;
  /** Some branch of this %if was taken. */
  done: boolean;
  /** The enclosing context is active. */
  outer: boolean;
}

const MAX_DEPTH = 64;

export class Preprocessor {
  readonly defines = new Map<string, Define>();
  readonly macros = new Map<string, Macro>();
  readonly out: SourceLine[] = [];
  readonly diagnostics: Diagnostic[] = [];
  /** Where each macro and define was defined (language server). */
  readonly definitions = new Map<string, { file: string; line: number }>();
  private bits = 16;
  private uniq = 0;
  /**
   * Constants from `NAME equ <expr>` lines seen so far: NASM's %if can use symbols defined
   * before it (a "critical expression"), which for these guests are equ constants.
   */
  private readonly equs = new Map<string, bigint>();

  constructor(private readonly reader: FileReader, initialBits = 16) {
    this.bits = initialBits;
  }

  run(text: string, file: string): SourceLine[] {
    this.processLines(splitLines(text).map((t, i) => ({ text: t, file, line: i + 1 })), 0, null);
    return this.out;
  }

  private error(at: SourceLine, message: string, col = 0, length = 1): void {
    this.diagnostics.push({ file: at.file, line: at.line, col, length, message, severity: 'error' });
  }

  /** Expand the lines `lines` (from a file, a macro body or a %rep body), appending to `out`. */
  private processLines(lines: SourceLine[], depth: number, mapTo: SourceLine | null): void {
    if (depth > MAX_DEPTH) {
      this.error(mapTo ?? lines[0], 'macro, %rep or %include nesting is too deep (recursion?)');
      return;
    }
    const conds: Cond[] = [];
    const active = (): boolean => conds.length === 0 || conds[conds.length - 1].active;
    for (let i = 0; i < lines.length; i++) {
      const src = lines[i];
      const at = mapTo ?? src;
      const code = stripComment(src.text);
      const m = /^\s*(%[A-Za-z]+)\b\s*(.*)$/.exec(code);
      const dir = m?.[1].toLowerCase();
      try {
        // Conditionals are tracked even in inactive regions.
        if (dir === '%if' || dir === '%ifdef' || dir === '%ifndef') {
          const outer = active();
          const take = outer && this.condition(dir, m![2], at);
          conds.push({ active: take, done: take, outer });
          continue;
        }
        if (dir === '%elif' || dir === '%elifdef' || dir === '%elifndef') {
          const c = conds[conds.length - 1];
          if (c === undefined) throw new AsmError(`${dir} without %if`);
          const take = c.outer && !c.done && this.condition(dir.replace('%el', '%'), m![2], at);
          c.active = take;
          c.done ||= take;
          continue;
        }
        if (dir === '%else') {
          const c = conds[conds.length - 1];
          if (c === undefined) throw new AsmError('%else without %if');
          c.active = c.outer && !c.done;
          c.done = true;
          continue;
        }
        if (dir === '%endif') {
          if (conds.pop() === undefined) throw new AsmError('%endif without %if');
          continue;
        }
        if (!active()) continue;
        if (dir === '%macro' || dir === '%imacro') {
          const end = findEnd(lines, i, /^\s*%i?macro\b/i, /^\s*%endmacro\b/i);
          if (end < 0) throw new AsmError(`${dir} without %endmacro`);
          this.defineMacro(m![2], lines.slice(i + 1, end), src, dir === '%imacro');
          i = end;
          continue;
        }
        if (dir === '%rep') {
          const end = findEnd(lines, i, /^\s*%rep\b/i, /^\s*%endrep\b/i);
          if (end < 0) throw new AsmError('%rep without %endrep');
          const n = this.number(m![2], at);
          if (n < 0n || n > 1000000n) throw new AsmError(`%rep count ${n} is out of range`);
          const body = lines.slice(i + 1, end);
          for (let k = 0n; k < n; k++) this.processLines(body, depth + 1, mapTo);
          i = end;
          continue;
        }
        if (dir !== undefined && this.directive(dir, m![2], at, depth)) continue;
        if (dir === '%endmacro' || dir === '%endrep') throw new AsmError(`${dir} without its opening directive`);
        if (dir !== undefined && this.findMacro(m![1]) === undefined) throw new AsmError(`unknown preprocessor directive ${m![1]}`);
        this.line(code, src, at, depth);
      } catch (e) {
        if (!(e instanceof AsmError)) throw e;
        this.error(at, e.message, mapTo === null ? e.col : 0, e.length);
      }
    }
    if (conds.length > 0) this.error(lines[lines.length - 1] ?? mapTo!, '%if without %endif');
  }

  /** %define, %assign, %include ...: true when handled. */
  private directive(dir: string, rest: string, at: SourceLine, depth: number): boolean {
    switch (dir) {
      case '%define': case '%xdefine': case '%idefine': {
        const m = /^([A-Za-z_.?$][\w.?$@#~]*)(\(([^)]*)\))?\s*(.*)$/.exec(rest);
        if (m === null) throw new AsmError(`${dir} needs a name`);
        const params = m[3] !== undefined ? m[3].split(',').map((p) => p.trim()).filter((p) => p !== '') : null;
        const body = dir === '%xdefine' ? this.substitute(m[4], 0) : m[4];
        this.defines.set(m[1], { params, body: body.trim() });
        this.definitions.set(m[1], { file: at.file, line: at.line });
        return true;
      }
      case '%undef':
        this.defines.delete(rest.trim());
        return true;
      case '%assign': {
        const m = /^([A-Za-z_.?$][\w.?$@#~]*)\s+(.*)$/.exec(rest);
        if (m === null) throw new AsmError('%assign needs a name and a value');
        this.defines.set(m[1], { params: null, body: this.number(m[2], at).toString() });
        this.definitions.set(m[1], { file: at.file, line: at.line });
        return true;
      }
      case '%include': {
        const m = /^["'<](.*)["'>]\s*$/.exec(rest.trim());
        if (m === null) throw new AsmError('%include needs a quoted file name');
        const f = this.reader.read(m[1], at.file);
        if (f === null) throw new AsmError(`cannot open include file '${m[1]}'`);
        this.processLines(splitLines(f.text).map((t, i) => ({ text: t, file: f.path, line: i + 1 })), depth + 1, null);
        return true;
      }
      case '%error':
        throw new AsmError(`%error: ${rest.trim()}`);
      case '%warning':
        this.diagnostics.push({ file: at.file, line: at.line, col: 0, length: 1, message: rest.trim(), severity: 'warning' });
        return true;
      default:
        return false;
    }
  }

  private condition(dir: string, rest: string, at: SourceLine): boolean {
    if (dir === '%ifdef' || dir === '%ifndef') {
      const name = rest.trim();
      const defined = this.defines.has(name) || name === '__BITS__';
      return dir === '%ifdef' ? defined : !defined;
    }
    return this.number(rest, at) !== 0n;
  }

  /** A preprocessor expression: defines substituted, every remaining symbol an error. */
  private number(text: string, _at: SourceLine): bigint {
    const toks = tokenize(this.substitute(text, 0));
    const p = new ExprParser(toks);
    const e = p.parse();
    if (p.peek().kind !== 'eol') throw new AsmError(`unexpected '${p.peek().text}' in preprocessor expression`, p.peek().col);
    const v = evaluate(e, {
      symbol: (name, col) => {
        const q = this.equs.get(name);
        if (q === undefined) throw new AsmError(`symbol '${name}' is not defined before use in a preprocessor expression`, col, name.length);
        return q;
      },
      here: 0n, start: 0n,
    });
    return v!;
  }

  /** The macro a name invokes: a %macro by its exact name, an %imacro in any case. */
  private findMacro(name: string): Macro | undefined {
    const exact = this.macros.get(name);
    if (exact !== undefined) return exact;
    const folded = this.macros.get(`\0${name.toLowerCase()}`);
    return folded;
  }

  private defineMacro(header: string, body: SourceLine[], at: SourceLine, insensitive: boolean): void {
    const m = /^([A-Za-z_.?$][\w.?$@#~]*)\s+(\d+)(?:\s*-\s*(\d+|\*))?(\+)?/.exec(header.trim());
    const bare = /^([A-Za-z_.?$][\w.?$@#~]*)\s*$/.exec(header.trim());
    if (m === null && bare === null) throw new AsmError('%macro needs a name and a parameter count');
    const name = (m ?? bare)![1];
    const min = m !== null ? Number(m[2]) : 0;
    const max = m?.[3] === '*' ? Infinity : m?.[3] !== undefined ? Number(m[3]) : min;
    // Case-insensitive macros are keyed by "\0" + the lower-case name, so no exact name collides.
    this.macros.set(insensitive ? `\0${name.toLowerCase()}` : name, { name, min, max, greedy: m?.[4] === '+', body, file: at.file, line: at.line, insensitive });
    this.definitions.set(name, { file: at.file, line: at.line });
  }

  /** An ordinary line: bits tracking, macro invocation, or define substitution. */
  private line(code: string, src: SourceLine, at: SourceLine, depth: number): void {
    const bits = /^\s*\[?\s*bits\s+(\d+)\s*\]?\s*$/i.exec(code);
    if (bits !== null) this.bits = Number(bits[1]);
    const inv = /^\s*(?:([A-Za-z_.?$][\w.?$@#~]*:)\s*)?([A-Za-z_.?$%][\w.?$@#~]*)(.*)$/.exec(code);
    const mac = inv !== null ? this.findMacro(inv[2]) : undefined;
    if (inv !== null && mac !== undefined) {
      if (inv[1] !== undefined) this.out.push({ text: inv[1], file: at.file, line: at.line });
      this.expandMacro(mac, inv[3], at, depth);
      return;
    }
    // Token pasting (`exc_stub_ %+ v`) after substitution.
    const text = this.substitute(code, 0).replace(/\s*%\+\s*/g, '');
    const equ = /^\s*([A-Za-z_?][\w?$@#~]*):?\s+equ\s+(.*)$/i.exec(text);
    if (equ !== null) {
      try {
        this.equs.set(equ[1], this.number(equ[2], at));
      } catch {
        // Not a constant the preprocessor can know (it refers to labels): the assembler handles it.
      }
    }
    this.out.push({ text, file: at.file, line: at.line });
    void src;
  }

  private expandMacro(mac: Macro, argText: string, at: SourceLine, depth: number): void {
    // Arguments have their single-line macros expanded first (`STUB v` with `%assign v 3`).
    let args = splitArgs(argText).map((a) => this.substitute(a, 0));
    if (args.length > mac.max && mac.greedy && mac.max > 0) {
      args = [...args.slice(0, mac.max - 1), args.slice(mac.max - 1).join(',')];
    }
    if (args.length < mac.min || args.length > mac.max) {
      throw new AsmError(`macro '${mac.name}' takes ${mac.min === mac.max ? mac.min : `${mac.min}-${mac.max}`} parameter(s), got ${args.length}`);
    }
    const id = ++this.uniq;
    const body = mac.body.map((l) => ({
      ...l,
      text: l.text
        .replace(/%%([A-Za-z_.?$][\w.?$@#~]*)/g, (_s, n: string) => `..@${id}.${n}`)
        .replace(/%0\b/g, String(args.length))
        .replace(/%(\d+)/g, (_s, n: string) => args[Number(n) - 1] ?? ''),
    }));
    this.processLines(body, depth + 1, at);
  }

  /** Replace defined names (recursively, bounded) and __BITS__. */
  substitute(text: string, depth: number): string {
    if (depth > 32) throw new AsmError('%define expansion is too deep (recursive definition?)');
    let changed = false;
    let out = '';
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      if (ch === "'" || ch === '"' || ch === '`') {
        const end = text.indexOf(ch, i + 1);
        const j = end < 0 ? text.length : end + 1;
        out += text.slice(i, j);
        i = j;
        continue;
      }
      const m = /^[A-Za-z_.?$][\w.?$@#~]*/.exec(text.slice(i));
      if (m === null || (i > 0 && /[\w.?$@#~]/.test(text[i - 1]))) {
        out += ch;
        i++;
        continue;
      }
      const name = m[0];
      i += name.length;
      if (name === '__BITS__' || name === '__?BITS?__') {
        out += String(this.bits);
        changed = true;
        continue;
      }
      const d = this.defines.get(name);
      if (d === undefined) {
        out += name;
        continue;
      }
      if (d.params === null) {
        out += d.body;
        changed = true;
        continue;
      }
      // A define with parameters: NAME(args).
      const rest = text.slice(i);
      const pm = /^\s*\(/.exec(rest);
      if (pm === null) {
        out += name;
        continue;
      }
      let level = 0;
      let j = pm[0].length - 1;
      for (; j < rest.length; j++) {
        if (rest[j] === '(') level++;
        else if (rest[j] === ')' && --level === 0) break;
      }
      const args = splitArgs(rest.slice(pm[0].length, j));
      let body = d.body;
      d.params.forEach((p, k) => { body = body.replace(new RegExp(`\\b${p.replace(/[.$?]/g, '\\$&')}\\b`, 'g'), args[k] ?? ''); });
      out += body;
      i += j + 1;
      changed = true;
    }
    return changed ? this.substitute(out, depth + 1) : out;
  }
}

function splitLines(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  // A backslash at the end continues the line (NASM manual §3.1); the lines it swallows stay
  // as empty lines so line numbers do not move.
  for (let i = 0; i < lines.length; i++) {
    let j = i + 1;
    while (/\\\s*$/.test(lines[i]) && j < lines.length) {
      lines[i] = lines[i].replace(/\\\s*$/, ' ') + lines[j];
      lines[j++] = '';
    }
  }
  return lines;
}

/** Find the line closing the block opened at `i` (nesting counted). */
function findEnd(lines: SourceLine[], i: number, open: RegExp, close: RegExp): number {
  let level = 0;
  for (let j = i; j < lines.length; j++) {
    const t = stripComment(lines[j].text);
    if (open.test(t)) level++;
    else if (close.test(t) && --level === 0) return j;
  }
  return -1;
}

/** Split macro arguments on top-level commas (strings, brackets and braces respected). */
export function splitArgs(text: string): string[] {
  const t = text.trim();
  if (t === '') return [];
  const out: string[] = [];
  let level = 0;
  let cur = '';
  let q: string | null = null;
  for (const ch of t) {
    if (q !== null) {
      cur += ch;
      if (ch === q) q = null;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') q = ch;
    else if (ch === '(' || ch === '[' || ch === '{') level++;
    else if (ch === ')' || ch === ']' || ch === '}') level--;
    else if (ch === ',' && level === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur.trim());
  return out.map((a) => (a.startsWith('{') && a.endsWith('}') ? a.slice(1, -1) : a));
}
