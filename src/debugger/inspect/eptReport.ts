/**
 * vtx/ept: the EPT paging structures from the EPTP (SDM vol. 3C §28.2.2, entry layout tables
 * 28-1..28-6) as a tree — bounded: non-leaf entries are expanded down to `depth` levels and
 * while the entry budget lasts, leaves are merged into runs — or flattened into merged
 * mappings (guest-physical range → host-physical range, page size, permissions, memory type,
 * accessed/dirty) beside the guest-physical memory map (RAM, the VMM's MMIO holes, unmapped)
 * and the last EPT-violation address. Reads the tables; changes nothing.
 */
import type { Ctx } from './context';
import { eptEnabled, EPT_LEVEL_NAMES } from './eptProbe';
import { EPT_MEMORY_TYPES, EPTP_BITS, fieldValue } from './bitTables';
import { hex } from './format';
import type { EptFlatReport, EptLeafRun, EptMapping, EptTreeEntry, EptTreeReport, EptTreeTable, MemoryRegion } from './reports';

const PAGE = [0, 4096, 2 ** 21, 2 ** 30, 2 ** 39, 2 ** 48];
const ADDR = 0x000ffffffffff000n;

function entry(ctx: Ctx, at: number): bigint {
  const mem = ctx.g.m.machine.mem;
  const p = mem.page(Math.floor(at / 4096));
  if (p === null) return 0n;
  const o = at % 4096;
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(p[o + i]);
  return v;
}

const perms = (e: bigint): string => `${e & 1n ? 'R' : '-'}${e & 2n ? 'W' : '-'}${e & 4n ? 'X' : '-'}`;
const isLeaf = (level: number, e: bigint): boolean => level === 1 || ((level === 2 || level === 3) && (e & 0x80n) !== 0n);
const memType = (e: bigint): string => EPT_MEMORY_TYPES[Number((e >> 3n) & 7n)];

export function lastViolationGpa(ctx: Ctx): string | undefined {
  const all = [...ctx.t.exits.map((r) => r.exit), ...(ctx.t.stoppedExit !== undefined ? [ctx.t.stoppedExit] : [])];
  for (let i = all.length - 1; i >= 0; i--) if (all[i].reason === 48 && typeof all[i].fields.gpa === 'bigint') return hex(all[i].fields.gpa as bigint);
  return undefined;
}

function rootOf(ctx: Ctx): { eptp: bigint; levels: number; root: number } {
  // Bare VT-x mode before VMPTRLD (or after VMCLEAR of the current VMCS): no EPT to show.
  const eptp = ctx.g.hasVmcs ? ctx.g.field('EPT_POINTER') : 0n;
  return { eptp, levels: Number((eptp >> 3n) & 7n) + 1, root: Number(eptp & ADDR) };
}

export interface TreeOptions {
  /** Levels of tables to expand below the root (default: all). */
  depth?: number;
  /** Entries listed at most, over the whole tree (default 4096). */
  maxEntries?: number;
}

export function eptTree(ctx: Ctx, o: TreeOptions = {}): EptTreeReport {
  const { eptp, levels, root } = rootOf(ctx);
  const rep: EptTreeReport = {
    form: 'tree', eptEnabled: eptEnabled(ctx.g.m), eptp: hex(eptp),
    eptpDecoded: EPTP_BITS.map((b) => ({ name: b.name, bits: b.lo === b.hi ? String(b.lo) : `${b.hi}:${b.lo}`, value: fieldValue(b, eptp), description: b.description })),
    lastViolationGpa: lastViolationGpa(ctx), truncated: false,
  };
  if (!rep.eptEnabled && eptp === 0n) return rep;
  let budget = o.maxEntries ?? 4096;
  const maxDepth = o.depth ?? levels;
  const table = (addr: number, level: number, gpaBase: number, depth: number): EptTreeTable => {
    const t: EptTreeTable = { level, name: EPT_LEVEL_NAMES[level].replace(/E$/, ''), address: hex(addr), gpaBase: hex(gpaBase), presentCount: 0, entries: [] };
    let run: EptLeafRun | null = null;
    let runNextHpa = 0n;
    for (let i = 0; i < 512; i++) {
      const e = entry(ctx, addr + i * 8);
      if ((e & 7n) === 0n) { run = null; continue; }
      t.presentCount++;
      const gpa = gpaBase + i * PAGE[level];
      if (isLeaf(level, e)) {
        const hpa = e & ADDR & ~BigInt(PAGE[level] - 1);
        const same = run !== null && run.permissions === perms(e) && run.memoryType === memType(e) && runNextHpa === hpa && run.firstIndex + run.count === i;
        if (same) {
          run!.count++;
          run!.gpaEnd = hex(gpa + PAGE[level]);
          run!.accessed &&= (e & 0x100n) !== 0n;
          run!.dirty ||= (e & 0x200n) !== 0n;
        } else {
          if (budget-- <= 0) { t.truncated = true; rep.truncated = true; break; }
          run = {
            kind: 'run', firstIndex: i, count: 1, gpaStart: hex(gpa), gpaEnd: hex(gpa + PAGE[level]), hpaStart: hex(hpa), pageSize: PAGE[level],
            permissions: perms(e), memoryType: memType(e), accessed: (e & 0x100n) !== 0n, dirty: (e & 0x200n) !== 0n,
          };
          t.entries.push(run);
        }
        runNextHpa = hpa + BigInt(PAGE[level]);
        continue;
      }
      run = null;
      if (budget-- <= 0) { t.truncated = true; rep.truncated = true; break; }
      const te: EptTreeEntry = { kind: 'entry', index: i, gpa: hex(gpa), raw: `0x${e.toString(16).padStart(16, '0')}`, permissions: perms(e), leaf: false, accessed: (e & 0x100n) !== 0n };
      if (depth < maxDepth && level > 1) te.table = table(Number(e & ADDR), level - 1, gpa, depth + 1);
      else { t.truncated = true; rep.truncated = true; }
      t.entries.push(te);
    }
    return t;
  };
  rep.root = table(root, levels, 0, 1);
  return rep;
}

/** Every leaf mapping, merged into runs (contiguous in both spaces, same attributes). */
export function eptMappings(ctx: Ctx, limit = 1 << 21): EptMapping[] {
  const { levels, root } = rootOf(ctx);
  const out: EptMapping[] = [];
  let visited = 0;
  const walk = (addr: number, level: number, gpaBase: number): void => {
    for (let i = 0; i < 512 && visited < limit; i++) {
      const e = entry(ctx, addr + i * 8);
      if ((e & 7n) === 0n) continue;
      visited++;
      const gpa = gpaBase + i * PAGE[level];
      if (!isLeaf(level, e)) {
        if (level > 1) walk(Number(e & ADDR), level - 1, gpa);
        continue;
      }
      const size = PAGE[level];
      const hpa = Number(e & ADDR & ~BigInt(size - 1));
      const m: EptMapping = {
        gpaStart: hex(gpa), gpaEnd: hex(gpa + size), hpaStart: hex(hpa), hpaEnd: hex(hpa + size), size, pageSize: size,
        permissions: perms(e), read: (e & 1n) !== 0n, write: (e & 2n) !== 0n, execute: (e & 4n) !== 0n, memoryType: memType(e),
        ignorePat: (e & 0x40n) !== 0n, accessed: (e & 0x100n) !== 0n, dirty: (e & 0x200n) !== 0n,
      };
      const prev = out[out.length - 1];
      if (prev !== undefined && prev.gpaEnd === m.gpaStart && prev.hpaEnd === m.hpaStart && prev.permissions === m.permissions &&
        prev.memoryType === m.memoryType && prev.pageSize === m.pageSize && prev.ignorePat === m.ignorePat && prev.accessed === m.accessed && prev.dirty === m.dirty) {
        prev.gpaEnd = m.gpaEnd;
        prev.hpaEnd = m.hpaEnd;
        prev.size += size;
      } else {
        out.push(m);
      }
    }
  };
  walk(root, levels, 0);
  return out;
}

export function eptFlat(ctx: Ctx): EptFlatReport {
  const vmm = ctx.g.m;
  const { eptp } = rootOf(ctx);
  const enabled = eptEnabled(vmm);
  const mappings = enabled || eptp !== 0n ? eptMappings(ctx) : [];
  const ram = vmm.machine.mem.guestRamSize;
  const holes = [...vmm.mmioHoles].sort((a, b) => a[0] - b[0]);
  const mappedEnd = mappings.reduce((a, m) => Math.max(a, Number(BigInt(m.gpaEnd))), 0);
  const top = Math.max(ram, mappedEnd, ...holes.map(([, e]) => e));
  const overlaps = (s: number, e: number): boolean => mappings.some((m) => Number(BigInt(m.gpaStart)) < e && Number(BigInt(m.gpaEnd)) > s);
  const regions: MemoryRegion[] = [];
  const add = (s: number, e: number, kind: MemoryRegion['kind'], name?: string): void => {
    if (e > s) regions.push({ start: hex(s), end: hex(e), kind, name, mapped: overlaps(s, e) });
  };
  let at = 0;
  for (const [s, e] of holes) {
    if (s >= at) add(at, Math.min(s, ram), 'ram', 'RAM');
    if (s > ram && at < s) add(Math.max(at, ram), s, 'unmapped');
    add(s, e, 'mmio', vmm.machine.mem.mmioAt(s)?.name ?? 'device');
    at = Math.max(at, e);
  }
  if (at < ram) add(at, ram, 'ram', 'RAM');
  if (Math.max(at, ram) < top) add(Math.max(at, ram), top, 'unmapped');
  return { form: 'flat', eptEnabled: enabled, eptp: hex(eptp), mappings, regions, top: hex(top), lastViolationGpa: lastViolationGpa(ctx) };
}
