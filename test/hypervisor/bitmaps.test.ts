import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ioBitmapSays, ioBitmaps, msrBitmap, msrBitmapSays } from '../../src/hypervisor/bitmaps';
import { SEED_INTERCEPTION } from '../../src/hypervisor/interception';

describe('I/O and MSR bitmaps (reference §2, §4)', () => {
  it('the seed intercepts only port 0x604', () => {
    const { a, b } = ioBitmaps(SEED_INTERCEPTION);
    for (let p = 0; p < 0x10000; p++) assert.equal(ioBitmapSays(a, b, p), p === 0x604, `port ${p}`);
    assert.equal(a[0x604 >> 3], 1 << (0x604 & 7));
  });
  it('uses the whole page of each bitmap (the crate indexed only the first 1 KiB)', () => {
    const { a, b } = ioBitmaps({ ...SEED_INTERCEPTION, io: [[0x7ff8, 0x7fff], [0xfff0, 0xffff]] });
    assert.equal(a[0xfff], 0xff);
    assert.equal(b[0xffe], 0xff);
    assert.equal(ioBitmapSays(a, b, 0x7ff7), false);
  });
  it('the seed intercepts MSR 0xE1 and the x2APIC range for reads and writes; others pass', () => {
    const page = msrBitmap(SEED_INTERCEPTION);
    for (const [m, want] of [[0xe1, true], [0x800, true], [0x83f, true], [0x840, false], [0x10, false], [0xc0000080, false]] as const) {
      assert.equal(msrBitmapSays(page, m, false), want, `read 0x${m.toString(16)}`);
      assert.equal(msrBitmapSays(page, m, true), want, `write 0x${m.toString(16)}`);
    }
    assert.equal(msrBitmapSays(page, 0x40000000, false), true, 'outside both ranges: always exits');
  });
  it("'all' sets every bit", () => {
    const { a, b } = ioBitmaps({ ...SEED_INTERCEPTION, io: 'all' });
    assert.ok(a.every((x) => x === 0xff) && b.every((x) => x === 0xff));
    assert.ok(msrBitmap({ ...SEED_INTERCEPTION, msrs: 'all' }).every((x) => x === 0xff));
  });
});
