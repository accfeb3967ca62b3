/**
 * SSE group (src/x86/sse): availability checks (SDM vol. 3A §13.1.3-13.1.4), alignment,
 * MXCSR rounding and exception reporting (SDM vol. 1 §10.2.3, §11.5), FXSAVE/FXRSTOR layout
 * (SDM vol. 2 FXSAVE tables), real-mode use, and a few exact float results. Instruction-level
 * results are also checked bit for bit against silicon by test/conformance/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu, type RunResult } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, type StartMode } from '../../src/x86/modes';
import { decodeOne } from '../../src/x86/decoded';
import { sseStringAlias } from '../../src/x86/sse';
import { hasFeature, DEFAULT_CPUID } from '../../src/x86/cpuid';

const CODE = 0x1000, DATA = 0x4000;
const UD = 6, NM = 7, GP = 13, XM = 19;

interface Setup {
  mode?: StartMode;
  cr4?: number;
  cr0Set?: number;
  mxcsr?: number;
  xmm?: Record<number, number[]>;
  regs?: Record<number, number>;
  data?: number[];
}

function run(code: number[], s: Setup = {}): { cpu: Cpu; result: RunResult; mem: PhysicalMemory } {
  const mem = new PhysicalMemory(0x100000);
  mem.load(CODE, Uint8Array.from([...code, 0xf4]));
  if (s.data) mem.load(DATA, Uint8Array.from(s.data));
  const cpu = new Cpu(mem);
  enterMode(cpu, s.mode ?? 'long');
  cpu.setRip(CODE);
  cpu.setReg64(4, 0x8000);
  cpu.cr4 |= s.cr4 ?? (1 << 9) | (1 << 10);
  cpu.cr0 |= s.cr0Set ?? 0;
  if (s.mxcsr !== undefined) cpu.sse.mxcsr = s.mxcsr;
  for (const [r, lanes] of Object.entries(s.xmm ?? {})) lanes.forEach((v, i) => { cpu.sse.xmm[4 * Number(r) + i] = v | 0; });
  for (const [r, v] of Object.entries(s.regs ?? {})) cpu.setReg64(Number(r), BigInt(v));
  const result = cpu.run(1000);
  return { cpu, result, mem };
}

const f32bits = (x: number): number => { const b = new Float32Array([x]); return new Int32Array(b.buffer)[0]; };
const lane = (c: Cpu, r: number, i = 0): number => c.sse.xmm[4 * r + i] >>> 0;

test('SSE is #UD with CR4.OSFXSR=0 or CR0.EM=1, #NM with CR0.TS=1 (SDM vol. 3A §13.1.3)', () => {
  const addps = [0x0f, 0x58, 0xc1];
  assert.equal(run(addps, { cr4: 0 }).result.exception?.vector, UD);
  assert.equal(run(addps, { cr0Set: 1 << 2 }).result.exception?.vector, UD);
  assert.equal(run(addps, { cr0Set: 1 << 3 }).result.exception?.vector, NM);
  // #UD has priority over #NM.
  assert.equal(run(addps, { cr0Set: (1 << 3) | (1 << 2) }).result.exception?.vector, UD);
  assert.equal(run(addps).result.reason, 'hlt');
  // FXSAVE: #NM for CR0.TS or CR0.EM.
  assert.equal(run([0x0f, 0xae, 0x00], { regs: { 0: DATA }, cr0Set: 1 << 2 }).result.exception?.vector, NM);
});

test('aligned forms #GP(0) on a misaligned 16-byte operand; MOVUPS and scalar forms do not', () => {
  const movaps = run([0x0f, 0x28, 0x00], { regs: { 0: DATA + 8 } });
  assert.equal(movaps.result.exception?.vector, GP);
  assert.equal(movaps.result.exception?.errorCode, 0);
  assert.equal(run([0x0f, 0x10, 0x00], { regs: { 0: DATA + 8 } }).result.reason, 'hlt');
  assert.equal(run([0x66, 0x0f, 0xfe, 0x00], { regs: { 0: DATA + 4 } }).result.exception?.vector, GP); // paddd
  assert.equal(run([0xf3, 0x0f, 0x58, 0x00], { regs: { 0: DATA + 4 } }).result.reason, 'hlt'); // addss m32
});

test('MOVAPS store and load round-trip through memory', () => {
  const r = run([0x0f, 0x29, 0x08, 0x0f, 0x28, 0x10], { regs: { 0: DATA }, xmm: { 1: [1, 2, 3, 0xdeadbeef] } });
  assert.equal(r.result.reason, 'hlt');
  assert.deepEqual([0, 1, 2, 3].map((i) => lane(r.cpu, 2, i)), [1, 2, 3, 0xdeadbeef]);
  assert.equal(r.mem.read8(DATA + 12), 0xef);
});

test('LDMXCSR with a reserved bit set is #GP(0); STMXCSR stores MXCSR', () => {
  const bad = run([0x0f, 0xae, 0x10], { regs: { 0: DATA }, data: [0x80, 0x1f, 0x01, 0x00] });
  assert.equal(bad.result.exception?.vector, GP);
  const ok = run([0x0f, 0xae, 0x10, 0x0f, 0xae, 0x58, 0x04], { regs: { 0: DATA }, data: [0x80, 0x7f, 0, 0] });
  assert.equal(ok.cpu.sse.mxcsr, 0x7f80);
  assert.equal(ok.mem.read8(DATA + 5), 0x7f);
});

test('MXCSR rounding control: CVTSD2SI and ADDSS round per RC; inexact sets PE', () => {
  const cvt = (rc: number, x: number): number => {
    const b = new Int32Array(new Float64Array([x]).buffer);
    const r = run([0xf2, 0x0f, 0x2d, 0xc0], { mxcsr: 0x1f80 | (rc << 13), xmm: { 0: [b[0], b[1], 0, 0] } });
    assert.equal(r.cpu.sse.mxcsr & 0x20, 0x20, 'PE');
    return r.cpu.lo[0];
  };
  assert.deepEqual([0, 1, 2, 3].map((rc) => cvt(rc, 2.5)), [2, 2, 3, 2]);
  assert.deepEqual([0, 1, 2, 3].map((rc) => cvt(rc, -2.5)), [-2, -3, -2, -2]);
  // 1 + 2^-30 in single precision: nearest and down give 1, up gives the next float.
  const add = (rc: number): number => run([0xf3, 0x0f, 0x58, 0xc1], {
    mxcsr: 0x1f80 | (rc << 13), xmm: { 0: [f32bits(1)], 1: [f32bits(2 ** -30)] },
  }).cpu.sse.xmm[0];
  assert.equal(add(0), f32bits(1));
  assert.equal(add(1), f32bits(1));
  assert.equal(add(2), f32bits(1) + 1);
  // Out of range → integer indefinite and IE.
  const big = new Int32Array(new Float64Array([3e9]).buffer);
  const r = run([0xf2, 0x0f, 0x2d, 0xc0], { xmm: { 0: [big[0], big[1], 0, 0] } });
  assert.equal(r.cpu.lo[0] >>> 0, 0x80000000);
  assert.equal(r.cpu.sse.mxcsr & 1, 1);
});

test('unmasked divide-by-zero: #XM with CR4.OSXMMEXCPT, #UD without; destination unchanged, ZE set', () => {
  const divss = [0xf3, 0x0f, 0x5e, 0xc1];
  const setup = { mxcsr: 0x1f80 & ~(1 << 9), xmm: { 0: [f32bits(1), 7, 7, 7], 1: [0] } };
  const xm = run(divss, setup);
  assert.equal(xm.result.exception?.vector, XM);
  assert.equal(lane(xm.cpu, 0), f32bits(1));
  assert.equal(xm.cpu.sse.mxcsr & 4, 4);
  assert.equal(run(divss, { ...setup, cr4: 1 << 9 }).result.exception?.vector, UD);
  // Masked: +inf and ZE.
  const masked = run(divss, { xmm: { 0: [f32bits(1)], 1: [0] } });
  assert.equal(lane(masked.cpu, 0), 0x7f800000);
  assert.equal(masked.cpu.sse.mxcsr, 0x1f84);
});

test('DAZ and FTZ: denormal inputs read as zero, tiny results flush to zero with UE and PE', () => {
  const den = 1; // smallest positive denormal
  const daz = run([0xf3, 0x0f, 0x58, 0xc1], { mxcsr: 0x1fc0, xmm: { 0: [den], 1: [0] } });
  assert.equal(lane(daz.cpu, 0), 0);
  assert.equal(daz.cpu.sse.mxcsr & 0x3f, 0, 'no DE with DAZ');
  const noDaz = run([0xf3, 0x0f, 0x58, 0xc1], { xmm: { 0: [den], 1: [0] } });
  assert.equal(lane(noDaz.cpu, 0), 1);
  assert.equal(noDaz.cpu.sse.mxcsr & 0x3f, 2, 'DE');
  const ftz = run([0xf3, 0x0f, 0x59, 0xc1], { mxcsr: 0x9f80, xmm: { 0: [f32bits(2 ** -100)], 1: [f32bits(2 ** -40)] } });
  assert.equal(lane(ftz.cpu, 0), 0);
  assert.equal(ftz.cpu.sse.mxcsr & 0x3f, 0x30);
});

test('COMISS/UCOMISS set ZF/PF/CF and clear OF/SF/AF; COMISS signals IE for a QNaN', () => {
  const flags = (a: number, b: number, op = 0x2f) => {
    const r = run([0x0f, op, 0xc1], { xmm: { 0: [a], 1: [b] } });
    return { f: Number(r.cpu.getRflags()) & 0x8d5, mx: r.cpu.sse.mxcsr & 0x3f };
  };
  assert.equal(flags(f32bits(1), f32bits(2)).f, 0x01); // less: CF
  assert.equal(flags(f32bits(2), f32bits(1)).f, 0x00);
  assert.equal(flags(f32bits(2), f32bits(2)).f, 0x40); // equal: ZF
  assert.deepEqual(flags(0x7fc00000, f32bits(1)), { f: 0x45, mx: 1 }); // unordered, IE
  assert.deepEqual(flags(0x7fc00000, f32bits(1), 0x2e), { f: 0x45, mx: 0 }); // UCOMISS: no IE for QNaN
});

test('FXSAVE layout (64-bit and FXSAVE64) and FXRSTOR round trip', () => {
  const r = run([0x0f, 0xae, 0x00], {
    regs: { 0: DATA }, mxcsr: 0x3f80, xmm: { 0: [0x11111111, 0x22222222, 0x33333333, 0x44444444], 15: [5, 6, 7, 8] },
  });
  assert.equal(r.result.reason, 'hlt');
  const m = r.mem;
  const r32 = (o: number): number => (m.read8(DATA + o) | (m.read8(DATA + o + 1) << 8) | (m.read8(DATA + o + 2) << 16) | (m.read8(DATA + o + 3) << 24)) >>> 0;
  assert.equal(r32(0) & 0xffff, 0x037f, 'FCW');
  assert.equal(m.read8(DATA + 4), 0, 'abridged tag: all empty');
  assert.equal(r32(24), 0x3f80, 'MXCSR');
  assert.equal(r32(28), 0xffff, 'MXCSR_MASK');
  assert.equal(r32(160), 0x11111111);
  assert.equal(r32(172), 0x44444444);
  assert.equal(r32(160 + 15 * 16), 5);
  // Misaligned: #GP(0).
  assert.equal(run([0x0f, 0xae, 0x00], { regs: { 0: DATA + 8 } }).result.exception?.vector, GP);
  // FXRSTOR restores XMM and MXCSR, and rejects reserved MXCSR bits.
  const img = new Array<number>(512).fill(0);
  img[24] = 0x80; img[25] = 0x5f; img[160] = 0xab; img[175] = 0xcd;
  const rs = run([0x0f, 0xae, 0x08], { regs: { 0: DATA }, data: img });
  assert.equal(rs.result.reason, 'hlt');
  assert.equal(rs.cpu.sse.mxcsr, 0x5f80);
  assert.equal(lane(rs.cpu, 0, 0), 0xab);
  assert.equal(lane(rs.cpu, 0, 3), 0xcd000000);
  img[26] = 1;
  assert.equal(run([0x0f, 0xae, 0x08], { regs: { 0: DATA }, data: img }).result.exception?.vector, GP);
});

test('FXSAVE in 32-bit protected mode stores XMM0-7 only', () => {
  const r = run([0x0f, 0xae, 0x00], { mode: 'protected', regs: { 0: DATA }, xmm: { 7: [9], 8: [10] }, data: new Array(512).fill(0xee) });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.mem.read8(DATA + 160 + 7 * 16), 9);
  assert.equal(r.mem.read8(DATA + 160 + 8 * 16), 0xee);
});

test('SSE in real mode (16-bit code): PADDD xmm, m128 and MOVD', () => {
  // paddd xmm0, [bx] ; movd eax, xmm0
  const data = [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0];
  const r = run([0x66, 0x0f, 0xfe, 0x07, 0x66, 0x0f, 0x7e, 0xc0], { mode: 'real', regs: { 3: DATA }, data, xmm: { 0: [10, 20, 30, 40] } });
  assert.equal(r.result.reason, 'hlt');
  assert.deepEqual([0, 1, 2, 3].map((i) => lane(r.cpu, 0, i)), [11, 22, 33, 44]);
  assert.equal(r.cpu.lo[0], 11);
});

test('CRC32 computes CRC-32C ("123456789" → 0xE3069283)', () => {
  const s = [...'123456789'].map((ch) => ch.charCodeAt(0));
  // 9 × (crc32 eax, byte [rsi]; inc rsi)
  const code: number[] = [];
  for (let i = 0; i < 9; i++) code.push(0xf2, 0x0f, 0x38, 0xf0, 0x06, 0x48, 0xff, 0xc6);
  const r = run(code, { regs: { 0: 0xffffffff, 6: DATA }, data: s });
  assert.equal((r.cpu.lo[0] ^ 0xffffffff) >>> 0, 0xe3069283);
});

test('MOVSD/CMPSD XMM forms are provided through sseStringAlias for string.ts', () => {
  assert.notEqual(sseStringAlias(decodeOne(Uint8Array.from([0xf2, 0x0f, 0x10, 0xc1]), 64)), null);
  assert.notEqual(sseStringAlias(decodeOne(Uint8Array.from([0xf2, 0x0f, 0xc2, 0xc1, 0x01]), 64)), null);
  assert.equal(sseStringAlias(decodeOne(Uint8Array.from([0xa5]), 64)), null);
});

test('CPUID reports FXSR, SSE, SSE2, SSE3, SSSE3, SSE4.1 and not SSE4.2', () => {
  for (const f of ['FXSR', 'SSE', 'SSE2', 'SSE3', 'SSSE3', 'SSE4_1']) assert.ok(hasFeature(DEFAULT_CPUID, f), f);
});

test('exact binary64 results under directed rounding: 1/3 down and up differ by one ulp', () => {
  const one = new Int32Array(new Float64Array([1]).buffer), three = new Int32Array(new Float64Array([3]).buffer);
  const div = (rc: number): number => {
    const r = run([0xf2, 0x0f, 0x5e, 0xc1], { mxcsr: 0x1f80 | (rc << 13), xmm: { 0: [one[0], one[1]], 1: [three[0], three[1]] } });
    return new Float64Array(new Int32Array([r.cpu.sse.xmm[0], r.cpu.sse.xmm[1]]).buffer)[0];
  };
  assert.equal(div(0), 1 / 3);
  assert.ok(div(1) < div(2));
  assert.equal(div(3), div(1));
});
