/**
 * The "VM exit" scope: the exit the guest is stopped on, else the last one recorded — reason
 * (number and name, SDM vol. 3C appendix C), the qualification decoded field by field
 * (exitDecode.ts), instruction length and information (§27.2.5), guest-linear and
 * guest-physical addresses (§27.2.1), IDT-vectoring information (§27.2.4) and exit
 * interruption information (§27.2.2), decoded. The exit-information fields are read from the
 * VMCS, which holds them for the most recent exit.
 */
import type { VarNode } from '../model';
import { decodeInterruption } from '../../vmx/exitDecode';
import type { Ctx } from './context';
import { exitFieldParts } from './vmcsDecode';
import { leaf } from './nodes';
import { hex } from './format';

function interruptionNode(name: string, info: bigint, errorCode: bigint | undefined): VarNode {
  const i = decodeInterruption(info);
  return {
    name, value: i.valid ? `${i.typeName} ${i.vector}` : 'not valid', type: hex(info),
    children: () => [
      leaf('valid', String(i.valid)), leaf('vector', String(i.vector)), leaf('type', `${i.type} (${i.typeName})`),
      leaf('error code valid', String(i.hasErrorCode)), ...(i.hasErrorCode && errorCode !== undefined ? [leaf('error code', hex(errorCode))] : []),
      leaf('NMI unblocking due to IRET', String(i.nmiUnblocking)), leaf('raw', hex(info)),
    ],
  };
}

export function exitNodes(ctx: Ctx): VarNode[] {
  const e = ctx.exit;
  if (e === undefined) return [leaf('(no VM exit yet)', '')];
  const g = ctx.g;
  const isLast = ctx.lastRecord === undefined || ctx.lastRecord.exit === e || ctx.stoppedOnExit;
  const out: VarNode[] = [
    leaf('status', ctx.stoppedOnExit ? 'stopped on this exit (before the hypervisor handles it)' : 'last exit (already handled)'),
    { name: 'reason', value: `${e.reason} ${e.name}`, type: e.entryFailure ? 'VM-entry failure' : undefined, evaluateName: 'reason' },
    leaf('summary', e.summary),
    {
      name: 'qualification', value: hex(e.fields.qualification as bigint), evaluateName: 'qual',
      children: () => exitFieldParts(e).map((p) => ({ name: p.name, value: p.value, evaluateName: p.name })),
    },
    leaf('instruction length', String(e.fields.length), 'VM_EXIT_INSTRUCTION_LENGTH'),
    leaf('RIP', hex(e.fields.rip as bigint)),
  ];
  if (ctx.lastRecord !== undefined && ctx.lastRecord.exit === e) out.splice(1, 0, leaf('seq', `${ctx.lastRecord.seq} (icount ${ctx.lastRecord.icount})`));
  // The exit's other fields, while its VMCS is still the current one (bare mode: VMCLEAR/VMPTRLD may change it).
  if (isLast && g.hasVmcs) {
    out.push(
      leaf('instruction information', hex(g.field('VM_EXIT_INSTRUCTION_INFORMATION')), 'VM_EXIT_INSTRUCTION_INFORMATION'),
      leaf('guest-linear address', hex(g.field('GUEST_LINEAR_ADDRESS')), 'GUEST_LINEAR_ADDRESS (valid for some exits)'),
      leaf('guest-physical address', hex(g.field('GUEST_PHYSICAL_ADDRESS')), 'GUEST_PHYSICAL_ADDRESS (EPT violations and misconfigurations)'),
      interruptionNode('exit interruption information', g.field('VM_EXIT_INTERRUPTION_INFORMATION'), g.field('VM_EXIT_INTERRUPTION_ERROR_CODE')),
      interruptionNode('IDT-vectoring information', g.field('IDT_VECTORING_INFORMATION'), g.field('IDT_VECTORING_ERROR_CODE')),
    );
  }
  return out;
}
