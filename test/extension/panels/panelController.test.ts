/**
 * The host half of the panels without VS Code: a PanelController driven by a fake debug
 * session (scripted answers and failures), checking the messages between panel and adapter —
 * what is asked of the session and when, what the webview is sent, stale answers dropped,
 * refusals passed on, untrusted webview messages checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PanelController, stateOfEvent, type SessionLike } from '../../../src/extension/panels/panelController';
import { parseWebviewMessage, type HostMessage } from '../../../src/webview/protocol';
import { panelCsp, panelHtml } from '../../../src/extension/panels/panelHtml';
import { PANELS } from '../../../src/extension/panels/panelKinds';
import { readFileSync } from 'node:fs';

interface Call { command: string; args: unknown }

/** A session whose custom requests answer with `answer(command, args)` (throw to refuse). */
function fakeSession(id: string, answer: (command: string, args: unknown) => unknown, type = 'vtx'): SessionLike & { calls: Call[]; gate?: Promise<void> } {
  const s = {
    id, name: `session ${id}`, type, calls: [] as Call[], gate: undefined as Promise<void> | undefined,
    async customRequest(command: string, args?: unknown): Promise<unknown> {
      s.calls.push({ command, args });
      if (s.gate !== undefined) await s.gate;
      return answer(command, args);
    },
  };
  return s;
}

const vmcsReport = (tag: string) => ({ inside: false, fields: [{ name: 'GUEST_RIP', value: tag }], groups: [] });
const flat = { form: 'flat', eptEnabled: true, eptp: '0x1', mappings: [], regions: [], top: '0x1000' };
const tree = { form: 'tree', eptEnabled: true, eptp: '0x1', eptpDecoded: [], truncated: false };

function collect(kind: 'vmcs' | 'ept' | 'exits'): { c: PanelController; sent: HostMessage[] } {
  const sent: HostMessage[] = [];
  return { c: new PanelController(kind, (m) => sent.push(m)), sent };
}

test('no session: the panel is told so on ready, and asks nothing', async () => {
  const { c, sent } = collect('vmcs');
  await c.setSession(undefined);
  assert.deepEqual(sent, [], 'nothing is posted before the webview is ready');
  await c.onWebviewMessage({ type: 'ready' });
  assert.deepEqual(sent, [{ type: 'session', state: 'none', name: undefined, reason: undefined }]);
});

test('a session that starts later: the panel fills in; data is asked on ready and on every vtx/state stop', async () => {
  let n = 0;
  const s = fakeSession('a', (cmd) => { assert.equal(cmd, 'vtx/vmcs'); return vmcsReport(`v${++n}`); });
  const { c, sent } = collect('vmcs');
  await c.onWebviewMessage({ type: 'ready' });
  await c.setSession(s);
  assert.deepEqual(sent.map((m) => m.type), ['session', 'session', 'vmcs']);
  assert.deepEqual(sent[1], { type: 'session', state: 'stopped', name: 'session a', reason: undefined });
  assert.deepEqual(sent[2], { type: 'vmcs', stop: 1, report: vmcsReport('v1') });

  await c.onCustomEvent('a', 'vtx/state', { state: 'running' });
  assert.deepEqual(sent.at(-1), { type: 'session', state: 'running', name: 'session a', reason: undefined });
  assert.equal(s.calls.length, 1, 'nothing is asked while the guest runs');
  await c.onCustomEvent('a', 'vtx/state', { state: 'stopped', reason: 'VM exit: CPUID' });
  assert.deepEqual(sent.slice(-2), [
    { type: 'session', state: 'stopped', name: 'session a', reason: 'VM exit: CPUID' },
    { type: 'vmcs', stop: 2, report: vmcsReport('v2') },
  ]);
  // Other events and other sessions' events are ignored.
  await c.onCustomEvent('a', 'output', {});
  await c.onCustomEvent('b', 'vtx/state', { state: 'stopped' });
  assert.equal(s.calls.length, 2);
});

test('the EPT panel asks for the flat form, and the tree form once the webview shows the tree', async () => {
  const s = fakeSession('a', (_cmd, args) => ((args as { form: string }).form === 'tree' ? tree : flat));
  const { c, sent } = collect('ept');
  await c.onWebviewMessage({ type: 'ready' });
  await c.setSession(s);
  assert.deepEqual(s.calls, [{ command: 'vtx/ept', args: { form: 'flat' } }]);
  assert.deepEqual(sent.at(-1), { type: 'ept', stop: 1, flat });
  await c.onWebviewMessage({ type: 'wantTree', want: true });
  assert.deepEqual(s.calls.slice(1).map((x) => x.args), [{ form: 'flat' }, { form: 'tree' }]);
  // A refresh of the same stop keeps its number (the webview counts stops, not requests).
  assert.deepEqual(sent.at(-1), { type: 'ept', stop: 1, flat, tree });
});

test('the exit panel asks for the recent exits with a limit', async () => {
  const s = fakeSession('a', () => ({ total: 0, counts: [], exits: [] }));
  const { c } = collect('exits');
  await c.onWebviewMessage({ type: 'ready' });
  await c.setSession(s);
  assert.deepEqual(s.calls, [{ command: 'vtx/exits', args: { limit: 1000 } }]);
});

test('a failed request reaches the webview with the adapter\'s message', async () => {
  const s = fakeSession('a', () => { throw new Error('not stopped'); });
  const { c, sent } = collect('vmcs');
  await c.onWebviewMessage({ type: 'ready' });
  await c.setSession(s);
  assert.deepEqual(sent.at(-1), { type: 'error', request: 'vtx/vmcs', message: 'not stopped' });
});

test('edits go to the adapter as setExpression vmcs.NAME; a refusal comes back with its text; success refreshes', async () => {
  let rip = '0x1000';
  const s = fakeSession('a', (cmd, args) => {
    if (cmd === 'vtx/vmcs') return vmcsReport(rip);
    assert.equal(cmd, 'setExpression');
    const { expression, value } = args as { expression: string; value: string };
    assert.equal(expression, 'vmcs.GUEST_RIP');
    if (value === 'bad') throw new Error('VMWRITE GUEST_RIP refused: the guest is running');
    rip = value;
    return { value: `0x${BigInt(value).toString(16).padStart(16, '0')}` };
  });
  const { c, sent } = collect('vmcs');
  await c.onWebviewMessage({ type: 'ready' });
  await c.setSession(s);
  await c.onWebviewMessage({ type: 'edit', id: 7, name: 'GUEST_RIP', value: 'bad' });
  assert.deepEqual(sent.at(-1), { type: 'editResult', id: 7, name: 'GUEST_RIP', ok: false, error: 'VMWRITE GUEST_RIP refused: the guest is running' });
  await c.onWebviewMessage({ type: 'edit', id: 8, name: 'GUEST_RIP', value: '0x2000' });
  assert.deepEqual(sent.slice(-2), [
    { type: 'editResult', id: 8, name: 'GUEST_RIP', ok: true, value: '0x0000000000002000' },
    { type: 'vmcs', stop: 1, report: vmcsReport('0x2000') },
  ]);
  assert.deepEqual(s.calls.filter((x) => x.command === 'setExpression').map((x) => x.args), [
    { expression: 'vmcs.GUEST_RIP', value: 'bad' }, { expression: 'vmcs.GUEST_RIP', value: '0x2000' },
  ]);
  // While running, edits are refused here without asking the adapter.
  await c.onCustomEvent('a', 'vtx/state', { state: 'running' });
  await c.onWebviewMessage({ type: 'edit', id: 9, name: 'GUEST_RIP', value: '1' });
  assert.equal((sent.at(-1) as { ok: boolean }).ok, false);
  assert.equal(s.calls.filter((x) => x.command === 'setExpression').length, 2);
});

test('translate requests go to vtx/translate; answers and failures come back by id', async () => {
  const s = fakeSession('a', (cmd, args) => {
    if (cmd !== 'vtx/translate') return vmcsReport('x');
    if ((args as { address: string }).address === '0xbad') throw new Error('beyond the address space');
    return { address: (args as { address: string }).address, kind: 'physical', result: '0x5000' };
  });
  const { c, sent } = collect('ept');
  await c.onWebviewMessage({ type: 'translate', id: 1, address: '0x5000', kind: 'physical' });
  assert.deepEqual(sent.at(-1), { type: 'translateResult', id: 1, error: 'no vtx debug session' });
  await c.setSession(s);
  await c.onWebviewMessage({ type: 'translate', id: 2, address: '0x5000', kind: 'physical' });
  assert.deepEqual(sent.at(-1), { type: 'translateResult', id: 2, report: { address: '0x5000', kind: 'physical', result: '0x5000' } });
  assert.deepEqual(s.calls.at(-1), { command: 'vtx/translate', args: { address: '0x5000', kind: 'physical' } });
  await c.onWebviewMessage({ type: 'translate', id: 3, address: '0xbad', kind: 'linear' });
  assert.deepEqual(sent.at(-1), { type: 'translateResult', id: 3, error: 'beyond the address space' });
});

test('following the active session: answers of the previous session are dropped; its end is announced', async () => {
  let release!: () => void;
  const a = fakeSession('a', () => vmcsReport('from a'));
  a.gate = new Promise((r) => { release = r; });
  const b = fakeSession('b', () => vmcsReport('from b'));
  const { c, sent } = collect('vmcs');
  await c.onWebviewMessage({ type: 'ready' });
  const pending = c.setSession(a);
  await c.setSession(b);
  release();
  await pending;
  const data = sent.filter((m) => m.type === 'vmcs');
  assert.deepEqual(data.map((m) => m.type === 'vmcs' && m.report.fields[0].value), ['from b']);
  c.onSessionEnded('a');
  assert.equal(c.current?.id, 'b', 'the end of another session changes nothing');
  c.onSessionEnded('b');
  assert.deepEqual(sent.at(-1), { type: 'session', state: 'ended', name: 'session b', reason: undefined });
  assert.equal(c.current, undefined);
  // VS Code then has no active session: the panel keeps saying the session ended (and its data).
  const count = sent.length;
  await c.setSession(undefined);
  assert.equal(sent.length, count);
  // The active session becoming undefined first (before its end is announced) reads the same.
  const d = fakeSession('d', () => vmcsReport('from d'));
  await c.setSession(d);
  await c.setSession(undefined);
  assert.deepEqual(sent.at(-1), { type: 'session', state: 'ended', name: 'session d', reason: undefined });
  c.onSessionEnded('d');
  assert.deepEqual(sent.at(-1), { type: 'session', state: 'ended', name: 'session d', reason: undefined });
});

test('stops that arrive while a refresh is in flight coalesce into one more round', async () => {
  let release!: () => void;
  let n = 0;
  const s = fakeSession('a', () => vmcsReport(`v${++n}`));
  const { c, sent } = collect('vmcs');
  await c.onWebviewMessage({ type: 'ready' });
  s.gate = new Promise((r) => { release = r; });
  const first = c.setSession(s);
  const more = [c.refresh(), c.refresh(), c.refresh()];
  release();
  await Promise.all([first, ...more]);
  assert.equal(s.calls.length, 2);
  assert.deepEqual(sent.filter((m) => m.type === 'vmcs').map((m) => m.type === 'vmcs' && [m.stop, m.report.fields[0].value]), [[1, 'v1'], [1, 'v2']]);
});

test('sessions of other debug types are not followed', async () => {
  const { c, sent } = collect('vmcs');
  await c.onWebviewMessage({ type: 'ready' });
  const n = fakeSession('n', () => ({}), 'node');
  await c.setSession(n);
  assert.deepEqual(sent.at(-1), { type: 'session', state: 'none', name: undefined, reason: undefined });
  assert.deepEqual(n.calls, []);
});

test('webview messages are checked before use', () => {
  assert.equal(parseWebviewMessage(null), undefined);
  assert.equal(parseWebviewMessage({ type: 'evil' }), undefined);
  assert.equal(parseWebviewMessage({ type: 'edit', id: 1, name: 'GUEST_RIP; rm', value: '1' }), undefined);
  assert.equal(parseWebviewMessage({ type: 'edit', id: '1', name: 'GUEST_RIP', value: '1' }), undefined);
  assert.equal(parseWebviewMessage({ type: 'translate', id: 1, address: '0x1', kind: 'virtual' }), undefined);
  assert.deepEqual(parseWebviewMessage({ type: 'edit', id: 1, name: 'GUEST_RIP', value: '1', extra: 2 }), { type: 'edit', id: 1, name: 'GUEST_RIP', value: '1' });
  assert.deepEqual(stateOfEvent(undefined), { state: 'stopped', reason: undefined });
  assert.deepEqual(stateOfEvent({ state: 'running' }), { state: 'running', reason: undefined });
  assert.deepEqual(stateOfEvent({ state: 'terminated' }), { state: 'ended', reason: undefined });
  // The adapter's body (dbg-engine): the description is what a person reads.
  assert.deepEqual(stateOfEvent({ state: 'stopped', reason: 'exception', description: 'VM exit: CPUID leaf 0x1', exit: 'CPUID', rip: '0x1005', icount: 3 }),
    { state: 'stopped', reason: 'VM exit: CPUID leaf 0x1' });
  assert.deepEqual(stateOfEvent({ state: 'ended', reason: 'exited', description: 'the guest powered off' }), { state: 'ended', reason: 'the guest powered off' });
});

test('the page: strict CSP with the nonce on every script and stylesheet, nothing else allowed', () => {
  const html = panelHtml({ kind: 'vmcs', title: 'vtx: VMCS "x"', cspSource: 'vscode-resource:', nonce: 'N0nce', script: 'S.js', style: 'S.css', codicons: 'C.css' });
  assert.equal(panelCsp('vscode-resource:', 'N0nce'), "default-src 'none'; img-src vscode-resource: data:; style-src vscode-resource: 'nonce-N0nce'; font-src vscode-resource:; script-src 'nonce-N0nce'");
  assert.ok(html.includes(`content="default-src 'none'; img-src vscode-resource: data:; style-src vscode-resource: 'nonce-N0nce'; font-src vscode-resource:; script-src 'nonce-N0nce'"`));
  assert.equal([...html.matchAll(/<script\b[^>]*>/g)].length, 1);
  assert.ok(/<script nonce="N0nce" src="S.js"><\/script>/.test(html));
  assert.ok(html.includes('<title>vtx: VMCS &quot;x&quot;</title>'));
  assert.ok(!/unsafe-inline|unsafe-eval|https?:/.test(html));
});

test('package.json contributes the three commands with icons, shown in the debug toolbar for vtx sessions', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    contributes: { commands: Array<{ command: string; title: string; category?: string; icon?: string }>; menus: Record<string, Array<{ command: string; when?: string }>> };
  };
  for (const p of PANELS) {
    const c = pkg.contributes.commands.find((x) => x.command === p.command);
    assert.ok(c !== undefined, p.command);
    assert.equal(`${c.category}: ${c.title}`, `vtx: Show ${p.title}`);
    assert.match(c.icon ?? '', /^\$\([a-z-]+\)$/);
    const bar = pkg.contributes.menus['debug/toolBar'].find((x) => x.command === p.command);
    assert.match(bar?.when ?? '', /debugType == 'vtx'/);
  }
});
