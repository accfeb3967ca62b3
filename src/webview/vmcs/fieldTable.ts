/**
 * Every VMCS field in the SDM's grouping (one collapsible section per group and width, as the
 * report's `groups` list them): name, encoding, width, value in hex, the one-line meaning; a row
 * opens to its decoded parts; changed-since-previous-stop rows are highlighted; writable fields
 * get an edit button while the guest is stopped. Built once, then updated in place on each stop
 * (only the cells whose text changed are touched), so a stop costs little.
 */
import type { VmcsFieldReport, VmcsReport } from '../protocol';
import { activatable, clear, el, icon, setText } from '../shared/dom';
import { decodedTable } from './decodedView';
import { FieldEditor } from './fieldEditor';

interface Row {
  field: VmcsFieldReport;
  tr: HTMLTableRowElement;
  value: HTMLElement;
  valueText: HTMLElement;
  summary: HTMLElement;
  editButton: HTMLElement;
  detail?: HTMLTableRowElement;
  editor?: FieldEditor;
  section: Section;
}

interface Section {
  key: string;
  root: HTMLElement & { open: boolean; description: string };
  body: HTMLTableSectionElement;
  rows: Row[];
}

const WIDTH_LABEL: Record<string, string> = { 16: '16-bit', 32: '32-bit', 64: '64-bit', natural: 'natural-width' };

export class FieldTable {
  readonly root = el('div', { class: 'field-sections' });
  private readonly rows = new Map<string, Row>();
  private sections: Section[] = [];
  private layoutKey = '';
  private filter = '';
  private canEdit = false;
  private previous: Map<string, VmcsFieldReport> = new Map();
  showUnsupported = false;

  /** Apply a new report (the previous one gives the decoded parts the changed fields had). */
  update(report: VmcsReport, previous: VmcsReport | undefined, canEdit: boolean): void {
    this.canEdit = canEdit;
    this.previous = new Map((previous?.fields ?? []).map((f) => [f.name, f]));
    const key = report.groups.map((g) => `${g.group}/${g.width}:${g.fields.join(',')}`).join('|');
    if (key !== this.layoutKey) this.build(report);
    for (const f of report.fields) {
      const row = this.rows.get(f.name);
      if (row !== undefined) this.updateRow(row, f);
    }
    for (const s of this.sections) this.updateSection(s);
    this.applyFilter();
  }

  setFilter(text: string): void {
    this.filter = text.trim().toLowerCase();
    this.applyFilter();
  }

  setShowUnsupported(v: boolean): void {
    this.showUnsupported = v;
    this.applyFilter();
  }

  private build(report: VmcsReport): void {
    this.layoutKey = report.groups.map((g) => `${g.group}/${g.width}:${g.fields.join(',')}`).join('|');
    const open = new Set(this.sections.filter((s) => s.root.open).map((s) => s.key));
    const first = this.sections.length === 0;
    this.rows.clear();
    this.sections = [];
    clear(this.root);
    const byName = new Map(report.fields.map((f) => [f.name, f]));
    for (const g of report.groups) {
      const key = `${g.group}/${g.width}`;
      const coll = document.createElement('vscode-collapsible') as unknown as Section['root'];
      coll.title = `${g.label} — ${WIDTH_LABEL[g.width] ?? g.width}`;
      coll.open = first || open.has(key);
      (coll as unknown as HTMLElement).dataset.group = key;
      const body = el('tbody');
      const table = el('table', { class: 'fields' }, [
        el('thead', {}, [el('tr', {}, [
          el('th', { class: 'c-name', text: 'Field' }), el('th', { class: 'c-enc', text: 'Encoding' }),
          el('th', { class: 'c-value', text: 'Value' }), el('th', { class: 'c-summary', text: 'Meaning' }),
        ])]),
        body,
      ]);
      (coll as unknown as HTMLElement).append(table);
      const section: Section = { key, root: coll, body, rows: [] };
      for (const name of g.fields) {
        const f = byName.get(name);
        if (f === undefined) continue;
        const row = this.makeRow(f, section);
        section.rows.push(row);
        this.rows.set(name, row);
        body.append(row.tr);
      }
      this.sections.push(section);
      this.root.append(coll as unknown as HTMLElement);
    }
  }

  private makeRow(f: VmcsFieldReport, section: Section): Row {
    const toggle = el('span', { class: 'twisty codicon codicon-chevron-right', attrs: { 'aria-hidden': 'true' } });
    const name = el('td', { class: 'c-name mono' }, [toggle, el('span', { text: f.name })]);
    name.title = f.description;
    const valueText = el('span', { class: 'value-text mono' });
    const editButton = el('button', { class: 'icon-button edit-button', title: `Edit ${f.name}`, attrs: { 'aria-label': `edit ${f.name}` } }, [icon('edit')]);
    const value = el('td', { class: 'c-value' }, [valueText, editButton]);
    const summary = el('td', { class: 'c-summary' });
    const tr = el('tr', { class: 'field', data: { field: f.name } }, [
      name, el('td', { class: 'c-enc mono', text: `${f.encoding} · ${f.width === 'natural' ? 'natural' : `${f.width}-bit`}` }), value, summary,
    ]);
    const row: Row = { field: f, tr, value, valueText, summary, editButton, section };
    activatable(name, () => this.toggleDetail(row), `${f.name}: show the decoded value`);
    editButton.addEventListener('click', (e) => { e.stopPropagation(); this.openEditor(row); });
    return row;
  }

  private updateRow(row: Row, f: VmcsFieldReport): void {
    const before = row.field;
    row.field = f;
    setText(row.valueText, f.value);
    setText(row.summary, f.summary ?? '');
    row.summary.title = f.summary ?? '';
    const cls = `field${f.changed ? ' changed' : ''}${f.supported ? '' : ' unsupported'}${f.decoded !== undefined ? ' has-detail' : ''}${f.readOnly ? ' read-only' : ''}`;
    if (row.tr.className !== cls) row.tr.className = cls;
    row.valueText.title = f.changed && f.previous !== undefined ? `was ${f.previous}` : '';
    row.editButton.hidden = !(this.canEdit && f.writable);
    if (row.editor !== undefined && !(this.canEdit && f.writable)) this.closeEditor(row);
    if (row.detail !== undefined && (before !== f)) this.fillDetail(row);
  }

  private updateSection(s: Section): void {
    const changed = s.rows.filter((r) => r.field.changed).length;
    const supported = s.rows.filter((r) => r.field.supported).length;
    const d = `${supported} field${supported === 1 ? '' : 's'}${changed > 0 ? `, ${changed} changed` : ''}`;
    if (s.root.description !== d) s.root.description = d;
    (s.root as unknown as HTMLElement).classList.toggle('has-changes', changed > 0);
  }

  private toggleDetail(row: Row): void {
    if (row.field.decoded === undefined && row.field.description === '') return;
    if (row.detail !== undefined) {
      row.detail.remove();
      row.detail = undefined;
      row.tr.classList.remove('open');
      return;
    }
    row.detail = el('tr', { class: 'detail', data: { detailOf: row.field.name } });
    row.tr.after(row.detail);
    row.tr.classList.add('open');
    this.fillDetail(row);
  }

  private fillDetail(row: Row): void {
    const d = row.detail;
    if (d === undefined) return;
    const f = row.field;
    const cell = el('td', { attrs: { colspan: '4' } }, [el('div', { class: 'field-description', text: f.description })]);
    if (f.changed && f.previous !== undefined) cell.append(el('div', { class: 'field-previous mono', text: `previous stop: ${f.previous}` }));
    if (!f.supported) cell.append(el('div', { class: 'field-note', text: 'not supported by the modelled processor (VMREAD/VMWRITE fail)' }));
    else if (f.readOnly) cell.append(el('div', { class: 'field-note', text: 'read-only (VM-exit information)' }));
    if (f.decoded !== undefined) cell.append(decodedTable(f.decoded, this.previous.get(f.name)?.decoded));
    d.replaceChildren(cell);
  }

  private openEditor(row: Row): void {
    if (row.editor !== undefined) return;
    row.editor = new FieldEditor(row.field.name, row.field.value, () => this.closeEditor(row));
    row.valueText.hidden = true;
    row.editButton.hidden = true;
    row.value.append(row.editor.root);
    row.editor.focus();
  }

  private closeEditor(row: Row): void {
    row.editor?.root.remove();
    row.editor = undefined;
    row.valueText.hidden = false;
    row.editButton.hidden = !(this.canEdit && row.field.writable);
  }

  /** Hide rows that do not match the filter (name or encoding), and sections left empty. */
  private applyFilter(): void {
    const q = this.filter;
    const qEnc = q.startsWith('0x') ? q : `0x${q}`;
    for (const s of this.sections) {
      let shown = 0;
      for (const r of s.rows) {
        const f = r.field;
        const match = q === '' || f.name.toLowerCase().includes(q) || f.encoding.toLowerCase().startsWith(qEnc) || f.encoding.toLowerCase() === q;
        const visible = match && (f.supported || this.showUnsupported || q !== '');
        if (r.tr.hidden === visible) r.tr.hidden = !visible;
        if (r.detail !== undefined) r.detail.hidden = !visible;
        if (visible) shown++;
      }
      const host = s.root as unknown as HTMLElement;
      host.hidden = shown === 0;
      if (q !== '' && shown > 0 && !s.root.open) s.root.open = true;
    }
  }
}
