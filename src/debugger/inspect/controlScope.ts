/**
 * The "Control registers" and "MSRs" scopes. Control registers as the guest reads them (CR0
 * and CR4 with the read shadows merged under the guest/host masks, SDM vol. 3C §25.3), the real
 * value beside them where it differs, each decoded by bit (SDM vol. 3A §2.5); EFER (§2.2.1),
 * XCR0 (§2.6), DR6/DR7 (§18.2). MSRs: a selected list named from the processor's MSR table
 * (src/x86/msr.ts), each the guest's value (from the VMCS guest-state area for those VM entry
 * loads, vmm.ts GUEST_STATE_MSRS).
 */
import type { VarNode } from '../model';
import { msrInfo } from '../../x86/msr';
import type { Ctx } from './context';
import { CR0_BITS, CR3_BITS, CR4_BITS, DR6_BITS, DR7_BITS, EFER_BITS, XCR0_BITS, setFlags, type BitField } from './bitTables';
import { bitNodes, leaf } from './nodes';
import { hex64 } from './format';

function crNode(name: string, v: bigint, table: readonly BitField[], real?: bigint, realName?: string): VarNode {
  const differs = real !== undefined && real !== v;
  return {
    name, value: hex64(v), type: setFlags(table, v) || undefined, evaluateName: name.toLowerCase(),
    children: () => [
      ...bitNodes(table, v),
      ...(differs ? [{ name: realName ?? 'real value', value: hex64(real), type: `what the processor runs with: ${setFlags(table, real) || '(none)'}`, children: () => bitNodes(table, real) }] : []),
    ],
  };
}

export function controlRegisters(ctx: Ctx): VarNode[] {
  const g = ctx.g;
  return [
    crNode('CR0', g.cr0(), CR0_BITS, g.cr0Real(), 'real CR0 (GUEST_CR0)'),
    leaf('CR2', hex64(g.cr2()), 'page-fault linear address'),
    crNode('CR3', g.cr3(), CR3_BITS),
    crNode('CR4', g.cr4(), CR4_BITS, g.cr4Real(), 'real CR4 (GUEST_CR4)'),
    leaf('CR8', hex64(g.cr8()), 'task-priority register (TPR)'),
    crNode('EFER', g.efer(), EFER_BITS),
    crNode('XCR0', g.xcr0(), XCR0_BITS),
    crNode('DR6', g.dr(6), DR6_BITS),
    crNode('DR7', g.dr(7), DR7_BITS),
  ];
}

/** The MSRs shown, by index (SDM vol. 4 chapter 2); IA32_DEBUGCTL has no table row, its guest value is a VMCS field. */
const SELECTED = [0x1b, 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102,
  0x174, 0x175, 0x176, 0x277, 0x10, 0xc0000103, 0x1d9, 0x1a0];

export function msrNodes(ctx: Ctx): VarNode[] {
  const out: VarNode[] = [];
  for (const index of SELECTED) {
    const info = msrInfo(index);
    const name = info?.name ?? (index === 0x1d9 ? 'IA32_DEBUGCTL' : `MSR_${index.toString(16)}`);
    const v = ctx.g.msr(index);
    if (v === undefined) continue;
    out.push({
      name, value: hex64(v), type: `MSR 0x${index.toString(16)}${info !== undefined ? ` — ${info.description}` : ''}`,
      evaluateName: `msr.${name}`,
      children: index === 0xc0000080 ? () => bitNodes(EFER_BITS, v) : undefined,
    });
  }
  return out;
}
