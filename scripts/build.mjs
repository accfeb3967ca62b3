// Bundles the command line, the VS Code extension, the language server and the debug adapter with
// esbuild (later also the webviews). iced-x86 loads its WebAssembly from the bundle's directory, so
// the .wasm file is copied next to the bundles; dist/ is then self-contained.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

const entries = [
  { in: 'src/cli/main.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node', external: [] },
  { in: 'src/extension/extension.ts', out: 'dist/extension.js', external: ['vscode'] },
  { in: 'src/language/server/main.ts', out: 'dist/languageServer.js', external: [] },
  { in: 'src/debugger/adapter/main.ts', out: 'dist/adapter.js', external: [] },
  { in: 'src/debugger/bench/main.ts', out: 'dist/benchDebugger.js', external: [] },
];
for (const e of entries) {
  if (!existsSync(join(root, e.in))) continue;
  await build({
    entryPoints: [join(root, e.in)],
    outfile: join(root, e.out),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    external: e.external,
    banner: { js: e.banner ?? '' },
    logLevel: 'warning',
  });
  if (e.banner) chmodSync(join(root, e.out), 0o755);
}

const require = createRequire(import.meta.url);
const iced = dirname(require.resolve('iced-x86/package.json'));
copyFileSync(join(iced, 'iced_x86_bg.wasm'), join(dist, 'iced_x86_bg.wasm'));

// The webview panels (src/webview/<panel>/main.ts): one browser bundle per panel; the stylesheets
// they import become <panel>.css beside it. Nothing is loaded from outside dist/webview.
const webviewDist = join(dist, 'webview');
mkdirSync(join(webviewDist, 'codicons'), { recursive: true });
for (const panel of ['vmcs', 'ept', 'exits']) {
  const entry = join(root, 'src/webview', panel, 'main.ts');
  if (!existsSync(entry)) continue;
  await build({
    entryPoints: [entry],
    outfile: join(webviewDist, `${panel}.js`),
    bundle: true,
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
}
const codicons = join(dirname(require.resolve('@vscode/codicons/package.json')), 'dist');
for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(join(codicons, f), join(webviewDist, 'codicons', f));
