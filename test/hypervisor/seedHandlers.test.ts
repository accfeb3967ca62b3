/**
 * The seed's built-in exit handlers, reference §3: each test runs a guest under the Vmm and
 * asserts the exit sequence (decoded exit name / VCpuExit kind) and the resulting guest state.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runGuest, POWEROFF, guestCr } from './harness';
import { cpuidLookup } from '../../src/x86/cpuid';
import { HYPERVISOR_SIGNATURE, xsaveAreaSize } from '../../src/hypervisor/cpuidPolicy';
import { realCr0 } from '../../src/hypervisor/crPolicy';

const CPUID = (leaf: number, sub = 0): string => `
      mov eax, ${leaf}
      mov ecx, ${sub}
      cpuid`;
const SAVE = 'mov [0x520], eax\nmov [0x524], ebx\nmov [0x528], ecx\nmov [0x52c], edx';
const saved = (r: ReturnType<typeof runGuest>): number[] => [0, 4, 8, 12].map((o) => {
  const m = r.vmm.machine.mem;
  return (m.read8(0x520 + o) | (m.read8(0x521 + o) << 8) | (m.read8(0x522 + o) << 16) | (m.read8(0x523 + o) << 24)) >>> 0;
});

/** Enable x2APIC mode (IA32_APIC_BASE is not intercepted) and the APIC (SVR). */
const X2APIC_ON = `
      mov ecx, 0x1b
      rdmsr
      or eax, 0xc00
      wrmsr
      mov ecx, 0x80f
      mov eax, 0x1ff
      xor edx, edx
      wrmsr`;

describe('reference §3: built-in exit handlers', () => {
  it('§3 interrupt window: an interrupt queued while IF = 0 waits for the window exit, which turns window exiting off; the event goes in on the next entry', () => {
    const windowBitAfter: number[] = [];
    const r = runGuest(`
      mov word [0x30*4], h30
      mov word [0x30*4+2], 0
      cli
      vmcall
      mov byte [0x501], 1
      sti
      nop
      mov byte [0x502], 1
      ${POWEROFF}
    h30:
      mov al, [0x501]
      mov ah, [0x502]
      mov [0x530], ax
      iret`, {
      hook: (vmm, e) => {
        if (e.name === 'VMCALL') vmm.vcpu.queueEvent(0x30);
        if (e.name === 'INTERRUPT_WINDOW') windowBitAfter.push((vmm.vcpu.v.read32('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS') >>> 2) & 1);
      },
    });
    assert.deepEqual(r.seq, ['VMCALL/Hypercall', 'INTERRUPT_WINDOW/Nothing', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual(windowBitAfter, [0], 'the handler turned interrupt-window exiting off');
    const m = r.vmm.machine.mem;
    assert.deepEqual([m.read8(0x530), m.read8(0x531)], [1, 0], 'delivered after STI and its one-instruction shadow, before the second store');
  });

  it('§3 preemption timer: the exit reloads the timer value (1,000,000) and the guest continues', () => {
    const value: bigint[] = [];
    const r = runGuest(`
      mov ecx, 20000
    l:
      dec ecx
      jnz l
      ${POWEROFF}`, {
      max: 1_000_000,
      before: (vmm) => {
        const v = vmm.vcpu.v;
        v.write('PIN_BASED_VM_EXECUTION_CONTROLS', v.read32('PIN_BASED_VM_EXECUTION_CONTROLS') | (1 << 6));
        v.write('VMX_PREEMPTION_TIMER_VALUE', 20);
      },
      hook: (vmm, e) => { if (e.name === 'PREEMPTION_TIMER') value.push(vmm.vcpu.v.read('VMX_PREEMPTION_TIMER_VALUE')); },
    });
    assert.deepEqual(r.seq, ['PREEMPTION_TIMER/Nothing', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual(value, [1_000_000n]);
    assert.equal(r.reg('rcx') & 0xffffffffn, 0n, 'the loop finished');
  });

  it('§3 XSETBV: ECX = 0 and a valid XCR0 are stored as the guest XCR0, RIP += length', () => {
    const r = runGuest(`
      mov eax, cr4
      or eax, 1 << 18
      mov cr4, eax
      xor ecx, ecx
      xor edx, edx
      mov eax, 3
      xsetbv
      vmcall
      ${POWEROFF}`);
    assert.deepEqual(r.seq, ['XSETBV/Nothing', 'VMCALL/Hypercall', 'IO_INSTRUCTION/SystemDown']);
    assert.equal(r.vmm.vcpu.guestXcr0, 3, 'x87 | SSE: all the model supports (CPUID.(0DH,0):EAX = 3)');
    assert.equal(r.exits[0].fields.length, 3n);
    assert.equal(r.exits[1].fields.rip, (r.exits[0].fields.rip as bigint) + 3n);
  });

  it('§3 CR access: MOV to CR0 updates the real CR0 and the read shadow (NW/CD owned by the host)', () => {
    const r = runGuest(`
      mov eax, 0x10
      mov cr0, eax
      mov eax, cr0
      mov ebx, eax
      mov eax, 0x40000010
      mov cr0, eax
      mov eax, cr0
      mov esi, eax
      ${POWEROFF}`);
    assert.deepEqual(r.seq, ['CR_ACCESS/Nothing', 'CR_ACCESS/Nothing', 'IO_INSTRUCTION/SystemDown']);
    assert.equal(r.exits[0].summary, 'MOV CR0, rax = 0x10');
    assert.equal(r.reg('rbx'), 0x10n);
    assert.equal(r.reg('rsi'), 0x40000010n, 'the guest reads the CD it wrote');
    assert.equal(r.field('CR0_READ_SHADOW'), 0x40000010n);
    assert.equal(r.field('GUEST_CR0'), BigInt(realCr0(r.vmm.vcpu.policy, 0x40000010)));
    assert.equal(r.field('GUEST_CR0') & (1n << 30n), 0n, 'the real CR0 never has CD');
  });

  it('§3 CR access: MOV to CR0 sets LMA with LME and PAE (and the IA-32e-mode-guest entry control)', () => {
    const tables = new Uint8Array(0x3000);
    const dv = new DataView(tables.buffer);
    dv.setUint32(0, 0x11003, true); // PML4[0] -> PDPT at 0x11000
    dv.setUint32(0x1000, 0x12003, true); // PDPT[0] -> PD at 0x12000
    for (let i = 0; i < 8; i++) dv.setUint32(0x2000 + i * 8, i * 0x200000 + 0x83, true); // 2 MiB pages
    const r = runGuest(`
      mov eax, cr4
      or eax, 0x20
      mov cr4, eax
      mov ecx, 0xc0000080
      rdmsr
      or eax, 0x100
      wrmsr
      mov eax, 0x10000
      mov cr3, eax
      mov eax, cr0
      or eax, 0xc0000000
      mov cr0, eax
      vmcall
      ${POWEROFF}`, { mode: 'protected', memory: [[0x10000, tables]] });
    assert.deepEqual(r.seq, ['CR_ACCESS/Nothing', 'VMCALL/Hypercall', 'IO_INSTRUCTION/SystemDown']);
    assert.equal(r.field('GUEST_IA32_EFER') & 0x500n, 0x500n, 'LME and LMA');
    assert.equal((r.field('VM_ENTRY_CONTROLS') >> 9n) & 1n, 1n, 'IA-32e mode guest');
    assert.equal(guestCr(r, 0) & 0xc0000001n, 0xc0000001n, 'the guest sees PG, CD, PE');
    assert.equal(r.field('GUEST_CR0') & (1n << 30n), 0n, 'CD stays out of the real CR0');
  });

  it('§3 CPUID leaf 1: VMX (ECX bit 5) cleared, hypervisor bit (ECX bit 31) set, the rest from the model', () => {
    const r = runGuest(`${CPUID(1)}\n${SAVE}\n${POWEROFF}`);
    assert.deepEqual(r.seq, ['CPUID/Nothing', 'IO_INSTRUCTION/SystemDown']);
    const [eax, , ecx] = saved(r);
    const model = cpuidLookup(r.vmm.cpu.cpuid, 1, 0).map((x) => x >>> 0);
    assert.equal((ecx >>> 5) & 1, 0);
    assert.equal(ecx >>> 31, 1);
    assert.equal(ecx & 0x77ffffdf, model[2] & 0x77ffffdf, 'other ECX bits (OSXSAVE follows CR4)');
    assert.equal(eax, model[0]);
  });

  it('§3 CPUID leaf 7 subleaf 0: WAITPKG (ECX bit 5) and LA57 (ECX bit 16) cleared', () => {
    const r = runGuest(`${CPUID(7, 0)}\n${SAVE}\n${POWEROFF}`);
    const [eax, ebx, ecx, edx] = saved(r);
    const model = cpuidLookup(r.vmm.cpu.cpuid, 7, 0).map((x) => x >>> 0);
    assert.equal(ecx, (model[2] & ~((1 << 5) | (1 << 16))) >>> 0);
    assert.deepEqual([eax, ebx, edx], [model[0], model[1], model[3]]);
  });

  it("§3 CPUID leaf 0xD reflects the guest's XCR0 (subleaf 0 EBX = XSAVE area size for XCR0, subleaf 1 EBX for XCR0 | XSS)", () => {
    const r = runGuest(`
      mov eax, cr4
      or eax, 1 << 18
      mov cr4, eax
      xor ecx, ecx
      xor edx, edx
      mov eax, 3
      xsetbv
      ${CPUID(0xd, 1)}
      mov [0x530], ebx
      ${CPUID(0xd, 0)}
      ${SAVE}
      ${POWEROFF}`);
    assert.deepEqual(r.seq, ['XSETBV/Nothing', 'CPUID/Nothing', 'CPUID/Nothing', 'IO_INSTRUCTION/SystemDown']);
    const model = r.vmm.cpu.cpuid;
    const [eax, ebx, ecx] = saved(r);
    assert.equal(ebx, xsaveAreaSize(model, 3), 'EBX: the size for the enabled components (576: legacy area + header)');
    assert.deepEqual([eax, ecx], cpuidLookup(model, 0xd, 0).map((x) => x >>> 0).filter((_, i) => i === 0 || i === 2), 'EAX/ECX: supported mask and maximum size');
    const m = r.vmm.machine.mem;
    assert.equal(m.read8(0x530) | (m.read8(0x531) << 8), xsaveAreaSize(model, 3), 'subleaf 1 EBX with IA32_XSS = 0');
  });

  it('§3 CPUID leaf 0x4000_0000: EAX = 0x4000_0001 and the vendor signature; leaf 0x4000_0001 returns zeros', () => {
    const r = runGuest(`${CPUID(0x40000001)}\n${SAVE}\nmov [0x540], eax\nmov [0x544], ebx\n${CPUID(0x40000000)}\n${SAVE}\n${POWEROFF}`);
    const [eax, ebx, ecx, edx] = saved(r);
    assert.equal(eax, 0x40000001);
    const sig = Buffer.alloc(12);
    sig.writeUInt32LE(ebx, 0); sig.writeUInt32LE(ecx, 4); sig.writeUInt32LE(edx, 8);
    assert.equal(sig.toString('ascii'), HYPERVISOR_SIGNATURE);
    const m = r.vmm.machine.mem;
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => m.read8(0x540 + i)), [0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('§3 CPUID: other leaves come from the virtual CPU model', () => {
    for (const leaf of [0, 0x80000000, 0x80000001, 4]) {
      const r = runGuest(`${CPUID(leaf)}\n${SAVE}\n${POWEROFF}`);
      assert.deepEqual(saved(r), cpuidLookup(r.vmm.cpu.cpuid, leaf, 0).map((x) => x >>> 0), `leaf 0x${leaf.toString(16)}`);
    }
  });

  it('§3 x2APIC MSRs 0x800-0x8FF go to the virtual local APIC (ID, version, TPR, PPR, LDR, SVR, ESR, LVTs)', () => {
    const r = runGuest(`
      ${X2APIC_ON}
      mov ecx, 0x802
      rdmsr
      mov [0x540], eax
      mov ecx, 0x803
      rdmsr
      mov [0x544], eax
      mov ecx, 0x808
      mov eax, 0x20
      wrmsr
      rdmsr
      mov [0x548], eax
      mov ecx, 0x80a
      rdmsr
      mov [0x54c], eax
      mov ecx, 0x80d
      rdmsr
      mov [0x550], eax
      mov ecx, 0x80f
      rdmsr
      mov [0x554], eax
      mov ecx, 0x835
      mov eax, 0x10055
      wrmsr
      rdmsr
      mov [0x558], eax
      ${POWEROFF}`);
    const m = r.vmm.machine.mem;
    const at = (a: number): number => (m.read8(a) | (m.read8(a + 1) << 8) | (m.read8(a + 2) << 16) | (m.read8(a + 3) << 24)) >>> 0;
    assert.ok(r.exits.every((e) => e.kind === 'Nothing' || e.kind === 'SystemDown'), 'handled inside the hypervisor');
    assert.ok(r.exits.filter((e) => e.name.startsWith('MSR')).length >= 9);
    const [id, version, tpr, ppr, ldr, svr, lint0] = [0x540, 0x544, 0x548, 0x54c, 0x550, 0x554, 0x558].map(at);
    assert.equal(id, 0);
    assert.equal(version & 0xff, 0x14, 'version 0x14 (integrated APIC)');
    assert.ok(((version >>> 16) & 0xff) >= 5, 'max LVT entry');
    assert.equal(tpr, 0x20);
    assert.equal(ppr, 0x20, 'PPR = TPR with nothing in service');
    assert.equal(ldr, 1, 'x2APIC LDR of APIC ID 0: cluster 0, bit 0');
    assert.equal(svr, 0x1ff);
    assert.equal(lint0, 0x10055, 'LVT LINT0 written and read back');
  });

  it('§3 x2APIC self-IPI and EOI: the vector goes in service, the guest handler runs and EOI clears ISR', () => {
    const r = runGuest(`
      mov word [0x40*4], h40
      mov word [0x40*4+2], 0
      ${X2APIC_ON}
      sti
      mov ecx, 0x83f
      mov eax, 0x40
      xor edx, edx
      wrmsr
      nop
      nop
      mov ecx, 0x812
      rdmsr
      mov [0x504], al
      ${POWEROFF}
    h40:
      mov ecx, 0x812
      rdmsr
      mov [0x500], al
      mov ecx, 0x80b
      xor eax, eax
      xor edx, edx
      wrmsr
      iret`);
    const m = r.vmm.machine.mem;
    assert.ok(r.seq.includes('EXTERNAL_INTERRUPT/ExternalInterrupt'));
    assert.deepEqual(r.exits.find((e) => e.kind === 'ExternalInterrupt')!.exit, { kind: 'ExternalInterrupt', vector: 0x40 });
    assert.equal(m.read8(0x500) & 1, 1, 'ISR bit of vector 0x40 set in the handler');
    assert.equal(m.read8(0x504) & 1, 0, 'cleared by EOI');
  });

  it('§3 x2APIC timer: periodic mode fires again and again until masked', () => {
    const r = runGuest(`
      mov word [0x42*4], h42
      mov word [0x42*4+2], 0
      ${X2APIC_ON}
      mov ecx, 0x83e
      mov eax, 0xb
      wrmsr
      mov ecx, 0x832
      mov eax, 0x20042
      wrmsr
      mov ecx, 0x838
      mov eax, 500
      wrmsr
      sti
    w:
      cmp byte [0x500], 3
      jb w
      mov ecx, 0x832
      mov eax, 0x30042
      wrmsr
      ${POWEROFF}
    h42:
      inc byte [0x500]
      mov ecx, 0x80b
      xor eax, eax
      xor edx, edx
      wrmsr
      iret`, { max: 1_000_000 });
    assert.equal(r.result.reason, 'SystemDown');
    const ticks = r.exits.filter((e) => e.kind === 'ExternalInterrupt');
    assert.equal(ticks.length, 3);
    assert.ok(ticks.every((e) => (e.exit as { vector: number }).vector === 0x42));
  });

  it('§3 x2APIC timer: one-shot on the deterministic clock fires its LVT vector once', () => {
    const run = (): ReturnType<typeof runGuest> => runGuest(`
      mov word [0x41*4], h41
      mov word [0x41*4+2], 0
      ${X2APIC_ON}
      mov ecx, 0x83e
      mov eax, 0xb
      wrmsr
      mov ecx, 0x832
      mov eax, 0x41
      wrmsr
      mov ecx, 0x838
      mov eax, 2000
      wrmsr
      sti
    w:
      cmp byte [0x500], 0
      je w
      mov ecx, 0x839
      rdmsr
      mov [0x504], eax
      ${POWEROFF}
    h41:
      inc byte [0x500]
      mov ecx, 0x80b
      xor eax, eax
      xor edx, edx
      wrmsr
      iret`, { max: 1_000_000 });
    const a = run(), b = run();
    assert.equal(a.result.reason, 'SystemDown');
    assert.equal(a.vmm.machine.mem.read8(0x500), 1, 'fired once');
    assert.equal(a.vmm.machine.mem.read8(0x504), 0, 'current count 0 after a one-shot expiry');
    assert.deepEqual(a.exits.filter((e) => e.kind === 'ExternalInterrupt').map((e) => e.exit), [{ kind: 'ExternalInterrupt', vector: 0x41 }]);
    assert.equal(a.vmm.cpu.icount, b.vmm.cpu.icount, 'deterministic: the same instruction count on every run');
  });
});
