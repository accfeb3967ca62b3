/** EPT: address translation in non-root operation (see vmxHooks.ts). */
import type { Cpu } from './cpu';
import { CpuException } from './exceptions';
import type { Access } from './mmu';

/**
 * A VM exit decided in the middle of a memory access (EPT violation, EPT misconfiguration,
 * APIC access: SDM vol. 3C §28.2.3, §29.4). The access does not know which instruction it
 * belongs to, so it throws this instead of exiting at once: like a fault, it unwinds the
 * instruction (nothing has changed yet, mmu.ts checks every page before writing) and the block
 * executor restores RIP to the instruction's start. Whoever catches it then calls `take(c)`,
 * which performs the VM exit with guest RIP = c.ripLo/c.ripHi:
 *   - Cpu.deliverException (an instruction's access or its fetch): take, then `c.exitTaken`;
 *   - event delivery (interrupts.ts) and event injection (vmEntry): record the IDT-vectoring
 *     information of the event being delivered first (§27.2.3), then take.
 * It is a CpuException (vector -1) only so every existing fault path carries it unchanged
 * (including the deferred fault of an instruction that crosses into an unfetchable page).
 */
export abstract class DeferredVmExit extends CpuException {
  constructor(detail: string) {
    super(-1, undefined, detail);
  }

  override get name(): string {
    return 'VM exit';
  }

  /** Perform the VM exit now (guest state saved with RIP = c.ripLo/c.ripHi, host state loaded). */
  abstract take(c: Cpu): void;
}

/** Non-root address translation (§28.2, §29.4). Owner: src/vmx/ept*.ts. */
export interface EptHooks {
  /**
   * Linear → host-physical in non-root operation (Cpu.translate calls it when `c.nonRoot`):
   * guest paging when CR0.PG = 1 (paging.ts, whose structure accesses come back through
   * `translate`), then EPT when "enable EPT" is 1, then the APIC-access page. Throws the
   * guest's #PF, or a DeferredVmExit. `size`: bytes of a data access within one page, 0 when
   * unknown (Mmu.translate). An access the APIC-access page virtualizes (§29.4.2-29.4.3; only
   * with a size) comes back redirected to the virtual-APIC page as `-1 - address`: an address
   * for this access only, which must not be cached.
   */
  linear(c: Cpu, lo: number, hi: number, access: Access, size: number): number;
  /**
   * The processor is making a write of `size` bytes that `linear` redirected (a virtualized write
   * to the APIC-access page, §29.4.3.1): APIC-write emulation follows the instruction (§29.4.3.2;
   * the engine sets `c.eventPending`, the processor ends its block after the instruction).
   */
  written(c: Cpu, size: number): void;
  /**
   * Guest-physical → host-physical for an access of paging.ts (`walk` true: a guest
   * paging-structure entry read or its accessed/dirty update; false with `hasLinear` false: a
   * PDPTE load by MOV to CR). `linLo/linHi` is the linear address being translated when
   * `hasLinear`. Identity when EPT is off. Throws a DeferredVmExit.
   */
  translate(c: Cpu, gpa: number, access: Access, linLo: number, linHi: number, hasLinear: boolean, walk: boolean): number;
  /**
   * "enable EPT" of the current non-root operation (meaningful only while `c.nonRoot`): paging.ts
   * sends guest paging-structure accesses and PDPTE loads through `translate` when it is true.
   */
  readonly active: boolean;
}
