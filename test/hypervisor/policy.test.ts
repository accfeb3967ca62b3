import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CPUID, cpuidLookup } from '../../src/x86/cpuid';
import { guestCpuid, HYPERVISOR_SIGNATURE } from '../../src/hypervisor/cpuidPolicy';
import { xcr0Problem } from '../../src/hypervisor/xcr0';
import { EventQueue, interruptionTypeOf } from '../../src/hypervisor/eventQueue';

const g = { cr4: 0, xcr0: 1, xss: 0 };
function q(leaf: number, sub = 0, state = g): number[] {
  const out = new Int32Array(4);
  guestCpuid(DEFAULT_CPUID, leaf, sub, state, out);
  return Array.from(out, (v) => v >>> 0);
}

describe('built-in CPUID policy (reference §3 CPUID)', () => {
  it('leaf 1 clears VMX, sets the hypervisor bit, and OSXSAVE follows the guest CR4', () => {
    const base = cpuidLookup(DEFAULT_CPUID, 1, 0);
    const [, , ecx] = q(1);
    assert.equal((ecx >>> 5) & 1, 0);
    assert.equal((ecx >>> 31) & 1, 1);
    assert.equal((ecx >>> 27) & 1, 0);
    assert.equal((q(1, 0, { ...g, cr4: 1 << 18 })[2] >>> 27) & 1, 1);
    // Other bits are the model's.
    assert.equal(ecx & 0x7fffffdf & ~(1 << 27), (base[2] >>> 0) & 0x7fffffdf & ~(1 << 27));
  });
  it('leaf 7 subleaf 0 clears WAITPKG and LA57', () => {
    const [, , ecx] = q(7, 0);
    assert.equal((ecx >>> 5) & 1, 0);
    assert.equal((ecx >>> 16) & 1, 0);
    assert.equal((cpuidLookup(DEFAULT_CPUID, 7, 0)[2] >>> 16) & 1, 1, 'the model itself reports LA57');
  });
  it('hypervisor leaves carry the vendor signature and a zero leaf', () => {
    const [eax, ebx, ecx, edx] = q(0x40000000);
    assert.equal(eax, 0x40000001);
    const sig = Buffer.alloc(12);
    sig.writeUInt32LE(ebx, 0); sig.writeUInt32LE(ecx, 4); sig.writeUInt32LE(edx, 8);
    assert.equal(sig.toString('ascii'), HYPERVISOR_SIGNATURE);
    assert.deepEqual(q(0x40000001), [0, 0, 0, 0]);
  });
  it('leaf 0xD sizes follow XCR0', () => {
    assert.equal(q(0xd, 0, { ...g, xcr0: 3 })[1], 576);
    assert.equal(q(0xd, 1, { ...g, xcr0: 3 })[1], 576);
  });
});

describe('XCR0 validity (XSETBV rules)', () => {
  const all = 0xff;
  it('accepts the valid combinations', () => {
    for (const v of [1, 3, 7, 0x1f, 0xe7, 0xff]) assert.equal(xcr0Problem(v, 0, all, 0), null, `0x${v.toString(16)}`);
  });
  it('rejects each invalid rule with its reason', () => {
    assert.match(xcr0Problem(0, 0, all, 0)!, /x87/);
    assert.match(xcr0Problem(2, 0, all, 0)!, /x87/);
    assert.match(xcr0Problem(5, 0, all, 0)!, /AVX .* SSE/);
    assert.match(xcr0Problem(0x9, 0, all, 0)!, /BNDREG/);
    assert.match(xcr0Problem(0x11, 0, all, 0)!, /BNDREG/);
    assert.match(xcr0Problem(0x27, 0, all, 0)!, /together/);
    assert.match(xcr0Problem(0xe3, 0, all, 0)!, /requires AVX/);
    assert.match(xcr0Problem(7, 0, 3, 0)!, /not support/);
    assert.match(xcr0Problem(1, 1, all, 0)!, /not support/);
  });
});

describe('event queue (reference §5)', () => {
  it('types by vector as the seed does', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 6, 13, 31, 32, 255].map(interruptionTypeOf), [3, 5, 2, 6, 6, 3, 3, 3, 0, 0]);
  });
  it('injects exceptions at once with error codes where the vector has one', () => {
    const e = new EventQueue();
    e.queueEvent(13, 0x18);
    e.queueEvent(6);
    assert.deepEqual(e.decide(false, 3).inject, { info: 0x80000b0d | 0, errorCode: 0x18, length: 0 });
    assert.deepEqual(e.decide(false, 3).inject, { info: 0x80000306 | 0, errorCode: 0, length: 0 });
    assert.equal(e.length, 0);
    assert.deepEqual(e.decide(true, 0), {});
  });
  it('holds an external interrupt until IF = 1 and no STI/MOV-SS blocking', () => {
    const e = new EventQueue();
    e.queueEvent(0x30);
    assert.deepEqual(e.decide(false, 0), { interruptWindow: true });
    assert.deepEqual(e.decide(true, 1), { interruptWindow: true });
    assert.deepEqual(e.decide(true, 2), { interruptWindow: true });
    assert.equal(e.length, 1);
    assert.deepEqual(e.decide(true, 0).inject, { info: 0x80000030 | 0, errorCode: 0, length: 0 });
  });
  it('holds an NMI while NMIs are blocked (NMI window), only the front event counts', () => {
    const e = new EventQueue();
    e.queueEvent(2);
    e.queueEvent(14, 2);
    assert.deepEqual(e.decide(true, 8), { nmiWindow: true });
    assert.deepEqual(e.decide(true, 0).inject, { info: 0x80000202 | 0, errorCode: 0, length: 0 });
    assert.deepEqual(e.decide(true, 0).inject, { info: 0x80000b0e | 0, errorCode: 2, length: 0 });
  });
  it('software exceptions carry the instruction length; bad vectors are refused', () => {
    const e = new EventQueue();
    e.queueEvent(3);
    assert.deepEqual(e.decide(true, 0, 1).inject, { info: 0x80000603 | 0, errorCode: 0, length: 1 });
    assert.throws(() => e.queueEvent(256), /0-255/);
  });
});
