/**
 * CLC, STC, CMC, CLD, STD, LAHF, SAHF (SDM vol. 2A/2B) in 16-, 32- and 64-bit code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, StartMode } from '../../src/x86/modes';
import { runCode } from './run';

const CF = 0x001, PF = 0x004, AF = 0x010, ZF = 0x040, SF = 0x080, DF = 0x400, OF = 0x800;
const STATUS = 0x8d5;

function machine(code: number[], mode: StartMode = 'long') {
  const mem = new PhysicalMemory(0x10000);
  mem.load(0x1000, Uint8Array.from([...code, 0xf4]));
  const cpu = new Cpu(mem);
  enterMode(cpu, mode);
  return (rax: bigint, rflags: number) => {
    cpu.setReg64(0, rax);
    cpu.setRflags(rflags | 2);
    cpu.halted = false;
    cpu.setRip(0x1000);
    const r = cpu.run(cpu.icount + 8);
    assert.equal(r.reason, 'hlt');
    return { rax: cpu.getReg64(0), rflags: cpu.getRflags() };
  };
}

const FLAGS_IN: number[] = [];
for (let i = 0; i < 128; i++) {
  FLAGS_IN.push((i & 1 ? CF : 0) | (i & 2 ? PF : 0) | (i & 4 ? AF : 0) | (i & 8 ? ZF : 0) | (i & 16 ? SF : 0) |
    (i & 32 ? OF : 0) | (i & 64 ? DF : 0));
}

for (const mode of ['long', 'protected', 'real'] as const) {
  test(`CLC, STC, CMC, CLD, STD change only their flag (${mode} mode)`, () => {
    const ops: [string, number, (f: number) => number][] = [
      ['clc', 0xf8, (f) => f & ~CF],
      ['stc', 0xf9, (f) => f | CF],
      ['cmc', 0xf5, (f) => f ^ CF],
      ['cld', 0xfc, (f) => f & ~DF],
      ['std', 0xfd, (f) => f | DF],
    ];
    for (const [name, byte, want] of ops) {
      const run = machine([byte], mode);
      for (const f of FLAGS_IN) {
        const r = run(0n, f);
        assert.equal(r.rflags, want(f) | 2, `${name} with flags ${f.toString(16)}`);
      }
    }
  });

  test(`LAHF stores SF:ZF:0:AF:0:PF:1:CF in AH, SAHF loads them and keeps OF (${mode} mode)`, () => {
    const lahf = machine([0x9f], mode);
    for (const f of FLAGS_IN) {
      const r = lahf(0x1111111111111111n, f);
      const ah = BigInt((f & 0xd5) | 2);
      assert.equal(r.rax, 0x1111111111110011n | (ah << 8n), `lahf with ${f.toString(16)}`);
      assert.equal(r.rflags, f | 2);
    }
    const sahf = machine([0x9e], mode);
    for (let ah = 0; ah < 256; ah++) {
      for (const f of [0, OF, STATUS | DF]) {
        const r = sahf(0x2222222222220022n | BigInt(ah << 8), f);
        assert.equal(r.rflags, (f & (OF | DF)) | (ah & 0xd5) | 2, `sahf AH=${ah.toString(16)} flags=${f.toString(16)}`);
        assert.equal(r.rax, 0x2222222222220022n | BigInt(ah << 8));
      }
    }
  });
}

test('SAHF then conditional use of the loaded flags (jc / setz / setp)', () => {
  // mov ah, 0x45 (ZF PF CF) ; sahf ; setz bl ; setp cl ; setc dl ; sets bh
  const r = runCode([0xb4, 0x45, 0x9e, 0x0f, 0x94, 0xc3, 0x0f, 0x9a, 0xc1, 0x0f, 0x92, 0xc2, 0x0f, 0x98, 0xc7, 0xf4]);
  assert.equal(r.reg('rbx'), 0x0001n);
  assert.equal(r.reg('rcx'), 1n);
  assert.equal(r.reg('rdx'), 1n);
});

test('CLC/STC/CMC keep OF after an overflowing ADD', () => {
  // mov al, 0x7f ; add al, 1 (OF=1, CF=0) ; stc ; seto bl ; setc cl ; cmc ; setc dl ; clc ; seto bh
  const r = runCode([0xb0, 0x7f, 0x04, 0x01, 0xf9, 0x0f, 0x90, 0xc3, 0x0f, 0x92, 0xc1, 0xf5, 0x0f, 0x92, 0xc2,
    0xf8, 0x0f, 0x90, 0xc7, 0xf4]);
  assert.equal(r.reg('rbx'), 0x0101n);
  assert.equal(r.reg('rcx'), 1n);
  assert.equal(r.reg('rdx'), 0n);
  assert.equal(r.cpu.getRflags() & STATUS, OF | SF | AF);
});

test('SALC (D6) sets AL to FFh when CF = 1 and to 00h when CF = 0, outside 64-bit mode; flags and the rest of RAX unchanged', () => {
  for (const mode of ['protected', 'real'] as const) {
    const run = machine([0xd6], mode);
    for (const f of FLAGS_IN) {
      const r = run(0x1234567855n, f);
      assert.equal(r.rax & 0xffffffffn, f & CF ? 0x345678ffn : 0x34567800n, `salc with flags ${f.toString(16)} (${mode})`);
      assert.equal(r.rflags, f | 2);
    }
  }
});

test('SALC is #UD in 64-bit mode', () => {
  const mem = new PhysicalMemory(0x10000);
  mem.load(0x1000, Uint8Array.from([0xd6, 0xf4]));
  const cpu = new Cpu(mem);
  enterMode(cpu, 'long');
  cpu.setRip(0x1000);
  const r = cpu.run(8);
  assert.equal(r.reason, 'exception');
  assert.equal(r.exception?.vector, 6);
});
