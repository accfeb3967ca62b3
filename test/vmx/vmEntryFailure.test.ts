/**
 * VM-entry failures during or after loading guest state (SDM vol. 3C §26.8): exit reason 33
 * (invalid guest state) or 34 (MSR loading) with bit 31 set, the exit qualification, nothing
 * else of the exit-information fields, the guest-state area untouched, the VM-entry
 * interruption-information valid bit kept, no MSR-store, host state and the VM-exit MSR-load
 * area loaded, NMI blocking as before the entry, and the launch state unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I, LAYOUT, code, msrEntry, vmx } from './vmExitKit';
import { getStored } from '../../src/x86/msr';

const BAD_RFLAGS = { GUEST_RFLAGS: 0 }; // bit 1 must be 1 (§26.3.1.4)

test('invalid guest state: exit reason 80000021H, qualification 0, host state loaded', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: BAD_RFLAGS });
  const r = h.launch();
  assert.equal(r.entry.kind, 'exitOnEntry');
  if (r.entry.kind === 'exitOnEntry') assert.equal(r.entry.reason, 0x80000021);
  assert.equal(r.exit?.reason, 0x80000021);
  assert.equal(r.exit?.entryFailure, true);
  assert.equal(r.exit?.qualification, 0n);
  assert.equal(h.cpu.nonRoot, false);
  assert.equal(h.cpu.getRip(), BigInt(LAYOUT.HOST_CODE));
  assert.equal(h.cpu.getReg64(4), BigInt(LAYOUT.HOST_STACK));
  assert.equal(h.cpu.getRflags(), 2);
  assert.equal(h.engine.lastStatus.status, 'succeed', 'VMLAUNCH itself does not VMfail');
});

test('invalid guest state: the launch state stays clear (VMRESUME fails with 5, VMLAUNCH can retry)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: BAD_RFLAGS });
  h.launch();
  assert.equal(h.vmcs.launched, false);
  const r = h.vmresume();
  assert.equal(r.kind, 'fail');
  assert.equal(h.read32f('VM_INSTRUCTION_ERROR'), 5);
  h.write('GUEST_RFLAGS', 2);
  assert.equal(h.launch().exit?.reason, 10);
});

test('invalid guest state: other exit-information fields are not modified', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: BAD_RFLAGS });
  h.write('VM_EXIT_INSTRUCTION_LENGTH', 7);
  h.write('VM_EXIT_INTERRUPTION_INFORMATION', 0x80000b0e);
  h.write('IDT_VECTORING_INFORMATION', 0x80000030);
  h.write('GUEST_LINEAR_ADDRESS', 0x1234);
  h.launch();
  assert.equal(h.read32f('VM_EXIT_INSTRUCTION_LENGTH'), 7);
  assert.equal(h.read32f('VM_EXIT_INTERRUPTION_INFORMATION'), 0x80000b0e);
  assert.equal(h.read32f('IDT_VECTORING_INFORMATION'), 0x80000030);
  assert.equal(h.read('GUEST_LINEAR_ADDRESS'), 0x1234n);
});

test('invalid guest state: the guest-state area is not modified', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { ...BAD_RFLAGS, GUEST_RSP: 0x123450 } });
  h.launch();
  assert.equal(h.read('GUEST_RIP'), BigInt(LAYOUT.GUEST_CODE));
  assert.equal(h.read('GUEST_RSP'), 0x123450n);
  assert.equal(h.read('GUEST_RFLAGS'), 0n);
});

test('invalid guest state: the VM-entry interruption-information valid bit is not cleared', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { ...BAD_RFLAGS, VM_ENTRY_INTERRUPTION_INFORMATION: 0x80000030 } });
  h.launch();
  assert.equal(h.read32f('VM_ENTRY_INTERRUPTION_INFORMATION'), 0x80000030);
});

test('invalid guest state: no MSR-store, but the VM-exit MSR-load area is loaded', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { ...BAD_RFLAGS, VM_EXIT_MSR_STORE_COUNT: 1, VM_EXIT_MSR_LOAD_COUNT: 1 } });
  msrEntry(h, LAYOUT.EXIT_MSR_STORE, 0, 0xc0000102, 0xaaaa, 0xbbbb);
  msrEntry(h, LAYOUT.EXIT_MSR_LOAD, 0, 0xc0000102, 0x5000, 0);
  h.launch();
  assert.equal(h.read32(LAYOUT.EXIT_MSR_STORE + 8), 0xaaaa, 'store area untouched');
  assert.equal(getStored(h.cpu, 0xc0000102), 0x5000);
});

test('invalid VMCS link pointer: qualification 4 (§26.8)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  h.write('VMCS_LINK_POINTER', LAYOUT.VMCS2 + 0x10); // not all ones, not 4-KByte aligned
  const r = h.launch();
  assert.equal(r.exit?.reason, 0x80000021);
  assert.equal(r.exit?.qualification, 4n);
});

test('PDPTE with a reserved bit (PAE guest without EPT): qualification 2 (§26.3.1.6, §26.8)', () => {
  const h = vmx({ mode: 'protected', code: code(I.cpuid, I.hlt) });
  h.load(0x30000, [0x07, 0x10, 0x03, 0, 0, 0, 0, 0]); // bits 2:1 reserved in a PDPTE
  h.write('GUEST_CR3', 0x30000);
  h.write('GUEST_CR4', h.read('GUEST_CR4') | 0x20n);
  const r = h.launch();
  assert.equal(r.exit?.reason, 0x80000021);
  assert.equal(r.exit?.qualification, 2n);
});

test('MSR loading failure: exit reason 80000022H with the entry number as qualification', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_ENTRY_MSR_LOAD_COUNT: 3 } });
  msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 0, 0xc0000102, 0x1000, 0);
  msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 1, 0xc0000100, 0x2000, 0); // IA32_FS_BASE: always fails
  msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 2, 0x174, 0x8, 0);
  const r = h.launch();
  assert.equal(r.entry.kind, 'exitOnEntry');
  assert.equal(r.exit?.reason, 0x80000022);
  assert.equal(r.exit?.qualification, 2n);
  assert.equal(getStored(h.cpu, 0xc0000102), 0x1000, 'entry 1 was loaded');
  assert.equal(getStored(h.cpu, 0x174), 0, 'entry 3 was not; SYSENTER_CS is the host value');
  assert.equal(h.cpu.getRip(), BigInt(LAYOUT.HOST_CODE));
  assert.equal(h.cpu.longMode, true);
  assert.equal(h.vmcs.launched, false);
});

test('MSR loading failure: the guest state that was loaded is replaced by the host state', () => {
  const h = vmx({ mode: 'protected', code: code(I.cpuid, I.hlt), fields: { VM_ENTRY_MSR_LOAD_COUNT: 1 } });
  msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 0, 0x800, 0, 0);
  h.launch();
  assert.equal(h.read32f('EXIT_REASON'), 0x80000022);
  assert.equal(h.cpu.bitness, 64);
  assert.equal(h.cpu.cr3Lo, Number(h.read('HOST_CR3') & 0xffffffffn) | 0);
  assert.equal(h.cpu.segAttr[1], 0xa09b);
});

test('MSR loading failure: NMI blocking is what it was before the entry (§26.8 step 3)', () => {
  for (const before of [false, true]) {
    const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_ENTRY_MSR_LOAD_COUNT: 1, GUEST_INTERRUPTIBILITY_STATE: before ? 0 : 8 } });
    msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 0, 0xc0000101, 0, 0);
    h.cpu.nmiBlocked = before;
    h.launch();
    assert.equal(h.read32f('EXIT_REASON'), 0x80000022);
    assert.equal(h.cpu.nmiBlocked, before);
  }
});

test('MSR loading failure: the guest-state area is not modified and no exit MSR-store happens', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_ENTRY_MSR_LOAD_COUNT: 1, VM_EXIT_MSR_STORE_COUNT: 1 } });
  msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 0, 0xc0000101, 0, 0);
  msrEntry(h, LAYOUT.EXIT_MSR_STORE, 0, 0xc0000102, 0x77, 0x88);
  h.launch();
  assert.equal(h.read('GUEST_RIP'), BigInt(LAYOUT.GUEST_CODE));
  assert.equal(h.read32(LAYOUT.EXIT_MSR_STORE + 8), 0x77);
});

test('VM entry fails early (VMfailValid 7) without touching exit information or processor state', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  h.write('EXIT_REASON', 0x1234);
  h.write('PIN_BASED_VM_EXECUTION_CONTROLS', h.read('PIN_BASED_VM_EXECUTION_CONTROLS') | 0x80n); // posted interrupts: not allowed-1 (§26.2.1.1)
  const r = h.launch();
  assert.equal(r.entry.kind, 'fail');
  assert.equal(h.read32f('VM_INSTRUCTION_ERROR'), 7);
  assert.equal(h.read32f('EXIT_REASON'), 0x1234);
  assert.equal(h.cpu.nonRoot, false);
});
