import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Vmm } from '../../src/vmm/vmm';
import { loadImage } from '../../src/vmm/loaders';
import { assemble } from '../../src/language/asm/assembler';

test('§1 bind/unbind: VMCLEAR clears the launch state (the next run launches), VMPTRLD makes the VMCS current again', () => {
  const src = ['bits 64', 'xor eax, eax', 'cpuid', 'cpuid', 'mov dx, 0x604', 'mov ax, 0x2000', 'out dx, ax'].join('\n');
  const bytes = assemble(src, { bits: 64 }).bytes;
  const seen: string[] = [];
  const vmm = new Vmm({ ramSize: 4 * 1024 * 1024, onExit: (e) => seen.push(e.name) });
  vmm.boot(loadImage(vmm.machine.mem, bytes, { format: 'flat', mode: 'long', loadAddress: 0x1000 }));
  // Drive the vCPU by hand to the first exit (CPUID), then unbind: the VMCS goes to its region,
  // launch state clear.
  assert.equal(vmm.vcpu.enter().kind, 'entered');
  assert.equal(vmm.machine.run(1000).reason, 'vmexit');
  assert.equal(vmm.vcpu.handleExit().kind, 'Nothing');
  seen.push(vmm.vcpu.lastExit!.name);
  const rip = vmm.vcpu.v.read('GUEST_RIP');
  vmm.vcpu.unbind();
  assert.equal(vmm.vcpu.launched, false);
  assert.equal(vmm.vcpu.engine.current, null, 'no current VMCS after VMCLEAR of the current one');
  vmm.vcpu.bind();
  assert.equal(vmm.vcpu.v.read('GUEST_RIP'), rip, 'the VMCS data survived the round trip through its region');
  const r2 = vmm.run(1_000_000);
  assert.equal(r2.reason, 'SystemDown');
  assert.deepEqual(seen, ['CPUID', 'CPUID', 'IO_INSTRUCTION']);
});
