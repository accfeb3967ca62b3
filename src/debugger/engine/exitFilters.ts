/**
 * Exit filters: one per exit reason of the declarative table (src/vmx/exitReasons.ts), filter id
 * = the reason's name in lower case. Each armed filter has an optional condition over the exit's
 * decoded fields (src/vmx/exitDecode.ts) and the guest's general registers, a hit condition and
 * a log message (a tracepoint: it logs and does not stop). Checked for every VM exit before the
 * hypervisor handles it (Vmm.stopOnExit), so the cost with none matching is one map lookup and
 * the conditions of the filters of that one reason.
 */
import { EXIT_REASONS, type ExitReason } from '../../vmx/exitReasons';
import type { DecodedExit } from '../../vmx/exitDecode';
import { checkNames, evaluateConditionWith, parseCondition, type Condition } from '../conditions';
import { parseHitCondition, type HitTest } from './hitCondition';
import { ENTRY_NAMES, VM_ENTRY_ID, VM_ENTRY_REASON } from './entryDecode';
import { LaunchError, type CheckedLaunch } from './launchConfig';

/** Names every exit reports (exitDecode.ts): the exit itself and the guest's registers. */
const COMMON = ['reason', 'rip', 'rsp', 'rflags', 'qualification', 'length', 'entryFailure', 'idtVector', 'idtType',
  'rax', 'rcx', 'rdx', 'rbx', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** The fields exitDecode.ts adds for each reason (SDM vol. 3C §27.2.1 exit qualifications). */
const FIELDS: Readonly<Record<string, readonly string[]>> = {
  exception_nmi: ['vector', 'type', 'errorCode', 'cr2'],
  external_interrupt: ['vector', 'type', 'errorCode'],
  sipi: ['vector'],
  task_switch: ['selector', 'source'],
  cpuid: ['leaf', 'subleaf'],
  invlpg: ['address'],
  vmcall: ['nr'],
  cr_access: ['cr', 'access', 'write', 'read', 'gpr', 'value', 'lmswMemory'],
  dr_access: ['dr', 'write', 'read', 'gpr'],
  io_instruction: ['port', 'size', 'in', 'read', 'write', 'string', 'rep', 'immediate', 'value'],
  msr_read: ['msr', 'read', 'write'],
  msr_write: ['msr', 'read', 'write', 'value'],
  msr_loading: ['entry'],
  apic_access: ['offset', 'access', 'write', 'read'],
  ept_violation: ['gpa', 'read', 'write', 'execute', 'readable', 'writable', 'executable', 'linearValid', 'translation', 'nmiUnblocking', 'gla'],
  ept_misconfig: ['gpa'],
  xsetbv: ['xcr', 'value'],
  vmfunc: ['function'],
};

/** Filters on by default: the exits that end the guest (it cannot go on after them). */
export const DEFAULT_ON = new Set(['triple_fault', 'invalid_guest_state', 'msr_loading', 'mce_during_vmentry']);

const GPRS = COMMON.slice(COMMON.indexOf('rax'));

/**
 * The `vm_entry` filter (bare VT-x mode): VMLAUNCH/VMRESUME of the guest hypervisor, successful
 * or failing (entryDecode.ts), keyed by a reason number no exit has.
 */
export const VM_ENTRY_FILTER: ExitReason = {
  reason: VM_ENTRY_REASON, name: 'VM_ENTRY', id: VM_ENTRY_ID, modelled: true,
  description: 'VMLAUNCH/VMRESUME of the guest hypervisor: entered, VMfail, or a VM-entry failure with an exit',
};

export function filterNames(id: string): string[] {
  if (id === VM_ENTRY_ID) return [...ENTRY_NAMES, ...GPRS];
  return [...COMMON, ...(FIELDS[id] ?? [])];
}

export interface ExitFilterSpec {
  filter: string;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export interface ArmedFilter {
  spec: ExitFilterSpec;
  reason: ExitReason;
  condition: Condition | undefined;
  /** The condition's names (as written) → the exit's field names (exitDecode.ts spelling), resolved once. */
  keys: ReadonlyMap<string, string>;
  hitTest: HitTest | undefined;
  hits: number;
}

export class ExitFilterError extends Error {}

/** Group of an exit reason, for the filter list (labels stay the table's names). */
export function filterGroup(r: ExitReason): string {
  if ([0, 1, 2, 3, 4, 7, 8, 9, 37, 52].includes(r.reason)) return 'events';
  if ([33, 34, 41].includes(r.reason)) return 'entry failures';
  if ([28, 29, 30, 31, 32, 44, 48, 49, 55].includes(r.reason)) return 'accesses';
  if (r.reason >= 18 && r.reason <= 27) return 'VMX instructions';
  return 'instructions';
}

/** Arm one filter; throws ExitFilterError with a message a person understands. */
export function armFilter(spec: ExitFilterSpec): ArmedFilter {
  const reason = spec.filter === VM_ENTRY_ID ? VM_ENTRY_FILTER : EXIT_REASONS.find((r) => r.id === spec.filter);
  if (reason === undefined) throw new ExitFilterError(`'${spec.filter}' is not an exit filter (the exit reason's name in lower case, or vm_entry)`);
  let condition: Condition | undefined;
  if (spec.condition !== undefined && spec.condition.trim() !== '') {
    try {
      condition = parseCondition(spec.condition);
      checkNames(condition, filterNames(spec.filter));
    } catch (e) {
      throw new ExitFilterError(`${spec.filter}: ${(e as Error).message}`);
    }
  }
  const keys = new Map<string, string>();
  for (const n of condition?.names ?? []) keys.set(n, filterNames(spec.filter).find((k) => k.toLowerCase() === n.toLowerCase()) ?? n);
  let hitTest: HitTest | undefined;
  if (spec.hitCondition !== undefined && spec.hitCondition.trim() !== '') {
    try {
      hitTest = parseHitCondition(spec.hitCondition);
    } catch (e) {
      throw new ExitFilterError(`${spec.filter}: ${(e as Error).message}`);
    }
  }
  return { spec, reason, condition, keys, hitTest, hits: 0 };
}

/**
 * The text of a DAP exception-filter condition may carry a hit condition and a log message
 * (DAP's ExceptionFilterOptions has only `condition`): `port == 0x604 @hit >= 2 @log OUT {value}`.
 */
export function splitFilterCondition(filter: string, text: string | undefined): ExitFilterSpec {
  const spec: ExitFilterSpec = { filter };
  if (text === undefined) return spec;
  const parts = text.split(/\s*@(hit|log)\b\s*/);
  if (parts[0].trim() !== '') spec.condition = parts[0].trim();
  for (let i = 1; i + 1 < parts.length; i += 2) {
    if (parts[i] === 'hit') spec.hitCondition = parts[i + 1].trim();
    else spec.logMessage = parts[i + 1];
  }
  return spec;
}

export type FilterOutcome = { stop: ArmedFilter | null; logs: { filter: ArmedFilter; message: string }[] };

/** The armed filters by reason number. */
export class ExitFilters {
  private byReason = new Map<number, ArmedFilter[]>();

  set(filters: readonly ArmedFilter[]): void {
    this.byReason = new Map();
    for (const f of filters) {
      const l = this.byReason.get(f.reason.reason) ?? [];
      l.push(f);
      this.byReason.set(f.reason.reason, l);
    }
  }

  get size(): number {
    return this.byReason.size;
  }

  /** Which filters match the exit: the first that stops, and the tracepoints that log. */
  check(e: DecodedExit): FilterOutcome | null {
    const list = this.byReason.get(e.reason);
    if (list === undefined) return null;
    const out: FilterOutcome = { stop: null, logs: [] };
    for (const f of list) {
      if (f.condition !== undefined && !evaluateConditionWith(f.condition, (n) => e.fields[f.keys.get(n) ?? n])) continue;
      f.hits++;
      if (f.hitTest !== undefined && !f.hitTest(f.hits)) continue;
      if (f.spec.logMessage !== undefined) out.logs.push({ filter: f, message: f.spec.logMessage });
      else if (out.stop === null) out.stop = f;
    }
    return out;
  }
}

/** The exit filters of a configuration's `exitBreakpoints`; a bad one is a LaunchError naming it. */
export function armLaunchFilters(config: CheckedLaunch): ArmedFilter[] {
  return config.exitBreakpoints.map((s, i) => {
    try {
      return armFilter(s);
    } catch (e) {
      if (e instanceof ExitFilterError) throw new LaunchError(`launch configuration: 'exitBreakpoints[${i}]': ${e.message}`);
      throw e;
    }
  });
}
