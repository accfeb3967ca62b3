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
      setStatusBarMessage: () => ({ dispose: () => {} }),
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

test('extension: the settings vtx.disassembly.syntax, vtx.serial and vtx.defaultIntercept fill what a launch configuration lacks', { skip: !built && 'dist/ is not built' }, () => {
  const intercept = { io: '0x3f8-0x3ff', hlt: true };
  const f = fakeVscode({ mode: 'long', settings: { 'disassembly.syntax': 'gas', serial: 'terminal', defaultIntercept: intercept } });
  loadExtension(f.vscode).activate({ subscriptions: [], asAbsolutePath: (p: string) => join(ROOT, p) });
  const provider = f.providers[0].provider;
  const filled = provider.resolveDebugConfiguration({ uri: new Uri('/ws') }, { type: 'vtx', request: 'launch', name: 'x', program: 'a.bin' }) as Record<string, unknown>;
  assert.equal(filled.syntax, 'gas');
  assert.equal(filled.serial, 'terminal');
  assert.deepEqual(filled.intercept, intercept);
  assert.notEqual(filled.intercept, intercept, 'a copy: the adapter may not change the setting');
  // What the configuration says wins.
  const own = provider.resolveDebugConfiguration(undefined, { type: 'vtx', request: 'launch', name: 'y', program: 'a.bin', syntax: 'intel', serial: 'console', intercept: { rdtsc: true } }) as Record<string, unknown>;
  assert.deepEqual([own.syntax, own.serial, own.intercept], ['intel', 'console', { rdtsc: true }]);
  // F5 with no launch.json gets them too.
  f.vscode.window.activeTextEditor = { document: { uri: new Uri(join(ROOT, 'examples/hello16.asm')) } };
  const dflt = provider.resolveDebugConfiguration(undefined, {}) as Record<string, unknown>;
  assert.deepEqual([dflt.syntax, dflt.serial, dflt.intercept], ['gas', 'terminal', intercept]);
  // No settings (or an empty intercept object): nothing added.
  const g = fakeVscode({ mode: 'long', settings: { defaultIntercept: {} } });
  loadExtension(g.vscode).activate({ subscriptions: [], asAbsolutePath: (p: string) => join(ROOT, p) });
  const bare = g.providers[0].provider.resolveDebugConfiguration(undefined, { type: 'vtx', request: 'launch', name: 'z', program: 'a.bin' }) as Record<string, unknown>;
  assert.deepEqual([bare.syntax, bare.serial, bare.intercept], [undefined, undefined, undefined]);
});

test('extension: vtx.runWithoutDebugging runs the open guest under the built-in hypervisor, with its exits, into the "vtx" channel', { skip: !built && 'dist/ is not built' }, async () => {
  const f = fakeVscode({ mode: 'long' });
  loadExtension(f.vscode).activate({ subscriptions: [], asAbsolutePath: (p: string) => join(ROOT, p) });
  const hello = join(ROOT, 'examples/hello16.asm');
  f.vscode.window.activeTextEditor = { document: { uri: new Uri(hello), isDirty: false } } as unknown as typeof f.vscode.window.activeTextEditor;
  await f.commands.get('vtx.runWithoutDebugging')!(undefined);
  const text = f.output.join('\n');
  assert.match(text, /^vtx run .*hello16\.asm --trace-exits$/m);
  assert.match(text, /^hello from a VMX guest$/m);
  assert.match(text, /^exit io_instruction +rip 0x00007c20 +OUT port 0x604.*-> SystemDown$/m);
  assert.match(text, /^stop: +SystemDown/m);
  assert.match(text, /^VM exits: +1\n +reason +count +share\n +IO_INSTRUCTION +1 +100\.0%$/m);
  assert.ok(text.indexOf('hello from') < text.indexOf('exit io_instruction') && text.indexOf('exit io_instruction') < text.indexOf('stop:'), 'serial, exits, summary in the order they came');
  assert.deepEqual(f.errors, []);
  // From the explorer: a Multiboot kernel.
  f.output.length = 0;
  await f.commands.get('vtx.runWithoutDebugging')!(new Uri(join(ROOT, 'examples/c-kernel/kernel.elf')));
  assert.match(f.output.join('\n'), /^exit cpuid /m);
  // vtx.runFlatBinary is unchanged: the bare processor (no VM exits).
  f.output.length = 0;
  await f.commands.get('vtx.runFlatBinary')!(new Uri(join(ROOT, 'examples/sum64.bin')));
  assert.doesNotMatch(f.output.join('\n'), /VM exits/);
  // A file that is not there: one line and an error message.
  await f.commands.get('vtx.runWithoutDebugging')!(new Uri('/nonexistent/x.asm'));
  assert.equal(f.errors.length, 1);
  assert.match(f.errors[0], /^vtx: cannot read '\/nonexistent\/x\.asm'/);
});

test('extension: vtx.assemble writes the .bin next to the .asm, or puts the errors in Problems', { skip: !built && 'dist/ is not built' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vtx-ext-assemble-'));
  const src = join(dir, 'g.asm');
  writeFileSync(src, 'bits 16\norg 0x7c00\nmov ax, 0x1234\nhlt\n');
  const f = fakeVscode({ mode: 'long' });
  loadExtension(f.vscode).activate({ subscriptions: [], asAbsolutePath: (p: string) => join(ROOT, p) });
  await f.commands.get('vtx.assemble')!(new Uri(src));
  assert.deepEqual([...readFileSync(join(dir, 'g.bin'))], [0xb8, 0x34, 0x12, 0xf4]);
  assert.match(f.output.join('\n'), /wrote .*g\.bin \(4 bytes\)/);
  assert.deepEqual(f.errors, []);
  writeFileSync(src, 'bits 16\nmov ax, 1\nfrobnicate ax\n');
  await f.commands.get('vtx.assemble')!(new Uri(src));
  assert.equal(f.errors.length, 1);
  assert.match(f.errors[0], /g\.asm:3:1: .*frobnicate/);
  assert.deepEqual((f.problems.get(src) ?? []).map((d) => [d.range.startLine, d.severity, d.source]), [[2, 0, 'vtx asm']]);
  assert.deepEqual([...readFileSync(join(dir, 'g.bin'))], [0xb8, 0x34, 0x12, 0xf4], 'a failed assembly leaves the old binary');
});
