/**
 * Driving VS Code's workbench in Chromium with playwright-core: launch the browser on a fresh
 * profile, open the workbench, run commands from the palette, read views, take screenshots.
 * Every wait is for a condition on the page, with a deadline.
 */
import { chromium, type BrowserContext, type Frame, type Locator, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchBrowser(executablePath: string, profileDir: string): Promise<BrowserContext> {
  mkdirSync(profileDir, { recursive: true });
  return chromium.launchPersistentContext(profileDir, {
    executablePath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1600, height: 1000 },
  });
}

/** Opens `folder` in the workbench served at `url` and waits for the status bar. */
export async function openWorkbench(context: BrowserContext, url: string, folder: string): Promise<Page> {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: 60_000 });
  return page;
}

/** Monaco renders spaces as no-break spaces; views' text is read with plain spaces. */
export function plain(text: string): string {
  return text.replace(/\u00a0/g, ' ');
}

/** Runs a command from the palette by its full title ("category: title"). */
export async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  // A key pressed while the workbench is still starting can be ignored.
  await pressUntilVisible(page, 'F1', input, 3000, 3);
  await input.fill(`>${title}`);
  // Enter runs the focused (first) row: wait until that is the command asked for.
  const row = page.locator('.quick-input-list .monaco-list-row.focused', { hasText: title });
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await input.press('Enter');
}

/** Polls `read` until `ok` holds for its result (or the deadline passes), returning it. */
export async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error = '';
  for (;;) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (e) {
      error = (e as Error).message.split('\n')[0]; // not there yet
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(last)}${error ? `; last error: ${error}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

export class Shots {
  private n = 0;
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  async take(page: Page, name: string): Promise<string> {
    const file = join(this.dir, `${String(++this.n).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file });
    return file;
  }
}

/** The editor line (a `.view-line`) whose text contains `text`. */
export function editorLine(page: Page, text: string | RegExp): Locator {
  return page.locator('.editor-group-container.active .monaco-editor .view-line', { hasText: text }).first();
}

/** The webview frame (webviews are nested iframes) whose document matches `selector`. */
export async function webviewFrame(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
  return until(`a webview frame holding ${selector}`, async () => {
    for (const f of page.frames()) {
      if ((await f.locator(selector).count().catch(() => 0)) > 0) return f;
    }
    return undefined;
  }, (f): f is Frame => f !== undefined, timeoutMs) as Promise<Frame>;
}

/** Expands or collapses the side bar view titled `title` (Variables, Watch, Call Stack, Breakpoints...). */
export async function setViewExpanded(page: Page, title: string, expanded: boolean): Promise<void> {
  const header = page.locator(`.part.sidebar .pane-header[aria-label="${title} Section"]`);
  if ((await header.getAttribute('aria-expanded')) !== String(expanded)) await header.click();
  await page.locator(`.part.sidebar .pane-header[aria-label="${title} Section"][aria-expanded="${expanded}"]`).waitFor({ timeout: 10_000 });
}

/**
 * Picks the launch configuration `name` in the Run and Debug view's drop-down (launch.json's
 * list). The workbench may re-render the drop-down while it opens (seen once in a clean-clone
 * run: the row was detached while Playwright waited for it to be stable, right after a session
 * ended), closing it: then it is opened again, up to three times, until the label shows `name`.
 */
export async function pickLaunchConfiguration(page: Page, name: string): Promise<void> {
  const label = page.locator('.part.sidebar .start-debug-action-item-dropdown-label');
  const picked = page.locator('.part.sidebar .start-debug-action-item-label', { hasText: name });
  for (let attempt = 1; ; attempt++) {
    try {
      await label.click();
      await page.locator('.context-view .monaco-list-row', { hasText: name }).first().click({ timeout: 10_000 });
      await picked.waitFor({ timeout: 10_000 });
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.keyboard.press('Escape');
      await page.locator('.context-view .monaco-list-row').first().waitFor({ state: 'detached', timeout: 5_000 }).catch(() => undefined);
    }
  }
}

/** F5: starts the selected configuration and waits for the debug toolbar. A key pressed while
 * the workbench is busy can be ignored (the recipe): pressed once more only when no session
 * started at all in 10 s, so a slow start never becomes two sessions. */
export async function startDebugging(page: Page): Promise<void> {
  await pressUntilVisible(page, 'F5', page.locator('.debug-toolbar'), 10_000, 1);
}

/** Press `key` until `target` is visible (each press waited on for `timeoutMs`), at most 1 + `retries` presses. */
async function pressUntilVisible(page: Page, key: string, target: Locator, timeoutMs: number, retries: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press(key);
    try {
      await target.waitFor({ state: 'visible', timeout: timeoutMs });
      return;
    } catch (e) {
      if (attempt >= retries) throw e;
    }
  }
}

/** Clicks the debug toolbar's button whose label starts with `label` (Continue, Step Over, Stop, Show VMCS...). */
export async function debugToolbar(page: Page, label: string): Promise<void> {
  await page.locator(`.debug-toolbar .action-label[aria-label^="${label}"]`).click();
}

/** The Call Stack view's header message: why the session is paused ("VM exit: CPUID — ...", "breakpoint at ..."). */
export async function pausedOn(page: Page, ok: (s: string) => boolean, timeoutMs = 30_000): Promise<string> {
  return until('the Call Stack to say why the session paused', async () =>
    plain(await page.locator('.part.sidebar .call-stack-state-message').innerText({ timeout: 1000 })), ok, timeoutMs);
}
