/**
 * The entry checks through the engine's VMLAUNCH/VMRESUME and the shared harness (test/vmx/
 * harness.ts): the harness's setups pass every check; a bad control gives VMfailValid 7 and a
 * bad host field VMfailValid 8 (SDM vol. 3C §26.2, §30.3 VMLAUNCH), with the VM-instruction
 * error field set; a bad guest field gives a VM-entry failure, exit reason 33 | 0x80000000 and
 * the §26.8 qualification (once vmEntry.ts is present).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vmx } from './harness';
import { checkAllUncached } from '../../src/vmx/entryChecks';

for (const mode of ['long', 'protected', 'real'] as const) {
  test(`engine: the harness's ${mode}-mode setup passes every entry check`, () => {
    const h = vmx({ mode, code: [0xf4] });
    assert.equal(checkAllUncached(h.engine), null);
  });
}

test('engine: the harness with EPT, VPID, I/O and MSR bitmaps passes every entry check', () => {
  const h = vmx({ mode: 'long', ept: true, vpid: 3, controls: { proc: ['USE_IO_BITMAPS', 'USE_MSR_BITMAPS', 'USE_TPR_SHADOW'] }, code: [0xf4] });
  assert.equal(checkAllUncached(h.engine), null);
});

test('engine: VMLAUNCH with a CR3-target count of 5 fails with VMfailValid 7', () => {
  const h = vmx({ code: [0xf4], fields: { CR3_TARGET_COUNT: 5 } });
  const r = h.launch();
  assert.equal(r.entry.kind, 'fail');
  if (r.entry.kind !== 'fail') return;
  assert.deepEqual(r.entry.status, { status: 'failValid', error: 7 });
  assert.equal(r.entry.check, '26.2.1.1 CR3-target count too large');
  assert.equal(h.read32f('VM_INSTRUCTION_ERROR'), 7);
  assert.equal(h.cpu.nonRoot, false);
});

test('engine: VMLAUNCH with a host TR selector of 0 fails with VMfailValid 8', () => {
  const h = vmx({ code: [0xf4], fields: { HOST_TR_SELECTOR: 0 } });
  const r = h.launch();
  assert.equal(r.entry.kind, 'fail');
  if (r.entry.kind !== 'fail') return;
  assert.deepEqual(r.entry.status, { status: 'failValid', error: 8 });
  assert.equal(r.entry.check, '26.2.3 host TR selector is 0');
  assert.equal(h.read32f('VM_INSTRUCTION_ERROR'), 8);
});

test('engine: a control fixed after a VMfailValid 7 lets the next VMLAUNCH through the §26.2 checks', () => {
  const h = vmx({ code: [0xf4], fields: { CR3_TARGET_COUNT: 5 } });
  assert.equal(h.launch().entry.kind, 'fail');
  h.write('CR3_TARGET_COUNT', 4);
  assert.equal(checkAllUncached(h.engine), null);
});

/** vmEntry.ts (TRANSITIONS) performs the guest checks; skip until it is there. */
function enterGuestReady(): boolean {
  const h = vmx({ code: [0xf4] });
  try {
    h.launch(10);
    return true;
  } catch (e) {
    return !String(e).includes('not written yet');
  }
}

const guestCases: Array<[string, Record<string, number | bigint>, number, string]> = [
  ['bad guest RFLAGS', { GUEST_RFLAGS: 0 }, 0, '26.3.1.4 guest RFLAGS reserved bits'],
  ['bad guest TR type', { GUEST_TR_ACCESS_RIGHTS: 0x83 }, 0, '26.3.1.2 guest TR type'],
  ['bad VMCS link pointer', { VMCS_LINK_POINTER: 0x1001 }, 4, '26.3.1.5 VMCS link pointer address'],
  ['NMI injected under STI blocking', { GUEST_RFLAGS: 0x202, GUEST_INTERRUPTIBILITY_STATE: 1, VM_ENTRY_INTERRUPTION_INFORMATION: 0x80000202 }, 3, '26.3.1.5 NMI injected under STI blocking'],
];
for (const [name, fields, qual, check] of guestCases) {
  test(`engine: VMLAUNCH with a ${name}: VM-entry failure, reason 33, qualification ${qual}`, (t) => {
    if (!enterGuestReady()) {
      t.skip('vmEntry.ts (enterGuest) not written yet');
      return;
    }
    const h = vmx({ code: [0xf4], fields });
    const r = h.launch();
    assert.equal(r.entry.kind, 'exitOnEntry');
    if (r.entry.kind !== 'exitOnEntry') return;
    assert.equal(r.entry.check, check);
    assert.equal(r.exit!.reason >>> 0, 0x80000021);
    assert.equal(r.exit!.qualification, BigInt(qual));
  });
}
