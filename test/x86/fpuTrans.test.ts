/**
 * x87 transcendentals (FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1) against silicon.
 *
 * Samples come from test/x86/fpu-host-gen-trans.c run on an Intel host (random and edge operands,
 * every rounding mode, PC 24/53/64, and every exception unmasked). The model computes each
 * function to ~104 bits and rounds once (correctly rounded, with pi66 argument reduction for the
 * trigonometric ones), plus the measured shortcuts for tiny, denormal and out-of-domain operands,
 * and (F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN) a small fixed offset toward zero before the final
 * rounding that models the host's measured bias (transcendental.ts, accBias). Intel's microcode
 * is not correctly rounded (SDM vol. 1 §8.3.10 only promises < 1 ulp), so differences remain;
 * they are all of two kinds, checked here exactly:
 *   - the value differs by exactly 1 ulp (the other neighbour of the true value), the status word
 *     then differs at most in C1;
 *   - the value is equal and the status word differs in C1 only (the host's internal rounding
 *     went the other way).
 * Measured rates (100,160 masked + 6,432 unmasked samples) are in transcendental.ts's header.
 * The per-instruction counts of such differences in the recorded file are pinned as upper bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { runSamples } from './fpuHarness';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode } from '../../src/x86/modes';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Neighbouring 80-bit encodings (normal/denormal finite values of one sign). */
function step(hex: string, dir: number): string {
  const se = parseInt(hex.slice(0, 4), 16);
  let m = BigInt('0x' + hex.slice(4));
  let e = se & 0x7fff;
  const s = se & 0x8000;
  m += BigInt(dir);
  if (m === 1n << 64n) { m = 1n << 63n; e++; }
  else if (dir < 0 && m === (1n << 63n) - 1n && e > 1) { m = (1n << 64n) - 1n; e--; }
  return (s | e).toString(16).padStart(4, '0') + m.toString(16).padStart(16, '0');
}

/** Whether a mismatch is one of the two documented kinds (1 ulp apart and/or C1 only). */
function benign(line: string, got: string): boolean {
  const t = line.trim().split(/\s+/), g = got.split(/\s+/);
  const want = t[4], sw = parseInt(t[5], 16), gsw = parseInt(g[1], 16);
  if (g.length > 2) return false; // an exception or no HLT
  if (((sw ^ gsw) & ~0x200) !== 0) return false;
  if (g[0] === want) return sw !== gsw;
  return step(want, 1) === g[0] || step(want, -1) === g[0];
}

function classify(lines: string[]): { byOp: Record<string, [number, number]>; bad: string[] } {
  const r = runSamples(lines);
  const bad = r.bad.filter((m) => !benign(m.line, m.got)).map((m) => `${m.line}  GOT  ${m.got}`);
  return { byOp: r.byOp, bad };
}

// Recorded file: differences per form (all benign), measured when this was written; a change
// that increases any of them is a regression.
const PINNED: Record<string, number> = {
  'x:d9fe': 6, 'x:d9ff': 6, 'x:d9fb': 3, 'x:d9fbd9c9': 4, 'x:d9f2': 5, 'x:d9f2d9c9': 10,
  'x:d9f3': 6, 'x:d9f0': 11, 'x:d9f1': 19, 'x:d9f9': 17,
  'xu:d9fe': 0, 'xu:d9ff': 1, 'xu:d9fb': 0, 'xu:d9f2': 1, 'xu:d9f3': 2, 'xu:d9f0': 3, 'xu:d9f1': 3, 'xu:d9f9': 4,
};

test('x87 transcendentals match the recorded host samples up to the documented 1-ulp/C1 differences', () => {
  const lines = readFileSync(join(HERE, 'fpu-host-trans-samples.txt'), 'utf8').split('\n').filter((l) => l.trim());
  assert.ok(lines.length >= 3500);
  const { byOp, bad } = classify(lines);
  assert.equal(bad.length, 0, `${bad.length} mismatches beyond 1 ulp / C1:\n${bad.slice(0, 10).join('\n')}`);
  for (const [op, n] of Object.entries(PINNED)) {
    assert.ok(byOp[op] && byOp[op][1] <= n, `${op}: ${byOp[op]?.[1]} differences (pinned ${n})`);
  }
});

test('x87 transcendentals match a live batch from this host up to the documented differences', (t) => {
  if (process.arch !== 'x64') { t.skip('host is not x86-64'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'vtx-fpu-trans-'));
  try {
    const exe = join(dir, 'gen');
    try {
      execFileSync('cc', ['-O1', '-w', '-o', exe, join(HERE, 'fpu-host-gen-trans.c')], { stdio: 'ignore' });
    } catch {
      t.skip('no C compiler'); return;
    }
    const out = execFileSync(exe, ['40'], { env: { ...process.env, SEED: '515151' }, maxBuffer: 64 << 20 }).toString();
    const { byOp, bad } = classify(out.split('\n').filter((l) => l.trim()));
    assert.equal(bad.length, 0, `${bad.length} mismatches beyond 1 ulp / C1:\n${bad.slice(0, 10).join('\n')}`);
    for (const [op, [n, d]] of Object.entries(byOp)) assert.ok(d <= n * 0.15, `${op}: ${d}/${n} differences`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- unit tests (stack faults and special operands) --------------------------------------------
const DATA = 0x3000;
/** Run x87 code (RBX = DATA) and return FNSAVE's image (at DATA + 0x100) after it. */
function save(code: number[], cw = 0x037f): { sw: number; tw: number; st: (i: number) => string } {
  const mem = new PhysicalMemory(0x10000);
  mem.load(DATA, Uint8Array.from([cw & 0xff, cw >> 8]));
  const prologue = [0xbb, 0x00, 0x30, 0x00, 0x00, 0xdb, 0xe3, 0xd9, 0x2b]; // mov ebx, DATA; fninit; fldcw [rbx]
  mem.load(0x1000, Uint8Array.from([...prologue, ...code, 0xdd, 0xb3, 0x00, 0x01, 0x00, 0x00, 0xf4])); // fnsave [rbx+0x100]
  const cpu = new Cpu(mem);
  enterMode(cpu, 'long');
  cpu.setRip(0x1000);
  cpu.setReg64(4, 0x8000);
  const r = cpu.run(1000);
  assert.equal(r.reason, 'hlt');
  const b = mem.readBytes(DATA + 0x100, 108);
  const st = (i: number): string => { let s = ''; for (let k = 9; k >= 0; k--) s += b[28 + 10 * i + k].toString(16).padStart(2, '0'); return s; };
  return { sw: b[4] | (b[5] << 8), tw: b[8] | (b[9] << 8), st };
}
const FLD1 = [0xd9, 0xe8], FLDPI = [0xd9, 0xeb], FLDZ = [0xd9, 0xee], FCHS = [0xd9, 0xe0];
const FSIN = [0xd9, 0xfe], FCOS = [0xd9, 0xff], FSINCOS = [0xd9, 0xfb], FPTAN = [0xd9, 0xf2];
const FPATAN = [0xd9, 0xf3], F2XM1 = [0xd9, 0xf0], FYL2X = [0xd9, 0xf1], FYL2XP1 = [0xd9, 0xf9];
const IND = 'ffffc000000000000000';

test('FSINCOS/FPTAN with a full stack: IE, SF, C1 = 1 and two indefinites pushed (host)', () => {
  for (const op of [FSINCOS, FPTAN]) {
    const r = save([...FLD1, ...FLD1, ...FLD1, ...FLD1, ...FLD1, ...FLD1, ...FLD1, ...FLDPI, ...op]);
    assert.equal(r.sw, 0x3a41); assert.equal(r.tw, 0x8002);
    assert.equal(r.st(0), IND); assert.equal(r.st(1), IND);
  }
});

test('transcendentals on an empty stack: IE + SF, indefinite results (host)', () => {
  let r = save(FSIN);
  assert.equal(r.sw, 0x0041); assert.equal(r.tw, 0xfffe); assert.equal(r.st(0), IND);
  for (const op of [FSINCOS, FPTAN]) {
    r = save(op);
    assert.equal(r.sw, 0x3841); assert.equal(r.tw, 0xbffe); assert.equal(r.st(0), IND); assert.equal(r.st(1), IND);
  }
  for (const op of [FPATAN, FYL2X]) {
    r = save([...FLDPI, ...op]); // ST1 empty: the indefinite goes to ST1, then the pop
    assert.equal(r.sw, 0x0041); assert.equal(r.tw, 0xfffe); assert.equal(r.st(0), IND);
  }
});

test('special operands (SDM vol. 2A tables)', () => {
  // FSIN(-0) = -0, FCOS(-0) = +1, FPTAN(+0) = +0 then 1.0; no flags
  let r = save([...FLDZ, ...FCHS, ...FSIN]); assert.equal(r.st(0), '80000000000000000000'); assert.equal(r.sw & 0x3f, 0);
  r = save([...FLDZ, ...FCHS, ...FCOS]); assert.equal(r.st(0), '3fff8000000000000000');
  r = save([...FLDZ, ...FPTAN]); assert.equal(r.st(0), '3fff8000000000000000'); assert.equal(r.st(1), '00000000000000000000');
  // FPATAN(+0 / -0) = +pi (rounded: RC nearest rounds the constant up, C1 = 1)
  r = save([...FLDZ, ...FLDZ, ...FCHS, ...FPATAN]); assert.equal(r.st(0), '4000c90fdaa22168c235'); assert.equal(r.sw & 0x223, 0x220);
  // F2XM1(-inf) = -1 exactly
  r = save([...FLD1, ...FLDZ, ...[0xde, 0xf9], ...FCHS, ...F2XM1]); // 1/0 = inf (ZE), -inf
  assert.equal(r.st(0), 'bfff8000000000000000');
  // FYL2X: x = -1 is invalid; x = +0 with y = 1 divides by zero: -inf
  r = save([...FLD1, ...FLD1, ...FCHS, ...FYL2X]); assert.equal(r.st(0), IND); assert.equal(r.sw & 0x3f, 1);
  r = save([...FLD1, ...FLDZ, ...FYL2X]); assert.equal(r.st(0), 'ffff8000000000000000'); assert.equal(r.sw & 0x3f, 4);
  // FYL2XP1(+0) with y = 1: +0
  r = save([...FLD1, ...FLDZ, ...FYL2XP1]); assert.equal(r.st(0), '00000000000000000000');
});

test('FSIN/FCOS/FPTAN with |x| >= 2^63 set C2 and leave ST0 (and the stack) unchanged (host)', () => {
  // 2^63 loaded from memory as m80
  for (const op of [FSIN, FCOS, FSINCOS, FPTAN]) {
    const mem = [0xc7, 0x43, 0x40, 0, 0, 0, 0, 0xc7, 0x43, 0x44, 0, 0, 0, 0x80, 0x66, 0xc7, 0x43, 0x48, 0x3e, 0x40]; // m80 2^63 at [rbx+0x40]
    const r = save([...mem, 0xdb, 0x6b, 0x40, ...op]);
    assert.equal(r.st(0), '403e8000000000000000'); assert.equal(r.sw & 0x7f00, 0x3c00); assert.equal(r.tw, 0x3fff);
  }
});

test('sample values in every rounding mode (host)', () => {
  // FSIN(1.0), FCOS(1.0), FPATAN(1, 1) = pi/4 under RC = nearest/down/up/chop (recorded on the host)
  const exp: Array<[number[], string[]]> = [
    [[...FLD1, ...FSIN], ['3ffed76aa47848677021', '3ffed76aa47848677020', '3ffed76aa47848677021', '3ffed76aa47848677020']],
    [[...FLD1, ...FCOS], ['3ffe8a51407da8345c92', '3ffe8a51407da8345c91', '3ffe8a51407da8345c92', '3ffe8a51407da8345c91']],
    [[...FLD1, ...FLD1, ...FPATAN], ['3ffec90fdaa22168c235', '3ffec90fdaa22168c234', '3ffec90fdaa22168c235', '3ffec90fdaa22168c234']],
  ];
  for (const [code, vals] of exp) for (let rc = 0; rc < 4; rc++) assert.equal(save(code, 0x037f | (rc << 10)).st(0), vals[rc]);
});
