// Stack instructions: PUSH, POP, PUSHA/POPA, PUSHF/POPF, ENTER, LEAVE in 64, 32 and 16-bit code.
// Expectations follow the SDM instruction pages; the cases marked "measured" were checked on an
// Intel host (64-bit and compatibility-mode code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCode, Ran, RunSetup, CODE_AT } from './run';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, StartMode } from '../../src/x86/modes';

function hx(s: string): number[] {
  return [...s.trim().split(/\s+/).map((b) => parseInt(b, 16)), 0xf4];
}

function run(code: string, setup: RunSetup = {}): Ran {
  return runCode(hx(code), setup);
}

function halted(r: Ran): void {
  assert.equal(r.result.reason, 'hlt', r.result.exception ? `stopped by ${r.result.exception.name}: ${r.result.exception.text}` : '');
}

function memAt(r: { mem: PhysicalMemory }, addr: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(r.mem.read8(addr + i));
  return v;
}

function bytesLE(v: bigint, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

/** Like runCode, with a hook to change the processor state (CPL, CR4, segments) before running. */
function runWith(code: string, mode: StartMode, prepare: (c: Cpu) => void, memory: Array<[number, number[]]> = []) {
  const mem = new PhysicalMemory(0x100000);
  mem.load(CODE_AT, Uint8Array.from(hx(code)));
  for (const [a, b] of memory) mem.load(a, Uint8Array.from(b));
  const cpu = new Cpu(mem);
  enterMode(cpu, mode);
  cpu.setRip(CODE_AT);
  cpu.setReg64(4, 0x8000);
  prepare(cpu);
  const result = cpu.run(1000);
  return { cpu, result, mem };
}

// ---- PUSH / POP in 64-bit mode -----------------------------------------------------------------
test('PUSH/POP r64 and r16 (66h) in 64-bit mode', () => {
  // push rax / push r9 / 66 push cx / 66 pop dx / pop rbx / pop r10
  const r = run('50  41 51  66 51  66 5a  5b  41 5a', {
    regs: { rax: 0x11223344_55667788n, r9: 0x99aabbcc_ddeeff00n, rcx: 0xabcd, rdx: 0xffffffff_ffff0000n },
  });
  halted(r);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.reg('rdx'), 0xffffffff_ffffabcdn);
  assert.equal(r.reg('rbx'), 0x99aabbcc_ddeeff00n);
  assert.equal(r.reg('r10'), 0x11223344_55667788n);
  assert.equal(memAt(r, 0x7ff8, 8), 0x11223344_55667788n);
  assert.equal(memAt(r, 0x7fee, 2), 0xabcdn);
});

test('PUSH imm: imm8 sign-extended, imm32 sign-extended to 64, 66h pushes 2 bytes (measured)', () => {
  // push -128 / push 0x80000000 / 66 push -128 / 66 push 0x1234
  const r = run('6a 80  68 00 00 00 80  66 6a 80  66 68 34 12');
  halted(r);
  assert.equal(r.reg('rsp'), 0x8000n - 20n);
  assert.equal(memAt(r, 0x7ff8, 8), 0xffffffff_ffffff80n);
  assert.equal(memAt(r, 0x7ff0, 8), 0xffffffff_80000000n);
  assert.equal(memAt(r, 0x7fee, 2), 0xff80n);
  assert.equal(memAt(r, 0x7fec, 2), 0x1234n);
});

test('PUSH RSP pushes the old value; POP RSP loads the popped value', () => {
  // push rsp / pop rsp; then push rsp / pop rax
  const r = run('54  5c  54  58');
  halted(r);
  assert.equal(memAt(r, 0x7ff8, 8), 0x8000n);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.reg('rax'), 0x8000n);
});

test('PUSH/POP r/m: memory operands, and POP [rsp+8] addresses with the incremented RSP (measured)', () => {
  // push qword [0x3000] / pop qword [rsp+8] (8f 44 24 08) / push word [0x3000] (66 ff 34 25 ..) / pop word [0x3010]
  const r = run('ff 34 25 00 30 00 00  8f 44 24 08  66 ff 34 25 00 30 00 00  66 8f 04 25 10 30 00 00', {
    memory: [[0x3000, bytesLE(0x01020304_05060708n, 8)]],
  });
  halted(r);
  // after the pop RSP = 0x8000, so the destination is 0x8008
  assert.equal(memAt(r, 0x8008, 8), 0x01020304_05060708n);
  assert.equal(memAt(r, 0x3010, 2), 0x0708n);
  assert.equal(r.reg('rsp'), 0x8000n);
});

test('POP r/m to a faulting address leaves RSP unchanged', () => {
  // pop qword [rax] with a non-canonical RAX
  const r = run('8f 00', { regs: { rax: 0x80000000_00000000n } });
  assert.equal(r.result.exception?.vector, 13);
  assert.equal(r.reg('rsp'), 0x8000n);
});

test('PUSH with a non-canonical RSP is #SS(0) and changes nothing', () => {
  const r = run('50', { regs: { rsp: 0x80000000_00000000n } });
  assert.equal(r.result.exception?.vector, 12);
  assert.equal(r.result.exception?.errorCode, 0);
  assert.equal(r.reg('rsp'), 0x80000000_00000000n);
});

test('PUSH/POP FS and GS in 64-bit mode: the selector is zero-extended to 8 bytes (measured)', () => {
  // push fs / 66 push gs (pop fs is a protected-mode load: segmentation*.test.ts)
  const r = run('0f a0  66 0f a8', { memory: [[0x7ff0, Array(16).fill(0xee)]] });
  halted(r);
  assert.equal(memAt(r, 0x7ff8, 8), 0x10n);
  assert.equal(memAt(r, 0x7ff6, 2), 0x10n);
  assert.equal(memAt(r, 0x7ff0, 6), 0xeeeeeeeeeeeen);
  assert.equal(r.reg('rsp'), 0x7ff6n);
  // POP FS of a null selector (the zeroed stack) loads and leaves FS unusable.
  const p = run('0f a1');
  assert.equal(p.result.reason, 'hlt');
  assert.equal(p.cpu.segSel[4], 0);
  assert.equal(p.reg('rsp'), 0x8008n);
});

// ---- PUSHF / POPF ------------------------------------------------------------------------------
test('PUSHFQ clears RF and VM in the image; 66 PUSHF pushes FLAGS[15:0]', () => {
  const r = run('9c  66 9c', { rflags: 0x10000 | 0x202 | 0x8d5 });
  halted(r);
  assert.equal(memAt(r, 0x7ff8, 8), 0xad7n | 0x200n);
  assert.equal(memAt(r, 0x7ff6, 2), 0xad7n | 0x200n);
});

test('POPFQ at CPL 0: every non-reserved flag but RF/VM/VIF/VIP changes; RF is cleared', () => {
  // push all ones but TF / popfq / pushfq / pop rax
  const r = run('68 ff fe ff ff  9d  9c  58', { rflags: 0x10002 });
  halted(r);
  // CF PF AF ZF SF IF DF OF IOPL NT AC ID, bit 1 always set
  assert.equal(r.reg('rax'), 0x00247ed7n);
  assert.equal(r.cpu.getRflags() & 0x10000, 0);
});

test('POPF ends the translated block (it may change TF, IF, AC or DF)', () => {
  // popfq / mov eax, 1 : the mov must be in a new block
  const r = run('9d  b8 01 00 00 00', { memory: [[0x8000, [0x02, 0x04, 0, 0, 0, 0, 0, 0]]] });
  halted(r);
  assert.equal(r.cpu.df, 1);
  assert.equal(r.reg('rax'), 1n);
  assert.ok(r.cpu.blocksTranslated >= 2);
});

test('POPF at CPL 3 leaves IOPL and (CPL > IOPL) IF unchanged; 16-bit POPF keeps the upper half', () => {
  // push all ones but TF / popfq / pushfq / pop rax
  const r = runWith('68 ff fe ff ff  9d  9c  58', 'long', (c) => { c.cpl = 3; c.setRflags(0x2); });
  // The closing HLT is privileged: at CPL 3 it raises #GP(0) (SDM vol. 2A HLT).
  assert.ok(r.result.reason === 'hlt' || (r.result.exception?.vector === 13 && r.result.exception.text === 'hlt'));
  assert.equal(r.cpu.getReg64(0), 0x00247ed7n & ~0x3200n);
  // IOPL = 3 >= CPL: IF can change
  const q = runWith('68 ff fe ff ff  9d  9c  58', 'long', (c) => { c.cpl = 3; c.setRflags(0x3002); });
  assert.equal(q.cpu.getReg64(0), 0x00247ed7n);
  // 16-bit POPF at CPL 0 in 64-bit code: AC and ID (upper half) are kept
  const p = run('66 6a 00  66 9d  9c  58', { rflags: 0x240002 });
  halted(p);
  assert.equal(p.reg('rax'), 0x240002n);
});

test('POPF in real mode can set IOPL and NT; PUSHF/POPF are 16-bit', () => {
  // push 0x7fd5 / popf / pushf / pop ax
  const r = runCode([0x68, 0xd5, 0x7e, 0x9d, 0x9c, 0x58, 0xf4], { mode: 'real' });
  halted(r);
  assert.equal(r.reg('rax'), 0x7ed7n);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal((r.cpu.getRflags() >>> 12) & 3, 3);
});

test('virtual-8086 mode: PUSHF/POPF with IOPL < 3 are #GP(0) without VME; with VME they use VIF', () => {
  const VM = 1 << 17;
  const noVme = runWith('9c', 'protected', (c) => { c.bitness = 16; c.stackBits = 16; c.flushCode(); c.setRflags(VM | 2); });
  assert.equal(noVme.result.exception?.vector, 13);
  assert.equal(noVme.cpu.getReg64(4), 0x8000n);
  // With CR4.VME: pushf stores VIF in bit 9 and IOPL = 3; popf of IF sets VIF, IF unchanged
  const vme = runWith('9c  68 00 02  9d', 'protected', (c) => {
    c.bitness = 16; c.stackBits = 16; c.flushCode(); c.cr4 |= 1; c.setRflags(VM | 2);
  });
  assert.equal(vme.result.reason, 'hlt');
  assert.equal(memAt(vme, 0x7ffe, 2), 0x3002n);
  assert.equal((vme.cpu.getRflags() >>> 19) & 1, 1);
  assert.equal((vme.cpu.getRflags() >>> 9) & 1, 0);
  // popf with TF set is #GP(0) before anything changes
  const tf = runWith('68 00 01  9d', 'protected', (c) => {
    c.bitness = 16; c.stackBits = 16; c.flushCode(); c.cr4 |= 1; c.setRflags(VM | 2);
  });
  assert.equal(tf.result.exception?.vector, 13);
  assert.equal(tf.cpu.getReg64(4), 0x7ffen);
});

// ---- 32-bit protected mode ---------------------------------------------------------------------
test('32-bit: PUSH/POP r32, PUSH imm; PUSH SS writes only the low word of its dword slot (measured)', () => {
  // push eax / push -128 / 66 push -128 / push ss / push ds ; pop ebx (DS selector)
  const r = run('50  6a 80  66 6a 80  16  1e  5b', {
    mode: 'protected', regs: { rax: 0x12345678 }, memory: [[0x7fe0, Array(32).fill(0xee)]],
  });
  halted(r);
  assert.equal(memAt(r, 0x7ffc, 4), 0x12345678n);
  assert.equal(memAt(r, 0x7ff8, 4), 0xffffff80n);
  assert.equal(memAt(r, 0x7ff6, 2), 0xff80n);
  assert.equal(memAt(r, 0x7ff2, 4), 0xeeee0010n);
  assert.equal(r.reg('rbx'), 0xeeee0010n);
  assert.equal(r.reg('rsp'), 0x7ff2n);
  // pop ds in protected mode is a descriptor load (segmentation*.test.ts); a null selector loads
  // (also from 16-bit code), a selector whose descriptor is not data is #GP(selector) with SP kept.
  assert.equal(run('1f', { mode: 'protected' }).result.reason, 'hlt');
  const p16 = runWith('68 00 00  1f', 'protected', (c) => { c.bitness = 16; c.stackBits = 16; c.flushCode(); });
  assert.equal(p16.result.reason, 'hlt');
  assert.equal(p16.cpu.getReg64(4), 0x8000n);
  const g16 = runWith('68 10 00  1f', 'protected', (c) => { c.bitness = 16; c.stackBits = 16; c.flushCode(); });
  assert.equal(g16.result.exception?.vector, 13);
  assert.equal(g16.result.exception?.errorCode, 0x10);
  assert.equal(g16.cpu.getReg64(4), 0x7ffen);
});

test('32-bit: PUSHAD/POPAD and PUSHA/POPA (measured order; POPA skips SP)', () => {
  const regs = { rax: 0x11111111, rcx: 0x22222222, rdx: 0x33333333, rbx: 0x44444444, rbp: 0x66666666, rsi: 0x77777777, rdi: 0x88888888 };
  let r = run('60', { mode: 'protected', regs });
  halted(r);
  assert.equal(r.reg('rsp'), 0x8000n - 32n);
  const words = [0x88888888n, 0x77777777n, 0x66666666n, 0x8000n, 0x44444444n, 0x33333333n, 0x22222222n, 0x11111111n];
  for (let i = 0; i < 8; i++) assert.equal(memAt(r, 0x7fe0 + 4 * i, 4), words[i]);
  const stack = Array.from({ length: 32 }, (_, i) => i);
  r = run('61', { mode: 'protected', regs: { ...regs, rsp: 0x7fe0 }, memory: [[0x7fe0, stack]] });
  halted(r);
  assert.equal(r.reg('rdi'), 0x03020100n);
  assert.equal(r.reg('rsi'), 0x07060504n);
  assert.equal(r.reg('rbp'), 0x0b0a0908n);
  assert.equal(r.reg('rbx'), 0x13121110n);
  assert.equal(r.reg('rax'), 0x1f1e1d1cn);
  assert.equal(r.reg('rsp'), 0x8000n);
  r = run('66 61', { mode: 'protected', regs: { ...regs, rsp: 0x7fe0 }, memory: [[0x7fe0, stack]] });
  halted(r);
  assert.equal(r.reg('rdi'), 0x88880100n);
  assert.equal(r.reg('rax'), 0x11110f0en);
  assert.equal(r.reg('rsp'), 0x7ff0n);
  r = run('66 60', { mode: 'protected', regs });
  halted(r);
  assert.equal(memAt(r, 0x7ff6, 2), 0x8000n);
  assert.equal(memAt(r, 0x7ff0, 2), 0x8888n);
  // PUSHA does not exist in 64-bit mode
  assert.equal(run('60').result.exception?.vector, 6);
});

test('32-bit: PUSHFD image, POPFD', () => {
  // pushfd / push 0x00247fd5 & ~TF / popfd / pushfd / pop eax
  const r = run('9c  68 d5 7e 24 00  9d  9c  58', { mode: 'protected', rflags: 0x10202 });
  halted(r);
  assert.equal(memAt(r, 0x7ffc, 4), 0x202n);
  assert.equal(r.reg('rax'), 0x247ed7n);
});

test('32-bit: ENTER with nesting and LEAVE (measured)', () => {
  const frame = [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf];
  // enter 8, 3
  let r = run('c8 08 00 03', { mode: 'protected', regs: { rbp: 0x7f00 }, memory: [[0x7ef0, frame]] });
  halted(r);
  assert.equal(r.reg('rsp'), 0x8000n - 24n);
  assert.equal(r.reg('rbp'), 0x7ffcn);
  assert.equal(memAt(r, 0x7ffc, 4), 0x7f00n);
  assert.equal(memAt(r, 0x7ff8, 4), 0xafaeadacn);
  assert.equal(memAt(r, 0x7ff4, 4), 0xabaaa9a8n);
  assert.equal(memAt(r, 0x7ff0, 4), 0x7ffcn);
});

test('32-bit: 66 ENTER walks with 32-bit EBP arithmetic and BP := frame pointer (measured)', () => {
  const frame = [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf];
  const r = run('66 c8 08 00 03', { mode: 'protected', regs: { rbp: 0x7f00 }, memory: [[0x7ef0, frame]] });
  halted(r);
  assert.equal(r.reg('rsp'), 0x8000n - 16n);
  assert.equal(r.reg('rbp'), 0x7ffen);
  assert.equal(memAt(r, 0x7ffe, 2), 0x7f00n);
  assert.equal(memAt(r, 0x7ffc, 2), 0xafaen);
  assert.equal(memAt(r, 0x7ffa, 2), 0xadacn);
  assert.equal(memAt(r, 0x7ff8, 2), 0x7ffen);
  // leave / 66 leave
  const q = run('c9', { mode: 'protected', regs: { rbp: 0x7f00 }, memory: [[0x7f00, [1, 2, 3, 4]]] });
  halted(q);
  assert.equal(q.reg('rsp'), 0x7f04n);
  assert.equal(q.reg('rbp'), 0x04030201n);
  const p = run('66 c9', { mode: 'protected', regs: { rbp: 0x7f00 }, memory: [[0x7f00, [1, 2, 3, 4]]] });
  halted(p);
  assert.equal(p.reg('rsp'), 0x7f02n);
  assert.equal(p.reg('rbp'), 0x0201n);
});

// ---- ENTER / LEAVE in 64-bit mode --------------------------------------------------------------
test('ENTER in 64-bit mode: level 0, 3, and 33 (taken mod 32)', () => {
  let r = run('c8 10 00 00', { regs: { rbp: 0x11112222_33334444n } });
  halted(r);
  assert.equal(r.reg('rsp'), 0x8000n - 8n - 16n);
  assert.equal(r.reg('rbp'), 0x7ff8n);
  assert.equal(memAt(r, 0x7ff8, 8), 0x11112222_33334444n);
  const old = [...bytesLE(0xaaaan, 8), ...bytesLE(0xbbbbn, 8)];
  r = run('c8 10 00 03', { regs: { rbp: 0x7010 }, memory: [[0x7000, old]] });
  halted(r);
  assert.equal(r.reg('rsp'), 0x8000n - 48n);
  assert.equal(r.reg('rbp'), 0x7ff8n);
  assert.equal(memAt(r, 0x7ff0, 8), 0xbbbbn);
  assert.equal(memAt(r, 0x7fe8, 8), 0xaaaan);
  assert.equal(memAt(r, 0x7fe0, 8), 0x7ff8n);
  r = run('c8 10 00 21', { regs: { rbp: 0x7010 } });
  halted(r);
  assert.equal(r.reg('rsp'), 0x8000n - 32n);
  assert.equal(memAt(r, 0x7ff0, 8), 0x7ff8n);
});

test('66 ENTER in 64-bit mode walks a 64-bit temporary; RBP[63:16] is kept (measured)', () => {
  // RBP = 0x10002: the walk reads [0x10000] and [0xfffe]; BP := frame pointer, RBP[63:16] = 1.
  const r = run('66 c8 00 00 04', {
    regs: { rbp: 0x10002, rsp: 0x18000 },
    memory: [[0xfffc, [0x22, 0x22, 0x33, 0x33]], [0x10000, [0x11, 0x11]], [0x1fffe, [0x99, 0x99]]],
  });
  halted(r);
  assert.equal(r.reg('rbp'), 0x17ffen);
  assert.equal(r.reg('rsp'), 0x17ff6n);
  assert.deepEqual([...r.mem.readBytes(0x17ff6, 10)], [0xfe, 0x7f, 0x22, 0x22, 0x33, 0x33, 0x11, 0x11, 0x02, 0x00]);
});

test('LEAVE and 66 LEAVE in 64-bit mode (measured)', () => {
  let r = run('c9', { regs: { rbp: 0x7000 }, memory: [[0x7000, bytesLE(0x12345678_9abcdef0n, 8)]] });
  halted(r);
  assert.equal(r.reg('rsp'), 0x7008n);
  assert.equal(r.reg('rbp'), 0x12345678_9abcdef0n);
  r = run('66 c9', { regs: { rbp: 0x10100 }, memory: [[0x10100, [0xef, 0xbe]]] });
  halted(r);
  assert.equal(r.reg('rsp'), 0x10102n);
  assert.equal(r.reg('rbp'), 0x1beefn);
});

test('ENTER checks the new top of stack as a write: beyond the SS limit is #SS(0), registers unchanged', () => {
  // 32-bit stack with limit 0x8000, ESP = 0x10: enter 0x20, 0 pushes at 0xc, then ESP would wrap.
  const r = runWith('c8 20 00 00', 'protected', (c) => {
    c.segLimit[2] = 0x8000;
    c.setReg64(4, 0x10);
    c.setReg64(5, 0x1234);
  });
  assert.equal(r.result.exception?.vector, 12);
  assert.equal(r.cpu.getReg64(4), 0x10n);
  assert.equal(r.cpu.getReg64(5), 0x1234n);
  // the frame pointer was pushed before the check (measured order)
  assert.equal(memAt(r, 0xc, 4), 0x1234n);
  const ok = runWith('c8 08 00 00', 'protected', (c) => { c.segLimit[2] = 0x8000; c.setReg64(4, 0x8000); });
  assert.equal(ok.result.reason, 'hlt');
  assert.equal(ok.cpu.getReg64(4), 0x7ff4n);
});

test('ENTER and LEAVE faults leave RSP and RBP unchanged', () => {
  let r = run('c9', { regs: { rbp: 0x80000000_00000000n } });
  assert.equal(r.result.exception?.vector, 12);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.reg('rbp'), 0x80000000_00000000n);
  r = run('c8 00 00 02', { regs: { rbp: 0x80000000_00000008n } });
  assert.equal(r.result.exception?.vector, 12);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.reg('rbp'), 0x80000000_00000008n);
});

// ---- 16-bit real mode --------------------------------------------------------------------------
test('real mode: PUSH/POP use SS base and wrap SP at 64 KiB', () => {
  // mov ax, 0x200 / mov ss, ax / mov sp, 0 / push ax / push word 0x1234 / pop bx / pop cx
  const r = runCode([0xb8, 0x00, 0x02, 0x8e, 0xd0, 0xbc, 0x00, 0x00, 0x50, 0x68, 0x34, 0x12, 0x5b, 0x59, 0xf4], { mode: 'real' });
  halted(r);
  assert.equal(memAt(r, 0x2000 + 0xfffe, 2), 0x200n);
  assert.equal(memAt(r, 0x2000 + 0xfffc, 2), 0x1234n);
  assert.equal(r.reg('rbx'), 0x1234n);
  assert.equal(r.reg('rcx'), 0x200n);
  assert.equal(r.reg('rsp'), 0n);
});

test('real mode: a word push at SP = 1 is outside the SS limit: #SS, SP unchanged', () => {
  const r = runCode([0x50, 0xf4], { mode: 'real', regs: { rsp: 1 } });
  assert.equal(r.result.exception?.vector, 12);
  assert.equal(r.reg('rsp'), 1n);
});

test('real mode: 66h PUSH/POP of 32-bit values and of segment registers', () => {
  // 66 push eax / push es / push cs / 66 push ds / 66 pop fs / pop dx / pop dx / 66 pop ebx
  const r = runCode([0x66, 0x50, 0x06, 0x0e, 0x66, 0x1e, 0x66, 0x0f, 0xa1, 0x5a, 0x5a, 0x66, 0x5b, 0xf4], {
    mode: 'real', regs: { rax: 0xdeadbeef, rdx: 0xffff0000 }, memory: [[0x7ff0, Array(16).fill(0xee)]],
  });
  halted(r);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(memAt(r, 0x7ffc, 4), 0xdeadbeefn);
  assert.equal(r.reg('rdx'), 0xffff0000n);
  assert.equal(r.reg('rbx'), 0xdeadbeefn);
  assert.equal(r.cpu.segSel[4], 0);
  // the 32-bit push of DS wrote only its low word: the upper word of the slot is untouched
  assert.equal(memAt(r, 0x7ff4, 4), 0xeeee0000n);
});

test('real mode: POP DS / POP SS load the selector and base = selector << 4', () => {
  // push 0x1234 / pop ds / push 0x0500 / pop ss
  const r = runCode([0x68, 0x34, 0x12, 0x1f, 0x68, 0x00, 0x05, 0x17, 0xf4], { mode: 'real' });
  halted(r);
  assert.equal(r.cpu.segSel[3], 0x1234);
  assert.equal(r.cpu.segBaseLo[3], 0x12340);
  assert.equal(r.cpu.segSel[2], 0x500);
  assert.equal(r.cpu.segBaseLo[2], 0x5000);
  assert.equal(r.cpu.segLimit[2], 0xffff);
  assert.equal(r.reg('rsp'), 0x8000n);
});

test('real mode: PUSHA/POPA; a PUSHA slot beyond the SS limit is #GP before anything is written', () => {
  const r = runCode([0x60, 0x61, 0xf4], {
    mode: 'real', regs: { rax: 1, rcx: 2, rdx: 3, rbx: 4, rbp: 6, rsi: 7, rdi: 8 },
  });
  halted(r);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(memAt(r, 0x7ff0, 2), 8n);
  assert.equal(memAt(r, 0x7ff6, 2), 0x8000n);
  assert.equal(memAt(r, 0x7ff8, 2), 4n);
  assert.equal(memAt(r, 0x7ffe, 2), 1n);
  const f = runCode([0x60, 0xf4], { mode: 'real', regs: { rsp: 7, rax: 0x5555 } });
  assert.equal(f.result.exception?.vector, 13);
  assert.equal(f.reg('rsp'), 7n);
  assert.equal(memAt(f, 5, 2), 0n);
});

test('real mode: ENTER/LEAVE with a 16-bit frame and SP wrap', () => {
  // enter 4, 2 / leave
  const r = runCode([0xc8, 0x04, 0x00, 0x02, 0xc9, 0xf4], { mode: 'real', regs: { rbp: 0x7100, rsp: 0x8000 }, memory: [[0x70fe, [0x34, 0x12]]] });
  halted(r);
  assert.equal(memAt(r, 0x7ffe, 2), 0x7100n);
  assert.equal(memAt(r, 0x7ffc, 2), 0x1234n);
  assert.equal(memAt(r, 0x7ffa, 2), 0x7ffen);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.reg('rbp'), 0x7100n);
  // SP = 0: the push goes to 0xfffe
  const w = runCode([0xc8, 0x00, 0x00, 0x00, 0xf4], { mode: 'real', regs: { rbp: 0x1234, rsp: 0x10000 } });
  halted(w);
  assert.equal(memAt(w, 0xfffe, 2), 0x1234n);
  assert.equal(w.reg('rsp'), 0x1fffen);
  assert.equal(w.reg('rbp'), 0xfffen);
});
