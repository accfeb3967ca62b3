/**
 * The EPT paging structures from the EPTP as a vscode-tree: one item per present entry (index,
 * guest-physical address, raw value, permissions, and for leaves memory type, page size and the
 * host-physical page; leaves merged into runs by the adapter). Children are built only when an
 * item is opened, so a large tree costs nothing until someone looks; the items a person opened
 * open again after the next stop.
 */
import type { EptLeafRun, EptTreeEntry, EptTreeReport, EptTreeTable } from '../protocol';
import { el } from '../shared/dom';
import { sizeName } from '../shared/format';

type TreeItem = HTMLElement & { open: boolean; branch: boolean };

function item(label: string, description: string, data: Record<string, string>): TreeItem {
  const t = document.createElement('vscode-tree-item') as TreeItem;
  t.append(el('span', { class: 'mono', text: label }));
  if (description !== '') t.append(el('span', { attrs: { slot: 'description' }, text: description }));
  for (const [k, v] of Object.entries(data)) t.dataset[k] = v;
  return t;
}

/** Keys (`level:gpa`) of the items open now, kept across updates. */
const openKeys = new Set<string>(['root']);

/** Makes `t` (key `key`) a branch whose children `build` makes when it is first opened. */
function lazy(t: TreeItem, key: string, build: () => HTMLElement[]): void {
  const placeholder = item('…', '', { placeholder: '1' });
  placeholder.slot = 'children';
  t.append(placeholder);
  t.branch = true;
  t.dataset.key = key;
  let built = false;
  const changed = (): void => {
    if (t.open) openKeys.add(key); else openKeys.delete(key);
    if (built || !t.open) return;
    built = true;
    placeholder.remove();
    for (const c of build()) {
      c.slot = 'children';
      t.append(c);
      const k = c.dataset.key;
      if (k !== undefined && openKeys.has(k)) (c as TreeItem).open = true;
    }
  };
  new MutationObserver(changed).observe(t, { attributes: true, attributeFilter: ['open'] });
}

function runItem(r: EptLeafRun): TreeItem {
  const idx = r.count === 1 ? `[${r.firstIndex}]` : `[${r.firstIndex}–${r.firstIndex + r.count - 1}]`;
  return item(`${idx} ${r.gpaStart} – ${r.gpaEnd}`,
    `→ ${r.hpaStart}  ${r.permissions} ${r.memoryType}  ${r.count} × ${sizeName(r.pageSize)}${r.accessed ? ' A' : ''}${r.dirty ? ' D' : ''}`,
    { kind: 'run', gpa: r.gpaStart });
}

function entryItem(e: EptTreeEntry, level: number): TreeItem {
  const t = item(`[${e.index}] ${e.gpa}`,
    `${e.raw}  ${e.permissions}${e.leaf ? `  ${e.memoryType ?? ''} ${e.pageSize !== undefined ? sizeName(e.pageSize) : ''} → ${e.hpa ?? ''}` : ''}${e.accessed ? ' A' : ''}${e.dirty === true ? ' D' : ''}${e.misconfigured !== undefined ? `  misconfigured: ${e.misconfigured}` : ''}`,
    { kind: 'entry', gpa: e.gpa, raw: e.raw });
  if (e.table !== undefined) {
    const table = e.table;
    lazy(t, `${level}:${e.gpa}`, () => tableChildren(table));
  } else if (!e.leaf) {
    t.title = 'not expanded (depth or size limit of the report)';
  }
  return t;
}

function tableChildren(t: EptTreeTable): HTMLElement[] {
  const out: HTMLElement[] = t.entries.map((x) => (x.kind === 'run' ? runItem(x) : entryItem(x, t.level)));
  if (t.truncated === true) out.push(item('…', 'more entries not listed (size limit of the report)', { kind: 'truncated' }));
  return out;
}

export class EptTree {
  readonly root = el('div', { class: 'ept-tree' });

  update(r: EptTreeReport): void {
    const head = el('div', { class: 'tree-head mono', text: `EPTP ${r.eptp}` });
    const parts = el('div', { class: 'eptp-parts' }, r.eptpDecoded.map((p) => el('span', { class: 'tag', text: `${p.name} ${p.value}`, title: p.description ?? '' })));
    if (r.root === undefined) {
      this.root.replaceChildren(head, parts, el('p', { class: 'empty', text: r.eptEnabled ? 'No EPT tables.' : 'EPT is off: guest-physical addresses are host-physical.' }));
      return;
    }
    const tree = document.createElement('vscode-tree');
    tree.setAttribute('indent-guides', 'always');
    const root = r.root;
    const top = item(`${root.name} @ ${root.address}`, `${root.presentCount} present entr${root.presentCount === 1 ? 'y' : 'ies'}`, { kind: 'table' });
    lazy(top, 'root', () => tableChildren(root));
    tree.append(top);
    this.root.replaceChildren(head, parts, tree);
    if (openKeys.has('root')) top.open = true;
  }
}
