/**
 * Exception and interrupt delivery (SDM vol. 3A chapter 6): IVT in real mode, IDT gates in
 * protected and IA-32e mode, privilege changes with TSS stacks, IST, error codes with EXT/IDT
 * bits, #DF and triple fault, INT n / INT3 / INTO / INT1 / IRET, CLI/STI, HLT, external
 * interrupts, NMI and TF single-step. Expected frames follow the SDM's figures 6-4 and 6-9.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuException } from '../../src/x86/exceptions';
import { raiseNmi } from '../../src/x86/eventBoundary';
import type { InterruptSource } from '../../src/x86/io';
import { Seg } from '../../src/x86/registers';
import {
  CODE, HANDLERS, IST1, SEL_CODE0, SEL_CODE16_0, SEL_CODE32_3, SEL_CODE64_3, SEL_DATA0, SEL_DATA3, STACK0, USER_STACK,
  makeEnv,
} from './interruptEnv';

const IF = 0x200, TF = 0x100, RF = 0x10000;
const H = (v: number) => HANDLERS + v * 0x10;

class FakePic implements InterruptSource {
  pending: number[] = [];
  acked: number[] = [];
  pendingVector(): number { return this.pending.length ? this.pending[0] : -1; }
  acknowledge(v: number): void {
    assert.equal(v, this.pending[0]);
    this.pending.shift();
    this.acked.push(v);
  }
}

// ---- real mode ------------------------------------------------------------------------------

test('real mode: INT 21h goes through the IVT (FLAGS, CS, IP pushed; IF/TF cleared) and IRET returns', () => {
  const e = makeEnv('real');
  e.gate(0x21);
  // handler: pushf; pop cx; mov bx, 5; iret
  e.code(H(0x21), [0x9c, 0x59, 0xbb, 0x05, 0x00, 0xcf]);
  e.code(CODE, [0xcd, 0x21, 0xb8, 0x34, 0x12, 0xf4]); // int 21h; mov ax, 1234h; hlt
  e.cpu.setRflags(0x202);
  const r = e.cpu.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(Number(e.cpu.getReg64(0)) & 0xffff, 0x1234);
  assert.equal(Number(e.cpu.getReg64(3)) & 0xffff, 5);
  assert.equal(Number(e.cpu.getReg64(1)) & IF, 0, 'IF clear inside the handler');
  assert.equal(e.rsp(), USER_STACK);
  assert.equal(e.cpu.getRflags() & IF, IF, 'IRET restored IF');
  // The frame the handler saw: IP after INT, CS, FLAGS.
  assert.equal(e.r16(USER_STACK - 6), CODE + 2);
  assert.equal(e.r16(USER_STACK - 4), 0);
  assert.equal(e.r16(USER_STACK - 2), 0x202);
});

test('real mode: #DE is delivered through IVT entry 0 with IP of the faulting DIV', () => {
  const e = makeEnv('real');
  e.gate(0, { sel: 0x0300, offset: H(0) - 0x3000 }); // CS:IP = 0300:1000 = linear 0x4000
  e.code(CODE, [0x31, 0xc9, 0xf7, 0xf1]); // xor cx, cx; div cx
  const r = e.cpu.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(e.cpu.segSel[Seg.CS], 0x300);
  assert.equal(e.cpu.segBaseLo[Seg.CS], 0x3000);
  assert.equal(Number(e.cpu.getRip()), H(0) - 0x3000 + 1);
  assert.equal(e.rsp(), USER_STACK - 6);
  assert.equal(e.r16(USER_STACK - 6), CODE + 2, 'IP of the DIV (a fault)');
});

// ---- protected mode -------------------------------------------------------------------------

test('protected mode: #UD through a 32-bit interrupt gate, same privilege: EFLAGS (RF set), CS, EIP', () => {
  const e = makeEnv('protected');
  e.gate(6);
  e.code(CODE, [0x0f, 0x0b]); // ud2
  e.cpu.setRflags(0x202);
  const r = e.cpu.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(6) + 1);
  const sp = e.rsp();
  assert.equal(sp, USER_STACK - 12);
  assert.equal(e.r32(sp), CODE);
  assert.equal(e.r32(sp + 4), SEL_CODE0);
  assert.equal(e.r32(sp + 8), 0x202 | RF);
  assert.equal(e.cpu.getRflags() & (IF | RF), 0, 'interrupt gate clears IF; RF cleared');
});

test('protected mode: a trap gate keeps IF; a 16-bit gate pushes a 16-bit frame', () => {
  const e = makeEnv('protected');
  e.gate(6, { type: 0xf });
  e.code(CODE, [0x0f, 0x0b]);
  e.cpu.setRflags(0x202);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(e.cpu.getRflags() & IF, IF);

  const f = makeEnv('protected');
  f.gate(6, { type: 0x6, sel: SEL_CODE16_0 });
  f.code(CODE, [0x0f, 0x0b]);
  f.cpu.setRflags(0x202);
  assert.equal(f.cpu.run(100).reason, 'hlt');
  assert.equal(f.cpu.bitness, 16);
  const sp = f.rsp();
  assert.equal(sp, USER_STACK - 6);
  assert.equal(f.r16(sp), CODE);
  assert.equal(f.r16(sp + 2), SEL_CODE0);
  assert.equal(f.r16(sp + 4), 0x202);
});

test('protected mode: INT n through a not-present gate raises #NP with the IDT error code (EXT = 0)', () => {
  const e = makeEnv('protected');
  e.gate(11);
  e.gate(0x50, { present: false });
  e.code(CODE, [0xcd, 0x50]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(11) + 1);
  const sp = e.rsp();
  assert.equal(e.r32(sp), 0x50 * 8 + 2, 'error code: IDT bit, vector index');
  assert.equal(e.r32(sp + 4), CODE, 'EIP of the INT instruction (the fault)');
});

test('protected mode: CPL 3 -> 0 switches to SS0:ESP0 from the TSS and pushes SS, ESP, EFLAGS, CS, EIP', () => {
  const e = makeEnv('protected');
  e.gate(6);
  e.toUser();
  e.code(CODE, [0x0f, 0x0b]);
  e.cpu.setRflags(0x202);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(e.cpu.cpl, 0);
  assert.equal(e.cpu.segSel[Seg.CS], SEL_CODE0);
  assert.equal(e.cpu.segSel[Seg.SS], SEL_DATA0);
  const sp = e.rsp();
  assert.equal(sp, STACK0 - 20);
  assert.deepEqual([e.r32(sp), e.r32(sp + 4), e.r32(sp + 8), e.r32(sp + 12), e.r32(sp + 16)],
    [CODE, SEL_CODE32_3, 0x202 | RF, USER_STACK, SEL_DATA3]);
});

test('protected mode: INT n from CPL 3 through a DPL 0 gate is #GP(vector*8+2); through a DPL 3 gate it traps', () => {
  const e = makeEnv('protected');
  e.gate(13);
  e.gate(0x80, { dpl: 0 });
  e.toUser();
  e.code(CODE, [0xcd, 0x80]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(13) + 1);
  let sp = e.rsp();
  assert.equal(e.r32(sp), 0x402);
  assert.equal(e.r32(sp + 4), CODE);

  const f = makeEnv('protected');
  f.gate(0x80, { dpl: 3 });
  f.toUser();
  f.code(CODE, [0xcd, 0x80]);
  assert.equal(f.cpu.run(100).reason, 'hlt');
  sp = f.rsp();
  assert.equal(sp, STACK0 - 20, 'no error code');
  assert.equal(f.r32(sp), CODE + 2, 'return address after INT n');
});

test('protected mode: IRETD returns to the outer level (CS, SS, ESP, CPL restored)', () => {
  const e = makeEnv('protected');
  e.gate(0x80, { dpl: 3 });
  e.gate(6);
  e.code(H(0x80), [0xb8, 0x77, 0, 0, 0, 0xcf]); // mov eax, 77h; iretd
  e.toUser();
  e.code(CODE, [0xcd, 0x80, 0x43, 0x0f, 0x0b]); // int 80h; inc ebx; ud2
  e.cpu.setRflags(0x202);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getReg64(0)), 0x77);
  assert.equal(Number(e.cpu.getReg64(3)), 1);
  // The #UD came from CPL 3 at the ud2.
  const sp = e.rsp();
  assert.deepEqual([e.r32(sp), e.r32(sp + 4), e.r32(sp + 12), e.r32(sp + 16)], [CODE + 3, SEL_CODE32_3, USER_STACK, SEL_DATA3]);
  assert.equal(e.r32(sp + 8) & IF, IF, 'IF restored by IRET at CPL 0 with IOPL 0');
});

test('INT3, INTO and INT1 are traps: the saved EIP follows the instruction', () => {
  const e = makeEnv('protected');
  e.gate(3);
  e.code(CODE, [0xcc]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(e.r32(e.rsp()), CODE + 1);

  const f = makeEnv('protected');
  f.gate(4);
  f.code(CODE, [0xb0, 0x7f, 0x04, 0x01, 0xce]); // mov al, 7fh; add al, 1 (OF=1); into
  assert.equal(f.cpu.run(100).reason, 'hlt');
  assert.equal(Number(f.cpu.getRip()), H(4) + 1);
  assert.equal(f.r32(f.rsp()), CODE + 5);

  const g = makeEnv('protected');
  g.gate(4);
  g.code(CODE, [0x31, 0xc0, 0xce, 0xf4]); // xor eax, eax; into (OF=0: nothing); hlt
  assert.equal(g.cpu.run(100).reason, 'hlt');
  assert.equal(Number(g.cpu.getRip()), CODE + 4);

  // INT1 has no gate-DPL check: reaches a DPL 0 gate from CPL 3.
  const h = makeEnv('protected');
  h.gate(1, { dpl: 0 });
  h.toUser();
  h.code(CODE, [0xf1]);
  assert.equal(h.cpu.run(100).reason, 'hlt');
  assert.equal(Number(h.cpu.getRip()), H(1) + 1);
  assert.equal(h.r32(h.rsp()), CODE + 1);
});

test('INTO is #UD in 64-bit mode', () => {
  const e = makeEnv('long', false);
  e.code(CODE, [0xce]);
  const r = e.cpu.run(100);
  assert.equal(r.reason, 'exception');
  assert.equal(r.exception!.vector, 6);
});

test('#DE whose gate is not present: #NP(EXT) is contributory after #DE -> #DF with error code 0', () => {
  const e = makeEnv('protected');
  e.gate(0, { present: false });
  e.gate(11, { present: false });
  e.gate(8);
  e.code(CODE, [0x31, 0xc9, 0xf7, 0xf1]); // xor ecx, ecx; div ecx
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(8) + 1);
  const sp = e.rsp();
  assert.equal(e.r32(sp), 0);
  assert.equal(e.r32(sp + 4), CODE + 2);
});

test('#UD whose gate is not present: #NP with EXT = 1 and the IDT bit is delivered (benign then contributory)', () => {
  const e = makeEnv('protected');
  e.gate(6, { present: false });
  e.gate(11);
  e.code(CODE, [0x0f, 0x0b]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(11) + 1);
  assert.equal(e.r32(e.rsp()), 6 * 8 + 2 + 1);
});

test('an empty IDT: #UD -> #GP -> #DF -> triple fault: the run stops with "shutdown"', () => {
  const e = makeEnv('protected');
  e.cpu.idtrLimit = 0;
  e.code(CODE, [0x0f, 0x0b]);
  const r = e.cpu.run(100);
  assert.equal(r.reason, 'shutdown');
  assert.equal(e.cpu.inShutdown, true);
  // Stays shut down.
  assert.equal(e.cpu.run(200).reason, 'shutdown');
});

test('real mode: an IVT limit too small for the vector ends in shutdown', () => {
  const e = makeEnv('real');
  e.cpu.idtrLimit = 0x17; // vectors 0..5 only: #UD (6) -> #GP (13) -> #DF (8) -> shutdown
  e.code(CODE, [0x0f, 0x0b]);
  assert.equal(e.cpu.run(100).reason, 'shutdown');
});

test('CLI/STI at CPL 3 with IOPL 0 are #GP(0); with IOPL 3 they work; HLT at CPL 3 is #GP(0)', () => {
  for (const insn of [0xfa, 0xfb, 0xf4]) {
    const e = makeEnv('protected');
    e.gate(13);
    e.toUser();
    e.code(CODE, [insn]);
    assert.equal(e.cpu.run(100).reason, 'hlt');
    assert.equal(Number(e.cpu.getRip()), H(13) + 1, `insn ${insn.toString(16)}`);
    assert.equal(e.r32(e.rsp()), 0);
    assert.equal(e.r32(e.rsp() + 4), CODE);
  }
  const f = makeEnv('protected');
  f.gate(6);
  f.toUser();
  f.cpu.setRflags(0x3202);
  f.code(CODE, [0xfa, 0x0f, 0x0b]); // cli; ud2
  assert.equal(f.cpu.run(100).reason, 'hlt');
  assert.equal(f.r32(f.rsp() + 8) & IF, 0, 'CLI cleared IF at CPL 3 with IOPL 3');
});

// ---- IA-32e mode ----------------------------------------------------------------------------

test('64-bit mode: #GP(0) for a non-canonical access: 16-byte gate, aligned RSP, SS:RSP always pushed', () => {
  const e = makeEnv('long');
  e.gate(13);
  e.code(CODE, [0x48, 0x8b, 0x03]); // mov rax, [rbx]
  e.cpu.setReg64(3, 0x8000000000000000n);
  e.cpu.setReg64(4, USER_STACK + 8); // aligned down to USER_STACK before the frame
  e.cpu.setRflags(0x202);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  const sp = e.rsp();
  assert.equal(sp, USER_STACK - 48);
  assert.deepEqual([0, 8, 16, 24, 32, 40].map((o) => e.r64(sp + o)),
    [0n, BigInt(CODE), BigInt(SEL_CODE0), BigInt(0x202 | RF), BigInt(USER_STACK + 8), BigInt(SEL_DATA0)]);
});

test('64-bit mode: CPL 3 -> 0 loads RSP0 and a null SS; IRETQ returns to CPL 3', () => {
  const e = makeEnv('long');
  e.gate(0x80, { dpl: 3 });
  e.gate(6);
  e.code(H(0x80), [0xb8, 0x77, 0, 0, 0, 0x48, 0xcf]); // mov eax, 77h; iretq
  e.toUser();
  e.code(CODE, [0xcd, 0x80, 0xff, 0xc3, 0x0f, 0x0b]); // int 80h; inc ebx; ud2
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getReg64(0)), 0x77);
  assert.equal(Number(e.cpu.getReg64(3)), 1);
  assert.equal(e.cpu.cpl, 0);
  assert.equal(e.cpu.segSel[Seg.SS], 0, 'null SS with RPL 0');
  const sp = e.rsp();
  assert.equal(sp, STACK0 - 40);
  assert.deepEqual([0, 8, 24, 32].map((o) => e.r64(sp + o)),
    [BigInt(CODE + 4), BigInt(SEL_CODE64_3), BigInt(USER_STACK), BigInt(SEL_DATA3)]);
});

test('64-bit mode: a gate with IST = 1 switches to IST1 even without a privilege change', () => {
  const e = makeEnv('long');
  e.gate(6, { ist: 1 });
  e.code(CODE, [0x0f, 0x0b]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(e.rsp(), IST1 - 40);
  assert.equal(e.r64(IST1 - 8), BigInt(SEL_DATA0));
  assert.equal(e.r64(IST1 - 16), BigInt(USER_STACK));
  assert.equal(e.cpu.segSel[Seg.SS], SEL_DATA0, 'SS unchanged at the same privilege');
});

test('64-bit mode: #PF pushes its error code and loads CR2 from the exception', () => {
  const e = makeEnv('long');
  e.gate(14);
  const orig = e.cpu.translate.bind(e.cpu);
  e.cpu.translate = (lo, hi, access) => {
    if ((lo >>> 0) >= 0x500000 && (lo >>> 0) < 0x501000) {
      throw Object.assign(new CpuException(14, 2, 'test'), { linearLo: lo, linearHi: hi });
    }
    return orig(lo, hi, access);
  };
  e.code(CODE, [0x89, 0x03]); // mov [rbx], eax
  e.cpu.setReg64(3, 0x500123);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(e.r64(e.rsp()), 2n);
  assert.equal(e.r64(e.rsp() + 8), BigInt(CODE));
  assert.equal(e.cpu.cr2Lo, 0x500123);
});

test('64-bit mode: a not-present #DF gate during #DF delivery is a triple fault', () => {
  const e = makeEnv('long');
  e.gate(13, { present: false });
  e.gate(11, { present: false });
  e.code(CODE, [0x48, 0x8b, 0x03]);
  e.cpu.setReg64(3, 0x8000000000000000n);
  assert.equal(e.cpu.run(100).reason, 'shutdown');
});

// ---- external interrupts, NMI, STI shadow, HLT ------------------------------------------

test('external interrupt: delivered when IF = 1 (acknowledged), held while IF = 0', () => {
  const e = makeEnv('long');
  const pic = new FakePic();
  e.cpu.intr = pic;
  e.gate(0x40);
  e.code(H(0x40), [0xff, 0xc1, 0x48, 0xcf]); // inc ecx; iretq
  e.code(CODE, [0xff, 0xc0, 0xf4]); // inc eax; hlt
  e.cpu.setRflags(0x202);
  pic.pending.push(0x40);
  e.cpu.eventPending = true;
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.deepEqual(pic.acked, [0x40]);
  assert.equal(Number(e.cpu.getReg64(1)), 1);
  assert.equal(Number(e.cpu.getReg64(0)), 1);
  assert.equal(e.rsp(), USER_STACK);

  const f = makeEnv('long');
  const pic2 = new FakePic();
  f.cpu.intr = pic2;
  f.gate(0x40);
  f.code(CODE, [0xff, 0xc0, 0xf4]);
  f.cpu.setRflags(0x002);
  pic2.pending.push(0x40);
  f.cpu.eventPending = true;
  assert.equal(f.cpu.run(100).reason, 'hlt');
  assert.deepEqual(pic2.acked, []);
  assert.equal(Number(f.cpu.getRip()), CODE + 3);
});

test('STI shadow: a pending interrupt is taken after the instruction following STI', () => {
  const e = makeEnv('long');
  const pic = new FakePic();
  e.cpu.intr = pic;
  e.gate(0x40);
  e.code(CODE, [0xfb, 0xff, 0xc0, 0xff, 0xc0, 0xf4]); // sti; inc eax; inc eax; hlt
  e.cpu.setRflags(0x002);
  pic.pending.push(0x40);
  e.cpu.eventPending = true;
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(0x40) + 1);
  assert.equal(Number(e.cpu.getReg64(0)), 1);
  assert.equal(e.r64(e.rsp()), BigInt(CODE + 3));
});

test('STI; HLT: the interrupt wakes the processor after HLT; HLT returns "hlt" until then', () => {
  const e = makeEnv('long');
  const pic = new FakePic();
  e.cpu.intr = pic;
  e.gate(0x40);
  e.code(H(0x40), [0xff, 0xc1, 0x48, 0xcf]); // inc ecx; iretq
  e.code(CODE, [0xfb, 0xf4, 0xff, 0xc0, 0xf4]); // sti; hlt; inc eax; hlt
  e.cpu.setRflags(0x002);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), CODE + 2);
  assert.equal(e.cpu.run(200).reason, 'hlt', 'still halted');
  pic.pending.push(0x40);
  e.cpu.eventPending = true;
  assert.equal(e.cpu.run(300).reason, 'hlt');
  assert.equal(Number(e.cpu.getReg64(1)), 1);
  assert.equal(Number(e.cpu.getReg64(0)), 1);
  assert.equal(Number(e.cpu.getRip()), CODE + 5);
});

test('NMI: delivered with IF = 0, blocked until IRET', () => {
  const e = makeEnv('long');
  e.gate(2);
  e.code(H(2), [0xff, 0xc1, 0x48, 0xcf]); // inc ecx; iretq
  e.code(CODE, [0x90, 0xf4]);
  e.cpu.setRflags(0x002);
  e.cpu.nmiBlocked = true;
  raiseNmi(e.cpu);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getReg64(1)), 0, 'blocked');
  // Unblock by running an IRETQ of our own: the pending NMI is then taken.
  const f = makeEnv('long');
  f.gate(2);
  f.code(H(2), [0xff, 0xc1, 0x48, 0xcf]);
  f.code(CODE, [0x90, 0xf4]);
  raiseNmi(f.cpu);
  assert.equal(f.cpu.run(100).reason, 'hlt');
  assert.equal(Number(f.cpu.getReg64(1)), 1);
  assert.equal(f.cpu.nmiBlocked, false, 'IRETQ unblocked NMIs');
});

// ---- single-step --------------------------------------------------------------------------

test('TF: #DB (DR6.BS) after each instruction; the handler runs with TF clear; faults do not step', () => {
  const e = makeEnv('long');
  e.gate(1);
  e.code(CODE, [0xff, 0xc0, 0xff, 0xc0, 0xf4]); // inc eax; inc eax; hlt
  e.cpu.setRflags(0x102);
  e.cpu.eventPending = true; // whoever sets TF makes the run loop look (POPF, IRET do)
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(1) + 1);
  assert.equal(Number(e.cpu.getReg64(0)), 1);
  assert.equal(e.r64(e.rsp()), BigInt(CODE + 2));
  assert.equal(Number(e.r64(e.rsp() + 16)) & TF, TF);
  assert.equal(e.cpu.getRflags() & TF, 0);
  assert.equal(e.cpu.dr6 & 0x4000, 0x4000);

  const f = makeEnv('long');
  f.gate(1);
  f.gate(6);
  f.code(H(1), [0xff, 0xc1, 0x48, 0xcf]); // inc ecx; iretq
  f.code(CODE, [0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, 0x0f, 0x0b]); // inc eax x3; ud2
  f.cpu.setRflags(0x102);
  f.cpu.eventPending = true;
  assert.equal(f.cpu.run(1000).reason, 'hlt');
  assert.equal(Number(f.cpu.getReg64(0)), 3);
  assert.equal(Number(f.cpu.getReg64(1)), 3, 'one #DB per completed instruction, none for the faulting ud2');
  assert.equal(Number(f.cpu.getRip()), H(6) + 1);
});

test('without exception delivery (bare processor), exceptions still stop the run with a report', () => {
  const e = makeEnv('long', false);
  e.code(CODE, [0x0f, 0x0b]);
  const r = e.cpu.run(100);
  assert.equal(r.reason, 'exception');
  assert.equal(r.exception!.vector, 6);
  assert.equal(Number(e.cpu.getRip()), CODE);
});

test('a handler that faults forever (no instruction retires) still ends the run at its budget', () => {
  const e = makeEnv('protected');
  e.gate(6);
  e.code(H(6), [0x0f, 0x0b]); // the #UD handler is itself ud2
  e.code(CODE, [0x0f, 0x0b]);
  const r = e.cpu.run(1000);
  assert.equal(r.reason, 'limit');
  assert.equal(e.cpu.icount, 1000, 'each delivery advances the clock by one');
});

test('TF set when the budget ends: the next run steps the instruction before trapping', () => {
  const e = makeEnv('long');
  e.gate(1);
  e.code(CODE, [0xff, 0xc0, 0xff, 0xc0, 0xf4]);
  e.cpu.setRflags(0x102);
  e.cpu.eventPending = true;
  assert.equal(e.cpu.run(0).reason, 'limit');
  assert.equal(e.cpu.run(1).reason, 'limit');
  assert.equal(Number(e.cpu.getReg64(0)), 1);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getReg64(0)), 1);
  assert.equal(e.r64(e.rsp()), BigInt(CODE + 2));
});

test('compatibility mode: delivery uses the 64-bit frame and enters 64-bit code', () => {
  const e = makeEnv('compat');
  e.gate(6);
  e.code(CODE, [0x0f, 0x0b]);
  assert.equal(e.cpu.bitness, 32);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(e.cpu.bitness, 64);
  const sp = e.rsp();
  assert.equal(sp, USER_STACK - 40);
  assert.deepEqual([0, 8, 24, 32].map((o) => e.r64(sp + o)), [BigInt(CODE), 0x18n, BigInt(USER_STACK), BigInt(SEL_DATA0)]);
});

test('IRET to a more privileged level is #GP(selector); IRET faults leave the stack as it was', () => {
  const e = makeEnv('protected');
  e.gate(13);
  e.toUser();
  e.w32(USER_STACK, CODE + 0x100);
  e.w32(USER_STACK + 4, SEL_CODE0);
  e.w32(USER_STACK + 8, 0x202);
  e.code(CODE, [0xcf]); // iretd
  assert.equal(e.cpu.run(100).reason, 'hlt');
  const sp = e.rsp();
  assert.equal(e.r32(sp), SEL_CODE0);
  assert.equal(e.r32(sp + 4), CODE);
  assert.equal(e.r32(sp + 16), USER_STACK, 'user ESP unchanged by the faulting IRET');
});

test('real mode: an external interrupt goes through the IVT with IP of the interrupted instruction', () => {
  const e = makeEnv('real');
  const pic = new FakePic();
  e.cpu.intr = pic;
  e.gate(0x08);
  e.code(CODE, [0x40, 0xf4]); // inc ax; hlt
  e.cpu.setRflags(0x202);
  pic.pending.push(0x08);
  e.cpu.eventPending = true;
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(8) + 1);
  assert.equal(e.r16(e.rsp()), CODE);
  assert.equal(Number(e.cpu.getReg64(0)), 0, 'nothing ran before the interrupt');
  assert.equal(e.cpu.getRflags() & IF, 0);
});

test('an external interrupt with a vector of an error-code exception pushes no error code', () => {
  const e = makeEnv('long');
  const pic = new FakePic();
  e.cpu.intr = pic;
  e.gate(13);
  e.code(CODE, [0x90, 0xf4]);
  e.cpu.setRflags(0x202);
  pic.pending.push(13);
  e.cpu.eventPending = true;
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(e.rsp(), USER_STACK - 40);
  assert.equal(e.r64(e.rsp()), BigInt(CODE));
  assert.equal(Number(e.r64(e.rsp() + 16)) & RF, 0, 'RF is set only for faults');
});

test('MOV SS with TF: the single-step trap is held past the next instruction (one #DB)', () => {
  const e = makeEnv('real');
  e.gate(1);
  e.code(CODE, [0x8e, 0xd0, 0x43, 0x43, 0xf4]); // mov ss, ax; inc bx; inc bx; hlt
  e.cpu.setRflags(0x102);
  e.cpu.eventPending = true;
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(1) + 1);
  assert.equal(Number(e.cpu.getReg64(3)), 1);
  assert.equal(e.r16(e.rsp()), CODE + 3);
  assert.equal(e.r16(e.rsp() + 4) & TF, TF);
});

test('real mode: IRETD pops EIP, CS, EFLAGS as dwords (EFLAGS AND 257FD5H; VM, VIF, VIP kept)', () => {
  const e = makeEnv('real');
  e.w32(USER_STACK, 0x0010);
  e.w32(USER_STACK + 4, 0x0100);
  e.w32(USER_STACK + 8, 0x000e0202 | 0x40000); // VM/VIF/VIP bits are not loaded; AC and IF are
  e.code(0x1010, [0xf4]);
  e.code(CODE, [0x66, 0xcf]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(e.cpu.segSel[Seg.CS], 0x100);
  assert.equal(Number(e.cpu.getRip()), 0x11);
  assert.equal(e.rsp(), USER_STACK + 12);
  assert.equal(e.cpu.getRflags(), 0x40202);
});

// ---- BOUND (SDM vol. 2A BOUND; #BR is interrupt 5, a fault: vol. 3A §6.15) -------------------

const le = (v: number, n: 2 | 4): number[] => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff);

test('BOUND r32, m32&32: an index within [lower, upper] (signed, inclusive) passes; outside it raises #BR with EIP of BOUND', () => {
  const DATA = 0x3000;
  const cases: [number, boolean][] = [[-5, false], [10, false], [0, false], [11, true], [-6, true], [0x7fffffff, true], [-0x80000000, true]];
  for (const [index, faults] of cases) {
    const e = makeEnv('protected');
    e.gate(5);
    e.code(DATA, [...le(-5, 4), ...le(10, 4)]);
    // mov ebx, DATA; mov eax, index; bound eax, [ebx]; hlt
    e.code(CODE, [0xbb, ...le(DATA, 4), 0xb8, ...le(index, 4), 0x62, 0x03, 0xf4]);
    assert.equal(e.cpu.run(100).reason, 'hlt', `index ${index}`);
    if (faults) {
      assert.equal(Number(e.cpu.getRip()), H(5) + 1, `index ${index}: #BR delivered`);
      assert.equal(e.r32(e.rsp()), CODE + 10, `index ${index}: the saved EIP is the BOUND's`);
    } else {
      assert.equal(Number(e.cpu.getRip()), CODE + 13, `index ${index}: no exception`);
    }
  }
});

test('BOUND r16, m16&16 in real mode: signed 16-bit bounds and index; #BR through IVT entry 5 with IP of BOUND', () => {
  const DATA = 0x3000;
  for (const [index, faults] of [[0xff9c, false], [0x7ffe, false], [0, false], [0xff9b, true], [0x7fff, true], [0x8000, true]] as [number, boolean][]) {
    const e = makeEnv('real');
    e.gate(5);
    e.code(DATA, [...le(-100, 2), ...le(0x7ffe, 2)]); // [-100, 32766]
    // mov bx, DATA; mov ax, index; bound ax, [bx]; hlt
    e.code(CODE, [0xbb, ...le(DATA, 2), 0xb8, ...le(index, 2), 0x62, 0x07, 0xf4]);
    assert.equal(e.cpu.run(100).reason, 'hlt', `index ${index}`);
    if (faults) {
      assert.equal(Number(e.cpu.getRip()) & 0xffff, (H(5) + 1) & 0xffff, `index ${index.toString(16)}: #BR delivered`);
      assert.equal(e.r16(e.rsp()), CODE + 6, `index ${index.toString(16)}: the saved IP is the BOUND's`);
    } else {
      assert.equal(Number(e.cpu.getRip()), CODE + 9, `index ${index.toString(16)}: no exception`);
    }
  }
});

test('BOUND reads its operand with the segment checks: a pair past the DS limit is #GP(0), not #BR', () => {
  const e = makeEnv('real');
  e.gate(5);
  e.gate(13);
  // mov bx, 0xfffe; bound ax, [bx]: the upper bound would be at DS:0x10000 (limit 0xffff).
  e.code(CODE, [0xbb, 0xfe, 0xff, 0x62, 0x07, 0xf4]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()) & 0xffff, (H(13) + 1) & 0xffff);
});
