import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/cli/args';
import { prepareGuest, resolveGuestOptions, runGuest } from '../../src/cli/runGuest';
import { formatSummary, summarize } from '../../src/cli/summary';

// The run and report logic the CLI and the VS Code command share.

test('resolveGuestOptions: documented defaults per mode', () => {
  const long = resolveGuestOptions(16, {});
  assert.deepEqual(long, {
    mode: 'long', loadAddress: 0x1000, entry: 0x1000, stack: 64 << 20, memorySize: 64 << 20, maxInstructions: 100_000_000,
  });
  const real = resolveGuestOptions(16, { mode: 'real' });
  assert.equal(real.loadAddress, 0x7c00);
  assert.equal(real.entry, 0x7c00);
  assert.equal(real.stack, 0x7c00);
  const prot = resolveGuestOptions(16, { mode: 'protected', memorySize: 8 * 2 ** 30 });
  assert.equal(prot.stack, 2 ** 32); // ESP = 0: the first push writes just below 4 GiB
  assert.equal(resolveGuestOptions(16, { loadAddress: 0x5000 }).entry, 0x5000);
});

test('resolveGuestOptions: impossible settings are usage errors', () => {
  assert.throws(() => resolveGuestOptions(8192, { memorySize: 8192 }), UsageError);
  assert.throws(() => resolveGuestOptions(1, { memorySize: 100 }), /too small/);
  assert.throws(() => resolveGuestOptions(1, { mode: 'protected', entry: 2 ** 32, memorySize: 2 ** 33 }), /4 GiB/);
});

test('prepareGuest: ESP is 0 in protected mode with 4 GiB of RAM or more', () => {
  // On the machine directly: the processor is in the start state.
  const { cpu } = prepareGuest(Uint8Array.of(0xf4), { mode: 'protected', memorySize: 2 ** 33, hypervisor: 'none' });
  assert.equal(cpu.getReg64(4), 0n);
  assert.equal(cpu.bitness, 32);
  // Under the hypervisor the start state is in the VMCS (the processor is the host).
  const hv = prepareGuest(Uint8Array.of(0xf4), { mode: 'protected', memorySize: 2 ** 33 });
  assert.equal(hv.vmm!.vcpu.v.read('GUEST_RSP'), 0n);
  assert.equal(hv.vmm!.vcpu.v.read('GUEST_CS_ACCESS_RIGHTS') & 0x4000n, 0x4000n);
});

test('summarize + formatSummary: a halted run', () => {
  const run = runGuest(Uint8Array.of(0xb8, 0x2a, 0, 0, 0, 0xf4), { mode: 'protected' }); // mov eax, 42 / hlt
  const s = summarize(run);
  assert.equal(s.stopReason, 'hlt');
  assert.equal(s.instructions, 2);
  assert.equal(s.registers.rax, '0x2a');
  assert.equal(s.registers.rip, '0x1006');
  assert.equal(s.next.address, '0x1006');
  assert.equal(s.imageSize, 6);
  assert.ok(run.seconds >= 0);
  const text = formatSummary(s);
  assert.match(text, /^stop: +hlt \(the guest executed HLT\)$/m);
  assert.match(text, /eax 0x0000002a/);
  assert.doesNotMatch(text, /^exception:/m);
  assert.doesNotMatch(text, /r8 /); // no r8..r15 outside long mode
});

test('summarize: RIP outside RAM is reported, not thrown', () => {
  // jmp to 0x100000 (beyond 64 KiB of RAM): the fetch there reads no RAM.
  const run = runGuest(Uint8Array.of(0xe9, 0xfb, 0xef, 0x0f, 0x00), { memorySize: 0x10000 });
  const s = summarize(run);
  assert.equal(s.registers.rip, '0x100000');
  assert.ok(formatSummary(s).length > 0);
});
