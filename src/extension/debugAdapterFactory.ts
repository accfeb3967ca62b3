/**
 * How VS Code runs the vtx debug adapter: as a separate process (`dist/adapter.js` over stdio,
 * the default: a guest that hangs the adapter cannot hang the extension host), or inline in the
 * extension host for development (setting `vtx.debug.inlineAdapter`: breakpoints in the adapter
 * work in the extension's own debugger).
 */
import * as vscode from 'vscode';
import { VtxDebugSession } from '../debugger/adapter/session';

export class VtxAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly context: vscode.ExtensionContext) {}

  createDebugAdapterDescriptor(): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    if (vscode.workspace.getConfiguration('vtx').get<boolean>('debug.inlineAdapter', false)) {
      return new vscode.DebugAdapterInlineImplementation(new VtxDebugSession());
    }
    // The extension host's own runtime, as plain Node.js.
    return new vscode.DebugAdapterExecutable(process.execPath, [this.context.asAbsolutePath('dist/adapter.js')], { env: { ELECTRON_RUN_AS_NODE: '1' } });
  }
}
