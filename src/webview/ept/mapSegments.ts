/**
 * The guest-physical map as bar segments (pure: no DOM), from 0 to the top of mapped memory:
 * the kind row from the report's regions (RAM, MMIO hole, unmapped) and the EPT row from its
 * merged mappings coloured by permission. Touching segments of one class merge; when there are
 * more than `maxSegments` (a 4 GiB map of alternating 4 KiB permissions), segments narrower than
 * one bucket become "mixed" so the bar stays a few thousand elements.
 */
import type { EptFlatReport } from '../protocol';

export interface Segment {
  start: number;
  end: number;
  /** CSS class suffix: 'ram' | 'mmio' | 'unmapped' for kinds, 'RWX' | 'R-X' | ... | 'mixed' for permissions. */
  cls: string;
  label: string;
}

const num = (h: string): number => Number(BigInt(h));

export function mergeSegments(segs: Segment[], top: number, maxSegments: number): Segment[] {
  const merged: Segment[] = [];
  for (const s of segs) {
    const p = merged[merged.length - 1];
    if (p !== undefined && p.end === s.start && p.cls === s.cls) p.end = s.end;
    else merged.push({ ...s });
  }
  if (merged.length <= maxSegments || top <= 0) return merged;
  const bucket = top / maxSegments;
  const out: Segment[] = [];
  for (const s of merged) {
    const p = out[out.length - 1];
    const narrow = s.end - s.start < bucket;
    if (p !== undefined && narrow && Math.floor(s.start / bucket) <= Math.floor((p.end - 1) / bucket) && p.end >= s.start) {
      if (p.cls !== s.cls) { p.cls = 'mixed'; p.label = 'mixed permissions'; }
      p.end = Math.max(p.end, s.end);
    } else {
      out.push({ ...s });
    }
  }
  return out;
}

export function kindSegments(r: EptFlatReport): Segment[] {
  return r.regions.map((g) => ({
    start: num(g.start), end: num(g.end), cls: g.kind,
    label: `${g.name ?? g.kind}${g.kind === 'unmapped' ? '' : g.mapped ? ', mapped by the EPT' : ', not mapped by the EPT'}`,
  }));
}

export function permissionSegments(r: EptFlatReport, maxSegments = 2000): Segment[] {
  const top = num(r.top);
  const segs = r.mappings.map((m) => ({
    start: num(m.gpaStart), end: num(m.gpaEnd), cls: m.permissions, label: `${m.permissions} ${m.memoryType}`,
  }));
  return mergeSegments(segs, top, maxSegments);
}

/** Where an address falls on the bar, 0..1. */
export interface MapScale {
  kind: 'linear' | 'compact';
  pos(addr: number): number;
  /** Addresses worth a label on the axis. */
  ticks: number[];
}

export function linearScale(top: number): MapScale {
  return { kind: 'linear', pos: (a) => (top > 0 ? Math.min(1, a / top) : 0), ticks: [0, 1, 2, 3, 4].map((i) => Math.round((top * i) / 4)) };
}

/**
 * A scale where every stretch between two region or mapping boundaries gets a width growing
 * with the logarithm of its size (a 4 KiB MMIO page stays visible next to 4 GiB of RAM), linear
 * within the stretch. Falls back to linear with more than `maxBoundaries` boundaries.
 */
export function compactScale(r: EptFlatReport, maxBoundaries = 4000): MapScale {
  const top = num(r.top);
  const set = new Set<number>([0, top]);
  for (const g of r.regions) { set.add(num(g.start)); set.add(num(g.end)); }
  if (r.mappings.length * 2 + set.size <= maxBoundaries) for (const m of r.mappings) { set.add(num(m.gpaStart)); set.add(num(m.gpaEnd)); }
  if (set.size > maxBoundaries || top <= 0) return linearScale(top);
  const b = [...set].filter((x) => x >= 0 && x <= top).sort((x, y) => x - y);
  const cum = [0];
  for (let i = 0; i + 1 < b.length; i++) cum.push(cum[i] + 1 + Math.log2(Math.max(1, (b[i + 1] - b[i]) / 4096)));
  const total = cum[cum.length - 1];
  const pos = (a: number): number => {
    if (a <= 0) return 0;
    if (a >= top) return 1;
    let lo = 0;
    let hi = b.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (b[mid] <= a) lo = mid; else hi = mid;
    }
    return (cum[lo] + ((a - b[lo]) / (b[lo + 1] - b[lo])) * (cum[lo + 1] - cum[lo])) / total;
  };
  const ticks: number[] = [];
  for (const g of [0, ...r.regions.map((x) => num(x.end))]) {
    if (ticks.length > 0 && pos(g) - pos(ticks[ticks.length - 1]) <= 0.08) {
      if (g !== top) continue;
      if (ticks.length > 1) ticks.pop();
    }
    ticks.push(g);
  }
  return { kind: 'compact', pos, ticks };
}
