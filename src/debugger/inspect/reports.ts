/**
 * Payloads of the custom requests (vtx/vmcs, vtx/ept, vtx/exits, vtx/translate) and of the
 * webview panels of issue 7. Plain JSON: 64-bit values and addresses are "0x..." strings.
 */
import type { FieldGroup } from '../../vmx/fields';
import type { EptTranslation } from './eptProbe';
import type { LinearTranslation } from './guestPaging';

export type { EptStep, EptTranslation } from './eptProbe';
export type { LinearTranslation, PagingStep } from './guestPaging';

/** One decoded part of a value: a control bit, a CR bit, a field of an encoded value. */
export interface DecodedPart {
  name: string;
  /** Bit number, or "hi:lo" for a multi-bit field. */
  bits: string;
  /** "0"/"1" for a bit; the field's value (named where it has names) otherwise. */
  value: string;
  /** One-bit parts: set. */
  on?: boolean;
  /** Control bits: the capability MSRs allow the bit to be 0 / to be 1 (SDM vol. 3C appendix A). */
  allowed0?: boolean;
  allowed1?: boolean;
  /** The engine models the control (controlBits.ts `modelled`). */
  modelled?: boolean;
  description?: string;
}

export interface VmcsFieldReport {
  name: string;
  /** "0x4002". */
  encoding: string;
  group: FieldGroup;
  /** "VM-execution control fields", "guest-state fields", ... */
  groupLabel: string;
  width: '16' | '32' | '64' | 'natural';
  /** Hex padded to the width ("0x0000000000000030"). */
  value: string;
  /** Differs from the previous stop. */
  changed: boolean;
  /** The value at the previous stop, when it differs. */
  previous?: string;
  /** VMWRITE would accept it now (supported, not read-only, stopped outside the guest). */
  writable: boolean;
  supported: boolean;
  readOnly: boolean;
  description: string;
  /** One line: "HLT_EXITING USE_IO_BITMAPS ...", "code, DPL 0, 64-bit". */
  summary?: string;
  decoded?: DecodedPart[];
}

export interface VmcsReport {
  /** Stopped inside the guest (non-root): guest-state fields hold the last entry's values. */
  inside: boolean;
  note?: string;
  /** Bare VT-x mode: the address of the guest hypervisor's current VMCS ("0x..."). */
  vmcs?: string;
  fields: VmcsFieldReport[];
  /** The SDM's grouping (appendix B): group, then width, field names in table order. */
  groups: Array<{ group: FieldGroup; label: string; width: string; fields: string[] }>;
}

export interface EptTreeEntry {
  kind: 'entry';
  index: number;
  /** First guest-physical address the entry covers. */
  gpa: string;
  raw: string;
  /** "RWX", "R-X", ... */
  permissions: string;
  leaf: boolean;
  memoryType?: string;
  pageSize?: number;
  hpa?: string;
  accessed: boolean;
  dirty?: boolean;
  /** Why the processor would refuse this entry (EPT misconfiguration). */
  misconfigured?: string;
  /** The table it references (non-leaf), when expanded. */
  table?: EptTreeTable;
}

/** Consecutive leaf entries mapping a contiguous range with the same attributes. */
export interface EptLeafRun {
  kind: 'run';
  firstIndex: number;
  count: number;
  gpaStart: string;
  /** Exclusive. */
  gpaEnd: string;
  hpaStart: string;
  pageSize: number;
  permissions: string;
  memoryType: string;
  accessed: boolean;
  dirty: boolean;
}

export interface EptTreeTable {
  level: number;
  name: string;
  /** Host-physical address of the table. */
  address: string;
  gpaBase: string;
  presentCount: number;
  entries: Array<EptTreeEntry | EptLeafRun>;
  /** Non-leaf entries not expanded (depth or size limit). */
  truncated?: boolean;
}

export interface EptTreeReport {
  form: 'tree';
  eptEnabled: boolean;
  eptp: string;
  eptpDecoded: DecodedPart[];
  root?: EptTreeTable;
  lastViolationGpa?: string;
  truncated: boolean;
}

export interface EptMapping {
  gpaStart: string;
  /** Exclusive. */
  gpaEnd: string;
  hpaStart: string;
  hpaEnd: string;
  size: number;
  pageSize: number;
  permissions: string;
  read: boolean;
  write: boolean;
  execute: boolean;
  memoryType: string;
  ignorePat: boolean;
  accessed: boolean;
  dirty: boolean;
}

export interface MemoryRegion {
  start: string;
  /** Exclusive. */
  end: string;
  kind: 'ram' | 'mmio' | 'unmapped';
  name?: string;
  /** The EPT maps (part of) it. */
  mapped: boolean;
}

export interface EptFlatReport {
  form: 'flat';
  eptEnabled: boolean;
  eptp: string;
  mappings: EptMapping[];
  /** The guest-physical space from 0 to the top of mapped memory, by kind. */
  regions: MemoryRegion[];
  top: string;
  lastViolationGpa?: string;
}

export type EptReport = EptTreeReport | EptFlatReport;

export interface ExitEntry {
  seq: number;
  icount: number;
  reason: number;
  name: string;
  rip: string;
  summary: string;
  entryFailure: boolean;
  /** Decoded values ("0x..." numbers, booleans, text). */
  fields: Record<string, string | boolean>;
}

export interface ExitsReport {
  total: number;
  counts: Array<{ name: string; reason: number; count: number }>;
  exits: ExitEntry[];
  /** The exit the guest is stopped on (seq of the last entry when it is in the history). */
  stoppedOn?: ExitEntry;
}

export interface TranslateReport {
  address: string;
  kind: 'linear' | 'physical';
  linear?: LinearTranslation;
  physical?: EptTranslation;
  /** Host-physical result, when the access would succeed. */
  result?: string;
  fault?: string;
}
