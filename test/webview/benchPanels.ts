/**
 * `npm run bench` (after the command-line figures): how fast the webview panels apply the data
 * of a stop, in Debian's Chromium (headless), with data recorded from real sessions
 * (benchFixtures.ts). Targets (issue 7): the VMCS panel within 50 ms, a 4 GiB EPT map within
 * 200 ms. Prints one line per figure, or JSON with --json; exits 1 when a target is missed, 0
 * with a note when Chromium is missing.
 */
import { launch, openPanel, skipReason } from './browserHarness';
import { benchData } from './benchFixtures';
import { renderTiming, type Timing } from './renderTiming';

export interface PanelFigures {
  vmcs: Timing;
  ept4g: Timing & { mappings: number };
  eptFragmented: Timing & { mappings: number };
  exits: Timing & { exits: number };
}

export const TARGETS = { vmcs: 50, ept: 200 } as const;

export async function measurePanels(): Promise<PanelFigures> {
  const data = await benchData();
  const browser = await launch();
  try {
    const vmcsPage = await openPanel(browser, 'vmcs', undefined);
    const vmcs = await renderTiming(vmcsPage.page, data.vmcs.map((report) => ({ type: 'vmcs', stop: 1, report })));
    const eptPage = await openPanel(browser, 'ept', undefined);
    const ept4g = await renderTiming(eptPage.page, [{ type: 'ept', stop: 1, flat: data.ept4g }]);
    const eptFragmented = await renderTiming(eptPage.page, [{ type: 'ept', stop: 1, flat: data.eptFragmented }], 10);
    const exitsPage = await openPanel(browser, 'exits', undefined);
    const exits = await renderTiming(exitsPage.page, [{ type: 'exits', stop: 1, report: data.exits }]);
    return {
      vmcs, ept4g: { ...ept4g, mappings: data.ept4g.mappings.length },
      eptFragmented: { ...eptFragmented, mappings: data.eptFragmented.mappings.length },
      exits: { ...exits, exits: data.exits.exits.length },
    };
  } finally {
    await browser.close();
  }
}

const line = (name: string, t: Timing, target?: number): string =>
  `${name.padEnd(44)} first ${t.first.toFixed(1).padStart(6)} ms   update median ${t.median.toFixed(1).padStart(6)} ms, worst ${t.max.toFixed(1).padStart(6)} ms${target !== undefined ? `   (target ${target} ms)` : ''}`;

async function main(): Promise<number> {
  const json = process.argv.includes('--json');
  const skip = skipReason();
  if (skip !== undefined) {
    console.log(json ? JSON.stringify({ panels: null, skipped: skip }) : `panels: not measured: ${skip}`);
    return 0;
  }
  const f = await measurePanels();
  const ok = Math.max(f.vmcs.first, f.vmcs.max) <= TARGETS.vmcs && Math.max(f.ept4g.first, f.ept4g.max, f.eptFragmented.first, f.eptFragmented.max) <= TARGETS.ept;
  if (json) {
    console.log(JSON.stringify({ panels: f, targetsMet: ok }));
  } else {
    console.log('webview panels (headless Chromium, post message → DOM updated and laid out):');
    console.log(line('  VMCS panel (181 fields)', f.vmcs, TARGETS.vmcs));
    console.log(line(`  EPT map, 4 GiB guest (${f.ept4g.mappings} mappings)`, f.ept4g, TARGETS.ept));
    console.log(line(`  EPT map, 4 GiB, fragmented (${f.eptFragmented.mappings} mappings)`, f.eptFragmented, TARGETS.ept));
    console.log(line(`  exit timeline (${f.exits.exits} exits)`, f.exits));
    if (!ok) console.log('  a panel missed its target');
  }
  return ok ? 0 : 1;
}

if (process.argv[1]?.endsWith('benchPanels.ts')) {
  main().then((code) => process.exit(code), (e: unknown) => { console.error(e); process.exit(3); });
}
