/**
 * The host half of one panel, without `vscode`: follows a debug session (the active `vtx` one),
 * asks it for the panel's data with custom DAP requests on open, on every stop and on demand,
 * and posts plain JSON to the webview (src/webview/protocol.ts). Edits and translations from the
 * webview go to the session and their answers (or the adapter's refusal) come back.
 * The vscode glue (panelManager.ts) feeds it sessions, custom events and webview messages.
 */
import {
  DAP, EXITS_LIMIT, parseWebviewMessage,
  type EptFlatReport, type EptTreeReport, type ExitsReport, type HostMessage, type PanelKind, type SessionState,
  type TranslateReport, type VmcsReport, type WebviewMessage,
} from '../../webview/protocol';

/** What the controller needs of a debug session (vscode.DebugSession fits). */
export interface SessionLike {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  customRequest(command: string, args?: unknown): PromiseLike<unknown>;
}

export type Post = (m: HostMessage) => unknown;

/** The text of a failed request (vscode rejects customRequest with an Error carrying the adapter's message). */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  return String(e);
}

/**
 * The state a `vtx/state` event body announces ('stopped' unless it says it runs or ended), and
 * the words to show: the adapter's description ("VM exit: CPUID leaf 0x1 ..."), else its reason.
 */
export function stateOfEvent(body: unknown): { state: SessionState; reason?: string } {
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const s = typeof o.state === 'string' ? o.state : typeof o.status === 'string' ? o.status : 'stopped';
  const reason = typeof o.description === 'string' && o.description !== '' ? o.description : typeof o.reason === 'string' ? o.reason : undefined;
  if (s === 'running' || s === 'continued' || s === 'run') return { state: 'running', reason };
  if (s === 'terminated' || s === 'exited' || s === 'ended') return { state: 'ended', reason };
  return { state: 'stopped', reason };
}

export class PanelController {
  private session: SessionLike | undefined;
  private state: SessionState = 'none';
  private reason: string | undefined;
  /** Stops seen in this session (the first data counts as stop 1; refreshes keep the number). */
  private stops = 0;
  /** Bumped on every session change: answers for an older generation are dropped. */
  private generation = 0;
  private refreshing: Promise<void> | undefined;
  private refreshingGeneration = -1;
  private refreshAgain = false;
  private wantTree = false;
  private ready = false;

  constructor(readonly kind: PanelKind, private readonly post: Post) {}

  /** The session shown (undefined: none). */
  get current(): SessionLike | undefined { return this.session; }

  /** Follow `s` (the active vtx session, or undefined when there is none). */
  setSession(s: SessionLike | undefined, state: SessionState = 'stopped'): Promise<void> {
    if (s !== undefined && s.type !== DAP.debugType) s = undefined;
    if (s?.id === this.session?.id && s !== undefined) return this.refresh();
    // No session any more (VS Code has no active one): the one shown has ended; keep its data.
    if (s === undefined && this.session !== undefined) {
      this.onSessionEnded(this.session.id);
      return Promise.resolve();
    }
    if (s === undefined && this.state === 'ended') return Promise.resolve();
    this.generation++;
    this.session = s;
    this.stops = s === undefined ? 0 : 1;
    this.state = s === undefined ? 'none' : state;
    this.reason = undefined;
    this.sendSession();
    return s === undefined || state !== 'stopped' ? Promise.resolve() : this.refresh();
  }

  /** A custom event of some session (`vtx/state` when the guest stops or runs). */
  onCustomEvent(sessionId: string, event: string, body: unknown): Promise<void> {
    if (event !== DAP.stateEvent || sessionId !== this.session?.id) return Promise.resolve();
    const { state, reason } = stateOfEvent(body);
    if (state === 'stopped') this.stops++;
    this.state = state;
    this.reason = reason;
    this.sendSession();
    return state === 'stopped' ? this.refresh() : Promise.resolve();
  }

  /** The session ended. */
  onSessionEnded(sessionId: string): void {
    if (sessionId !== this.session?.id) return;
    this.generation++;
    this.state = 'ended';
    this.sendSession();
    this.session = undefined;
  }

  /** A message from the webview (untrusted: checked before use). */
  async onWebviewMessage(raw: unknown): Promise<void> {
    const m = parseWebviewMessage(raw);
    if (m === undefined) return;
    await this.handle(m);
  }

  private async handle(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.sendSession();
        if (this.session !== undefined && this.state === 'stopped') await this.refresh();
        return;
      case 'refresh':
        if (this.session !== undefined) await this.refresh();
        return;
      case 'wantTree':
        this.wantTree = m.want;
        if (m.want && this.session !== undefined && this.state === 'stopped') await this.refresh();
        return;
      case 'edit': return this.edit(m.id, m.name, m.value);
      case 'translate': return this.translate(m.id, m.address, m.kind);
    }
  }

  private sendSession(): void {
    if (!this.ready) return;
    this.post({ type: 'session', state: this.state, name: this.session?.name, reason: this.reason });
  }

  /**
   * Ask for the panel's data again; calls while a round for the same session is in flight
   * coalesce into one more round. A new session starts its own rounds (the old one's answers
   * are dropped by `fetch`).
   */
  refresh(): Promise<void> {
    const gen = this.generation;
    if (this.refreshing !== undefined && this.refreshingGeneration === gen) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    const run = async (): Promise<void> => {
      do {
        this.refreshAgain = false;
        await this.fetch();
      } while (this.refreshAgain && gen === this.generation);
    };
    const p: Promise<void> = run().finally(() => { if (this.refreshing === p) this.refreshing = undefined; });
    this.refreshing = p;
    this.refreshingGeneration = gen;
    return p;
  }

  private async fetch(): Promise<void> {
    const s = this.session;
    if (s === undefined || !this.ready) return;
    const gen = this.generation;
    const stop = Math.max(1, this.stops);
    const live = (): boolean => gen === this.generation && s === this.session;
    const ask = async <T>(command: string, args?: unknown): Promise<T | undefined> => {
      try {
        return (await s.customRequest(command, args)) as T;
      } catch (e) {
        if (live()) this.post({ type: 'error', request: command, message: errorText(e) });
        return undefined;
      }
    };
    if (this.kind === 'vmcs') {
      const report = await ask<VmcsReport>(DAP.vmcs);
      if (report !== undefined && live()) this.post({ type: 'vmcs', stop, report });
    } else if (this.kind === 'ept') {
      const [flat, tree] = await Promise.all([
        ask<EptFlatReport>(DAP.ept, { form: 'flat' }),
        this.wantTree ? ask<EptTreeReport>(DAP.ept, { form: 'tree' }) : Promise.resolve(undefined),
      ]);
      if (flat !== undefined && live()) this.post({ type: 'ept', stop, flat, ...(tree !== undefined ? { tree } : {}) });
    } else {
      const report = await ask<ExitsReport>(DAP.exits, { limit: EXITS_LIMIT });
      if (report !== undefined && live()) this.post({ type: 'exits', stop, report });
    }
  }

  private async edit(id: number, name: string, value: string): Promise<void> {
    const s = this.session;
    if (s === undefined) {
      this.post({ type: 'editResult', id, name, ok: false, error: 'no vtx debug session' });
      return;
    }
    if (this.state !== 'stopped') {
      this.post({ type: 'editResult', id, name, ok: false, error: 'the guest is running: VMCS fields can be written only while it is stopped' });
      return;
    }
    try {
      const body = await s.customRequest('setExpression', { expression: `vmcs.${name}`, value }) as { value?: unknown } | undefined;
      this.post({ type: 'editResult', id, name, ok: true, value: typeof body?.value === 'string' ? body.value : value });
    } catch (e) {
      this.post({ type: 'editResult', id, name, ok: false, error: errorText(e) });
      return;
    }
    // The write changes what every panel shows (decoded values, writability): ask again.
    await this.refresh();
  }

  private async translate(id: number, address: string, kind: 'linear' | 'physical'): Promise<void> {
    const s = this.session;
    if (s === undefined) {
      this.post({ type: 'translateResult', id, error: 'no vtx debug session' });
      return;
    }
    try {
      const report = await s.customRequest(DAP.translate, { address, kind });
      this.post({ type: 'translateResult', id, report: report as TranslateReport });
    } catch (e) {
      this.post({ type: 'translateResult', id, error: errorText(e) });
    }
  }
}
