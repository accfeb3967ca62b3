/** vtx/translate: a guest-linear address through the guest's paging then EPT, or a guest-physical one through EPT. */
import type { Ctx } from './context';
import { eptTranslate } from './eptProbe';
import { translateLinear } from './guestPaging';
import type { TranslateReport } from './reports';
import { hex } from './format';

export function translateReport(ctx: Ctx, address: bigint, kind: 'linear' | 'physical'): TranslateReport {
  const a = BigInt.asUintN(64, address);
  if (kind === 'physical') {
    if (a >= 1n << 52n) return { address: hex(a), kind, fault: `${hex(a)} is beyond the 52-bit guest-physical address space` };
    const e = eptTranslate(ctx.g.m, Number(a));
    return { address: hex(a), kind, physical: e, result: e.hpa, fault: e.status === 'ok' ? undefined : `EPT ${e.status}: ${e.why}` };
  }
  const l = translateLinear(ctx.g, a);
  return { address: hex(a), kind, linear: l, result: l.fault === undefined ? l.hpa : undefined, fault: l.fault?.message };
}
