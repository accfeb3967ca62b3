import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Vmcs } from '../../src/vmx/vmcs';
import { decodeExit } from '../../src/vmx/exitDecode';

function exit(fields: Record<string, bigint>, regs: Record<string, bigint> = {}) {
  const v = new Vmcs(0x1000);
  for (const [k, val] of Object.entries(fields)) v.write(k, val);
  return decodeExit((n) => v.read(n), (r) => regs[r] ?? 0n);
}

describe('decoded VM exits (SDM vol. 3C §27.2.1)', () => {
  it('APIC access: offset and access type (§27.2.1 table 27-6), TPR below threshold: trap-like', () => {
    const w = exit({ EXIT_REASON: 44n, EXIT_QUALIFICATION: (1n << 12n) | 0x300n });
    assert.deepEqual([w.fields.offset, w.fields.access, w.fields.write], [0x300n, 'linear write', true]);
    assert.equal(w.summary, 'APIC access at offset 0x300 (linear write)');
    assert.equal(exit({ EXIT_REASON: 44n, EXIT_QUALIFICATION: (15n << 12n) | 8n }).fields.access, 'guest-physical instruction execution');
    const t = exit({ EXIT_REASON: 43n, GUEST_RIP: 0x1013n });
    assert.match(t.summary, /^TPR below threshold/);
    assert.match(t.summary, /past the instruction/);
  });
  it('CPUID: leaf and subleaf from the guest registers', () => {
    const d = exit({ EXIT_REASON: 10n, GUEST_RIP: 0x7c10n, VM_EXIT_INSTRUCTION_LENGTH: 2n }, { rax: 0xffffffff00000001n, rcx: 0n });
    assert.equal(d.id, 'cpuid');
    assert.equal(d.fields.leaf, 1n);
    assert.equal(d.fields.rip, 0x7c10n);
    assert.equal(d.fields.length, 2n);
    assert.equal(d.summary, 'CPUID leaf 0x1 subleaf 0x0');
  });
  it('I/O: port, size, direction, string/REP and the value written', () => {
    const d = exit({ EXIT_REASON: 30n, EXIT_QUALIFICATION: (0x604n << 16n) | 1n }, { rax: 0x12342000n });
    assert.equal(d.id, 'io_instruction');
    assert.deepEqual([d.fields.port, d.fields.size, d.fields.write, d.fields.in, d.fields.value], [0x604n, 2n, true, false, 0x2000n]);
    assert.equal(d.summary, 'OUT port 0x604, 2 bytes, value 0x2000');
    const ins = exit({ EXIT_REASON: 30n, EXIT_QUALIFICATION: (0x3f8n << 16n) | 0x38n });
    assert.deepEqual([ins.fields.in, ins.fields.string, ins.fields.rep, ins.fields.value], [true, true, true, undefined]);
  });
  it('CR access: MOV to CR0 with the value, LMSW with its source data', () => {
    const d = exit({ EXIT_REASON: 28n, EXIT_QUALIFICATION: 0x300n }, { rbx: 0x80000011n });
    assert.deepEqual([d.fields.cr, d.fields.access, d.fields.gpr, d.fields.value, d.fields.write], [0n, 'mov to cr', 'rbx', 0x80000011n, true]);
    const l = exit({ EXIT_REASON: 28n, EXIT_QUALIFICATION: (0x1234n << 16n) | 0x30n });
    assert.equal(l.summary, 'LMSW 0x1234');
  });
  it('MSR write: index and EDX:EAX', () => {
    const d = exit({ EXIT_REASON: 32n }, { rcx: 0x808n, rax: 0x10n, rdx: 0x1n });
    assert.deepEqual([d.fields.msr, d.fields.value, d.fields.write], [0x808n, 0x100000010n, true]);
  });
  it('EPT violation: access, permissions, addresses; exception with error code and CR2; IDT vectoring', () => {
    const d = exit({ EXIT_REASON: 48n, EXIT_QUALIFICATION: 0x18an, GUEST_PHYSICAL_ADDRESS: 0xfee00020n, GUEST_LINEAR_ADDRESS: 0xfee00020n });
    assert.deepEqual([d.fields.write, d.fields.readable, d.fields.writable, d.fields.linearValid, d.fields.translation, d.fields.gpa], [true, true, false, true, true, 0xfee00020n]);
    assert.match(d.summary, /EPT violation: write of GPA 0xfee00020 \(linear 0xfee00020\); the entry allows R/);
    const pf = exit({ EXIT_REASON: 0n, VM_EXIT_INTERRUPTION_INFORMATION: 0x80000b0en, VM_EXIT_INTERRUPTION_ERROR_CODE: 2n, EXIT_QUALIFICATION: 0xdead000n });
    assert.equal(pf.summary, 'hardware exception 14, error code 0x2, CR2 0xdead000');
    assert.equal(pf.fields.vector, 14n);
    const v = exit({ EXIT_REASON: 48n, IDT_VECTORING_INFORMATION: 0x80000020n });
    assert.match(v.summary, /while delivering external interrupt 32/);
    const fail = exit({ EXIT_REASON: 0x80000021n });
    assert.equal(fail.entryFailure, true);
    assert.equal(fail.summary, 'VM-entry failure: VM entry failed: invalid guest state');
  });
});
