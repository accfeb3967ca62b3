/**
 * MUL, IMUL, DIV, IDIV: the limb arithmetic against BigInt, every form and size executed against
 * a reference model of the SDM's operation sections (plus the undefined flags as measured on an
 * Intel core: MUL/IMUL SF = sign of the low half, PF = its parity, ZF = AF = 0; DIV/IDIV leave the
 * flags unchanged), #DE cases, memory operands, 16-bit real mode, and samples measured on the host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, StartMode } from '../../src/x86/modes';
import { limbs } from '../../src/x86/wideMath';
import { runCode } from './run';

const M64 = (1n << 64n) - 1n;
const M32 = 0xffffffffn;
const u64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const halves = (v: bigint): [number, number] => [Number(v & M32) | 0, Number((v >> 32n) & M32) | 0];
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

// Edge values: 0, 1, -1, powers of two around every boundary, just-below/just-above values.
const EDGES: bigint[] = [];
for (const b of [0n, 1n, 2n, 3n, 7n, 8n, 15n, 16n, 31n, 32n, 33n, 47n, 48n, 52n, 53n, 54n, 62n, 63n]) {
  EDGES.push((1n << b) & M64, ((1n << b) - 1n) & M64, ((1n << b) + 1n) & M64, (-(1n << b)) & M64);
}
EDGES.push(0n, M64, 0x8000000000000000n, 0x7fffffffffffffffn, 0x123456789abcdef0n, 0xfedcba9876543210n,
  0xffffffff00000000n, 0x00000000ffffffffn, 0x0000ffff0000ffffn, 0xffff0000ffff0000n, 0x8000000000000001n);
const EDGE_SET = [...new Set(EDGES)];

/** Deterministic xorshift random 64-bit values with varied magnitudes. */
function rng(seed: number): () => bigint {
  let x = BigInt(seed) | 1n;
  return () => {
    x ^= (x << 13n) & M64; x ^= x >> 7n; x ^= (x << 17n) & M64;
    const shift = x & 63n;
    return (x >> shift) ^ (x & 1n ? M64 : 0n) & M64 & M64;
  };
}

test('64x64->128 multiplication matches BigInt (unsigned and signed)', () => {
  const rand = rng(12345);
  const vals = [...EDGE_SET];
  for (let i = 0; i < 200; i++) vals.push(rand() & M64);
  for (const a of vals) {
    for (const b of vals) {
      const [aLo, aHi] = halves(a), [bLo, bHi] = halves(b);
      const [r0, r1, r2, r3] = limbs.mulu64(aLo, aHi, bLo, bHi);
      const got = (u64(r2, r3) << 64n) | u64(r0, r1);
      assert.equal(got, a * b, `mulu64 ${a} * ${b}`);
      const [t0, t1, t2, t3] = limbs.muls64(aLo, aHi, bLo, bHi);
      const sgot = (u64(t2, t3) << 64n) | u64(t0, t1);
      assert.equal(sgot, BigInt.asUintN(128, s64(a) * s64(b)), `muls64 ${s64(a)} * ${s64(b)}`);
    }
  }
});

function checkDiv(n: bigint, dv: bigint): void {
  const w = halves(n & M64), x = halves(n >> 64n), [dLo, dHi] = halves(dv);
  const r = limbs.divu128(w[0], w[1], x[0], x[1], dLo, dHi);
  const q = n / dv;
  if (q > M64) {
    assert.equal(r, null, `divu128 ${n} / ${dv} must overflow`);
    return;
  }
  assert.notEqual(r, null, `divu128 ${n} / ${dv} must not overflow`);
  assert.equal(u64(r![0], r![1]), q, `quotient ${n} / ${dv}`);
  assert.equal(u64(r![2], r![3]), n % dv, `remainder ${n} / ${dv}`);
  if (dHi !== 0) {
    // The general algorithm on its own (the fast paths above may have answered).
    const k = limbs.knuth(w[0], w[1], x[0], x[1], dLo, dHi);
    assert.equal(u64(k[0], k[1]), q, `knuth quotient ${n} / ${dv}`);
    assert.equal(u64(k[2], k[3]), n % dv, `knuth remainder ${n} / ${dv}`);
  }
}

test('128/64 division matches BigInt, including dividends just below overflow', () => {
  const rand = rng(777);
  const divisors = EDGE_SET.filter((v) => v !== 0n);
  for (let i = 0; i < 150; i++) { const v = rand(); if (v !== 0n) divisors.push(v); }
  for (const dv of divisors) {
    const dividends: bigint[] = [];
    for (const lo of EDGE_SET) {
      dividends.push(lo); // high half zero
      dividends.push(((dv - 1n) << 64n) | lo); // largest high halves that do not overflow
      dividends.push((dv << 64n) | lo); // overflows
      dividends.push(((dv >> 1n) << 64n) | lo);
    }
    dividends.push(dv * M64 + (dv - 1n)); // the largest dividend that fits: quotient 2^64-1
    dividends.push(dv * M64 + dv); // the smallest that does not
    for (let i = 0; i < 20; i++) dividends.push(((rand() % dv) << 64n) | rand());
    for (const n of dividends) checkDiv(n, dv);
  }
});

test('Knuth D correction steps (qhat too large) are exact', () => {
  // Divisors with a small second limb after normalisation force the add-back step.
  const cases: [bigint, bigint][] = [
    [0x7fff800000000000_0000000000000000n, 0x800000000000ffffn],
    [0x0000800000000000_0000ffff00000000n, 0x0000800000000001n],
    [0x7ffffffeffffffff_fffffffffffffffen, 0x7fffffffffffffffn],
    [0x8000000000000000_0000000000000000n, 0x8000000000000001n],
    [0xfffffffffffffffe_0000000000000001n, 0xffffffffffffffffn],
    [0x00000000fffffffe_0000000000000000n, 0x00000000ffffffffn + 1n],
  ];
  for (const [n, d] of cases) checkDiv(n, d);
  const rand = rng(99);
  for (let i = 0; i < 20000; i++) {
    let d = rand();
    if (d < (1n << 32n)) d |= 1n << 40n;
    const n = ((rand() % d) << 64n) | rand();
    checkDiv(n, d);
  }
});

// ---- executing instructions against a reference model ---------------------------------------

type Regs = Partial<Record<'rax' | 'rbx' | 'rcx' | 'rdx' | 'rsi', bigint>>;
const IDX = { rax: 0, rcx: 1, rdx: 2, rbx: 3, rsi: 6 } as const;

/** A processor with `code` at 0x1000, reused for many inputs. */
function machine(code: number[], mode: StartMode = 'long') {
  const mem = new PhysicalMemory(0x100000);
  mem.load(0x1000, Uint8Array.from([...code, 0xf4]));
  const cpu = new Cpu(mem);
  enterMode(cpu, mode);
  return (regs: Regs, rflags = 0x2, memAt?: [number, bigint, number]) => {
    for (let i = 0; i < 16; i++) cpu.setReg64(i, 0);
    for (const [k, v] of Object.entries(regs)) cpu.setReg64(IDX[k as keyof typeof IDX], v as bigint);
    if (memAt) {
      const [a, v, n] = memAt;
      for (let i = 0; i < n; i++) mem.write8(a + i, Number((v >> BigInt(8 * i)) & 0xffn));
    }
    cpu.setRflags(rflags);
    cpu.halted = false;
    cpu.setRip(0x1000);
    const result = cpu.run(cpu.icount + 4);
    return { cpu, result, reg: (n: keyof typeof IDX) => cpu.getReg64(IDX[n]) };
  };
}

function parity(b: bigint): number {
  let x = Number(b & 0xffn), p = 1;
  while (x) { p ^= x & 1; x >>= 1; }
  return p;
}

/** Expected status flags after MUL/IMUL with low half `low` of `bits` bits and CF=OF=`ovf`. */
function mulFlags(low: bigint, bits: bigint, ovf: boolean): number {
  return (ovf ? 0x801 : 0) | (parity(low) ? 4 : 0) | (((low >> (bits - 1n)) & 1n) ? 0x80 : 0);
}

const SIZES = [1, 2, 4, 8] as const;
const sx = (v: bigint, bits: bigint): bigint => BigInt.asIntN(Number(bits), v);
const zx = (v: bigint, bits: bigint): bigint => BigInt.asUintN(Number(bits), v);

/** Encoding of `op /ext` (F6/F7 group 3) with an RBX/EBX/BX/BL register or [RBX] memory operand. */
function group3(size: number, ext: number, mem: boolean, bits16 = false): number[] {
  const modrm = mem ? (ext << 3) | 3 : 0xc0 | (ext << 3) | 3;
  if (bits16) {
    // 16-bit code: [bp+di]-free form [bx] is r/m 7 with mod 0.
    const m = mem ? (ext << 3) | 7 : 0xc0 | (ext << 3) | 3;
    return size === 1 ? [0xf6, m] : size === 2 ? [0xf7, m] : [0x66, 0xf7, m];
  }
  return size === 1 ? [0xf6, modrm] : size === 2 ? [0x66, 0xf7, modrm] : size === 4 ? [0xf7, modrm] : [0x48, 0xf7, modrm];
}

interface Outcome { de: boolean; rax?: bigint; rdx?: bigint; flags?: number }

/** The SDM's operation for the group-3 multiply/divide forms, on 64-bit RAX/RDX values. */
function reference(kind: 'mul' | 'imul' | 'div' | 'idiv', size: number, rax: bigint, rdx: bigint, src: bigint, fl: number): Outcome {
  const bits = BigInt(size * 8);
  const a = zx(rax, bits), b = zx(src, bits), dd = zx(rdx, bits);
  const keepHi = (old: bigint, v: bigint): bigint => size === 4 ? zx(v, 32n) : size === 8 ? zx(v, 64n) : (old & ~((1n << bits) - 1n)) | zx(v, bits);
  if (kind === 'mul' || kind === 'imul') {
    const p = kind === 'mul' ? a * b : sx(a, bits) * sx(b, bits);
    const pu = zx(p, 2n * bits);
    const low = zx(pu, bits), high = pu >> bits;
    const ovf = kind === 'mul' ? high !== 0n : sx(low, bits) !== p;
    const flags = mulFlags(low, bits, ovf);
    if (size === 1) return { de: false, rax: (rax & ~0xffffn) | pu, rdx, flags };
    return { de: false, rax: keepHi(rax, low), rdx: keepHi(rdx, high), flags };
  }
  if (b === 0n) return { de: true };
  if (size === 1) {
    const n = zx(rax, 16n);
    let q: bigint, r: bigint;
    if (kind === 'div') { q = n / b; r = n % b; if (q > 0xffn) return { de: true }; }
    else { const ns = sx(n, 16n), ds = sx(b, 8n); q = ns / ds; r = ns % ds; if (q > 127n || q < -128n) return { de: true }; }
    return { de: false, rax: (rax & ~0xffffn) | (zx(r, 8n) << 8n) | zx(q, 8n), rdx, flags: fl };
  }
  const n = (dd << bits) | a;
  let q: bigint, r: bigint;
  if (kind === 'div') {
    q = n / b; r = n % b;
    if (q >> bits !== 0n) return { de: true };
  } else {
    const ns = sx(n, 2n * bits), ds = sx(b, bits);
    q = ns / ds; r = ns % ds;
    if (q >= 1n << (bits - 1n) || q < -(1n << (bits - 1n))) return { de: true };
  }
  return { de: false, rax: keepHi(rax, q), rdx: keepHi(rdx, r), flags: fl };
}

function inputs(size: number, seed: number): bigint[] {
  const bits = BigInt(size * 8);
  const rand = rng(seed);
  const vals = new Set<bigint>();
  for (const e of EDGE_SET) vals.add(zx(e, bits));
  for (let i = 0; i < 12; i++) vals.add(zx(rand(), bits));
  return [...vals];
}

for (const kind of ['mul', 'imul', 'div', 'idiv'] as const) {
  const ext = { mul: 4, imul: 5, div: 6, idiv: 7 }[kind];
  for (const size of SIZES) {
    for (const mem of [false, true]) {
      test(`${kind} ${size * 8}-bit ${mem ? 'memory' : 'register'} operand matches the SDM for edge values`, () => {
        const run = machine(group3(size, ext, mem));
        const vals = inputs(size, size * 31 + ext);
        const rand = rng(ext * 7 + size);
        const fl = 0x8d7; // all status flags set: DIV/IDIV must keep them
        let checked = 0;
        for (const x of vals) {
          for (const y of vals) {
            // Dividend high half: zero, sign extension, or random (many #DE), or just below overflow.
            const highs = kind === 'div' || kind === 'idiv'
              ? [0n, sx(x, BigInt(size * 8)) < 0n ? M64 : 0n, rand(), y === 0n ? 0n : zx(y - 1n, BigInt(size * 8))]
              : [rand()];
            for (const h of highs) {
              const rax = (rand() & ~((1n << BigInt(size * 8)) - 1n) & M64) | x;
              const rdx = size === 1 ? rand() : (rand() & ~((1n << BigInt(size * 8)) - 1n) & M64) | zx(h, BigInt(size * 8));
              const srcVal = mem ? y : (rand() & ~((1n << BigInt(size * 8)) - 1n) & M64) | y;
              const want = reference(kind, size, rax, rdx, y, fl & 0x8d5);
              const r = mem
                ? run({ rax, rdx, rbx: 0x2000n }, fl, [0x2000, y, size])
                : run({ rax, rdx, rbx: srcVal }, fl);
              const what = `${kind}${size * 8} rax=${rax.toString(16)} rdx=${rdx.toString(16)} src=${y.toString(16)}`;
              if (want.de) {
                assert.equal(r.result.reason, 'exception', what);
                assert.equal(r.result.exception!.vector, 0, what);
                assert.equal(r.cpu.getRip(), 0x1000n, what);
                assert.equal(r.reg('rax'), rax, `${what}: RAX unchanged`);
                assert.equal(r.reg('rdx'), rdx, `${what}: RDX unchanged`);
                assert.equal(r.cpu.getRflags() & 0x8d5, fl & 0x8d5, `${what}: flags unchanged`);
              } else {
                assert.equal(r.result.reason, 'hlt', `${what}: ${r.result.exception?.name}`);
                assert.equal(r.reg('rax'), want.rax, `${what}: RAX`);
                assert.equal(r.reg('rdx'), want.rdx, `${what}: RDX`);
                assert.equal(r.cpu.getRflags() & 0x8d5, want.flags, `${what}: flags`);
              }
              checked++;
            }
          }
        }
        assert.ok(checked > 100);
      });
    }
  }
}

// ---- two- and three-operand IMUL -------------------------------------------------------------

function imulForms(size: number): { name: string; code: number[]; three?: bigint; mem: boolean }[] {
  const p = size === 2 ? [0x66] : size === 8 ? [0x48] : [];
  const out: { name: string; code: number[]; three?: bigint; mem: boolean }[] = [
    { name: 'imul eax, ebx', code: [...p, 0x0f, 0xaf, 0xc3], mem: false },
    { name: 'imul eax, [rbx]', code: [...p, 0x0f, 0xaf, 0x03], mem: true },
  ];
  for (const imm of [0n, 1n, -1n, 5n, -128n, 127n]) {
    out.push({ name: `imul eax, ebx, ${imm} (imm8)`, code: [...p, 0x6b, 0xc3, Number(imm & 0xffn)], three: imm, mem: false });
  }
  const immFull = size === 2 ? [0x7fffn, -0x8000n, 0x1234n] : [0x7fffffffn, -0x80000000n, 0x12345678n, -3n];
  for (const imm of immFull) {
    const bytes = size === 2 ? [Number(imm & 0xffn), Number((imm >> 8n) & 0xffn)]
      : [0, 8, 16, 24].map((s) => Number((imm >> BigInt(s)) & 0xffn));
    out.push({ name: `imul eax, ebx, ${imm}`, code: [...p, 0x69, 0xc3, ...bytes], three: imm, mem: false });
    out.push({ name: `imul eax, [rbx], ${imm}`, code: [...p, 0x69, 0x03, ...bytes], three: imm, mem: true });
  }
  return out;
}

for (const size of [2, 4, 8]) {
  test(`imul two- and three-operand ${size * 8}-bit forms match the SDM for edge values`, () => {
    const bits = BigInt(size * 8);
    const vals = inputs(size, 4242 + size);
    const rand = rng(size);
    for (const f of imulForms(size)) {
      const run = machine(f.code);
      for (const x of vals) {
        for (const y of vals) {
          const rax = (rand() & ~((1n << bits) - 1n) & M64) | x;
          const a = f.three !== undefined ? sx(y, bits) : sx(x, bits);
          const b = f.three !== undefined ? f.three : sx(y, bits);
          const p = a * b;
          const low = zx(p, bits);
          const wantRax = size === 2 ? (rax & ~0xffffn) | low : low;
          const r = f.mem ? run({ rax, rbx: 0x2000n }, 0x8d7, [0x2000, y, size]) : run({ rax, rbx: y }, 0x8d7);
          const what = `${f.name} (${size * 8}) a=${a} b=${b}`;
          assert.equal(r.result.reason, 'hlt', what);
          assert.equal(r.reg('rax'), wantRax, what);
          assert.equal(r.cpu.getRflags() & 0x8d5, mulFlags(low, bits, sx(low, bits) !== p), `${what}: flags`);
        }
      }
    }
  });
}

test('imul r64 with the same register twice squares it, and 32-bit forms zero-extend', () => {
  // imul rax, rax
  let r = runCode([0x48, 0x0f, 0xaf, 0xc0, 0xf4], { regs: { rax: 0xffffffffn } });
  assert.equal(r.reg('rax'), 0xfffffffe00000001n);
  assert.equal(r.cpu.getRflags() & 0x801, 0x801); // 2^64 - 2^33 + 1 does not fit a signed 64-bit value
  r = runCode([0x48, 0x0f, 0xaf, 0xc0, 0xf4], { regs: { rax: 0x7fffffffn } });
  assert.equal(r.reg('rax'), 0x3fffffff00000001n);
  assert.equal(r.cpu.getRflags() & 0x801, 0);
  // imul eax, eax with junk above: the upper half is cleared even though the product fits.
  r = runCode([0x0f, 0xaf, 0xc0, 0xf4], { regs: { rax: 0xdead000000000003n } });
  assert.equal(r.reg('rax'), 9n);
  // imul r9, [rbx+8], -2 with REX.R/B
  r = runCode([0x4c, 0x6b, 0x4b, 0x08, 0xfe, 0xf4], { regs: { rbx: 0x2000 }, memory: [[0x2008, [5, 0, 0, 0, 0, 0, 0, 0x80]]] });
  assert.equal(r.cpu.getReg64(9), BigInt.asUintN(64, -2n * -0x7ffffffffffffffbn));
  assert.equal(r.cpu.getRflags() & 0x801, 0x801);
});

test('MUL/IMUL/DIV/IDIV with AH and high-byte operands', () => {
  // mul ah: AX = AL * AH
  let r = runCode([0xf6, 0xe4, 0xf4], { regs: { rax: 0x1234_0a0bn } });
  assert.equal(r.reg('rax'), 0x1234_0000n | 0x0an * 0x0bn);
  // imul ch with CH = -3, AL = 100: AX = -300
  r = runCode([0xf6, 0xed, 0xf4], { regs: { rax: 100n, rcx: 0xfd00n } });
  assert.equal(r.reg('rax'), 0xfed4n);
  assert.equal(r.cpu.getRflags() & 0x801, 0x801);
  // div bh: AX = 0x0105 / 2 -> AL = 0x82, AH = 1
  r = runCode([0xf6, 0xf7, 0xf4], { regs: { rax: 0x105n, rbx: 0x0200n } });
  assert.equal(r.reg('rax'), 0x0182n);
  // idiv dh: AX = -7 / DH = 2 -> AL = -3, AH = -1
  r = runCode([0xf6, 0xfe, 0xf4], { regs: { rax: 0xfff9n, rdx: 0x0200n } });
  assert.equal(r.reg('rax'), 0xfffdn);
});

test('#DE: zero divisors and IDIV of the most negative dividend by -1, every size, state unchanged', () => {
  const cases: { code: number[]; regs: Record<string, bigint> }[] = [
    { code: [0xf6, 0xf3], regs: { rax: 5n, rbx: 0n } }, // div bl, 0
    { code: [0x66, 0xf7, 0xf3], regs: { rax: 5n, rbx: 0xffff0000n } },
    { code: [0xf7, 0xf3], regs: { rax: 5n, rbx: 0xffffffff00000000n } },
    { code: [0x48, 0xf7, 0xf3], regs: { rax: 5n, rbx: 0n } },
    { code: [0xf6, 0xfb], regs: { rax: 0x8000n, rbx: 0xffn } }, // idiv bl: -32768 / -1
    { code: [0xf6, 0xfb], regs: { rax: 0xff80n, rbx: 0xffn } }, // -128 / -1 = 128
    { code: [0x66, 0xf7, 0xfb], regs: { rax: 0x0000n, rdx: 0x8000n, rbx: 0xffffn } },
    { code: [0xf7, 0xfb], regs: { rax: 0x80000000n, rdx: 0xffffffffn, rbx: 0xffffffffn } },
    { code: [0xf7, 0xfb], regs: { rax: 0n, rdx: 0x80000000n, rbx: 0xffffffffn } },
    { code: [0x48, 0xf7, 0xfb], regs: { rax: 0x8000000000000000n, rdx: M64, rbx: M64 } },
    { code: [0x48, 0xf7, 0xfb], regs: { rax: 0n, rdx: 0x8000000000000000n, rbx: M64 } },
    { code: [0x48, 0xf7, 0xfb], regs: { rax: 0n, rdx: 0x4000000000000001n, rbx: 0x8000000000000000n } },
    { code: [0x48, 0xf7, 0xf3], regs: { rax: 0n, rdx: 7n, rbx: 7n } }, // div: RDX >= divisor
    { code: [0x48, 0xf7, 0x3b], regs: { rax: 1n, rdx: 0n, rbx: 0x2000n } }, // idiv qword [rbx] = 0
  ];
  for (const { code, regs } of cases) {
    const r = runCode([...code, 0xf4], { regs: regs as Record<string, bigint>, rflags: 0x8d7 });
    const what = code.map((b) => b.toString(16)).join(' ');
    assert.equal(r.result.reason, 'exception', what);
    assert.equal(r.result.exception!.vector, 0, what);
    assert.equal(r.cpu.getRip(), 0x1000n, what);
    assert.equal(r.cpu.icount, 0, what);
    for (const [k, v] of Object.entries(regs)) assert.equal(r.reg(k as 'rax'), v, `${what} ${k}`);
    assert.equal(r.cpu.getRflags(), 0x8d7, what);
  }
});

test('IDIV quotients at the exact limits do not fault', () => {
  // -256 / 2 = -128 (8-bit), -32768 via 16-bit, -2^31, -2^63 and 2^63-1.
  let r = runCode([0xf6, 0xfb, 0xf4], { regs: { rax: 0xff00n, rbx: 2n } });
  assert.equal(r.reg('rax') & 0xffffn, 0x0080n);
  r = runCode([0x66, 0xf7, 0xfb, 0xf4], { regs: { rax: 0x0000n, rdx: 0xffffn, rbx: 2n } });
  assert.equal(r.reg('rax'), 0x8000n);
  assert.equal(r.reg('rdx'), 0n);
  r = runCode([0xf7, 0xfb, 0xf4], { regs: { rax: 0x80000000n, rdx: 0xffffffffn, rbx: 1n } });
  assert.equal(r.reg('rax'), 0x80000000n);
  assert.equal(r.reg('rdx'), 0n);
  // -(3 * 2^63) / 3 = -2^63
  const n = BigInt.asUintN(128, -3n * (1n << 63n));
  r = runCode([0x48, 0xf7, 0xfb, 0xf4], { regs: { rax: n & M64, rdx: n >> 64n, rbx: 3n } });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax'), 0x8000000000000000n);
  assert.equal(r.reg('rdx'), 0n);
  // (5 * (2^63 - 1) + 4) / 5 = 2^63 - 1 remainder 4; negated dividend: quotient -(2^63-1), remainder -4
  const p = 5n * ((1n << 63n) - 1n) + 4n;
  r = runCode([0x48, 0xf7, 0xfb, 0xf4], { regs: { rax: p & M64, rdx: p >> 64n, rbx: 5n } });
  assert.equal(r.reg('rax'), (1n << 63n) - 1n);
  assert.equal(r.reg('rdx'), 4n);
  const m = BigInt.asUintN(128, -p);
  r = runCode([0x48, 0xf7, 0xfb, 0xf4], { regs: { rax: m & M64, rdx: m >> 64n, rbx: 5n } });
  assert.equal(r.reg('rax'), BigInt.asUintN(64, -((1n << 63n) - 1n)));
  assert.equal(r.reg('rdx'), BigInt.asUintN(64, -4n));
  // One more in magnitude overflows: (5 * 2^63) / 5 = 2^63
  const o = 5n * (1n << 63n);
  r = runCode([0x48, 0xf7, 0xfb, 0xf4], { regs: { rax: o & M64, rdx: o >> 64n, rbx: 5n } });
  assert.equal(r.result.exception?.vector, 0);
});

test('DIV r64: largest quotient 2^64-1 and the remainder edge', () => {
  // RDX:RAX = d*(2^64-1) + (d-1) with d = 2^63+5
  const d = 0x8000000000000005n;
  const n = d * M64 + (d - 1n);
  const r = runCode([0x48, 0xf7, 0xf3, 0xf4], { regs: { rax: n & M64, rdx: n >> 64n, rbx: d } });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax'), M64);
  assert.equal(r.reg('rdx'), d - 1n);
});

test('16-bit real mode: MUL/IMUL/DIV/IDIV with register and [bx] operands', () => {
  // mul bx ; DX:AX = 0xffff * 0xffff
  let r = runCode([0xf7, 0xe3, 0xf4], { mode: 'real', regs: { rax: 0xffffn, rbx: 0xffffn } });
  assert.equal(r.reg('rax'), 0x0001n);
  assert.equal(r.reg('rdx'), 0xfffen);
  assert.equal(r.cpu.getRflags() & 0x8d5, 0x801 | 0 /* AX=1: SF=0, PF(0x01)=0 */);
  // div word [bx] ; DX:AX = 0x0001_0000 / 3
  r = runCode([0xf7, 0x37, 0xf4], { mode: 'real', regs: { rax: 0n, rdx: 1n, rbx: 0x2000n }, memory: [[0x2000, [3, 0]]] });
  assert.equal(r.reg('rax'), 0x5555n);
  assert.equal(r.reg('rdx'), 1n);
  // idiv byte [bx+si] ; AX = -100 / 7 -> AL = -14, AH = -2
  r = runCode([0xf6, 0x38, 0xf4], { mode: 'real', regs: { rax: 0xff9cn, rbx: 0x2000n, rsi: 4n }, memory: [[0x2004, [7]]] });
  assert.equal(r.reg('rax'), 0xfef2n);
  // 66-prefixed imul eax, ebx, imm32 in 16-bit code: 0x10000 * 0x10000 overflows 32 bits
  r = runCode([0x66, 0x69, 0xc3, 0, 0, 1, 0, 0xf4], { mode: 'real', regs: { rbx: 0x10000n } });
  assert.equal(r.reg('rax'), 0n);
  assert.equal(r.cpu.getRflags() & 0x8d5, 0x805);
  // 66-prefixed div ebx in 16-bit code: EDX:EAX / EBX
  r = runCode([0x66, 0xf7, 0xf3, 0xf4], { mode: 'real', regs: { rax: 0x00000010n, rdx: 0x3n, rbx: 0x10n } });
  assert.equal(r.reg('rax'), 0x30000001n);
  assert.equal(r.reg('rdx'), 0n);
  // div bl by zero raises #DE at the instruction
  r = runCode([0x90, 0xf6, 0xf3, 0xf4], { mode: 'real', regs: { rax: 0x1234n } });
  assert.equal(r.result.exception?.vector, 0);
  assert.equal(r.cpu.getRip(), 0x1001n);
  assert.equal(r.reg('rax'), 0x1234n);
});

test('32-bit protected mode: DIV/IMUL, and a faulting memory operand comes before #DE', () => {
  let r = runCode([0xf7, 0xf3, 0xf4], { mode: 'protected', regs: { rax: 0xfffffffen, rdx: 0x0000000an, rbx: 0x10n } });
  assert.equal(r.reg('rax'), 0xafffffffn);
  assert.equal(r.reg('rdx'), 0xen);
  // div dword [ebx] at the segment limit's far side: #GP(0), not #DE
  r = runCode([0xf7, 0x33, 0xf4], { mode: 'protected', regs: { rbx: 0xfffffffen } });
  assert.equal(r.result.exception?.vector, 13);
});

test('samples measured on an Intel core (Rocket Lake) in 64-bit mode', () => {
  // [code, rax, rdx, rbx(src), flags in, rax out, rdx out, status flags out]
  const samples: [number[], bigint, bigint, bigint, number, bigint, bigint, number][] = [
    [[0xf6, 0xe3], 0x7fn, 0n, 0x7fn, 0, 0x3f01n, 0n, 0x801], // mulb: AL=01 PF=0 SF=0
    [[0x66, 0xf7, 0xe3], 0xffffn, 0n, 0xffffn, 0, 0x0001n, 0xfffen, 0x801],
    [[0xf7, 0xe3], 0x80000000n, 0n, 0x80000000n, 0x8d5, 0n, 0x40000000n, 0x805],
    [[0x48, 0xf7, 0xe3], M64, 0n, M64, 0, 1n, M64 - 1n, 0x801],
    [[0x48, 0xf7, 0xeb], 0x8000000000000000n, 0n, M64, 0, 0x8000000000000000n, 0n, 0x885],
    [[0xf6, 0xeb], 0x80n, 0n, 0xffn, 0, 0x0080n, 0n, 0x881],
    [[0x48, 0x0f, 0xaf, 0xc3], 0x123456789abcdefn, 0n, 0xfedcba9876543210n, 0, 0x2236d88fe5618cf0n, 0n, 0x805],
    [[0x48, 0xf7, 0xf3], 5n, 1n, 7n, 0x0c5, 0x2492492492492493n, 0n, 0x0c5],
    [[0xf7, 0xfb], 0xffffff9cn, 0xffffffffn, 7n, 0x811, 0xfffffff2n, 0xfffffffen, 0x811],
    [[0x48, 0xf7, 0xe3], 0n, 0n, 0n, 0x8d5, 0n, 0n, 0x004],
  ];
  for (const [code, rax, rdx, rbx, fin, wantRax, wantRdx, wantFl] of samples) {
    const r = runCode([...code, 0xf4], { regs: { rax, rdx, rbx }, rflags: fin | 2 });
    const what = code.map((b) => b.toString(16)).join(' ');
    assert.equal(r.reg('rax'), wantRax, what);
    assert.equal(r.reg('rdx'), wantRdx, what);
    assert.equal(r.cpu.getRflags() & 0x8d5, wantFl, what);
  }
});

test('imul r64, r/m64: overflow detection at products near ±2^63 and ±2^64', () => {
  const run = machine([0x48, 0x0f, 0xaf, 0xc3]); // imul rax, rbx
  const rand = rng(2024);
  const pairs: [bigint, bigint][] = [];
  for (let i = 0; i < 3000; i++) {
    let a = BigInt.asIntN(64, rand());
    if (a === 0n) a = 3n;
    for (const target of [1n << 63n, -(1n << 63n), 1n << 64n, -(1n << 64n), (1n << 63n) - 1n]) {
      const b0 = target / a;
      for (const db of [-1n, 0n, 1n]) pairs.push([a, b0 + db]);
    }
  }
  pairs.push([-(1n << 31n), 1n << 32n], [1n << 31n, 1n << 32n], [-1n, -(1n << 63n)], [1n, -(1n << 63n)], [-(1n << 62n), 2n],
    [0x100000001n, 0xffffffffn], [3037000499n, 3037000499n], [3037000500n, 3037000500n], [-3037000500n, 3037000500n]);
  for (const [a, b] of pairs) {
    if (b < -(1n << 63n) || b >= 1n << 63n) continue;
    const p = a * b;
    const low = BigInt.asUintN(64, p);
    const r = run({ rax: BigInt.asUintN(64, a), rbx: BigInt.asUintN(64, b) });
    assert.equal(r.reg('rax'), low, `${a} * ${b}`);
    assert.equal(r.cpu.getRflags() & 0x801, BigInt.asIntN(64, low) !== p ? 0x801 : 0, `${a} * ${b}: CF/OF`);
  }
});
