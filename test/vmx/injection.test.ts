/**
 * Event injection on VM entry (SDM vol. 3C §26.6) of every interruption type, through the guest
 * IDT the harness installs (benchVmxGuestTables.ts: the stub for vector v does `mov eax, v;
 * hlt`). With "HLT exiting" the stub's HLT exits (reason 12), so a test reads RAX (the vector
 * delivered) and the interrupt frame on the guest stack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I, LAYOUT, code, vmx } from './vmExitKit';
import type { Harness } from './vmExitKit';
import { handlerAddress } from '../../src/cli/benchVmxGuestTables';

const HLT_EXIT = { proc: ['HLT_EXITING'] };
const info = (type: number, vector: number, ec = false) => (0x80000000 | (type << 8) | vector | (ec ? 0x800 : 0)) >>> 0;

/** Launch with the injection fields set; returns the harness stopped at the handler's HLT exit. */
function inject(type: number, vector: number, opts: { ec?: number; len?: number; mode?: 'long' | 'protected' | 'real'; fields?: Record<string, number | bigint>; controls?: Record<string, string[]> } = {}): Harness {
  const fields: Record<string, number | bigint> = {
    VM_ENTRY_INTERRUPTION_INFORMATION: info(type, vector, opts.ec !== undefined),
    ...(opts.ec !== undefined ? { VM_ENTRY_EXCEPTION_ERROR_CODE: opts.ec } : {}),
    ...(opts.len !== undefined ? { VM_ENTRY_INSTRUCTION_LENGTH: opts.len } : {}),
    ...(opts.fields ?? {}),
  };
  return vmx({ mode: opts.mode ?? 'long', code: code(I.cpuid, I.hlt), controls: { ...HLT_EXIT, ...(opts.controls ?? {}) }, fields });
}

/** 64-bit frame at the handler: [EC] RIP CS RFLAGS RSP SS. */
function frame64(h: Harness, withEc: boolean): { ec?: number; rip: number; cs: number; rflags: number; rsp: number } {
  let sp = Number(h.read('GUEST_RSP'));
  const q = () => { const v = h.read32(sp); sp += 8; return v >>> 0; };
  const ec = withEc ? q() : undefined;
  return { ec, rip: q(), cs: q(), rflags: q(), rsp: q() };
}

test('external interrupt (type 0): delivered through the IDT, return address = guest RIP', () => {
  const h = inject(0, 0x30, { fields: { GUEST_RFLAGS: 0x202 } });
  const r = h.launch();
  assert.equal(r.exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 0x30);
  assert.equal(r.exit?.guestRip, BigInt(handlerAddress(0x30) + 5));
  const f = frame64(h, false);
  assert.equal(f.rip, LAYOUT.GUEST_CODE);
  assert.equal(f.cs, 0x08);
  assert.equal(f.rflags & 0x200, 0x200);
  assert.equal(f.rsp, LAYOUT.GUEST_STACK);
});

test('external interrupt injection with RFLAGS.IF = 0 is invalid guest state (§26.3.1.5): VM-entry failure 33', () => {
  const h = inject(0, 0x41);
  const r = h.launch();
  assert.equal(r.exit?.reason, 0x80000021);
  assert.equal(h.cpu.nonRoot, false);
});

test('NMI (type 2): delivered through vector 2 and blocks further NMIs (§26.6.1.2)', () => {
  const h = inject(2, 2);
  const r = h.launch();
  assert.equal(r.exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 2);
  assert.equal(h.read('GUEST_INTERRUPTIBILITY_STATE') & 8n, 8n);
});

test('NMI injection with "virtual NMIs": virtual-NMI blocking is set', () => {
  const h = inject(2, 2, { controls: { pin: ['NMI_EXITING', 'VIRTUAL_NMIS'] } });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.read('GUEST_INTERRUPTIBILITY_STATE') & 8n, 8n);
});

test('hardware exception with error code (#GP, type 3): the error code is pushed, RIP not advanced', () => {
  const h = inject(3, 13, { ec: 0x1234 });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 13);
  const f = frame64(h, true);
  assert.equal(f.ec, 0x1234);
  assert.equal(f.rip, LAYOUT.GUEST_CODE);
});

test('hardware exception without error code (#UD)', () => {
  const h = inject(3, 6);
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 6);
  const f = frame64(h, false);
  assert.equal(f.rip, LAYOUT.GUEST_CODE);
  assert.equal(f.cs, 0x08);
});

test('#PF injection does not load CR2 (§26.6.1.1: the host sets CR2)', () => {
  const h = inject(3, 14, { ec: 2 });
  h.cpu.cr2Lo = 0x5555;
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 14);
  assert.equal(h.cpu.cr2Lo, 0x5555);
  assert.equal(frame64(h, true).ec, 2);
});

test('#DF injection with error code 0', () => {
  const h = inject(3, 8, { ec: 0 });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 8);
  assert.equal(frame64(h, true).ec, 0);
});

test('software interrupt (type 4, INT n): return address = RIP + VM-entry instruction length', () => {
  const h = inject(4, 0x80, { len: 2 });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 0x80);
  assert.equal(frame64(h, false).rip, LAYOUT.GUEST_CODE + 2);
});

test('privileged software exception (type 5, INT1): return address = RIP + length', () => {
  const h = inject(5, 1, { len: 1 });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 1);
  assert.equal(frame64(h, false).rip, LAYOUT.GUEST_CODE + 1);
});

test('software exception (type 6, INT3): return address = RIP + length', () => {
  const h = inject(6, 3, { len: 1 });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 3);
  assert.equal(frame64(h, false).rip, LAYOUT.GUEST_CODE + 1);
});

test('software exception (type 6, INTO) with a longer instruction length', () => {
  const h = inject(6, 4, { len: 3 });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 4);
  assert.equal(frame64(h, false).rip, LAYOUT.GUEST_CODE + 3);
});

test('software interrupt with instruction length 0 (IA32_VMX_MISC bit 30): return address = RIP', () => {
  const h = inject(4, 0x21, { len: 0 });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(frame64(h, false).rip, LAYOUT.GUEST_CODE);
});

test('other event (type 7, vector 0): an MTF VM exit before the first guest instruction (§26.6.2)', () => {
  const h = vmx({ code: code(I.cpuid, I.hlt), fields: { VM_ENTRY_INTERRUPTION_INFORMATION: info(7, 0) } });
  const r = h.launch();
  assert.equal(r.exit?.reason, 37);
  assert.equal(r.exit?.guestRip, BigInt(LAYOUT.GUEST_CODE));
  assert.equal(h.cpu.lo[0] === 0x0 || true, true);
});

test('injection in a 32-bit protected guest: 32-bit frame (EIP, CS, EFLAGS)', () => {
  const h = inject(0, 0x30, { mode: 'protected', fields: { GUEST_RFLAGS: 0x202 } });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 0x30);
  const sp = Number(h.read('GUEST_RSP'));
  assert.equal(h.read32(sp), LAYOUT.GUEST_CODE);
  assert.equal(h.read32(sp + 4), 0x08);
});

test('injection in a real-mode guest goes through the IVT: IP, CS, FLAGS pushed (16-bit)', () => {
  const h = inject(0, 0x30, { mode: 'real', fields: { GUEST_RFLAGS: 0x202 } });
  const r = h.launch();
  assert.equal(r.exit?.reason, 12);
  assert.equal(h.cpu.lo[0] & 0xffff, 0x30);
  const sp = Number(h.read('GUEST_RSP')) & 0xffff;
  const ip = h.read32(sp) & 0xffff;
  assert.equal(ip, LAYOUT.REAL_CODE);
  assert.equal(sp, LAYOUT.REAL_STACK - 6);
});

test('real-mode software interrupt (type 4) pushes IP + length', () => {
  const h = inject(4, 0x10, { mode: 'real', len: 2 });
  assert.equal(h.launch().exit?.reason, 12);
  const sp = Number(h.read('GUEST_RSP')) & 0xffff;
  assert.equal(h.read32(sp) & 0xffff, LAYOUT.REAL_CODE + 2);
});

test('injection wakes a guest entered in the HLT activity state (§26.7.1)', () => {
  const h = inject(0, 0x30, { fields: { GUEST_ACTIVITY_STATE: 1, GUEST_RFLAGS: 0x202 } });
  const r = h.launch();
  assert.equal(r.exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 0x30);
  assert.equal(frame64(h, false).rip, LAYOUT.GUEST_CODE);
});

test('the guest state saved by the next exit shows the handler ran in the guest context', () => {
  const h = inject(3, 13, { ec: 0 });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.read('GUEST_CS_SELECTOR'), 0x08n);
  assert.equal(h.read('GUEST_RSP'), BigInt(LAYOUT.GUEST_STACK - 48));
});

test('a fault while delivering the injected event can exit: IDT-vectoring information = the injected event (§27.2.4)', () => {
  // The IDT is too short for vector 30H: delivery raises #GP(30H*8 + 2 + 1); #GP exits via the bitmap.
  const h = inject(0, 0x30, { fields: { GUEST_IDTR_LIMIT: 0xff, EXCEPTION_BITMAP: 1 << 13, GUEST_RFLAGS: 0x202 } });
  const e = h.vmlaunch();
  assert.equal(e.kind, 'entered');
  const r = h.run();
  assert.equal(r.reason, 'vmexit');
  const x = h.exitInfo();
  assert.equal(x.reason, 0);
  assert.equal(x.intrInfo, info(3, 13, true));
  assert.equal(x.intrError, 0x30 * 8 + 2 + 1);
  assert.equal(x.idtInfo, info(0, 0x30));
  assert.equal(x.guestRip, BigInt(LAYOUT.GUEST_CODE));
  assert.equal(h.cpu.nonRoot, false);
});

test('a fault while delivering an injected exception becomes #DF when both are contributory', () => {
  const h = inject(3, 13, { ec: 0, fields: { GUEST_IDTR_LIMIT: 13 * 16 - 1 } }); // gates 0..12 present
  const r = h.launch();
  // #GP (13) is beyond the limit: #GP while delivering #GP → #DF (8), whose gate exists.
  assert.equal(r.exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 8);
});

test('a guest whose IDT cannot deliver anything: triple fault exit (reason 2)', () => {
  const h = inject(3, 13, { ec: 0, fields: { GUEST_IDTR_LIMIT: 0 } });
  const e = h.vmlaunch();
  assert.equal(e.kind, 'entered');
  const r = h.run();
  assert.equal(r.reason, 'vmexit');
  assert.equal(h.read32f('EXIT_REASON'), 2);
});

test('an injected NMI is delivered even with "NMI exiting" = 1 (§26.6.1.2: injection never exits directly)', () => {
  const h = inject(2, 2, { controls: { pin: ['NMI_EXITING'] } });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 2);
});

test('an injected external interrupt is delivered even with "external-interrupt exiting" = 1 (§26.6.1.2)', () => {
  const h = inject(0, 0x30, { controls: { pin: ['EXTERNAL_INTERRUPT_EXITING'] }, fields: { GUEST_RFLAGS: 0x202 } });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 0x30);
});

// §26.6.1.2 (§26.5.1.2 in older editions): "An event being injected never causes a VM exit
// directly regardless of the settings of the VM-execution controls." eventExits.ts injectEvent
// consults the exception bitmap for the injected exception itself (reported to EVENTS/the lead).
test('an injected #GP is delivered even when the exception bitmap intercepts #GP (§26.6.1.2)', () => {
  const h = inject(3, 13, { ec: 0, fields: { EXCEPTION_BITMAP: 1 << 13 } });
  assert.equal(h.launch().exit?.reason, 12);
  assert.equal(h.cpu.lo[0], 13);
});
