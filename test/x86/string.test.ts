/**
 * MOVS, STOS, LODS, CMPS, SCAS with and without REP prefixes (SDM vol. 2B). Overlap results and
 * the 32-bit-address zero-extension rules were measured on an Intel host; the rest follows the
 * SDM pseudo-code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCode } from './run';

const GP = 13, SS = 12;
const DF = 0x400;

function bytes(r: ReturnType<typeof runCode>, addr: number, n: number): number[] {
  return [...r.mem.readBytes(addr, n)];
}
function ascii(s: string): number[] {
  return [...s].map((ch) => ch.charCodeAt(0));
}
function str(r: ReturnType<typeof runCode>, addr: number, n: number): string {
  return String.fromCharCode(...bytes(r, addr, n));
}

// ---- MOVS --------------------------------------------------------------------------------------

test('REP MOVSB copies RCX bytes forward and advances RSI/RDI', () => {
  const src = Array.from({ length: 100 }, (_, i) => (i * 7 + 3) & 0xff);
  const r = runCode([0xf3, 0xa4, 0xf4], { regs: { rcx: 100, rsi: 0x3000, rdi: 0x5000 }, memory: [[0x3000, src]] });
  assert.equal(r.result.reason, 'hlt');
  assert.deepEqual(bytes(r, 0x5000, 100), src);
  assert.equal(r.mem.read8(0x5000 + 100), 0);
  assert.equal(r.reg('rcx'), 0n);
  assert.equal(r.reg('rsi'), 0x3064n);
  assert.equal(r.reg('rdi'), 0x5064n);
  assert.equal(r.cpu.icount, 2);
});

test('REP MOVS with counts 0 and 1', () => {
  const z = runCode([0xf3, 0xa4, 0xf4], { regs: { rcx: 0, rsi: 0x3000, rdi: 0x5000 }, memory: [[0x3000, [9]]], rflags: 0x8c3 });
  assert.equal(z.mem.read8(0x5000), 0);
  assert.equal(z.reg('rsi'), 0x3000n);
  assert.equal(z.reg('rdi'), 0x5000n);
  assert.equal(z.cpu.getRflags(), 0x8c3);
  const one = runCode([0xf3, 0x48, 0xa5, 0xf4], { regs: { rcx: 1, rsi: 0x3000, rdi: 0x5000 }, memory: [[0x3000, [1, 2, 3, 4, 5, 6, 7, 8, 9]]] });
  assert.deepEqual(bytes(one, 0x5000, 9), [1, 2, 3, 4, 5, 6, 7, 8, 0]);
  assert.equal(one.reg('rcx'), 0n);
  assert.equal(one.reg('rsi'), 0x3008n);
});

test('REP MOVSB with DF = 1 copies backwards', () => {
  const r = runCode([0xf3, 0xa4, 0xf4], {
    regs: { rcx: 4, rsi: 0x3003, rdi: 0x5003 }, rflags: 0x2 | DF, memory: [[0x3000, [1, 2, 3, 4]]],
  });
  assert.deepEqual(bytes(r, 0x5000, 4), [1, 2, 3, 4]);
  assert.equal(r.reg('rsi'), 0x2fffn);
  assert.equal(r.reg('rdi'), 0x4fffn);
});

test('REP MOVSW/MOVSD/MOVSQ across page boundaries match a reference copy, both directions', () => {
  for (const [op, size] of [[[0x66, 0xa5], 2], [[0xa5], 4], [[0x48, 0xa5], 8]] as [number[], number][]) {
    for (const df of [0, 1]) {
      const n = 3000;
      const src = Array.from({ length: n * size }, (_, i) => (i * 131 + 17) & 0xff);
      const s0 = 0x10ff3, d0 = 0x30ffd; // unaligned, crossing several pages
      const rsi = df ? s0 + (n - 1) * size : s0;
      const rdi = df ? d0 + (n - 1) * size : d0;
      const r = runCode([0xf3, ...op, 0xf4], { regs: { rcx: n, rsi, rdi }, rflags: 0x2 | (df ? DF : 0), memory: [[s0, src]] });
      assert.equal(r.result.reason, 'hlt');
      assert.deepEqual(bytes(r, d0, n * size), src, `size ${size} df ${df}`);
      assert.equal(r.mem.read8(d0 - 1), 0);
      assert.equal(r.mem.read8(d0 + n * size), 0);
      assert.equal(r.reg('rcx'), 0n);
      assert.equal(r.reg('rsi'), BigInt(df ? rsi - n * size : rsi + n * size));
      assert.equal(r.reg('rdi'), BigInt(df ? rdi - n * size : rdi + n * size));
    }
  }
});

test('overlapping forward REP MOVSB replicates the pattern (memset by overlap)', () => {
  // host: buf = "xy", rep movsb from buf to buf+2, 10 bytes -> "xyxyxyxyxyxy"
  const r = runCode([0xf3, 0xa4, 0xf4], { regs: { rcx: 10, rsi: 0x3000, rdi: 0x3002 }, memory: [[0x3000, ascii('xy')]] });
  assert.equal(str(r, 0x3000, 12), 'xyxyxyxyxyxy');
  // one byte replicated over several pages
  const big = runCode([0xf3, 0xa4, 0xf4], { regs: { rcx: 10000, rsi: 0x3ffe, rdi: 0x3fff }, memory: [[0x3ffe, [0x5a]]] });
  assert.ok(bytes(big, 0x3ffe, 10001).every((b) => b === 0x5a));
  assert.equal(big.mem.read8(0x3fff + 10000), 0);
});

test('overlapping forward REP MOVSW/MOVSD keep element-by-element results (measured)', () => {
  const alpha = ascii('abcdefghijklmnop');
  // movsd, distance 1, 3 elements -> host "aabcddfghhjklnop"
  let r = runCode([0xf3, 0xa5, 0xf4], { regs: { rcx: 3, rsi: 0x3000, rdi: 0x3001 }, memory: [[0x3000, alpha]] });
  assert.equal(str(r, 0x3000, 16), 'aabcddfghhjklnop');
  // movsw, distance 2, 3 elements -> host "ababababijklmnop"
  r = runCode([0xf3, 0x66, 0xa5, 0xf4], { regs: { rcx: 3, rsi: 0x3000, rdi: 0x3002 }, memory: [[0x3000, alpha]] });
  assert.equal(str(r, 0x3000, 16), 'ababababijklmnop');
  // movsd, distance 3, 4 elements -> host "abcabcdbcdhcdhld"
  r = runCode([0xf3, 0xa5, 0xf4], { regs: { rcx: 4, rsi: 0x3000, rdi: 0x3003 }, memory: [[0x3000, alpha]] });
  assert.equal(str(r, 0x3000, 16), 'abcabcdbcdhcdhld');
});

test('overlapping forward copy with the destination below the source is a plain move', () => {
  const r = runCode([0xf3, 0xa4, 0xf4], { regs: { rcx: 8, rsi: 0x3002, rdi: 0x3000 }, memory: [[0x3000, ascii('abcdefghij')]] });
  assert.equal(str(r, 0x3000, 10), 'cdefghijij');
});

test('REPNE MOVSB acts as REP', () => {
  const r = runCode([0xf2, 0xa4, 0xf4], { regs: { rcx: 3, rsi: 0x3000, rdi: 0x5000 }, memory: [[0x3000, [1, 2, 3, 4]]], rflags: 0x42 });
  assert.deepEqual(bytes(r, 0x5000, 4), [1, 2, 3, 0]);
  assert.equal(r.reg('rcx'), 0n);
});

test('MOVS source segment override (FS base) in 64-bit mode; ES:RDI is fixed', () => {
  const cpuSetup = { regs: { rsi: 0x100, rdi: 0x5000 }, memory: [[0x3100, [0xab]], [0x100, [0xcd]]] as Array<[number, number[]]> };
  // 64 a4: movsb fs:[rsi] -> es:[rdi]; FS.base is set after reset, so run with a patched cpu
  const r = runCode([0x64, 0xa4, 0xf4], { ...cpuSetup, maxInstructions: 0 });
  r.cpu.segBaseLo[4] = 0x3000;
  assert.equal(r.cpu.run(10).reason, 'hlt');
  assert.equal(r.mem.read8(0x5000), 0xab);
  assert.equal(r.reg('rsi'), 0x101n);
  // without the override: DS (base ignored in 64-bit mode)
  const d = runCode([0xa4, 0xf4], cpuSetup);
  assert.equal(d.mem.read8(0x5000), 0xcd);
});

test('real mode: MOVS uses DS:SI -> ES:DI with segment bases, and ES can override the source', () => {
  // DS = 0x0100 (base 0x1000)... set through the bases: DS.base = 0x3000, ES.base = 0x5000
  const r = runCode([0xf3, 0xa4, 0xf4], { mode: 'real', regs: { rcx: 2, rsi: 0x10, rdi: 0x20 }, maxInstructions: 0 });
  r.mem.load(0x3010, Uint8Array.from([7, 8]));
  r.mem.load(0x5010, Uint8Array.from([5, 6]));
  r.cpu.segBaseLo[3] = 0x3000;
  r.cpu.segBaseLo[0] = 0x5000;
  assert.equal(r.cpu.run(10).reason, 'hlt');
  assert.deepEqual([...r.mem.readBytes(0x5020, 2)], [7, 8]);
  // 26 f3 a4: source ES:SI
  const e = runCode([0x26, 0xf3, 0xa4, 0xf4], { mode: 'real', regs: { rcx: 2, rsi: 0x10, rdi: 0x20 }, maxInstructions: 0 });
  e.mem.load(0x3010, Uint8Array.from([7, 8]));
  e.mem.load(0x5010, Uint8Array.from([5, 6]));
  e.cpu.segBaseLo[3] = 0x3000;
  e.cpu.segBaseLo[0] = 0x5000;
  assert.equal(e.cpu.run(10).reason, 'hlt');
  assert.deepEqual([...e.mem.readBytes(0x5020, 2)], [5, 6]);
});

test('real mode: SI and DI wrap at 64 KiB and only their low 16 bits change', () => {
  // rsi = 0x1234fffe (upper bits kept), 4 bytes: reads 0xfffe, 0xffff, 0x0000, 0x0001
  const r = runCode([0xf3, 0xa4, 0xf4], {
    mode: 'real', regs: { rcx: 0xabcd0004, rsi: 0x1234fffe, rdi: 0x5000 },
    memory: [[0xfffe, [1, 2]], [0x0000, [3, 4]]],
  });
  assert.equal(r.result.reason, 'hlt');
  assert.deepEqual(bytes(r, 0x5000, 4), [1, 2, 3, 4]);
  assert.equal(r.reg('rsi'), 0x12340002n);
  assert.equal(r.reg('rcx'), 0xabcd0000n);
  assert.equal(r.reg('rdi'), 0x5004n);
});

test('real mode: a REP MOVSW that runs past the segment limit faults mid-way, resumable', () => {
  // SI = 0xfff1, CX = 10: iterations at SI fff1..fffd succeed (7), the 8th (word at 0xffff) is #GP
  const src = Array.from({ length: 16 }, (_, i) => 0x40 + i);
  const r = runCode([0xf3, 0xa5, 0xf4], { mode: 'real', regs: { rcx: 10, rsi: 0xfff1, rdi: 0x5000 }, memory: [[0xfff1, src.slice(0, 15)]] });
  assert.equal(r.result.reason, 'exception');
  assert.equal(r.result.exception?.vector, GP);
  assert.equal(r.result.exception?.errorCode, 0);
  assert.equal(r.cpu.getRip(), 0x1000n);
  assert.equal(r.reg('rcx'), 3n);
  assert.equal(r.reg('rsi'), 0xffffn);
  assert.equal(r.reg('rdi'), 0x500en);
  assert.deepEqual(bytes(r, 0x5000, 16), [...src.slice(0, 14), 0, 0]);
  assert.equal(r.cpu.icount, 0);
  // Re-executing continues where it stopped (here it faults again at once).
  assert.equal(r.cpu.run(10).exception?.vector, GP);
  assert.equal(r.reg('rcx'), 3n);
  // An SS override on the faulting side makes it #SS(0)
  const s = runCode([0x36, 0xf3, 0xa5, 0xf4], { mode: 'real', regs: { rcx: 10, rsi: 0xfff1, rdi: 0x5000 } });
  assert.equal(s.result.exception?.vector, SS);
  assert.equal(s.reg('rcx'), 3n);
});

test('64-bit: REP STOSB into non-canonical space faults after the canonical part', () => {
  // RDI = 0x00007ffffffffff0, 32 bytes: 16 succeed (no RAM there: writes are dropped), then #GP
  const r = runCode([0xf3, 0xaa, 0xf4], { regs: { rcx: 32, rdi: 0x00007ffffffffff0n, rax: 0x11 } });
  assert.equal(r.result.exception?.vector, GP);
  assert.equal(r.reg('rcx'), 16n);
  assert.equal(r.reg('rdi'), 0x0000800000000000n);
  assert.equal(r.cpu.getRip(), 0x1000n);
  // a quadword that straddles the boundary faults as a whole
  const q = runCode([0xf3, 0x48, 0xab, 0xf4], { regs: { rcx: 4, rdi: 0x00007ffffffffff4n } });
  assert.equal(q.result.exception?.vector, GP);
  assert.equal(q.reg('rcx'), 3n);
  assert.equal(q.reg('rdi'), 0x00007ffffffffffcn);
});

test('64-bit, 32-bit addresses: REP MOVS/STOS zero-extend RCX and their pointers even for count 0 (measured)', () => {
  const hi = 0x1111111100000000n;
  const regs = { rcx: 0xdeadbeef00000000n, rsi: hi | 0x3000n, rdi: hi | 0x5000n };
  const m = runCode([0xf3, 0x67, 0xa4, 0xf4], { regs });
  assert.equal(m.reg('rcx'), 0n);
  assert.equal(m.reg('rsi'), 0x3000n);
  assert.equal(m.reg('rdi'), 0x5000n);
  const s = runCode([0xf3, 0x67, 0xaa, 0xf4], { regs });
  assert.equal(s.reg('rcx'), 0n);
  assert.equal(s.reg('rsi'), hi | 0x3000n);
  assert.equal(s.reg('rdi'), 0x5000n);
  for (const op of [[0xf3, 0x67, 0xac], [0xf3, 0x67, 0xa6], [0xf2, 0x67, 0xae]]) {
    const o = runCode([...op, 0xf4], { regs });
    assert.equal(o.reg('rcx'), 0n);
    assert.equal(o.reg('rsi'), hi | 0x3000n);
    assert.equal(o.reg('rdi'), hi | 0x5000n);
  }
  // one iteration: the registers used are written as 32-bit registers
  const one = runCode([0xf3, 0x67, 0xac, 0xf4], { regs: { ...regs, rcx: 0xdeadbeef00000001n } });
  assert.equal(one.reg('rsi'), 0x3001n);
  assert.equal(one.reg('rdi'), hi | 0x5000n);
  // without REP the count register is untouched
  const norep = runCode([0x67, 0xaa, 0xf4], { regs });
  assert.equal(norep.reg('rcx'), 0xdeadbeef00000000n);
  assert.equal(norep.reg('rdi'), 0x5001n);
});

test('32-bit code with a 16-bit address size (67h) uses CX, SI, DI', () => {
  const r = runCode([0x67, 0xf3, 0xa4, 0xf4], {
    mode: 'protected', regs: { rcx: 0x10002, rsi: 0x7fff3000, rdi: 0x10005000 }, memory: [[0x3000, [1, 2, 3]]],
  });
  assert.equal(r.result.reason, 'hlt');
  assert.deepEqual(bytes(r, 0x5000, 3), [1, 2, 0]);
  assert.equal(r.reg('rcx'), 0x10000n);
  assert.equal(r.reg('rsi'), 0x7fff3002n);
  assert.equal(r.reg('rdi'), 0x10005002n);
});

// ---- STOS / LODS --------------------------------------------------------------------------------

test('REP STOSB/W/D/Q fill memory with AL/AX/EAX/RAX', () => {
  const b = runCode([0xf3, 0xaa, 0xf4], { regs: { rcx: 5000, rdi: 0x3ff0, rax: 0x1234567877n } });
  assert.ok(bytes(b, 0x3ff0, 5000).every((x) => x === 0x77));
  assert.equal(b.mem.read8(0x3ff0 + 5000), 0);
  assert.equal(b.reg('rdi'), BigInt(0x3ff0 + 5000));
  const w = runCode([0xf3, 0x66, 0xab, 0xf4], { regs: { rcx: 3, rdi: 0x3001, rax: 0xbeef } });
  assert.deepEqual(bytes(w, 0x3001, 7), [0xef, 0xbe, 0xef, 0xbe, 0xef, 0xbe, 0]);
  const d = runCode([0xf3, 0xab, 0xf4], { regs: { rcx: 2000, rdi: 0x3ffe, rax: 0x11223344 } });
  for (let i = 0; i < 2000; i++) assert.deepEqual(bytes(d, 0x3ffe + 4 * i, 4), [0x44, 0x33, 0x22, 0x11]);
  const q = runCode([0xf3, 0x48, 0xab, 0xf4], { regs: { rcx: 3, rdi: 0x3000, rax: 0x0102030405060708n } });
  assert.deepEqual(bytes(q, 0x3000, 24), [8, 7, 6, 5, 4, 3, 2, 1, 8, 7, 6, 5, 4, 3, 2, 1, 8, 7, 6, 5, 4, 3, 2, 1]);
  // backwards
  const back = runCode([0xf3, 0x66, 0xab, 0xf4], { regs: { rcx: 3, rdi: 0x3004, rax: 0xbeef }, rflags: 0x2 | DF });
  assert.deepEqual(bytes(back, 0x3000, 6), [0xef, 0xbe, 0xef, 0xbe, 0xef, 0xbe]);
  assert.equal(back.reg('rdi'), 0x2ffen);
});

test('LODS loads AL/AX/EAX/RAX (EAX zero-extends, AL/AX merge) and advances RSI', () => {
  const mem: Array<[number, number[]]> = [[0x3000, [0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88]]];
  const rax = 0xffffffffffffffffn;
  const b = runCode([0xac, 0xf4], { regs: { rax, rsi: 0x3000 }, memory: mem });
  assert.equal(b.reg('rax'), 0xffffffffffffff81n);
  assert.equal(b.reg('rsi'), 0x3001n);
  const w = runCode([0x66, 0xad, 0xf4], { regs: { rax, rsi: 0x3000 }, memory: mem });
  assert.equal(w.reg('rax'), 0xffffffffffff8281n);
  const d = runCode([0xad, 0xf4], { regs: { rax, rsi: 0x3000 }, memory: mem });
  assert.equal(d.reg('rax'), 0x84838281n);
  const q = runCode([0x48, 0xad, 0xf4], { regs: { rax, rsi: 0x3000 }, memory: mem });
  assert.equal(q.reg('rax'), 0x8887868584838281n);
  assert.equal(q.reg('rsi'), 0x3008n);
  // REP LODSB keeps the last byte
  const rep = runCode([0xf3, 0xac, 0xf4], { regs: { rax: 0, rcx: 5, rsi: 0x3000 }, memory: mem });
  assert.equal(rep.reg('rax'), 0x85n);
  assert.equal(rep.reg('rsi'), 0x3005n);
  assert.equal(rep.reg('rcx'), 0n);
});

// ---- CMPS / SCAS --------------------------------------------------------------------------------

test('REPE CMPSB stops after the first difference with the flags of that compare', () => {
  const r = runCode([0xf3, 0xa6, 0xf4], {
    regs: { rcx: 10, rsi: 0x3000, rdi: 0x5000 },
    memory: [[0x3000, ascii('hello, world')], [0x5000, ascii('hellO, world')]],
  });
  assert.equal(r.reg('rcx'), 5n);
  assert.equal(r.reg('rsi'), 0x3005n);
  assert.equal(r.reg('rdi'), 0x5005n);
  // 'o' (0x6f) - 'O' (0x4f) = 0x20: ZF=0 CF=0 SF=0 OF=0
  assert.equal(r.cpu.zf, 0);
  assert.equal(r.cpu.cf, 0);
  assert.equal(r.cpu.sf, 0);
  // equal strings run to the end with ZF = 1
  const e = runCode([0xf3, 0xa6, 0xf4], {
    regs: { rcx: 5, rsi: 0x3000, rdi: 0x5000 }, memory: [[0x3000, ascii('abcde')], [0x5000, ascii('abcde')]],
  });
  assert.equal(e.reg('rcx'), 0n);
  assert.equal(e.cpu.zf, 1);
});

test('CMPS compares [rSI] - [rDI] in every size', () => {
  // cmpsd: 1 - 2 -> CF=1 SF=1 ZF=0
  const d = runCode([0xa7, 0xf4], { regs: { rsi: 0x3000, rdi: 0x5000 }, memory: [[0x3000, [1, 0, 0, 0]], [0x5000, [2, 0, 0, 0]]] });
  assert.equal(d.cpu.cf, 1);
  assert.equal(d.cpu.sf, 1);
  assert.equal(d.cpu.zf, 0);
  assert.equal(d.reg('rsi'), 0x3004n);
  assert.equal(d.reg('rdi'), 0x5004n);
  // cmpsq: 0x8000000000000000 - 1 -> OF=1, SF=0, CF=0
  const q = runCode([0x48, 0xa7, 0xf4], {
    regs: { rsi: 0x3000, rdi: 0x5000 }, memory: [[0x3000, [0, 0, 0, 0, 0, 0, 0, 0x80]], [0x5000, [1]]],
  });
  assert.equal(q.cpu.of, 1);
  assert.equal(q.cpu.sf, 0);
  assert.equal(q.cpu.cf, 0);
  // cmpsw, DF = 1
  const w = runCode([0x66, 0xa7, 0xf4], { regs: { rsi: 0x3000, rdi: 0x5000 }, rflags: 0x2 | DF, memory: [[0x3000, [5, 5]], [0x5000, [5, 5]]] });
  assert.equal(w.cpu.zf, 1);
  assert.equal(w.reg('rsi'), 0x2ffen);
  assert.equal(w.reg('rdi'), 0x4ffen);
});

test('REPNE SCASB finds a byte (the strlen idiom); REPE SCAS skips equal elements', () => {
  // rcx = -1, al = 0: repne scasb; rcx = -(len + 2)
  const r = runCode([0xf2, 0xae, 0xf4], { regs: { rcx: -1n, rax: 0, rdi: 0x3000 }, memory: [[0x3000, [...ascii('hello'), 0]]] });
  assert.equal(r.reg('rcx'), BigInt.asUintN(64, -7n));
  assert.equal(r.reg('rdi'), 0x3006n);
  assert.equal(r.cpu.zf, 1);
  // not found within the count: ZF = 0, RCX = 0
  const nf = runCode([0xf2, 0xae, 0xf4], { regs: { rcx: 3, rax: 0x7a, rdi: 0x3000 }, memory: [[0x3000, ascii('hello')]] });
  assert.equal(nf.reg('rcx'), 0n);
  assert.equal(nf.cpu.zf, 0);
  // repe scasd over zeros until a non-zero dword
  const z = runCode([0xf3, 0xaf, 0xf4], { regs: { rcx: 100, rax: 0, rdi: 0x3000 }, memory: [[0x300c, [1]]] });
  assert.equal(z.reg('rcx'), 96n);
  assert.equal(z.reg('rdi'), 0x3010n);
  assert.equal(z.cpu.zf, 0);
  // scasq: RAX - [RDI]
  const q = runCode([0x48, 0xaf, 0xf4], { regs: { rax: 5, rdi: 0x3000 }, memory: [[0x3000, [5]]] });
  assert.equal(q.cpu.zf, 1);
  assert.equal(q.reg('rdi'), 0x3008n);
});

test('REPE CMPS with count 0 leaves the flags alone', () => {
  const r = runCode([0xf3, 0xa6, 0xf4], { regs: { rcx: 0, rsi: 0x3000, rdi: 0x5000 }, rflags: 0x2 | 0x1 | 0x80 });
  assert.equal(r.cpu.getRflags(), 0x83);
  assert.equal(r.reg('rsi'), 0x3000n);
});

test('REP MOVSB that overwrites the code that follows it: the new code runs', () => {
  // 1000: rep movsb (copies "mov al, 0x22" over the next instruction) / 1002: mov al, 0x11 / hlt
  const r = runCode([0xf3, 0xa4, 0xb0, 0x11, 0xf4], { regs: { rcx: 2, rsi: 0x3000, rdi: 0x1002 }, memory: [[0x3000, [0xb0, 0x22]]] });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax') & 0xffn, 0x22n);
});

test('REP STOS over a page boundary into memory that is not RAM is dropped, not a fault', () => {
  const r = runCode([0xf3, 0xaa, 0xf4], { regs: { rcx: 0x20, rdi: 0xffff0, rax: 0x66 } });
  assert.equal(r.result.reason, 'hlt');
  assert.ok(bytes(r, 0xffff0, 16).every((b) => b === 0x66));
  assert.equal(r.reg('rdi'), 0x100010n);
});

test('REP MOVS/STOS agree with an element-by-element reference (random overlaps, sizes, directions)', () => {
  // Deterministic pseudo-random cases in a 4-page window so that source and destination overlap
  // in every way, elements straddle pages, and the count crosses several pages.
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const base = 0x20000, win = 0x4000;
  for (let iter = 0; iter < 300; iter++) {
    const size = [1, 2, 4, 8][rnd(4)];
    const stos = rnd(5) === 0;
    const df = rnd(3) === 0 ? 1 : 0;
    const count = rnd(8) === 0 ? rnd(3) : rnd(Math.floor(win / size / 2));
    const span = count * size;
    const pick = (): number => (df ? base + span + rnd(win - 2 * span - 8) : base + rnd(win - span - 8));
    const rsi = pick(), rdi = pick();
    const init = Array.from({ length: win }, (_, i) => (i * 37 + iter * 11 + (i >> 7)) & 0xff);
    const rax = 0x0123456789abcdefn ^ BigInt(iter);
    // Reference
    const m = init.slice();
    let s = rsi - base, d = rdi - base;
    const step = df ? -size : size;
    for (let k = 0; k < count; k++) {
      const el: number[] = [];
      for (let b = 0; b < size; b++) el.push(stos ? Number((rax >> BigInt(8 * b)) & 0xffn) : m[s + b]);
      for (let b = 0; b < size; b++) m[d + b] = el[b];
      s += step;
      d += step;
    }
    const op = stos ? 0xaa + (size > 1 ? 1 : 0) : 0xa4 + (size > 1 ? 1 : 0);
    const prefix = size === 2 ? [0x66] : size === 8 ? [0x48] : [];
    const r = runCode([0xf3, ...prefix, op, 0xf4], {
      regs: { rcx: count, rsi, rdi, rax }, rflags: 0x2 | (df ? DF : 0), memory: [[base, init]], maxInstructions: 0,
    });
    // Half of the cases with a warm TLB (every page of the window read and written before).
    if (iter & 1) for (let a = base; a < base + win; a += 0x1000) r.cpu.write8(a, 0, r.cpu.read8(a, 0));
    assert.equal(r.cpu.run(10).reason, 'hlt');
    const got = bytes(r, base, win);
    for (let i = 0; i < win; i++) {
      if (got[i] !== m[i]) assert.fail(`case ${iter} (${stos ? 'stos' : 'movs'} size ${size} df ${df} count ${count} rsi ${rsi.toString(16)} rdi ${rdi.toString(16)}): byte ${i.toString(16)} is ${got[i]}, expected ${m[i]}`);
    }
    assert.equal(r.reg('rcx'), 0n);
    assert.equal(r.reg('rdi'), BigInt(rdi + count * step));
    assert.equal(r.reg('rsi'), BigInt(stos ? rsi : rsi + count * step));
  }
});

test('REPE/REPNE SCAS and CMPS agree with an element-by-element reference, flags included', () => {
  let seed = 777;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const base = 0x20000, win = 0x3000;
  const val = (m: number[], o: number, size: number): bigint => {
    let v = 0n;
    for (let b = size - 1; b >= 0; b--) v = (v << 8n) | BigInt(m[o + b]);
    return v;
  };
  const subFlags = (a: bigint, b: bigint, size: number): number => {
    const bits = BigInt(size * 8);
    const mask = (1n << bits) - 1n;
    const r = (a - b) & mask;
    const msb = bits - 1n;
    let f = 0;
    if (a < b) f |= 1;
    let p = Number(r & 0xffn);
    p ^= p >> 4; p ^= p >> 2; p ^= p >> 1;
    if ((p & 1) === 0) f |= 4;
    if (((a ^ b ^ r) & 0x10n) !== 0n) f |= 0x10;
    if (r === 0n) f |= 0x40;
    if ((r >> msb) & 1n) f |= 0x80;
    if ((((a ^ b) & (a ^ r)) >> msb) & 1n) f |= 0x800;
    return f;
  };
  for (let iter = 0; iter < 400; iter++) {
    const size = [1, 2, 4, 8][rnd(4)];
    const scas = rnd(2) === 0;
    const repe = rnd(2) === 0;
    const df = rnd(4) === 0 ? 1 : 0;
    const count = rnd(6) === 0 ? rnd(3) : rnd(Math.floor(win / size / 3));
    const span = count * size;
    const pick = (): number => (df ? base + span + rnd(win - 2 * span - 8) : base + rnd(win - span - 8));
    const rsi = pick(), rdi = pick();
    // Few distinct values, long runs, so that both REPE and REPNE run for a while.
    const init: number[] = [];
    let cur = 0;
    for (let i = 0; i < win; i++) {
      if (rnd(repe ? 400 : 3) === 0) cur = rnd(3);
      init.push(cur);
    }
    const rax = BigInt(rnd(3)) * 0x0101010101010101n;
    // Reference
    let s = rsi - base, d = rdi - base, n = count, flags = -1;
    const step = df ? -size : size;
    while (n > 0) {
      const a = scas ? rax & ((1n << BigInt(8 * size)) - 1n) : val(init, s, size);
      const b = val(init, d, size);
      flags = subFlags(a, b, size);
      if (!scas) s += step;
      d += step;
      n--;
      if (repe ? (flags & 0x40) === 0 : (flags & 0x40) !== 0) break;
    }
    const op = scas ? 0xae + (size > 1 ? 1 : 0) : 0xa6 + (size > 1 ? 1 : 0);
    const prefix = size === 2 ? [0x66] : size === 8 ? [0x48] : [];
    const r = runCode([repe ? 0xf3 : 0xf2, ...prefix, op, 0xf4], {
      regs: { rcx: count, rsi, rdi, rax }, rflags: 0x2 | (df ? DF : 0), memory: [[base, init]], maxInstructions: 0,
    });
    if (iter & 1) for (let a = base; a < base + win; a += 0x1000) r.cpu.write8(a, 0, r.cpu.read8(a, 0));
    const res = r.cpu.run(10);
    const what = `case ${iter} (${scas ? 'scas' : 'cmps'} ${repe ? 'repe' : 'repne'} size ${size} df ${df} count ${count})`;
    assert.equal(res.reason, 'hlt', what);
    assert.equal(r.reg('rcx'), BigInt(n), what);
    assert.equal(r.reg('rdi'), BigInt(base + d), what);
    assert.equal(r.reg('rsi'), BigInt(scas ? rsi : base + s), what);
    if (flags >= 0) assert.equal(r.cpu.getRflags() & 0x8d5, flags, what);
  }
});

test('real mode REP MOVS/STOS agree with a reference: 16-bit wrap, limit faults mid-way, both directions', () => {
  let seed = 4242;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const lo = 0x20000, span = 0x30000;
  for (let iter = 0; iter < 120; iter++) {
    const size = [1, 2, 4][rnd(3)];
    const stos = rnd(4) === 0;
    const df = rnd(2);
    const dsBase = 0x20000, esBase = rnd(2) ? 0x20000 : 0x30000 + rnd(0x100) * 16;
    const count = rnd(0x1800);
    const near = (): number => (rnd(2) ? rnd(0x10000) : (0x10000 - rnd(64)) & 0xffff);
    const si = near(), di = near();
    const init = Array.from({ length: span }, (_, i) => (i * 29 + (i >> 9) + iter) & 0xff);
    const ax = 0xa5c3 ^ iter;
    const m = init.slice();
    let s = si, d = di, n = count, fault = false;
    const step = df ? -size : size;
    while (n > 0) {
      if ((!stos && s + size - 1 > 0xffff) || d + size - 1 > 0xffff) { fault = true; break; }
      const el: number[] = [];
      for (let b = 0; b < size; b++) el.push(stos ? ((ax * 0x10001) >>> (8 * b)) & 0xff : m[dsBase + s + b - lo]);
      for (let b = 0; b < size; b++) m[esBase + d + b - lo] = el[b];
      if (!stos) s = (s + step) & 0xffff;
      d = (d + step) & 0xffff;
      n--;
    }
    const op = stos ? (size === 1 ? 0xaa : 0xab) : (size === 1 ? 0xa4 : 0xa5);
    const prefix = size === 4 ? [0x66] : [];
    const r = runCode([0xf3, ...prefix, op, 0xf4], {
      mode: 'real', regs: { rcx: count, rsi: si, rdi: di, rax: ax * 0x10001 }, rflags: 0x2 | (df ? DF : 0),
      memory: [[lo, init]], maxInstructions: 0,
    });
    r.cpu.segBaseLo[3] = dsBase;
    r.cpu.segBaseLo[0] = esBase;
    if (iter & 1) for (let a = lo; a < lo + span; a += 0x1000) r.cpu.write8(a, 0, r.cpu.read8(a, 0));
    const res = r.cpu.run(10);
    const what = `case ${iter} (${stos ? 'stos' : 'movs'} size ${size} df ${df} count ${count} si ${si.toString(16)} di ${di.toString(16)} es ${esBase.toString(16)})`;
    if (fault) {
      assert.equal(res.exception?.vector, GP, what);
      assert.equal(r.cpu.getRip(), 0x1000n, what);
    } else {
      assert.equal(res.reason, 'hlt', what);
    }
    assert.equal(r.reg('rcx'), BigInt(n), what);
    assert.equal(r.reg('rdi'), BigInt(d), what);
    assert.equal(r.reg('rsi'), BigInt(s), what);
    const got = bytes(r, lo, span);
    for (let i = 0; i < span; i++) {
      if (got[i] !== m[i]) assert.fail(`${what}: byte ${(lo + i).toString(16)} is ${got[i]}, expected ${m[i]}`);
    }
  }
});

test('a fault in REPE/REPNE CMPS/SCAS leaves the flags as before the instruction (SDM REP; measured)', () => {
  // real mode: repe scasw with DI = 0xfffb, count 5, AX = memory: words at fffb, fffd compare
  // equal, the word at ffff is beyond the limit -> #GP with CX = 3, DI = 0xffff, flags unchanged
  const r = runCode([0xf3, 0xaf, 0xf4], {
    mode: 'real', regs: { rcx: 5, rdi: 0xfffb, rax: 0x1234 }, rflags: 0x2 | 0x1 | 0x800,
    memory: [[0xfffb, [0x34, 0x12, 0x34, 0x12, 0x34]]],
  });
  assert.equal(r.result.exception?.vector, GP);
  assert.equal(r.reg('rcx'), 3n);
  assert.equal(r.reg('rdi'), 0xffffn);
  assert.equal(r.cpu.getRflags(), 0x803);
  // 64-bit: repne cmpsb running into non-canonical space
  const q = runCode([0xf2, 0xa6, 0xf4], {
    regs: { rcx: 10, rsi: 0x3000, rdi: 0x00007ffffffffffen }, rflags: 0x2 | 0x40 | 0x4,
    memory: [[0x3000, [1, 2, 3, 4]]],
  });
  assert.equal(q.result.exception?.vector, GP);
  assert.equal(q.reg('rcx'), 8n);
  assert.equal(q.reg('rsi'), 0x3002n);
  assert.equal(q.cpu.getRflags(), 0x46);
  // without a fault the flags are those of the last comparison
  const ok = runCode([0xf3, 0xaf, 0xf4], {
    mode: 'real', regs: { rcx: 2, rdi: 0xfffb, rax: 0x1234 }, rflags: 0x2 | 0x1 | 0x800,
    memory: [[0xfffb, [0x34, 0x12, 0x34, 0x12, 0x34]]],
  });
  assert.equal(ok.result.reason, 'hlt');
  assert.equal(ok.cpu.getRflags() & 0x8d5, 0x44);
});
