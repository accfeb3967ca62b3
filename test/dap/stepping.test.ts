import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { andStop, asmFile, clientPool, evaluate, launch, pc } from './dapHarness';
import { MAIN, MAIN_CONFIG, lineOf } from './guests';

const fresh = clientPool();

async function addressOf(dc: DebugClient, program: string, marker: string): Promise<number> {
  const t = await dc.gotoTargetsRequest({ source: { path: program }, line: lineOf(MAIN, marker) });
  return Number(t.body.targets[0].instructionPointerReference);
}

/** Launch MAIN and run to the line marked `marker`. */
async function at(marker: string): Promise<{ dc: DebugClient; program: string }> {
  const dc = await fresh();
  const program = asmFile(MAIN);
  await launch(dc, { program, ...MAIN_CONFIG }, async () => {
    await dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: lineOf(MAIN, marker) }] });
  });
  await andStop(dc, dc.continueRequest({ threadId: 1 }));
  await dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [] });
  return { dc, program };
}

test('instruction step executes exactly one instruction (the next one in the disassembly)', async () => {
  const dc = await fresh();
  await launch(dc, { program: asmFile(MAIN), ...MAIN_CONFIG });
  const d = await dc.disassembleRequest({ memoryReference: '0x1000', instructionCount: 3 });
  const [i0, i1, i2] = d.body!.instructions;
  assert.equal(Number(i0.address), 0x1000);
  assert.match(i0.instruction, /mov/i);
  const s = await andStop(dc, dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
  assert.equal(s.body.reason, 'step');
  assert.equal(await pc(dc), Number(i1.address));
  await andStop(dc, dc.nextRequest({ threadId: 1, granularity: 'instruction' }));
  assert.equal(await pc(dc), Number(i2.address));
});

test('step over a CALL runs the callee and stops after the call', async () => {
  const { dc, program } = await at('call');
  const s = await andStop(dc, dc.nextRequest({ threadId: 1, granularity: 'instruction' }));
  assert.equal(s.body.reason, 'step');
  assert.equal(await pc(dc), await addressOf(dc, program, 'store'));
  assert.equal(await evaluate(dc, 'r8'), '0x42');
});

test('step into a CALL stops at the callee; step out returns to the caller', async () => {
  const { dc, program } = await at('call');
  await andStop(dc, dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
  assert.equal(await pc(dc), await addressOf(dc, program, 'fn'));
  // Step out right at the function's start (before its prologue), then from its body.
  await andStop(dc, dc.stepOutRequest({ threadId: 1 }));
  assert.equal(await pc(dc), await addressOf(dc, program, 'store'));
  assert.equal(await evaluate(dc, 'r8'), '0x42');
});

test('step out from inside a function with a frame returns to the caller', async () => {
  const { dc, program } = await at('body');
  const s = await andStop(dc, dc.stepOutRequest({ threadId: 1 }));
  assert.equal(s.body.reason, 'step');
  assert.equal(await pc(dc), await addressOf(dc, program, 'store'));
});

test('line steps: next goes to the next source line over the call, step in enters it', async () => {
  const { dc, program } = await at('call');
  const s = await andStop(dc, dc.nextRequest({ threadId: 1 }));
  assert.equal(s.body.reason, 'step');
  let frames = await dc.stackTraceRequest({ threadId: 1 });
  assert.equal(frames.body.stackFrames[0].line, lineOf(MAIN, 'store'));
  await andStop(dc, dc.gotoRequest({ threadId: 1, targetId: await addressOf(dc, program, 'call') }));
  await andStop(dc, dc.stepInRequest({ threadId: 1, granularity: 'line' }));
  frames = await dc.stackTraceRequest({ threadId: 1 });
  assert.equal(frames.body.stackFrames[0].line, lineOf(MAIN, 'fn'));
});

test('goto sets RIP to the target of a line; the guest goes on from there', async () => {
  const { dc, program } = await at('cpuid0');
  const targets = await dc.gotoTargetsRequest({ source: { path: program }, line: lineOf(MAIN, 'print') });
  assert.equal(targets.body.targets.length, 1);
  const s = await andStop(dc, dc.gotoRequest({ threadId: 1, targetId: targets.body.targets[0].id }));
  assert.equal(s.body.reason, 'goto');
  assert.equal(await pc(dc), await addressOf(dc, program, 'print'));
  await andStop(dc, dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
  assert.equal(await evaluate(dc, 'rax'), '0x0');
});
