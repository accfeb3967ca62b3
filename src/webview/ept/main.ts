/**
 * The EPT panel (bundled to dist/webview/ept.js): the EPTP and the last EPT violation, the map
 * of the guest-physical space, and three views — merged mappings (sortable, filterable), the
 * tree from the EPTP (fetched only while that view has been opened), and the translate box.
 */
import '../shared/elements';
import '../styles/base.css';
import '../styles/ept.css';
import type { EptFlatReport, HostMessage } from '../protocol';
import { connect, loadState, post, saveState } from '../shared/host';
import { el } from '../shared/dom';
import { hex } from '../shared/format';
import { StatusBar } from '../shared/status';
import { makeTabs } from '../shared/tabs';
import { MapBar } from './mapBar';
import { MappingTable } from './mappingTable';
import { EptTree } from './eptTree';
import { TranslateView } from './translateView';

const state = loadState({ tab: 'mappings', filter: '' });
const status = new StatusBar();
const header = el('div', { class: 'ept-header' });
const map = new MapBar();
const table = new MappingTable();
const tree = new EptTree();
const translate = new TranslateView();

const filter = document.createElement('vscode-textfield') as HTMLElement & { value: string; placeholder: string };
filter.placeholder = 'Filter: an address, a range (0x1000-0x2000), RWX, WB…';
filter.value = state.filter;
filter.classList.add('filter');
filter.setAttribute('aria-label', 'filter mappings');
filter.addEventListener('input', () => { state.filter = filter.value; saveState(state); table.setFilter(filter.value); });
table.setFilter(state.filter);

map.onSelect = (start, end) => {
  filter.value = `${hex(start)}-${hex(end)}`;
  table.setFilter(filter.value);
  tabs.select('mappings');
};

const refresh = el('vscode-toolbar-button', { attrs: { icon: 'refresh', label: 'Refresh', title: 'Ask the debug session again' } });
refresh.addEventListener('click', () => post({ type: 'refresh' }));

const tabs = makeTabs([
  { id: 'mappings', label: 'Mappings', content: el('div', {}, [el('div', { class: 'toolbar' }, [filter]), table.root]) },
  { id: 'tree', label: 'Tree from EPTP', content: tree.root },
  { id: 'translate', label: 'Translate', content: translate.root },
], state.tab);
tree.root.append(el('p', { class: 'empty', text: 'Loading the EPT tree…' }));
let treeWanted = false;
const wantTree = (id: string): void => {
  if (id === 'tree' && !treeWanted) { treeWanted = true; post({ type: 'wantTree', want: true }); }
};
tabs.onSelect((id) => { state.tab = id; saveState(state); wantTree(id); });

const content = el('div', { class: 'ept-content' }, [header, map.root, tabs.root]);
content.hidden = true;
const empty = el('p', { class: 'empty', text: 'No EPT data yet.' });
document.getElementById('app')!.append(status.root, el('div', { class: 'toolbar right' }, [refresh]), status.errorBox, empty, content);

function showHeader(r: EptFlatReport): void {
  header.replaceChildren(
    el('span', { class: `tag ${r.eptEnabled ? 'on' : 'off'}`, text: r.eptEnabled ? 'EPT on' : 'EPT off' }),
    el('span', { class: 'mono', text: `EPTP ${r.eptp}` }),
    el('span', { text: `${r.mappings.length} mapping${r.mappings.length === 1 ? '' : 's'}` }),
  );
  if (r.lastViolationGpa !== undefined) header.append(el('a', { class: 'violation-link mono', text: `last EPT violation ${r.lastViolationGpa}`, attrs: { href: '#', role: 'button' } }));
  header.querySelector('.violation-link')?.addEventListener('click', (e) => {
    e.preventDefault();
    tabs.select('translate');
    translate.translate(r.lastViolationGpa!, 'physical');
  });
}

connect((m: HostMessage) => {
  switch (m.type) {
    case 'session':
      status.show(m);
      if (m.state === 'none') { content.hidden = true; empty.hidden = false; empty.textContent = 'No EPT data: no vtx debug session.'; }
      return;
    case 'ept':
      showHeader(m.flat);
      map.update(m.flat);
      table.update(m.flat.mappings);
      if (m.tree !== undefined) tree.update(m.tree);
      content.hidden = false;
      empty.hidden = true;
      status.setExtra(`stop ${m.stop} · top ${m.flat.top}`);
      status.hideError();
      return;
    case 'translateResult': translate.answer(m); return;
    case 'error': status.showError(m.request, m.message); return;
    default: return;
  }
});
wantTree(tabs.selected());
