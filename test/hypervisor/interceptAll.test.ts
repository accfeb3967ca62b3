/**
 * Widened interception (issue 5: `--intercept-io all`, `--intercept-msr all`): the platform
 * guests still run to their end with the same output; every port access and MSR access exits
 * and the VMM completes it — the MSRs VM entry/exit switch (EFER, PAT, SYSENTER, FS/GS base,
 * DEBUGCTL) through the guest-state fields, not the processor's (host) registers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, guestFile, lastJson, ROOT } from '../cli/helpers';
import { assemble } from '../../src/language/asm/assembler';

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

test('--intercept rdtsc,invlpg,descriptor-tables,hlt,exception:3: watched instructions exit, then run in the guest as without the control', () => {
  const src = ['bits 64', 'rdtsc', 'mov rbx, rax', 'invlpg [0x2000]', 'sgdt [0x3000]', 'mov ecx, [0x3002]', 'hlt'].join('\n');
  const bytes = assemble(src, { bits: 64 }).bytes;
  const file = guestFile(bytes, 'watch.bin');
  const j = lastJson(cli('run', file, '--json', '--intercept', 'rdtsc,invlpg,descriptor-tables,hlt').stdout);
  assert.deepEqual(j.exits, { RDTSC: 1, MONITOR_TRAP_FLAG: 3, INVLPG: 1, GDTR_IDTR: 1, HLT: 1 });
  assert.equal(j.stopReason, 'hlt');
  // SGDT stored the guest's GDTR (the loader's GDT): its base is what ECX read back.
  const bare = lastJson(cli('run', file, '--json', '--hypervisor', 'none').stdout);
  assert.equal(j.registers.rcx, bare.registers.rcx);
  assert.notEqual(j.registers.rbx, '0x0', 'RDTSC returned the TSC');
  assert.match(cli('run', file, '--intercept', 'bogus').stderr, /--intercept: 'bogus' is not one of/);
});
