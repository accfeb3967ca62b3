/**
 * Virtual-8086 mode (SDM vol. 3A chapter 20): IRET into it from CPL 0, real-mode-style segment
 * arithmetic, interrupts and exceptions to ring-0 handlers with the frame of SDM vol. 3A
 * figure 6-4 plus GS/FS/DS/ES (§20.3.1.1), IRET back, the IOPL-sensitive instructions
 * (§20.2.7), I/O through the TSS bitmap, and CR4.VME staying reserved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuidLookup } from '../../src/x86/cpuid';
import { ATTR_UNUSABLE } from '../../src/x86/descriptors';
import type { InterruptSource } from '../../src/x86/io';
import { Seg } from '../../src/x86/registers';
import {
  CODE, GDT, HANDLERS, SEL_CODE0, SEL_CODE32_3, SEL_DATA0, STACK0, TSS, descriptor, makeEnv, type Env,
} from './interruptEnv';

const VM = 0x20000, RF = 0x10000, IF = 0x200, IOPL3 = 0x3000;
const H = (v: number) => HANDLERS + v * 0x10;

// The virtual-8086 task's segments (selector = paragraph).
const V_CS = 0x0200, V_IP = 0x0100; // code at linear 0x2100
const V_SS = 0x0600, V_SP = 0x0800; // stack top at linear 0x6800
const V_ES = 0x0300, V_DS = 0x0a00, V_FS = 0x0b00, V_GS = 0x0c00;
const FRAME = 0x7fdc; // the ring-0 IRETD frame (36 bytes)
const V_CODE = V_CS * 16 + V_IP;

/**
 * A protected-mode machine whose ring-0 code at CODE is IRETD with a frame that enters
 * virtual-8086 mode at V_CS:V_IP with EFLAGS = VM | `flags`; `code` is placed at V_CODE.
 * #GP and other exceptions go to ring-0 32-bit interrupt gates whose handlers are HLT.
 */
function v86Env(flags: number, code: number[], o: { eip?: number } = {}): Env {
  const e = makeEnv('protected');
  for (const v of [0, 1, 6, 13, 14]) e.gate(v);
  e.code(CODE, [0xcf]); // iretd
  const f = [o.eip ?? V_IP, V_CS, VM | 2 | flags, V_SP, V_SS, V_ES, V_DS, V_FS, V_GS];
  f.forEach((v, k) => e.w32(FRAME + 4 * k, v));
  e.cpu.setReg64(4, FRAME);
  e.code(V_CODE, code);
  return e;
}

/** The ring-0 frame pushed from virtual-8086 mode: [ec?] EIP CS EFLAGS ESP SS ES DS FS GS. */
function frame(e: Env, withEc: boolean): number[] {
  const n = withEc ? 10 : 9;
  const sp = STACK0 - 4 * n;
  assert.equal(e.rsp(), sp, 'ESP0 minus the frame');
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(e.r32(sp + 4 * k));
  return out;
}

/** After delivery from virtual-8086 mode: ring 0, VM clear, data segments null, TSS stack. */
function assertInRing0(e: Env): void {
  const c = e.cpu;
  assert.equal(c.cpl, 0);
  assert.equal(c.getRflags() & VM, 0, 'VM cleared');
  assert.equal(c.bitness, 32);
  assert.equal(c.segSel[Seg.CS], SEL_CODE0);
  assert.equal(c.segSel[Seg.SS], SEL_DATA0);
  for (const s of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) {
    assert.equal(c.segSel[s], 0, `segment ${s} null`);
    assert.ok((c.segAttr[s] & ATTR_UNUSABLE) !== 0, `segment ${s} unusable`);
  }
}

test('v86: IRETD at CPL 0 enters virtual-8086 mode with real-mode-style segments, CPL 3, 16-bit code', () => {
  // mov ax,[10h]; mov bx,es:[20h]; mov fs:[30h],ax; mov gs:[40h],bx; push ax; mov ax,0D00h;
  // mov ds,ax; mov [4],bx; mov ecx,12345678h; hlt (#GP(0) at CPL 3)
  const e = v86Env(IF | IOPL3, [
    0xa1, 0x10, 0x00, 0x26, 0x8b, 0x1e, 0x20, 0x00, 0x64, 0xa3, 0x30, 0x00, 0x65, 0x89, 0x1e, 0x40, 0x00,
    0x50, 0xb8, 0x00, 0x0d, 0x8e, 0xd8, 0x89, 0x1e, 0x04, 0x00, 0x66, 0xb9, 0x78, 0x56, 0x34, 0x12, 0xf4,
  ]);
  e.w16(V_DS * 16 + 0x10, 0x1234);
  e.w16(V_ES * 16 + 0x20, 0x5678);
  // Step into v86 mode and look at the state right after the IRETD.
  const c = e.cpu;
  let r = c.run(1);
  assert.equal(r.reason, 'limit');
  assert.equal(c.cpl, 3);
  assert.equal(c.bitness, 16);
  assert.equal(c.stackBits, 16);
  assert.equal(Number(c.getRip()), V_IP);
  assert.equal(c.getRflags(), (VM | IF | IOPL3 | 2) >>> 0);
  for (const [s, sel] of [[Seg.CS, V_CS], [Seg.SS, V_SS], [Seg.ES, V_ES], [Seg.DS, V_DS], [Seg.FS, V_FS], [Seg.GS, V_GS]]) {
    assert.equal(c.segSel[s], sel);
    assert.equal(c.segBaseLo[s], sel * 16);
    assert.equal(c.segLimit[s], 0xffff);
    assert.equal(c.segAttr[s], 0xf3);
  }
  assert.equal(e.rsp(), V_SP);
  r = c.run(100);
  assert.equal(r.reason, 'hlt');
  // Segment arithmetic: linear = selector * 16 + offset.
  assert.equal(e.r16(V_FS * 16 + 0x30), 0x1234);
  assert.equal(e.r16(V_GS * 16 + 0x40), 0x5678);
  assert.equal(e.r16(V_SS * 16 + V_SP - 2), 0x1234);
  assert.equal(e.r16(0xd000 + 4), 0x5678, 'DS reloaded in v86 mode: base 0D000h');
  assert.equal(Number(c.getReg64(1)), 0x12345678, 'operand-size prefix gives 32-bit operations');
  // HLT at CPL 3 is #GP(0), delivered to the ring-0 handler (PC after the handler's HLT).
  assert.equal(Number(c.getRip()), H(13) + 1);
  assertInRing0(e);
  assert.equal(c.getRflags() & IF, 0, 'interrupt gate clears IF');
  assert.deepEqual(frame(e, true), [
    0, V_IP + 0x21, V_CS, (VM | RF | IF | IOPL3 | 2) >>> 0, V_SP - 2, V_SS, V_ES, 0x0d00, V_FS, V_GS,
  ]);
});

test('v86: INT n at IOPL 3 through a DPL-3 trap gate; the handler IRETDs back into v86 mode', () => {
  // int 40h; mov dx, 4242h; hlt
  const e = v86Env(IF | IOPL3, [0xcd, 0x40, 0xba, 0x42, 0x42, 0xf4]);
  e.gate(0x40, { type: 0xf, dpl: 3 });
  e.code(H(0x40), [0xf4, 0xcf]); // hlt; iretd
  const c = e.cpu;
  let r = c.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(Number(c.getRip()), H(0x40) + 1);
  assertInRing0(e);
  assert.equal(c.getRflags() & IF, IF, 'trap gate keeps IF');
  assert.deepEqual(frame(e, false), [V_IP + 2, V_CS, (VM | IF | IOPL3 | 2) >>> 0, V_SP, V_SS, V_ES, V_DS, V_FS, V_GS]);
  // Resume: IRETD pops the whole frame and re-enters v86 mode.
  c.halted = false;
  r = c.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(Number(c.getReg64(2)) & 0xffff, 0x4242);
  // The HLT of the v86 code: #GP(0) again, with the data segments the IRETD restored.
  assert.equal(Number(c.getRip()), H(13) + 1);
  assert.deepEqual(frame(e, true), [
    0, V_IP + 5, V_CS, (VM | RF | IF | IOPL3 | 2) >>> 0, V_SP, V_SS, V_ES, V_DS, V_FS, V_GS,
  ]);
});

test('v86: IOPL-sensitive instructions at IOPL 0 raise #GP(0) at the instruction', () => {
  const cases: Array<[string, number[]]> = [
    ['cli', [0xfa]], ['sti', [0xfb]], ['pushf', [0x9c]], ['popf', [0x9d]], ['pushfd', [0x66, 0x9c]],
    ['popfd', [0x66, 0x9d]], ['iret', [0xcf]], ['iretd', [0x66, 0xcf]], ['int 21h', [0xcd, 0x21]],
    ['int 3 (CD 03)', [0xcd, 0x03]],
  ];
  for (const [name, bytes] of cases) {
    const e = v86Env(IF, [...bytes, 0x90, 0xf4]);
    e.gate(0x21, { dpl: 3 });
    e.gate(3, { dpl: 3 });
    const r = e.cpu.run(100);
    assert.equal(r.reason, 'hlt', name);
    assert.equal(Number(e.cpu.getRip()), H(13) + 1, `${name}: #GP handler`);
    assert.deepEqual(frame(e, true), [
      0, V_IP, V_CS, (VM | RF | IF | 2) >>> 0, V_SP, V_SS, V_ES, V_DS, V_FS, V_GS,
    ], name);
  }
});

test('v86: INT3 (CC) and INTO are not IOPL-sensitive: they reach the DPL-3 gate at IOPL 0', () => {
  for (const [bytes, vec] of [[[0xcc], 3], [[0xce], 4]] as Array<[number[], number]>) {
    // INTO needs OF = 1: EFLAGS image with OF set.
    const e = v86Env(IF | 0x800, [...bytes, 0xf4]);
    e.gate(vec, { dpl: 3 });
    const r = e.cpu.run(100);
    assert.equal(r.reason, 'hlt');
    assert.equal(Number(e.cpu.getRip()), H(vec) + 1, `vector ${vec}`);
    assertInRing0(e);
    assert.deepEqual(frame(e, false), [V_IP + 1, V_CS, (VM | IF | 0x800 | 2) >>> 0, V_SP, V_SS, V_ES, V_DS, V_FS, V_GS]);
  }
});

test('v86: CLI/STI/PUSHF/POPF at IOPL 3 act on IF; POPF keeps IOPL', () => {
  // cli; pushf; pop ax; sti; pushf; pop bx; push 08C1h; popf; pushf; pop cx; hlt
  const e = v86Env(IF | IOPL3, [
    0xfa, 0x9c, 0x58, 0xfb, 0x9c, 0x5b, 0x68, 0xc1, 0x08, 0x9d, 0x9c, 0x59, 0xf4,
  ]);
  const c = e.cpu;
  const r = c.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(Number(c.getReg64(0)) & 0xffff, 0x3002);
  assert.equal(Number(c.getReg64(3)) & 0xffff, 0x3202);
  assert.equal(Number(c.getReg64(1)) & 0xffff, 0x38c3);
  const f = frame(e, true);
  assert.equal(f[1], V_IP + 12);
  assert.equal(f[3], (VM | RF | IOPL3 | 0x08c3) >>> 0);
});

test('v86: IRET at IOPL 3 is a real-mode-style return (16-bit and 32-bit); IOPL and VM kept', () => {
  // push 0CD5h (OF DF SF ZF AF PF CF; IF = 0, IOPL = 0); push 0210h; push 40h; iret
  // -> 0210:0040 = linear 0x2140; there: mov si, 77h; hlt
  const e = v86Env(IF | IOPL3, [0x68, 0xd5, 0x0c, 0x68, 0x10, 0x02, 0x6a, 0x40, 0xcf]);
  e.code(0x2140, [0xbe, 0x77, 0x00, 0xf4]);
  const c = e.cpu;
  let r = c.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(Number(c.getReg64(6)) & 0xffff, 0x77);
  let f = frame(e, true);
  assert.deepEqual(f.slice(1, 5), [0x43, 0x210, (VM | RF | IOPL3 | 0x0cd5 | 2) >>> 0, V_SP]);
  // 32-bit: EFLAGS with VM = 0, IOPL = 0, AC set: VM and IOPL stay, AC loads.
  // push dword 40002h; push dword 0210h; push dword 50h; iretd -> linear 0x2150: hlt
  const e2 = v86Env(IF | IOPL3, [
    0x66, 0x68, 0x02, 0x00, 0x04, 0x00, 0x66, 0x68, 0x10, 0x02, 0x00, 0x00, 0x66, 0x6a, 0x50, 0x66, 0xcf,
  ]);
  e2.code(0x2150, [0xf4]);
  r = e2.cpu.run(100);
  assert.equal(r.reason, 'hlt');
  f = frame(e2, true);
  assert.deepEqual(f.slice(1, 5), [0x50, 0x210, (VM | RF | IOPL3 | 0x40000 | 2) >>> 0, V_SP]);
});

test('v86: a gate to a non-0 privilege code segment raises #GP(selector)', () => {
  const e = v86Env(IF | IOPL3, [0xcd, 0x41, 0xf4]);
  e.gate(0x41, { sel: SEL_CODE32_3, dpl: 3 });
  const r = e.cpu.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(13) + 1);
  assert.deepEqual(frame(e, true), [
    SEL_CODE32_3 & 0xfffc, V_IP, V_CS, (VM | RF | IF | IOPL3 | 2) >>> 0, V_SP, V_SS, V_ES, V_DS, V_FS, V_GS,
  ]);
});

test('v86: a gate to a conforming code segment (even DPL 0) raises #GP(selector) with EXT for an exception', () => {
  // #UD (ud2) from v86 mode through a gate whose target is conforming DPL-0 code (selector 50h).
  const e = v86Env(IF | IOPL3, [0x0f, 0x0b]);
  const [lo, hi] = descriptor(0, 0xffffffff, 0xc09f);
  e.w32(GDT + 0x50, lo);
  e.w32(GDT + 0x54, hi);
  e.gate(6, { sel: 0x50 });
  const r = e.cpu.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(13) + 1);
  assert.deepEqual(frame(e, true), [
    0x50 | 1, V_IP, V_CS, (VM | RF | IF | IOPL3 | 2) >>> 0, V_SP, V_SS, V_ES, V_DS, V_FS, V_GS,
  ]);
});

test('v86: an external interrupt is taken to ring 0 with the v86 frame (no error code)', () => {
  const e = v86Env(IF, [0x90, 0x90, 0xeb, 0xfe]); // nop; nop; jmp $
  e.gate(0x50);
  let pending = true;
  const pic: InterruptSource = { pendingVector: () => (pending ? 0x50 : -1), acknowledge: () => { pending = false; } };
  e.cpu.intr = pic;
  e.cpu.eventPending = true;
  const r = e.cpu.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(0x50) + 1);
  assertInRing0(e);
  const f = frame(e, false);
  assert.equal(f[1], V_CS);
  assert.equal(f[2], (VM | IF | 2) >>> 0);
  assert.deepEqual(f.slice(3), [V_SP, V_SS, V_ES, V_DS, V_FS, V_GS]);
});

test('v86: IN/OUT consult the TSS I/O bitmap whatever the IOPL', () => {
  // out 80h, al; in al, 60h (bit set in the bitmap) -> #GP(0)
  const e = v86Env(IOPL3, [0xe6, 0x80, 0xe4, 0x60, 0xf4]);
  const c = e.cpu;
  e.w16(TSS + 102, 0x68); // I/O map base
  for (let i = 0; i < 0x20; i++) e.w8(TSS + 0x68 + i, 0);
  e.w8(TSS + 0x68 + (0x60 >> 3), 1);
  e.w8(TSS + 0x68 + 0x20, 0xff);
  c.segLimit[Seg.TR] = 0x68 + 0x20;
  const r = c.run(100);
  assert.equal(r.reason, 'hlt');
  const f = frame(e, true);
  assert.equal(f[0], 0);
  assert.equal(f[1], V_IP + 2, 'OUT 80h allowed; IN 60h denied');
});

test('v86: IRETD into v86 mode with EIP beyond 0FFFFh is #GP(0) in ring 0, nothing loaded', () => {
  const e = v86Env(IOPL3, [0xf4], { eip: 0x10000 });
  const r = e.cpu.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(13) + 1);
  assert.equal(e.cpu.cpl, 0);
  assert.equal(e.rsp(), FRAME - 16, 'same-privilege #GP frame on the ring-0 stack');
  assert.equal(e.r32(FRAME - 12), CODE, 'EIP of the IRETD');
  assert.equal(e.cpu.getRflags() & VM, 0);
  assert.equal(e.cpu.segSel[Seg.CS], SEL_CODE0);
});

test('v86: CR4.VME/PVI are not supported: CPUID.1:EDX.VME = 0 and MOV CR4 with bit 0 or 1 is #GP(0)', () => {
  const e = makeEnv('protected', false);
  assert.equal(cpuidLookup(e.cpu.cpuid, 1, 0)[3] & 2, 0);
  for (const bit of [1, 2]) {
    const e2 = makeEnv('protected', false);
    e2.code(CODE, [0xb8, bit, 0, 0, 0, 0x0f, 0x22, 0xe0, 0xf4]); // mov eax, bit; mov cr4, eax; hlt
    const r = e2.cpu.run(10);
    assert.equal(r.reason, 'exception');
    assert.equal(r.exception?.vector, 13);
    assert.equal(e2.cpu.cr4 & 3, 0);
  }
});

test('v86: a 16-bit interrupt gate pushes the nine words (FLAGS without VM)', () => {
  const e = v86Env(IF | IOPL3, [0xcd, 0x42, 0xf4]);
  e.gate(0x42, { type: 0x6, dpl: 3 });
  const r = e.cpu.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(0x42) + 1);
  assertInRing0(e);
  const sp = STACK0 - 18;
  assert.equal(e.rsp(), sp);
  const words: number[] = [];
  for (let k = 0; k < 9; k++) words.push(e.r16(sp + 2 * k));
  assert.deepEqual(words, [V_IP + 2, V_CS, IF | IOPL3 | 2, V_SP, V_SS, V_ES, V_DS, V_FS, V_GS]);
});
