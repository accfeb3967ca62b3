import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { andStop, asmFile, clientPool, collect, evaluate, launch, pc } from './dapHarness';
import { MAIN, MAIN_CONFIG, lineOf } from './guests';

const fresh = clientPool();

const cont = (dc: DebugClient) => andStop(dc, dc.continueRequest({ threadId: 1 }));

async function addressOf(dc: DebugClient, program: string, marker: string): Promise<number> {
  const t = await dc.gotoTargetsRequest({ source: { path: program }, line: lineOf(MAIN, marker) });
  return Number(t.body.targets[0].instructionPointerReference);
}

test('a source breakpoint binds to its line\'s instruction and stops there', async () => {
  const dc = await fresh();
  const program = asmFile(MAIN);
  let bound: number | undefined;
  await launch(dc, { program, ...MAIN_CONFIG }, async () => {
    const r = await dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: lineOf(MAIN, 'call') }] });
    assert.equal(r.body.breakpoints[0].verified, true);
    bound = r.body.breakpoints[0].line;
  });
  assert.equal(bound, lineOf(MAIN, 'call'));
  const s = await cont(dc);
  assert.equal(s.body.reason, 'breakpoint');
  assert.equal(await pc(dc), await addressOf(dc, program, 'call'));
  const frames = await dc.stackTraceRequest({ threadId: 1 });
  assert.equal(frames.body.stackFrames[0].line, lineOf(MAIN, 'call'));
});

test('a breakpoint on a line without code binds to the next line with code; one past the end is not verified', async () => {
  const dc = await fresh();
  const program = asmFile(MAIN);
  await launch(dc, { program, ...MAIN_CONFIG });
  const r = await dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: lineOf(MAIN, 'first') - 1 }, { line: 999 }] });
  assert.equal(r.body.breakpoints[0].line, lineOf(MAIN, 'first'));
  assert.equal(r.body.breakpoints[1].verified, false);
});

test('conditions, hit conditions and log messages on source breakpoints', async () => {
  const dc = await fresh();
  const program = asmFile(MAIN);
  const out = collect(dc, 'console');
  await launch(dc, { program, ...MAIN_CONFIG }, async () => {
    await dc.setBreakpointsRequest({
      source: { path: program },
      breakpoints: [
        { line: lineOf(MAIN, 'cpuid1'), condition: 'rax == 7' },
        { line: lineOf(MAIN, 'cpuid0'), logMessage: 'before leaf {rax}' },
        { line: lineOf(MAIN, 'load'), condition: 'dword [0x9000] == 5', hitCondition: '>= 1' },
      ],
    });
  });
  const s = await cont(dc);
  assert.equal(s.body.reason, 'breakpoint');
  assert.equal(await pc(dc), await addressOf(dc, program, 'load'));
  assert.match(out.text(), /before leaf 0x0\n/);
});

test('a function breakpoint stops at the symbol; the frame is named after it and the caller is found at its entry and through RBP', async () => {
  const dc = await fresh();
  const program = asmFile(MAIN);
  await launch(dc, { program, ...MAIN_CONFIG }, async () => {
    const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'fn' }, { name: 'nosuch' }] });
    assert.equal(r.body.breakpoints[0].verified, true);
    assert.equal(r.body.breakpoints[1].verified, false);
    assert.match(r.body.breakpoints[1].message ?? '', /nosuch/);
  });
  const s = await cont(dc);
  assert.equal(s.body.reason, 'function breakpoint');
  // At its first instruction (no frame yet, no CFI in an .asm program): the caller from [RSP].
  const entry = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
  assert.deepEqual(entry.map((f) => f.name.replace(/\+0x[0-9a-f]+$/, '')), ['fn', 'start']);
  assert.equal(Number(entry[1].instructionPointerReference), await addressOf(dc, program, 'store'));
  assert.equal(entry[1].line, lineOf(MAIN, 'call'));
  // Past the prologue the RBP chain gives the caller.
  const body = await addressOf(dc, program, 'body');
  await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: `0x${body.toString(16)}` }] });
  const s2 = await cont(dc);
  assert.equal(s2.body.reason, 'instruction breakpoint');
  const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
  assert.equal(frames[0].name, 'fn+0x4');
  assert.equal(frames.length, 2);
  assert.equal(Number(frames[1].instructionPointerReference), await addressOf(dc, program, 'store'));
  assert.match(frames[1].name, /^start\+0x/);
});

test('data breakpoints: write and read of guest-linear memory, and of guest-physical memory, stop after the access', async () => {
  const dc = await fresh();
  const program = asmFile(MAIN);
  await launch(dc, { program, ...MAIN_CONFIG });
  const info = await dc.dataBreakpointInfoRequest({ name: '0x9000' });
  assert.ok(info.body.dataId !== null && info.body.accessTypes?.includes('write'));
  const bad = await dc.dataBreakpointInfoRequest({ name: 'nowhere' });
  assert.equal(bad.body.dataId, null);
  await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
  const s = await cont(dc);
  assert.equal(s.body.reason, 'data breakpoint');
  assert.match(s.body.description ?? '', /write of 4 bytes at linear 0x9000/);
  assert.equal(await evaluate(dc, 'dword [0x9000]'), '0x5');
  assert.equal(await pc(dc), await addressOf(dc, program, 'load'));
  // A read breakpoint on the physical address.
  const phys = await dc.dataBreakpointInfoRequest({ name: 'physical:0x9000:4' });
  await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: phys.body.dataId!, accessType: 'read' }] });
  const s2 = await cont(dc);
  assert.match(s2.body.description ?? '', /read of 4 bytes at guest-physical 0x9000/);
  assert.equal(await evaluate(dc, 'rbx'), '0x5');
  assert.equal(await pc(dc), await addressOf(dc, program, 'msr'));
});

test('a data breakpoint with a condition that never holds lets the guest run to its end', async () => {
  const dc = await fresh();
  await launch(dc, { program: asmFile(MAIN), ...MAIN_CONFIG });
  await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'linear:0x9000:4', accessType: 'readWrite', condition: 'rax == 0x1234' }] });
  const terminated = dc.waitForEvent('terminated');
  await dc.continueRequest({ threadId: 1 });
  await terminated;
});
