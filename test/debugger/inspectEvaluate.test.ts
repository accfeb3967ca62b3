import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspector } from '../../src/debugger/inspect';
import { EvaluateError } from '../../src/debugger/model';
import type { EptFlatReport, EptTreeReport, ExitsReport, TranslateReport, VmcsReport } from '../../src/debugger/inspect/reports';
import { stoppedGuest } from './inspectHarness';

/**
 * A 64-bit guest that maps linear 0x40000000 (PDPT entry 1 of the loader's identity map) to a
 * page table of its own whose entry 0 maps physical 0x5000, writes a marker through the new
 * mapping with its own instructions, then runs CPUID (stop) and powers off.
 */
const GUEST = [
  'bits 64',
  'start:',
  '  mov rax, cr3',
  '  and rax, ~0xfff',
  '  mov rbx, [rax]',
  '  and rbx, ~0xfff',
  '  mov qword [rbx + 8], 0x12003',
  '  mov qword [0x12000], 0x13003',
  '  mov qword [0x13000], 0x5003',
  '  mov rax, cr3',
  '  mov cr3, rax',
  '  mov rax, 0x1122334455667788',
  '  mov [0x40000120], rax',
  '  mov rbp, 0x40000128',
  '  mov eax, 1',
  'at_cpuid:',
  '  cpuid',
  '  mov dx, 0x604',
  '  mov ax, 0x2000',
  '  out dx, ax',
  'data: dq 0xfeedface',
].join('\n');

const stop = () => {
  const s = stoppedGuest(GUEST, { stopOn: (e) => e.id === 'cpuid' });
  assert.equal(s.result.reason, 'exitBreak');
  return s;
};
const ev = (s: ReturnType<typeof stop>, text: string, context: 'watch' | 'repl' = 'watch'): string => inspector.evaluate(s.target(), text, context).result;

describe('inspection: evaluate', () => {
  it('registers, sub-registers, flags, control registers, exit fields, vmcs fields, symbols', () => {
    const s = stop();
    assert.equal(ev(s, 'rax'), '0x1');
    assert.equal(ev(s, 'eax + 0x1234'), '0x1235');
    assert.equal(ev(s, 'rbp'), '0x40000128');
    assert.equal(ev(s, 'bpl'), '0x28');
    assert.equal(ev(s, 'leaf == 1'), 'true');
    assert.equal(ev(s, 'leaf'), '0x1');
    assert.equal(ev(s, 'qual'), '0x0');
    assert.equal(ev(s, 'rip == at_cpuid'), 'true');
    assert.equal(ev(s, 'vmcs.GUEST_CR3'), `0x${s.vmm.vcpu.v.read('GUEST_CR3').toString(16)}`);
    assert.equal(ev(s, 'cr3 == vmcs.GUEST_CR3'), 'true');
    assert.equal(ev(s, '(cr0 >> 31) & 1'), '0x1');
    assert.equal(ev(s, 'efer & 0x400 ? 1 : 0'), '0x1');
    assert.equal(ev(s, 'data + 4'), `0x${(s.target().info.symbols.lookup('data')! + 4).toString(16)}`);
    assert.equal(ev(s, 'msr.IA32_EFER == efer'), 'true');
    assert.equal(ev(s, 'cs.ar & 0x2000'), '0x2000');
  });

  it('memory reads go through the guest paging and EPT and agree with the processor', () => {
    const s = stop();
    assert.equal(ev(s, '[0x40000120]'), '0x1122334455667788');
    assert.equal(ev(s, 'dword [rbp - 8]'), '0x55667788');
    assert.equal(ev(s, 'byte [0x40000127]'), '0x11');
    assert.equal(ev(s, 'qword [data]'), '0xfeedface');
    assert.equal(ev(s, '[[0x40000120] & 0] + 1'), '0x1');
    // The processor's own store landed at physical 0x5120.
    assert.equal(s.vmm.machine.mem.read8(0x5120), 0x88);
    const r = inspector.evaluate(s.target(), '[0x40000120]', 'watch');
    assert.equal(r.memoryReference, '0x40000120');
  });

  it('bad pointers are clear errors, never crashes', () => {
    const s = stop();
    assert.throws(() => ev(s, '[0x40001000]'), (e: unknown) => e instanceof EvaluateError && /cannot read guest-linear 0x40001000: #PF, error code 0x0: page-table entry not present/.test(e.message));
    assert.throws(() => ev(s, '[0x8000000000000000]'), (e: unknown) => e instanceof EvaluateError && /not canonical/.test(e.message));
    // RAM ends at 16 MiB: the identity map reaches 1 GiB, the EPT does not.
    assert.throws(() => ev(s, 'byte [0x3000000]'), (e: unknown) => e instanceof EvaluateError && /EPT violation at guest-physical 0x3000000/.test(e.message));
  });

  it('unknown names and syntax errors name the problem and suggest close names', () => {
    const s = stop();
    assert.throws(() => ev(s, 'fooo + 1'), (e: unknown) => e instanceof EvaluateError && /unknown name 'fooo'/.test(e.message));
    assert.throws(() => ev(s, 'rxa'), (e: unknown) => e instanceof EvaluateError && /unknown name 'rxa' \(did you mean .*'rax'/.test(e.message));
    assert.throws(() => ev(s, 'vmcs.GUEST_CR9'), (e: unknown) => e instanceof EvaluateError && /unknown name 'vmcs.GUEST_CR9' \(did you mean .*vmcs\.GUEST_CR[034]/.test(e.message));
    assert.throws(() => ev(s, 'rax +'), (e: unknown) => e instanceof EvaluateError && /expression expected/.test(e.message));
    assert.throws(() => ev(s, '[rax'), (e: unknown) => e instanceof EvaluateError && /missing '\]'/.test(e.message));
  });

  it('setExpression assigns registers, VMCS fields and memory', () => {
    const s = stop();
    const t = s.target();
    assert.equal(inspector.setExpression(t, 'r13', '0x10 * 2').result, '0x20');
    assert.equal(ev(s, 'r13'), '0x20');
    assert.equal(inspector.setExpression(t, 'r13d', '0xffffffff').result, '0xffffffff');
    assert.equal(inspector.setExpression(t, 'byte [0x40000120]', '0xaa').result, '0xaa');
    assert.equal(s.vmm.machine.mem.read8(0x5120), 0xaa);
    assert.equal(ev(s, '[0x40000120]'), '0x11223344556677aa');
    assert.equal(inspector.setExpression(t, 'vmcs.TSC_OFFSET', '0x100').result, '0x0000000000000100');
    assert.throws(() => inspector.setExpression(t, 'cr3', '0'), /cr3 is read-only here: set vmcs.GUEST_CR3/);
    assert.throws(() => inspector.setExpression(t, 'rflags', '0'), /bit 1 is reserved and must be 1/);
    assert.throws(() => inspector.setExpression(t, 'rax + 1', '0'), /cannot assign/);
    assert.throws(() => inspector.setExpression(t, 'rip', '0x100000000000000'), /RIP 0x100000000000000 refused: VM entry would fail \(SDM vol. 3C §26.3.1.4 guest RIP not canonical\)/);
    assert.equal(s.vmm.vcpu.v.read('GUEST_RIP'), BigInt(t.info.symbols.lookup('at_cpuid')!));
    // The REPL's `x = value` form.
    assert.equal(ev(s, 'rsi = 7', 'repl'), '0x7');
    assert.equal(ev(s, 'rsi == 7', 'repl'), 'true');
  });

  it('REPL commands: ept, translate, exits, vmcs, help', () => {
    const s = stop();
    const ept = ev(s, 'ept 0x2000', 'repl');
    assert.match(ept, /EPT walk of guest-physical 0x2000/);
    assert.match(ept, /EPT PML4E/);
    assert.match(ept, /WB/);
    assert.match(ept, /result: host-physical 0x2000 \(.* page, RWX\)/);
    assert.match(ev(s, 'ept 0x3000000', 'repl'), /EPT violation: EPT P.* not present/);
    const tr = ev(s, 'translate 0x40000123', 'repl');
    assert.match(tr, /paging: 4-level/);
    assert.match(tr, /PML4 entry/);
    // The guest's own store through the mapping set the PTE's accessed and dirty flags (0x60).
    assert.match(tr, /page-table entry .* = 0x0000000000005063/);
    assert.match(tr, /-> guest-physical 0x5123/);
    assert.match(tr, /result: host-physical 0x5123/);
    assert.match(ev(s, 'exits', 'repl'), /CPUID \(10\)/);
    const v = ev(s, 'vmcs PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', 'repl');
    assert.match(v, /USE_IO_BITMAPS +on/);
    assert.match(ev(s, 'help', 'repl'), /translate <gla>/);
    assert.throws(() => ev(s, 'vmcs NOPE_FIELD', 'repl'), /no VMCS field named NOPE_FIELD/);
  });

  it('completions: registers, VMCS fields after vmcs., commands, symbols, exit fields', () => {
    const s = stop();
    const t = s.target();
    const labels = (text: string) => inspector.completions(t, text, text.length + 1).map((c) => c.label);
    assert.ok(labels('vmcs.GUEST_C').includes('GUEST_CR3'));
    assert.ok(labels('ra').includes('rax'));
    assert.ok(labels('tr').includes('translate'));
    assert.ok(!labels('rax + tr').includes('translate'));
    assert.ok(labels('at_').includes('at_cpuid'));
    assert.ok(labels('le').includes('leaf'));
    assert.ok(labels('cs.b').includes('base'));
  });
});

describe('inspection: reports', () => {
  it('translateReport follows the processor: each step, then EPT; a missing page is a fault', () => {
    const s = stop();
    const r = inspector.translateReport(s.target(), 0x40000123n, 'linear') as TranslateReport;
    assert.equal(r.result, '0x5123');
    assert.deepEqual(r.linear!.steps.map((x) => x.level), [4, 3, 2, 1]);
    assert.equal(r.linear!.gpa, '0x5123');
    assert.equal(r.linear!.ept!.status, 'ok');
    const bad = inspector.translateReport(s.target(), 0x40001000n, 'linear') as TranslateReport;
    assert.equal(bad.result, undefined);
    assert.match(bad.fault!, /#PF/);
    const p = inspector.translateReport(s.target(), 0x1000n, 'physical') as TranslateReport;
    assert.equal(p.result, '0x1000');
    assert.equal(p.physical!.steps.at(-1)!.memoryType, 'WB');
    JSON.stringify(r);
  });

  it('vmcsReport lists every field with encoding, group, decoding and change flags', () => {
    const s = stop();
    const rep = inspector.vmcsReport(s.target()) as VmcsReport;
    const by = new Map(rep.fields.map((f) => [f.name, f]));
    const proc = by.get('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS')!;
    assert.equal(proc.encoding, '0x4002');
    assert.equal(proc.group, 'control');
    assert.equal(proc.width, '32');
    assert.equal(proc.writable, true);
    const hlt = proc.decoded!.find((d) => d.name === 'HLT_EXITING')!;
    assert.equal(typeof hlt.allowed0, 'boolean');
    assert.equal(hlt.allowed1, true);
    assert.equal(by.get('EXIT_REASON')!.writable, false);
    assert.equal(by.get('EXIT_REASON')!.summary, '10 CPUID');
    assert.equal(by.get('GUEST_CS_ACCESS_RIGHTS')!.decoded!.find((d) => d.name === 'L')!.on, true);
    assert.ok(by.get('GUEST_CR0')!.decoded!.some((d) => d.name === 'PG' && d.on === true));
    assert.ok(rep.groups.some((g) => g.group === 'guest' && g.width === 'natural' && g.fields.includes('GUEST_RIP')));
    JSON.stringify(rep);
    // After resuming to the next stop, the changed fields are flagged.
    s.resume();
    const rep2 = inspector.vmcsReport(s.target()) as VmcsReport;
    const rip = rep2.fields.find((f) => f.name === 'GUEST_RIP')!;
    assert.equal(rip.changed, true);
    assert.ok(rip.previous !== undefined);
    // A field written (bare VT-x mode's writtenVmcs) is marked even with its value unchanged.
    const cr3 = rep2.fields.find((f) => f.name === 'GUEST_CR3')!;
    assert.equal(cr3.changed, false);
    const rep3 = inspector.vmcsReport({ ...s.target(), writtenVmcs: new Set(['GUEST_CR3']) }) as VmcsReport;
    const cr3w = rep3.fields.find((f) => f.name === 'GUEST_CR3')!;
    assert.equal(cr3w.changed, true);
    assert.equal(cr3w.previous, cr3w.value);
  });

  it('eptReport: the tree from the EPTP and the flat map with RAM, the MMIO hole and unmapped space', () => {
    const s = stop();
    const tree = inspector.eptReport(s.target(), 'tree') as EptTreeReport;
    assert.equal(tree.eptEnabled, true);
    assert.equal(tree.root!.level, 4);
    const pml4e = tree.root!.entries[0];
    assert.equal(pml4e.kind, 'entry');
    const flat = inspector.eptReport(s.target(), 'flat') as EptFlatReport;
    assert.equal(flat.mappings[0].gpaStart, '0x0');
    assert.equal(flat.mappings[0].hpaStart, '0x0');
    assert.equal(flat.mappings[0].memoryType, 'WB');
    assert.equal(flat.mappings[0].permissions, 'RWX');
    const total = flat.mappings.reduce((a, m) => a + m.size, 0);
    assert.equal(total, 16 * 1024 * 1024);
    assert.deepEqual(flat.regions.map((r) => r.kind), ['ram', 'unmapped', 'mmio']);
    assert.equal(flat.regions[2].start, '0xfee00000');
    JSON.stringify(tree);
    JSON.stringify(flat);
  });

  it('exitsReport: recent exits with decoded fields, and counts', () => {
    const s = stop();
    const rep = inspector.exitsReport(s.target()) as ExitsReport;
    assert.equal(rep.stoppedOn!.name, 'CPUID');
    assert.equal(rep.stoppedOn!.fields.leaf, '0x1');
    assert.ok(rep.counts.some((c) => c.name === 'CPUID' && c.reason === 10 && c.count === 1));
    assert.equal(rep.exits.at(-1)!.name, 'CPUID');
    JSON.stringify(rep);
  });
});
