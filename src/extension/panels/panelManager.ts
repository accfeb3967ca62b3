/**
 * The vscode glue of the panels: the commands that open them, one WebviewPanel per kind (shown
 * again when its command runs twice), and the debug events every open panel follows — the
 * active `vtx` session, its `vtx/state` custom events (the adapter sends one when the guest
 * stops, runs or ends), its end. All decisions are in
 * panelController.ts; this file only connects it to VS Code.
 */
import * as vscode from 'vscode';
import { DAP, type PanelKind } from '../../webview/protocol';
import { PanelController, type SessionLike } from './panelController';
import { PANELS, type PanelInfo } from './panelKinds';
import { makeNonce, panelHtml } from './panelHtml';
import { randomBytes } from 'node:crypto';

interface OpenPanel {
  panel: vscode.WebviewPanel;
  controller: PanelController;
}

const open = new Map<PanelKind, OpenPanel>();

function activeVtxSession(): vscode.DebugSession | undefined {
  const s = vscode.debug.activeDebugSession;
  return s?.type === DAP.debugType ? s : undefined;
}

function setUp(context: vscode.ExtensionContext, info: PanelInfo, panel: vscode.WebviewPanel): void {
  const root = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview');
  panel.webview.options = { enableScripts: true, localResourceRoots: [root] };
  const uri = (...p: string[]): string => panel.webview.asWebviewUri(vscode.Uri.joinPath(root, ...p)).toString();
  panel.webview.html = panelHtml({
    kind: info.kind, title: `vtx: ${info.title}`, cspSource: panel.webview.cspSource, nonce: makeNonce(randomBytes),
    script: uri(`${info.bundle}.js`), style: uri(`${info.bundle}.css`), codicons: uri('codicons', 'codicon.css'),
  });
  panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'icon.png');
  const controller = new PanelController(info.kind, (m) => panel.webview.postMessage(m));
  const entry: OpenPanel = { panel, controller };
  open.set(info.kind, entry);
  const subs = [
    panel.webview.onDidReceiveMessage((m: unknown) => { void controller.onWebviewMessage(m); }),
  ];
  panel.onDidDispose(() => {
    if (open.get(info.kind) === entry) open.delete(info.kind);
    for (const s of subs) s.dispose();
  });
  void controller.setSession(activeVtxSession() as SessionLike | undefined);
}

function show(context: vscode.ExtensionContext, info: PanelInfo): void {
  const existing = open.get(info.kind);
  if (existing !== undefined) {
    existing.panel.reveal(undefined, true);
    return;
  }
  const panel = vscode.window.createWebviewPanel(info.viewType, `vtx: ${info.title}`,
    { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview')] });
  setUp(context, info, panel);
}

const each = (f: (c: PanelController) => unknown): void => { for (const p of open.values()) void f(p.controller); };

/** Registers the commands, serializers and debug listeners of the panels. */
export function registerPanels(context: vscode.ExtensionContext): void {
  for (const info of PANELS) {
    context.subscriptions.push(vscode.commands.registerCommand(info.command, () => show(context, info)));
    context.subscriptions.push(vscode.window.registerWebviewPanelSerializer(info.viewType, {
      deserializeWebviewPanel: async (panel) => { setUp(context, info, panel); },
    }));
  }
  context.subscriptions.push(
    vscode.debug.onDidChangeActiveDebugSession((s) => {
      // Another kind of session becoming active leaves the panels on their vtx session.
      if (s === undefined || s.type === DAP.debugType) each((c) => c.setSession(s));
    }),
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => each((c) => c.onCustomEvent(e.session.id, e.event, e.body))),
    vscode.debug.onDidTerminateDebugSession((s) => {
      each((c) => c.onSessionEnded(s.id));
      const next = activeVtxSession();
      if (next !== undefined && next.id !== s.id) each((c) => c.setSession(next));
    }),
    { dispose: () => { for (const p of open.values()) p.panel.dispose(); open.clear(); } },
  );
}
