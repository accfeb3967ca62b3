import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode } from '../../src/x86/modes';
import { HostDebug } from '../../src/x86/hostDebug';
import { assemble } from '../../src/language/asm/assembler';

// The debugger's breakpoints on the processor (src/x86/hostDebug.ts): invisible to the guest,
// checked once per block for code, through the TLB's slow path for data.

function cpuWith(src: string): Cpu {
  const mem = new PhysicalMemory(1 << 20);
  mem.load(0x1000, assemble(`bits 64\norg 0x1000\n${src}`, { bits: 64 }).bytes);
  const c = new Cpu(mem);
  enterMode(c, 'long');
  c.setRip(0x1000);
  c.setReg64(4, 0x80000);
  return c;
}

const CODE = 'mov eax, 1\nmov ebx, 2\nthird: mov ecx, 3\nmov [0x9000], eax\nload: mov edx, [0x9000]\nhlt\n';
const sym = (name: string): number => Number(assemble(`bits 64\norg 0x1000\n${CODE}`, { bits: 64 }).symbols.get(name)!.value);

test('a code breakpoint in the middle of a block stops before its instruction; skipLinear lets a resume run it', () => {
  const c = cpuWith(CODE);
  const hd = new HostDebug();
  hd.setCode([sym('third')]);
  c.hostDebug = hd;
  assert.equal(c.run(1000).reason, 'break');
  assert.equal(c.getRip(), BigInt(sym('third')));
  assert.equal(c.icount, 2);
  assert.equal(c.run(1000).reason, 'break'); // still there
  assert.equal(c.icount, 2);
  hd.skipLinear = sym('third');
  assert.equal(c.run(1000).reason, 'hlt');
  assert.equal(c.getReg64(1), 3n);
});

test('watches: a write stops after the writing instruction, a read after the reading one; the guest\'s own DRs are untouched', () => {
  const c = cpuWith(CODE);
  const hd = new HostDebug();
  hd.setWatches([{ id: 1, start: 0x9000, length: 4, kind: 'write', physical: false }]);
  c.hostDebug = hd;
  c.hostWatching = true;
  c.flushTlb();
  assert.equal(c.run(1000).reason, 'break');
  assert.deepEqual(hd.hits.splice(0), [{ id: 1, address: 0x9000, size: 4, write: true }]);
  assert.equal(c.getRip(), BigInt(sym('load'))); // after the store
  hd.setWatches([{ id: 2, start: 0x9002, length: 1, kind: 'read', physical: true }]);
  c.flushTlb();
  assert.equal(c.run(1000).reason, 'break');
  assert.deepEqual(hd.hits.splice(0).map((h) => [h.id, h.write]), [[2, false]]);
  assert.equal(c.getReg64(2), 1n);
  assert.equal(c.dr6 & 0xf, 0);
  assert.equal(c.run(1000).reason, 'hlt');
});

test('watches see a quadword access as one access of 8 bytes (SDM: MOV r/m64 is one write), whichever half is watched', () => {
  const Q = 'mov rax, 0x1122334455667788\nmov [0x9000], rax\nmov rbx, [0x9000]\nadd [0x9000], rax\nhlt\n';
  for (const start of [0x9000, 0x9004]) {
    const c = cpuWith(Q);
    const hd = new HostDebug();
    hd.setWatches([{ id: 1, start, length: 4, kind: 'readWrite', physical: false }]);
    c.hostDebug = hd;
    c.hostWatching = true;
    c.flushTlb();
    const seen: unknown[] = [];
    for (let k = 0; k < 3; k++) {
      assert.equal(c.run(1000).reason, 'break');
      seen.push(...hd.hits.splice(0));
    }
    // The store; the load; the read-modify-write (its read, then its write).
    assert.deepEqual(seen, [
      { id: 1, address: 0x9000, size: 8, write: true },
      { id: 1, address: 0x9000, size: 8, write: false },
      { id: 1, address: 0x9000, size: 8, write: false },
      { id: 1, address: 0x9000, size: 8, write: true },
    ], `watch at 0x${start.toString(16)}`);
    assert.equal(c.run(1000).reason, 'hlt');
    assert.equal(c.getReg64(3), 0x1122334455667788n);
  }
});

test('without the debugger nothing changes: the same code runs to HLT with the same count', () => {
  const c = cpuWith(CODE);
  assert.equal(c.hostDebug, null);
  assert.equal(c.run(1000).reason, 'hlt');
  assert.equal(c.icount, 6);
});
