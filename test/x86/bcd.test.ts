/**
 * DAA, DAS, AAA, AAS, AAM, AAD: every AL (and AH where it matters) and input CF/AF against the
 * SDM operation pseudo-code, with the undefined flags as measured on an Intel core in 32-bit
 * compatibility mode; 16-bit real mode; #DE for AAM 0; #UD in 64-bit mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, StartMode } from '../../src/x86/modes';
import { runCode } from './run';

const CF = 0x001, PF = 0x004, AF = 0x010, ZF = 0x040, SF = 0x080, OF = 0x800;
const STATUS = 0x8d5;

/** A processor running `code` + HLT at 0x1000, reused for many inputs; returns (EAX, status flags) or the exception vector. */
function machine(code: number[], mode: StartMode) {
  const mem = new PhysicalMemory(0x10000);
  mem.load(0x1000, Uint8Array.from([...code, 0xf4]));
  const cpu = new Cpu(mem);
  enterMode(cpu, mode);
  return (eax: number, flags: number): { eax: number; flags: number; vector?: number } => {
    cpu.setReg64(0, eax >>> 0);
    cpu.setRflags(flags | 2);
    cpu.halted = false;
    cpu.setRip(0x1000);
    const r = cpu.run(cpu.icount + 4);
    return { eax: cpu.lo[0] >>> 0, flags: cpu.getRflags() & STATUS, vector: r.exception?.vector };
  };
}

function parity(b: number): number {
  let x = b & 0xff, p = 1;
  while (x) { p ^= x & 1; x >>= 1; }
  return p;
}
const szp = (r: number): number => (r & 0x80 ? SF : 0) | ((r & 0xff) === 0 ? ZF : 0) | (parity(r) ? PF : 0);

// Reference models written from the SDM pseudo-code. Returns [new AX, status flags].
function refDaa(ax: number, fl: number): [number, number] {
  const oldAl = ax & 0xff, oldCf = fl & CF;
  let al = oldAl, cf = 0, af = 0;
  if ((al & 0x0f) > 9 || fl & AF) { al = (al + 6) & 0xff; af = 1; cf = oldCf | (oldAl + 6 > 0xff ? 1 : 0); }
  if (oldAl > 0x99 || oldCf) { al = (al + 0x60) & 0xff; cf = 1; } else cf = 0;
  return [(ax & 0xff00) | al, szp(al) | (cf ? CF : 0) | (af ? AF : 0)]; // OF = 0 on silicon
}
function refDas(ax: number, fl: number): [number, number] {
  const oldAl = ax & 0xff, oldCf = fl & CF;
  let al = oldAl, cf = 0, af = 0;
  if ((al & 0x0f) > 9 || fl & AF) { al = (al - 6) & 0xff; af = 1; cf = oldCf | (oldAl < 6 ? 1 : 0); }
  if (oldAl > 0x99 || oldCf) { al = (al - 0x60) & 0xff; cf = 1; }
  return [(ax & 0xff00) | al, szp(al) | (cf ? CF : 0) | (af ? AF : 0)];
}
function refAaa(ax: number, fl: number): [number, number] {
  let f = 0;
  if ((ax & 0x0f) > 9 || fl & AF) { ax = (ax + 0x106) & 0xffff; f = CF | AF; }
  ax &= 0xff0f;
  return [ax, f | (szp(ax & 0xff) & (ZF | PF))]; // SF = OF = 0 on silicon
}
function refAas(ax: number, fl: number): [number, number] {
  let f = 0;
  if ((ax & 0x0f) > 9 || fl & AF) { ax = (ax - 6) & 0xffff; ax = (((ax >> 8) - 1) & 0xff) << 8 | (ax & 0xff); f = CF | AF; }
  ax &= 0xff0f;
  return [ax, f | (szp(ax & 0xff) & (ZF | PF))];
}
function refAam(ax: number, base: number): [number, number] {
  const al = ax & 0xff;
  const r = al % base;
  return [(Math.floor(al / base) << 8) | r, szp(r)]; // CF = AF = OF = 0 on silicon
}
function refAad(ax: number, base: number): [number, number] {
  const al = ax & 0xff, t = ((ax >> 8) * base) & 0xff;
  const r = (al + t) & 0xff;
  // CF, AF, OF as for the byte addition al + t (silicon)
  const cf = al + t > 0xff ? CF : 0;
  const af = (al ^ t ^ r) & 0x10 ? AF : 0;
  const of = ~(al ^ t) & (al ^ r) & 0x80 ? OF : 0;
  return [r, szp(r) | cf | af | of];
}

const FLAG_INPUTS = [0, CF, AF, CF | AF, STATUS, OF | SF];

for (const mode of ['protected', 'real'] as const) {
  for (const [name, code, ref] of [
    ['DAA', [0x27], refDaa], ['DAS', [0x2f], refDas], ['AAA', [0x37], refAaa], ['AAS', [0x3f], refAas],
  ] as const) {
    test(`${name} in ${mode} mode: every AL and input CF/AF matches the SDM`, () => {
      const run = machine([...code], mode);
      const ahs = name.startsWith('AA') ? [0x00, 0x01, 0x7f, 0xff] : [0x00, 0x5a];
      for (const ah of ahs) {
        for (let al = 0; al < 256; al++) {
          for (const fl of FLAG_INPUTS) {
            const ax = (ah << 8) | al;
            const [wantAx, wantFl] = ref(ax, fl);
            const got = run(0xabcd0000 | ax, fl);
            const what = `${name} AX=${ax.toString(16)} flags=${fl.toString(16)}`;
            assert.equal(got.vector, undefined, what);
            assert.equal(got.eax, (0xabcd0000 | wantAx) >>> 0, what);
            assert.equal(got.flags, wantFl, `${what}: flags`);
          }
        }
      }
    });
  }
}

for (const base of [10, 16, 7, 1, 2, 255]) {
  test(`AAM ${base} and AAD ${base} over every AX`, () => {
    const am = machine([0xd4, base], 'protected');
    const ad = machine([0xd5, base], 'protected');
    for (let ax = 0; ax < 0x10000; ax += ax < 0x400 ? 1 : 37) {
      for (const fl of [0, STATUS]) {
        let [wantAx, wantFl] = refAam(ax, base);
        let got = am(0x55aa0000 | ax, fl);
        assert.equal(got.eax, (0x55aa0000 | wantAx) >>> 0, `AAM ${base} AX=${ax.toString(16)}`);
        assert.equal(got.flags, wantFl, `AAM ${base} AX=${ax.toString(16)}: flags`);
        [wantAx, wantFl] = refAad(ax, base);
        got = ad(0x55aa0000 | ax, fl);
        assert.equal(got.eax, (0x55aa0000 | wantAx) >>> 0, `AAD ${base} AX=${ax.toString(16)}`);
        assert.equal(got.flags, wantFl, `AAD ${base} AX=${ax.toString(16)}: flags`);
      }
    }
  });
}

test('AAM 0 raises #DE before anything changes; AAD 0 just zeroes AH', () => {
  const r = runCode([0x90, 0xd4, 0x00, 0xf4], { mode: 'protected', regs: { rax: 0x1234 }, rflags: 0x8d7 });
  assert.equal(r.result.reason, 'exception');
  assert.equal(r.result.exception!.vector, 0);
  assert.equal(r.cpu.getRip(), 0x1001n);
  assert.equal(r.reg('rax'), 0x1234n);
  assert.equal(r.cpu.getRflags(), 0x8d7);
  const r2 = runCode([0xd5, 0x00, 0xf4], { mode: 'real', regs: { rax: 0x1234 } });
  assert.equal(r2.reg('rax'), 0x34n);
  const r3 = runCode([0xd4, 0x00, 0xf4], { mode: 'real', regs: { rax: 0x1234 } });
  assert.equal(r3.result.exception?.vector, 0);
});

test('the BCD instructions are invalid in 64-bit mode (#UD)', () => {
  for (const code of [[0x27], [0x2f], [0x37], [0x3f], [0xd4, 0x0a], [0xd5, 0x0a]]) {
    const r = runCode([...code, 0xf4], { mode: 'long', regs: { rax: 0x19 } });
    assert.equal(r.result.exception?.vector, 6, code.join(' '));
    assert.equal(r.reg('rax'), 0x19n);
  }
  // ...and valid in compatibility mode.
  const r = runCode([0x27, 0xf4], { mode: 'compat', regs: { rax: 0x1a } });
  assert.equal(r.reg('rax'), 0x20n);
});

test('samples measured on an Intel core in 32-bit compatibility mode', () => {
  // [code, EAX in, flags in, EAX out, status flags out]
  const samples: [number[], number, number, number, number][] = [
    [[0x27], 0xabcd0000, 0x002, 0xabcd0000, 0x044],
    [[0x27], 0xabcd009a, 0x002, 0xabcd0000, 0x055],
    [[0x27], 0xabcd00ff, 0x002, 0xabcd0065, 0x015],
    [[0x27], 0xabcd0066, 0x8d7, 0xabcd00cc, 0x095],
    [[0x27], 0xabcd0099, 0x003, 0xabcd00f9, 0x085],
    [[0x2f], 0xabcd009a, 0x002, 0xabcd0034, 0x011],
    [[0x2f], 0xabcd0005, 0x8d7, 0xabcd009f, 0x095],
    [[0x2f], 0xabcd0000, 0x003, 0xabcd00a0, 0x085],
    [[0x37], 0xabcd00ff, 0x002, 0xabcd0205, 0x015],
    [[0x37], 0xabcd010a, 0x002, 0xabcd0200, 0x055],
    [[0x37], 0xabcd0005, 0x8d7, 0xabcd010b, 0x011],
    [[0x3f], 0xabcd00ff, 0x002, 0xabcdff09, 0x015],
    [[0x3f], 0xabcd0000, 0x8d7, 0xabcdfe0a, 0x015],
    [[0x3f], 0xabcd0100, 0x8d7, 0xabcdff0a, 0x015],
    [[0xd5, 0x0a], 0xabcd0909, 0x002, 0xabcd0063, 0x014],
    [[0xd5, 0x0a], 0xabcdffff, 0x8d7, 0xabcd00f5, 0x095],
    [[0xd5, 0x07], 0xabcd1234, 0x002, 0xabcd00b2, 0x894],
    [[0xd4, 0x0a], 0xabcd0063, 0x002, 0xabcd0909, 0x004],
    [[0xd4, 0x0a], 0xabcd00ff, 0x002, 0xabcd1905, 0x004],
  ];
  for (const [code, eax, fin, eaxOut, flOut] of samples) {
    const got = machine(code, 'compat')(eax, fin);
    const what = `${code.map((b) => b.toString(16)).join(' ')} EAX=${eax.toString(16)} fl=${fin.toString(16)}`;
    assert.equal(got.eax, eaxOut >>> 0, what);
    assert.equal(got.flags, flOut, `${what}: flags`);
  }
});
