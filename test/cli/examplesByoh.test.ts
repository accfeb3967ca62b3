/**
 * examples/byoh.asm (issue 10): the assembly hypervisor of the examples runs under
 * `vtx run --hypervisor none` to the ACPI power-off with the serial text its comment promises
 * (each exit reason and qualification fixed by the SDM; test/guests/byoh.test.ts cites the
 * sections line by line), its VMCS's exits counted; the .asm assembles to the committed .bin
 * with vtx's assembler and with nasm, and the .bin runs as the .asm does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, lastJson, ROOT } from './helpers';
import { assemble } from '../../src/language/asm/assembler';

const ASM = join(ROOT, 'examples', 'byoh.asm');
const BIN = join(ROOT, 'examples', 'byoh.bin');

const SERIAL = [
  'CPUID.1:ECX.VMX = 1',
  'IA32_FEATURE_CONTROL: locked, VMXON outside SMX enabled',
  'VMXON: VMsucceed',
  'VMCLEAR: VMsucceed',
  'VMPTRLD: VMsucceed',
  'VMLAUNCH',
  'exit reason 0x0000000a qualification 0x0000000000000000', // CPUID (appendix C: 10)
  'exit reason 0x0000001e qualification 0x0000000000800040', // OUT 0x80, AL (30; §27.2.1 table 27-5)
  'exit reason 0x0000001f qualification 0x0000000000000000', // RDMSR (31)
  'exit reason 0x00000030 qualification 0x0000000000000181 guest-physical 0x0000000000800000', // EPT violation (48; table 27-7)
  'exit reason 0x0000000c qualification 0x0000000000000000', // HLT (12)
  'L2 halted',
  'VMXOFF: VMsucceed',
].map((l) => `${l}\n`).join('');

function check(j: ReturnType<typeof lastJson>): void {
  assert.equal(j.serial, SERIAL);
  assert.equal(j.stopReason, 'exit');
  assert.equal(j.exitDevice, 'ACPI power-off');
  assert.equal(j.hypervisor, 'none');
  assert.deepEqual(j.exits, { CPUID: 1, IO_INSTRUCTION: 1, MSR_READ: 1, EPT_VIOLATION: 1, HLT: 1 });
}

test('examples/byoh.asm runs under --hypervisor none with the serial text of its comment', () => {
  const r = cli('run', ASM, '--hypervisor', 'none', '--json');
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  check(lastJson(r.stdout));
});

test('examples/byoh.asm: its top comment shows the output it prints', () => {
  const comment = readFileSync(ASM, 'utf8').split('\n').filter((l) => l.startsWith(';')).join('\n');
  for (const line of SERIAL.trimEnd().split('\n')) assert.ok(comment.includes(`;   ${line}`), `the comment shows '${line}'`);
});

test('examples/byoh.bin (--mode long) runs as its source does', () => {
  check(lastJson(cli('run', BIN, '--mode', 'long', '--hypervisor', 'none', '--json').stdout));
});

test('examples/byoh.asm: vtx\'s assembler and nasm reproduce the committed .bin byte for byte', (t) => {
  const r = assemble(readFileSync(ASM, 'utf8'), { file: ASM });
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(Buffer.from(r.bytes), readFileSync(BIN));
  if (spawnSync('nasm', ['-v']).status !== 0) { t.skip('nasm is not installed'); return; }
  const out = join(mkdtempSync(join(tmpdir(), 'vtx-byoh-')), 'byoh.bin');
  const n = spawnSync('nasm', ['-f', 'bin', '-o', out, ASM], { encoding: 'utf8' });
  assert.equal(n.status, 0, n.stderr);
  assert.deepEqual(readFileSync(out), readFileSync(BIN));
});
