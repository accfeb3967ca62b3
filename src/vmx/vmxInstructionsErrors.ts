/**
 * The VM-instruction error numbers (SDM vol. 3C §30.4, table 30-1), one row each: the number a
 * VMfailValid writes into the VM-instruction error field, its meaning, and whether the engine
 * can report it (and why not when it cannot). docs/vmx.md lists this table.
 */
export interface VmInstructionError {
  error: number;
  description: string;
  /** The engine reports this error in some situation. */
  reported: boolean;
  /** Why the engine never reports it (when `reported` is false). */
  note?: string;
}

const SMM = 'the dual-monitor treatment of SMIs and SMM is not modelled';
type Row = [number, string, true] | [number, string, false, string];
const ROWS: Row[] = [
  [1, 'VMCALL executed in VMX root operation', true],
  [2, 'VMCLEAR with invalid physical address', true],
  [3, 'VMCLEAR with VMXON pointer', true],
  [4, 'VMLAUNCH with non-clear VMCS', true],
  [5, 'VMRESUME with non-launched VMCS', true],
  [6, 'VMRESUME after VMXOFF (VMXOFF and VMXON between VMLAUNCH and VMRESUME)', false, 'VMXOFF writes every active VMCS back with its launch state, so VMRESUME after VMXON and VMPTRLD proceeds'],
  [7, 'VM entry with invalid control field(s)', true],
  [8, 'VM entry with invalid host-state field(s)', true],
  [9, 'VMPTRLD with invalid physical address', true],
  [10, 'VMPTRLD with VMXON pointer', true],
  [11, 'VMPTRLD with incorrect VMCS revision identifier', true],
  [12, 'VMREAD/VMWRITE from/to unsupported VMCS component', true],
  [13, 'VMWRITE to read-only VMCS component', true],
  [15, 'VMXON executed in VMX root operation', true],
  [16, 'VM entry with invalid executive-VMCS pointer', false, SMM],
  [17, 'VM entry with non-launched executive VMCS', false, SMM],
  [18, 'VM entry with executive-VMCS pointer not VMXON pointer', false, SMM],
  [19, 'VMCALL with non-clear VMCS', false, SMM],
  [20, 'VMCALL with invalid VM-exit control fields', false, SMM],
  [22, 'VMCALL with incorrect MSEG revision identifier', false, SMM],
  [23, 'VMXOFF under dual-monitor treatment of SMIs and SMM', false, SMM],
  [24, 'VMCALL with invalid SMM-monitor features', false, SMM],
  [25, 'VM entry with invalid VM-execution control fields in executive VMCS', false, SMM],
  [26, 'VM entry with events blocked by MOV SS', false, 'the processor does not record whether STI or MOV SS made its interrupt shadow'],
  [28, 'Invalid operand to INVEPT/INVVPID', true],
];

export const VM_INSTRUCTION_ERRORS: readonly VmInstructionError[] = ROWS.map((r) =>
  (r[2] ? { error: r[0], description: r[1], reported: true } : { error: r[0], description: r[1], reported: false, note: r[3] }));
