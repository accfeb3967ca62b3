/**
 * Property test of the EPT walk (eptWalk.ts) against a reference written from the SDM's rules
 * (vol. 3C §28.2.2 entry formats, §28.2.3.1 misconfigurations, §28.2.3.2 violations): random
 * entries at every level (permissions, page-size bit, reserved bits, memory types, address bits
 * beyond MAXPHYADDR) for random guest-physical addresses, 4- and 5-level walks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { EptStatus, eptResult, eptWalk } from '../../src/vmx/eptWalk';
import { physHiMask } from '../../src/vmx/eptFeatures';

const MAXPHY = 39;
const ROOT = 0x100000;

interface LevelSpec {
  rwx: number;
  big: boolean;
  /** Extra bit set in the entry (-1 none). */
  extra: number;
  memType: number;
}

const extraBits = [-1, -1, -1, 3, 4, 5, 6, 8, 9, 10, 11, 12, 20, 21, 29, 39, 45, 51, 52, 62, 63];
const levelArb = fc.record({
  rwx: fc.integer({ min: 0, max: 7 }),
  big: fc.boolean(),
  extra: fc.constantFrom(...extraBits),
  memType: fc.integer({ min: 0, max: 7 }),
});

const idxOf = (gpa: bigint, level: number): bigint => (gpa >> BigInt(12 + 9 * (level - 1))) & 0x1ffn;

/** The entry for `level`: a table reference to the next table page, or (leaf) `target` with flags. */
function entryValue(s: LevelSpec, level: number, levels: number, target: bigint, leafHere: boolean): bigint {
  let e = BigInt(s.rwx);
  if (leafHere) {
    const size = 12 + 9 * (level - 1);
    e |= (target >> BigInt(size)) << BigInt(size);
    e |= BigInt(s.memType) << 3n;
    if (level > 1) e |= 0x80n;
  } else {
    e |= BigInt(ROOT + (levels - level + 1) * 0x1000);
    if (s.big && level >= 4) e |= 0x80n;
  }
  // An address bit of a table reference would move the next table away from the test's layout.
  const moves = !leafHere && s.extra >= 12 && s.extra < MAXPHY;
  if (s.extra >= 0 && !moves) e |= 1n << BigInt(s.extra);
  return e;
}

/** Reference walk (SDM §28.2.2-28.2.3): 'ok' with the address, or 'violation'/'misconfig', and the permissions AND. */
function reference(entries: bigint[], levels: number, gpa: bigint, need: number): { status: string; perms: number; hpa?: bigint } {
  let perms = 7;
  for (let level = levels; level >= 1; level--) {
    const e = entries[levels - level];
    const rwx = Number(e & 7n);
    perms &= rwx;
    if (rwx === 0) return { status: 'violation', perms: 0 };
    if (rwx === 2 || rwx === 6) return { status: 'misconfig', perms };
    if (((e >> BigInt(MAXPHY)) & ((1n << BigInt(52 - MAXPHY)) - 1n)) !== 0n) return { status: 'misconfig', perms };
    const bit7 = (e & 0x80n) !== 0n;
    const leaf = level === 1 || (bit7 && (level === 2 || level === 3));
    if (!leaf) {
      if ((e & 0xf8n) !== 0n) return { status: 'misconfig', perms };
      continue;
    }
    if (level === 3 && (e & 0x3ffff000n) !== 0n) return { status: 'misconfig', perms };
    if (level === 2 && (e & 0x1ff000n) !== 0n) return { status: 'misconfig', perms };
    const mt = Number((e >> 3n) & 7n);
    if (mt === 2 || mt === 3 || mt === 7) return { status: 'misconfig', perms };
    if ((perms & need) === 0) return { status: 'violation', perms };
    const size = BigInt(12 + 9 * (level - 1));
    const base = ((e & ((1n << 52n) - 1n)) >> size) << size;
    return { status: 'ok', perms, hpa: base + (gpa & ((1n << size) - 1n)) };
  }
  throw new Error('unreachable');
}

for (const levels of [4, 5]) {
  test(`EPT walk property (${levels} levels): random entries agree with the SDM reference`, () => {
    const mem = new PhysicalMemory(0x400000);
    const cpu = new Cpu(mem);
    const physHi = physHiMask(MAXPHY);
    fc.assert(
      fc.property(
        fc.array(levelArb, { minLength: levels, maxLength: levels }),
        fc.bigInt({ min: 0n, max: (1n << BigInt(MAXPHY)) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << BigInt(MAXPHY)) - 1n }),
        fc.constantFrom(1, 2, 4),
        (specs, gpa, target, need) => {
          // Where the walk stops being able to go on: the first leaf.
          const entries: bigint[] = [];
          let leafFound = false;
          for (let level = levels; level >= 1; level--) {
            const s = specs[levels - level];
            const leafHere = !leafFound && (level === 1 || (s.big && (level === 2 || level === 3)));
            const e = entryValue(s, level, levels, target, leafHere);
            entries.push(e);
            const at = ROOT + (levels - level) * 0x1000 + Number(idxOf(gpa, level)) * 8;
            for (let i = 0; i < 8; i++) mem.write8(at + i, Number((e >> BigInt(8 * i)) & 0xffn));
            if (leafHere) leafFound = true;
          }
          const eptpLo = ROOT | 6 | ((levels - 1) << 3);
          const st = eptWalk(cpu, eptpLo, 0, Number(gpa), need, physHi);
          const want = reference(entries, levels, gpa, need);
          const got = st === EptStatus.Ok ? 'ok' : st === EptStatus.Violation ? 'violation' : 'misconfig';
          assert.equal(got, want.status);
          if (got !== 'misconfig') assert.equal(eptResult.perms, want.perms);
          if (got === 'ok') assert.equal(BigInt(eptResult.hpa), want.hpa);
        },
      ),
      { numRuns: 3000 },
    );
  });
}
