// Bundles the command line (and later the extension, adapter, language server, webviews) with esbuild.
import { build } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
mkdirSync(`${root}dist`, { recursive: true });
const entries = [
  { in: 'src/cli/main.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
];
for (const e of entries) {
  if (!existsSync(`${root}${e.in}`)) continue;
  await build({
    entryPoints: [`${root}${e.in}`],
    outfile: `${root}${e.out}`,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    banner: { js: e.banner ?? '' },
    logLevel: 'warning',
  });
}
