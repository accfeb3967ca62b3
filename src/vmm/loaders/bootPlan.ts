/**
 * What a loader produces: guest memory is filled, and this says how the processor starts.
 * Shared contract between the loaders (src/vmm/loaders) and whoever starts the machine.
 */
import type { StartMode } from '../../x86/modes';

export type ImageFormat = 'flat' | 'elf' | 'multiboot';

export interface LoadOptions {
  format: ImageFormat | 'auto';
  /** Flat images: where to load (default chosen by mode). */
  loadAddress?: number;
  /** Entry point override. */
  entry?: number;
  /** Flat images: the mode to start in. */
  mode?: StartMode;
  /** Multiboot command line. */
  cmdline?: string;
  /** The file name, for messages and the multiboot boot-loader name. */
  name?: string;
}

export interface BootPlan {
  format: ImageFormat;
  mode: StartMode;
  entry: number;
  /** Initial general registers by name (rax..r15), values as bigint. */
  regs: Partial<Record<string, bigint>>;
  /** Physical address of the page tables the loader built (long mode), if any. */
  cr3?: number;
  /** ELF symbols (name → address) for the debugger. */
  symbols: Array<{ name: string; address: number; size: number }>;
  /** Human-readable notes on what was loaded where. */
  notes: string[];
}
