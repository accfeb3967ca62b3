/**
 * VMLAUNCH/VMRESUME up to the VM-entry checks (SDM vol. 3C §30.3 VMLAUNCH/VMRESUME, §26.1-26.2):
 * VMfailInvalid without a current VMCS, VMfailValid 4/5 for the launch state, then 7 (controls)
 * or 8 (host state) from the checks of §26.2, in that order; and INVEPT/INVVPID (§30.3) with
 * VM-instruction error 28 for invalid operands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmxMachine } from '../../src/cli/benchVmxSetup';
import type { VmEntryOutcome } from '../../src/vmx/engine';
import { GP, UD, enc, fault, host, root, st } from './vmxInstructionsKit';

function failText(o: VmEntryOutcome): string {
  return o.kind === 'fail' ? st(o.status) : o.kind;
}

test('VMLAUNCH/VMRESUME without a current VMCS: VMfailInvalid', () => {
  const k = root(false);
  assert.equal(failText(k.engine.vmlaunch()), 'invalid');
  assert.equal(st(k.engine.lastStatus), 'invalid');
  assert.equal(failText(k.engine.vmresume()), 'invalid');
});

test('VMLAUNCH/VMRESUME: #UD outside VMX operation, #GP(0) at CPL 3', () => {
  const h = host();
  assert.equal(fault(() => h.engine.vmlaunch()), UD);
  assert.equal(fault(() => h.engine.vmresume()), UD);
  const k = root();
  k.cpu.cpl = 3;
  assert.equal(fault(() => k.engine.vmlaunch()), GP);
  assert.equal(fault(() => k.engine.vmresume()), GP);
});

test('VMLAUNCH/VMRESUME: #UD in compatibility mode', () => {
  const k = root();
  k.cpu.segAttr[1] &= ~0x2000;
  assert.equal(fault(() => k.engine.vmlaunch()), UD);
});

test('VMLAUNCH of a launched VMCS: VMfailValid(4)', () => {
  const k = root();
  k.engine.current!.launched = true;
  assert.equal(failText(k.engine.vmlaunch()), 'valid:4');
  assert.equal(k.engine.vmread(enc('VM_INSTRUCTION_ERROR')), 4);
});

test('VMRESUME of a clear VMCS: VMfailValid(5)', () => {
  const k = root();
  assert.equal(failText(k.engine.vmresume()), 'valid:5');
  assert.equal(k.engine.vmread(enc('VM_INSTRUCTION_ERROR')), 5);
});

test('VMRESUME after VMCLEAR of a launched VMCS: VMfailValid(5)', () => {
  const k = root();
  k.engine.current!.launched = true;
  k.engine.vmclear(k.engine.current!.address);
  k.engine.vmptrld(0x11000);
  assert.equal(failText(k.engine.vmresume()), 'valid:5');
});

test('The launch-state check comes before the control checks (all-zero VMCS: 4/5, not 7)', () => {
  const k = root();
  assert.equal(failText(k.engine.vmresume()), 'valid:5');
  k.engine.current!.launched = true;
  assert.equal(failText(k.engine.vmlaunch()), 'valid:4');
});

test('VMLAUNCH of an otherwise all-zero VMCS with a pin-based control not allowed-1: VMfailValid(7)', () => {
  const k = root();
  // With the TRUE_ MSRs every control may be 0; pin-based bit 7 (posted interrupts) is not allowed-1.
  k.engine.vmwrite(enc('PIN_BASED_VM_EXECUTION_CONTROLS'), 1 << 7);
  const o = k.engine.vmlaunch();
  assert.equal(failText(o), 'valid:7');
  assert.equal(o.kind === 'fail' && typeof o.check === 'string' && o.check.length > 0, true);
  assert.equal(k.engine.vmread(enc('VM_INSTRUCTION_ERROR')), 7);
  assert.equal(k.engine.current!.launched, false);
});

test('VMLAUNCH with a control not allowed-1 (primary bit 17, tertiary controls): VMfailValid(7)', () => {
  const m = new VmxMachine();
  const e = enc('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
  m.engine.vmwrite(e, m.engine.vmread(e) | (1 << 17));
  assert.equal(failText(m.vmlaunch()), 'valid:7');
});

test('VMLAUNCH with an invalid host CR0 (PG = 0 breaks IA32_VMX_CR0_FIXED0): VMfailValid(8)', () => {
  const m = new VmxMachine();
  const e = enc('HOST_CR0');
  m.engine.vmwrite(e, m.engine.vmread(e) & 0x7fffffff);
  const o = m.vmlaunch();
  assert.equal(failText(o), 'valid:8');
  assert.equal(m.engine.vmread(enc('VM_INSTRUCTION_ERROR')), 8);
});

test('Controls are checked before host state: both invalid gives VMfailValid(7)', () => {
  const m = new VmxMachine();
  m.engine.vmwrite(enc('HOST_CR0'), 0);
  const e = enc('PIN_BASED_VM_EXECUTION_CONTROLS');
  m.engine.vmwrite(e, m.engine.vmread(e) | (1 << 7));
  assert.equal(failText(m.vmlaunch()), 'valid:7');
});

test('A VMfailValid entry leaves the processor in root operation with its state', () => {
  const m = new VmxMachine();
  m.engine.vmwrite(enc('HOST_CR0'), 0);
  const rip = m.cpu.getRip();
  m.vmlaunch();
  assert.equal(m.cpu.nonRoot, false);
  assert.equal(m.cpu.getRip(), rip);
});

// ---- INVEPT / INVVPID ---------------------------------------------------------------------------
const EPTP = 0x50000 | 6 | (3 << 3); // WB, 4-level

test('INVEPT single-context with a valid EPTP and all-context: VMsucceed', () => {
  const k = root();
  assert.equal(st(k.engine.invept(1, EPTP, 0)), 'ok');
  assert.equal(st(k.engine.invept(2, 0, 0)), 'ok');
});

test('INVEPT of type 0 or 3: VMfailValid(28); VMfailInvalid without a current VMCS', () => {
  const k = root();
  assert.equal(st(k.engine.invept(0, EPTP, 0)), 'valid:28');
  assert.equal(k.engine.vmread(enc('VM_INSTRUCTION_ERROR')), 28);
  assert.equal(st(k.engine.invept(3, EPTP, 0)), 'valid:28');
  const n = root(false);
  assert.equal(st(n.engine.invept(0, EPTP, 0)), 'invalid');
});

const badEptps: [string, number, number][] = [
  ['memory type 1 (WC)', 0x50000 | 1 | (3 << 3), 0],
  ['walk length 2', 0x50000 | 6 | (1 << 3), 0],
  ['reserved bits 11:8', 0x50000 | 6 | (3 << 3) | 0x100, 0],
  ['an address beyond MAXPHYADDR', 0x50000 | 6 | (3 << 3), 0x100000],
];
for (const [what, lo, hi] of badEptps) {
  test(`INVEPT single-context with an EPTP of ${what}: VMfailValid(28)`, () => {
    const k = root();
    assert.equal(st(k.engine.invept(1, lo, hi)), 'valid:28');
  });
}

test('INVEPT: all-context ignores the descriptor', () => {
  const k = root();
  assert.equal(st(k.engine.invept(2, 0x50000 | 1, 0)), 'ok');
});

test('INVEPT/INVVPID: #UD outside VMX operation, #GP(0) at CPL 3', () => {
  const h = host();
  assert.equal(fault(() => h.engine.invept(2, 0, 0)), UD);
  assert.equal(fault(() => h.engine.invvpid(2, 0, 0, 0)), UD);
  const k = root();
  k.cpu.cpl = 3;
  assert.equal(fault(() => k.engine.invept(2, 0, 0)), GP);
  assert.equal(fault(() => k.engine.invvpid(2, 0, 0, 0)), GP);
});

test('INVEPT is #UD when IA32_VMX_EPT_VPID_CAP does not report it (bit 20)', () => {
  const base = host().engine.caps.msr.EPT_VPID_CAP;
  const k = root(true, { capabilities: { EPT_VPID_CAP: { lo: base.lo & ~(1 << 20), hi: base.hi } } });
  assert.equal(fault(() => k.engine.invept(2, 0, 0)), UD);
});

test('INVEPT type 2 is VMfailValid(28) when the all-context type is not reported (bit 26)', () => {
  const base = host().engine.caps.msr.EPT_VPID_CAP;
  const k = root(true, { capabilities: { EPT_VPID_CAP: { lo: base.lo & ~(1 << 26), hi: base.hi } } });
  assert.equal(st(k.engine.invept(2, 0, 0)), 'valid:28');
  assert.equal(st(k.engine.invept(1, EPTP, 0)), 'ok');
});

test('INVVPID: every type with a valid operand succeeds', () => {
  const k = root();
  assert.equal(st(k.engine.invvpid(0, 1, 0x1000, 0)), 'ok');
  assert.equal(st(k.engine.invvpid(1, 1, 0, 0)), 'ok');
  assert.equal(st(k.engine.invvpid(2, 0, 0, 0)), 'ok');
  assert.equal(st(k.engine.invvpid(3, 0xffff, 0, 0)), 'ok');
});

test('INVVPID: VPID 0 with types 0, 1 and 3 is VMfailValid(28); type 2 accepts it', () => {
  const k = root();
  for (const t of [0, 1, 3]) assert.equal(st(k.engine.invvpid(t, 0, 0, 0)), 'valid:28', `type ${t}`);
  assert.equal(st(k.engine.invvpid(2, 0, 0, 0)), 'ok');
});

test('INVVPID: descriptor bits 63:16 not zero (VPID above 0xFFFF) is VMfailValid(28)', () => {
  const k = root();
  assert.equal(st(k.engine.invvpid(1, 0x10001, 0, 0)), 'valid:28');
  assert.equal(st(k.engine.invvpid(2, 0x10000, 0, 0)), 'valid:28');
});

test('INVVPID type 0 with a non-canonical linear address is VMfailValid(28)', () => {
  const k = root();
  // Bit 56 set, bits 63:57 clear: not canonical for 57-bit (nor 48-bit) linear addresses.
  assert.equal(st(k.engine.invvpid(0, 1, 0, 0x01000000)), 'valid:28');
  assert.equal(st(k.engine.invvpid(0, 1, 0, 0xffff8000 | 0)), 'ok');
  // Other types ignore the linear address.
  assert.equal(st(k.engine.invvpid(1, 1, 0, 0x01000000)), 'ok');
});

test('INVVPID of an unknown type (4) is VMfailValid(28)', () => {
  const k = root();
  assert.equal(st(k.engine.invvpid(4, 1, 0, 0)), 'valid:28');
  assert.equal(st(k.engine.invvpid(-1, 1, 0, 0)), 'valid:28');
});

test('INVVPID is #UD when IA32_VMX_EPT_VPID_CAP does not report it (bit 32)', () => {
  const base = host().engine.caps.msr.EPT_VPID_CAP;
  const k = root(true, { capabilities: { EPT_VPID_CAP: { lo: base.lo, hi: base.hi & ~1 } } });
  assert.equal(fault(() => k.engine.invvpid(2, 0, 0, 0)), UD);
});

test('INVVPID type 0 is VMfailValid(28) when individual-address invalidation is not reported (bit 40)', () => {
  const base = host().engine.caps.msr.EPT_VPID_CAP;
  const k = root(true, { capabilities: { EPT_VPID_CAP: { lo: base.lo, hi: base.hi & ~(1 << 8) } } });
  assert.equal(st(k.engine.invvpid(0, 1, 0, 0)), 'valid:28');
  assert.equal(st(k.engine.invvpid(1, 1, 0, 0)), 'ok');
});
