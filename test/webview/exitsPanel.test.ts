/**
 * The exit-timeline panel in Chromium with a real session's exit history (CPUIDs, port writes,
 * an EPT violation, stopped on the last CPUID): counts per reason, one chart lane per reason and
 * one mark per exit at its instruction count, the list newest first, details on click.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { cspViolations, launch, openPanel, skipReason, type PanelPage } from './browserHarness';
import { PANEL_GUEST, PANEL_STOPS, recordSession, type RecordedSession } from './recordedSession';
import type { ExitsReport } from '../../src/webview/protocol';
import { EXITS_LIMIT } from '../../src/webview/protocol';

const skip = skipReason();

describe('exit-timeline panel (Chromium)', { skip }, () => {
  let browser: Browser;
  let rec: RecordedSession;
  let p: PanelPage;
  let r: ExitsReport;

  before(async () => {
    browser = await launch();
    rec = recordSession(PANEL_GUEST, { stopOn: PANEL_STOPS });
    rec.resume();
    rec.resume();
    assert.equal(rec.result.reason, 'exitBreak');
    r = (await rec.session.customRequest('vtx/exits', { limit: EXITS_LIMIT })) as ExitsReport;
    p = await openPanel(browser, 'exits', rec.session);
    await p.waitForStop(1);
  });
  after(async () => {
    await p?.close();
    await browser?.close();
  });

  test('counts per reason and the total', async () => {
    const counts = await p.page.$$eval('button.count', (bs) => bs.map((b) => [(b as HTMLElement).dataset.reason, b.querySelector('vscode-badge')!.textContent]));
    assert.deepEqual(counts, r.counts.map((c) => [c.name, String(c.count)]));
    assert.deepEqual(r.counts.map((c) => c.name).sort(), ['CPUID', 'EPT_VIOLATION', 'IO_INSTRUCTION']);
    assert.equal(await p.page.locator('.counts .total').innerText(), `${r.total} exits since launch`);
  });

  test('the chart: one lane per reason, one mark per exit placed by instruction count, the stop ringed', async () => {
    const lanes = await p.page.$$eval('.timeline .lane-label', (ls) => ls.map((l) => l.textContent));
    assert.deepEqual(lanes, r.counts.map((c) => c.name));
    const marks = await p.page.$$eval('.timeline .mark', (ms) => ms.map((m) => [Number((m as SVGElement).dataset.seq), Number(m.getAttribute('x')) + 1.5]));
    assert.equal(marks.length, r.exits.length);
    assert.deepEqual(marks.map(([s]) => s), r.exits.map((e) => e.seq));
    // x grows with the instruction count.
    for (let i = 1; i < marks.length; i++) {
      const a = r.exits[i - 1].icount;
      const b = r.exits[i].icount;
      if (b > a) assert.ok(marks[i][1] > marks[i - 1][1], `exit ${r.exits[i].seq}`);
    }
    assert.equal(await p.page.locator('.timeline .mark.stopped').count(), 1);
    assert.equal(await p.page.locator('.timeline .stopped-ring').count(), 1);
  });

  test('the list, newest first, and details of the exit clicked (default: the one stopped on)', async () => {
    const seqs = await p.page.$$eval('.exits-table tr.exit', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.seq)));
    assert.deepEqual(seqs, r.exits.map((e) => e.seq).reverse());
    const first = p.page.locator('.exits-table tr.exit').first();
    const newest = r.exits[r.exits.length - 1];
    assert.deepEqual((await first.locator('td').allInnerTexts()).map((t) => t.trim()), [String(newest.seq), newest.icount.toLocaleString('en-US'), newest.name, newest.rip, newest.summary]);
    assert.equal(await p.page.locator('.exit-details').getAttribute('data-seq'), String(r.stoppedOn!.seq));
    assert.match(await p.page.locator('.exit-details .details-title').innerText(), /stopped here/);

    const ept = r.exits.find((e) => e.name === 'EPT_VIOLATION')!;
    await p.page.locator(`.exits-table tr.exit[data-seq="${ept.seq}"]`).click();
    const details = p.page.locator('.exit-details');
    assert.equal(await details.getAttribute('data-seq'), String(ept.seq));
    assert.equal(await details.locator('.details-summary').innerText(), ept.summary);
    assert.equal(await details.locator('tr[data-key="gpa"] .v').innerText(), ept.fields.gpa);
    assert.equal(await details.locator('tr[data-key="read"] .v').innerText(), 'yes');
    assert.equal(await p.page.locator(`.timeline .mark.selected`).getAttribute('data-seq'), String(ept.seq));

    // A mark in the chart selects its exit too.
    const io = r.exits.find((e) => e.name === 'IO_INSTRUCTION')!;
    await p.page.locator(`.timeline .mark[data-seq="${io.seq}"]`).click();
    assert.equal(await details.getAttribute('data-seq'), String(io.seq));
    assert.equal(await details.locator('tr[data-key="port"] .v').innerText(), io.fields.port);
  });

  test('a reason\'s count filters the list', async () => {
    await p.page.locator('button.count[data-reason="IO_INSTRUCTION"]').click();
    const names = await p.page.$$eval('.exits-table tr.exit td:nth-child(3)', (tds) => [...new Set(tds.map((t) => t.textContent))]);
    assert.deepEqual(names, ['IO_INSTRUCTION']);
    await p.page.locator('button.count[data-reason="IO_INSTRUCTION"]').click();
    assert.equal(await p.page.locator('.exits-table tr.exit').count(), r.exits.length);
  });

  test('opened with no session the panel says so, and fills in when a session starts', async () => {
    const q = await openPanel(browser, 'exits', undefined);
    try {
      await q.page.waitForFunction(() => document.body.dataset.session === 'none');
      assert.match(await q.page.locator('.status-text').innerText(), /No vtx debug session/);
      assert.equal(await q.page.locator('.exits-content').isVisible(), false);
      await q.controller.setSession(rec.session);
      await q.waitForStop(1);
      assert.match(await q.page.locator('.status-text').innerText(), /recorded guest — Stopped/);
      assert.equal(await q.page.locator('.timeline .mark').count(), r.exits.length);
    } finally {
      await q.close();
    }
  });

  test('CSP holds; screenshots in three themes', async () => {
    assert.deepEqual(await cspViolations(p), []);
    assert.deepEqual(p.problems, []);
    for (const t of ['light', 'dark', 'high-contrast'] as const) {
      await p.theme(t);
      await p.screenshot(`exits-${t}`);
    }
  });
});
