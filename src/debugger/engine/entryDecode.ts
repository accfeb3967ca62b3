/**
 * A VM entry of a guest hypervisor's VMCS (bare VT-x mode) decoded into named values, for the
 * `vm_entry` filter's conditions, tracepoints and stop descriptions — shaped like a decoded VM
 * exit (src/vmx/exitDecode.ts) so hit counts, `{field}` interpolation and the filter checks are
 * the same code. The outcomes are the SDM's (vol. 3C §30.3 VMLAUNCH/VMRESUME, §26.1-26.8):
 *  - entered: every check passed, the processor is at the nested guest's first instruction;
 *  - VMfailInvalid (no current VMCS, §30.2) / VMfailValid(n) with the VM-instruction error
 *    (§30.4: 4 VMLAUNCH of a launched VMCS, 5 VMRESUME of a clear one, 7 control fields §26.2.1,
 *    8 host-state fields §26.2.2-26.2.4), execution going on after the instruction;
 *  - a VM-entry failure with a VM exit (§26.8): basic reason 33 (guest state, §26.3.1) or 34
 *    (MSR loading, §26.4) with bit 31 set, execution going on at HOST_RIP.
 */
import type { VmEntryOutcome, VmxEngine } from '../../vmx/engine';
import type { DecodedExit, ExitValue } from '../../vmx/exitDecode';
import { EXIT_REASON_BY_NUMBER } from '../../vmx/exitReasons';
import { VM_INSTRUCTION_ERRORS } from '../../vmx/vmxInstructionsErrors';

/** The pseudo exit-reason number the `vm_entry` filter is keyed by (no exit reason is negative). */
export const VM_ENTRY_REASON = -1;
export const VM_ENTRY_ID = 'vm_entry';

/** The names a `vm_entry` condition may use (besides the general registers); `{check}` (text) is for log messages. */
export const ENTRY_NAMES = ['launch', 'resume', 'entered', 'failed', 'invalid', 'error', 'reason', 'rip', 'vmcs'] as const;

export type DecodedEntry = DecodedExit;

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/**
 * The check a VMfail names: the engine's own (the control or host-state check of §26.2 that
 * failed), else the meaning of the VM-instruction error (§30.4 table 30-1: 4 and 5 are the
 * launch-state rules of §30.3 VMLAUNCH/VMRESUME), or the rule of VMfailInvalid (§30.2).
 */
function failedCheck(out: Extract<VmEntryOutcome, { kind: 'fail' }>): string {
  if (out.check !== undefined) return out.check;
  const s = out.status;
  if (s.status === 'failValid') return VM_INSTRUCTION_ERRORS.find((e) => e.error === s.error)?.description ?? `VM-instruction error ${s.error}`;
  if (s.status === 'failInvalid') return '30.2 the current-VMCS pointer is not valid';
  return 'VMfail';
}

/** Decode one VMLAUNCH (`launch`) / VMRESUME outcome; `reg` reads the processor's general registers. */
export function decodeEntry(engine: VmxEngine, launch: boolean, out: VmEntryOutcome, reg: (name: string) => bigint): DecodedEntry {
  const v = engine.current;
  const insn = launch ? 'VMLAUNCH' : 'VMRESUME';
  const vmcs = v === null ? 0xffffffffffffffffn : BigInt(v.address);
  const rip = v === null ? 0n : v.read('GUEST_RIP');
  const f: Record<string, ExitValue> = {
    launch, resume: !launch, entered: out.kind === 'entered', failed: out.kind !== 'entered',
    invalid: out.kind === 'fail' && out.status.status === 'failInvalid',
    error: out.kind === 'fail' && out.status.status === 'failValid' ? BigInt(out.status.error) : 0n,
    reason: out.kind === 'exitOnEntry' ? BigInt(out.reason >>> 0) : 0n, rip, vmcs,
    check: out.kind === 'entered' ? '' : out.kind === 'fail' ? failedCheck(out) : out.check,
  };
  for (const g of ['rax', 'rcx', 'rdx', 'rbx', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15']) f[g] = reg(g);
  let summary: string;
  if (out.kind === 'entered') {
    summary = `${insn} of the VMCS at ${hex(vmcs)} entered the L2 guest at RIP=${hex(rip)}`;
  } else if (out.kind === 'fail') {
    const s = out.status;
    const what = s.status === 'failValid' ? `VMfailValid(${s.error})` : s.status === 'failInvalid' ? 'VMfailInvalid (no current VMCS)' : 'VMfail';
    summary = `VM entry failed: ${what} — ${failedCheck(out)} (${insn})`;
  } else {
    const basic = out.reason & 0xffff;
    const name = EXIT_REASON_BY_NUMBER.get(basic)?.name ?? `REASON_${basic}`;
    summary = `VM entry failed: exit reason ${hex(out.reason >>> 0)} (${name}) — ${out.check} (${insn})`;
  }
  return { reason: VM_ENTRY_REASON, name: 'VM entry', id: VM_ENTRY_ID, entryFailure: out.kind !== 'entered', fields: f, summary };
}
