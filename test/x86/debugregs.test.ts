/**
 * Debug-register breakpoints (SDM vol. 3B chapter 18): instruction breakpoints are faults taken
 * before the instruction (§18.3.1.1) and suppressed once by RF; data breakpoints are traps
 * taken after the accessing instruction (§18.3.1.2) with LEN 1/2/4/8 ranges aligned down
 * (§18.2.5); DR6.B0-B3 report the breakpoints met (§18.2.3); DR7.L0-L3 are cleared by task
 * switches (§18.2.4, tested in taskgate.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODE, HANDLERS, makeEnv, type Env } from './interruptEnv';
import { asm, hasNasm } from './systemKit';

const H = (v: number) => HANDLERS + v * 0x10;
const RF = 0x10000, TF = 0x100;
const DATA = 0x6000;
const skip = hasNasm ? false : 'nasm is not installed';

/** DR7 value: enable breakpoint n globally with R/W and LEN fields (SDM vol. 3B figure 18-1). */
function dr7(...bps: Array<{ n: number; rw: number; len: number; local?: boolean }>): number {
  let v = 0;
  for (const b of bps) {
    v |= (b.local ? 1 : 2) << (2 * b.n);
    v |= b.rw << (16 + 4 * b.n);
    v |= b.len << (18 + 4 * b.n);
  }
  return v >>> 0;
}
const LEN1 = 0, LEN2 = 1, LEN8 = 2, LEN4 = 3;
const EXEC = 0, WRITE = 1, RW = 3;

/** Long-mode machine with every handler a HLT; `src` runs at CODE. */
function env(src: string): Env {
  const e = makeEnv('long');
  for (const v of [0, 1, 6, 13]) e.gate(v);
  e.code(CODE, [...asm(64, src)]);
  return e;
}

const bits = (e: Env) => e.cpu.dr6 & 0xf;

test('instruction breakpoint: #DB fault before the instruction, DR6.B0, RIP of the instruction, RF = 0 in the frame', { skip }, () => {
  const e = env(`
    mov rax, target
    mov dr0, rax
    mov eax, ${dr7({ n: 0, rw: EXEC, len: LEN1 })}
    mov dr7, rax
    nop
  target:
    inc ebx
    hlt`);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(1) + 1, 'stopped in the #DB handler');
  assert.equal(Number(e.cpu.getReg64(3)), 0, 'the instruction did not execute');
  const target = Number(e.r64(e.rsp()));
  assert.equal(e.cpu.mem.read8(target), 0xff, 'saved RIP is the breakpoint instruction (inc ebx)');
  assert.equal(Number(e.r64(e.rsp() + 16)) & RF, 0, 'RF pushed as it was (0) for an instruction breakpoint');
  assert.equal(bits(e), 1);
  assert.equal(e.cpu.dr6 & 0x4000, 0, 'no BS');
});

test('instruction breakpoint: RF = 1 (set by the handler in the frame) resumes past it once; a loop hits it each time', { skip }, () => {
  const e = env(`
    mov rax, target
    mov dr3, rax
    mov eax, ${dr7({ n: 3, rw: EXEC, len: LEN1, local: true })}
    mov dr7, rax
  target:
    inc ebx
    cmp ebx, 3
    jne target
    hlt`);
  // #DB handler: count, set RF in the saved RFLAGS, IRETQ.
  e.code(H(1), [...asm(64, `inc ecx
    or qword [rsp + 16], 0x10000
    iretq`, H(1))]);
  assert.equal(e.cpu.run(1000).reason, 'hlt');
  assert.equal(Number(e.cpu.getReg64(3)), 3);
  assert.equal(Number(e.cpu.getReg64(1)), 3, 'one #DB per execution of the instruction');
  assert.equal(bits(e), 8, 'DR6.B3');
  assert.equal(e.cpu.getRflags() & RF, 0, 'RF cleared after the resumed instruction');
});

test('instruction breakpoint: a matching breakpoint that DR7 does not enable is reported with the enabled one', { skip }, () => {
  const e = env(`
    mov rax, target
    mov dr0, rax
    mov dr2, rax
    mov rcx, target + 1
    mov dr1, rcx
    mov eax, ${dr7({ n: 0, rw: EXEC, len: LEN1 })}
    mov dr7, rax
  target:
    nop
    hlt`);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(1) + 1);
  assert.equal(bits(e), 0b101, 'B0 (enabled) and B2 (same address, not enabled); not B1');
});

test('data write breakpoint: #DB trap after the writing instruction; reads do not hit R/W = 01', { skip }, () => {
  const e = env(`
    mov eax, ${DATA + 0x10}
    mov dr1, rax
    mov eax, ${dr7({ n: 1, rw: WRITE, len: LEN4 })}
    mov dr7, rax
    mov eax, [${DATA + 0x10}]
    mov ecx, [${DATA + 0x12}]
    mov word [${DATA + 0x12}], 0x5678
  after:
    inc ebx
    hlt`);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(1) + 1, 'in the #DB handler');
  assert.equal(e.cpu.mem.read8(DATA + 0x12), 0x78, 'the write completed');
  assert.equal(Number(e.cpu.getReg64(3)), 0, 'inc ebx not executed yet');
  assert.equal(e.cpu.mem.read8(Number(e.r64(e.rsp()))), 0xff, 'saved RIP is the next instruction (inc ebx)');
  assert.equal(bits(e), 2, 'DR6.B1');
});

test('data read/write breakpoint: LEN = 8 range aligned down; overlap rules; RMW and PUSH hit', { skip }, () => {
  const cases: Array<[string, boolean]> = [
    ['mov al, [rdi + 0xc]', true],
    ['mov al, [rdi + 0x10]', false],
    ['mov al, [rdi + 7]', false],
    ['mov eax, [rdi + 5]', true], // bytes 5..8 overlap 8..15
    ['add dword [rdi + 0xf], 1', true],
    ['mov rsp, rdi\n add rsp, 0x10\n push rax', true],
    ['mov rsp, rdi\n add rsp, 0x20\n push rax', false],
  ];
  for (const [insn, hit] of cases) {
    const e = env(`
      mov edi, ${DATA}
      mov eax, ${DATA + 0xb}
      mov dr2, rax
      mov eax, ${dr7({ n: 2, rw: RW, len: LEN8 })}
      mov dr7, rax
      ${insn}
      hlt`);
    assert.equal(e.cpu.run(100).reason, 'hlt');
    assert.equal(Number(e.cpu.getRip()) === H(1) + 1, hit, insn);
    assert.equal(bits(e), hit ? 4 : 0, insn);
  }
});

test('data breakpoint: a 2-byte write crossing into the watched page hits; LEN = 2', { skip }, () => {
  const e = env(`
    mov eax, ${DATA}
    mov dr0, rax
    mov eax, ${dr7({ n: 0, rw: WRITE, len: LEN2 })}
    mov dr7, rax
    mov word [${DATA - 1}], 0x1234
    hlt`);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(1) + 1);
  assert.equal(e.cpu.mem.read8(DATA), 0x12);
  assert.equal(bits(e), 1);
});

test('data breakpoint: a faulting instruction does not report its access; single-step and data hit share one #DB', { skip }, () => {
  // div reads the watched divisor (0) and faults with #DE: no #DB.
  const e = env(`
    mov eax, ${DATA}
    mov dr0, rax
    mov eax, ${dr7({ n: 0, rw: RW, len: LEN4 })}
    mov dr7, rax
    mov dword [${DATA}], 0
    mov edx, 0
    div dword [${DATA}]
    hlt`);
  e.code(H(1), [...asm(64, 'inc ecx\n iretq', H(1))]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(0) + 1, 'in the #DE handler');
  assert.equal(Number(e.cpu.getReg64(1)), 1, 'one #DB: for the write, none for the faulting div');

  // TF and a data breakpoint on the same instruction: BS and B0 in one #DB.
  const f = env(`
    mov eax, ${DATA}
    mov dr0, rax
    mov eax, ${dr7({ n: 0, rw: WRITE, len: LEN1 })}
    mov dr7, rax
    pushfq
    or qword [rsp], ${TF}
    popfq
    mov byte [${DATA}], 1
    hlt`);
  // The handler records DR6 at its first entry and clears TF in the frame.
  f.code(H(1), [...asm(64, `inc ecx
    cmp ecx, 1
    jne .x
    mov rax, dr6
    mov [${DATA + 0x100}], rax
  .x:
    and qword [rsp + 16], ~${TF}
    iretq`, H(1))]);
  assert.equal(f.cpu.run(1000).reason, 'hlt');
  assert.equal(Number(f.cpu.getReg64(1)), 1, 'one #DB');
  assert.equal(f.cpu.mem.read8(DATA), 1);
  assert.equal((f.cpu.mem.read8(DATA + 0x101) << 8 | f.cpu.mem.read8(DATA + 0x100)) & 0x400f, 0x4001, 'BS and B0 in the first #DB');
  assert.equal(f.cpu.dr6 & 0x4001, 0x4001, 'BS and B0');
});

test('breakpoints cost nothing when DR7 enables none; disabling them returns to block execution', { skip }, () => {
  const e = env(`
    mov eax, ${DATA}
    mov dr0, rax
    mov eax, ${dr7({ n: 0, rw: WRITE, len: LEN4 })}
    mov dr7, rax
    xor eax, eax
    mov dr7, rax
    mov dword [${DATA}], 1
    hlt`);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()) < H(0), true, 'no #DB');
  assert.equal(e.cpu.debugActive, false);
  assert.equal(e.cpu.dbgWatch, 0);
  assert.equal(bits(e), 0);
});

test('instruction breakpoint in 32-bit protected mode uses the linear address (CS base + EIP)', { skip }, () => {
  const e = makeEnv('protected');
  e.gate(1);
  e.code(CODE, [...asm(32, `
    mov eax, target
    mov dr1, eax
    mov eax, ${dr7({ n: 1, rw: EXEC, len: LEN1 })}
    mov dr7, eax
  target:
    inc ebx
    hlt`)]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(1) + 1);
  assert.equal(bits(e), 2);
  assert.equal(Number(e.cpu.getReg64(3)), 0);
});

test('I/O breakpoint (R/W = 10, CR4.DE = 1): #DB trap after OUT to a port in the range; other ports do not hit', { skip }, () => {
  for (const [port, hit] of [[0x80, true], [0x83, true], [0x84, false], [0x7f, false]] as const) {
    const e = env(`
      mov rax, cr4
      or eax, 8
      mov cr4, rax
      mov eax, 0x82
      mov dr0, rax
      mov eax, ${dr7({ n: 0, rw: 2, len: LEN4 })}
      mov dr7, rax
      mov dx, ${port}
      out dx, al
      inc ebx
      hlt`);
    assert.equal(e.cpu.run(100).reason, 'hlt');
    assert.equal(Number(e.cpu.getRip()) === H(1) + 1, hit, `port ${port}`);
    assert.equal(bits(e), hit ? 1 : 0);
    assert.equal(Number(e.cpu.getReg64(3)), hit ? 0 : 1, 'trap after the OUT, before inc ebx');
  }
});

test('instruction breakpoint in real mode (CS base + IP) goes through the IVT', { skip }, () => {
  const e = makeEnv('real');
  e.gate(1);
  e.code(CODE, [...asm(16, `
    mov eax, target
    mov dr0, eax
    mov eax, ${dr7({ n: 0, rw: EXEC, len: LEN1 })}
    mov dr7, eax
  target:
    inc bx
    hlt`)]);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(1) + 1);
  assert.equal(bits(e), 1);
  assert.equal(Number(e.cpu.getReg64(3)) & 0xffff, 0);
});

test('instruction breakpoint on another page: blocks elsewhere run whole, the breakpoint is met after a far branch and mid-block', { skip }, () => {
  const e = env(`
    mov eax, 0x3003
    mov dr1, rax
    mov eax, ${dr7({ n: 1, rw: EXEC, len: LEN1 })}
    mov dr7, rax
    mov ecx, 100
  l: inc edx
    dec ecx
    jnz l
    mov eax, 0x3000
    jmp rax`);
  e.code(0x3000, [0x90, 0x90, 0x90, 0xff, 0xc3, 0xf4]); // nop x3; inc ebx; hlt
  assert.equal(e.cpu.run(1000).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(1) + 1);
  assert.equal(Number(e.r64(e.rsp())), 0x3003);
  assert.equal(Number(e.cpu.getReg64(2)), 100);
  assert.equal(Number(e.cpu.getReg64(3)), 0);
  assert.equal(bits(e), 2);
});

test('a data breakpoint met by MOV SS is reported after the next instruction (SDM vol. 3A §6.8.3)', { skip }, () => {
  const e = env(`
    mov word [${DATA}], 0x10
    mov eax, ${DATA}
    mov dr0, rax
    mov eax, ${dr7({ n: 0, rw: RW, len: LEN2 })}
    mov dr7, rax
    mov ss, [${DATA}]
    inc ebx
  after:
    inc ecx
    hlt`);
  assert.equal(e.cpu.run(100).reason, 'hlt');
  assert.equal(Number(e.cpu.getRip()), H(1) + 1);
  assert.equal(Number(e.cpu.getReg64(3)), 1, 'the instruction after MOV SS ran');
  assert.equal(Number(e.cpu.getReg64(1)), 0);
  assert.equal(e.cpu.mem.read8(Number(e.r64(e.rsp()))), 0xff, 'saved RIP: inc ecx');
  assert.equal(bits(e), 1);
});
