/**
 * The `vtx` debug type's configurations: a working default for the file that is open (F5 with no
 * launch.json), and the dynamic configurations VS Code offers in its "Run and Debug" list.
 */
import * as vscode from 'vscode';

const RUNNABLE = /\.(asm|nasm|bin|img|elf|o|kernel)$/i;

/** A launch configuration for `file` (an .asm source, a flat binary or an ELF/Multiboot image). */
export function defaultConfiguration(file: string): vscode.DebugConfiguration {
  const name = file.split(/[\\/]/).pop() ?? file;
  return {
    type: 'vtx', request: 'launch', name: `vtx: debug ${name}`,
    program: file, stopOnEntry: true,
    exitBreakpoints: ['triple_fault'],
  };
}

function activeFile(): string | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  if (doc !== undefined && doc.uri.scheme === 'file') return doc.uri.fsPath;
  const input = vscode.window.tabGroups?.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom) {
    if (input.uri.scheme === 'file') return input.uri.fsPath;
  }
  return undefined;
}

export class VtxConfigurationProvider implements vscode.DebugConfigurationProvider {
  /** F5 without a launch.json: debug the open file; otherwise fill what the configuration lacks. */
  resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.ProviderResult<vscode.DebugConfiguration> {
    if (config.type === undefined && config.request === undefined && config.name === undefined) {
      const file = activeFile();
      if (file === undefined || !RUNNABLE.test(file)) {
        void vscode.window.showInformationMessage('vtx: open an .asm source, a flat binary or an ELF kernel to debug it (or add a "vtx" configuration to launch.json).');
        return undefined;
      }
      return defaultConfiguration(file);
    }
    const out = { ...config };
    out.cwd ??= folder?.uri.fsPath;
    if (out.program === undefined) {
      const file = activeFile();
      if (file !== undefined) out.program = file;
    }
    return out;
  }

  provideDebugConfigurations(): vscode.ProviderResult<vscode.DebugConfiguration[]> {
    const file = activeFile();
    return file !== undefined && RUNNABLE.test(file) ? [defaultConfiguration(file)] : [];
  }
}
