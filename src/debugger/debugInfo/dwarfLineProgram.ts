/**
 * The line-number state machine (DWARF 5 §6.2.2, §6.2.5; the same opcodes in DWARF 2-4):
 * special opcodes (§6.2.5.1), the standard opcodes DW_LNS_* (§6.2.5.2, unknown ones skipped
 * with standard_opcode_lengths), and the extended opcodes DW_LNE_end_sequence, set_address,
 * define_file (DWARF 2-4) and set_discriminator (§6.2.5.3, unknown ones skipped by length).
 * The VLIW op_index is kept as the spec says; on x86 maximum_operations_per_instruction is 1.
 */
import { ByteReader, DebugFormatError } from './byteReader';
import { readV2FileEntry, type LineProgramHeader } from './dwarfLineHeader';

export interface LineRow {
  address: number;
  /** Value of the file register (an index into header.files). */
  file: number;
  line: number;
  /** 0 when unknown. */
  column: number;
  isStmt: boolean;
  /** The first address after a sequence (not a row of source). */
  endSequence: boolean;
}

const DW_LNS = {
  copy: 1, advance_pc: 2, advance_line: 3, set_file: 4, set_column: 5, negate_stmt: 6, set_basic_block: 7,
  const_add_pc: 8, fixed_advance_pc: 9, set_prologue_end: 10, set_epilogue_begin: 11, set_isa: 12,
} as const;
const DW_LNE = { end_sequence: 1, set_address: 2, define_file: 3, set_discriminator: 4 } as const;

/**
 * Run the program of `h` and return its rows in order. Rows of a sequence whose address
 * cannot be represented (not an address number of src/debugger/address.ts: above 2^53 and not
 * canonical upper-half) are dropped with a warning, and those at a tombstone (-1, -2) silently. A malformed
 * program adds a warning and returns the rows before the fault, its open sequence closed.
 */
export function runLineProgram(line: Uint8Array, h: LineProgramHeader, warnings: string[]): LineRow[] {
  const rows: LineRow[] = [];
  const r = new ByteReader(line.subarray(0, h.programEnd), h.programStart, '.debug_line');
  let address = 0, opIndex = 0, file = 1, lineNo = 1, column = 0, isStmt = h.defaultIsStmt;
  let dead = false;
  let unrepresentable = false;
  let seqStart = 0;
  const reset = () => {
    address = 0; opIndex = 0; file = 1; lineNo = 1; column = 0; isStmt = h.defaultIsStmt; dead = false;
    seqStart = rows.length;
  };
  const emit = (endSequence: boolean) => {
    if (!dead) rows.push({ address, file, line: lineNo, column, isStmt, endSequence });
  };
  // §6.2.5.1: the operation advance moves address and op_index together.
  const advance = (operationAdvance: number) => {
    if (h.maxOps === 1) {
      address += h.minInstLength * operationAdvance;
    } else {
      address += h.minInstLength * Math.floor((opIndex + operationAdvance) / h.maxOps);
      opIndex = (opIndex + operationAdvance) % h.maxOps;
    }
  };
  try {
    if (h.lineRange === 0) r.fail(`line program at 0x${h.offset.toString(16)} has line_range 0`);
    while (r.pos < h.programEnd) {
      const op = r.u8();
      if (op >= h.opcodeBase) {
        const adjusted = op - h.opcodeBase;
        advance(Math.floor(adjusted / h.lineRange));
        lineNo += h.lineBase + (adjusted % h.lineRange);
        emit(false);
      } else if (op === 0) {
        const len = r.uleb();
        const end = r.pos + len;
        if (!(len >= 1 && end <= h.programEnd)) r.fail(`extended opcode at 0x${(r.pos - 1).toString(16)} has length ${len}`);
        const sub = r.u8();
        switch (sub) {
          case DW_LNE.end_sequence:
            emit(true);
            reset();
            break;
          case DW_LNE.set_address: {
            const size = len - 1;
            const at = r.pos;
            // 8-byte addresses as address numbers (src/debugger/address.ts): a higher-half kernel's
            // 0xffffffff80000000 is exact, as a negative number.
            const a = size === 8 ? r.addr64() : size === 4 || size === 2 || size === 1 ? r.uN(size) : NaN;
            if (Number.isNaN(a) && size === 8 && !unrepresentable) {
              const big = new DataView(line.buffer, line.byteOffset + at, 8).getBigUint64(0, true);
              unrepresentable = true;
              warnings.push(`.debug_line: address 0x${big.toString(16)} (line program at 0x${h.offset.toString(16)}) is above 2^53 and not a canonical upper-half address, which the debugger cannot represent: its rows are left out`);
            }
            // Code the linker discarded keeps its rows at a tombstone address (-1 or -2, or truncated to 32 bits).
            if (Number.isNaN(a) || (size === 4 && a >= 0xfffffffe) || (size === 8 && (a === -1 || a === -2))) {
              dead = true;
              rows.length = seqStart;
            } else {
              address = a;
            }
            opIndex = 0;
            break;
          }
          case DW_LNE.define_file: {
            const e = readV2FileEntry(r);
            if (e) h.files.push(e);
            break;
          }
          case DW_LNE.set_discriminator:
            r.uleb();
            break;
          default:
            break; // vendor extended opcodes (DW_LNE_lo_user..hi_user): skipped by their length
        }
        r.pos = end;
      } else {
        switch (op) {
          case DW_LNS.copy: emit(false); break;
          case DW_LNS.advance_pc: advance(r.uleb()); break;
          case DW_LNS.advance_line: lineNo += r.sleb(); break;
          case DW_LNS.set_file: file = r.uleb(); break;
          case DW_LNS.set_column: column = r.uleb(); break;
          case DW_LNS.negate_stmt: isStmt = !isStmt; break;
          case DW_LNS.const_add_pc: advance(Math.floor((255 - h.opcodeBase) / h.lineRange)); break;
          case DW_LNS.fixed_advance_pc: address += r.u16(); opIndex = 0; break;
          case DW_LNS.set_basic_block: case DW_LNS.set_prologue_end: case DW_LNS.set_epilogue_begin:
            break; // flags the debugger does not use
          default: {
            // set_isa, or an opcode this reader does not know: skip its ULEB operands.
            const n = h.standardOpcodeLengths[op - 1] ?? 0;
            for (let i = 0; i < n; i++) r.uleb();
          }
        }
        if (!Number.isFinite(address) || !Number.isFinite(lineNo)) r.fail(`line program at 0x${h.offset.toString(16)}: address or line out of range`);
      }
    }
  } catch (e) {
    if (!(e instanceof DebugFormatError)) throw e;
    warnings.push(e.message);
  }
  // A sequence left open (a truncated program) ends at its last row.
  if (rows.length > seqStart && !dead) {
    const last = rows[rows.length - 1];
    rows.push({ ...last, endSequence: true, isStmt: false });
  }
  return rows;
}
