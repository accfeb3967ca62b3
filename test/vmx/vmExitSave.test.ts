/**
 * Saving guest state on VM exits (SDM vol. 3C §27.3) and the exit-information fields every exit
 * writes (§27.2): the guest changes its own state, executes CPUID (an unconditional exit,
 * §25.1.2) and the test reads what the VM exit stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I, LAYOUT, code, vmx, wrmsr } from './vmExitKit';
import { getStored } from '../../src/x86/msr';
import { setExitExtra } from '../../src/vmx/vmExit';

const MSRB = { proc: ['USE_MSR_BITMAPS'] };
const CPUID_AT = (prefix: number[]) => BigInt(LAYOUT.GUEST_CODE + prefix.length);

test('CPUID exit: reason 10, qualification 0, length 2, no interruption/IDT-vectoring info (§27.2)', () => {
  const pre = I.xorEaxEax;
  const h = vmx({ code: code(pre, I.cpuid, I.hlt) });
  const r = h.launch();
  assert.equal(r.result?.reason, 'vmexit');
  const x = r.exit!;
  assert.equal(x.reason, 10);
  assert.equal(x.entryFailure, false);
  assert.equal(x.qualification, 0n);
  assert.equal(x.insnLength, 2);
  assert.equal(x.insnInfo, 0);
  assert.equal(x.intrInfo >>> 31, 0);
  assert.equal(x.idtInfo >>> 31, 0);
  assert.equal(x.guestRip, CPUID_AT(pre));
});

test('exit information left from an earlier exit is overwritten: interruption info valid bit cleared', () => {
  const h = vmx({ code: code(I.cpuid, I.cpuid, I.hlt) });
  h.launch();
  // Pretend the previous exit reported an event (exit-info fields are writable: IA32_VMX_MISC bit 29).
  h.vmcs.write('VM_EXIT_INTERRUPTION_INFORMATION', 0x80000b0e);
  h.vmcs.write('IDT_VECTORING_INFORMATION', 0x80000030);
  const r = h.skipAndResume();
  assert.equal(r.exit?.reason, 10);
  assert.equal(r.exit!.intrInfo >>> 31, 0);
  assert.equal(r.exit!.idtInfo >>> 31, 0);
});

test('guest RIP, RSP and RFLAGS are saved (§27.3.3)', () => {
  const pre = code(I.movRsp(0x1ff000), I.pushRax, I.stc, I.sti);
  const h = vmx({ code: code(pre, I.cpuid, I.hlt) });
  const r = h.launch();
  assert.equal(r.exit?.reason, 10);
  assert.equal(h.read('GUEST_RIP'), CPUID_AT(pre));
  assert.equal(h.read('GUEST_RSP'), 0x1ff000n - 8n);
  const fl = h.read('GUEST_RFLAGS');
  assert.equal(fl & 1n, 1n, 'CF');
  assert.equal(fl & 0x200n, 0x200n, 'IF');
  assert.equal(fl & 2n, 2n, 'bit 1');
});

test('CR0, CR3, CR4 are saved as the guest has them (§27.3.1)', () => {
  const pre = code([0x0f, 0x20, 0xc0], I.orEax(1 << 3), [0x0f, 0x22, 0xc0]); // CR0.TS = 1
  const h = vmx({ code: code(pre, I.cpuid, I.hlt) });
  const cr0Before = h.read('GUEST_CR0');
  const r = h.launch();
  assert.equal(r.exit?.reason, 10);
  assert.equal(h.read('GUEST_CR0'), cr0Before | 8n);
  assert.equal(h.read('GUEST_CR3'), BigInt(LAYOUT.GUEST_PML4));
  assert.equal(h.read('GUEST_CR4'), 0x2020n);
  assert.equal(h.cpu.cr0 & 8, 0, 'the host CR0 comes from HOST_CR0');
});

test('FS/GS bases written by WRMSR are saved in the segment base fields (§27.3.2)', () => {
  const pre = code(wrmsr(0xc0000100, 0x12345000, 0x7f), wrmsr(0xc0000101, 0xabc000, 0));
  const h = vmx({ code: code(pre, I.cpuid, I.hlt), controls: MSRB });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_FS_BASE'), 0x7f12345000n);
  assert.equal(h.read('GUEST_GS_BASE'), 0xabc000n);
  // The host's FS/GS bases come back from the host fields (§27.5.2).
  assert.equal(h.cpu.segBaseLo[4], 0);
  assert.equal(h.cpu.segBaseHi[4], 0);
});

test('SYSENTER MSRs are saved; the host values are loaded (§27.3.1, §27.5.1)', () => {
  const pre = code(wrmsr(0x174, 0x10), wrmsr(0x175, 0x11112222, 0xffff8000), wrmsr(0x176, 0x33334444, 0));
  const h = vmx({ code: code(pre, I.cpuid, I.hlt), fields: { HOST_IA32_SYSENTER_CS: 0x20, HOST_IA32_SYSENTER_EIP: 0x5000 }, controls: MSRB });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_IA32_SYSENTER_CS'), 0x10n);
  assert.equal(h.read('GUEST_IA32_SYSENTER_ESP'), 0xffff800011112222n);
  assert.equal(h.read('GUEST_IA32_SYSENTER_EIP'), 0x33334444n);
  assert.equal(getStored(h.cpu, 0x174), 0x20);
  assert.equal(getStored(h.cpu, 0x175), 0);
  assert.equal(h.cpu.vHi, 0);
  assert.equal(getStored(h.cpu, 0x176), 0x5000);
});

test('IA32_PAT is saved with "save IA32_PAT" and left alone without it (§27.3.1)', () => {
  for (const save of [true, false]) {
    const pre = wrmsr(0x277, 0x06060606, 0x04040404);
    const h = vmx({ code: code(pre, I.cpuid, I.hlt), controls: save ? { ...MSRB, exit: ['SAVE_IA32_PAT'] } : MSRB });
    assert.equal(h.launch().exit?.reason, 10);
    assert.equal(h.read('GUEST_IA32_PAT'), save ? 0x0404040406060606n : 0x0007040600070406n, `save=${save}`);
  }
});

test('IA32_EFER is saved with "save IA32_EFER" (§27.3.1)', () => {
  const pre = wrmsr(0xc0000080, 0xd01); // SCE | LME | LMA (ignored) | NXE
  const h = vmx({ code: code(pre, I.cpuid, I.hlt), controls: { ...MSRB, exit: ['SAVE_IA32_EFER'] } });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_IA32_EFER'), 0xd01n);
});

test('IA32_EFER is not saved without "save IA32_EFER"', () => {
  const pre = wrmsr(0xc0000080, 0xd01);
  const h = vmx({ code: code(pre, I.cpuid, I.hlt), controls: MSRB });
  h.vmcs.write('GUEST_IA32_EFER', 0x123);
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_IA32_EFER'), 0x123n);
});

test('DR7 is saved with "save debug controls", and the host gets DR7 = 400H (§27.3.1, §27.5.1)', () => {
  const pre = code(I.movEax(0x00000402), I.movDr7Rax);
  const h = vmx({ code: code(pre, I.cpuid, I.hlt), controls: { exit: ['SAVE_DEBUG_CONTROLS'] } });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_DR7'), 0x402n);
  assert.equal(h.cpu.dr7, 0x400);
});

test('DR7 is not saved without "save debug controls"', () => {
  const pre = code(I.movEax(0x00000402), I.movDr7Rax);
  const h = vmx({ code: code(pre, I.cpuid, I.hlt), controls: { not: { exit: ['SAVE_DEBUG_CONTROLS'] } } });
  if ((h.controls.exit & 4) !== 0) return; // the capability MSRs force the control to 1
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_DR7'), 0x400n);
});

test('IA32_DEBUGCTL round trip: loaded with "load debug controls", saved with "save debug controls" (§26.3.2.1, §27.3.1)', () => {
  const h = vmx({ code: code(I.cpuid, I.cpuid, I.hlt), controls: { entry: ['LOAD_DEBUG_CONTROLS'], exit: ['SAVE_DEBUG_CONTROLS'] }, fields: { GUEST_IA32_DEBUGCTL: 3 } });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_IA32_DEBUGCTL'), 3n);
});

test('IA32_DEBUGCTL is cleared by a VM exit (§27.5.1): an entry that does not load it sees 0', () => {
  const h = vmx({ code: code(I.cpuid, I.cpuid, I.hlt), controls: { entry: ['LOAD_DEBUG_CONTROLS'], exit: ['SAVE_DEBUG_CONTROLS'] }, fields: { GUEST_IA32_DEBUGCTL: 3 } });
  assert.equal(h.launch().exit?.reason, 10);
  if ((h.msr(0x490).lo & 4) !== 0) return; // "load debug controls" cannot be 0 on this model
  h.write('VM_ENTRY_CONTROLS', h.read('VM_ENTRY_CONTROLS') & ~4n);
  h.write('GUEST_IA32_DEBUGCTL', 1);
  assert.equal(h.skipAndResume().exit?.reason, 10);
  assert.equal(h.read('GUEST_IA32_DEBUGCTL'), 0n);
});

test('IA-32e mode guest is stored from IA32_EFER.LMA on exit (IA32_VMX_MISC bit 5, §27.2)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('VM_ENTRY_CONTROLS') & 0x200n, 0x200n);
  const p = vmx({ mode: 'protected', code: code(I.cpuid, I.hlt) });
  assert.equal(p.launch().exit?.reason, 10);
  assert.equal(p.read('VM_ENTRY_CONTROLS') & 0x200n, 0n);
});

test('segment registers, LDTR and TR are saved with base, limit and access rights (§27.3.2)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_CS_SELECTOR'), 0x08n);
  assert.equal(h.read('GUEST_CS_ACCESS_RIGHTS'), 0xa09bn);
  assert.equal(h.read('GUEST_CS_LIMIT'), 0xffffffffn);
  assert.equal(h.read('GUEST_SS_ACCESS_RIGHTS'), 0xc093n);
  assert.equal(h.read('GUEST_TR_SELECTOR'), 0x18n);
  assert.equal(h.read('GUEST_TR_ACCESS_RIGHTS'), 0x8bn);
  assert.equal(h.read('GUEST_TR_LIMIT'), 0x67n);
  assert.equal(h.read('GUEST_LDTR_ACCESS_RIGHTS'), 0x10000n);
});

test('GDTR and IDTR loaded by the guest are saved (§27.3.2)', () => {
  // Descriptor at 0x180000: limit 0x1ff, base 0x123456789000.
  const pre = code(I.movEax(0x180000), I.lidtRax);
  const h = vmx({ code: code(pre, I.cpuid, I.hlt) });
  h.load(0x180000, [0xff, 0x01, 0x00, 0x90, 0x78, 0x56, 0x34, 0x12, 0, 0]);
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_IDTR_BASE'), 0x123456789000n);
  assert.equal(h.read('GUEST_IDTR_LIMIT'), 0x1ffn);
  assert.equal(h.cpu.idtrLimit, 0xffff, 'host IDTR limit FFFFH (§27.5.2)');
});

test('interruptibility: STI blocking is saved for an exit right after STI (§27.3.4)', () => {
  const h = vmx({ code: code(I.sti, I.cpuid, I.hlt) });
  const r = h.launch();
  assert.equal(r.exit?.reason, 10);
  // The processor model keeps the interrupt shadow only until the next instruction starts.
  const v = h.read('GUEST_INTERRUPTIBILITY_STATE');
  assert.ok(v === 0n || v === 1n, `interruptibility ${v}`);
});

test('interruptibility: NMI blocking loaded at entry is saved at exit (bit 3)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { GUEST_INTERRUPTIBILITY_STATE: 8 } });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_INTERRUPTIBILITY_STATE'), 8n);
});

test('pending debug exceptions are saved as 0 for a CPUID exit, even with a single-step pending (§27.3.4)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { GUEST_RFLAGS: 0x102 } });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_PENDING_DEBUG_EXCEPTIONS'), 0n);
  assert.equal(h.cpu.stepArmed, false, 'the host does not inherit the trap');
});

test('pending debug exceptions: an MTF exit after a single-stepped instruction saves BS (§27.3.4)', () => {
  const h = vmx({ code: code(I.nop, I.cpuid, I.hlt), controls: { proc: ['MONITOR_TRAP_FLAG'] }, fields: { GUEST_RFLAGS: 0x102 } });
  const r = h.launch();
  assert.equal(r.exit?.reason, 37);
  assert.equal(r.exit?.guestRip, BigInt(LAYOUT.GUEST_CODE + 1));
  assert.equal(h.read('GUEST_PENDING_DEBUG_EXCEPTIONS'), 0x4000n);
});

test('pending debug exceptions: an MTF exit without TF saves 0', () => {
  const h = vmx({ code: code(I.nop, I.cpuid, I.hlt), controls: { proc: ['MONITOR_TRAP_FLAG'] } });
  assert.equal(h.launch().exit?.reason, 37);
  assert.equal(h.read('GUEST_PENDING_DEBUG_EXCEPTIONS'), 0n);
});

test('RFLAGS.RF is saved as 0 for an instruction-caused exit (§27.3.3)', () => {
  // RF = 1 at entry suppresses instruction breakpoints for the first instruction; CPUID is it.
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { GUEST_RFLAGS: 0x10002 } });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_RFLAGS') & 0x10000n, 0n);
});

test('RFLAGS.RF is saved as 1 for an EPT violation outside event delivery (§27.3.3)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  assert.equal(h.launch().exit?.reason, 10);
  h.skipInstruction();
  assert.equal(h.vmresume().kind, 'entered');
  h.engine.exit(48, 0x181, 0, 0, 0, h.cpu.ripLo, h.cpu.ripHi);
  assert.equal(h.read('GUEST_RFLAGS') & 0x10000n, 0x10000n);
});

test('VM exit clears the valid bit of the VM-entry interruption-information field (§24.8.3)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), controls: { proc: ['HLT_EXITING'] } });
  assert.equal(h.launch().exit?.reason, 10);
  // Inject an external interrupt (vector 0x30): the handler stub HLTs, which exits (12).
  h.write('VM_ENTRY_INTERRUPTION_INFORMATION', 0x80000030);
  h.write('GUEST_RFLAGS', 0x202);
  const r = h.skipAndResume();
  assert.equal(r.exit?.reason, 12);
  assert.equal(h.read('VM_ENTRY_INTERRUPTION_INFORMATION'), 0x30n);
});

test('setExitExtra: interruption and IDT-vectoring information with error codes are recorded (§27.2.2, §27.2.4)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  assert.equal(h.launch().exit?.reason, 10);
  h.skipInstruction();
  assert.equal(h.vmresume().kind, 'entered');
  setExitExtra(h.engine, 0x80000b0e, 0x6, 0x80000b0d, 0x18);
  h.engine.exit(0, 0x1234, 0, 0, 0, h.cpu.ripLo, h.cpu.ripHi);
  const x = h.exitInfo();
  assert.equal(x.reason, 0);
  assert.equal(x.qualification, 0x1234n);
  assert.equal(x.intrInfo, 0x80000b0e);
  assert.equal(x.intrError, 6);
  assert.equal(x.idtInfo, 0x80000b0d);
  assert.equal(x.idtError, 0x18);
  assert.equal(h.cpu.nonRoot, false);
});

test('the exit qualification keeps 64 bits; instruction length and information are recorded', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  h.launch();
  h.skipInstruction();
  h.vmresume();
  h.engine.exit(28, 0x89abcdef | 0, 0x1234567, 3, 0x55, h.cpu.ripLo, h.cpu.ripHi);
  assert.equal(h.read('EXIT_QUALIFICATION'), 0x123456789abcdefn);
  assert.equal(h.read32f('VM_EXIT_INSTRUCTION_LENGTH'), 3);
  assert.equal(h.read32f('VM_EXIT_INSTRUCTION_INFORMATION'), 0x55);
  assert.equal(h.read32f('EXIT_REASON'), 28);
});

test('saveRfOfFault sets RF in the saved RFLAGS of an exception exit (§27.3.3)', async () => {
  const { saveRfOfFault } = await import('../../src/vmx/vmExitSave');
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_RFLAGS') & 0x10000n, 0n);
  saveRfOfFault(h.engine);
  assert.equal(h.read('GUEST_RFLAGS') & 0x10000n, 0x10000n);
});
