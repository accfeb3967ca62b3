/**
 * Driving VS Code's workbench in Chromium with playwright-core: launch the browser on a fresh
 * profile, open the workbench, run commands from the palette, read views, take screenshots.
 * Every wait is for a condition on the page, with a deadline.
 */
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchBrowser(executablePath: string, profileDir: string): Promise<BrowserContext> {
  mkdirSync(profileDir, { recursive: true });
  return chromium.launchPersistentContext(profileDir, {
    executablePath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 },
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
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 3000 });
      break;
    } catch (e) {
      if (attempt >= 3) throw e; // a key pressed while the workbench is still starting can be ignored
    }
  }
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
