import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// What `npm run package` puts in the VSIX, read with `vsce ls` (the same file selection
// `vsce package` uses, from package.json and .vscodeignore) without packing or building: npm
// test has already built dist/. The full pack is `npm run package`; the e2e test installs it.

const ROOT = new URL('../..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string; version: string; main: string; icon?: string; scripts: Record<string, string>;
  devDependencies: Record<string, string>;
  contributes: {
    languages?: Array<{ configuration?: string }>;
    grammars?: Array<{ path: string }>;
    walkthroughs?: Array<{ steps: Array<{ media: { markdown?: string; image?: string } }> }>;
  };
};

/** The files `vsce package` would pack, relative to the root, sorted. */
function vsceLs(): string[] {
  const vsce = createRequire(import.meta.url).resolve('@vscode/vsce/vsce');
  const r = spawnSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '').sort();
}

const REQUIRED = [
  'package.json', 'README.md', 'LICENSE', 'media/icon.png',
  'dist/extension.js', 'dist/languageServer.js', 'dist/cli.js', 'dist/adapter.js', 'dist/iced_x86_bg.wasm',
];
// The webview panels (src/webview/) and the codicons they use.
REQUIRED.push(...['vmcs', 'ept', 'exits'].flatMap((p) => [`dist/webview/${p}.js`, `dist/webview/${p}.css`]),
  'dist/webview/codicons/codicon.css', 'dist/webview/codicons/codicon.ttf');
/** Everything the VSIX may hold: the required files and the grammars/language configurations. */
// The README's own images (VS Code's extension page renders README.md from the installed
// extension, so a relative image must be packed to show).
const README_IMAGES = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/!\[[^\]]*\]\(([^)\s:]+)\)/g)].map((m) => m[1]);
REQUIRED.push(...README_IMAGES);
const ALLOWED = [...REQUIRED.map((f) => new RegExp(`^${f.replace(/\./g, '\\.')}$`)), /^syntaxes\/[\w.-]+\.json$/, /^media\/walkthrough\/[\w-]+\.md$/];

test('npm run package packs vtx-<version>.vsix with @vscode/vsce, and package.json names the icon', () => {
  assert.ok(pkg.devDependencies['@vscode/vsce'], 'devDependency @vscode/vsce');
  assert.match(pkg.scripts.package, /scripts\/package\.mjs/);
  assert.equal(pkg.scripts['vscode:prepublish'], 'npm run build');
  assert.equal(pkg.icon, 'media/icon.png');
  const png = readFileSync(join(ROOT, pkg.icon));
  assert.equal(png.subarray(1, 4).toString('ascii'), 'PNG');
  assert.equal(png.readUInt32BE(16), 128, 'icon width');
  assert.equal(png.readUInt32BE(20), 128, 'icon height');
});

test('the VSIX holds exactly the bundles, the wasm, the grammars, the icon, the walkthrough, package.json, README (and its images) and LICENSE', (t) => {
  assert.deepEqual(README_IMAGES, ['media/readme/stop-on-cpuid.png']);
  if (!existsSync(join(ROOT, 'dist/extension.js'))) {
    t.skip('dist/ is not built (npm test builds it first)');
    return;
  }
  const files = vsceLs();
  for (const f of REQUIRED) assert.ok(files.includes(f), `missing ${f} in ${files.join(', ')}`);
  assert.ok(files.some((f) => f.startsWith('syntaxes/')), 'syntaxes/');
  const extra = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
  assert.deepEqual(extra, [], 'files that should stay out of the VSIX (sources, tests, maps, caches, dev files)');
  for (const bad of [/^src\//, /^test\//, /^scripts\//, /^node_modules\//, /^\.cache\//, /\.map$/, /\.ts$/, /\.vsix$/]) {
    assert.ok(!files.some((f) => bad.test(f)), `${bad} in the VSIX`);
  }
  // Every file the manifest points at is packed.
  const named = [pkg.main, pkg.icon ?? '', ...(pkg.contributes.grammars ?? []).map((g) => g.path),
    ...(pkg.contributes.languages ?? []).flatMap((l) => (l.configuration ? [l.configuration] : [])),
    ...(pkg.contributes.walkthroughs ?? []).flatMap((w) => w.steps.map((st) => st.media.markdown ?? st.media.image ?? ''))];
  for (const n of named) assert.ok(files.includes(n.replace(/^\.\//, '')), `package.json names ${n}, which is not packed`);
});

test('.vscodeignore is an allow-list: stray files in the checkout, in dist/ and in media/ are not packed', (t) => {
  if (!existsSync(join(ROOT, 'dist/extension.js'))) {
    t.skip('dist/ is not built (npm test builds it first)');
    return;
  }
  const strays = [`stray-${process.pid}.txt`, `dist/stray-${process.pid}.js`, `dist/stray-${process.pid}.js.map`, `media/stray-${process.pid}.png`];
  try {
    for (const f of strays) writeFileSync(join(ROOT, f), 'x');
    const files = vsceLs();
    assert.ok(files.includes('dist/extension.js'), files.join(', '));
    assert.deepEqual(strays.filter((f) => files.includes(f)), []);
  } finally {
    for (const f of strays) rmSync(join(ROOT, f), { force: true });
  }
});

test('media/icon.png is what scripts/make-icon.mjs draws', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vtx-icon-'));
  try {
    const out = join(dir, 'icon.png');
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/make-icon.mjs'), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(out).equals(readFileSync(join(ROOT, 'media/icon.png'))), 'run node scripts/make-icon.mjs');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
