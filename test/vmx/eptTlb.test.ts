/**
 * Cached translations in VMX operation (SDM vol. 3C §28.3): the TLB tagged by VPID and EP4TA,
 * VM entry/exit rules with VPID on and off, INVEPT (§30.3) and INVVPID (§30.3) with their
 * VMfailValid(28) cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EptGuest, HLT, PT, G_LEAF, loadEax } from './eptKit';
import { eptOnVmExit, eptUnit, invept, invvpid } from '../../src/vmx/ept';
import { TaggedTlb } from '../../src/vmx/eptTlb';

const A = 0x5010;

/** Guest: read A into EAX, HLT, again, HLT, ... */
function guest(opts: { vpid?: number } = {}): EptGuest {
  const code: number[] = [];
  for (let i = 0; i < 4; i++) code.push(...loadEax(A), ...HLT);
  const g = new EptGuest({ ...opts, code });
  g.mem.write8(0x5010, 0x55);
  g.mem.write8(0x6010, 0x66);
  g.mem.write8(0x7010, 0x77);
  return g;
}

/** VM exit (in root operation now) and the host's work `f`, then VM entry and the next read. */
function roundTrip(g: EptGuest, f: () => void): { reason: string; eax: bigint } {
  g.cpu.nonRoot = false;
  eptOnVmExit(g.engine);
  f();
  g.enter();
  g.cpu.halted = false;
  const r = g.run();
  return { reason: r.reason, eax: g.cpu.getReg64(0) };
}

function first(g: EptGuest): void {
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.cpu.getReg64(0), 0x55n);
}

const eptp = (g: EptGuest): [number, number] => {
  const v = g.ept.eptp();
  return [v.lo, v.hi];
};

// ---- VPID off: entries and exits invalidate linear/combined mappings -------------------------
test('VPID off: a guest page-table change made while outside is seen after VM entry', () => {
  const g = guest();
  first(g);
  const r = roundTrip(g, () => g.w64(PT + 5 * 8, 0x6000 + G_LEAF));
  assert.equal(r.eax, 0x66n);
});

test('VPID off: the processor keeps one set of TLB arrays (no context swap)', () => {
  const g = guest();
  const arrays = g.cpu.tlbRLo;
  first(g);
  assert.equal(g.cpu.tlbRLo, arrays);
  g.cpu.nonRoot = false;
  eptOnVmExit(g.engine);
  assert.equal(g.cpu.tlbRLo, arrays);
  assert.ok(g.cpu.tlbRLo.every((x) => x === -1), 'VM exit invalidated the VPID-0 mappings');
});

test('VPID off: guest-physical mappings survive VM transitions until INVEPT', () => {
  const g = guest();
  first(g);
  let r = roundTrip(g, () => g.ept.map(0x5000, 0x7000, 0x1000, {}));
  assert.equal(r.eax, 0x55n, 'the cached guest-physical mapping is still used (allowed, §28.3.3.4)');
  r = roundTrip(g, () => assert.deepEqual(invept(g.engine, 1, ...eptp(g)), { status: 'succeed' }));
  assert.equal(r.eax, 0x77n);
});

// ---- VPID on: nothing invalidated by entries and exits ---------------------------------------
test('VPID on: a guest page-table change is not seen without INVVPID (combined mapping kept)', () => {
  const g = guest({ vpid: 1 });
  first(g);
  const r = roundTrip(g, () => g.w64(PT + 5 * 8, 0x6000 + G_LEAF));
  assert.equal(r.eax, 0x55n);
});

test('VPID on: INVVPID single-context drops the mappings of that VPID', () => {
  const g = guest({ vpid: 1 });
  first(g);
  const r = roundTrip(g, () => {
    g.w64(PT + 5 * 8, 0x6000 + G_LEAF);
    assert.deepEqual(invvpid(g.engine, 1, 1, 0, 0), { status: 'succeed' });
  });
  assert.equal(r.eax, 0x66n);
});

test('VPID on: INVVPID single-context of another VPID leaves the mappings', () => {
  const g = guest({ vpid: 1 });
  first(g);
  const r = roundTrip(g, () => {
    g.w64(PT + 5 * 8, 0x6000 + G_LEAF);
    invvpid(g.engine, 1, 2, 0, 0);
  });
  assert.equal(r.eax, 0x55n);
});

test('VPID on: INVVPID individual-address drops that page only', () => {
  const g = guest({ vpid: 3 });
  first(g);
  let r = roundTrip(g, () => {
    g.w64(PT + 5 * 8, 0x6000 + G_LEAF);
    invvpid(g.engine, 0, 3, 0x9000, 0);
  });
  assert.equal(r.eax, 0x55n, 'another page invalidated: the mapping of A stays');
  r = roundTrip(g, () => invvpid(g.engine, 0, 3, A, 0));
  assert.equal(r.eax, 0x66n);
});

test('VPID on: INVVPID all-context and single-context-retaining-globals drop the mappings', () => {
  for (const type of [2, 3]) {
    const g = guest({ vpid: 5 });
    first(g);
    const r = roundTrip(g, () => {
      g.w64(PT + 5 * 8, 0x6000 + G_LEAF);
      assert.deepEqual(invvpid(g.engine, type, type === 2 ? 0 : 5, 0, 0), { status: 'succeed' });
    });
    assert.equal(r.eax, 0x66n, `type ${type}`);
  }
});

test('VPID on: INVEPT single-context drops the combined mappings of that EPTP', () => {
  const g = guest({ vpid: 1 });
  first(g);
  const r = roundTrip(g, () => {
    g.ept.map(0x5000, 0x7000, 0x1000, {});
    invept(g.engine, 1, ...eptp(g));
  });
  assert.equal(r.eax, 0x77n);
});

test('VPID on: INVEPT single-context of another EPTP leaves the mappings; all-context drops them', () => {
  const g = guest({ vpid: 1 });
  first(g);
  let r = roundTrip(g, () => {
    g.ept.map(0x5000, 0x7000, 0x1000, {});
    assert.deepEqual(invept(g.engine, 1, 0x300000 | 0x1e, 0), { status: 'succeed' });
  });
  assert.equal(r.eax, 0x55n);
  r = roundTrip(g, () => assert.deepEqual(invept(g.engine, 2, 0, 0), { status: 'succeed' }));
  assert.equal(r.eax, 0x77n);
});

test('VPID on: the guest and the host have their own TLB arrays, swapped by entry and exit', () => {
  const g = guest({ vpid: 1 });
  const unit = eptUnit(g.engine);
  const guestArrays = g.cpu.tlbRLo;
  assert.equal(unit.tlb.currentVpid, 1);
  first(g);
  assert.ok(guestArrays.some((x) => x !== -1), 'the guest filled its set');
  g.cpu.nonRoot = false;
  eptOnVmExit(g.engine);
  assert.notEqual(g.cpu.tlbRLo, guestArrays);
  assert.equal(unit.tlb.currentVpid, 0);
  g.enter();
  assert.equal(g.cpu.tlbRLo, guestArrays, 'the same set comes back, entries intact');
  assert.ok(guestArrays.some((x) => x !== -1));
});

test('VPID on: different VPIDs and different EPTPs get different sets', () => {
  const g = guest({ vpid: 1 });
  const unit = eptUnit(g.engine);
  const s1 = g.cpu.tlbRLo;
  g.cpu.nonRoot = false;
  eptOnVmExit(g.engine);
  g.vmcs.write('VIRTUAL_PROCESSOR_ID', 2);
  g.enter();
  assert.notEqual(g.cpu.tlbRLo, s1);
  g.cpu.nonRoot = false;
  eptOnVmExit(g.engine);
  g.vmcs.write('EPT_POINTER', g.ept.eptpValue() + 0x1000n);
  g.vmcs.write('VIRTUAL_PROCESSOR_ID', 1);
  g.enter();
  assert.notEqual(g.cpu.tlbRLo, s1);
  assert.equal(unit.tlb.guestSets, 3);
});

test('a guest set re-entered after new code was translated drops its write mappings', () => {
  const g = guest({ vpid: 1 });
  const tlb = new TaggedTlb(g.cpu);
  tlb.enter(4, -1);
  g.cpu.tlbWLo[3] = 0x3000;
  tlb.exit();
  tlb.enter(4, -1);
  assert.equal(g.cpu.tlbWLo[3], 0x3000, 'nothing new translated: kept');
  tlb.exit();
  g.cpu.blocksTranslated++;
  tlb.enter(4, -1);
  assert.equal(g.cpu.tlbWLo[3], -1);
});

test('context switch recomputes the canonical-address shift from CR4.LA57', () => {
  const g = guest({ vpid: 1 });
  g.cpu.nonRoot = false;
  eptOnVmExit(g.engine);
  g.cpu.cr4 |= 1 << 12;
  g.enter();
  assert.equal(g.cpu.canonShift, 7);
  g.cpu.nonRoot = false;
  g.cpu.cr4 &= ~(1 << 12);
  eptOnVmExit(g.engine);
  assert.equal(g.cpu.canonShift, 16);
});

// ---- INVEPT / INVVPID operand checks (VMfailValid 28, §30.3) ----------------------------------
const fail28 = { status: 'failValid', error: 28 };
test('INVEPT: types 0 and 3 and beyond are not supported', () => {
  const g = guest();
  for (const t of [0, 3, 4, 0x7fffffff]) assert.deepEqual(invept(g.engine, t, ...eptp(g)), fail28, `type ${t}`);
});
test('INVEPT single-context with an invalid EPTP fails', () => {
  const g = guest();
  const [lo, hi] = eptp(g);
  assert.deepEqual(invept(g.engine, 1, (lo & ~7) | 1, hi), fail28);
  assert.deepEqual(invept(g.engine, 1, lo, 0x80), fail28);
  assert.deepEqual(invept(g.engine, 1, lo & ~0x38, hi), fail28);
});
test('INVEPT all-context ignores the descriptor', () => {
  const g = guest();
  assert.deepEqual(invept(g.engine, 2, -1, -1), { status: 'succeed' });
});
test('INVVPID: unsupported type fails', () => {
  const g = guest();
  for (const t of [4, 5, 255]) assert.deepEqual(invvpid(g.engine, t, 1, 0, 0), fail28);
});
test('INVVPID: descriptor bits 63:16 must be 0', () => {
  const g = guest();
  assert.deepEqual(invvpid(g.engine, 1, 0x10001, 0, 0), fail28);
  assert.deepEqual(invvpid(g.engine, 2, 0, 0, 0, 1), fail28);
});
test('INVVPID: VPID 0 fails for types 0, 1 and 3, not for type 2', () => {
  const g = guest();
  for (const t of [0, 1, 3]) assert.deepEqual(invvpid(g.engine, t, 0, 0, 0), fail28, `type ${t}`);
  assert.deepEqual(invvpid(g.engine, 2, 0, 0, 0), { status: 'succeed' });
});
test('INVVPID individual-address: the address must be canonical (57-bit linear addresses)', () => {
  const g = guest();
  assert.deepEqual(invvpid(g.engine, 0, 1, 0, 0x01000000), fail28);
  assert.deepEqual(invvpid(g.engine, 0, 1, 0, 0x7fffffff), fail28);
  assert.deepEqual(invvpid(g.engine, 0, 1, 0, 0x00800000), { status: 'succeed' });
  assert.deepEqual(invvpid(g.engine, 0, 1, 0, 0xff000000 | 0), { status: 'succeed' });
});
test('INVVPID single-context: any VPID but 0 succeeds', () => {
  const g = guest();
  assert.deepEqual(invvpid(g.engine, 1, 0xffff, 0, 0), { status: 'succeed' });
  assert.deepEqual(invvpid(g.engine, 3, 1, 0, 0), { status: 'succeed' });
});

test('guest-physical mappings cached without EPT A/D flags are not reused once EPTP enables them', () => {
  const g = guest();
  const code = [0x89, 0x04, 0x25, 0x10, 0x50, 0, 0, ...HLT, 0x89, 0x04, 0x25, 0x10, 0x50, 0, 0, ...HLT];
  g.mem.load(0x1000, Uint8Array.from(code));
  assert.equal(g.run().reason, 'hlt');
  assert.equal(g.ept.readEntry(A, 1) & 0x300n, 0n);
  const r = roundTrip(g, () => g.vmcs.write('EPT_POINTER', g.ept.eptpValue() | 0x40n));
  assert.equal(r.reason, 'hlt');
  assert.equal(g.ept.readEntry(A, 1) & 0x300n, 0x300n, 'the write set A and D');
});
