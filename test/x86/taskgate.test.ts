/**
 * IDT task gates and IRET with NT = 1 (SDM vol. 3A §6.12.2 interrupt tasks, §7.3 task switching,
 * §7.4 task linking; vol. 2A INT n "TASK-GATE" and IRET "TASK-RETURN"). 32-bit protected mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Seg } from '../../src/x86/registers';
import { CODE, GDT, HANDLERS, SEL_CODE0, SEL_DATA0, SEL_TSS, TSS, descriptor, makeEnv, type Env } from './interruptEnv';
import { asm, hasNasm } from './systemKit';

const skip = hasNasm ? false : 'nasm is not installed';
const TSS2 = 0x33000;
const SEL_TSS2 = 0x58;
const TASK_CODE = 0x5000;
const TASK_STACK = 0x7000;
const NT = 0x4000;

/** Protected-mode env with the running task's TSS busy and a second TSS (available) for the gate. */
function env(): Env {
  const e = makeEnv('protected');
  const put = (sel: number, base: number, limit: number, attr: number) => {
    const [lo, hi] = descriptor(base, limit, attr);
    e.w32(GDT + sel, lo);
    e.w32(GDT + sel + 4, hi);
  };
  put(SEL_TSS, TSS, 0x67, 0x8b); // the current task: busy
  put(SEL_TSS2, TSS2, 0x67, 0x89); // the interrupt task: available
  e.cpu.gdtrLimit = 0x7f;
  // The interrupt task's initial state (SDM vol. 3A figure 7-2).
  e.w32(TSS2 + 0x20, TASK_CODE); // EIP
  e.w32(TSS2 + 0x24, 0x2); // EFLAGS
  e.w32(TSS2 + 0x38, TASK_STACK); // ESP
  for (const off of [0x48, 0x50, 0x54, 0x58, 0x5c]) e.w32(TSS2 + off, SEL_DATA0); // ES SS DS FS GS
  e.w32(TSS2 + 0x4c, SEL_CODE0); // CS
  e.w32(TSS2 + 0x60, 0); // no LDT
  return e;
}

/** A task gate (type 5) in the IDT naming SEL_TSS2. */
function taskGate(e: Env, vector: number, dpl = 0): void {
  e.gate(vector, { sel: SEL_TSS2, offset: 0, type: 5, dpl });
}

const typeOf = (e: Env, sel: number) => (e.r32(GDT + sel + 4) >>> 8) & 0xf;

test('#DF through a task gate: nesting switch, error code 0 on the new task\'s stack, old state saved', { skip }, () => {
  const e = env();
  taskGate(e, 8);
  e.gate(0, { present: false }); // #DE → #NP while delivering it → #DF (§6.15 table 6-5)
  e.code(TASK_CODE, [0xf4]); // the #DF task: hlt
  const code = asm(32, `
    mov ebx, 0x1234
    xor ecx, ecx
  fault:
    div ecx
    hlt`);
  e.code(CODE, [...code]);
  const fault = CODE + 7;
  assert.equal(e.cpu.run(100).reason, 'hlt');
  const c = e.cpu;
  assert.equal(c.segSel[Seg.TR], SEL_TSS2);
  assert.equal(Number(c.getRip()), TASK_CODE + 1);
  assert.equal(c.lo[4] >>> 0, TASK_STACK - 4, 'error code pushed');
  assert.equal(e.r32(TASK_STACK - 4), 0, '#DF error code 0');
  assert.equal(c.getRflags() & NT, NT, 'NT set in the nested task');
  assert.equal(e.r32(TSS2) & 0xffff, SEL_TSS, 'previous-task link');
  assert.equal(typeOf(e, SEL_TSS2), 0xb, 'new TSS busy');
  assert.equal(typeOf(e, SEL_TSS), 0xb, 'old TSS stays busy (nesting)');
  assert.equal(e.r32(TSS + 0x20), fault, 'old task EIP = the faulting instruction');
  assert.equal(e.r32(TSS + 0x28 + 3 * 4), 0x1234, 'old task EBX saved');
  assert.equal(e.r32(TSS + 0x24) & 0x10000, 0, '#DF is an abort: no RF in the saved EFLAGS');
  assert.equal(c.cr0 & 8, 8, 'CR0.TS set');
});

test('#GP through a task gate pushes its selector error code', { skip }, () => {
  const e = env();
  taskGate(e, 13);
  e.code(TASK_CODE, [0xf4]);
  e.code(CODE, [...asm(32, `
    mov ax, 0x83
    mov ds, ax
    hlt`)]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(e.cpu.segSel[Seg.TR], SEL_TSS2);
  assert.equal(e.r32(TASK_STACK - 4), 0x80, '#GP(selector) error code');
  assert.equal(e.r32(TSS + 0x24) & 0x10000, 0x10000, 'RF in the EFLAGS saved for a fault (SDM vol. 3B §18.3.1.1)');
  assert.equal(e.r32(TSS + 0x20), CODE + 4, 'old task EIP = the faulting MOV DS');
});

test('INT n through a task gate and IRET with NT = 1 back to the interrupted task, twice', { skip }, () => {
  const e = env();
  taskGate(e, 0x40);
  // The interrupt task: count, IRET back, and start over at the next INT (§7.4).
  e.code(TASK_CODE, [...asm(32, `
  top:
    inc dword [0x6800]
    mov ecx, 0xdead
    iretd
    jmp top`, TASK_CODE)]);
  e.code(CODE, [...asm(32, `
    mov ecx, 0x77
    int 0x40
    int 0x40
    hlt`)]);
  assert.equal(e.cpu.run(200).reason, 'hlt');
  const c = e.cpu;
  assert.equal(e.r32(0x6800), 2);
  assert.equal(c.segSel[Seg.TR], SEL_TSS);
  assert.equal(c.lo[1], 0x77, 'the interrupted task\'s registers are restored');
  assert.equal(c.getRflags() & NT, 0);
  assert.equal(typeOf(e, SEL_TSS2), 9, 'the interrupt task is available again');
  assert.equal(typeOf(e, SEL_TSS), 0xb);
  assert.equal(e.r32(TSS2 + 0x24) & NT, 0, 'NT cleared in the image saved by IRET');
});

test('a task gate with DPL < CPL raises #GP for INT n; a task switch clears DR7.L0-L3', { skip }, () => {
  const e = env();
  taskGate(e, 0x41, 0);
  e.code(TASK_CODE, [0xf4]);
  e.code(CODE, [...asm(32, 'int 0x41\nhlt')]);
  e.cpu.dr7 = 0x400 | 0x3; // L0 | G0 (R/W 00 at DR0 = 0: never reached)
  e.cpu.segSel[Seg.CS] = SEL_CODE0;
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(e.cpu.segSel[Seg.TR], SEL_TSS2);
  assert.equal(e.cpu.dr7 & 0xff, 0x2, 'L0 cleared, G0 kept');

  const f = env();
  taskGate(f, 0x41, 0);
  f.gate(13);
  f.toUser();
  f.code(CODE, [...asm(32, 'int 0x41\nhlt')]);
  assert.equal(f.cpu.run(100).reason, 'hlt');
  assert.equal(Number(f.cpu.getRip()), HANDLERS + 13 * 0x10 + 1, '#GP');
  assert.equal(f.r32(f.rsp()), 0x41 * 8 + 2, 'error code: IDT vector');
});

test('IRET with NT = 1 in IA-32e mode is #GP(0)', () => {
  const e = makeEnv('long');
  e.gate(13);
  e.code(CODE, [0x48, 0xcf]); // iretq
  e.cpu.setRflags(0x2 | NT);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), HANDLERS + 13 * 0x10 + 1);
});

test('a task switch to a TSS with the T flag raises #DB (DR6.BT) before the new task\'s first instruction', { skip }, () => {
  const e = env();
  taskGate(e, 0x40);
  e.gate(1);
  e.w16(TSS2 + 0x64, 1);
  e.code(TASK_CODE, [0x43, 0xf4]); // inc ebx; hlt
  e.code(CODE, [...asm(32, 'int 0x40\nhlt')]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), HANDLERS + 0x10 + 1, 'in the #DB handler');
  assert.equal(e.cpu.segSel[Seg.TR], SEL_TSS2);
  assert.equal(e.cpu.dr6 & 0x8000, 0x8000, 'BT');
  assert.equal(e.r32(e.rsp()), TASK_CODE, 'saved EIP: the new task\'s first instruction');
  assert.equal(e.cpu.lo[3], 0);
});
