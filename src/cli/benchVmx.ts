/**
 * `vtx bench` (exit-heavy part) and `vtx bench --vmx`: VM exits per second through the VT-x
 * engine. A 64-bit guest loops on CPUID (an unconditional exit, SDM vol. 3C §25.1.2); a minimal
 * host written in TypeScript handles each exit as a hypervisor does — VMREAD the exit reason,
 * guest RIP and instruction length, emulate CPUID in the guest's registers, VMWRITE the new RIP,
 * VMRESUME — and the processor runs the guest to its next exit. One round trip = one exit + one
 * VMRESUME + the guest's five instructions. The VMCS enables VPID (as hypervisors do when the
 * CPU reports it), so exits and entries keep the guest's cached translations (§28.3.3.1).
 *
 * The guest:   L: xor eax, eax ; cpuid ; add r13, rbx ; inc r12 ; jmp L
 * The host answers CPUID with EBX = (exit number & 0xffff); at the end the guest's R12 must be
 * the number of completed loop iterations and R13 the sum of the EBX values it was given, so a
 * broken round trip cannot report a fast time.
 */
import { Code, Encoder, Instruction, Register } from 'iced-x86';
import { VmxMachine, enc } from './benchVmxSetup';
import { LAYOUT } from './benchVmxSetup';
import { BenchFailure } from './benchCommand';

export interface VmxBenchResult {
  /** Round trips (VM exit + VMRESUME) per second. */
  exitsPerSecond: number;
  exits: number;
  seconds: number;
  /**
   * Round trips per second of this process's CPU time (user + system): the same rate with the
   * time other processes took from this one left out (a loaded machine).
   */
  exitsPerCpuSecond: number;
}

const EXIT_CPUID = 10;

/** The guest loop's machine code at LAYOUT.GUEST_CODE (built with iced's encoder). */
export function vmxBenchGuest(): Uint8Array {
  const ip = BigInt(LAYOUT.GUEST_CODE);
  const list = [
    Instruction.createRegReg(Code.Xor_r32_rm32, Register.EAX, Register.EAX),
    Instruction.create(Code.Cpuid),
    Instruction.createRegReg(Code.Add_rm64_r64, Register.R13, Register.RBX),
    Instruction.createReg(Code.Inc_rm64, Register.R12),
    Instruction.createBranch(Code.Jmp_rel8_64, ip),
  ];
  const e = new Encoder(64);
  const out: number[] = [];
  try {
    let at = ip;
    for (const ins of list) {
      at += BigInt(e.encode(ins, at));
      out.push(...e.takeBuffer());
      ins.free();
    }
  } finally {
    e.free();
  }
  return Uint8Array.from(out);
}

/** A machine in VMX root operation with the guest loaded and launched up to its first exit. */
export function vmxBenchMachine(): VmxMachine {
  const m = new VmxMachine({ mode: 'long', code: vmxBenchGuest(), vpid: 1 });
  const out = m.vmlaunch();
  if (out.kind !== 'entered') throw new BenchFailure(`VMLAUNCH of the exit benchmark guest failed: ${JSON.stringify(out)}`);
  const r = m.run(1000);
  if (r.reason !== 'vmexit') throw new BenchFailure(`the exit benchmark guest stopped with '${r.reason}' instead of a VM exit`);
  return m;
}

const F_REASON = enc('EXIT_REASON');
const F_RIP = enc('GUEST_RIP');
const F_LEN = enc('VM_EXIT_INSTRUCTION_LENGTH');

/**
 * Handle `count` exits on `m` (already stopped at a CPUID exit): each is answered and resumed;
 * returns after the `count`-th further exit. `first` is the number of exits handled before.
 */
export function roundTrips(m: VmxMachine, count: number, first: number): void {
  const e = m.ops;
  const c = m.cpu;
  for (let n = first; n < first + count; n++) {
    // The exit the guest just took: CPUID with leaf 0 in EAX.
    const reason = e.vmread(F_REASON);
    if (reason !== EXIT_CPUID || c.lo[0] !== 0) {
      throw new BenchFailure(`exit ${n}: exit reason ${reason} with EAX=${c.lo[0]} (wanted CPUID leaf 0, reason 10)`);
    }
    const ripLo = e.vmread(F_RIP);
    const ripHi = e.readHi;
    const len = e.vmread(F_LEN);
    e.vmwrite(F_RIP, (ripLo + len) | 0, ripHi);
    // CPUID writes EAX/EBX/ECX/EDX zero-extended (SDM vol. 2A CPUID).
    c.lo[0] = 0x1f; c.hi[0] = 0;
    c.lo[3] = n & 0xffff; c.hi[3] = 0;
    c.lo[1] = 0; c.hi[1] = 0;
    c.lo[2] = 0; c.hi[2] = 0;
    const out = e.vmresume();
    if (out.kind !== 'entered') throw new BenchFailure(`VMRESUME ${n} failed: ${JSON.stringify(out)}`);
    const r = c.run(Number.MAX_SAFE_INTEGER);
    if (r.reason !== 'vmexit') throw new BenchFailure(`exit ${n + 1}: the guest stopped with '${r.reason}'`);
  }
  // The guest completed one loop iteration per handled exit.
  const total = first + count;
  const q = Math.floor(total / 65536), rem = total % 65536;
  const sum = q * (65535 * 65536 / 2) + (rem * (rem - 1)) / 2; // Σ (n & 0xffff), n < total
  const r12 = c.getReg64(12), r13 = c.getReg64(13);
  if (r12 !== BigInt(first + count) || r13 !== BigInt(sum)) {
    throw new BenchFailure(`after ${first + count} round trips the guest has R12=${r12} R13=${r13} (wanted ${first + count} and ${sum})`);
  }
}

/** Warm up, then measure round trips for at least `minSeconds`. */
export function benchVmx(minSeconds = 3): VmxBenchResult {
  const warm = vmxBenchMachine();
  roundTrips(warm, 30_000, 0);
  const m = vmxBenchMachine();
  const chunk = 20_000;
  let exits = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let seconds = 0;
  do {
    roundTrips(m, chunk, exits);
    exits += chunk;
    seconds = (performance.now() - t0) / 1000;
  } while (seconds < minSeconds);
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = Math.max(1e-6, (cpu.user + cpu.system) / 1e6);
  return {
    exitsPerSecond: Math.round(exits / seconds),
    exits,
    seconds: Math.round(seconds * 1000) / 1000,
    exitsPerCpuSecond: Math.round(exits / cpuSeconds),
  };
}
