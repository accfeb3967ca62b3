import { it } from 'node:test';
import assert from 'node:assert/strict';
import { inspector } from '../../src/debugger/inspect';
import type { EptFlatReport, TranslateReport } from '../../src/debugger/inspect/reports';
import type { VarNode } from '../../src/debugger/model';
import { stoppedGuest } from './inspectHarness';

it('32-bit paging (protected mode): translate and memory reads follow the guest tables; default size is dword', () => {
  const s = stoppedGuest([
    'bits 32',
    '  mov dword [0x10000], 0x83',
    '  mov dword [0x10004], 0x11003',
    '  mov dword [0x11000], 0x5003',
    '  mov eax, cr4',
    '  or eax, 0x10',
    '  mov cr4, eax',
    '  mov eax, 0x10000',
    '  mov cr3, eax',
    '  mov eax, cr0',
    '  or eax, 0x80000000',
    '  mov cr0, eax',
    '  mov dword [0x400010], 0xcafe',
    '  mov dword [0x400014], 0xbeef',
    '  mov eax, 1',
    '  cpuid',
    '  hlt',
  ].join('\n'), { mode: 'protected', stopOn: (e) => e.id === 'cpuid' });
  assert.equal(s.result.reason, 'exitBreak');
  const t = s.target();
  const r = inspector.translateReport(t, 0x400010n, 'linear') as TranslateReport;
  assert.equal(r.linear!.mode, '32-bit');
  assert.deepEqual(r.linear!.steps.map((x) => x.name), ['page-directory entry', 'page-table entry']);
  assert.equal(r.result, '0x5010');
  assert.equal(inspector.evaluate(t, '[0x400010]', 'watch').result, '0xcafe');
  assert.equal(inspector.evaluate(t, 'qword [0x400010]', 'watch').result, '0xbeef0000cafe');
  // The 4 MiB identity page.
  assert.equal((inspector.translateReport(t, 0x1234n, 'linear') as TranslateReport).result, '0x1234');
  assert.match(inspector.evaluate(t, 'translate 0x800000', 'repl').result, /#PF.*page-directory entry not present/);
  const cr0 = inspector.scopes(t)[2].variables().find((v) => v.name === 'CR0')!;
  assert.equal(cr0.children!().find((c) => c.name === 'PG')!.value, '1');
});

it('stopped on an EPT violation: the exit scope, `gpa`, and the EPT map mark the address', () => {
  const s = stoppedGuest('bits 64\nmov rax, [0x3000010]\nhlt', { stopOn: (e) => e.id === 'ept_violation' });
  assert.equal(s.result.reason, 'exitBreak');
  const t = s.target();
  assert.equal(inspector.evaluate(t, 'gpa', 'watch').result, '0x3000010');
  assert.equal(inspector.evaluate(t, 'read && !write', 'watch').result, 'true');
  const ex = inspector.scopes(t)[5].variables();
  const get = (n: string): VarNode => ex.find((x) => x.name === n)!;
  assert.equal(get('reason').value, '48 EPT_VIOLATION');
  assert.equal(get('guest-physical address').value, '0x3000010');
  const q = get('qualification').children!();
  assert.equal(q.find((x) => x.name === 'gpa')!.value, '0x3000010');
  const flat = inspector.eptReport(t, 'flat') as EptFlatReport;
  assert.equal(flat.lastViolationGpa, '0x3000010');
  assert.match(inspector.evaluate(t, 'ept gpa', 'repl').result, /not present/);
});
