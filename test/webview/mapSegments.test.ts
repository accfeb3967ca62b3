/** The EPT map's geometry (pure): merged segments, bucketing of very fragmented maps, the compact scale. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactScale, linearScale, mergeSegments, permissionSegments } from '../../src/webview/ept/mapSegments';
import type { EptFlatReport, EptMapping } from '../../src/webview/protocol';

const hex = (n: number): string => `0x${n.toString(16)}`;
function mapping(start: number, end: number, permissions: string): EptMapping {
  return {
    gpaStart: hex(start), gpaEnd: hex(end), hpaStart: hex(start), hpaEnd: hex(end), size: end - start, pageSize: 4096, permissions,
    read: permissions[0] === 'R', write: permissions[1] === 'W', execute: permissions[2] === 'X', memoryType: 'WB', ignorePat: false, accessed: false, dirty: false,
  };
}
function report(mappings: EptMapping[], top: number): EptFlatReport {
  return {
    form: 'flat', eptEnabled: true, eptp: '0x1', mappings, top: hex(top),
    regions: [{ start: '0x0', end: hex(0x1000000), kind: 'ram', name: 'RAM', mapped: true }, { start: hex(0x1000000), end: hex(0xfee00000), kind: 'unmapped', mapped: false }, { start: hex(0xfee00000), end: hex(top), kind: 'mmio', name: 'local APIC', mapped: false }],
  };
}

test('touching segments of one permission merge; others stay apart', () => {
  const segs = mergeSegments([
    { start: 0, end: 10, cls: 'RWX', label: '' }, { start: 10, end: 20, cls: 'RWX', label: '' },
    { start: 20, end: 30, cls: 'R-X', label: '' }, { start: 40, end: 50, cls: 'R-X', label: '' },
  ], 100, 1000);
  assert.deepEqual(segs.map((s) => [s.start, s.end, s.cls]), [[0, 20, 'RWX'], [20, 30, 'R-X'], [40, 50, 'R-X']]);
});

test('a map of 8192 alternating 4 KiB pages becomes at most ~maxSegments segments, marked mixed', () => {
  const ms: EptMapping[] = [];
  for (let i = 0; i < 8192; i++) ms.push(mapping(i * 4096, (i + 1) * 4096, i % 2 === 0 ? 'RWX' : 'R-X'));
  const segs = permissionSegments(report(ms, 0xfee01000), 2000);
  assert.ok(segs.length <= 2000, String(segs.length));
  assert.ok(segs.every((s) => s.cls === 'mixed'));
  assert.equal(segs[0].start, 0);
  assert.equal(segs[segs.length - 1].end, 8192 * 4096);
});

test('the compact scale is monotonic, ends at 0 and 1, and gives a 4 KiB hole a visible share of 4 GiB', () => {
  const r = report([mapping(0, 0x1000000, 'RWX')], 0xfee01000);
  const s = compactScale(r);
  assert.equal(s.kind, 'compact');
  assert.equal(s.pos(0), 0);
  assert.equal(s.pos(0xfee01000), 1);
  let last = -1;
  for (let a = 0; a <= 0xfee01000; a += 0x1000000) {
    assert.ok(s.pos(a) >= last);
    last = s.pos(a);
  }
  assert.ok(s.pos(0xfee01000) - s.pos(0xfee00000) > 0.02);
  assert.ok(Math.abs(s.pos(0x800000) - s.pos(0x1000000) / 2) < 1e-9, 'linear inside a stretch');
  assert.deepEqual(s.ticks[0], 0);
  assert.equal(s.ticks[s.ticks.length - 1], 0xfee01000);
  const l = linearScale(0x1000);
  assert.equal(l.pos(0x800), 0.5);
});
