/**
 * What the hypervisor's run returns to the VMM: every variant of the seed crate's
 * `AxVCpuExitReason` (reference §1), including the ones the crate never produces (MMIO,
 * nested page faults, CPU up/down, IPIs) and the real VM-entry failure reason.
 */
export type VCpuExit =
  /** The exit was handled inside the hypervisor; run again. */
  | { kind: 'Nothing' }
  /** VMCALL: nr in RAX, args in RDI, RSI, RDX, RCX, R8, R9 (RIP already advanced). */
  | { kind: 'Hypercall'; nr: bigint; args: [bigint, bigint, bigint, bigint, bigint, bigint] }
  /** IN/INS: the VMM supplies the data (completeIoRead). `count` > 1 for REP string forms. */
  | { kind: 'IoRead'; port: number; width: 1 | 2 | 4; count: number; string: boolean }
  /** OUT/OUTS: `data` holds the values written (one per repetition for string forms). */
  | { kind: 'IoWrite'; port: number; width: 1 | 2 | 4; data: number[]; string: boolean }
  /** RDMSR outside the hypervisor's own MSRs: the VMM completes it (completeMsrRead). */
  | { kind: 'SysRegRead'; addr: number }
  /** WRMSR outside the hypervisor's own MSRs. */
  | { kind: 'SysRegWrite'; addr: number; value: bigint }
  /** A guest access to an MMIO region (from an EPT violation, instruction decoded). */
  | { kind: 'MmioRead'; addr: number; width: 1 | 2 | 4 | 8; reg: string }
  | { kind: 'MmioWrite'; addr: number; width: 1 | 2 | 4 | 8; data: bigint }
  /** An EPT violation the hypervisor could not resolve as MMIO. */
  | { kind: 'NestedPageFault'; addr: number; access: { read: boolean; write: boolean; execute: boolean } }
  /** External-interrupt exit (acknowledged on exit): the vector. */
  | { kind: 'ExternalInterrupt'; vector: number }
  /** HLT, or an exit the hypervisor does not handle (with why). */
  | { kind: 'Halt'; why?: string }
  | { kind: 'CpuUp'; targetCpu: number; entry: number }
  | { kind: 'CpuDown' }
  | { kind: 'SendIpi'; targetCpu: number; vector: number }
  /** The guest powered off (OUT word 0x2000 to port 0x604, QEMU's ACPI power-off). */
  | { kind: 'SystemDown' }
  /** VM entry failed: the real failure (VM-instruction error or exit reason with bit 31) and the check. */
  | { kind: 'FailEntry'; reason: number; check: string };

export type VCpuExitKind = VCpuExit['kind'];

export const NOTHING: VCpuExit = { kind: 'Nothing' };
