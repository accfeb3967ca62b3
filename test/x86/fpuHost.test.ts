/**
 * x87 results against silicon: samples measured on an Intel host x87 (test/x86/fpu-host-gen.c;
 * 80-bit results and status words for add/sub/mul/div/sqrt/frndint/fscale/fprem/fprem1/fxtract,
 * compares, FXAM/FTST, FST m32/m64, FIST m16/m32/m64 and FLD m32/m64, in every precision and
 * rounding mode with masked exceptions, and with every exception unmasked (fpu-host-gen-unmasked.c:
 * the state is captured with the non-waiting FNSAVE), plus the memory-operand and reversed/popping
 * register forms (fpu-host-gen-forms.c). When this machine is x86-64 with a C compiler, a fresh
 * batch is also generated and checked live.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { runSamples } from './fpuHarness';

const HERE = dirname(fileURLToPath(import.meta.url));

function check(lines: string[]): void {
  const r = runSamples(lines);
  const shown = r.bad.slice(0, 10).map((m) => `${m.line}  GOT  ${m.got}`).join('\n');
  assert.equal(r.bad.length, 0, `${r.bad.length}/${r.total} mismatches:\n${shown}`);
  assert.ok(r.total > 0);
}

test('x87 results match the recorded host samples bit for bit', () => {
  const lines = readFileSync(join(HERE, 'fpu-host-samples.txt'), 'utf8').split('\n').filter((l) => l.trim());
  assert.ok(lines.length > 2000);
  check(lines);
});

test('x87 results match a live batch from this host', (t) => {
  if (process.arch !== 'x64') { t.skip('host is not x86-64'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'vtx-fpu-'));
  try {
    const lines: string[] = [];
    for (const [src, count] of [['fpu-host-gen.c', '40'], ['fpu-host-gen-unmasked.c', '20'], ['fpu-host-gen-forms.c', '10']]) {
      const exe = join(dir, src.replace('.c', ''));
      try {
        execFileSync('cc', ['-O1', '-w', '-o', exe, join(HERE, src)], { stdio: 'ignore' });
      } catch {
        t.skip('no C compiler'); return;
      }
      const out = execFileSync(exe, [count], { env: { ...process.env, SEED: '424242' }, maxBuffer: 64 << 20 }).toString();
      lines.push(...out.split('\n').filter((l) => l.trim()));
    }
    check(lines);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
