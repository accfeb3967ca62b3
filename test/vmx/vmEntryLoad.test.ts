/**
 * Loading guest state on VM entry (SDM vol. 3C §26.3.2), the decoded controls of the entry and
 * the launch state (§30.3 VMLAUNCH/VMRESUME): the processor is inspected right after a
 * successful VMLAUNCH, before the guest runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I, LAYOUT, code, vmx } from './vmExitKit';
import { getStored } from '../../src/x86/msr';
import { pdpteHi, pdpteRegister } from '../../src/x86/paging';

function entered(opts: Parameters<typeof vmx>[0] = {}) {
  const h = vmx({ code: code(I.cpuid, I.hlt), ...opts });
  const e = h.vmlaunch();
  assert.equal(e.kind, 'entered', JSON.stringify(e));
  return h;
}

test('VMLAUNCH enters non-root operation and marks the VMCS launched; VMLAUNCH again fails with 4, VMRESUME works', () => {
  const h = entered();
  assert.equal(h.cpu.nonRoot, true);
  assert.equal(h.vmcs.launched, true);
  assert.equal(h.run().reason, 'vmexit');
  const again = h.vmlaunch();
  assert.equal(again.kind, 'fail');
  assert.equal(h.read32f('VM_INSTRUCTION_ERROR'), 4);
  h.skipInstruction();
  assert.equal(h.vmresume().kind, 'entered');
});

test('the controls of the entry are decoded into the engine; proc2 is 0 without "activate secondary controls"', () => {
  const h = entered({ controls: { proc: ['HLT_EXITING'] }, fields: { EXCEPTION_BITMAP: 0x4000 } });
  const e = h.engine;
  assert.equal(e.pin, Number(h.vmcs.read('PIN_BASED_VM_EXECUTION_CONTROLS')));
  assert.equal(e.proc, Number(h.vmcs.read('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS')));
  assert.equal(e.exitCtls, Number(h.vmcs.read('PRIMARY_VM_EXIT_CONTROLS')));
  assert.equal(e.entryCtls, Number(h.vmcs.read('VM_ENTRY_CONTROLS')));
  assert.equal(e.exceptionBitmap, 0x4000);
  assert.equal(e.proc & 0x80, 0x80);
  if ((e.proc & 0x80000000) === 0) assert.equal(e.proc2, 0);
});

test('secondary controls are in effect with "activate secondary controls"', () => {
  const h = entered({ controls: { proc2: ['ENABLE_RDTSCP'] } });
  assert.equal(h.engine.proc2, Number(h.vmcs.read('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS')));
  assert.notEqual(h.engine.proc2 & 8, 0);
});

test('RIP, RSP, RFLAGS, general registers (unchanged) after entry (§26.3.2.3)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), regs: { rbx: 0x1234 }, fields: { GUEST_RFLAGS: 0x287, GUEST_RSP: 0x1f0000 } });
  assert.equal(h.vmlaunch().kind, 'entered');
  const c = h.cpu;
  assert.equal(c.getRip(), BigInt(LAYOUT.GUEST_CODE));
  assert.equal(c.getReg64(4), 0x1f0000n);
  assert.equal(c.getRflags(), 0x287);
  assert.equal(c.getReg64(3), 0x1234n);
});

test('64-bit guest: CR0/CR3/CR4, EFER.LMA/LME from "IA-32e mode guest", 64-bit code, CPL 0 (§26.3.2.1)', () => {
  const h = entered({ fields: { GUEST_IA32_EFER: 0 } });
  const c = h.cpu;
  assert.equal(c.cr3Lo, LAYOUT.GUEST_PML4);
  assert.equal(c.cr4, Number(h.vmcs.read('GUEST_CR4')));
  assert.equal(c.cr0 >>> 0, Number(h.vmcs.read('GUEST_CR0')));
  assert.equal(c.efer & 0x500, 0x500, 'LMA and LME from the entry control (no "load IA32_EFER")');
  assert.equal(c.longMode, true);
  assert.equal(c.bitness, 64);
  assert.equal(c.cpl, 0);
});

test('CR0.ET, CD and NW are not loaded from the CR0 field (§26.3.2.1)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  const before = h.cpu.cr0 & 0x60000010;
  h.write('GUEST_CR0', h.read('GUEST_CR0') & ~0x10n);
  const e = h.vmlaunch();
  if (e.kind !== 'entered') return; // ET = 0 may be refused by the checks of this model
  assert.equal(h.cpu.cr0 & 0x60000010, before);
});

test('"load IA32_EFER" loads the EFER field (§26.3.2.1)', () => {
  const h = entered({ controls: { entry: ['LOAD_IA32_EFER'] }, fields: { GUEST_IA32_EFER: 0xd01 } });
  assert.equal(h.cpu.efer, 0xd01);
});

test('32-bit protected guest: LMA/LME cleared, 32-bit code and stack (§26.3.2.1-26.3.2.2)', () => {
  const h = entered({ mode: 'protected' });
  const c = h.cpu;
  assert.equal(c.efer & 0x500, 0);
  assert.equal(c.longMode, false);
  assert.equal(c.protectedMode, true);
  assert.equal(c.bitness, 32);
  assert.equal(c.stackBits, 32);
  assert.equal(c.cr3Lo, LAYOUT.GUEST_PD32);
});

test('real-mode guest under unrestricted guest: CR0.PE = 0, 16-bit, CPL 0', () => {
  const h = entered({ mode: 'real' });
  const c = h.cpu;
  assert.equal(c.protectedMode, false);
  assert.equal(c.bitness, 16);
  assert.equal(c.cpl, 0);
  assert.equal(c.getRip(), BigInt(LAYOUT.REAL_CODE));
});

test('segment registers, LDTR, TR, GDTR and IDTR are loaded from the fields (§26.3.2.2)', () => {
  const h = entered({ fields: { GUEST_FS_BASE: 0x123456789000n, GUEST_GS_SELECTOR: 0x10, GUEST_IDTR_LIMIT: 0x7ff } });
  const c = h.cpu;
  assert.equal(c.segSel[1], 0x08);
  assert.equal(c.segAttr[1], 0xa09b);
  assert.equal(c.segBaseLo[4], 0x56789000);
  assert.equal(c.segBaseHi[4], 0x1234);
  assert.equal(c.segAttr[6] & 0x10000, 0x10000, 'LDTR unusable');
  assert.equal(c.segSel[7], 0x18);
  assert.equal(c.segLimit[7], 0x67);
  assert.equal(c.gdtrBaseLo, Number(h.vmcs.read('GUEST_GDTR_BASE')));
  assert.equal(c.idtrLimit, 0x7ff);
});

test('CPL is SS.DPL: a 64-bit guest entered at ring 3 (§24.4.1, §26.3.2.2)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  h.write('GUEST_CS_SELECTOR', 0x0b);
  h.write('GUEST_CS_ACCESS_RIGHTS', 0xa0fb);
  h.write('GUEST_SS_SELECTOR', 0x13);
  h.write('GUEST_SS_ACCESS_RIGHTS', 0xc0f3);
  for (const s of ['DS', 'ES', 'FS', 'GS']) h.write(`GUEST_${s}_ACCESS_RIGHTS`, 0xc0f3);
  // User pages in the guest's tables: the harness maps with U = 1 (0xe7 / 0x27 entries).
  const e = h.vmlaunch();
  assert.equal(e.kind, 'entered', JSON.stringify(e));
  assert.equal(h.cpu.cpl, 3);
  assert.equal(h.run().reason, 'vmexit');
  assert.equal(h.read32f('EXIT_REASON'), 10);
  assert.equal((h.read('GUEST_SS_ACCESS_RIGHTS') >> 5n) & 3n, 3n);
});

test('DR7 with "load debug controls": bits 12, 15:14 forced to 0, bit 10 to 1 (§26.3.2.1)', () => {
  const h = entered({ controls: { entry: ['LOAD_DEBUG_CONTROLS'] }, fields: { GUEST_DR7: 0x00000401 } });
  assert.equal(h.cpu.dr7, 0x401);
});

test('SYSENTER MSRs are loaded from the guest fields (§26.3.2.1)', () => {
  const h = entered({ fields: { GUEST_IA32_SYSENTER_CS: 0x10, GUEST_IA32_SYSENTER_ESP: 0xffff800000002000n, GUEST_IA32_SYSENTER_EIP: 0x401000 } });
  const c = h.cpu;
  assert.equal(getStored(c, 0x174), 0x10);
  assert.equal(c.vHi, 0);
  assert.equal(getStored(c, 0x175), 0x2000);
  assert.equal(c.vHi, 0xffff8000 | 0);
  assert.equal(getStored(c, 0x176), 0x401000);
});

test('"load IA32_PAT" loads the PAT field; without it PAT is unchanged (§26.3.2.1)', () => {
  const a = entered({ controls: { entry: ['LOAD_IA32_PAT'] }, fields: { GUEST_IA32_PAT: 0x0606060606060606n } });
  assert.equal(getStored(a.cpu, 0x277), 0x06060606);
  const b = vmx({ code: code(I.cpuid, I.hlt), fields: { GUEST_IA32_PAT: 0x0606060606060606n } });
  const before = getStored(b.cpu, 0x277);
  assert.equal(b.vmlaunch().kind, 'entered');
  assert.equal(getStored(b.cpu, 0x277), before);
});

test('interruptibility: blocking by STI or MOV SS becomes the interrupt shadow; bit 3 NMI blocking (§24.4.2)', () => {
  const a = entered({ fields: { GUEST_RFLAGS: 0x202, GUEST_INTERRUPTIBILITY_STATE: 1 } });
  assert.equal(a.cpu.interruptShadow, true);
  const b = entered({ fields: { GUEST_INTERRUPTIBILITY_STATE: 2 } });
  assert.equal(b.cpu.interruptShadow, true);
  const c = entered({ fields: { GUEST_INTERRUPTIBILITY_STATE: 8 } });
  assert.equal(c.cpu.interruptShadow, false);
  assert.equal(c.cpu.nmiBlocked, true);
  const d = entered();
  assert.equal(d.cpu.nmiBlocked, false);
});

test('pending debug exceptions: BS makes a single-step #DB pending, B0-B3 breakpoint hits (§24.4.2)', () => {
  const a = entered({ fields: { GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000, GUEST_RFLAGS: 0x102 } });
  assert.equal(a.cpu.stepArmed, true);
  const b = entered({ fields: { GUEST_PENDING_DEBUG_EXCEPTIONS: 0x1002 } });
  assert.equal(b.cpu.dbgHits, 2);
});

test('a pending single-step #DB is delivered before the first guest instruction and can exit (§26.6.3, exception bitmap)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { GUEST_PENDING_DEBUG_EXCEPTIONS: 0x4000, GUEST_RFLAGS: 0x102, EXCEPTION_BITMAP: 2 } });
  const r = h.launch();
  assert.equal(r.exit?.reason, 0);
  assert.equal(r.exit!.intrInfo & 0x7ff, 0x301);
  assert.equal(r.exit!.guestRip, BigInt(LAYOUT.GUEST_CODE));
});

test('RFLAGS.RF loaded as 1 is cleared after the first instruction', () => {
  const h = vmx({ code: code(I.nop, I.cpuid, I.hlt), fields: { GUEST_RFLAGS: 0x10002 } });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_RFLAGS') & 0x10000n, 0n);
});

test('PAE guest without EPT: the PDPTEs are loaded from the PDPT CR3 points to (§26.3.2.4)', () => {
  const h = vmx({ mode: 'protected', code: code(I.cpuid, I.hlt) });
  // PDPT at 0x30000 -> PD at 0x31000 mapping the first 1 GiB with 2 MiB pages.
  h.load(0x30000, [0x01, 0x10, 0x03, 0, 0, 0, 0, 0]);
  for (let i = 0; i < 512; i++) {
    const v = i * 0x200000 + 0x83;
    h.load(0x31000 + i * 8, [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff, 0, 0, 0, 0]);
  }
  h.write('GUEST_CR3', 0x30000);
  h.write('GUEST_CR4', h.read('GUEST_CR4') | 0x20n);
  const e = h.vmlaunch();
  assert.equal(e.kind, 'entered', JSON.stringify(e));
  assert.equal(pdpteRegister(h.cpu, 0), 0x31001);
  assert.equal(pdpteHi, 0);
  assert.equal(h.run().reason, 'vmexit');
  assert.equal(h.read32f('EXIT_REASON'), 10);
});

test('PAE guest with EPT: the PDPTEs come from the guest-PDPTE fields and are saved on exit (§26.3.2.4, §27.3.4)', () => {
  const h = vmx({ mode: 'protected', ept: true, code: code(I.cpuid, I.hlt) });
  for (let i = 0; i < 512; i++) {
    const v = i * 0x200000 + 0x83;
    h.load(0x31000 + i * 8, [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff, 0, 0, 0, 0]);
  }
  h.write('GUEST_CR3', 0x30000); // not read: the PDPTEs come from the fields
  h.write('GUEST_CR4', h.read('GUEST_CR4') | 0x20n);
  h.write('GUEST_PDPTE0', 0x31001);
  h.write('GUEST_PDPTE1', 0);
  h.write('GUEST_PDPTE2', 0);
  h.write('GUEST_PDPTE3', 0);
  const e = h.vmlaunch();
  assert.equal(e.kind, 'entered', JSON.stringify(e));
  assert.equal(pdpteRegister(h.cpu, 0), 0x31001);
  assert.equal(h.run().reason, 'vmexit');
  assert.equal(h.read32f('EXIT_REASON'), 10);
  assert.equal(h.read('GUEST_PDPTE0'), 0x31001n);
});

test('VMRESUME after an exit continues the guest where the host left RIP', () => {
  const h = vmx({ code: code(I.cpuid, I.movEax(7), I.cpuid, I.hlt) });
  assert.equal(h.launch().exit?.reason, 10);
  const r = h.skipAndResume();
  assert.equal(r.exit?.reason, 10);
  assert.equal(r.exit!.guestRip, BigInt(LAYOUT.GUEST_CODE + 2 + 5));
  assert.equal(h.cpu.lo[0], 7);
});
