/**
 * Monitor trap flag (exit 37, SDM vol. 3C §25.5.2, §26.5.2) and the VMX-preemption timer (exit
 * 52, §25.5.1, §26.7.4, §27.3.4) on the deterministic clock (IA32_VMX_MISC rate 0: one tick per
 * TSC increment, one TSC increment per retired instruction).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseNmi } from '../../src/x86/eventBoundary';
import { preemptionTimerNow } from '../../src/vmx/eventExits';
import { getStored, setStored } from '../../src/x86/msr';
import { CODE, FakePic, HANDLERS, kit } from './eventKit';

const H = (v: number) => HANDLERS + v * 0x10;
const P_MTF = 1 << 27;
const PIN_TIMER = 1 << 6, PIN_EXT = 1;
const X_SAVE_TIMER = 1 << 22;
const NOPS = Array(40).fill(0x90).concat([0xf4]);

// ---- MTF --------------------------------------------------------------------------------------
test('MTF: exit after the first instruction, RIP at the next one', () => {
  const k = kit({ code: [0x48, 0x31, 0xc0, 0x90, 0xf4], proc: P_MTF }); // xor rax, rax; nop; hlt
  k.enter();
  assert.equal(k.run().reason, 'vmexit');
  const e = k.last();
  assert.deepEqual([e.reason, e.rip, e.qual, e.intInfo, e.idtInfo], [37, BigInt(CODE + 3), 0n, 0, 0]);
});

test('MTF single-steps: each resume runs exactly one instruction', () => {
  const k = kit({ code: [0x90, 0x48, 0xff, 0xc0, 0x90, 0xf4], proc: P_MTF });
  const rips: number[] = [];
  for (let i = 0; i < 3; i++) {
    k.cpu.setRip(i === 0 ? CODE : Number(k.last().rip));
    k.enter();
    k.run();
    rips.push(Number(k.last().rip) - CODE);
  }
  assert.deepEqual(rips, [1, 4, 5]);
});

test('MTF after a vectoring entry: pending before the first instruction', () => {
  const k = kit({ code: [0x90, 0xf4], proc: P_MTF });
  k.enter(true);
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [37, BigInt(CODE)]);
});

test('a pending MTF VM exit injected (type 7, vector 0) exits at once even with the control 0', () => {
  const k = kit({ code: [0x90, 0xf4], proc: 0 });
  k.enter(false, true);
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [37, BigInt(CODE)]);
});

test('MTF when the first instruction faults: the exit follows delivery of the fault (RIP = handler)', () => {
  const k = kit({ code: [0x0f, 0x0b], proc: P_MTF });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [37, BigInt(H(6))]);
});

test('MTF with INT n: the exit follows the delivery of the software interrupt', () => {
  const k = kit({ code: [0xcd, 0x30], proc: P_MTF });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [37, BigInt(H(0x30))]);
});

test('MTF with HLT: the exit comes from the HLT activity state', () => {
  const k = kit({ code: [0xf4, 0x90], proc: P_MTF });
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.rip, e.activity], [37, BigInt(CODE + 1), 1]);
});

test('MTF with an interrupt delivered before the first instruction: exit at the handler', () => {
  const k = kit({ code: [0x90, 0xf4], proc: P_MTF, rflags: 0x202 });
  k.cpu.intr = new FakePic(0x21);
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [37, BigInt(H(0x21))]);
});

test('an exception exit on the first instruction takes the place of the MTF exit', () => {
  const k = kit({ code: [0x0f, 0x0b], proc: P_MTF, exceptionBitmap: 1 << 6 });
  k.enter();
  k.run();
  assert.equal(k.last().reason, 0);
  assert.equal(k.exits.length, 1);
});

test('MTF has priority over a pending NMI that would be delivered', () => {
  const k = kit({ code: [0x90, 0x90, 0xf4], proc: P_MTF });
  k.enter();
  k.run(1);
  raiseNmi(k.cpu);
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [37, BigInt(CODE + 1)]);
  assert.equal(k.cpu.nmiPending, true, 'the NMI is still pending');
});

// ---- preemption timer --------------------------------------------------------------------------
test('timer value 5: exit 52 after exactly five instructions', () => {
  const k = kit({ code: NOPS, pin: PIN_TIMER, fields: { VMX_PREEMPTION_TIMER_VALUE: 5 } });
  k.enter();
  const start = k.cpu.icount;
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.rip, e.qual], [52, BigInt(CODE + 5), 0n]);
  assert.equal(k.cpu.icount - start, 6, 'five instructions and the exit');
});

test('timer value 0: exit before the first instruction', () => {
  const k = kit({ code: NOPS, pin: PIN_TIMER, fields: { VMX_PREEMPTION_TIMER_VALUE: 0 } });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [52, BigInt(CODE)]);
});

test('timer expiring in the middle of a long block exits at the exact boundary', () => {
  const k = kit({ code: NOPS, pin: PIN_TIMER, fields: { VMX_PREEMPTION_TIMER_VALUE: 17 } });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [52, BigInt(CODE + 17)]);
});

test('"save VMX-preemption timer value": 0 after a timer exit, the remaining count after another exit', () => {
  let k = kit({ code: NOPS, pin: PIN_TIMER, exitCtls: X_SAVE_TIMER, fields: { VMX_PREEMPTION_TIMER_VALUE: 3 } });
  k.enter();
  k.run();
  assert.equal(k.field('VMX_PREEMPTION_TIMER_VALUE'), 0n);
  // #UD exit after two NOPs with the timer at 100: 98 left.
  k = kit({ code: [0x90, 0x90, 0x0f, 0x0b], pin: PIN_TIMER, exitCtls: X_SAVE_TIMER, exceptionBitmap: 1 << 6, fields: { VMX_PREEMPTION_TIMER_VALUE: 100 } });
  k.enter();
  k.run();
  assert.equal(k.last().reason, 0);
  assert.equal(k.field('VMX_PREEMPTION_TIMER_VALUE'), 98n);
});

test('without the save control the field keeps the value loaded at entry', () => {
  const k = kit({ code: NOPS, pin: PIN_TIMER, fields: { VMX_PREEMPTION_TIMER_VALUE: 4 } });
  k.enter();
  k.run();
  assert.equal(k.last().reason, 52);
  assert.equal(k.field('VMX_PREEMPTION_TIMER_VALUE'), 4n);
});

test('timer counts TSC changes of bit X = IA32_VMX_MISC[4:0]', () => {
  const k = kit({ code: NOPS, pin: PIN_TIMER, fields: { VMX_PREEMPTION_TIMER_VALUE: 3 } });
  // Rate 2: one tick each time TSC bit 2 changes (every 4 instructions from a 4-aligned TSC).
  setStored(k.cpu, 0x485, (getStored(k.cpu, 0x485) & ~0x1f) | 2, 0);
  k.cpu.icount = 8;
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [52, BigInt(CODE + 12)]);
});

test('the timer counts in HLT: a platform that sleeps (advances the TSC) gets exit 52 from HLT', () => {
  const k = kit({ code: [0x90, 0xf4], pin: PIN_TIMER, fields: { VMX_PREEMPTION_TIMER_VALUE: 1000 } });
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(preemptionTimerNow(k.engine), 998);
  k.cpu.tscOffset += 5000;
  assert.equal(k.run().reason, 'vmexit');
  assert.deepEqual([k.last().reason, k.last().activity, k.last().rip], [52, 1, BigInt(CODE + 2)]);
});

test('priority: the timer exit comes before an external interrupt exit on the same boundary', () => {
  const k = kit({ code: NOPS, pin: PIN_TIMER | PIN_EXT, fields: { VMX_PREEMPTION_TIMER_VALUE: 0 } });
  k.cpu.intr = new FakePic(0x40);
  k.enter();
  k.run();
  assert.equal(k.last().reason, 52);
});
