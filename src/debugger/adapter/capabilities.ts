/**
 * What the adapter declares (DAP `initialize` response): only what works. test/dap checks that
 * every request these capabilities stand for is exercised by a test (REQUESTS_OF_CAPABILITY).
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { EXIT_REASONS } from '../../vmx/exitReasons';
import { DEFAULT_ON, filterGroup, filterNames } from '../engine';
import { ENTRY_NAMES, VM_ENTRY_ID } from '../engine/entryDecode';

/** One exception-breakpoint filter per exit reason (filter id = the reason's name in lower case). */
export function exitFilterList(): DebugProtocol.ExceptionBreakpointsFilter[] {
  return EXIT_REASONS.map((r) => ({
    filter: r.id,
    label: `VM exit: ${r.name}`,
    description: `${r.description} (${filterGroup(r)})${r.modelled ? '' : ' — not produced by the modelled CPU'}`,
    default: DEFAULT_ON.has(r.id),
    supportsCondition: true,
    conditionDescription: `e.g. ${example(r.id)} — names: ${filterNames(r.id).slice(0, 7).concat(filterNames(r.id).slice(24)).join(', ')}, registers; append '@hit >= 2' or '@log text {field}'`,
  }));
}

/**
 * The `vm_entry` filter of bare VT-x mode (a guest hypervisor's VMLAUNCH/VMRESUME, entered or
 * failed with the check named). Not in the initialize response — most sessions run under the
 * built-in hypervisor, whose entries are not breakpoints — but added by a `capabilities` event
 * once a `hypervisor: "none"` launch is known (filtersForLaunch).
 */
export function vmEntryFilter(): DebugProtocol.ExceptionBreakpointsFilter {
  return {
    filter: VM_ENTRY_ID,
    label: 'VM entry (guest hypervisor): VMLAUNCH/VMRESUME',
    description: "the guest hypervisor's VMLAUNCH and VMRESUME: entered (at the nested guest's first instruction), VMfail, or a VM-entry failure with an exit (SDM vol. 3C §26, §30.3), with the failed check named",
    default: false,
    supportsCondition: true,
    conditionDescription: `e.g. failed && error == 7, launch && entered, reason == 0x80000021 — names: ${ENTRY_NAMES.join(', ')}, registers; append '@hit >= 2' or '@log text {check}'`,
  };
}

/** The exception filters of a launched session: the exit reasons, and in bare VT-x mode `vm_entry`. */
export function filtersForLaunch(bare: boolean): DebugProtocol.ExceptionBreakpointsFilter[] {
  return bare ? [...exitFilterList(), vmEntryFilter()] : exitFilterList();
}

function example(id: string): string {
  switch (id) {
    case 'cpuid': return 'leaf == 1';
    case 'io_instruction': return 'port == 0x604 && write && value == 0x2000';
    case 'msr_read': case 'msr_write': return 'msr >= 0x800 && msr < 0x840';
    case 'cr_access': return 'cr == 0 && (value & 0x80000000)';
    case 'ept_violation': return 'gpa >= 0xfee00000';
    case 'exception_nmi': return 'vector == 14';
    case 'vmcall': return 'nr == 1';
    default: return 'rip == 0x7c00';
  }
}

export function capabilities(): DebugProtocol.Capabilities {
  return {
    supportsConfigurationDoneRequest: true,
    supportsFunctionBreakpoints: true,
    supportsConditionalBreakpoints: true,
    supportsHitConditionalBreakpoints: true,
    supportsLogPoints: true,
    supportsEvaluateForHovers: true,
    exceptionBreakpointFilters: exitFilterList(),
    supportsExceptionFilterOptions: true,
    supportsExceptionInfoRequest: true,
    supportsInstructionBreakpoints: true,
    supportsDataBreakpoints: true,
    supportsSteppingGranularity: true,
    supportsStepBack: false,
    supportsGotoTargetsRequest: true,
    supportsRestartRequest: true,
    supportsTerminateRequest: true,
    supportsDisassembleRequest: true,
    supportsReadMemoryRequest: true,
    supportsWriteMemoryRequest: true,
    supportsLoadedSourcesRequest: true,
    supportsSetVariable: true,
    supportsSetExpression: true,
    supportsCompletionsRequest: true,
    completionTriggerCharacters: ['.', '['],
  };
}

/** The requests each declared capability stands for (beyond the base protocol's). */
export const REQUESTS_OF_CAPABILITY: Readonly<Record<string, readonly string[]>> = {
  supportsConfigurationDoneRequest: ['configurationDone'],
  supportsFunctionBreakpoints: ['setFunctionBreakpoints'],
  supportsConditionalBreakpoints: ['setBreakpoints'],
  supportsHitConditionalBreakpoints: ['setBreakpoints'],
  supportsLogPoints: ['setBreakpoints'],
  supportsEvaluateForHovers: ['evaluate'],
  exceptionBreakpointFilters: ['setExceptionBreakpoints'],
  supportsExceptionFilterOptions: ['setExceptionBreakpoints'],
  supportsExceptionInfoRequest: ['exceptionInfo'],
  supportsInstructionBreakpoints: ['setInstructionBreakpoints'],
  supportsDataBreakpoints: ['dataBreakpointInfo', 'setDataBreakpoints'],
  supportsSteppingGranularity: ['next', 'stepIn'],
  supportsGotoTargetsRequest: ['gotoTargets', 'goto'],
  supportsRestartRequest: ['restart'],
  supportsTerminateRequest: ['terminate'],
  supportsDisassembleRequest: ['disassemble'],
  supportsReadMemoryRequest: ['readMemory'],
  supportsWriteMemoryRequest: ['writeMemory'],
  supportsLoadedSourcesRequest: ['loadedSources'],
  supportsSetVariable: ['setVariable'],
  supportsSetExpression: ['setExpression'],
  supportsCompletionsRequest: ['completions'],
};

/** The base requests every adapter answers, and the custom ones of vtx. */
export const BASE_REQUESTS = ['initialize', 'launch', 'disconnect', 'threads', 'stackTrace', 'scopes', 'variables', 'continue', 'next', 'stepIn', 'stepOut', 'pause', 'evaluate', 'setBreakpoints', 'setExceptionBreakpoints'];
export const CUSTOM_REQUESTS = ['vtx/vmcs', 'vtx/ept', 'vtx/exits', 'vtx/translate', 'vtx/serialInput'];
