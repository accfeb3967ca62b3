/**
 * Every R/W/X combination of the EPT entry that maps a page, for data reads, data writes and
 * instruction fetches, with 4 KiB, 2 MiB and 1 GiB pages and 4- and 5-level walks (SDM vol. 3C
 * §28.2.2, §28.2.3; qualification §27.2.1 table 27-7).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EptGuest, HLT, JMP_RAX, PT, G_LEAF, loadEax, movEax, storeEax } from './eptKit';
import { PAGE_1G, PAGE_2M, PAGE_4K } from '../../src/vmx/eptBuilder';

const LIN = 0x5000;
const OFF = 0x10;

interface Layout { name: string; size: number; gpaPage: number; hpaPage: number; eptMapGpa: number; eptMapHpa: number }
const layouts: Layout[] = [
  { name: '4 KiB', size: PAGE_4K, gpaPage: 0x5000, hpaPage: 0x6000, eptMapGpa: 0x5000, eptMapHpa: 0x6000 },
  { name: '2 MiB', size: PAGE_2M, gpaPage: 0x405000, hpaPage: 0x605000, eptMapGpa: 0x400000, eptMapHpa: 0x600000 },
  { name: '1 GiB', size: PAGE_1G, gpaPage: 0x40005000, hpaPage: 0x5000, eptMapGpa: 0x40000000, eptMapHpa: 0 },
];

type Kind = 'read' | 'write' | 'fetch';
const ACC: Record<Kind, number> = { read: 1, write: 2, fetch: 4 };

function setup(l: Layout, rwx: number, kind: Kind, levels: 4 | 5): EptGuest {
  const code = kind === 'read' ? [...loadEax(LIN + OFF), ...HLT]
    : kind === 'write' ? [...movEax(0x11223344), ...storeEax(LIN + OFF), ...HLT]
    : [...movEax(LIN), ...JMP_RAX];
  const g = new EptGuest({ code, levels });
  // Guest paging: linear 0x5000 -> the layout's guest-physical page.
  g.w64(PT + (LIN >>> 12) * 8, l.gpaPage + G_LEAF);
  g.ept.map(l.eptMapGpa, l.eptMapHpa, l.size, { perms: rwx, pageSize: l.size });
  g.mem.write8(l.hpaPage + OFF, 0x5a);
  g.mem.write8(l.hpaPage, HLT[0]);
  return g;
}

for (const levels of [4, 5] as const) {
  for (const l of layouts) {
    for (let rwx = 0; rwx < 8; rwx++) {
      for (const kind of ['read', 'write', 'fetch'] as const) {
        const perm = ['---', 'r--', '-w-', 'rw-', '--x', 'r-x', '-wx', 'rwx'][rwx];
        test(`EPT ${levels}-level, ${l.name} page ${perm}: ${kind}`, () => {
          const g = setup(l, rwx, kind, levels);
          const r = g.run();
          const misconfig = rwx === 2 || rwx === 6;
          const allowed = !misconfig && (rwx & ACC[kind]) !== 0;
          if (allowed) {
            assert.equal(r.reason, 'hlt', `${r.exception?.detail}`);
            assert.equal(g.exits.length, 0);
            if (kind === 'read') assert.equal(g.cpu.getReg64(0), 0x5an);
            if (kind === 'write') assert.equal(g.r32(l.hpaPage + OFF), 0x11223344);
            if (kind === 'fetch') assert.equal(g.cpu.getRip(), BigInt(LIN + 1));
            return;
          }
          assert.equal(r.reason, 'vmexit');
          const e = g.exit;
          const ripAt = kind === 'fetch' ? LIN : kind === 'write' ? 0x1005 : 0x1000;
          assert.equal(e.ripLo, ripAt, 'guest RIP is the accessing instruction (or the fetch target)');
          const gpa = BigInt(l.gpaPage + (kind === 'fetch' ? 0 : OFF));
          assert.equal(e.gpa, gpa);
          if (misconfig) {
            assert.equal(e.reason, 49);
            assert.equal(e.qual, 0);
          } else {
            assert.equal(e.reason, 48);
            // bits 2:0 access, 5:3 permissions (non-leaf entries grant RWX), 7 linear valid, 8 translation.
            assert.equal(e.qual, ACC[kind] | (rwx << 3) | 0x80 | 0x100);
            assert.equal(e.gla, BigInt(LIN + (kind === 'fetch' ? 0 : OFF)));
          }
          if (kind === 'write') assert.equal(g.r32(l.hpaPage + OFF), 0x5a, 'the faulting write changed nothing');
        });
      }
    }
  }
}
