/**
 * The assembler against nasm (issue 8's cross-check): every assembly guest and example, and a
 * generated file with every legacy and VEX instruction form iced-x86 can encode in 16-, 32- and
 * 64-bit code, give identical bytes — or a difference listed and explained in nasmDifferences.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../../src/language/asm/assembler';
import { diskReader } from '../../src/language/asm/fileReader';
import { generateForms } from './asmForms';
import { compareLines, hasNasm } from './nasmCompare';
import { explained } from './nasmDifferences';

const NASM = hasNasm();
const ROOT = join(__dirname, '..', '..');
const CORPUS = [
  ...readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.asm')).map((f) => join(ROOT, 'examples', f)),
  ...readdirSync(join(ROOT, 'test', 'guests')).filter((f) => f.endsWith('.asm')).map((f) => join(ROOT, 'test', 'guests', f)),
];

describe('assembler vs nasm: the guest corpus', () => {
  for (const file of CORPUS) {
    it(file.slice(ROOT.length + 1), (t) => {
      if (!NASM) { t.skip('nasm is not installed (CI installs it)'); return; }
      const dir = mkdtempSync(join(tmpdir(), 'vtx-corpus-'));
      try {
        const out = join(dir, 'out.bin');
        execFileSync('nasm', ['-f', 'bin', '-w-all', '-o', out, file], { cwd: join(file, '..'), stdio: 'pipe' });
        const r = assemble(readFileSync(file, 'utf8'), { file, reader: diskReader() });
        assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
        assert.ok(Buffer.from(r.bytes).equals(readFileSync(out)), 'vtx and nasm produce different bytes');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('assembler vs nasm: every instruction form', () => {
  for (const bits of [16, 32, 64] as const) {
    it(`${bits}-bit forms`, (t) => {
      if (!NASM) { t.skip('nasm is not installed (CI installs it)'); return; }
      const forms = generateForms(bits);
      const r = compareLines([`bits ${bits}`, 'org 0x1000'], forms.map((f) => f.text), bits);
      const unexplainedDiffs = r.different.filter((d) => explained('different', d.text) === undefined);
      const unexplainedRejects = r.vtxRejected.filter((d) => explained('vtxRejected', d.text) === undefined);
      t.diagnostic(`${bits}-bit: ${r.total} forms; ${r.identical} identical; ${r.different.length} listed differences; ` +
        `${r.vtxRejected.length} listed rejections; ${r.nasmRejected.length + r.nasmUnknown.length} forms nasm does not accept`);
      assert.deepEqual(unexplainedDiffs.map((d) => `${d.text}: vtx ${d.vtx} nasm ${d.nasm}`), []);
      assert.deepEqual(unexplainedRejects.map((d) => `${d.text}: ${d.error}`), []);
      assert.ok(r.identical > 0.9 * (r.total - r.nasmRejected.length - r.nasmUnknown.length), 'at least 90% of the forms nasm accepts are identical');
    });
  }
});
