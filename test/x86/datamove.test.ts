// Data movement: MOVZX, MOVSX, MOVSXD, XCHG, CMPXCHG, CMPXCHG8B/16B, XADD, BSWAP, LEA, MOVBE, and
// the MOV forms with moffs and segment registers. Expectations follow the SDM instruction pages;
// the cases the SDM leaves open were measured on an Intel host (noted at each test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCode, Ran, RunSetup } from './run';
import { Cpu } from '../../src/x86/cpu';
import { CpuidModel, DEFAULT_CPUID } from '../../src/x86/cpuid';
import { enterMode } from '../../src/x86/modes';
import { PhysicalMemory } from '../../src/x86/physicalMemory';

/** Bytes from a hex string ("48 89 c8 ..."); HLT is appended. */
function hx(s: string): number[] {
  return [...s.trim().split(/\s+/).map((b) => parseInt(b, 16)), 0xf4];
}

function run(code: string, setup: RunSetup = {}): Ran {
  return runCode(hx(code), setup);
}

function halted(r: Ran): void {
  assert.equal(r.result.reason, 'hlt', r.result.exception ? `stopped by ${r.result.exception.name}: ${r.result.exception.text}` : '');
}

/** Little-endian value of n bytes at a physical address. */
function memAt(r: Ran, addr: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(r.mem.read8(addr + i));
  return v;
}

function bytesLE(v: bigint, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

function flags(r: Ran): number {
  return r.cpu.getRflags();
}
const CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;

// ---- MOVZX / MOVSX / MOVSXD ------------------------------------------------------------------
test('MOVZX zero-extends bytes and words, from AH and from memory', () => {
  // movzx eax, ah / movzx rcx, word [0x3000] / movzx dx, bl (66 0f b6 d3) / movzx si, di (66 0f b7 f7)
  const r = run('0f b6 c4  48 0f b7 0c 25 00 30 00 00  66 0f b6 d3  66 0f b7 f7', {
    regs: { rax: 0xffffffff_ffff85ffn, rdx: 0x11111111_22223333n, rbx: 0x99, rsi: 0x55555555_55555555n, rdi: 0xabcdn },
    memory: [[0x3000, [0xfe, 0xff]]],
  });
  halted(r);
  assert.equal(r.reg('rax'), 0x85n);
  assert.equal(r.reg('rcx'), 0xfffen);
  assert.equal(r.reg('rdx'), 0x11111111_22220099n);
  assert.equal(r.reg('rsi'), 0x55555555_5555abcdn);
});

test('MOVSX sign-extends into 16, 32 and 64-bit destinations', () => {
  // movsx eax, ah / movsx ecx, word [0x3000] / movsx dx, bl / movsx rsi, di (48 0f bf f7)
  const r = run('0f be c4  0f bf 0c 25 00 30 00 00  66 0f be d3  48 0f bf f7', {
    regs: { rax: 0x80ff, rcx: 0xffffffff_00000000n, rdx: 0x11111111_22223333n, rbx: 0x81, rdi: 0x7fff },
    memory: [[0x3000, [0x00, 0x80]]],
  });
  halted(r);
  assert.equal(r.reg('rax'), 0xffffff80n);
  assert.equal(r.reg('rcx'), 0xffff8000n);
  assert.equal(r.reg('rdx'), 0x11111111_2222ff81n);
  assert.equal(r.reg('rsi'), 0x7fffn);
});

test('MOVSXD: REX.W sign-extends; the 32-bit form zero-extends; the 16-bit form keeps the upper bits (measured)', () => {
  // movsxd rax, ecx / movsxd ebx, ecx (63 d9) / movsxd dx, cx (66 63 d1) / movsxd rsi, [0x3000]
  const r = run('48 63 c1  63 d9  66 63 d1  48 63 34 25 00 30 00 00', {
    regs: { rcx: 0x80000080_fedc8a98n, rbx: 0x11111111_11111111n, rdx: 0x11111111_11111111n },
    memory: [[0x3000, [0x01, 0x00, 0x00, 0x80]]],
  });
  halted(r);
  assert.equal(r.reg('rax'), 0xffffffff_fedc8a98n);
  assert.equal(r.reg('rbx'), 0xfedc8a98n);
  assert.equal(r.reg('rdx'), 0x11111111_11118a98n);
  assert.equal(r.reg('rsi'), 0xffffffff_80000001n);
});

test('MOVZX/MOVSX in 16-bit real mode with 16-bit addressing', () => {
  // movzx ax, byte [bx+si] / movsx ecx, byte [bx+si+1] (66 0f be 48 01)
  const r = run('0f b6 00  66 0f be 48 01', { mode: 'real', regs: { rbx: 0x3000, rsi: 0x10 }, memory: [[0x3010, [0xf0, 0x90]]] });
  halted(r);
  assert.equal(r.reg('rax'), 0xf0n);
  assert.equal(r.reg('rcx') & 0xffffffffn, 0xffffff90n);
});

// ---- XCHG ------------------------------------------------------------------------------------
test('XCHG register forms; 87 C0 zero-extends RAX while 90 is NOP; 41 90 is xchg r8d, eax', () => {
  let r = run('87 c0', { regs: { rax: 0x11111111_22222222n } });
  halted(r);
  assert.equal(r.reg('rax'), 0x22222222n);
  r = run('90', { regs: { rax: 0x11111111_22222222n } });
  assert.equal(r.reg('rax'), 0x11111111_22222222n);
  r = run('41 90', { regs: { rax: 0x11111111_22222222n, r8: 0x33333333_44444444n } });
  assert.equal(r.reg('rax'), 0x44444444n);
  assert.equal(r.reg('r8'), 0x22222222n);
  // xchg rcx, rax (48 91) / xchg ah, al (86 e0)
  r = run('48 91  86 e0', { regs: { rax: 0x1234, rcx: 0x11111111_22223344n } });
  assert.equal(r.reg('rcx'), 0x1234n);
  assert.equal(r.reg('rax'), 0x11111111_22224433n);
  // 16-bit: xchg cx, ax (91) keeps the upper halves
  r = run('91', { mode: 'real', regs: { rax: 0xaaaa1111, rcx: 0xbbbb2222 } });
  halted(r);
  assert.equal(r.reg('rax'), 0xaaaa2222n);
  assert.equal(r.reg('rcx'), 0xbbbb1111n);
});

test('XCHG with memory, with and without LOCK, all sizes', () => {
  // xchg [0x3000], rax / lock xchg [0x3008], ecx / xchg dl, [0x3010] / xchg [0x3012], bx
  const r = run('48 87 04 25 00 30 00 00  f0 87 0c 25 08 30 00 00  86 14 25 10 30 00 00  66 87 1c 25 12 30 00 00', {
    regs: { rax: 0x01020304_05060708n, rcx: 0xffffffff_aabbccddn, rdx: 0x77, rbx: 0x99998888n },
    memory: [[0x3000, [...bytesLE(0x1122334455667788n, 8), 0x10, 0x20, 0x30, 0x40, 0, 0, 0, 0, 0x55, 0, 0x34, 0x12]]],
  });
  halted(r);
  assert.equal(r.reg('rax'), 0x11223344_55667788n);
  assert.equal(memAt(r, 0x3000, 8), 0x01020304_05060708n);
  assert.equal(r.reg('rcx'), 0x40302010n);
  assert.equal(memAt(r, 0x3008, 4), 0xaabbccddn);
  assert.equal(r.reg('rdx'), 0x55n);
  assert.equal(memAt(r, 0x3010, 1), 0x77n);
  assert.equal(r.reg('rbx'), 0x99991234n);
  assert.equal(memAt(r, 0x3012, 2), 0x8888n);
});

test('LOCK on a register XCHG is #UD', () => {
  const r = run('f0 87 c1');
  assert.equal(r.result.exception?.vector, 6);
});

// ---- CMPXCHG ---------------------------------------------------------------------------------
test('CMPXCHG r32 in 64-bit mode: success writes (zero-extends) only the destination (measured)', () => {
  // cmpxchg ecx, edx
  const r = run('0f b1 d1', { regs: { rax: 0xaaaaaaaa_00000005n, rcx: 0xcccccccc_00000005n, rdx: 0xdddddddd_00000009n } });
  halted(r);
  assert.equal(r.reg('rax'), 0xaaaaaaaa_00000005n);
  assert.equal(r.reg('rcx'), 9n);
  assert.equal(flags(r) & 0x8d5, ZF | PF);
});

test('CMPXCHG r32 in 64-bit mode: failure writes (zero-extends) only EAX (measured)', () => {
  const r = run('0f b1 d1', { regs: { rax: 0xaaaaaaaa_00000005n, rcx: 0xcccccccc_00000006n, rdx: 0xdddddddd_00000009n } });
  halted(r);
  assert.equal(r.reg('rax'), 6n);
  assert.equal(r.reg('rcx'), 0xcccccccc_00000006n);
  // flags of 5 - 6: CF, SF, AF, PF (0xff has even parity)
  assert.equal(flags(r) & 0x8d5, CF | SF | AF | PF);
});

test('CMPXCHG eax, ecx (destination is the accumulator) succeeds and zero-extends (measured)', () => {
  const r = run('0f b1 c8', { regs: { rax: 0xaaaaaaaa_00000005n, rcx: 0xcccccccc_00000007n } });
  assert.equal(r.reg('rax'), 7n);
  assert.equal(r.reg('rcx'), 0xcccccccc_00000007n);
});

test('CMPXCHG 8/16-bit register forms', () => {
  // cmpxchg cx, dx (fails: ax := cx, upper bits kept) / cmpxchg bh, dl (succeeds)
  let r = run('66 0f b1 d1', { regs: { rax: 0xaaaaaaaa_00000005n, rcx: 0xcccccccc_00000006n } });
  assert.equal(r.reg('rax'), 0xaaaaaaaa_00000006n);
  assert.equal(r.reg('rcx'), 0xcccccccc_00000006n);
  r = run('0f b0 d7', { regs: { rax: 0x42, rbx: 0x4200, rdx: 0x99 } });
  assert.equal(r.reg('rbx'), 0x9900n);
  assert.equal(flags(r) & ZF, ZF);
});

test('CMPXCHG m64: success stores the source; failure loads RAX and leaves memory unchanged', () => {
  // lock cmpxchg [0x3000], rcx ; twice: the first succeeds, the second fails
  const r = run('f0 48 0f b1 0c 25 00 30 00 00  48 89 c3  f0 48 0f b1 0c 25 00 30 00 00', {
    regs: { rax: 0x11111111_22222222n, rcx: 0x33333333_44444444n },
    memory: [[0x3000, bytesLE(0x11111111_22222222n, 8)]],
  });
  halted(r);
  assert.equal(memAt(r, 0x3000, 8), 0x33333333_44444444n);
  assert.equal(r.reg('rbx'), 0x11111111_22222222n);
  assert.equal(r.reg('rax'), 0x33333333_44444444n);
  assert.equal(flags(r) & ZF, 0);
});

test('CMPXCHG m8/m16/m32 in 32-bit protected mode', () => {
  // cmpxchg [0x3000], bl (fails) / cmpxchg [0x3004], cx (succeeds) / cmpxchg [0x3008], edx (fails)
  const r = run('0f b0 1d 00 30 00 00  66 0f b1 0d 04 30 00 00  0f b1 15 08 30 00 00', {
    mode: 'protected',
    regs: { rax: 0x12345678, rbx: 0x11, rcx: 0xbeef, rdx: 0x0f0f0f0f },
    memory: [[0x3000, [0x80, 0, 0, 0, 0x80, 0x56, 0, 0, 0x01, 0x02, 0x03, 0x04]]],
  });
  halted(r);
  // The first fails and loads AL := 0x80, so AX = 0x5680 matches the word and the second succeeds.
  assert.equal(memAt(r, 0x3000, 1), 0x80n);
  assert.equal(memAt(r, 0x3004, 2), 0xbeefn);
  assert.equal(memAt(r, 0x3008, 4), 0x04030201n);
  assert.equal(r.reg('rax'), 0x04030201n);
});

// ---- CMPXCHG8B / CMPXCHG16B ------------------------------------------------------------------
test('CMPXCHG8B in 64-bit mode: success keeps RAX/RDX; failure zero-extends them (measured)', () => {
  const code = '0f c7 0c 25 00 30 00 00';
  const regs = { rax: 0xaaaaaaaa_00000001n, rdx: 0xdddddddd_00000002n, rbx: 0xbbbbbbbb_bbbbbbbbn, rcx: 0xcccccccc_ccccccccn };
  let r = run(code, { regs, memory: [[0x3000, bytesLE(0x00000002_00000001n, 8)]], rflags: 0x8d5 });
  halted(r);
  assert.equal(memAt(r, 0x3000, 8), 0xcccccccc_bbbbbbbbn);
  assert.equal(r.reg('rax'), 0xaaaaaaaa_00000001n);
  assert.equal(r.reg('rdx'), 0xdddddddd_00000002n);
  assert.equal(flags(r) & 0x8d5, 0x8d5); // only ZF changes (it was already set)
  r = run(code, { regs, memory: [[0x3000, bytesLE(0x00000003_00000001n, 8)]], rflags: 0x8d5 });
  halted(r);
  assert.equal(memAt(r, 0x3000, 8), 0x00000003_00000001n);
  assert.equal(r.reg('rax'), 1n);
  assert.equal(r.reg('rdx'), 3n);
  assert.equal(flags(r) & 0x8d5, 0x8d5 & ~ZF);
});

test('CMPXCHG8B in 16-bit real mode with a segment override', () => {
  // mov ax, 0x200 / mov es, ax / cmpxchg8b es:[bx] (26 0f c7 0f)  — ES base 0x2000
  const r = runCode([0xb8, 0x00, 0x02, 0x8e, 0xc0, 0x26, 0x0f, 0xc7, 0x0f, 0xf4], {
    mode: 'real',
    regs: { rbx: 0x100, rdx: 0x2222, rcx: 0x3333, rsi: 0 },
    memory: [[0x2100, bytesLE(0x00002222_00000200n, 8)]],
  });
  halted(r);
  // EAX was 0x200 after the mov: equal, so m64 := ECX:EBX.
  assert.equal(memAt(r, 0x2100, 8), 0x00003333_00000100n);
  assert.equal(r.cpu.zf, 1);
});

test('CMPXCHG16B: success, failure, misalignment #GP(0), register form #UD', () => {
  const code = 'f0 48 0f c7 0c 25 00 30 00 00';
  const regs = { rax: 1, rdx: 2, rbx: 0xbbbbbbbb_bbbbbbbbn, rcx: 0xcccccccc_ccccccccn };
  let r = run(code, { regs, memory: [[0x3000, [...bytesLE(1n, 8), ...bytesLE(2n, 8)]]] });
  halted(r);
  assert.equal(memAt(r, 0x3000, 8), 0xbbbbbbbb_bbbbbbbbn);
  assert.equal(memAt(r, 0x3008, 8), 0xcccccccc_ccccccccn);
  assert.equal(r.cpu.zf, 1);
  r = run(code, { regs, memory: [[0x3000, [...bytesLE(1n, 8), ...bytesLE(3n, 8)]]] });
  halted(r);
  assert.equal(r.reg('rax'), 1n);
  assert.equal(r.reg('rdx'), 3n);
  assert.equal(memAt(r, 0x3008, 8), 3n);
  assert.equal(r.cpu.zf, 0);
  r = run('48 0f c7 0c 25 08 30 00 00', { regs });
  assert.equal(r.result.exception?.vector, 13);
  assert.equal(r.result.exception?.errorCode, 0);
  assert.equal(r.reg('rax'), 1n);
  r = run('48 0f c7 c8');
  assert.equal(r.result.exception?.vector, 6);
});

// ---- XADD ------------------------------------------------------------------------------------
test('XADD register and memory forms', () => {
  // xadd eax, eax / xadd ebx, ecx
  let r = run('0f c1 c0  0f c1 cb', { regs: { rax: 0x11111111_11111111n, rbx: 0x22222222_80000000n, rcx: 0x80000000 } });
  halted(r);
  assert.equal(r.reg('rax'), 0x22222222n);
  assert.equal(r.reg('rbx'), 0n);
  assert.equal(r.reg('rcx'), 0x80000000n);
  assert.equal(flags(r) & (CF | ZF | OF), CF | ZF | OF);
  // lock xadd [0x3000], rdx / xadd [0x3008], ah
  r = run('f0 48 0f c1 14 25 00 30 00 00  0f c0 24 25 08 30 00 00', {
    regs: { rdx: 0xffffffff_ffffffffn, rax: 0x0100 },
    memory: [[0x3000, [...bytesLE(0x00000001_00000000n, 8), 0xff]]],
  });
  halted(r);
  assert.equal(memAt(r, 0x3000, 8), 0x00000000_ffffffffn);
  assert.equal(r.reg('rdx'), 0x00000001_00000000n);
  assert.equal(memAt(r, 0x3008, 1), 0x00n);
  assert.equal(r.reg('rax'), 0xff00n);
  assert.equal(flags(r) & (CF | ZF | AF), CF | ZF | AF);
});

// ---- BSWAP -----------------------------------------------------------------------------------
test('BSWAP 32/64-bit, and the 16-bit form clears the low word (measured)', () => {
  let r = run('0f c8  48 0f c9  66 0f ca', {
    regs: { rax: 0xffffffff_11223344n, rcx: 0x01020304_05060708n, rdx: 0x11223344_55667788n },
  });
  halted(r);
  assert.equal(r.reg('rax'), 0x44332211n);
  assert.equal(r.reg('rcx'), 0x08070605_04030201n);
  assert.equal(r.reg('rdx'), 0x11223344_55660000n);
  // 66 REX.W: REX.W wins (measured)
  r = run('66 48 0f c8', { regs: { rax: 0x11223344_55667788n } });
  assert.equal(r.reg('rax'), 0x88776655_44332211n);
});

// ---- LEA -------------------------------------------------------------------------------------
test('LEA: effective address truncated or zero-extended to the operand size', () => {
  // lea rax, [rbx+rcx*4-8] / lea edx, [ebx+5] (67 8d 53 05) / lea rsi, [ebx+5] (67 48 8d 73 05)
  // lea di, [rbx+5] (66 8d 7b 05) / lea r8d, [rbx+rcx*2] (44 8d 04 4b)
  const r = run('48 8d 44 8b f8  67 8d 53 05  67 48 8d 73 05  66 8d 7b 05  44 8d 04 4b', {
    regs: { rbx: 0x22222222_fffffffen, rcx: 0x10, rdi: 0x11111111_11111111n, r8: -1n, rdx: -1n },
  });
  halted(r);
  assert.equal(r.reg('rax'), 0x22222222_fffffffen + 0x40n - 8n);
  assert.equal(r.reg('rdx'), 3n);
  assert.equal(r.reg('rsi'), 3n);
  assert.equal(r.reg('rdi'), 0x11111111_11110003n);
  assert.equal(r.reg('r8'), 0x1en);
});

test('LEA: 64-bit carries into the high half, RIP-relative, segment override ignored', () => {
  // lea rax, [rbx+0x10] / lea rcx, [rip+0x100] / lea rdx, fs:[rbx] (64 48 8d 13)
  const r = run('48 8d 43 10  48 8d 0d 00 01 00 00  64 48 8d 13', { regs: { rbx: 0x00000001_fffffff8n } });
  halted(r);
  assert.equal(r.reg('rax'), 0x00000002_00000008n);
  assert.equal(r.reg('rcx'), 0x1000n + 11n + 0x100n);
  assert.equal(r.reg('rdx'), 0x00000001_fffffff8n);
});

test('LEA in 16-bit real mode wraps at 64 KiB, adds no segment base; 66h gives a 32-bit destination', () => {
  // mov bp, 0x200 / mov ds, bp (8e dd) / lea ax, [bx+si+0x10] / lea ecx, [bx+di-1] (66 8d 49 ff)
  // lea edx, [ebx+esi] (66 67 8d 14 33)
  const r = run('bd 00 02  8e dd  8d 40 10  66 8d 49 ff  66 67 8d 14 33', {
    mode: 'real', regs: { rax: 0x55550000, rbx: 0xfff8, rsi: 0x0008, rdi: 0, rcx: 0x77777777 },
  });
  halted(r);
  assert.equal(r.cpu.segBaseLo[3], 0x2000);
  assert.equal(r.reg('rax'), 0x55550010n);
  assert.equal(r.reg('rcx'), 0xfff7n);
  assert.equal(r.reg('rdx'), 0x10000n);
});

test('LEA with a register operand is #UD', () => {
  assert.equal(run('8d c0').result.exception?.vector, 6);
});

// ---- MOVBE -----------------------------------------------------------------------------------
test('MOVBE loads and stores with the bytes reversed, all sizes', () => {
  // movbe eax, [0x3000] / movbe rcx, [0x3000] / movbe dx, [0x3000] / movbe [0x3010], rcx / movbe [0x3018], ax
  const r = run('0f 38 f0 04 25 00 30 00 00  48 0f 38 f0 0c 25 00 30 00 00  66 0f 38 f0 14 25 00 30 00 00  48 0f 38 f1 0c 25 10 30 00 00  66 0f 38 f1 04 25 18 30 00 00', {
    regs: { rax: 0xffffffff_ffffffffn, rdx: 0x11111111_11111111n },
    memory: [[0x3000, [1, 2, 3, 4, 5, 6, 7, 8]]],
  });
  halted(r);
  assert.equal(r.reg('rax'), 0x01020304n);
  assert.equal(r.reg('rcx'), 0x01020304_05060708n);
  assert.equal(r.reg('rdx'), 0x11111111_11110102n);
  assert.deepEqual([...r.mem.readBytes(0x3010, 8)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...r.mem.readBytes(0x3018, 2)], [0x03, 0x04]);
});

test('MOVBE with a register operand is #UD', () => {
  assert.equal(run('0f 38 f0 c0').result.exception?.vector, 6);
});

// ---- MOV moffs and segment registers ---------------------------------------------------------
test('MOV moffs forms (A0-A3) in 64, 32 and 16-bit code', () => {
  // mov al, [qword 0x3000] / mov [qword 0x3008], rax (48 a3) / mov eax, [dword 0x3000] (67 a1)
  let r = run('a0 00 30 00 00 00 00 00 00  48 a3 08 30 00 00 00 00 00 00  67 a1 00 30 00 00', {
    regs: { rax: 0x11223344_556677aan }, memory: [[0x3000, [0x99, 0x88, 0x77, 0x66]]],
  });
  halted(r);
  assert.equal(memAt(r, 0x3008, 8), 0x11223344_55667799n);
  assert.equal(r.reg('rax'), 0x66778899n);
  // 32-bit: mov [0x3004], eax / mov ax, [0x3000]
  r = run('a3 04 30 00 00  66 a1 00 30 00 00', { mode: 'protected', regs: { rax: 0xdeadbeef }, memory: [[0x3000, [1, 2]]] });
  halted(r);
  assert.equal(memAt(r, 0x3004, 4), 0xdeadbeefn);
  assert.equal(r.reg('rax'), 0xdead0201n);
  // 16-bit real mode through DS (base 0x2000): mov ax, 0x200 / mov ds, ax / mov ax, [0x10] / mov [0x12], al
  r = runCode([0xb8, 0x00, 0x02, 0x8e, 0xd8, 0xa1, 0x10, 0x00, 0xa2, 0x12, 0x00, 0xf4], {
    mode: 'real', memory: [[0x2010, [0x34, 0x12]]],
  });
  halted(r);
  assert.equal(r.reg('rax'), 0x1234n);
  assert.equal(memAt(r, 0x2012, 1), 0x34n);
  assert.equal(r.cpu.segBaseLo[3], 0x2000);
  assert.equal(r.cpu.segSel[3], 0x200);
});

test('MOV to a segment register in real mode: base = selector << 4, limit and attributes kept', () => {
  // mov ax, 0x1234 / mov es, ax / mov fs, [0x3000] / mov gs, ax with 66h (66 8e e8) / mov ss, ax
  const r = runCode([0xb8, 0x34, 0x12, 0x8e, 0xc0, 0x8e, 0x26, 0x00, 0x30, 0x66, 0x8e, 0xe8, 0x8e, 0xd0, 0xf4], {
    mode: 'real', memory: [[0x3000, [0xcd, 0xab]]],
  });
  halted(r);
  assert.equal(r.cpu.segSel[0], 0x1234);
  assert.equal(r.cpu.segBaseLo[0], 0x12340);
  assert.equal(r.cpu.segSel[4], 0xabcd);
  assert.equal(r.cpu.segBaseLo[4], 0xabcd0);
  assert.equal(r.cpu.segLimit[4], 0xffff);
  assert.equal(r.cpu.segAttr[4], 0x93);
  assert.equal(r.cpu.segSel[5], 0x1234);
  assert.equal(r.cpu.segSel[2], 0x1234);
  assert.equal(r.cpu.segBaseLo[2], 0x12340);
});

test('MOV from a segment register: 16-bit memory store; 32/64-bit registers zero-extend (measured)', () => {
  // 64-bit: mov eax, ss / mov cx, ss (66 8c d1) / mov rdx, ss (48 8c d2) / mov [0x3000], ss (48 8c 14 25 ...)
  const r = run('8c d0  66 8c d1  48 8c d2  48 8c 14 25 00 30 00 00', {
    regs: { rax: 0x11111111_11111111n, rcx: 0x22222222_22222222n, rdx: -1n },
    memory: [[0x3000, [0xff, 0xff, 0xff, 0xff]]],
  });
  halted(r);
  assert.equal(r.reg('rax'), 0x10n);
  assert.equal(r.reg('rcx'), 0x22222222_22220010n);
  assert.equal(r.reg('rdx'), 0x10n);
  assert.equal(memAt(r, 0x3000, 4), 0xffff0010n);
  // real mode: mov ax, cs / mov [bx], ds
  const q = runCode([0x8c, 0xc8, 0x8c, 0x1f, 0xf4], { mode: 'real', regs: { rax: 0xffff, rbx: 0x3000 }, memory: [[0x3000, [9, 9, 9]]] });
  halted(q);
  assert.equal(q.reg('rax'), 0n);
  assert.deepEqual([...q.mem.readBytes(0x3000, 3)], [0, 0, 9]);
});

test('MOV to CS is #UD; protected-mode segment loads check descriptors (segmentation*.test.ts)', () => {
  assert.equal(runCode([0x8e, 0xc8, 0xf4], { mode: 'real' }).result.exception?.vector, 6);
  // A null selector (AX = 0) loads and leaves DS unusable; no descriptor is read.
  const p = run('8e d8', { mode: 'protected' });
  assert.equal(p.result.reason, 'hlt');
  assert.equal(p.cpu.segSel[3], 0);
  assert.equal(run('8e d8').result.reason, 'hlt');
  // A non-null selector whose (all-zero) descriptor is a system type: #GP(selector).
  const g = run('8e d8', { mode: 'protected', regs: { rax: 0x10 } });
  assert.equal(g.result.exception?.vector, 13);
  assert.equal(g.result.exception?.errorCode, 0x10);
});

test('MOV to SS ends the translated block (interrupt shadow)', () => {
  // mov ss, ax / nop / hlt: the nop is translated in a block of its own
  const r = runCode([0x8e, 0xd0, 0x90, 0xf4], { mode: 'real', regs: { rax: 0x100 } });
  halted(r);
  assert.equal(r.cpu.segBaseLo[2], 0x1000);
  assert.ok(r.cpu.blocksTranslated >= 2);
});

test('MOVBE, CMPXCHG8B and CMPXCHG16B are #UD when the CPUID model lacks their feature bit', () => {
  const leaves = DEFAULT_CPUID.leaves.map((l) => (l.leaf === 1 ? { ...l, ecx: 0, edx: 0 } : l));
  const model: CpuidModel = { leaves };
  for (const code of [[0x0f, 0x38, 0xf0, 0x00], [0x0f, 0xc7, 0x08], [0x48, 0x0f, 0xc7, 0x08]]) {
    const mem = new PhysicalMemory(0x10000);
    mem.load(0x1000, Uint8Array.from([...code, 0xf4]));
    const cpu = new Cpu(mem, { cpuid: model });
    enterMode(cpu, 'long');
    cpu.setRip(0x1000);
    cpu.setReg64(0, 0x3000);
    const res = cpu.run(10);
    assert.equal(res.exception?.vector, 6, code.join(' '));
  }
});
