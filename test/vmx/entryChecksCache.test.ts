/**
 * The VM-entry checks re-run only when a field they read changed (issue 4, "Speed"): epochs
 * unchanged → only the memory-dependent checks; only event-injection fields or the guest's RIP,
 * RSP, RFLAGS, interruptibility, activity state, pending debug exceptions changed → only the
 * checks that read them; anything else → everything, in order. The answers never depend on
 * the cache (every case of the other entryChecks*.test.ts files compares both paths).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entryCheckStats, invalidateEntryChecks, checkControlsAndHost, checkGuestState } from '../../src/vmx/entryChecks';
import { Vmcs } from '../../src/vmx/vmcs';
import { fieldIndex } from '../../src/vmx/fields';
import { makeFixture, guest, ctl } from './entryChecksFixture';

function delta(run: () => void) {
  const before = { ...entryCheckStats };
  run();
  const out: Record<string, number> = {};
  for (const k of Object.keys(before) as (keyof typeof entryCheckStats)[]) {
    const d = entryCheckStats[k] - before[k];
    if (d !== 0) out[k] = d;
  }
  return out;
}

test('cache: first entry runs every check, the next one none (no field written)', () => {
  const fx = makeFixture('64');
  assert.deepEqual(delta(() => assert.equal(fx.checkCached(), null)), { controlsHostFull: 1, guestFull: 1 });
  assert.deepEqual(delta(() => assert.equal(fx.checkCached(), null)), { controlsHostCached: 1, guestCached: 1 });
});

test('cache: a host advancing RIP (VMWRITE GUEST_RIP) re-runs only the RIP/RFLAGS and non-register checks', () => {
  const fx = makeFixture('64');
  fx.checkCached();
  for (let i = 0; i < 5; i++) {
    fx.set('GUEST_RIP', 0x1000 + 2 * i);
    assert.deepEqual(delta(() => assert.equal(fx.checkCached(), null)), { controlsHostCached: 1, guestPartial: 1 });
  }
});

test('cache: a partial re-run still finds a bad RIP', () => {
  const fx = makeFixture('64');
  fx.checkCached();
  fx.set('GUEST_RIP', 0x1234000000000000n);
  assert.deepEqual(fx.checkCached(), guest('26.3.1.4 guest RIP not canonical'));
  // and recovers once it is fixed
  fx.set('GUEST_RIP', 0x1000);
  assert.equal(fx.checkCached(), null);
});

test('cache: injecting an event re-runs only the injection checks', () => {
  const fx = makeFixture('64');
  fx.checkCached();
  fx.set('VM_ENTRY_INTERRUPTION_INFORMATION', 0x80000b0d); // #GP with error code
  assert.deepEqual(delta(() => assert.equal(fx.checkCached(), null)), { controlsHostPartial: 1, guestPartial: 1 });
  fx.set('VM_ENTRY_INTERRUPTION_INFORMATION', 0x8000030d); // #GP without its error code
  assert.deepEqual(fx.checkCached(), ctl('26.2.1.3 injection: error code missing'));
});

test('cache: a partial-path failure reports the first failing check in SDM order', () => {
  const fx = makeFixture('64');
  fx.checkCached();
  // Both the RFLAGS check (§26.3.1.4) and the interruptibility check (§26.3.1.5) fail: RFLAGS first.
  fx.set('GUEST_RFLAGS', 0x8002);
  fx.set('GUEST_INTERRUPTIBILITY_STATE', 4);
  assert.deepEqual(fx.checkCached(), guest('26.3.1.4 guest RFLAGS reserved bits'));
});

test('cache: changing RFLAGS.VM forces the segment checks', () => {
  const fx = makeFixture('32pae');
  fx.checkCached();
  fx.set('GUEST_RFLAGS', 0x20002);
  assert.deepEqual(delta(() => assert.deepEqual(fx.checkCached(), guest('26.3.1.2 guest CS base not selector * 16 (virtual-8086)'))),
    { controlsHostCached: 1, guestFull: 1 });
});

test('cache: a control change re-runs every check', () => {
  const fx = makeFixture('64');
  fx.checkCached();
  fx.set('EXCEPTION_BITMAP', 0x4000);
  assert.deepEqual(delta(() => fx.checkCached()), { controlsHostFull: 1, guestFull: 1 });
});

test('cache: a host-state change re-runs the §26.2 checks only', () => {
  const fx = makeFixture('64');
  fx.checkCached();
  fx.set('HOST_RSP', 0x9100);
  assert.deepEqual(delta(() => fx.checkCached()), { controlsHostFull: 1, guestCached: 1 });
});

test('cache: guest CR0.PE changes re-run the injection rules (they read it)', () => {
  const fx = makeFixture('real');
  fx.set('VM_ENTRY_INTERRUPTION_INFORMATION', 0x80000b0d); // #GP with error code: needs CR0.PE = 1
  fx.set('GUEST_CR0', 0x21);
  fx.set('GUEST_CS_SELECTOR', 0x08);
  fx.set('GUEST_CS_BASE', 0);
  assert.equal(fx.checkCached(), null);
  fx.set('GUEST_CR0', 0x20);
  assert.deepEqual(fx.checkCached(), ctl('26.2.1.3 injection: error code delivered where none is allowed'));
});

test('cache: the processor leaving IA-32e mode is noticed', () => {
  const fx = makeFixture('32pae');
  fx.checkCached();
  fx.cpu.efer &= ~0x500;
  assert.equal(checkControlsAndHost(fx.engine)?.check, '26.2.4 host address-space size outside IA-32e mode');
});

test('cache: kept per VMCS (switching the current VMCS does not mix results)', () => {
  const fx = makeFixture('64');
  const first = fx.vmcs;
  fx.checkCached();
  const second = new Vmcs(0x12000);
  second.lo.set(first.lo);
  second.hi.set(first.hi);
  second.write('GUEST_RIP', 0x1234000000000000n);
  fx.engine.current = second;
  assert.deepEqual(checkGuestState(fx.engine), guest('26.3.1.4 guest RIP not canonical'));
  fx.engine.current = first;
  assert.deepEqual(delta(() => fx.checkCached()), { controlsHostCached: 1, guestCached: 1 });
});

test('cache: invalidateEntryChecks forces a full run', () => {
  const fx = makeFixture('64');
  fx.checkCached();
  invalidateEntryChecks(fx.vmcs);
  assert.deepEqual(delta(() => fx.checkCached()), { controlsHostFull: 1, guestFull: 1 });
});

test('cache: entries that only move RIP stay on the partial path (speed is measured by npm run bench)', () => {
  const fx = makeFixture('64');
  const I_RIP = fieldIndex('GUEST_RIP');
  fx.checkCached();
  const d = delta(() => {
    for (let i = 0; i < 1000; i++) {
      fx.vmcs.set64(I_RIP, 0x1000 + (i & 0xff), 0);
      if (checkControlsAndHost(fx.engine) !== null || checkGuestState(fx.engine) !== null) throw new Error('failed');
    }
  });
  assert.deepEqual(d, { controlsHostCached: 1000, guestPartial: 1000 });
});

/** The cache starts afresh (the Vmcs counts writes per field: vmcs.ts fieldWrites). */
function counted(fx: ReturnType<typeof makeFixture>) {
  invalidateEntryChecks(fx.vmcs);
  return fx;
}

test('cache (per-field write counters): RIP writes take the partial path', () => {
  const fx = counted(makeFixture('64'));
  fx.checkCached();
  fx.set('GUEST_RIP', 0x2000);
  fx.set('GUEST_RSP', 0x7000);
  assert.deepEqual(delta(() => assert.equal(fx.checkCached(), null)), { controlsHostCached: 1, guestPartial: 1 });
  fx.set('GUEST_RIP', 0x1234000000000000n);
  assert.deepEqual(fx.checkCached(), guest('26.3.1.4 guest RIP not canonical'));
});

test('cache (per-field write counters): any other guest write runs everything', () => {
  const fx = counted(makeFixture('64'));
  fx.checkCached();
  fx.set('GUEST_RIP', 0x2000);
  fx.set('GUEST_CS_ACCESS_RIGHTS', 0xa09b); // same value, but a write the counters cannot see through
  assert.deepEqual(delta(() => assert.equal(fx.checkCached(), null)), { controlsHostCached: 1, guestFull: 1 });
  fx.set('GUEST_TR_ACCESS_RIGHTS', 0x83);
  assert.deepEqual(fx.checkCached(), guest('26.3.1.2 guest TR type'));
});

test('cache (per-field write counters): injection writes take the partial path', () => {
  const fx = counted(makeFixture('64'));
  fx.checkCached();
  fx.set('VM_ENTRY_INTERRUPTION_INFORMATION', 0x80000b0e);
  fx.set('VM_ENTRY_EXCEPTION_ERROR_CODE', 2);
  assert.deepEqual(delta(() => assert.equal(fx.checkCached(), null)), { controlsHostPartial: 1, guestPartial: 1 });
  fx.set('VM_ENTRY_EXCEPTION_ERROR_CODE', 0x10000);
  assert.deepEqual(fx.checkCached(), ctl('26.2.1.3 injection: error code bits 31:16'));
});

test('cache (per-field write counters): VMPTRLD (loadFrom) bumps epochs, not counters: full run', () => {
  const fx = counted(makeFixture('64'));
  fx.checkCached();
  for (let g = 0; g < 4; g++) fx.vmcs.writeEpoch[g]++;
  assert.deepEqual(delta(() => fx.checkCached()), { controlsHostFull: 1, guestFull: 1 });
});
