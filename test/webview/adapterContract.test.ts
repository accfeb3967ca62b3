/**
 * The panels' host logic against the real debug adapter (dist/adapter.js, issue 6) over DAP with
 * DebugClient: the custom requests the panels make (vtx/vmcs, vtx/ept flat and tree, vtx/exits,
 * vtx/translate), the vtx/state events that refresh them, and VMCS edits through setExpression
 * with the adapter's refusal passed back. Skipped where the adapter is not built (before the
 * debugger branch is merged); VTX_ADAPTER may name another build of it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { PanelController, type SessionLike } from '../../src/extension/panels/panelController';
import type { EptDataMessage, ExitsDataMessage, HostMessage, VmcsDataMessage } from '../../src/webview/protocol';
import { PANEL_GUEST } from './recordedSession';

const ROOT = new URL('../..', import.meta.url).pathname;
const ADAPTER = process.env.VTX_ADAPTER ?? join(ROOT, 'dist', 'adapter.js');
const skip = existsSync(ADAPTER) ? undefined : `the debug adapter is not built (${ADAPTER}; it comes with the debugger branch)`;

describe('panels against the debug adapter over DAP', { skip }, () => {
  let dc: DebugClient;
  const panels = new Map<string, { c: PanelController; sent: HostMessage[] }>();
  const last = <T extends HostMessage['type']>(kind: string, type: T): Extract<HostMessage, { type: T }> | undefined =>
    panels.get(kind)!.sent.filter((m): m is Extract<HostMessage, { type: T }> => m.type === type).at(-1);
  let session: SessionLike;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtx-panels-'));
    const program = join(dir, 'guest.asm');
    writeFileSync(program, `org 0x1000\n${PANEL_GUEST}\n`);
    dc = new DebugClient('node', ADAPTER, 'vtx', { cwd: ROOT }, true);
    dc.defaultTimeout = 10_000;
    await dc.start();
    session = {
      id: 'dap-1', name: 'guest.asm', type: 'vtx',
      customRequest: async (command: string, args?: unknown) => (await dc.customRequest(command, args)).body,
    };
    for (const kind of ['vmcs', 'ept', 'exits'] as const) {
      const sent: HostMessage[] = [];
      const c = new PanelController(kind, (m) => sent.push(m));
      await c.onWebviewMessage({ type: 'ready' });
      panels.set(kind, { c, sent });
    }
    dc.on('vtx/state', (e: { body?: unknown }) => {
      for (const p of panels.values()) void p.c.onCustomEvent(session.id, 'vtx/state', e.body);
    });
    await dc.initializeRequest({ adapterID: 'vtx', clientID: 'test', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ program, stopOnEntry: true, intercept: { io: '0x80' } } as never);
    await initialized;
    await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'cpuid', condition: 'leaf == 1' }, { filterId: 'ept_violation' }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    await stopped;
    for (const p of panels.values()) await p.c.setSession(session);
  });
  after(async () => { await dc?.stop(); });

  const settle = async (kind: string, stop: number): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      const m = panels.get(kind)!.sent.filter((x) => 'stop' in x).at(-1) as { stop: number } | undefined;
      if (m !== undefined && m.stop >= stop) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`${kind}: no data for stop ${stop}: ${JSON.stringify(panels.get(kind)!.sent.map((x) => x.type))}`);
  };

  test('on the entry stop every panel gets its report', async () => {
    for (const k of ['vmcs', 'ept', 'exits']) await settle(k, 1);
    const v = last('vmcs', 'vmcs') as VmcsDataMessage;
    assert.ok(v.report.fields.length > 150);
    assert.ok(v.report.groups.length > 10);
    const e = last('ept', 'ept') as EptDataMessage;
    assert.equal(e.flat.form, 'flat');
    assert.ok(e.flat.mappings.length > 0);
    assert.ok(last('exits', 'exits') !== undefined);
  });

  test('a vtx/state stop refreshes every panel: the VMCS shows the CPUID exit, the timeline lists it', async () => {
    const before = (last('vmcs', 'vmcs') as VmcsDataMessage).stop;
    const stopped = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    await stopped;
    await settle('vmcs', before + 1);
    await settle('exits', 2);
    const v = last('vmcs', 'vmcs') as VmcsDataMessage;
    assert.match(v.report.fields.find((f) => f.name === 'EXIT_REASON')!.summary ?? '', /CPUID/);
    const session = panels.get('vmcs')!.sent.filter((m) => m.type === 'session').at(-1);
    assert.equal(session?.type === 'session' && session.state, 'stopped');
    const x = last('exits', 'exits') as ExitsDataMessage;
    assert.equal(x.report.stoppedOn?.name, 'CPUID');
  });

  test('edits: setExpression vmcs.NAME; the refusal text comes back; an accepted write shows in the next report', async () => {
    const { c, sent } = panels.get('vmcs')!;
    await c.onWebviewMessage({ type: 'edit', id: 1, name: 'EXIT_REASON', value: '1' });
    const refused = sent.filter((m) => m.type === 'editResult').at(-1);
    assert.ok(refused?.type === 'editResult' && !refused.ok);
    assert.match(refused.error ?? '', /read-only/);
    const from = sent.length;
    await c.onWebviewMessage({ type: 'edit', id: 2, name: 'CR4_READ_SHADOW', value: '0x20' });
    const ok = sent.filter((m) => m.type === 'editResult').at(-1);
    assert.ok(ok?.type === 'editResult' && ok.ok, JSON.stringify(ok));
    // The accepted write is followed by a refresh of the same stop.
    const after = sent.slice(from).filter((m): m is VmcsDataMessage => m.type === 'vmcs');
    assert.equal(after.length, 1);
    assert.equal(after[0].report.fields.find((f) => f.name === 'CR4_READ_SHADOW')!.value, '0x0000000000000020');
  });

  test('the EPT tree when asked, translations by id, and the EPT violation', async () => {
    const { c, sent } = panels.get('ept')!;
    await c.onWebviewMessage({ type: 'wantTree', want: true });
    const e = last('ept', 'ept') as EptDataMessage;
    assert.equal(e.tree?.form, 'tree');
    await c.onWebviewMessage({ type: 'translate', id: 5, address: '0x1000', kind: 'linear' });
    const t = sent.filter((m) => m.type === 'translateResult').at(-1);
    assert.ok(t?.type === 'translateResult' && t.id === 5 && t.report?.linear !== undefined, JSON.stringify(t));
    const stopped = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    await stopped;
    await settle('ept', e.stop + 1);
    assert.equal((last('ept', 'ept') as EptDataMessage).flat.lastViolationGpa, '0xfee00030');
  });
});
