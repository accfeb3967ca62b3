/**
 * Properties of VMREAD/VMWRITE and of the VMCS pointer instructions (SDM vol. 3C §30.3, §24.11),
 * checked with fast-check against a reference written from the SDM's text:
 *  - VMWRITE succeeds exactly for the encodings of supported fields (§24.11.2: bit 0 access type,
 *    1 only for 64-bit fields; bit 12 reserved; bits above 14 zero), else VMfailValid(12);
 *  - VMREAD returns what VMWRITE stored, cut to the field width and to the operand size of the
 *    mode (natural-width and full 64-bit fields are 32 bits wide outside 64-bit mode);
 *  - any sequence of VMCLEAR/VMPTRLD/VMWRITE over a few regions keeps each VMCS's own data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { enterMode } from '../../src/x86/modes';
import { FIELD_BY_ENCODING, VMCS_FIELDS } from '../../src/vmx/fields';
import { CR4_VMXE, VMCS_A, VMCS_B, VMCS_C, enc, expectOk, root, st } from './vmxInstructionsKit';

/** Reference: the field an encoding names for VMREAD/VMWRITE (null: error 12). */
function refField(e: number): { width: number | 'natural'; high: boolean } | null {
  if (e < 0 || e > 0x7fff || (e & 0x1000) !== 0) return null;
  const f = FIELD_BY_ENCODING.get(e & ~1);
  if (f === undefined || !f.supported) return null;
  if ((e & 1) === 1 && f.width !== 64) return null;
  return { width: f.width, high: (e & 1) === 1 };
}

const encodingArb = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }),
  fc.constantFrom(...VMCS_FIELDS.map((f) => f.encoding)),
  fc.constantFrom(...VMCS_FIELDS.map((f) => f.encoding | 1)),
);

test('VMWRITE succeeds exactly for supported-field encodings (else VMfailValid 12)', () => {
  const k = root();
  fc.assert(fc.property(encodingArb, fc.integer(), (e, v) => {
    const want = refField(e) === null ? 'valid:12' : 'ok';
    assert.equal(st(k.engine.vmwrite(e, v, v)), want);
    k.engine.vmread(e);
    assert.equal(st(k.engine.lastStatus), want);
  }), { numRuns: 3000 });
});

for (const bits of [64, 32] as const) {
  test(`VMREAD returns what VMWRITE stored, at the field width, in ${bits}-bit mode`, () => {
    const k = root();
    if (bits === 32) {
      enterMode(k.cpu, 'protected');
      k.cpu.cr4 |= CR4_VMXE;
    }
    const supported = VMCS_FIELDS.filter((f) => f.supported);
    fc.assert(fc.property(fc.constantFrom(...supported), fc.boolean(), fc.integer(), fc.integer(), fc.integer(), fc.integer(),
      (f, high, lo0, hi0, lo, hi) => {
        const v = k.engine.current!;
        v.set64(f.index, lo0, hi0); // previous contents
        const e = high && f.width === 64 ? f.encoding | 1 : f.encoding;
        expectOk(k.engine.vmwrite(e, lo, hi));
        // Stored value (reference).
        let sLo: number, sHi: number;
        if (e & 1) { sLo = lo0; sHi = lo; } // access type 1: source bits 31:0 go to field bits 63:32
        else if (f.width === 16) { sLo = lo & 0xffff; sHi = 0; }
        else if (f.width === 32) { sLo = lo; sHi = 0; }
        else { sLo = lo; sHi = bits === 64 ? hi : 0; }
        assert.equal(v.lo[f.index], sLo | 0, `${f.name} lo`);
        assert.equal(v.hi[f.index], sHi | 0, `${f.name} hi`);
        // Read back.
        const r = k.engine.vmread(e);
        if (e & 1) {
          assert.equal(r, sHi | 0);
          assert.equal(k.engine.readHi, 0);
        } else {
          assert.equal(r, sLo | 0);
          assert.equal(k.engine.readHi, f.width === 64 || f.width === 'natural' ? (bits === 64 ? sHi | 0 : 0) : 0);
        }
      }), { numRuns: 3000 });
  });
}

test('Random VMCLEAR/VMPTRLD/VMWRITE sequences keep each VMCS its own data and launch state', () => {
  const regions = [VMCS_A, VMCS_B, VMCS_C];
  const fieldsUsed = ['GUEST_RIP', 'GUEST_RSP', 'EXCEPTION_BITMAP', 'HOST_RIP'].map(enc);
  type Op = { kind: 'clear' | 'load'; r: number } | { kind: 'write'; f: number; v: number } | { kind: 'launch' };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('clear' as const), r: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('load' as const), r: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('write' as const), f: fc.integer({ min: 0, max: 3 }), v: fc.integer({ min: 0, max: 0x7fffffff }) }),
    fc.constant({ kind: 'launch' as const }),
  );
  fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
    const k = root(false);
    // Reference model: data and launch state per region, and the current pointer.
    const data = regions.map(() => [0, 0, 0, 0]);
    const launched = regions.map(() => false);
    let cur = -1;
    for (const op of ops) {
      if (op.kind === 'clear') {
        expectOk(k.engine.vmclear(regions[op.r]));
        launched[op.r] = false;
        if (cur === op.r) cur = -1;
      } else if (op.kind === 'load') {
        expectOk(k.engine.vmptrld(regions[op.r]));
        cur = op.r;
      } else if (op.kind === 'write') {
        const s = k.engine.vmwrite(fieldsUsed[op.f], op.v);
        if (cur < 0) assert.equal(st(s), 'invalid');
        else data[cur][op.f] = op.v;
      } else if (cur >= 0) {
        // What a successful VMLAUNCH does to the launch state (§30.3).
        k.engine.current!.launched = true;
        launched[cur] = true;
      }
      assert.equal(k.engine.vmptrst(), cur < 0 ? -1 : regions[cur]);
    }
    for (let r = 0; r < 3; r++) {
      expectOk(k.engine.vmptrld(regions[r]));
      for (let f = 0; f < 4; f++) assert.equal(k.engine.vmread(fieldsUsed[f]), data[r][f]);
      assert.equal(k.engine.current!.launched, launched[r]);
    }
  }), { numRuns: 300 });
});
