/**
 * The VMCS panel's marks in bare VT-x mode (src/debugger/engine/guestVmcsWrites.ts): a field is
 * marked when the guest hypervisor wrote it (VMWRITE) since the previous VM exit — also when it
 * wrote the value the field already held — and never for a different VMCS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Vmcs } from '../../src/vmx/vmcs';
import { GuestVmcsWrites } from '../../src/debugger/engine/guestVmcsWrites';

test('a VMWRITE since the exit marks its field, with a new value or the same one; unwritten fields are not marked', () => {
  const v = new Vmcs(0x14000);
  v.write('GUEST_RIP', 0x1000);
  v.write('GUEST_RSP', 0x8000);
  v.write('GUEST_CR3', 0x5000);
  const w = new GuestVmcsWrites();
  w.atExit(v);
  v.write('GUEST_RIP', 0x1002); // advanced past the exiting instruction
  v.write('GUEST_RSP', 0x8000); // rewritten with the value it held
  const b = w.baseline(v, false);
  assert.deepEqual([...b.written].sort(), ['GUEST_RIP', 'GUEST_RSP']);
  assert.equal(b.values.get('GUEST_RIP'), 0x1000n, 'the value at the exit, to show as previous');
  assert.equal(b.values.get('GUEST_RSP'), 0x8000n);
  assert.equal(b.values.get('GUEST_CR3'), 0x5000n);
  // Stopped on the next exit: compared with the exit before it.
  w.atExit(v);
  assert.deepEqual([...w.baseline(v, true).written].sort(), ['GUEST_RIP', 'GUEST_RSP']);
  assert.deepEqual([...w.baseline(v, false).written], []);
});

test('another current VMCS, or no exit yet: nothing is marked', () => {
  const w = new GuestVmcsWrites();
  const a = new Vmcs(0x14000);
  assert.equal(w.baseline(a, false).written.size, 0);
  w.atExit(a);
  const other = new Vmcs(0x15000);
  other.write('GUEST_RIP', 1);
  assert.equal(w.baseline(other, false).written.size, 0);
  assert.equal(w.baseline(null, false).written.size, 0);
});
