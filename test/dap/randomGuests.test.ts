/**
 * The guest is untrusted input: random machine code, debugged through the adapter, must never
 * make a request fail with an internal error nor end the session with one (DESIGN.md; the
 * adapter reports internal errors as 'stderr' output, session.ts `handle`). Each program is
 * random bytes (biased towards 0F escapes and prefixes, so that system instructions, VMX
 * instructions and faults come often), run in every boot mode under the built-in hypervisor and
 * bare VT-x; at every stop the views a person looks at are all asked for: stack, every scope and
 * one level of children, disassembly around the PC, memory at the PC and the stack pointer,
 * evaluations, the REPL commands and the panels' custom requests. The program is then stepped,
 * stepped over and continued with every exit filter armed. fast-check makes the programs from a
 * fixed seed (the same programs every run); a failure prints the program's bytes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { client, launch } from './dapHarness';
import { exitFilterList } from '../../src/debugger/adapter/capabilities';

const dir = mkdtempSync(join(tmpdir(), 'vtx-random-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PREFIXES = [0x66, 0x67, 0xf3, 0xf2, 0x48, 0xf0, 0x26, 0x64];
/** A byte of a random program: 1 in 8 an 0F escape, 1 in 16 a prefix, else any byte. */
const programByte = fc.integer({ min: 0, max: 0xffff }).map((r) => ((r & 7) === 0 ? 0x0f : (r & 15) === 1 ? PREFIXES[(r >> 4) & 7] : (r >> 4) & 0xff));
const program = fc.record({
  bytes: fc.array(programByte, { minLength: 8, maxLength: 600 }),
  mode: fc.constantFrom('real', 'protected', 'long'),
  hypervisor: fc.constantFrom('builtin', 'none'),
});

const FILTERS = exitFilterList().map((f) => f.filter);
const EXPRESSIONS = ['rip', 'rsp', 'cr0 & 1', '[rsp]', 'vmcs.GUEST_RIP', 'msr.EFER', 'reason', '$exit', 'rax + rbx * 2'];
const REPL = ['help', 'exits', 'vmcs', 'ept', 'translate rip', 'translate 0xfffffffffffff000'];

/** Collects what the adapter prints on stderr (its internal errors). */
function stderrOf(dc: DebugClient): { text: () => string } {
  let text = '';
  dc.on('output', (e: DebugProtocol.OutputEvent) => {
    if (e.body.category === 'stderr') text += e.body.output;
  });
  return { text: () => text };
}

/** A request whose refusal is allowed (a guest state the request cannot serve): only the adapter's health counts. */
async function ask<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch {
    return undefined;
  }
}

/** Everything the views ask for at a stop. */
async function lookAround(dc: DebugClient): Promise<void> {
  const frames = await dc.stackTraceRequest({ threadId: 1, startFrame: 0, levels: 20 });
  const top = frames.body.stackFrames[0];
  assert.ok(top !== undefined, 'a stopped session has a top frame');
  const scopes = await dc.scopesRequest({ frameId: top.id });
  for (const s of scopes.body.scopes) {
    const vars = await dc.variablesRequest({ variablesReference: s.variablesReference });
    for (const v of vars.body.variables.slice(0, 12)) {
      if (v.variablesReference > 0) await dc.variablesRequest({ variablesReference: v.variablesReference });
    }
  }
  const pc = top.instructionPointerReference;
  if (pc !== undefined) {
    await ask(dc.customRequest('disassemble', { memoryReference: pc, instructionOffset: -8, instructionCount: 24, resolveSymbols: true }));
    await ask(dc.customRequest('readMemory', { memoryReference: pc, offset: -16, count: 64 }));
  }
  for (const expression of EXPRESSIONS) await ask(dc.evaluateRequest({ expression, frameId: top.id, context: 'watch' }));
  for (const expression of REPL) await ask(dc.evaluateRequest({ expression, frameId: top.id, context: 'repl' }));
  await ask(dc.customRequest('vtx/vmcs', {}));
  await ask(dc.customRequest('vtx/ept', { form: 'tree' }));
  await ask(dc.customRequest('vtx/ept', { form: 'flat' }));
  await ask(dc.customRequest('vtx/exits', { limit: 50 }));
  if (pc !== undefined) await ask(dc.customRequest('vtx/translate', { address: pc }));
}

/** Send `request` and wait for the session to stop or end; true when it stopped. */
async function settle(dc: DebugClient, request: Promise<unknown>): Promise<boolean> {
  const stopped = dc.waitForEvent('stopped', 20_000).then(() => true);
  const ended = dc.waitForEvent('terminated', 20_000).then(() => false);
  stopped.catch(() => undefined);
  ended.catch(() => undefined);
  await request;
  return Promise.race([stopped, ended]);
}

test('random machine code in every mode, under the built-in hypervisor and bare VT-x, never causes an internal error in the adapter', async (t) => {
  let n = 0;
  const outcomes = new Map<string, number>();
  await fc.assert(fc.asyncProperty(program, async ({ bytes, mode, hypervisor }) => {
    const file = join(dir, `random${++n}.bin`);
    writeFileSync(file, Uint8Array.from(bytes));
    const dc = await client();
    try {
      await debugOnce(dc, file, mode, hypervisor, outcomes, bytes);
    } finally {
      await dc.stop();
    }
  }), { numRuns: 36, seed: 13 });
  t.diagnostic([...outcomes].sort().map(([k, v]) => `${v}× ${k}`).join('\n'));
});

async function debugOnce(dc: DebugClient, file: string, mode: string, hypervisor: string, outcomes: Map<string, number>, bytes: number[]): Promise<void> {
    const errors = stderrOf(dc);
    let ended = '';
    dc.on('output', (e: DebugProtocol.OutputEvent) => {
      if (e.body.category === 'console' && e.body.output.trim() !== '') ended = e.body.output.trim();
    });
    await launch(dc, { program: file, bootMode: mode, hypervisor, memory: '4M', maxInstructions: 20000 }, async (c) => {
      await c.setExceptionBreakpointsRequest({ filters: FILTERS });
    });
    let alive = true;
    for (let round = 0; round < 6 && alive; round++) {
      await lookAround(dc);
      const request = round % 3 === 0 ? dc.stepInRequest({ threadId: 1, granularity: 'instruction' })
        : round % 3 === 1 ? dc.nextRequest({ threadId: 1, granularity: 'instruction' })
          : dc.continueRequest({ threadId: 1 });
      alive = await settle(dc, request);
    }
    if (alive) await dc.disconnectRequest({ terminateDebuggee: true });
    const key = `${mode}/${hypervisor}: ${alive ? 'still running after six rounds' : ended.split('\n')[0].replace(/0x[0-9a-f]+/g, 'N').replace(/\(.*$/, '') || 'ended'}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    assert.equal(errors.text(), '', `internal error for ${mode}/${hypervisor} program ${Buffer.from(bytes).toString('hex')}`);
}
