/**
 * The messages between the extension host (src/extension/panels/) and the three webview panels
 * (src/webview/). Plain JSON in both directions; the webview never talks to the debug adapter:
 * the host asks the active `vtx` debug session with custom DAP requests (vtx/vmcs, vtx/ept,
 * vtx/exits, vtx/translate, setExpression) and posts the answers here.
 * Shared by host and browser code: no DOM and no `vscode` types in this file.
 */
import type { EptFlatReport, EptTreeReport, ExitsReport, TranslateReport, VmcsReport } from '../debugger/inspect/reports';

export type { DecodedPart, EptFlatReport, EptTreeReport, EptTreeEntry, EptLeafRun, EptTreeTable, EptMapping, ExitEntry, ExitsReport, MemoryRegion, TranslateReport, VmcsFieldReport, VmcsReport } from '../debugger/inspect/reports';
export type { EptStep, EptTranslation, LinearTranslation, PagingStep } from '../debugger/inspect/reports';

export type PanelKind = 'vmcs' | 'ept' | 'exits';

/** What the panel's session is doing. */
export type SessionState = 'none' | 'running' | 'stopped' | 'ended';

/** The debug session the panel shows (or none). */
export interface SessionMessage {
  type: 'session';
  state: SessionState;
  /** The session's name (launch configuration), when there is one. */
  name?: string;
  /** Why it stopped ("VM exit: CPUID", "step", ...), when the adapter said. */
  reason?: string;
}

/** Data of one stop. `stop` counts the stops the host has seen in this session (1, 2, ...). */
export interface VmcsDataMessage { type: 'vmcs'; stop: number; report: VmcsReport }
export interface EptDataMessage { type: 'ept'; stop: number; flat: EptFlatReport; tree?: EptTreeReport }
export interface ExitsDataMessage { type: 'exits'; stop: number; report: ExitsReport }

/** A custom request failed (the adapter's message). */
export interface ErrorMessage { type: 'error'; request: string; message: string }

/** The answer to an EditRequest: the new value, or the adapter's refusal. */
export interface EditResultMessage {
  type: 'editResult';
  id: number;
  name: string;
  ok: boolean;
  /** New value as the adapter shows it (ok). */
  value?: string;
  /** Why the write was refused (not ok). */
  error?: string;
}

/** The answer to a TranslateRequest. */
export interface TranslateResultMessage {
  type: 'translateResult';
  id: number;
  report?: TranslateReport;
  error?: string;
}

export type HostMessage =
  | SessionMessage | VmcsDataMessage | EptDataMessage | ExitsDataMessage | ErrorMessage | EditResultMessage | TranslateResultMessage;

/** The webview has loaded and wants the current state. */
export interface ReadyRequest { type: 'ready' }
/** Ask the session again (the toolbar's refresh button). */
export interface RefreshRequest { type: 'refresh' }
/** Write a VMCS field through the adapter (setExpression `vmcs.NAME`). `value` is expression text. */
export interface EditRequest { type: 'edit'; id: number; name: string; value: string }
/** Walk an address through guest paging (linear) and/or the EPT (physical). */
export interface TranslateRequest { type: 'translate'; id: number; address: string; kind: 'linear' | 'physical' }
/** The EPT panel shows its tree: fetch the tree form now and on every stop. */
export interface WantTreeRequest { type: 'wantTree'; want: boolean }

export type WebviewMessage = ReadyRequest | RefreshRequest | EditRequest | TranslateRequest | WantTreeRequest;

const WEBVIEW_TYPES = new Set(['ready', 'refresh', 'edit', 'translate', 'wantTree']);

/** Checks a message from the webview (it is untrusted input to the host): the request, or undefined. */
export function parseWebviewMessage(m: unknown): WebviewMessage | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  if (typeof o.type !== 'string' || !WEBVIEW_TYPES.has(o.type)) return undefined;
  switch (o.type) {
    case 'ready': return { type: 'ready' };
    case 'refresh': return { type: 'refresh' };
    case 'wantTree': return { type: 'wantTree', want: o.want === true };
    case 'edit':
      if (typeof o.id !== 'number' || typeof o.name !== 'string' || typeof o.value !== 'string') return undefined;
      if (!/^[A-Z0-9_]+$/.test(o.name)) return undefined;
      return { type: 'edit', id: o.id, name: o.name, value: o.value };
    case 'translate':
      if (typeof o.id !== 'number' || typeof o.address !== 'string') return undefined;
      if (o.kind !== 'linear' && o.kind !== 'physical') return undefined;
      return { type: 'translate', id: o.id, address: o.address, kind: o.kind };
  }
  return undefined;
}

/** Custom DAP requests and the event the panels use (the adapter's contract, issue 6). */
export const DAP = {
  vmcs: 'vtx/vmcs',
  ept: 'vtx/ept',
  exits: 'vtx/exits',
  translate: 'vtx/translate',
  stateEvent: 'vtx/state',
  debugType: 'vtx',
} as const;

/** How many recent exits the timeline asks for. */
export const EXITS_LIMIT = 1000;
