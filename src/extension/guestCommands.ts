/**
 * The logic of two editor commands, without `vscode` (the extension turns the results into the
 * "vtx" output channel and the Problems view):
 * - "vtx: Assemble": the .asm source to a flat binary next to it (`vtx asm x.asm -o x.bin`);
 * - "vtx: Run Without Debugging": the guest under the built-in hypervisor, as `vtx run` runs it
 *   (`vtx run x --trace-exits`): serial output, each VM exit, the summary and the exits table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../cli/args';
import type { CliIo } from '../cli/io';
import { runCommand } from '../cli/runCommand';
import { precheckAsm, type AsmPrecheck } from './asmPrecheck';
import { assemble } from '../language/asm/assembler';
import { diskReader } from '../language/asm/fileReader';

export interface AssembleOutcome extends AsmPrecheck {
  /** The binary written (when ok). */
  output?: string;
  bytes?: number;
}

/** The flat binary's path for a source: `x.asm` → `x.bin`. */
export function binaryPathOf(source: string): string {
  return /\.(asm|nasm)$/i.test(source) ? source.replace(/\.(asm|nasm)$/i, '.bin') : `${source}.bin`;
}

/** Assembles `source` and writes the flat binary next to it; diagnostics by file either way. */
export function assembleToBinary(source: string): AssembleOutcome {
  const check = precheckAsm(source);
  if (!check.ok) return check;
  const file = resolve(source);
  const r = assemble(readFileSync(file, 'utf8'), { file, reader: diskReader() });
  const output = binaryPathOf(file);
  writeFileSync(output, r.bytes);
  return { ...check, output, bytes: r.bytes.length };
}

/** The guest-run options the "vtx: Run Without Debugging" command passes to `vtx run`. */
export function runArguments(program: string): string[] {
  return [program, '--trace-exits'];
}

export interface RunOutcome {
  /** The lines to show: the command, serial output, the exits as they happened, the summary. */
  lines: string[];
  /** vtx run's exit status (0: HLT or a power-off with code 0). */
  status: number;
  /** A problem with the program itself (unreadable, does not assemble). */
  error?: string;
}

/** A CliIo that keeps stdout, stderr and raw serial bytes in the order they came, as lines. */
function orderedIo(): CliIo & { lines: string[] } {
  const lines: string[] = [];
  const decoder = new TextDecoder('utf-8');
  let open = false;
  const line = (text: string): void => {
    open = false;
    lines.push(...text.split('\n'));
  };
  return {
    lines,
    out: line,
    err: line,
    writeBytes: (bytes) => {
      const parts = decoder.decode(bytes, { stream: true }).split('\n');
      if (open) lines[lines.length - 1] += parts.shift() ?? '';
      else lines.push(parts.shift() ?? '');
      lines.push(...parts);
      open = true;
      if (lines[lines.length - 1] === '') {
        lines.pop();
        open = false;
      }
    },
  };
}

/** Runs `program` (an .asm source, a flat binary, an ELF or Multiboot image) like `vtx run`. */
export function runUnderHypervisor(program: string): RunOutcome {
  const args = runArguments(program);
  const io = orderedIo();
  io.lines.push(`vtx run ${args.join(' ')}`);
  try {
    const status = runCommand(args, io);
    return { lines: io.lines, status };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.lines.push(`vtx: ${e.message}`);
    return { lines: io.lines, status: 2, error: e.message };
  }
}
