/**
 * The `vtx` command line: dispatch to a command, turn a UsageError into one line on stderr
 * with exit status 2, and an unexpected error (a bug in vtx) into a report with status 3.
 * `runCli` takes its arguments and output streams as parameters so tests can call it in-process.
 */
import { version } from '../../package.json';
import { UsageError } from './args';
import { asmCommand } from './asmCommand';
import { benchCommand } from './benchCommand';
import type { CliIo } from './io';
import { runCommand } from './runCommand';
import { MAIN_USAGE } from './usage';

export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;

const COMMANDS: Record<string, (argv: readonly string[], io: CliIo) => number> = {
  run: runCommand,
  bench: benchCommand,
  asm: asmCommand,
};

function dispatch(argv: readonly string[], io: CliIo): number {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(MAIN_USAGE);
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    io.out(MAIN_USAGE);
    return 0;
  }
  if (first === '--version') {
    io.out(version);
    return 0;
  }
  if (first.startsWith('-')) throw new UsageError(`unknown option ${first.split('=')[0]} (try vtx --help)`);
  const command = COMMANDS[first];
  if (command === undefined) throw new UsageError(`unknown command '${first}' (try vtx --help)`);
  return command(rest, io);
}

/** Run the command line `argv` (without node and the script); returns the exit status. */
export function runCli(argv: readonly string[], io: CliIo): number {
  try {
    return dispatch(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`vtx: ${e.message}`);
      return EXIT_USAGE;
    }
    const err = e as Error;
    io.err(`vtx: internal error: ${err?.stack ?? String(e)}`);
    return EXIT_INTERNAL;
  }
}
