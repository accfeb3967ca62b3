import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, lastJson, ROOT } from './helpers';

/** Each example with the command line that runs it and what it must leave behind. */
const EXAMPLES: Array<{ name: string; args: string[]; check: (j: ReturnType<typeof lastJson>) => void }> = [
  {
    name: 'sum64',
    args: [],
    check: (j) => {
      assert.equal(j.stopReason, 'hlt');
      assert.equal(j.registers.rax, '0x7a314'); // 1 + 2 + ... + 1000 = 500500
      assert.equal(j.registers.rcx, '0x0');
      assert.equal(j.instructions, 2 + 3 * 1000 + 2);
    },
  },
  {
    name: 'fib16',
    args: ['--mode', 'real'],
    check: (j) => {
      assert.equal(j.stopReason, 'hlt');
      assert.equal(j.registers.rax, '0xb520'); // F(24) = 46368
      assert.equal(j.registers.cs, '0x0');
      assert.equal(j.registers.rip, '0x7c1d');
    },
  },
  {
    name: 'fault32',
    args: ['--mode', 'protected'],
    check: (j) => {
      assert.equal(j.stopReason, 'exception');
      assert.equal(j.registers.rax, '0x12345678');
      assert.equal(j.registers.rbx, '0x2a');
      assert.equal(j.exception?.vector, 6);
      assert.equal(j.exception?.rip, '0x100d');
      assert.equal(j.exception?.bytes, '0f 0b');
      assert.equal(j.exception?.disassembly, 'ud2');
    },
  },
];

for (const ex of EXAMPLES) {
  test(`examples/${ex.name}.bin runs as its source says`, () => {
    const r = cli('run', join(ROOT, 'examples', `${ex.name}.bin`), ...ex.args, '--json');
    assert.equal(r.stderr, '');
    ex.check(lastJson(r.stdout));
  });
}

const hasNasm = spawnSync('nasm', ['-v'], { encoding: 'utf8' }).status === 0;

test('examples: assembling each .asm with nasm reproduces the committed .bin byte for byte', (t) => {
  if (!hasNasm) {
    const reason = 'nasm is not installed (apt-get install nasm; .ci/run installs it)';
    console.log(`# skipped: ${reason}`);
    t.skip(reason);
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'vtx-examples-'));
  for (const ex of EXAMPLES) {
    const bin = join(out, `${ex.name}.bin`);
    const r = spawnSync('nasm', ['-f', 'bin', '-o', bin, join(ROOT, 'examples', `${ex.name}.asm`)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readFileSync(bin), readFileSync(join(ROOT, 'examples', `${ex.name}.bin`)), ex.name);
  }
});
