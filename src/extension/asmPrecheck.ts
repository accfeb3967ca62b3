/**
 * Before a debug session starts on an assembly program (`program: "guest.asm"`, issue 8), the
 * extension assembles it the way the adapter will, so that errors appear in the Problems view
 * at their file and line and the launch stops with a message naming the first one. Plain
 * module (no `vscode`): the extension turns the result into a DiagnosticCollection.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { assemble } from '../language/asm/assembler';
import { diskReader } from '../language/asm/fileReader';
import type { Diagnostic } from '../language/asm/preprocessor';

export interface AsmPrecheck {
  /** True when the program assembles (warnings allowed). */
  ok: boolean;
  /** Every diagnostic, grouped by absolute file path (for one DiagnosticCollection entry each). */
  byFile: Map<string, Diagnostic[]>;
  /** The launch error a person reads when !ok: the first error with its place and the count. */
  message?: string;
}

export function isAsmProgram(path: string): boolean {
  return /\.(asm|nasm)$/i.test(path);
}

export function precheckAsm(path: string): AsmPrecheck {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { ok: false, byFile: new Map(), message: `cannot read the program '${file}': ${(e as Error).message}` };
  }
  const r = assemble(text, { file, reader: diskReader() });
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of r.diagnostics) {
    const list = byFile.get(d.file) ?? [];
    list.push(d);
    byFile.set(d.file, list);
  }
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length === 0 && r.bytes.length === 0) return { ok: false, byFile, message: `'${file}' assembles to nothing` };
  if (errors.length === 0) return { ok: true, byFile };
  const first = errors[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''}, see Problems)` : ' (see Problems)';
  return { ok: false, byFile, message: `${first.file}:${first.line}:${first.col + 1}: ${first.message}${more}` };
}
