/**
 * The call stack at every instruction of a function (the frames must be exactly [callee, caller,
 * caller's caller, …], each caller at the return address of its call, with the call's line):
 *  - the committed C kernel (gcc -m32 -O0 -g, .debug_frame): at a function's first instruction,
 *    after its `push ebp`, and in its body, three and four calls deep;
 *  - the higher-half kernel built with -O2 -fomit-frame-pointer (no frame pointer anywhere: only
 *    its call frame information unwinds it), 64-bit upper-half addresses;
 *  - an assembly program (no CFI): the prologue analysis at the entry, after the push, at the RET,
 *    and the RBP chain in the body.
 * The oracles are binutils: `objdump -d` for the return sites of every call, `readelf` for the
 * line of each address.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { andStop, asmFile, client, launch, POWEROFF, ROOT } from './dapHarness';
import { buildHigherHalfKernel, HH_CFLAGS_NOFP, HH_SOURCE, HH_TOOLS, nmExact, readelfRowsExact, signed } from '../debugger/higherHalfKernel';
import { hasTool } from '../debugger/dwarfOracle';
import { lineOf } from './guests';

const TOOLS = hasTool('objdump') && hasTool('readelf') && hasTool('nm');
const C_DIR = join(ROOT, 'examples', 'c-kernel');
const C_PROGRAM = join(C_DIR, 'kernel.elf');
const C_SOURCE = join(C_DIR, 'kernel.c');

const clients: DebugClient[] = [];
const built = HH_TOOLS ? buildHigherHalfKernel(HH_CFLAGS_NOFP) : undefined;
after(async () => {
  for (const dc of clients) await dc.stop();
  built?.dispose();
});

const u64 = (a: number): string => `0x${BigInt.asUintN(64, BigInt(a)).toString(16)}`;
const bare = (name: string): string => name.replace(/\+0x[0-9a-f]+$/, '');

/** `objdump -d`: callee name → the return addresses of every call to it (the instruction after the call). */
function returnSites(path: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  let pending: string | undefined;
  for (const l of execFileSync('objdump', ['-dw', '--no-show-raw-insn', path], { encoding: 'utf8' }).split('\n')) {
    const m = /^\s*([0-9a-f]+):\s+(\S+)(?:\s+(.*))?$/.exec(l);
    if (!m) continue;
    if (pending !== undefined) {
      if (!out.has(pending)) out.set(pending, new Set());
      out.get(pending)!.add(signed(m[1]));
      pending = undefined;
    }
    if (/^call/.test(m[2])) pending = /<([^>+]+)>/.exec(m[3] ?? '')?.[1] ?? '*';
  }
  return out;
}

/** The line readelf gives the row covering `address` (the last row at or below it in its sequence). */
function lineAtOracle(rows: Array<[number | null, number, boolean]>, address: number): number {
  let line = 0;
  for (const [l, a] of rows) {
    if (a > address) continue;
    line = l ?? 0;
  }
  return line;
}

async function frames(dc: DebugClient): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
}

/**
 * The stack is exactly `names`; frame 0 at `pc`; each caller at a return address of a call to the
 * frame below it (the outermost may be an indirect call); lines from readelf (callers
 * at their call instruction).
 */
function checkStack(f: DebugProtocol.StackFrame[], names: string[], pc: number, sites: Map<string, Set<number>>, rows: Array<[number | null, number, boolean]>, what: string): void {
  assert.deepEqual(f.map((x) => bare(x.name)), names, what);
  assert.equal(f[0].instructionPointerReference, u64(pc), what);
  for (let i = 1; i < f.length; i++) {
    const ret = signed(f[i].instructionPointerReference!);
    // An indirect call (the higher-half boot stub's call *%rax) names no callee: '*'.
    const ok = sites.get(names[i - 1])?.has(ret) || (i === f.length - 1 && sites.get('*')?.has(ret));
    assert.ok(ok, `${what}: frame ${i} (${f[i].name}) at ${f[i].instructionPointerReference} is not a return site of a call to ${names[i - 1]}`);
    assert.equal(f[i].line ?? 0, lineAtOracle(rows, ret - 1), `${what}: line of frame ${i}`);
  }
  assert.equal(f[0].line ?? 0, lineAtOracle(rows, pc), `${what}: line of frame 0`);
}

async function setInstructionBreakpoints(dc: DebugClient, addresses: number[]): Promise<void> {
  const r = (await dc.customRequest('setInstructionBreakpoints', { breakpoints: addresses.map((a) => ({ instructionReference: u64(a) })) })) as DebugProtocol.SetInstructionBreakpointsResponse;
  assert.ok(r.body.breakpoints.every((b) => b.verified));
}

const stepInstruction = (dc: DebugClient) => andStop(dc, dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));

test('C kernel (-m32 -O0, .debug_frame): the stack at a function\'s first instruction, after its push and in its body', { skip: !TOOLS && 'needs binutils' }, async () => {
  const nm = nmExact(C_PROGRAM);
  const sites = returnSites(C_PROGRAM);
  const rows = readelfRowsExact(C_PROGRAM);
  const dc = await client();
  clients.push(dc);
  const outb = nm.get('outb')!;
  const isPrime = nm.get('is_prime')!;
  await launch(dc, { program: C_PROGRAM, stopOnEntry: false }, () => setInstructionBreakpoints(dc, [outb]));
  // outb's first instruction, called by putc ← puts ← kmain ← _start (the first character of "hello").
  const deep = ['outb', 'putc', 'puts', 'kmain', '_start'];
  checkStack(await frames(dc), deep, outb, sites, rows, 'outb+0');
  await setInstructionBreakpoints(dc, []);
  await stepInstruction(dc);
  checkStack(await frames(dc), deep, outb + 1, sites, rows, 'outb after push ebp');
  await stepInstruction(dc);
  const f = await frames(dc);
  assert.equal(f[0].name, 'outb+0x3');
  checkStack(f, deep, outb + 3, sites, rows, 'outb after mov ebp, esp');
  // is_prime: at its first instruction, after the push, and on a line of its body.
  await setInstructionBreakpoints(dc, [isPrime]);
  await andStop(dc, dc.continueRequest({ threadId: 1 }));
  const three = ['is_prime', 'kmain', '_start'];
  checkStack(await frames(dc), three, isPrime, sites, rows, 'is_prime+0');
  await setInstructionBreakpoints(dc, []);
  await stepInstruction(dc);
  checkStack(await frames(dc), three, isPrime + 1, sites, rows, 'is_prime after push ebp');
  const bodyLine = execFileSync('grep', ['-n', 'if (n % d == 0) return 0;', C_SOURCE], { encoding: 'utf8' }).split(':')[0];
  await dc.setBreakpointsRequest({ source: { path: C_SOURCE }, breakpoints: [{ line: Number(bodyLine) }] });
  await andStop(dc, dc.continueRequest({ threadId: 1 }));
  const body = await frames(dc);
  assert.equal(body[0].line, Number(bodyLine));
  checkStack(body, three, signed(body[0].instructionPointerReference!), sites, rows, 'is_prime body');
  // Step out from the first instruction still returns to kmain's call site.
  await dc.setBreakpointsRequest({ source: { path: C_SOURCE }, breakpoints: [] });
});

test('higher-half kernel at -O2 -fomit-frame-pointer: the stack from call frame information only, and an 8-byte store watched as 8 bytes', { skip: !(HH_TOOLS && TOOLS) && 'needs gcc and binutils' }, async () => {
  const path = built!.path;
  const nm = nmExact(path);
  const sites = returnSites(path);
  const rows = readelfRowsExact(path);
  const dc = await client();
  clients.push(dc);
  const square = nm.get('square')!;
  const sumSquares = nm.get('sum_squares')!;
  await launch(dc, { program: path, stopOnEntry: false }, () => setInstructionBreakpoints(dc, [sumSquares, square]));
  checkStack(await frames(dc), ['sum_squares', 'kmain', '_start'], sumSquares, sites, rows, 'sum_squares+0');
  await andStop(dc, dc.continueRequest({ threadId: 1 }));
  const stack = ['square', 'sum_squares', 'kmain', '_start'];
  checkStack(await frames(dc), stack, square, sites, rows, 'square+0');
  await setInstructionBreakpoints(dc, []);
  await stepInstruction(dc);
  const f = await frames(dc);
  checkStack(f, stack, signed(f[0].instructionPointerReference!), sites, rows, 'square body');
  assert.equal(f[0].source?.path, HH_SOURCE);
  // `counter += r` of an unsigned long: one 8-byte store (mov [rip+counter], rdx), reported as such.
  const di = await dc.dataBreakpointInfoRequest({ name: 'counter' });
  await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: di.body.dataId!, accessType: 'write' }] });
  const stop = await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal(stop.body.reason, 'data breakpoint');
  assert.match(stop.body.description!, new RegExp(`write of 8 bytes at linear ${u64(nm.get('counter')!)}`));
  const w = await frames(dc);
  checkStack(w, stack, signed(w[0].instructionPointerReference!), sites, rows, 'square after the store');
  await dc.setDataBreakpointsRequest({ breakpoints: [] });
  // Step out follows the CFI's return address.
  await andStop(dc, dc.stepOutRequest({ threadId: 1 }));
  const out = await frames(dc);
  assert.ok(sites.get('square')!.has(signed(out[0].instructionPointerReference!)));
  assert.deepEqual(out.map((x) => bare(x.name)), ['sum_squares', 'kmain', '_start']);
});

const NESTED = `bits 64
org 0x1000
start:
  xor ebp, ebp
  call outer            ; @call-outer
  nop                   ; @after-outer
${POWEROFF.split('\n').map((l) => `  ${l}`).join('\n')}
outer:
  push rbp              ; @outer
  mov rbp, rsp
  call inner            ; @call-inner
  pop rbp               ; @after-inner
  ret
inner:
  push rbp              ; @inner
  mov rbp, rsp          ; @inner-pushed
  mov r8, 0x42          ; @inner-body
  pop rbp               ; @inner-pop
  ret                   ; @inner-ret
`;

test('assembly without CFI: prologue analysis at the entry, after the push and at the RET; the RBP chain in the body', async () => {
  const program = asmFile(NESTED);
  const dc = await client();
  clients.push(dc);
  const at = async (marker: string): Promise<number> => {
    const t = await dc.gotoTargetsRequest({ source: { path: program }, line: lineOf(NESTED, marker) });
    return Number(t.body.targets[0].instructionPointerReference);
  };
  await launch(dc, { program, stopOnEntry: true });
  const afterInner = await at('after-inner');
  const afterOuter = await at('after-outer');
  const markers = ['inner', 'inner-pushed', 'inner-body', 'inner-pop', 'inner-ret'];
  await setInstructionBreakpoints(dc, [await at('inner')]);
  await andStop(dc, dc.continueRequest({ threadId: 1 }));
  await setInstructionBreakpoints(dc, []);
  for (const [i, marker] of markers.entries()) {
    if (i > 0) await stepInstruction(dc);
    const f = await frames(dc);
    assert.equal(Number(f[0].instructionPointerReference), await at(marker), marker);
    assert.deepEqual(f.map((x) => bare(x.name)), ['inner', 'outer', 'start'], marker);
    assert.deepEqual(f.slice(1).map((x) => Number(x.instructionPointerReference)), [afterInner, afterOuter], marker);
    assert.deepEqual(f.map((x) => x.line), [lineOf(NESTED, marker), lineOf(NESTED, 'call-inner'), lineOf(NESTED, 'call-outer')], marker);
  }
});
