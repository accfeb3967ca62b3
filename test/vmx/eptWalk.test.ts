/**
 * The EPT walk: permissions of non-leaf entries, not-present entries at every level, every
 * misconfiguration (SDM vol. 3C §28.2.2, §28.2.3.1, §28.2.3.2), with 4- and 5-level walks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EptGuest, HLT, loadEax, storeEax } from './eptKit';
import type { EptLevel } from '../../src/vmx/eptBuilder';
import { PAGE_2M, PAGE_1G } from '../../src/vmx/eptBuilder';

const DATA = 0x5010;

function entryOf(g: EptGuest, gpa: number, level: EptLevel): bigint {
  return g.ept.readEntry(gpa, level);
}

for (const levels of [4, 5] as const) {
  // ---- not present at each level: violation, bits 5:3 = 0 ----------------------------------
  for (let level = 1; level <= levels; level++) {
    test(`${levels}-level EPT: not-present entry at level ${level} -> EPT violation with permissions 0`, () => {
      const g = new EptGuest({ levels, code: [...loadEax(0x1ff000 + 0x10), ...HLT] });
      // Data far from code and guest tables so clearing a higher level hits only it... except
      // levels >= 2, which also map the code: then the fetch itself is the first to fail.
      g.ept.writeEntry(0x1ff000, level as EptLevel, 0n);
      const r = g.run();
      assert.equal(r.reason, 'vmexit');
      const e = g.exit;
      assert.equal(e.reason, 48);
      if (level === 1) {
        assert.equal(e.qual, 1 | 0x180);
        assert.equal(e.gpa, 0x1ff010n);
      } else {
        // The whole first 2 MiB is gone, guest page tables included: the first access is the
        // guest walk for the instruction fetch, reading the PML4 entry (bit 8 clear: not the
        // translation of the linear address but a paging-structure access, §27.2.1).
        assert.equal(e.qual, 1 | 0x80);
        assert.equal(e.gpa, 0x10000n);
        assert.equal(e.gla, 0x1000n);
      }
    });
  }
  // ---- a non-leaf entry without W: a write fails, bits 5:3 are the AND --------------------
  for (let level = 2; level <= levels; level++) {
    test(`${levels}-level EPT: level-${level} entry R-X only -> a write violates with permissions 101b`, () => {
      const g = new EptGuest({ levels, code: [...storeEax(DATA), ...HLT] });
      const e0 = entryOf(g, DATA, level as EptLevel);
      g.ept.writeEntry(DATA, level as EptLevel, (e0 & ~7n) | 5n);
      const r = g.run();
      assert.equal(r.reason, 'vmexit');
      assert.equal(g.exit.reason, 48);
      assert.equal(g.exit.qual, 2 | (5 << 3) | 0x180);
      assert.equal(g.exit.gpa, BigInt(DATA));
      assert.equal(g.exit.gla, BigInt(DATA));
    });
    test(`${levels}-level EPT: level-${level} entry --X, leaf rw- -> a read violates with permissions 000b`, () => {
      const g = new EptGuest({ levels, code: [...loadEax(DATA), ...HLT] });
      // Code must stay executable: map data at 0x1ff000's region? Use the whole path: only the
      // leaf is rw- and the level entry --x, so reads of data fail and fetches fail too; give the
      // data its own upper-level path by placing it at 1 GiB + DATA.
      g.w64(0x13000 + 5 * 8, 0x40005000 + 0x67);
      g.ept.map(0x40005000, 0x5000, 0x1000, { perms: 3 });
      const e0 = entryOf(g, 0x40005000, level as EptLevel);
      g.ept.writeEntry(0x40005000, level as EptLevel, (e0 & ~7n) | 4n);
      const r = g.run();
      assert.equal(r.reason, 'vmexit');
      assert.equal(g.exit.reason, 48);
      if (level >= 4) {
        // The PML4E (PML5E) also maps the guest page tables: the guest walk's read fails first.
        assert.equal(g.exit.qual, 1 | (4 << 3) | 0x80);
        assert.equal(g.exit.gpa, 0x10000n);
      } else {
        assert.equal(g.exit.qual, 1 | (0 << 3) | 0x180);
        assert.equal(g.exit.gpa, 0x40005010n);
      }
    });
  }
  // ---- misconfigurations at each level ------------------------------------------------------
  const misconfigs: Array<[string, number, (e: bigint) => bigint, boolean?]> = [];
  for (let level = 1; level <= levels; level++) {
    misconfigs.push([`write-only (010b) at level ${level}`, level, (e) => (e & ~7n) | 2n]);
    misconfigs.push([`write+execute (110b) at level ${level}`, level, (e) => (e & ~7n) | 6n]);
    misconfigs.push([`address bit 39 (>= MAXPHYADDR) at level ${level}`, level, (e) => e | (1n << 39n)]);
    misconfigs.push([`address bit 51 at level ${level}`, level, (e) => e | (1n << 51n)]);
  }
  for (let level = 2; level <= levels; level++) {
    for (const bit of [3, 4, 5, 6]) misconfigs.push([`reserved bit ${bit} of a non-leaf entry at level ${level}`, level, (e) => e | (1n << BigInt(bit))]);
  }
  for (let level = 4; level <= levels; level++) misconfigs.push([`bit 7 of a level-${level} entry`, level, (e) => e | 0x80n]);
  for (const mt of [2, 3, 7]) misconfigs.push([`leaf memory type ${mt}`, 1, (e) => (e & ~0x38n) | BigInt(mt << 3)]);
  for (const [name, level, edit] of misconfigs) {
    test(`${levels}-level EPT misconfiguration: ${name}`, () => {
      const g = new EptGuest({ levels, code: [...loadEax(0x40005010), ...HLT] });
      g.w64(0x13000 + 5 * 8, 0x40005000 + 0x67);
      g.ept.map(0x40005000, 0x5000, 0x1000, { perms: 7 });
      g.w64(0x13000 + 7 * 8, 0x40005000 + 0x67);
      const e0 = entryOf(g, 0x40005000, level as EptLevel);
      g.ept.writeEntry(0x40005000, level as EptLevel, edit(e0));
      const code = [...loadEax(0x5010), ...HLT];
      g.mem.load(0x1000, Uint8Array.from(code));
      const r = g.run();
      assert.equal(r.reason, 'vmexit');
      const e = g.exit;
      assert.equal(e.reason, 49);
      assert.equal(e.qual, 0);
      // Levels 4 and 5 also translate the guest page tables: the fetch's guest walk meets it first.
      assert.equal(e.gpa, level >= 4 ? 0x10000n : 0x40005010n);
      assert.equal(e.ripLo, 0x1000);
    });
  }
}

// ---- valid settings that are not misconfigurations ------------------------------------------
for (const mt of [0, 1, 4, 5, 6]) {
  test(`leaf memory type ${mt} is valid`, () => {
    const g = new EptGuest({ code: [...loadEax(DATA), ...HLT] });
    g.ept.map(0x5000, 0x5000, 0x1000, { memType: mt, ignorePat: mt === 1 });
    g.mem.write8(DATA, 9);
    assert.equal(g.run().reason, 'hlt');
    assert.equal(g.cpu.getReg64(0), 9n);
  });
}

test('bits 63:52 and bit 11 of EPT entries are ignored; bit 7 of a PTE is ignored', () => {
  const g = new EptGuest({ code: [...loadEax(DATA), ...HLT] });
  for (const level of [1, 2, 3, 4] as const) {
    const e0 = entryOf(g, DATA, level);
    g.ept.writeEntry(DATA, level, e0 | (0xfffn << 52n) | 0x800n | (level === 1 ? 0x80n : 0n));
  }
  g.mem.write8(DATA, 7);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.cpu.getReg64(0), 7n);
});

test('2 MiB page: bits 20:12 reserved -> misconfiguration', () => {
  const g = new EptGuest({ code: [...loadEax(0x5010), ...HLT] });
  g.w64(0x13000 + 5 * 8, 0x405000 + 0x67);
  g.ept.map(0x400000, 0x600000, PAGE_2M, { pageSize: PAGE_2M });
  g.ept.writeEntry(0x400000, 2, g.ept.readEntry(0x400000, 2) | 0x1000n);
  assert.equal(g.run().reason, 'vmexit');
  assert.equal(g.exit.reason, 49);
  assert.equal(g.exit.gpa, 0x405010n);
});

test('1 GiB page: bits 29:12 reserved -> misconfiguration', () => {
  const g = new EptGuest({ code: [...loadEax(0x5010), ...HLT] });
  g.w64(0x13000 + 5 * 8, 0x40005000 + 0x67);
  g.ept.map(0x40000000, 0, PAGE_1G, { pageSize: PAGE_1G });
  g.ept.writeEntry(0x40000000, 3, g.ept.readEntry(0x40000000, 3) | 0x20000000n);
  assert.equal(g.run().reason, 'vmexit');
  assert.equal(g.exit.reason, 49);
});

test('a present entry beyond RAM (all ones) is a misconfiguration', () => {
  const g = new EptGuest({ code: [...loadEax(0x5010), ...HLT] });
  // PTE of 0x5000 points nowhere: make the PDE reference a table beyond RAM.
  g.ept.writeEntry(0x5000, 2, 0x7f00000000n | 7n);
  const r = g.run();
  assert.equal(r.reason, 'vmexit');
  assert.equal(g.exit.reason, 49);
  assert.equal(g.exit.gpa, 0x10000n, 'the guest walk of the code fetch (same 2 MiB) is the first access');
});
