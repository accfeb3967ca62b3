/** A vscode-tabs element with headers (optionally with a counter badge) and panels. */
import { el } from './dom';

export interface Tab {
  id: string;
  label: string;
  content: HTMLElement;
}

export interface Tabs {
  root: HTMLElement;
  select(id: string): void;
  selected(): string;
  setBadge(id: string, text: string | undefined): void;
  onSelect(f: (id: string) => void): void;
}

export function makeTabs(tabs: readonly Tab[], initial: string): Tabs {
  const root = document.createElement('vscode-tabs') as HTMLElement & { selectedIndex: number };
  const badges = new Map<string, HTMLElement>();
  const listeners: Array<(id: string) => void> = [];
  for (const t of tabs) {
    const badge = el('vscode-badge', { attrs: { variant: 'counter', slot: 'content-after' } });
    badge.hidden = true;
    badges.set(t.id, badge);
    const header = el('vscode-tab-header', { attrs: { slot: 'header' }, data: { tab: t.id } }, [el('span', { text: t.label }), badge]);
    const panel = el('vscode-tab-panel', { data: { tab: t.id } }, [t.content]);
    root.append(header, panel);
  }
  const index = (id: string): number => Math.max(0, tabs.findIndex((t) => t.id === id));
  root.selectedIndex = index(initial);
  root.addEventListener('vsc-tabs-select', (e: Event) => {
    const i = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
    for (const f of listeners) f(tabs[i].id);
  });
  return {
    root,
    select: (id) => {
      root.selectedIndex = index(id);
      for (const f of listeners) f(id);
    },
    selected: () => tabs[root.selectedIndex]?.id ?? tabs[0].id,
    setBadge: (id, text) => {
      const b = badges.get(id);
      if (b === undefined) return;
      b.hidden = text === undefined;
      if (b.textContent !== (text ?? '')) b.textContent = text ?? '';
    },
    onSelect: (f) => { listeners.push(f); },
  };
}
