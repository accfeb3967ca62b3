/**
 * Just enough of .debug_info and .debug_abbrev to learn, for each compilation unit, its line
 * program (DW_AT_stmt_list), its primary source (DW_AT_name) and its compilation directory
 * (DW_AT_comp_dir), which DWARF 2-4 line tables take relative paths from (DWARF 4 §6.2.4 item
 * 12: directory index 0 is the compilation directory). Only the unit's first DIE is read.
 * Unit headers of DWARF 2-4 (§7.5.1.1 of DWARF 4) and DWARF 5 (§7.5.1.1-3, every unit type).
 */
import { ByteReader, DebugFormatError } from './byteReader';
import { readForm, DW_FORM, type FormContext, type FormValue } from './dwarfForms';
import { resolveString, type DwarfSections } from './dwarfSections';

export interface CompileUnitInfo {
  /** Offset of the unit header in .debug_info. */
  offset: number;
  version: number;
  /** Offset of the unit's line program in .debug_line. */
  stmtList?: number;
  name?: string;
  compDir?: string;
  /** DW_AT_str_offsets_base (DWARF 5 §7.26): also where the unit's line program reads DW_FORM_strx names. */
  strOffsetsBase?: number;
}

const DW_AT_name = 0x03;
const DW_AT_stmt_list = 0x10;
const DW_AT_comp_dir = 0x1b;
const DW_AT_str_offsets_base = 0x72;
const DW_UT = { compile: 1, type: 2, partial: 3, skeleton: 4, split_compile: 5, split_type: 6 } as const;

interface AttrSpec { at: number; form: number; implicitConst: number }
interface Abbrev { tag: number; attrs: AttrSpec[] }

/** The abbreviation with `code` in the table at `offset` of .debug_abbrev (§7.5.3). */
function findAbbrev(abbrev: Uint8Array, offset: number, code: number): Abbrev | undefined {
  const r = new ByteReader(abbrev, offset, '.debug_abbrev');
  for (;;) {
    const c = r.uleb();
    if (c === 0) return undefined;
    const tag = r.uleb();
    r.u8(); // DW_CHILDREN_yes / no
    const attrs: AttrSpec[] = [];
    for (;;) {
      const at = r.uleb();
      const form = r.uleb();
      if (at === 0 && form === 0) break;
      attrs.push({ at, form, implicitConst: form === DW_FORM.implicit_const ? r.sleb() : 0 });
    }
    if (c === code) return { tag, attrs };
  }
}

/** Every unit of .debug_info that could be read; problems are added to `warnings`. */
export function readCompileUnits(s: DwarfSections, warnings: string[]): CompileUnitInfo[] {
  const out: CompileUnitInfo[] = [];
  if (!s.info) return out;
  const info = new ByteReader(s.info, 0, '.debug_info');
  while (info.pos < info.length) {
    const offset = info.pos;
    let next = -1;
    try {
      const { length, offsetSize } = info.initialLength();
      if (!(info.pos + length <= info.length)) info.fail(`unit at 0x${offset.toString(16)} is longer than the section`);
      next = info.pos + length;
      const unit = readUnit(info.slice(info.pos, next), offset, offsetSize, s, warnings);
      if (unit) out.push(unit);
    } catch (e) {
      if (!(e instanceof DebugFormatError)) throw e;
      warnings.push(e.message);
    }
    // Without a trustworthy unit length, nothing after it can be found.
    if (next <= offset) break;
    info.pos = next;
  }
  return out;
}

/** One unit from just after its initial length (§7.5.1.1). */
function readUnit(r: ByteReader, offset: number, offsetSize: 4 | 8, s: DwarfSections, warnings: string[]): CompileUnitInfo | undefined {
  const version = r.u16();
  if (version < 2 || version > 5) {
    warnings.push(`.debug_info: unit at 0x${offset.toString(16)} has unsupported version ${version}`);
    return undefined;
  }
  let unitType: number = DW_UT.compile;
  let addressSize: number;
  let abbrevOffset: number;
  if (version >= 5) {
    unitType = r.u8();
    addressSize = r.u8();
    abbrevOffset = r.uN(offsetSize);
    if (unitType === DW_UT.skeleton || unitType === DW_UT.split_compile) r.skip(8);
    else if (unitType === DW_UT.type || unitType === DW_UT.split_type) return undefined;
  } else {
    abbrevOffset = r.uN(offsetSize);
    addressSize = r.u8();
  }
  const unit: CompileUnitInfo = { offset, version };
  const code = r.uleb();
  if (code === 0) return unit;
  const abbrev = s.abbrev ? findAbbrev(s.abbrev, abbrevOffset, code) : undefined;
  if (!abbrev) {
    warnings.push(`.debug_info: unit at 0x${offset.toString(16)} uses abbreviation ${code}, which is not in .debug_abbrev`);
    return unit;
  }
  const ctx: FormContext = { offsetSize, addressSize, version };
  let name: FormValue | undefined, compDir: FormValue | undefined, strOffsetsBase: number | undefined;
  for (const a of abbrev.attrs) {
    const v = readForm(r, a.form, ctx, a.implicitConst);
    if (a.at === DW_AT_name) name = v;
    else if (a.at === DW_AT_comp_dir) compDir = v;
    else if (a.at === DW_AT_stmt_list && v.k === 'num') unit.stmtList = v.v;
    else if (a.at === DW_AT_str_offsets_base && v.k === 'num') strOffsetsBase = v.v;
  }
  const sctx = { offsetSize, strOffsetsBase };
  if (strOffsetsBase !== undefined) unit.strOffsetsBase = strOffsetsBase;
  if (name) unit.name = resolveString(name, s, sctx);
  if (compDir) unit.compDir = resolveString(compDir, s, sctx);
  return unit;
}
