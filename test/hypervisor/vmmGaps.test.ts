/**
 * Behaviour beyond the crate that the issue asks for, and problems found while writing the
 * behaviour tests: IDT-vectoring re-injection, events injected into a real-mode guest, what the
 * VMM's onExit sees, MSR exits of MSRs that live in the VMCS guest-state area.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runGuest, runWithHandlers, exceptions, POWEROFF, SEED } from './harness';
import type { Vmm } from '../../src/vmm/vmm';

/** The EPT entry (PD level, 2 MiB page) that maps guest-physical `gpa`: its host-physical address. */
function eptPde(vmm: Vmm, gpa: number): number {
  const m = vmm.machine.mem;
  const q = (a: number): number => {
    let lo = 0;
    for (let i = 0; i < 4; i++) lo += m.read8(a + i) * 2 ** (8 * i);
    return lo + (m.read8(a + 4) | (m.read8(a + 5) << 8)) * 2 ** 32;
  };
  const frame = (e: number): number => Math.floor(e / 4096) * 4096 % 2 ** 52;
  const pml4 = Number(vmm.vcpu.v.read('EPT_POINTER') & 0xffffffffff000n);
  const pdpt = frame(q(pml4 + 8 * Math.floor(gpa / 2 ** 39)));
  const pd = frame(q(pdpt + 8 * (Math.floor(gpa / 2 ** 30) % 512)));
  return pd + 8 * (Math.floor(gpa / 2 ** 21) % 512);
}

describe('beyond the crate', () => {
  it('IDT-vectoring: an injected interrupt whose delivery hit an EPT violation is re-injected at the next entry', () => {
    let pde = -1;
    let saved = 0;
    const r = runWithHandlers('protected', `
      mov eax, h30
      mov [idt+0x30*8], ax
      mov word [idt+0x30*8+2], cs
      mov word [idt+0x30*8+4], 0x8e00
      shr eax, 16
      mov [idt+0x30*8+6], ax
      mov esp, 0x2000f0
      sti
      vmcall
      nop
      nop
      mov al, [0x500]
      mov [0x501], al
      ${POWEROFF}
    h30:
      mov byte [0x500], 1
      iret`, {
      hook: (vmm, e) => {
        if (e.name !== 'VMCALL') return;
        // The VMM queues an interrupt and (as a VMM that maps memory lazily would) takes the
        // stack's 2 MiB page away: the delivery's first push exits with IDT-vectoring info.
        vmm.vcpu.queueEvent(0x30);
        pde = eptPde(vmm, 0x200000);
        saved = vmm.machine.mem.read8(pde);
        vmm.machine.mem.write8(pde, saved & ~7);
        vmm.vcpu.engine.invept(2, 0, 0);
      },
    });
    assert.equal(r.result.reason, 'NestedPageFault', 'the VMM cannot resolve the missing page itself');
    const last = r.exits[r.exits.length - 1];
    assert.equal(last.name, 'EPT_VIOLATION');
    assert.equal(last.fields.idtVector, 0x30n, 'the exit happened while delivering vector 0x30');
    assert.equal(last.fields.idtType, 'external interrupt');
    // The page comes back; the run continues: 0x30 must be delivered, not lost.
    r.vmm.machine.mem.write8(pde, saved);
    r.vmm.vcpu.engine.invept(2, 0, 0);
    const again = r.vmm.run(100_000);
    assert.equal(again.reason, 'SystemDown');
    assert.equal(r.vmm.machine.mem.read8(0x500), 1, 'the handler of 0x30 ran');
    assert.equal(r.vmm.machine.mem.read8(0x501), 1, 'before the code after the VMCALL went on');
  });

  it('an exception queued by the VMM for a real-mode guest is delivered through the IVT, without an error code', () => {
    const r = runWithHandlers('real', `
      vmcall
    n1:
      ${POWEROFF}`, {
      hook: (vmm, e) => {
        if (e.name !== 'VMCALL') return;
        vmm.vcpu.queueEvent(13, 0);
        const next = Number(e.fields.rip) + 3;
        vmm.machine.mem.write8(0x508, next & 0xff);
        vmm.machine.mem.write8(0x509, next >> 8);
      },
    });
    assert.equal(r.result.reason, 'SystemDown', r.result.detail);
    assert.deepEqual(exceptions(r), { count: 1, vector: 13, errorCode: 0 });
  });

  it("the VMM's onExit sees the exit as it happened (CPUID leaf and RIP before the handler ran)", () => {
    const r = runGuest(`mov eax, 1\nxor ecx, ecx\ncpuid\n${POWEROFF}`);
    const e = r.exits[0];
    assert.equal(e.name, 'CPUID');
    assert.equal(e.fields.leaf, 1n);
    assert.equal(e.fields.subleaf, 0n);
    assert.equal(e.fields.rip, 0x7c00n + 6n + 3n, 'the CPUID instruction (after 6-byte MOV EAX and 3-byte XOR ECX in 16-bit code), not the one after');
    assert.match(e.summary, /CPUID leaf 0x1 subleaf 0x0/);
  });

  it('an intercepted WRMSR/RDMSR of an MSR in the VMCS guest-state area (IA32_SYSENTER_CS) reaches the guest, not the host', () => {
    const r = runGuest(`
      mov ecx, 0x174
      mov eax, 0x10
      xor edx, edx
      wrmsr
      xor eax, eax
      rdmsr
      mov ebx, eax
      ${POWEROFF}`, { interception: { ...SEED, msrs: [[0x174, 0x176]] } });
    assert.deepEqual(r.seq, ['MSR_WRITE/SysRegWrite', 'MSR_READ/SysRegRead', 'IO_INSTRUCTION/SystemDown']);
    assert.equal(r.field('GUEST_IA32_SYSENTER_CS'), 0x10n);
    assert.equal(r.reg('rbx'), 0x10n);
  });

  it('HLT exiting: HLT goes up as Halt{why: HLT}, RIP advanced, and the VMM puts the vCPU in the HLT activity state until an interrupt', () => {
    const r = runGuest(`
      mov word [9*4], handler
      mov word [9*4+2], 0
      mov al, 0xfd
      out 0x21, al
      sti
      hlt
      mov al, [0x500]
      mov [0x501], al
      ${POWEROFF}
    handler:
      mov byte [0x500], 1
      mov al, 0x20
      out 0x20, al
      iret`, {
      interception: { ...SEED, hlt: true },
      hook: (vmm, e) => { if (e.name === 'HLT') vmm.machine.setIrq(1, true); },
    });
    assert.deepEqual(r.seq.slice(0, 2), ['HLT/Halt', 'EXTERNAL_INTERRUPT/ExternalInterrupt']);
    assert.deepEqual(r.exits[0].exit, { kind: 'Halt', why: 'HLT' });
    assert.equal(r.result.reason, 'SystemDown');
    assert.equal(r.vmm.machine.mem.read8(0x501), 1, 'woke for the interrupt and continued after HLT');
  });
});

