/**
 * Running a flat binary on the bare processor (no hypervisor yet): load the image into fresh
 * guest RAM, start the processor in the chosen mode with flat segments, run until HLT, an
 * exception that cannot be delivered, or the instruction limit. Shared by `vtx run` and the
 * VS Code command; it knows nothing of either (no console, no process, no vscode).
 *
 * Start state (documented in README.md and docs/ARCHITECTURE.md):
 * - general registers zero, RFLAGS = 0x2, flat segments from `enterMode` (modes.ts);
 * - real mode: CS:IP = 0:entry when entry < 64 KiB, else (entry >> 4):(entry & 0xf);
 *   SS = 0 and SP = the stack value (default 0x7c00, just below the traditional load address);
 * - protected and long mode: RIP = entry, RSP = the stack value (default: the top of RAM,
 *   capped at 4 GiB in protected mode, 16-byte aligned).
 */
import { Cpu, RunResult } from '../x86/cpu';
import { enterMode } from '../x86/modes';
import { PhysicalMemory } from '../x86/physicalMemory';
import { Gpr, Seg } from '../x86/registers';
import { UsageError, hex } from './args';

export type GuestMode = 'real' | 'protected' | 'long';
export const GUEST_MODES: readonly GuestMode[] = ['real', 'protected', 'long'];

export const DEFAULT_MEMORY = 64 * 1024 * 1024;
export const DEFAULT_MAX_INSTRUCTIONS = 100_000_000;
export const REAL_MODE_LOAD = 0x7c00;
export const DEFAULT_LOAD = 0x1000;
const TWO32 = 4294967296;

export interface GuestOptions {
  mode?: GuestMode;
  /** Guest-physical address the image is copied to (default 0x7c00 in real mode, else 0x1000). */
  loadAddress?: number;
  /** First instruction (default: the load address). */
  entry?: number;
  /** Initial SP/ESP/RSP (see the file comment for the defaults). */
  stack?: number;
  /** Guest RAM in bytes (default 64 MiB; pages are allocated on first touch). */
  memorySize?: number;
  /** Stop after this many instructions (default 100,000,000). */
  maxInstructions?: number;
}

/** The options after defaults, as the run used them. */
export interface ResolvedGuestOptions {
  mode: GuestMode;
  loadAddress: number;
  entry: number;
  stack: number;
  memorySize: number;
  maxInstructions: number;
}

export interface GuestRun {
  cpu: Cpu;
  memory: PhysicalMemory;
  result: RunResult;
  options: ResolvedGuestOptions;
  imageSize: number;
  /** Wall-clock time of the run itself, in seconds (reports only; the guest never sees it). */
  seconds: number;
}

/** Defaults filled in; throws UsageError (with the option's name) for impossible settings. */
export function resolveGuestOptions(imageSize: number, o: GuestOptions): ResolvedGuestOptions {
  const mode = o.mode ?? 'long';
  const memorySize = o.memorySize ?? DEFAULT_MEMORY;
  const loadAddress = o.loadAddress ?? (mode === 'real' ? REAL_MODE_LOAD : DEFAULT_LOAD);
  const entry = o.entry ?? loadAddress;
  const maxInstructions = o.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  if (memorySize < 4096) throw new UsageError(`--memory: ${memorySize} bytes is too small (at least 4096)`);
  if (memorySize > 2 ** 40) throw new UsageError(`--memory: ${hex(memorySize)} bytes is too large (at most 1 TiB)`);
  if (loadAddress + imageSize > memorySize) {
    throw new UsageError(
      `the image (${imageSize} bytes at ${hex(loadAddress)}) does not fit in guest memory (${memorySize} bytes)`,
    );
  }
  if (entry >= memorySize) throw new UsageError(`--entry: ${hex(entry)} is outside guest memory (${memorySize} bytes)`);
  if (mode === 'real' && entry >= 0x100000) {
    throw new UsageError(`--entry: ${hex(entry)} is beyond the 1 MiB a real-mode CS:IP can reach`);
  }
  if (mode === 'protected' && entry >= TWO32) {
    throw new UsageError(`--entry: ${hex(entry)} is beyond the 4 GiB a protected-mode EIP can reach`);
  }
  let stack = o.stack;
  if (stack === undefined) {
    const top = mode === 'protected' ? Math.min(memorySize, TWO32) : memorySize;
    stack = mode === 'real' ? REAL_MODE_LOAD : top - (top % 16);
  }
  const stackMax = mode === 'real' ? 0xffff : mode === 'protected' ? TWO32 : Number.MAX_SAFE_INTEGER;
  if (stack > stackMax) throw new UsageError(`--stack: ${hex(stack)} does not fit the ${mode}-mode stack pointer`);
  if (maxInstructions < 1) throw new UsageError('--max-instructions: must be at least 1');
  return { mode, loadAddress, entry, stack, memorySize, maxInstructions };
}

/** Make the processor and memory for a run, ready at the entry point (nothing executed yet). */
export function prepareGuest(image: Uint8Array, o: GuestOptions = {}): { cpu: Cpu; memory: PhysicalMemory; options: ResolvedGuestOptions } {
  const options = resolveGuestOptions(image.length, o);
  const memory = new PhysicalMemory(options.memorySize);
  memory.load(options.loadAddress, image);
  const cpu = new Cpu(memory);
  enterMode(cpu, options.mode);
  if (options.mode === 'real') {
    // CS:IP = 0:entry as a VMX real-mode start does; above 64 KiB the segment takes the rest.
    const e = options.entry;
    const sel = e < 0x10000 ? 0 : e >>> 4;
    cpu.setSegment(Seg.CS, { ...cpu.segment(Seg.CS), selector: sel, baseLo: sel << 4, baseHi: 0 });
    cpu.codeChanged();
    cpu.setRip(e - (sel << 4));
    cpu.setReg64(Gpr.RSP, options.stack & 0xffff);
  } else {
    cpu.setRip(options.entry);
    cpu.setReg64(Gpr.RSP, options.stack === TWO32 && options.mode === 'protected' ? 0 : options.stack);
  }
  cpu.setRflags(0x2);
  return { cpu, memory, options };
}

/** Load and run `image`; returns the stopped processor and how it stopped. */
export function runGuest(image: Uint8Array, o: GuestOptions = {}): GuestRun {
  const { cpu, memory, options } = prepareGuest(image, o);
  const t0 = performance.now();
  const result = cpu.run(options.maxInstructions);
  const seconds = (performance.now() - t0) / 1000;
  return { cpu, memory, result, options, imageSize: image.length, seconds };
}
