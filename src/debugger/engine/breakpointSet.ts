/**
 * The person's breakpoints of one session, by kind, and what they arm on the processor: the
 * code addresses and the watched ranges of one HostDebug (src/x86/hostDebug.ts). Source and
 * function breakpoints are bound again through new debug information after a restart.
 */
import type { HostDebug, WatchKind } from '../../x86/hostDebug';
import type { DebugInfo } from '../model';
import {
  dataBreakpoint, functionBreakpoint, instructionBreakpoint, sourceBreakpoint,
  type BreakpointOptions, type CodeBreakpoint, type DataBreakpoint,
} from './breakpoints';

export class BreakpointSet {
  private instruction: CodeBreakpoint[] = [];
  private functions: CodeBreakpoint[] = [];
  /** Source breakpoints by file, with the lines the person asked for. */
  private readonly sources = new Map<string, { requested: number[]; bps: CodeBreakpoint[] }>();
  private data: DataBreakpoint[] = [];

  constructor(private readonly hd: HostDebug) {}

  setInstruction(list: readonly ({ address: number } & BreakpointOptions)[]): CodeBreakpoint[] {
    this.instruction = list.map((b) => instructionBreakpoint(b.address, b));
    return this.instruction;
  }

  setFunctions(list: readonly ({ name: string } & BreakpointOptions)[], info: DebugInfo): CodeBreakpoint[] {
    this.functions = list.map((b) => functionBreakpoint(b.name, info, b));
    return this.functions;
  }

  setSource(file: string, list: readonly ({ line: number } & BreakpointOptions)[], info: DebugInfo): CodeBreakpoint[] {
    const bps = list.map((b) => sourceBreakpoint(file, b.line, info, b));
    this.sources.set(file, { requested: list.map((b) => b.line), bps });
    return bps;
  }

  /** Replace the data breakpoints and the processor's watches (the caller flushes the TLB). */
  setData(list: readonly ({ start: number; length: number; access: WatchKind; physical: boolean } & BreakpointOptions)[]): DataBreakpoint[] {
    this.data = list.map((b) => dataBreakpoint(b.start, b.length, b.access, b.physical, b));
    this.armWatches();
    return this.data;
  }

  private armWatches(): void {
    this.hd.setWatches(this.data.filter((b) => b.verified).map((b) => ({ id: b.id, start: b.start, length: b.length, kind: b.access, physical: b.physical })));
  }

  /** The verified code breakpoints of every kind. */
  code(): CodeBreakpoint[] {
    return [...this.instruction, ...this.functions, ...[...this.sources.values()].flatMap((s) => s.bps)].filter((b) => b.verified);
  }

  dataById(id: number): DataBreakpoint | undefined {
    return this.data.find((b) => b.id === id);
  }

  /** Arm the code breakpoints (and a temporary address of a step) on the processor. */
  armCode(extra: number | undefined): void {
    const addrs = new Set<number>();
    for (const b of this.code()) for (const a of b.addresses) addrs.add(a);
    if (extra !== undefined) addrs.add(extra);
    this.hd.setCode(addrs);
  }

  /** After a restart: bind symbols and lines again (ids kept), hit counts from zero. */
  rebind(info: DebugInfo): void {
    this.functions = this.functions.map((b) => ({ ...functionBreakpoint(b.name!, info, b), id: b.id }));
    for (const [file, s] of this.sources) {
      s.bps = s.bps.map((b, i) => ({ ...sourceBreakpoint(file, s.requested[i], info, b), id: b.id }));
    }
    for (const b of [...this.instruction, ...this.data]) b.hits = 0;
    this.armWatches();
  }
}
