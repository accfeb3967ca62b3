/**
 * A VMCS as the processor holds it (SDM vol. 3C §24.1, §24.11): every field of fields.ts as two
 * 32-bit halves indexed by the field's dense index, plus the launch state. The in-memory format
 * of a VMCS region is implementation-specific (§24.2); ours is written by `storeTo` (VMCLEAR)
 * and read by `loadFrom` (VMPTRLD):
 *   +0  revision identifier (bits 30:0) and shadow-VMCS indicator (bit 31)
 *   +4  VMX-abort indicator
 *   +8  launch state (0 clear, 1 launched)
 *   +16 field values, 8 bytes per field in table order (low half, high half).
 * Hot paths read `lo[i]`/`hi[i]` directly; `writeEpoch[group]` counts writes per field group so
 * VM entry re-checks only what changed.
 */
import { FIELD_COUNT, VMCS_FIELDS, fieldIndex } from './fields';

export const VMCS_DATA_OFFSET = 16;
export const VMCS_REGION_SIZE = 4096;

/** Group numbers for write tracking: control 0, exit-info 1, guest 2, host 3 (encoding bits 11:10). */
export const GROUP_OF_INDEX = Uint8Array.from(VMCS_FIELDS, (f) => (f.encoding >> 10) & 3);

/** Byte access to physical memory, as the engine sees it (host-physical for the current level). */
export interface PhysAccess {
  read32(addr: number): number;
  write32(addr: number, value: number): void;
}

export class Vmcs {
  readonly lo = new Int32Array(FIELD_COUNT);
  readonly hi = new Int32Array(FIELD_COUNT);
  /** Physical address of the VMCS region this data belongs to. */
  address: number;
  revision = 0;
  shadow = false;
  abortIndicator = 0;
  launched = false;
  /** Incremented on every write to a field of the group (control 0, exit-info 1, guest 2, host 3). */
  readonly writeEpoch = new Uint32Array(4);
  /**
   * Incremented on every write of a field through set32/set64 (VMWRITE): entry checks re-run
   * only for fields written since they last passed. Saving guest state on a VM exit writes the
   * arrays directly and does not count (the processor's own writes need no re-check).
   */
  readonly fieldWrites = new Uint32Array(FIELD_COUNT);

  constructor(address: number) {
    this.address = address;
  }

  get32(i: number): number {
    return this.lo[i];
  }

  set32(i: number, v: number): void {
    this.lo[i] = v;
    this.writeEpoch[GROUP_OF_INDEX[i]]++;
    this.fieldWrites[i]++;
  }

  set64(i: number, lo: number, hi: number): void {
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.writeEpoch[GROUP_OF_INDEX[i]]++;
    this.fieldWrites[i]++;
  }

  /** Value as a BigInt (edges: debugger, tests, panels). */
  read(name: string): bigint {
    const i = fieldIndex(name);
    return (BigInt(this.hi[i] >>> 0) << 32n) | BigInt(this.lo[i] >>> 0);
  }

  /** Set a field by name without VMWRITE's checks (tests and tools; the engine uses vmwrite). */
  write(name: string, value: bigint | number): void {
    const v = BigInt.asUintN(64, BigInt(value));
    this.set64(fieldIndex(name), Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
  }

  /** VMCLEAR: write the data into the VMCS region (§30.3 VMCLEAR "ensure data ... is written"). */
  storeTo(mem: PhysAccess): void {
    const a = this.address;
    mem.write32(a, (this.revision & 0x7fffffff) | (this.shadow ? 0x80000000 : 0));
    mem.write32(a + 4, this.abortIndicator);
    mem.write32(a + 8, this.launched ? 1 : 0);
    for (let i = 0; i < FIELD_COUNT; i++) {
      mem.write32(a + VMCS_DATA_OFFSET + i * 8, this.lo[i]);
      mem.write32(a + VMCS_DATA_OFFSET + i * 8 + 4, this.hi[i]);
    }
  }

  /** VMPTRLD: read the data from the VMCS region. */
  loadFrom(mem: PhysAccess): void {
    const a = this.address;
    const rev = mem.read32(a);
    this.revision = rev & 0x7fffffff;
    this.shadow = (rev & 0x80000000) !== 0;
    this.abortIndicator = mem.read32(a + 4);
    this.launched = (mem.read32(a + 8) & 1) === 1;
    for (let i = 0; i < FIELD_COUNT; i++) {
      this.lo[i] = mem.read32(a + VMCS_DATA_OFFSET + i * 8);
      this.hi[i] = mem.read32(a + VMCS_DATA_OFFSET + i * 8 + 4);
    }
    for (let g = 0; g < 4; g++) this.writeEpoch[g]++;
  }
}
