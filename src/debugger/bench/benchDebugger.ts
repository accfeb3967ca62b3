/**
 * The debugger's figures for `vtx bench` (run as dist/benchDebugger.js, which prints one JSON
 * object): over DAP with the built adapter (dist/adapter.js, a separate process as in VS Code),
 * the median round trip of an instruction step (stepIn request → stopped event) and the time
 * from the launch request to the stopped-on-entry event; in-process, the slowdown of an
 * exit-heavy guest run by the debug engine with 10 exit filters armed that never match.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DebugEngine } from '../engine';
import { DapClient } from './dapClient';

export interface DebuggerBench {
  stepMedianMs: number;
  steps: number;
  launchToEntryMs: number;
  /** The same from spawning the adapter process (what F5 costs in VS Code). */
  spawnToEntryMs: number;
  filterSlowdownPercent: number;
  filterRunMs: number;
  plainRunMs: number;
  exitsPerRun: number;
}

/** A loop of integer work with a CPUID exit every ~50 instructions, then power-off. */
const GUEST = (iterations: number): string => `bits 64
org 0x1000
  mov r12, ${iterations}
outer:
  mov ecx, 16
inner:
  add rax, rcx
  xor rbx, rax
  dec ecx
  jnz inner
  mov eax, 1
  cpuid
  dec r12
  jnz outer
  mov dx, 0x604
  mov ax, 0x2000
  out dx, ax
`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function dapFigures(adapter: string, program: string, steps: number): Promise<{ stepMedianMs: number; launchToEntryMs: number; spawnToEntryMs: number }> {
  const spawned = performance.now();
  const dc = new DapClient(adapter);
  try {
    await dc.request('initialize', { adapterID: 'vtx', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const t0 = performance.now();
    await dc.request('launch', { program, stopOnEntry: true });
    await dc.event('initialized');
    await dc.request('configurationDone');
    await dc.event('stopped');
    const launchToEntryMs = performance.now() - t0;
    const spawnToEntryMs = performance.now() - spawned;
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const s = performance.now();
      const stopped = dc.event('stopped');
      await dc.request('stepIn', { threadId: 1, granularity: 'instruction' });
      await stopped;
      times.push(performance.now() - s);
    }
    return { stepMedianMs: median(times), launchToEntryMs, spawnToEntryMs };
  } finally {
    dc.close();
  }
}

/** Run the guest to its end under the engine; returns the wall time in ms and the exits taken. */
function engineRun(program: string, filters: number): Promise<{ ms: number; exits: number }> {
  return new Promise((resolve, reject) => {
    let t0 = 0;
    const e = DebugEngine.launch({ program }, {
      stopped: (s) => reject(new Error(`the benchmark guest stopped: ${s.description}`)),
      continued: () => undefined,
      output: () => undefined,
      ended: (x) => {
        if (x.reason !== 'SystemDown') reject(new Error(`the benchmark guest ended with ${x.description}`));
        else resolve({ ms: performance.now() - t0, exits: Object.values(e.exitCounts()).reduce((a, b) => a + b, 0) });
      },
    });
    const armed = [
      { filter: 'cpuid', condition: 'leaf == 0x99' }, { filter: 'cpuid', condition: 'subleaf == 7 && rbx == 1' },
      { filter: 'io_instruction', condition: 'port == 0x80' }, { filter: 'msr_read', condition: 'msr == 0x10' },
      { filter: 'msr_write' }, { filter: 'cr_access', condition: 'cr == 3' }, { filter: 'ept_violation', condition: 'gpa >= 0xfee00000' },
      { filter: 'hlt' }, { filter: 'vmcall', condition: 'nr == 5' }, { filter: 'exception_nmi', condition: 'vector == 14' },
    ].slice(0, filters);
    e.setExitFilters(armed);
    t0 = performance.now();
    e.start();
  });
}

export async function benchDebugger(adapter: string, minSeconds = 1): Promise<DebuggerBench> {
  const dir = mkdtempSync(join(tmpdir(), 'vtx-bench-dbg-'));
  try {
    const loop = join(dir, 'loop.asm');
    writeFileSync(loop, 'bits 64\norg 0x1000\nl:\n  inc rax\n  jmp l\n');
    const work = join(dir, 'work.asm');
    writeFileSync(work, GUEST(20_000));
    const steps = Math.max(100, Math.min(1000, Math.round(minSeconds * 300)));
    await dapFigures(adapter, loop, 20); // warm-up (the first process start pays for loading)
    const dap = await dapFigures(adapter, loop, steps);
    // Alternate plain and filtered runs; medians of each.
    await engineRun(work, 0);
    await engineRun(work, 10);
    const plain: number[] = [];
    const filtered: number[] = [];
    let exits = 0;
    const until = performance.now() + minSeconds * 1000;
    do {
      plain.push((await engineRun(work, 0)).ms);
      const f = await engineRun(work, 10);
      filtered.push(f.ms);
      exits = f.exits;
    } while (performance.now() < until || plain.length < 3);
    const p = median(plain);
    const f = median(filtered);
    const r2 = (x: number): number => Math.round(x * 100) / 100;
    return {
      stepMedianMs: r2(dap.stepMedianMs), steps, launchToEntryMs: r2(dap.launchToEntryMs), spawnToEntryMs: r2(dap.spawnToEntryMs),
      filterSlowdownPercent: r2(((f - p) / p) * 100), filterRunMs: r2(f), plainRunMs: r2(p), exitsPerRun: exits,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true }); // the guests' sources: nothing stays in TMPDIR
  }
}
