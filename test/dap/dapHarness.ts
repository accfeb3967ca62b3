/**
 * DAP tests drive the built adapter (dist/adapter.js) over stdio with DebugClient. The bundle is
 * rebuilt with esbuild when a source file is newer than it.
 */
import { after } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { asmFile, POWEROFF } from '../debugger/engineHarness';

export { asmFile, POWEROFF };

export const ROOT = join(__dirname, '..', '..');
export const ADAPTER = join(ROOT, 'dist', 'adapter.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Build dist/adapter.js if any source is newer (esbuild directly: only the adapter bundle). */
export function ensureAdapter(): void {
  if (existsSync(ADAPTER) && statSync(ADAPTER).mtimeMs >= newest(join(ROOT, 'src'))) return;
  execFileSync(process.execPath, ['-e', `require('esbuild').buildSync({entryPoints:[${JSON.stringify(join(ROOT, 'src/debugger/adapter/main.ts'))}],outfile:${JSON.stringify(ADAPTER)},bundle:true,platform:'node',target:'node20',format:'cjs',sourcemap:true,logLevel:'warning'});require('fs').copyFileSync(require.resolve('iced-x86/iced_x86_bg.wasm'),${JSON.stringify(join(ROOT, 'dist', 'iced_x86_bg.wasm'))})`], { cwd: ROOT, stdio: 'inherit' });
}

export async function client(): Promise<DebugClient> {
  ensureAdapter();
  const dc = new DebugClient('node', ADAPTER, 'vtx', { cwd: ROOT }, true);
  dc.defaultTimeout = 10000;
  await dc.start();
  return dc;
}

/** A function giving a new client per call; every client it gave is stopped after the file's tests. */
export function clientPool(): () => Promise<DebugClient> {
  const clients: DebugClient[] = [];
  after(async () => {
    for (const dc of clients) await dc.stop();
  });
  return async () => {
    const dc = await client();
    clients.push(dc);
    return dc;
  };
}

export interface Launched {
  dc: DebugClient;
  stopped: DebugProtocol.StoppedEvent;
}

/**
 * initialize → launch → (breakpoints set by `configure`) → configurationDone; waits for the
 * first stop (stopOnEntry unless the configuration says otherwise).
 */
export async function launch(dc: DebugClient, config: Record<string, unknown>, configure?: (dc: DebugClient) => Promise<void>): Promise<DebugProtocol.StoppedEvent> {
  await dc.initializeRequest({ adapterID: 'vtx', clientID: 'test', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' } as DebugProtocol.InitializeRequestArguments);
  const initialized = dc.waitForEvent('initialized');
  await dc.launchRequest({ stopOnEntry: true, ...config } as DebugProtocol.LaunchRequestArguments);
  await initialized;
  if (configure !== undefined) await configure(dc);
  const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await dc.configurationDoneRequest();
  return stopped;
}

/** Send a request and wait for the next stop. */
export async function andStop(dc: DebugClient, request: Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const s = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await request;
  return s;
}

/** The general registers by upper-case name. */
export async function registers(dc: DebugClient): Promise<Map<string, string>> {
  const frames = await dc.stackTraceRequest({ threadId: 1 });
  const scopes = await dc.scopesRequest({ frameId: frames.body.stackFrames[0].id });
  const gr = scopes.body.scopes.find((s) => s.name === 'General registers')!;
  const vars = await dc.variablesRequest({ variablesReference: gr.variablesReference });
  return new Map(vars.body.variables.map((v) => [v.name, v.value]));
}

export async function rip(dc: DebugClient): Promise<number> {
  return Number((await registers(dc)).get('RIP'));
}

/** The top frame's instruction pointer. */
export async function pc(dc: DebugClient): Promise<number> {
  const frames = await dc.stackTraceRequest({ threadId: 1 });
  return Number(frames.body.stackFrames[0].instructionPointerReference);
}

export async function evaluate(dc: DebugClient, expression: string): Promise<string> {
  const frames = await dc.stackTraceRequest({ threadId: 1 });
  return (await dc.evaluateRequest({ expression, frameId: frames.body.stackFrames[0].id, context: 'watch' })).body.result;
}

/** The output events of a category collected from now on. */
export function collect(dc: DebugClient, category: string): { text: () => string } {
  let text = '';
  dc.on('output', (e: DebugProtocol.OutputEvent) => {
    if ((e.body.category ?? 'console') === category) text += e.body.output;
  });
  return { text: () => text };
}

/** A request expected to fail: its error message. */
export async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the request succeeded');
}
