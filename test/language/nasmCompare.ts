/**
 * Assemble the same source with vtx and with nasm (`-f bin`) and compare, line by line through
 * both listings. Lines nasm rejects are dropped first (nasm stops at any error), so the rest can
 * be compared; lines vtx rejects but nasm accepts are reported.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../../src/language/asm/assembler';

export function hasNasm(): boolean {
  try {
    execFileSync('nasm', ['-v'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export interface LineComparison {
  total: number;
  nasmRejected: { line: number; text: string; error: string }[];
  vtxRejected: { line: number; text: string; error: string }[];
  different: { line: number; text: string; vtx: string; nasm: string }[];
  /** nasm produced no bytes for the line: it took the unknown mnemonic as a label. */
  nasmUnknown: { line: number; text: string }[];
  identical: number;
}

/**
 * nasm's bytes by source line: the listing gives each line's offset and length (values in
 * (…) and […] are shown unrelocated there, so the bytes themselves come from the binary).
 */
function nasmBytes(listing: string, binary: Uint8Array): Map<number, string> {
  const spans = new Map<number, { off: number; len: number }>();
  for (const l of readFileSync(listing, 'utf8').split('\n')) {
    const r = /^\s*(\d+)\s+([0-9A-F]{8})\s+([0-9A-F()[\]]+)(-?)/.exec(l);
    if (r === null) continue;
    const line = Number(r[1]);
    const len = r[3].replace(/[()[\]]/g, '').length / 2;
    const prev = spans.get(line);
    if (prev === undefined) spans.set(line, { off: parseInt(r[2], 16), len });
    else prev.len += len;
  }
  const m = new Map<number, string>();
  for (const [line, { off, len }] of spans) m.set(line, Buffer.from(binary.subarray(off, off + len)).toString('hex'));
  return m;
}

/** Compare instruction lines (a header such as `bits 64` first) between vtx and nasm. */
export function compareLines(header: string[], lines: string[], bits: 16 | 32 | 64): LineComparison {
  const dir = mkdtempSync(join(tmpdir(), 'vtx-nasm-'));
  try {
    const result: LineComparison = { total: lines.length, nasmRejected: [], vtxRejected: [], different: [], nasmUnknown: [], identical: 0 };
    // Each line starts a 16-byte slot, so a size difference on one line cannot shift the others.
    let keep = lines.map((text, i) => ({ text, i }));
    const body = (): string[] => keep.flatMap((k) => [k.text, 'align 16']);
    const src = join(dir, 'forms.asm');
    const lst = join(dir, 'forms.lst');
    for (let round = 0; round < 20; round++) {
      writeFileSync(src, [...header, ...body()].join('\n') + '\n');
      try {
        execFileSync('nasm', ['-f', 'bin', '-w-all', '-l', lst, '-o', join(dir, 'forms.bin'), src], { stdio: 'pipe' });
        break;
      } catch (e) {
        const stderr = String((e as { stderr?: Buffer }).stderr ?? '');
        const bad = new Map<number, string>();
        for (const m of stderr.matchAll(/:(\d+): error: (.*)/g)) bad.set((Number(m[1]) - header.length - 1) >> 1, m[2]);
        if (bad.size === 0) throw new Error(`nasm failed without line errors: ${stderr}`);
        for (const [idx, err] of bad) {
          const k = keep[idx];
          if (k !== undefined) result.nasmRejected.push({ line: k.i, text: k.text, error: err });
        }
        keep = keep.filter((_, idx) => !bad.has(idx));
      }
    }
    const theirs = nasmBytes(lst, readFileSync(join(dir, 'forms.bin')));
    const ours = assemble([...header, ...body()].join('\n'), { file: 'forms.asm', bits });
    const errs = new Map(ours.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.line, d.message]));
    const oursByLine = new Map(ours.listing.map((e) => [e.src.line, Buffer.from(e.bytes).toString('hex')]));
    keep.forEach((k, idx) => {
      const line = 2 * idx + header.length + 1;
      const err = errs.get(line);
      if (err !== undefined) {
        result.vtxRejected.push({ line: k.i, text: k.text, error: err });
        return;
      }
      const a = oursByLine.get(line) ?? '';
      const b = theirs.get(line) ?? '';
      if (a === b) result.identical++;
      else if (b === '') result.nasmUnknown.push({ line: k.i, text: k.text });
      else result.different.push({ line: k.i, text: k.text, vtx: a, nasm: b });
    });
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
