import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cliProcess, guestFile, lastJson, ROOT } from './helpers';

// The built program as a user runs it: node dist/cli.js (npm test builds dist/ first).

test('dist/cli.js run --json prints the summary as the last line and exits 0 after HLT', () => {
  const r = cliProcess('run', join(ROOT, 'examples/sum64.bin'), '--json');
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const j = lastJson(r.stdout);
  assert.equal(j.stopReason, 'hlt');
  assert.equal(j.registers.rax, '0x7a314');
});

test('dist/cli.js: usage errors are one line on stderr with exit status 2', () => {
  const r = cliProcess('run', 'no-such-file.bin');
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, "vtx: cannot read 'no-such-file.bin': no such file\n");
  const u = cliProcess('run', guestFile([0xf4]), '--foo');
  assert.equal(u.code, 2);
  assert.equal(u.stderr, 'vtx: unknown option --foo\n');
});

test('dist/cli.js: an exception exits with status 1 and is reported', () => {
  const r = cliProcess('run', join(ROOT, 'examples/fault32.bin'), '--mode', 'protected');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /exception: +#UD invalid opcode \(vector 6, no error code\)/);
});

test('dist/cli.js --version prints the package version', () => {
  const r = cliProcess('--version');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});
