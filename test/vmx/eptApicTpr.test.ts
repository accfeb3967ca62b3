/**
 * TPR virtualization through the APIC-access page (SDM vol. 3C §29.4.2 reads, §29.4.3 writes and
 * APIC-write emulation, §29.1.2 TPR virtualization): with "use TPR shadow" = 1 a linear data
 * access of at most 32 bits at offset 080H goes to the virtual-APIC page instead of exiting;
 * every other access to the APIC-access page still exits (reason 44, §27.2.1 qualification).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EptGuest, G_LEAF, HLT, JMP_RAX, PT, addMem, loadEax, movEax, storeEax } from './eptKit';
import { AccessExit, VIRTUALIZE_APIC_ACCESSES, invept } from '../../src/vmx/ept';
import { eventState } from '../../src/vmx/eventExitCore';
import { Access } from '../../src/x86/mmu';
import { updateDebugState } from '../../src/x86/debugRegs';
import { PROC_BASED, bitOf } from '../../src/vmx/controlBits';
import { Exit } from '../../src/vmx/exitReasons';

const APIC_PAGE = 0x17000;
const VAPIC = 0x18000;
const TPR_SHADOW = bitOf(PROC_BASED, 'USE_TPR_SHADOW');

const d32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
/** mov al, [abs32] / mov [abs32], al / mov ax, [abs32] / mov [abs32], ax / mov rax, [abs32] / mov [abs32], rax. */
const loadAl = (a: number): number[] => [0x8a, 0x04, 0x25, ...d32(a)];
const storeAl = (a: number): number[] => [0x88, 0x04, 0x25, ...d32(a)];
const loadAx = (a: number): number[] => [0x66, 0x8b, 0x04, 0x25, ...d32(a)];
const storeAx = (a: number): number[] => [0x66, 0x89, 0x04, 0x25, ...d32(a)];
const loadRax = (a: number): number[] => [0x48, 0x8b, 0x04, 0x25, ...d32(a)];
const storeRax = (a: number): number[] => [0x48, 0x89, 0x04, 0x25, ...d32(a)];
/** mov ebx, eax. */
const MOV_EBX_EAX = [0x89, 0xc3];

interface Opts {
  ept?: boolean;
  tprShadow?: boolean;
  threshold?: number;
  /** VTPR bytes 80H-83H before the run. */
  vtpr?: number[];
}

function tprGuest(code: number[], o: Opts = {}): EptGuest {
  const g = new EptGuest({ code, ept: o.ept ?? true, proc2: VIRTUALIZE_APIC_ACCESSES });
  g.vmcs.write('APIC_ACCESS_ADDRESS', APIC_PAGE);
  g.vmcs.write('VIRTUAL_APIC_ADDRESS', VAPIC);
  g.vmcs.write('TPR_THRESHOLD', o.threshold ?? 0);
  if (o.tprShadow ?? true) g.engine.proc |= TPR_SHADOW;
  const v = o.vtpr ?? [0x5a, 0x11, 0x22, 0x33];
  v.forEach((b, k) => g.mem.write8(VAPIC + 0x80 + k, b));
  // The APIC-access page itself holds something else: a virtualized access never sees it.
  for (let k = 0; k < 0x400; k++) g.mem.write8(APIC_PAGE + k, 0xee);
  return g;
}

const rax = (g: EptGuest): bigint => g.cpu.getReg64(0);

// ---- reads (§29.4.2) --------------------------------------------------------------------------

for (const ept of [true, false]) {
  test(`VTPR read (EPT ${ept ? 'on' : 'off'}): a dword read of offset 080H returns the virtual-APIC page's dword, no exit`, () => {
    const g = tprGuest([...loadEax(APIC_PAGE + 0x80), ...HLT], { ept });
    assert.equal(g.run().reason, 'hlt');
    assert.equal(g.exits.length, 0);
    assert.equal(rax(g), 0x3322115an);
  });
}

test('VTPR read: a byte and a word read of offset 080H return the low byte / word of VTPR', () => {
  const g = tprGuest([...loadAl(APIC_PAGE + 0x80), ...MOV_EBX_EAX, ...loadAx(APIC_PAGE + 0x80), ...HLT]);
  g.cpu.setReg64(0, 0n);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.exits.length, 0);
  assert.equal(g.cpu.getReg64(3), 0x5an);
  assert.equal(rax(g) & 0xffffn, 0x115an);
});

test('VTPR read: a quadword read of offset 080H (more than 32 bits) exits, type 0, offset 080H', () => {
  const g = tprGuest([...loadRax(APIC_PAGE + 0x80), ...HLT]);
  g.run();
  assert.equal(g.exit.reason, Exit.ApicAccess);
  assert.equal(g.exit.qual, 0x080);
  assert.equal(g.exit.ripLo, 0x1000);
});

for (const [off, load, what] of [
  [0x81, loadAl, 'a byte at 081H (inside the TPR, not its offset)'],
  [0x82, loadAx, 'a word at 082H'],
  [0x7f, loadEax, 'a dword at 07FH that overlaps 080H-082H'],
  [0x7e, loadEax, 'a dword at 07EH that overlaps 080H-081H'],
  [0x84, loadEax, 'a dword at 084H (beyond the TPR)'],
  [0x90, loadEax, 'a dword at 090H'],
  [0x300, loadEax, 'a dword at 300H (ICR)'],
  [0x20, loadEax, 'a dword at 020H (APIC ID)'],
] as Array<[number, (a: number) => number[], string]>) {
  test(`VTPR read: ${what} exits with today's qualification (type 0, offset ${off.toString(16)}H)`, () => {
    const g = tprGuest([...load(APIC_PAGE + off), ...HLT]);
    g.run();
    assert.equal(g.exit.reason, Exit.ApicAccess);
    assert.equal(g.exit.qual, off);
    assert.equal(g.exit.ripLo, 0x1000);
  });
}

test('"use TPR shadow" = 0: a read of offset 080H exits (type 0)', () => {
  const g = tprGuest([...loadEax(APIC_PAGE + 0x80), ...HLT], { tprShadow: false });
  g.run();
  assert.equal(g.exit.reason, Exit.ApicAccess);
  assert.equal(g.exit.qual, 0x080);
});

test('"use TPR shadow" = 0: a write of offset 080H exits (type 1); nothing written anywhere', () => {
  const g = tprGuest([...movEax(0x40), ...storeEax(APIC_PAGE + 0x80), ...HLT], { tprShadow: false });
  g.run();
  assert.equal(g.exit.reason, Exit.ApicAccess);
  assert.equal(g.exit.qual, (1 << 12) | 0x080);
  assert.equal(g.r32(VAPIC + 0x80), 0x3322115a);
  assert.equal(g.r32(APIC_PAGE + 0x80), 0xeeeeeeee);
});

test('an instruction fetch at offset 080H exits (type 2), with the TPR shadow', () => {
  const g = tprGuest([...movEax(APIC_PAGE + 0x80), ...JMP_RAX]);
  g.run();
  assert.equal(g.exit.reason, Exit.ApicAccess);
  assert.equal(g.exit.qual, (2 << 12) | 0x080);
  assert.equal(g.exit.ripLo, APIC_PAGE + 0x80);
});

// ---- the processor's TLB --------------------------------------------------------------------------

test('TLB: a virtualized read of offset 080H leaves no mapping behind — 300H of the same page then exits', () => {
  const g = tprGuest([...loadEax(APIC_PAGE + 0x80), ...MOV_EBX_EAX, ...loadEax(APIC_PAGE + 0x300), ...HLT]);
  g.run();
  assert.equal(g.cpu.getReg64(3), 0x3322115an, 'the first read was virtualized');
  assert.equal(g.exit.reason, Exit.ApicAccess);
  assert.equal(g.exit.qual, 0x300);
  assert.equal(g.exit.ripLo, 0x1000 + 7 + 2);
});

test('TLB: a virtualized write of offset 080H leaves no mapping behind — a write of 0B0H then exits', () => {
  const g = tprGuest([...movEax(0x70), ...storeEax(APIC_PAGE + 0x80), ...storeEax(APIC_PAGE + 0xb0), ...HLT]);
  g.run();
  assert.equal(g.r32(VAPIC + 0x80), 0x70);
  assert.equal(g.exit.reason, Exit.ApicAccess);
  assert.equal(g.exit.qual, (1 << 12) | 0xb0);
  assert.equal(g.r32(VAPIC + 0xb0), 0, 'nothing written to the virtual-APIC page at 0B0H');
  assert.equal(g.r32(APIC_PAGE + 0xb0), 0xeeeeeeee);
});

test('TLB: reads of offset 080H in a loop each see the virtual-APIC page as it is now', () => {
  // Read, then the host changes VTPR between runs; the second read must not use a stale page.
  const g = tprGuest([...loadEax(APIC_PAGE + 0x80), ...HLT, ...loadEax(APIC_PAGE + 0x80), ...HLT]);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(rax(g), 0x3322115an);
  g.mem.write8(VAPIC + 0x80, 0x77);
  g.cpu.halted = false;
  assert.equal(g.run().reason, 'hlt');
  assert.equal(rax(g), 0x33221177n);
  assert.equal(g.exits.length, 0);
});

// ---- writes (§29.4.3) and APIC-write emulation ----------------------------------------------------

test('VTPR write: a dword write of offset 080H goes to the virtual-APIC page; bytes 081H-083H are then cleared', () => {
  const g = tprGuest([...movEax(0x12345678), ...storeEax(APIC_PAGE + 0x80), ...loadEax(APIC_PAGE + 0x80), ...HLT]);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.exits.length, 0);
  assert.equal(g.r32(VAPIC + 0x80), 0x78);
  assert.equal(rax(g), 0x78n, 'the next instruction reads the emulated VTPR');
  assert.equal(g.r32(APIC_PAGE + 0x80), 0xeeeeeeee, 'the APIC-access page is untouched');
});

test('VTPR write: a byte write of offset 080H writes VTPR[7:0] and clears bytes 081H-083H', () => {
  const g = tprGuest([...movEax(0x40), ...storeAl(APIC_PAGE + 0x80), ...HLT], { vtpr: [0x5a, 0xff, 0xff, 0xff] });
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.r32(VAPIC + 0x80), 0x40);
  assert.equal(g.r32(VAPIC + 0x84), 0, 'bytes past the TPR untouched');
});

test('VTPR write: a word write of offset 080H', () => {
  const g = tprGuest([...movEax(0xabcd), ...storeAx(APIC_PAGE + 0x80), ...HLT], { vtpr: [0, 0, 0xff, 0xff] });
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.r32(VAPIC + 0x80), 0xcd);
});

test('VTPR write: a read-modify-write (ADD dword [080H], 1) reads and writes the virtual-APIC page', () => {
  const g = tprGuest([...addMem(APIC_PAGE + 0x80), ...HLT], { vtpr: [0x4f, 0x01, 0, 0] });
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.exits.length, 0);
  assert.equal(g.r32(VAPIC + 0x80), 0x50, '0x14f + 1 = 0x150, bytes 081H-083H then cleared');
});

test('VTPR write: a quadword write of offset 080H exits (type 1); nothing written', () => {
  const g = tprGuest([...movEax(0x10), ...storeRax(APIC_PAGE + 0x80), ...HLT]);
  g.run();
  assert.equal(g.exit.reason, Exit.ApicAccess);
  assert.equal(g.exit.qual, (1 << 12) | 0x80);
  assert.equal(g.exit.ripLo, 0x1005);
  assert.equal(g.r32(VAPIC + 0x80), 0x3322115a);
});

for (const [off, store, what] of [
  [0x81, storeAl, 'a byte at 081H'],
  [0x82, storeAx, 'a word at 082H'],
  [0x7f, storeEax, 'a dword at 07FH overlapping the TPR'],
  [0xb0, storeEax, 'a dword at 0B0H (EOI)'],
  [0x300, storeEax, 'a dword at 300H (ICR)'],
] as Array<[number, (a: number) => number[], string]>) {
  test(`VTPR write: ${what} exits (type 1, offset ${off.toString(16)}H); nothing written`, () => {
    const g = tprGuest([...movEax(0x10), ...store(APIC_PAGE + off), ...HLT]);
    g.run();
    assert.equal(g.exit.reason, Exit.ApicAccess);
    assert.equal(g.exit.qual, (1 << 12) | off);
    assert.equal(g.r32(VAPIC + 0x80), 0x3322115a);
  });
}

test('TPR below threshold: VTPR[7:4] < threshold after the write -> trap-like exit 43 with the next RIP', () => {
  const g = tprGuest([0x90, ...movEax(0x3f), ...storeEax(APIC_PAGE + 0x80), ...HLT], { threshold: 4 });
  g.run();
  assert.equal(g.exit.reason, Exit.TprBelowThreshold);
  assert.equal(g.exit.qual, 0);
  assert.equal(g.exit.ripLo, 0x1000 + 1 + 5 + 7, 'RIP after the store');
  assert.equal(g.r32(VAPIC + 0x80), 0x3f, 'the write and the emulation completed');
  assert.equal(g.cpu.icount, 4, 'NOP, MOV and the store retired, plus the exit');
});

test('TPR below threshold: VTPR[7:4] equal to the threshold does not exit', () => {
  const g = tprGuest([...movEax(0x40), ...storeEax(APIC_PAGE + 0x80), ...HLT], { threshold: 4 });
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.exits.length, 0);
});

test('TPR below threshold: only VTPR[7:4] counts (bits 3:0 and the cleared bytes do not)', () => {
  // 0x0000014f: bits 7:4 = 4; byte 081H (0x01) is cleared by the emulation; threshold 5 -> exit.
  const g = tprGuest([...movEax(0x14f), ...storeEax(APIC_PAGE + 0x80), ...HLT], { threshold: 5 });
  g.run();
  assert.equal(g.exit.reason, Exit.TprBelowThreshold);
  assert.equal(g.r32(VAPIC + 0x80), 0x4f);
});

test('a read of VTPR never triggers TPR virtualization (no exit even below the threshold)', () => {
  const g = tprGuest([...loadEax(APIC_PAGE + 0x80), ...HLT], { threshold: 15, vtpr: [0x10, 0, 0, 0] });
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.exits.length, 0);
});

test('a virtualized write ends its block after the instruction, and the block stays translated (a loop of 50 writes)', () => {
  // mov ecx, 50; L: inc eax; mov [080H], eax; mov ebx, [080H]; dec ecx; jnz L; hlt
  const store = storeEax(APIC_PAGE + 0x80);
  const load = [0x8b, 0x1c, 0x25, ...d32(APIC_PAGE + 0x80)];
  const body = [0xff, 0xc0, ...store, ...load, 0xff, 0xc9];
  const code = [0xb9, ...d32(50), ...body, 0x75, (256 - (body.length + 2)) & 0xff, ...HLT];
  const g = tprGuest(code, { threshold: 0 });
  g.cpu.setReg64(0, 0x1f0n);
  assert.equal(g.run(10_000).reason, 'hlt');
  assert.equal(g.exits.length, 0);
  assert.equal(g.r32(VAPIC + 0x80), (0x1f0 + 50) & 0xff, 'the last write, bytes 081H-083H cleared');
  assert.equal(g.cpu.getReg64(3), BigInt((0x1f0 + 50) & 0xff), 'the load after each write sees the emulated VTPR');
  assert.ok(g.cpu.blocksTranslated < 10, `blocks translated: ${g.cpu.blocksTranslated}`);
});

test('a virtualized write into its own block\'s code (the virtual-APIC page holds code) drops that block for good', () => {
  // Virtual-APIC page = the code page 0x1000: the write of offset 080H lands on the block's own
  // first instruction. The block the write ends must not come back with the old bytes.
  const g = new EptGuest({ code: [], proc2: VIRTUALIZE_APIC_ACCESSES });
  g.vmcs.write('APIC_ACCESS_ADDRESS', APIC_PAGE);
  g.vmcs.write('VIRTUAL_APIC_ADDRESS', 0x1000);
  g.engine.proc |= TPR_SHADOW;
  // 0x1080: mov ebx, 0x01000000 (BB 00 00 00 01: bytes 081H-083H are 0, which APIC-write
  // emulation clears anyway); mov [APIC_PAGE + 080H], al; hlt. AL = B9 makes it mov ecx, 0x01000000.
  g.mem.load(0x1080, Uint8Array.from([0xbb, 0, 0, 0, 0x01, ...storeAl(APIC_PAGE + 0x80), ...HLT]));
  g.cpu.setRip(0x1080);
  g.cpu.setReg64(0, 0xb9n);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.cpu.getReg64(3), 0x01000000n, 'first run: the old instruction');
  assert.equal(g.mem.read8(0x1080), 0xb9);
  g.cpu.setReg64(3, 0n);
  g.cpu.halted = false;
  g.cpu.setRip(0x1080);
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.exits.length, 0);
  assert.equal(g.cpu.getReg64(3), 0n, 'second run: not the stale block');
  assert.equal(g.cpu.getReg64(1), 0x01000000n, 'the new instruction (mov ecx, 0x01000000) ran');
});

test('with the TPR shadow, a guest-physical access to offset 080H (the guest page walk) still exits: type 15', () => {
  const g = tprGuest([...HLT]);
  // The guest page table (GPA 0x13000) in host page APIC_PAGE: entry 16 (offset 080H) maps 0x10000.
  for (let i = 0; i < 512; i++) g.w64(APIC_PAGE + i * 8, i * 0x1000 + G_LEAF);
  g.ept.map(PT, APIC_PAGE, 0x1000, {});
  invept(g.engine, 2, 0, 0);
  g.cpu.flushTlb();
  assert.throws(() => g.cpu.translate(0x10000, 0, Access.Read, 4), (e: unknown) =>
    e instanceof AccessExit && e.reason === Exit.ApicAccess && e.qualification === ((15 << 12) | 0x80));
});

test('with the TPR shadow, an access to offset 080H while an event is delivered still exits: type 3', () => {
  const g = tprGuest([...HLT]);
  eventState(g.engine).vecInfo = 0x80000420;
  assert.throws(() => g.cpu.translate(APIC_PAGE + 0x80, 0, Access.Write, 4), (e: unknown) =>
    e instanceof AccessExit && e.qualification === ((3 << 12) | 0x80));
  eventState(g.engine).vecInfo = 0;
  assert.equal(g.cpu.translate(APIC_PAGE + 0x80, 0, Access.Read, 4), -1 - (VAPIC + 0x80),
    'outside delivery: virtualized, redirected for this access only (not to be cached)');
});

test('an access of unknown size at offset 080H (a byte-wise or system access: size 0) exits', () => {
  const g = tprGuest([...HLT]);
  assert.throws(() => g.cpu.translate(APIC_PAGE + 0x80, 0, Access.Read), (e: unknown) =>
    e instanceof AccessExit && e.qualification === 0x80);
  assert.throws(() => g.cpu.translate(APIC_PAGE + 0x80, 0, Access.Read | Access.System), (e: unknown) =>
    e instanceof AccessExit && e.qualification === 0x80);
});

test('a data breakpoint on the page (the MMU slow path) changes nothing: 080H virtualized, a quadword still exits', () => {
  // DR0 = APIC_PAGE + 0x100 (R/W = 11, 4 bytes, L0): the page stays out of the TLB, so every
  // access takes the slow path, which must pass the whole access's size as the fast path does.
  const arm = (g: EptGuest): void => {
    g.cpu.drLo[0] = APIC_PAGE + 0x100;
    g.cpu.dr7 = 0x400 | 1 | (3 << 16) | (3 << 18);
    updateDebugState(g.cpu);
  };
  const r = tprGuest([...loadEax(APIC_PAGE + 0x80), ...MOV_EBX_EAX, ...movEax(0x21), ...storeAl(APIC_PAGE + 0x80), ...HLT], { threshold: 3 });
  arm(r);
  r.run();
  assert.equal(r.cpu.getReg64(3), 0x3322115an, 'read through the slow path');
  assert.equal(r.exit.reason, Exit.TprBelowThreshold, 'write through the slow path, emulated after it');
  assert.equal(r.r32(VAPIC + 0x80), 0x21);
  const q = tprGuest([...loadRax(APIC_PAGE + 0x80), ...HLT]);
  arm(q);
  q.run();
  assert.equal(q.exit.reason, Exit.ApicAccess);
  assert.equal(q.exit.qual, 0x80);
  const w = tprGuest([...storeRax(APIC_PAGE + 0x80), ...HLT]);
  arm(w);
  w.run();
  assert.equal(w.exit.qual, (1 << 12) | 0x80);
});
