/**
 * The seed's data structures (reference §4) and event injection (§5), observed through guests
 * running under the Vmm: the exit sequence, the VMCS fields and the guest's state.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runGuest, runWithHandlers, exceptions, POWEROFF, SEED, type GuestRun } from './harness';
import { readMsr } from '../../src/hypervisor/setup';
import { MSR_VMX } from '../../src/vmx/controlChoice';
import { EXIT_REASON_BY_NUMBER } from '../../src/vmx/exitReasons';
import type { Vmm } from '../../src/vmm/vmm';

/** Record the VM-entry event-injection fields at every VMRESUME (what the hypervisor injected). */
function recordInjections(vmm: Vmm, into: Array<{ info: number; errorCode: number; length: number }>): void {
  const e = vmm.vcpu.engine;
  const v = vmm.vcpu.v;
  const orig = e.vmresume.bind(e);
  e.vmresume = () => {
    const info = v.read32('VM_ENTRY_INTERRUPTION_INFORMATION');
    if ((info & 0x80000000) !== 0) into.push({ info, errorCode: v.read32('VM_ENTRY_EXCEPTION_ERROR_CODE'), length: v.read32('VM_ENTRY_INSTRUCTION_LENGTH') });
    return orig();
  };
}

const byte = (r: GuestRun, a: number): number => r.vmm.machine.mem.read8(a);
const word = (r: GuestRun, a: number): number => byte(r, a) | (byte(r, a + 1) << 8);

describe('reference §4: data structures', () => {
  it('§4 VMCS region: 4 KiB, first 32 bits = the revision id of IA32_VMX_BASIC (bit 31, shadow indicator, clear)', () => {
    const r = runGuest(POWEROFF);
    const m = r.vmm.machine.mem;
    const at = r.vmm.layout.vmcs;
    const first = (m.read8(at) | (m.read8(at + 1) << 8) | (m.read8(at + 2) << 16) | (m.read8(at + 3) << 24)) >>> 0;
    assert.equal(first, readMsr(r.vmm.cpu, MSR_VMX.BASIC).lo & 0x7fffffff);
    assert.equal(at % 4096, 0);
    assert.equal(r.vmm.layout.vmcs - r.vmm.layout.vmxon, 0x1000);
  });

  it('§4 I/O bitmap layout: A for 0x0000-0x7FFF, B for 0x8000-0xFFFF, bit (port % 8) of byte (port / 8), 1 = exit', () => {
    const r = runGuest(`
      mov dx, 0x80
      out dx, al
      mov dx, 0x81
      out dx, al
      mov dx, 0x8000
      out dx, al
      mov dx, 0x8001
      out dx, al
      mov dx, 0x8009
      in al, dx
      ${POWEROFF}`, { interception: { ...SEED, io: [[0x81, 0x81], [0x8001, 0x8001], [0x8009, 0x8009], [0x604, 0x604]] } });
    assert.deepEqual(r.exits.map((e) => Number(e.fields.port).toString(16)), ['81', '8001', '8009', '604']);
    const m = r.vmm.machine.mem;
    const L = r.vmm.layout;
    assert.equal(m.read8(L.ioBitmapA + (0x81 >> 3)), 1 << (0x81 & 7));
    assert.equal(m.read8(L.ioBitmapB + 0), 1 << 1, 'port 0x8001: page B byte 0 bit 1');
    assert.equal(m.read8(L.ioBitmapB + 1), 1 << 1, 'port 0x8009: page B byte 1 bit 1');
    assert.equal(m.read8(L.ioBitmapA + (0x604 >> 3)), 1 << (0x604 & 7));
    assert.equal(r.field('IO_BITMAP_A'), BigInt(L.ioBitmapA));
    assert.equal(r.field('IO_BITMAP_B'), BigInt(L.ioBitmapB));
  });

  it('§4 MSR bitmap layout: read-low +0, read-high +0x400, write-low +0x800, write-high +0xC00; MSRs outside both ranges always exit', () => {
    const r = runWithHandlers('protected', `
      mov ecx, 0xc0000100
      rdmsr
      wrmsr
      mov dword [0x508], n1
      mov ecx, 0x40000000
      rdmsr
    n1:
      ${POWEROFF}`, { interception: { ...SEED, msrs: [[0xc0000100, 0xc0000100]] } });
    assert.deepEqual(r.seq, ['MSR_READ/SysRegRead', 'MSR_WRITE/SysRegWrite', 'MSR_READ/SysRegRead', 'IO_INSTRUCTION/SystemDown']);
    assert.equal(r.exits[2].fields.msr, 0x40000000n, 'outside both ranges: exits although not in the bitmap');
    assert.deepEqual(exceptions(r), { count: 1, vector: 13, errorCode: 0 }, 'the platform has no MSR 0x40000000: #GP(0)');
    const m = r.vmm.machine.mem;
    const B = r.vmm.layout.msrBitmap;
    const bit = 0x100 & 0x1fff;
    assert.equal(m.read8(B + 0x400 + (bit >> 3)), 1 << (bit & 7), 'read-high quarter');
    assert.equal(m.read8(B + 0xc00 + (bit >> 3)), 1 << (bit & 7), 'write-high quarter');
    assert.equal(m.read8(B + (bit >> 3)), 0, 'read-low quarter: MSR 0x100 not intercepted');
    assert.equal(r.field('MSR_BITMAPS'), BigInt(B));
  });

  it('§4 interruption information: vector bits 0-7, type bits 8-10, error code bit 11, valid bit 31', () => {
    const r = runWithHandlers('real', `mov word [0x508], n0\nud2\nn0:\n${POWEROFF}`);
    assert.deepEqual(r.seq, ['EXCEPTION_NMI/Nothing', 'IO_INSTRUCTION/SystemDown'], '#UD is in the exception bitmap; reflected to the guest');
    assert.equal(r.exits[0].fields.vector, 6n);
    assert.equal(r.exits[0].fields.type, 'hardware exception');
    assert.deepEqual(exceptions(r), { count: 1, vector: 6, errorCode: 0 });
    const injected: Array<{ info: number; errorCode: number; length: number }> = [];
    const p = runWithHandlers('protected', `vmcall\nn1:\n${POWEROFF}`, {
      before: (vmm) => recordInjections(vmm, injected),
      hook: (vmm, e) => { if (e.name === 'VMCALL') { vmm.vcpu.queueEvent(13, 0x18); vmm.machine.mem.write8(0x508, 0); } },
    });
    assert.deepEqual(injected, [{ info: 0x80000b0d, errorCode: 0x18, length: 0 }], 'valid | error code | type 3 (hardware exception) << 8 | 13');
    assert.deepEqual(exceptions(p), { count: 1, vector: 13, errorCode: 0x18 });
  });

  it('§4 exit qualifications: I/O (size-1, IN, string, REP, port), CR access (CR, type, GPR), EPT violation (R/W/X + guest-physical address)', () => {
    const r = runGuest(`mov dx, 0x604\nin al, dx\nmov ebx, 0x10\nmov cr0, ebx\n${POWEROFF}`);
    assert.equal(r.exits[0].fields.qualification, (0x604n << 16n) | (1n << 3n), 'IN AL, DX: size 1 → 0, IN bit 3, port 0x604');
    assert.equal(r.exits[1].fields.qualification, 3n << 8n, 'MOV CR0, EBX: CR 0, type 0 (MOV to CR), GPR 3');
    assert.equal(r.exits[2].fields.qualification, (0x604n << 16n) | 1n, 'OUT DX, AX: size 2 → 1');
    const e = runGuest(`mov dword [0xfee00080], 0x10\n${POWEROFF}`, { mode: 'protected' });
    assert.equal(e.exits[0].name, 'EPT_VIOLATION');
    assert.equal((e.exits[0].fields.qualification as bigint) & 7n, 2n, 'a write');
    assert.equal(e.exits[0].fields.gpa, 0xfee00080n, 'GUEST_PHYSICAL_ADDRESS (0x2400)');
  });

  it('§4 basic exit reasons and VMCS field encodings', () => {
    const names: Record<number, string> = { 0: 'EXCEPTION_NMI', 1: 'EXTERNAL_INTERRUPT', 2: 'TRIPLE_FAULT', 7: 'INTERRUPT_WINDOW', 8: 'NMI_WINDOW', 10: 'CPUID', 18: 'VMCALL', 28: 'CR_ACCESS', 30: 'IO_INSTRUCTION', 31: 'MSR_READ', 32: 'MSR_WRITE', 33: 'INVALID_GUEST_STATE', 48: 'EPT_VIOLATION', 52: 'PREEMPTION_TIMER', 55: 'XSETBV', 69: 'LOADIWKEY' };
    for (const [n, name] of Object.entries(names)) assert.equal(EXIT_REASON_BY_NUMBER.get(Number(n))?.name, name, `reason ${n}`);
    const r = runGuest(POWEROFF);
    const enc: Record<string, number> = { VIRTUAL_PROCESSOR_ID: 0, IO_BITMAP_A: 0x2000, EPT_POINTER: 0x201a, PIN_BASED_VM_EXECUTION_CONTROLS: 0x4000, CR0_GUEST_HOST_MASK: 0x6000,
      GUEST_ES_SELECTOR: 0x0800, VMCS_LINK_POINTER: 0x2800, GUEST_ES_LIMIT: 0x4800, GUEST_CR0: 0x6800, GUEST_RIP: 0x681e, HOST_ES_SELECTOR: 0x0c00,
      HOST_IA32_PAT: 0x2c00, HOST_IA32_SYSENTER_CS: 0x4c00, HOST_RIP: 0x6c16, GUEST_PHYSICAL_ADDRESS: 0x2400, EXIT_REASON: 0x4402, EXIT_QUALIFICATION: 0x6400 };
    for (const [name, e] of Object.entries(enc)) assert.equal(r.vmm.vcpu.v.encoding(name), e, name);
    assert.equal(r.field('EXIT_REASON'), 30n, 'the power-off OUT');
  });
});

describe('reference §5: event injection', () => {
  it('§5 event injection: exceptions and NMI go in at once, even with IF = 0; hardware exceptions 8, 10-14, 17 with their error code', () => {
    const injected: Array<{ info: number; errorCode: number; length: number }> = [];
    const r = runWithHandlers('protected', `
      cli
      vmcall
    n1:
      vmcall
    n2:
      ${POWEROFF}`, {
      before: (vmm) => recordInjections(vmm, injected),
      hook: (vmm, e) => {
        if (e.name !== 'VMCALL') return;
        const n = injected.length;
        if (n === 0) vmm.vcpu.queueEvent(14, 0x2); else vmm.vcpu.queueEvent(2);
        // Resume at the next VMCALL / the power-off.
        const next = Number(e.fields.rip) + 3;
        for (let i = 0; i < 4; i++) vmm.machine.mem.write8(0x508 + i, (next >>> (8 * i)) & 0xff);
      },
    });
    assert.deepEqual(injected, [{ info: 0x80000b0e, errorCode: 2, length: 0 }, { info: 0x80000202, errorCode: 0, length: 0 }]);
    assert.equal(exceptions(r).count, 2);
    assert.equal(exceptions(r).vector, 2, 'the NMI handler ran last');
    assert.equal(r.result.reason, 'SystemDown');
  });

  it('§5 event injection: an external interrupt goes in at once when IF = 1 and nothing blocks it (no window exit)', () => {
    const r = runGuest(`
      mov word [0x30*4], h
      mov word [0x30*4+2], 0
      sti
      nop
      vmcall
      mov byte [0x501], 1
      ${POWEROFF}
    h:
      mov al, [0x501]
      inc al
      mov [0x500], al
      iret`, { hook: (vmm, e) => { if (e.name === 'VMCALL') vmm.vcpu.queueEvent(0x30); } });
    assert.deepEqual(r.seq, ['VMCALL/Hypercall', 'IO_INSTRUCTION/SystemDown']);
    assert.equal(byte(r, 0x500), 1, 'delivered right after the VMCALL, before the next store');
  });

  it('§5 event injection: a FIFO, only the front event is considered before each entry', () => {
    const r = runGuest(`
      mov word [0x30*4], h30
      mov word [0x30*4+2], 0
      mov word [0x31*4], h31
      mov word [0x31*4+2], 0
      mov word [0x5fc], 0x600
      sti
      vmcall
      mov bx, [0x5fc]
      mov byte [bx], 'A'
      inc word [0x5fc]
      vmcall
      mov bx, [0x5fc]
      mov byte [bx], 'B'
      inc word [0x5fc]
      ${POWEROFF}
    h30:
      mov bx, [0x5fc]
      mov byte [bx], 0x30
      inc word [0x5fc]
      iret
    h31:
      mov bx, [0x5fc]
      mov byte [bx], 0x31
      inc word [0x5fc]
      iret`, { hook: (vmm, e) => { if (e.name === 'VMCALL' && vmm.vcpu.events.length === 0 && byte2(vmm) === 0) { vmm.vcpu.queueEvent(0x30); vmm.vcpu.queueEvent(0x31); } } });
    const log = [0, 1, 2, 3].map((i) => byte(r, 0x600 + i));
    assert.deepEqual(log, [0x30, 0x41, 0x31, 0x42], '0x30 at the first entry, 0x31 at the next one');
    assert.equal(r.vmm.vcpu.events.length, 0);
  });

  it('§5 event injection: type from the vector (1 → privileged software exception, 3/4 → software exception) with the instruction length', () => {
    const injected: Array<{ info: number; errorCode: number; length: number }> = [];
    const r = runGuest(`
      mov word [3*4], h3
      mov word [3*4+2], 0
      mov word [1*4], h1
      mov word [1*4+2], 0
      vmcall
      nop
      vmcall
      nop
      ${POWEROFF}
    h3:
    h1:
      push bp
      mov bp, sp
      mov ax, [bp+2]
      mov bx, [0x5fc]
      mov [bx], ax
      add word [0x5fc], 2
      pop bp
      iret`, {
      before: (vmm) => { recordInjections(vmm, injected); vmm.machine.mem.write8(0x5fc, 0); vmm.machine.mem.write8(0x5fd, 6); },
      hook: (vmm, e) => { if (e.name === 'VMCALL') vmm.vcpu.queueEvent(injected.length === 0 ? 3 : 1); },
    });
    assert.deepEqual(injected.map((i) => [i.info >>> 0, i.length]), [[0x80000603, 1], [0x80000501, 1]]);
    const firstRip = Number(r.exits[0].fields.rip);
    // The return address pushed is RIP + the instruction length (SDM vol. 3C §26.6.1.1).
    assert.deepEqual([word(r, 0x600), word(r, 0x602)], [firstRip + 3 + 1, firstRip + 7 + 1]);
  });
});

function byte2(vmm: Vmm): number {
  return vmm.machine.mem.read8(0x600);
}
