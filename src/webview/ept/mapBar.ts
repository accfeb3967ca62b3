/**
 * The map bar of the EPT panel: two rows over the guest-physical space from 0 to the top of
 * mapped memory — kind (RAM, MMIO hole, unmapped) and EPT permissions — with an address axis,
 * the last EPT-violation address marked, and a legend. Clicking a segment selects its range
 * (the panel filters the mapping table by it).
 */
import type { EptFlatReport } from '../protocol';
import { el, icon } from '../shared/dom';
import { hex, sizeName } from '../shared/format';
import { compactScale, kindSegments, linearScale, permissionSegments, type MapScale, type Segment } from './mapSegments';

const KIND_LEGEND: Array<[string, string]> = [['ram', 'RAM'], ['mmio', 'MMIO hole'], ['unmapped', 'unmapped']];
const PERM_LEGEND: Array<[string, string]> = [['RWX', 'RWX'], ['RW-', 'RW-'], ['R-X', 'R-X'], ['R--', 'R--'], ['--X', '--X'], ['mixed', 'mixed']];

export class MapBar {
  readonly root = el('div', { class: 'map' });
  onSelect: (start: number, end: number) => void = () => {};
  /** Compact (logarithmic widths between boundaries) or linear. */
  linear = false;
  private last: EptFlatReport | undefined;

  update(r: EptFlatReport): void {
    this.last = r;
    const top = Number(BigInt(r.top));
    const scale = this.linear ? linearScale(top) : compactScale(r);
    const rows = [
      this.row('Memory', kindSegments(r), scale, 'kind'),
      this.row('EPT', permissionSegments(r), scale, 'perm'),
    ];
    const viol = r.lastViolationGpa !== undefined ? Number(BigInt(r.lastViolationGpa)) : undefined;
    const track = el('div', { class: 'map-track' }, rows);
    if (viol !== undefined && top > 0) {
      const marker = el('div', { class: 'map-violation', title: `last EPT violation: ${r.lastViolationGpa}`, data: { gpa: r.lastViolationGpa! } }, [icon('debug-breakpoint-unsupported')]);
      marker.style.left = `${scale.pos(viol) * 100}%`;
      track.append(el('div', { class: 'map-overlay' }, [marker]));
    }
    const axis = el('div', { class: 'map-axis mono' });
    for (const a of scale.ticks) {
      const t = el('span', { text: hex(a) });
      t.style.left = `${scale.pos(a) * 100}%`;
      axis.append(t);
    }
    const toggle = el('vscode-checkbox', { attrs: { label: 'linear scale' } }) as HTMLElement & { checked: boolean };
    toggle.checked = this.linear;
    toggle.addEventListener('change', () => { this.linear = toggle.checked; if (this.last !== undefined) this.update(this.last); });
    const legend = el('div', { class: 'map-legend' }, [
      ...KIND_LEGEND.map(([c, t]) => el('span', { class: 'legend-item' }, [el('span', { class: `swatch kind-${c}` }), el('span', { text: t })])),
      el('span', { class: 'legend-sep' }),
      ...PERM_LEGEND.map(([c, t]) => el('span', { class: 'legend-item' }, [el('span', { class: `swatch perm-${c.replace(/-/g, '_')}` }), el('span', { class: 'mono', text: t })])),
      viol !== undefined ? el('span', { class: 'legend-item violation' }, [icon('debug-breakpoint-unsupported'), el('span', { text: `last EPT violation ${r.lastViolationGpa}` })]) : null,
      el('span', { class: 'legend-fill' }),
      toggle,
    ]);
    this.root.replaceChildren(
      el('div', { class: 'map-title' }, [
        el('span', { text: `Guest-physical space 0 – ${r.top} (${sizeName(top)})${scale.kind === 'compact' ? ' · widths grow with the logarithm of each stretch' : ''}` }),
      ]),
      track, axis, legend,
    );
  }

  private row(label: string, segs: Segment[], scale: MapScale, kind: 'kind' | 'perm'): HTMLElement {
    const bar = el('div', { class: 'map-bar', data: { row: kind } });
    for (const s of segs) {
      const cls = kind === 'kind' ? `kind-${s.cls}` : `perm-${s.cls.replace(/-/g, '_')}`;
      const d = el('div', {
        class: `seg ${cls}`, title: `${hex(s.start)} – ${hex(s.end)} (${sizeName(s.end - s.start)}): ${s.label}`,
        data: { start: hex(s.start), end: hex(s.end), cls: s.cls },
      });
      const x0 = scale.pos(s.start);
      d.style.left = `${x0 * 100}%`;
      d.style.width = `${(scale.pos(s.end) - x0) * 100}%`;
      d.addEventListener('click', () => this.onSelect(s.start, s.end));
      bar.append(d);
    }
    return el('div', { class: 'map-row' }, [el('span', { class: 'map-label', text: label }), bar]);
  }
}
