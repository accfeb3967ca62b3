/**
 * The debugger's address numbers (src/debugger/address.ts): a 64-bit linear address read as a
 * signed integer, so canonical upper-half addresses are exact (negative) numbers; shown as
 * unsigned 64-bit hex, parsed back from the full 64-bit form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addAddress, addressBig, addressFromHalves, addressOf, formatAddress, isAddress, nearestAddress, parseAddress,
} from '../../src/debugger/address';

/** Canonical 64-bit addresses of 4-level paging (bits 63:47 equal). */
const canonical48 = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 47n) - 1n }),
  fc.bigInt({ min: 0xffff800000000000n, max: 0xffffffffffffffffn }),
  fc.constantFrom(0n, 0x7fffffffffffn, 0xffff800000000000n, 0xffffffff80000000n, 0xffffffffffffffffn, 0xfffffffffffff000n),
);
/** LA57 upper-half addresses the debugger holds exactly (down to -2^53). */
const upper53 = fc.bigInt({ min: (1n << 64n) - (1n << 53n), max: (1n << 64n) - 1n });

test('parse(format(a)) === a for canonical addresses (and for every exact upper-half one)', () => {
  fc.assert(fc.property(fc.oneof(canonical48, upper53), (u) => {
    const a = addressOf(u);
    assert.ok(isAddress(a));
    assert.equal(addressBig(a), u);
    const text = formatAddress(a);
    assert.equal(text, `0x${u.toString(16)}`);
    assert.equal(parseAddress(text), a);
    assert.equal(parseAddress(text.toUpperCase().replace('0X', '0x')), a);
    assert.equal(addressFromHalves(Number(u & 0xffffffffn), Number(u >> 32n)), a);
    assert.equal(addressFromHalves(Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0), a);
    assert.equal(nearestAddress(u), a);
  }), { numRuns: 2000 });
});

test('upper-half addresses are negative numbers; lower-half and 32-bit ones are unchanged', () => {
  assert.equal(addressOf(0xffffffff80000000n), -0x80000000);
  assert.equal(addressOf(0xffffffffffffffffn), -1);
  assert.equal(addressOf(0xffff800000000000n), -(2 ** 47));
  assert.equal(addressOf(0x7fffffffffffn), 2 ** 47 - 1);
  assert.equal(addressOf(0xfee00000n), 0xfee00000);
  assert.equal(formatAddress(-0x80000000 + 0x1000), '0xffffffff80001000');
  assert.equal(formatAddress(0x1000), '0x1000');
  assert.equal(formatAddress(0xffffffff80001000n), '0xffffffff80001000');
  assert.equal(parseAddress('0xffffffff80001000'), -0x7ffff000);
  assert.equal(parseAddress('  4096 '), 4096);
  assert.equal(parseAddress('0xFFFF_FFFF_8000_1000'), -0x7ffff000);
  assert.equal(parseAddress('-4096'), -4096);
});

test('not addresses: malformed text, more than 64 bits, values the debugger cannot hold exactly', () => {
  for (const t of ['', 'x', '0x', '0x1g', '0x10000000000000000', '18446744073709551616', '1.5', '0xffffffff80001000 1']) assert.equal(parseAddress(t), undefined, t);
  // Non-canonical beyond ±2^53: a 64-bit value whose signed form needs more than 53 bits.
  for (const u of [1n << 53n, 0x0080000000001000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xff00000000000001n]) {
    assert.ok(Number.isNaN(addressOf(u)), u.toString(16));
    assert.ok(Number.isNaN(addressFromHalves(Number(u & 0xffffffffn), Number(u >> 32n))), u.toString(16));
    assert.equal(parseAddress(`0x${u.toString(16)}`), undefined);
  }
  // Shown anyway (a guest's non-canonical RIP): the nearest number, never an exception.
  assert.ok(Number.isFinite(nearestAddress(0x8000000000000000n)));
  assert.match(formatAddress(nearestAddress(0x8000000000000000n)), /^0x8000000000000000$/);
});

test('address arithmetic wraps at 2^64 like the processor\'s', () => {
  assert.equal(addAddress(addressOf(0xffffffffffffffffn), 1), 0);
  assert.equal(addAddress(0, -1), addressOf(0xffffffffffffffffn));
  assert.equal(formatAddress(addAddress(addressOf(0xffffffff80000ffen), 3)), '0xffffffff80001001');
  fc.assert(fc.property(canonical48, fc.integer({ min: -4096, max: 4096 }), (u, d) => {
    const r = BigInt.asUintN(64, u + BigInt(d));
    const canon = r < (1n << 47n) || r >= 0xffff800000000000n;
    if (canon) assert.equal(addressBig(addAddress(addressOf(u), d)), r);
  }));
});
