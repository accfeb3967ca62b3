/**
 * Interrupt window (7), NMI window (8), NMI exiting, virtual NMIs, external-interrupt exiting
 * with and without "acknowledge interrupt on exit" (SDM vol. 3C §25.2, §25.4.1, §27.2.2), and
 * their priorities on one instruction boundary (§25.2, vol. 3A table 6-2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseNmi } from '../../src/x86/eventBoundary';
import { CODE, FakePic, HANDLERS, info, kit } from './eventKit';

const H = (v: number) => HANDLERS + v * 0x10;
const IF = 0x200;
const PIN_EXT = 1, PIN_NMI = 1 << 3, PIN_VNMI = 1 << 5;
const P_INTWIN = 1 << 2, P_NMIWIN = 1 << 22;
const X_ACK = 1 << 15;
const NOPS = [0x90, 0x90, 0x90, 0x90, 0xf4];

test('interrupt window open at entry (IF = 1, no blocking): exit 7 before the first instruction', () => {
  const k = kit({ code: NOPS, proc: P_INTWIN, rflags: 0x202 });
  k.enter();
  assert.equal(k.run().reason, 'vmexit');
  const e = k.last();
  assert.deepEqual([e.reason, e.rip, e.qual, e.intInfo, e.len], [7, BigInt(CODE), 0n, 0, 0]);
  assert.equal(k.cpu.icount, 1, 'no guest instruction retired (the exit counts one unit)');
});

test('interrupt window after STI: the instruction in the STI shadow runs first', () => {
  const k = kit({ code: [0x90, 0xfb, 0x90, 0x90, 0xf4], proc: P_INTWIN, rflags: 0x2 });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [7, BigInt(CODE + 3)]);
});

test('interrupt window opened by POPF in the middle of a block exits right after the POPF', () => {
  // push 0x202; popfq; nop; nop; hlt
  const k = kit({ code: [0x68, 0x02, 0x02, 0x00, 0x00, 0x9d, 0x90, 0x90, 0xf4], proc: P_INTWIN, rflags: 0x2 });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [7, BigInt(CODE + 6)]);
});

test('interrupt window with IF = 0 never opens: the guest runs to HLT', () => {
  const k = kit({ code: NOPS, proc: P_INTWIN, rflags: 0x2 });
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.exits.length, 0);
});

test('interrupt window wakes a guest in HLT with IF = 1 (activity HLT saved)', () => {
  const k = kit({ code: NOPS, proc: 0, rflags: 0x202 });
  k.enter();
  k.vmcs.write('GUEST_ACTIVITY_STATE', 1);
  k.enter();
  assert.equal(k.cpu.halted, true);
  k.engine.proc = P_INTWIN;
  k.cpu.eventPending = true;
  k.run();
  assert.deepEqual([k.last().reason, k.last().activity], [7, 1]);
  assert.equal(k.cpu.halted, false, 'the host runs');
});

test('NMI window: exits at once when there is no virtual-NMI blocking', () => {
  const k = kit({ code: NOPS, pin: PIN_NMI | PIN_VNMI, proc: P_NMIWIN });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [8, BigInt(CODE)]);
});

test('NMI window: virtual-NMI blocking holds it until IRET removes the blocking', () => {
  // Build an IRETQ frame to CODE+0x20 (nop; hlt): SS, RSP, RFLAGS, CS, RIP.
  const k = kit({ pin: PIN_NMI | PIN_VNMI, proc: P_NMIWIN });
  const sp = 0x7f00;
  const frame = [CODE + 0x20, 0x08, 0x2, 0x8000, 0x10];
  frame.forEach((v, i) => { k.env.w32(sp + i * 8, v); k.env.w32(sp + i * 8 + 4, 0); });
  k.env.code(CODE, [0x90, 0x90, 0x48, 0xcf]); // nop; nop; iretq
  k.env.code(CODE + 0x20, [0x90, 0xf4]);
  k.cpu.setReg64(4, sp);
  k.cpu.nmiBlocked = true;
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [8, BigInt(CODE + 0x20)]);
});

test('NMI window is blocked by MOV SS / STI blocking for one instruction', () => {
  const k = kit({ code: NOPS, pin: PIN_NMI | PIN_VNMI, proc: P_NMIWIN });
  k.cpu.interruptShadow = true;
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [8, BigInt(CODE + 1)]);
});

test('NMI exiting: an NMI exits with interruption type 2 vector 2; NMIs are blocked after the exit', () => {
  const k = kit({ code: NOPS, pin: PIN_NMI, rflags: 0x2 });
  k.enter();
  raiseNmi(k.cpu);
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.qual, e.rip], [0, info(2, 2), 0n, BigInt(CODE)]);
  assert.equal(k.cpu.nmiPending, false);
  assert.equal(k.cpu.nmiBlocked, true);
});

test('NMI exiting without virtual NMIs: blocking by NMI holds the NMI pending', () => {
  const k = kit({ code: NOPS, pin: PIN_NMI });
  k.cpu.nmiBlocked = true;
  k.enter();
  raiseNmi(k.cpu);
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.cpu.nmiPending, true);
});

test('virtual NMIs: a physical NMI exits even under virtual-NMI blocking', () => {
  const k = kit({ code: NOPS, pin: PIN_NMI | PIN_VNMI });
  k.cpu.nmiBlocked = true;
  k.enter();
  raiseNmi(k.cpu);
  k.run();
  assert.deepEqual([k.last().reason, k.last().intInfo], [0, info(2, 2)]);
});

test('NMI without NMI exiting is delivered through the guest IDT and blocks NMIs', () => {
  const k = kit({ code: NOPS });
  k.enter();
  raiseNmi(k.cpu);
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(2) + 1);
  assert.equal(k.cpu.nmiBlocked, true);
  assert.equal(k.exits.length, 0);
});

test('external-interrupt exiting with acknowledge on exit: vector recorded, controller acknowledged, even with IF = 0', () => {
  const k = kit({ code: NOPS, pin: PIN_EXT, exitCtls: X_ACK, rflags: 0x2 });
  const pic = new FakePic(0x41);
  k.cpu.intr = pic;
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.qual, e.rip], [1, info(0x41, 0), 0n, BigInt(CODE)]);
  assert.deepEqual(pic.acked, [0x41]);
});

test('external-interrupt exiting without acknowledge: information invalid, interrupt still pending', () => {
  const k = kit({ code: NOPS, pin: PIN_EXT, rflags: 0x202 });
  const pic = new FakePic(0x41);
  k.cpu.intr = pic;
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().intInfo], [1, 0]);
  assert.deepEqual(pic.acked, []);
  assert.equal(pic.pendingVector(), 0x41);
});

test('external interrupt without exiting is delivered when IF = 1', () => {
  const k = kit({ code: NOPS, rflags: 0x202 });
  const pic = new FakePic(0x21);
  k.cpu.intr = pic;
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(0x21) + 1);
  assert.deepEqual(pic.acked, [0x21]);
});

test('external interrupt exit wakes a guest in HLT; activity state HLT is saved', () => {
  const k = kit({ code: [0xf4, 0x90], pin: PIN_EXT, exitCtls: X_ACK, rflags: 0x202 });
  const pic = new FakePic();
  k.cpu.intr = pic;
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.cpu.nonRoot, true);
  pic.vector = 0x30;
  k.cpu.eventPending = true;
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.activity, e.rip, e.intInfo], [1, 1, BigInt(CODE + 1), info(0x30, 0)]);
});

test('priority: NMI window before NMI before interrupt window before external interrupt', () => {
  const mk = (pin: number, proc: number, nmi = true) => {
    const k = kit({ code: NOPS, pin, proc, exitCtls: X_ACK, rflags: 0x202 });
    k.cpu.intr = new FakePic(0x50);
    k.enter();
    if (nmi) raiseNmi(k.cpu);
    k.run();
    return [k.last().reason, Number(k.last().rip)];
  };
  assert.deepEqual(mk(PIN_EXT | PIN_NMI | PIN_VNMI, P_NMIWIN | P_INTWIN), [8, CODE]);
  assert.deepEqual(mk(PIN_EXT | PIN_NMI | PIN_VNMI, P_INTWIN), [0, CODE]);
  assert.deepEqual(mk(PIN_EXT, P_INTWIN, false), [7, CODE]);
  assert.deepEqual(mk(PIN_EXT, 0, false), [1, CODE]);
  // A delivered NMI comes first; at its handler (IF = 0 now) the window is closed and the
  // external interrupt exits (IF does not block it with external-interrupt exiting).
  assert.deepEqual(mk(PIN_EXT, P_INTWIN), [1, H(2)]);
});

test('IF does not gate the interrupt window exit when IF = 1 but STI blocking is in effect', () => {
  const k = kit({ code: NOPS, proc: P_INTWIN, rflags: IF | 2 });
  k.cpu.interruptShadow = true;
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [7, BigInt(CODE + 1)]);
});

test('an exit in the STI shadow keeps the blocking for the saved interruptibility (cpu.interruptShadow at the exit)', () => {
  const k = kit({ code: [0xfb, 0x90, 0xf4], proc: 1 << 27, rflags: 0x2 }); // MTF; sti; nop
  k.enter();
  let shadowAtExit = false;
  const exit = (k.engine as unknown as { exit: (...a: number[]) => void }).exit;
  (k.engine as unknown as { exit: (...a: number[]) => void }).exit = (...a: number[]) => {
    shadowAtExit = k.cpu.interruptShadow;
    exit(...a);
  };
  k.run();
  assert.deepEqual([k.last().reason, k.last().rip], [37, BigInt(CODE + 1)]);
  assert.equal(shadowAtExit, true);
});
