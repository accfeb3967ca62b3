/**
 * What a loader produces: guest memory is filled, and this says how the processor starts.
 * Shared contract between the loaders (src/vmm/loaders) and whoever starts the machine
 * (`applyBootPlan` in index.ts turns a plan into the processor's start state).
 */
import type { StartMode } from '../../x86/modes';

export type ImageFormat = 'flat' | 'elf' | 'multiboot';

export interface LoadOptions {
  format: ImageFormat | 'auto';
  /** Flat images: where to load (default 0x7c00 in real mode, else 0x1000). */
  loadAddress?: number;
  /** Entry point override. */
  entry?: number;
  /** Flat images: the mode to start in (default 'long'). */
  mode?: StartMode;
  /** Multiboot command line. */
  cmdline?: string;
  /** The file name: prefixes error messages; the Multiboot command line when `cmdline` is not given. */
  name?: string;
  /**
   * Initial SP/ESP/RSP. Defaults: real mode 0x7c00; flat protected/long images the top of RAM
   * (capped at 4 GiB below long mode, 16-byte aligned); ELF and Multiboot boots the top of the
   * loader's boot area (see layout.ts).
   */
  stack?: number;
}

/** A segment register's start value: selector plus the hidden part (access rights in the VMCS layout). */
export interface SegmentStart {
  selector: number;
  base: number;
  limit: number;
  attr: number;
}

export interface BootPlan {
  format: ImageFormat;
  mode: StartMode;
  entry: number;
  /** Initial general registers by name (rax..r15, rsp), values as bigint. */
  regs: Partial<Record<string, bigint>>;
  /** Physical address of the page tables the loader built (long mode), if any. */
  cr3?: number;
  /** The GDT the loader wrote into guest memory (GDTR value), if any. */
  gdt?: { base: number; limit: number };
  /** Segment registers at the start (ES, CS, SS, DS, FS, GS order by name), matching `gdt`. */
  segments?: { cs: SegmentStart; ds: SegmentStart };
  /** Initial RFLAGS (default 0x2). */
  rflags?: number;
  /** ELF symbols (name → address) for the debugger. */
  symbols: Array<{ name: string; address: number; size: number }>;
  /** Human-readable notes on what was loaded where. */
  notes: string[];
  /** Multiboot: guest-physical address of the multiboot information structure. */
  multibootInfo?: number;
}
