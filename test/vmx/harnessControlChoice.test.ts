/**
 * controlChoice.ts: the SDM's algorithm for choosing control values from the capability MSRs
 * (vol. 3C appendix A.2-A.5, §31.5.1 algorithm 3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyFixed, choose, chooseControls, chooseOrThrow, MSR_VMX } from '../../src/vmx/controlChoice';
import type { CtlsMsr } from '../../src/vmx/controlChoice';
import { bitOf, PROC_BASED, PROC_BASED2, PIN_BASED } from '../../src/vmx/controlBits';

test('choose: must-be-1 bits are 1, must-be-0 bits are 0, wanted flexible bits 1 (§A.3)', () => {
  const msr = { lo: 0x16, hi: 0x7f }; // bits 1,2,4 fixed 1; bits 0,3,5,6 flexible; 7+ fixed 0
  const r = choose(msr, 0x9, 0, 0);
  assert.deepEqual(r, { ok: true, value: 0x1f });
});

test('choose: a wanted bit that must be 0 fails and names it', () => {
  const r = choose({ lo: 0x16, hi: 0x7f }, 0x80);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.mustBe0, 0x80);
    assert.match(r.error, /0x80 must be 0/);
  }
});

test('choose: an unwanted bit that must be 1 fails', () => {
  const r = choose({ lo: 0x16, hi: 0x7f }, 0, 0x4);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.mustBe1, 0x4);
});

test('choose: a bit both wanted and not wanted fails', () => {
  assert.equal(choose({ lo: 0, hi: -1 }, 1, 1).ok, false);
});

test('choose: flexible default1 bits not named are 1, other unnamed flexible bits 0 (§31.5.1)', () => {
  // TRUE MSR allows bit 1 (default1) and bit 3 to be 0; default1 class from the non-TRUE MSR = bit 1.
  const trueMsr = { lo: 0x4, hi: 0xf };
  assert.deepEqual(choose(trueMsr, 0, 0, 0x2), { ok: true, value: 0x6 });
  // Software that knows bit 1 and wants it 0 may clear it.
  assert.deepEqual(choose(trueMsr, 0, 0x2, 0x2), { ok: true, value: 0x4 });
});

test('chooseOrThrow throws with the field name', () => {
  assert.throws(() => chooseOrThrow('pin-based controls', { lo: 0, hi: 0 }, 1), /pin-based controls/);
});

test('choose (property): the value is allowed by the MSR and honours every request it accepts', () => {
  fc.assert(fc.property(fc.integer(), fc.integer(), fc.integer(), fc.integer(), fc.integer(), (a0, a1, w, n, d1) => {
    const msr: CtlsMsr = { lo: a0 & a1, hi: a1 }; // an MSR never forces a bit it does not allow
    const r = choose(msr, w & ~n, n & ~w, d1);
    const wanted = w & ~n, not = n & ~w;
    const feasible = (wanted & ~msr.hi) === 0 && (not & msr.lo) === 0;
    assert.equal(r.ok, feasible);
    if (r.ok) {
      assert.equal(r.value & msr.lo, msr.lo, 'allowed-0');
      assert.equal(r.value & ~msr.hi, 0, 'allowed-1');
      assert.equal(r.value & wanted, wanted);
      assert.equal(r.value & not, 0);
    }
  }));
});

function reader(table: Record<number, CtlsMsr>): (i: number) => CtlsMsr {
  return (i) => table[i] ?? { lo: 0, hi: 0 };
}

test('chooseControls: non-TRUE MSRs when IA32_VMX_BASIC[55] = 0; secondary activated on request', () => {
  const secondary = bitOf(PROC_BASED, 'ACTIVATE_SECONDARY_CONTROLS');
  const ept = bitOf(PROC_BASED2, 'ENABLE_EPT');
  const read = reader({
    [MSR_VMX.BASIC]: { lo: 1, hi: 0 },
    [MSR_VMX.PINBASED_CTLS]: { lo: 0x16, hi: 0x7f },
    [MSR_VMX.PROCBASED_CTLS]: { lo: 0x0401e172, hi: -1 },
    [MSR_VMX.PROCBASED_CTLS2]: { lo: 0, hi: 0xff },
    [MSR_VMX.EXIT_CTLS]: { lo: 0x36dff, hi: -1 },
    [MSR_VMX.ENTRY_CTLS]: { lo: 0x11ff, hi: -1 },
    // TRUE MSRs present but must be ignored (bit 55 clear).
    [MSR_VMX.TRUE_PINBASED_CTLS]: { lo: 0, hi: 0 },
  });
  const v = chooseControls(read, { pin: ['NMI_EXITING'], proc2: ['ENABLE_EPT'] });
  assert.equal(v.pin, 0x16 | bitOf(PIN_BASED, 'NMI_EXITING'));
  assert.equal(v.proc & secondary, secondary);
  assert.equal(v.proc2, ept);
  assert.equal(v.exit, 0x36dff);
  assert.equal(v.entry, 0x11ff);
  // Without a secondary request "activate secondary controls" stays 0 and proc2 is 0.
  const w = chooseControls(read, {});
  assert.equal(w.proc & secondary, 0);
  assert.equal(w.proc2, 0);
});

test('chooseControls: TRUE MSRs when IA32_VMX_BASIC[55] = 1, default1 class from the non-TRUE MSR', () => {
  const read = reader({
    [MSR_VMX.BASIC]: { lo: 1, hi: 1 << 23 },
    [MSR_VMX.PINBASED_CTLS]: { lo: 0x16, hi: 0x7f },
    [MSR_VMX.TRUE_PINBASED_CTLS]: { lo: 0x00, hi: 0x7f },
    [MSR_VMX.PROCBASED_CTLS]: { lo: 0x0401e172, hi: -1 },
    [MSR_VMX.TRUE_PROCBASED_CTLS]: { lo: 0x04006172, hi: -1 },
    [MSR_VMX.EXIT_CTLS]: { lo: 0x36dff, hi: -1 },
    [MSR_VMX.TRUE_EXIT_CTLS]: { lo: 0x36dfb, hi: -1 },
    [MSR_VMX.ENTRY_CTLS]: { lo: 0x11ff, hi: -1 },
    [MSR_VMX.TRUE_ENTRY_CTLS]: { lo: 0x11fb, hi: -1 },
  });
  // Unnamed: default1 bits still 1.
  const v = chooseControls(read, {});
  assert.equal(v.pin, 0x16);
  assert.equal(v.proc, 0x0401e172);
  assert.equal(v.exit, 0x36dff);
  // Named as not wanted: the TRUE MSR lets CR3-load exiting (bit 15) and pin bit 1 be 0.
  const w = chooseControls(read, { not: { proc: ['CR3_LOAD_EXITING'], pin: ['DEFAULT1_1'], exit: ['SAVE_DEBUG_CONTROLS'] } });
  assert.equal(w.proc, 0x0401e172 & ~(1 << 15));
  assert.equal(w.pin, 0x14);
  assert.equal(w.exit, 0x36dfb);
  // Not allowed even by the TRUE MSR: bit 4 of the primary controls.
  assert.throws(() => chooseControls(read, { not: { proc: ['DEFAULT1_4'] } }), /primary processor-based/);
});

test('chooseControls: an unknown control name is an error', () => {
  assert.throws(() => chooseControls(reader({}), { pin: ['NO_SUCH_BIT'] }), /no control bit named/);
});

test('applyFixed: FIXED0 bits set, FIXED1 zero bits cleared, relaxed bits left alone (§A.7, §26.3.1.1)', () => {
  assert.equal(applyFixed(0x10, 0x80000021 | 0, -1) >>> 0, 0x80000031);
  assert.equal(applyFixed(0x10, 0x80000021 | 0, -1, 0x80000001 | 0), 0x30);
  assert.equal(applyFixed(0xffff, 0x2000, 0x3fff), 0x3fff);
});

test('chooseControls on the modelled CPU (property): every modelled request is granted and allowed by the MSRs', async () => {
  const { vmx } = await import('./harness');
  const { ENTRY_CONTROLS, EXIT_CONTROLS } = await import('../../src/vmx/controlBits');
  const h = vmx();
  const read = (i: number): CtlsMsr => h.msr(i);
  const names = (t: typeof PIN_BASED) => t.filter((b) => b.modelled && b.default1 !== true).map((b) => b.name);
  const pick = (all: string[]) => fc.subarray(all);
  fc.assert(fc.property(
    pick(names(PIN_BASED)), pick(names(PROC_BASED)), pick(names(PROC_BASED2)), pick(names(EXIT_CONTROLS)), pick(names(ENTRY_CONTROLS)),
    (pin, proc, proc2, exit, entry) => {
      const v = chooseControls(read, { pin, proc, proc2, exit, entry });
      const useTrue = (read(MSR_VMX.BASIC).hi & (1 << 23)) !== 0;
      const check = (value: number, plain: number, tru: number, table: typeof PIN_BASED, want: string[]) => {
        const msr = read(useTrue ? tru : plain);
        assert.equal(value & msr.lo, msr.lo);
        assert.equal(value & ~msr.hi, 0);
        for (const n of want) assert.notEqual(value & bitOf(table, n), 0, n);
      };
      check(v.pin, MSR_VMX.PINBASED_CTLS, MSR_VMX.TRUE_PINBASED_CTLS, PIN_BASED, pin);
      check(v.proc, MSR_VMX.PROCBASED_CTLS, MSR_VMX.TRUE_PROCBASED_CTLS, PROC_BASED, proc);
      check(v.exit, MSR_VMX.EXIT_CTLS, MSR_VMX.TRUE_EXIT_CTLS, EXIT_CONTROLS, exit);
      check(v.entry, MSR_VMX.ENTRY_CTLS, MSR_VMX.TRUE_ENTRY_CTLS, ENTRY_CONTROLS, entry);
      const p2 = read(MSR_VMX.PROCBASED_CTLS2);
      assert.equal(v.proc2 & ~p2.hi, 0);
      for (const n of proc2) assert.notEqual(v.proc2 & bitOf(PROC_BASED2, n), 0, n);
      assert.equal((v.proc & bitOf(PROC_BASED, 'ACTIVATE_SECONDARY_CONTROLS')) !== 0, proc2.length > 0 || proc.includes('ACTIVATE_SECONDARY_CONTROLS'));
    },
  ), { numRuns: 200 });
});
