/**
 * Data for the panel render benchmark, all from real sessions of the engine (recordedSession.ts):
 * the VMCS report at two stops, the flat EPT report of a 4 GiB guest, and of the same guest after
 * its EPT is rebuilt (with the project's EptBuilder, installed by a VMWRITE of EPT_POINTER through
 * the inspector) so that its first 32 MiB alternate between RWX and R-X every 4 KiB page — 8,192
 * distinct mappings plus 2 MiB pages up to 4 GiB: the worst map a person is likely to open; and
 * the exit history of a guest that made 1,200 exits (the timeline shows the last 1,000).
 */
import { EptBuilder, EPT_R, EPT_RWX, EPT_X, PAGE_2M, PAGE_4K } from '../../src/vmx/eptBuilder';
import type { EptFlatReport, ExitsReport, VmcsReport } from '../../src/webview/protocol';
import { PANEL_GUEST, PANEL_STOPS, recordSession } from './recordedSession';

export interface BenchData {
  vmcs: [VmcsReport, VmcsReport];
  ept4g: EptFlatReport;
  eptFragmented: EptFlatReport;
  exits: ExitsReport;
}

const GiB = 1024 ** 3;

export async function benchData(): Promise<BenchData> {
  const small = recordSession(PANEL_GUEST, { stopOn: PANEL_STOPS });
  const v1 = (await small.session.customRequest('vtx/vmcs')) as VmcsReport;
  small.resume();
  const v2 = (await small.session.customRequest('vtx/vmcs')) as VmcsReport;
  const busy = recordSession(PANEL_GUEST.replace('mov esi, 20', 'mov esi, 600'), { stopOn: PANEL_STOPS });
  busy.resume();
  busy.resume();
  const exits = (await busy.session.customRequest('vtx/exits', { limit: 1000 })) as ExitsReport;
  if (exits.exits.length !== 1000) throw new Error(`the busy guest's history holds ${exits.exits.length} exits, not 1000`);

  const big = recordSession(PANEL_GUEST, { stopOn: PANEL_STOPS, ramSize: 4 * GiB });
  const ept4g = (await big.session.customRequest('vtx/ept', { form: 'flat' })) as EptFlatReport;
  const ept = new EptBuilder(big.vmm.machine.mem, { tablesAt: 0x10000000, tablesSize: 0x200000, accessedDirty: true });
  for (let a = 0; a < 32 * 1024 * 1024; a += PAGE_4K) ept.map(a, a, PAGE_4K, { perms: (a / PAGE_4K) % 2 === 0 ? EPT_RWX : EPT_R | EPT_X });
  for (let a = 32 * 1024 * 1024; a < 4 * GiB; a += PAGE_2M) if (a !== 0xfee00000 - (0xfee00000 % PAGE_2M)) ept.map(a, a, PAGE_2M, { pageSize: PAGE_2M });
  await big.session.customRequest('setExpression', { expression: 'vmcs.EPT_POINTER', value: `0x${ept.eptpValue().toString(16)}` });
  const eptFragmented = (await big.session.customRequest('vtx/ept', { form: 'flat' })) as EptFlatReport;
  return { vmcs: [v1, v2], ept4g, eptFragmented, exits };
}
