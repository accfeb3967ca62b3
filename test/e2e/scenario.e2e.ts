/**
 * End to end in a real VS Code: the packed VSIX installed into code-server, driven in Debian's
 * Chromium. Run by `npm run test:e2e` (scripts/e2e/run.mjs), which installs the tools, packs the
 * VSIX, makes the run folder and passes them in VTX_E2E_* variables; steps run in order (a step
 * after a failed one is skipped) and each saves a screenshot in test/artifacts/e2e/.
 * The scenario of issue 9, as a person does it in examples/: the assembly language server (hover
 * with its VT-x line, a diagnostic in the Problems view), "Run Flat Binary" and its output, the
 * panels with no session; then the debugger — tick "VM exit: CPUID" in the Breakpoints view, F5
 * on the cpuid configuration of examples/.vscode/launch.json, the stop in the Call Stack and the
 * exit's fields in Variables, GUEST_RIP in the VMCS panel, the RAM mapping in the EPT panel, one
 * step, continue to the power-off with the guest's serial text in the Debug Console; last, a
 * source breakpoint set with F9 in hello16.asm and hit. Every wait is for a condition.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { installExtension, prepare, startServer, type RunningServer } from './codeServer';
import {
  debugToolbar, editorLine, launchBrowser, openWorkbench, pausedOn, pickLaunchConfiguration, plain, runCommand, setViewExpanded,
  Shots, startDebugging, until, webviewFrame,
} from './workbench';

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

// ---- The debugger, as a person uses it: exit breakpoints, the panels, stepping, the console. ----

const debugToolbarLocator = () => page.locator('.debug-toolbar');
const debugConsole = () => page.locator('.part.panel .repl');

/** Waits for the session to end: the debug toolbar goes away. */
async function sessionEnded(): Promise<void> {
  await debugToolbarLocator().waitFor({ state: 'hidden', timeout: 30_000 });
}

step('the Breakpoints view lists the exit filters of a vtx session; "VM exit: CPUID" gets ticked', async (t) => {
  // VS Code shows an adapter's exception-breakpoint filters once a session of its type has
  // started (they stay listed, and ticked, afterwards): hello16 stops on entry, which is enough.
  await runCommand(page, 'View: Close All Editors');
  await runCommand(page, 'View: Show Run and Debug');
  await pickLaunchConfiguration(page, 'hello16: real mode, COM1 and the power-off');
  await startDebugging(page);
  await pausedOn(page, (s) => /entry/i.test(s));
  await setViewExpanded(page, 'Watch', false);
  await setViewExpanded(page, 'Breakpoints', true);
  const view = page.locator('.part.sidebar .debug-breakpoints');
  const row = view.locator('.monaco-list-row[aria-label="VM exit: CPUID"]');
  // The list is virtual: scroll it until the row is rendered.
  await until('the row "VM exit: CPUID" in the Breakpoints view', async () => {
    if ((await row.count()) > 0) return true;
    await view.hover();
    await page.mouse.wheel(0, 120);
    return (await row.count()) > 0;
  }, (x) => x, 30_000);
  const filters = await view.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
  t.diagnostic(`filters shown: ${filters.join(', ')}`);
  assert.ok(filters.every((f) => f.startsWith('VM exit: ')), filters.join(', '));
  assert.equal(await row.getAttribute('aria-checked'), 'false');
  // TRIPLE_FAULT is on by default (initialConfigurations and DEFAULT_ON): CPUID is not.
  await row.locator('.monaco-checkbox').click();
  await view.locator('.monaco-list-row[aria-label="VM exit: CPUID"][aria-checked="true"]').waitFor({ timeout: 10_000 });
  await shots.take(page, 'exit-filter-cpuid-ticked');
  await debugToolbar(page, 'Stop');
  await sessionEnded();
  // Still ticked with no session: the next vtx session gets it.
  await view.locator('.monaco-list-row[aria-label="VM exit: CPUID"][aria-checked="true"]').waitFor({ timeout: 10_000 });
});

step('F5 on "cpuid" stops on the first CPUID: "VM exit: CPUID" in the Call Stack, the exit\'s fields in Variables', async (t) => {
  await pickLaunchConfiguration(page, 'cpuid: CPUID and the hypervisor leaves');
  await startDebugging(page);
  // The launch configuration's own exit breakpoint is leaf 0x40000000: stopping on leaf 1 (the
  // guest's first CPUID) is the Breakpoints view's filter at work.
  const why = await pausedOn(page, (s) => /VM exit: CPUID/.test(s));
  t.diagnostic(`Call Stack: ${why}`);
  assert.match(why, /^VM exit: CPUID — CPUID leaf 0x1 subleaf 0x0$/);
  // The Call Stack's header and its frames render separately: wait for the frame too.
  const stack = await until('the top frame on the CPUID line', async () => plain(await page.locator('.part.sidebar .debug-call-stack').innerText()),
    (s) => /cpuid\.asm\s+\d+$/m.test(s));
  t.diagnostic(`frames:\n${stack}`);
  assert.match(stack, /^start\+0x9\s+cpuid\.asm\s+33$/m);
  await page.locator('.tabs-container .tab.active', { hasText: 'cpuid.asm' }).waitFor({ timeout: 30_000 });
  await page.locator('.zone-widget .exception-widget', { hasText: 'VM exit 10 CPUID: CPUID leaf 0x1 subleaf 0x0' }).waitFor({ timeout: 30_000 });
  await shots.take(page, 'cpuid-stop');
  // The Variables view: the "VM exit" scope (the Call Stack folded for room while reading it).
  const variables = page.locator('.part.sidebar .debug-variables');
  await setViewExpanded(page, 'Breakpoints', false);
  await setViewExpanded(page, 'Call Stack', false);
  const general = variables.locator('.monaco-list-row[aria-label="Scope General registers"]');
  if ((await general.getAttribute('aria-expanded')) === 'true') await general.click();
  await variables.locator('.monaco-list-row[aria-label="Scope VM exit"]').click();
  const text = await until('the VM exit scope with its fields', async () => plain(await variables.innerText()),
    (s) => /IDT-vectoring information =/.test(s), 30_000);
  t.diagnostic(`Variables:\n${text}`);
  assert.match(text, /status =\s+stopped on this exit \(before the hypervisor handles it\)/);
  assert.match(text, /reason =\s+10 CPUID/);
  assert.match(text, /summary =\s+CPUID leaf 0x1 subleaf 0x0/);
  assert.match(text, /instruction length =\s+2\n/);
  assert.match(text, /RIP =\s+0x7c09\n/); // org 0x7c00 + mov eax, 1 (6 bytes) + xor ecx, ecx (3 bytes)
  await shots.take(page, 'variables-vm-exit');
  await setViewExpanded(page, 'Call Stack', true);
});

step('the VMCS panel (debug toolbar) shows GUEST_RIP of the exit', async (t) => {
  await debugToolbar(page, 'Show VMCS');
  await page.locator('.tabs-container .tab', { hasText: 'vtx: VMCS' }).first().waitFor({ timeout: 30_000 });
  const vmcs = await webviewFrame(page, 'body[data-panel="vmcs"] tr[data-field="GUEST_RIP"]');
  const status = await until('the VMCS panel to say the session is stopped', async () => plain(await vmcs.locator('.status-text').first().innerText()),
    (s) => /Stopped/.test(s));
  t.diagnostic(`VMCS panel: ${status}`);
  assert.match(status, /^cpuid: CPUID and the hypervisor leaves — Stopped/);
  // A person types the field's name in the filter; its section opens.
  await vmcs.locator('vscode-textfield.filter input').fill('GUEST_RIP');
  const row = vmcs.locator('tr[data-field="GUEST_RIP"]');
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  // The row is built with the layout and filled by the report that follows it.
  const value = await until('GUEST_RIP\'s value', async () => plain(await row.locator('.value-text').innerText()),
    (v) => /^0x[0-9a-f]{16}$/.test(v), 10_000);
  t.diagnostic(`GUEST_RIP: ${plain(await row.innerText())}`);
  assert.equal(value, '0x0000000000007c09'); // the CPUID the guest is stopped on, as in Variables
  assert.match(plain(await row.innerText()), /^GUEST_RIP\t0x681e · natural\t/);
  await shots.take(page, 'vmcs-guest-rip');
});

step('the EPT panel shows the guest\'s RAM mapped by the EPT', async (t) => {
  await debugToolbar(page, 'Show EPT');
  await page.locator('.tabs-container .tab', { hasText: 'vtx: EPT' }).first().waitFor({ timeout: 30_000 });
  const ept = await webviewFrame(page, 'body[data-panel="ept"] .seg.kind-ram');
  const ram = await ept.locator('.seg.kind-ram').first().getAttribute('title');
  const header = plain(await ept.locator('.ept-header').innerText());
  const first = plain(await ept.locator('tr.mapping').first().innerText());
  t.diagnostic(`EPT: ${header.replace(/\n/g, ' · ')}; RAM: ${ram}; first mapping: ${first}`);
  assert.match(header, /EPT on/);
  assert.equal(ram, '0x0 – 0x4000000 (64 MiB): RAM, mapped by the EPT'); // "memory" defaults to 64M
  assert.match(first, /^0x0 – 0x200000\t0x0 – 0x200000\t2 MiB\t2 MiB\tR W X\tWB\t/);
  await shots.take(page, 'ept-ram');
});

step('step one instruction: the CPUID completes and the guest is on the next line', async (t) => {
  await debugToolbar(page, 'Step Over');
  const why = await pausedOn(page, (s) => /step/i.test(s));
  const stack = await until('the top frame on the line after CPUID', async () => plain(await page.locator('.part.sidebar .debug-call-stack').innerText()),
    (s) => /cpuid\.asm\s+34$/m.test(s));
  t.diagnostic(`Call Stack: ${why}\n${stack}`);
  assert.match(stack, /^start\+0xb\s+cpuid\.asm\s+34$/m); // CPUID is 2 bytes (0f a2)
  await editorLine(page, 'mov [leaf1_ecx], ecx').waitFor({ timeout: 10_000 });
  await shots.take(page, 'stepped');
});

step('continue: the next CPUID exits stop too; the serial text reaches the Debug Console and the session ends on power-off', async (t) => {
  // leaf 0x40000000 (the filter and the configuration's own exit breakpoint), then 0x40000001.
  for (const leaf of ['0x40000000', '0x40000001']) {
    await debugToolbar(page, 'Continue');
    const why = await pausedOn(page, (s) => s.includes(`CPUID leaf ${leaf} `));
    t.diagnostic(`stopped: ${why}`);
  }
  await debugToolbar(page, 'Continue');
  await sessionEnded();
  const text = await until('the serial text and the power-off in the Debug Console', async () => plain(await debugConsole().innerText()),
    (s) => /the guest powered off/.test(s), 30_000);
  t.diagnostic(`Debug Console:\n${text}`);
  assert.match(text, /^CPUID leaf 1 at 0x7c09$/m); // the configuration's tracepoint
  assert.match(text, /^hypervisor \(ecx bit 31\): 1$/m);
  assert.match(text, /^signature: vtxvtxvtxvtx$/m);
  assert.match(text, /^leaf 0x40000001 eax: 0x00000000$/m);
  assert.match(text, /^vtx: the guest powered off \(ACPI power-off: word 0x2000 to port 0x604\)$/m);
  const vmcs = await webviewFrame(page, 'body[data-panel="vmcs"]');
  await until('the VMCS panel to say the session ended', async () => plain(await vmcs.locator('.status-text').first().innerText()),
    (s) => /session ended/.test(s));
  await shots.take(page, 'serial-power-off');
});

step('a source breakpoint set with F9 in hello16.asm is hit on launch', async (t) => {
  await runCommand(page, 'View: Close All Editors');
  await runCommand(page, 'View: Show Explorer');
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'hello16.asm' }).click();
  await page.locator('.tabs-container .tab.active', { hasText: 'hello16.asm' }).waitFor({ timeout: 30_000 });
  const source = readFileSync(join(folder, 'hello16.asm'), 'utf8').split('\n');
  const line = source.findIndex((l) => /^\s+mov dx, 0x604\b/.test(l)) + 1;
  assert.ok(line > 0);
  await runCommand(page, 'Go to Line/Column...');
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
  await page.locator('.statusbar-item', { hasText: `Ln ${line}, Col 1` }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('F9');
  await page.locator('.editor-group-container.active .glyph-margin-widgets .codicon-debug-breakpoint').first().waitFor({ timeout: 10_000 });
  await shots.take(page, 'source-breakpoint-set');
  await runCommand(page, 'View: Show Run and Debug');
  await pickLaunchConfiguration(page, 'hello16: real mode, COM1 and the power-off');
  await startDebugging(page);
  await pausedOn(page, (s) => /entry/i.test(s)); // the configuration's stopOnEntry
  await debugToolbar(page, 'Continue');
  const why = await pausedOn(page, (s) => /breakpoint/i.test(s));
  // The header changes before the frames re-render: until then they still show the entry stop.
  const stack = await until('the top frame on the breakpoint\'s line', async () => plain(await page.locator('.part.sidebar .debug-call-stack').innerText()),
    (s) => new RegExp(`hello16\\.asm\\s+${line}$`, 'm').test(s));
  t.diagnostic(`Call Stack: ${why}\n${stack}`);
  assert.match(why, /^breakpoint at 0x7c1a$/);
  assert.match(stack, new RegExp(`^start\\.off\\s+hello16\\.asm\\s+${line}$`, 'm'));
  // The loop before it has written the whole line to COM1.
  await until('the guest\'s line in the Debug Console', async () => plain(await debugConsole().innerText()),
    (s) => /^hello from a VMX guest$/m.test(s), 30_000);
  await page.locator('.part.sidebar .debug-variables .monaco-list-row[aria-label="Scope General registers"]').waitFor({ timeout: 30_000 });
  await shots.take(page, 'source-breakpoint-hit');
  await debugToolbar(page, 'Stop');
  await sessionEnded();
});
