/**
 * Command-line argument parsing for `vtx`: a small hand-written parser (no dependency) whose
 * messages say exactly what is wrong, and value parsers for addresses, counts and sizes.
 * Every problem is a `UsageError`; the entry point prints it as one line and exits with 2.
 */

/** A mistake in the command line or its inputs: printed as `vtx: <message>`, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Optional one-letter alias, e.g. 'h' for --help. */
  short?: string;
}

export interface ParsedArgs {
  /** Option values by long name: the last string given, or true for a boolean flag. */
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parse `argv` against `spec`: `--name value`, `--name=value`, `-x`, boolean flags, and `--`
 * to end the options. Throws UsageError for unknown options and missing or surplus values.
 */
export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  const values: Record<string, string | boolean | undefined> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.short !== undefined) byShort.set(s.short, name);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      if (!Object.hasOwn(spec, name)) throw new UsageError(`unknown option --${name}`);
    } else {
      const long = byShort.get(arg.slice(1));
      if (long === undefined) throw new UsageError(`unknown option ${arg}`);
      name = long;
    }
    const s = spec[name];
    if (s.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      inline = argv[++i];
    }
    values[name] = inline;
  }
  return { values, positionals };
}

/**
 * A non-negative integer written in hex (`0x1f`) or decimal (`31`), `_` allowed between digits.
 * `what` names the option in the message: `--entry: '0xZZ' is not a number`.
 */
export function parseNumber(what: string, text: string): number {
  const t = text.trim().replace(/_/g, '');
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^[0-9]+$/.test(t)) v = parseInt(t, 10);
  else throw new UsageError(`${what}: '${text}' is not a number`);
  if (!Number.isSafeInteger(v)) throw new UsageError(`${what}: '${text}' is too large`);
  return v;
}

const SIZE_SUFFIX: Readonly<Record<string, number>> = {
  '': 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3,
};

/** A byte count: a number as parseNumber accepts, optionally followed by K, M, G (or KiB, MiB, GiB). */
export function parseSize(what: string, text: string): number {
  const m = /^(.*?)([kmg](?:ib)?)?$/i.exec(text.trim());
  const unit = (m?.[2] ?? '').toLowerCase();
  const n = parseNumber(what, m?.[1] ?? text);
  const v = n * SIZE_SUFFIX[unit];
  if (!Number.isSafeInteger(v)) throw new UsageError(`${what}: '${text}' is too large`);
  return v;
}

/** One of a fixed set of words: `--mode: 'x' is not one of real, protected, long`. */
export function parseChoice<T extends string>(what: string, text: string, choices: readonly T[]): T {
  const t = text.toLowerCase() as T;
  if (!choices.includes(t)) throw new UsageError(`${what}: '${text}' is not one of ${choices.join(', ')}`);
  return t;
}

/** "0x1f" style hex for messages. */
export function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}
