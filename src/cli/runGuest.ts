/**
 * Running a guest image on the machine (src/vmm/machine.ts: processor, memory and PC devices):
 * detect or take the image format, load it with the loaders (src/vmm/loaders), start the
 * processor as the loader's boot plan says, and run until the guest stops (HLT with nothing to
 * wake it, isa-debug-exit or ACPI power-off, an exception that cannot be delivered, a triple
 * fault) or the instruction limit. Shared by `vtx run` and the VS Code command; it knows
 * nothing of either (no console, no process, no vscode).
 *
 * Flat binaries (documented in README.md): general registers zero, RFLAGS = 0x2, flat segments;
 * - real mode: CS:IP = 0:entry when entry < 64 KiB, else (entry >> 4):(entry & 0xf);
 *   SS = 0 and SP = the stack value (default 0x7c00, just below the traditional load address);
 * - protected and long mode: RIP = entry, RSP = the stack value (default: the top of RAM,
 *   capped at 4 GiB in protected mode, 16-byte aligned); the loader writes a GDT (and in long
 *   mode identity page tables) into a boot area of guest RAM.
 * ELF and Multiboot images start as the loaders document (src/vmm/loaders/index.ts).
 */
import type { Cpu } from '../x86/cpu';
import type { StartMode } from '../x86/modes';
import type { PhysicalMemory } from '../x86/physicalMemory';
import { Machine, MachineRunResult } from '../vmm/machine';
import { applyBootPlan, detectFormat, loadImage, LoadError } from '../vmm/loaders';
import type { BootPlan, ImageFormat } from '../vmm/loaders';
import { UsageError, hex } from './args';
import { Vmm, type VmmRunResult } from '../vmm/vmm';
import type { Interception } from '../hypervisor/interception';
import type { DecodedExit } from '../vmx/exitDecode';
import type { VCpuExit } from '../hypervisor/vcpuExit';
import { GuestVmxStats } from '../vmm/guestVmxStats';

export type HypervisorChoice = 'builtin' | 'none';
export const HYPERVISORS: readonly HypervisorChoice[] = ['builtin', 'none'];

export type GuestMode = 'real' | 'protected' | 'long';
export const GUEST_MODES: readonly GuestMode[] = ['real', 'protected', 'long'];

export const DEFAULT_MEMORY = 64 * 1024 * 1024;
export const DEFAULT_MAX_INSTRUCTIONS = 100_000_000;
export const REAL_MODE_LOAD = 0x7c00;
export const DEFAULT_LOAD = 0x1000;
const TWO32 = 4294967296;

export type FormatChoice = ImageFormat | 'auto';
export const FORMATS: readonly FormatChoice[] = ['auto', 'flat', 'elf', 'multiboot'];

export interface GuestOptions {
  /** Image format (default 'auto': ELF magic / Multiboot header, else flat). */
  format?: FormatChoice;
  /** Flat images: the start mode (default long). */
  mode?: GuestMode;
  /** Flat images: guest-physical address the image is copied to (default 0x7c00 in real mode, else 0x1000). */
  loadAddress?: number;
  /** First instruction (default: the load address, or the image's entry point). */
  entry?: number;
  /** Initial SP/ESP/RSP (see the file comment for the defaults). */
  stack?: number;
  /** Guest RAM in bytes (default 64 MiB; pages are allocated on first touch). */
  memorySize?: number;
  /** Stop after this many instructions (default 100,000,000). */
  maxInstructions?: number;
  /** Multiboot kernels: the command line after the file name (see multibootCmdline). */
  cmdline?: string;
  /** The image's file name, for messages and the start of the Multiboot command line. */
  name?: string;
  /** Receives each byte the guest writes to COM1, as it is written. */
  serialSink?: (byte: number) => void;
  /**
   * 'builtin' (default): the guest runs in VMX non-root operation under the built-in hypervisor;
   * 'none': bare VT-x — on the machine directly, as on a real machine with VT-x: the guest may
   * be a hypervisor itself (CPUID reports VMX; its VMX instructions execute against the engine,
   * its VM exits continue at its HOST_RIP). See docs/bring-your-own-hypervisor.md.
   */
  hypervisor?: HypervisorChoice;
  /** What the built-in hypervisor intercepts (default: the seed's). */
  interception?: Interception;
  /** Called for every VM exit (trace, debugger). */
  onExit?: (e: DecodedExit, x: VCpuExit) => void;
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
  machine: Machine;
  /** The VMM when the guest ran under the built-in hypervisor. */
  vmm: Vmm | null;
  /** Bare VT-x mode: the VM exits and entries of the guest hypervisor's own VMCSs. */
  guestVmx: GuestVmxStats | null;
  cpu: Cpu;
  memory: PhysicalMemory;
  result: MachineRunResult | VmmRunResult;
  options: ResolvedGuestOptions;
  /** The format the image was loaded as, and the loader's plan. */
  format: ImageFormat;
  plan: BootPlan;
  /** The start mode (flat: --mode; ELF/Multiboot: what the loader chose). */
  startMode: StartMode;
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

export interface PreparedGuest {
  machine: Machine;
  vmm: Vmm | null;
  guestVmx: GuestVmxStats | null;
  cpu: Cpu;
  memory: PhysicalMemory;
  options: ResolvedGuestOptions;
  format: ImageFormat;
  plan: BootPlan;
}

/** Checks of options that only make sense for some formats. */
function checkFormatOptions(format: ImageFormat, o: GuestOptions): void {
  if (format !== 'flat') {
    const what = format === 'elf' ? 'an ELF image' : 'a Multiboot kernel';
    if (o.mode !== undefined) throw new UsageError(`--mode applies to flat binaries only (this is ${what}, which starts as its format says)`);
    if (o.loadAddress !== undefined) throw new UsageError(`--load-address applies to flat binaries only (this is ${what}, loaded where its headers say)`);
  }
  if (o.cmdline !== undefined && format !== 'multiboot') {
    throw new UsageError(`--cmdline applies to Multiboot kernels only (this image is loaded as ${format})`);
  }
}

/**
 * The Multiboot command line: like QEMU's `-kernel FILE -append TEXT` (and GRUB), the kernel's
 * file name, then a space and the --cmdline text when there is one.
 */
export function multibootCmdline(o: GuestOptions): string | undefined {
  if (o.name === undefined) return o.cmdline;
  return o.cmdline === undefined ? o.name : `${o.name} ${o.cmdline}`;
}

/** Make the machine for a run, the image loaded and the processor at its entry point (nothing executed yet). */
export function prepareGuest(image: Uint8Array, o: GuestOptions = {}): PreparedGuest {
  const format: ImageFormat = (o.format ?? 'auto') === 'auto' ? detectFormat(image) : (o.format as ImageFormat);
  checkFormatOptions(format, o);
  const options = format === 'flat'
    ? resolveGuestOptions(image.length, o)
    : resolveCommonOptions(o);
  // Flat binaries get a report for an exception until they load an IDT; kernels get delivery.
  const machineOptions = {
    memorySize: options.memorySize, serialSink: o.serialSink, exceptions: format === 'flat' ? 'auto' as const : 'deliver' as const,
  };
  const vmm = (o.hypervisor ?? 'builtin') === 'builtin'
    ? new Vmm({ ...machineOptions, ramSize: options.memorySize, interception: o.interception, onExit: o.onExit })
    : null;
  // Without the built-in hypervisor the machine has VT-x for the guest's own use.
  const machine = vmm?.machine ?? new Machine({ ...machineOptions, vmx: true });
  const guestVmx = machine.vmx !== null ? new GuestVmxStats(machine.vmx) : null;
  let plan: BootPlan;
  try {
    plan = loadImage(machine.mem, image, {
      format,
      mode: format === 'flat' ? options.mode : undefined,
      loadAddress: format === 'flat' ? options.loadAddress : undefined,
      entry: o.entry,
      stack: format === 'flat' ? options.stack : o.stack,
      cmdline: format === 'multiboot' ? multibootCmdline(o) : undefined,
      name: o.name,
    });
  } catch (e) {
    if (e instanceof LoadError) throw new UsageError(e.message);
    throw e;
  }
  if (vmm !== null) vmm.boot(plan);
  else applyBootPlan(machine.cpu, plan);
  if (format !== 'flat') {
    options.mode = plan.mode === 'compat' ? 'long' : plan.mode;
    options.entry = plan.entry;
    options.loadAddress = plan.entry;
    options.stack = Number(plan.regs.rsp ?? 0n);
  }
  return { machine, vmm, guestVmx, cpu: machine.cpu, memory: machine.mem, options, format, plan };
}

/** Memory size and instruction limit checks shared by every format. */
function resolveCommonOptions(o: GuestOptions): ResolvedGuestOptions {
  const memorySize = o.memorySize ?? DEFAULT_MEMORY;
  const maxInstructions = o.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  if (memorySize < 4096) throw new UsageError(`--memory: ${memorySize} bytes is too small (at least 4096)`);
  if (memorySize > 2 ** 40) throw new UsageError(`--memory: ${hex(memorySize)} bytes is too large (at most 1 TiB)`);
  if (maxInstructions < 1) throw new UsageError('--max-instructions: must be at least 1');
  return { mode: 'long', loadAddress: 0, entry: 0, stack: 0, memorySize, maxInstructions };
}

/** Load and run `image`; returns the stopped machine and how it stopped. */
export function runGuest(image: Uint8Array, o: GuestOptions = {}): GuestRun {
  const { machine, vmm, guestVmx, cpu, memory, options, format, plan } = prepareGuest(image, o);
  const t0 = performance.now();
  const result = vmm !== null ? vmm.run(options.maxInstructions) : machine.run(options.maxInstructions);
  const seconds = (performance.now() - t0) / 1000;
  return {
    machine, vmm, guestVmx, cpu, memory, result, options, format, plan, startMode: plan.mode, imageSize: image.length, seconds,
  };
}
