/**
 * `vtx run <file> [options]`: load a guest image (flat, ELF or Multiboot) on the machine, run
 * it with its serial output streamed to stdout, then print the summary.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { assemble, type AssembleResult } from '../language/asm/assembler';
import { diskReader } from '../language/asm/fileReader';
import { parseArgs, parseChoice, parseNumber, parseSize, UsageError } from './args';
import type { CliIo } from './io';
import { FORMATS, GUEST_MODES, GuestOptions, HYPERVISORS, runGuest } from './runGuest';
import { SEED_INTERCEPTION, type Interception } from '../hypervisor/interception';
import { formatSummary, summarize } from './summary';
import { RUN_USAGE } from './usage';

const RUN_OPTIONS = {
  format: { type: 'string' },
  mode: { type: 'string' },
  'load-address': { type: 'string' },
  entry: { type: 'string' },
  stack: { type: 'string' },
  memory: { type: 'string' },
  'max-instructions': { type: 'string' },
  cmdline: { type: 'string' },
  json: { type: 'boolean' },
  hypervisor: { type: 'string' },
  'trace-exits': { type: 'boolean' },
  'intercept-io': { type: 'string' },
  'intercept-msr': { type: 'string' },
  intercept: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Read the guest image; an unreadable file is a UsageError with a plain reason. */
export function readImage(path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file'
      : code === 'EISDIR' ? 'it is a directory'
      : code === 'EACCES' ? 'permission denied'
      : (e as Error).message;
    throw new UsageError(`cannot read '${path}': ${why}`);
  }
  if (bytes.length === 0) throw new UsageError(`'${path}' is empty`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The run options from the command line (values checked, defaults left to runGuest). */
export function guestOptionsFrom(values: Record<string, string | boolean | undefined>): GuestOptions {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const o: GuestOptions = {};
  const format = str('format');
  if (format !== undefined) o.format = parseChoice('--format', format, FORMATS);
  o.cmdline = str('cmdline');
  const mode = str('mode');
  if (mode !== undefined) o.mode = parseChoice('--mode', mode, GUEST_MODES);
  const num = (k: string): number | undefined => (str(k) === undefined ? undefined : parseNumber(`--${k}`, str(k)!));
  o.loadAddress = num('load-address');
  o.entry = num('entry');
  o.stack = num('stack');
  o.maxInstructions = num('max-instructions');
  const memory = str('memory');
  if (memory !== undefined) o.memorySize = parseSize('--memory', memory);
  const hv = str('hypervisor');
  if (hv !== undefined) o.hypervisor = parseChoice('--hypervisor', hv, HYPERVISORS);
  const io = str('intercept-io');
  const msr = str('intercept-msr');
  const more = str('intercept');
  if (io !== undefined || msr !== undefined || more !== undefined) {
    if (o.hypervisor === 'none') throw new UsageError('--intercept, --intercept-io and --intercept-msr need the built-in hypervisor (not --hypervisor none)');
    o.interception = widenInterception({ io, msr, more }, { io: '--intercept-io', msr: '--intercept-msr', more: '--intercept' });
  }
  return o;
}

/**
 * The seed's interception widened by the three option texts (the command line's --intercept-io,
 * --intercept-msr, --intercept; the debugger's launch.json `intercept`): ports and MSRs as `all`
 * or value/range lists, and `hlt,rdtsc,invlpg,descriptor-tables,mtf,exception:N`. `names` are
 * the option names used in error messages.
 */
export function widenInterception(
  t: { io?: string; msr?: string; more?: string },
  names: { io: string; msr: string; more: string },
): Interception {
  const i: Interception = { ...SEED_INTERCEPTION };
  // These widen the seed's interception (port 0x604, MSRs 0xE1 and 0x800-0x83F stay intercepted).
  const widen = (base: Interception['io'], more: 'all' | [number, number][]): Interception['io'] =>
    more === 'all' || base === 'all' ? 'all' : [...base, ...more];
  if (t.io !== undefined) i.io = widen(SEED_INTERCEPTION.io, parseRanges(names.io, t.io, 0xffff));
  if (t.msr !== undefined) i.msrs = widen(SEED_INTERCEPTION.msrs, parseRanges(names.msr, t.msr, 0xffffffff));
  if (t.more !== undefined) {
    const exceptions = new Set(i.exceptions);
    for (const w of t.more.split(',').map((x) => x.trim().toLowerCase()).filter((x) => x !== '')) {
      const m = /^exception:(\w+)$/.exec(w);
      if (w === 'hlt') i.hlt = true;
      else if (w === 'rdtsc') i.rdtsc = true;
      else if (w === 'invlpg') i.invlpg = true;
      else if (w === 'descriptor-tables') i.descriptorTables = true;
      else if (w === 'mtf') i.mtf = true;
      else if (m !== null && Number.isInteger(Number(m[1])) && Number(m[1]) >= 0 && Number(m[1]) < 32) exceptions.add(Number(m[1]));
      else throw new UsageError(`${names.more}: '${w}' is not one of hlt, rdtsc, invlpg, descriptor-tables, mtf, exception:N (N = 0-31)`);
    }
    i.exceptions = [...exceptions].sort((a, b) => a - b);
  }
  return i;
}

/** `all`, or a comma-separated list of values and ranges (0x3f8-0x3ff,0x604). */
function parseRanges(option: string, text: string, max: number): 'all' | [number, number][] {
  if (text === 'all') return 'all';
  const out: [number, number][] = [];
  for (const part of text.split(',')) {
    const [a, b] = part.split('-');
    const lo = parseNumber(option, a.trim());
    const hi = b === undefined ? lo : parseNumber(option, b.trim());
    if (lo > hi || hi > max) throw new UsageError(`${option}: '${part}' is not a range within 0-0x${max.toString(16)}`);
    out.push([lo, hi]);
  }
  return out;
}

/**
 * An assembly source: assembled with vtx's assembler (the same as `vtx asm`). Its `org` is the
 * default load address and entry, and the bits of its first instruction the default mode
 * (16 real, 32 protected, 64 long). Errors are printed as file:line:column and give null.
 */
function assembleGuest(path: string, options: GuestOptions, io: CliIo): Uint8Array | null {
  const r = assembleGuestSource(path, options);
  for (const d of r.diagnostics) io.err(d);
  return r.result.ok ? r.result.bytes : null;
}

/**
 * Assemble the guest source at `path` and fill `options`' defaults from it (format flat, load
 * address = org, mode from the first instruction's bits); diagnostics as file:line:col text.
 * Shared by `vtx run x.asm` and the debugger.
 */
export function assembleGuestSource(path: string, options: GuestOptions): { result: AssembleResult; diagnostics: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const file = resolve(path);
  const r = assemble(text, { file, reader: diskReader() });
  const diagnostics = r.diagnostics.map((d) => `${d.file === file ? path : d.file}:${d.line}:${d.col + 1}: ${d.severity}: ${d.message}`);
  if (!r.ok) return { result: r, diagnostics };
  if (r.bytes.length === 0) throw new UsageError(`'${path}' assembles to nothing`);
  options.format ??= 'flat';
  options.loadAddress ??= r.origin;
  const first = r.listing.find((e) => e.insn);
  if (options.mode === undefined && first !== undefined) options.mode = first.bits === 16 ? 'real' : first.bits === 32 ? 'protected' : 'long';
  return { result: r, diagnostics };
}

/** Collects the guest's serial bytes and writes them out at each newline (and at the end). */
class SerialStream {
  private chunk: number[] = [];
  /** The last byte written out, -1 before any. */
  last = -1;
  constructor(private readonly io: CliIo) {}
  push(b: number): void {
    this.chunk.push(b);
    if (b === 0x0a || this.chunk.length >= 4096) this.flush();
  }
  flush(): void {
    if (this.chunk.length === 0) return;
    this.last = this.chunk[this.chunk.length - 1];
    this.io.writeBytes?.(Uint8Array.from(this.chunk));
    this.chunk = [];
  }
}

/**
 * Returns the exit status: 0 after HLT; after isa-debug-exit or ACPI power-off the guest's
 * exit code modulo 256, as QEMU exits; 1 after an exception, a triple fault or the limit.
 */
export function runCommand(argv: readonly string[], io: CliIo): number {
  const { values, positionals } = parseArgs(argv, RUN_OPTIONS);
  if (values.help === true) {
    io.out(RUN_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('run: missing the guest file (usage: vtx run <file> [options])');
  if (positionals.length > 1) throw new UsageError(`run: unexpected argument '${positionals[1]}'`);
  const options = guestOptionsFrom(values);
  const image = /\.(asm|nasm)$/i.test(positionals[0]) ? assembleGuest(positionals[0], options, io) : readImage(positionals[0]);
  if (image === null) return 2;
  const serial = new SerialStream(io);
  options.name = positionals[0];
  options.serialSink = (b) => serial.push(b);
  if (values['trace-exits'] === true) {
    if (options.hypervisor === 'none') throw new UsageError('--trace-exits needs the built-in hypervisor (not --hypervisor none)');
    options.onExit = (e, x) => {
      serial.flush();
      io.err(`exit ${e.name.toLowerCase().padEnd(18)} rip 0x${(e.fields.rip as bigint).toString(16).padStart(8, '0')}  ${e.summary}${x.kind !== 'Nothing' ? `  -> ${x.kind}` : ''}`);
    };
  }
  const run = runGuest(image, options);
  serial.flush();
  // The summary starts on a line of its own.
  if (serial.last !== -1 && serial.last !== 0x0a) io.writeBytes?.(Uint8Array.of(0x0a));
  const summary = summarize(run);
  if (values.json === true) io.out(JSON.stringify(summary));
  else io.out(formatSummary(summary));
  if (summary.stopReason === 'exit' || summary.stopReason === 'SystemDown') return (summary.exitCode ?? 0) & 0xff;
  return summary.stopReason === 'hlt' ? 0 : 1;
}
