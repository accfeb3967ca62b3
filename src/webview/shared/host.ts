/**
 * The webview's side of the channel to the extension host: `acquireVsCodeApi()` (once), typed
 * messages both ways (protocol.ts). Nothing else in the webview talks to the host.
 */
import type { HostMessage, WebviewMessage } from '../protocol';

interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;
const vscode = (): VsCodeApi => (api ??= acquireVsCodeApi());

export function post(m: WebviewMessage): void {
  vscode().postMessage(m);
}

/** Persisted UI state of the panel (filter text, open tab...) across reloads. */
export function loadState<T extends object>(defaults: T): T {
  const s = vscode().getState();
  return typeof s === 'object' && s !== null ? { ...defaults, ...(s as Partial<T>) } : defaults;
}
export function saveState(s: object): void {
  vscode().setState(s);
}

/** Calls `handler` for every message of the host; then tells the host the page is ready. */
export function connect(handler: (m: HostMessage) => void): void {
  window.addEventListener('message', (e: MessageEvent) => {
    const m = e.data as HostMessage | undefined;
    if (typeof m !== 'object' || m === null || typeof m.type !== 'string') return;
    handler(m);
    // The time the panel finished applying the message (the browser tests and the bench read it).
    document.body.dataset.renderedType = m.type;
    document.body.dataset.renderedAt = String(performance.now());
    if ('stop' in m) document.body.dataset.stop = String(m.stop);
  });
  post({ type: 'ready' });
}
