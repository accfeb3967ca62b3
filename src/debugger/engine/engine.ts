/**
 * The debug engine: one guest — under the built-in hypervisor, or in bare VT-x mode a guest that
 * is a hypervisor itself — with run control, breakpoints and exit filters. Independent of DAP
 * and VS Code (the adapter translates; tests and the bench drive it directly). Everything is
 * deterministic: time is the guest's instruction count.
 *
 * Running happens in slices on the event loop (setImmediate between slices of at most ~15 ms),
 * so `pause` is honoured within a slice even in an endless loop. Stops before a VM exit's
 * handler use Vmm.stopOnExit: the guest is seen exactly as the exit left it, and continuing or
 * stepping runs the handler first. In bare mode (runBackend.ts, bareBackend.ts) exit filters stop
 * on the exits of the guest hypervisor's VMCS at HOST_RIP, before its handler's first
 * instruction, and the `vm_entry` filter on its VMLAUNCH/VMRESUME.
 */
import type { Vmm, VmmRunResult } from '../../vmm/vmm';
import type { DecodedExit } from '../../vmx/exitDecode';
import { HostDebug, type WatchKind } from '../../x86/hostDebug';
import type { DebugInfo, ExitRecord, InspectTarget, ProgramImage } from '../model';
import type { Breakpoint, BreakpointOptions, CodeBreakpoint, DataBreakpoint } from './breakpoints';
import { BreakpointSet } from './breakpointSet';
import { disassembleWindow, type DisassembledInsn } from './disassembly';
import { armFilter, armLaunchFilters, ExitFilterError, ExitFilters, type ArmedFilter, type ExitFilterSpec } from './exitFilters';
import { guestReg, readGuestMemory, ripFromLinear, ripLinear, setGuestReg, writeGuestMemory } from './guestState';
import { checkLaunchConfig, LaunchError, VM_ENTRY_NEEDS_BARE, type CheckedLaunch } from './launchConfig';
import { loadProgram, type LoadedProgram } from './loadProgram';
import { returnAddress, stackFrames, type Frame } from './stack';
import { describeEnd } from './endReason';
import { interpolate, shouldStop, snapshotVmcs } from './breakpointHit';
import type { StoppedMachine } from '../stoppedMachine';
import { addAddress, formatAddress } from '../address';
import { BuiltinBackend, type RunBackend, type RunOutcome } from './runBackend';
import { BareBackend } from './bareBackend';
import type { DecodedEntry } from './entryDecode';
import { exitStopDescription, exitStopFrames } from './bareStop';
import type { EngineListener, StopInfo, StopReason } from './engineEvents';

export type { StopReason, StopInfo, EngineListener } from './engineEvents';

type Mode =
  | { kind: 'continue' }
  | { kind: 'instruction' }
  | { kind: 'line'; over: boolean; file: string; line: number }
  /** Run to a temporary breakpoint at `address` reached with RSP >= minRsp (step over, step out), then `then`. */
  | { kind: 'until'; address: number; minRsp: bigint; then?: Mode };

/** Instructions per vmm.run call while continuing (the pause check and serial flush happen between). */
const SLICE = 200_000;
/** Wall-clock budget of one turn of the event loop. */
const TURN_MS = 15;
const HISTORY = 1024;

export class DebugEngine {
  /** The launch configuration in effect (a restart may bring a new one). */
  private cfg: CheckedLaunch;
  /** The machine (with or without the built-in hypervisor: stoppedMachine.ts). */
  m!: StoppedMachine;
  private backend!: RunBackend;
  info!: DebugInfo;
  image!: ProgramImage;
  state: 'stopped' | 'running' | 'ended' = 'stopped';
  lastStop: StopInfo | undefined;
  private maxInstructions = 0;
  private readonly hd = new HostDebug();
  private mode: Mode = { kind: 'continue' };
  private pauseRequested = false;
  private timer: NodeJS.Immediate | undefined;
  /** Stopped on an exit before its handler (the next run handles it). */
  private atExit: DecodedExit | undefined;
  /** The stop is at the VM exit itself (an exit filter, or an entry failure with an exit). */
  private atExitEvent = false;
  private exitStopFilter: ArmedFilter | undefined;
  private readonly exitFilters = new ExitFilters();
  private launchFilters: ArmedFilter[] = [];
  private uiFilters: ArmedFilter[] = [];
  private exitHistory: ExitRecord[] = [];
  private exitSeq = 0;
  private vmcsNow: Map<string, bigint> | undefined;
  private vmcsBefore: Map<string, bigint> | undefined;
  private readonly decoder = new TextDecoder('utf-8');
  private serialBytes: number[] = [];
  private readonly bps = new BreakpointSet(this.hd);

  private constructor(config: CheckedLaunch, private readonly listener: EngineListener) {
    this.cfg = config;
    this.launchFilters = armLaunchFilters(config);
    this.load(loadProgram(config, this.serialSink));
  }

  get config(): CheckedLaunch {
    return this.cfg;
  }

  private readonly serialSink = (b: number): void => {
    this.serialBytes.push(b);
  };

  /** Check the configuration and load the program (nothing runs yet); throws LaunchError. */
  static launch(raw: unknown, listener: EngineListener): DebugEngine {
    return new DebugEngine(checkLaunchConfig(raw), listener);
  }

  private load(p: LoadedProgram): void {
    if (this.backend instanceof BareBackend) this.backend.dispose();
    this.m = p.m;
    this.info = p.info;
    this.image = p.image;
    this.maxInstructions = p.maxInstructions;
    const hooks = { exit: (e: DecodedExit) => this.onExit(e), entry: (e: DecodedEntry) => this.onEntry(e) };
    this.backend = p.m.vmm !== null ? new BuiltinBackend(p.m, p.m.vmm, hooks) : new BareBackend(p.m, p.prepared.guestVmx, hooks);
    this.atExit = undefined;
    this.atExitEvent = false;
    this.exitHistory = [];
    this.exitSeq = 0;
    this.vmcsNow = this.vmcsBefore = undefined;
    for (const f of [...this.launchFilters, ...this.uiFilters]) f.hits = 0;
    this.exitFilters.set([...this.launchFilters, ...this.uiFilters]);
  }

  /** After configuration: stop on entry, or run. */
  start(): void {
    if (this.config.stopOnEntry) this.stop({ reason: 'entry', description: 'stopped on entry' });
    else this.go({ kind: 'continue' });
  }

  // ---- what inspection sees ------------------------------------------------------------------
  target(): InspectTarget {
    const counts = new Map<string, number>(Object.entries(this.backend.exitCounts()));
    const baseline = this.backend.vmcsBaseline(this.atExitEvent);
    return {
      machine: this.m, info: this.info, exits: this.exitHistory, exitCounts: counts, stoppedExit: this.atExit,
      previousVmcs: baseline?.values ?? this.vmcsBefore, writtenVmcs: baseline?.written, syntax: this.config.syntax,
    };
  }

  /** The built-in hypervisor's VMM (tests, the bench); an error in bare VT-x mode, which has none. */
  get vmm(): Vmm {
    if (this.m.vmm === null) throw new Error('no built-in hypervisor: the session runs in bare VT-x mode (hypervisor: "none")');
    return this.m.vmm;
  }

  /** Every VM exit so far by reason name (the built-in hypervisor's, or the guest hypervisor's VMCSs'). */
  exitCounts(): Record<string, number> {
    return this.backend.exitCounts();
  }

  /** True in bare VT-x mode (no built-in hypervisor: the guest is a hypervisor). */
  get bare(): boolean {
    return this.m.vmm === null;
  }

  get exits(): readonly ExitRecord[] {
    return this.exitHistory;
  }

  get stoppedOnExit(): DecodedExit | undefined {
    return this.atExit;
  }

  // ---- breakpoints -----------------------------------------------------------------------------
  setInstructionBreakpoints(list: readonly ({ address: number } & BreakpointOptions)[]): CodeBreakpoint[] {
    const r = this.bps.setInstruction(list);
    this.armCode();
    return r;
  }

  setFunctionBreakpoints(list: readonly ({ name: string } & BreakpointOptions)[]): CodeBreakpoint[] {
    const r = this.bps.setFunctions(list, this.info);
    this.armCode();
    return r;
  }

  setSourceBreakpoints(file: string, list: readonly ({ line: number } & BreakpointOptions)[]): CodeBreakpoint[] {
    const r = this.bps.setSource(file, list, this.info);
    this.armCode();
    return r;
  }

  setDataBreakpoints(list: readonly ({ start: number; length: number; access: WatchKind; physical: boolean } & BreakpointOptions)[]): DataBreakpoint[] {
    const r = this.bps.setData(list);
    this.attach();
    this.m.cpu.flushTlb();
    return r;
  }

  /** The exception-filter breakpoints of the UI (launch.json `exitBreakpoints` stay armed besides). */
  setExitFilters(list: readonly ExitFilterSpec[]): { verified: boolean; message?: string }[] {
    const armed: ArmedFilter[] = [];
    const results = list.map((s) => {
      if (s.filter === 'vm_entry' && !this.bare) return { verified: false, message: VM_ENTRY_NEEDS_BARE };
      try {
        armed.push(armFilter(s));
        return { verified: true };
      } catch (e) {
        if (e instanceof ExitFilterError) return { verified: false, message: e.message };
        throw e;
      }
    });
    this.uiFilters = armed;
    this.exitFilters.set([...this.launchFilters, ...this.uiFilters]);
    return results;
  }

  private armCode(): void {
    this.bps.armCode(this.mode.kind === 'until' ? this.mode.address : undefined);
    this.attach();
  }

  /** The processor looks at breakpoints only while one is armed. */
  private attach(): void {
    const c = this.m.cpu;
    c.hostDebug = this.hd.empty ? null : this.hd;
    c.hostWatching = this.hd.hasWatches;
  }

  // ---- run control ---------------------------------------------------------------------------
  continue(): void {
    this.go({ kind: 'continue' });
  }

  pause(): void {
    if (this.state === 'running') this.pauseRequested = true;
  }

  stepInstruction(): void {
    this.go({ kind: 'instruction' });
  }

  /** Step over: CALLs, INT n and REP string instructions run to the next instruction; `line` steps a source line. */
  next(granularity: 'instruction' | 'line' = 'instruction'): void {
    if (granularity === 'line' && this.lineStep(true)) return;
    const i = this.instructionAtRip();
    if (i !== undefined && i.stepOver && !this.handlerPending) {
      this.go({ kind: 'until', address: addAddress(i.address, i.length), minRsp: this.rsp() });
      return;
    }
    this.go({ kind: 'instruction' });
  }

  stepIn(granularity: 'instruction' | 'line' = 'instruction'): void {
    if (granularity === 'line' && this.lineStep(false)) return;
    this.go({ kind: 'instruction' });
  }

  /** Run to the return address of the current function (the caller's frame, else the word at RSP). */
  stepOut(): void {
    const lin = ripLinear(this.m);
    const atStart = this.info.symbols.nameAt(lin)?.offset === 0;
    const ret = returnAddress(this.m, this.info, atStart);
    if (ret === undefined) {
      this.listener.output('step out: no return address readable on the stack; stepping one instruction\n', 'console');
      this.go({ kind: 'instruction' });
      return;
    }
    this.go({ kind: 'until', address: ret, minRsp: this.rsp() + 1n });
  }

  private lineStep(over: boolean): boolean {
    const pos = this.info.lines?.lineAt(ripLinear(this.m));
    if (pos === undefined) return false;
    const line: Mode = { kind: 'line', over, file: pos.file, line: pos.line };
    const i = over && !this.handlerPending ? this.instructionAtRip() : undefined;
    if (i !== undefined && i.stepOver) this.go({ kind: 'until', address: addAddress(i.address, i.length), minRsp: this.rsp(), then: line });
    else this.go(line);
    return true;
  }

  /** Set RIP (the Goto command). Refused while stopped on an exit: its handler still has to run. */
  goto(linear: number): void {
    if (this.state !== 'stopped') throw new Error('goto: the guest is not stopped');
    if (this.handlerPending) throw new Error(`goto: stopped on a VM exit (${this.atExit!.name}) before its handler; step once first`);
    setGuestReg(this.m, 'rip', ripFromLinear(this.m, linear));
    this.stop({ reason: 'goto', description: `RIP set to ${formatAddress(linear)}` });
  }

  /**
   * Load the program again and start over (breakpoints kept, bound again). With `raw`, a new
   * launch configuration (DAP restart's `arguments`: the launch.json as edited since) is checked
   * and its program loaded first: a LaunchError then leaves the session exactly as it was.
   */
  restart(raw?: unknown): void {
    this.prepareRestart(raw)();
  }

  /** The checking and loading half of `restart` (throws LaunchError, changing nothing); the function it returns starts over. */
  prepareRestart(raw?: unknown): () => void {
    let next: { config: CheckedLaunch; filters: ArmedFilter[] } | undefined;
    let program: LoadedProgram;
    if (raw !== undefined) {
      const config = checkLaunchConfig(raw);
      next = { config, filters: armLaunchFilters(config) };
      program = loadProgram(config, this.serialSink);
    } else {
      program = loadProgram(this.cfg, this.serialSink);
    }
    return () => this.startOver(program, next);
  }

  private startOver(program: LoadedProgram, next: { config: CheckedLaunch; filters: ArmedFilter[] } | undefined): void {
    this.cancel();
    this.flushSerial();
    if (next !== undefined) {
      this.cfg = next.config;
      this.launchFilters = next.filters;
    }
    this.load(program);
    this.bps.rebind(this.info);
    this.mode = { kind: 'continue' };
    this.armCode();
    this.state = 'stopped';
    this.start();
  }

  terminate(): void {
    if (this.state === 'ended') return;
    this.cancel();
    this.flushSerial();
    this.state = 'ended';
    this.listener.ended({ reason: 'terminated', description: 'the session was terminated' });
  }

  private cancel(): void {
    if (this.timer !== undefined) clearImmediate(this.timer);
    this.timer = undefined;
    this.pauseRequested = false;
  }

  private rsp(): bigint {
    return guestReg(this.m, 'rsp');
  }

  /** Stopped on an exit whose handler the next run performs (built-in hypervisor only). */
  private get handlerPending(): boolean {
    return this.atExit !== undefined && this.backend.handlerRunsOnResume;
  }

  private go(mode: Mode): void {
    if (this.state === 'ended') return;
    if (this.state === 'running') this.cancel();
    this.mode = mode;
    this.armCode();
    this.pauseRequested = false;
    this.state = 'running';
    this.lastStop = undefined;
    // The instruction the guest is stopped on runs once, even with a breakpoint on it.
    this.hd.skipLinear = ripLinear(this.m);
    this.listener.continued();
    this.timer = setImmediate(() => this.turn());
  }

  /** One turn of the event loop: run slices until a stop, the end, or the turn's time is up. */
  private turn(): void {
    this.timer = undefined;
    try {
      const until = performance.now() + TURN_MS;
      for (;;) {
        if (this.state !== 'running') return;
        if (this.pauseRequested) {
          this.stop({ reason: 'pause', description: 'paused' });
          return;
        }
        const c = this.m.cpu;
        const single = this.mode.kind === 'instruction' || this.mode.kind === 'line';
        const handler = this.handlerPending;
        if (c.icount >= this.maxInstructions && !handler) {
          this.end({ reason: 'limit' });
          return;
        }
        const target = single ? (handler ? c.icount : c.icount + 1) : Math.min(c.icount + SLICE, this.maxInstructions);
        this.atExit = undefined;
        this.atExitEvent = false;
        const r = this.backend.run(target);
        this.flushSerial();
        if (this.after(r)) return;
        if (performance.now() > until) break;
      }
      this.timer = setImmediate(() => this.turn());
    } catch (e) {
      // A host-side bug: fail loudly with context, never a silent wrong state.
      const where = (() => {
        try {
          return ` at RIP 0x${guestReg(this.m, 'rip').toString(16)}, instruction ${this.m.cpu.icount}`;
        } catch {
          return '';
        }
      })();
      this.listener.output(`vtx internal error${where}: ${(e as Error).stack ?? String(e)}\n`, 'stderr');
      this.state = 'ended';
      this.listener.ended({ reason: 'error', description: `internal error: ${(e as Error).message}` });
    }
  }

  /** Act on how vmm.run returned; true when the run stopped or ended. */
  private after(r: RunOutcome): boolean {
    switch (r.reason) {
      case 'exitBreak': {
        const e = r.lastExit!;
        this.atExit = e;
        this.atExitEvent = true;
        const f = this.exitStopFilter;
        this.exitStopFilter = undefined;
        if (f === undefined && this.bare) this.stop({ reason: 'step', description: `step — ${exitStopDescription(this.m, e)}`, exit: e });
        else this.stop({ reason: 'exception', description: exitStopDescription(this.m, e), text: e.name, exit: e, filter: f?.spec.filter });
        return true;
      }
      case 'entryBreak': {
        const d = r.entry;
        // A failure with an exit (SDM vol. 3C §26.8) leaves the processor at HOST_RIP like any exit.
        this.atExit = r.lastExit;
        this.atExitEvent = d.fields.reason !== 0n;
        this.exitStopFilter = undefined;
        this.stop({ reason: 'exception', description: d.summary, text: d.entryFailure ? 'VM entry failed' : 'VM entry', entry: d, exit: r.lastExit, filter: 'vm_entry' });
        return true;
      }
      case 'break':
        return this.onBreak();
      case 'limit':
        if (this.m.cpu.icount >= this.maxInstructions) {
          this.end({ reason: 'limit' });
          return true;
        }
        return this.afterInstruction();
      default:
        this.end(r);
        return true;
    }
  }

  /** Between instructions in a stepping mode: has the step finished? */
  private afterInstruction(): boolean {
    const m = this.mode;
    if (m.kind === 'instruction') {
      this.stop({ reason: 'step', description: 'step' });
      return true;
    }
    if (m.kind !== 'line') return false;
    const lin = ripLinear(this.m);
    const pos = this.info.lines?.lineAt(lin);
    if (pos !== undefined && this.info.lines!.isStatementStart(lin) && (pos.line !== m.line || pos.file !== m.file)) {
      this.stop({ reason: 'step', description: 'step' });
      return true;
    }
    if (m.over) {
      const i = this.instructionAtRip();
      if (i !== undefined && i.stepOver) {
        this.mode = { kind: 'until', address: addAddress(i.address, i.length), minRsp: this.rsp(), then: m };
        this.armCode();
      }
    }
    return false;
  }

  private onBreak(): boolean {
    const hits = this.hd.hits.splice(0);
    const single = this.mode.kind === 'instruction' || this.mode.kind === 'line';
    if (hits.length > 0) {
      const stopIds: number[] = [];
      let what = '';
      for (const h of hits) {
        const b = this.bps.dataById(h.id);
        if (b === undefined || stopIds.includes(b.id)) continue;
        if (this.shouldStop(b)) {
          stopIds.push(b.id);
          what ||= `${h.write ? 'write' : 'read'} of ${h.size} byte${h.size === 1 ? '' : 's'} at ${b.physical ? 'guest-physical' : 'linear'} ${formatAddress(h.address)}`;
        }
      }
      if (stopIds.length > 0) {
        this.stop({ reason: 'data breakpoint', description: `data breakpoint: ${what}`, hitBreakpointIds: stopIds });
        return true;
      }
      return single ? this.afterInstruction() : false;
    }
    const lin = ripLinear(this.m);
    const stopIds: number[] = [];
    let kind: CodeBreakpoint['kind'] | undefined;
    for (const b of this.bps.code()) {
      if (!b.addresses.includes(lin)) continue;
      if (this.shouldStop(b)) {
        stopIds.push(b.id);
        kind ??= b.kind;
      }
    }
    if (stopIds.length > 0) {
      const reason: StopReason = kind === 'function' ? 'function breakpoint' : kind === 'instruction' ? 'instruction breakpoint' : 'breakpoint';
      this.stop({ reason, description: `${reason} at ${formatAddress(lin)}`, hitBreakpointIds: stopIds });
      return true;
    }
    const m = this.mode;
    if (m.kind === 'until' && lin === m.address && this.rsp() >= m.minRsp) {
      if (m.then === undefined) {
        this.stop({ reason: 'step', description: 'step' });
        return true;
      }
      this.mode = m.then;
      this.armCode();
      if (this.afterInstruction()) return true;
    }
    this.hd.skipLinear = lin;
    return false;
  }

  private shouldStop(b: Breakpoint): boolean {
    return shouldStop(b, () => this.target(), (text, category) => this.listener.output(text, category));
  }

  private interpolate(message: string, exit: DecodedExit | undefined): string {
    return interpolate(message, exit, this.target());
  }

  /** Every VM exit, before the hypervisor handles it: history, tracepoints, exit filters. */
  private onExit(e: DecodedExit): boolean {
    this.exitSeq++;
    if (this.exitHistory.length >= HISTORY) this.exitHistory.shift();
    this.exitHistory.push({ seq: this.exitSeq, icount: this.m.cpu.icount, exit: e });
    if (this.filtered(e)) return true;
    // Bare mode: a step that leaves the nested guest by a VM exit ends at HOST_RIP, before the
    // handler's first instruction (SDM vol. 3C §27.5), shown as a stop on that exit.
    return this.bare && (this.mode.kind === 'instruction' || this.mode.kind === 'line');
  }

  /** Every VMLAUNCH/VMRESUME of a guest hypervisor (bare mode): the `vm_entry` filter. */
  private onEntry(e: DecodedEntry): boolean {
    return this.filtered(e);
  }

  /** Tracepoints log; true when a filter stops on `e`. */
  private filtered(e: DecodedExit): boolean {
    if (this.exitFilters.size === 0) return false;
    const o = this.exitFilters.check(e);
    if (o === null) return false;
    for (const l of o.logs) this.listener.output(`${this.interpolate(l.message, e)}\n`, 'console');
    if (o.stop === null) return false;
    this.exitStopFilter = o.stop;
    return true;
  }

  private stop(s: StopInfo): void {
    this.cancel();
    this.flushSerial();
    if (this.mode.kind === 'until') {
      this.mode = { kind: 'continue' };
      this.armCode();
    }
    this.state = 'stopped';
    this.lastStop = s;
    this.vmcsBefore = this.vmcsNow;
    this.vmcsNow = snapshotVmcs(this.m);
    this.listener.stopped(s);
  }

  private end(r: VmmRunResult | { reason: 'limit' }): void {
    this.cancel();
    this.flushSerial();
    this.state = 'ended';
    this.listener.ended(describeEnd(r, this.maxInstructions));
  }

  private flushSerial(): void {
    if (this.serialBytes.length === 0) return;
    const text = this.decoder.decode(Uint8Array.from(this.serialBytes), { stream: true });
    this.serialBytes = [];
    if (text !== '') this.listener.output(text, 'stdout');
  }

  // ---- views -----------------------------------------------------------------------------------
  /** The call stack (at most `max` frames: 1 for only the frame at RIP, without unwinding). */
  stackFrames(max = 64): Frame[] {
    // Bare mode, stopped on an exit of the guest's VMCS: the L1 handler about to run and the L2 context.
    if (this.atExit !== undefined && this.bare) return exitStopFrames(this.m, this.info, this.atExit).slice(0, max);
    return stackFrames(this.m, this.info, max);
  }

  private instructionAtRip(): DisassembledInsn | undefined {
    return this.disassemble(ripLinear(this.m), 0, 1)[0];
  }

  /** `count` instructions starting `offset` instructions from linear `address` (negative: before it). */
  disassemble(address: number, offset: number, count: number): DisassembledInsn[] {
    return disassembleWindow(this.m, this.info, this.config.syntax, address, offset, count);
  }

  /** Bytes typed into the guest's serial port (COM1's receiver; the guest reads them when it will). */
  serialInput(bytes: Uint8Array): void {
    if (this.state === 'ended') throw new Error('the guest has ended');
    this.m.machine.uart.input(bytes);
  }

  readMemory(address: bigint, count: number): Uint8Array {
    return readGuestMemory(this.m, address, count);
  }

  writeMemory(address: bigint, bytes: Uint8Array): number {
    return writeGuestMemory(this.m, address, bytes);
  }
}

export { LaunchError };
