import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers';

// README.md: the launch.json reference is generated from package.json's launch schema
// (scripts/gen-launch-doc.mjs) and must be up to date; its links and its screenshot exist.

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Gen {
  START: string;
  END: string;
  launchReference(pkg: unknown): string;
  withReference(readme: string, pkg: unknown): string;
}

test('README.md: the launch.json reference is what scripts/gen-launch-doc.mjs generates from package.json', async () => {
  const gen = (await import(join(ROOT, 'scripts/gen-launch-doc.mjs'))) as Gen;
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    contributes: { debuggers: Array<{ configurationAttributes: { launch: { properties: Record<string, { properties?: Record<string, unknown> }> } } }> };
  };
  assert.equal(gen.withReference(readme, pkg), readme, 'README.md is out of date: run node scripts/gen-launch-doc.mjs');
  const table = readme.slice(readme.indexOf(gen.START), readme.indexOf(gen.END));
  const props = pkg.contributes.debuggers[0].configurationAttributes.launch.properties;
  for (const [k, s] of Object.entries(props)) {
    assert.match(table, new RegExp(`^\\| \`${k}\``, 'm'), k);
    for (const sub of Object.keys(s.properties ?? {})) assert.match(table, new RegExp(`^\\| \`${k}\\.${sub}\``, 'm'), `${k}.${sub}`);
  }
  // The check mode of the script agrees (what a person runs before committing).
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/gen-launch-doc.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // A changed schema makes the check fail.
  const changed = structuredClone(pkg);
  (changed.contributes.debuggers[0].configurationAttributes.launch.properties as Record<string, unknown>).zzz = { type: 'string', description: 'new field' };
  assert.notEqual(gen.withReference(readme, changed), readme);
});

test('README.md: the sections a newcomer needs, relative links that exist and a small screenshot', () => {
  for (const h of ['## Install', '## Your first session in five steps', '## The command line', '## launch.json reference', '## What the emulated CPU supports', '## Tests and benchmarks', '## Architecture']) {
    assert.ok(readme.includes(`\n${h}\n`), h);
  }
  for (const s of ['vtx run', '--trace-exits', '--json', 'docs/vmx.md', 'docs/ARCHITECTURE.md', 'npm run package', 'npm run test:e2e']) assert.ok(readme.includes(s), s);
  for (const m of readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
    if (/^[a-z]+:/.test(m[1])) continue;
    assert.ok(existsSync(join(ROOT, m[1])), `README links ${m[1]}, which does not exist`);
  }
  const shot = /!\[[^\]]+\]\((media\/readme\/[\w-]+\.png)\)/.exec(readme);
  assert.ok(shot, 'a screenshot under media/readme/');
  const png = readFileSync(join(ROOT, shot[1]));
  assert.equal(png.subarray(1, 4).toString('ascii'), 'PNG');
  assert.ok(statSync(join(ROOT, shot[1])).size < 200 * 1024, 'under 200 KB');
});
