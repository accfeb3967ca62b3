/**
 * The seed's behaviour, reference (/work/shared/reference/x86_vcpu-behaviour.md) §1 run loop and
 * §2 VMCS setup: each test runs a small guest under the Vmm and asserts the exit sequence
 * (decoded exit name / VCpuExit kind) and the resulting guest state.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runGuest, runWithHandlers, POWEROFF, SEED } from './harness';
import { readMsr } from '../../src/hypervisor/setup';
import { MSR_VMX } from '../../src/vmx/controlChoice';
import { realCr0, cr0Mask, cr4Mask } from '../../src/hypervisor/crPolicy';


describe('reference §1: the run loop and what run() returns', () => {
  it('§1 VMCALL: RIP += length, Hypercall{nr: rax, args: rdi, rsi, rdx, rcx, r8, r9}', () => {
    const r = runGuest(`
      mov rax, 0x123456789a
      mov rdi, 0x1111111111
      mov rsi, 2
      mov rdx, 3
      mov rcx, 4
      mov r8, 5
      mov r9, 0x6666666666666666
      vmcall
      vmcall
      ${POWEROFF}`, { mode: 'long' });
    assert.deepEqual(r.seq, ['VMCALL/Hypercall', 'VMCALL/Hypercall', 'IO_INSTRUCTION/SystemDown']);
    const [a, b] = r.exits;
    assert.deepEqual(a.exit, { kind: 'Hypercall', nr: 0x123456789an, args: [0x1111111111n, 2n, 3n, 4n, 5n, 0x6666666666666666n] });
    assert.equal(a.fields.length, 3n);
    assert.equal(b.fields.rip, (a.fields.rip as bigint) + 3n, 'the second VMCALL is where RIP went');
    // An unknown hypercall number returns -1 in RAX (src/vmm/vmm.ts ABI).
    assert.equal((b.exit as { nr: bigint }).nr, 0xffffffffffffffffn);
  });

  it('§1 I/O: IN → IoRead{port, width}, the VMM completes it with the device value and RIP += length', () => {
    const r = runGuest(`
      mov eax, 0x12345678
      mov dx, 0x3fd
      in al, dx
      mov ebx, eax
      in ax, 0x60
      ${POWEROFF}`, { interception: { ...SEED, io: [[0x3f8, 0x3ff], [0x60, 0x60], [0x604, 0x604]] } });
    assert.deepEqual(r.seq, ['IO_INSTRUCTION/IoRead', 'IO_INSTRUCTION/IoRead', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual(r.exits[0].exit, { kind: 'IoRead', port: 0x3fd, width: 1, count: 1, string: false });
    assert.deepEqual(r.exits[1].exit, { kind: 'IoRead', port: 0x60, width: 2, count: 1, string: false });
    // COM1 LSR after reset: transmitter empty (THRE | TEMT = 0x60).
    assert.equal(r.reg('rbx'), 0x12345660n, 'IN AL keeps the rest of EAX');
    assert.equal(r.exits[1].fields.rip, (r.exits[0].fields.rip as bigint) + 1n + 3n, 'IN AL,DX is 1 byte, MOV EBX,EAX 3');
  });

  it('§1 I/O: OUT word 0x2000 to port 0x604 → SystemDown; other OUTs → IoWrite{port, width, data}', () => {
    const r = runGuest(`
      mov dx, 0x604
      mov ax, 0x1234
      out dx, ax
      mov al, 0x20
      out dx, al
      mov eax, 0x1000
      out dx, eax
      ${POWEROFF}
      hlt`);
    assert.deepEqual(r.seq, ['IO_INSTRUCTION/IoWrite', 'IO_INSTRUCTION/IoWrite', 'IO_INSTRUCTION/IoWrite', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual(r.exits.slice(0, 3).map((e) => e.exit), [
      { kind: 'IoWrite', port: 0x604, width: 2, data: [0x1234], string: false },
      { kind: 'IoWrite', port: 0x604, width: 1, data: [0x20], string: false },
      { kind: 'IoWrite', port: 0x604, width: 4, data: [0x1000], string: false },
    ]);
    assert.equal(r.result.reason, 'SystemDown');
    assert.equal(r.field('GUEST_RIP'), r.exits[3].fields.rip as bigint + 1n, 'RIP advanced past the power-off OUT');
  });

  it('§1 external interrupt → ExternalInterrupt{vector} from the exit interruption info; the VMM injects it', () => {
    const r = runGuest(`
      mov word [9*4], handler
      mov word [9*4+2], 0
      mov al, 0xfd
      out 0x21, al
      sti
      vmcall
      nop
      nop
      ${POWEROFF}
    handler:
      mov byte [0x500], 0x77
      mov al, 0x20
      out 0x20, al
      iret`, { hook: (vmm, e) => { if (e.name === 'VMCALL') vmm.machine.setIrq(1, true); } });
    assert.deepEqual(r.seq, ['VMCALL/Hypercall', 'EXTERNAL_INTERRUPT/ExternalInterrupt', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual(r.exits[1].exit, { kind: 'ExternalInterrupt', vector: 9 });
    assert.equal(r.vmm.machine.mem.read8(0x500), 0x77, 'the guest handler for IRQ1 (vector 9) ran');
  });

  it('§1 RDMSR/WRMSR outside 0x800..0x8FF → SysRegRead{addr}/SysRegWrite{addr, value}; the hypervisor leaves RIP (the VMM completes)', () => {
    const ripAtExit: bigint[] = [];
    const r = runGuest(`
      mov ecx, 0xc0000081
      mov eax, 0x10
      mov edx, 0x80000
      wrmsr
      xor eax, eax
      rdmsr
      mov ebx, eax
      mov esi, edx
      ${POWEROFF}`, {
      interception: { ...SEED, msrs: [...(SEED.msrs as [number, number][]), [0xc0000081, 0xc0000081]] },
      hook: (vmm, e) => { if (e.name.startsWith('MSR')) ripAtExit.push(vmm.vcpu.v.read('GUEST_RIP') - (e.fields.rip as bigint)); },
    });
    assert.deepEqual(r.seq, ['MSR_WRITE/SysRegWrite', 'MSR_READ/SysRegRead', 'IO_INSTRUCTION/SystemDown']);
    assert.deepEqual(r.exits[0].exit, { kind: 'SysRegWrite', addr: 0xc0000081, value: 0x8000000000010n });
    assert.deepEqual(r.exits[1].exit, { kind: 'SysRegRead', addr: 0xc0000081 });
    assert.deepEqual(ripAtExit, [0n, 0n], 'RIP not advanced when the exit reaches the VMM');
    assert.equal(r.reg('rbx'), 0x10n, 'the VMM completed the read (EAX) from the processor MSR (STAR)');
    assert.equal(r.reg('rsi'), 0x80000n, 'EDX');
  });

  it('§1 vCPU state: general registers stay in the processor across exits, RSP lives in the VMCS (GUEST_RSP)', () => {
    const r = runGuest(`
      mov sp, 0x6000
      mov ebp, 0xbbbb
      mov edi, 0xdddd
      vmcall
      mov [0x500], sp
      ${POWEROFF}`, { hook: (vmm, e) => { if (e.name === 'VMCALL') vmm.vcpu.setReg('rsp', 0x5000n); } });
    assert.equal(r.exits[0].fields.rsp, 0x6000n, 'GUEST_RSP at the exit');
    assert.equal(r.reg('rbp'), 0xbbbbn);
    assert.equal(r.reg('rdi'), 0xddddn);
    const m = r.vmm.machine.mem;
    assert.equal(m.read8(0x500) | (m.read8(0x501) << 8), 0x5000, 'setReg("rsp") wrote GUEST_RSP, which the guest then had');
    assert.equal(r.reg('rsp'), r.field('GUEST_RSP'));
  });

  it('§1 run loop: VMLAUNCH the first time, VMRESUME after; the guest XCR0 is switched in around each entry', () => {
    const launched: boolean[] = [];
    const hostXcr0: number[] = [];
    const r = runGuest(`
      mov eax, cr4
      or eax, 1 << 18
      mov cr4, eax
      xor ecx, ecx
      xor edx, edx
      mov eax, 3
      xsetbv
      xgetbv
      mov ebx, eax
      vmcall
      ${POWEROFF}`, { hook: (vmm) => { launched.push(vmm.vcpu.launched); hostXcr0.push(vmm.cpu.xcr0); } });
    assert.equal(r.exits[0].name, 'XSETBV');
    assert.equal(r.reg('rbx'), 3n, 'XGETBV in the guest reads the guest XCR0');
    assert.equal(r.vmm.vcpu.guestXcr0, 3);
    assert.ok(hostXcr0.every((x) => x === 1), 'the host XCR0 (x87 only) is back at every exit');
    assert.ok(launched.every((l) => l), 'launched after the first entry (later entries are VMRESUME)');
  });

  it('§1 anything else (triple fault, HLT, ...) → Halt with why; the VMM stops the run with a report', () => {
    const r = runGuest('lidt [z]\nint3\nz: dw 0\ndd 0');
    assert.deepEqual(r.seq, ['TRIPLE_FAULT/Halt']);
    assert.match((r.exits[0].exit as { why?: string }).why ?? '', /triple fault/);
    assert.equal(r.result.reason, 'shutdown');
    assert.match(r.result.detail ?? '', /triple fault/);
  });
});

describe('reference §2: VMCS setup', () => {
  it('§2 host state: PAT, EFER, CR0/CR3/CR4, selectors, bases, RIP = the exit stub', () => {
    const r = runGuest(POWEROFF);
    const f = r.field;
    const L = r.vmm.layout;
    assert.equal(f('HOST_RIP'), BigInt(L.hostCode));
    assert.equal(f('HOST_RSP'), BigInt(L.hostStack));
    assert.equal(f('HOST_IA32_PAT'), 0x0007040600070406n);
    assert.equal(f('HOST_IA32_EFER'), 0x500n);
    assert.equal(f('HOST_CR4') & (1n << 13n), 1n << 13n, 'CR4.VMXE');
    assert.equal(f('HOST_CR0') & 0x80000001n, 0x80000001n, 'PG and PE');
    assert.equal(f('HOST_CS_SELECTOR'), 8n);
    for (const s of ['SS', 'DS', 'ES', 'FS', 'GS']) assert.equal(f(`HOST_${s}_SELECTOR`), 0x10n);
    assert.equal(f('HOST_TR_SELECTOR'), 0x18n);
    for (const s of ['FS', 'GS', 'TR', 'GDTR', 'IDTR']) assert.equal(f(`HOST_${s}_BASE`), 0n);
  });

  it('§2 guest state: the real-mode start values (CS:IP = 0:entry, segments 0x93/0x9B, TR 0x8B, LDTR 0x82, DR7 0x400, RFLAGS 0x2, timer 1,000,000, link ~0)', () => {
    let at: Record<string, bigint> = {};
    const names = ['CS_SELECTOR', 'CS_BASE', 'CS_LIMIT', 'CS_ACCESS_RIGHTS', 'SS_ACCESS_RIGHTS', 'DS_ACCESS_RIGHTS', 'ES_LIMIT', 'FS_BASE', 'GS_ACCESS_RIGHTS',
      'TR_ACCESS_RIGHTS', 'LDTR_ACCESS_RIGHTS', 'GDTR_BASE', 'GDTR_LIMIT', 'IDTR_BASE', 'IDTR_LIMIT', 'CR3', 'DR7', 'RIP', 'RFLAGS',
      'INTERRUPTIBILITY_STATE', 'ACTIVITY_STATE', 'IA32_DEBUGCTL', 'IA32_EFER', 'IA32_PAT'].map((n) => `GUEST_${n}`);
    const r = runGuest(`
      mov eax, cr0
      mov ebx, eax
      mov eax, cr4
      mov esi, eax
      pushfd
      pop edi
      ${POWEROFF}`, { before: (vmm) => { at = Object.fromEntries([...names, 'VMX_PREEMPTION_TIMER_VALUE', 'VMCS_LINK_POINTER'].map((n) => [n, vmm.vcpu.v.read(n)])); } });
    assert.deepEqual(at, {
      GUEST_CS_SELECTOR: 0n, GUEST_CS_BASE: 0n, GUEST_CS_LIMIT: 0xffffn, GUEST_CS_ACCESS_RIGHTS: 0x9bn, GUEST_SS_ACCESS_RIGHTS: 0x93n,
      GUEST_DS_ACCESS_RIGHTS: 0x93n, GUEST_ES_LIMIT: 0xffffn, GUEST_FS_BASE: 0n, GUEST_GS_ACCESS_RIGHTS: 0x93n,
      GUEST_TR_ACCESS_RIGHTS: 0x8bn, GUEST_LDTR_ACCESS_RIGHTS: 0x82n, GUEST_GDTR_BASE: 0n, GUEST_GDTR_LIMIT: 0xffffn,
      GUEST_IDTR_BASE: 0n, GUEST_IDTR_LIMIT: 0xffffn, GUEST_CR3: 0n, GUEST_DR7: 0x400n, GUEST_RIP: 0x7c00n, GUEST_RFLAGS: 2n,
      GUEST_INTERRUPTIBILITY_STATE: 0n, GUEST_ACTIVITY_STATE: 0n, GUEST_IA32_DEBUGCTL: 0n, GUEST_IA32_EFER: 0n,
      GUEST_IA32_PAT: 0x0007040600070406n, VMX_PREEMPTION_TIMER_VALUE: 1_000_000n, VMCS_LINK_POINTER: 0xffffffffffffffffn,
    });
    assert.equal(r.reg('rbx'), 0x60000010n, 'the guest reads CR0 = 0x6000_0010 (NW|CD|ET)');
    assert.equal(r.reg('rsi'), 0n, 'the guest reads CR4 = 0 (VMXE hidden by the shadow)');
    assert.equal(r.reg('rdi') & 0xffffn, 2n, 'RFLAGS = 0x2');
  });

  it('§2 CR0/CR4 guest/host masks and read shadows: real CR0 = (val & FIXED1 & ~(NW|CD)) | (FIXED0 & ~(PG|PE)), VMXE forced in CR4', () => {
    const r = runGuest(POWEROFF);
    const cpu = r.vmm.cpu;
    const p = r.vmm.vcpu.policy;
    assert.equal(p.cr0Fixed0, readMsr(cpu, MSR_VMX.CR0_FIXED0).lo);
    assert.equal(r.field('GUEST_CR0'), BigInt(realCr0(p, 0x60000010)));
    assert.equal(r.field('GUEST_CR0') & 0x60000000n, 0n, 'NW and CD are not in the real CR0');
    assert.equal(r.field('CR0_READ_SHADOW'), 0x60000010n);
    assert.equal(r.field('CR0_GUEST_HOST_MASK'), BigInt(cr0Mask(p)));
    assert.equal(r.field('CR0_GUEST_HOST_MASK') & 0x60000000n, 0x60000000n, 'NW and CD belong to the host');
    assert.equal(r.field('GUEST_CR4') & (1n << 13n), 1n << 13n, 'VMXE in the real CR4');
    assert.equal(r.field('CR4_READ_SHADOW'), 0n);
    assert.equal(r.field('CR4_GUEST_HOST_MASK'), BigInt(cr4Mask(p)));
  });

  it('§2 controls: the seed set chosen against the TRUE_ capability MSRs; EPTP low bits 0x5E; exception bitmap #UD only', () => {
    const r = runGuest(POWEROFF);
    const f = (n: string): number => Number(r.field(n));
    const pin = f('PIN_BASED_VM_EXECUTION_CONTROLS'), proc = f('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
    const proc2 = f('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS'), exit = f('PRIMARY_VM_EXIT_CONTROLS'), entry = f('VM_ENTRY_CONTROLS');
    const bit = (v: number, n: number): number => (v >>> n) & 1;
    assert.deepEqual([bit(pin, 0), bit(pin, 3)], [1, 1], 'external-interrupt and NMI exiting');
    assert.deepEqual([bit(proc, 25), bit(proc, 28), bit(proc, 31)], [1, 1, 1], 'I/O bitmaps, MSR bitmaps, secondary controls');
    assert.deepEqual([bit(proc, 15), bit(proc, 16), bit(proc, 19), bit(proc, 20)], [0, 0, 0, 0], 'CR3-load/store and CR8-load/store exiting cleared');
    assert.deepEqual([bit(proc, 7), bit(proc, 12), bit(proc, 9)], [0, 0, 0], 'no HLT, RDTSC, INVLPG exiting');
    assert.deepEqual([bit(proc2, 1), bit(proc2, 7)], [1, 1], 'EPT and unrestricted guest');
    assert.deepEqual([bit(exit, 9), bit(exit, 15), bit(exit, 18), bit(exit, 19), bit(exit, 20), bit(exit, 21)], [1, 1, 1, 1, 1, 1]);
    assert.deepEqual([bit(entry, 14), bit(entry, 15), bit(entry, 9)], [1, 1, 0], 'load PAT, load EFER, not IA-32e mode (real-mode start)');
    const caps = (msr: number): { lo: number; hi: number } => readMsr(r.vmm.cpu, msr);
    for (const [v, msr] of [[pin, MSR_VMX.TRUE_PINBASED_CTLS], [proc, MSR_VMX.TRUE_PROCBASED_CTLS], [exit, MSR_VMX.TRUE_EXIT_CTLS], [entry, MSR_VMX.TRUE_ENTRY_CTLS]] as const) {
      const c = caps(msr);
      assert.equal((v & c.lo) >>> 0, c.lo >>> 0, 'every allowed-0 setting is 1');
      assert.equal((v & ~c.hi) >>> 0, 0, 'no bit outside allowed-1');
    }
    assert.equal(r.field('EPT_POINTER') & 0xfffn, 0x5en);
    assert.equal(r.field('EXCEPTION_BITMAP'), 1n << 6n);
    for (const n of ['CR3_TARGET_COUNT', 'VM_EXIT_MSR_STORE_COUNT', 'VM_EXIT_MSR_LOAD_COUNT', 'VM_ENTRY_MSR_LOAD_COUNT']) assert.equal(r.field(n), 0n, n);
  });

  it('§2 interception: only port 0x604 exits; every other port reaches the devices directly', () => {
    const r = runGuest(`
      mov dx, 0x3f8
      mov al, 'o'
      out dx, al
      mov al, 'k'
      out dx, al
      in al, 0x61
      out 0x80, al
      mov dx, 0x604
      mov ax, 0x55
      out dx, ax
      ${POWEROFF}`);
    assert.deepEqual(r.seq, ['IO_INSTRUCTION/IoWrite', 'IO_INSTRUCTION/SystemDown']);
    assert.equal(r.serial, 'ok');
  });

  it('§2 interception: only MSRs 0xE1 and 0x800-0x83F exit (read and write); others pass through', () => {
    const r = runWithHandlers('protected', `
      mov ecx, 0x10
      rdmsr
      mov ecx, 0x1b
      rdmsr
      or eax, 0xc00
      wrmsr
      mov ecx, 0xc0000100
      rdmsr
      mov ecx, 0x802
      rdmsr
      mov ecx, 0x808
      xor edx, edx
      mov eax, 0x10
      wrmsr
      mov dword [0x508], n1
      mov ecx, 0x83f
      rdmsr
    n1:
      mov dword [0x508], n2
      mov ecx, 0xe1
      rdmsr
    n2:
      ${POWEROFF}`);
    assert.deepEqual(r.exits.map((e) => `${e.name} ${e.fields.msr?.toString(16) ?? ''}`), [
      'MSR_READ 802', 'MSR_WRITE 808', 'MSR_READ 83f', 'MSR_READ e1', 'IO_INSTRUCTION ',
    ]);
  });
});
