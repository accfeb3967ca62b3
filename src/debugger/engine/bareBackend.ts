/**
 * Running a guest that is a hypervisor (bare VT-x mode, `hypervisor: "none"`) under the
 * debugger. The engine's VmxObserver (src/vmx/engine.ts) tells of every VM exit of the guest's
 * VMCS after the exit is performed — host state loaded, RIP = HOST_RIP, before the handler's
 * first instruction (SDM vol. 3C §27.5) — and of every VMLAUNCH/VMRESUME outcome (§30.3,
 * §26.1-26.8). A stop there sets `cpu.stopRequested` (the processor returns before its next
 * instruction) and `machine.returnRequested` (Machine.run returns instead of going on).
 * The guest is untrusted: a decode that throws is reported as an internal error by the engine's
 * turn, never inside the processor's instruction.
 */
import type { Machine } from '../../vmm/machine';
import type { GuestVmxStats } from '../../vmm/guestVmxStats';
import type { VmEntryOutcome, VmxEngine, VmxObserver } from '../../vmx/engine';
import { decodeExit, type DecodedExit } from '../../vmx/exitDecode';
import { GPR_NAMES } from '../../x86/registers';
import type { StoppedMachine } from '../stoppedMachine';
import { decodeEntry } from './entryDecode';
import { GuestVmcsWrites } from './guestVmcsWrites';
import type { RunBackend, RunHooks, RunOutcome, VmcsBaseline } from './runBackend';

export class BareBackend implements RunBackend, VmxObserver {
  readonly handlerRunsOnResume = false;
  private pending: RunOutcome | null = null;
  /** A guest-caused problem met inside an observer call, rethrown from `run` (outside the processor). */
  private failure: unknown = null;
  private readonly writes = new GuestVmcsWrites();
  private readonly machine: Machine;
  /** The exit just performed, for a VM-entry failure with an exit (heard as an exit first, §26.8). */
  private lastExit: DecodedExit | undefined;

  constructor(readonly m: StoppedMachine, private readonly stats: GuestVmxStats | null, private readonly hooks: RunHooks) {
    this.machine = m.machine;
    m.vmx?.addObserver(this);
  }

  /** Stop listening (the machine is dropped on restart). */
  dispose(): void {
    this.m.vmx?.removeObserver(this);
  }

  private readonly reg = (name: string): bigint => this.m.cpu.getReg64(GPR_NAMES.indexOf(name as (typeof GPR_NAMES)[number]));

  private stopHere(o: RunOutcome): void {
    this.pending = o;
    this.m.cpu.stopRequested = true;
    this.machine.returnRequested = true;
  }

  vmExit(engine: VmxEngine, _reason: number): void {
    try {
      const v = engine.current;
      if (v === null) return;
      this.writes.atExit(v);
      const e: DecodedExit = decodeExit((n) => v.read(n), this.reg);
      this.lastExit = e;
      if (this.hooks.exit(e)) this.stopHere({ reason: 'exitBreak', lastExit: e });
    } catch (err) {
      this.fail(err);
    }
  }

  vmEntry(engine: VmxEngine, launch: boolean, outcome: VmEntryOutcome): void {
    try {
      const d = decodeEntry(engine, launch, outcome, this.reg);
      // For a failure with an exit the exit was heard first (§26.8): a stop on the entry names the check.
      const exit = outcome.kind === 'exitOnEntry' ? this.lastExit : undefined;
      this.lastExit = undefined;
      if (this.hooks.entry(d)) {
        this.stopHere({ reason: 'entryBreak', entry: d, lastExit: exit });
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.m.cpu.stopRequested = true;
    this.machine.returnRequested = true;
  }

  run(maxInstructions: number): RunOutcome {
    this.pending = null;
    const r = this.machine.run(maxInstructions);
    this.machine.returnRequested = false;
    if (this.failure !== null) {
      const f = this.failure;
      this.failure = null;
      throw f;
    }
    const p = this.pending;
    this.pending = null;
    return p ?? r;
  }

  exitCounts(): Record<string, number> {
    return this.stats?.exitTable() ?? {};
  }

  vmcsBaseline(stoppedOnExit: boolean): VmcsBaseline {
    return this.writes.baseline(this.m.vmx?.current ?? null, stoppedOnExit);
  }
}
