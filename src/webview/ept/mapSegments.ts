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
