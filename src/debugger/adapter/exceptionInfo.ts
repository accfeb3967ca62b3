/**
 * exceptionInfo for a stop on a VM exit: the reason, the exit's decoded fields (SDM vol. 3C
 * §27.2.1 qualification, field by field) and the raw exit-information fields of the VMCS
 * (§25.9 "VM-exit information fields").
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DecodedExit } from '../../vmx/exitDecode';
import type { DebugEngine } from '../engine';
import { currentVmcs } from '../stoppedMachine';

const RAW = ['EXIT_REASON', 'EXIT_QUALIFICATION', 'VM_EXIT_INSTRUCTION_LENGTH', 'VM_EXIT_INSTRUCTION_INFO', 'GUEST_LINEAR_ADDRESS',
  'GUEST_PHYSICAL_ADDRESS', 'VM_EXIT_INTERRUPTION_INFORMATION', 'VM_EXIT_INTERRUPTION_ERROR_CODE', 'IDT_VECTORING_INFORMATION',
  'IDT_VECTORING_ERROR_CODE', 'GUEST_RIP'];

const show = (v: unknown): string => (typeof v === 'bigint' ? `0x${v.toString(16)}` : String(v));

export function exceptionInfo(engine: DebugEngine, e: DecodedExit): DebugProtocol.ExceptionInfoResponse['body'] {
  const raw: string[] = [];
  const vmcs = currentVmcs(engine.m);
  for (const f of vmcs === null ? [] : RAW) {
    try {
      raw.push(`${f} = ${show(vmcs!.read(f))}`);
    } catch {
      // Not a field of the modelled CPU.
    }
  }
  const fields = Object.entries(e.fields).filter(([k]) => !/^r\d|^r[a-d]x$|^r[sd]i$|^rbp$/.test(k)).map(([k, v]) => `${k} = ${show(v)}`);
  return {
    exceptionId: e.id,
    description: `VM exit ${e.reason} ${e.name}: ${e.summary}`,
    breakMode: 'always',
    details: {
      message: `${e.summary}\n\ndecoded:\n  ${fields.join('\n  ')}\n\nraw VMCS exit information:\n  ${raw.join('\n  ')}`,
      typeName: e.name,
      fullTypeName: `VM exit reason ${e.reason} (${e.name})`,
      evaluateName: 'exit',
    },
  };
}

/**
 * exceptionInfo for a stop of the `vm_entry` filter (bare VT-x mode): the outcome of the guest
 * hypervisor's VMLAUNCH/VMRESUME with the failed check (SDM vol. 3C §26, §30.3, §30.4), and for a
 * failure with an exit (§26.8) the exit as the processor recorded it.
 */
export function entryExceptionInfo(d: DecodedExit, exit: DecodedExit | undefined): DebugProtocol.ExceptionInfoResponse['body'] {
  const fields = Object.entries(d.fields).filter(([k]) => !/^r\d|^r[a-d]x$|^r[sd]i$|^rbp$/.test(k)).map(([k, v]) => `${k} = ${show(v)}`);
  const after = exit === undefined ? '' : `\n\nVM exit on entry: ${exit.name} — ${exit.summary}`;
  return {
    exceptionId: d.id,
    description: d.summary,
    breakMode: 'always',
    details: {
      message: `${d.summary}\n\ndecoded:\n  ${fields.join('\n  ')}${after}`,
      typeName: d.entryFailure ? 'VM entry failed' : 'VM entry',
      fullTypeName: d.entryFailure ? 'VM-entry failure' : 'VM entry',
    },
  };
}
