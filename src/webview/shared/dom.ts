/**
 * Building the DOM without HTML strings: every text (much of it guest-controlled: VMCS values,
 * exit fields, addresses) goes through `textContent` or element properties, never `innerHTML`.
 */
export interface ElOptions {
  class?: string;
  text?: string;
  title?: string;
  /** Attributes (set with setAttribute, which does not parse HTML). */
  attrs?: Record<string, string>;
  /** dataset entries. */
  data?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, o?: ElOptions, children?: Array<Node | null | undefined>): HTMLElementTagNameMap[K];
export function el(tag: string, o?: ElOptions, children?: Array<Node | null | undefined>): HTMLElement;
export function el(tag: string, o: ElOptions = {}, children: Array<Node | null | undefined> = []): HTMLElement {
  const e = document.createElement(tag);
  if (o.class !== undefined) e.className = o.class;
  if (o.text !== undefined) e.textContent = o.text;
  if (o.title !== undefined) e.title = o.title;
  if (o.attrs !== undefined) for (const [k, v] of Object.entries(o.attrs)) e.setAttribute(k, v);
  if (o.data !== undefined) for (const [k, v] of Object.entries(o.data)) e.dataset[k] = v;
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** A codicon (the font from @vscode/codicons, loaded by the page). */
export function icon(name: string, title?: string): HTMLElement {
  const i = el('span', { class: `codicon codicon-${name}`, attrs: { 'aria-hidden': title === undefined ? 'true' : 'false' } });
  if (title !== undefined) i.title = title;
  return i;
}

/** Sets text only when it differs (keeps updates cheap). */
export function setText(e: HTMLElement, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}

export function clear(e: HTMLElement): void {
  e.replaceChildren();
}

/** Makes `e` reachable with Tab and activated with Enter or Space, like a button. */
export function activatable(e: HTMLElement, activate: () => void, label?: string): void {
  e.tabIndex = 0;
  if (label !== undefined) e.setAttribute('aria-label', label);
  e.addEventListener('click', activate);
  e.addEventListener('keydown', (ev: KeyboardEvent) => {
    if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); activate(); }
  });
}
