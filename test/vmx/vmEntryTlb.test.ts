/**
 * The TLB rules of VM transitions (SDM vol. 3C §26.3.2.5, §27.5.5, §28.3.3.3) as the
 * transitions apply them through ept.ts: with "enable VPID" = 1 VM entry and VM exit switch
 * between the guest's and the host's cached translations without invalidating either; with it 0
 * both run with VPID 0000H and every transition invalidates the linear and combined mappings.
 * Plus the MTF rule after injection (§25.5.2) and an injection that exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I, LAYOUT, code, vmx } from './vmExitKit';
import { eptUnit } from '../../src/vmx/ept';
import { handlerAddress } from '../../src/cli/benchVmxGuestTables';

test('VPID on: the guest runs with its VPID, the host gets VPID 0 back at the exit', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), vpid: 5 });
  assert.equal(h.vmlaunch().kind, 'entered');
  assert.equal(eptUnit(h.engine).tlb.currentVpid, 5);
  assert.equal(h.run().reason, 'vmexit');
  assert.equal(eptUnit(h.engine).tlb.currentVpid, 0);
});

test('VPID on: the host\'s cached translations survive a VM entry and exit (§28.3.3.3)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), vpid: 7 });
  const c = h.cpu;
  c.read8(0x2000, 0); // a host translation for page 2
  const slot = 2;
  const tagBefore = c.tlbRLo[slot];
  assert.notEqual(tagBefore, -1);
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(c.tlbRLo[slot], tagBefore);
});

test('VPID off: a VM entry invalidates the VPID-0 linear mappings (§26.3.2.5)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  const c = h.cpu;
  c.read8(0x2000, 0);
  assert.notEqual(c.tlbRLo[2], -1);
  assert.equal(h.vmlaunch().kind, 'entered');
  assert.equal(c.tlbRLo[2], -1);
});

test('VPID off: a VM exit invalidates them too (§27.5.5)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  assert.equal(h.launch().exit?.reason, 10);
  const c = h.cpu;
  for (let i = 0; i < c.tlbRLo.length; i++) assert.equal(c.tlbRLo[i], -1);
});

test('VPID on: guest translations survive VMRESUME after an exit (no flush)', () => {
  const load = [0x8b, 0x04, 0x25, 0x00, 0x00, 0x15, 0x00]; // mov eax, [0x150000]
  const h = vmx({ code: code(load, I.cpuid, I.cpuid, I.hlt), vpid: 3 });
  assert.equal(h.launch().exit?.reason, 10);
  h.skipInstruction();
  assert.equal(h.vmresume().kind, 'entered');
  const page = (0x150000 >>> 12) & (h.cpu.tlbRLo.length - 1);
  assert.notEqual(h.cpu.tlbRLo[page], -1, 'the guest data page is still cached for VPID 3');
  void LAYOUT;
});

test('MTF with an injected event: the MTF exit comes before the handler\'s first instruction (§25.5.2)', () => {
  const h = vmx({
    code: code(I.cpuid, I.hlt), controls: { proc: ['MONITOR_TRAP_FLAG'] },
    fields: { VM_ENTRY_INTERRUPTION_INFORMATION: 0x80000030, GUEST_RFLAGS: 0x202 },
  });
  const r = h.launch();
  assert.equal(r.exit?.reason, 37);
  assert.equal(r.exit?.guestRip, BigInt(handlerAddress(0x30)));
  assert.equal(r.exit?.idtInfo! >>> 31, 0);
});

test('an exit while delivering the injected event is reported by the next run, after "entered"', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_ENTRY_INTERRUPTION_INFORMATION: 0x80000b0d, VM_ENTRY_EXCEPTION_ERROR_CODE: 0, GUEST_IDTR_LIMIT: 0 } });
  const e = h.vmlaunch();
  assert.equal(e.kind, 'entered');
  assert.equal(h.cpu.nonRoot, false, 'the triple fault exited already');
  assert.equal(h.run().reason, 'vmexit');
  assert.equal(h.read32f('EXIT_REASON'), 2);
});
