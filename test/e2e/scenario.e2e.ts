/**
 * End to end in a real VS Code: the packed VSIX installed into code-server, driven in Debian's
 * Chromium. Run by `npm run test:e2e` (scripts/e2e/run.mjs), which installs the tools, packs the
 * VSIX, makes the run folder and passes them in VTX_E2E_* variables; steps run in order and
 * each saves a screenshot in test/artifacts/e2e/. Today's steps: the assembly language server
 * (hover with its VT-x line, a diagnostic in the Problems view) and the "Run Flat Binary"
 * command with its output channel; the VMCS and EPT panels opened without a session. The
 * debugger steps of issue 9 (and the panels filled by a session) come with them.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { installExtension, prepare, startServer, type RunningServer } from './codeServer';
import { editorLine, launchBrowser, openWorkbench, plain, runCommand, Shots, until } from './workbench';

const ROOT = new URL('../..', import.meta.url).pathname;
function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the end-to-end test with npm run test:e2e`);
  return v;
}
const runDir = env('VTX_E2E_RUN_DIR');
const paths = { node24: env('VTX_E2E_NODE24'), entry: env('VTX_E2E_CODE_SERVER'), runDir };
const folder = join(runDir, 'workspace', 'examples');
const shots = new Shots(env('VTX_E2E_ARTIFACTS'));

let server: RunningServer | undefined;
let browser: BrowserContext | undefined;
let page: Page;
let failed = false;

/** A step: skipped once an earlier one failed; on failure, a screenshot and code-server's log. */
function step(name: string, body: (t: TestContext) => Promise<void>): void {
  test(name, async (t) => {
    if (failed) {
      t.skip('an earlier step failed');
      return;
    }
    const t0 = Date.now();
    try {
      await body(t);
      t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      failed = true;
      if (page !== undefined) await shots.take(page, 'FAILED').catch(() => undefined);
      if (server !== undefined) t.diagnostic(`code-server log (tail):\n${server.log().slice(-4000)}`);
      throw e;
    }
  });
}

before(async () => {
  prepare(paths);
  // The examples are copied: the run edits and never saves, but nothing may touch the tree.
  cpSync(join(ROOT, 'examples'), folder, { recursive: true });
  const out = installExtension(paths, env('VTX_E2E_VSIX'));
  assert.match(out, /successfully installed/, out);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  const installed = readdirSync(join(runDir, 'ext'));
  assert.ok(installed.includes(`${pkg.publisher}.${pkg.name}-${pkg.version}`), `installed: ${installed.join(', ')}`);
  server = await startServer(paths, folder);
  browser = await launchBrowser(env('VTX_E2E_CHROMIUM'), join(runDir, 'chromium'));
});

async function shutDown(): Promise<void> {
  await browser?.close().catch(() => undefined);
  await server?.stop();
}
after(shutDown);
// Interrupted (Ctrl+C, a CI timeout): stop what was started before going.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void shutDown().finally(() => process.exit(130)));
}

step('the workbench opens the examples folder', async () => {
  page = await openWorkbench(browser!, server!.url, folder);
  const explorer = page.locator('.explorer-folders-view');
  await explorer.locator('.monaco-list-row', { hasText: 'fib16.asm' }).waitFor({ timeout: 30_000 });
  await shots.take(page, 'workbench');
});

step('fib16.asm opens as vtx assembly', async () => {
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'fib16.asm' }).click();
  await editorLine(page, 'add dx, bx').waitFor({ timeout: 30_000 });
  await page.locator('.statusbar-item', { hasText: 'vtx Assembly (NASM)' }).first().waitFor({ timeout: 30_000 });
  await shots.take(page, 'fib16-asm');
});

/** Hovers the mnemonic `word` on the line containing `line` until the hover holds "VT-x:". */
async function hoverMnemonic(line: string | RegExp, word: string): Promise<string> {
  const token = editorLine(page, line).locator('span > span', { hasText: new RegExp(`^${word}$`) }).first();
  const hover = page.locator('.monaco-hover:visible', { hasText: 'VT-x:' }).first();
  // The language server starts with the editor: until it answers, hovers come back empty.
  return until(`the hover of '${word}' with its VT-x line`, async () => {
    await page.mouse.move(5, 5);
    await token.hover();
    await hover.waitFor({ state: 'visible', timeout: 3000 });
    return plain(await hover.innerText());
  }, (text) => /^VT-x: /m.test(text), 60_000);
}

step('hovering an instruction explains it, with the VT-x line', async (t) => {
  const add = await hoverMnemonic('add dx, bx', 'add');
  t.diagnostic(`hover of add:\n${add}`);
  assert.match(add, /^VT-x: does not cause a VM exit by itself/m);
  assert.match(add, /^Encoding: 01 da \(2 bytes\) at 0x7c0a, 16-bit code$/m);
  await shots.take(page, 'hover-add');
  const hlt = await hoverMnemonic(/^\s*hlt\s*$/, 'hlt');
  t.diagnostic(`hover of hlt:\n${hlt}`);
  const vtx = hlt.split('\n').find((l) => l.startsWith('VT-x:')) ?? '';
  assert.match(vtx, /HLT/);
  assert.doesNotMatch(vtx, /does not cause a VM exit/);
  await shots.take(page, 'hover-hlt');
  await page.mouse.move(5, 5);
});

step('an error shows in the Problems view and goes away when the file is reverted', async (t) => {
  await editorLine(page, 'xor ax, ax').click();
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('mov al, bx');
  await editorLine(page, 'mov al, bx').waitFor();
  await runCommand(page, 'View: Focus Problems');
  const problems = page.locator('.markers-panel');
  const row = problems.locator('.monaco-list-row', { hasText: 'fib16.asm' }).first();
  await row.waitFor({ timeout: 30_000 });
  const error = problems.locator('.monaco-list-row').nth(1);
  await error.waitFor({ timeout: 30_000 });
  const text = plain(await problems.innerText());
  t.diagnostic(`Problems view:\n${text}`);
  assert.match(text, /\[Ln 13, Col \d+\]/); // the inserted line
  await page.locator('.editor-group-container.active .monaco-editor .squiggly-error').first().waitFor({ timeout: 10_000 });
  await shots.take(page, 'problems');
  await runCommand(page, 'File: Revert File');
  await editorLine(page, 'mov al, bx').waitFor({ state: 'detached', timeout: 10_000 });
  await until('the Problems view to empty', async () => plain(await problems.innerText()),
    (s) => /No problems have been detected/.test(s), 30_000);
  await shots.take(page, 'problems-cleared');
});

step('vtx: Run Flat Binary on the Bare Processor runs fib16.bin in real mode', async (t) => {
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'fib16.bin' }).click();
  await page.locator('.tabs-container .tab.active', { hasText: 'fib16.bin' }).waitFor({ timeout: 30_000 });
  await runCommand(page, 'vtx: Run Flat Binary on the Bare Processor');
  const pick = page.locator('.quick-input-widget');
  await pick.locator('.quick-input-list .monaco-list-row', { hasText: 'real' }).first().waitFor({ timeout: 30_000 });
  await shots.take(page, 'mode-pick');
  await pick.locator('input').fill('real');
  await pick.locator('.quick-input-list .monaco-list-row.focused', { hasText: 'loaded at 0x7c00' }).waitFor({ timeout: 10_000 });
  await pick.locator('input').press('Enter');
  const output = page.locator('.part.panel .monaco-editor .view-lines').first();
  const text = await until('the vtx output channel with the run summary', async () => plain(await output.innerText()),
    (s) => /eax 0x0000b520/.test(s), 60_000);
  t.diagnostic(`vtx output channel:\n${text}`);
  assert.match(text, /vtx run .*fib16\.bin --mode real/);
  assert.match(text, /stop: +hlt/);
  assert.match(text, /rip: +0000:7c1d/);
  await shots.take(page, 'run-output');
});

step('vtx: Show VMCS / Show EPT open their panels, which say there is no debug session yet', async (t) => {
  for (const [title, tab] of [['vtx: Show VMCS', 'vtx: VMCS'], ['vtx: Show EPT', 'vtx: EPT']] as const) {
    await runCommand(page, title);
    await page.locator('.tabs-container .tab', { hasText: tab }).first().waitFor({ timeout: 30_000 });
    // The webview is nested iframes: find the frame that holds the panel's status line.
    const status = await until(`the ${tab} panel's status line`, async () => {
      for (const f of page.frames()) {
        const s = await f.locator('.status-text').first().textContent({ timeout: 200 }).catch(() => null);
        if (s !== null && s !== '' && (await f.locator(`body[data-panel="${tab === 'vtx: VMCS' ? 'vmcs' : 'ept'}"]`).count()) > 0) return s;
      }
      return '';
    }, (s) => s !== '', 30_000);
    t.diagnostic(`${tab}: ${status}`);
    assert.match(status, /No vtx debug session/);
  }
  await shots.take(page, 'panels-no-session');
});
