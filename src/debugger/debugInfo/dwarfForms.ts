/**
 * Attribute forms (DWARF 5 §7.5.6 and Table 7.6; DWARF 2-4 §7.5.4): how many bytes each form
 * takes and the value the line-table and compile-unit readers need from it — a number, an
 * inline string, or an offset/index into a string section. Shared by .debug_info DIEs and the
 * DWARF 5 line header's directory and file entries (§6.2.4.1).
 */
import { ByteReader } from './byteReader';

export const DW_FORM = {
  addr: 0x01, block2: 0x03, block4: 0x04, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08,
  block: 0x09, block1: 0x0a, data1: 0x0b, flag: 0x0c, sdata: 0x0d, strp: 0x0e, udata: 0x0f,
  ref_addr: 0x10, ref1: 0x11, ref2: 0x12, ref4: 0x13, ref8: 0x14, ref_udata: 0x15, indirect: 0x16,
  sec_offset: 0x17, exprloc: 0x18, flag_present: 0x19, strx: 0x1a, addrx: 0x1b, ref_sup4: 0x1c,
  strp_sup: 0x1d, data16: 0x1e, line_strp: 0x1f, ref_sig8: 0x20, implicit_const: 0x21,
  loclistx: 0x22, rnglistx: 0x23, ref_sup8: 0x24, strx1: 0x25, strx2: 0x26, strx3: 0x27, strx4: 0x28,
  addrx1: 0x29, addrx2: 0x2a, addrx3: 0x2b, addrx4: 0x2c,
  // GNU extensions (split DWARF and dwz), DWARF 4 era.
  GNU_addr_index: 0x1f01, GNU_str_index: 0x1f02, GNU_ref_alt: 0x1f20, GNU_strp_alt: 0x1f21,
} as const;

/** What a form's value is, as far as the readers care. */
export type FormValue =
  | { k: 'num'; v: number }
  | { k: 'str'; v: string }
  /** Offset into .debug_str (DW_FORM_strp). */
  | { k: 'strp'; off: number }
  /** Offset into .debug_line_str (DW_FORM_line_strp). */
  | { k: 'line_strp'; off: number }
  /** Index into the unit's .debug_str_offsets contribution (DW_FORM_strx*). */
  | { k: 'strx'; index: number }
  /** Bytes we do not interpret (blocks, data16, signatures, supplementary-file references). */
  | { k: 'other' };

export interface FormContext {
  /** 4 for 32-bit DWARF, 8 for 64-bit DWARF (§7.4). */
  offsetSize: 4 | 8;
  addressSize: number;
  version: number;
}

const OTHER: FormValue = { k: 'other' };

/** Read one attribute value of `form` (implicit_const takes its value from the abbreviation). */
export function readForm(r: ByteReader, form: number, ctx: FormContext, implicitConst = 0): FormValue {
  const num = (v: number): FormValue => ({ k: 'num', v });
  switch (form) {
    case DW_FORM.addr: return num(r.uN(ctx.addressSize));
    case DW_FORM.data1: case DW_FORM.ref1: case DW_FORM.flag: return num(r.u8());
    case DW_FORM.data2: case DW_FORM.ref2: return num(r.u16());
    case DW_FORM.data4: case DW_FORM.ref4: case DW_FORM.ref_sup4: return num(r.u32());
    case DW_FORM.data8: case DW_FORM.ref8: case DW_FORM.ref_sup8: return num(r.u64());
    case DW_FORM.sdata: return num(r.sleb());
    case DW_FORM.udata: case DW_FORM.ref_udata: case DW_FORM.addrx: case DW_FORM.loclistx:
    case DW_FORM.rnglistx: case DW_FORM.GNU_addr_index:
      return num(r.uleb());
    case DW_FORM.addrx1: return num(r.u8());
    case DW_FORM.addrx2: return num(r.u16());
    case DW_FORM.addrx3: return num(r.u24());
    case DW_FORM.addrx4: return num(r.u32());
    // ref_addr is address-sized in DWARF 2 and offset-sized from DWARF 3 (§7.5.4).
    case DW_FORM.ref_addr: return num(r.uN(ctx.version <= 2 ? ctx.addressSize : ctx.offsetSize));
    case DW_FORM.sec_offset: return num(r.uN(ctx.offsetSize));
    case DW_FORM.string: return { k: 'str', v: r.cstring() };
    case DW_FORM.strp: return { k: 'strp', off: r.uN(ctx.offsetSize) };
    case DW_FORM.line_strp: return { k: 'line_strp', off: r.uN(ctx.offsetSize) };
    case DW_FORM.strx: case DW_FORM.GNU_str_index: return { k: 'strx', index: r.uleb() };
    case DW_FORM.strx1: return { k: 'strx', index: r.u8() };
    case DW_FORM.strx2: return { k: 'strx', index: r.u16() };
    case DW_FORM.strx3: return { k: 'strx', index: r.u24() };
    case DW_FORM.strx4: return { k: 'strx', index: r.u32() };
    case DW_FORM.strp_sup: case DW_FORM.GNU_ref_alt: case DW_FORM.GNU_strp_alt:
      r.skip(ctx.offsetSize);
      return OTHER;
    case DW_FORM.block1: r.skip(r.u8()); return OTHER;
    case DW_FORM.block2: r.skip(r.u16()); return OTHER;
    case DW_FORM.block4: r.skip(r.u32()); return OTHER;
    case DW_FORM.block: case DW_FORM.exprloc: r.skip(r.uleb()); return OTHER;
    case DW_FORM.data16: r.skip(16); return OTHER;
    case DW_FORM.ref_sig8: r.skip(8); return OTHER;
    case DW_FORM.flag_present: return num(1);
    case DW_FORM.implicit_const: return num(implicitConst);
    case DW_FORM.indirect: {
      const actual = r.uleb();
      if (actual === DW_FORM.indirect || actual === DW_FORM.implicit_const) r.fail(`DW_FORM_indirect names form 0x${actual.toString(16)}`);
      return readForm(r, actual, ctx);
    }
    default:
      return r.fail(`unknown attribute form 0x${form.toString(16)}`);
  }
}
