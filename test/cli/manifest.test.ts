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

test('the extension activates only on its commands, vtx assembly, its panels and the vtx debug type; every command it contributes it registers, with an icon', () => {
  assert.deepEqual([...pkg.activationEvents].sort(), [
    'onCommand:vtx.runFlatBinary', 'onCommand:vtx.runWithoutDebugging', 'onCommand:vtx.assemble',
    'onWebviewPanel:vtx.vmcs', 'onWebviewPanel:vtx.ept', 'onWebviewPanel:vtx.exits',
    'onLanguage:vtx-asm', 'onDebugResolve:vtx', 'onDebugDynamicConfigurations:vtx',
  ].sort());
  const cmd = pkg.contributes.commands.find((c) => c.command === 'vtx.runFlatBinary');
  assert.ok(cmd);
  assert.equal(`${cmd.category}: ${cmd.title}`, 'vtx: Run Flat Binary on the Bare Processor');
  const titles: Record<string, string> = Object.fromEntries(pkg.contributes.commands.map((c) => [c.command, `${c.category}: ${c.title}`]));
  assert.deepEqual(titles, {
    'vtx.runFlatBinary': 'vtx: Run Flat Binary on the Bare Processor',
    'vtx.runWithoutDebugging': 'vtx: Run Without Debugging',
    'vtx.assemble': 'vtx: Assemble',
    'vtx.showVmcs': 'vtx: Show VMCS',
    'vtx.showEpt': 'vtx: Show EPT',
    'vtx.showExits': 'vtx: Show VM Exits',
  });
  for (const c of pkg.contributes.commands as Array<{ command: string; icon?: string }>) assert.match(c.icon ?? '', /^\$\([a-z-]+\)$/, c.command);
  const src = readFileSync(join(ROOT, 'src/extension/extension.ts'), 'utf8');
  for (const id of ['vtx.runFlatBinary', 'vtx.runWithoutDebugging', 'vtx.assemble']) assert.match(src, new RegExp(`registerCommand\\('${id.replace('.', '\\.')}'`), id);
  assert.match(src, /createOutputChannel\('vtx'\)/);
  // Every menu entry names a contributed command.
  const menus = (pkg.contributes as unknown as { menus: Record<string, Array<{ command: string }>> }).menus;
  for (const [where, list] of Object.entries(menus)) for (const m of list) assert.ok(pkg.contributes.commands.some((c) => c.command === m.command), `${where}: ${m.command}`);
});

test('settings: disassembly syntax, serial mode and default intercepts mirror the launch fields they default', () => {
  const c = pkg.contributes as unknown as {
    configuration: { properties: Record<string, { type: string; enum?: string[]; default?: unknown; properties?: unknown }> };
    debuggers: Array<{ configurationAttributes: { launch: { properties: Record<string, { enum?: string[]; properties?: unknown }> } } }>;
  };
  const s = c.configuration.properties;
  const launch = c.debuggers[0].configurationAttributes.launch.properties;
  assert.deepEqual(s['vtx.disassembly.syntax'].enum, launch.syntax.enum);
  assert.equal(s['vtx.disassembly.syntax'].default, 'nasm');
  assert.deepEqual(s['vtx.serial'].enum, launch.serial.enum);
  assert.equal(s['vtx.serial'].default, 'console');
  assert.equal(s['vtx.defaultIntercept'].type, 'object');
  assert.deepEqual(s['vtx.defaultIntercept'].properties, launch.intercept.properties);
});

test('the walkthrough: each step has its markdown, and every command link names a command vtx contributes or VS Code has', () => {
  const c = pkg.contributes as unknown as { walkthroughs: Array<{ steps: Array<{ id: string; description: string; media: { markdown?: string } }> }> };
  const own = new Set(pkg.contributes.commands.map((x) => x.command));
  const builtin = new Set(['vscode.openFolder', 'workbench.view.debug', 'workbench.action.debug.start', 'workbench.debug.viewlet.action.addFunctionBreakpointAction', 'workbench.action.files.openFolder']);
  for (const w of c.walkthroughs) {
    for (const s of w.steps) {
      assert.ok(s.media.markdown && existsSync(join(ROOT, s.media.markdown)), s.id);
      const md = readFileSync(join(ROOT, s.media.markdown), 'utf8');
      for (const text of [s.description, md]) {
        for (const m of text.matchAll(/command:([\w.]+)/g)) assert.ok(own.has(m[1]) || builtin.has(m[1]), `${s.id}: command:${m[1]}`);
      }
    }
  }
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
