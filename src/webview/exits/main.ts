/**
 * The exit-timeline panel (bundled to dist/webview/exits.js): counts by reason, a chart of the
 * recent exits over guest time, the list of recent exits and the details of the one clicked
 * (by default the exit the guest is stopped on, else the newest).
 */
import '../shared/elements';
import '../styles/base.css';
import '../styles/exits.css';
import type { ExitEntry, ExitsReport, HostMessage } from '../protocol';
import { connect, post } from '../shared/host';
import { el } from '../shared/dom';
import { StatusBar } from '../shared/status';
import { TimelineChart } from './timelineChart';
import { ExitCounts, ExitList } from './exitList';
import { exitDetails } from './exitDetails';
import { reasonColors } from './reasonColors';

const status = new StatusBar();
const counts = new ExitCounts();
const chart = new TimelineChart();
const list = new ExitList();
const details = el('div', { class: 'details-pane' });
const refresh = el('vscode-toolbar-button', { attrs: { icon: 'refresh', label: 'Refresh', title: 'Ask the debug session again' } });
refresh.addEventListener('click', () => post({ type: 'refresh' }));

let last: ExitsReport | undefined;
let selected: number | undefined;

function select(e: ExitEntry): void {
  selected = e.seq;
  chart.select(e.seq);
  list.select(e.seq);
  details.replaceChildren(exitDetails(e, e.seq === last?.stoppedOn?.seq, reasonColors(last?.counts ?? [])));
}
chart.onSelect = select;
list.onSelect = select;
counts.onFilter = (name) => list.setFilter(name);

const content = el('div', { class: 'exits-content' }, [
  counts.root, chart.root,
  el('div', { class: 'exits-split' }, [list.root, details]),
]);
content.hidden = true;
const empty = el('p', { class: 'empty', text: 'No exit data yet.' });
document.getElementById('app')!.append(status.root, el('div', { class: 'toolbar right' }, [refresh]), status.errorBox, empty, content);

connect((m: HostMessage) => {
  switch (m.type) {
    case 'session':
      status.show(m);
      if (m.state === 'none') { content.hidden = true; empty.hidden = false; empty.textContent = 'No exit data: no vtx debug session.'; }
      return;
    case 'exits': {
      const r = m.report;
      last = r;
      content.hidden = false;
      empty.hidden = true;
      counts.update(r);
      chart.update(r);
      list.update(r);
      const keep = r.exits.find((e) => e.seq === selected);
      const pick = keep ?? r.stoppedOn ?? r.exits[r.exits.length - 1];
      if (pick !== undefined) select(pick);
      else details.replaceChildren();
      status.setExtra(`stop ${m.stop} · ${r.total} exits`);
      status.hideError();
      return;
    }
    case 'error': status.showError(m.request, m.message); return;
    default: return;
  }
});
