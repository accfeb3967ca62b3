import { it } from 'node:test';
import assert from 'node:assert/strict';
import { inspector } from '../../src/debugger/inspect';
import { EvaluateError } from '../../src/debugger/model';
import { stoppedGuest } from './inspectHarness';

/** Linear 0x40000000 → physical 0x5000 (touched by the guest), 0x40001000 → 0x6000 (never touched). */
const GUEST = [
  'bits 64',
  '  mov rax, cr3',
  '  and rax, ~0xfff',
  '  mov rbx, [rax]',
  '  and rbx, ~0xfff',
  '  mov qword [rbx + 8], 0x12003',
  '  mov qword [0x12000], 0x13003',
  '  mov qword [0x13000], 0x5003',
  '  mov qword [0x13008], 0x6003',
  '  mov rax, cr3',
  '  mov cr3, rax',
  '  mov qword [0x6010], 0x77',
  '  mov rax, [0x40000000]',
  '  mov eax, 1',
  '  cpuid',
  '  mov rax, [0x40001010]',
  '  mov [0x3000], rax',
  '  mov dx, 0x604',
  '  mov ax, 0x2000',
  '  out dx, ax',
].join('\n');

const FIELDS = ['GUEST_RIP', 'GUEST_RSP', 'GUEST_RFLAGS', 'GUEST_CR0', 'GUEST_CR3', 'EXIT_REASON', 'VM_INSTRUCTION_ERROR'];

it('looking at a stopped guest changes nothing: same run with and without inspection', () => {
  const plain = stoppedGuest(GUEST, { stopOn: (e) => e.id === 'cpuid' });
  const looked = stoppedGuest(GUEST, { stopOn: (e) => e.id === 'cpuid' });
  const t = looked.target();
  const mem = looked.vmm.machine.mem;
  // The debugger reads through the untouched mapping: the guest's PTE keeps its accessed flag clear.
  assert.equal(inspector.evaluate(t, 'qword [0x40001010]', 'watch').result, '0x77');
  assert.equal(mem.read8(0x13008), 0x03);
  const cr2 = [looked.vmm.cpu.cr2Lo, looked.vmm.cpu.cr2Hi];
  assert.throws(() => inspector.evaluate(t, '[0x40002000]', 'watch'), EvaluateError);
  assert.deepEqual([looked.vmm.cpu.cr2Lo, looked.vmm.cpu.cr2Hi], cr2);
  assert.throws(() => inspector.setExpression(t, 'vmcs.EXIT_REASON', '1'), EvaluateError);
  for (const s of inspector.scopes(t)) {
    const walk = (nodes: ReturnType<typeof s.variables>, depth: number): void => {
      for (const n of nodes) if (n.children !== undefined && depth < 3) walk(n.children(), depth + 1);
    };
    walk(s.variables(), 0);
  }
  inspector.vmcsReport(t);
  inspector.eptReport(t, 'tree');
  inspector.eptReport(t, 'flat');
  inspector.exitsReport(t);
  inspector.translateReport(t, 0x40001010n, 'linear');
  inspector.evaluate(t, 'translate 0x40001010', 'repl');
  inspector.evaluate(t, 'ept 0x6000', 'repl');
  assert.equal(mem.read8(0x13008), 0x03);
  for (const f of FIELDS) assert.equal(looked.vmm.vcpu.v.read(f), plain.vmm.vcpu.v.read(f), f);
  const a = plain.resume();
  const b = looked.resume();
  assert.equal(b.reason, a.reason);
  assert.equal(looked.vmm.cpu.icount, plain.vmm.cpu.icount);
  assert.equal(mem.read8(0x3000), 0x77);
  for (let i = 0; i < 16; i++) assert.equal(looked.vmm.cpu.lo[i], plain.vmm.cpu.lo[i]);
  // The guest's own access set the accessed flag.
  assert.equal(mem.read8(0x13008) & 0x20, 0x20);
});
