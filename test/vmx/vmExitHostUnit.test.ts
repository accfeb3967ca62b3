/**
 * hostState.ts on its own (SDM vol. 3C §27.5, §27.7): host states the harness's 64-bit host does
 * not reach — a 32-bit host ("host address-space size" = 0), a PAE-paging host and its PDPTE
 * check — driven directly on a processor that has just left a guest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I, LAYOUT, code, vmx } from './vmExitKit';
import { Abort, CR0_KEEP, applyMode, loadHostState, vmxAbort } from '../../src/vmx/hostState';
import { transitionState } from '../../src/vmx/vmExitFields';
import { pdpteRegister } from '../../src/x86/paging';

/** A harness stopped at a CPUID exit of a 32-bit guest, with the processor made to look as in a 32-bit guest again. */
function afterExit32() {
  const h = vmx({ mode: 'protected', code: code(I.cpuid, I.hlt) });
  assert.equal(h.launch().exit?.reason, 10);
  const c = h.cpu;
  // The processor as a 32-bit guest left it (not IA-32e mode), then a 32-bit host's exit controls.
  c.efer &= ~0x500;
  c.longMode = false;
  c.cr4 |= 1 << 17; // PCIDE, to see it cleared
  h.engine.exitCtls &= ~(1 << 9);
  return h;
}

test('32-bit host: CS attributes C09BH (L = 0, D = 1), EFER.LMA/LME cleared, RIP/RSP bits 63:32 cleared (§27.5)', () => {
  const h = afterExit32();
  h.vmcs.write('HOST_RIP', 0x1234_00001000n);
  h.vmcs.write('HOST_RSP', 0x1234_00003000n);
  h.vmcs.write('HOST_CR4', h.vmcs.read('HOST_CR4') & ~0x20n); // no PAE paging: no PDPTEs to load
  const a = loadHostState(h.engine, h.vmcs, transitionState(h.engine), false);
  assert.equal(a, 0);
  const c = h.cpu;
  assert.equal(c.segAttr[1], 0xc09b);
  assert.equal(c.efer & 0x500, 0);
  assert.equal(c.ripHi, 0);
  assert.equal(c.ripLo, 0x1000);
  assert.equal(c.hi[4], 0);
  assert.equal(c.bitness, 32);
  assert.equal(c.longMode, false);
});

test('32-bit host: CR4.PCIDE is cleared, CR3 bits 63:32 are cleared (§27.5.1)', () => {
  const h = afterExit32();
  h.vmcs.write('HOST_CR4', h.vmcs.read('HOST_CR4') | (1n << 17n));
  h.vmcs.write('HOST_CR3', 0x5_0002_0000n);
  assert.equal(loadHostState(h.engine, h.vmcs, transitionState(h.engine), false), 0);
  assert.equal(h.cpu.cr4 & (1 << 17), 0);
  assert.equal(h.cpu.cr3Hi, 0);
  assert.equal(h.cpu.cr3Lo, 0x20000);
});

test('64-bit host: CR4.PAE is set even when the field has it clear (§27.5.1)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  h.write('HOST_CR4', h.read('HOST_CR4') & ~0x20n);
  const r = h.launch();
  // The host-state checks of §26.2.2 require PAE for a 64-bit host: VMfailValid 8 — or, when the
  // checks let it through, the exit sets PAE.
  if (r.entry.kind === 'fail') {
    assert.equal(h.read32f('VM_INSTRUCTION_ERROR'), 8);
    return;
  }
  assert.equal(h.cpu.cr4 & 0x20, 0x20);
});

test('a processor in IA-32e mode cannot exit to a 32-bit host: VMX abort 6 (§27.5, §27.7)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  assert.equal(h.launch().exit?.reason, 10);
  h.engine.exitCtls &= ~(1 << 9);
  assert.equal(loadHostState(h.engine, h.vmcs, transitionState(h.engine), false), Abort.LongModeToLegacy);
});

test('PAE-paging 32-bit host: PDPTEs reloaded from HOST_CR3 (§27.5.4)', () => {
  const h = afterExit32();
  h.load(0x30000, [0x01, 0x10, 0x03, 0, 0, 0, 0, 0]);
  h.vmcs.write('HOST_CR3', 0x30000);
  h.vmcs.write('HOST_CR4', h.vmcs.read('HOST_CR4') | 0x20n);
  assert.equal(loadHostState(h.engine, h.vmcs, transitionState(h.engine), false), 0);
  assert.equal(pdpteRegister(h.cpu, 0), 0x31001);
});

test('PAE-paging 32-bit host with a reserved bit in a PDPTE: VMX abort 2 (§27.5.4, §27.7)', () => {
  const h = afterExit32();
  h.load(0x30000, [0x07, 0x10, 0x03, 0, 0, 0, 0, 0]);
  h.vmcs.write('HOST_CR3', 0x30000);
  h.vmcs.write('HOST_CR4', h.vmcs.read('HOST_CR4') | 0x20n);
  assert.equal(loadHostState(h.engine, h.vmcs, transitionState(h.engine), false), Abort.HostPdpte);
});

test('vmxAbort writes the indicator at byte 4 of the VMCS region and shuts the processor down (§27.7)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  assert.equal(h.launch().exit?.reason, 10);
  vmxAbort(h.engine, h.vmcs, Abort.Corrupt);
  assert.equal(h.read32(LAYOUT.VMCS + 4), 3);
  assert.equal(h.vmcs.abortIndicator, 3);
  assert.equal(h.cpu.inShutdown, true);
  assert.equal(h.run(10).reason, 'shutdown');
});

test('CR0_KEEP covers ET, NW, CD and the reserved bits 15:6, 17, 28:19 (§26.3.2.1, §27.5.1)', () => {
  assert.equal(CR0_KEEP >>> 0, (0x10 | 0xffc0 | 0x20000 | 0x1ff80000 | 0x20000000 | 0x40000000) >>> 0);
  assert.equal(CR0_KEEP & 0x8001002f, 0, 'PE MP EM TS NE WP AM PG are loaded');
});

test('applyMode drops translated code only when the operating mode changes', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt) });
  const c = h.cpu;
  c.setRip(LAYOUT.HOST_CODE);
  c.run(c.icount + 1);
  const before = c.blocksTranslated;
  applyMode(c);
  c.setRip(LAYOUT.HOST_CODE);
  c.halted = false;
  c.run(c.icount + 1);
  assert.equal(c.blocksTranslated, before, 'same mode: the block is reused');
});
