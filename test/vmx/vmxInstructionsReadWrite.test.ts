/**
 * VMREAD and VMWRITE (SDM vol. 3C §30.3; encodings §24.11.2, appendix B): widths, access type 1
 * (the high half of 64-bit fields), operand size by mode (natural-width and 64-bit fields
 * outside 64-bit mode), unsupported components (error 12), read-only fields (error 13 unless
 * IA32_VMX_MISC[29]), VMfailInvalid without a current VMCS, and the write epochs VM entry uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enterMode } from '../../src/x86/modes';
import { VMCS_FIELDS } from '../../src/vmx/fields';
import { GROUP_OF_INDEX } from '../../src/vmx/vmcs';
import { MISC_LO } from '../../src/vmx/capabilities';
import { CR4_VMXE, GP, UD, enc, expectOk, fault, host, root, st } from './vmxInstructionsKit';

/** Switch the (root-operation) processor to 32-bit protected mode: operand size 32. */
function mode32(k: ReturnType<typeof root>): void {
  enterMode(k.cpu, 'protected');
  k.cpu.cr4 |= CR4_VMXE;
}

test('VMREAD/VMWRITE without a current VMCS: VMfailInvalid', () => {
  const k = root(false);
  assert.equal(st(k.engine.vmwrite(enc('GUEST_RIP'), 1)), 'invalid');
  assert.equal(k.engine.vmread(enc('GUEST_RIP')), 0);
  assert.equal(st(k.engine.lastStatus), 'invalid');
  assert.throws(() => k.engine.vmread64(enc('GUEST_RIP')), /VMfailInvalid/);
});

test('VMREAD/VMWRITE: #UD outside VMX operation, #GP(0) at CPL 3, #UD in virtual-8086 mode', () => {
  const h = host();
  assert.equal(fault(() => h.engine.vmread(enc('GUEST_RIP'))), UD);
  assert.equal(fault(() => h.engine.vmwrite(enc('GUEST_RIP'), 0)), UD);
  const k = root();
  k.cpu.cpl = 3;
  assert.equal(fault(() => k.engine.vmread(enc('GUEST_RIP'))), GP);
  assert.equal(fault(() => k.engine.vmwrite(enc('GUEST_RIP'), 0)), GP);
  k.cpu.cpl = 0;
  k.cpu.flagsRest |= 1 << 17;
  assert.equal(fault(() => k.engine.vmread(enc('GUEST_RIP'))), UD);
});

const unsupportedEncodings: [string, number][] = [
  ['an encoding no field has (0x7ffe)', 0x7ffe],
  ['a field of an unmodelled feature (POSTED_INTERRUPT_NOTIFICATION_VECTOR)', 0x0002],
  ['a field of an unmodelled feature (PML_ADDRESS)', 0x200e],
  ['reserved bit 12 set (0x1000 | GUEST_RIP)', 0x681e | 0x1000],
  ['access type 1 on a 32-bit field (EXCEPTION_BITMAP | 1)', 0x4005],
  ['access type 1 on a natural-width field (GUEST_RIP | 1)', 0x681f],
  ['access type 1 on a 16-bit field (GUEST_CS_SELECTOR | 1)', 0x0803],
  ['bits 63:15 not zero (0x8000)', 0x8000],
  ['bits 63:32 not zero', 2 ** 32 + 0x681e],
  ['a negative encoding', -1],
];
for (const [what, e] of unsupportedEncodings) {
  test(`VMREAD/VMWRITE of ${what}: VMfailValid(12)`, () => {
    const k = root();
    assert.equal(st(k.engine.vmwrite(e, 5)), 'valid:12');
    assert.equal(k.engine.vmread(enc('VM_INSTRUCTION_ERROR')), 12);
    expectOk(k.engine.vmwrite(enc('VM_INSTRUCTION_ERROR'), 0));
    assert.equal(k.engine.vmread(e), 0);
    assert.equal(st(k.engine.lastStatus), 'valid:12');
    assert.equal(k.engine.vmread(enc('VM_INSTRUCTION_ERROR')), 12);
  });
}

test('VMWRITE of a 16-bit field keeps bits 15:0 of the source', () => {
  const k = root();
  expectOk(k.engine.vmwrite(enc('GUEST_ES_SELECTOR'), 0x12345, 0x77));
  assert.equal(k.engine.vmread(enc('GUEST_ES_SELECTOR')), 0x2345);
  assert.equal(k.engine.readHi, 0);
});

test('VMWRITE of a 32-bit field keeps bits 31:0; VMREAD zero-extends it', () => {
  const k = root();
  expectOk(k.engine.vmwrite(enc('EXCEPTION_BITMAP'), 0xdeadbeef | 0, 0x1234));
  assert.equal(k.engine.vmread(enc('EXCEPTION_BITMAP')) >>> 0, 0xdeadbeef);
  assert.equal(k.engine.readHi, 0);
  assert.equal(k.engine.vmread64(enc('EXCEPTION_BITMAP')), 0xdeadbeefn);
});

test('VMWRITE/VMREAD of a full 64-bit field in 64-bit mode', () => {
  const k = root();
  expectOk(k.engine.vmwrite(enc('TSC_OFFSET'), 0x89abcdef | 0, 0x01234567));
  assert.equal(k.engine.vmread64(enc('TSC_OFFSET')), 0x0123456789abcdefn);
});

test('Access type 1 reads and writes bits 63:32 of a 64-bit field, leaving bits 31:0', () => {
  const k = root();
  const e = enc('TSC_OFFSET');
  expectOk(k.engine.vmwrite(e, 0x11111111, 0x22222222));
  expectOk(k.engine.vmwrite(e | 1, 0x33333333, 0x44444444));
  assert.equal(k.engine.vmread(e | 1), 0x33333333);
  assert.equal(k.engine.readHi, 0);
  assert.equal(k.engine.vmread64(e), 0x3333333311111111n);
});

test('Natural-width fields hold 64 bits in 64-bit mode', () => {
  const k = root();
  expectOk(k.engine.vmwrite(enc('GUEST_RIP'), 0x1000, 0xffff8000 | 0));
  assert.equal(k.engine.vmread64(enc('GUEST_RIP')), 0xffff800000001000n);
});

test('Outside 64-bit mode a natural-width VMWRITE clears bits 63:32 and VMREAD returns bits 31:0', () => {
  const k = root();
  expectOk(k.engine.vmwrite(enc('GUEST_RSP'), 0x5000, 0x7));
  mode32(k);
  assert.equal(k.engine.vmread(enc('GUEST_RSP')), 0x5000);
  assert.equal(k.engine.readHi, 0);
  expectOk(k.engine.vmwrite(enc('GUEST_RSP'), 0x6000, 0x9));
  assert.equal(k.engine.current!.read('GUEST_RSP'), 0x6000n);
});

test('Outside 64-bit mode a full 64-bit VMWRITE clears bits 63:32; access type 1 still reaches them', () => {
  const k = root();
  mode32(k);
  const e = enc('VMCS_LINK_POINTER');
  expectOk(k.engine.vmwrite(e, -1, -1));
  assert.equal(k.engine.current!.read('VMCS_LINK_POINTER'), 0xffffffffn);
  expectOk(k.engine.vmwrite(e | 1, -1));
  assert.equal(k.engine.current!.read('VMCS_LINK_POINTER'), 0xffffffffffffffffn);
  assert.equal(k.engine.vmread(e), -1);
  assert.equal(k.engine.readHi, 0);
  assert.equal(k.engine.vmread(e | 1), -1);
});

test('VMWRITE to a read-only field succeeds when IA32_VMX_MISC[29] = 1 (the default model)', () => {
  const k = root();
  assert.equal((MISC_LO >>> 29) & 1, 1);
  expectOk(k.engine.vmwrite(enc('EXIT_QUALIFICATION'), 0x42));
  assert.equal(k.engine.vmread(enc('EXIT_QUALIFICATION')), 0x42);
});

test('VMWRITE to a read-only field is VMfailValid(13) when IA32_VMX_MISC[29] = 0, field unchanged', () => {
  const k = root(true, { capabilities: { MISC: { lo: MISC_LO & ~(1 << 29), hi: 0 } } });
  for (const name of ['EXIT_REASON', 'EXIT_QUALIFICATION', 'GUEST_PHYSICAL_ADDRESS', 'VM_EXIT_INSTRUCTION_LENGTH', 'VM_INSTRUCTION_ERROR']) {
    k.engine.current!.write(name, 7);
    assert.equal(st(k.engine.vmwrite(enc(name), 0x99)), 'valid:13', name);
    assert.equal(k.engine.vmread(enc('VM_INSTRUCTION_ERROR')), 13);
    if (name !== 'VM_INSTRUCTION_ERROR') assert.equal(k.engine.vmread(enc(name)), 7, name);
  }
});

test('VMREAD of VM_INSTRUCTION_ERROR gives the last VMfailValid number', () => {
  const k = root();
  k.engine.vmclear(0x10000); // VMXON pointer: 3
  assert.equal(k.engine.vmread(enc('VM_INSTRUCTION_ERROR')), 3);
  k.engine.vmwrite(0x7ffe, 0);
  assert.equal(k.engine.vmread(enc('VM_INSTRUCTION_ERROR')), 12);
});

test('A successful VMREAD/VMWRITE does not change VM_INSTRUCTION_ERROR', () => {
  const k = root();
  k.engine.vmwrite(0x7ffe, 0);
  expectOk(k.engine.vmwrite(enc('GUEST_RIP'), 1));
  k.engine.vmread(enc('GUEST_RIP'));
  assert.equal(k.engine.vmread(enc('VM_INSTRUCTION_ERROR')), 12);
});

test('Every supported field of appendix B round-trips through VMWRITE/VMREAD at its width', () => {
  const k = root();
  for (const f of VMCS_FIELDS) {
    if (!f.supported) continue;
    const lo = (0xa5a50000 | f.index) | 0;
    const hi = (0x5a5a0000 | f.index) | 0;
    expectOk(k.engine.vmwrite(f.encoding, lo, hi));
    const got = k.engine.vmread64(f.encoding);
    const want = f.width === 16 ? BigInt(lo & 0xffff)
      : f.width === 32 ? BigInt(lo >>> 0)
        : (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    assert.equal(got, want, f.name);
  }
});

test('Every field the model does not support is VMfailValid(12) for VMREAD and VMWRITE', () => {
  const k = root();
  let n = 0;
  for (const f of VMCS_FIELDS) {
    if (f.supported) continue;
    n++;
    assert.equal(st(k.engine.vmwrite(f.encoding, 1)), 'valid:12', f.name);
    k.engine.vmread(f.encoding);
    assert.equal(st(k.engine.lastStatus), 'valid:12', f.name);
  }
  assert.ok(n > 0);
});

test('VMWRITE bumps the write epoch of the field group (control, exit-info, guest, host)', () => {
  const k = root();
  const v = k.engine.current!;
  for (const name of ['PIN_BASED_VM_EXECUTION_CONTROLS', 'EXIT_QUALIFICATION', 'GUEST_RIP', 'HOST_RIP']) {
    const f = VMCS_FIELDS.find((x) => x.name === name)!;
    const g = GROUP_OF_INDEX[f.index];
    const before = Array.from(v.writeEpoch);
    expectOk(k.engine.vmwrite(f.encoding, 1));
    for (let i = 0; i < 4; i++) assert.equal(v.writeEpoch[i], before[i] + (i === g ? 1 : 0), `${name} group ${i}`);
  }
});

test('A failed VMWRITE changes nothing but VM_INSTRUCTION_ERROR', () => {
  const k = root();
  const v = k.engine.current!;
  const guestEpoch = v.writeEpoch[2];
  k.engine.vmwrite(0x681f, 5);
  assert.equal(v.writeEpoch[2], guestEpoch);
  assert.equal(k.engine.vmread(enc('GUEST_RIP')), 0);
});

test('VMREAD/VMWRITE status objects are shared constants (no allocation on the hot path)', () => {
  const k = root();
  const a = k.engine.vmwrite(enc('GUEST_RIP'), 1);
  const b = k.engine.vmwrite(enc('GUEST_RSP'), 1);
  assert.equal(a, b);
  const f1 = k.engine.vmwrite(0x7ffe, 1);
  const f2 = k.engine.vmwrite(0x7ffe, 1);
  assert.equal(f1, f2);
});
