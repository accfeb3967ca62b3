/** `vtx run <file> [options]`: read a flat binary, run it, print the summary. */
import { readFileSync } from 'node:fs';
import { parseArgs, parseChoice, parseNumber, parseSize, UsageError } from './args';
import type { CliIo } from './io';
import { GUEST_MODES, GuestOptions, runGuest } from './runGuest';
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
  json: { type: 'boolean' },
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
  if (format !== undefined && format.toLowerCase() !== 'flat') {
    throw new UsageError(`--format: '${format}' is not supported (only flat binaries so far)`);
  }
  const mode = str('mode');
  if (mode !== undefined) o.mode = parseChoice('--mode', mode, GUEST_MODES);
  const num = (k: string): number | undefined => (str(k) === undefined ? undefined : parseNumber(`--${k}`, str(k)!));
  o.loadAddress = num('load-address');
  o.entry = num('entry');
  o.stack = num('stack');
  o.maxInstructions = num('max-instructions');
  const memory = str('memory');
  if (memory !== undefined) o.memorySize = parseSize('--memory', memory);
  return o;
}

/** Returns the exit status: 0 after HLT, 1 after an exception or the limit. */
export function runCommand(argv: readonly string[], io: CliIo): number {
  const { values, positionals } = parseArgs(argv, RUN_OPTIONS);
  if (values.help === true) {
    io.out(RUN_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('run: missing the guest file (usage: vtx run <file> [options])');
  if (positionals.length > 1) throw new UsageError(`run: unexpected argument '${positionals[1]}'`);
  const options = guestOptionsFrom(values);
  const image = readImage(positionals[0]);
  const run = runGuest(image, options);
  const summary = summarize(run);
  if (values.json === true) io.out(JSON.stringify(summary));
  else io.out(formatSummary(summary));
  return summary.stopReason === 'hlt' ? 0 : 1;
}
