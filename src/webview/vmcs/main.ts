/**
 * The VMCS panel (bundled to dist/webview/vmcs.js): a toolbar (filter by name or encoding,
 * unsupported fields on/off, refresh), two views — every field by SDM group, and "compare with
 * the previous exit" — fed by the host's `vmcs` messages (the adapter's vtx/vmcs report).
 */
import '../shared/elements';
import '../styles/base.css';
import '../styles/vmcs.css';
import type { HostMessage, VmcsReport } from '../protocol';
import { connect, loadState, post, saveState } from '../shared/host';
import { el } from '../shared/dom';
import { StatusBar } from '../shared/status';
import { makeTabs } from '../shared/tabs';
import { FieldTable } from './fieldTable';
import { CompareView } from './compareView';
import { editAnswered } from './fieldEditor';

const state = loadState({ filter: '', tab: 'fields', unsupported: false });
const status = new StatusBar();
const table = new FieldTable();
const compare = new CompareView();
const note = el('div', { class: 'note' });
note.hidden = true;

const filter = document.createElement('vscode-textfield') as HTMLElement & { value: string; placeholder: string };
filter.placeholder = 'Filter by name or encoding (GUEST_CR, 0x6800)';
filter.value = state.filter;
filter.classList.add('filter');
filter.setAttribute('aria-label', 'filter fields');
filter.append(el('vscode-icon', { attrs: { slot: 'content-before', name: 'filter' } }));
filter.addEventListener('input', () => {
  state.filter = filter.value;
  saveState(state);
  table.setFilter(filter.value);
  compare.setFilter(filter.value);
});

const unsupported = el('vscode-checkbox', { attrs: { label: 'unsupported fields' } }) as HTMLElement & { checked: boolean };
unsupported.checked = state.unsupported;
unsupported.addEventListener('change', () => {
  state.unsupported = unsupported.checked;
  saveState(state);
  table.setShowUnsupported(unsupported.checked);
});
table.showUnsupported = state.unsupported;

const refresh = el('vscode-toolbar-button', { attrs: { icon: 'refresh', label: 'Refresh', title: 'Ask the debug session again' } });
refresh.addEventListener('click', () => post({ type: 'refresh' }));

const tabs = makeTabs([
  { id: 'fields', label: 'All fields', content: table.root },
  { id: 'compare', label: 'Compare with previous exit', content: compare.root },
], state.tab);
tabs.onSelect((id) => { state.tab = id; saveState(state); });

const empty = el('p', { class: 'empty', text: 'No VMCS data yet.' });
const app = document.getElementById('app')!;
app.append(status.root, el('div', { class: 'toolbar' }, [filter, unsupported, refresh]), status.errorBox, note, empty, tabs.root);
tabs.root.hidden = true;
table.setFilter(state.filter);
compare.setFilter(state.filter);

let last: VmcsReport | undefined;

function show(report: VmcsReport, stop: number): void {
  const stopped = status.state === 'stopped';
  table.update(report, last, stopped);
  compare.update(report, last);
  last = report;
  tabs.setBadge('compare', compare.count > 0 ? String(compare.count) : undefined);
  note.hidden = report.note === undefined;
  note.textContent = report.note ?? '';
  empty.hidden = true;
  tabs.root.hidden = false;
  status.setExtra(`stop ${stop} · ${report.fields.filter((f) => f.supported).length} fields · ${compare.count} changed`);
  status.hideError();
}

connect((m: HostMessage) => {
  switch (m.type) {
    case 'session':
      status.show(m);
      if (m.state === 'none') {
        last = undefined;
        empty.hidden = false;
        empty.textContent = 'No VMCS data: no vtx debug session.';
        tabs.root.hidden = true;
      } else if (last !== undefined) {
        table.update(last, undefined, m.state === 'stopped');
      }
      return;
    case 'vmcs': show(m.report, m.stop); return;
    case 'editResult': editAnswered(m); return;
    case 'error': status.showError(m.request, m.message); return;
    default: return;
  }
});
