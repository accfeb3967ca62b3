/**
 * Helpers for command-line tests: call the CLI in-process (runCli with a buffer) or as the
 * built program (node dist/cli.js), and write guest images to a temporary directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli';
import { bufferIo } from '../../src/cli/io';
import type { RunSummary } from '../../src/cli/summary';

export const ROOT = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'vtx-cli-test-'));
let counter = 0;

/** Write `bytes` to a fresh temporary file and return its path. */
export function guestFile(bytes: Uint8Array | number[], name = `guest${counter++}.bin`): string {
  const p = join(dir, name);
  writeFileSync(p, bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  return p;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the command line in this process. */
export function cli(...args: string[]): CliResult {
  const io = bufferIo();
  const code = runCli(args, io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

/** The JSON object on the last line of stdout. */
export function lastJson(stdout: string): RunSummary {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]) as RunSummary;
}

/** Run the built program (builds dist/ first when it is missing). */
export function cliProcess(...args: string[]): CliResult {
  const bin = join(ROOT, 'dist/cli.js');
  if (!existsSync(bin)) {
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
  }
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
