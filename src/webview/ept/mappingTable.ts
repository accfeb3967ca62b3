/**
 * The EPT's merged mappings as a table (GPA range → HPA range, size, page size, R/W/X, memory
 * type, accessed/dirty), sortable by clicking a column and filtered by an address inside the
 * range or by text (permissions, memory type). At most `PAGE_ROWS` rows are built at once.
 */
import type { EptMapping } from '../protocol';
import { el, icon } from '../shared/dom';
import { parseAddress, sizeName } from '../shared/format';

type Key = 'gpa' | 'hpa' | 'size' | 'page' | 'perm' | 'type';
const COLUMNS: Array<[Key | null, string]> = [
  ['gpa', 'Guest-physical'], ['hpa', 'Host-physical'], ['size', 'Size'], ['page', 'Page'], ['perm', 'R W X'], ['type', 'Type'], [null, 'A'], [null, 'D'],
];
export const PAGE_ROWS = 500;

const big = (h: string): bigint => BigInt(h);
const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
const ORDER: Record<Key, (a: EptMapping, b: EptMapping) => number> = {
  gpa: (a, b) => cmp(big(a.gpaStart), big(b.gpaStart)),
  hpa: (a, b) => cmp(big(a.hpaStart), big(b.hpaStart)),
  size: (a, b) => a.size - b.size,
  page: (a, b) => a.pageSize - b.pageSize,
  perm: (a, b) => a.permissions.localeCompare(b.permissions),
  type: (a, b) => a.memoryType.localeCompare(b.memoryType),
};

/** Mappings that match `filter`: an address inside the range, else text in permissions / type. */
export function filterMappings(all: readonly EptMapping[], filter: string): EptMapping[] {
  const q = filter.trim();
  if (q === '') return [...all];
  const range = /^(\S+)\s*[-–]\s*(\S+)$/.exec(q);
  if (range !== null) {
    const a = parseAddress(range[1]);
    const b = parseAddress(range[2]);
    if (a !== undefined && b !== undefined) return all.filter((m) => big(m.gpaStart) < b && big(m.gpaEnd) > a);
  }
  const addr = parseAddress(q);
  const text = q.toLowerCase();
  return all.filter((m) => (addr !== undefined && big(m.gpaStart) <= addr && addr < big(m.gpaEnd)) ||
    m.permissions.toLowerCase() === text || m.memoryType.toLowerCase() === text ||
    (text.length > 2 && `${m.permissions} ${m.memoryType}`.toLowerCase().includes(text)));
}

export class MappingTable {
  readonly root = el('div', { class: 'mappings' });
  private all: EptMapping[] = [];
  private sortKey: Key = 'gpa';
  private descending = false;
  private filter = '';
  private limit = PAGE_ROWS;
  private readonly head = el('tr');
  private readonly body = el('tbody');
  private readonly footer = el('div', { class: 'table-footer' });

  constructor() {
    for (const [key, label] of COLUMNS) {
      const th = el('th', { text: label, class: key !== null ? 'sortable' : undefined, data: key !== null ? { key } : {} });
      if (key !== null) th.addEventListener('click', () => this.sortBy(key));
      this.head.append(th);
    }
    this.root.append(el('table', { class: 'mapping-table' }, [el('thead', {}, [this.head]), this.body]), this.footer);
  }

  update(mappings: EptMapping[]): void {
    this.all = mappings;
    this.render();
  }

  setFilter(text: string): void {
    this.filter = text;
    this.limit = PAGE_ROWS;
    this.render();
  }

  sortBy(key: Key): void {
    if (this.sortKey === key) this.descending = !this.descending;
    else { this.sortKey = key; this.descending = false; }
    this.render();
  }

  private render(): void {
    for (const th of this.head.children) {
      const k = (th as HTMLElement).dataset.key;
      th.querySelector('.codicon')?.remove();
      if (k === this.sortKey) th.append(icon(this.descending ? 'arrow-down' : 'arrow-up'));
      th.setAttribute('aria-sort', k === this.sortKey ? (this.descending ? 'descending' : 'ascending') : 'none');
    }
    const rows = filterMappings(this.all, this.filter).sort(ORDER[this.sortKey]);
    if (this.descending) rows.reverse();
    const shown = rows.slice(0, this.limit);
    const frag = document.createDocumentFragment();
    for (const m of shown) {
      frag.append(el('tr', { class: `mapping perm-row-${m.permissions.replace(/-/g, '_')}`, data: { gpa: m.gpaStart } }, [
        el('td', { class: 'mono', text: `${m.gpaStart} – ${m.gpaEnd}` }),
        el('td', { class: 'mono', text: `${m.hpaStart} – ${m.hpaEnd}` }),
        el('td', { text: sizeName(m.size) }),
        el('td', { text: sizeName(m.pageSize) }),
        el('td', { class: 'mono perms', text: m.permissions.split('').join(' ') }),
        el('td', { text: `${m.memoryType}${m.ignorePat ? ' (IPAT)' : ''}` }),
        el('td', { text: m.accessed ? 'A' : '' }),
        el('td', { text: m.dirty ? 'D' : '' }),
      ]));
    }
    this.body.replaceChildren(frag);
    const more = rows.length - shown.length;
    this.footer.replaceChildren(el('span', { text: `${rows.length} of ${this.all.length} mapping${this.all.length === 1 ? '' : 's'}` }));
    if (more > 0) {
      const b = el('vscode-button', { attrs: { secondary: '' }, text: `Show ${Math.min(more, PAGE_ROWS)} more` });
      b.addEventListener('click', () => { this.limit += PAGE_ROWS; this.render(); });
      this.footer.append(b);
    }
  }
}
