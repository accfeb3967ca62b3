/**
 * The banner on top of every panel: which session it shows and whether the guest is stopped,
 * running, gone or absent ("no vtx debug session" until one starts), plus the last request error.
 */
import type { SessionMessage } from '../protocol';
import { el, icon, setText } from './dom';

const TEXT: Record<SessionMessage['state'], [string, string]> = {
  none: ['debug-disconnect', 'No vtx debug session. Start one (Run and Debug, type "vtx") and this panel fills in when the guest stops.'],
  running: ['debug-continue', 'The guest is running; the panel updates when it stops.'],
  stopped: ['debug-pause', 'Stopped'],
  ended: ['debug-stop', 'The debug session ended; the panel keeps the last data it received.'],
};

export class StatusBar {
  readonly root = el('div', { class: 'status', attrs: { role: 'status' } });
  private readonly iconBox = el('span', { class: 'status-icon' });
  private readonly text = el('span', { class: 'status-text' });
  private readonly extra = el('span', { class: 'status-extra' });
  private readonly error = el('div', { class: 'status-error', attrs: { role: 'alert' } });
  state: SessionMessage['state'] = 'none';

  constructor() {
    this.root.append(this.iconBox, this.text, this.extra);
    this.error.hidden = true;
    this.show({ type: 'session', state: 'none' });
  }

  /** The element for request errors (placed by the panel under its toolbar). */
  get errorBox(): HTMLElement { return this.error; }

  show(m: SessionMessage): void {
    this.state = m.state;
    const [name, text] = TEXT[m.state];
    this.iconBox.replaceChildren(icon(name));
    let t = text;
    if (m.state === 'stopped') t = `Stopped${m.reason !== undefined ? `: ${m.reason}` : ''}`;
    if (m.name !== undefined && m.state !== 'none') t = `${m.name} — ${t}`;
    setText(this.text, t);
    this.root.dataset.state = m.state;
    document.body.dataset.session = m.state;
    if (m.state !== 'stopped') this.hideError();
  }

  /** Extra text on the right (stop number, counts). */
  setExtra(text: string): void { setText(this.extra, text); }

  showError(request: string, message: string): void {
    this.error.hidden = false;
    this.error.replaceChildren(icon('error'), el('span', { text: `${request}: ${message}` }));
  }

  hideError(): void { this.error.hidden = true; }
}
