import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspector } from '../../src/debugger/inspect';
import { EvaluateError, type VarNode } from '../../src/debugger/model';
import { PROC_BASED } from '../../src/vmx/controlBits';
import { stoppedGuest } from './inspectHarness';

const GUEST = [
  'bits 64',
  'start:',
  '  mov eax, 0x12345678',
  '  mov rbx, rax',
  '  mov rax, cr4',
  '  or rax, 0x600',
  '  mov cr4, rax',
  '  mov eax, 0x12345678',
  '  fld1',
  '  mov rcx, 0x3ff0000000000000',
  '  movq xmm1, rcx',
  '  mov eax, 1',
  'at_cpuid:',
  '  cpuid',
  '  mov [0x3000], r12',
  '  mov dx, 0x604',
  '  mov ax, 0x2000',
  '  out dx, ax',
].join('\n');

const find = (nodes: VarNode[], name: string): VarNode => {
  const n = nodes.find((x) => x.name === name);
  assert.ok(n, `no node ${name} in ${nodes.map((x) => x.name).join(', ')}`);
  return n;
};

const stopAtCpuid = () => stoppedGuest(GUEST, { stopOn: (e) => e.id === 'cpuid' });

describe('inspection: scopes on a guest stopped on a CPUID exit', () => {
  it('lists the scopes in order with their hints', () => {
    const s = stopAtCpuid();
    assert.equal(s.result.reason, 'exitBreak');
    const scopes = inspector.scopes(s.target());
    assert.deepEqual(scopes.map((x) => x.name), ['General registers', 'Segments', 'Control registers', 'MSRs', 'FPU/SSE', 'VM exit', 'VMCS']);
    assert.equal(scopes[0].presentationHint, 'registers');
    assert.deepEqual(scopes.map((x) => x.expensive), [false, false, false, false, true, false, true]);
  });

  it('general registers read the guest values in the expected order and format', () => {
    const s = stopAtCpuid();
    const regs = inspector.scopes(s.target())[0].variables();
    assert.deepEqual(regs.map((r) => r.name), ['RAX', 'RBX', 'RCX', 'RDX', 'RSI', 'RDI', 'RBP', 'RSP', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15', 'RIP', 'RFLAGS']);
    assert.equal(find(regs, 'RBX').value, '0x0000000012345678');
    assert.equal(find(regs, 'RAX').value, '0x0000000000000001');
    // RIP is the CPUID instruction (the exit is before the handler), read from the VMCS.
    const t = s.target();
    assert.equal(find(regs, 'RIP').value, `0x${t.info.symbols.lookup('at_cpuid')!.toString(16).padStart(16, '0')}`);
    assert.equal(BigInt(find(regs, 'RSP').value), s.vmm.vcpu.v.read('GUEST_RSP'));
    const flags = find(regs, 'RFLAGS').children!();
    assert.deepEqual(flags.map((f) => f.name), ['CF', 'PF', 'AF', 'ZF', 'SF', 'TF', 'IF', 'DF', 'OF', 'IOPL', 'NT', 'RF', 'VM', 'AC', 'VIF', 'VIP', 'ID']);
    const rflags = s.vmm.vcpu.v.read('GUEST_RFLAGS');
    assert.equal(find(flags, 'ZF').value, String((rflags >> 6n) & 1n));
  });

  it('a register set at the stop is what the guest sees when it resumes', () => {
    const s = stopAtCpuid();
    const regs = inspector.scopes(s.target())[0].variables();
    assert.equal(find(regs, 'R12').set!('0xabc + 1'), '0x0000000000000abd');
    const r = s.resume();
    assert.equal(r.reason, 'SystemDown');
    assert.equal(s.vmm.machine.mem.read8(0x3000) | (s.vmm.machine.mem.read8(0x3001) << 8), 0xabd);
  });

  it('refuses an RFLAGS value VM entry would reject, and accepts a good one', () => {
    const s = stopAtCpuid();
    const rf = find(inspector.scopes(s.target())[0].variables(), 'RFLAGS');
    assert.throws(() => rf.set!('0'), /RFLAGS 0x0 refused: VM entry would fail .*26\.3\.1\.4.*bit 1 is reserved and must be 1/);
    assert.throws(() => rf.set!('0x8002'), /26\.3\.1\.4 guest RFLAGS reserved bits/);
    assert.equal(rf.set!('0x2 | 0x40'), '0x0000000000000042');
    assert.equal(s.vmm.vcpu.v.read('GUEST_RFLAGS'), 0x42n);
    assert.equal(s.resume().reason, 'SystemDown');
  });

  it('segments, control registers and MSRs decode the guest state', () => {
    const s = stopAtCpuid();
    const [, segs, crs, msrs] = inspector.scopes(s.target()).map((x) => x.variables());
    assert.deepEqual(segs.map((x) => x.name), ['CS', 'DS', 'ES', 'FS', 'GS', 'SS', 'LDTR', 'TR', 'GDTR', 'IDTR']);
    const ar = find(find(segs, 'CS').children!(), 'access rights').children!();
    assert.equal(find(ar, 'L').value, '1');
    assert.equal(find(ar, 'P').value, '1');
    const cr0 = find(crs, 'CR0');
    assert.equal(find(cr0.children!(), 'PG').value, '1');
    assert.equal(find(cr0.children!(), 'PE').value, '1');
    assert.equal(find(find(crs, 'EFER').children!(), 'LMA').value, '1');
    assert.deepEqual(crs.map((x) => x.name), ['CR0', 'CR2', 'CR3', 'CR4', 'CR8', 'EFER', 'XCR0', 'DR6', 'DR7']);
    const efer = find(msrs, 'IA32_EFER');
    assert.equal(BigInt(efer.value), s.vmm.vcpu.v.read('GUEST_IA32_EFER'));
    assert.ok(msrs.some((m) => m.name === 'IA32_LSTAR'));
    assert.ok(msrs.some((m) => m.name === 'IA32_APIC_BASE'));
  });

  it('FPU/SSE shows ST0 as a number and XMM lanes', () => {
    const s = stopAtCpuid();
    const fpu = inspector.scopes(s.target())[4].variables();
    assert.equal(find(fpu, 'ST0').value, '1');
    assert.equal(find(fpu, 'ST1').value, 'empty');
    const xmm1 = find(fpu, 'XMM1');
    assert.equal(xmm1.value, '0x00000000000000003ff0000000000000');
    assert.equal(find(xmm1.children!(), 'float64[2]').value, '1, 0');
    assert.ok(find(fpu, 'MXCSR').children!().some((c) => c.name === 'RC'));
  });

  it('the VM exit scope shows reason 10 CPUID and the leaf', () => {
    const s = stopAtCpuid();
    const ex = inspector.scopes(s.target())[5].variables();
    assert.equal(find(ex, 'reason').value, '10 CPUID');
    const q = find(ex, 'qualification').children!();
    assert.equal(find(q, 'leaf').value, '0x1');
    assert.equal(find(ex, 'instruction length').value, '2');
    assert.equal(find(ex, 'IDT-vectoring information').value, 'not valid');
  });

  it('VMCS: control bits decode to the names of controlBits with on/off; writes follow VMWRITE', () => {
    const s = stopAtCpuid();
    const vmcs = inspector.scopes(s.target())[6].variables();
    assert.deepEqual(vmcs.map((x) => x.name), ['Control fields', 'Guest-state fields', 'Host-state fields', 'VM-exit information fields']);
    const ctl32 = find(find(vmcs, 'Control fields').children!(), '32-bit').children!();
    const proc = find(ctl32, 'PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
    const value = BigInt(proc.value);
    const bits = proc.children!();
    assert.deepEqual(bits.map((b) => b.name), PROC_BASED.map((b) => b.name));
    for (const b of PROC_BASED) assert.equal(find(bits, b.name).value, ((value >> BigInt(b.bit)) & 1n) === 1n ? 'on' : 'off', b.name);
    assert.equal(value, s.vmm.vcpu.v.read('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS'));
    // Read-only field: refused with the reason.
    const exitInfo32 = find(find(vmcs, 'VM-exit information fields').children!(), '32-bit').children!();
    const reason = find(exitInfo32, 'EXIT_REASON');
    assert.equal(reason.set, undefined);
    assert.throws(() => inspector.setExpression(s.target(), 'vmcs.EXIT_REASON', '0'), /VMWRITE EXIT_REASON refused: the field is read-only/);
    assert.equal(s.vmm.vcpu.v.read('EXIT_REASON'), 10n);
    assert.equal(s.vmm.vcpu.v.read('VM_INSTRUCTION_ERROR'), 0n);
    // Writable field: VMWRITE, truncated to the width.
    const bitmap = find(ctl32, 'EXCEPTION_BITMAP');
    const old = s.vmm.vcpu.v.read('EXCEPTION_BITMAP');
    assert.equal(bitmap.set!(`0x1_0000_0000 | ${old} | 8`), `0x${(old | 8n).toString(16).padStart(8, '0')}`);
    assert.equal(s.vmm.vcpu.v.read('EXCEPTION_BITMAP'), old | 8n);
  });

  it('a real-mode guest stopped between instructions (non-root) reads the processor', () => {
    const s = stoppedGuest('mov ax, 0x1234\nmov bx, 0x5678\nhere: jmp here', { mode: 'real', max: 50 });
    assert.equal(s.result.reason, 'limit');
    assert.equal(s.vmm.cpu.nonRoot, true);
    const regs = inspector.scopes(s.target())[0].variables();
    assert.equal(find(regs, 'RAX').value, '0x0000000000001234');
    assert.equal(find(regs, 'RBX').value, '0x0000000000005678');
    assert.equal(find(regs, 'RIP').value, `0x${(0x7c06).toString(16).padStart(16, '0')}`);
    assert.equal(inspector.evaluate(s.target(), 'ax + bx', 'watch').result, '0x68ac');
    const t = s.target();
    assert.equal(inspector.setExpression(t, 'ah', '0x99').result, '0x99');
    assert.equal(s.vmm.cpu.lo[0], 0x9934);
    assert.throws(() => inspector.setExpression(t, 'vmcs.EXCEPTION_BITMAP', '0'), (e: unknown) => e instanceof EvaluateError && /non-root operation/.test(e.message));
    const vmcsNote = inspector.scopes(t)[6].variables()[0];
    assert.equal(vmcsNote.name, 'note');
  });
});
