/** The debug engine (DAP-independent): see engine.ts. */
export { DebugEngine, type EngineListener, type StopInfo, type StopReason } from './engine';
export { LaunchError, checkLaunchConfig, type LaunchConfig, type CheckedLaunch, type Syntax } from './launchConfig';
export type { EndInfo } from './endReason';
export { parseDataId, dataId, type CodeBreakpoint, type DataBreakpoint } from './breakpoints';
export { DEFAULT_ON, filterGroup, filterNames, splitFilterCondition, type ExitFilterSpec } from './exitFilters';
export type { Frame } from './stack';
export type { DisassembledInsn } from './disassembly';
