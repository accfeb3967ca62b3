/**
 * Debugging a higher-half kernel (test/guests/higher-half/kernel.c, gcc -mcmodel=kernel, code at
 * 0xffffffff80400000) over DAP: every address the person sees is the exact unsigned 64-bit one.
 * A source breakpoint and an instruction breakpoint (by its full 64-bit address) bind and hit;
 * the call stack names square / sum_squares / kmain with their lines; disassembly, readMemory
 * and vtx/translate work at the frame's instructionPointerReference; evaluate of a symbol and of
 * RIP; a data breakpoint on a higher-half variable; line step, step out (twice) and step over a call; the guest runs to its power-off.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { andStop, client, evaluate, launch } from './dapHarness';
import { buildHigherHalfKernel, HH_SOURCE, HH_TOOLS, hhLine, nmExact } from '../debugger/higherHalfKernel';

const built = HH_TOOLS ? buildHigherHalfKernel() : undefined;
const clients: DebugClient[] = [];
after(async () => {
  for (const dc of clients) await dc.stop();
  built?.dispose();
});

const u64 = (a: number): string => `0x${BigInt.asUintN(64, BigInt(a)).toString(16)}`;

async function frames(dc: DebugClient): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
}

test('a higher-half kernel: breakpoints, call stack, disassembly, memory, translate and stepping at 0xffffffff8040xxxx', { skip: !HH_TOOLS && 'needs gcc and binutils' }, async () => {
  const nm = nmExact(built!.path);
  const sumSquares = u64(nm.get('sum_squares')!);
  assert.match(sumSquares, /^0xffffffff8040[0-9a-f]{4}$/);
  const dc = await client();
  clients.push(dc);
  const L = { kmainCall: hhLine('kmain-call'), square: hhLine('square'), count: hhLine('count'), call: hhLine('call'), after: hhLine('after') };
  let src: DebugProtocol.SetBreakpointsResponse | undefined;
  let ins: DebugProtocol.SetInstructionBreakpointsResponse | undefined;
  const setInstruction = async (refs: string[]) => (await dc.customRequest('setInstructionBreakpoints', { breakpoints: refs.map((r) => ({ instructionReference: r })) })) as DebugProtocol.SetInstructionBreakpointsResponse;
  const serial: string[] = [];
  dc.on('output', (e: DebugProtocol.OutputEvent) => { if (e.body.category === 'stdout') serial.push(e.body.output); });
  let stop = await launch(dc, { program: built!.path, stopOnEntry: false }, async () => {
    src = await dc.setBreakpointsRequest({ source: { path: HH_SOURCE }, breakpoints: [{ line: L.kmainCall }, { line: L.square }] });
    ins = await setInstruction([sumSquares]);
  });
  // Both kinds bind, at exact upper-half addresses.
  assert.deepEqual(src!.body.breakpoints.map((b) => [b.verified, b.line]), [[true, L.kmainCall], [true, L.square]]);
  for (const b of src!.body.breakpoints) assert.match(b.instructionReference!, /^0xffffffff8040[0-9a-f]{4}$/);
  assert.deepEqual(ins!.body.breakpoints.map((b) => [b.verified, b.instructionReference]), [[true, sumSquares]]);

  // 1: the source breakpoint in kmain.
  assert.equal(stop.body.reason, 'breakpoint');
  let f = await frames(dc);
  assert.match(f[0].name, /^kmain/);
  assert.equal(f[0].source?.path, HH_SOURCE);
  assert.equal(f[0].line, L.kmainCall);
  assert.equal(f[0].instructionPointerReference, src!.body.breakpoints[0].instructionReference);
  assert.equal(await evaluate(dc, 'rip'), f[0].instructionPointerReference);

  // 2: the instruction breakpoint at sum_squares' first instruction.
  stop = await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal(stop.body.reason, 'instruction breakpoint');
  assert.match(stop.body.description!, new RegExp(sumSquares));
  f = await frames(dc);
  assert.equal(f[0].name, 'sum_squares');
  assert.equal(f[0].instructionPointerReference, sumSquares);
  // At its first instruction the caller is kmain (by .debug_frame), then the boot stub.
  assert.deepEqual(f.map((x) => x.name.replace(/\+0x[0-9a-f]+$/, '')), ['sum_squares', 'kmain', '_start']);
  assert.deepEqual(f.slice(1).map((x) => x.line), [L.kmainCall, 0]);

  // 3: the source breakpoint in square: the call stack through the higher-half frame-pointer chain.
  stop = await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal(stop.body.reason, 'breakpoint');
  f = await frames(dc);
  // Three higher-half frames, then the boot stub's call (lower half, no C source).
  assert.deepEqual(f.map((x) => x.name.replace(/\+0x[0-9a-f]+$/, '')), ['square', 'sum_squares', 'kmain', '_start']);
  assert.deepEqual(f.map((x) => x.line), [L.square, L.call, L.kmainCall, 0]);
  for (const x of f.slice(0, 3)) assert.match(x.instructionPointerReference!, /^0xffffffff8040[0-9a-f]{4}$/);
  assert.match(f[3].instructionPointerReference!, /^0x2000[0-9a-f]{2}$/);
  const ip = f[0].instructionPointerReference!;
  assert.equal(ip, src!.body.breakpoints[1].instructionReference);

  // Disassembly around the frame's instruction, and the same bytes through readMemory.
  const dis = (await dc.disassembleRequest({ memoryReference: ip, instructionOffset: -2, instructionCount: 5 })).body!.instructions;
  assert.equal(dis.length, 5);
  assert.equal(dis[2].address, ip);
  assert.match(dis[2].symbol!, /^square\+0x[0-9a-f]+$/);
  assert.equal(dis[2].line, L.square);
  assert.ok(!dis.some((i) => i.presentationHint === 'invalid'), JSON.stringify(dis));
  for (let k = 1; k < 5; k++) assert.ok(BigInt(dis[k].address) > BigInt(dis[k - 1].address));
  const bytes = dis[2].instructionBytes!.split(' ');
  const mem = ((await dc.customRequest('readMemory', { memoryReference: ip, count: bytes.length })) as DebugProtocol.ReadMemoryResponse).body!;
  assert.equal(mem.address, ip);
  assert.equal(mem.unreadableBytes ?? 0, 0);
  assert.equal(Buffer.from(mem.data!, 'base64').toString('hex'), bytes.join(''));

  // vtx/translate: through the kernel's own page tables to physical 0x400000 + offset.
  const offset = BigInt(ip) - 0xffffffff80400000n;
  const tr = (await dc.customRequest('vtx/translate', { address: ip })).body as { address: string; result?: string; linear?: { gpa?: string } };
  assert.equal(tr.address, ip);
  assert.equal(tr.linear?.gpa, `0x${(0x400000n + offset).toString(16)}`);
  // Evaluate: a symbol's value and a REPL translate, in the full 64-bit form.
  assert.equal(await evaluate(dc, 'square'), u64(nm.get('square')!));
  const top = f[0].id;
  const repl = (await dc.evaluateRequest({ expression: `translate ${ip}`, frameId: top, context: 'repl' })).body.result;
  assert.match(repl, new RegExp(`guest-physical 0x${(0x400000n + offset).toString(16)}`));

  // A line step within square; step out to sum_squares, then (breakpoints cleared) to kmain.
  await andStop(dc, dc.nextRequest({ threadId: 1 }));
  f = await frames(dc);
  assert.deepEqual([f[0].name.replace(/\+0x[0-9a-f]+$/, ''), f[0].line], ['square', L.count]);
  // A data breakpoint on the higher-half variable `counter` (by name: its value is its address).
  const counter = u64(nm.get('counter')!);
  const di = await dc.dataBreakpointInfoRequest({ name: 'counter' });
  assert.equal(di.body.dataId, `linear:${counter}:8`);
  await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: di.body.dataId!, accessType: 'write' }] });
  stop = await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal(stop.body.reason, 'data breakpoint');
  assert.match(stop.body.description!, new RegExp(`write of 8 bytes at linear ${counter}`));
  assert.equal((await frames(dc))[0].name.replace(/\+0x[0-9a-f]+$/, ''), 'square');
  // The value written, read through the kernel's upper-half mapping by an expression.
  assert.equal(await evaluate(dc, 'qword [counter]'), '0x1');
  const ev = (await dc.evaluateRequest({ expression: '[counter]', frameId: (await frames(dc))[0].id, context: 'watch' })).body;
  assert.equal(ev.memoryReference, counter);
  await dc.setDataBreakpointsRequest({ breakpoints: [] });
  await andStop(dc, dc.stepOutRequest({ threadId: 1 }));
  f = await frames(dc);
  assert.deepEqual([f[0].name.replace(/\+0x[0-9a-f]+$/, ''), f[0].line], ['sum_squares', L.call]);
  await dc.setBreakpointsRequest({ source: { path: HH_SOURCE }, breakpoints: [] });
  await setInstruction([]);
  await andStop(dc, dc.stepOutRequest({ threadId: 1 }));
  f = await frames(dc);
  assert.deepEqual([f[0].name.replace(/\+0x[0-9a-f]+$/, ''), f[0].line], ['kmain', L.kmainCall]);
  // Line steps to the puts line, then over its call (the serial text appears) to the next line.
  await andStop(dc, dc.nextRequest({ threadId: 1 }));
  assert.equal((await frames(dc))[0].line, L.after);
  assert.ok(!serial.join('').includes('sum ok'));
  await andStop(dc, dc.nextRequest({ threadId: 1 }));
  f = await frames(dc);
  assert.deepEqual([f[0].name.replace(/\+0x[0-9a-f]+$/, ''), f[0].line], ['kmain', L.after + 1]);
  assert.equal(serial.join(''), 'higher half\nsum ok\n');
  // A function breakpoint given as a full 64-bit address binds there; a goto target's address is exact.
  const fb = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: sumSquares }] });
  assert.deepEqual(fb.body.breakpoints.map((b) => [b.verified, b.instructionReference]), [[true, sumSquares]]);
  await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
  const gt = ((await dc.customRequest('gotoTargets', { source: { path: HH_SOURCE }, line: L.after + 1 })) as DebugProtocol.GotoTargetsResponse).body.targets;
  assert.equal(gt.length, 1);
  assert.equal(gt[0].instructionPointerReference, f[0].instructionPointerReference);
  const terminated = dc.waitForEvent('terminated');
  await dc.continueRequest({ threadId: 1 });
  await terminated;
});
