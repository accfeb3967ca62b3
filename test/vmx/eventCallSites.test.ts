/**
 * Event exits that need a call site in processor files other than interrupts.ts (the lead
 * applies those changes; each test runs once its call site is there):
 *   insn/interrupt.ts   IRET asks vmxEvents.iret (SDM vol. 3C §25.3: NMI exiting / virtual NMIs)
 *   taskSwitch.ts       a task switch exits after its initial checks (§25.4.2, exit 9)
 *   insn/controlRegs.ts MOV DR's general-detect #DB leaves DR6/DR7 when it exits (§27.1)
 */
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CODE, HANDLERS, info, kit } from './eventKit';

const src = (p: string) => readFileSync(join(__dirname, '../../src/x86', p), 'utf8');
const IRET_SITE = src('insn/interrupt.ts').includes('vmxEvents!.iret');
const TASK_SITE = src('taskSwitch.ts').includes('vmxEvents!.taskSwitch');
const DR_SITE = /nonRoot[\s\S]{0,200}DR6_BD/.test(src('insn/controlRegs.ts'));
const when = (ok: boolean) => (name: string, fn: () => void) =>
  nodeTest(name, { skip: ok ? false : 'call site not applied yet (see the event exits report)' }, fn);

const H = (v: number) => HANDLERS + v * 0x10;
const PIN_NMI = 1 << 3, PIN_VNMI = 1 << 5;
const SEL_TSS = 0x38;

/** An IRETQ frame at `sp` returning to `rip` (CS 0x08, SS 0x10) with RFLAGS 2. */
function iretFrame(k: ReturnType<typeof kit>, sp: number, rip: number, cs = 0x08): void {
  [rip, cs, 0x2, sp + 0x100, 0x10].forEach((v, i) => { k.env.w32(sp + i * 8, v); k.env.w32(sp + i * 8 + 4, 0); });
  k.cpu.setReg64(4, sp);
}

when(IRET_SITE)('IRET with NMI exiting 1 and virtual NMIs 0 leaves blocking by NMI (§25.3)', () => {
  const k = kit({ pin: PIN_NMI });
  iretFrame(k, 0x7f00, CODE + 0x20);
  k.env.code(CODE, [0x48, 0xcf]);
  k.env.code(CODE + 0x20, [0xf4]);
  k.cpu.nmiBlocked = true;
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), CODE + 0x21);
  assert.equal(k.cpu.nmiBlocked, true);
});

when(IRET_SITE)('IRET with NMI exiting 0 unblocks NMIs; a fault on it reports NMI unblocking (bit 12)', () => {
  const k = kit({ exceptionBitmap: 1 << 13 });
  iretFrame(k, 0x7f00, CODE + 0x20, 0x50); // CS 0x50: a null descriptor -> #GP(0x50)
  k.env.code(CODE, [0x48, 0xcf]);
  k.cpu.nmiBlocked = true;
  k.enter();
  k.run();
  const e = k.last();
  assert.equal(e.reason, 0);
  assert.equal(e.intInfo, (info(13, 3, true) | 0x1000) >>> 0);
  assert.equal(e.intErr, 0x50);
  assert.equal(k.cpu.nmiBlocked, false, 'blocking was cleared before the exit');
});

when(IRET_SITE)('virtual NMIs: IRET removes virtual-NMI blocking; a fault on it sets bit 12', () => {
  const k = kit({ pin: PIN_NMI | PIN_VNMI, exceptionBitmap: 1 << 13 });
  iretFrame(k, 0x7f00, CODE + 0x20, 0x50);
  k.env.code(CODE, [0x48, 0xcf]);
  k.cpu.nmiBlocked = true;
  k.enter();
  k.run();
  assert.equal(k.last().intInfo, (info(13, 3, true) | 0x1000) >>> 0);
});

when(TASK_SITE)('JMP far to a TSS in a 32-bit guest: exit 9, selector and source 2, RIP and length of the JMP', () => {
  const k = kit({ mode: 'protected', code: [0x90, 0xea, 0, 0, 0, 0, SEL_TSS, 0] });
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.qual, e.len, e.rip, e.idtInfo], [9, BigInt((SEL_TSS | (2 << 30)) >>> 0), 7, BigInt(CODE + 1), 0]);
});

when(TASK_SITE)('CALL far to a TSS: source 0', () => {
  const k = kit({ mode: 'protected', code: [0x9a, 0, 0, 0, 0, SEL_TSS, 0] });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().qual, k.last().len], [9, BigInt(SEL_TSS), 7]);
});

when(TASK_SITE)('INT n through a task gate: source 3, IDT vectoring = the software interrupt with its length', () => {
  const k = kit({ mode: 'protected', code: [0xcd, 0x40] });
  k.env.gate(0x40, { type: 5, sel: SEL_TSS });
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.qual, e.len, e.rip, e.idtInfo], [9, BigInt((SEL_TSS | (3 << 30)) >>> 0), 2, BigInt(CODE), info(0x40, 4)]);
});

when(TASK_SITE)('an exception through a task gate: source 3, IDT vectoring = the exception', () => {
  const k = kit({ mode: 'protected', code: [0x0f, 0x0b] });
  k.env.gate(6, { type: 5, sel: SEL_TSS });
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.qual, e.rip, e.idtInfo], [9, BigInt((SEL_TSS | (3 << 30)) >>> 0), BigInt(CODE), info(6, 3)]);
});

when(TASK_SITE)('the task-switch checks come first: a not-present TSS faults (#NP) instead of exiting', () => {
  const k = kit({ mode: 'protected', code: [0xea, 0, 0, 0, 0, SEL_TSS, 0] });
  const d = 0x30000 + SEL_TSS + 5;
  k.env.w8(d, k.env.cpu.mem.read8(d) & 0x7f);
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(11) + 1);
});

when(DR_SITE)('MOV DR with GD = 1 exiting (bit 1): DR6 and DR7 are not changed', () => {
  const k = kit({ code: [0x0f, 0x21, 0xc0], exceptionBitmap: 1 << 1 });
  k.cpu.dr7 = 0x2400;
  const dr6 = k.cpu.dr6;
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().qual], [0, 0x2000n]);
  assert.equal(k.cpu.dr6, dr6);
  assert.equal(k.cpu.dr7, 0x2400);
});

when(DR_SITE)('MOV DR with GD = 1 delivered: DR6.BD set, DR7.GD cleared', () => {
  const k = kit({ code: [0x0f, 0x21, 0xc0] });
  k.cpu.dr7 = 0x2400;
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(1) + 1);
  assert.equal(k.cpu.dr6 & 0x2000, 0x2000);
  assert.equal(k.cpu.dr7 & 0x2000, 0);
});

const PF_SITE = /nonRoot[\s\S]{0,120}cr2Lo = lo/.test(src('paging.ts'));

/** SMEP (CR4 bit 20) with the model's all-user identity map: fetching at CPL 0 is a #PF (P | I/D). */
function smep(k: ReturnType<typeof kit>): void {
  k.cpu.cr4 |= 1 << 20;
  k.cpu.flushTlb();
}

when(PF_SITE)('#PF exit (SMEP fetch fault): CR2 unchanged, the linear address in the qualification (§27.1)', () => {
  const k = kit({ code: [0x90], exceptionBitmap: 1 << 14 });
  smep(k);
  k.cpu.cr2Lo = 0x5555;
  k.enter();
  k.run();
  const e = k.last();
  assert.equal(e.reason, 0);
  assert.equal(e.intInfo, info(14, 3, true));
  assert.equal(e.qual, BigInt(CODE));
  assert.equal(e.intErr, 0x11, 'present, instruction fetch');
  assert.equal(e.rip, BigInt(CODE));
  assert.equal(k.cpu.cr2Lo, 0x5555);
});

when(PF_SITE)('#PF with the bitmap bit clear is delivered and loads CR2', () => {
  const k = kit({ code: [0x90] });
  smep(k);
  k.enter();
  k.run(1);
  assert.equal(k.cpu.cr2Lo >>> 0, CODE, 'CR2 = the faulting fetch address');
  assert.equal(k.rip(), H(14), 'at the #PF handler (whose own fetch faults next)');
});
