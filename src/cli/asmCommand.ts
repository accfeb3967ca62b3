/**
 * `vtx asm <file.asm> -o <file.bin> [--listing <file.lst>] [-I dir] [--bits 16|32|64]`:
 * assemble NASM-syntax source into a flat binary. Errors go to stderr as
 * `file:line:column: error: message` (the form editors and compilers use) with exit status 1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { assemble } from '../language/asm/assembler';
import { diskReader } from '../language/asm/fileReader';
import { formatListing } from '../language/asm/listing';
import { parseArgs, UsageError } from './args';
import type { CliIo } from './io';
import { ASM_USAGE } from './usage';

export function asmCommand(argv: readonly string[], io: CliIo): number {
  const { values, positionals } = parseArgs(argv, {
    help: { type: 'boolean', short: 'h' },
    output: { type: 'string', short: 'o' },
    listing: { type: 'string' },
    include: { type: 'string', short: 'I' },
    bits: { type: 'string' },
  });
  if (values.help === true) {
    io.out(ASM_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('asm needs exactly one source file (try vtx asm --help)');
  const file = positionals[0];
  const output = values.output;
  if (typeof output !== 'string') throw new UsageError('asm needs -o <file.bin>');
  const bitsText = values.bits;
  let bits: 16 | 32 | 64 = 16;
  if (typeof bitsText === 'string') {
    if (bitsText !== '16' && bitsText !== '32' && bitsText !== '64') throw new UsageError(`--bits must be 16, 32 or 64, not '${bitsText}'`);
    bits = Number(bitsText) as 16 | 32 | 64;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const includes = typeof values.include === 'string' ? [values.include] : [];
  const r = assemble(text, { file: resolve(file), reader: diskReader(includes), bits });
  for (const d of r.diagnostics) {
    io.err(`${d.file === resolve(file) ? file : d.file}:${d.line}:${d.col + 1}: ${d.severity}: ${d.message}`);
  }
  if (!r.ok) return 1;
  writeFileSync(output, r.bytes);
  if (typeof values.listing === 'string') writeFileSync(values.listing, formatListing(r));
  return 0;
}
