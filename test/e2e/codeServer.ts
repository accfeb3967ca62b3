/**
 * code-server (VS Code served on 127.0.0.1) for the end-to-end test, on the Node 24 binary that
 * scripts/e2e/setup.mjs cached. Every file it writes stays in the run folder: the XDG folders,
 * TMPDIR, the user data and extensions folders and its config all live there. It runs in its
 * own process group (detached = setsid), so stopping it ends the extension host, the language
 * server and every other child too. Facts: ../shared/recipes/vscode-in-browser.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface CodeServerPaths {
  node24: string;
  entry: string;
  runDir: string;
}

/** The user settings that keep the workbench deterministic (see the recipe). */
export const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': 'off',
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'chat.disableAIFeatures': true,
  'workbench.tips.enabled': false,
  'debug.openDebug': 'openOnSessionStart',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'files.autoSave': 'off',
  'editor.hover.delay': 100,
  'workbench.enableExperiments': false,
};

function dirs(runDir: string) {
  return {
    config: join(runDir, 'xdg-config'), data: join(runDir, 'xdg-data'), cache: join(runDir, 'xdg-cache'),
    state: join(runDir, 'xdg-state'), tmp: join(runDir, 'tmp'), userData: join(runDir, 'ud'), extensions: join(runDir, 'ext'),
  };
}

function environment(runDir: string): NodeJS.ProcessEnv {
  const d = dirs(runDir);
  return {
    ...process.env,
    XDG_CONFIG_HOME: d.config, XDG_DATA_HOME: d.data, XDG_CACHE_HOME: d.cache, XDG_STATE_HOME: d.state,
    TMPDIR: d.tmp, HOME: join(runDir, 'home'),
  };
}

function baseArgs(p: CodeServerPaths): string[] {
  const d = dirs(p.runDir);
  return [p.entry, '--config', join(p.runDir, 'config.yaml'), '--user-data-dir', d.userData, '--extensions-dir', d.extensions];
}

/** Creates the run folder's layout and the user settings. */
export function prepare(p: CodeServerPaths): void {
  const d = dirs(p.runDir);
  for (const x of [...Object.values(d), join(p.runDir, 'home'), join(d.userData, 'User')]) mkdirSync(x, { recursive: true });
  writeFileSync(join(p.runDir, 'config.yaml'), 'auth: none\ncert: false\n');
  writeFileSync(join(d.userData, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
}

/** `code-server --install-extension <vsix>`; returns its output. Throws when it fails. */
export function installExtension(p: CodeServerPaths, vsix: string): string {
  const r = spawnSync(p.node24, [...baseArgs(p), '--install-extension', vsix], {
    env: environment(p.runDir), encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL',
  });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`installing ${vsix} failed (status ${r.status}, ${r.error?.message ?? ''}):\n${out}`);
  return out;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface RunningServer {
  url: string;
  child: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

/** Starts code-server on `folder` and resolves once /healthz answers. */
export async function startServer(p: CodeServerPaths, folder: string, timeoutMs = 60_000): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(p.node24, [
    ...baseArgs(p), '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry',
    '--disable-update-check', '--disable-workspace-trust', '--reconnection-grace-time', '5', folder,
  ], { env: environment(p.runDir), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (b: Buffer) => { log += b.toString(); });
  child.stderr?.on('data', (b: Buffer) => { log += b.toString(); });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const stop = async (): Promise<void> => {
    if (child.pid === undefined) return;
    // The whole group: code-server, its extension host, the language server.
    const signal = (sig: NodeJS.Signals) => { try { process.kill(-child.pid!, sig); } catch { /* gone */ } };
    signal('SIGTERM');
    const timer = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([exit, timer]);
    signal('SIGKILL');
    await Promise.race([exit, new Promise<void>((resolve) => setTimeout(resolve, 2000).unref())]);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`code-server exited before it was ready:\n${log}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, child, log: () => log, stop };
}
