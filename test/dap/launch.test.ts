import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { andStop, asmFile, client, collect, evaluate, launch, pc } from './dapHarness';
import { MAIN, MAIN_CONFIG, LOOP } from './guests';

const clients: DebugClient[] = [];
async function fresh(): Promise<DebugClient> {
  const dc = await client();
  clients.push(dc);
  return dc;
}
after(async () => {
  for (const dc of clients) await dc.stop();
});

test('launch with stopOnEntry stops before the first instruction, at the program\'s origin', async () => {
  const dc = await fresh();
  const s = await launch(dc, { program: asmFile(MAIN), ...MAIN_CONFIG });
  assert.equal(s.body.reason, 'entry');
  assert.equal(await pc(dc), 0x1000);
  const threads = await dc.threadsRequest();
  assert.equal(threads.body.threads.length, 1);
  const frames = await dc.stackTraceRequest({ threadId: 1 });
  assert.equal(frames.body.stackFrames[0].name, 'start');
  assert.match(frames.body.stackFrames[0].source?.path ?? '', /\.asm$/);
  const sources = await dc.customRequest('loadedSources', {});
  assert.ok((sources.body.sources as DebugProtocol.Source[]).some((x) => /\.asm$/.test(x.path ?? '')));
});

test('the guest\'s serial output arrives as output events and its end ends the session with the reason', async () => {
  const dc = await fresh();
  const stdout = collect(dc, 'stdout');
  const console = collect(dc, 'console');
  await launch(dc, { program: asmFile(MAIN), ...MAIN_CONFIG });
  const exited = dc.waitForEvent('exited') as Promise<DebugProtocol.ExitedEvent>;
  const terminated = dc.waitForEvent('terminated');
  await dc.continueRequest({ threadId: 1 });
  assert.equal((await exited).body.exitCode, 0);
  await terminated;
  assert.match(stdout.text(), /hello from the guest\n/);
  assert.match(console.text(), /powered off/);
});

test('without stopOnEntry the guest runs at once; a custom vtx/state event follows the guest', async () => {
  const dc = await fresh();
  const states: string[] = [];
  dc.on('vtx/state', (e: DebugProtocol.Event) => states.push((e.body as { state: string }).state));
  const terminated = dc.waitForEvent('terminated');
  await dc.initializeRequest();
  await dc.launchRequest({ program: asmFile(MAIN), ...MAIN_CONFIG } as DebugProtocol.LaunchRequestArguments);
  await dc.configurationDoneRequest();
  await terminated;
  assert.deepEqual(states, ['running', 'ended']);
});

test('restart loads the program again and stops on entry; terminate ends the session', async () => {
  const dc = await fresh();
  await launch(dc, { program: asmFile(MAIN), ...MAIN_CONFIG });
  await andStop(dc, dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
  assert.notEqual(await pc(dc), 0x1000);
  const s = await andStop(dc, dc.restartRequest({}));
  assert.equal(s.body.reason, 'entry');
  assert.equal(await pc(dc), 0x1000);
  const terminated = dc.waitForEvent('terminated');
  await dc.terminateRequest();
  await terminated;
});

test('pause stops a guest in an endless loop', async () => {
  const dc = await fresh();
  await launch(dc, { program: asmFile(LOOP) });
  await dc.continueRequest({ threadId: 1 });
  await new Promise((r) => setTimeout(r, 150));
  const s = await andStop(dc, dc.pauseRequest({ threadId: 1 }));
  assert.equal(s.body.reason, 'pause');
  // It ran: RAX counts the loop's iterations.
  assert.notEqual(await evaluate(dc, 'rax'), '0x0');
});

test('disconnect while the guest runs ends it; the adapter answers and its process exits', async () => {
  // Not stopped in after(): the adapter process is gone after disconnect.
  const dc = await client();
  const exited = new Promise<number | null>((resolve) => {
    (dc as unknown as { _adapterProcess: import('node:child_process').ChildProcess })._adapterProcess.on('exit', (code) => resolve(code));
  });
  await launch(dc, { program: asmFile(LOOP) });
  await dc.continueRequest({ threadId: 1 });
  const r = await dc.disconnectRequest({ terminateDebuggee: true });
  assert.equal(r.success, true);
  assert.equal(await exited, 0);
});

test('serial "terminal": output as vtx/serial events, input through vtx/serialInput reaches COM1', async () => {
  const dc = await fresh();
  const echo = `bits 64
org 0x1000
wait:
  mov dx, 0x3fd
  in al, dx
  test al, 1
  jz wait
  mov dx, 0x3f8
  in al, dx
  inc al
  out dx, al
  mov dx, 0x604
  mov ax, 0x2000
  out dx, ax
`;
  await launch(dc, { program: asmFile(echo), serial: 'terminal' });
  const serial = dc.waitForEvent('vtx/serial') as Promise<DebugProtocol.Event>;
  await dc.continueRequest({ threadId: 1 });
  await dc.customRequest('vtx/serialInput', { text: 'a' });
  assert.equal((await serial).body.text, 'b');
});

const BAD: [string, Record<string, unknown>, RegExp][] = [
  ['no program', { program: '' }, /'program' is missing/],
  ['a program that does not exist', { program: '/nonexistent/guest.bin' }, /cannot read '\/nonexistent\/guest.bin': no such file/],
  ['an unknown boot mode', { bootMode: 'unreal' }, /'bootMode' must be one of auto, real, protected, long/],
  ['memory that is not a size', { memory: 'lots' }, /memory: 'lots' is not a number/],
  ['memory too small', { memory: 100 }, /'memory': 100 bytes is too small/],
  ['an entry outside memory', { memory: '1M', entry: '0x200000' }, /'entry': 0x200000 is outside guest memory/],
  ['an unknown exit filter', { exitBreakpoints: ['cpuidd'] }, /'exitBreakpoints\[0\]\.filter' is 'cpuidd', which is not an exit filter/],
  ['a bad exit-filter condition', { exitBreakpoints: [{ filter: 'cpuid', condition: 'lef == 1' }] }, /exitBreakpoints\[0\].*unknown name 'lef'/],
  ['intercept with the hypervisor off', { hypervisor: 'none', intercept: { io: '0x80' } }, /'intercept' belongs to the built-in hypervisor/],
  ['vm_entry under the built-in hypervisor', { exitBreakpoints: ['vm_entry'] }, /'exitBreakpoints\[0\]\.filter' 'vm_entry' .*needs "hypervisor": "none"/],
  ['a bad port list', { intercept: { io: '0x10000' } }, /'intercept.io'.*0x10000/],
  ['an unknown attribute', { stopOnEntri: true }, /'stopOnEntri' is not a vtx launch attribute/],
  ['a cmdline for a flat program', { cmdline: 'quiet' }, /'cmdline' applies to Multiboot kernels only/],
];

for (const [what, config, message] of BAD) {
  test(`launch fails with a message naming the problem: ${what}`, async () => {
    const dc = await fresh();
    await dc.initializeRequest();
    const terminated = dc.waitForEvent('terminated');
    const program = asmFile(MAIN);
    await assert.rejects(dc.launchRequest({ program, ...config } as DebugProtocol.LaunchRequestArguments), message);
    await terminated;
  });
}

test('launch fails on an assembly error with file:line', async () => {
  const dc = await fresh();
  await dc.initializeRequest();
  const p = asmFile('bits 64\nmov eax, \n');
  await assert.rejects(dc.launchRequest({ program: p } as DebugProtocol.LaunchRequestArguments), /does not assemble:\n.*\.asm:2:/);
});
