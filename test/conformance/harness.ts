/**
 * The differential run: generate cases, execute each on the host CPU (hostexec) and on our
 * processor, compare, and summarise per mnemonic. Used by run.ts (command line) and
 * conformance.test.ts (npm test).
 */
import { performance } from 'node:perf_hooks';
import type { Form, FormFilter, Mode } from './forms';
import { LISTED_MNEMONICS, allForms, hostHas, selectForms } from './forms';
import { Generator, makePristine } from './generator';
import type { Case } from './generator';
import { HostRunner } from './host';
import { SEL_CS32, SEL_CS64, SEL_DATA } from './layout';
import { Ours } from './ours';
import { Rng } from './rng';
import { VECTOR_NAMES } from '../../src/x86/exceptions';
import { knownX87 } from './known';
import { compareOutcomes, formatMismatch, hostOutcome, mismatchClass, mismatchKind, ourOutcome } from './compare';

export interface Options {
  /** Total cases, split evenly across the modes. */
  cases: number;
  seed: number;
  modes: Mode[];
  /** Upper-case mnemonic groups (aliases already expanded); empty = all. */
  mnemonics: string[];
  /** Substrings of iced Code names; empty = all. */
  forms: string[];
  /** Run only this case index (per mode). */
  caseIndex?: number;
  strict: boolean;
  batch: number;
  /** How many full mismatch reports to keep. */
  maxDetails: number;
  /** Count the known x87 differences (known.ts) as mismatches instead of listing them apart. */
  countKnown?: boolean;
  /** Called with each full mismatch report as it happens (verbose output). */
  onMismatch?: (report: string) => void;
}

export interface GroupStats {
  cases: number;
  /** Host outcomes: 'ok' (completed) or the exception's short name. */
  outcomes: Map<string, number>;
  mismatches: number;
  byClass: Map<string, number>;
  /** Known x87 differences (known.ts) among its cases. */
  known?: number;
  /** First mismatch report of this mnemonic. */
  example: string | null;
}

export interface Summary {
  seed: number;
  total: number;
  mismatches: number;
  groups: Map<string, GroupStats>;
  /** Listed mnemonics (within the filter) that got no case at all. */
  uncovered: string[];
  /** Of those, the ones whose forms need a CPU feature the host lacks. */
  hostLacks: string[];
  details: string[];
  seconds: number;
  formsPerMode: Map<Mode, number>;
  gsCompat: boolean;
  /** Mismatches grouped by how they differ (see mismatchKind): count and cases per mnemonic. */
  kinds: Map<string, { count: number; groups: Map<string, number>; example: string | null }>;
  /** Known x87 differences (known.ts), not counted as mismatches unless countKnown. */
  known: Map<string, { what: string; count: number; groups: Map<string, number>; example: string }>;
  /** Seconds spent generating cases, running ours, and waiting for the host. */
  timing: { generate: number; ours: number; hostWait: number };
}

/** The forms of one mode in the seed's order: case i uses order[i % length]. */
export function formOrder(forms: Form[], seed: number, mode: Mode): Form[] {
  const rng = new Rng(seed, mode, 0x0f0f);
  const out = forms.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function filterArgs(o: Pick<Options, 'mnemonics' | 'forms' | 'strict'>): string {
  let s = '';
  if (o.mnemonics.length > 0) s += ` --mnemonic ${o.mnemonics.join(',')}`;
  for (const f of o.forms) s += ` --form ${f}`;
  if (o.strict) s += ' --strict';
  return s;
}

export async function runConformance(o: Options): Promise<Summary> {
  const t0 = performance.now();
  const pristine = makePristine(o.seed);
  const host = await HostRunner.start(pristine);
  const hh = host.hello;
  if (hh.cs64 !== SEL_CS64 || hh.cs32 !== SEL_CS32 || hh.ss !== SEL_DATA) {
    await host.close();
    throw new Error(`unexpected host selectors (CS 0x${hh.cs64.toString(16)}, SS 0x${hh.ss.toString(16)}): the harness assumes Linux's 0x33/0x23/0x2b`);
  }
  const gen = new Generator(o.seed, pristine, { gsCompat: host.hello.gsLdt });
  const ours = new Ours(pristine, host.hello.gsLdt);
  const filter: FormFilter = { modes: o.modes, mnemonics: o.mnemonics, forms: o.forms };
  const groups = new Map<string, GroupStats>();
  const kinds = new Map<string, { count: number; groups: Map<string, number>; example: string | null }>();
  const details: string[] = [];
  const known: Summary['known'] = new Map();
  const formsPerMode = new Map<Mode, number>();
  let total = 0, mismatches = 0;
  const replay = { seed: o.seed, filterArgs: filterArgs(o) };
  const timing = { generate: 0, ours: 0, hostWait: 0 };

  const stat = (g: string): GroupStats => {
    let s = groups.get(g);
    if (s === undefined) {
      s = { cases: 0, outcomes: new Map(), mismatches: 0, byClass: new Map(), example: null };
      groups.set(g, s);
    }
    return s;
  };

  try {
    // Work list: (mode, index) pairs.
    const jobs: Array<{ mode: Mode; forms: Form[]; indices: number[] }> = [];
    o.modes.forEach((mode, mi) => {
      const forms = formOrder(selectForms(mode, filter, host.hello), o.seed, mode);
      formsPerMode.set(mode, forms.length);
      if (forms.length === 0) return;
      let indices: number[];
      if (o.caseIndex !== undefined) indices = [o.caseIndex];
      else {
        const n = Math.floor(o.cases / o.modes.length) + (mi < o.cases % o.modes.length ? 1 : 0);
        indices = Array.from({ length: n }, (_, i) => i);
      }
      jobs.push({ mode, forms, indices });
    });

    // Batches of one mode each; generation of the next batch and our run of this one overlap
    // with the host's run.
    const plan: Array<{ job: (typeof jobs)[number]; start: number }> = [];
    for (const j of jobs) for (let s = 0; s < j.indices.length; s += o.batch) plan.push({ job: j, start: s });
    const makeBatch = (k: number): Case[] => {
      const { job, start } = plan[k];
      return job.indices.slice(start, start + o.batch).map((i) => gen.generate(job.forms[i % job.forms.length], i));
    };
    const nBatches = plan.length;
    let cur = nBatches > 0 ? makeBatch(0) : [];
    let pending = nBatches > 0 ? host.run(cur) : null;
    for (let bi = 0; bi < nBatches; bi++) {
      let t = performance.now();
      const next = bi + 1 < nBatches ? makeBatch(bi + 1) : null;
      timing.generate += performance.now() - t;
      t = performance.now();
      const ourResults = cur.map((c) => ours.run(c));
      timing.ours += performance.now() - t;
      t = performance.now();
      const hostResults = await pending!;
      timing.hostWait += performance.now() - t;
      pending = next !== null ? host.run(next) : null;
      for (let i = 0; i < cur.length; i++) {
        const c = cur[i];
        const h = hostOutcome(c, hostResults[i]);
        const u = ourOutcome(ourResults[i]);
        const s = stat(c.group);
        s.cases++;
        total++;
        const oc = h.kind === 'completed' ? 'ok' : h.kind === 'exception' ? (VECTOR_NAMES[h.vector] ?? `#${h.vector}`).split(' ')[0] : h.kind;
        s.outcomes.set(oc, (s.outcomes.get(oc) ?? 0) + 1);
        const d = compareOutcomes(c, h, u, o.strict);
        if (d.length === 0) continue;
        const kn = o.countKnown ? null : knownX87(c, h, u, d);
        if (kn !== null) {
          let ke = known.get(kn.id);
          if (ke === undefined) {
            ke = { what: kn.what, count: 0, groups: new Map(), example: formatMismatch(c, h, u, d, replay) };
            known.set(kn.id, ke);
          }
          ke.count++;
          ke.groups.set(c.group, (ke.groups.get(c.group) ?? 0) + 1);
          s.known = (s.known ?? 0) + 1;
          if (o.onMismatch !== undefined) o.onMismatch(`(known: ${kn.id})\n${formatMismatch(c, h, u, d, replay)}`);
          continue;
        }
        mismatches++;
        s.mismatches++;
        const kind = mismatchKind(h, u, d);
        let ks = kinds.get(kind);
        if (ks === undefined) {
          ks = { count: 0, groups: new Map(), example: null };
          kinds.set(kind, ks);
        }
        ks.count++;
        ks.groups.set(c.group, (ks.groups.get(c.group) ?? 0) + 1);
        const cls = mismatchClass(h, u);
        s.byClass.set(cls, (s.byClass.get(cls) ?? 0) + 1);
        const needReport = s.example === null || ks.example === null || details.length < o.maxDetails || o.onMismatch !== undefined;
        if (needReport) {
          const rep = formatMismatch(c, h, u, d, replay);
          if (s.example === null) s.example = rep;
          if (ks.example === null) ks.example = rep;
          if (details.length < o.maxDetails) details.push(rep);
          o.onMismatch?.(rep);
        }
      }
      cur = next ?? [];
    }
  } finally {
    gen.dispose();
    await host.close();
  }

  // Coverage: every listed mnemonic in the filter must have had cases.
  const wanted = o.mnemonics.length > 0 ? o.mnemonics : LISTED_MNEMONICS.map((m) => m.toUpperCase());
  const uncovered = o.forms.length > 0 || o.caseIndex !== undefined ? [] : wanted.filter((m) => (groups.get(m)?.cases ?? 0) === 0);
  const hostLacks = uncovered.filter((m) => allForms().some((f) => f.group === m) &&
    allForms().filter((f) => f.group === m && o.modes.includes(f.mode)).every((f) => !f.features.every((x) => hostHas(host.hello, x))));
  return {
    seed: o.seed, total, mismatches, groups, kinds, known, uncovered, hostLacks, details,
    seconds: (performance.now() - t0) / 1000, formsPerMode, gsCompat: host.hello.gsLdt,
    timing: { generate: timing.generate / 1000, ours: timing.ours / 1000, hostWait: timing.hostWait / 1000 },
  };
}

/** Per-mnemonic counts as a compact table. */
export function formatCounts(s: Summary): string {
  const names = [...s.groups.keys()].sort();
  const cells = names.map((n) => {
    const g = s.groups.get(n)!;
    return `${n.padEnd(11)}${String(g.cases).padStart(6)}${g.mismatches ? ` ✗${g.mismatches}` : ''}${g.known ? ` ~${g.known}` : ''}`;
  });
  const w = Math.max(...cells.map((c) => c.length), 10) + 2;
  const lines: string[] = [];
  for (let i = 0; i < cells.length; i += 4) lines.push(cells.slice(i, i + 4).map((c) => c.padEnd(w)).join('').trimEnd());
  return lines.join('\n');
}

/**
 * Mismatches grouped by kind (how host and ours differ; one full example each) and by
 * mnemonic (one line each; not-implemented mnemonics together).
 */
export function formatMismatchSummary(s: Summary, examples = true): string {
  const lines: string[] = [];
  if (s.kinds.size > 0) {
    lines.push('mismatches by kind:');
    for (const [k, v] of [...s.kinds.entries()].sort((a, b) => b[1].count - a[1].count)) {
      const gs = [...v.groups.entries()].sort((a, b) => b[1] - a[1]);
      const list = gs.slice(0, 10).map(([n, c]) => `${n}(${c})`).join(' ') + (gs.length > 10 ? ` ... (${gs.length} mnemonics)` : '');
      lines.push(`  ${String(v.count).padStart(6)}  ${k}: ${list}`);
      if (examples && v.example !== null) lines.push(v.example.split('\n').map((l) => `          ${l}`).join('\n'));
    }
  }
  const bad = [...s.groups.entries()].filter(([, g]) => g.mismatches > 0).sort((a, b) => a[0].localeCompare(b[0]));
  const notImpl = bad.filter(([, g]) => (g.byClass.get('not implemented') ?? 0) === g.mismatches);
  const other = bad.filter(([, g]) => (g.byClass.get('not implemented') ?? 0) !== g.mismatches);
  if (notImpl.length > 0) {
    lines.push(`not implemented by the processor model (ours: #UD "instruction not implemented"), ${notImpl.length} mnemonics:`);
    lines.push(`  ${notImpl.map(([n, g]) => `${n}(${g.mismatches})`).join(' ')}`);
  }
  if (other.length > 0) {
    lines.push('by mnemonic:');
    for (const [n, g] of other) {
      const cls = [...g.byClass.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
      lines.push(`  ${n}: ${g.mismatches} of ${g.cases} cases differ (${cls})`);
    }
  }
  return lines.join('\n');
}

/** The known x87 differences met (known.ts): count, mnemonics and one full example each. */
export function formatKnown(s: Summary, examples = true): string {
  if (s.known.size === 0) return '';
  const lines = ['known x87 differences (known.ts; listed, not counted as mismatches; --count-known counts them):'];
  for (const [id, v] of [...s.known.entries()].sort((a, b) => b[1].count - a[1].count)) {
    const gs = [...v.groups.entries()].sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n}(${c})`).join(' ');
    lines.push(`  ${String(v.count).padStart(6)}  ${id}: ${v.what}: ${gs}`);
    if (examples) lines.push(v.example.split('\n').map((l) => `          ${l}`).join('\n'));
  }
  return lines.join('\n');
}

/** Host outcomes per mnemonic: how many cases completed and which exceptions the rest raised. */
export function formatOutcomes(s: Summary): string {
  const lines: string[] = [];
  for (const n of [...s.groups.keys()].sort()) {
    const g = s.groups.get(n)!;
    const parts = [...g.outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${Math.round((100 * v) / g.cases)}%`);
    lines.push(`${n.padEnd(11)} ${String(g.cases).padStart(6)}  ${parts.join(', ')}`);
  }
  return lines.join('\n');
}
