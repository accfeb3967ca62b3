/** One exit in full: reason, where and when, the summary, and every decoded value. */
import type { ExitEntry } from '../protocol';
import { el, icon } from '../shared/dom';
import type { ReasonColors } from './reasonColors';

const REGISTERS = new Set(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rflags', 'rip']);

export function exitDetails(e: ExitEntry, stopped: boolean, reasonColorClass: ReasonColors): HTMLElement {
  const entries = Object.entries(e.fields);
  const decoded = entries.filter(([k]) => !REGISTERS.has(k));
  const regs = entries.filter(([k]) => REGISTERS.has(k));
  const table = (rows: Array<[string, string | boolean]>): HTMLElement => el('table', { class: 'kv' }, [el('tbody', {}, rows.map(([k, v]) => el('tr', { data: { key: k } }, [
    el('td', { class: 'k mono', text: k }), el('td', { class: 'v mono', text: typeof v === 'boolean' ? (v ? 'yes' : 'no') : v }),
  ])))]);
  return el('div', { class: 'exit-details', data: { seq: String(e.seq) } }, [
    el('div', { class: 'details-title' }, [
      el('span', { class: `swatch ${reasonColorClass(e.reason)}` }),
      el('span', { class: 'details-name', text: `#${e.seq} ${e.name} (${e.reason})` }),
      stopped ? el('span', { class: 'tag' }, [icon('debug-pause'), el('span', { text: ' stopped here' })]) : null,
      e.entryFailure ? el('span', { class: 'tag failure', text: 'VM-entry failure' }) : null,
    ]),
    el('div', { class: 'details-summary', text: e.summary }),
    el('div', { class: 'details-where mono', text: `RIP ${e.rip} · after ${e.icount.toLocaleString('en-US')} instructions` }),
    el('div', { class: 'details-columns' }, [
      el('div', {}, [el('div', { class: 'details-sub', text: 'Decoded' }), table(decoded)]),
      el('div', {}, [el('div', { class: 'details-sub', text: 'Guest registers at the exit' }), table(regs)]),
    ]),
  ]);
}
