/**
 * CBW/CWDE/CDQE, CWD/CDQ/CQO, SETcc, CMOVcc and XLAT in 16-, 32- and 64-bit code, against the
 * SDM (vol. 2A CBW/CWD/CMOVcc, vol. 2B SETcc/XLAT; conditions from vol. 1 appendix B).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, StartMode } from '../../src/x86/modes';
import { Seg } from '../../src/x86/registers';
import { runCode } from './run';

const CF = 0x001, PF = 0x004, ZF = 0x040, SF = 0x080, OF = 0x800;
const M64 = (1n << 64n) - 1n;

function machine(code: number[], mode: StartMode = 'long') {
  const mem = new PhysicalMemory(0x100000);
  mem.load(0x1000, Uint8Array.from([...code, 0xf4]));
  const cpu = new Cpu(mem);
  enterMode(cpu, mode);
  return {
    cpu,
    mem,
    run(regs: Record<number, bigint>, rflags = 2) {
      for (let i = 0; i < 16; i++) cpu.setReg64(i, regs[i] ?? 0n);
      cpu.setRflags(rflags | 2);
      cpu.halted = false;
      cpu.setRip(0x1000);
      return cpu.run(cpu.icount + 8);
    },
  };
}

/** The condition of opcode nibble cc from the status flags (SDM vol. 1 appendix B). */
function cond(cc: number, f: number): boolean {
  const cf = !!(f & CF), pf = !!(f & PF), zf = !!(f & ZF), sf = !!(f & SF), of = !!(f & OF);
  const base = [of, cf, zf, cf || zf, sf, pf, sf !== of, zf || sf !== of][cc >> 1];
  return cc & 1 ? !base : base;
}

const FLAG_COMBOS: number[] = [];
for (let i = 0; i < 32; i++) {
  FLAG_COMBOS.push((i & 1 ? CF : 0) | (i & 2 ? PF : 0) | (i & 4 ? ZF : 0) | (i & 8 ? SF : 0) | (i & 16 ? OF : 0));
}

test('CBW/CWDE/CDQE and CWD/CDQ/CQO in 64-bit mode', () => {
  const cases: [number[], bigint, bigint, bigint, bigint][] = [
    // [code, rax in, rdx in, rax out, rdx out]
    [[0x66, 0x98], 0x1111222233334480n, 0x5n, 0x111122223333ff80n, 0x5n], // cbw
    [[0x66, 0x98], 0x111122223333447fn, 0x5n, 0x111122223333007fn, 0x5n],
    [[0x98], 0x1111222233338000n, 0x5n, 0xffff8000n, 0x5n], // cwde zero-extends into RAX
    [[0x98], 0x1111222233337fffn, 0x5n, 0x7fffn, 0x5n],
    [[0x48, 0x98], 0x1111222280000000n, 0x5n, 0xffffffff80000000n, 0x5n], // cdqe
    [[0x48, 0x98], 0x111122227fffffffn, 0x5n, 0x7fffffffn, 0x5n],
    [[0x66, 0x99], 0x8000n, 0x1234567812345678n, 0x8000n, 0x123456781234ffffn], // cwd
    [[0x66, 0x99], 0x7fffn, 0x1234567812345678n, 0x7fffn, 0x1234567812340000n],
    [[0x99], 0x80000000n, 0x1234567812345678n, 0x80000000n, 0xffffffffn], // cdq zero-extends RDX
    [[0x99], 0xffffffff7fffffffn, 0x1234567812345678n, 0xffffffff7fffffffn, 0n],
    [[0x48, 0x99], 0x8000000000000000n, 0x5n, 0x8000000000000000n, M64], // cqo
    [[0x48, 0x99], 0x7fffffffffffffffn, M64, 0x7fffffffffffffffn, 0n],
  ];
  for (const [code, rax, rdx, wantRax, wantRdx] of cases) {
    const m = machine(code);
    const r = m.run({ 0: rax, 2: rdx }, 0x8d7);
    const what = code.map((b) => b.toString(16)).join(' ') + ` rax=${rax.toString(16)}`;
    assert.equal(r.reason, 'hlt', what);
    assert.equal(m.cpu.getReg64(0), wantRax, what);
    assert.equal(m.cpu.getReg64(2), wantRdx, what);
    assert.equal(m.cpu.getRflags(), 0x8d7, `${what}: flags unchanged`);
  }
});

test('CBW/CWD in real mode and CWDE/CDQ with a 66h prefix there', () => {
  let r = runCode([0x98, 0x99, 0xf4], { mode: 'real', regs: { rax: 0xabcd0085n, rdx: 0x12345678n } });
  assert.equal(r.reg('rax'), 0xabcdff85n);
  assert.equal(r.reg('rdx'), 0x1234ffffn);
  r = runCode([0x66, 0x98, 0x66, 0x99, 0xf4], { mode: 'real', regs: { rax: 0xabcd8001n, rdx: 0x12345678n } });
  assert.equal(r.reg('rax'), 0xffff8001n);
  assert.equal(r.reg('rdx'), 0xffffffffn);
  // 32-bit code: cbw needs 66h, cwde and cdq are the default
  r = runCode([0x98, 0x99, 0xf4], { mode: 'protected', regs: { rax: 0x1234n, rdx: 7n } });
  assert.equal(r.reg('rax'), 0x1234n);
  assert.equal(r.reg('rdx'), 0n);
});

test('SETcc: all 16 conditions for every combination of CF, PF, ZF, SF, OF', () => {
  for (let cc = 0; cc < 16; cc++) {
    // setcc al (REX-less), setcc ah, setcc r9b, setcc spl (REX), setcc byte [rbx]
    const forms: { code: number[]; check: (cpu: Cpu, mem: PhysicalMemory, v: number) => void }[] = [
      { code: [0x0f, 0x90 + cc, 0xc0], check: (cpu, _m, v) => assert.equal(cpu.getReg64(0), 0x1111111111111100n | BigInt(v)) },
      { code: [0x0f, 0x90 + cc, 0xc4], check: (cpu, _m, v) => assert.equal(cpu.getReg64(0), 0x1111111111110011n | BigInt(v << 8)) },
      { code: [0x41, 0x0f, 0x90 + cc, 0xc1], check: (cpu, _m, v) => assert.equal(cpu.getReg64(9), 0x9999999999999900n | BigInt(v)) },
      { code: [0x40, 0x0f, 0x90 + cc, 0xc4], check: (cpu, _m, v) => assert.equal(cpu.getReg64(4), 0x8000n | BigInt(v)) },
      { code: [0x0f, 0x90 + cc, 0x03], check: (_c, mem, v) => { assert.equal(mem.read8(0x2000), v); assert.equal(mem.read8(0x2001), 0xee); } },
    ];
    for (const f of forms) {
      const m = machine(f.code);
      for (const fl of FLAG_COMBOS) {
        m.mem.write8(0x2000, 0xee);
        m.mem.write8(0x2001, 0xee);
        const r = m.run({ 0: 0x1111111111111111n, 3: 0x2000n, 4: 0x8000n, 9: 0x9999999999999999n }, fl);
        assert.equal(r.reason, 'hlt');
        f.check(m.cpu, m.mem, cond(cc, fl) ? 1 : 0);
        assert.equal(m.cpu.getRflags() & 0x8d5, fl, 'flags unchanged');
      }
    }
  }
});

test('SETcc after CMP agrees with signed and unsigned comparisons', () => {
  const vals = [0n, 1n, 2n, 0x7fn, 0x80n, 0x7fffffffffffffffn, 0x8000000000000000n, M64, M64 - 1n, 0x123456789n];
  const s = (v: bigint): bigint => BigInt.asIntN(64, v);
  for (let cc = 2; cc < 16; cc++) {
    if (cc === 8 || cc === 9 || cc === 10 || cc === 11) continue;
    const m = machine([0x48, 0x39, 0xd8, 0x0f, 0x90 + cc, 0xc1]); // cmp rax, rbx ; setcc cl
    for (const a of vals) {
      for (const b of vals) {
        m.run({ 0: a, 3: b });
        const want = [a < b, a >= b, a === b, a !== b, a <= b, a > b, 0, 0, 0, 0,
          s(a) < s(b), s(a) >= s(b), s(a) <= s(b), s(a) > s(b)][cc - 2];
        assert.equal(m.cpu.getReg64(1), want ? 1n : 0n, `cc=${cc} ${a} ? ${b}`);
      }
    }
  }
});

test('CMOVcc: all 16 conditions, 16/32/64-bit, register and memory sources', () => {
  for (let cc = 0; cc < 16; cc++) {
    const forms: { code: number[]; size: number }[] = [
      { code: [0x66, 0x0f, 0x40 + cc, 0xc3], size: 2 }, // cmovcc ax, bx
      { code: [0x0f, 0x40 + cc, 0xc3], size: 4 }, // cmovcc eax, ebx
      { code: [0x48, 0x0f, 0x40 + cc, 0xc3], size: 8 }, // cmovcc rax, rbx
      { code: [0x66, 0x0f, 0x40 + cc, 0x01], size: 2 }, // cmovcc ax, [rcx]
      { code: [0x0f, 0x40 + cc, 0x01], size: 4 },
      { code: [0x48, 0x0f, 0x40 + cc, 0x01], size: 8 },
    ];
    for (const f of forms) {
      const m = machine(f.code);
      m.mem.load(0x2000, Uint8Array.from([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]));
      for (const fl of FLAG_COMBOS) {
        const a = 0xaaaaaaaaaaaaaaaan, b = 0x1122334455667788n;
        m.run({ 0: a, 3: b, 1: 0x2000n }, fl);
        const take = cond(cc, fl);
        const mask = (1n << BigInt(8 * f.size)) - 1n;
        const want = f.size === 8 ? (take ? b : a)
          : f.size === 4 ? (take ? b & mask : a & mask) // 32-bit: zero-extended even when false
            : take ? (a & ~mask) | (b & mask) : a;
        assert.equal(m.cpu.getReg64(0), want, `${f.code.map((x) => x.toString(16)).join(' ')} flags=${fl.toString(16)}`);
        assert.equal(m.cpu.getRflags() & 0x8d5, fl);
      }
    }
  }
});

test('CMOVcc reads its memory source even when the condition is false', () => {
  // cmovz rax, [rbx] with ZF = 0 and a non-canonical address: #GP(0), RAX unchanged.
  let r = runCode([0x48, 0x0f, 0x44, 0x03, 0xf4], { regs: { rax: 5n, rbx: 0x8000000000000000n }, rflags: 0x2 });
  assert.equal(r.result.exception?.vector, 13);
  assert.equal(r.reg('rax'), 5n);
  // The same with cmovz eax: the fault comes first, so the upper half is not cleared.
  r = runCode([0x0f, 0x44, 0x03, 0xf4], { regs: { rax: 0x1234567800000005n, rbx: 0x8000000000000000n } });
  assert.equal(r.result.exception?.vector, 13);
  assert.equal(r.reg('rax'), 0x1234567800000005n);
  // Real mode: cmovnz ax, [ebx] with EBX beyond the 64 KiB limit: #GP even though ZF = 1.
  r = runCode([0x67, 0x0f, 0x45, 0x03, 0xf4], { mode: 'real', regs: { rax: 5n, rbx: 0x10000n }, rflags: 0x42 });
  assert.equal(r.result.exception?.vector, 13);
  // and in range, with the condition false, nothing changes
  r = runCode([0x67, 0x0f, 0x45, 0x03, 0xf4], { mode: 'real', regs: { rax: 5n, rbx: 0xfffen }, rflags: 0x42 });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax'), 5n);
});

test('CMOVcc in 16-bit real mode and 32-bit protected mode', () => {
  let r = runCode([0x0f, 0x42, 0xc3, 0xf4], { mode: 'real', regs: { rax: 0x11112222n, rbx: 0x33334444n }, rflags: 0x3 });
  assert.equal(r.reg('rax'), 0x11114444n); // cmovb ax, bx with CF = 1
  r = runCode([0x66, 0x0f, 0x42, 0x07, 0xf4], { mode: 'real', regs: { rax: 1n, rbx: 0x2000n }, rflags: 0x3, memory: [[0x2000, [1, 2, 3, 4]]] });
  assert.equal(r.reg('rax'), 0x04030201n); // cmovb eax, [bx]
  r = runCode([0x0f, 0x4f, 0xc3, 0xf4], { mode: 'protected', regs: { rax: 1n, rbx: 2n }, rflags: 0x2 });
  assert.equal(r.reg('rax'), 2n); // cmovg: ZF = 0, SF = OF
});

test('XLAT with 16-, 32- and 64-bit addresses, wrap-around and a segment override', () => {
  const table = Uint8Array.from({ length: 256 }, (_, i) => (i * 7 + 3) & 0xff);
  // 64-bit: RBX + AL with RBX above 4 GiB's worth of low bits? (use a 1 MiB guest: RBX = 0x3000)
  let r = runCode([0xd7, 0xf4], { regs: { rax: 0x11223344556677f0n, rbx: 0x3000n }, memory: [[0x3000, table]] });
  assert.equal(r.reg('rax'), 0x1122334455667700n | BigInt(table[0xf0]));
  // 64-bit with 67h: EBX + AL, the upper half of RBX ignored
  r = runCode([0x67, 0xd7, 0xf4], { regs: { rax: 0x05n, rbx: 0xffff000000003000n }, memory: [[0x3000, table]] });
  assert.equal(r.reg('rax'), BigInt(table[5]));
  // 32-bit: EBX + AL wraps at 4 GiB
  r = runCode([0xd7, 0xf4], { mode: 'protected', regs: { rax: 0x10n, rbx: 0xfffffff8n }, memory: [[0x8, [0x5a]]] });
  assert.equal(r.reg('rax'), 0x5an);
  // 16-bit: BX + AL wraps at 64 KiB
  r = runCode([0xd7, 0xf4], { mode: 'real', regs: { rax: 0x1234n, rbx: 0xfff0n }, memory: [[0x0024, [0x77]]] });
  assert.equal(r.reg('rax'), 0x1277n);
  // 16-bit code with 67h: EBX + AL
  r = runCode([0x67, 0xd7, 0xf4], { mode: 'real', regs: { rax: 0x02n, rbx: 0x3000n }, memory: [[0x3000, table]] });
  assert.equal(r.reg('rax'), BigInt(table[2]));
});

test('XLAT honours segment overrides (ES in real mode, FS base in 64-bit mode)', () => {
  const mem = new PhysicalMemory(0x100000);
  // es xlat (26 d7) in real mode with ES = 0x0500 (base 0x5000)
  mem.load(0x1000, Uint8Array.from([0x26, 0xd7, 0xd7, 0xf4]));
  mem.write8(0x5000 + 0x100 + 3, 0x42);
  mem.write8(0x0000 + 0x100 + 0x42, 0x99); // the second, unprefixed XLAT uses DS (base 0)
  const cpu = new Cpu(mem);
  enterMode(cpu, 'real');
  cpu.setSegment(Seg.ES, { selector: 0x500, baseLo: 0x5000, baseHi: 0, limit: 0xffff, attr: 0x93 });
  cpu.setRip(0x1000);
  cpu.setReg64(0, 3);
  cpu.setReg64(3, 0x100);
  assert.equal(cpu.run(10).reason, 'hlt');
  assert.equal(cpu.lo[0] & 0xffff, 0x99);

  const mem2 = new PhysicalMemory(0x100000);
  mem2.load(0x1000, Uint8Array.from([0x64, 0xd7, 0xf4])); // fs xlat
  mem2.write8(0x40000 + 0x200 + 0x80, 0x66);
  const cpu2 = new Cpu(mem2);
  enterMode(cpu2, 'long');
  cpu2.segBaseLo[Seg.FS] = 0x40000;
  cpu2.setRip(0x1000);
  cpu2.setReg64(0, 0x80);
  cpu2.setReg64(3, 0x200);
  assert.equal(cpu2.run(10).reason, 'hlt');
  assert.equal(cpu2.lo[0] & 0xff, 0x66);
});

test('XLAT beyond the DS limit raises #GP(0) in real mode', () => {
  // BX + AL itself wraps in 16-bit addressing, so use 67h (EBX + AL) past 0xffff.
  const r = runCode([0x67, 0xd7, 0xf4], { mode: 'real', regs: { rax: 0x01n, rbx: 0xffffn } });
  assert.equal(r.result.exception?.vector, 13);
  assert.equal(r.reg('rax'), 1n);
});

test('SETcc in real mode and 32-bit protected mode, register and memory', () => {
  // stc ; setc [bx+si] ; setnc ah ; setb dl (real mode)
  let r = runCode([0xf9, 0x0f, 0x92, 0x00, 0x0f, 0x93, 0xc4, 0x0f, 0x92, 0xc2, 0xf4],
    { mode: 'real', regs: { rax: 0xffffn, rbx: 0x2000n, rsi: 0x10n, rdx: 0xaaaan }, memory: [[0x2010, [0xee]]] });
  assert.equal(r.mem.read8(0x2010), 1);
  assert.equal(r.reg('rax'), 0x00ffn);
  assert.equal(r.reg('rdx'), 0xaa01n);
  // cmp eax, ebx ; setg byte [ebx+4] ; setle cl (protected mode): 5 > -1
  r = runCode([0x39, 0xd8, 0x0f, 0x9f, 0x43, 0x04, 0x0f, 0x9e, 0xc1, 0xf4],
    { mode: 'protected', regs: { rax: 5n, rbx: 0xffffffffn, rcx: 0x1234n } });
  // [ebx+4] wraps to 3 in the flat 4 GiB segment
  assert.equal(r.mem.read8(3), 1);
  assert.equal(r.reg('rcx'), 0x1200n);
});
