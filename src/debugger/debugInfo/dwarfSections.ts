/**
 * The DWARF sections the debugger reads, by name, and string attribute values resolved against
 * them: DW_FORM_strp in .debug_str, DW_FORM_line_strp in .debug_line_str (DWARF 5 §7.26) and
 * DW_FORM_strx* through the unit's .debug_str_offsets contribution (§7.26, DW_AT_str_offsets_base).
 */
import { ByteReader, stringAt } from './byteReader';
import type { FormValue } from './dwarfForms';

export interface DwarfSections {
  line?: Uint8Array;
  lineStr?: Uint8Array;
  str?: Uint8Array;
  info?: Uint8Array;
  abbrev?: Uint8Array;
  strOffsets?: Uint8Array;
}

/** ELF section names of each member. */
export const DWARF_SECTION_NAMES: Record<keyof DwarfSections, string> = {
  line: '.debug_line', lineStr: '.debug_line_str', str: '.debug_str', info: '.debug_info',
  abbrev: '.debug_abbrev', strOffsets: '.debug_str_offsets',
};

export interface StringContext {
  offsetSize: 4 | 8;
  /** DW_AT_str_offsets_base of the unit (the first entry after the contribution's header). */
  strOffsetsBase?: number;
}

/** The string a form value stands for, or undefined when it is not a string or cannot be found. */
export function resolveString(v: FormValue, s: DwarfSections, ctx: StringContext): string | undefined {
  switch (v.k) {
    case 'str': return v.v;
    case 'strp': return stringAt(s.str, v.off);
    case 'line_strp': return stringAt(s.lineStr, v.off);
    case 'strx': {
      if (!s.strOffsets) return undefined;
      // Without DW_AT_str_offsets_base, the first contribution's entries follow its 8- or 16-byte header.
      const base = ctx.strOffsetsBase ?? (ctx.offsetSize === 8 ? 16 : 8);
      const at = base + v.index * ctx.offsetSize;
      if (!Number.isSafeInteger(at) || at + ctx.offsetSize > s.strOffsets.length) return undefined;
      const r = new ByteReader(s.strOffsets, at, '.debug_str_offsets');
      return stringAt(s.str, r.uN(ctx.offsetSize));
    }
    default: return undefined;
  }
}
