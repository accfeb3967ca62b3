import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Vmm } from '../../src/vmm/vmm';
import { loadImage } from '../../src/vmm/loaders';
import { assemble } from '../../src/language/asm/assembler';

test('stopOnExit: the run stops on a VM exit before the hypervisor handles it; resuming handles it', () => {
  const src = ['bits 64', 'mov eax, 1', 'cpuid', 'mov ebx, eax', 'mov dx, 0x604', 'mov ax, 0x2000', 'out dx, ax'].join('\n');
  const bytes = assemble(src, { bits: 64 }).bytes;
  const vmm = new Vmm({ ramSize: 4 * 1024 * 1024, stopOnExit: (e) => e.id === 'cpuid' && e.fields.leaf === 1n });
  vmm.boot(loadImage(vmm.machine.mem, bytes, { format: 'flat', mode: 'long', loadAddress: 0x1000 }));
  const r = vmm.run(1_000_000);
  assert.equal(r.reason, 'exitBreak');
  assert.equal(r.lastExit?.summary, 'CPUID leaf 0x1 subleaf 0x0');
  // Not handled yet: RAX still holds the leaf and RIP still points at CPUID.
  assert.equal(vmm.vcpu.reg('rax'), 1n);
  assert.equal(vmm.vcpu.v.read('GUEST_RIP'), 0x1005n);
  const r2 = vmm.run(1_000_000);
  assert.equal(r2.reason, 'SystemDown');
  // The handler ran on resume: EBX has CPUID.1:EAX (the model's signature, not 1).
  assert.notEqual(vmm.vcpu.reg('rbx') & 0xffffffffn, 1n);
  assert.deepEqual(vmm.vcpu.exitTable(), { CPUID: 1, IO_INSTRUCTION: 1 });
});

test('stopOnExit: a VM-entry failure stops before its handler too; resuming ends the run with the failed check', () => {
  const bytes = assemble('bits 64\nnop\n', { bits: 64 }).bytes;
  const seen: string[] = [];
  const vmm = new Vmm({ ramSize: 4 * 1024 * 1024, stopOnExit: (e) => { seen.push(e.id); return e.entryFailure; } });
  vmm.boot(loadImage(vmm.machine.mem, bytes, { format: 'flat', mode: 'long', loadAddress: 0x1000 }));
  vmm.vcpu.v.write('GUEST_RFLAGS', 0); // bit 1 must be 1 (SDM vol. 3C §26.3.1.4)
  const r = vmm.run(1_000_000);
  assert.equal(r.reason, 'exitBreak');
  assert.equal(r.lastExit?.id, 'invalid_guest_state');
  assert.deepEqual(seen, ['invalid_guest_state']);
  const r2 = vmm.run(1_000_000);
  assert.equal(r2.reason, 'FailEntry');
  assert.match(r2.detail ?? '', /RFLAGS/);
});
