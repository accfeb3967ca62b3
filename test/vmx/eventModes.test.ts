/**
 * Event exits outside 64-bit mode and with debug registers (SDM vol. 3C §25.2, §27.2.1 #DB
 * qualification; real-address-mode guests run under "unrestricted guest" and take their
 * exceptions through the IVT, vol. 3A §20.1.4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateDebugState } from '../../src/x86/debugRegs';
import { CODE, HANDLERS, info, kit } from './eventKit';

const H = (v: number) => HANDLERS + v * 0x10;
const BIT = (v: number) => 1 << v;

test('32-bit guest: #UD exit (bit 6) with RIP at the instruction', () => {
  const k = kit({ mode: 'protected', code: [0x90, 0x0f, 0x0b], exceptionBitmap: BIT(6) });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().intInfo, k.last().rip], [0, info(6, 3), BigInt(CODE + 1)]);
});

test('32-bit guest: #NP while delivering #UD through a missing gate records the #UD as vectoring', () => {
  const k = kit({ mode: 'protected', code: [0x0f, 0x0b], exceptionBitmap: BIT(11) });
  k.env.gate(6, { present: false });
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.intErr, e.idtInfo], [0, info(11, 3, true), 6 * 8 + 3, info(6, 3)]);
});

test('32-bit guest: triple fault exits with reason 2', () => {
  const k = kit({ mode: 'protected', code: [0x0f, 0x0b] });
  k.env.gate(6, { present: false });
  k.env.gate(11, { present: false });
  k.env.gate(8, { present: false });
  k.enter();
  k.run();
  assert.equal(k.last().reason, 2);
});

test('32-bit guest: exceptions without exits are delivered through 32-bit gates', () => {
  const k = kit({ mode: 'protected', code: [0x0f, 0x0b] });
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(6) + 1);
});

test('real-mode guest: #UD with the bit clear goes through the IVT', () => {
  const k = kit({ mode: 'real', code: [0x0f, 0x0b] });
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(6) + 1);
  assert.equal(k.env.r16(k.env.rsp()), CODE, 'IP of the #UD pushed');
});

test('real-mode guest: #UD with bit 6 exits (no error code in real mode)', () => {
  const k = kit({ mode: 'real', code: [0x90, 0x0f, 0x0b], exceptionBitmap: BIT(6) });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().intInfo, k.last().rip], [0, info(6, 3), BigInt(CODE + 1)]);
});

test('real-mode guest: INT3 with bit 3 exits as a software exception with length 1', () => {
  const k = kit({ mode: 'real', code: [0xcc], exceptionBitmap: BIT(3) });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().intInfo, k.last().len], [0, info(3, 6), 1]);
});

test('real-mode guest: INT 21h beyond the IVT limit faults (#GP) and bit 13 takes it with the INT as vectoring', () => {
  const k = kit({ mode: 'real', code: [0xcd, 0x21], exceptionBitmap: BIT(13) });
  k.cpu.idtrLimit = 0x20;
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.idtInfo, e.len, e.rip], [0, info(13, 3, true), info(0x21, 4), 2, BigInt(CODE)]);
});

test('instruction breakpoint (DR0, R/W 00) with bit 1: exit before the instruction, B0 in the qualification, DR6 untouched', () => {
  const k = kit({ code: [0x90, 0x90, 0x90, 0xf4], exceptionBitmap: BIT(1) });
  k.cpu.drLo[0] = CODE + 2;
  k.cpu.dr7 = 0x401; // L0, R/W0 = 00 (execute), LEN0 = 00
  updateDebugState(k.cpu);
  const dr6 = k.cpu.dr6;
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.qual, e.rip], [0, info(1, 3), 1n, BigInt(CODE + 2)]);
  assert.equal(k.cpu.dr6, dr6);
});

test('instruction breakpoint with the bit clear: #DB delivered with DR6.B0', () => {
  const k = kit({ code: [0x90, 0x90, 0x90, 0xf4] });
  k.cpu.drLo[0] = CODE + 2;
  k.cpu.dr7 = 0x401;
  updateDebugState(k.cpu);
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(1) + 1);
  assert.equal(k.cpu.dr6 & 1, 1);
});

test('data breakpoint (DR1 write, 4 bytes) with bit 1: trap exit after the store with B1', () => {
  // mov dword [0x6000], eax; nop; hlt
  const k = kit({ code: [0x89, 0x04, 0x25, 0x00, 0x60, 0x00, 0x00, 0x90, 0xf4], exceptionBitmap: BIT(1) });
  k.cpu.drLo[1] = 0x6000;
  k.cpu.dr7 = 0x404 | (1 << 20) | (3 << 22); // L1, R/W1 = 01 (write), LEN1 = 11 (4 bytes)
  updateDebugState(k.cpu);
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.qual, e.rip], [0, info(1, 3), 2n, BigInt(CODE + 7)]);
});

test('MOV DR with DR7.GD = 1 and bit 1: #DB fault exit with BD (bit 13) in the qualification', () => {
  const k = kit({ code: [0x0f, 0x21, 0xc0], exceptionBitmap: BIT(1) }); // mov rax, dr0
  k.cpu.dr7 = 0x2400;
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.qual, e.rip], [0, info(1, 3), 0x2000n, BigInt(CODE)]);
});
