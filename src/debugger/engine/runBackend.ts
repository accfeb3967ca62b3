/**
 * How the debug engine runs the machine and hears of VM exits, by mode:
 *  - built-in hypervisor: `Vmm.run`, exits of the hypervisor's VMCS through `Vmm.stopOnExit`
 *    (before the built-in handler runs; the next run handles the exit);
 *  - bare VT-x mode: `Machine.run`, exits and entries of the guest hypervisor's VMCS through a
 *    VmxObserver (bareBackend.ts) — the exit is complete when the debugger hears of it, the
 *    processor at HOST_RIP before the guest's handler runs.
 * The engine's run control, breakpoints and filters are the same code over both.
 */
import type { Vmm, VmmRunResult } from '../../vmm/vmm';
import type { DecodedExit } from '../../vmx/exitDecode';
import type { StoppedMachine } from '../stoppedMachine';
import type { DecodedEntry } from './entryDecode';

/** How a run returned: the Vmm's results, or a stop on a guest hypervisor's VM entry. */
export type RunOutcome = VmmRunResult | { reason: 'entryBreak'; entry: DecodedEntry; lastExit?: DecodedExit };

/** The engine's answers to what the machine does (true: stop there). */
export interface RunHooks {
  exit(e: DecodedExit): boolean;
  entry(e: DecodedEntry): boolean;
}

export interface RunBackend {
  readonly m: StoppedMachine;
  /**
   * True when an exit stopped on is handled by the next run (built-in hypervisor): stepping from
   * it runs the handler only, and RIP cannot be changed before. False in bare mode: the exit is
   * done and the guest's handler is ordinary code at HOST_RIP.
   */
  readonly handlerRunsOnResume: boolean;
  /** Run until `maxInstructions` have retired in total or something stops the run. */
  run(maxInstructions: number): RunOutcome;
  /** Every VM exit so far by reason name. */
  exitCounts(): Record<string, number>;
  /**
   * The VMCS values to compare with for changed flags and the fields written since (bare VT-x
   * mode), or undefined to compare with the previous stop.
   */
  vmcsBaseline(stoppedOnExit: boolean): VmcsBaseline | undefined;
}

export interface VmcsBaseline {
  values: ReadonlyMap<string, bigint>;
  written: ReadonlySet<string>;
}

export class BuiltinBackend implements RunBackend {
  readonly handlerRunsOnResume = true;

  constructor(readonly m: StoppedMachine, private readonly vmm: Vmm, hooks: RunHooks) {
    vmm.vcpu.eagerDecode = true;
    vmm.stopOnExit = (e) => hooks.exit(e);
  }

  run(maxInstructions: number): RunOutcome {
    return this.vmm.run(maxInstructions);
  }

  exitCounts(): Record<string, number> {
    return this.vmm.vcpu.exitTable();
  }

  vmcsBaseline(): undefined {
    return undefined;
  }
}
