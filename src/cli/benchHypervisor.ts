/**
 * Benchmarks through the whole built-in hypervisor (issue 5): the integer benchmark guest
 * (benchGuest.ts) run in VMX non-root operation under the Vmm — its MIPS next to bare metal's —
 * and an exit-heavy guest (a loop of CPUID, each handled by the built-in CPUID handler, then the
 * power-off) giving VM exits per second through engine, hypervisor and VMM.
 */
import { Vmm } from '../vmm/vmm';
import { loadImage } from '../vmm/loaders';
import { assemble } from '../language/asm/assembler';
import { BENCH_ARRAY_AT, BENCH_CODE_AT, BENCH_MEMORY, BENCH_STACK, type BenchGuest } from './benchGuest';
import { BenchFailure } from './benchCommand';

/** Run the integer benchmark guest once under the hypervisor; returns the wall time in seconds. */
export function runBenchGuestUnderHypervisor(g: BenchGuest): number {
  const vmm = new Vmm({ ramSize: BENCH_MEMORY });
  const plan = loadImage(vmm.machine.mem, g.code, { format: 'flat', mode: 'long', loadAddress: BENCH_CODE_AT, stack: BENCH_STACK });
  vmm.machine.mem.load(BENCH_ARRAY_AT, g.data);
  vmm.boot(plan);
  const t0 = performance.now();
  const r = vmm.run(g.expectedInstructions + 1000);
  const seconds = (performance.now() - t0) / 1000;
  const rax = vmm.vcpu.reg('rax');
  if (r.reason !== 'hlt' || rax !== g.expectedRax) {
    throw new BenchFailure(`the benchmark guest under the hypervisor stopped with ${r.reason}${r.detail !== undefined ? ` (${r.detail})` : ''}, RAX 0x${rax.toString(16)} (wanted HLT with 0x${g.expectedRax.toString(16)})`);
  }
  return seconds;
}

/** The exit-heavy guest: `n` CPUIDs (leaf 0), then QEMU's power-off. */
export function cpuidLoopGuest(n: number): Uint8Array {
  const src = `bits 64
    mov r8d, ${n}
.loop:
    xor eax, eax
    cpuid
    dec r8d
    jnz .loop
    mov dx, 0x604
    mov ax, 0x2000
    out dx, ax
    hlt`;
  const r = assemble(src, { bits: 64 });
  if (!r.ok) throw new Error(`bench guest: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.bytes;
}

export interface HypervisorExitBench {
  exitsPerSecond: number;
  exits: number;
  seconds: number;
}

/** VM exits per second through the whole hypervisor (built-in CPUID handler), at least `minSeconds`. */
export function benchHypervisorExits(minSeconds = 2): HypervisorExitBench {
  const n = 200_000;
  const image = cpuidLoopGuest(n);
  const once = (count: number, bytes: Uint8Array): { seconds: number; exits: number } => {
    const vmm = new Vmm({ ramSize: 16 * 1024 * 1024 });
    const plan = loadImage(vmm.machine.mem, bytes, { format: 'flat', mode: 'long', loadAddress: 0x1000 });
    vmm.boot(plan);
    const t0 = performance.now();
    const r = vmm.run(100 * count + 1000);
    const seconds = (performance.now() - t0) / 1000;
    const exits = vmm.vcpu.exitCount('CPUID');
    if (r.reason !== 'SystemDown' || exits !== count) {
      throw new BenchFailure(`the CPUID loop under the hypervisor stopped with ${r.reason} after ${exits} CPUID exits (wanted SystemDown after ${count})`);
    }
    return { seconds, exits: exits + 1 };
  };
  once(20_000, cpuidLoopGuest(20_000));
  let seconds = 0;
  let exits = 0;
  do {
    const r = once(n, image);
    seconds += r.seconds;
    exits += r.exits;
  } while (seconds < minSeconds);
  return { exitsPerSecond: Math.round(exits / seconds), exits, seconds: Math.round(seconds * 1000) / 1000 };
}
