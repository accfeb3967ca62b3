/**
 * What the debug engine (engine.ts) tells the one listening to it — the DAP session, tests, the
 * bench: why and where the guest stopped, that it runs again, its output, and how it ended.
 */
import type { DecodedExit } from '../../vmx/exitDecode';
import type { DecodedEntry } from './entryDecode';
import type { EndInfo } from './endReason';

export type StopReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'instruction breakpoint' | 'data breakpoint' | 'exception' | 'pause' | 'goto';

export interface StopInfo {
  reason: StopReason;
  description: string;
  /** Short text (the exit's name for exit stops). */
  text?: string;
  hitBreakpointIds?: number[];
  /** Stopped on this VM exit, before the hypervisor handled it. */
  exit?: DecodedExit;
  /** Stopped on this VM entry of a guest hypervisor's VMCS (the `vm_entry` filter). */
  entry?: DecodedEntry;
  /** The exit filter that stopped. */
  filter?: string;
}

export interface EngineListener {
  stopped(s: StopInfo): void;
  /** The guest runs (continue, step, restart). */
  continued(): void;
  /** Guest serial output ('stdout'), tracepoints and logpoints ('console'), problems ('stderr'). */
  output(text: string, category: 'stdout' | 'console' | 'stderr'): void;
  /** The guest ended (or the session was terminated): the reason in words. */
  ended(e: EndInfo): void;
}
