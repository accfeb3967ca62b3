/**
 * Task switches with 16-bit TSSs (SDM vol. 3A §7.6 figure 7-11; §7.3 table 7-1; §7.4 task
 * linking): JMP and CALL from a 32-bit task to a 16-bit one, IRET with NT = 1 back, and a 16-bit
 * task calling a 32-bit task. Expected values follow the SDM's TSS layouts and busy/NT/back-link
 * rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Seg } from '../../src/x86/registers';
import { CODE, GDT, HANDLERS, SEL_CODE0, SEL_CODE16_0, SEL_DATA0, SEL_TSS, TSS, descriptor, makeEnv, type Env } from './interruptEnv';
import { asm, hasNasm } from './systemKit';

const skip = hasNasm ? false : 'nasm is not installed';
const TSS16 = 0x33000;
const SEL_TSS16 = 0x58;
const TSS32B = 0x34000;
const SEL_TSS32B = 0x60;
const SEL_GATE16 = 0x68; // a task gate in the GDT naming SEL_TSS16
const TASK_CODE = 0x5000;
const TASK_STACK = 0x7000;
const NT = 0x4000;
const CR0_TS = 8;

function put(e: Env, sel: number, base: number, limit: number, attr: number): void {
  const [lo, hi] = descriptor(base, limit, attr);
  e.w32(GDT + sel, lo);
  e.w32(GDT + sel + 4, hi);
}

const typeOf = (e: Env, sel: number) => (e.r32(GDT + sel + 4) >>> 8) & 0xf;

/**
 * Protected mode, the running 32-bit task (SEL_TSS) busy, a 16-bit TSS (available) whose task
 * starts at TASK_CODE in the 16-bit code segment with AX..DI = 0x1111..0x8888.
 */
function env(limit16 = 0x2b): Env {
  const e = makeEnv('protected');
  put(e, SEL_TSS, TSS, 0x67, 0x8b);
  put(e, SEL_TSS16, TSS16, limit16, 0x81); // type 1: available 16-bit TSS
  put(e, SEL_TSS32B, TSS32B, 0x67, 0x89);
  // Task gate (type 5) in the GDT: selector in bits 31:16 of the low dword.
  e.w32(GDT + SEL_GATE16, (SEL_TSS16 << 16) >>> 0);
  e.w32(GDT + SEL_GATE16 + 4, 0x8500);
  e.cpu.gdtrLimit = 0x7f;
  // The 16-bit task's initial state (figure 7-11).
  e.w16(TSS16 + 0x0e, TASK_CODE); // IP
  e.w16(TSS16 + 0x10, 0x0002); // FLAGS
  for (let i = 0; i < 8; i++) e.w16(TSS16 + 0x12 + 2 * i, 0x1111 * (i + 1)); // AX CX DX BX SP BP SI DI
  e.w16(TSS16 + 0x1a, TASK_STACK); // SP
  e.w16(TSS16 + 0x22, SEL_DATA0); // ES
  e.w16(TSS16 + 0x24, SEL_CODE16_0); // CS
  e.w16(TSS16 + 0x26, SEL_DATA0); // SS
  e.w16(TSS16 + 0x28, SEL_DATA0); // DS
  e.w16(TSS16 + 0x2a, 0); // no LDT
  return e;
}

test('JMP to a 16-bit TSS: old 32-bit state saved, 16-bit state loaded, busy bits moved, no link', { skip }, () => {
  const e = env();
  const c = e.cpu;
  e.code(TASK_CODE, [...asm(16, 'mov bx, 0xbeef\nhlt', TASK_CODE)]);
  const code = asm(32, `
    mov eax, 0xaabbccdd
    mov esi, 0x12345678
    jmp ${SEL_TSS16}:0
    hlt`);
  e.code(CODE, [...code]);
  e.w16(TSS16, 0x7777); // previous-task link: a JMP leaves it alone
  c.setSegment(Seg.FS, { selector: SEL_DATA0, baseLo: 0x100, baseHi: 0, limit: 0xffffffff, attr: 0xc093 });
  assert.equal(c.run(100).reason, 'hlt');
  assert.equal(Number(c.getRip()), TASK_CODE + 4, 'halted in the 16-bit task');
  assert.equal(c.segSel[Seg.TR], SEL_TSS16);
  assert.equal(c.segSel[Seg.CS], SEL_CODE16_0);
  assert.equal(c.bitness, 16);
  assert.equal(c.lo[0] & 0xffff, 0x1111, 'AX from the TSS');
  assert.equal(c.lo[3] & 0xffff, 0xbeef);
  assert.equal(c.lo[4] & 0xffff, TASK_STACK, 'SP from the TSS');
  assert.equal(c.lo[7] & 0xffff, 0x8888, 'DI from the TSS');
  assert.equal(c.segSel[Seg.FS], SEL_DATA0, 'FS is not in a 16-bit TSS: unchanged');
  assert.equal(c.segBaseLo[Seg.FS], 0x100);
  assert.equal(c.getRflags() & NT, 0);
  assert.equal(c.cr0 & CR0_TS, CR0_TS);
  // Busy bits: the old TSS available again (9), the new one busy (3).
  assert.equal(typeOf(e, SEL_TSS), 9);
  assert.equal(typeOf(e, SEL_TSS16), 3);
  assert.equal(e.r16(TSS16), 0x7777, 'no back link for JMP');
  // The old 32-bit TSS: EIP after the JMP, EAX/ESI, CS.
  const jmpEnd = CODE + code.length - 1;
  assert.equal(e.r32(TSS + 0x20), jmpEnd);
  assert.equal(e.r32(TSS + 0x28), 0xaabbccdd);
  assert.equal(e.r32(TSS + 0x40), 0x12345678);
  assert.equal(e.r16(TSS + 0x4c), SEL_CODE0);
});

test('CALL to a 16-bit TSS nests (link, NT); IRET in the 16-bit task returns with NT cleared', { skip }, () => {
  const e = env();
  const c = e.cpu;
  e.code(TASK_CODE, [...asm(16, `
    mov ax, 0x4242
    pushf
    pop dx
    iret
    hlt`, TASK_CODE)]);
  const code = asm(32, `
    mov eax, 0xaabbccdd
    mov edx, 0x01020304
    call ${SEL_TSS16}:0
    hlt`);
  e.code(CODE, [...code]);
  assert.equal(c.run(100).reason, 'hlt');
  assert.equal(Number(c.getRip()), CODE + code.length, 'back after the CALL, at its HLT');
  assert.equal(c.segSel[Seg.TR], SEL_TSS);
  assert.equal(c.segSel[Seg.CS], SEL_CODE0);
  assert.equal(c.bitness, 32);
  assert.equal(c.lo[0] >>> 0, 0xaabbccdd, 'EAX restored from the 32-bit TSS');
  assert.equal(c.lo[2] >>> 0, 0x01020304);
  assert.equal(c.getRflags() & NT, 0);
  // The 16-bit TSS: linked to the caller, saved by the IRET (IP after IRET, FLAGS with NT clear).
  assert.equal(e.r16(TSS16), SEL_TSS, 'previous-task link');
  assert.equal(typeOf(e, SEL_TSS16), 1, 'available again after IRET');
  assert.equal(typeOf(e, SEL_TSS), 0xb, 'caller stayed busy');
  assert.equal(e.r16(TSS16 + 0x12), 0x4242, 'AX saved');
  assert.equal(e.r16(TSS16 + 0x16) & NT, NT, 'DX: FLAGS inside the called task had NT = 1');
  assert.equal(e.r16(TSS16 + 0x10) & NT, 0, 'saved FLAGS without NT');
  assert.equal(e.r16(TSS16 + 0x0e), TASK_CODE + 3 + 1 + 1 + 1, 'saved IP after the IRET');
  assert.equal(e.r16(TSS16 + 0x24), SEL_CODE16_0);
});

test('a 16-bit task CALLs a 32-bit task which IRETs back', { skip }, () => {
  const e = env();
  const c = e.cpu;
  // The 32-bit task: its own TSS state (figure 7-2).
  const t32 = 0x6000;
  e.w32(TSS32B + 0x20, t32);
  e.w32(TSS32B + 0x24, 2);
  e.w32(TSS32B + 0x38, 0x7800);
  for (const off of [0x48, 0x50, 0x54, 0x58, 0x5c]) e.w32(TSS32B + off, SEL_DATA0);
  e.w32(TSS32B + 0x4c, SEL_CODE0);
  e.code(t32, [...asm(32, 'mov ecx, 0xc0ffee00\niretd', t32)]);
  // The 16-bit task: call the 32-bit one, then halt.
  const body = asm(16, `
    mov si, 0x5151
    call ${SEL_TSS32B}:0
    hlt`, TASK_CODE);
  e.code(TASK_CODE, [...body]);
  // Enter the 16-bit task by a JMP from the 32-bit one.
  e.code(CODE, [...asm(32, `jmp ${SEL_TSS16}:0`)]);
  assert.equal(c.run(100).reason, 'hlt');
  assert.equal(Number(c.getRip()), TASK_CODE + body.length, 'back in the 16-bit task after its CALL');
  assert.equal(c.segSel[Seg.TR], SEL_TSS16);
  assert.equal(c.bitness, 16);
  assert.equal(c.lo[6] & 0xffff, 0x5151, 'SI reloaded from the 16-bit TSS');
  assert.equal(e.r16(TSS32B), SEL_TSS16, 'the 32-bit TSS links to the 16-bit one');
  assert.equal(e.r32(TSS32B + 0x2c) >>> 0, 0xc0ffee00, 'ECX saved in the 32-bit TSS');
  assert.equal(typeOf(e, SEL_TSS32B), 9);
  assert.equal(typeOf(e, SEL_TSS16), 3);
  assert.equal(e.r16(TSS16 + 0x0e), TASK_CODE + 3 + 5, 'the 16-bit task saved IP after its CALL');
  assert.equal(e.r16(TSS16 + 0x1e), 0x5151, 'SI saved in the 16-bit TSS');
});

test('JMP through a GDT task gate to a 16-bit TSS; a 16-bit TSS limit below 2BH is #TS', { skip }, () => {
  const e = env();
  const c = e.cpu;
  e.code(TASK_CODE, [0xf4]);
  e.code(CODE, [...asm(32, `jmp ${SEL_GATE16}:0`)]);
  assert.equal(c.run(100).reason, 'hlt');
  assert.equal(Number(c.getRip()), TASK_CODE + 1);
  assert.equal(c.segSel[Seg.TR], SEL_TSS16);

  const bad = env(0x2a);
  bad.gate(10); // #TS handler: HLT at HANDLERS + 10 * 0x10
  bad.code(CODE, [...asm(32, `jmp ${SEL_TSS16}:0`)]);
  assert.equal(bad.cpu.run(100).reason, 'hlt');
  assert.equal(Number(bad.cpu.getRip()), HANDLERS + 10 * 0x10 + 1, '#TS delivered');
  assert.equal(bad.cpu.segSel[Seg.TR], SEL_TSS, 'no switch');
  assert.equal(bad.r32(bad.rsp()), SEL_TSS16, 'error code: the TSS selector');
});

test('INT n through an IDT task gate to a 16-bit TSS nests; the task IRETs back (SDM §6.12.2)', { skip }, () => {
  const e = env();
  const c = e.cpu;
  e.gate(0x40, { sel: SEL_TSS16, offset: 0, type: 5 });
  e.code(TASK_CODE, [...asm(16, 'mov cx, 0x7171\niret', TASK_CODE)]);
  const code = asm(32, `
    mov ecx, 0x11223344
    int 0x40
    hlt`);
  e.code(CODE, [...code]);
  assert.equal(c.run(100).reason, 'hlt');
  assert.equal(Number(c.getRip()), CODE + code.length, 'back after INT 40H');
  assert.equal(c.segSel[Seg.TR], SEL_TSS);
  assert.equal(c.lo[1] >>> 0, 0x11223344, 'ECX restored from the 32-bit TSS');
  assert.equal(e.r16(TSS16), SEL_TSS, 'previous-task link');
  assert.equal(e.r16(TSS16 + 0x14), 0x7171, 'CX saved in the 16-bit TSS');
  assert.equal(typeOf(e, SEL_TSS16), 1);
  assert.equal(e.r32(TSS + 0x20), CODE + code.length - 1, 'the 32-bit TSS saved EIP after INT 40H');
});
