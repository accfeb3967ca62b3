/**
 * Changing a VMCS field from the debugger: through the engine's VMWRITE (SDM vol. 3C §30.3
 * VMWRITE), so its rules apply — an unsupported field fails with VM-instruction error 12, a
 * read-only one (the VM-exit information fields, unless IA32_VMX_MISC[29]) with error 13, and
 * the value is truncated to the field's width. A refused write leaves the VMCS as it was (the
 * VM-instruction error field the failure sets is put back: the debugger is not the host).
 * The VM-exit information fields (read-only in the field table, §24.9) are refused too: the
 * modelled CPU reports IA32_VMX_MISC[29], so its VMWRITE would accept them, but they are the
 * record of what the processor reported, which the debugger shows and never rewrites.
 * VMWRITE exists only in VMX root operation: while the run is stopped inside the guest the
 * VMCS cannot be changed (it can when stopped on a VM exit).
 */
import { currentVmcs, type StoppedMachine } from '../stoppedMachine';
import { FIELD_BY_NAME, fieldIndex } from '../../vmx/fields';

const ERRORS: Record<number, string> = {
  12: 'the field is not supported by the modelled CPU (VMfailValid 12: unsupported VMCS component)',
  13: 'the field is read-only (VMfailValid 13: VMWRITE to a read-only VMCS component; the VM-exit information fields are written by the processor)',
};

/** Why a VMWRITE of `name` would be refused now, or null. */
export function vmcsWriteRefusal(m: StoppedMachine, name: string): string | null {
  const f = FIELD_BY_NAME.get(name);
  if (f === undefined) return `no VMCS field named ${name}`;
  if (currentVmcs(m) === null) return 'there is no current VMCS (VMPTRLD has not made one current; SDM vol. 3C §24.1)';
  if (m.cpu.nonRoot) return 'the guest is running (stopped between two guest instructions in VMX non-root operation); VMWRITE is a root-operation instruction — stop on a VM exit to change the VMCS';
  if (!f.supported) return ERRORS[12];
  if (f.readOnly) return 'the field is read-only: a VM-exit information field (SDM vol. 3C §24.9), written by the processor at each VM exit and shown as it reported it';
  return null;
}

/** VMWRITE `value` to field `name`; throws Error with the reason when refused. */
export function writeVmcsField(m: StoppedMachine, name: string, value: bigint): void {
  const pre = vmcsWriteRefusal(m, name);
  if (pre !== null) throw new Error(`VMWRITE ${name} refused: ${pre}`);
  const e = m.vmx;
  const v = currentVmcs(m);
  if (e === null || v === null) throw new Error(`VMWRITE ${name} refused: VMfailInvalid (no current VMCS)`);
  const ie = fieldIndex('VM_INSTRUCTION_ERROR');
  const savedLo = v.lo[ie];
  const savedHi = v.hi[ie];
  const x = BigInt.asUintN(64, value);
  const s = e.vmwrite(FIELD_BY_NAME.get(name)!.encoding, Number(x & 0xffffffffn) | 0, Number(x >> 32n) | 0);
  if (s.status === 'succeed') return;
  v.lo[ie] = savedLo;
  v.hi[ie] = savedHi;
  const why = s.status === 'failValid' ? (ERRORS[s.error] ?? `VMfailValid ${s.error}`) : 'VMfailInvalid (no current VMCS)';
  throw new Error(`VMWRITE ${name} refused: ${why}`);
}
