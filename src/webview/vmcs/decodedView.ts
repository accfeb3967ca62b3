/**
 * A field's decoded parts as a small table: bit(s), name, value (on/off for one-bit parts),
 * what the capability MSRs allow for control bits (SDM vol. 3C appendix A: allowed-0 / allowed-1)
 * and the description. A control bit set against what the capability MSRs allow is flagged.
 */
import type { DecodedPart } from '../protocol';
import { el, icon } from '../shared/dom';

/** "0 or 1", "must be 1", "must be 0" from allowed-0/allowed-1. */
export function allowedText(p: DecodedPart): string | undefined {
  if (p.allowed0 === undefined && p.allowed1 === undefined) return undefined;
  if (p.allowed0 === true && p.allowed1 === true) return '0 or 1';
  if (p.allowed1 === true) return 'must be 1';
  if (p.allowed0 === true) return 'must be 0';
  return 'neither';
}

/** The part's setting breaks what the capability MSRs allow. */
export function disallowed(p: DecodedPart): boolean {
  if (p.on === undefined || (p.allowed0 === undefined && p.allowed1 === undefined)) return false;
  return p.on ? p.allowed1 === false : p.allowed0 === false;
}

export function decodedTable(parts: readonly DecodedPart[], previous?: readonly DecodedPart[]): HTMLElement {
  const prevBy = new Map((previous ?? []).map((p) => [p.name, p]));
  const hasCaps = parts.some((p) => p.allowed0 !== undefined);
  const head = el('tr', {}, [
    el('th', { text: 'Bits' }), el('th', { text: 'Name' }), el('th', { text: 'Value' }),
    hasCaps ? el('th', { text: 'Allowed' }) : null, el('th', { text: 'Description' }),
  ]);
  const body = el('tbody');
  for (const p of parts) {
    const prev = prevBy.get(p.name);
    const changed = prev !== undefined && prev.value !== p.value;
    const value = el('td', { class: 'part-value' });
    if (p.on !== undefined) {
      value.append(icon(p.on ? 'pass-filled' : 'circle-large-outline'), el('span', { text: p.on ? ' on' : ' off' }));
      value.classList.add(p.on ? 'on' : 'off');
    } else {
      value.append(el('span', { text: p.value }));
    }
    const allowed = allowedText(p);
    const bad = disallowed(p);
    const capCell = hasCaps ? el('td', { class: 'part-allowed', text: allowed ?? '' }) : null;
    if (bad && capCell !== null) capCell.prepend(icon('warning', 'the capability MSRs do not allow this setting'));
    const desc = el('td', { class: 'part-desc', text: p.description ?? '' });
    if (p.modelled === false) desc.prepend(el('span', { class: 'tag', text: 'not modelled' }));
    const tr = el('tr', { class: `part${changed ? ' changed' : ''}${bad ? ' bad' : ''}${p.on === true ? ' is-on' : ''}`, data: { part: p.name } }, [
      el('td', { class: 'part-bits mono', text: p.bits }), el('td', { class: 'part-name mono', text: p.name }), value, capCell, desc,
    ]);
    if (changed) tr.title = `was ${prev.value}`;
    body.append(tr);
  }
  return el('table', { class: 'decoded' }, [el('thead', {}, [head]), body]);
}
