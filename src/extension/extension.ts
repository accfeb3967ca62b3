/**
 * The VS Code extension entry (bundled to dist/extension.js, `vscode` external): the commands
 * `vtx.runFlatBinary` (a flat binary on the bare processor, summary to the "vtx" output channel),
 * `vtx.runWithoutDebugging` (the open guest under the built-in hypervisor, like `vtx run
 * --trace-exits`, with the exits table) and `vtx.assemble` (the open .asm to a .bin next to it,
 * errors to Problems), the assembly language client (vscode-languageclient) for .asm/.nasm
 * files, the `vtx` debug type (configuration provider and the debug adapter, dist/adapter.js)
 * and the VMCS / EPT / VM-exit panels (docs/ARCHITECTURE.md).
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
import { assembleToBinary, runUnderHypervisor } from './guestCommands';
import type { Diagnostic as AsmDiagnostic } from '../language/asm/preprocessor';

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
  const out = output();
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

function output(): vscode.OutputChannel {
  return (channel ??= vscode.window.createOutputChannel('vtx'));
}

/** The guest to act on: the explorer's selection, else the active editor's file (saved first). */
async function guestFile(arg: unknown, what: string): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  const doc = vscode.window.activeTextEditor?.document;
  if (doc !== undefined && doc.uri.scheme === 'file') {
    if (doc.isDirty) await doc.save();
    return doc.uri.fsPath;
  }
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if ((input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom) && input.uri.scheme === 'file') return input.uri.fsPath;
  void vscode.window.showInformationMessage(`vtx: open ${what} first`);
  return undefined;
}

function toDiagnostics(list: AsmDiagnostic[], source: string): vscode.Diagnostic[] {
  return list.map((d) => {
    const range = new vscode.Range(Math.max(0, d.line - 1), d.col, Math.max(0, d.line - 1), d.col + Math.max(1, d.length));
    const diag = new vscode.Diagnostic(range, d.message, d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
    diag.source = source;
    return diag;
  });
}

/** "vtx: Assemble": x.asm → x.bin next to it; errors and warnings in Problems. */
async function assembleCommand(problems: vscode.DiagnosticCollection, arg: unknown): Promise<void> {
  const file = await guestFile(arg, 'an .asm file');
  if (file === undefined) return;
  const r = assembleToBinary(file);
  problems.clear();
  for (const [f, list] of r.byFile) problems.set(vscode.Uri.file(f), toDiagnostics(list, 'vtx asm'));
  const out = output();
  out.appendLine(`vtx asm ${file}${r.output !== undefined ? ` -o ${r.output}` : ''}`);
  if (r.ok) {
    out.appendLine(`wrote ${r.output} (${r.bytes} bytes)`);
    void vscode.window.setStatusBarMessage(`vtx: assembled ${r.output} (${r.bytes} bytes)`, 5000);
  } else {
    out.appendLine(`vtx: ${r.message ?? 'the file does not assemble'}`);
    void vscode.window.showErrorMessage(`vtx: ${r.message ?? 'the file does not assemble'}`);
  }
}

/** "vtx: Run Without Debugging": the guest under the built-in hypervisor, like `vtx run --trace-exits`. */
async function runWithoutDebugging(arg: unknown): Promise<void> {
  const file = await guestFile(arg, 'a guest (.asm, flat binary, ELF or Multiboot kernel)');
  if (file === undefined) return;
  const out = output();
  out.show(true);
  try {
    const r = runUnderHypervisor(file);
    for (const l of r.lines) out.appendLine(l);
    out.appendLine('');
    if (r.error !== undefined) void vscode.window.showErrorMessage(`vtx: ${r.error.split('\n')[0]}`);
  } catch (e) {
    out.appendLine(`vtx: internal error: ${(e as Error).stack ?? String(e)}`);
    void vscode.window.showErrorMessage(`vtx: internal error: ${(e as Error).message}`);
  }
}

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand('vtx.runFlatBinary', runFlatBinary));
  context.subscriptions.push({ dispose: () => { channel?.dispose(); channel = undefined; } });
  // The `vtx` debug type (package.json contributes.debuggers): configurations and the adapter.
  const problems = vscode.languages.createDiagnosticCollection('vtx-launch');
  context.subscriptions.push(problems);
  const provider = new VtxConfigurationProvider(problems);
  const built = vscode.languages.createDiagnosticCollection('vtx-asm-build');
  context.subscriptions.push(
    built,
    vscode.commands.registerCommand('vtx.assemble', (arg: unknown) => assembleCommand(built, arg)),
    vscode.commands.registerCommand('vtx.runWithoutDebugging', runWithoutDebugging),
  );
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
