/**
 * Widened interception (issue 5: `--intercept-io all`, `--intercept-msr all`): the platform
 * guests still run to their end with the same output; every port access and MSR access exits
 * and the VMM completes it — the MSRs VM entry/exit switch (EFER, PAT, SYSENTER, FS/GS base,
 * DEBUGCTL) through the guest-state fields, not the processor's (host) registers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, lastJson, ROOT } from '../cli/helpers';

for (const [guest, minIo, msrs] of [['syscall', 100, true], ['modes', 40, true], ['timer', 60, false], ['exceptions', 500, false]] as const) {
  test(`--intercept-io all --intercept-msr all: ${guest}.asm still passes, every access exits`, () => {
    const file = join(ROOT, 'test/guests', `${guest}.asm`);
    const plain = lastJson(cli('run', file, '--json').stdout);
    const all = lastJson(cli('run', file, '--json', '--intercept-io', 'all', '--intercept-msr', 'all').stdout);
    assert.equal(all.stopReason, 'SystemDown');
    assert.equal(all.serial, plain.serial);
    assert.match(all.serial, /PASS/);
    assert.ok((all.exits?.IO_INSTRUCTION ?? 0) >= minIo, JSON.stringify(all.exits));
    if (msrs) assert.ok((all.exits?.MSR_WRITE ?? 0) >= 1, JSON.stringify(all.exits));
  });
}

test('--intercept-io with a list: only those ports exit (COM1 data port and the power-off)', () => {
  const file = join(ROOT, 'test/guests/hello-real.asm');
  const j = lastJson(cli('run', file, '--json', '--intercept-io', '0x3f8').stdout);
  assert.equal(j.stopReason, 'SystemDown');
  const chars = j.serial.length;
  // Each character written to 0x3F8 exits, plus the power-off at 0x604 (always intercepted).
  assert.equal(j.exits?.IO_INSTRUCTION, chars + 1);
  assert.equal(cli('run', file, '--intercept-io', '0x10000').code, 2);
  assert.match(cli('run', file, '--intercept-io', '5-3').stderr, /--intercept-io: '5-3' is not a range/);
});
