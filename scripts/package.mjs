// `npm run package`: builds the bundles (vsce runs the `vscode:prepublish` script, i.e.
// `npm run build`) and packs vtx-<version>.vsix with @vscode/vsce. `.vscodeignore` decides what
// goes in (dist/, syntaxes/, media/icon.png, package.json, README.md, LICENSE); the bundles
// already hold every runtime dependency, so npm's dependency detection is off. Prints the size
// (the target is under 5 MB) and exits non-zero when packing fails.
// Usage: node scripts/package.mjs [out.vsix]
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(process.argv[2] ?? join(root, `${pkg.name}-${pkg.version}.vsix`));
const vsce = createRequire(import.meta.url).resolve('@vscode/vsce/vsce');
const TARGET_BYTES = 5 * 1024 * 1024;

const t0 = Date.now();
const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out], {
  cwd: root, stdio: 'inherit',
});
if (r.status !== 0) process.exit(r.status ?? 1);
const size = statSync(out).size;
const mb = (size / (1024 * 1024)).toFixed(2);
console.log(`${relative(process.cwd(), out) || out}: ${size} bytes (${mb} MB), packed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (size > TARGET_BYTES) console.log(`warning: the VSIX is over the 5 MB target`);
