/**
 * The assembler: NASM-compatible source → a flat binary, a line map (address ↔ file:line) and
 * symbols (NASM manual chapter 3 syntax, §8.1 `bin` output format). Passes repeat until every
 * label and every instruction size is stable (jumps shrink to their short forms as NASM's
 * optimiser does). Errors never stop the other lines: every problem is reported with file,
 * line and column.
 *
 * Sections (bin format, NASM manual §8.1.3): `.text` starts at `org`; the other progbits
 * sections follow in the order they first appear, each aligned to 4 (or its `align=`); nobits
 * sections (`.bss`, or `nobits`) follow them and take no space in the file.
 */
import { AsmError } from './lexer';
import { evaluate, relocationOf, type Expr } from './expr';
import { Preprocessor, type Diagnostic, type FileReader, type SourceLine } from './preprocessor';
import { parseStatement, operandsOf, type Statement } from './statements';
import { encodeInstruction, type Resolved } from './encoder';
import type { Operand } from './operands';

export interface AsmSymbol {
  name: string;
  value: bigint;
  file: string;
  line: number;
  col: number;
  kind: 'label' | 'equ';
  section: string;
  /** Relocatable (section-relative) value: a label, or an equ of one. */
  reloc: boolean;
}

export interface LineMapEntry {
  address: number;
  length: number;
  file: string;
  line: number;
}

export interface AssembleOptions {
  file?: string;
  reader?: FileReader;
  /** Initial `bits` (NASM's default is 16). */
  bits?: 16 | 32 | 64;
}

export interface AssembleResult {
  /** The flat image (progbits sections), empty when there are errors. */
  bytes: Uint8Array;
  /** Address of the first byte (`org`). */
  origin: number;
  symbols: Map<string, AsmSymbol>;
  lineMap: LineMapEntry[];
  diagnostics: Diagnostic[];
  /** Statements with their final address and bytes (listing, language server). */
  listing: { src: SourceLine; address: number; bytes: Uint8Array; section: string; bits: 16 | 32 | 64; insn: boolean }[];
  /** Every reference to a symbol (language server). */
  references: { name: string; file: string; line: number; col: number }[];
  /** Where macros and %defines were defined. */
  definitions: Map<string, { file: string; line: number }>;
  ok: boolean;
}

interface Section {
  name: string;
  align: number;
  nobits: boolean;
  size: number;
  base: bigint;
  chunks: { offset: number; bytes: Uint8Array }[];
}

const NO_FILES: FileReader = { read: () => null };
const MAX_PASSES = 40;

export function assemble(text: string, options: AssembleOptions = {}): AssembleResult {
  const file = options.file ?? '<input>';
  const pre = new Preprocessor(options.reader ?? NO_FILES, options.bits ?? 16);
  const lines = pre.run(text, file);
  const diagnostics: Diagnostic[] = [...pre.diagnostics];
  const stmts: Statement[] = [];
  for (const src of lines) {
    try {
      const st = parseStatement(src);
      stmts.push(st);
      if (st.orphan === true && st.label !== null) {
        diagnostics.push({ file: src.file, line: src.line, col: st.label.col, length: st.label.name.length, message: `label '${st.label.name}' alone on a line without a colon might be in error (a misspelt instruction?)`, severity: 'warning' });
      }
    } catch (e) {
      if (!(e instanceof AsmError)) throw e;
      diagnostics.push({ file: src.file, line: src.line, col: e.col, length: e.length, message: e.message, severity: 'error' });
    }
  }
  const a = new Assembly(stmts, options.bits ?? 16);
  let prev = '';
  let converged = false;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    a.run(false);
    const sig = a.signature();
    if (sig === prev && pass > 0) {
      converged = true;
      break;
    }
    prev = sig;
  }
  a.run(true);
  diagnostics.push(...a.diagnostics);
  if (!converged && a.diagnostics.length === 0) {
    diagnostics.push({ file, line: 1, col: 0, length: 1, message: `label addresses did not settle after ${MAX_PASSES} passes`, severity: 'error' });
  }
  // In source order (the preprocessor's and the assembler's reports interleave).
  const order = new Map(lines.map((l, i) => [`${l.file}:${l.line}`, i]));
  diagnostics.sort((x, y) => (order.get(`${x.file}:${x.line}`) ?? -1) - (order.get(`${y.file}:${y.line}`) ?? -1) || x.col - y.col);
  const ok = !diagnostics.some((d) => d.severity === 'error');
  return {
    bytes: ok ? a.image() : new Uint8Array(0), origin: Number(a.origin), symbols: a.symbols, lineMap: a.lineMap,
    diagnostics, listing: a.listing, references: a.references, definitions: pre.definitions, ok,
  };
}

class Assembly {
  symbols = new Map<string, AsmSymbol>();
  private prevSymbols = new Map<string, AsmSymbol>();
  sections: Section[] = [];
  origin = 0n;
  diagnostics: Diagnostic[] = [];
  lineMap: LineMapEntry[] = [];
  listing: AssembleResult['listing'] = [];
  references: AssembleResult['references'] = [];
  private final = false;
  private sizes: number[] = [];

  constructor(private readonly stmts: Statement[], private readonly initialBits: 16 | 32 | 64) {}

  signature(): string {
    const parts: string[] = [this.origin.toString()];
    for (const [k, v] of this.symbols) parts.push(`${k}=${v.value}`);
    parts.push(this.sizes.join(','));
    return parts.join(';');
  }

  /** One pass over the statements. `final`: emit bytes, report unknown symbols. */
  run(final: boolean): void {
    this.final = final;
    const prevBases = new Map(this.sections.map((s) => [s.name, s.base]));
    this.prevSymbols = this.symbols;
    this.symbols = new Map();
    this.diagnostics = [];
    this.lineMap = [];
    this.listing = [];
    this.references = [];
    this.sizes = [];
    this.sections = [];
    let bits = this.initialBits;
    let defaultRel = false;
    let sec = this.section('.text', prevBases);
    let lastGlobal = '';
    for (const st of this.stmts) {
      const here = (): bigint => sec.base + BigInt(sec.size);
      try {
        if (st.label !== null) {
          const name = this.qualify(st.label.name, lastGlobal);
          if (!st.label.name.startsWith('.') && !st.label.name.startsWith('..@')) lastGlobal = st.label.name;
          if (this.symbols.has(name)) throw new AsmError(`symbol '${name}' is already defined`, st.label.col, st.label.name.length);
          let value = here();
          let kind: AsmSymbol['kind'] = 'label';
          let reloc = true;
          if (st.body.k === 'equ') {
            reloc = this.reloc(st.body.e, lastGlobal) !== 0;
            const v = this.eval(st.body.e, here(), sec.base, lastGlobal, st);
            value = v ?? 0n;
            kind = 'equ';
            if (v === undefined) {
              // Unknown in this pass: leave it unknown so later passes settle it.
              if (final) this.unknown(st.body.e, lastGlobal, st);
              continue;
            }
          }
          this.symbols.set(name, { name, value, file: st.src.file, line: st.src.line, col: st.label.col, kind, section: sec.name, reloc });
        }
        const b = st.body;
        switch (b.k) {
          case 'none': case 'equ': break;
          case 'org': {
            const v = this.eval(b.e, here(), sec.base, lastGlobal, st);
            if (v === undefined) throw new AsmError('org needs a value known at this point');
            if (sec.size !== 0 || this.sections.length > 1) throw new AsmError('org must come before any code or data');
            this.origin = v;
            sec.base = v;
            break;
          }
          case 'bits': bits = b.bits; break;
          case 'default': defaultRel = b.rel; break;
          case 'section':
            sec = this.section(b.name, prevBases);
            if (b.align !== null) sec.align = b.align;
            if (b.nobits !== null) sec.nobits = b.nobits;
            break;
          default: {
            const count = st.times === null ? 1n : this.eval(st.times, here(), sec.base, lastGlobal, st);
            if (count === undefined) {
              if (final) this.unknown(st.times!, lastGlobal, st);
              this.sizes.push(-1);
              break;
            }
            if (count < 0n) throw new AsmError(`times count ${count} is negative`);
            if (count > 16n * 1024n * 1024n) throw new AsmError(`times count ${count} is too large`);
            const start = here();
            const startSize = sec.size;
            const out: Uint8Array[] = [];
            for (let k = 0n; k < count; k++) {
              const bytes = this.emit(st, sec, bits, defaultRel, lastGlobal, start);
              out.push(bytes);
              sec.size += bytes.length;
            }
            const total = sec.size - startSize;
            this.sizes.push(total);
            if (final) {
              const joined = concat(out);
              if (!sec.nobits) sec.chunks.push({ offset: startSize, bytes: joined });
              else if (joined.some((x) => x !== 0)) throw new AsmError(`code or data in the nobits section ${sec.name}`);
              this.listing.push({ src: st.src, address: Number(start), bytes: sec.nobits ? new Uint8Array(0) : joined, section: sec.name, bits, insn: st.body.k === 'insn' });
              if (total > 0) this.lineMap.push({ address: Number(start), length: total, file: st.src.file, line: st.src.line });
            }
          }
        }
      } catch (e) {
        if (!(e instanceof AsmError)) throw e;
        this.sizes.push(-2);
        if (final) this.diagnostics.push({ file: st.src.file, line: st.src.line, col: e.col, length: e.length, message: e.message, severity: 'error' });
      }
    }
    this.layout();
    this.lineMap.sort((x, y) => x.address - y.address);
  }

  /** Section bases: .text at org, progbits in order, then nobits; each aligned. */
  private layout(): void {
    const text = this.sections.find((s) => s.name === '.text')!;
    const order = [text, ...this.sections.filter((s) => s !== text && !s.nobits), ...this.sections.filter((s) => s !== text && s.nobits)];
    let at = this.origin;
    for (const s of order) {
      if (s !== text) {
        const al = BigInt(Math.max(1, s.align));
        at = (at + al - 1n) / al * al;
      }
      const moved = s.base !== at;
      s.base = at;
      at += BigInt(s.size);
      if (moved) this.sizes.push(-3);
    }
    this.sections = order;
  }

  image(): Uint8Array {
    const progbits = this.sections.filter((s) => !s.nobits && (s.size > 0 || s.name === '.text'));
    if (progbits.length === 0) return new Uint8Array(0);
    const last = progbits[progbits.length - 1];
    const size = Number(last.base - this.origin) + last.size;
    const img = new Uint8Array(size);
    for (const s of progbits) {
      const off = Number(s.base - this.origin);
      for (const c of s.chunks) img.set(c.bytes, off + c.offset);
    }
    return img;
  }

  private section(name: string, prevBases: Map<string, bigint>): Section {
    let s = this.sections.find((x) => x.name === name);
    if (s === undefined) {
      const nobits = name === '.bss';
      s = { name, align: name === '.text' ? 1 : 4, nobits, size: 0, base: prevBases.get(name) ?? this.origin, chunks: [] };
      this.sections.push(s);
    }
    return s;
  }

  private qualify(name: string, lastGlobal: string): string {
    return name.startsWith('.') && !name.startsWith('..') ? lastGlobal + name : name;
  }

  private eval(e: Expr, here: bigint, start: bigint, lastGlobal: string, st: Statement): bigint | undefined {
    return evaluate(e, {
      here, start,
      symbol: (name, col) => {
        const q = this.qualify(name, lastGlobal);
        if (this.final) this.references.push({ name: q, file: st.src.file, line: st.src.line, col });
        return (this.symbols.get(q) ?? this.prevSymbols.get(q))?.value;
      },
    });
  }

  private unknown(e: Expr, lastGlobal: string, _st: Statement): never {
    const names: string[] = [];
    const walk = (x: Expr): void => {
      if (x.k === 'sym') {
        const q = this.qualify(x.name, lastGlobal);
        if (!this.symbols.has(q) && !this.prevSymbols.has(q)) names.push(x.name);
      } else if (x.k === 'un') walk(x.a);
      else if (x.k === 'bin') { walk(x.a); walk(x.b); }
      else if (x.k === 'cond') { walk(x.c); walk(x.a); walk(x.b); }
    };
    walk(e);
    const col = (e.k === 'sym' ? e.col : 0);
    throw new AsmError(names.length > 0 ? `symbol '${names[0]}' is not defined` : 'expression cannot be evaluated', col, names[0]?.length ?? 1);
  }

  /** Bytes of one repetition of a data, reservation, alignment or instruction statement. */
  private emit(st: Statement, sec: Section, bits: 16 | 32 | 64, defaultRel: boolean, lastGlobal: string, lineStart: bigint): Uint8Array {
    const b = st.body;
    const here = sec.base + BigInt(sec.size);
    // `$` is the start of the line for every repetition of a `times` (NASM manual §3.5).
    const val = (e: Expr): bigint => {
      const v = this.eval(e, lineStart, sec.base, lastGlobal, st);
      if (v === undefined) {
        if (this.final) this.unknown(e, lastGlobal, st);
        return here;
      }
      return v;
    };
    switch (b.k) {
      case 'data': {
        const out: number[] = [];
        for (const item of b.items) {
          if (item.k === 'str') {
            out.push(...item.bytes);
            // Strings in dw/dd/dq are padded to a whole number of units (NASM manual §3.2.1).
            const rem = item.bytes.length % b.unit;
            if (rem !== 0) for (let k = rem; k < b.unit; k++) out.push(0);
          } else if (item.k === 'undef') {
            for (let k = 0; k < b.unit; k++) out.push(0);
          } else {
            if (b.unit > 8) throw new AsmError('numbers in dt/do/dy/dz are not supported', item.col);
            let v = BigInt.asUintN(b.unit * 8, val(item.e));
            for (let k = 0; k < b.unit; k++) { out.push(Number(v & 0xffn)); v >>= 8n; }
          }
        }
        return Uint8Array.from(out);
      }
      case 'res': {
        const n = val(b.count);
        if (n < 0n || n > 1n << 30n) throw new AsmError(`reservation of ${n} items is out of range`);
        if (!sec.nobits && this.final) {
          // NASM warns and fills with zeros.
        }
        return new Uint8Array(Number(n) * b.unit);
      }
      case 'align': {
        const n = val(b.n);
        if (n <= 0n || (n & (n - 1n)) !== 0n) throw new AsmError('alignment must be a power of two');
        const pad = Number((n - (here % n)) % n);
        // ALIGN and ALIGNB raise the section's alignment (NASM's SECTALIGN, on by default).
        if (n > BigInt(sec.align) && sec.name !== '.text') sec.align = Number(n);
        return new Uint8Array(pad).fill(b.zero || sec.nobits ? 0 : 0x90);
      }
      case 'insn': {
        st.operands ??= operandsOf(st, defaultRel);
        const ops = st.operands.map((op) => this.resolve(op, val, lastGlobal));
        const enc = encodeInstruction({
          mnemonic: b.mnemonic, operands: ops, bits, ip: BigInt.asUintN(64, here), lock: b.lock, rep: b.rep, opSize: b.opSize,
          addrSize: b.addrSize, to: b.to, col: b.col,
        });
        if (this.final) {
          for (const w of enc.warnings) this.diagnostics.push({ file: st.src.file, line: st.src.line, col: b.col, length: b.mnemonic.length, message: w, severity: 'warning' });
        }
        return enc.bytes;
      }
      default:
        return new Uint8Array(0);
    }
  }

  private reloc(e: Expr, lastGlobal: string): number {
    return relocationOf(e, (name) => {
      const s = this.symbols.get(this.qualify(name, lastGlobal)) ?? this.prevSymbols.get(this.qualify(name, lastGlobal));
      return s === undefined || s.reloc ? 1 : 0;
    });
  }

  private resolve(op: Operand, val: (e: Expr) => bigint, lastGlobal: string): Resolved {
    switch (op.k) {
      case 'reg': return { op };
      case 'mem': return { op, disp: op.disp === null ? 0n : val(op.disp), reloc: op.disp !== null && this.reloc(op.disp, lastGlobal) !== 0 };
      case 'imm': return { op, value: val(op.expr), reloc: this.reloc(op.expr, lastGlobal) !== 0 };
      case 'farptr': return { op, seg: val(op.seg), off: val(op.off) };
    }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
