/**
 * What the adapter declares (DAP `initialize` response): only what works. test/dap checks that
 * every request these capabilities stand for is exercised by a test (REQUESTS_OF_CAPABILITY).
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { EXIT_REASONS } from '../../vmx/exitReasons';
import { DEFAULT_ON, filterGroup, filterNames } from '../engine';

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
