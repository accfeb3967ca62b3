/**
 * The contracts between the parts of the debugger (issue 6), so that each part is built and
 * tested on its own:
 *  - debug information (src/debugger/debugInfo/): symbols and line tables of the loaded program —
 *    ELF symbols + DWARF .debug_line, or the assembler's listing for an .asm program;
 *  - inspection (src/debugger/inspect/): scopes and variables, evaluate, REPL commands and the
 *    data of the custom requests (vtx/vmcs, vtx/ept, vtx/exits, vtx/translate), over a stopped Vmm;
 *  - the engine (src/debugger/engine/): run control, breakpoints, exit filters, stack;
 *  - the adapter (src/debugger/adapter/): DAP over the engine and inspection.
 * Nothing here depends on DAP or VS Code.
 *
 * Addresses. Every guest-linear address in these contracts (symbols, line rows, breakpoints,
 * frames, disassembly) is a JS number holding the 64-bit linear address read as a *signed* 64-bit
 * integer (src/debugger/address.ts): a higher-half kernel's 0xffffffff80000000 is -0x80000000,
 * exact, and lower-half and 32-bit addresses are the plain unsigned values they always were.
 * Canonical addresses of 4-level paging, and LA57 ones within ±2^53, are exact; debug information
 * with other values above 2^53 is left out with a warning. Sorted tables put the upper half first.
 * Whatever shows an address to a person or to DAP formats it as unsigned 64-bit hex
 * (`formatAddress`), and whatever reads one accepts the full 64-bit form (`parseAddress`).
 * Guest-physical addresses are plain non-negative numbers; register values and the expression
 * language are unsigned 64-bit bigints.
 */
import type { Vmm } from '../vmm/vmm';
import type { StoppedMachine } from './stoppedMachine';
import type { DecodedExit } from '../vmx/exitDecode';
import type { AssembleResult } from '../language/asm/assembler';

// ---- debug information -----------------------------------------------------------------------

export interface SymbolInfo {
  name: string;
  /** Guest-linear address (an address number: negative in the upper half, see above). */
  address: number;
  /** Size in bytes (0 when unknown, as for assembly labels). */
  size: number;
  kind: 'function' | 'object' | 'label';
}

export interface SymbolTable {
  /** All symbols, sorted by address. */
  all(): readonly SymbolInfo[];
  /** The address of a symbol by exact name (case-sensitive), or undefined. */
  lookup(name: string): number | undefined;
  /** The symbol that covers `address` (its sized range, else the nearest one below within 64 KiB). */
  nameAt(address: number): { name: string; offset: number } | undefined;
}

export interface SourcePosition {
  /** Absolute path of the source file. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based; 0 or absent when unknown. */
  column?: number;
}

export interface LineTable {
  /** Absolute paths of every source file that has line rows. */
  files(): readonly string[];
  /** The source position of the row covering `address` (the last row at or below it in its sequence). */
  lineAt(address: number): SourcePosition | undefined;
  /**
   * Where a breakpoint at `line` of `file` binds: the first line at or after it (within the
   * same file) that has statement rows, with the start address of each such row; undefined if
   * none. `file` is matched by absolute path, then by unique base name.
   */
  bind(file: string, line: number): { line: number; addresses: number[] } | undefined;
  /** True when `address` is the start of a statement row (line stepping stops at one whose line differs). */
  isStatementStart(address: number): boolean;
}

/**
 * How a register of the caller is found (DWARF 4/5 §6.4.1 register rules), at a row of the unwind
 * table: saved at CFA + offset, the value CFA + offset, in another register, the same value, none;
 * the expression forms are not evaluated.
 */
export type RegisterRule =
  | { kind: 'undefined' }
  | { kind: 'same' }
  | { kind: 'offset'; offset: number }
  | { kind: 'valOffset'; offset: number }
  | { kind: 'register'; register: number }
  | { kind: 'expression' }
  | { kind: 'valExpression' };

/** One row of the call frame information (registers are DWARF register numbers of the psABI). */
export interface UnwindRow {
  /** CFA = register + offset; undefined when given by an expression (not evaluated) or never defined. */
  cfa: { register: number; offset: number } | undefined;
  /** The column holding the return address (16 on x86-64, 8 on i386). */
  returnAddressRegister: number;
  /** Rules by register; a register absent has no rule (for callee-saved registers: unchanged). */
  registers: ReadonlyMap<number, RegisterRule>;
}

export interface DebugInfo {
  symbols: SymbolTable;
  /** null when the program has no line information (a flat binary, an ELF without -g). */
  lines: LineTable | null;
  /**
   * The unwind row at a code address, from the program's call frame information (.debug_frame,
   * .eh_frame); undefined where none covers it, absent without such information.
   */
  unwind?: (pc: number) => UnwindRow | undefined;
  /** Problems met while reading the debug information (malformed or unsupported sections); what could be read is still given. */
  warnings?: string[];
}

/** The program as loaded, from which debug information is read (src/debugger/debugInfo/index.ts `loadDebugInfo`). */
export interface ProgramImage {
  /** Absolute path of the program file (.bin, ELF, or the .asm source). */
  path: string;
  /** The bytes loaded (for .asm: the assembled bytes). */
  bytes: Uint8Array;
  format: 'flat' | 'elf' | 'multiboot' | 'asm';
  /** For .asm programs: the assembler's result (listing with file/line/address, symbols). */
  assembled?: AssembleResult;
  /** Where a flat image was loaded (guest-physical). */
  loadAddress?: number;
}

export type LoadDebugInfo = (p: ProgramImage) => DebugInfo;

// ---- inspection ------------------------------------------------------------------------------

/** One recorded VM exit (the exit-history ring the engine keeps). */
export interface ExitRecord {
  /** Sequence number from 1. */
  seq: number;
  /** Guest instructions retired when the exit happened (cpu.icount). */
  icount: number;
  exit: DecodedExit;
}

/**
 * What inspection reads: the stopped machine and what the engine remembers. The machine is a
 * StoppedMachine (under the built-in hypervisor or bare VT-x mode), or for the built-in
 * hypervisor its Vmm alone (`machineOf` turns either into the machine).
 */
export type InspectTarget = InspectTargetBase & ({ machine: StoppedMachine; vmm?: undefined } | { vmm: Vmm; machine?: undefined });

export interface InspectTargetBase {
  info: DebugInfo;
  /** Recent exits, oldest first (bounded ring). */
  exits: readonly ExitRecord[];
  /** Counts of every exit since launch, by exit-reason name. */
  exitCounts: ReadonlyMap<string, number>;
  /** The exit the guest is stopped on (a stop before the handler), if any. */
  stoppedExit: DecodedExit | undefined;
  /** VMCS field values (by field name) at the previous stop, for changed-since-last-stop flags. */
  previousVmcs: ReadonlyMap<string, bigint> | undefined;
  /**
   * Bare VT-x mode: the fields the guest hypervisor wrote with VMWRITE since the previous VM
   * exit — marked changed even when it wrote the value they already held.
   */
  writtenVmcs?: ReadonlySet<string>;
  /** Disassembly syntax chosen by the person. */
  syntax: 'nasm' | 'gas' | 'intel' | 'masm';
}

/** A node of the Variables view (and of evaluate results that have children). */
export interface VarNode {
  name: string;
  value: string;
  type?: string;
  /** Children (lazily built); absent for a leaf. */
  children?: () => VarNode[];
  /** Writable: parse `text` (same expression language) and store it; throws Error with a message a person understands when refused. Returns the new display value. */
  set?: (text: string) => string;
  /** An expression that evaluates to this node (DAP evaluateName). */
  evaluateName?: string;
  /** A guest address the memory view can open (DAP memoryReference, "0x..." guest-linear). */
  memoryReference?: string;
  /** Highlight: changed since the previous stop. */
  changed?: boolean;
}

export interface ScopeModel {
  name: string;
  presentationHint?: 'arguments' | 'locals' | 'registers';
  /** True for scopes that are costly to build (VMCS, FPU/SSE). */
  expensive: boolean;
  variables: () => VarNode[];
}

export interface EvalResult {
  result: string;
  type?: string;
  children?: () => VarNode[];
  memoryReference?: string;
}

export interface CompletionItem {
  label: string;
  type: 'function' | 'variable' | 'property' | 'keyword' | 'value';
  detail?: string;
}

/** Raised by evaluate/setExpression for a bad expression or an unknown name; message is for the person. */
export class EvaluateError extends Error {}

export interface Inspector {
  scopes(t: InspectTarget): ScopeModel[];
  /**
   * Evaluate an expression (watch, hover, the REPL): the condition language plus memory reads
   * (`[rsp]`, `qword [rbp-8]`), `vmcs.GUEST_CR3`, registers, exit fields, symbols; in the REPL
   * also the commands `ept <gpa>`, `translate <gla>`, `exits`, `vmcs <name>`, `help`.
   */
  evaluate(t: InspectTarget, text: string, context: 'watch' | 'hover' | 'repl' | 'clipboard' | 'variables'): EvalResult;
  /** Assign: `rax = 5`-style through setExpression (register, VMCS field, memory). */
  setExpression(t: InspectTarget, expression: string, value: string): EvalResult;
  completions(t: InspectTarget, text: string, column: number): CompletionItem[];
  /** Custom request payloads (shapes in src/debugger/inspect/reports.ts). */
  vmcsReport(t: InspectTarget): unknown;
  eptReport(t: InspectTarget, form: 'tree' | 'flat'): unknown;
  exitsReport(t: InspectTarget, limit?: number): unknown;
  translateReport(t: InspectTarget, address: bigint, kind: 'linear' | 'physical'): unknown;
}
