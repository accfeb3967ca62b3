/**
 * IA32_VMX_EPT_VPID_CAP and EPTP validity (SDM vol. 3C appendix A.10, §24.6.11, §26.2.1.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EPT_VPID_CAP, EPT_VPID_FEATURES, eptCap, eptpProblem, eptpValid } from '../../src/vmx/eptFeatures';
import { EptGuest } from './eptKit';

const MAXPHY = 39;
const ROOT = 0x700000;

test('EPT_VPID_CAP reports exactly the modelled features', () => {
  for (const f of EPT_VPID_FEATURES) assert.equal(eptCap(f.bit), f.modelled, f.name);
  // Appendix A.10 bits this model reports: exec-only 0, PWL4 6, PWL5 7, UC 8, WB 14, 2M 16,
  // 1G 17, INVEPT 20, A/D 21, single 25, all 26; INVVPID 32, types 40-43.
  assert.equal(EPT_VPID_CAP.lo >>> 0, (1 | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 14) | (1 << 16) | (1 << 17) | (1 << 20) | (1 << 21) | (1 << 25) | (1 << 26)) >>> 0);
  assert.equal(EPT_VPID_CAP.hi >>> 0, (1 | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11)) >>> 0);
  assert.equal(eptCap(22), false, 'advanced VM-exit information is not reported');
});

const valid: Array<[string, number, number]> = [
  ['WB, 4 levels', ROOT | 6 | (3 << 3), 0],
  ['UC, 4 levels', ROOT | 0 | (3 << 3), 0],
  ['WB, 5 levels', ROOT | 6 | (4 << 3), 0],
  ['WB, 4 levels, A/D', ROOT | 6 | (3 << 3) | 0x40, 0],
  ['root just below MAXPHYADDR', 0xfffff000 | 6 | (3 << 3), 0x7f],
];
for (const [name, lo, hi] of valid) {
  test(`EPTP valid: ${name}`, () => {
    assert.equal(eptpProblem(MAXPHY, lo | 0, hi), null);
    assert.equal(eptpValid(new EptGuest().engine, lo | 0, hi), true);
  });
}

const invalid: Array<[string, number, number, RegExp]> = [
  ['memory type 1 (WC)', ROOT | 1 | (3 << 3), 0, /memory type 1/],
  ['memory type 2', ROOT | 2 | (3 << 3), 0, /memory type 2/],
  ['memory type 3', ROOT | 3 | (3 << 3), 0, /memory type 3/],
  ['memory type 4 (WT)', ROOT | 4 | (3 << 3), 0, /memory type 4/],
  ['memory type 5 (WP)', ROOT | 5 | (3 << 3), 0, /memory type 5/],
  ['memory type 7', ROOT | 7 | (3 << 3), 0, /memory type 7/],
  ['walk length 1', ROOT | 6 | (0 << 3), 0, /walk length 1/],
  ['walk length 2', ROOT | 6 | (1 << 3), 0, /walk length 2/],
  ['walk length 3', ROOT | 6 | (2 << 3), 0, /walk length 3/],
  ['walk length 6', ROOT | 6 | (5 << 3), 0, /walk length 6/],
  ['walk length 8', ROOT | 6 | (7 << 3), 0, /walk length 8/],
  ['bit 7 (shadow stack not reported)', ROOT | 6 | (3 << 3) | 0x80, 0, /bit 7/],
  ['bit 8', ROOT | 6 | (3 << 3) | 0x100, 0, /11:8/],
  ['bit 11', ROOT | 6 | (3 << 3) | 0x800, 0, /11:8/],
  ['bit 39 (= MAXPHYADDR)', ROOT | 6 | (3 << 3), 0x80, /63:39/],
  ['bit 63', ROOT | 6 | (3 << 3), 0x80000000 | 0, /63:39/],
];
for (const [name, lo, hi, re] of invalid) {
  test(`EPTP invalid: ${name}`, () => {
    assert.match(eptpProblem(MAXPHY, lo | 0, hi) ?? 'valid', re);
    assert.equal(eptpValid(new EptGuest().engine, lo | 0, hi), false);
  });
}
