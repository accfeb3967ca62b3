/**
 * `vtx bench`: guest instructions per second on a CPU-bound 64-bit integer guest (benchGuest.ts);
 * `vtx bench --paging`: the same for a guest whose every memory access misses the TLB and walks
 * 4-level page tables (benchGuest.ts, buildPagingBenchGuest).
 * The default run then measures VM exits per second (benchVmx.ts: a CPUID-loop guest and a
 * TypeScript host that resumes it at once); `vtx bench --vmx` runs only that.
 * Warm up (so V8 has optimised the processor's hot paths), then run the full guest on a fresh
 * processor again and again until at least `--seconds` have passed. Every run must end in HLT
 * with the checksum and instruction count the TypeScript model predicts, or the benchmark fails.
 */
import { Mnemonic } from 'iced-x86';
import { Cpu } from '../x86/cpu';
import { HANDLERS } from '../x86/insn';
import { enterMode } from '../x86/modes';
import { PhysicalMemory } from '../x86/physicalMemory';
import { Gpr } from '../x86/registers';
import { parseArgs, parseNumber, UsageError } from './args';
import {
  BENCH_ARRAY_AT, BENCH_CODE_AT, BENCH_MEMORY, BENCH_STACK, BenchGuest, buildBenchGuest, buildPagingBenchGuest,
  DEFAULT_PAGING_PASSES, DEFAULT_PASSES, PAGING_MEMORY, PAGING_STACK, PAGING_TABLES_AT, PagingBenchGuest,
} from './benchGuest';
import type { CliIo } from './io';
import { formatSummary, summarize } from './summary';
import type { VmxBenchResult } from './benchVmx';
import { benchVmx } from './benchVmx';
import { BENCH_USAGE } from './usage';
import { benchHypervisorExits, runBenchGuestUnderHypervisor } from './benchHypervisor';
import { debuggerLine, runDebuggerBench } from './benchDebugger';
import type { DebuggerBench } from '../debugger/bench/benchDebugger';

const BENCH_OPTIONS = {
  seconds: { type: 'string' },
  passes: { type: 'string' },
  json: { type: 'boolean' },
  paging: { type: 'boolean' },
  vmx: { type: 'boolean' },
  debugger: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface BenchResult {
  mips: number;
  instructions: number;
  seconds: number;
  mode: 'long';
  runs: number;
  instructionsPerRun: number;
  checksum: string;
  /** Mnemonics the guest executes. */
  mnemonics: string[];
  /** 'integer' (default) or 'paging' (--paging). */
  benchmark?: 'integer' | 'paging';
  /** Paging benchmark: pages touched (a TLB-missing load and store each) per second, in millions. */
  mpages?: number;
  /** The exit-heavy benchmark (benchVmx.ts): VM exit + VMRESUME round trips per second. */
  exitsPerSecond?: number;
  /** Round trips measured and the time they took. */
  exits?: number;
  exitSeconds?: number;
  /** The same rate per second of this process's CPU time (benchVmx.ts). */
  exitsPerCpuSecond?: number;
  /** The integer guest under the built-in hypervisor (benchHypervisor.ts): MIPS and its share of bare metal's. */
  hypervisorMips?: number;
  hypervisorShare?: number;
  /** VM exits per second through engine, built-in CPUID handler and VMM. */
  hypervisorExitsPerSecond?: number;
  /** The debugger's figures (benchDebugger.ts), or why they were not measured. */
  debugger?: DebuggerBench | { skipped: string };
}

export class BenchFailure extends Error {
  override readonly name = 'BenchFailure';
}

/** Mnemonics the guest uses that the processor does not implement yet (lower case). */
export function missingInstructions(g: BenchGuest): string[] {
  return g.mnemonicIds.filter((m) => HANDLERS[m] === undefined).map((m) => Mnemonic[m].toLowerCase());
}

function isPaging(g: BenchGuest): g is PagingBenchGuest {
  return (g as PagingBenchGuest).tables !== undefined;
}

/** Run the guest once on a fresh processor and check it. Returns the wall time in seconds. */
export function runBenchGuestOnce(g: BenchGuest): { seconds: number; cpu: Cpu } {
  const paging = isPaging(g);
  const memorySize = paging ? PAGING_MEMORY : BENCH_MEMORY;
  const stack = paging ? PAGING_STACK : BENCH_STACK;
  const mem = new PhysicalMemory(memorySize);
  mem.load(BENCH_CODE_AT, g.code);
  if (paging) mem.load(PAGING_TABLES_AT, g.tables);
  else mem.load(BENCH_ARRAY_AT, g.data);
  const cpu = new Cpu(mem);
  enterMode(cpu, 'long');
  if (paging) {
    // The guest's own 4-level tables (SDM vol. 3A §4.5) instead of enterMode's identity map.
    cpu.cr3Lo = PAGING_TABLES_AT;
    cpu.cr3Hi = 0;
    cpu.flushTlb();
  }
  cpu.setRip(BENCH_CODE_AT);
  cpu.setReg64(Gpr.RSP, stack);
  const limit = g.expectedInstructions + 1000;
  const t0 = performance.now();
  const result = cpu.run(limit);
  const seconds = (performance.now() - t0) / 1000;
  const rax = cpu.getReg64(Gpr.RAX);
  if (result.reason !== 'hlt' || rax !== g.expectedRax || cpu.icount !== g.expectedInstructions) {
    const report = formatSummary(summarize({
      cpu, memory: mem, result, imageSize: g.code.length, seconds,
      options: { mode: 'long', loadAddress: BENCH_CODE_AT, entry: BENCH_CODE_AT, stack, memorySize, maxInstructions: limit },
    }));
    throw new BenchFailure(
      `the benchmark guest did not compute the expected result (wanted HLT with RAX=0x${g.expectedRax.toString(16)} ` +
      `after ${g.expectedInstructions} instructions):\n${report}`,
    );
  }
  return { seconds, cpu };
}

/** Warm up, then measure for at least `minSeconds`. `paging` selects the paging benchmark. */
export function bench(passes = DEFAULT_PASSES, minSeconds = 3, paging = false): BenchResult {
  const build = paging ? buildPagingBenchGuest : buildBenchGuest;
  const warm = build(Math.max(1, Math.ceil(passes / 20)));
  const missing = missingInstructions(warm);
  if (missing.length > 0) {
    throw new BenchFailure(`the processor does not implement these instructions of the benchmark guest yet: ${missing.join(' ')}`);
  }
  for (let i = 0; i < 3; i++) runBenchGuestOnce(warm);
  const g = build(passes);
  let seconds = 0;
  let runs = 0;
  do {
    seconds += runBenchGuestOnce(g).seconds;
    runs++;
  } while (seconds < minSeconds);
  const instructions = g.expectedInstructions * runs;
  return {
    mips: Math.round((instructions / seconds / 1e6) * 100) / 100,
    instructions,
    seconds: Math.round(seconds * 1000) / 1000,
    mode: 'long',
    runs,
    instructionsPerRun: g.expectedInstructions,
    checksum: `0x${g.expectedRax.toString(16)}`,
    mnemonics: g.mnemonics,
    benchmark: paging ? 'paging' : 'integer',
    ...(isPaging(g) ? { mpages: Math.round((g.pageTouches * runs / seconds / 1e6) * 100) / 100 } : {}),
  };
}

export function benchCommand(argv: readonly string[], io: CliIo): number {
  const { values, positionals } = parseArgs(argv, BENCH_OPTIONS);
  if (values.help === true) {
    io.out(BENCH_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`bench: unexpected argument '${positionals[0]}'`);
  const paging = values.paging === true;
  const passes = values.passes === undefined ? (paging ? DEFAULT_PAGING_PASSES : DEFAULT_PASSES) : parseNumber('--passes', values.passes as string);
  if (passes < 1 || passes > 0xffffffff) throw new UsageError('--passes: must be between 1 and 4294967295');
  const secondsText = values.seconds as string | undefined;
  let minSeconds = 3;
  if (secondsText !== undefined) {
    minSeconds = Number(secondsText);
    if (!/^\d+(\.\d+)?$/.test(secondsText.trim()) || !Number.isFinite(minSeconds)) {
      throw new UsageError(`--seconds: '${secondsText}' is not a number`);
    }
  }
  if (values.vmx === true) return benchVmxCommand(minSeconds, values.json === true, io);
  if (values.debugger === true) {
    const d = runDebuggerBench(minSeconds);
    io.out(values.json === true ? JSON.stringify({ benchmark: 'debugger', ...d }) : `vtx bench --debugger:${debuggerLine(d).slice(1)}`);
    return 'skipped' in d ? 1 : 0;
  }
  let r: BenchResult;
  try {
    r = bench(passes, minSeconds, paging);
    if (!paging) {
      // The exit-heavy guest (issue 4): VM exits per second through the VT-x engine.
      const v = benchVmx(minSeconds);
      r.exitsPerSecond = v.exitsPerSecond;
      r.exits = v.exits;
      r.exitSeconds = v.seconds;
      r.exitsPerCpuSecond = v.exitsPerCpuSecond;
      // Issue 5: the same integer guest under the built-in hypervisor, and exits through all of it.
      const g = buildBenchGuest(passes);
      runBenchGuestUnderHypervisor(buildBenchGuest(Math.max(1, Math.ceil(passes / 20))));
      let hs = 0;
      let hr = 0;
      do {
        hs += runBenchGuestUnderHypervisor(g);
        hr++;
      } while (hs < minSeconds);
      r.hypervisorMips = Math.round((g.expectedInstructions * hr / hs / 1e6) * 100) / 100;
      r.hypervisorShare = Math.round((r.hypervisorMips / r.mips) * 1000) / 10;
      r.hypervisorExitsPerSecond = benchHypervisorExits(minSeconds).exitsPerSecond;
      r.debugger = runDebuggerBench(minSeconds);
    }
  } catch (e) {
    if (!(e instanceof BenchFailure)) throw e;
    io.err(`vtx bench: ${e.message}`);
    return 1;
  }
  if (values.json === true) {
    io.out(JSON.stringify(r));
  } else {
    const what = paging ? `64-bit mode, 4-level paging, every access a TLB miss: ${r.mpages} M page touches/s` : '64-bit mode';
    io.out(`vtx bench${paging ? ' --paging' : ''}: ${r.mips} MIPS (${r.instructions} guest instructions in ${r.seconds} s, ${r.runs} run(s), ${what})`);
    io.out(`  checksum ${r.checksum} verified; guest uses ${r.mnemonics.join(' ')}`);
    if (r.exitsPerSecond !== undefined) io.out(vmxLine(r.exitsPerSecond, r.exits!, r.exitSeconds!, r.exitsPerCpuSecond!));
    if (r.hypervisorMips !== undefined) {
      io.out(`  under the built-in hypervisor: ${r.hypervisorMips} MIPS (${r.hypervisorShare}% of bare metal), ` +
        `${r.hypervisorExitsPerSecond} VM exits/s through engine, CPUID handler and VMM`);
    }
    if (r.debugger !== undefined) io.out(debuggerLine(r.debugger));
  }
  return 0;
}

function vmxLine(exitsPerSecond: number, exits: number, seconds: number, perCpuSecond: number): string {
  return `  VM exits: ${exitsPerSecond} exits/s (${exits} CPUID exit + VMRESUME round trips in ${seconds} s, ` +
    `64-bit guest, TypeScript host; ${perCpuSecond} per CPU-second)`;
}

/** `vtx bench --vmx`: only the exit-heavy benchmark. */
function benchVmxCommand(minSeconds: number, json: boolean, io: CliIo): number {
  let v: VmxBenchResult;
  try {
    v = benchVmx(minSeconds);
  } catch (e) {
    if (!(e instanceof BenchFailure)) throw e;
    io.err(`vtx bench: ${e.message}`);
    return 1;
  }
  if (json) io.out(JSON.stringify({ ...v, benchmark: 'vmx' }));
  else io.out(`vtx bench --vmx:${vmxLine(v.exitsPerSecond, v.exits, v.seconds, v.exitsPerCpuSecond).slice(1)}`);
  return 0;
}
