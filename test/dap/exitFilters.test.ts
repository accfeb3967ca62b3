import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { andStop, asmFile, clientPool, collect, evaluate, launch, pc } from './dapHarness';
import { MAIN, MAIN_CONFIG, HALT, TRIPLE, lineOf } from './guests';
import { EXIT_REASONS } from '../../src/vmx/exitReasons';

const fresh = clientPool();

/** Address of the instruction on a marked line of MAIN (from the adapter's line table). */
async function addressOf(dc: DebugClient, program: string, text: string, marker: string): Promise<number> {
  const t = await dc.gotoTargetsRequest({ source: { path: program }, line: lineOf(text, marker) });
  return Number(t.body.targets[0].instructionPointerReference);
}

test('every exit reason is an exception filter, id = the name in lower case; only the guest-ending ones are on by default', async () => {
  const dc = await fresh();
  const caps = (await dc.initializeRequest()).body!;
  const filters = caps.exceptionBreakpointFilters!;
  assert.deepEqual(filters.map((f) => f.filter), EXIT_REASONS.map((r) => r.name.toLowerCase()));
  for (const f of filters) {
    assert.ok(f.label.length > 0 && (f.description ?? '').length > 0, f.filter);
    assert.equal(f.supportsCondition, true);
  }
  const on = filters.filter((f) => f.default === true).map((f) => f.filter);
  assert.ok(on.includes('triple_fault'));
  assert.ok(!on.includes('cpuid') && !on.includes('io_instruction') && !on.includes('hlt'));
  assert.equal(caps.supportsExceptionFilterOptions, true);
});

test('exit filters with conditions stop before the handler, in order: CPUID leaf, MSR read/write, CR write, EPT violation, VMCALL, I/O port', async () => {
  const dc = await fresh();
  const program = asmFile(MAIN);
  await launch(dc, { program, ...MAIN_CONFIG }, async () => {
    const r = await dc.setExceptionBreakpointsRequest({
      filters: ['msr_read'],
      filterOptions: [
        { filterId: 'cpuid', condition: 'leaf == 0' },
        { filterId: 'msr_write', condition: 'msr == 0x174' },
        { filterId: 'cr_access', condition: 'cr == 0 && write && (value & 0x40000000)' },
        { filterId: 'ept_violation', condition: 'gpa >= 0xfee00000 && read' },
        { filterId: 'vmcall', condition: 'nr == 0' },
        { filterId: 'io_instruction', condition: 'port == 0x604 && write && value == 0x2000' },
      ],
    });
    assert.ok(r.body!.breakpoints!.every((b) => b.verified));
  });
  const expect = async (id: string, summary: RegExp): Promise<void> => {
    const s = await andStop(dc, dc.continueRequest({ threadId: 1 }));
    assert.equal(s.body.reason, 'exception');
    assert.equal(s.body.text, id.toUpperCase());
    assert.match(s.body.description ?? '', new RegExp(`^VM exit: ${id.toUpperCase()} — `));
    assert.match(s.body.description ?? '', summary);
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, id);
    assert.match(info.body.details?.message ?? '', /EXIT_QUALIFICATION = 0x/);
  };
  await expect('cpuid', /CPUID leaf 0x0 /);
  // Before the handler: RAX still holds the leaf, RIP the CPUID instruction.
  assert.equal(await evaluate(dc, 'rax'), '0x0');
  assert.equal(await pc(dc), await addressOf(dc, program, MAIN, 'cpuid0'));
  await expect('msr_read', /RDMSR 0x174/);
  await expect('msr_write', /WRMSR 0x174/);
  await expect('cr_access', /MOV CR0, rax = 0x/);
  await expect('ept_violation', /read of GPA 0xfee00030/);
  await expect('vmcall', /VMCALL nr 0x0/);
  await expect('io_instruction', /OUT port 0x604, 2 bytes, value 0x2000/);
  const terminated = dc.waitForEvent('terminated');
  await dc.continueRequest({ threadId: 1 });
  await terminated;
});

test('stepping from an exit stop runs the handler and stops at the next instruction', async () => {
  const dc = await fresh();
  const program = asmFile(MAIN);
  await launch(dc, { program, ...MAIN_CONFIG, exitBreakpoints: [{ filter: 'cpuid', condition: 'leaf == 1' }] });
  await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal(await evaluate(dc, 'rax'), '0x1');
  const s = await andStop(dc, dc.nextRequest({ threadId: 1, granularity: 'instruction' }));
  assert.equal(s.body.reason, 'step');
  // The handler ran: EAX holds CPUID.1:EAX (the model's signature), RIP is past CPUID.
  assert.notEqual(await evaluate(dc, 'rax'), '0x1');
  assert.equal(await pc(dc), await addressOf(dc, program, MAIN, 'cpuid1') + 2);
});

test('a tracepoint logs every matching exit without stopping; a hit condition stops on the n-th', async () => {
  const dc = await fresh();
  const out = collect(dc, 'console');
  await launch(dc, { program: asmFile(MAIN), ...MAIN_CONFIG }, async () => {
    await dc.setExceptionBreakpointsRequest({
      filters: [],
      filterOptions: [
        { filterId: 'cpuid', condition: '@log CPUID leaf {leaf} at {rip}' },
        { filterId: 'cr_access', condition: 'cr == 0 @hit 2' },
      ],
    });
  });
  const s = await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal(s.body.text, 'CR_ACCESS');
  // The second CR0 write clears CD again.
  const value = Number(/MOV CR0, rax = (0x[0-9a-f]+)/.exec(s.body.description ?? '')?.[1]);
  assert.equal(value & 0x40000000, 0);
  assert.match(out.text(), /CPUID leaf 0x1 at 0x1005\n/);
  assert.match(out.text(), /CPUID leaf 0x0 at 0x/);
});

test('a condition naming a field the exit does not have is refused with the names that are available', async () => {
  const dc = await fresh();
  await launch(dc, { program: asmFile(MAIN), ...MAIN_CONFIG });
  const r = await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'cpuid', condition: 'port == 1' }, { filterId: 'msr_read', condition: 'msr ==' }] });
  const [a, b] = r.body!.breakpoints!;
  assert.equal(a.verified, false);
  assert.match(a.message ?? '', /unknown name 'port'.*available: .*leaf/);
  assert.equal(b.verified, false);
});

test('HLT (intercepted) stops on its exit', async () => {
  const dc = await fresh();
  await launch(dc, { program: asmFile(HALT), intercept: { hlt: true }, exitBreakpoints: ['hlt'] });
  const s = await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal(s.body.text, 'HLT');
  assert.equal(await evaluate(dc, 'rax'), '0x3');
});

test('a triple fault stops on its filter (on by default in VS Code), then ends the session with the reason', async () => {
  const dc = await fresh();
  const out = collect(dc, 'console');
  await launch(dc, { program: asmFile(TRIPLE) }, async () => {
    await dc.setExceptionBreakpointsRequest({ filters: ['triple_fault'] });
  });
  const s = await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal(s.body.text, 'TRIPLE_FAULT');
  const terminated = dc.waitForEvent('terminated');
  await dc.continueRequest({ threadId: 1 });
  await terminated;
  assert.match(out.text(), /triple fault/);
});

test('vtx/exits reports the history of exits; vtx/vmcs, vtx/ept and vtx/translate answer while stopped', async () => {
  const dc = await fresh();
  await launch(dc, { program: asmFile(MAIN), ...MAIN_CONFIG, exitBreakpoints: ['vmcall'] });
  await andStop(dc, dc.continueRequest({ threadId: 1 }));
  for (const [cmd, args] of [['vtx/exits', {}], ['vtx/vmcs', {}], ['vtx/ept', { form: 'flat' }], ['vtx/translate', { address: '0x1000' }]] as const) {
    const r = await dc.customRequest(cmd, args);
    assert.equal(typeof r.body, 'object', cmd);
  }
  assert.match(await failureOf(dc.customRequest('vtx/translate', {})), /address/);
});

async function failureOf(p: Promise<DebugProtocol.Response>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}
