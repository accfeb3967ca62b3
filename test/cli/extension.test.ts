import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { ROOT } from './helpers';

// Load the built extension (dist/extension.js) with a stand-in for the `vscode` module and run
// its command: activation, file choice, the shared run logic and the output channel.

class Uri {
  constructor(readonly fsPath: string, readonly scheme = 'file') {}
  get path(): string { return this.fsPath; }
}
class TabInputText { constructor(readonly uri: Uri) {} }
class TabInputCustom { constructor(readonly uri: Uri) {} }

function fakeVscode(picks: { mode: string; dialog?: Uri[] }) {
  const commands = new Map<string, (...args: unknown[]) => Promise<void>>();
  const output: string[] = [];
  const errors: string[] = [];
  const vscode = {
    Uri, TabInputText, TabInputCustom,
    commands: {
      registerCommand: (id: string, fn: (...args: unknown[]) => Promise<void>) => {
        commands.set(id, fn);
        return { dispose: () => commands.delete(id) };
      },
    },
    window: {
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
      getConfiguration: () => ({ get: (key: string, dflt: unknown) => (key === 'asm.languageServer' ? false : dflt) }),
    },
  };
  return { vscode, commands, output, errors };
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
