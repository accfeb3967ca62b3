import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers';

// The extension manifest and the bundles it names (the VS Code UI itself is not tested here).

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string; main: string; bin: Record<string, string>; engines: Record<string, string>;
  activationEvents: string[]; contributes: { commands: Array<{ command: string; title: string; category?: string }> };
  scripts: Record<string, string>; devDependencies: Record<string, string>;
};

test('package.json is a VS Code extension manifest with the vtx command line as its bin', () => {
  assert.equal(pkg.name, 'vtx');
  assert.equal(pkg.main, './dist/extension.js');
  assert.deepEqual(pkg.bin, { vtx: './dist/cli.js' });
  assert.match(pkg.engines.vscode, /^\^1\.\d+\.\d+$/);
  // @types/vscode must not be newer than the oldest VS Code the manifest accepts.
  const engine = pkg.engines.vscode.replace(/^\^/, '').split('.').slice(0, 2).join('.');
  assert.ok(pkg.devDependencies['@types/vscode'].includes(engine), pkg.devDependencies['@types/vscode']);
  for (const s of ['build', 'test', 'bench', 'conformance']) assert.ok(pkg.scripts[s], s);
});

test('the extension activates only on vtx.runFlatBinary (which it contributes and registers), vtx assembly, its panels and the vtx debug type', () => {
  assert.deepEqual([...pkg.activationEvents].sort(), ['onWebviewPanel:vtx.vmcs', 'onWebviewPanel:vtx.ept', 'onWebviewPanel:vtx.exits', 'onCommand:vtx.runFlatBinary', 'onLanguage:vtx-asm', 'onDebugResolve:vtx', 'onDebugDynamicConfigurations:vtx'].sort());
  const cmd = pkg.contributes.commands.find((c) => c.command === 'vtx.runFlatBinary');
  assert.ok(cmd);
  assert.equal(`${cmd.category}: ${cmd.title}`, 'vtx: Run Flat Binary on the Bare Processor');
  const src = readFileSync(join(ROOT, 'src/extension/extension.ts'), 'utf8');
  assert.match(src, /registerCommand\('vtx\.runFlatBinary'/);
  assert.match(src, /createOutputChannel\('vtx'\)/);
});

test('the built extension keeps vscode external and ships iced-x86 WebAssembly beside the bundles', (t) => {
  const ext = join(ROOT, 'dist/extension.js');
  if (!existsSync(ext)) {
    t.skip('dist/ is not built (npm test builds it first)');
    return;
  }
  const text = readFileSync(ext, 'utf8');
  assert.match(text, /require\("vscode"\)/);
  assert.match(text, /exports, \{|module\.exports = __toCommonJS/);
  assert.ok(existsSync(join(ROOT, 'dist/iced_x86_bg.wasm')));
});

test('the vtx debug type: every launch attribute has a description; the adapter bundle is dist/adapter.js', () => {
  const c = pkg.contributes as unknown as { debuggers: Array<{ type: string; configurationAttributes: { launch: { properties: Record<string, { description?: string }> } }; initialConfigurations: unknown[]; configurationSnippets: unknown[] }> };
  const d = c.debuggers.find((x) => x.type === 'vtx');
  assert.ok(d);
  const props = d.configurationAttributes.launch.properties;
  for (const k of ['program', 'format', 'memory', 'loadAddress', 'entry', 'bootMode', 'cmdline', 'stopOnEntry', 'intercept', 'exitBreakpoints', 'serial', 'maxInstructions', 'hypervisor', 'syntax']) {
    assert.ok((props[k]?.description ?? '').length > 10, k);
  }
  assert.ok(d.initialConfigurations.length > 0 && d.configurationSnippets.length > 0);
  const build = readFileSync(join(ROOT, 'scripts/build.mjs'), 'utf8');
  assert.match(build, /src\/debugger\/adapter\/main\.ts.*dist\/adapter\.js/);
});
