/**
 * The exit-heavy benchmark (src/cli/benchVmx.ts): its guest, its verified round trips, and the
 * `vtx bench --vmx --json` output with exitsPerSecond.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder, DecoderOptions, Mnemonic } from 'iced-x86';
import { roundTrips, vmxBenchGuest, vmxBenchMachine } from '../../src/cli/benchVmx';
import { LAYOUT } from '../../src/cli/benchVmxSetup';
import { cli } from '../cli/helpers';
import { vmx } from './harness';

function probeLaunch(): boolean {
  try {
    vmx().vmlaunch();
    return true;
  } catch (e) {
    if (/not written yet|not implemented/.test((e as Error).message)) return false;
    throw e;
  }
}
const skip = probeLaunch() ? false : 'VM entry (vmEntry.ts) not there yet';

test('bench guest: xor eax,eax; cpuid; add r13,rbx; inc r12; jmp back to the start', () => {
  const code = vmxBenchGuest();
  const d = new Decoder(64, code, DecoderOptions.None);
  d.ip = BigInt(LAYOUT.GUEST_CODE);
  const m: Mnemonic[] = [];
  let last = 0n;
  while (d.canDecode) {
    const i = d.decode();
    m.push(i.mnemonic);
    last = i.nearBranchTarget;
    i.free();
  }
  d.free();
  assert.deepEqual(m, [Mnemonic.Xor, Mnemonic.Cpuid, Mnemonic.Add, Mnemonic.Inc, Mnemonic.Jmp]);
  assert.equal(last, BigInt(LAYOUT.GUEST_CODE));
});

test('bench round trips: every exit is CPUID, the guest sees every answer (R12, R13 checked)', { skip }, () => {
  const m = vmxBenchMachine();
  roundTrips(m, 1000, 0); // throws BenchFailure on any difference
  roundTrips(m, 70000, 1000); // past the 16-bit wrap of the EBX answers
  assert.equal(m.cpu.getReg64(12), 71000n);
  assert.equal(m.cpu.nonRoot, false);
});

test('bench round trips: a wrong answer is caught', { skip }, () => {
  const m = vmxBenchMachine();
  roundTrips(m, 10, 0);
  m.cpu.setReg64(13, 5n);
  assert.throws(() => roundTrips(m, 10, 10), /R13=/);
});

test('vtx bench --vmx --json prints exitsPerSecond', { skip }, () => {
  const r = cli('bench', '--vmx', '--seconds', '0', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  assert.equal(j.benchmark, 'vmx');
  assert.equal(typeof j.exitsPerSecond, 'number');
  assert.ok((j.exitsPerSecond as number) > 0);
  assert.ok((j.exits as number) >= 20000);
  assert.equal(typeof j.exitsPerCpuSecond, 'number');
});

test('vtx bench --vmx prints VM exits per second', { skip }, () => {
  const r = cli('bench', '--vmx', '--seconds', '0');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^vtx bench --vmx: VM exits: \d+ exits\/s .* \d+ per CPU-second\)$/);
});
