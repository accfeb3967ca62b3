/**
 * The exit counts by reason (click one to show only that reason) and the list of recent exits,
 * newest first: sequence number, instructions retired, reason, RIP, the decoded qualification.
 * Clicking a row shows that exit's details.
 */
import type { ExitEntry, ExitsReport } from '../protocol';
import { activatable, el } from '../shared/dom';
import { laneOrder, reasonColors } from './reasonColors';

export const LIST_ROWS = 300;

export class ExitCounts {
  readonly root = el('div', { class: 'counts' });
  onFilter: (name: string | undefined) => void = () => {};
  private active: string | undefined;

  update(r: ExitsReport): void {
    const reasonColorClass = reasonColors(r.counts);
    const order = laneOrder(r.counts);
    const by = new Map(r.counts.map((c) => [c.name, c]));
    const items = order.map((n) => {
      const c = by.get(n)!;
      const b = el('button', { class: `count${this.active === n ? ' active' : ''}`, data: { reason: n }, title: `show only ${n} exits` }, [
        el('span', { class: `swatch ${reasonColorClass(c.reason)}` }), el('span', { class: 'count-name', text: n }),
        el('vscode-badge', { attrs: { variant: 'counter' }, text: String(c.count) }),
      ]);
      b.addEventListener('click', () => {
        this.active = this.active === n ? undefined : n;
        this.onFilter(this.active);
        this.update(r);
      });
      return b;
    });
    this.root.replaceChildren(el('span', { class: 'total', text: `${r.total} exit${r.total === 1 ? '' : 's'} since launch` }), ...items);
  }
}

export class ExitList {
  readonly root = el('div', { class: 'exit-list' });
  onSelect: (e: ExitEntry) => void = () => {};
  private filter: string | undefined;
  private last: ExitsReport | undefined;
  private selectedSeq: number | undefined;

  setFilter(name: string | undefined): void {
    this.filter = name;
    if (this.last !== undefined) this.update(this.last);
  }

  select(seq: number | undefined): void {
    this.selectedSeq = seq;
    for (const tr of this.root.querySelectorAll('tr.exit')) tr.classList.toggle('selected', Number((tr as HTMLElement).dataset.seq) === seq);
  }

  update(r: ExitsReport): void {
    this.last = r;
    const reasonColorClass = reasonColors(r.counts);
    const list = r.exits.filter((e) => this.filter === undefined || e.name === this.filter).reverse().slice(0, LIST_ROWS);
    const body = el('tbody');
    for (const e of list) {
      const tr = el('tr', { class: `exit${e.seq === r.stoppedOn?.seq ? ' stopped' : ''}${e.seq === this.selectedSeq ? ' selected' : ''}${e.entryFailure ? ' failure' : ''}`, data: { seq: String(e.seq) } }, [
        el('td', { class: 'num', text: String(e.seq) }),
        el('td', { class: 'num', text: e.icount.toLocaleString('en-US') }),
        el('td', { class: 'reason' }, [el('span', { class: `swatch ${reasonColorClass(e.reason)}` }), el('span', { text: e.name })]),
        el('td', { class: 'mono', text: e.rip }),
        el('td', { class: 'summary', text: e.summary }),
      ]);
      activatable(tr, () => this.onSelect(e));
      body.append(tr);
    }
    this.root.replaceChildren(el('table', { class: 'exits-table' }, [
      el('thead', {}, [el('tr', {}, ['#', 'Instructions', 'Reason', 'RIP', 'Qualification'].map((t) => el('th', { text: t })))]),
      body,
    ]));
  }
}
