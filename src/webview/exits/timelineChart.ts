/**
 * The timeline: recent exits over guest time (instructions retired) in SVG, one lane per exit
 * reason, one mark per exit; the exit the guest is stopped on is ringed. Clicking a mark
 * selects that exit. Built with createElementNS and attributes only (no markup strings).
 */
import type { ExitEntry, ExitsReport } from '../protocol';
import { el } from '../shared/dom';
import { laneOrder, reasonColors } from './reasonColors';

const SVG = 'http://www.w3.org/2000/svg';
const svg = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
};

const LANE = 20;
const LEFT = 150;
const RIGHT = 16;
const AXIS = 22;

export class TimelineChart {
  readonly root = el('div', { class: 'timeline' });
  onSelect: (e: ExitEntry) => void = () => {};
  private selectedSeq: number | undefined;
  private last: ExitsReport | undefined;
  private drawnWidth = 0;

  constructor() {
    // Redraw at the new width when the panel is resized.
    new ResizeObserver(() => {
      if (this.last !== undefined && Math.abs(this.root.clientWidth - this.drawnWidth) > 16) this.update(this.last);
    }).observe(this.root);
  }

  select(seq: number | undefined): void {
    this.selectedSeq = seq;
    for (const m of this.root.querySelectorAll('.mark')) m.classList.toggle('selected', Number((m as SVGElement).dataset.seq) === seq);
  }

  update(r: ExitsReport): void {
    const reasonColorClass = reasonColors(r.counts);
    const lanes = laneOrder(r.counts).filter((n) => r.exits.some((e) => e.name === n));
    if (r.exits.length === 0) {
      this.root.replaceChildren(el('p', { class: 'empty', text: 'No VM exits yet.' }));
      return;
    }
    const width = Math.max(400, this.root.clientWidth || 800);
    this.drawnWidth = this.root.clientWidth;
    const height = lanes.length * LANE + AXIS + 8;
    const min = r.exits[0].icount;
    const max = Math.max(r.exits[r.exits.length - 1].icount, min + 1);
    const x = (ic: number): number => LEFT + ((ic - min) / (max - min)) * (width - LEFT - RIGHT);
    const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${r.exits.length} exits over guest instructions ${min}–${max}` });
    const laneY = new Map(lanes.map((n, i) => [n, i * LANE + 4]));
    for (const [n, y] of laneY) {
      root.append(svg('rect', { class: 'lane', x: LEFT, y, width: width - LEFT - RIGHT, height: LANE - 4 }));
      const label = svg('text', { class: 'lane-label', x: LEFT - 8, y: y + LANE / 2 + 2, 'text-anchor': 'end' });
      label.textContent = n;
      root.append(label);
    }
    const axisY = lanes.length * LANE + 6;
    root.append(svg('line', { class: 'axis', x1: LEFT, x2: width - RIGHT, y1: axisY, y2: axisY }));
    for (let i = 0; i <= 4; i++) {
      const ic = Math.round(min + ((max - min) * i) / 4);
      const t = svg('text', { class: 'axis-label', x: x(ic), y: axisY + 14, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' });
      t.textContent = ic.toLocaleString('en-US');
      root.append(t);
    }
    const title = svg('text', { class: 'axis-label', x: 4, y: axisY + 14 });
    title.textContent = 'instructions';
    root.append(title);
    const stopped = r.stoppedOn?.seq;
    for (const e of r.exits) {
      const y = laneY.get(e.name);
      if (y === undefined) continue;
      const m = svg('rect', {
        class: `mark ${reasonColorClass(e.reason)}${e.seq === stopped ? ' stopped' : ''}${e.seq === this.selectedSeq ? ' selected' : ''}`,
        x: x(e.icount) - 1.5, y: y + 2, width: 3, height: LANE - 8, 'data-seq': e.seq,
      });
      const tip = svg('title', {});
      tip.textContent = `#${e.seq} at ${e.icount}: ${e.summary} (RIP ${e.rip})`;
      m.append(tip);
      m.addEventListener('click', () => this.onSelect(e));
      root.append(m);
      if (e.seq === stopped) root.append(svg('circle', { class: 'stopped-ring', cx: x(e.icount), cy: y + LANE / 2 - 2, r: 7 }));
    }
    this.root.replaceChildren(root);
  }
}
