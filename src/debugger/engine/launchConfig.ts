/**
 * The launch configuration of a debug session (launch.json `type: "vtx"`; package.json holds the
 * schema a person sees) checked into the CLI's guest options. Every problem is a LaunchError
 * whose message names the field.
 */
import { isAbsolute, resolve } from 'node:path';
import { parseNumber, parseSize, UsageError } from '../../cli/args';
import { widenInterception } from '../../cli/runCommand';
import type { GuestOptions } from '../../cli/runGuest';
import { EXIT_REASONS } from '../../vmx/exitReasons';

export class LaunchError extends Error {}

export interface ExitBreakpointSpec {
  /** Filter id: the exit reason's name in lower case (`cpuid`, `io_instruction`, ...). */
  filter: string;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export interface InterceptSpec {
  /** Ports whose I/O exits besides the seed's: "all" or a list like "0x3f8-0x3ff,0x80". */
  io?: string | (string | number)[];
  /** MSRs whose RDMSR/WRMSR exit besides the seed's: "all" or a list. */
  msr?: string | (string | number)[];
  /** Exception vectors added to the exception bitmap. */
  exceptions?: number[];
  hlt?: boolean;
  rdtsc?: boolean;
  invlpg?: boolean;
  descriptorTables?: boolean;
  mtf?: boolean;
}

/** launch.json as the person writes it. */
export interface LaunchConfig {
  program?: unknown;
  format?: unknown;
  memory?: unknown;
  loadAddress?: unknown;
  entry?: unknown;
  bootMode?: unknown;
  cmdline?: unknown;
  stopOnEntry?: unknown;
  intercept?: unknown;
  exitBreakpoints?: unknown;
  serial?: unknown;
  maxInstructions?: unknown;
  hypervisor?: unknown;
  syntax?: unknown;
  /** Base directory of a relative `program` (VS Code: the workspace folder). */
  cwd?: unknown;
  [k: string]: unknown;
}

export type Syntax = 'nasm' | 'gas' | 'intel' | 'masm';

export interface CheckedLaunch {
  program: string;
  /** 'asm': assembled with vtx's assembler first. */
  source: 'asm' | 'image';
  guest: GuestOptions;
  stopOnEntry: boolean;
  exitBreakpoints: ExitBreakpointSpec[];
  serial: 'console' | 'terminal';
  syntax: Syntax;
}

const FORMATS = ['auto', 'flat', 'elf', 'multiboot', 'asm'] as const;
const BOOT_MODES = ['auto', 'real', 'protected', 'long'] as const;
const SYNTAXES: readonly Syntax[] = ['nasm', 'gas', 'intel', 'masm'];
/** Why `vm_entry` is refused under the built-in hypervisor. */
export const VM_ENTRY_NEEDS_BARE = "'vm_entry' stops on the VM entries of a guest hypervisor's own VMCS: it needs \"hypervisor\": \"none\" (the built-in hypervisor's entries are not breakpoints)";

const FILTER_IDS = new Set(EXIT_REASONS.map((r) => r.id));
const KNOWN = new Set(['type', 'request', 'name', 'program', 'format', 'memory', 'loadAddress', 'entry', 'bootMode', 'cmdline', 'stopOnEntry',
  'intercept', 'exitBreakpoints', 'serial', 'maxInstructions', 'hypervisor', 'syntax', 'cwd', 'noDebug', '__sessionId', '__configurationTarget', 'preLaunchTask', 'postDebugTask', 'internalConsoleOptions', 'debugServer', 'presentation', '__restart']);

function fail(field: string, message: string): never {
  throw new LaunchError(`launch configuration: '${field}' ${message}`);
}

function str(c: LaunchConfig, field: string): string | undefined {
  const v = c[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(field, `must be a string (got ${JSON.stringify(v)})`);
  return v;
}

function choice<T extends string>(c: LaunchConfig, field: string, choices: readonly T[]): T | undefined {
  const v = str(c, field);
  if (v === undefined) return undefined;
  if (!choices.includes(v as T)) fail(field, `must be one of ${choices.join(', ')} (got '${v}')`);
  return v as T;
}

function num(c: LaunchConfig, field: string, size = false): number | undefined {
  const v = c[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) fail(field, `must be a non-negative integer (got ${v})`);
    return v;
  }
  if (typeof v !== 'string') fail(field, `must be a number or a string like "0x7c00" (got ${JSON.stringify(v)})`);
  try {
    return size ? parseSize(field, v) : parseNumber(field, v);
  } catch (e) {
    if (e instanceof UsageError) throw new LaunchError(`launch configuration: ${e.message}`);
    throw e;
  }
}

function bool(c: LaunchConfig, field: string): boolean | undefined {
  const v = c[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail(field, `must be true or false (got ${JSON.stringify(v)})`);
  return v;
}

function rangeText(field: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.map((x) => (typeof x === 'number' ? `0x${x.toString(16)}` : x)).join(',');
  fail(field, `must be "all" or a list of values and ranges like "0x3f8-0x3ff" (got ${JSON.stringify(v)})`);
}

function interception(c: LaunchConfig): GuestOptions['interception'] {
  const v = c.intercept;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail('intercept', 'must be an object like { "io": "0x3f8-0x3ff", "msr": "0x10", "hlt": true }');
  const o = v as Record<string, unknown>;
  const known = ['io', 'msr', 'exceptions', 'hlt', 'rdtsc', 'invlpg', 'descriptorTables', 'mtf'];
  for (const k of Object.keys(o)) if (!known.includes(k)) fail(`intercept.${k}`, `is not known (known: ${known.join(', ')})`);
  const more: string[] = [];
  for (const k of ['hlt', 'rdtsc', 'invlpg', 'descriptorTables', 'mtf']) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'boolean') fail(`intercept.${k}`, 'must be true or false');
    if (o[k] === true) more.push(k === 'descriptorTables' ? 'descriptor-tables' : k);
  }
  if (o.exceptions !== undefined) {
    if (!Array.isArray(o.exceptions) || !o.exceptions.every((x) => Number.isInteger(x) && x >= 0 && x < 32)) fail('intercept.exceptions', 'must be a list of exception vectors 0-31');
    for (const x of o.exceptions as number[]) more.push(`exception:${x}`);
  }
  try {
    return widenInterception(
      { io: rangeText('intercept.io', o.io), msr: rangeText('intercept.msr', o.msr), more: more.length > 0 ? more.join(',') : undefined },
      { io: "launch configuration: 'intercept.io'", msr: "launch configuration: 'intercept.msr'", more: "launch configuration: 'intercept'" },
    );
  } catch (e) {
    if (e instanceof UsageError) throw new LaunchError(e.message);
    throw e;
  }
}

function exitBreakpoints(c: LaunchConfig, bare: boolean): ExitBreakpointSpec[] {
  const v = c.exitBreakpoints;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail('exitBreakpoints', 'must be a list of filter ids ("cpuid") or objects { "filter": "cpuid", "condition": "leaf == 1" }');
  return v.map((x, i) => {
    const field = `exitBreakpoints[${i}]`;
    const spec: ExitBreakpointSpec = typeof x === 'string' ? { filter: x } : (x !== null && typeof x === 'object' ? { ...(x as ExitBreakpointSpec) } : fail(field, 'must be a filter id or an object'));
    if (typeof spec.filter !== 'string') fail(`${field}.filter`, 'must be a filter id such as "cpuid"');
    if (!FILTER_IDS.has(spec.filter) && spec.filter !== 'vm_entry') fail(`${field}.filter`, `is '${spec.filter}', which is not an exit filter (the exit reason's name in lower case: cpuid, io_instruction, msr_read, ...; vm_entry)`);
    if (spec.filter === 'vm_entry' && !bare) fail(`${field}.filter`, VM_ENTRY_NEEDS_BARE);
    for (const k of ['condition', 'hitCondition', 'logMessage'] as const) {
      if (spec[k] !== undefined && typeof spec[k] !== 'string') fail(`${field}.${k}`, 'must be a string');
    }
    return spec;
  });
}

/** Check a launch configuration; throws LaunchError naming the field. */
export function checkLaunchConfig(raw: unknown): CheckedLaunch {
  if (raw === null || typeof raw !== 'object') throw new LaunchError('launch configuration: not an object');
  const c = raw as LaunchConfig;
  for (const k of Object.keys(c)) if (!KNOWN.has(k)) fail(k, 'is not a vtx launch attribute');
  const p = str(c, 'program');
  if (p === undefined || p.trim() === '') fail('program', 'is missing: the guest file to run (.asm, .bin, ELF or Multiboot kernel)');
  const cwd = str(c, 'cwd') ?? process.cwd();
  const program = isAbsolute(p) ? p : resolve(cwd, p);
  const format = choice(c, 'format', FORMATS) ?? 'auto';
  const source = format === 'asm' || (format === 'auto' && /\.(asm|nasm|s)$/i.test(program)) ? 'asm' : 'image';
  const guest: GuestOptions = {};
  if (format !== 'auto' && format !== 'asm') guest.format = format;
  const mode = choice(c, 'bootMode', BOOT_MODES);
  if (mode !== undefined && mode !== 'auto') guest.mode = mode;
  guest.memorySize = num(c, 'memory', true);
  guest.loadAddress = num(c, 'loadAddress');
  guest.entry = num(c, 'entry');
  // A debug session runs until the guest ends or the person stops it (`vtx run`'s default limit
  // would end an idle kernel after two seconds).
  guest.maxInstructions = num(c, 'maxInstructions') ?? Number.MAX_SAFE_INTEGER;
  if (guest.maxInstructions === 0) fail('maxInstructions', 'must be at least 1');
  guest.cmdline = str(c, 'cmdline');
  const hv = choice(c, 'hypervisor', ['builtin', 'none'] as const);
  // 'none': bare VT-x mode, the guest is a hypervisor itself (docs/bring-your-own-hypervisor.md).
  const bare = hv === 'none';
  guest.hypervisor = bare ? 'none' : 'builtin';
  if (bare && c.intercept !== undefined && c.intercept !== null) fail('intercept', "belongs to the built-in hypervisor: with \"hypervisor\": \"none\" the guest's own VMCS decides what exits");
  if (!bare) guest.interception = interception(c);
  const serial = choice(c, 'serial', ['console', 'terminal'] as const) ?? 'console';
  return {
    program, source, guest, serial,
    stopOnEntry: bool(c, 'stopOnEntry') ?? false,
    exitBreakpoints: exitBreakpoints(c, bare),
    syntax: choice(c, 'syntax', SYNTAXES) ?? 'nasm',
  };
}
