/**
 * x87 unit tests (SDM vol. 1 chapter 8). Expected values marked "host" were measured on this
 * machine's Intel x87 with small C programs (inline asm); the rest follow the SDM text cited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, type StartMode } from '../../src/x86/modes';

const DATA = 0x3000;

interface Opts { mode?: StartMode; data?: Array<[number, number[]]>; setup?: (c: Cpu) => void }

function run(code: number[], o: Opts = {}): { cpu: Cpu; mem: PhysicalMemory; reason: string; vector?: number } {
  const mem = new PhysicalMemory(0x10000);
  const mode = o.mode ?? 'long';
  const prologue = mode === 'real' ? [0xbb, 0x00, 0x30] : [0xbb, 0x00, 0x30, 0x00, 0x00]; // mov (e)bx, 0x3000
  mem.load(0x1000, Uint8Array.from([...prologue, ...code, 0xf4]));
  for (const [a, b] of o.data ?? []) mem.load(a, Uint8Array.from(b));
  const cpu = new Cpu(mem);
  enterMode(cpu, mode);
  cpu.setRip(0x1000);
  cpu.setReg64(4, 0x8000);
  o.setup?.(cpu);
  const r = cpu.run(1000);
  return { cpu, mem, reason: r.reason, vector: r.exception ? (r.exception as unknown as { vector: number }).vector : undefined };
}

function hex80(mem: PhysicalMemory, at: number): string {
  const b = mem.readBytes(at, 10);
  let s = '';
  for (let i = 9; i >= 0; i--) s += b[i].toString(16).padStart(2, '0');
  return s;
}
function bytesHex(mem: PhysicalMemory, at: number, n: number): string {
  return Array.from(mem.readBytes(at, n), (x) => x.toString(16).padStart(2, '0')).join(' ');
}
function u16(mem: PhysicalMemory, at: number): number { const b = mem.readBytes(at, 2); return b[0] | (b[1] << 8); }
function f80(hex: string): number[] {
  const out: number[] = [];
  for (let i = 9; i >= 0; i--) out.push(parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  return out;
}

const FSTP80 = (d: number) => [0xdb, 0x7b, d];
const FLD80 = (d: number) => [0xdb, 0x6b, d];
const FNSTSW = (d: number) => [0xdd, 0x7b, d];
const FLDCW = (d: number) => [0xd9, 0x6b, d];

test('FLDPI/FLDL2T/FLDL2E/FLDLG2/FLDLN2 round the internal constant per RC (host)', () => {
  const ops: Array<[number, string[]]> = [
    [0xeb, ['4000c90fdaa22168c235', '4000c90fdaa22168c234', '4000c90fdaa22168c235', '4000c90fdaa22168c234']],
    [0xe9, ['4000d49a784bcd1b8afe', '4000d49a784bcd1b8afe', '4000d49a784bcd1b8aff', '4000d49a784bcd1b8afe']],
    [0xea, ['3fffb8aa3b295c17f0bc', '3fffb8aa3b295c17f0bb', '3fffb8aa3b295c17f0bc', '3fffb8aa3b295c17f0bb']],
    [0xec, ['3ffd9a209a84fbcff799', '3ffd9a209a84fbcff798', '3ffd9a209a84fbcff799', '3ffd9a209a84fbcff798']],
    [0xed, ['3ffeb17217f7d1cf79ac', '3ffeb17217f7d1cf79ab', '3ffeb17217f7d1cf79ac', '3ffeb17217f7d1cf79ab']],
    [0xe8, Array(4).fill('3fff8000000000000000')],
    [0xee, Array(4).fill('00000000000000000000')],
  ];
  for (const [op, want] of ops) {
    for (let rc = 0; rc < 4; rc++) {
      const cw = 0x37f | (rc << 10);
      const r = run([...FLDCW(0), 0xd9, op, ...FNSTSW(2), ...FSTP80(0x10)], { data: [[DATA, [cw & 0xff, cw >> 8]]] });
      assert.equal(r.reason, 'hlt');
      assert.equal(hex80(r.mem, DATA + 0x10), want[rc], `D9 ${op.toString(16)} rc=${rc}`);
      assert.equal(u16(r.mem, DATA + 2), 0x3800);
    }
  }
});

test('stack overflow and underflow: IE+SF, C1, the QNaN indefinite (SDM §8.5.1.1; host)', () => {
  // nine pushes
  let r = run([...Array(8).fill([0xd9, 0xe8]).flat(), 0xd9, 0xeb, ...FNSTSW(2), ...FSTP80(0x10)]);
  assert.equal(hex80(r.mem, DATA + 0x10), 'ffffc000000000000000');
  assert.equal(u16(r.mem, DATA + 2), 0x3a41);
  // FADD ST(0), ST(1) with ST(1) empty
  r = run([0xd9, 0xe8, 0xd8, 0xc1, ...FNSTSW(2), ...FSTP80(0x10)]);
  assert.equal(hex80(r.mem, DATA + 0x10), 'ffffc000000000000000');
  assert.equal(u16(r.mem, DATA + 2), 0x3841);
  // FLD ST(3) from an empty register
  r = run([0xd9, 0xc3, ...FNSTSW(2), ...FSTP80(0x10)]);
  assert.equal(hex80(r.mem, DATA + 0x10), 'ffffc000000000000000');
  assert.equal(u16(r.mem, DATA + 2), 0x3841);
  // FXCH ST(2) with ST(2) empty: both become the indefinite
  r = run([0xd9, 0xe8, 0xd9, 0xca, ...FNSTSW(2), ...FSTP80(0x10), ...FSTP80(0x20)]);
  assert.equal(u16(r.mem, DATA + 2), 0x3841);
  assert.equal(hex80(r.mem, DATA + 0x10), 'ffffc000000000000000');
  assert.equal(hex80(r.mem, DATA + 0x20), 'ffffc000000000000000');
  // unmasked IE: the destination and TOP stay, ES and B are set
  r = run([...FLDCW(0), 0xd9, 0xe8, 0xd8, 0xc1, 0xdf, 0xe0], { data: [[DATA, [0x7e, 0x03]]] });
  assert.equal(r.cpu.lo[0] & 0xffff, 0xb8c1);
  assert.equal(r.cpu.fpu.sigHi[7], 0x80000000);
});

test('FCOMI/FUCOMI set ZF/PF/CF and clear OF/SF/AF (SDM vol. 2A FCOMI; host)', () => {
  // fldz; fld1; fcomi st,st1; pushfq; pop rax
  let r = run([0xd9, 0xee, 0xd9, 0xe8, 0xdb, 0xf1, 0x9c, 0x58], { setup: (c) => c.setRflags(0x8d5 | 2) });
  assert.equal(Number(r.cpu.getReg64(0)) & 0x8d5, 0);
  // NaN: 0/0 then fucomi → ZF PF CF = 1 1 1
  r = run([0xd9, 0xee, 0xd9, 0xee, 0xde, 0xf9, 0xd9, 0xee, 0xdb, 0xe9, 0x9c, 0x58, 0xdf, 0xe0]);
  assert.equal(Number(r.cpu.getReg64(0) >> 16n) & 0x8d5, 0); // (AX overwritten by fnstsw below)
  const r2 = run([0xd9, 0xee, 0xd9, 0xee, 0xde, 0xf9, 0xd9, 0xee, 0xdb, 0xe9, 0x9c, 0x58]);
  assert.equal(Number(r2.cpu.getReg64(0)) & 0x8d5, 0x45);
  // less: fld1; fldz; fcomip → CF
  const r3 = run([0xd9, 0xe8, 0xd9, 0xee, 0xdf, 0xf1, 0x9c, 0x58]);
  assert.equal(Number(r3.cpu.getReg64(0)) & 0x8d5, 0x01);
  assert.equal(r3.cpu.fpu.top, 7);
});

test('FCOM condition codes: >, <, =, unordered (SDM vol. 2A FCOM table)', () => {
  const cases: Array<[number[], number]> = [
    [[0xd9, 0xee, 0xd9, 0xe8], 0x0000], // 1 vs 0
    [[0xd9, 0xe8, 0xd9, 0xee], 0x0100], // 0 vs 1
    [[0xd9, 0xe8, 0xd9, 0xe8], 0x4000], // equal
  ];
  for (const [loads, cc] of cases) {
    const r = run([...loads, 0xd8, 0xd1, 0xdf, 0xe0]);
    assert.equal(r.cpu.lo[0] & 0x4700, cc);
  }
});

test('FIST overflow gives the integer indefinite; FISTTP truncates (host)', () => {
  // 40000.0 as a double
  const d40000 = [0, 0, 0, 0, 0, 0x88, 0xe3, 0x40];
  let r = run([0xdd, 0x43, 0x20, 0xdf, 0x53, 0x30, ...FNSTSW(2)], { data: [[DATA + 0x20, d40000]] });
  assert.equal(u16(r.mem, DATA + 0x30), 0x8000);
  assert.equal(u16(r.mem, DATA + 2), 0x3801);
  const dm27 = [0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0x05, 0xc0]; // -2.7
  r = run([0xdd, 0x43, 0x20, 0xdb, 0x4b, 0x30, ...FNSTSW(2)], { data: [[DATA + 0x20, dm27]] });
  assert.equal(bytesHex(r.mem, DATA + 0x30, 4), 'fe ff ff ff');
  assert.equal(u16(r.mem, DATA + 2), 0x0020);
  // FILD m64 / FISTP m64 round trip of -2^63
  r = run([0xdf, 0x6b, 0x20, 0xdf, 0x7b, 0x30], { data: [[DATA + 0x20, [0, 0, 0, 0, 0, 0, 0, 0x80]]] });
  assert.equal(bytesHex(r.mem, DATA + 0x30, 8), '00 00 00 00 00 00 00 80');
  assert.equal(r.cpu.fpu.fsw & 0x3f, 0);
});

test('FNSTENV (32-bit layout in 64-bit mode) and the FNSAVE tag word (host)', () => {
  // flds 1.5; fld1; faddp; fnstenv [rbx+0x40]
  const code = [0xd9, 0x43, 0x20, 0xd9, 0xe8, 0xde, 0xc1, 0xd9, 0x73, 0x40];
  const r = run(code, { data: [[DATA + 0x20, [0, 0, 0xc0, 0x3f]]] });
  const fip = 0x1000 + 5 + 5; // the FADDP
  const ip = [fip & 0xff, (fip >> 8) & 0xff, 0, 0].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  assert.equal(bytesHex(r.mem, DATA + 0x40, 28), `7f 03 ff ff 00 38 ff ff ff 3f ff ff ${ip} 00 00 00 00 00 00 00 00 00 00 ff ff`);
  assert.equal(r.cpu.fpu.fcw, 0x37f | 0x3f);
  // fldz; fld1; fnsave [rbx+0x40]
  const s = run([0xd9, 0xee, 0xd9, 0xe8, 0xdd, 0x73, 0x40]);
  assert.equal(bytesHex(s.mem, DATA + 0x40, 12), '7f 03 ff ff 00 30 ff ff ff 4f ff ff');
  assert.equal(hex80(s.mem, DATA + 0x40 + 28), '3fff8000000000000000');
  assert.equal(hex80(s.mem, DATA + 0x40 + 38), '00000000000000000000');
  assert.equal(s.cpu.fpu.ftw, 0xffff); // FNSAVE reinitializes
  assert.equal(s.cpu.fpu.top, 0);
});

test('FNSAVE/FRSTOR round trip keeps registers, TOP, tags and control', () => {
  // fldpi; fld1; fchs; fnsave [rbx+0x40]; frstor [rbx+0x40]; fstp t[rbx+0x10]; fstp t[rbx+0x20]
  const r = run([0xd9, 0xeb, 0xd9, 0xe8, 0xd9, 0xe0, 0xdd, 0x73, 0x40, 0xdd, 0x63, 0x40, ...FSTP80(0x10), ...FSTP80(0x20), ...FNSTSW(2)]);
  assert.equal(hex80(r.mem, DATA + 0x10), 'bfff8000000000000000');
  assert.equal(hex80(r.mem, DATA + 0x20), '4000c90fdaa22168c235');
  assert.equal(u16(r.mem, DATA + 2), 0x0000);
});

test('FLDCW keeps reserved bits as silicon does and recomputes ES/B from the new masks (host)', () => {
  const r = run([...FLDCW(0), 0xd9, 0x7b, 0x04], { data: [[DATA, [0xff, 0xff]]] });
  assert.equal(u16(r.mem, DATA + 4), 0x1f7f);
  // 1/0 masked → ZE (FSW 3804); unmask ZE with FLDCW: ES and B set (host: FSW b884), so FWAIT
  // raises #MF; masking it again clears them.
  const r2 = run([0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, ...FLDCW(0), ...FNSTSW(2)], { data: [[DATA, [0x7b, 0x03]]] });
  assert.equal(r2.reason, 'hlt');
  assert.equal(u16(r2.mem, DATA + 2), 0xb884);
  const r3 = run([0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, ...FLDCW(0), 0x9b], { data: [[DATA, [0x7b, 0x03]]] });
  assert.equal(r3.vector, 16);
  // FLDCW is a waiting instruction: with ES now set, a second FLDCW raises #MF before loading (host: SIGFPE).
  const r4 = run([0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, ...FLDCW(0), ...FLDCW(4)], { data: [[DATA, [0x7b, 0x03, 0, 0, 0x7f, 0x03]]] });
  assert.equal(r4.vector, 16);
  assert.equal(r4.cpu.fpu.fcw, 0x037b);
});

test('#NM for x87 instructions with CR0.EM or CR0.TS; WAIT only with MP and TS (SDM vol. 3A §2.5)', () => {
  assert.equal(run([0xd9, 0xe8], { setup: (c) => { c.cr0 |= 8; } }).vector, 7);
  assert.equal(run([0xd9, 0xe8], { setup: (c) => { c.cr0 |= 4; } }).vector, 7);
  assert.equal(run([0x9b], { setup: (c) => { c.cr0 = (c.cr0 | 8) & ~2; } }).reason, 'hlt');
  assert.equal(run([0x9b], { setup: (c) => { c.cr0 |= 0xa; } }).vector, 7);
});

test('#MF at the next waiting instruction after an unmasked exception (CR0.NE=1)', () => {
  // unmask ZE; fld1; fldz; fdivp → ES; fnstsw ax (no wait) ; fwait → #MF
  const r = run([...FLDCW(0), 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0xdf, 0xe0, 0x9b], { data: [[DATA, [0x7b, 0x03]]] });
  assert.equal(r.vector, 16);
  assert.equal(r.cpu.lo[0] & 0xffff, 0x8000 | 0x80 | 0x04 | (6 << 11));
  // the unmasked divide left the destination and TOP alone
  assert.equal(r.cpu.fpu.top, 6);
  assert.equal(r.cpu.getRip(), 0x1010n); // at the FWAIT
});

test('FBLD / FBSTP (host)', () => {
  const neg = [0x21, 0x43, 0x65, 0x87, 0x09, 0, 0, 0, 0, 0x80];
  let r = run([0xdf, 0x63, 0x20, ...FSTP80(0x10)], { data: [[DATA + 0x20, neg]] });
  assert.equal(hex80(r.mem, DATA + 0x10), 'c01ceb79a2c400000000');
  r = run([...FLD80(0x20), 0xdf, 0x73, 0x30, ...FNSTSW(2)], { data: [[DATA + 0x20, f80('4002c800000000000000')]] }); // 12.5
  assert.equal(bytesHex(r.mem, DATA + 0x30, 10), '12 00 00 00 00 00 00 00 00 00');
  assert.equal(u16(r.mem, DATA + 2), 0x0020);
  r = run([...FLD80(0x20), 0xdf, 0x73, 0x30, ...FNSTSW(2)], { data: [[DATA + 0x20, f80('403fde0b6b3a76400000')]] }); // 1e19
  assert.equal(bytesHex(r.mem, DATA + 0x30, 10), '00 00 00 00 00 00 00 c0 ff ff');
  assert.equal(u16(r.mem, DATA + 2), 0x0001);
});

test('FCMOVcc, FXCH, FCHS, FABS, FFREE, FINCSTP/FDECSTP', () => {
  // fldz; fld1 (ST0=1, ST1=0); stc; fcmovb st0, st1 → ST0 = 0
  let r = run([0xd9, 0xee, 0xd9, 0xe8, 0xf9, 0xda, 0xc1, ...FSTP80(0x10)]);
  assert.equal(hex80(r.mem, DATA + 0x10), '00000000000000000000');
  r = run([0xd9, 0xee, 0xd9, 0xe8, 0xf8, 0xda, 0xc1, ...FSTP80(0x10)]);
  assert.equal(hex80(r.mem, DATA + 0x10), '3fff8000000000000000');
  // fldz; fld1; fxch; fchs → ST0 = -0; fabs → +0
  r = run([0xd9, 0xee, 0xd9, 0xe8, 0xd9, 0xc9, 0xd9, 0xe0, ...FSTP80(0x10), ...FSTP80(0x20)]);
  assert.equal(hex80(r.mem, DATA + 0x10), '80000000000000000000');
  assert.equal(hex80(r.mem, DATA + 0x20), '3fff8000000000000000');
  r = run([0xd9, 0xe8, 0xd9, 0xe0, 0xd9, 0xe1, ...FSTP80(0x10)]);
  assert.equal(hex80(r.mem, DATA + 0x10), '3fff8000000000000000');
  r = run([0xd9, 0xe8, 0xdd, 0xc0, 0xd9, 0xf7, 0xd9, 0xf7, 0xd9, 0xf6]);
  assert.equal(r.cpu.fpu.top, 0);
  assert.equal(r.cpu.fpu.ftw, 0xffff);
});

test('real mode: 16-bit addressing and the 14-byte real-mode FNSTENV layout (SDM vol. 1 fig. 8-10)', () => {
  // fld t[bx+0x20]; fld t[bx+0x10]; faddp; fstp t[bx+0x30]; fnstenv [bx+0x40]
  const code = [0xdb, 0x6f, 0x20, 0xdb, 0x6f, 0x10, 0xde, 0xc1, 0xdb, 0x7f, 0x30, 0xd9, 0x77, 0x40];
  const r = run(code, { mode: 'real', data: [[DATA + 0x20, f80('3fff8000000000000000')], [DATA + 0x10, f80('4000c000000000000000')]] });
  assert.equal(r.reason, 'hlt');
  assert.equal(hex80(r.mem, DATA + 0x30), '40018000000000000000'); // 1 + 3 = 4
  // FCW, FSW, FTW, FIP[15:0] (the FSTP at 0x100b), FIP[19:16]<<12 | FOP (0: no unmasked exception), FDP
  assert.equal(bytesHex(r.mem, DATA + 0x40, 14), '7f 03 00 00 ff ff 0b 10 00 00 00 00 00 00');
  // and FLDENV reads the same layout back
  const r2 = run([0xd9, 0x67, 0x40, 0xd9, 0x7f, 0x50], { mode: 'real', data: [[DATA + 0x40, [0x7f, 0x0b, 0x00, 0x38, 0xff, 0x3f]]] });
  assert.equal(r2.cpu.fpu.top, 7);
  assert.equal(r2.cpu.fpu.fcw, 0x0b7f);
  assert.equal(r2.cpu.fpu.ftw, 0x7fff); // R7 non-empty: its tag is recomputed from the contents (+0 → 01)
});

test('16-bit protected-mode FNSTENV layout (66h in 32-bit code) and FLDENV back (SDM vol. 1 fig. 8-11)', () => {
  // fld1; fldz; fdivp (masked ZE) ; o16 fnstenv [ebx+0x40]; fninit; o16 fldenv [ebx+0x40]
  const r = run([0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0x66, 0xd9, 0x73, 0x40, 0xdb, 0xe3, 0x66, 0xd9, 0x63, 0x40], { mode: 'protected' });
  assert.equal(r.reason, 'hlt');
  // FCW (masked by FNSTENV afterwards, not in the image), FSW = ZE | TOP 7, FTW: R7 = +inf (special)
  assert.equal(bytesHex(r.mem, DATA + 0x40, 14), `7f 03 04 38 ff bf 09 10 00 00 00 00 00 00`);
  assert.equal(r.cpu.fpu.top, 7);
  assert.equal(r.cpu.fpu.fsw & 0xff, 0x04);
  assert.equal(r.cpu.fpu.ftw, 0xbfff);
  assert.equal(r.cpu.fpu.fipLo, 0x1009);
});

test('an unmasked exception with CR0.NE=0 does not raise #MF (external FERR# not modelled)', () => {
  const r = run([...FLDCW(0), 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0x9b, 0xd9, 0xe8], {
    data: [[DATA, [0x7b, 0x03]]], setup: (c) => { c.cr0 &= ~0x20; },
  });
  assert.equal(r.reason, 'hlt');
  assert.equal(r.cpu.fpu.fsw & 0x8080, 0x8080);
});

test('FSTP m80 / FLD m80 move any bit pattern unchanged, including SNaN and unsupported encodings', () => {
  for (const v of ['7fff8000000000000001', 'ffff0000000000000001', '00008000000000000000', '40000000000000000001']) {
    const r = run([...FLD80(0x20), ...FSTP80(0x30), ...FNSTSW(2)], { data: [[DATA + 0x20, f80(v)]] });
    assert.equal(hex80(r.mem, DATA + 0x30), v);
    assert.equal(u16(r.mem, DATA + 2), 0);
  }
});

test('FLDENV masks the control word and recomputes ES/B from the loaded flags (host)', () => {
  // 28-byte image: FCW 0x037b (ZE unmasked), FSW 0x0004 (ZE), FTW 0xffff
  const env = [0x7b, 0x03, 0, 0, 0x04, 0x00, 0, 0, 0xff, 0xff, 0, 0, ...Array(16).fill(0)];
  let r = run([0xd9, 0x63, 0x40, 0xdf, 0xe0], { data: [[DATA + 0x40, env]] });
  assert.equal(r.cpu.lo[0] & 0xffff, 0x8084);
  // FCW 0xffff → 0x1f7f; FSW 0x0084 with everything masked → ES and B clear
  const env2 = [0xff, 0xff, 0, 0, 0x84, 0x00, 0, 0, 0xff, 0xff, 0, 0, ...Array(16).fill(0)];
  r = run([0xd9, 0x63, 0x40, 0xdf, 0xe0], { data: [[DATA + 0x40, env2]] });
  assert.equal(r.cpu.lo[0] & 0xffff, 0x0004);
  assert.equal(r.cpu.fpu.fcw, 0x1f7f);
});

test('FLD m32fp: an unmasked DE still loads, an unmasked IE (SNaN) does not (host)', () => {
  const code = [...FLDCW(0), 0xd9, 0x43, 0x10, 0xdd, 0x73, 0x40];
  let r = run(code, { data: [[DATA, [0x40, 0x03]], [DATA + 0x10, [0x23, 0x01, 0, 0]]] });
  assert.equal(u16(r.mem, DATA + 0x44), 0xb882);
  assert.equal(u16(r.mem, DATA + 0x48), 0x3fff);
  r = run(code, { data: [[DATA, [0x40, 0x03]], [DATA + 0x10, [0x01, 0, 0x80, 0x7f]]] });
  assert.equal(u16(r.mem, DATA + 0x44), 0x8081);
  assert.equal(u16(r.mem, DATA + 0x48), 0xffff);
});

test('stack faults of FCMOV, FCHS, FXTRACT, FSCALE and unmasked push overflow (host)', () => {
  const save = [0xdd, 0x73, 0x40]; // fnsave [rbx+0x40]: fsw at +4, tags at +8, ST0 at +28
  const cases: Array<[string, number[], number, number, number, string]> = [
    // name, code, cw, fsw, tags, ST0 sign+exp and top significand half
    ['fcmovb empty', [0xd9, 0xe8, 0xda, 0xc2], 0x37f, 0x3841, 0xbfff, 'ffffc000'],
    ['fchs empty', [0xd9, 0xe0], 0x37f, 0x0041, 0xfffe, 'ffffc000'],
    ['fxtract -0', [0xd9, 0xee, 0xd9, 0xe0, 0xd9, 0xf4], 0x37f, 0x3004, 0x9fff, '80000000'],
    ['fscale empty st1', [0xd9, 0xe8, 0xd9, 0xfd], 0x37f, 0x3841, 0xbfff, 'ffffc000'],
    ['push overflow unmasked', [...Array(8).fill([0xd9, 0xe8]).flat(), 0xd9, 0xee], 0x340, 0x82c1, 0x0000, '3fff8000'],
    ['fxch empty unmasked', [0xd9, 0xe8, 0xd9, 0xca], 0x340, 0xb8c1, 0x3fff, '3fff8000'],
  ];
  for (const [name, code, cw, fsw, tags, st0] of cases) {
    const r = run([...FLDCW(0), ...code, ...save], { data: [[DATA, [cw & 0xff, cw >> 8]]] });
    assert.equal(u16(r.mem, DATA + 0x44), fsw, name);
    assert.equal(u16(r.mem, DATA + 0x48), tags, name);
    assert.equal(hex80(r.mem, DATA + 0x40 + 28).slice(0, 8), st0, name);
  }
});
