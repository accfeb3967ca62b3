// `npm run test:e2e`: the end-to-end test in a real VS Code (code-server) in Debian's Chromium.
//  1. installs what it needs once, cached under node_modules/.cache/vtx-e2e/
//     (scripts/e2e/setup.mjs);
//  2. packs the VSIX the way `npm run package` does (which builds dist/), into the run folder;
//  3. runs test/e2e/*.e2e.ts with node's test runner; every file the run writes goes to one
//     fresh temporary folder (VTX_E2E_RUN_DIR), screenshots to test/artifacts/e2e/;
//  4. checks that no process it started is left (any process whose command line or
//     environment names the run folder), ends such leftovers by pid and fails if there were any;
//  5. removes the run folder (kept when the run failed, for its logs).
// Usage: node scripts/e2e/run.mjs [--vsix existing.vsix] [--keep]   Prints the time of each phase.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { root, setup } from './setup.mjs';

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const vsixArg = args.includes('--vsix') ? resolve(args[args.indexOf('--vsix') + 1]) : undefined;
const times = [];
const t0 = Date.now();
function phase(name, since) {
  times.push(`${name} ${((Date.now() - since) / 1000).toFixed(1)} s`);
}

let t = Date.now();
const tools = setup();
phase('setup', t);

const runDir = mkdtempSync(join(tmpdir(), 'vtx-e2e-'));
const artifacts = join(root, 'test', 'artifacts', 'e2e');
rmSync(artifacts, { recursive: true, force: true });
mkdirSync(artifacts, { recursive: true });

let vsix = vsixArg;
if (vsix === undefined) {
  t = Date.now();
  vsix = join(runDir, 'vtx.vsix');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'package.mjs'), vsix], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('e2e: packing the VSIX failed');
    process.exit(1);
  }
  phase('package', t);
}

const files = readdirSync(join(root, 'test', 'e2e')).filter((f) => f.endsWith('.e2e.ts')).sort().map((f) => join('test', 'e2e', f));
t = Date.now();
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  cwd: root, stdio: 'inherit',
  env: {
    ...process.env,
    VTX_E2E_RUN_DIR: runDir, VTX_E2E_ARTIFACTS: artifacts, VTX_E2E_VSIX: vsix,
    VTX_E2E_NODE24: tools.node24, VTX_E2E_CODE_SERVER: tools.codeServerEntry, VTX_E2E_CHROMIUM: tools.chromium,
  },
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
const status = await new Promise((res) => child.once('exit', (code, signal) => res(code ?? (signal ? 1 : 0))));
phase('test', t);

/** Processes that name the run folder in their command line or environment (not this one). */
function leftovers() {
  const found = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      let envText = '';
      try { envText = readFileSync(`/proc/${pid}/environ`, 'utf8'); } catch { /* not ours to read */ }
      if (cmd.includes(runDir) || envText.includes(runDir)) found.push({ pid: Number(pid), cmd: cmd.replace(/\0/g, ' ').slice(0, 160) });
    } catch { /* exited meanwhile */ }
  }
  return found;
}
let left = leftovers();
for (const p of left) {
  console.error(`e2e: process left running, ending it: ${p.pid} ${p.cmd}`);
  try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
}
const failed = status !== 0 || left.length > 0;
if (failed || keep) console.log(`e2e: run folder kept: ${runDir}`);
else rmSync(runDir, { recursive: true, force: true });
console.log(`e2e: screenshots in ${artifacts}`);
console.log(`e2e: ${failed ? 'FAILED' : 'passed'}; times: ${times.join(', ')}, total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
