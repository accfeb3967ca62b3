import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Module from 'node:module';
import { join } from 'node:path';
import { ROOT } from './helpers';

// Load the built extension (dist/extension.js) with a stand-in for the `vscode` module and run
// its command: activation, file choice, the shared run logic and the output channel.

class Uri {
  static file(p: string): Uri { return new Uri(p); }
  constructor(readonly fsPath: string, readonly scheme = 'file') {}
  get path(): string { return this.fsPath; }
}
class TabInputText { constructor(readonly uri: Uri) {} }
class TabInputCustom { constructor(readonly uri: Uri) {} }

class DebugAdapterExecutable { constructor(readonly command: string, readonly args: string[], readonly options?: unknown) {} }
class DebugAdapterInlineImplementation { constructor(readonly implementation: unknown) {} }
class Range { constructor(readonly startLine: number, readonly startCol: number, readonly endLine: number, readonly endCol: number) {} }
class Diagnostic { source?: string; constructor(readonly range: Range, readonly message: string, readonly severity: number) {} }
class EventEmitter<T> {
  private readonly listeners: ((v: T) => void)[] = [];
  readonly event = (l: (v: T) => void): void => { this.listeners.push(l); };
  fire(v: T): void { for (const l of this.listeners) l(v); }
}

function fakeVscode(picks: { mode: string; dialog?: Uri[]; settings?: Record<string, unknown> }) {
  const commands = new Map<string, (...args: unknown[]) => Promise<void>>();
  const providers: Array<{ type: string; provider: Record<string, (...a: unknown[]) => unknown>; trigger?: number }> = [];
  const factories = new Map<string, { createDebugAdapterDescriptor(): unknown }>();
  const trackers = new Map<string, { createDebugAdapterTracker(s: unknown): unknown }>();
  const terminals: unknown[] = [];
  const output: string[] = [];
  const errors: string[] = [];
  const problems = new Map<string, Diagnostic[]>();
  const vscode = {
    Uri, TabInputText, TabInputCustom, DebugAdapterExecutable, DebugAdapterInlineImplementation, EventEmitter, Range, Diagnostic,
    DiagnosticSeverity: { Error: 0, Warning: 1 },
    languages: {
      createDiagnosticCollection: () => ({
        set: (u: Uri, d: Diagnostic[]) => { problems.set(u.fsPath, d); },
        clear: () => problems.clear(),
        dispose: () => {},
      }),
    },
    DebugConfigurationProviderTriggerKind: { Initial: 1, Dynamic: 2 },
    debug: {
      registerDebugConfigurationProvider: (type: string, provider: Record<string, (...a: unknown[]) => unknown>, trigger?: number) => {
        providers.push({ type, provider, trigger });
        return { dispose: () => {} };
      },
      registerDebugAdapterDescriptorFactory: (type: string, f: { createDebugAdapterDescriptor(): unknown }) => {
        factories.set(type, f);
        return { dispose: () => {} };
      },
      registerDebugAdapterTrackerFactory: (type: string, f: { createDebugAdapterTracker(s: unknown): unknown }) => {
        trackers.set(type, f);
        return { dispose: () => {} };
      },
    },
    commands: {
      registerCommand: (id: string, fn: (...args: unknown[]) => Promise<void>) => {
        commands.set(id, fn);
        return { dispose: () => commands.delete(id) };
      },
    },
    window: {
      activeTextEditor: undefined as { document: { uri: Uri } } | undefined,
      createTerminal: (o: { pty: unknown }) => { terminals.push(o.pty); return { show: () => {} }; },
      showInformationMessage: async () => undefined,
      tabGroups: { activeTabGroup: { activeTab: undefined as { input: unknown } | undefined } },
      showOpenDialog: async () => picks.dialog,
      showQuickPick: async (items: Array<{ label: string }>) => items.find((i) => i.label === picks.mode),
      showErrorMessage: async (m: string) => { errors.push(m); },
      createOutputChannel: (name: string) => {
        assert.equal(name, 'vtx');
        return { appendLine: (l: string) => { output.push(l); }, show: () => {}, dispose: () => {} };
      },
    },
    workspace: {
      fs: { readFile: async (u: Uri) => new Uint8Array(readFileSync(u.fsPath)) },
      // The language client is not started here (test/e2e runs it in a real VS Code).
      getConfiguration: () => ({ get: (key: string, dflt: unknown) => (key === 'asm.languageServer' ? false : picks.settings?.[key] ?? dflt) }),
    },
  };
  return { vscode, commands, output, errors, providers, factories, trackers, terminals, problems };
}

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;

/** What the panels (src/extension/panels) register, where the stand-in lacks it (no session here). */
function withPanelApi(vscode: unknown): unknown {
  const v = vscode as Record<string, Record<string, unknown> | undefined>;
  const event = (): { dispose(): void } => ({ dispose: () => {} });
  const debug = (v.debug ??= {});
  for (const k of ['onDidChangeActiveDebugSession', 'onDidReceiveDebugSessionCustomEvent', 'onDidTerminateDebugSession']) debug[k] ??= event;
  v.window!.registerWebviewPanelSerializer ??= event;
  return vscode;
}

function loadExtension(vscode: unknown): { activate: (ctx: unknown) => void; deactivate: () => void } {
  withPanelApi(vscode);
  const ext = join(ROOT, 'dist/extension.js');
  const M = Module as unknown as { _load: Loader };
  const original = M._load;
  // vscode-languageclient extends vscode's classes when it loads: any class the stand-in lacks
  // is an empty one.
  const stubs = new Map<string, unknown>();
  const withStubs = new Proxy(vscode as Record<string | symbol, unknown>, {
    get(target, key) {
      if (key in target) return target[key];
      if (typeof key !== 'string' || !/^[A-Z]/.test(key)) return undefined;
      if (!stubs.has(key)) stubs.set(key, class {});
      return stubs.get(key);
    },
  });
  M._load = function (request, parent, isMain) {
    if (request === 'vscode') return withStubs;
    return original.call(this, request, parent, isMain);
  };
  try {
    const req = Module.createRequire(ext);
    delete req.cache[req.resolve(ext)];
    return req(ext) as { activate: (ctx: unknown) => void; deactivate: () => void };
  } finally {
    M._load = original;
  }
}

const built = existsSync(join(ROOT, 'dist/extension.js'));

test('extension: activate registers vtx.runFlatBinary; running it writes the summary to the "vtx" channel', { skip: !built && 'dist/ is not built (npm test builds it first)' }, async () => {
  const f = fakeVscode({ mode: 'long' });
  const ext = loadExtension(f.vscode);
  const subscriptions: Array<{ dispose(): void }> = [];
  ext.activate({ subscriptions });
  assert.ok(f.commands.has('vtx.runFlatBinary'));
  for (const c of ['vtx.showVmcs', 'vtx.showEpt', 'vtx.showExits']) assert.ok(f.commands.has(c), c);
  await f.commands.get('vtx.runFlatBinary')!(new Uri(join(ROOT, 'examples/sum64.bin')));
  const text = f.output.join('\n');
  assert.match(text, /--mode long/);
  assert.match(text, /^stop: +hlt/m);
  assert.match(text, /rax 0x000000000007a314/);
  assert.deepEqual(f.errors, []);
  for (const s of subscriptions) s.dispose();
  assert.ok(!f.commands.has('vtx.runFlatBinary'));
});

test('extension: uses the active editor\'s file, or asks; problems go to the channel and an error message', { skip: !built && 'dist/ is not built' }, async () => {
  const f = fakeVscode({ mode: 'real', dialog: [new Uri(join(ROOT, 'examples/fib16.bin'))] });
  const ext = loadExtension(f.vscode);
  ext.activate({ subscriptions: [] });
  f.vscode.window.tabGroups.activeTabGroup.activeTab = { input: new TabInputCustom(new Uri(join(ROOT, 'examples/fib16.bin'))) };
  await f.commands.get('vtx.runFlatBinary')!(undefined);
  assert.match(f.output.join('\n'), /fib16\.bin --mode real[\s\S]*eax 0x0000b520/);
  // An assembly source in the editor is not run: the open dialog is asked instead.
  f.vscode.window.tabGroups.activeTabGroup.activeTab = { input: new TabInputText(new Uri(join(ROOT, 'examples/fib16.asm'))) };
  f.output.length = 0;
  await f.commands.get('vtx.runFlatBinary')!(undefined);
  assert.match(f.output.join('\n'), /examples\/fib16\.bin --mode real[\s\S]*eax 0x0000b520/);
  assert.deepEqual(f.errors, []);
  // An unreadable file: one line in the channel and an error message, not an internal error.
  await f.commands.get('vtx.runFlatBinary')!(new Uri(ROOT));
  assert.equal(f.errors.length, 1);
  assert.match(f.errors[0], /^vtx: cannot read '.*': /);
});

test('extension: the vtx debug type — a default configuration for the open file, the adapter as a process or inline', { skip: !built && 'dist/ is not built' }, () => {
  const f = fakeVscode({ mode: 'long' });
  const ext = loadExtension(f.vscode);
  ext.activate({ subscriptions: [], asAbsolutePath: (p: string) => join(ROOT, p) });
  assert.deepEqual(f.providers.map((p) => [p.type, p.trigger]), [['vtx', undefined], ['vtx', 2]]);
  const provider = f.providers[0].provider;
  // F5 without launch.json on an .asm file: debug it, stopping on entry.
  f.vscode.window.activeTextEditor = { document: { uri: new Uri(join(ROOT, 'examples/fib16.asm')) } };
  const c = provider.resolveDebugConfiguration(undefined, {}) as Record<string, unknown>;
  assert.equal(c.type, 'vtx');
  assert.equal(c.request, 'launch');
  assert.equal(c.program, join(ROOT, 'examples/fib16.asm'));
  assert.equal(c.stopOnEntry, true);
  // A configuration from launch.json keeps its fields and gets the folder for relative paths.
  const d = provider.resolveDebugConfiguration({ uri: new Uri('/ws') }, { type: 'vtx', request: 'launch', name: 'x', program: 'a.bin' }) as Record<string, unknown>;
  assert.equal(d.program, 'a.bin');
  assert.equal(d.cwd, '/ws');
  // A text file is not a guest: nothing to debug.
  f.vscode.window.activeTextEditor = { document: { uri: new Uri(join(ROOT, 'README.md')) } };
  assert.equal(provider.resolveDebugConfiguration(undefined, {}), undefined);
  const exe = f.factories.get('vtx')!.createDebugAdapterDescriptor() as DebugAdapterExecutable;
  assert.ok(exe instanceof DebugAdapterExecutable);
  assert.deepEqual(exe.args, [join(ROOT, 'dist/adapter.js')]);
  // serial: "terminal" — the guest's output in a terminal (vtx/serial events), its input back (vtx/serialInput).
  assert.equal(f.trackers.get('vtx')!.createDebugAdapterTracker({ configuration: { serial: 'console' } }), undefined);
  const written: string[] = [];
  const sent: Array<[string, unknown]> = [];
  let pty: { onDidWrite: (l: (s: string) => void) => void; handleInput: (s: string) => void } | undefined;
  f.terminals.length = 0;
  const tracker = f.trackers.get('vtx')!.createDebugAdapterTracker({
    name: 'g', configuration: { serial: 'terminal' }, customRequest: async (c: string, a: unknown) => { sent.push([c, a]); },
  }) as { onDidSendMessage(m: unknown): void };
  pty = f.terminals[0] as typeof pty;
  pty!.onDidWrite((t) => written.push(t));
  tracker.onDidSendMessage({ type: 'event', event: 'vtx/serial', body: { text: 'hi\n' } });
  assert.deepEqual(written, ['hi\r\n']);
  pty!.handleInput('x');
  assert.deepEqual(sent, [['vtx/serialInput', { text: 'x' }]]);
  const g = fakeVscode({ mode: 'long', settings: { 'debug.inlineAdapter': true } });
  loadExtension(g.vscode).activate({ subscriptions: [], asAbsolutePath: (p: string) => join(ROOT, p) });
  assert.ok(g.factories.get('vtx')!.createDebugAdapterDescriptor() instanceof DebugAdapterInlineImplementation);
});

test('extension: launching an .asm program that does not assemble stops the launch and puts each error in Problems', { skip: !built && 'dist/ is not built' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vtx-ext-asm-'));
  const bad = join(dir, 'bad.asm');
  writeFileSync(bad, 'bits 16\nmov ax, 1\nfrobnicate ax\nmov bx, [nowhere]\n');
  const f = fakeVscode({ mode: 'long' });
  loadExtension(f.vscode).activate({ subscriptions: [], asAbsolutePath: (p: string) => join(ROOT, p) });
  const provider = f.providers[0].provider;
  const r = provider.resolveDebugConfigurationWithSubstitutedVariables(undefined, { type: 'vtx', request: 'launch', name: 'x', program: 'bad.asm', cwd: dir });
  assert.equal(r, undefined, 'the launch is stopped');
  assert.equal(f.errors.length, 1);
  assert.match(f.errors[0], /does not assemble: .*bad\.asm:3:1: .*frobnicate.*and 1 more error/);
  const list = f.problems.get(bad) ?? [];
  assert.deepEqual(list.map((d) => [d.range.startLine, d.severity, d.source]), [[2, 0, 'vtx launch'], [3, 0, 'vtx launch']]);
  // Fixed: the launch goes on and Problems is cleared.
  writeFileSync(bad, 'bits 16\nmov ax, 1\nhlt\n');
  const ok = provider.resolveDebugConfigurationWithSubstitutedVariables(undefined, { type: 'vtx', request: 'launch', name: 'x', program: bad });
  assert.equal((ok as { program: string }).program, bad);
  assert.equal(f.problems.size, 0);
  // Not an assembly program: untouched.
  const bin = { type: 'vtx', request: 'launch', name: 'y', program: join(ROOT, 'examples/fib16.bin') };
  assert.equal(provider.resolveDebugConfigurationWithSubstitutedVariables(undefined, bin), bin);
});
