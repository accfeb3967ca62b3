/**
 * Which fields of a guest hypervisor's VMCS the guest wrote since the previous VM exit (bare VT-x
 * mode; the VMCS panel's `changed` flags). The VMCS counts the writes of VMWRITE per field
 * (src/vmx/vmcs.ts `fieldWrites`); the processor's own writes at a VM exit (exit information,
 * saved guest state, SDM vol. 3C §27.2-27.3) do not count. At each exit the counters and values
 * are copied (three typed arrays, no BigInt): a stop compares the VMCS with the copy taken at
 * the exit before the one it is stopped on, or at the latest exit when stopped elsewhere.
 */
import type { Vmcs } from '../../vmx/vmcs';
import { VMCS_FIELDS, fieldIndex } from '../../vmx/fields';

interface Snapshot {
  address: number;
  lo: Int32Array;
  hi: Int32Array;
  writes: Uint32Array;
}

const SUPPORTED = VMCS_FIELDS.filter((f) => f.supported).map((f) => ({ name: f.name, i: fieldIndex(f.name) }));

export class GuestVmcsWrites {
  private last: Snapshot | null = null;
  private previous: Snapshot | null = null;

  /** A VM exit of `v` was performed (the exit information is recorded). */
  atExit(v: Vmcs): void {
    this.previous = this.last;
    this.last = { address: v.address, lo: v.lo.slice(), hi: v.hi.slice(), writes: v.fieldWrites.slice() };
  }

  /**
   * Per supported field, the value to compare with: the value at the baseline exit for a field
   * the guest wrote since (changed when it differs now), else the value now (unchanged).
   * Empty when there is no baseline for this VMCS (nothing is marked).
   */
  baseline(v: Vmcs | null, stoppedOnExit: boolean): { values: Map<string, bigint>; written: Set<string> } {
    const values = new Map<string, bigint>();
    const written = new Set<string>();
    const b = stoppedOnExit ? this.previous : this.last;
    if (v === null || b === null || b.address !== v.address) return { values, written };
    for (const { name, i } of SUPPORTED) {
      const w = v.fieldWrites[i] !== b.writes[i];
      if (w) written.add(name);
      const [lo, hi] = w ? [b.lo[i], b.hi[i]] : [v.lo[i], v.hi[i]];
      values.set(name, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
    }
    return { values, written };
  }
}
