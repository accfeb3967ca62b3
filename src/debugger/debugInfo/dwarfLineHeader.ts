/**
 * The header of one line-number program in .debug_line (DWARF 5 §6.2.4; DWARF 2 §6.2.4,
 * DWARF 3 and 4 §6.2.4 for the older layouts): the parameters of the state machine, the
 * standard opcodes' operand counts, and the directory and file tables — inline strings in
 * DWARF 2-4, self-describing entry formats in DWARF 5 (§6.2.4.1, content types DW_LNCT_*,
 * any form: string, line_strp, strp, strx, udata, data1-16, block).
 */
import { ByteReader } from './byteReader';
import { readForm, type FormContext } from './dwarfForms';
import { resolveString, type DwarfSections } from './dwarfSections';

export interface LineFileEntry {
  name: string;
  /** Index into LineProgramHeader.directories. */
  dir: number;
}

export interface LineProgramHeader {
  /** Offset of the unit in .debug_line (what DW_AT_stmt_list names). */
  offset: number;
  version: number;
  offsetSize: 4 | 8;
  /** DWARF 5 header field; 0 before DWARF 5 (DW_LNE_set_address then tells the size). */
  addressSize: number;
  minInstLength: number;
  /** maximum_operations_per_instruction (DWARF 4+; 1 before). */
  maxOps: number;
  defaultIsStmt: boolean;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  /** standard_opcode_lengths[i - 1] = number of ULEB operands of standard opcode i. */
  standardOpcodeLengths: number[];
  /**
   * Directories by the index file entries use. DWARF 5: as listed (0 is the compilation
   * directory). DWARF 2-4: index 0 is the compilation directory (undefined here, it comes from
   * the compile unit), then include_directories from 1.
   */
  directories: Array<string | undefined>;
  /**
   * Files by the value of the `file` register. DWARF 5: as listed from 0. DWARF 2-4: from 1
   * (index 0 is undefined); DW_LNE_define_file appends.
   */
  files: Array<LineFileEntry | undefined>;
  /** Section offsets of the first opcode and of the end of the unit. */
  programStart: number;
  programEnd: number;
}

const DW_LNCT_path = 1;
const DW_LNCT_directory_index = 2;

/**
 * Read the header of the unit at `offset`. Throws DebugFormatError when it is malformed;
 * `programEnd` is valid as soon as the initial length was read (returned through `unitEnd`
 * so the caller can skip to the next unit).
 */
/**
 * `strOffsetsBase`: DW_AT_str_offsets_base of the compile unit whose DW_AT_stmt_list names this
 * program — DWARF 5 file and directory names in DW_FORM_strx* index that unit's contribution to
 * .debug_str_offsets (§6.2.4.1, §7.26); without a unit, the section's first contribution.
 */
export function readLineHeader(s: DwarfSections & { line: Uint8Array }, offset: number, unitEnd: { end: number }, strOffsetsBase?: number): LineProgramHeader {
  const top = new ByteReader(s.line, offset, '.debug_line');
  const { length, offsetSize } = top.initialLength();
  const end = top.pos + length;
  if (!(end <= s.line.length)) top.fail(`line program at 0x${offset.toString(16)} claims ${length} bytes, past the end of the section`);
  unitEnd.end = end;
  const r = top.slice(top.pos, end);
  const version = r.u16();
  if (version < 2 || version > 5) r.fail(`line program at 0x${offset.toString(16)} has unsupported version ${version}`);
  let addressSize = 0;
  if (version >= 5) {
    addressSize = r.u8();
    r.u8(); // segment_selector_size
  }
  const headerLength = r.uN(offsetSize);
  const programStart = r.pos + headerLength;
  if (!(programStart <= end)) r.fail(`line program at 0x${offset.toString(16)}: header_length ${headerLength} runs past the unit`);
  const minInstLength = r.u8();
  const maxOps = version >= 4 ? r.u8() : 1;
  const defaultIsStmt = r.u8() !== 0;
  const lineBase = r.i8();
  const lineRange = r.u8();
  const opcodeBase = r.u8();
  const standardOpcodeLengths: number[] = [];
  for (let i = 1; i < opcodeBase; i++) standardOpcodeLengths.push(r.u8());
  const h: LineProgramHeader = {
    offset, version, offsetSize, addressSize, minInstLength, maxOps: maxOps === 0 ? 1 : maxOps, defaultIsStmt,
    lineBase, lineRange, opcodeBase, standardOpcodeLengths, directories: [], files: [], programStart, programEnd: end,
  };
  if (version >= 5) readV5Tables(r, h, s, strOffsetsBase);
  else readV2Tables(r, h);
  return h;
}

/** DWARF 2-4 include_directories and file_names (§6.2.4 items 11-12 of DWARF 4). */
function readV2Tables(r: ByteReader, h: LineProgramHeader): void {
  h.directories.push(undefined);
  for (;;) {
    const d = r.cstring();
    if (d === '') break;
    h.directories.push(d);
  }
  h.files.push(undefined);
  for (;;) {
    const e = readV2FileEntry(r);
    if (!e) break;
    h.files.push(e);
  }
}

/** One DWARF 2-4 file entry (also the operand of DW_LNE_define_file); undefined at the terminating 0. */
export function readV2FileEntry(r: ByteReader): LineFileEntry | undefined {
  const name = r.cstring();
  if (name === '') return undefined;
  const dir = r.uleb();
  r.uleb(); // modification time
  r.uleb(); // length
  return { name, dir };
}

/** DWARF 5 directory and file name tables with their entry formats (§6.2.4 items 13-20). */
function readV5Tables(r: ByteReader, h: LineProgramHeader, s: DwarfSections, strOffsetsBase: number | undefined): void {
  const ctx: FormContext = { offsetSize: h.offsetSize, addressSize: h.addressSize, version: h.version };
  const sctx = { offsetSize: h.offsetSize, strOffsetsBase };
  const table = (what: string): Array<{ path?: string; dir: number }> => {
    const formatCount = r.u8();
    const format: Array<[number, number]> = [];
    for (let i = 0; i < formatCount; i++) format.push([r.uleb(), r.uleb()]);
    const count = r.uleb();
    if (!(count <= r.length - r.pos)) r.fail(`line program at 0x${h.offset.toString(16)}: ${count} ${what} entries cannot fit`);
    const out: Array<{ path?: string; dir: number }> = [];
    for (let i = 0; i < count; i++) {
      const e: { path?: string; dir: number } = { dir: 0 };
      for (const [type, form] of format) {
        const v = readForm(r, form, ctx);
        if (type === DW_LNCT_path) e.path = resolveString(v, s, sctx);
        else if (type === DW_LNCT_directory_index && v.k === 'num') e.dir = v.v;
      }
      out.push(e);
    }
    return out;
  };
  for (const d of table('directory')) h.directories.push(d.path);
  for (const f of table('file name')) h.files.push(f.path === undefined ? undefined : { name: f.path, dir: f.dir });
}
