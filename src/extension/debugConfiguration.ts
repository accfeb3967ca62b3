/**
 * The `vtx` debug type's configurations: a working default for the file that is open (F5 with no
 * launch.json), and the dynamic configurations VS Code offers in its "Run and Debug" list.
 */
import * as vscode from 'vscode';
import { isAbsolute, join } from 'node:path';
import { isAsmProgram, precheckAsm } from './asmPrecheck';

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

/** What the user settings give a configuration that does not say (package.json `vtx.*`). */
export interface SettingsDefaults {
  syntax?: string;
  serial?: string;
  intercept?: Record<string, unknown>;
}

function settingsDefaults(): SettingsDefaults {
  const c = vscode.workspace.getConfiguration('vtx');
  const intercept = c.get<Record<string, unknown>>('defaultIntercept');
  return {
    syntax: c.get<string>('disassembly.syntax'),
    serial: c.get<string>('serial'),
    intercept: intercept !== undefined && intercept !== null && typeof intercept === 'object' && Object.keys(intercept).length > 0 ? intercept : undefined,
  };
}

/** Fills `syntax`, `serial` and `intercept` from the settings where the configuration lacks them. */
export function withSettings(config: vscode.DebugConfiguration, s: SettingsDefaults = settingsDefaults()): vscode.DebugConfiguration {
  const out = { ...config };
  if (out.syntax === undefined && s.syntax !== undefined) out.syntax = s.syntax;
  if (out.serial === undefined && s.serial !== undefined) out.serial = s.serial;
  if (out.intercept === undefined && s.intercept !== undefined) out.intercept = { ...s.intercept };
  return out;
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
  /** Assembly errors of the program being launched, shown in Problems (issue 8). */
  constructor(private readonly problems?: vscode.DiagnosticCollection) {}

  /**
   * After variables are substituted: an .asm program is assembled first, so that its errors go
   * to Problems at their file and line and the launch stops with a message naming the first.
   */
  resolveDebugConfigurationWithSubstitutedVariables(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.ProviderResult<vscode.DebugConfiguration> {
    if (typeof config.program !== 'string' || !isAsmProgram(config.program) || this.problems === undefined) return config;
    const path = isAbsolute(config.program) || typeof config.cwd !== 'string' ? config.program : join(config.cwd, config.program);
    const r = precheckAsm(path);
    this.problems.clear();
    for (const [file, list] of r.byFile) {
      this.problems.set(vscode.Uri.file(file), list.map((d) => {
        const range = new vscode.Range(Math.max(0, d.line - 1), d.col, Math.max(0, d.line - 1), d.col + Math.max(1, d.length));
        const diag = new vscode.Diagnostic(range, d.message, d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
        diag.source = 'vtx launch';
        return diag;
      }));
    }
    if (r.ok) return config;
    void vscode.window.showErrorMessage(`vtx: the program does not assemble: ${r.message ?? ''}`);
    return undefined;
  }

  /**
   * F5 without a launch.json: debug the open file; otherwise fill what the configuration lacks
   * (the folder, the open file as `program`, and `syntax`/`serial`/`intercept` from the settings
   * vtx.disassembly.syntax, vtx.serial and vtx.defaultIntercept).
   */
  resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.ProviderResult<vscode.DebugConfiguration> {
    if (config.type === undefined && config.request === undefined && config.name === undefined) {
      const file = activeFile();
      if (file === undefined || !RUNNABLE.test(file)) {
        void vscode.window.showInformationMessage('vtx: open an .asm source, a flat binary or an ELF kernel to debug it (or add a "vtx" configuration to launch.json).');
        return undefined;
      }
      return withSettings(defaultConfiguration(file));
    }
    const out = withSettings(config);
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
