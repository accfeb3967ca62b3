/**
 * Source-level debugging of a C guest through its DWARF line table (issue 6: "for ELF guests
 * built with -g, in C/asm sources through the DWARF line table"), on the committed C kernel
 * example (examples/c-kernel/kernel.elf, gcc -m32 -g): a breakpoint on a C line binds and hits,
 * the frame shows kernel.c at that line, a line step lands on a later line of the same function,
 * stepping into `is_prime` and out again works, and the guest runs to its power-off with its
 * serial text in the Debug Console.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { andStop, client, launch, ROOT } from './dapHarness';
import { loadDebugInfo } from '../../src/debugger/debugInfo';

const DIR = join(ROOT, 'examples', 'c-kernel');
const PROGRAM = join(DIR, 'kernel.elf');
const SOURCE = join(DIR, 'kernel.c');
/**
 * The kernel.c the frames name. kernel.elf records the path it was built at; the debugger keeps
 * a recorded path that exists (src/debugger/debugInfo/sourceRelocation.ts: another checkout of
 * vtx on the same machine, e.g. a git worktree beside the one kernel.elf was built in) and
 * otherwise finds the source under the program's tree (CI, a clone elsewhere): this checkout's.
 */
const SHOWN = (() => {
  const files = loadDebugInfo({ path: PROGRAM, bytes: new Uint8Array(readFileSync(PROGRAM)), format: 'elf' }).lines!.files()
    .filter((f) => /[\\/]examples[\\/]c-kernel[\\/]kernel\.c$/.test(f));
  assert.equal(files.length, 1, files.join(', '));
  assert.ok(files[0] === SOURCE || readFileSync(files[0], 'utf8') === readFileSync(SOURCE, 'utf8'), `${files[0]}: this checkout's kernel.c, or an identical one at the recorded path`);
  return files[0];
})();
const LINES = readFileSync(SOURCE, 'utf8').split('\n');
const lineOf = (text: string): number => {
  const i = LINES.findIndex((l) => l.includes(text));
  assert.ok(i >= 0, text);
  return i + 1;
};

const clients: DebugClient[] = [];
after(async () => {
  for (const dc of clients) await dc.stop();
});

async function top(dc: DebugClient): Promise<DebugProtocol.StackFrame> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
}

test('a C kernel: breakpoint on a C line, line steps, step in and out, run to power-off', async () => {
  const dc = await client();
  clients.push(dc);
  const hello = lineOf('puts("hello from C\\n")');
  const cpuidLine = lineOf('cpuid(0x40000000, &a, &b, &c, &d);');
  const primeTest = lineOf('if (is_prime(n)) {');
  let bound: DebugProtocol.SetBreakpointsResponse | undefined;
  await launch(dc, { program: PROGRAM, stopOnEntry: false }, async () => {
    bound = await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [{ line: hello }, { line: primeTest }] });
  });
  assert.deepEqual(bound!.body.breakpoints.map((b) => [b.verified, b.line]), [[true, hello], [true, primeTest]]);
  // The first stop (no stopOnEntry): the breakpoint on the hello line, in kmain.
  let f = await top(dc);
  assert.equal(f.source?.path, SHOWN);
  assert.equal(f.line, hello);
  assert.match(f.name, /^kmain/);
  // A line step (over the puts call) lands on a later line of kmain, with "hello from C" printed.
  const output = dc.assertOutput('stdout', 'hello from C');
  await andStop(dc, dc.nextRequest({ threadId: 1 }));
  await output;
  f = await top(dc);
  assert.equal(f.source?.path, SHOWN);
  assert.ok(f.line! > hello && f.line! <= cpuidLine, `next line after ${hello}: ${f.line}`);
  // Continue to the primality test; step in enters is_prime, step out returns to kmain.
  await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal((await top(dc)).line, primeTest);
  await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [] });
  await andStop(dc, dc.stepInRequest({ threadId: 1 }));
  f = await top(dc);
  assert.match(f.name, /^is_prime/);
  assert.equal(f.source?.path, SHOWN);
  await andStop(dc, dc.stepOutRequest({ threadId: 1 }));
  assert.match((await top(dc)).name, /^kmain/);
  // Run to the end: the power-off ends the session.
  const terminated = dc.waitForEvent('terminated');
  await dc.continueRequest({ threadId: 1 });
  await terminated;
});
