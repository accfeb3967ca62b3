import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingInstructions, runBenchGuestOnce } from '../../src/cli/benchCommand';
import { buildBenchGuest, DEFAULT_PASSES } from '../../src/cli/benchGuest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, ROOT } from './helpers';

test('bench guest: built with the encoder, a realistic mix, ~50-200 M instructions by default', () => {
  const g = buildBenchGuest(DEFAULT_PASSES);
  assert.ok(g.code.length > 50 && g.code.length < 512);
  assert.equal(g.code[g.code.length - 1], 0xc3); // ret of the mixing function closes the code
  for (const m of ['mov', 'add', 'xor', 'shl', 'shr', 'cmp', 'test', 'call', 'ret', 'push', 'pop', 'dec', 'jne', 'hlt']) {
    assert.ok(g.mnemonics.includes(m), m);
  }
  assert.ok(g.expectedInstructions > 50e6 && g.expectedInstructions < 200e6, String(g.expectedInstructions));
  // The instruction count grows linearly with the passes (the model counts every path).
  const one = buildBenchGuest(1).expectedInstructions;
  const two = buildBenchGuest(2).expectedInstructions;
  assert.ok(two - one > 16 * 4096 && two - one < 30 * 4096);
});

test('bench guest: the processor computes the checksum and instruction count the model predicts', (t) => {
  const g = buildBenchGuest(3);
  const missing = missingInstructions(g);
  if (missing.length > 0) {
    const reason = `the processor does not implement ${missing.join(' ')} yet`;
    console.log(`# skipped: ${reason}`);
    t.skip(reason);
    return;
  }
  const { cpu } = runBenchGuestOnce(g); // throws BenchFailure on any difference
  assert.equal(cpu.icount, g.expectedInstructions);
});

test('bench --json prints one object with mips, instructions, seconds and mode', (t) => {
  if (missingInstructions(buildBenchGuest(1)).length > 0) {
    const r = cli('bench', '--passes', '2', '--seconds', '0', '--json');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not implement these instructions/);
    t.skip('the bench guest needs instructions the processor does not implement yet');
    return;
  }
  const r = cli('bench', '--passes', '2', '--seconds', '0', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  assert.equal(typeof j.mips, 'number');
  assert.ok((j.mips as number) > 0);
  assert.equal(j.mode, 'long');
  assert.equal(j.runs, 1);
  assert.equal(j.instructions, buildBenchGuest(2).expectedInstructions);
  assert.equal(typeof j.seconds, 'number');
});

test('the debugger part of vtx bench (dist/benchDebugger.js) leaves nothing in TMPDIR', () => {
  const script = join(ROOT, 'dist', 'benchDebugger.js');
  if (!existsSync(script)) {
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'vtx-bench-tmp-'));
  try {
    const r = spawnSync(process.execPath, [script, '0'], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp }, timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    assert.equal(typeof j.stepMedianMs, 'number');
    assert.deepEqual(readdirSync(tmp), [], 'the guests it writes are removed');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
