/**
 * Debugging a guest hypervisor over DAP (issue 10): test/guests/byoh.asm in bare VT-x mode
 * (`hypervisor: "none"`). Exit filters stop on the exits of the guest's own VMCS before its
 * handler runs (host state loaded, RIP = HOST_RIP: SDM vol. 3C §27.5), the stop and the call
 * stack name both levels, `vtx/vmcs` shows the VMCS the guest's VMPTRLD made current, and the
 * `vm_entry` filter stops on VMLAUNCH/VMRESUME that enter and that fail (§26, §30.3, §30.4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { andStop, asmFile, clientPool, collect, launch, pc, POWEROFF, registers } from './dapHarness';
import { DebugEngine } from '../../src/debugger/engine';
import type { VmcsReport } from '../../src/debugger/inspect/reports';

const PROGRAM = join(__dirname, '..', 'guests', 'byoh.asm');
const hex = (n: number): string => `0x${n.toString(16)}`;

const fresh = clientPool();

/** Addresses of byoh.asm's labels (its listing, as the adapter reads it). */
const symbols = DebugEngine.launch({ program: PROGRAM, hypervisor: 'none' }, { stopped: () => undefined, continued: () => undefined, output: () => undefined, ended: () => undefined }).info.symbols;
const HANDLER = symbols.lookup('exit_handler')!;
const L2 = symbols.lookup('l2_entry')!;

async function frames(dc: DebugClient): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
}

async function vmcs(dc: DebugClient): Promise<VmcsReport> {
  return (await dc.customRequest('vtx/vmcs', {})).body as VmcsReport;
}

function field(r: VmcsReport, name: string): string {
  const f = r.fields.find((x) => x.name === name);
  assert.ok(f !== undefined, name);
  return f.value;
}

test('stop on the nested guest\'s CPUID exit with a condition, inspect the current VMCS through vtx/vmcs, step into the L1 handler, continue', async () => {
  const dc = await fresh();
  const serial = collect(dc, 'stdout');
  await launch(dc, { program: PROGRAM, hypervisor: 'none', stopOnEntry: false }, async () => {
    const r = await dc.setExceptionBreakpointsRequest({
      filters: [],
      filterOptions: [{ filterId: 'cpuid', condition: 'leaf == 1' }, { filterId: 'cpuid', condition: `leaf == 0 && rip == ${hex(L2 + 2)}` }],
    });
    assert.ok(r.body!.breakpoints!.every((b) => b.verified));
  }).then((s) => {
    assert.equal(s.body.reason, 'exception');
    assert.equal(s.body.text, 'CPUID');
    assert.equal(s.body.description, `VM exit of the guest hypervisor's VMCS at 0x14000: CPUID, L2 RIP=${hex(L2 + 2)} — CPUID leaf 0x0 subleaf 0x4`);
  });
  // Two frames: the L1 handler about to run (at HOST_RIP), then the L2 context at the exiting CPUID.
  const f = await frames(dc);
  assert.deepEqual(f.map((x) => [x.name, Number(x.instructionPointerReference)]), [['L1 handler exit_handler', HANDLER], ['L2 guest l2_entry+0x2 (VM exit: CPUID)', L2 + 2]]);
  assert.equal(f[0].source?.path, PROGRAM);
  assert.equal(f[1].line, 532);
  const info = await dc.exceptionInfoRequest({ threadId: 1 });
  assert.equal(info.body.exceptionId, 'cpuid');
  assert.match(info.body.details?.message ?? '', /EXIT_REASON = 0xa\b/);
  // The VMCS the guest made current, with the exit as the processor recorded it (§27.2).
  const r = await vmcs(dc);
  assert.equal(r.vmcs, '0x14000');
  assert.equal(r.inside, false);
  assert.equal(field(r, 'EXIT_REASON'), '0x0000000a');
  assert.equal(BigInt(field(r, 'GUEST_RIP')), BigInt(L2 + 2));
  assert.equal(BigInt(field(r, 'HOST_RIP')), BigInt(HANDLER));
  // The Variables view's VMCS scope is the same VMCS: its note names it, the exit's fields are there.
  const scopes = await dc.scopesRequest({ frameId: f[0].id });
  const vmcsScope = scopes.body.scopes.find((x) => x.name === 'VMCS')!;
  const top = (await dc.variablesRequest({ variablesReference: vmcsScope.variablesReference })).body.variables;
  assert.match(top[0].value, /current VMCS at 0x14000/);
  const exitInfo = top.find((v) => v.name === 'VM-exit information fields')!;
  const widths = (await dc.variablesRequest({ variablesReference: exitInfo.variablesReference })).body.variables;
  const w32 = widths.find((v) => v.name === '32-bit')!;
  const reason = (await dc.variablesRequest({ variablesReference: w32.variablesReference })).body.variables.find((v) => v.name === 'EXIT_REASON');
  assert.equal(reason?.value, '0x0000000a');
  // Step into the handler: its first instruction (mov edi, EXIT_REASON) runs.
  const s = await andStop(dc, dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
  assert.equal(s.body.reason, 'step');
  assert.equal(await pc(dc), HANDLER + 5);
  assert.equal((await registers(dc)).get('RDI'), '0x0000000000004402');
  assert.deepEqual((await frames(dc)).map((x) => x.name), ['exit_handler+0x5']);
  // Continue: no other CPUID exit matches; the hypervisor reports every exit and powers off.
  const terminated = dc.waitForEvent('terminated');
  await dc.continueRequest({ threadId: 1 });
  await terminated;
  assert.match(serial.text(), /^exit reason 0x0000000a qualification 0x0000000000000000$/m);
  assert.match(serial.text(), /^VMXOFF: VMsucceed$/m);
});

test('vm_entry (announced by a capabilities event in bare mode): a VMLAUNCH that enters, then a failing entry with the check named', async () => {
  const dc = await fresh();
  let announced: DebugProtocol.ExceptionBreakpointsFilter[] | undefined;
  dc.on('capabilities', (e: DebugProtocol.CapabilitiesEvent) => {
    announced = e.body.capabilities.exceptionBreakpointFilters;
  });
  const first = await launch(dc, { program: PROGRAM, hypervisor: 'none', stopOnEntry: false }, async () => {
    const r = await dc.setExceptionBreakpointsRequest({
      filters: [],
      filterOptions: [{ filterId: 'vm_entry', condition: 'launch && entered' }, { filterId: 'vm_entry', condition: 'failed && error == 7' }],
    });
    assert.deepEqual(r.body!.breakpoints!.map((b) => b.verified), [true, true]);
  });
  const entry = announced?.find((x) => x.filter === 'vm_entry');
  assert.ok(entry !== undefined && entry.supportsCondition === true && entry.default === false);
  assert.ok(announced!.some((x) => x.filter === 'cpuid'));
  // VMLAUNCH entered: the processor is at the nested guest's first instruction (non-root operation).
  assert.equal(first.body.text, 'VM entry');
  assert.equal(first.body.description, `VMLAUNCH of the VMCS at 0x14000 entered the L2 guest at RIP=${hex(L2)}`);
  assert.equal(await pc(dc), L2);
  assert.equal((await vmcs(dc)).inside, true);
  let info = await dc.exceptionInfoRequest({ threadId: 1 });
  assert.equal(info.body.exceptionId, 'vm_entry');
  assert.equal(info.body.details?.typeName, 'VM entry');
  // The first failing entry the condition picks: a pin-based control the capability MSR forbids (§26.2.1.1).
  const s = await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal(s.body.text, 'VM entry failed');
  assert.equal(s.body.description, 'VM entry failed: VMfailValid(7) — 26.2.1.1 pin-based controls: reserved bits (VMRESUME)');
  info = await dc.exceptionInfoRequest({ threadId: 1 });
  assert.match(info.body.details?.message ?? '', /error = 0x7\b/);
  assert.equal(field(await vmcs(dc), 'VM_INSTRUCTION_ERROR'), '0x00000007');
  // VMfail: execution goes on after the VMRESUME in the guest hypervisor (§30.2), one frame.
  assert.equal((await frames(dc)).length, 1);
  const terminated = dc.waitForEvent('terminated');
  await dc.continueRequest({ threadId: 1 });
  await terminated;
});

test('under the built-in hypervisor vm_entry is refused with the reason; no capabilities event adds it', async () => {
  const dc = await fresh();
  let announced = false;
  dc.on('capabilities', () => {
    announced = true;
  });
  await launch(dc, { program: asmFile(`bits 64\norg 0x1000\n${POWEROFF}`) }, async () => {
    const r = await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'vm_entry' }] });
    const [b] = r.body!.breakpoints!;
    assert.equal(b.verified, false);
    assert.match(b.message ?? '', /needs "hypervisor": "none"/);
  });
  assert.equal(announced, false);
});

test('a guest hypervisor stopped before VMPTRLD: vtx/vmcs says there is no current VMCS, and the adapter answers every view', async () => {
  const dc = await fresh();
  await launch(dc, { program: PROGRAM, hypervisor: 'none' });
  const r = await vmcs(dc);
  assert.deepEqual(r.fields, []);
  assert.match(r.note ?? '', /no current VMCS/);
  const ept = await dc.customRequest('vtx/ept', { form: 'tree' });
  assert.ok(ept.success);
  const scopes = await dc.scopesRequest({ frameId: (await frames(dc))[0].id });
  for (const sc of scopes.body.scopes) {
    const v = await dc.variablesRequest({ variablesReference: sc.variablesReference });
    assert.ok(v.success, sc.name);
  }
});
