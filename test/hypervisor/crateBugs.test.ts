/**
 * The x86_vcpu crate's bugs marked [bug] in the reference, each shown corrected by a guest under
 * the Vmm (exit sequence + guest state): instruction lengths from the exit field, #GP for illegal
 * CR0/CR4 values and invalid XCR0, XSETBV that works, LMA only with LME and PAE, I/O bitmaps
 * over their whole pages, FailEntry with the real reason.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runGuest, runWithHandlers, exceptions, guestCr, POWEROFF, SEED } from './harness';

const GP0 = { vector: 13, errorCode: 0 };

/** PAE paging: PDPT at 0x10000 -> PD at 0x11000, 2 MiB identity pages. */
const PAE_TABLES = ((): Uint8Array => {
  const t = new Uint8Array(0x2000);
  const dv = new DataView(t.buffer);
  dv.setUint32(0, 0x11001, true);
  for (let i = 0; i < 8; i++) dv.setUint32(0x1000 + i * 8, i * 0x200000 + 0x83, true);
  return t;
})();
/** Turns on PAE paging (CR4.PAE, CR3, then CR0.PG with CD so that the write exits), stores, VMCALL. */
const PAE_GUEST = `
      mov eax, cr4
      or eax, 0x20
      mov cr4, eax
      mov eax, 0x10000
      mov cr3, eax
      mov eax, cr0
      or eax, 0xc0000000
      mov cr0, eax
      mov byte [0x500], 0x5a
      vmcall
      ${POWEROFF}`;

describe('crate bugs, corrected', () => {
  it('[bug] CR access: RIP advances by the exit instruction length (a 4-byte MOV CR0 with a prefix), not a hard-coded 3', () => {
    const r = runGuest(`
      mov eax, 0x10
      db 0x3e
      mov cr0, eax
      vmcall
      ${POWEROFF}`);
    assert.deepEqual(r.seq, ['CR_ACCESS/Nothing', 'VMCALL/Hypercall', 'IO_INSTRUCTION/SystemDown']);
    assert.equal(r.exits[0].fields.length, 4n);
    assert.equal(r.exits[1].fields.rip, (r.exits[0].fields.rip as bigint) + 4n);
  });

  it('[bug] other exits advance by their own length too: CPUID, OUT and XSETBV with prefixes', () => {
    const r = runGuest(`
      mov eax, cr4
      or eax, 1 << 18
      mov cr4, eax
      xor eax, eax
      db 0x3e, 0x2e
      cpuid
      mov dx, 0x604
      db 0x3e
      out dx, al
      xor ecx, ecx
      xor edx, edx
      mov eax, 1
      db 0x3e
      xsetbv
      mov eax, 5
      vmcall
      ${POWEROFF}`);
    assert.deepEqual(r.exits.map((e) => `${e.name} ${e.fields.length}`), ['CPUID 4', 'IO_INSTRUCTION 2', 'XSETBV 4', 'VMCALL 3', 'IO_INSTRUCTION 1']);
    assert.equal(r.result.reason, 'SystemDown', 'every RIP landed on an instruction boundary');
  });

  it('[bug] MOV to CR0 with an illegal value injects #GP(0): NW without CD, PG without PE; CR0 unchanged', () => {
    const r = runWithHandlers('protected', `
      mov dword [0x508], n1
      mov eax, cr0
      mov esi, eax
      or eax, 1 << 29
      and eax, ~(1 << 30)
      mov cr0, eax
    n1:
      mov dword [0x508], n2
      mov eax, cr0
      and eax, ~1
      or eax, 0xc0000000
      mov cr0, eax
    n2:
      mov eax, cr0
      mov edi, eax
      ${POWEROFF}`);
    assert.deepEqual(r.seq, ['CR_ACCESS/Nothing', 'CR_ACCESS/Nothing', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual({ ...exceptions(r), count: undefined }, { ...GP0, count: undefined });
    assert.equal(exceptions(r).count, 2);
    assert.equal(r.reg('rdi'), r.reg('rsi'), 'the guest CR0 did not change');
  });

  it('[bug] MOV to CR4 with a reserved bit injects #GP(0)', () => {
    const r = runWithHandlers('protected', `
      mov dword [0x508], n1
      mov eax, cr4
      mov esi, eax
      or eax, 1 << 31
      mov cr4, eax
    n1:
      mov eax, cr4
      mov edi, eax
      ${POWEROFF}`);
    assert.deepEqual(r.seq, ['CR_ACCESS/Nothing', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual(exceptions(r), { count: 1, ...GP0 });
    assert.equal(r.reg('rdi'), r.reg('rsi'));
  });

  it('[bug] XSETBV works (XCR0 stored, RIP advanced) and injects #GP(0) for an invalid XCR0 or ECX ≠ 0', () => {
    const r = runWithHandlers('protected', `
      mov eax, cr4
      or eax, 1 << 18
      mov cr4, eax
      xor edx, edx
      xor ecx, ecx
      mov eax, 3
      xsetbv
      mov dword [0x508], n1
      xor eax, eax
      xsetbv
    n1:
      mov dword [0x508], n2
      mov eax, 7
      xsetbv
    n2:
      mov dword [0x508], n3
      mov ecx, 1
      mov eax, 3
      xsetbv
    n3:
      mov dword [0x508], n4
      xor ecx, ecx
      mov eax, 3
      mov edx, 1
      xsetbv
    n4:
      xor ecx, ecx
      xgetbv
      mov ebx, eax
      ${POWEROFF}`);
    assert.deepEqual(r.seq, ['XSETBV/Nothing', 'XSETBV/Nothing', 'XSETBV/Nothing', 'XSETBV/Nothing', 'XSETBV/Nothing', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual(exceptions(r), { count: 4, ...GP0 }, 'x87 off, AVX unsupported, XCR1, bit 32: four #GP(0)');
    assert.equal(r.vmm.vcpu.guestXcr0, 3);
    assert.equal(r.reg('rbx'), 3n, 'XGETBV: the valid value stayed');
  });

  it('[bug] LMA only with LME and PAE: CR0.PG with PAE but without LME is PAE paging (EFER.LMA and IA-32e mode guest stay clear)', () => {
    const seen: bigint[][] = [];
    runWithHandlers('protected', PAE_GUEST, {
      memory: [[0x10000, PAE_TABLES]],
      hook: (vmm, e) => { if (e.name === 'CR_ACCESS') seen.push([vmm.vcpu.v.read('GUEST_IA32_EFER') & 0x500n, (vmm.vcpu.v.read('VM_ENTRY_CONTROLS') >> 9n) & 1n, vmm.vcpu.v.read('CR0_READ_SHADOW') >> 31n]); },
    });
    assert.deepEqual(seen, [[0n, 0n, 1n]], 'after the MOV CR0: paging on, no LME/LMA, not an IA-32e mode guest');
  });

  it('PAE paging turned on by an intercepted MOV CR0 works: the handler loads the PDPTEs into GUEST_PDPTE0-3', () => {
    const r = runWithHandlers('protected', PAE_GUEST, { memory: [[0x10000, PAE_TABLES]] });
    assert.deepEqual(r.seq, ['CR_ACCESS/Nothing', 'VMCALL/Hypercall', 'IO_INSTRUCTION/SystemDown']);
    assert.equal(exceptions(r).count, 0);
    assert.equal(r.field('GUEST_PDPTE0'), 0x11001n);
    assert.equal(r.vmm.machine.mem.read8(0x500), 0x5a);
  });

  it('[bug] LMA only with LME and PAE: CR0.PG with EFER.LME but CR4.PAE = 0 is #GP(0)', () => {
    const r = runWithHandlers('protected', `
      mov ecx, 0xc0000080
      rdmsr
      or eax, 0x100
      wrmsr
      mov dword [0x508], n1
      mov eax, cr0
      or eax, 0xc0000000
      mov cr0, eax
    n1:
      ${POWEROFF}`);
    assert.deepEqual(r.seq, ['CR_ACCESS/Nothing', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual(exceptions(r), { count: 1, ...GP0 });
    assert.equal(r.field('GUEST_IA32_EFER') & 0x400n, 0n, 'no LMA');
    assert.equal(guestCr(r, 0) >> 31n, 0n);
  });

  it('[bug] LMSW: the whole 16-bit source reaches the handler (bits 3:0 loaded, PE never cleared), register and memory forms', () => {
    // The seed's CR0 mask does not own PE/MP/EM/TS, so LMSW exits only when the VMM owns them
    // (SDM vol. 3C §25.1.3): own bits 3:0 here, shadowing the current values.
    const r = runGuest(`
      mov ax, 0xff0b
      lmsw ax
      mov word [0x520], 0xfff4
      lmsw [0x520]
      vmcall
      ${POWEROFF}`, { mode: 'protected', before: (vmm) => {
      const v = vmm.vcpu.v;
      v.write('CR0_GUEST_HOST_MASK', v.read('CR0_GUEST_HOST_MASK') | 0xfn);
      v.write('CR0_READ_SHADOW', (v.read('CR0_READ_SHADOW') & ~0xfn) | (v.read('GUEST_CR0') & 0xfn));
    } });
    assert.deepEqual(r.seq, ['CR_ACCESS/Nothing', 'CR_ACCESS/Nothing', 'VMCALL/Hypercall', 'IO_INSTRUCTION/SystemDown']);
    assert.equal(r.exits[0].fields.value, 0xff0bn, 'LMSW source data: all 16 bits (exit qualification 31:16)');
    assert.equal(r.exits[1].fields.value, 0xfff4n);
    assert.equal(r.exits[1].fields.lmswMemory, true);
    assert.equal(r.exits[2].fields.rip, (r.exits[1].fields.rip as bigint) + 7n, 'RIP past LMSW [disp32] (7 bytes, from the exit instruction length)');
    // After LMSW 0xFFF4: PE stays 1 (LMSW cannot clear it), MP = 0, EM = 1, TS = 0.
    assert.equal(guestCr(r, 0) & 0xfn, 0x5n);
  });

  it('[bug] the guest\'s mode comes from the guest\'s EFER (VMCS), not the host\'s: a 32-bit guest with EFER.LME = 0 turning on paging gets 32-bit paging, no LMA', () => {
    const r = runGuest(`
      mov eax, cr4
      or eax, 0x10
      mov cr4, eax
      mov eax, 0x10000
      mov cr3, eax
      mov eax, cr0
      or eax, 0xc0000000
      mov cr0, eax
      vmcall
      ${POWEROFF}`, { mode: 'protected', memory: [[0x10000, new Uint8Array([0x83, 0, 0, 0])]], before: (vmm) => vmm.vcpu.v.write('GUEST_IA32_EFER', 0n) });
    assert.deepEqual(r.seq.slice(-2), ['VMCALL/Hypercall', 'IO_INSTRUCTION/SystemDown'], 'the guest ran on with 32-bit paging');
    assert.ok(r.seq.includes('CR_ACCESS/Nothing'));
    assert.equal(r.field('GUEST_IA32_EFER') & 0x500n, 0n, 'neither LME nor LMA: the host runs in long mode, the guest does not');
    assert.equal(r.field('VM_ENTRY_CONTROLS') & 0x200n, 0n, '"IA-32e mode guest" stays 0');
  });

  it('[bug] I/O bitmaps cover their whole pages: ports 0x2000, 0x7FFF (page A beyond 1 KiB) and 0xA000, 0xFFFF (page B) exit', () => {
    const ports = [0x2000, 0x7fff, 0xa000, 0xffff];
    const r = runGuest(`${ports.map((p) => `mov dx, 0x${p.toString(16)}\nout dx, al`).join('\n')}\nmov dx, 0x1fff\nout dx, al\n${POWEROFF}`, {
      interception: { ...SEED, io: [...ports.map((p) => [p, p] as [number, number]), [0x604, 0x604]] },
    });
    assert.deepEqual(r.exits.map((e) => Number(e.fields.port)), [...ports, 0x604]);
    assert.ok(r.exits.slice(0, 4).every((e) => e.kind === 'IoWrite'));
  });

  it('[bug] FailEntry carries the real reason: invalid guest state = 0x8000_0021, with the failed check', () => {
    const r = runGuest(POWEROFF, { before: (vmm) => vmm.vcpu.v.write('GUEST_RFLAGS', 0) });
    assert.deepEqual(r.seq, ['INVALID_GUEST_STATE/FailEntry']);
    const x = r.exits[0].exit;
    assert.equal(x.kind === 'FailEntry' ? x.reason : 0, 0x80000021);
    assert.equal(r.result.reason, 'FailEntry');
    assert.match(r.result.detail ?? '', /RFLAGS/);
  });
});

describe('gaps of the crate, filled', () => {
  it('MmioRead/MmioWrite through EPT violations: the xAPIC page (version read, TPR write, ALU read-modify-write)', () => {
    const r = runGuest(`
      mov eax, [0xfee00030]
      mov ebx, eax
      mov dword [0xfee00080], 0x30
      or dword [0xfee00080], 0x01
      mov ecx, [0xfee00080]
      ${POWEROFF}`, { mode: 'protected' });
    assert.deepEqual(r.seq, ['EPT_VIOLATION/MmioRead', 'EPT_VIOLATION/MmioWrite', 'EPT_VIOLATION/MmioRead', 'EPT_VIOLATION/MmioRead', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual(r.exits[1].exit, { kind: 'MmioWrite', addr: 0xfee00080, width: 4, data: 0x30n });
    assert.equal(r.reg('rbx') & 0xffn, 0x14n, 'APIC version register');
    assert.equal(r.reg('rcx'), 0x31n, 'TPR after OR (written back to the device)');
  });

  it('EPT violations reach the hypervisor before the guest loads an IDT (exceptions "auto", the CLI default for flat images)', () => {
    const r = runGuest(`mov eax, [0xfee00030]\n${POWEROFF}`, { mode: 'protected', exceptions: 'auto' });
    assert.deepEqual(r.seq, ['EPT_VIOLATION/MmioRead', 'IO_INSTRUCTION/SystemDown']);
  });

  it('NestedPageFault: an instruction fetch from unmapped guest-physical memory ends the run with NestedPageFault{addr, access: execute}', () => {
    const r = runGuest('jmp 0x2000000', { mode: 'protected' });
    assert.deepEqual(r.seq, ['EPT_VIOLATION/NestedPageFault']);
    assert.deepEqual(r.exits[0].exit, { kind: 'NestedPageFault', addr: 0x2000000, access: { read: false, write: false, execute: true } });
    assert.equal(r.result.reason, 'NestedPageFault');
  });

  it('NestedPageFault: a data read of guest-physical memory that is neither RAM nor an MMIO hole → NestedPageFault{addr, access: read}', () => {
    const r = runGuest(`mov eax, [0x2000000]\n${POWEROFF}`, { mode: 'protected' });
    assert.equal(r.result.reason, 'NestedPageFault');
    assert.deepEqual(r.exits[0].exit, { kind: 'NestedPageFault', addr: 0x2000000, access: { read: true, write: false, execute: false } });
  });

  it('string I/O handled: REP OUTSB (DF = 0 and 1) and REP INSB update RCX, RSI/RDI and memory', () => {
    const r = runGuest(`
      mov si, msg
      mov cx, 5
      mov dx, 0x3f8
      cld
      rep outsb
      mov [0x540], si
      mov [0x542], cx
      std
      mov si, msg+4
      mov cx, 5
      rep outsb
      cld
      mov di, 0x560
      mov cx, 3
      mov dx, 0x3fd
      rep insb
      mov [0x544], di
      ${POWEROFF}
    msg: db 'hello'`, { interception: { ...SEED, io: [[0x3f8, 0x3ff], [0x604, 0x604]] } });
    assert.deepEqual(r.seq, ['IO_INSTRUCTION/IoWrite', 'IO_INSTRUCTION/IoWrite', 'IO_INSTRUCTION/IoRead', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual(r.exits[0].exit, { kind: 'IoWrite', port: 0x3f8, width: 1, data: [...'hello'].map((c) => c.charCodeAt(0)), string: true });
    assert.deepEqual(r.exits[2].exit, { kind: 'IoRead', port: 0x3fd, width: 1, count: 3, string: true });
    assert.equal(r.serial, 'helloolleh');
    const m = r.vmm.machine.mem;
    const w = (a: number): number => m.read8(a) | (m.read8(a + 1) << 8);
    assert.equal(w(0x542), 0, 'CX = 0');
    assert.equal(w(0x540) - 5, Number(r.exits[0].fields.rsi), 'SI advanced by 5');
    assert.deepEqual([m.read8(0x560), m.read8(0x561), m.read8(0x562)], [0x60, 0x60, 0x60], 'INSB stored the LSR values');
    assert.equal(w(0x544), 0x563);
  });

  it('NMI window: an NMI queued while NMIs are blocked waits for the NMI-window exit, then goes in', () => {
    const r = runGuest(`
      mov word [2*4], nmi
      mov word [2*4+2], 0
      vmcall
      mov byte [0x501], 1
      pushf
      push cs
      push after
      iret
    after:
      mov byte [0x502], 1
      ${POWEROFF}
    nmi:
      mov al, [0x502]
      mov [0x500], al
      mov byte [0x503], 1
      iret`, { hook: (vmm, e) => { if (e.name === 'VMCALL') { vmm.vcpu.v.write('GUEST_INTERRUPTIBILITY_STATE', 8); vmm.vcpu.queueEvent(2); } } });
    assert.deepEqual(r.seq, ['VMCALL/Hypercall', 'NMI_WINDOW/Nothing', 'IO_INSTRUCTION/SystemDown']);
    assert.equal(r.vmm.machine.mem.read8(0x503), 1, 'the NMI handler ran');
    assert.equal(r.vmm.machine.mem.read8(0x500), 0, 'after the unblocking IRET, before the next store');
  });

  const X2APIC_ON = 'mov ecx, 0x1b\nrdmsr\nor eax, 0xc00\nwrmsr';
  /** WRMSR of the x2APIC ICR (0x830): destination in EDX, command in EAX. */
  const icr = (dest: number, command: number): string => `mov ecx, 0x830\nmov edx, ${dest}\nmov eax, 0x${command.toString(16)}\nwrmsr`;

  it('CpuUp: a start-up IPI to another APIC ID (x2APIC ICR) → CpuUp{targetCpu, entry = vector × 4 KiB}; the guest continues', () => {
    const r = runGuest(`${X2APIC_ON}\n${icr(1, 0x4500)}\n${icr(1, 0x4609)}\nmov ebx, 0x5a\n${POWEROFF}`, { mode: 'protected' });
    const ups = r.exits.filter((e) => e.kind === 'CpuUp');
    assert.equal(ups.length, 1, r.seq.join(' '));
    assert.deepEqual(ups[0].exit, { kind: 'CpuUp', targetCpu: 1, entry: 0x9000 });
    assert.equal(r.result.reason, 'SystemDown');
    assert.equal(r.reg('rbx'), 0x5an, 'RIP advanced past the WRMSR');
  });

  it('SendIpi: a fixed IPI to another APIC ID → SendIpi{targetCpu, vector}; one to itself is delivered, not sent', () => {
    const r = runGuest(`${X2APIC_ON}\n${icr(2, 0x40)}\n${icr(0, 0x41)}\n${POWEROFF}`, { mode: 'protected' });
    const sent = r.exits.filter((e) => e.kind === 'SendIpi').map((e) => e.exit);
    assert.deepEqual(sent, [{ kind: 'SendIpi', targetCpu: 2, vector: 0x40 }]);
    const ext = r.exits.filter((e) => e.kind === 'ExternalInterrupt').map((e) => e.exit);
    assert.deepEqual(ext, [{ kind: 'ExternalInterrupt', vector: 0x41 }], 'the self IPI reached this processor (external-interrupt exit)');
    assert.equal(r.result.reason, 'SystemDown');
  });

  it('CpuDown: an INIT to all including itself is the INIT signal — VM exit 3 — and the vCPU goes down (the run ends CpuDown)', () => {
    const r = runGuest(`${X2APIC_ON}\n${icr(0, 0x84500)}\n${POWEROFF}`, { mode: 'protected' });
    assert.deepEqual(r.seq.slice(-1), ['INIT/CpuDown']);
    assert.equal(r.result.reason, 'CpuDown', r.result.detail);
    assert.ok(r.exits.some((e) => e.kind === 'SendIpi'), 'the INIT to the others is reported too');
  });
});
