/**
 * The debugger's part of `vtx bench`: runs dist/benchDebugger.js (src/debugger/bench) in a child
 * process — it drives the built debug adapter over DAP, which is asynchronous — and reads its JSON.
 * Targets (issue 6): instruction-step round trip ≤ 2 ms, launch → stopped on entry ≤ 300 ms,
 * 10 exit filters armed and none matching ≤ 10% slower.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DebuggerBench } from '../debugger/bench/benchDebugger';

export function runDebuggerBench(minSeconds: number): DebuggerBench | { skipped: string } {
  const script = join(__dirname, 'benchDebugger.js');
  if (!existsSync(script) || !existsSync(join(__dirname, 'adapter.js'))) return { skipped: 'dist/benchDebugger.js and dist/adapter.js are not built (npm run build)' };
  const out = execFileSync(process.execPath, [script, String(Math.max(0.2, minSeconds / 3))], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as DebuggerBench;
}

export function debuggerLine(d: DebuggerBench | { skipped: string }): string {
  if ('skipped' in d) return `  debugger: skipped (${d.skipped})`;
  return `  debugger: instruction step over DAP ${d.stepMedianMs} ms median (target ≤ 2 ms, ${d.steps} steps); ` +
    `launch → stopped on entry ${d.launchToEntryMs} ms (target ≤ 300 ms; ${d.spawnToEntryMs} ms from starting the adapter process); 10 exit filters armed, none matching: ` +
    `${d.filterSlowdownPercent}% slower (target ≤ 10%; ${d.plainRunMs} → ${d.filterRunMs} ms, ${d.exitsPerRun} exits per run)`;
}
