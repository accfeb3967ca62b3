import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { andStop, asmFile, client, clientPool, collect, evaluate, launch, pc } from './dapHarness';
import { MAIN, MAIN_CONFIG, LOOP } from './guests';

const fresh = clientPool();

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

test('restart with arguments (an edited launch configuration): the new program and options take effect; a bad one is refused and changes nothing', async () => {
  const dc = await fresh();
  const first = asmFile(MAIN);
  await launch(dc, { type: 'vtx', request: 'launch', name: 'guest', program: first, ...MAIN_CONFIG });
  assert.equal((await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].name, 'start');
  // The person edits launch.json: another program, at another origin, in GAS syntax, with a CPUID filter.
  const second = asmFile('bits 64\norg 0x2000\nother:\n  mov eax, 7\n  cpuid\n  hlt\n');
  const config = { type: 'vtx', request: 'launch', name: 'guest', program: second, syntax: 'gas', stopOnEntry: true, exitBreakpoints: [{ filter: 'cpuid' }], __restart: { edited: true } };
  const s = await andStop(dc, dc.restartRequest({ arguments: config } as DebugProtocol.RestartArguments));
  assert.equal(s.body.reason, 'entry');
  assert.equal(await pc(dc), 0x2000);
  const frames = await dc.stackTraceRequest({ threadId: 1 });
  assert.equal(frames.body.stackFrames[0].name, 'other');
  assert.equal(frames.body.stackFrames[0].source?.path, second);
  const dis = async () => ((await dc.customRequest('disassemble', { memoryReference: '0x2000', instructionCount: 1 })) as DebugProtocol.DisassembleResponse).body!.instructions[0].instruction;
  assert.equal(await dis(), 'mov $7,%eax');
  // A bad configuration: a clear error, and the session stays as it was (same program, syntax, place).
  const missing = await dc.restartRequest({ arguments: { ...config, program: '/nonexistent/guest.asm' } } as DebugProtocol.RestartArguments).then(() => '', (e: Error) => e.message);
  assert.match(missing, /^restart: .*cannot read '\/nonexistent\/guest\.asm'/);
  const unknown = await dc.restartRequest({ arguments: { ...config, bogus: 1 } } as DebugProtocol.RestartArguments).then(() => '', (e: Error) => e.message);
  assert.match(unknown, /^restart: .*'bogus' is not a vtx launch attribute/);
  const badFilter = await dc.restartRequest({ arguments: { ...config, exitBreakpoints: [{ filter: 'cpuid', condition: 'leaf ==' }] } } as DebugProtocol.RestartArguments).then(() => '', (e: Error) => e.message);
  assert.match(badFilter, /^restart: .*exitBreakpoints\[0\]/);
  assert.equal(await pc(dc), 0x2000);
  assert.equal(await dis(), 'mov $7,%eax');
  // The new configuration's exit filter stops on the new program's CPUID.
  const cpuid = await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal(cpuid.body.reason, 'exception');
  assert.equal(cpuid.body.text, 'CPUID');
  // A restart without arguments (an older client) loads the configuration in effect: the second program.
  await andStop(dc, dc.restartRequest({}));
  assert.equal(await pc(dc), 0x2000);
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
