/**
 * APIC-access VM exits (SDM vol. 3C §29.4, qualification §27.2.1 table 27-6): an access whose
 * physical address (after EPT when it is on) falls in the APIC-access page exits with reason 44.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EptGuest, HLT, JMP_RAX, PT, G_LEAF, loadEax, movEax, storeEax } from './eptKit';
import { AccessExit, VIRTUALIZE_APIC_ACCESSES, invept } from '../../src/vmx/ept';
import { eventState } from '../../src/vmx/eventExitCore';
import { Access } from '../../src/x86/mmu';

const APIC_PAGE = 0x17000;

function apicGuest(code: number[], ept = true): EptGuest {
  const g = new EptGuest({ code, ept, proc2: VIRTUALIZE_APIC_ACCESSES });
  g.vmcs.write('APIC_ACCESS_ADDRESS', APIC_PAGE);
  return g;
}

test('APIC access (EPT off): a linear read of offset 080H -> exit 44, type 0', () => {
  const g = apicGuest([...loadEax(APIC_PAGE + 0x80), ...HLT], false);
  assert.equal(g.run().reason, 'vmexit');
  assert.equal(g.exit.reason, 44);
  assert.equal(g.exit.qual, 0x080);
  assert.equal(g.exit.ripLo, 0x1000);
});

test('APIC access (EPT off): a linear write of offset 0B0H -> type 1', () => {
  const g = apicGuest([...storeEax(APIC_PAGE + 0xb0), ...HLT], false);
  g.run();
  assert.equal(g.exit.reason, 44);
  assert.equal(g.exit.qual, (1 << 12) | 0xb0);
  assert.equal(g.mem.read8(APIC_PAGE + 0xb0), 0, 'nothing written');
});

test('APIC access: an instruction fetch from the page -> type 2, RIP at the fetched address', () => {
  const g = apicGuest([...movEax(APIC_PAGE + 0x10), ...JMP_RAX]);
  g.run();
  assert.equal(g.exit.reason, 44);
  assert.equal(g.exit.qual, (2 << 12) | 0x10);
  assert.equal(g.exit.ripLo, APIC_PAGE + 0x10);
});

test('APIC access with EPT: the host-physical address decides (GPA 0xfee00000 -> APIC page)', () => {
  const g = apicGuest([...loadEax(0x5020), ...HLT]);
  g.w64(PT + 5 * 8, 0xfee00000 + G_LEAF);
  g.ept.map(0xfee00000, APIC_PAGE, 0x1000, {});
  g.run();
  assert.equal(g.exit.reason, 44);
  assert.equal(g.exit.qual, 0x20);
});

test('APIC access with EPT: the guest-physical address equal to the APIC-access address does not exit when EPT maps it elsewhere', () => {
  const g = apicGuest([...loadEax(APIC_PAGE + 0x20), ...HLT]);
  g.ept.map(APIC_PAGE, 0x6000, 0x1000, {});
  g.mem.write8(0x6020, 0x31);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.cpu.getReg64(0), 0x31n);
});

test('an EPT violation comes before the APIC-access exit', () => {
  const g = apicGuest([...storeEax(APIC_PAGE + 0x80), ...HLT]);
  g.ept.map(APIC_PAGE, APIC_PAGE, 0x1000, { perms: 1 });
  g.run();
  assert.equal(g.exit.reason, 48);
});

test('a guest paging-structure access to the APIC-access page -> type 15 (guest-physical access)', () => {
  const g = apicGuest([...loadEax(0x5000), ...HLT]);
  // The guest page table (GPA 0x13000) lives in host page APIC_PAGE.
  for (let i = 0; i < 512; i++) g.w64(APIC_PAGE + i * 8, i * 0x1000 + G_LEAF);
  g.ept.map(PT, APIC_PAGE, 0x1000, {});
  g.run();
  assert.equal(g.exit.reason, 44);
  // The fetch's walk reads the PT entry of 0x1000 (offset 8) first.
  assert.equal(g.exit.qual, (15 << 12) | 8);
});

test('without "virtualize APIC accesses" the APIC-access page is ordinary memory', () => {
  const g = new EptGuest({ code: [...loadEax(APIC_PAGE + 0x80), ...HLT] });
  g.vmcs.write('APIC_ACCESS_ADDRESS', APIC_PAGE);
  g.mem.write8(APIC_PAGE + 0x80, 0x12);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.cpu.getReg64(0), 0x12n);
});

test('APIC-access translations are never cached: every access exits', () => {
  const g = apicGuest([...loadEax(APIC_PAGE + 0x80), ...loadEax(APIC_PAGE + 0x80), ...HLT]);
  g.run();
  assert.equal(g.exits.length, 1);
  g.cpu.setRip(0x1007);
  g.enter();
  g.run();
  assert.equal(g.exits.length, 2);
  assert.equal(g.exits[1].ripLo, 0x1007);
});

test('APIC access while an event is being delivered: type 3 (linear) and 10 (guest-physical)', () => {
  const g = apicGuest([...HLT]);
  eventState(g.engine).vecInfo = 0x80000420;
  const lin = g.translate(APIC_PAGE + 0x44, Access.Read | Access.System);
  assert.ok(lin instanceof AccessExit);
  assert.equal(lin.qualification, (3 << 12) | 0x44);
  // The guest page table in the APIC-access page: the walk's access is guest-physical.
  for (let i = 0; i < 512; i++) g.w64(APIC_PAGE + i * 8, i * 0x1000 + G_LEAF);
  g.ept.map(PT, APIC_PAGE, 0x1000, {});
  invept(g.engine, 2, 0, 0);
  g.cpu.flushTlb();
  const walk = g.translate(0x5000, Access.Write | Access.System);
  assert.ok(walk instanceof AccessExit);
  assert.equal(walk.qualification, (10 << 12) | 0x28);
  eventState(g.engine).vecInfo = 0;
});
