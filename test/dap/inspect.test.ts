import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { andStop, asmFile, clientPool, evaluate, failure, launch, registers } from './dapHarness';
import { MAIN, MAIN_CONFIG } from './guests';

const fresh = clientPool();

async function afterFirstInstruction(): Promise<DebugClient> {
  const dc = await fresh();
  await launch(dc, { program: asmFile(MAIN), ...MAIN_CONFIG });
  await andStop(dc, dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
  return dc;
}

test('scopes in the contract\'s order; general registers by upper-case name, 0x + 16 hex digits', async () => {
  const dc = await afterFirstInstruction();
  const frames = await dc.stackTraceRequest({ threadId: 1 });
  const scopes = await dc.scopesRequest({ frameId: frames.body.stackFrames[0].id });
  assert.deepEqual(scopes.body.scopes.map((s) => s.name), ['General registers', 'Segments', 'Control registers', 'MSRs', 'FPU/SSE', 'VM exit', 'VMCS']);
  const regs = await registers(dc);
  for (const r of ['RAX', 'RBX', 'RCX', 'RDX', 'RSI', 'RDI', 'RBP', 'RSP', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15', 'RIP', 'RFLAGS']) {
    assert.match(regs.get(r) ?? '', /^0x[0-9a-f]{16}$/, r);
  }
  // After `mov eax, 1` at 0x1000 (5 bytes).
  assert.equal(regs.get('RAX'), '0x0000000000000001');
  assert.equal(regs.get('RIP'), '0x0000000000001005');
});

test('setVariable on RAX changes the guest register; evaluate sees it', async () => {
  const dc = await afterFirstInstruction();
  const frames = await dc.stackTraceRequest({ threadId: 1 });
  const scopes = await dc.scopesRequest({ frameId: frames.body.stackFrames[0].id });
  const ref = scopes.body.scopes[0].variablesReference;
  const r = await dc.setVariableRequest({ variablesReference: ref, name: 'RAX', value: '0x1234' });
  assert.equal(r.body.value, '0x0000000000001234');
  assert.equal(await evaluate(dc, 'rax + 1'), '0x1235');
  // The guest runs with it: CPUID leaf 0x1234 is what the next instruction asks for.
  const stop = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await dc.setExceptionBreakpointsRequest({ filters: ['cpuid'] });
  await dc.continueRequest({ threadId: 1 });
  assert.match((await stop).body.description ?? '', /CPUID leaf 0x1234/);
});

test('evaluate: numbers, memory reads, unknown names fail with a message naming them', async () => {
  const dc = await afterFirstInstruction();
  const mem = await dc.customRequest('readMemory', { memoryReference: '0x1000', count: 8 });
  const bytes = Buffer.from(mem.body.data as string, 'base64');
  assert.equal(await evaluate(dc, '[0x1000]'), `0x${bytes.readBigUInt64LE(0).toString(16)}`);
  assert.equal(await evaluate(dc, 'byte [0x1000]'), `0x${bytes[0].toString(16)}`);
  assert.equal(await evaluate(dc, '2 * 3 + 1'), '0x7');
  const message = await failure(dc.evaluateRequest({ expression: 'nosuchname + 1', context: 'watch' }));
  assert.match(message, /nosuchname/);
  // Hover and the REPL go through the same path.
  const hover = await dc.evaluateRequest({ expression: 'rax', context: 'hover' });
  assert.equal(hover.body.result, '0x1');
});

test('setExpression assigns a register; completions offer names that start with the typed text', async () => {
  const dc = await afterFirstInstruction();
  const r = await dc.customRequest('setExpression', { expression: 'rbx', value: '0x55' });
  assert.equal(r.success, true);
  assert.equal(await evaluate(dc, 'rbx'), '0x55');
  // The program's symbol `start` is offered for `st`.
  const c = await dc.completionsRequest({ text: 'st', column: 3 });
  assert.ok(c.body.targets.some((t) => t.label === 'start'), JSON.stringify(c.body.targets));
});

test('readMemory / writeMemory on guest memory; unreadable bytes are reported', async () => {
  const dc = await afterFirstInstruction();
  const w = await dc.customRequest('writeMemory', { memoryReference: '0x9100', data: Buffer.from([1, 2, 3, 4]).toString('base64') });
  assert.equal(w.body.bytesWritten, 4);
  const r = await dc.customRequest('readMemory', { memoryReference: '0x9100', offset: 1, count: 3 });
  assert.deepEqual([...Buffer.from(r.body.data as string, 'base64')], [2, 3, 4]);
  assert.equal(await evaluate(dc, 'dword [0x9100]'), '0x4030201');
  // Beyond guest RAM (64 MiB by default).
  const far = await dc.customRequest('readMemory', { memoryReference: '0x3fffffe', count: 4 });
  assert.equal(far.body.unreadableBytes, 2);
});

test('disassemble around RIP (before it too), with symbols and source lines; GAS syntax by setting', async () => {
  const dc = await afterFirstInstruction();
  const d = await dc.disassembleRequest({ memoryReference: '0x1005', instructionOffset: -1, instructionCount: 3 });
  const ins = d.body!.instructions;
  assert.deepEqual(ins.map((i) => Number(i.address)), [0x1000, 0x1005, 0x1007]);
  assert.equal(ins[0].symbol, 'start');
  assert.match(ins[1].instruction, /cpuid/);
  assert.ok(ins[0].line !== undefined && ins[0].location?.path !== undefined);
  const gas = await fresh();
  await launch(gas, { program: asmFile(MAIN), ...MAIN_CONFIG, syntax: 'gas' });
  const g = await gas.disassembleRequest({ memoryReference: '0x1000', instructionCount: 1 });
  assert.match(g.body!.instructions[0].instruction, /\$0x1,%eax|\$1,%eax/);
});

test('requests that need a stopped guest fail with a message while it runs', async () => {
  const dc = await fresh();
  await launch(dc, { program: asmFile('bits 64\norg 0x1000\nl: jmp l\n') });
  await dc.continueRequest({ threadId: 1 });
  assert.match(await failure(dc.evaluateRequest({ expression: 'rax', context: 'repl' })), /running/);
  await andStop(dc, dc.pauseRequest({ threadId: 1 }));
});
