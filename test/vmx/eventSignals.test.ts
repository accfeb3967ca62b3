/**
 * INIT (exit 3), SIPI (exit 4), the activity states HLT / shutdown / wait-for-SIPI and the
 * events they block (SDM vol. 3C §25.2, §26.7.2, §27.1), task-switch exits (9, §25.4.2,
 * §27.2.1 table 27-3) and VM-entry event injection through injectEvent (§26.6) with the exits
 * delivery can cause.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mnemonic } from 'iced-x86';
import { raiseNmi } from '../../src/x86/eventBoundary';
import { VM_EXIT_DEFERRED } from '../../src/x86/vmxEventHooks';
import type { DecodedInsn } from '../../src/x86/decoded';
import { injectEvent, raiseInit, raiseSipi } from '../../src/vmx/eventExits';
import { CODE, FakePic, HANDLERS, info, kit } from './eventKit';

const H = (v: number) => HANDLERS + v * 0x10;
const PIN_EXT = 1, PIN_NMI = 1 << 3, PIN_TIMER = 1 << 6;
const X_ACK = 1 << 15;
const NOPS = [0x90, 0x90, 0x90, 0xf4];

test('INIT in non-root operation: exit 3 at the next boundary, no state changed', () => {
  const k = kit({ code: NOPS });
  k.enter();
  k.cpu.setReg64(0, 0x1234n);
  raiseInit(k.engine);
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.qual, e.rip, e.intInfo], [3, 0n, BigInt(CODE), 0]);
  assert.equal(k.cpu.getReg64(0), 0x1234n);
});

test('INIT raised in VMX root operation is held and exits right after the next VM entry', () => {
  const k = kit({ code: NOPS });
  raiseInit(k.engine);
  k.cpu.eventPending = false;
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [3, BigInt(CODE)]);
});

test('wait-for-SIPI: INIT, NMI, external interrupts and the timer are blocked; a SIPI exits with its vector', () => {
  const k = kit({ code: NOPS, pin: PIN_EXT | PIN_NMI | PIN_TIMER, exitCtls: X_ACK, fields: { GUEST_ACTIVITY_STATE: 3, VMX_PREEMPTION_TIMER_VALUE: 0 } });
  const pic = new FakePic(0x44);
  k.cpu.intr = pic;
  k.enter();
  raiseInit(k.engine);
  raiseNmi(k.cpu);
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.exits.length, 0);
  raiseSipi(k.engine, 0x9a);
  k.run();
  // The held INIT is blocked in wait-for-SIPI; the SIPI exits.
  const e = k.last();
  assert.deepEqual([e.reason, e.qual, e.activity], [4, 0x9an, 3]);
  assert.deepEqual(pic.acked, []);
});

test('a SIPI outside the wait-for-SIPI state is discarded', () => {
  const k = kit({ code: NOPS });
  k.enter();
  raiseSipi(k.engine, 0x10);
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.exits.length, 0);
});

test('HLT activity at entry: the guest waits; an interrupt (IF = 1) wakes it through the IDT', () => {
  const k = kit({ code: NOPS, rflags: 0x202, fields: { GUEST_ACTIVITY_STATE: 1 } });
  k.enter();
  assert.equal(k.cpu.halted, true);
  assert.equal(k.run().reason, 'hlt');
  const pic = new FakePic(0x21);
  k.cpu.intr = pic;
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(0x21) + 1);
  assert.equal(Number(k.env.r64(k.env.rsp())), CODE, 'the return address is the guest RIP');
});

test('shutdown activity: external-interrupt exiting is blocked, NMI exiting still exits (activity 2 saved)', () => {
  const k = kit({ code: NOPS, pin: PIN_EXT | PIN_NMI, fields: { GUEST_ACTIVITY_STATE: 2 } });
  k.cpu.intr = new FakePic(0x44);
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.exits.length, 0);
  raiseNmi(k.cpu);
  k.run();
  assert.deepEqual([k.last().reason, k.last().activity, k.last().intInfo], [0, 2, info(2, 2)]);
});

test('shutdown activity: an NMI without NMI exiting is delivered and the guest becomes active', () => {
  const k = kit({ code: NOPS, fields: { GUEST_ACTIVITY_STATE: 2 } });
  k.enter();
  raiseNmi(k.cpu);
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(2) + 1);
  k.engine.exceptionBitmap = 1 << 6;
  k.env.code(H(2) + 1, [0x0f, 0x0b]);
  k.cpu.halted = false;
  k.run();
  assert.deepEqual([k.last().reason, k.last().activity], [0, 0]);
});

test('the timer wakes a guest in the shutdown state', () => {
  const k = kit({ code: NOPS, pin: PIN_TIMER, fields: { GUEST_ACTIVITY_STATE: 2, VMX_PREEMPTION_TIMER_VALUE: 0 } });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().activity], [52, 2]);
});

// ---- task switches (hook level; the call site lives in taskSwitch.ts) ------------------------
function fakeInsn(mnemonic: number, ip: number, length: number): DecodedInsn {
  return { mnemonic, ipLo: ip, ipHi: 0, length } as unknown as DecodedInsn;
}

test('task switch by JMP: deferred, then exit 9 with selector and source 2, RIP and length of the JMP', () => {
  const k = kit({ mode: 'protected' });
  k.enter();
  assert.throws(() => k.cpu.vmxEvents!.taskSwitch(k.cpu, 0x38, 2), (x) => x === VM_EXIT_DEFERRED);
  k.cpu.vmxEvents!.completeDeferred(k.cpu, fakeInsn(Mnemonic.Jmp, 0x1234, 7));
  assert.equal(k.cpu.exitTaken, true);
  assert.equal(k.field('EXIT_REASON'), 9n);
  assert.equal(k.field('EXIT_QUALIFICATION'), BigInt((0x38 | (2 << 30)) >>> 0));
  assert.equal(k.field('VM_EXIT_INSTRUCTION_LENGTH'), 7n);
  assert.equal(k.field('GUEST_RIP'), 0x1234n);
  assert.equal(k.field('IDT_VECTORING_INFORMATION'), 0n);
});

test('task switch by CALL (source 0) and IRET (source 1) encode their sources', () => {
  for (const [src, m] of [[0, Mnemonic.Call], [1, Mnemonic.Iretd]] as const) {
    const k = kit({ mode: 'protected' });
    k.enter();
    assert.throws(() => k.cpu.vmxEvents!.taskSwitch(k.cpu, 0x40, src), (x) => x === VM_EXIT_DEFERRED);
    k.cpu.vmxEvents!.completeDeferred(k.cpu, fakeInsn(m, 0x2000, 1));
    assert.equal(k.field('EXIT_QUALIFICATION'), BigInt((0x40 | (src << 30)) >>> 0));
  }
});

// ---- injection (§26.6) --------------------------------------------------------------------------
test('injected #GP(0x10) whose gate is missing: #NP exits (bit 11) with the injected event as vectoring', () => {
  const k = kit({ code: NOPS, exceptionBitmap: 1 << 11 });
  k.env.gate(13, { present: false });
  k.enter(true);
  assert.equal(injectEvent(k.engine, 3, 13, 0x10, 0), true);
  assert.equal(k.run().reason, 'vmexit', 'the run reports the exit taken during entry');
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.intErr, e.idtInfo, e.idtErr], [0, info(11, 3, true), 13 * 8 + 3, info(13, 3, true), 0x10]);
});

test('injected software interrupt (type 4, length 2): delivered with the return address past the instruction', () => {
  const k = kit({ code: [0xcd, 0x30, 0xf4] });
  k.enter(true);
  assert.equal(injectEvent(k.engine, 4, 0x30, undefined, 2), false);
  assert.equal(k.rip(), H(0x30));
  assert.equal(Number(k.env.r64(k.env.rsp())), CODE + 2);
});

test('injected NMI sets NMI blocking and enters the NMI handler', () => {
  const k = kit({ code: NOPS });
  k.enter(true);
  injectEvent(k.engine, 2, 2, undefined, 0);
  assert.equal(k.cpu.nmiBlocked, true);
  assert.equal(k.rip(), H(2));
});

test('injected INT3 (type 6) at CPL 3 through a DPL-0 gate: #GP exit with vectoring type 6 and the length', () => {
  const k = kit({ code: NOPS, exceptionBitmap: 1 << 13 });
  k.env.toUser();
  k.enter(true);
  injectEvent(k.engine, 6, 3, undefined, 1);
  const e = k.vmcs;
  assert.equal(Number(e.read('VM_EXIT_INTERRUPTION_INFORMATION')), info(13, 3, true));
  assert.equal(Number(e.read('IDT_VECTORING_INFORMATION')), info(3, 6));
  assert.equal(e.read('VM_EXIT_INSTRUCTION_LENGTH'), 1n);
});

test('injected privileged software exception (INT1, type 5) skips the gate DPL check', () => {
  const k = kit({ code: NOPS });
  k.env.toUser();
  k.enter(true);
  assert.equal(injectEvent(k.engine, 5, 1, undefined, 1), false);
  assert.equal(k.rip(), H(1));
});

test('injected external interrupt wakes a guest entered in HLT', () => {
  const k = kit({ code: NOPS, fields: { GUEST_ACTIVITY_STATE: 1 } });
  k.enter(true);
  injectEvent(k.engine, 0, 0x21, undefined, 0);
  assert.equal(k.cpu.halted, false);
  assert.equal(k.rip(), H(0x21));
});

test('an injected exception ignores the exception bitmap (§26.6.1.2); a fault during its delivery does not', () => {
  const k = kit({ code: NOPS, exceptionBitmap: (1 << 13) | (1 << 11) });
  k.enter(true);
  assert.equal(injectEvent(k.engine, 3, 13, 0, 0), false);
  assert.equal(k.rip(), H(13));
  const k2 = kit({ code: NOPS, exceptionBitmap: (1 << 13) | (1 << 11) });
  k2.env.gate(13, { present: false });
  k2.enter(true);
  assert.equal(injectEvent(k2.engine, 3, 13, 0, 0), true);
  assert.equal(Number(k2.field('VM_EXIT_INTERRUPTION_INFORMATION')), info(11, 3, true));
});

test('injected INT3 (type 6) with bitmap bit 3 is delivered, not exited', () => {
  const k = kit({ code: NOPS, exceptionBitmap: 1 << 3 });
  k.enter(true);
  assert.equal(injectEvent(k.engine, 6, 3, undefined, 1), false);
  assert.equal(k.rip(), H(3));
});
