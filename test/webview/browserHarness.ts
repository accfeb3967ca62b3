/**
 * Loads a panel's built bundle (dist/webview/<panel>.js) in Debian's Chromium (playwright-core,
 * headless) in the page the extension serves (panelHtml: strict CSP with a nonce), with a stubbed
 * `acquireVsCodeApi` whose postMessage goes to a real PanelController in this process — which
 * asks a session (the recorded one) and posts the answers back into the page, as VS Code would.
 * Every posted message is kept (`page.posted()`); CSP violations and page errors are collected.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { PanelController, type SessionLike } from '../../src/extension/panels/panelController';
import { makeNonce, panelHtml } from '../../src/extension/panels/panelHtml';
import type { HostMessage, PanelKind } from '../../src/webview/protocol';
import { THEMES, type ThemeName } from './themes';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = new URL('../..', import.meta.url).pathname;
const DIST = join(ROOT, 'dist', 'webview');
export const ARTIFACTS = join(ROOT, 'test', 'artifacts');
const ORIGIN = 'http://vtx-webview.test';

/** Why the browser tests cannot run here (undefined: they can). */
export function skipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`;
  if (!existsSync(join(DIST, 'vmcs.js'))) return 'dist/webview is not built (npm run build)';
  return undefined;
}

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

const TYPES: Record<string, string> = { js: 'text/javascript', css: 'text/css', ttf: 'font/ttf', map: 'application/json', html: 'text/html' };

export interface PanelPage {
  page: Page;
  controller: PanelController;
  /** Messages the webview posted, in order. */
  posted(): Promise<unknown[]>;
  /** Messages the host posted to the webview, in order. */
  received: HostMessage[];
  /** CSP violations and uncaught errors seen in the page. */
  problems: string[];
  /** Apply a theme the way VS Code does (variables on <html>, class on <body>). */
  theme(name: ThemeName): Promise<void>;
  screenshot(name: string): Promise<string>;
  /** Wait until the panel has applied the host's data of stop `n`. */
  waitForStop(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function openPanel(browser: Browser, kind: PanelKind, session: SessionLike | undefined, o: { width?: number; height?: number } = {}): Promise<PanelPage> {
  const context = await browser.newContext({ viewport: { width: o.width ?? 1200, height: o.height ?? 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const received: HostMessage[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  const controller = new PanelController(kind, (m) => {
    received.push(m);
    void page.evaluate((msg) => window.postMessage(msg, '*'), m).catch(() => undefined);
  });
  await page.exposeFunction('__vtxHostReceive', (m: unknown) => controller.onWebviewMessage(m));
  // A string, not a function: tsx compiles this file with esbuild's keepNames, whose `__name`
  // helper does not exist in the page (the shim covers callbacks passed to page.evaluate).
  await page.addInitScript(`(() => {
    window.__name = (f) => f;
    const posted = [];
    let state;
    window.__vtxPosted = posted;
    window.__vtxCsp = [];
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => { posted.push(m); window.__vtxHostReceive(m); },
      getState: () => state,
      setState: (s) => { state = s; },
    });
    document.addEventListener('securitypolicyviolation', (e) => { window.__vtxCsp.push(e.violatedDirective + ' ' + e.blockedURI); });
  })();`);
  const nonce = makeNonce(randomBytes);
  const html = panelHtml({
    kind, title: `vtx: ${kind}`, cspSource: ORIGIN, nonce,
    script: `${ORIGIN}/${kind}.js`, style: `${ORIGIN}/${kind}.css`, codicons: `${ORIGIN}/codicons/codicon.css`,
  });
  await page.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname.slice(1);
    if (path === 'panel.html') return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    const file = join(DIST, path);
    if (!file.startsWith(DIST) || !existsSync(file)) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ status: 200, contentType: TYPES[path.split('.').pop() ?? ''] ?? 'application/octet-stream', body: readFileSync(file) });
  });
  // Everything else (remote content) is refused.
  await page.route((url) => !url.href.startsWith(ORIGIN), (route) => {
    problems.push(`request outside dist: ${route.request().url()}`);
    return route.abort();
  });
  if (session !== undefined) void controller.setSession(session);
  const pp: PanelPage = {
    page, controller, received, problems,
    posted: () => page.evaluate(() => (window as unknown as { __vtxPosted: unknown[] }).__vtxPosted.slice()),
    theme: async (name) => {
      const t = THEMES[name];
      await page.evaluate(({ vars, bodyClass }) => {
        const s = document.documentElement.style;
        for (let i = s.length - 1; i >= 0; i--) if (s[i].startsWith('--vscode-')) s.removeProperty(s[i]);
        for (const [k, v] of Object.entries(vars)) s.setProperty(k, v);
        document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast');
        document.body.classList.add(bodyClass);
      }, t);
    },
    screenshot: async (name) => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: false });
      return path;
    },
    waitForStop: async (n) => {
      await page.waitForFunction((stop) => Number(document.body.dataset.stop ?? 0) >= stop, n, { timeout: 10_000 });
    },
    close: () => context.close(),
  };
  await page.goto(`${ORIGIN}/panel.html`);
  await pp.theme('dark');
  return pp;
}

/** CSP violations the page reported. */
export async function cspViolations(p: PanelPage): Promise<string[]> {
  return p.page.evaluate(() => (window as unknown as { __vtxCsp: string[] }).__vtxCsp.slice());
}
