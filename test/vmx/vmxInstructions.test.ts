/**
 * VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST (SDM vol. 3C §30.3): the #UD/#GP conditions, the
 * VMfailInvalid/VMfailValid cases with their VM-instruction error numbers (§30.4), and the
 * VMCS launch state and data across VMCLEAR/VMPTRLD (§24.11).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setStored } from '../../src/x86/msr';
import { enterMode } from '../../src/x86/modes';
import { REVISION_ID } from '../../src/vmx/capabilities';
import { GP, UD, VMCS_A, VMCS_B, VMCS_C, VMXON, enc, expectOk, fault, host, root, st } from './vmxInstructionsKit';

const I_ERR = enc('VM_INSTRUCTION_ERROR');

// ---- VMXON ------------------------------------------------------------------------------------
test('VMXON: VMsucceed enters VMX root operation with no current VMCS', () => {
  const k = host();
  assert.equal(st(k.engine.vmxon(VMXON)), 'ok');
  assert.equal(k.cpu.inVmxOperation, true);
  assert.equal(k.cpu.nonRoot, false);
  assert.equal(k.engine.vmxonRegion, VMXON);
  assert.equal(k.engine.vmptrst(), -1);
});

test('VMXON: #UD with CR4.VMXE = 0', () => {
  const k = host();
  k.cpu.cr4 &= ~(1 << 13);
  assert.equal(fault(() => k.engine.vmxon(VMXON)), UD);
  assert.equal(k.cpu.inVmxOperation, false);
});

test('VMXON: #UD in real-address mode (CR0.PE = 0)', () => {
  const k = host();
  enterMode(k.cpu, 'real');
  k.cpu.cr4 |= 1 << 13;
  assert.equal(fault(() => k.engine.vmxon(VMXON)), UD);
});

test('VMXON: #UD in virtual-8086 mode (RFLAGS.VM = 1)', () => {
  const k = host();
  k.cpu.flagsRest |= 1 << 17;
  assert.equal(fault(() => k.engine.vmxon(VMXON)), UD);
});

test('VMXON: #UD in compatibility mode (IA32_EFER.LMA = 1, CS.L = 0)', () => {
  const k = host();
  k.cpu.segAttr[1] &= ~0x2000;
  assert.equal(fault(() => k.engine.vmxon(VMXON)), UD);
});

test('VMXON: #GP(0) at CPL 3', () => {
  const k = host();
  k.cpu.cpl = 3;
  assert.equal(fault(() => k.engine.vmxon(VMXON)), GP);
});

test('VMXON: #GP(0) when CR0 violates IA32_VMX_CR0_FIXED0 (NE = 0)', () => {
  const k = host();
  k.cpu.cr0 &= ~(1 << 5);
  assert.equal(fault(() => k.engine.vmxon(VMXON)), GP);
});

test('VMXON: #GP(0) when CR4 sets a bit IA32_VMX_CR4_FIXED1 reports 0', () => {
  const k = host({ capabilities: { CR4_FIXED1: { lo: 0x2020, hi: 0 } } }); // only PAE and VMXE may be 1
  k.cpu.cr4 |= 1 << 9; // OSFXSR
  assert.equal(fault(() => k.engine.vmxon(VMXON)), GP);
});

test('VMXON: 32-bit protected mode without paging is #GP(0) (CR0.PG is in IA32_VMX_CR0_FIXED0)', () => {
  const k = host();
  enterMode(k.cpu, 'protected');
  k.cpu.cr4 |= 1 << 13;
  assert.equal(fault(() => k.engine.vmxon(VMXON)), GP);
});

test('VMXON: #GP(0) when IA32_FEATURE_CONTROL is not locked', () => {
  const k = host({ keepFeatureControl: true });
  assert.equal(fault(() => k.engine.vmxon(VMXON)), GP);
});

test('VMXON: #GP(0) when IA32_FEATURE_CONTROL is locked without "VMXON outside SMX"', () => {
  const k = host({ keepFeatureControl: true });
  setStored(k.cpu, 0x3a, 1, 0);
  assert.equal(fault(() => k.engine.vmxon(VMXON)), GP);
  setStored(k.cpu, 0x3a, 3, 0); // inside SMX only
  assert.equal(fault(() => k.engine.vmxon(VMXON)), GP);
});

test('VMXON: the engine locks IA32_FEATURE_CONTROL with VMXON outside SMX, as firmware does', () => {
  const k = host();
  assert.equal(st(k.engine.vmxon(VMXON)), 'ok');
});

test('VMXON: VMfailInvalid for a region address not 4-KByte aligned', () => {
  const k = host();
  assert.equal(st(k.engine.vmxon(VMXON + 0x800)), 'invalid');
  assert.equal(st(k.engine.vmxon(VMXON + 4)), 'invalid');
  assert.equal(k.cpu.inVmxOperation, false);
});

test('VMXON: VMfailInvalid for an address beyond the physical-address width', () => {
  const k = host();
  assert.equal(st(k.engine.vmxon(2 ** 52)), 'invalid');
  assert.equal(st(k.engine.vmxon(-4096)), 'invalid');
  assert.equal(k.cpu.inVmxOperation, false);
});

test('VMXON: with IA32_VMX_BASIC[48] = 1 the width is 32 bits', () => {
  const base = host();
  const b = base.engine.caps.msr.BASIC;
  const k = host({ capabilities: { BASIC: { lo: b.lo, hi: b.hi | (1 << 16) } } });
  assert.equal(st(k.engine.vmxon(2 ** 32)), 'invalid');
  assert.equal(st(k.engine.vmxon(VMXON)), 'ok');
});

test('VMXON: VMfailInvalid when the region has another revision identifier', () => {
  const k = host();
  k.w32(VMXON, REVISION_ID + 1);
  assert.equal(st(k.engine.vmxon(VMXON)), 'invalid');
  assert.equal(k.cpu.inVmxOperation, false);
});

test('VMXON: VMfailInvalid when bit 31 of the region revision is 1', () => {
  const k = host();
  k.w32(VMXON, REVISION_ID | 0x80000000);
  assert.equal(st(k.engine.vmxon(VMXON)), 'invalid');
});

test('VMXON in VMX root operation: VMfailInvalid without a current VMCS, VMfailValid(15) with one', () => {
  const k = root(false);
  assert.equal(st(k.engine.vmxon(VMXON)), 'invalid');
  expectOk(k.engine.vmptrld(VMCS_A));
  assert.equal(st(k.engine.vmxon(VMXON)), 'valid:15');
  assert.equal(k.engine.vmread(I_ERR), 15);
});

test('VMXON in VMX root operation at CPL 3 is #GP(0)', () => {
  const k = root();
  k.cpu.cpl = 3;
  assert.equal(fault(() => k.engine.vmxon(VMXON)), GP);
});

// ---- VMXOFF -----------------------------------------------------------------------------------
test('VMXOFF: leaves VMX operation; the VMX instructions are then #UD', () => {
  const k = root();
  assert.equal(st(k.engine.vmxoff()), 'ok');
  assert.equal(k.cpu.inVmxOperation, false);
  assert.equal(k.engine.vmxonRegion, -1);
  assert.equal(fault(() => k.engine.vmptrst()), UD);
  assert.equal(fault(() => k.engine.vmclear(VMCS_A)), UD);
  assert.equal(fault(() => k.engine.vmread(0x681e)), UD);
});

test('VMXOFF: outside VMX operation is #UD', () => {
  const k = host();
  assert.equal(fault(() => k.engine.vmxoff()), UD);
});

test('VMXOFF: at CPL 3 is #GP(0)', () => {
  const k = root();
  k.cpu.cpl = 3;
  assert.equal(fault(() => k.engine.vmxoff()), GP);
  assert.equal(k.cpu.inVmxOperation, true);
});

test('VMXOFF: the data of an active VMCS reaches its region and survives a new VMXON', () => {
  const k = root();
  expectOk(k.engine.vmwrite(enc('GUEST_RIP'), 0x1234, 0x5678));
  expectOk(k.engine.vmxoff());
  expectOk(k.engine.vmxon(VMXON));
  expectOk(k.engine.vmptrld(VMCS_A));
  assert.equal(k.engine.vmread64(enc('GUEST_RIP')), 0x0000567800001234n);
});

test('VMXON again after VMXOFF succeeds', () => {
  const k = root();
  expectOk(k.engine.vmxoff());
  assert.equal(st(k.engine.vmxon(VMXON)), 'ok');
});

// ---- VMCLEAR ----------------------------------------------------------------------------------
test('VMCLEAR: invalid address is VMfailInvalid without a current VMCS, VMfailValid(2) with one', () => {
  const k = root(false);
  assert.equal(st(k.engine.vmclear(VMCS_A + 0x10)), 'invalid');
  expectOk(k.engine.vmptrld(VMCS_A));
  assert.equal(st(k.engine.vmclear(VMCS_B + 0x10)), 'valid:2');
  assert.equal(k.engine.vmread(I_ERR), 2);
  assert.equal(st(k.engine.vmclear(2 ** 50)), 'valid:2');
});

test('VMCLEAR: the VMXON pointer is VMfailValid(3)', () => {
  const k = root();
  assert.equal(st(k.engine.vmclear(VMXON)), 'valid:3');
  assert.equal(k.engine.vmread(I_ERR), 3);
});

test('VMCLEAR: the VMXON pointer without a current VMCS is VMfailInvalid', () => {
  const k = root(false);
  assert.equal(st(k.engine.vmclear(VMXON)), 'invalid');
});

test('VMCLEAR: of the current VMCS makes the current-VMCS pointer invalid', () => {
  const k = root();
  assert.equal(k.engine.vmptrst(), VMCS_A);
  expectOk(k.engine.vmclear(VMCS_A));
  assert.equal(k.engine.vmptrst(), -1);
  assert.equal(k.engine.current, null);
  assert.equal(k.engine.active.has(VMCS_A), false);
  // VMREAD/VMWRITE now fail invalid.
  k.engine.vmread(enc('GUEST_RIP'));
  assert.equal(st(k.engine.lastStatus), 'invalid');
});

test('VMCLEAR: of another VMCS keeps the current one', () => {
  const k = root();
  expectOk(k.engine.vmptrld(VMCS_B));
  expectOk(k.engine.vmptrld(VMCS_A));
  expectOk(k.engine.vmclear(VMCS_B));
  assert.equal(k.engine.vmptrst(), VMCS_A);
});

test('VMCLEAR: sets the launch state to clear, in the processor and in the region', () => {
  const k = root();
  k.engine.current!.launched = true;
  expectOk(k.engine.vmclear(VMCS_A));
  assert.equal(k.r32(VMCS_A + 8), 0);
  expectOk(k.engine.vmptrld(VMCS_A));
  assert.equal(k.engine.current!.launched, false);
});

test('VMCLEAR: of a region never loaded only clears its launch state', () => {
  const k = root();
  k.w32(VMCS_C + 8, 1);
  k.w32(VMCS_C + 16, 0x77);
  expectOk(k.engine.vmclear(VMCS_C));
  assert.equal(k.r32(VMCS_C + 8), 0);
  assert.equal(k.r32(VMCS_C + 16), 0x77);
  assert.equal(k.r32(VMCS_C), REVISION_ID);
});

test('VMCLEAR twice then VMPTRLD: the VMCS data is intact', () => {
  const k = root();
  expectOk(k.engine.vmwrite(enc('GUEST_CS_SELECTOR'), 0x28));
  expectOk(k.engine.vmwrite(enc('EXCEPTION_BITMAP'), 0xffff));
  expectOk(k.engine.vmclear(VMCS_A));
  expectOk(k.engine.vmclear(VMCS_A));
  expectOk(k.engine.vmptrld(VMCS_A));
  assert.equal(k.engine.vmread(enc('GUEST_CS_SELECTOR')), 0x28);
  assert.equal(k.engine.vmread(enc('EXCEPTION_BITMAP')), 0xffff);
});

test('VMCLEAR: #GP(0) at CPL 3, #UD in compatibility mode', () => {
  const k = root();
  k.cpu.cpl = 3;
  assert.equal(fault(() => k.engine.vmclear(VMCS_A)), GP);
  k.cpu.cpl = 0;
  k.cpu.segAttr[1] &= ~0x2000;
  assert.equal(fault(() => k.engine.vmclear(VMCS_A)), UD);
});

// ---- VMPTRLD / VMPTRST ------------------------------------------------------------------------
test('VMPTRLD: makes the VMCS current and active', () => {
  const k = root(false);
  expectOk(k.engine.vmptrld(VMCS_B));
  assert.equal(k.engine.vmptrst(), VMCS_B);
  assert.equal(st(k.engine.lastStatus), 'ok');
  assert.equal(k.engine.active.has(VMCS_B), true);
});

test('VMPTRLD: invalid address is VMfailInvalid without a current VMCS, VMfailValid(9) with one', () => {
  const k = root(false);
  assert.equal(st(k.engine.vmptrld(VMCS_A + 8)), 'invalid');
  expectOk(k.engine.vmptrld(VMCS_A));
  assert.equal(st(k.engine.vmptrld(VMCS_B + 8)), 'valid:9');
  assert.equal(st(k.engine.vmptrld(2 ** 51)), 'valid:9');
  assert.equal(k.engine.vmread(I_ERR), 9);
  assert.equal(k.engine.vmptrst(), VMCS_A);
});

test('VMPTRLD: the VMXON pointer is VMfailValid(10)', () => {
  const k = root();
  assert.equal(st(k.engine.vmptrld(VMXON)), 'valid:10');
  assert.equal(k.engine.vmread(I_ERR), 10);
});

test('VMPTRLD: a wrong revision identifier is VMfailValid(11) and leaves the current VMCS', () => {
  const k = root();
  k.w32(VMCS_B, REVISION_ID ^ 1);
  assert.equal(st(k.engine.vmptrld(VMCS_B)), 'valid:11');
  assert.equal(k.engine.vmread(I_ERR), 11);
  assert.equal(k.engine.vmptrst(), VMCS_A);
});

test('VMPTRLD: a shadow-VMCS indicator (revision bit 31) is VMfailValid(11): VMCS shadowing is not modelled', () => {
  const k = root();
  k.w32(VMCS_B, REVISION_ID | 0x80000000);
  assert.equal(st(k.engine.vmptrld(VMCS_B)), 'valid:11');
});

test('VMPTRLD: a wrong revision without a current VMCS is VMfailInvalid', () => {
  const k = root(false);
  k.w32(VMCS_B, 0);
  assert.equal(st(k.engine.vmptrld(VMCS_B)), 'invalid');
});

test('VMPTRLD: two VMCSs keep separate data', () => {
  const k = root();
  expectOk(k.engine.vmwrite(enc('GUEST_RSP'), 0xaaaa));
  expectOk(k.engine.vmptrld(VMCS_B));
  expectOk(k.engine.vmwrite(enc('GUEST_RSP'), 0xbbbb));
  expectOk(k.engine.vmptrld(VMCS_A));
  assert.equal(k.engine.vmread(enc('GUEST_RSP')), 0xaaaa);
  expectOk(k.engine.vmptrld(VMCS_B));
  assert.equal(k.engine.vmread(enc('GUEST_RSP')), 0xbbbb);
});

test('VMPTRLD: an active VMCS is not re-read from memory', () => {
  const k = root();
  expectOk(k.engine.vmwrite(enc('GUEST_RSP'), 0x1111));
  expectOk(k.engine.vmptrld(VMCS_B));
  // The region's bytes change behind the processor's back; the processor's copy wins.
  for (let a = VMCS_A + 16; a < VMCS_A + 4096; a += 4) k.w32(a, 0x5a5a5a5a);
  expectOk(k.engine.vmptrld(VMCS_A));
  assert.equal(k.engine.vmread(enc('GUEST_RSP')), 0x1111);
});

test('VMPTRLD of a cleared VMCS reads its data and launch state from the region', () => {
  const k = root();
  expectOk(k.engine.vmwrite(enc('GUEST_RSP'), 0x2222));
  k.engine.current!.launched = true;
  expectOk(k.engine.vmclear(VMCS_A));
  expectOk(k.engine.vmptrld(VMCS_A));
  assert.equal(k.engine.vmread(enc('GUEST_RSP')), 0x2222);
  assert.equal(k.engine.current!.launched, false);
  assert.equal(k.engine.current!.revision, REVISION_ID);
});

test('VMPTRST: -1 with no current VMCS; outside VMX operation #UD; at CPL 3 #GP(0)', () => {
  const k = root(false);
  assert.equal(k.engine.vmptrst(), -1);
  k.cpu.cpl = 3;
  assert.equal(fault(() => k.engine.vmptrst()), GP);
  const h = host();
  assert.equal(fault(() => h.engine.vmptrst()), UD);
});

test('VMX instructions called while the processor is in non-root operation are a host error', () => {
  const k = root();
  k.cpu.nonRoot = true;
  assert.throws(() => k.engine.vmptrst(), /non-root/);
  assert.throws(() => k.engine.vmread(enc('GUEST_RIP')), /non-root/);
});

test('The VMCS data layout (vmcs.ts) fits the 4096-byte region IA32_VMX_BASIC reports', async () => {
  const { VMCS_DATA_OFFSET } = await import('../../src/vmx/vmcs');
  const { FIELD_COUNT } = await import('../../src/vmx/fields');
  const k = host();
  const size = k.engine.caps.msr.BASIC.hi & 0x1fff;
  assert.ok(VMCS_DATA_OFFSET + FIELD_COUNT * 8 <= size);
});

test('The VM-instruction error table: 1-28 without the reserved 14, 21, 27; the engine constants are the reported ones', async () => {
  const { VM_INSTRUCTION_ERRORS } = await import('../../src/vmx/vmxInstructionsErrors');
  const { VmInsnError } = await import('../../src/vmx/vmxInstructions');
  const nums = VM_INSTRUCTION_ERRORS.map((e) => e.error);
  assert.deepEqual(nums, Array.from({ length: 28 }, (_, i) => i + 1).filter((n) => n !== 14 && n !== 21 && n !== 27));
  const reported = new Set(VM_INSTRUCTION_ERRORS.filter((e) => e.reported).map((e) => e.error));
  for (const [name, n] of Object.entries(VmInsnError)) assert.equal(reported.has(n), true, name);
  for (const e of VM_INSTRUCTION_ERRORS) if (!e.reported) assert.ok((e.note ?? '').length > 0, String(e.error));
});
