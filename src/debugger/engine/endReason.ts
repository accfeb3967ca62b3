/** How the guest ended, in words for the debug console (and the exit code DAP reports). */
import type { VmmRunResult } from '../../vmm/vmm';
import { bytesHex } from '../../x86/decoded';

export interface EndInfo {
  /** The Vmm's stop reason, 'limit', 'terminated' or 'error'. */
  reason: string;
  description: string;
  /** The guest's exit code (isa-debug-exit, hypercall, power-off = 0). */
  exitCode?: number;
}

export function describeEnd(r: VmmRunResult | { reason: 'limit' }, maxInstructions: number): EndInfo {
  const x = r as VmmRunResult;
  switch (r.reason) {
    case 'limit':
      return { reason: 'limit', description: `the instruction limit (maxInstructions = ${maxInstructions}) was reached` };
    case 'exit':
      return { reason: 'exit', exitCode: x.exitCode, description: `the guest exited with code ${x.exitCode ?? 0}${x.exitHow !== undefined ? ` (${x.exitHow})` : ''}` };
    case 'SystemDown':
      return { reason: 'SystemDown', exitCode: 0, description: 'the guest powered off (ACPI power-off: word 0x2000 to port 0x604)' };
    case 'shutdown':
      return { reason: 'shutdown', description: `triple fault: the guest shut down${x.detail !== undefined ? ` (${x.detail})` : ''}` };
    case 'hlt':
      return { reason: 'hlt', description: 'the guest halted with nothing to wake it (HLT with interrupts disabled)' };
    case 'exception': {
      const e = x.exception;
      if (e === undefined) return { reason: 'exception', description: 'the guest raised an exception it could not handle' };
      // Bytes that do not decode have no text: show them instead.
      const what = e.text !== '' ? e.text : e.bytes.length > 0 ? `(bytes ${bytesHex(e.bytes)})` : '(code not readable)';
      return { reason: 'exception', description: `${e.name}${e.errorCode !== undefined ? ` (error code 0x${e.errorCode.toString(16)})` : ''} at 0x${e.rip.toString(16)} ${what}: ${e.detail}` };
    }
    case 'FailEntry':
      return { reason: 'FailEntry', description: x.detail ?? 'VM entry failed' };
    case 'NestedPageFault':
      return { reason: 'NestedPageFault', description: x.detail ?? 'the guest reached unmapped guest-physical memory' };
    case 'Halt':
      return { reason: 'Halt', description: `the hypervisor stopped the guest${x.detail !== undefined ? `: ${x.detail}` : ''}` };
    default:
      return { reason: r.reason, description: `the guest stopped (${r.reason})` };
  }
}
