/**
 * Near CALL/RET/JMP, LOOP family, JCXZ family and the real-mode far transfers (SDM vol. 2A CALL,
 * JMP, Jcc; vol. 2B LOOP, RET). Expectations come from the SDM pseudo-code; the 32-bit-address
 * LOOP zero-extension and the far CALL CS slot were measured on an Intel host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCode } from './run';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, StartMode } from '../../src/x86/modes';
import { decodeOne } from '../../src/x86/decoded';
import { translateInsn } from '../../src/x86/insnOp';
import { CpuException } from '../../src/x86/exceptions';

const GP = 13;

/** A processor with `code` at `at`, not yet run (for setups runCode cannot express). */
function prepare(code: number[], mode: StartMode, at = 0x1000): Cpu {
  const mem = new PhysicalMemory(0x100000);
  mem.load(at, Uint8Array.from(code));
  const cpu = new Cpu(mem);
  enterMode(cpu, mode);
  cpu.setRip(at);
  cpu.setReg64(4, 0x8000);
  return cpu;
}

function u64(r: ReturnType<typeof runCode>, addr: number): bigint {
  const b = r.mem.readBytes(addr, 8);
  return new DataView(b.buffer).getBigUint64(0, true);
}
function u16(mem: PhysicalMemory, addr: number): number {
  return mem.read8(addr) | (mem.read8(addr + 1) << 8);
}
function u32(mem: PhysicalMemory, addr: number): number {
  return (u16(mem, addr) | (u16(mem, addr + 2) << 16)) >>> 0;
}

/** Run the op of one instruction decoded at `ip` on a fresh 64-bit processor. */
function execAt(bytes: number[], ip: bigint, init?: (c: Cpu) => void): { cpu: Cpu; error: unknown } {
  const cpu = prepare([0xf4], 'long');
  init?.(cpu);
  const d = decodeOne(Uint8Array.from(bytes), 64, ip);
  const op = translateInsn(d);
  cpu.setRip(ip);
  try {
    op(cpu);
    return { cpu, error: null };
  } catch (e) {
    return { cpu, error: e };
  }
}

// ---- 64-bit near CALL / RET / JMP -------------------------------------------------------------

test('64-bit CALL rel32 pushes the 8-byte return address and RET pops it', () => {
  // 1000: call 1006 / 1005: hlt / 1006: mov rax,[rsp] / 100a: ret
  const r = runCode([0xe8, 0x01, 0, 0, 0, 0xf4, 0x48, 0x8b, 0x04, 0x24, 0xc3]);
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax'), 0x1005n);
  assert.equal(u64(r, 0x7ff8), 0x1005n);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.cpu.getRip(), 0x1006n);
  assert.equal(r.cpu.icount, 4);
});

test('64-bit: 66h on CALL/RET is ignored (Intel), the push is still 8 bytes', () => {
  // 1000: 66 call 1007 / 1006: hlt / 1007: mov rax,rsp / 100a: 66 ret
  const r = runCode([0x66, 0xe8, 0x01, 0, 0, 0, 0xf4, 0x48, 0x89, 0xe0, 0x66, 0xc3]);
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax'), 0x7ff8n);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.cpu.getRip(), 0x1007n);
});

test('64-bit RET imm16 releases the parameters after popping', () => {
  // rsp = 0x7ff0 (two parameters above) / 1000: call 1006 / 1005: hlt / 1006: ret 16
  const r = runCode([0xe8, 0x01, 0, 0, 0, 0xf4, 0xc2, 0x10, 0x00], { regs: { rsp: 0x7ff0 } });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.cpu.getRip(), 0x1006n);
});

test('64-bit indirect CALL and JMP through registers and memory', () => {
  // 1000: mov rax, 0x1020 / call rax / hlt
  // 1020: mov qword [0x3000], 0x1038 / jmp [0x3000]
  // 1038: mov rbx, [rsp] / ret
  const code = new Array(0x40).fill(0x90);
  code.splice(0, 11, 0x48, 0xc7, 0xc0, 0x20, 0x10, 0, 0, 0xff, 0xd0, 0xf4, 0x90);
  code.splice(0x20, 19, 0x48, 0xc7, 0x04, 0x25, 0x00, 0x30, 0, 0, 0x38, 0x10, 0, 0, 0xff, 0x24, 0x25, 0x00, 0x30, 0, 0);
  code.splice(0x38, 5, 0x48, 0x8b, 0x1c, 0x24, 0xc3);
  const r = runCode(code);
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rbx'), 0x1009n);
  assert.equal(r.cpu.getRip(), 0x100an);
  assert.equal(r.reg('rsp'), 0x8000n);
});

test('CALL [rsp] / CALL rsp read the target before the push', () => {
  // [rsp] = 0x1010 / 1000: call [rsp] ; 1010: hlt
  const code = new Array(0x20).fill(0x90);
  code.splice(0, 3, 0xff, 0x14, 0x24);
  code[0x10] = 0xf4;
  const r = runCode(code, { regs: { rsp: 0x7ff8 }, memory: [[0x7ff8, [0x10, 0x10]]] });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.cpu.getRip(), 0x1011n);
  assert.equal(r.reg('rsp'), 0x7ff0n);
  assert.equal(u64(r, 0x7ff0), 0x1003n);
  // call rsp: the target is RSP before the push
  const s = runCode([0xff, 0xd4], { regs: { rsp: 0x3000 }, memory: [[0x3000, [0xf4]]] });
  assert.equal(s.result.reason, 'hlt');
  assert.equal(s.cpu.getRip(), 0x3001n);
  assert.equal(s.reg('rsp'), 0x2ff8n);
});

test('64-bit: a non-canonical CALL target is #GP(0) at the CALL, RSP unchanged (return address written, as measured)', () => {
  // mov rax, 0x0000800000000000 / call rax
  const call = runCode([0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0, 0, 0xff, 0xd0], { memory: [[0x7ff8, [0xaa]]] });
  assert.equal(call.result.reason, 'exception');
  assert.equal(call.result.exception?.vector, GP);
  assert.equal(call.result.exception?.errorCode, 0);
  assert.equal(call.cpu.getRip(), 0x100an);
  assert.equal(call.reg('rsp'), 0x8000n);
  assert.equal(u64(call, 0x7ff8), 0x100cn);
  // a stack fault comes first: RSP non-canonical -> #SS
  const ss = runCode([0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0, 0, 0xff, 0xd0], { regs: { rsp: 0x0000800000000008n } });
  assert.equal(ss.result.exception?.vector, 12);
  // jmp rax
  const jmp = runCode([0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0, 0, 0xff, 0xe0]);
  assert.equal(jmp.result.exception?.vector, GP);
  assert.equal(jmp.cpu.getRip(), 0x100an);
});

test('64-bit: RET to a non-canonical address is #GP(0) with RSP unchanged', () => {
  // [rsp] = 0xffff700000000000 / ret
  const r = runCode([0xc3], { regs: { rsp: 0x7ff8 }, memory: [[0x7ff8, [0, 0, 0, 0, 0, 0x70, 0xff, 0xff]]] });
  assert.equal(r.result.exception?.vector, GP);
  assert.equal(r.cpu.getRip(), 0x1000n);
  assert.equal(r.reg('rsp'), 0x7ff8n);
});

test('64-bit: relative branches to a non-canonical target fault only when taken', () => {
  const ip = 0x7ffffffffff0n;
  // jmp rel32 +0x100 crosses the canonical boundary
  let x = execAt([0xe9, 0x00, 0x01, 0, 0], ip);
  assert.ok(x.error instanceof CpuException && x.error.vector === GP);
  // call rel32: RSP unchanged, the return address written (measured on silicon)
  x = execAt([0xe8, 0x00, 0x01, 0, 0], ip);
  assert.ok(x.error instanceof CpuException && x.error.vector === GP);
  assert.equal(x.cpu.getReg64(4), 0x8000n);
  assert.equal(x.cpu.read64(0x7ff8, 0), 0xfffffff5 | 0);
  assert.equal(x.cpu.vHi, 0x7fff);
  // je: not taken (ZF=0) falls through; taken faults
  x = execAt([0x74, 0x7f], 0x7fffffffffc0n, (c) => c.setRflags(0x2));
  assert.equal(x.error, null);
  assert.equal(x.cpu.getRip(), 0x7fffffffffc2n);
  x = execAt([0x0f, 0x84, 0x00, 0x01, 0, 0], ip, (c) => c.setRflags(0x42));
  assert.ok(x.error instanceof CpuException && x.error.vector === GP);
  // loop: taken -> #GP and RCX unchanged
  x = execAt([0xe2, 0x7f], 0x7fffffffffc0n, (c) => c.setReg64(1, 5));
  assert.ok(x.error instanceof CpuException && x.error.vector === GP);
  assert.equal(x.cpu.getReg64(1), 5n);
  // a canonical target in the upper half is fine
  x = execAt([0xe9, 0x00, 0x01, 0, 0], 0xffff800000000000n);
  assert.equal(x.error, null);
  assert.equal(x.cpu.getRip(), 0xffff800000000105n);
});

// ---- 32-bit protected mode --------------------------------------------------------------------

test('32-bit: CALL/RET push 4 bytes; 66h makes them 16-bit and truncates EIP', () => {
  // 1000: call 100a / 1005: 66 call 1010 (rel16 8) / 1009: hlt / 100a: mov eax,[esp] / ret
  // 1010: mov bx, [esp] ; 66 8b 1c 24 / 66 c3 (16-bit ret)
  const code = new Array(0x20).fill(0x90);
  code.splice(0, 10, 0xe8, 0x05, 0, 0, 0, 0x66, 0xe8, 0x07, 0x00, 0xf4);
  code.splice(0x0a, 4, 0x8b, 0x04, 0x24, 0xc3);
  code.splice(0x10, 6, 0x66, 0x8b, 0x1c, 0x24, 0x66, 0xc3);
  const r = runCode(code, { mode: 'protected' });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax'), 0x1005n);
  assert.equal(r.reg('rbx') & 0xffffn, 0x1009n);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.cpu.getRip(), 0x100an);
});

test('32-bit: a branch beyond CS.limit is #GP(0) with RIP and ESP unchanged', () => {
  // jmp 0x3000 (rel32), CS limit 0x1fff
  const cpu = prepare([0xe9, 0xfb, 0x1f, 0, 0], 'protected');
  cpu.segLimit[1] = 0x1fff;
  let res = cpu.run(10);
  assert.equal(res.exception?.vector, GP);
  assert.equal(cpu.getRip(), 0x1000n);
  // call 0x3000: ESP unchanged, the return address written first (measured in compatibility
  // mode with a limited LDT code segment)
  const c2 = prepare([0xe8, 0xfb, 0x1f, 0, 0], 'protected');
  c2.segLimit[1] = 0x1fff;
  res = c2.run(10);
  assert.equal(res.exception?.vector, GP);
  assert.equal(c2.getRip(), 0x1000n);
  assert.equal(c2.getReg64(4), 0x8000n);
  assert.equal(u32(c2.mem, 0x7ffc), 0x1005);
  // ret to 0x3000
  const c3 = prepare([0xc3], 'protected');
  c3.mem.load(0x7ffc, Uint8Array.from([0x00, 0x30, 0, 0]));
  c3.setReg64(4, 0x7ffc);
  c3.segLimit[1] = 0x1fff;
  res = c3.run(10);
  assert.equal(res.exception?.vector, GP);
  assert.equal(c3.getRip(), 0x1000n);
  assert.equal(c3.getReg64(4), 0x7ffcn);
  // jz taken beyond the limit
  const c4 = prepare([0x31, 0xc0, 0x0f, 0x84, 0x00, 0x20, 0, 0], 'protected');
  c4.segLimit[1] = 0x1fff;
  res = c4.run(10);
  assert.equal(res.exception?.vector, GP);
  assert.equal(c4.getRip(), 0x1002n);
  // loop taken beyond the limit: ECX not decremented
  const c5 = prepare([0xb9, 0x05, 0, 0, 0, 0x67, 0xe2, 0x7f], 'protected', 0x1f80);
  c5.segLimit[1] = 0x1fff;
  res = c5.run(10);
  assert.equal(res.exception?.vector, GP);
  assert.equal(c5.getRip(), 0x1f85n);
  assert.equal(c5.getReg64(1), 5n);
});

test('32-bit indirect JMP with a 16-bit operand truncates EIP', () => {
  // mov eax, 0x12341010 / 66 jmp ax -> EIP = 0x1010
  const code = new Array(0x20).fill(0x90);
  code.splice(0, 8, 0xb8, 0x10, 0x10, 0x34, 0x12, 0x66, 0xff, 0xe0);
  code[0x10] = 0xf4;
  const r = runCode(code, { mode: 'protected' });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.cpu.getRip(), 0x1011n);
});

// ---- real-address mode ------------------------------------------------------------------------

test('real mode: CALL rel16 / RET with a 16-bit stack', () => {
  // 1000: call 1004 / 1003: hlt / 1004: mov bp,sp / mov ax,[bp] / ret
  const r = runCode([0xe8, 0x01, 0x00, 0xf4, 0x89, 0xe5, 0x8b, 0x46, 0x00, 0xc3], { mode: 'real' });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax') & 0xffffn, 0x1003n);
  assert.equal(u16(r.mem, 0x7ffe), 0x1003);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.cpu.getRip(), 0x1004n);
});

test('real mode: IP wraps around 64 KiB on JMP and CALL rel16', () => {
  // fff0: jmp rel16 +0x1d -> (0xfff3 + 0x1d) & 0xffff = 0x0010 ; 0010: hlt
  const j = runCode([0xe9, 0x1d, 0x00], { mode: 'real', loadAt: 0xfff0, memory: [[0x10, [0xf4]]] });
  assert.equal(j.result.reason, 'hlt');
  assert.equal(j.cpu.getRip(), 0x11n);
  // fff0: call -> 0x0010, pushes 0xfff3; 0010: ret ; fff3: hlt
  const c = runCode([0xe8, 0x1d, 0x00, 0xf4], { mode: 'real', loadAt: 0xfff0, memory: [[0x10, [0xc3]]] });
  assert.equal(c.result.reason, 'hlt');
  assert.equal(u16(c.mem, 0x7ffe), 0xfff3);
  assert.equal(c.cpu.getRip(), 0xfff4n);
  // short jmp backwards from 0x0002 to 0xfff0
  const b = runCode([0xeb, 0xee], { mode: 'real', loadAt: 0x0000, memory: [[0xfff0, [0xf4]]] });
  assert.equal(b.result.reason, 'hlt');
  assert.equal(b.cpu.getRip(), 0xfff1n);
});

test('real mode: 16-bit stack pointer wraps on CALL', () => {
  // sp = 0x0001: the return address goes to 0xffff..0x0000? No: SP-2 = 0xffff, a word at 0xffff
  // exceeds SS.limit (0xffff) -> #SS. With SP = 0: the word goes to 0xfffe.
  const r = runCode([0xe8, 0x01, 0x00, 0xf4, 0xf4], { mode: 'real', regs: { rsp: 0 } });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rsp'), 0xfffen);
  assert.equal(u16(r.mem, 0xfffe), 0x1003);
  const s = runCode([0xe8, 0x01, 0x00, 0xf4, 0xf4], { mode: 'real', regs: { rsp: 1 } });
  assert.equal(s.result.exception?.vector, 12);
  assert.equal(s.reg('rsp'), 1n);
  assert.equal(s.cpu.getRip(), 0x1000n);
});

test('real mode: far JMP ptr16:16 loads CS = selector, base = selector * 16', () => {
  // jmp 0x0110:0x0005 -> linear 0x1105: hlt
  const r = runCode([0xea, 0x05, 0x00, 0x10, 0x01], { mode: 'real', memory: [[0x1105, [0xf4]]] });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.cpu.segSel[1], 0x110);
  assert.equal(r.cpu.segBaseLo[1], 0x1100);
  assert.equal(r.cpu.getRip(), 0x6n);
});

test('real mode: far JMP m16:16 and a jump back into the first code', () => {
  // 1000: jmp far [0x2000] ; [0x2000] = 0x0004:0x0200 -> linear 0x240: jmp 0:0x1100 ; 1100: hlt
  const r = runCode([0xff, 0x2e, 0x00, 0x20], {
    mode: 'real',
    memory: [[0x2000, [0x00, 0x02, 0x04, 0x00]], [0x240, [0xea, 0x00, 0x11, 0x00, 0x00]], [0x1100, [0xf4]]],
  });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.cpu.segSel[1], 0);
  assert.equal(r.cpu.segBaseLo[1], 0);
  assert.equal(r.cpu.getRip(), 0x1101n);
});

test('real mode: far CALL pushes CS then IP; RETF and RETF imm16 return', () => {
  // sp = 0x7ffe (one parameter) / 1000: call 0x0200:0x0000 (linear 0x2000) / 1005: hlt
  // 2000: mov ax,[esp] ; 67 8b 04 24 / mov bx,[esp+2] ; 67 8b 5c 24 02 / retf 2
  const r = runCode([0x9a, 0x00, 0x00, 0x00, 0x02, 0xf4], {
    mode: 'real',
    regs: { rsp: 0x7ffe },
    memory: [[0x2000, [0x67, 0x8b, 0x04, 0x24, 0x67, 0x8b, 0x5c, 0x24, 0x02, 0xca, 0x02, 0x00]]],
  });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax') & 0xffffn, 0x1005n);
  assert.equal(r.reg('rbx') & 0xffffn, 0x0000n);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.cpu.segSel[1], 0);
  assert.equal(r.cpu.getRip(), 0x1006n);
});

test('real mode: 32-bit far CALL pushes a zero-extended CS and EIP; 66 RETF pops them', () => {
  // CS = 0x0100 (base 0x1000), IP = 0: 66 call 0x0300:0x00000000 / hlt ; 3000: 66 retf
  const cpu = prepare([0x66, 0x9a, 0, 0, 0, 0, 0x00, 0x03, 0xf4], 'real', 0x1000);
  cpu.mem.load(0x3000, Uint8Array.from([0x66, 0xcb]));
  cpu.mem.load(0x7ff8, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  // Make CS = 0x0100 with IP 0: the code at linear 0x1000.
  cpu.segSel[1] = 0x100;
  cpu.segBaseLo[1] = 0x1000;
  cpu.setRip(0);
  assert.equal(cpu.run(1).reason, 'limit');
  assert.equal(cpu.getReg64(4), 0x7ff8n);
  assert.equal(u32(cpu.mem, 0x7ffc), 0x100);
  assert.equal(u32(cpu.mem, 0x7ff8), 0x8);
  assert.equal(cpu.segSel[1], 0x300);
  assert.equal(cpu.getRip(), 0n);
  assert.equal(cpu.run(10).reason, 'hlt');
  assert.equal(cpu.segSel[1], 0x100);
  assert.equal(cpu.getRip(), 0x9n);
  assert.equal(cpu.getReg64(4), 0x8000n);
  assert.equal(cpu.icount, 3);
});

test('real mode: far CALL m16:16 through memory', () => {
  // call far [bx] with [0x2000] = 0x0300:0x0010 -> linear 0x3010: retf
  const r = runCode([0xbb, 0x00, 0x20, 0xff, 0x1f, 0xf4], {
    mode: 'real', memory: [[0x2000, [0x10, 0x00, 0x00, 0x03]], [0x3010, [0xcb]]],
  });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.cpu.getRip(), 0x1006n);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.cpu.icount, 4);
});

test('real mode: far JMP beyond CS.limit is #GP(0) and CS is unchanged', () => {
  const cpu = prepare([0x66, 0xea, 0x00, 0x00, 0x01, 0x00, 0x00, 0x02], 'real'); // jmp 0x200:0x10000
  const res = cpu.run(10);
  assert.equal(res.exception?.vector, GP);
  assert.equal(cpu.segSel[1], 0);
  assert.equal(cpu.getRip(), 0x1000n);
});

test('real mode: a far return that pops an offset beyond CS.limit is #GP(0), SP unchanged', () => {
  // [sp] = 0x00010000 (EIP), [sp+4] = 0 (CS) / 66 retf
  const r = runCode([0x66, 0xcb], { mode: 'real', regs: { rsp: 0x7ff8 }, memory: [[0x7ff8, [0, 0, 1, 0, 0, 0, 0, 0]]] });
  assert.equal(r.result.exception?.vector, GP);
  assert.equal(r.reg('rsp'), 0x7ff8n);
  assert.equal(r.cpu.getRip(), 0x1000n);
});

// ---- LOOP / JCXZ -------------------------------------------------------------------------------

test('LOOP counts RCX down without touching the flags', () => {
  // CF = 1 / mov rcx,5 / l: inc rax / loop l / hlt ; inc rax does not touch CF
  const r = runCode([0x48, 0xc7, 0xc1, 0x05, 0, 0, 0, 0x48, 0xff, 0xc0, 0xe2, 0xfb, 0xf4], { rflags: 0x3 });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax'), 5n);
  assert.equal(r.reg('rcx'), 0n);
  assert.equal(r.cpu.cf, 1);
  assert.equal(r.cpu.icount, 1 + 5 * 2 + 1);
});

test('LOOP with RCX = 0 runs 2^64 times in theory: one step shows the 64-bit decrement', () => {
  // rcx = 0x100000000: loop -> 0xffffffff, taken
  const r = runCode([0xe2, 0xfe], { regs: { rcx: 0x100000000n }, maxInstructions: 1 });
  assert.equal(r.reg('rcx'), 0xffffffffn);
  assert.equal(r.cpu.getRip(), 0x1000n);
  const z = runCode([0xe2, 0xfe], { regs: { rcx: 0n }, maxInstructions: 1 });
  assert.equal(z.reg('rcx'), 0xffffffffffffffffn);
});

test('64-bit LOOP with a 32-bit address size uses ECX and zero-extends RCX (measured)', () => {
  // rcx = 0xdeadbeef00000003: 67 loop $ runs 3 times, RCX = 0
  const r = runCode([0x67, 0xe2, 0xfd, 0xf4], { regs: { rcx: 0xdeadbeef00000003n } });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rcx'), 0n);
  assert.equal(r.cpu.icount, 4);
  const once = runCode([0x67, 0xe2, 0x00, 0xf4], { regs: { rcx: 0xdeadbeef00000005n } });
  assert.equal(once.reg('rcx'), 4n);
});

test('LOOPE stops when ZF = 0, LOOPNE when ZF = 1', () => {
  // Scan while equal. Memory: 7 7 7 9
  // mov rcx,10 / l: inc rsi / cmp al,[rsi-1] / loope l / hlt
  const code = [0x48, 0xc7, 0xc1, 0x0a, 0, 0, 0, 0x48, 0xff, 0xc6, 0x3a, 0x46, 0xff, 0xe1, 0xf8, 0xf4];
  const e = runCode(code, { regs: { rax: 7, rsi: 0x3000 }, memory: [[0x3000, [7, 7, 7, 9, 7]]] });
  assert.equal(e.result.reason, 'hlt');
  assert.equal(e.reg('rsi'), 0x3004n);
  assert.equal(e.reg('rcx'), 6n);
  const ne = code.slice();
  ne[13] = 0xe0; // loopne
  const n = runCode(ne, { regs: { rax: 9, rsi: 0x3000 }, memory: [[0x3000, [7, 7, 7, 9, 7]]] });
  assert.equal(n.reg('rsi'), 0x3004n);
  assert.equal(n.reg('rcx'), 6n);
  // the counter reaching 0 ends LOOPE even when ZF = 1
  const z = runCode(code, { regs: { rax: 7, rsi: 0x3000 }, memory: [[0x3000, new Array(16).fill(7)]] });
  assert.equal(z.reg('rcx'), 0n);
  assert.equal(z.reg('rsi'), 0x300an);
});

test('real mode LOOP uses CX only; 67h selects ECX', () => {
  // mov ecx, 0x00010002 / l: loop l / hlt -> CX 2 -> 0, upper half of ECX kept
  const r = runCode([0x66, 0xb9, 0x02, 0x00, 0x01, 0x00, 0xe2, 0xfe, 0xf4], { mode: 'real' });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rcx'), 0x10000n);
  // 67 loop: ECX = 0x00010002 -> 0
  const e = runCode([0x66, 0xb9, 0x02, 0x00, 0x01, 0x00, 0x67, 0xe2, 0xfd, 0xf4], { mode: 'real' });
  assert.equal(e.result.reason, 'hlt');
  assert.equal(e.reg('rcx'), 0n);
  assert.equal(e.cpu.icount, 1 + 0x10002 + 1);
});

test('JRCXZ / JECXZ / JCXZ test the counter of their size', () => {
  // jrcxz +1 / hlt / hlt : taken when RCX = 0 -> stops at 1003
  const t = runCode([0xe3, 0x01, 0xf4, 0xf4], { regs: { rcx: 0 } });
  assert.equal(t.cpu.getRip(), 0x1004n);
  const nt = runCode([0xe3, 0x01, 0xf4, 0xf4], { regs: { rcx: 0x100000000n } });
  assert.equal(nt.cpu.getRip(), 0x1003n);
  // 67 jecxz: ECX = 0 with upper bits set -> taken, RCX untouched
  const e = runCode([0x67, 0xe3, 0x01, 0xf4, 0xf4], { regs: { rcx: 0x100000000n } });
  assert.equal(e.cpu.getRip(), 0x1005n);
  assert.equal(e.reg('rcx'), 0x100000000n);
  // real mode jcxz: CX = 0 with ECX = 0x10000 -> taken
  const c = runCode([0xe3, 0x01, 0xf4, 0xf4], { mode: 'real', regs: { rcx: 0x10000 } });
  assert.equal(c.cpu.getRip(), 0x1004n);
});

test('real mode: far CALL to an offset beyond CS.limit is #GP(0) after storing the return address', () => {
  // 66 call 0x0200:0x00010000 (beyond the 64 KiB limit)
  const r = runCode([0x66, 0x9a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x02], { mode: 'real' });
  assert.equal(r.result.exception?.vector, GP);
  assert.equal(r.cpu.getRip(), 0x1000n);
  assert.equal(r.reg('rsp'), 0x8000n);
  assert.equal(r.cpu.segSel[1], 0);
  assert.equal(u32(r.mem, 0x7ffc), 0);
  assert.equal(u32(r.mem, 0x7ff8), 0x1008);
});
