/**
 * The VMCS panel in Chromium with data from a real session: the guest stops on CPUID leaf 1,
 * then on an EPT violation (the LAPIC page); the panel must show every field's value as the
 * inspector reports it, highlight exactly the changed fields, filter, compare, decode, and
 * round-trip an edit through the host (refusal text shown, accepted value shown).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { cspViolations, launch, openPanel, skipReason, type PanelPage } from './browserHarness';
import { PANEL_GUEST, PANEL_STOPS, recordSession, type RecordedSession } from './recordedSession';
import type { VmcsReport } from '../../src/webview/protocol';

const skip = skipReason();

describe('VMCS panel (Chromium)', { skip }, () => {
  let browser: Browser;
  let rec: RecordedSession;
  let p: PanelPage;
  const report = async (): Promise<VmcsReport> => (await rec.session.customRequest('vtx/vmcs')) as VmcsReport;
  // textContent, not innerText: sections off screen are not rendered (content-visibility: auto).
  const rowText = async (name: string, cls: string): Promise<string> => (await p.page.locator(`.field-sections tr.field[data-field="${name}"] .${cls}`).first().textContent()) ?? '';

  before(async () => {
    browser = await launch();
    rec = recordSession(PANEL_GUEST, { stopOn: PANEL_STOPS });
    assert.equal(rec.result.reason, 'exitBreak');
    p = await openPanel(browser, 'vmcs', rec.session);
    await p.waitForStop(1);
  });
  after(async () => {
    await p?.close();
    await browser?.close();
  });

  test('first stop: every supported field with the value the inspector reports, grouped as the SDM groups them', async () => {
    const r = await report();
    const values = await p.page.$$eval('tr.field', (rows) => rows.map((tr) => [(tr as HTMLElement).dataset.field!, tr.querySelector('.value-text')!.textContent!, (tr as HTMLElement).hidden] as const));
    const byName = new Map(values.map(([n, v, h]) => [n, { v, h }]));
    for (const f of r.fields) {
      assert.equal(byName.get(f.name)?.v, f.value, f.name);
      assert.equal(byName.get(f.name)?.h, !f.supported, `${f.name} shown iff supported`);
    }
    const sections = await p.page.$$eval('vscode-collapsible', (cs) => cs.map((c) => (c as HTMLElement & { title: string }).title));
    assert.deepEqual(sections, r.groups.map((g) => `${g.label} — ${g.width === 'natural' ? 'natural-width' : `${g.width}-bit`}`));
    assert.match(await rowText('EXIT_REASON', 'c-summary'), /^10 CPUID/);
    assert.match(await p.page.locator('.status-text').innerText(), /recorded guest — Stopped/);
  });

  test('second stop: exactly the changed fields are highlighted; the compare view lists them with what changed', async () => {
    rec.resume();
    assert.match(rec.result.lastExit!.summary, /EPT violation/);
    await p.controller.onCustomEvent(rec.session.id, 'vtx/state', { state: 'stopped', reason: 'VM exit: EPT_VIOLATION' });
    await p.waitForStop(2);
    const r = await report();
    const changed = r.fields.filter((f) => f.changed).map((f) => f.name).sort();
    assert.ok(changed.includes('EXIT_REASON') && changed.includes('GUEST_PHYSICAL_ADDRESS'), changed.join(' '));
    const highlighted = (await p.page.$$eval('tr.field.changed', (rows) => rows.filter((tr) => tr.closest('.compare') === null).map((tr) => (tr as HTMLElement).dataset.field!))).sort();
    assert.deepEqual(highlighted, changed);
    assert.equal(await rowText('GUEST_PHYSICAL_ADDRESS', 'value-text'), '0x00000000fee00030');
    assert.match(await p.page.locator('.status-text').innerText(), /EPT_VIOLATION/);

    await p.page.locator('vscode-tab-header[data-tab="compare"]').click();
    const listed = (await p.page.$$eval('.compare tr.field', (rows) => rows.map((tr) => (tr as HTMLElement).dataset.field!))).sort();
    assert.deepEqual(listed, changed);
    const reason = p.page.locator('.compare tr.field[data-field="EXIT_REASON"]');
    assert.equal(await reason.locator('.old').innerText(), '0x0000000a');
    assert.equal(await reason.locator('.new').innerText(), '0x00000030');
    assert.match(await reason.locator('.c-what').innerText(), /basic reason: 10 \(CPUID\) → 48 \(EPT_VIOLATION\)/);
    assert.equal(await p.page.locator('vscode-tab-header[data-tab="compare"] vscode-badge').innerText(), String(changed.length));
    await p.page.locator('vscode-tab-header[data-tab="fields"]').click();
  });

  test('filter by name and by encoding', async () => {
    const filter = p.page.locator('vscode-textfield.filter input');
    await filter.fill('GUEST_CR');
    const visible = async (): Promise<string[]> => p.page.$$eval('.field-sections tr.field', (rows) => rows.filter((tr) => !(tr as HTMLElement).hidden && (tr as HTMLElement).offsetParent !== null).map((tr) => (tr as HTMLElement).dataset.field!));
    assert.deepEqual((await visible()).sort(), ['GUEST_CR0', 'GUEST_CR3', 'GUEST_CR4']);
    await filter.fill('0x6800');
    assert.deepEqual(await visible(), ['GUEST_CR0']);
    await filter.fill('');
    assert.ok((await visible()).length > 100);
  });

  test('a control field opens to its bits with on/off and what the capability MSRs allow', async () => {
    const r = await report();
    const f = r.fields.find((x) => x.name === 'PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS')!;
    await p.page.locator(`tr.field[data-field="${f.name}"] td.c-name`).click();
    const detail = p.page.locator(`tr.detail[data-detail-of="${f.name}"]`);
    await detail.waitFor();
    for (const part of f.decoded!.filter((d) => d.on !== undefined).slice(0, 12)) {
      const row = detail.locator(`tr.part[data-part="${part.name}"]`);
      assert.equal((await row.locator('.part-value').innerText()).trim(), part.on ? 'on' : 'off', part.name);
      const allowed = part.allowed0 && part.allowed1 ? '0 or 1' : part.allowed1 ? 'must be 1' : part.allowed0 ? 'must be 0' : 'neither';
      assert.equal((await row.locator('.part-allowed').innerText()).trim(), allowed, part.name);
    }
    await p.page.locator(`tr.field[data-field="${f.name}"] td.c-name`).click();
    assert.equal(await detail.count(), 0);
    // The keyboard does the same (Tab to the name, Enter).
    await p.page.locator(`.field-sections tr.field[data-field="${f.name}"] td.c-name`).focus();
    await p.page.keyboard.press('Enter');
    await detail.waitFor();
    await p.page.keyboard.press('Enter');
    assert.equal(await detail.count(), 0);
  });

  test('edit round trip: the adapter\'s refusal is shown; an accepted write shows the new value', async () => {
    const row = p.page.locator('tr.field[data-field="GUEST_RSP"]');
    await row.hover();
    await row.locator('.edit-button').click();
    const input = row.locator('vscode-textfield.edit-input input');
    await input.fill('0x8000 +');
    await input.press('Enter');
    const message = row.locator('.edit-message.error');
    await message.waitFor();
    let refusal = '';
    try {
      await rec.session.customRequest('setExpression', { expression: 'vmcs.GUEST_RSP', value: '0x8000 +' });
    } catch (e) {
      refusal = (e as Error).message;
    }
    assert.ok(refusal !== '');
    assert.equal(await message.locator('.edit-message-text').innerText(), refusal);
    await input.fill('0x8000');
    await input.press('Enter');
    await p.page.waitForFunction(() => document.querySelector('tr.field[data-field="GUEST_RSP"] .value-text')?.textContent === '0x0000000000008000');
    assert.equal(await row.locator('vscode-textfield').count(), 0, 'the editor closes after an accepted write');
    const edits = (await p.posted()).filter((m) => (m as { type: string }).type === 'edit');
    assert.deepEqual(edits.map((m) => { const { name, value } = m as { name: string; value: string }; return [name, value]; }), [['GUEST_RSP', '0x8000 +'], ['GUEST_RSP', '0x8000']]);
    const results = p.received.filter((m) => m.type === 'editResult');
    assert.deepEqual(results.map((m) => m.type === 'editResult' && m.ok), [false, true]);
    assert.equal(rec.vmm.vcpu.v.read('GUEST_RSP'), 0x8000n);
  });

  test('guest-controlled text is never HTML, the CSP holds, nothing loads from outside dist; screenshots in three themes', async () => {
    assert.deepEqual(await cspViolations(p), []);
    assert.deepEqual(p.problems, []);
    // Markup in a text the guest influences (here the decoded meaning) stays text.
    const r = await report();
    const evil = '<img src=x onerror="document.body.dataset.pwned=1"><b>bold</b>';
    const tampered = { ...r, fields: r.fields.map((f) => (f.name === 'GUEST_RIP' ? { ...f, summary: evil } : f)) };
    await p.page.evaluate((m) => window.postMessage(m, '*'), { type: 'vmcs', stop: 99, report: tampered });
    await p.waitForStop(99);
    assert.equal(await rowText('GUEST_RIP', 'c-summary'), evil);
    assert.equal(await p.page.locator('.field-sections tr.field[data-field="GUEST_RIP"] .c-summary img, .field-sections b').count(), 0);
    assert.equal(await p.page.evaluate(() => document.body.dataset.pwned), undefined);
    await p.controller.refresh();
    await p.page.locator('.field-sections tr.field[data-field="EXIT_QUALIFICATION"] td.c-name').click();
    for (const t of ['light', 'dark', 'high-contrast'] as const) {
      await p.theme(t);
      await p.page.evaluate(() => window.scrollTo(0, 0));
      await p.screenshot(`vmcs-${t}`);
    }
    await p.page.locator('vscode-textfield.filter input').fill('EXIT');
    await p.page.evaluate(() => window.scrollTo(0, 0));
    await p.screenshot('vmcs-exit-fields-high-contrast');
    await p.theme('dark');
    await p.screenshot('vmcs-exit-fields-dark');
    await p.page.locator('vscode-textfield.filter input').fill('');
    await p.page.locator('vscode-tab-header[data-tab="compare"]').click();
    await p.screenshot('vmcs-compare-high-contrast');
    await p.theme('light');
    await p.screenshot('vmcs-compare-light');
  });
});
