/**
 * The person's breakpoints: instruction (an address), function (a symbol), source (a file line
 * bound through the line table) and data (a watched guest-linear or guest-physical range), each
 * with an optional condition, hit condition and log message. They are armed on the processor
 * through one HostDebug (src/x86/hostDebug.ts).
 */
import { ConditionError, parseCondition } from '../conditions';
import type { DebugInfo } from '../model';
import { formatAddress, parseAddress } from '../address';
import type { WatchKind } from '../../x86/hostDebug';
import { HitConditionError, parseHitCondition, type HitTest } from './hitCondition';

export interface BreakpointOptions {
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export type CodeKind = 'instruction' | 'function' | 'source';

export interface Breakpoint extends BreakpointOptions {
  id: number;
  verified: boolean;
  /** Why it is not verified, or where it bound. */
  message?: string;
  hits: number;
  hitTest?: HitTest;
}

export interface CodeBreakpoint extends Breakpoint {
  kind: CodeKind;
  /** Linear addresses it stops at. */
  addresses: number[];
  /** Source breakpoints: the file and the line it bound to. */
  file?: string;
  line?: number;
  /** Function breakpoints: the symbol. */
  name?: string;
}

export interface DataBreakpoint extends Breakpoint {
  start: number;
  length: number;
  access: WatchKind;
  physical: boolean;
}

let nextId = 1;

/** Check condition and hit condition now, so a typo is reported when the breakpoint is set. */
function common(o: BreakpointOptions): Breakpoint {
  const b: Breakpoint = { id: nextId++, verified: true, hits: 0, ...pick(o) };
  try {
    // Syntax only (names and memory are the inspector's, evaluated when the breakpoint is hit):
    // memory operands `[expr]` / `dword [expr]` stand for a value here.
    if (o.condition !== undefined && o.condition.trim() !== '') parseCondition(withoutMemoryOperands(o.condition));
    if (o.hitCondition !== undefined && o.hitCondition.trim() !== '') b.hitTest = parseHitCondition(o.hitCondition);
  } catch (e) {
    if (!(e instanceof ConditionError || e instanceof HitConditionError)) throw e;
    b.verified = false;
    b.message = e.message;
  }
  return b;
}

function withoutMemoryOperands(text: string): string {
  let t = text;
  for (let k = 0; k < 16 && /\[[^[\]]*\]/.test(t); k++) t = t.replace(/(?:\b(?:byte|word|dword|qword)\s*)?\[[^[\]]*\]/gi, '0');
  return t;
}

function pick(o: BreakpointOptions): BreakpointOptions {
  const r: BreakpointOptions = {};
  if (o.condition !== undefined && o.condition.trim() !== '') r.condition = o.condition;
  if (o.hitCondition !== undefined && o.hitCondition.trim() !== '') r.hitCondition = o.hitCondition;
  if (o.logMessage !== undefined && o.logMessage !== '') r.logMessage = o.logMessage;
  return r;
}

export function instructionBreakpoint(address: number, o: BreakpointOptions): CodeBreakpoint {
  return { ...common(o), kind: 'instruction', addresses: [address] };
}

export function functionBreakpoint(name: string, info: DebugInfo, o: BreakpointOptions): CodeBreakpoint {
  const b: CodeBreakpoint = { ...common(o), kind: 'function', addresses: [], name };
  const a = info.symbols.lookup(name) ?? (/^(0x[0-9a-f_]+|\d+)$/i.test(name.trim()) ? parseAddress(name) : undefined);
  if (a === undefined) {
    b.verified = false;
    b.message = `no symbol '${name}' in the program`;
  } else {
    b.addresses = [a];
  }
  return b;
}

export function sourceBreakpoint(file: string, line: number, info: DebugInfo, o: BreakpointOptions): CodeBreakpoint {
  const b: CodeBreakpoint = { ...common(o), kind: 'source', addresses: [], file, line };
  const bound = info.lines?.bind(file, line);
  if (bound === undefined || bound.addresses.length === 0) {
    b.verified = false;
    b.message = info.lines === null ? 'the program has no line information' : `no code at or after line ${line} of ${file}`;
  } else {
    b.line = bound.line;
    b.addresses = bound.addresses;
  }
  return b;
}

export function dataBreakpoint(start: number, length: number, access: WatchKind, physical: boolean, o: BreakpointOptions): DataBreakpoint {
  return { ...common(o), start, length, access, physical };
}

/**
 * A DAP dataId: `linear:0x1000:8` or `physical:0x1000:4` (kind, address, length). Accepts the
 * same text without the kind (linear) and a bare address (8 bytes).
 */
export function parseDataId(id: string): { start: number; length: number; physical: boolean } | undefined {
  const m = /^(?:(linear|physical):)?\s*(0x[0-9a-f]+|\d+)(?::(\d+))?$/i.exec(id.trim());
  if (m === null) return undefined;
  const length = m[3] === undefined ? 8 : Number(m[3]);
  if (length < 1 || length > 4096) return undefined;
  const physical = (m[1] ?? 'linear').toLowerCase() === 'physical';
  // A linear address is 64-bit (0xffffffff80001000 is a negative address number); a physical one is not.
  const start = parseAddress(m[2]);
  if (start === undefined || (physical && start < 0)) return undefined;
  return { start, length, physical };
}

export function dataId(start: number, length: number, physical: boolean): string {
  return `${physical ? 'physical' : 'linear'}:${formatAddress(start)}:${length}`;
}
