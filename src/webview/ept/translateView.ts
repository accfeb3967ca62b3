/**
 * The translate box: a guest-physical address through the EPT, or a guest-linear one through the
 * guest's paging and then the EPT (vtx/translate via the host). Each step of the walk is a row
 * (level, entry address, raw entry, flags); the result is the host-physical address or the
 * fault/violation the access would cause.
 */
import type { EptTranslation, LinearTranslation, TranslateReport, TranslateResultMessage } from '../protocol';
import { post } from '../shared/host';
import { el, icon } from '../shared/dom';
import { parseAddress, sizeName } from '../shared/format';

let nextId = 1;

const flag = (on: boolean, letter: string): string => (on ? letter : '-');

function eptRows(t: EptTranslation): HTMLElement[] {
  return t.steps.map((s) => el('tr', { class: `step ept-step${s.leaf ? ' leaf' : ''}`, data: { level: String(s.level) } }, [
    el('td', { text: s.name }),
    el('td', { class: 'mono', text: s.entryAddress }),
    el('td', { class: 'mono', text: s.raw }),
    el('td', { class: 'mono', text: `${flag(s.read, 'R')}${flag(s.write, 'W')}${flag(s.execute, 'X')}${s.accessed ? ' A' : ''}${s.dirty === true ? ' D' : ''}` }),
    el('td', { class: 'mono', text: s.leaf ? `${s.memoryType ?? ''} ${s.pageSize !== undefined ? sizeName(s.pageSize) : ''} page ${s.next}` : `table ${s.next}` }),
  ]));
}

function linearRows(t: LinearTranslation): HTMLElement[] {
  return t.steps.map((s) => el('tr', { class: `step paging-step${s.pageSize ? ' leaf' : ''}`, data: { level: String(s.level) } }, [
    el('td', { text: s.name }),
    el('td', { class: 'mono', text: `${s.entryAddress}${s.entryHostAddress !== undefined && s.entryHostAddress !== s.entryAddress ? ` (host ${s.entryHostAddress})` : ''}` }),
    el('td', { class: 'mono', text: s.raw }),
    el('td', { class: 'mono', text: [s.present ? 'P' : '-', s.writable ? 'W' : 'R', s.user ? 'U' : 'S', s.accessed ? 'A' : '', s.dirty ? 'D' : '', s.pageSize ? 'PS' : '', s.executeDisable ? 'XD' : ''].filter((x) => x !== '').join(' ') }),
    el('td', {}),
  ]));
}

function stepTable(title: string, rows: HTMLElement[]): HTMLElement {
  return el('div', { class: 'walk' }, [
    el('div', { class: 'walk-title', text: title }),
    el('table', { class: 'steps' }, [
      el('thead', {}, [el('tr', {}, ['Entry', 'At', 'Raw', 'Flags', 'Points to'].map((t) => el('th', { text: t })))]),
      el('tbody', {}, rows),
    ]),
  ]);
}

export function renderTranslation(r: TranslateReport): HTMLElement {
  const out = el('div', { class: 'translation' });
  if (r.linear !== undefined) {
    const l = r.linear;
    out.append(stepTable(`Guest paging (${l.mode}) of linear ${l.linear}`, linearRows(l)));
    if (!l.paging) out.append(el('p', { class: 'empty', text: 'Paging is off: guest-linear = guest-physical.' }));
    if (l.gpa !== undefined) out.append(el('div', { class: 'walk-arrow mono', text: `→ guest-physical ${l.gpa}` }));
    if (l.ept !== undefined) out.append(stepTable(`EPT walk of ${l.ept.gpa}`, eptRows(l.ept)));
  }
  if (r.physical !== undefined) {
    const p = r.physical;
    if (!p.eptEnabled) out.append(el('p', { class: 'empty', text: 'EPT is off: guest-physical = host-physical.' }));
    else out.append(stepTable(`EPT walk of guest-physical ${p.gpa}`, eptRows(p)));
  }
  const ok = r.fault === undefined && r.result !== undefined;
  out.append(el('div', { class: `result ${ok ? 'ok' : 'fault'}`, attrs: { role: 'status' } }, [
    icon(ok ? 'pass' : 'error'),
    el('span', { class: 'mono', text: ok ? `host-physical ${r.result}` : (r.fault ?? 'no translation') }),
  ]));
  return out;
}

export class TranslateView {
  readonly root = el('div', { class: 'translate' });
  private readonly input = document.createElement('vscode-textfield') as HTMLElement & { value: string; placeholder: string; invalid: boolean };
  private readonly kind = document.createElement('vscode-radio-group');
  private readonly output = el('div', { class: 'translate-output' });
  private pending = 0;

  constructor() {
    this.input.placeholder = 'Address (hex), e.g. 0xfee00030';
    this.input.setAttribute('aria-label', 'address to translate');
    this.input.addEventListener('keydown', (e: KeyboardEvent) => { if (e.key === 'Enter') this.submit(); });
    for (const [v, label] of [['physical', 'guest-physical'], ['linear', 'guest-linear']] as const) {
      const r = el('vscode-radio', { attrs: { name: 'kind', value: v, label } });
      if (v === 'physical') r.setAttribute('checked', '');
      this.kind.append(r);
    }
    const go = el('vscode-button', { attrs: { icon: 'arrow-right' }, text: 'Translate' });
    go.addEventListener('click', () => this.submit());
    this.root.append(el('div', { class: 'toolbar' }, [this.input, this.kind, go]), this.output);
  }

  /** Fill the box and translate (the map and violation marker call this). */
  translate(address: string, kind: 'linear' | 'physical'): void {
    this.input.value = address;
    for (const r of this.kind.querySelectorAll('vscode-radio')) (r as HTMLElement & { checked: boolean }).checked = r.getAttribute('value') === kind;
    this.submit();
  }

  private selectedKind(): 'linear' | 'physical' {
    for (const r of this.kind.querySelectorAll('vscode-radio')) if ((r as HTMLElement & { checked: boolean }).checked) return r.getAttribute('value') === 'linear' ? 'linear' : 'physical';
    return 'physical';
  }

  submit(): void {
    const a = parseAddress(this.input.value);
    this.input.invalid = a === undefined;
    if (a === undefined) {
      this.output.replaceChildren(el('div', { class: 'result fault' }, [icon('error'), el('span', { text: `not an address: ${this.input.value}` })]));
      return;
    }
    this.pending = nextId++;
    this.output.replaceChildren(el('p', { class: 'empty', text: 'translating…' }));
    post({ type: 'translate', id: this.pending, address: `0x${a.toString(16)}`, kind: this.selectedKind() });
  }

  answer(m: TranslateResultMessage): void {
    if (m.id !== this.pending) return;
    if (m.report === undefined) {
      this.output.replaceChildren(el('div', { class: 'result fault' }, [icon('error'), el('span', { text: m.error ?? 'failed' })]));
      return;
    }
    this.output.replaceChildren(renderTranslation(m.report));
  }
}
