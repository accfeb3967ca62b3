/**
 * The MSR areas (SDM vol. 3C §24.7.2, §24.8.2): VM-entry MSR-load (§26.4), VM-exit MSR-store
 * (§27.4) and VM-exit MSR-load (§27.6), their failure rules, and the VMX aborts a VM exit's
 * failure causes (§27.7).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I, LAYOUT, code, msrEntry, vmx, wrmsr } from './vmExitKit';
import { getStored } from '../../src/x86/msr';

const KGS = 0xc0000102; // IA32_KERNEL_GS_BASE

test('VM-entry MSR-load: entries are loaded in order before the guest runs (§26.4)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_ENTRY_MSR_LOAD_COUNT: 3 } });
  msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 0, KGS, 0x1000, 0xffff8000);
  msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 1, 0x277, 0x06060606, 0x06060606);
  msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 2, KGS, 0x2000, 0);
  assert.equal(h.vmlaunch().kind, 'entered');
  assert.equal(getStored(h.cpu, KGS), 0x2000, 'the later entry wins');
  assert.equal(h.cpu.vHi, 0);
  assert.equal(getStored(h.cpu, 0x277), 0x06060606);
});

test('VM-entry MSR-load overrides MSRs loaded from guest-state fields (§26.3.2.1)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_ENTRY_MSR_LOAD_COUNT: 1, GUEST_IA32_SYSENTER_CS: 0x10 } });
  msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 0, 0x174, 0x23, 0);
  assert.equal(h.vmlaunch().kind, 'entered');
  assert.equal(getStored(h.cpu, 0x174), 0x23);
});

test('VM-entry MSR-load count 0 reads nothing (area contents ignored)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 0, 0xc0000100, 0, 0);
  assert.equal(h.launch().exit?.reason, 10);
});

const ENTRY_FAILURES: Array<[string, number, number, number, number]> = [
  ['IA32_FS_BASE (C0000100H)', 0xc0000100, 0, 0, 0],
  ['IA32_GS_BASE (C0000101H)', 0xc0000101, 0, 0, 0],
  ['an x2APIC MSR (800H)', 0x800, 0, 0, 0],
  ['an x2APIC MSR (8FFH)', 0x8ff, 0, 0, 0],
  ['IA32_SMM_MONITOR_CTL (9BH)', 0x9b, 0, 0, 0],
  ['reserved bits 63:32 of the entry set', KGS, 0, 0, 1],
  ['an MSR that does not exist', 0x12345, 0, 0, 0],
  ['a read-only capability MSR (IA32_VMX_BASIC)', 0x480, 0, 0, 0],
  ['a value WRMSR would refuse (non-canonical KERNEL_GS_BASE)', KGS, 0, 0x01000000, 0],
  ['a value WRMSR would refuse (invalid PAT memory type 2)', 0x277, 0x02, 0, 0],
  ['a reserved EFER bit', 0xc0000080, 0x500 | (1 << 20), 0, 0],
];
for (const [what, index, lo, hi, reserved] of ENTRY_FAILURES) {
  test(`VM-entry MSR-load fails for ${what}: exit reason 34 | 80000000H (§26.4)`, () => {
    const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_ENTRY_MSR_LOAD_COUNT: 2 } });
    msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 0, 0x175, 0x8000, 0);
    msrEntry(h, LAYOUT.ENTRY_MSR_LOAD, 1, index, lo, hi, reserved);
    const r = h.launch();
    assert.equal(r.exit?.reason, 0x80000022);
    assert.equal(r.exit?.qualification, 2n);
    assert.equal(h.cpu.nonRoot, false);
  });
}

test('VM-exit MSR-store: each MSR\'s value is written into bits 127:64 (§27.4)', () => {
  const guest = code(wrmsr(KGS, 0x4000, 0xffff8000), wrmsr(0x175, 0x9000), I.cpuid, I.hlt);
  const h = vmx({ code: guest, controls: { proc: ['USE_MSR_BITMAPS'] }, fields: { VM_EXIT_MSR_STORE_COUNT: 3 } });
  msrEntry(h, LAYOUT.EXIT_MSR_STORE, 0, KGS);
  msrEntry(h, LAYOUT.EXIT_MSR_STORE, 1, 0x175);
  msrEntry(h, LAYOUT.EXIT_MSR_STORE, 2, 0xc0000080);
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read32(LAYOUT.EXIT_MSR_STORE + 8), 0x4000);
  assert.equal(h.read32(LAYOUT.EXIT_MSR_STORE + 12), 0xffff8000 | 0);
  assert.equal(h.read32(LAYOUT.EXIT_MSR_STORE + 16 + 8), 0x9000, 'the guest\'s SYSENTER_ESP, before host state is loaded');
  assert.equal(h.read32(LAYOUT.EXIT_MSR_STORE + 32 + 8), 0x500 | (h.cpu.efer & 0xd01 & ~0x500), 'guest EFER');
  assert.equal(getStored(h.cpu, 0x175), 0, 'the host SYSENTER_ESP is loaded afterwards');
});

test('VM-exit MSR-load: loaded after host state (§27.6)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_EXIT_MSR_LOAD_COUNT: 2 } });
  msrEntry(h, LAYOUT.EXIT_MSR_LOAD, 0, KGS, 0x6000, 0);
  msrEntry(h, LAYOUT.EXIT_MSR_LOAD, 1, 0x174, 0x33, 0); // overrides HOST_IA32_SYSENTER_CS
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(getStored(h.cpu, KGS), 0x6000);
  assert.equal(getStored(h.cpu, 0x174), 0x33);
  assert.equal(h.cpu.nonRoot, false);
  assert.equal(h.cpu.inShutdown, false);
});

test('VM-exit MSR-store failure (an x2APIC MSR): VMX abort 1, shutdown (§27.4, §27.7)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_EXIT_MSR_STORE_COUNT: 1 } });
  msrEntry(h, LAYOUT.EXIT_MSR_STORE, 0, 0x808);
  const r = h.launch();
  assert.equal(r.result?.reason, 'vmexit');
  assert.equal(h.read32(LAYOUT.VMCS + 4), 1, 'VMX-abort indicator in the VMCS region');
  assert.equal(h.cpu.inShutdown, true);
  assert.equal(h.cpu.nonRoot, false);
  assert.equal(h.run(10).reason, 'shutdown');
});

test('VM-exit MSR-store failure (reserved bits 63:32 in the entry): VMX abort 1', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_EXIT_MSR_STORE_COUNT: 1 } });
  msrEntry(h, LAYOUT.EXIT_MSR_STORE, 0, KGS, 0, 0, 1);
  h.launch();
  assert.equal(h.read32(LAYOUT.VMCS + 4), 1);
});

test('VM-exit MSR-store failure (IA32_SMBASE, 9EH): VMX abort 1', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_EXIT_MSR_STORE_COUNT: 1 } });
  msrEntry(h, LAYOUT.EXIT_MSR_STORE, 0, 0x9e);
  h.launch();
  assert.equal(h.read32(LAYOUT.VMCS + 4), 1);
});

test('VM-exit MSR-load failure (IA32_GS_BASE): VMX abort 4 (§27.6, §27.7)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_EXIT_MSR_LOAD_COUNT: 1 } });
  msrEntry(h, LAYOUT.EXIT_MSR_LOAD, 0, 0xc0000101, 0, 0);
  h.launch();
  assert.equal(h.read32(LAYOUT.VMCS + 4), 4);
  assert.equal(h.cpu.inShutdown, true);
});

test('VM-exit MSR-load failure (an MSR that does not exist): VMX abort 4', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_EXIT_MSR_LOAD_COUNT: 2 } });
  msrEntry(h, LAYOUT.EXIT_MSR_LOAD, 0, KGS, 0x1000, 0);
  msrEntry(h, LAYOUT.EXIT_MSR_LOAD, 1, 0x4321, 0, 0);
  h.launch();
  assert.equal(h.read32(LAYOUT.VMCS + 4), 4);
  assert.equal(getStored(h.cpu, KGS), 0x1000, 'the entries before the failing one were loaded');
});
