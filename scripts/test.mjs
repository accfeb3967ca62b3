// Runs every test file under test/ (TypeScript, through tsx) with node's test runner.
// Usage: node scripts/test.mjs [filter-substring...]
// The spec reporter prints each test; a TAP copy goes to a temporary file, from which the
// closing summary (ℹ tests / ℹ pass / ℹ fail ...) is printed last, after any failure details.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk(join(root, 'test'), []).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const tmp = mkdtempSync(join(tmpdir(), 'vtx-test-'));
const tap = join(tmp, 'results.tap');
const r = spawnSync(process.execPath, [
  '--import', 'tsx', '--test',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...files,
], { cwd: root, stdio: 'inherit' });

let counts = {};
try {
  for (const m of readFileSync(tap, 'utf8').matchAll(/^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\S+)$/gm)) {
    counts[m[1]] = m[2];
  }
} catch {
  counts = {};
}
rmSync(tmp, { recursive: true, force: true });
const status = r.status ?? 1;
console.log(`\nsummary of ${files.length} test file(s):`);
if (counts.pass === undefined) {
  console.log(`ℹ fail: the test runner stopped without a summary (exit status ${status})`);
  process.exit(status === 0 ? 1 : status);
}
for (const k of ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) console.log(`ℹ ${k} ${counts[k] ?? 0}`);
process.exit(status);
