/**
 * The VM exits and entries of a guest hypervisor's VMCSs (bare VT-x mode, `--hypervisor none`),
 * counted as one of the engine's observers (src/vmx/engine.ts VmxObserver): the `exits` table of
 * `vtx run` when the hypervisor is the guest's own. Exits are named by their basic reason
 * (SDM vol. 3C appendix C, src/vmx/exitReasons.ts); a VM-entry failure with a VM exit (§26.8)
 * counts under its basic reason (INVALID_GUEST_STATE, MSR_LOADING).
 */
import type { VmEntryOutcome, VmxEngine, VmxObserver } from '../vmx/engine';
import { EXIT_REASON_BY_NUMBER } from '../vmx/exitReasons';

export class GuestVmxStats implements VmxObserver {
  /** Exits by basic reason number. */
  private readonly counts = new Map<number, number>();
  /** VMLAUNCH/VMRESUME that entered the guest, and those that failed (VMfail or an exit on entry). */
  entries = 0;
  failedEntries = 0;

  /** Count the transitions of `engine` from now on. */
  constructor(engine: VmxEngine) {
    engine.addObserver(this);
  }

  vmExit(_engine: VmxEngine, reason: number): void {
    const basic = reason & 0xffff;
    this.counts.set(basic, (this.counts.get(basic) ?? 0) + 1);
  }

  vmEntry(_engine: VmxEngine, _launch: boolean, outcome: VmEntryOutcome): void {
    if (outcome.kind === 'entered') this.entries++;
    else this.failedEntries++;
  }

  /** The guest executed VMLAUNCH or VMRESUME (successfully or not): it is a hypervisor. */
  get used(): boolean {
    return this.entries + this.failedEntries > 0;
  }

  /** Exits by reason name, in order of first occurrence. */
  exitTable(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [r, n] of this.counts) out[EXIT_REASON_BY_NUMBER.get(r)?.name ?? `REASON_${r}`] = n;
    return out;
  }
}
