/**
 * Guest paging through EPT (SDM vol. 3C §28.2.1, §28.2.3.2), EPT accessed/dirty flags (§28.2.4)
 * and the qualification bits 7/8 and guest-linear address (§27.2.1) for every kind of access.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EptGuest, HLT, JMP_RAX, PD, PDPT, PML4, PT, G_LEAF, G_TABLE, addMem, loadEax, loadEax32, movEax, storeEax } from './eptKit';
import { Access } from '../../src/x86/mmu';
import { PageFault, loadPdptes, pdpteRegister, pdpteHi, setPdpteRegister } from '../../src/x86/paging';
import { AccessExit } from '../../src/vmx/ept';
import { DeferredVmExit } from '../../src/x86/vmxEptHooks';

const DATA = 0x5010;

// ---- violations during the guest's page walk: bit 8 clear, GPA = the guest entry -----------
const tables: Array<[string, number, number]> = [
  ['PML4', PML4, PML4 + 0],
  ['PDPT', PDPT, PDPT + 0],
  ['page directory', PD, PD + 0],
  ['page table', PT, PT + (DATA >>> 12) * 8],
];
for (const [name, page, entryGpa] of tables) {
  test(`guest ${name} not readable in EPT: violation on the walk (bit 7 set, bit 8 clear)`, () => {
    // Code is fetched through the same tables; the data access is the first to need the PT's
    // entry for 0x5000, so the PT case reports that entry, the others the fetch's walk.
    const g = new EptGuest({ code: [...loadEax(DATA), ...HLT] });
    g.ept.map(page, page, 0x1000, { perms: 4 });
    const r = g.run();
    assert.equal(r.reason, 'vmexit');
    const e = g.exit;
    assert.equal(e.reason, 48);
    assert.equal(e.qual, 1 | (4 << 3) | 0x80);
    if (page === PT) {
      // The fetch's walk read the PT entry of 0x1000 first.
      assert.equal(e.gpa, BigInt(PT + 8));
      assert.equal(e.gla, 0x1000n);
    } else {
      assert.equal(e.gpa, BigInt(entryGpa));
      assert.equal(e.gla, 0x1000n);
    }
    assert.equal(e.ripLo, 0x1000);
  });
}

test('guest page table of the data denied: GPA is the PTE of the data, guest-linear the data address', () => {
  // Linear 0x200000-0x3fffff through PD[1] -> a second page table at 0x14000; 0x205000 -> GPA 0x5000.
  const PT2 = 0x14000;
  const g = new EptGuest({ code: [...loadEax(0x205010), ...HLT] });
  g.w64(PT2 + 5 * 8, 0x5000 + G_LEAF);
  g.w64(PD + 8, PT2 + G_TABLE);
  g.ept.map(PT2, PT2, 0x1000, { perms: 4 });
  g.run();
  const e = g.exit;
  assert.equal(e.reason, 48);
  assert.equal(e.qual, 1 | (4 << 3) | 0x80);
  assert.equal(e.gpa, BigInt(PT2 + 5 * 8));
  assert.equal(e.gla, 0x205010n);
  assert.equal(e.ripLo, 0x1000);
});

test('guest accessed-flag update: EPT read-only page table -> write violation (bit 1), bit 8 clear', () => {
  const g = new EptGuest({ code: [...loadEax(DATA), ...HLT] });
  g.w64(PT + 5 * 8, 0x5000 + 0x07); // A and D clear: the walk must set A
  g.ept.map(PT, PT, 0x1000, { perms: 1 });
  g.run();
  const e = g.exit;
  assert.equal(e.reason, 48);
  assert.equal(e.qual, 2 | (1 << 3) | 0x80);
  assert.equal(e.gpa, BigInt(PT + 5 * 8));
  assert.equal(e.gla, BigInt(DATA));
  assert.equal(g.r64(PT + 5 * 8) & 0x60n, 0n, 'guest entry unchanged');
});

test('guest dirty-flag update on a write: EPT read-only page table -> write violation', () => {
  const g = new EptGuest({ code: [...storeEax(DATA), ...HLT] });
  g.w64(PT + 5 * 8, 0x5000 + 0x27); // A set, D clear
  g.ept.map(PT, PT, 0x1000, { perms: 5 });
  g.run();
  assert.equal(g.exit.qual, 2 | (5 << 3) | 0x80);
  assert.equal(g.exit.gpa, BigInt(PT + 5 * 8));
});

test('EPT A/D enabled: a guest paging-structure read needs write permission (bits 0 and 1 set)', () => {
  const g = new EptGuest({ accessedDirty: true, code: [...loadEax(DATA), ...HLT] });
  g.ept.map(PT, PT, 0x1000, { perms: 5 });
  g.run();
  const e = g.exit;
  assert.equal(e.reason, 48);
  assert.equal(e.qual, 1 | 2 | (5 << 3) | 0x80);
  assert.equal(e.gpa, BigInt(PT + 8), 'the PTE of the code page, read by the fetch walk');
});

test('EPT A/D disabled: a read-only guest page table is enough when guest A/D are set', () => {
  const g = new EptGuest({ code: [...loadEax(DATA), ...HLT] });
  g.ept.map(PT, PT, 0x1000, { perms: 1 });
  g.mem.write8(DATA, 3);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.cpu.getReg64(0), 3n);
});

// ---- EPT accessed and dirty flags ---------------------------------------------------------------
test('EPT A/D: a read sets the accessed flag in every entry used, not the dirty flag', () => {
  const g = new EptGuest({ accessedDirty: true, code: [...loadEax(DATA), ...HLT] });
  g.ept.map(0x5000, 0x5000, 0x1000, {});
  assert.equal(g.run().reason, 'hlt');
  for (const level of [4, 3, 2, 1] as const) assert.equal(g.ept.readEntry(DATA, level) & 0x100n, 0x100n, `A at level ${level}`);
  assert.equal(g.ept.readEntry(DATA, 1) & 0x200n, 0n, 'no dirty flag for a read');
});

test('EPT A/D: a write sets the dirty flag of the leaf', () => {
  const g = new EptGuest({ accessedDirty: true, code: [...storeEax(DATA), ...HLT] });
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.ept.readEntry(DATA, 1) & 0x300n, 0x300n);
  assert.equal(g.ept.readEntry(DATA, 2) & 0x300n, 0x100n, 'dirty only in the leaf');
});

test('EPT A/D: guest paging-structure accesses are writes: the PT page gets its dirty flag', () => {
  const g = new EptGuest({ accessedDirty: true, code: [...loadEax(DATA), ...HLT] });
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.ept.readEntry(PT, 1) & 0x300n, 0x300n);
  assert.equal(g.ept.readEntry(PML4, 1) & 0x300n, 0x300n);
});

test('EPT A/D: a 2 MiB leaf gets A and D', () => {
  const g = new EptGuest({ accessedDirty: true, code: [...storeEax(0x5010), ...HLT] });
  g.w64(PT + 5 * 8, 0x405000 + G_LEAF);
  g.ept.map(0x400000, 0x600000, 0x200000, { pageSize: 0x200000 });
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.ept.readEntry(0x400000, 2) & 0x300n, 0x300n);
  assert.equal(g.r32(0x605010), 0);
});

test('EPT A/D: a violation leaves the EPT entries unchanged', () => {
  const g = new EptGuest({ accessedDirty: true, code: [...storeEax(DATA), ...HLT] });
  g.ept.map(0x5000, 0x5000, 0x1000, { perms: 1 });
  g.run();
  assert.equal(g.exit.reason, 48);
  assert.equal(g.ept.readEntry(DATA, 1) & 0x300n, 0n);
});

test('EPT A/D off: accessed and dirty flags are never written', () => {
  const g = new EptGuest({ code: [...storeEax(DATA), ...HLT] });
  assert.equal(g.run().reason, 'hlt');
  for (const level of [4, 3, 2, 1] as const) assert.equal(g.ept.readEntry(DATA, level) & 0x300n, 0n);
});

test('EPT A/D: a cached translation still sets the dirty flag on the first write', () => {
  const g = new EptGuest({ accessedDirty: true, code: [...loadEax(DATA), ...storeEax(DATA), ...HLT] });
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.ept.readEntry(DATA, 1) & 0x300n, 0x300n);
});

// ---- kinds of accesses ----------------------------------------------------------------------
test('read-modify-write to a read-only page reports a write (bit 1 only) and changes nothing', () => {
  const g = new EptGuest({ code: [...addMem(DATA), ...HLT] });
  g.ept.map(0x5000, 0x5000, 0x1000, { perms: 5 });
  g.mem.write8(DATA, 1);
  g.run();
  assert.equal(g.exit.qual, 2 | (5 << 3) | 0x180);
  assert.equal(g.mem.read8(DATA), 1);
});

test('push onto a read-only stack page: write violation at the stack address', () => {
  const g = new EptGuest({ code: [0x50, ...HLT] });
  g.ept.map(0x7000, 0x7000, 0x1000, { perms: 1 });
  g.run();
  assert.equal(g.exit.reason, 48);
  assert.equal(g.exit.qual, 2 | (1 << 3) | 0x180);
  assert.equal(g.exit.gpa, 0x7ff8n);
  assert.equal(g.exit.gla, 0x7ff8n);
  assert.equal(g.cpu.getReg64(4), 0x8000n, 'RSP unchanged');
});

test('a write across a page boundary into a read-only page writes nothing', () => {
  const g = new EptGuest({ code: [...movEax(0x11223344), ...storeEax(0x5ffe), ...HLT] });
  g.ept.map(0x6000, 0x6000, 0x1000, { perms: 1 });
  g.run();
  assert.equal(g.exit.reason, 48);
  assert.equal(g.exit.gpa, 0x6000n);
  assert.equal(g.exit.gla, 0x6000n);
  assert.equal(g.mem.read8(0x5ffe), 0);
  assert.equal(g.mem.read8(0x5fff), 0);
});

test('execute-only page: fetch works, a read of it violates with permissions 100b', () => {
  const g = new EptGuest({ code: [...movEax(0x5000), ...JMP_RAX] });
  g.mem.load(0x5000, Uint8Array.from([...loadEax(0x5000), ...HLT]));
  g.ept.map(0x5000, 0x5000, 0x1000, { perms: 4 });
  g.run();
  assert.equal(g.exit.reason, 48);
  assert.equal(g.exit.qual, 1 | (4 << 3) | 0x180);
  assert.equal(g.exit.ripLo, 0x5000);
});

test('an instruction crossing into a non-executable page exits when reached, RIP at its start', () => {
  // nop at 0x1ff9..; the 7-byte load at 0x1ffe crosses into 0x2000 (not executable).
  const code = new Array(0xffe).fill(0x90);
  const g = new EptGuest({ code: [...code, ...loadEax(DATA), ...HLT] });
  g.ept.map(0x2000, 0x2000, 0x1000, { perms: 3 });
  g.run(5000);
  assert.equal(g.exit.reason, 48);
  assert.equal(g.exit.qual, 4 | (3 << 3) | 0x180);
  assert.equal(g.exit.gpa, 0x2000n);
  assert.equal(g.exit.gla, 0x2000n);
  assert.equal(g.exit.ripLo, 0x1ffe);
  assert.equal(g.cpu.icount, 0xffe + 1, 'every nop retired, plus one for the exit');
});

test('exit in the middle of a block: RIP of the accessing instruction, earlier instructions retired', () => {
  const g = new EptGuest({ code: [0x90, 0x90, ...movEax(7), ...storeEax(DATA), ...HLT] });
  g.ept.map(0x5000, 0x5000, 0x1000, { perms: 1 });
  g.run();
  assert.equal(g.exit.ripLo, 0x1007);
  assert.equal(g.cpu.getReg64(0), 7n);
});

// ---- guests without paging: linear = guest-physical -----------------------------------------
test('protected mode without paging: guest-linear = guest-physical, bits 7 and 8 set', () => {
  const g = new EptGuest({ mode: 'protected', code: [...loadEax32(0x123456), ...HLT] });
  g.ept.map(0x123000, 0x123000, 0x1000, { perms: 0 });
  g.run();
  assert.equal(g.exit.reason, 48);
  assert.equal(g.exit.qual, 1 | 0x180);
  assert.equal(g.exit.gpa, 0x123456n);
  assert.equal(g.exit.gla, 0x123456n);
});

test('real mode (unrestricted guest): the linear address includes the segment base', () => {
  // mov ax, [0x10] with DS = 0x5000 (real mode: base 0x50000).
  const g = new EptGuest({ mode: 'real', code: [0xb8, 0x00, 0x50, 0x8e, 0xd8, 0xa1, 0x10, 0x00, ...HLT] });
  g.ept.map(0x50000, 0x50000, 0x1000, { perms: 4 });
  g.run();
  assert.equal(g.exit.reason, 48);
  assert.equal(g.exit.qual, 1 | (4 << 3) | 0x180);
  assert.equal(g.exit.gpa, 0x50010n);
  assert.equal(g.exit.gla, 0x50010n);
  assert.equal(g.exit.ripLo, 0x1005);
});

test('protected mode: remapped page is read from its host-physical page', () => {
  const g = new EptGuest({ mode: 'protected', code: [...loadEax32(0x300010), ...HLT] });
  g.ept.map(0x300000, 0x6000, 0x1000, {});
  g.mem.write8(0x6010, 0xab);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.cpu.getReg64(0), 0xabn);
});

test('outside 64-bit mode the guest-linear field has bits 63:32 clear', () => {
  const g = new EptGuest({ mode: 'protected', code: [...loadEax32(0xfffff000), ...HLT] });
  g.run();
  assert.equal(g.exit.reason, 48);
  assert.equal(g.exit.gla, 0xfffff000n);
});

test('EPT off in non-root operation: guest-physical addresses are host-physical', () => {
  const g = new EptGuest({ ept: false, code: [...loadEax(DATA), ...HLT] });
  g.ept.map(0x5000, 0x5000, 0x1000, { perms: 0 });
  g.mem.write8(DATA, 5);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.cpu.getReg64(0), 5n);
});

test('the guest #PF comes before EPT: not-present guest PTE faults in the guest', () => {
  const g = new EptGuest({ code: [...HLT] });
  g.w64(PT + 5 * 8, 0);
  g.ept.map(0x5000, 0x5000, 0x1000, { perms: 0 });
  assert.throws(() => g.cpu.translate(DATA, 0, Access.Read), (e: unknown) => e instanceof PageFault && e.errorCode === 0);
});

test('a guest #PF for a write to a read-only guest page comes before the EPT write check', () => {
  const g = new EptGuest({ code: [...HLT] });
  g.w64(PT + 5 * 8, 0x5000 + 0x65); // not writable, user
  g.cpu.cr0 |= 1 << 16; // CR0.WP
  g.ept.map(0x5000, 0x5000, 0x1000, { perms: 1 });
  assert.throws(() => g.cpu.translate(DATA, 0, Access.Write), (e: unknown) => e instanceof PageFault && e.errorCode === 3);
});

// ---- PAE PDPTEs --------------------------------------------------------------------------------
test('PDPTE load through EPT: a violation has bit 7 clear and no guest-linear address', () => {
  const g = new EptGuest({ code: [...HLT] });
  g.ept.map(0x9000, 0x9000, 0x1000, { perms: 0 });
  let thrown: unknown = null;
  try {
    loadPdptes(g.cpu, 0x9000);
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof AccessExit);
  const x = thrown as AccessExit;
  assert.equal(x.reason, 48);
  assert.equal(x.qualification, 1);
  assert.equal(x.gpa, 0x9000);
});

test('PDPTE load through EPT reads the remapped host page; a read-only PDPT is enough with A/D on', () => {
  const g = new EptGuest({ accessedDirty: true, code: [...HLT] });
  g.ept.map(0x9000, 0x6000, 0x1000, { perms: 1 });
  g.w64(0x6000 + 8, 0x12345000 + 1);
  assert.equal(loadPdptes(g.cpu, 0x9000), true);
  assert.equal(pdpteRegister(g.cpu, 1), 0x12345001);
  assert.equal(pdpteHi, 0);
});

test('setPdpteRegister / pdpteRegister (VM entry and exit with EPT)', () => {
  const g = new EptGuest({ code: [...HLT] });
  setPdpteRegister(g.cpu, 3, 0x7000 | 1, 0x12);
  assert.equal(pdpteRegister(g.cpu, 3), 0x7001);
  assert.equal(pdpteHi, 0x12);
});

test('translate() directly: an access exit is a DeferredVmExit and changes nothing until taken', () => {
  const g = new EptGuest({ code: [...HLT] });
  g.ept.map(0x5000, 0x5000, 0x1000, { perms: 0 });
  const x = g.translate(DATA, Access.Read);
  assert.ok(x instanceof DeferredVmExit);
  assert.equal(g.exits.length, 0);
  assert.equal(g.vmcs.read('GUEST_PHYSICAL_ADDRESS'), 0n);
  assert.equal(g.translate(0x6010, Access.Write), 0x6010);
});

test('EPT violation during an IRET that unblocked NMIs: qualification bit 12', async () => {
  const { eventState } = await import('../../src/vmx/eventExitCore');
  const g = new EptGuest({ code: [...HLT] });
  g.ept.map(0x5000, 0x5000, 0x1000, { perms: 0 });
  eventState(g.engine).iretUnblocked = true;
  const x = g.translate(DATA, Access.Read) as AccessExit;
  assert.equal(x.qualification, 1 | 0x180 | 0x1000);
  eventState(g.engine).iretUnblocked = false;
  const y = g.translate(DATA, Access.Read) as AccessExit;
  assert.equal(y.qualification, 1 | 0x180);
});

// ---- 32-bit and PAE guest paging through EPT ---------------------------------------------------
/** 32-bit paging (CR4.PAE = 0): PD at 0x10000, PT at 0x11000 mapping linear 0-4 MiB identically. */
function paged32(code: number[]): EptGuest {
  const g = new EptGuest({ mode: 'protected', code });
  for (let i = 0; i < 1024; i++) {
    g.mem.write8(0x11000 + i * 4, 0x67);
    g.mem.write8(0x11000 + i * 4 + 1, (i << 4) & 0xf0);
    g.mem.write8(0x11000 + i * 4 + 2, (i >> 4) & 0xff);
  }
  g.w64(0x10000, 0x11000 + 0x27);
  g.cpu.cr3Lo = 0x10000;
  g.cpu.cr0 |= 0x80000000 | 0;
  g.cpu.flushTlb();
  return g;
}

test('32-bit guest paging through EPT: remapped data page', () => {
  const g = paged32([...loadEax32(0x5010), ...HLT]);
  g.ept.map(0x5000, 0x6000, 0x1000, {});
  g.mem.write8(0x6010, 0x4d);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.cpu.getReg64(0), 0x4dn);
});

test('32-bit guest paging through EPT: page-table page not readable -> walk violation at the PTE', () => {
  const g = paged32([...loadEax32(0x5010), ...HLT]);
  g.ept.map(0x11000, 0x11000, 0x1000, { perms: 4 });
  g.run();
  const e = g.exit;
  assert.equal(e.reason, 48);
  assert.equal(e.qual, 1 | (4 << 3) | 0x80);
  assert.equal(e.gpa, 0x11004n, 'the PTE of the code page 0x1000, read by the fetch walk');
  assert.equal(e.gla, 0x1000n);
});

/** PAE paging: PDPT at 0x10000 (CR3), PD at 0x11000, PT at 0x12000 mapping linear 0-2 MiB. */
function pagedPae(code: number[]): EptGuest {
  const g = new EptGuest({ mode: 'protected', code });
  g.w64(0x10000, 0x11000 + 1);
  g.w64(0x11000, 0x12000 + G_TABLE);
  for (let i = 0; i < 512; i++) g.w64(0x12000 + i * 8, i * 0x1000 + G_LEAF);
  g.cpu.cr4 |= 0x20;
  g.cpu.cr3Lo = 0x10000;
  g.cpu.cr0 |= 0x80000000 | 0;
  g.cpu.flushTlb();
  return g;
}

test('PAE guest paging through EPT: remapped data page', () => {
  const g = pagedPae([...loadEax32(0x5010), ...HLT]);
  g.ept.map(0x5000, 0x7000, 0x1000, {});
  g.mem.write8(0x7010, 0x3c);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.cpu.getReg64(0), 0x3cn);
});

test('PAE guest paging through EPT: page directory not readable -> walk violation at the PDE', () => {
  const g = pagedPae([...loadEax32(0x5010), ...HLT]);
  g.ept.map(0x11000, 0x11000, 0x1000, { perms: 0 });
  g.run();
  const e = g.exit;
  assert.equal(e.reason, 48);
  assert.equal(e.qual, 1 | 0x80);
  assert.equal(e.gpa, 0x11000n);
});

test('PAE guest: PDPTEs loaded through EPT from a remapped PDPT page', () => {
  const g = pagedPae([...loadEax32(0x5010), ...HLT]);
  // The PDPT's guest-physical page 0x10000 now lives at host 0x20000.
  for (let i = 0; i < 4; i++) g.w64(0x20000 + i * 8, Number(g.r64(0x10000 + i * 8)));
  g.w64(0x10000, 0); // the identity copy would not map anything
  g.ept.map(0x10000, 0x20000, 0x1000, {});
  assert.equal(loadPdptes(g.cpu, 0x10000), true);
  assert.equal(pdpteRegister(g.cpu, 0), 0x11001);
  g.mem.write8(0x5010, 0x21);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.cpu.getReg64(0), 0x21n);
});
