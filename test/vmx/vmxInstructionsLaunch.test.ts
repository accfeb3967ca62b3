/**
 * VMLAUNCH/VMRESUME through a whole VM entry and exit (SDM vol. 3C §30.3, §24.11.3): the launch
 * state becomes "launched" only on a successful VMLAUNCH, VMLAUNCH of it is then VMfailValid(4),
 * VMRESUME works until VMCLEAR makes it clear again, and the successful outcome is one shared
 * object (the exit-heavy loop allocates nothing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, Instruction } from 'iced-x86';
import { Exit } from '../../src/vmx/exitReasons';
import { LAYOUT, vmx } from './harness';

const cpuidLoop = () => [Instruction.create(Code.Cpuid), Instruction.create(Code.Cpuid), Instruction.create(Code.Cpuid)];

test('VMLAUNCH enters the guest and sets the launch state to launched; the CPUID exit returns to the host', () => {
  const h = vmx({ code: cpuidLoop() });
  assert.equal(h.engine.current!.launched, false);
  const r = h.launch();
  assert.equal(r.entry.kind, 'entered');
  assert.equal(h.engine.current!.launched, true);
  assert.equal(r.exit?.basic, Exit.Cpuid);
  assert.equal(r.exit?.guestRip, BigInt(LAYOUT.GUEST_CODE));
  assert.equal(h.cpu.nonRoot, false);
});

test('After a VMLAUNCH, VMLAUNCH again is VMfailValid(4) and VMRESUME continues the guest', () => {
  const h = vmx({ code: cpuidLoop() });
  h.launch();
  const again = h.vmlaunch();
  assert.equal(again.kind === 'fail' && again.status.status === 'failValid' && again.status.error, 4);
  const r = h.skipAndResume();
  assert.equal(r.entry.kind, 'entered');
  assert.equal(r.exit?.basic, Exit.Cpuid);
  assert.equal(r.exit?.guestRip, BigInt(LAYOUT.GUEST_CODE + 2));
});

test('VMCLEAR after VMLAUNCH: VMRESUME is VMfailValid(5), VMLAUNCH works again', () => {
  const h = vmx({ code: cpuidLoop() });
  h.launch();
  const addr = h.engine.vmptrst();
  assert.equal(h.engine.vmclear(addr).status, 'succeed');
  assert.equal(h.engine.vmptrld(addr).status, 'succeed');
  const r = h.vmresume();
  assert.equal(r.kind === 'fail' && r.status.status === 'failValid' && r.status.error, 5);
  const l = h.launch();
  assert.equal(l.entry.kind, 'entered');
  assert.equal(l.exit?.basic, Exit.Cpuid);
});

test('A VMfailValid(7) VMLAUNCH leaves the launch state clear; fixing the control lets VMLAUNCH enter', () => {
  const h = vmx({ code: cpuidLoop() });
  const pin = h.read32f('PIN_BASED_VM_EXECUTION_CONTROLS');
  h.vmwrite('PIN_BASED_VM_EXECUTION_CONTROLS', pin | (1 << 7));
  const f = h.vmlaunch();
  assert.equal(f.kind, 'fail');
  assert.equal(h.engine.current!.launched, false);
  h.vmwrite('PIN_BASED_VM_EXECUTION_CONTROLS', pin);
  assert.equal(h.launch().entry.kind, 'entered');
});

test('VMREAD/VMWRITE of the guest state between exits: the host advances GUEST_RIP itself', () => {
  const h = vmx({ code: cpuidLoop() });
  h.launch();
  const e = h.engine;
  const rip = e.vmread64(0x681e);
  const len = e.vmread(0x440c);
  assert.equal(len, 2);
  assert.equal(e.vmwrite(0x681e, Number(rip) + 2 * len).status, 'succeed');
  const r = h.resume();
  assert.equal(r.exit?.guestRip, rip + 4n);
});

test('VMXOFF and VMXON between VMLAUNCH and VMRESUME: the written-back VMCS stays launched (no error 6)', () => {
  const h = vmx({ code: cpuidLoop() });
  h.launch();
  const addr = h.engine.vmptrst();
  assert.equal(h.engine.vmxoff().status, 'succeed');
  assert.equal(h.cpu.inVmxOperation, false);
  assert.equal(h.engine.vmxon(LAYOUT.VMXON).status, 'succeed');
  assert.equal(h.engine.vmptrld(addr).status, 'succeed');
  assert.equal(h.engine.current!.launched, true);
  const r = h.skipAndResume();
  assert.equal(r.entry.kind, 'entered');
  assert.equal(r.exit?.basic, Exit.Cpuid);
});

test('Successful entries return one shared outcome object (no allocation per VMRESUME)', () => {
  const h = vmx({ code: cpuidLoop() });
  const a = h.launch().entry;
  const b = h.skipAndResume().entry;
  assert.equal(a.kind, 'entered');
  assert.equal(a, b);
});
