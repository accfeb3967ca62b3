/** The three panels: command, title, webview view type and bundle of each (package.json contributes the same commands). */
import type { PanelKind } from '../../webview/protocol';

export interface PanelInfo {
  kind: PanelKind;
  command: string;
  title: string;
  viewType: string;
  /** dist/webview/<bundle>.js and .css */
  bundle: string;
}

export const PANELS: readonly PanelInfo[] = [
  { kind: 'vmcs', command: 'vtx.showVmcs', title: 'VMCS', viewType: 'vtx.vmcs', bundle: 'vmcs' },
  { kind: 'ept', command: 'vtx.showEpt', title: 'EPT', viewType: 'vtx.ept', bundle: 'ept' },
  { kind: 'exits', command: 'vtx.showExits', title: 'VM Exits', viewType: 'vtx.exits', bundle: 'exits' },
];
