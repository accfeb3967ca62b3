/**
 * The VS Code extension entry (bundled to dist/extension.js, `vscode` external): the command
 * `vtx.runFlatBinary` (run a flat binary on the bare processor with the same engine as `vtx run`
 * and write the summary to the "vtx" output channel), the assembly language client
 * (vscode-languageclient) for .asm/.nasm files, and the `vtx` debug type (configuration provider
 * and the debug adapter, dist/adapter.js). The panels come later (docs/ARCHITECTURE.md).
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind } from 'vscode-languageclient/node';
import { registerPanels } from './panels/panelManager';
import { UsageError } from '../cli/args';
import { GUEST_MODES, GuestMode, runGuest } from '../cli/runGuest';
import { formatSummary, summarize } from '../cli/summary';
import { VtxConfigurationProvider } from './debugConfiguration';
import { VtxAdapterFactory } from './debugAdapterFactory';
import { SerialTerminalTracker } from './serialTerminal';

let channel: vscode.OutputChannel | undefined;
let client: LanguageClient | undefined;

/** The assembly language server (dist/languageServer.js) for .asm/.nasm files. */
function startLanguageClient(context: vscode.ExtensionContext): void {
  if (!vscode.workspace.getConfiguration('vtx').get<boolean>('asm.languageServer', true)) return;
  const module = context.asAbsolutePath('dist/languageServer.js');
  client = new LanguageClient(
    'vtx-asm', 'vtx assembly',
    { run: { module, transport: TransportKind.ipc }, debug: { module, transport: TransportKind.ipc } },
    { documentSelector: [{ language: 'vtx-asm' }] },
  );
  void client.start();
}

/** The file to run: the explorer's selection, else the active editor's file, else ask. */
async function pickFile(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom) {
    if (input.uri.scheme === 'file' && !/\.(asm|s|nasm|inc|md|txt)$/i.test(input.uri.path)) return input.uri;
  }
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Run on the bare processor',
    filters: { 'Flat binaries': ['bin', 'img', 'com', 'raw'], 'All files': ['*'] },
  });
  return picked?.[0];
}

async function runFlatBinary(arg: unknown): Promise<void> {
  const uri = await pickFile(arg);
  if (uri === undefined) return;
  const mode = await vscode.window.showQuickPick(
    GUEST_MODES.slice().reverse().map((m) => ({ label: m, description: m === 'real' ? 'loaded at 0x7c00' : 'loaded at 0x1000' })),
    { placeHolder: 'Processor mode' },
  );
  if (mode === undefined) return;
  const out = (channel ??= vscode.window.createOutputChannel('vtx'));
  out.show(true);
  out.appendLine(`vtx run ${uri.fsPath} --mode ${mode.label}`);
  try {
    let image: Uint8Array;
    try {
      image = await vscode.workspace.fs.readFile(uri);
    } catch (e) {
      throw new UsageError(`cannot read '${uri.fsPath}': ${(e as Error).message}`);
    }
    if (image.length === 0) throw new UsageError(`'${uri.fsPath}' is empty`);
    const run = runGuest(image, { mode: mode.label as GuestMode, hypervisor: 'none' });
    out.appendLine(formatSummary(summarize(run)));
    out.appendLine('');
  } catch (e) {
    const message = e instanceof UsageError ? e.message : `internal error: ${(e as Error).stack ?? String(e)}`;
    out.appendLine(`vtx: ${message}`);
    void vscode.window.showErrorMessage(`vtx: ${message.split('\n')[0]}`);
  }
}

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand('vtx.runFlatBinary', runFlatBinary));
  context.subscriptions.push({ dispose: () => { channel?.dispose(); channel = undefined; } });
  // The `vtx` debug type (package.json contributes.debuggers): configurations and the adapter.
  const problems = vscode.languages.createDiagnosticCollection('vtx-launch');
  context.subscriptions.push(problems);
  const provider = new VtxConfigurationProvider(problems);
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider('vtx', provider),
    // The dynamic list only provides configurations; the Problems check runs once, above.
    vscode.debug.registerDebugConfigurationProvider('vtx', new VtxConfigurationProvider(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory('vtx', new VtxAdapterFactory(context)),
    vscode.debug.registerDebugAdapterTrackerFactory('vtx', new SerialTerminalTracker()),
  );
  startLanguageClient(context);
  registerPanels(context);
}

export function deactivate(): Thenable<void> | undefined {
  return client?.stop();
}
