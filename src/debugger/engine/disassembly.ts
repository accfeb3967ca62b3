/**
 * Disassembly of guest memory for the debugger (DAP disassemble, step over): iced-x86's decoder
 * and formatter in the syntax the person chose, symbols named, unreadable memory shown as such.
 */
import { Decoder, DecoderOptions, FlowControl, Formatter, FormatterSyntax, Instruction, Code, Mnemonic } from 'iced-x86';
import type { StoppedMachine } from '../stoppedMachine';
import type { DebugInfo } from '../model';
import type { Syntax } from './launchConfig';
import { guestBitness, readGuestMemory, ripFromLinear } from './guestState';
import { addAddress, addressBig, nearestAddress } from '../address';

export interface DisassembledInsn {
  /** Linear address. */
  address: number;
  bytes: Uint8Array;
  text: string;
  /** `name` or `name+0x12` when a symbol covers the address. */
  symbol?: string;
  length: number;
  invalid: boolean;
  /** What step over needs: a CALL, an INT n/INTO/INT3, a REP/REPNE string instruction. */
  stepOver: boolean;
}

const SYNTAX: Record<Syntax, FormatterSyntax> = {
  nasm: FormatterSyntax.Nasm, gas: FormatterSyntax.Gas, intel: FormatterSyntax.Intel, masm: FormatterSyntax.Masm,
};

const STRING_OPS = new Set<Mnemonic>([Mnemonic.Movsb, Mnemonic.Movsw, Mnemonic.Movsd, Mnemonic.Movsq, Mnemonic.Stosb, Mnemonic.Stosw,
  Mnemonic.Stosd, Mnemonic.Stosq, Mnemonic.Lodsb, Mnemonic.Lodsw, Mnemonic.Lodsd, Mnemonic.Lodsq, Mnemonic.Cmpsb, Mnemonic.Cmpsw,
  Mnemonic.Cmpsd, Mnemonic.Cmpsq, Mnemonic.Scasb, Mnemonic.Scasw, Mnemonic.Scasd, Mnemonic.Scasq, Mnemonic.Insb, Mnemonic.Insw,
  Mnemonic.Insd, Mnemonic.Outsb, Mnemonic.Outsw, Mnemonic.Outsd]);

const formatters = new Map<Syntax, Formatter>();
function formatter(s: Syntax): Formatter {
  let f = formatters.get(s);
  if (f === undefined) {
    f = new Formatter(SYNTAX[s]);
    formatters.set(s, f);
  }
  return f;
}

function symbolAt(info: DebugInfo, a: number): string | undefined {
  const s = info.symbols.nameAt(a);
  if (s === undefined) return undefined;
  return s.offset === 0 ? s.name : `${s.name}+0x${s.offset.toString(16)}`;
}

/**
 * Decode `count` instructions from linear `address` (RIP values differ from linear addresses
 * by CS.base outside 64-bit mode: `ipOf` converts).
 */
export function disassemble(m: StoppedMachine, info: DebugInfo, address: number, count: number, bitness: 16 | 32 | 64, syntax: Syntax, ipOf: (linear: number) => bigint = addressBig): DisassembledInsn[] {
  const out: DisassembledInsn[] = [];
  let a = address;
  const ins = new Instruction();
  try {
    while (out.length < count) {
      // Linear addresses are 64-bit (negative numbers: the upper half, src/debugger/address.ts);
      // below 64-bit mode a negative one is outside the 32-bit space.
      const bytes = a < 0 && bitness !== 64 ? new Uint8Array(0) : readGuestMemory(m, addressBig(a), 15);
      if (bytes.length === 0) {
        out.push({ address: a, bytes, text: '??', length: 1, invalid: true, stepOver: false, symbol: a >= 0 || bitness === 64 ? symbolAt(info, a) : undefined });
        a = addAddress(a, 1);
        continue;
      }
      const dec = new Decoder(bitness, bytes, DecoderOptions.None);
      try {
        dec.ip = BigInt.asUintN(64, ipOf(a));
        dec.decodeOut(ins);
      } finally {
        dec.free();
      }
      const invalid = ins.code === Code.INVALID || ins.length > bytes.length;
      const length = invalid ? 1 : ins.length;
      let text = invalid ? '(bad)' : formatter(syntax).format(ins);
      if (!invalid && (ins.flowControl === FlowControl.Call || ins.flowControl === FlowControl.UnconditionalBranch || ins.flowControl === FlowControl.ConditionalBranch)) {
        // The branch target's linear address: its RIP plus the CS base (a - RIP of a; 0 in 64-bit mode).
        const target = symbolAt(info, bitness === 64 ? nearestAddress(ins.nearBranchTarget) : Number(ins.nearBranchTarget) + (a - Number(ipOf(a))));
        if (target !== undefined && ins.nearBranchTarget !== 0n) text += `  ; ${target}`;
      }
      const stepOver = !invalid && (ins.flowControl === FlowControl.Call || ins.flowControl === FlowControl.IndirectCall || ins.flowControl === FlowControl.Interrupt ||
        ((ins.hasRepPrefix || ins.hasRepnePrefix || ins.hasRepePrefix) && STRING_OPS.has(ins.mnemonic)));
      out.push({ address: a, bytes: bytes.slice(0, length), text, length, invalid, stepOver, symbol: symbolAt(info, a) });
      a = addAddress(a, length);
    }
  } finally {
    ins.free();
  }
  return out;
}

/**
 * Instructions before `address`: decode from earlier starting points until one lands exactly on
 * `address` (x86 code cannot be decoded backwards), and keep the last `count`.
 */
export function disassembleBefore(m: StoppedMachine, info: DebugInfo, address: number, count: number, bitness: 16 | 32 | 64, syntax: Syntax, ipOf?: (linear: number) => bigint): DisassembledInsn[] {
  // An upper-half address (negative, 64-bit mode) has code below it down to the canonical hole.
  const reach = address < 0 && bitness === 64 ? count * 15 : Math.min(address, count * 15);
  // Known instruction starts first (line-table rows, the covering symbol), farthest first, then
  // the first 16 bytes of the reach (x86 decoding falls into step within a few instructions).
  const known: number[] = [];
  for (let a = address - reach; a < address; a++) if (info.lines?.isStatementStart(a) === true) known.push(a);
  const sym = info.symbols.nameAt(address - 1);
  if (sym !== undefined && sym.offset + 1 <= reach) known.push(address - 1 - sym.offset);
  const starts = [...known, ...Array.from({ length: Math.min(16, reach) }, (_x, k) => address - reach + k)];
  for (const start of starts) {
    const list = disassemble(m, info, start, address - start, bitness, syntax, ipOf);
    const upTo: DisassembledInsn[] = [];
    for (const i of list) {
      if (i.address >= address) break;
      upTo.push(i);
    }
    const last = upTo[upTo.length - 1];
    if (last !== undefined && last.address + last.length === address && !last.invalid && upTo.length >= count) return upTo.slice(-count);
  }
  // Not enough decodable code before it: pad with one-byte placeholders.
  const pad: DisassembledInsn[] = [];
  for (let k = count; k > 0; k--) pad.push({ address: address - k, bytes: new Uint8Array(0), text: '??', length: 1, invalid: true, stepOver: false });
  return pad;
}

/** `count` instructions starting `offset` instructions from linear `address` (negative: before it), in the code size in view. */
export function disassembleWindow(m: StoppedMachine, info: DebugInfo, syntax: Syntax, address: number, offset: number, count: number): DisassembledInsn[] {
  const bits = guestBitness(m);
  const ipOf = (lin: number): bigint => ripFromLinear(m, lin);
  if (offset < 0) {
    const out = disassembleBefore(m, info, address, -offset, bits, syntax, ipOf).slice(0, count);
    if (out.length < count) out.push(...disassemble(m, info, address, count - out.length, bits, syntax, ipOf));
    return out;
  }
  return disassemble(m, info, address, offset + count, bits, syntax, ipOf).slice(offset);
}
