/** EPT: guest-physical translation in non-root operation (see vmxHooks.ts). */
import type { Cpu } from './cpu';
import type { Access } from './mmu';

/** Guest-physical accesses when EPT is on (§28.2). Owner: src/vmx/ept*.ts. */
export interface EptHooks {
  /**
   * Translate guest-physical `gpa` for `access`. Returns the host-physical address or performs
   * an EPT-violation / misconfiguration exit and throws VM_EXIT. `linLo/linHi` the guest-linear
   * address when there is one (`hasLinear`), `walk` true for a guest paging-structure access.
   */
  translate(c: Cpu, gpa: number, access: Access, linLo: number, linHi: number, hasLinear: boolean, walk: boolean): number;
}
