import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCode } from './run';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode } from '../../src/x86/modes';

test('a 64-bit counting loop runs to HLT with an exact instruction count', () => {
  // mov rcx,10 / l: add rax,rcx / dec rcx / jnz l / hlt
  const r = runCode([0x48, 0xc7, 0xc1, 0x0a, 0, 0, 0, 0x48, 0x01, 0xc8, 0x48, 0xff, 0xc9, 0x75, 0xf8, 0xf4]);
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax'), 55n);
  assert.equal(r.cpu.icount, 32);
  assert.equal(r.cpu.getRip(), 0x1010n);
});

test('the instruction limit stops mid-block at an exact count and RIP', () => {
  const r = runCode([0x48, 0xc7, 0xc1, 0x0a, 0, 0, 0, 0x48, 0x01, 0xc8, 0x48, 0xff, 0xc9, 0x75, 0xf8, 0xf4], {
    maxInstructions: 5,
  });
  assert.equal(r.result.reason, 'limit');
  assert.equal(r.cpu.icount, 5);
  // 1 mov + (add, dec, jnz) + add: next is the dec at 0x100a
  assert.equal(r.cpu.getRip(), 0x100an);
  assert.equal(r.reg('rax'), 19n);
});

test('an undefined opcode stops with #UD at the faulting instruction, state intact', () => {
  const r = runCode([0x48, 0xff, 0xc0, 0x0f, 0x0b]); // inc rax / ud2
  assert.equal(r.result.reason, 'exception');
  assert.equal(r.result.exception?.vector, 6);
  assert.equal(r.result.exception?.rip, 0x1003n);
  assert.deepEqual([...r.result.exception!.bytes], [0x0f, 0x0b]);
  assert.equal(r.reg('rax'), 1n);
  assert.equal(r.cpu.icount, 1);
});

test('self-modifying code: a write to translated code is seen by the next execution', () => {
  // l: mov al, 1 ; (patched to mov al, 2) / mov byte [rip - 7], 2 ... simpler: run twice.
  const mem = new PhysicalMemory(0x10000);
  // 0x1000: b0 01 (mov al,1) / f4 (hlt)
  mem.load(0x1000, Uint8Array.from([0xb0, 0x01, 0xf4]));
  const cpu = new Cpu(mem);
  enterMode(cpu, 'long');
  cpu.setRip(0x1000);
  assert.equal(cpu.run(10).reason, 'hlt');
  assert.equal(cpu.lo[0] & 0xff, 1);
  // The guest itself patches the immediate: mov byte [0x1001], 7 at 0x2000, then jumps to 0x1000.
  mem.load(0x2000, Uint8Array.from([0xc6, 0x04, 0x25, 0x01, 0x10, 0, 0, 0x07, 0xe9, 0xf3, 0xef, 0xff, 0xff]));
  cpu.halted = false;
  cpu.setRip(0x2000);
  assert.equal(cpu.run(100).reason, 'hlt');
  assert.equal(cpu.lo[0] & 0xff, 7);
});

test('a 4 GiB guest only costs the pages it touches', () => {
  const mem = new PhysicalMemory(4 * 1024 * 1024 * 1024);
  mem.write8(0xfffff000, 1);
  mem.write8(0x1000, 2);
  assert.equal(mem.touchedPages, 2);
});

test('self-modifying code inside the running block takes effect at the next instruction', () => {
  // 0x1000: mov byte [0x100a], 0x05   (c6 04 25 0a 10 00 00 05)  -> patches the imm of the next insn
  // 0x1008: mov al, 0x01 ... wait: next insn starts at 0x1008: b0 01 => imm at 0x1009
  const code = [0xc6, 0x04, 0x25, 0x09, 0x10, 0, 0, 0x05, 0xb0, 0x01, 0xf4];
  const r = runCode(code);
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.reg('rax') & 0xffn, 5n);
});

test('writing data that shares a page with code does not retranslate the code', () => {
  // l: mov [0x1100], ecx (89 0c 25 00 11 00 00) / dec ecx (ff c9) / jnz l (75 f5) / hlt
  const code = [0x89, 0x0c, 0x25, 0x00, 0x11, 0, 0, 0xff, 0xc9, 0x75, 0xf5, 0xf4];
  const r = runCode(code, { regs: { rcx: 1000 } });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.cpu.icount, 3001);
  assert.ok(r.cpu.blocksTranslated <= 3, `translated ${r.cpu.blocksTranslated} blocks`);
  assert.equal(r.cpu.read32(0x1100, 0), 1);
});

test('an instruction running onto an unfetchable page raises that page fault at its start', async () => {
  const { CpuException } = await import('../../src/x86/exceptions');
  class PagedCpu extends Cpu {
    override translate(lo: number, hi: number, a: Parameters<Cpu['translate']>[2]): number {
      if ((lo >>> 0) >= 0x2000 || hi !== 0) throw new CpuException(14, 0x14, 'not present');
      return super.translate(lo, hi, a);
    }
  }
  const mem = new PhysicalMemory(0x10000);
  mem.load(0x1ffe, Uint8Array.from([0x48, 0x01])); // add rax, rax: its ModRM byte is on the next page
  const cpu = new PagedCpu(mem);
  enterMode(cpu, 'long');
  cpu.setRip(0x1ffe);
  const r = cpu.run(1);
  assert.equal(r.reason, 'exception');
  assert.equal(r.exception?.vector, 14);
  assert.equal(cpu.getRip(), 0x1ffen);
  assert.equal(cpu.icount, 0);
});
