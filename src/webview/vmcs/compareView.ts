/**
 * "Compare with the previous exit": only the fields whose value differs from the previous
 * stop, previous → now, with the decoded parts that changed (control bits that flipped, CR
 * bits, the exit reason's parts) named.
 */
import type { DecodedPart, VmcsFieldReport, VmcsReport } from '../protocol';
import { el } from '../shared/dom';

/** The parts of `now` whose value differs from `before` ("HLT_EXITING: off → on"). */
export function changedParts(before: readonly DecodedPart[] | undefined, now: readonly DecodedPart[] | undefined): string[] {
  if (before === undefined || now === undefined) return [];
  const prev = new Map(before.map((p) => [p.name, p]));
  const out: string[] = [];
  const show = (p: DecodedPart): string => (p.on !== undefined ? (p.on ? 'on' : 'off') : p.value);
  for (const p of now) {
    const b = prev.get(p.name);
    if (b !== undefined && b.value !== p.value) out.push(`${p.name}: ${show(b)} → ${show(p)}`);
  }
  return out;
}

export class CompareView {
  readonly root = el('div', { class: 'compare' });
  private filter = '';
  private last: { report: VmcsReport; previous: VmcsReport | undefined } | undefined;

  /** Number of changed fields in the last report. */
  count = 0;

  update(report: VmcsReport, previous: VmcsReport | undefined): void {
    this.last = { report, previous };
    this.render();
  }

  setFilter(text: string): void {
    this.filter = text.trim().toLowerCase();
    if (this.last !== undefined) this.render();
  }

  private render(): void {
    const { report, previous } = this.last!;
    const prevBy = new Map((previous?.fields ?? []).map((f) => [f.name, f]));
    const changed = report.fields.filter((f) => f.changed);
    this.count = changed.length;
    const q = this.filter;
    const shown = changed.filter((f) => q === '' || f.name.toLowerCase().includes(q) || f.encoding.includes(q));
    if (changed.length === 0) {
      this.root.replaceChildren(el('p', { class: 'empty', text: previous === undefined && !report.fields.some((f) => f.previous !== undefined)
        ? 'Nothing to compare yet: changes show here from the second stop on.'
        : 'No VMCS field changed since the previous stop.' }));
      return;
    }
    const body = el('tbody');
    for (const f of shown) body.append(this.row(f, prevBy.get(f.name)));
    this.root.replaceChildren(
      el('p', { class: 'compare-summary', text: `${changed.length} field${changed.length === 1 ? '' : 's'} changed since the previous stop` }),
      el('table', { class: 'fields compare-table' }, [
        el('thead', {}, [el('tr', {}, [
          el('th', { text: 'Field' }), el('th', { text: 'Group' }), el('th', { text: 'Previous' }), el('th', { text: 'Now' }), el('th', { text: 'What changed' }),
        ])]),
        body,
      ]),
    );
  }

  private row(f: VmcsFieldReport, before: VmcsFieldReport | undefined): HTMLElement {
    const parts = before !== undefined && before.value === f.previous ? changedParts(before.decoded, f.decoded) : [];
    const what = el('td', { class: 'c-what' });
    if (parts.length > 0) what.append(el('ul', {}, parts.map((p) => el('li', { class: 'mono', text: p }))));
    else what.append(el('span', { text: f.summary ?? '' }));
    return el('tr', { class: 'field changed', data: { field: f.name } }, [
      el('td', { class: 'c-name mono', text: f.name, title: f.description }),
      el('td', { class: 'c-group', text: f.groupLabel }),
      el('td', { class: 'mono old', text: f.previous ?? '' }),
      el('td', { class: 'mono new', text: f.value }),
      what,
    ]);
  }
}
