/**
 * The EPT panel in Chromium with data from a real session stopped on an EPT violation (a read
 * of the local APIC page, an MMIO hole the EPT leaves unmapped): map segments by kind and
 * permission with the violation marked, the mapping table (sort, filter), the tree from the
 * EPTP opened level by level, and translations (guest-physical and guest-linear) step by step.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { cspViolations, launch, openPanel, skipReason, type PanelPage } from './browserHarness';
import { PANEL_GUEST, PANEL_STOPS, recordSession, type RecordedSession } from './recordedSession';
import type { EptFlatReport, EptTreeReport, TranslateReport } from '../../src/webview/protocol';

const skip = skipReason();

describe('EPT panel (Chromium)', { skip }, () => {
  let browser: Browser;
  let rec: RecordedSession;
  let p: PanelPage;
  let flat: EptFlatReport;

  before(async () => {
    browser = await launch();
    rec = recordSession(PANEL_GUEST, { stopOn: PANEL_STOPS });
    rec.resume();
    assert.match(rec.result.lastExit!.summary, /EPT violation/);
    flat = (await rec.session.customRequest('vtx/ept', { form: 'flat' })) as EptFlatReport;
    p = await openPanel(browser, 'ept', rec.session);
    await p.waitForStop(1);
  });
  after(async () => {
    await p?.close();
    await browser?.close();
  });

  test('the map: one segment per region coloured by kind, permission segments, the last violation marked', async () => {
    const kinds = await p.page.$$eval('.map-bar[data-row="kind"] .seg', (s) => s.map((e) => [(e as HTMLElement).dataset.cls, (e as HTMLElement).dataset.start, (e as HTMLElement).dataset.end, getComputedStyle(e).backgroundColor]));
    assert.deepEqual(kinds.map(([c, s, e]) => [c, s, e]), flat.regions.map((r) => [r.kind, r.start, r.end]));
    assert.deepEqual(kinds.map(([c]) => c), ['ram', 'unmapped', 'mmio']);
    // Colours come from the theme's chart variables (dark theme: green RAM, orange MMIO).
    assert.equal(kinds[0][3], 'rgb(137, 209, 133)');
    assert.equal(kinds[2][3], 'rgb(209, 134, 22)');
    const perms = await p.page.$$eval('.map-bar[data-row="perm"] .seg', (s) => s.map((e) => [(e as HTMLElement).dataset.cls, (e as HTMLElement).dataset.start, (e as HTMLElement).dataset.end]));
    assert.deepEqual(perms, [['RWX', flat.mappings[0].gpaStart, flat.mappings[flat.mappings.length - 1].gpaEnd]]);
    assert.equal(flat.lastViolationGpa, '0xfee00030');
    assert.equal(await p.page.locator('.map-violation').getAttribute('data-gpa'), '0xfee00030');
    // Compact scale (default): the 4 KiB MMIO hole gets a visible share; the marker lies inside it.
    const box = async (sel: string): Promise<{ x: number; width: number }> => (await p.page.locator(sel).boundingBox())!;
    const mmio = await box('.map-bar[data-row="kind"] .seg[data-cls="mmio"]');
    const bar = await box('.map-bar[data-row="kind"]');
    assert.ok(mmio.width > bar.width / 50, `MMIO hole ${mmio.width}px of ${bar.width}px`);
    const marker = await box('.map-violation');
    assert.ok(marker.x >= mmio.x - 2 && marker.x <= mmio.x + mmio.width, `marker at ${marker.x}, hole ${mmio.x}..${mmio.x + mmio.width}`);
    // Linear scale: positions proportional to addresses.
    await p.page.locator('.map-legend vscode-checkbox').click();
    const left = await p.page.locator('.map-violation').evaluate((e) => (e as HTMLElement).style.left);
    assert.ok(Math.abs(parseFloat(left) - (0xfee00030 / Number(BigInt(flat.top))) * 100) < 1e-3, left);
    await p.page.locator('.map-legend vscode-checkbox').click();
  });

  test('the mapping table lists the merged mappings; sorts and filters', async () => {
    const rows = async (): Promise<string[]> => p.page.$$eval('.mapping-table tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.gpa!));
    assert.deepEqual(await rows(), flat.mappings.map((m) => m.gpaStart));
    const first = p.page.locator('.mapping-table tbody tr').first();
    assert.equal(await first.locator('td').nth(0).innerText(), `${flat.mappings[0].gpaStart} – ${flat.mappings[0].gpaEnd}`);
    assert.equal(await first.locator('td').nth(4).innerText(), flat.mappings[0].permissions.split('').join(' '));
    assert.equal(await first.locator('td').nth(5).innerText(), flat.mappings[0].memoryType);
    await p.page.locator('.mapping-table th[data-key="gpa"]').click();
    assert.deepEqual(await rows(), flat.mappings.map((m) => m.gpaStart).reverse());
    const filter = p.page.locator('vscode-textfield.filter input');
    await filter.fill('0x300000');
    assert.deepEqual(await rows(), flat.mappings.filter((m) => BigInt(m.gpaStart) <= 0x300000n && 0x300000n < BigInt(m.gpaEnd)).map((m) => m.gpaStart));
    await filter.fill('0xfee00030');
    assert.deepEqual(await rows(), []);
    await filter.fill('');
    // Clicking a map segment filters the table to its range.
    await p.page.locator('.map-bar[data-row="kind"] .seg').first().click();
    assert.equal(await filter.inputValue(), `${flat.regions[0].start}-${flat.regions[0].end}`);
    assert.equal((await rows()).length, flat.mappings.length);
  });

  test('the tree from the EPTP opens level by level, children built on demand', async () => {
    await p.page.locator('vscode-tab-header[data-tab="tree"]').click();
    await p.page.waitForSelector('.ept-tree vscode-tree');
    const tree = (await rec.session.customRequest('vtx/ept', { form: 'tree' })) as EptTreeReport;
    assert.equal(await p.page.locator('.tree-head').innerText(), `EPTP ${tree.eptp}`);
    const pml4 = tree.root!;
    const pml4e = pml4.entries[0];
    assert.equal(pml4e.kind, 'entry');
    // The root table is open: its entries are there, their children are not built yet.
    const item = p.page.locator(`vscode-tree-item[data-kind="entry"][data-raw="${pml4e.kind === 'entry' ? pml4e.raw : ''}"]`);
    await item.waitFor();
    assert.equal(await item.locator('vscode-tree-item[data-kind="entry"]').count(), 0);
    await item.locator('span.mono').first().click();
    const pdpte = pml4e.kind === 'entry' ? pml4e.table!.entries[0] : undefined;
    assert.ok(pdpte !== undefined && pdpte.kind === 'entry');
    const child = item.locator(`vscode-tree-item[data-raw="${pdpte.raw}"]`);
    await child.waitFor();
    await child.locator('span.mono').first().click();
    const run = pdpte.table!.entries[0];
    assert.equal(run.kind, 'run');
    const leaf = child.locator('vscode-tree-item[data-kind="run"]');
    await leaf.waitFor();
    assert.equal(await leaf.locator('span.mono').first().innerText(), `[${run.firstIndex}–${run.firstIndex + run.count - 1}] ${run.gpaStart} – ${run.gpaEnd}`);
    assert.ok(p.received.some((m) => m.type === 'ept' && m.tree !== undefined), 'the tree form is fetched once the tree is shown');
    // The next stop rebuilds the tree with the same items open.
    const stop = Number(await p.page.evaluate(() => document.body.dataset.stop));
    const before = await leaf.elementHandle();
    await p.controller.onCustomEvent(rec.session.id, 'vtx/state', { state: 'stopped' });
    await p.waitForStop(stop + 1);
    await p.page.waitForFunction((old) => { const now = document.querySelector('.ept-tree vscode-tree-item[data-kind="run"]'); return now !== null && now !== old; }, before);
    assert.equal(await leaf.locator('span.mono').first().innerText(), `[${run.firstIndex}–${run.firstIndex + run.count - 1}] ${run.gpaStart} – ${run.gpaEnd}`);
  });

  test('translate: a guest-physical address in RAM, the violation address, and a guest-linear address', async () => {
    await p.page.locator('vscode-tab-header[data-tab="translate"]').click();
    const input = p.page.locator('.translate vscode-textfield input');
    const steps = async (): Promise<string[][]> => p.page.$$eval('.translation tr.step', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const expect = async (address: string, kind: 'physical' | 'linear'): Promise<TranslateReport> => (await rec.session.customRequest('vtx/translate', { address, kind })) as TranslateReport;

    await input.fill('0x1000');
    await input.press('Enter');
    await p.page.waitForSelector('.translation .result');
    let r = await expect('0x1000', 'physical');
    assert.deepEqual((await steps()).map((s) => [s[0], s[1], s[2]]), r.physical!.steps.map((s) => [s.name, s.entryAddress, s.raw]));
    assert.equal(await p.page.locator('.translation .result').innerText(), `host-physical ${r.result}`);

    // The violation link in the header translates the faulting address.
    await p.page.locator('.violation-link').click();
    await p.page.waitForFunction(() => document.querySelector('.translation .result.fault') !== null);
    r = await expect('0xfee00030', 'physical');
    assert.equal(await p.page.locator('.translation .result').innerText(), r.fault!);
    assert.equal((await steps()).length, r.physical!.steps.length);

    await p.page.locator('.translate vscode-radio[value="linear"]').click();
    await input.fill('0x1008');
    await input.press('Enter');
    await p.page.waitForFunction(() => document.querySelector('.translation .paging-step') !== null);
    r = await expect('0x1008', 'linear');
    const shown = await steps();
    assert.deepEqual(shown.map((s) => s[0]), [...r.linear!.steps.map((s) => s.name), ...r.linear!.ept!.steps.map((s) => s.name)]);
    assert.equal(await p.page.locator('.translation .result').innerText(), `host-physical ${r.result}`);
    const asked = (await p.posted()).filter((m) => (m as { type: string }).type === 'translate').map((m) => [(m as { address: string }).address, (m as { kind: string }).kind]);
    assert.deepEqual(asked, [['0x1000', 'physical'], ['0xfee00030', 'physical'], ['0x1008', 'linear']]);
  });

  test('CSP holds; screenshots in three themes', async () => {
    assert.deepEqual(await cspViolations(p), []);
    assert.deepEqual(p.problems, []);
    await p.page.locator('vscode-tab-header[data-tab="mappings"]').click();
    for (const t of ['light', 'dark', 'high-contrast'] as const) {
      await p.theme(t);
      await p.screenshot(`ept-${t}`);
    }
    await p.page.locator('vscode-tab-header[data-tab="translate"]').click();
    await p.screenshot('ept-translate-high-contrast');
    await p.theme('dark');
    await p.page.locator('vscode-tab-header[data-tab="tree"]').click();
    await p.screenshot('ept-tree-dark');
  });
});
