/**
 * eptBuilder.ts: the EPT structures it writes, checked with a small reference walk written from
 * SDM vol. 3C §28.2.2 (tables 28-1..28-6) and the EPTP format of §24.6.11.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import {
  EPT_R, EPT_RWX, EPT_W, EPT_X, EptBuilder, MT_UC, MT_WB, PAGE_1G, PAGE_2M, PAGE_4K,
} from '../../src/vmx/eptBuilder';

function rd64(mem: PhysicalMemory, a: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(mem.read8(a + i));
  return v;
}

interface Walk { hpa: number; perms: number; memType: number; level: number }

/** Reference EPT walk (§28.2.2): null when an entry is not present (bits 2:0 = 0). */
function walk(mem: PhysicalMemory, eptp: bigint, gpa: number): Walk | null {
  const levels = Number((eptp >> 3n) & 7n) + 1;
  let table = eptp & 0x000ffffffffff000n;
  let perms = 7;
  const g = BigInt(gpa);
  for (let l = levels; l >= 1; l--) {
    const shift = BigInt(12 + 9 * (l - 1));
    const e = rd64(mem, Number(table + ((g >> shift) & 511n) * 8n));
    if ((e & 7n) === 0n) return null;
    perms &= Number(e & 7n);
    const leaf = l === 1 || (l <= 3 && (e & 0x80n) !== 0n);
    const addr = e & 0x000ffffffffff000n;
    if (leaf) {
      const mask = (1n << shift) - 1n;
      return { hpa: Number((addr & ~mask) | (g & mask)), perms, memType: Number((e >> 3n) & 7n), level: l };
    }
    table = addr;
  }
  return null;
}

test('EPTP: WB, walk length 4 (3 in bits 5:3), A/D bit 6, root address (§24.6.11)', () => {
  const mem = new PhysicalMemory(0x100000);
  const b = new EptBuilder(mem, { tablesAt: 0x10000 });
  assert.equal(b.eptpValue(), 0x10000n | 6n | (3n << 3n));
  const ad = new EptBuilder(mem, { tablesAt: 0x20000, accessedDirty: true, levels: 5, eptpMemType: MT_UC });
  assert.equal(ad.eptpValue(), 0x20000n | 0n | (4n << 3n) | 0x40n);
});

test('map 4 KiB: non-leaf entries RWX to the next table, leaf = address | perms | memory type << 3', () => {
  const mem = new PhysicalMemory(0x200000);
  const b = new EptBuilder(mem, { tablesAt: 0x10000 });
  b.map(0x345000, 0x123000, PAGE_4K, { perms: EPT_R | EPT_X, memType: MT_UC });
  const pml4e = rd64(mem, b.root);
  assert.equal(pml4e & 7n, 7n);
  assert.equal(b.readEntry(0x345000, 1), 0x123000n | 5n | (0n << 3n));
  const w = walk(mem, b.eptpValue(), 0x345abc)!;
  assert.deepEqual(w, { hpa: 0x123abc, perms: 5, memType: 0, level: 1 });
  assert.equal(walk(mem, b.eptpValue(), 0x346000), null);
  assert.equal(b.used, 4 * PAGE_4K);
});

test('map 2 MiB and 1 GiB pages: bit 7 in the PDE/PDPTE (§28.2.2)', () => {
  const mem = new PhysicalMemory(0x100000);
  const b = new EptBuilder(mem, { tablesAt: 0x10000 });
  b.map(0x40000000, 0x80000000, PAGE_1G, { perms: EPT_R, pageSize: PAGE_1G });
  b.map(0x200000, 0x600000, PAGE_2M, { pageSize: PAGE_2M, perms: EPT_R | EPT_W, ignorePat: true, accessed: true, dirty: true });
  const e1g = b.readEntry(0x40000000, 3);
  assert.equal(e1g, 0x80000000n | 0x80n | 1n | (6n << 3n));
  const e2m = b.readEntry(0x200000, 2);
  assert.equal(e2m, 0x600000n | 0x80n | 0x40n | 0x100n | 0x200n | 3n | (6n << 3n));
  assert.deepEqual(walk(mem, b.eptpValue(), 0x40000000 + 0x12345678), { hpa: 0x80000000 + 0x12345678, perms: 1, memType: MT_WB, level: 3 });
  assert.deepEqual(walk(mem, b.eptpValue(), 0x2abcde), { hpa: 0x6abcde, perms: 3, memType: MT_WB, level: 2 });
  // An entry inside a large page has no table of its own.
  assert.equal(b.entryAddress(0x201000, 1), null);
  assert.throws(() => b.map(0x201000, 0, PAGE_4K), /inside a larger page/);
});

test('5-level EPT: the root is a PML5 table (§28.2.2)', () => {
  const mem = new PhysicalMemory(0x100000);
  const b = new EptBuilder(mem, { tablesAt: 0x10000, levels: 5 });
  const gpa = 2 ** 48 + 0x5000; // needs PML5 index 1
  b.map(gpa, 0x7000, PAGE_4K);
  assert.equal(walk(mem, b.eptpValue(), gpa)!.hpa, 0x7000);
  assert.notEqual(rd64(mem, b.root + 8) & 7n, 0n);
  assert.equal(rd64(mem, b.root) & 7n, 0n);
});

test('map rejects unaligned addresses and sizes', () => {
  const b = new EptBuilder(new PhysicalMemory(0x100000), { tablesAt: 0x10000 });
  assert.throws(() => b.map(0x1001, 0, PAGE_4K));
  assert.throws(() => b.map(0x200000, 0x1000, PAGE_2M, { pageSize: PAGE_2M }));
  assert.throws(() => b.map(0, 0, PAGE_4K, { pageSize: 12345 }));
});

test('tables run out: a clear error', () => {
  const b = new EptBuilder(new PhysicalMemory(0x100000), { tablesAt: 0x10000, tablesSize: 0x2000 });
  assert.throws(() => b.map(0, 0, PAGE_4K), /out of table memory/);
});

test('writeEntry / tableAddress: tests can replace any entry', () => {
  const mem = new PhysicalMemory(0x100000);
  const b = new EptBuilder(mem, { tablesAt: 0x10000 });
  b.identity(0, 0x400000);
  b.writeEntry(0x200000, 2, 0x200000n | 0x80n | 2n); // write-only: a misconfiguration (§28.2.3.1)
  assert.equal(b.readEntry(0x200000, 2), 0x200000n | 0x80n | 2n);
  assert.equal(b.tableAddress(0x200000, 2), b.tableAddress(0, 2));
  assert.equal(b.readEntry(0x40000000, 2), 0n);
});

test('identity (property): every address maps to itself with RWX and WB, largest pages used', () => {
  const mem = new PhysicalMemory(0x100000);
  const b = new EptBuilder(mem, { tablesAt: 0x10000 });
  b.identity(0, 0x80000000, { maxPage: PAGE_1G });
  b.identity(0x80000000, 0x401000); // 2 MiB pages, then one 4 KiB page
  const eptp = b.eptpValue();
  assert.equal(walk(mem, eptp, 0x3fffffff)!.level, 3);
  assert.equal(walk(mem, eptp, 0x80000000)!.level, 2);
  assert.equal(walk(mem, eptp, 0x80400000)!.level, 1);
  assert.equal(walk(mem, eptp, 0x80401000), null);
  fc.assert(fc.property(fc.integer({ min: 0, max: 0x80400fff }), (gpa) => {
    const w = walk(mem, eptp, gpa);
    assert.ok(w !== null);
    assert.equal(w.hpa, gpa);
    assert.equal(w.perms, EPT_RWX);
    assert.equal(w.memType, MT_WB);
  }));
});
