/**
 * Loading host state on VM exits (SDM vol. 3C §27.5): control and debug registers, MSRs,
 * segment and descriptor-table registers with the SDM's fixed attributes, RIP/RSP/RFLAGS, and
 * the non-register state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I, LAYOUT, code, vmx, wrmsr } from './vmExitKit';
import { getStored } from '../../src/x86/msr';

function exited(opts: Parameters<typeof vmx>[0] = {}, guest: number[] = code(I.cpuid, I.hlt)) {
  const h = vmx({ code: guest, ...opts });
  const r = h.launch();
  assert.equal(r.exit?.reason, 10, `exit ${JSON.stringify(r.result)}`);
  return h;
}

test('RIP, RSP from the host fields; RFLAGS = 2; CPL 0; root operation (§27.5.3)', () => {
  const h = exited({ regs: {} }, code(I.stc, I.sti, I.cpuid, I.hlt));
  const c = h.cpu;
  assert.equal(c.getRip(), BigInt(LAYOUT.HOST_CODE));
  assert.equal(c.getReg64(4), BigInt(LAYOUT.HOST_STACK));
  assert.equal(c.getRflags(), 2);
  assert.equal(c.cpl, 0);
  assert.equal(c.nonRoot, false);
  assert.equal(c.bitness, 64);
});

test('HOST_RIP and HOST_RSP with high halves (64-bit host)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  h.write('HOST_RIP', 0x00007fff00001000n);
  h.write('HOST_RSP', 0x00007fff00003000n);
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.cpu.getRip(), 0x00007fff00001000n);
  assert.equal(h.cpu.getReg64(4), 0x00007fff00003000n);
});

test('CS: selector from the field, base 0, limit FFFFFFFFH, attributes A09BH for a 64-bit host (§27.5.2)', () => {
  const h = exited();
  const c = h.cpu;
  assert.equal(c.segSel[1], 0x08);
  assert.equal(c.segBaseLo[1], 0);
  assert.equal(c.segLimit[1], 0xffffffff);
  assert.equal(c.segAttr[1], 0xa09b);
});

test('SS/DS/ES/FS/GS with selectors: usable, base 0, limit FFFFFFFFH, attributes C093H (§27.5.2)', () => {
  const h = exited();
  for (const s of [0, 2, 3, 4, 5]) {
    assert.equal(h.cpu.segSel[s], 0x10, `seg ${s}`);
    assert.equal(h.cpu.segAttr[s], 0xc093, `seg ${s}`);
    assert.equal(h.cpu.segLimit[s], 0xffffffff, `seg ${s}`);
  }
});

test('a null host selector leaves DS/ES/FS/GS/SS unusable (§27.5.2)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { HOST_DS_SELECTOR: 0, HOST_ES_SELECTOR: 0, HOST_FS_SELECTOR: 0, HOST_GS_SELECTOR: 0, HOST_SS_SELECTOR: 0 } });
  assert.equal(h.launch().exit?.reason, 10);
  for (const s of [0, 2, 3, 4, 5]) {
    assert.equal(h.cpu.segSel[s], 0);
    assert.equal(h.cpu.segAttr[s] & 0x10000, 0x10000, `seg ${s} unusable`);
    assert.equal((h.cpu.segAttr[s] >> 5) & 3, 0, `seg ${s} DPL 0`);
  }
});

test('FS and GS bases come from the host fields even when the guest changed them (§27.5.2)', () => {
  const h = vmx({ code: code(wrmsr(0xc0000100, 0x5000), I.cpuid, I.hlt), controls: { proc: ['USE_MSR_BITMAPS'] }, fields: { HOST_FS_BASE: 0x7000, HOST_GS_BASE: 0xffff800000001000n } });
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.cpu.segBaseLo[4], 0x7000);
  assert.equal(h.cpu.segBaseLo[5], 0x1000);
  assert.equal(h.cpu.segBaseHi[5], 0xffff8000 | 0);
});

test('TR: selector, base from the fields, limit 67H, busy 64-bit TSS (8BH); LDTR null and unusable (§27.5.2)', () => {
  const h = exited({ fields: { HOST_TR_BASE: 0x9000 } });
  const c = h.cpu;
  assert.equal(c.segSel[7], 0x18);
  assert.equal(c.segBaseLo[7], 0x9000);
  assert.equal(c.segLimit[7], 0x67);
  assert.equal(c.segAttr[7], 0x8b);
  assert.equal(c.segSel[6], 0);
  assert.equal(c.segAttr[6] & 0x10000, 0x10000);
});

test('GDTR/IDTR: bases from the fields, limits FFFFH (§27.5.2)', () => {
  const h = exited({ fields: { HOST_GDTR_BASE: 0x24000, HOST_IDTR_BASE: 0x26000 } });
  assert.equal(h.cpu.gdtrBaseLo, 0x24000);
  assert.equal(h.cpu.gdtrLimit, 0xffff);
  assert.equal(h.cpu.idtrBaseLo, 0x26000);
  assert.equal(h.cpu.idtrLimit, 0xffff);
});

test('CR0/CR3/CR4 from the host fields; the guest\'s values are gone (§27.5.1)', () => {
  const h = exited();
  const c = h.cpu;
  assert.equal(c.cr0 >>> 0, Number(h.read('HOST_CR0')));
  assert.equal((BigInt(c.cr3Hi >>> 0) << 32n) | BigInt(c.cr3Lo >>> 0), h.read('HOST_CR3'));
  assert.equal(c.cr4, Number(h.read('HOST_CR4')));
  assert.notEqual(c.cr3Lo, LAYOUT.GUEST_PML4);
});

test('CR0.CD and NW are not modified by a VM exit (§27.5.1)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  h.write('HOST_CR0', h.read('HOST_CR0') | 0x40000000n); // CD in the field: ignored
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.cpu.cr0 & 0x40000000, 0);
});

test('EFER.LMA/LME follow "host address-space size"; without "load IA32_EFER" other bits are kept (§27.5.1)', () => {
  const h = exited();
  assert.equal(h.cpu.efer & 0x500, 0x500);
  assert.equal(h.cpu.longMode, true);
});

test('"load IA32_EFER" on exit loads HOST_IA32_EFER (§27.5.1)', () => {
  const h = exited({ controls: { exit: ['LOAD_IA32_EFER'] }, fields: { HOST_IA32_EFER: 0xd01 } });
  assert.equal(h.cpu.efer, 0xd01);
});

test('"load IA32_PAT" on exit loads HOST_IA32_PAT; without it the guest\'s PAT stays (§27.5.1)', () => {
  const guest = code(wrmsr(0x277, 0x06060606, 0x06060606), I.cpuid, I.hlt);
  const a = exited({ controls: { proc: ['USE_MSR_BITMAPS'], exit: ['LOAD_IA32_PAT'] }, fields: { HOST_IA32_PAT: 0x0007040600070406n } }, guest);
  assert.equal(getStored(a.cpu, 0x277), 0x00070406);
  const b = exited({ controls: { proc: ['USE_MSR_BITMAPS'] } }, guest);
  assert.equal(getStored(b.cpu, 0x277), 0x06060606);
});

test('DR7 = 400H after every exit (§27.5.1)', () => {
  const h = exited({ controls: { entry: ['LOAD_DEBUG_CONTROLS'] }, fields: { GUEST_DR7: 0x4ff } });
  assert.equal(h.cpu.dr7, 0x400);
});

test('no interrupt shadow and no pending single-step for the host (§27.5.5)', () => {
  const h = exited({}, code(I.sti, I.cpuid, I.hlt));
  assert.equal(h.cpu.interruptShadow, false);
  assert.equal(h.cpu.stepArmed, false);
  assert.equal(h.cpu.dbgHits, 0);
});

test('with "virtual NMIs" the host\'s own NMI blocking comes back (§25.3, §27.5.5)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), controls: { pin: ['NMI_EXITING', 'VIRTUAL_NMIS'] }, fields: { GUEST_INTERRUPTIBILITY_STATE: 8 } });
  h.cpu.nmiBlocked = false;
  assert.equal(h.launch().exit?.reason, 10);
  assert.equal(h.read('GUEST_INTERRUPTIBILITY_STATE') & 8n, 8n, 'virtual-NMI blocking saved');
  assert.equal(h.cpu.nmiBlocked, false);
});

test('without "virtual NMIs" the guest\'s NMI blocking carries over to the host (§27.5.5: not changed)', () => {
  const h = exited({ fields: { GUEST_INTERRUPTIBILITY_STATE: 8 } });
  assert.equal(h.cpu.nmiBlocked, true);
});

test('the host resumes executing at HOST_RIP (HLT there) after an exit when exits do not stop the run', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  h.cpu.vmExitStops = false;
  assert.equal(h.vmlaunch().kind, 'entered');
  const r = h.run(1000);
  assert.equal(r.reason, 'hlt');
  assert.equal(h.cpu.getRip(), BigInt(LAYOUT.HOST_CODE + 1));
  assert.equal(h.read32f('EXIT_REASON'), 10);
});

test('a 32-bit protected guest exits to the 64-bit host: mode and code size switch back', () => {
  const h = vmx({ mode: 'protected', code: code(I.cpuid, I.hlt) });
  assert.equal(h.vmlaunch().kind, 'entered');
  assert.equal(h.cpu.bitness, 32);
  assert.equal(h.cpu.longMode, false);
  assert.equal(h.run().reason, 'vmexit');
  assert.equal(h.cpu.bitness, 64);
  assert.equal(h.cpu.longMode, true);
  assert.equal(h.cpu.protectedMode, true);
});

test('a real-mode guest (unrestricted guest) exits to the 64-bit host', () => {
  const h = vmx({ mode: 'real', code: code(I.cpuid, I.hlt) });
  assert.equal(h.vmlaunch().kind, 'entered');
  assert.equal(h.cpu.protectedMode, false);
  assert.equal(h.cpu.bitness, 16);
  assert.equal(h.run().reason, 'vmexit');
  assert.equal(h.read32f('EXIT_REASON'), 10);
  assert.equal(h.read('GUEST_RIP'), BigInt(LAYOUT.REAL_CODE));
  assert.equal(h.cpu.protectedMode, true);
  assert.equal(h.cpu.bitness, 64);
});
