/** vtx/exits: recent exits (sequence, instruction count, reason, RIP, summary, decoded values) and counts by reason. */
import { EXIT_REASONS } from '../../vmx/exitReasons';
import type { DecodedExit } from '../../vmx/exitDecode';
import { machineOf, type Ctx } from './context';
import type { ExitEntry, ExitsReport } from './reports';
import { hex } from './format';

export function exitEntry(seq: number, icount: number, e: DecodedExit): ExitEntry {
  const fields: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(e.fields)) fields[k] = typeof v === 'bigint' ? hex(v) : v;
  return { seq, icount, reason: e.reason, name: e.name, rip: hex(e.fields.rip as bigint), summary: e.summary, entryFailure: e.entryFailure, fields };
}

export function exitsReport(ctx: Ctx, limit = 200): ExitsReport {
  const t = ctx.t;
  const recent = t.exits.slice(Math.max(0, t.exits.length - limit));
  const counts = [...t.exitCounts.entries()]
    .map(([name, count]) => ({ name, reason: EXIT_REASONS.find((r) => r.name === name)?.reason ?? -1, count }))
    .sort((a, b) => b.count - a.count || a.reason - b.reason);
  const rep: ExitsReport = {
    total: counts.reduce((a, c) => a + c.count, 0), counts,
    exits: recent.map((r) => exitEntry(r.seq, r.icount, r.exit)),
  };
  if (t.stoppedExit !== undefined) {
    const rec = t.exits.find((r) => r.exit === t.stoppedExit);
    rep.stoppedOn = exitEntry(rec?.seq ?? 0, rec?.icount ?? machineOf(t).cpu.icount, t.stoppedExit);
  }
  return rep;
}
