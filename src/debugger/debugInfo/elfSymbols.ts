/**
 * Symbols of an ELF file from .symtab (or .dynsym when there is none) and its linked string
 * table (System V gABI "Symbol Table"): functions (STT_FUNC, STT_GNU_IFUNC), objects
 * (STT_OBJECT) and untyped labels (STT_NOTYPE) defined in some section; section, file, common
 * and thread-local symbols are not addresses and are left out. Absolute symbols (SHN_ABS: an
 * assembler's `equ`, a linker-script constant) are kept apart as constants, found by name only.
 * Global symbols come first, so `lookup` of a name that is also a local static finds the global.
 */
import type { ElfSection, ElfSections } from '../../vmm/loaders/elf';
import type { SymbolInfo } from '../model';
import { ByteReader, DebugFormatError, stringAt } from './byteReader';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, GNU_IFUNC: 10 } as const;
const STB_LOCAL = 0;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_ABS = 0xfff1;

export interface ElfSymbols {
  /** In order of preference: global and weak ones first, then local ones. */
  symbols: SymbolInfo[];
  /** Absolute symbols by name (the first global, else the first local, of a name). */
  constants: Map<string, number>;
}

export function readElfSymbols(bytes: Uint8Array, elf: ElfSections, warnings: string[]): ElfSymbols {
  const none = { symbols: [], constants: new Map<string, number>() };
  const table = elf.sections.find((s) => s.type === SHT_SYMTAB) ?? elf.sections.find((s) => s.type === SHT_DYNSYM);
  if (!table) return none;
  const strtab: ElfSection | undefined = elf.sections[table.link];
  const within = (s: ElfSection) => s.offset + s.size <= bytes.length;
  if (!within(table)) {
    warnings.push(`symbol table (section ${table.index}) extends beyond the end of the file`);
    return none;
  }
  if (!strtab || !within(strtab)) {
    warnings.push(`symbol table (section ${table.index}) has no readable string table (section ${table.link})`);
    return none;
  }
  const strings = bytes.subarray(strtab.offset, strtab.offset + strtab.size);
  const esz = elf.bits === 32 ? 16 : 24;
  const globals: SymbolInfo[] = [];
  const locals: SymbolInfo[] = [];
  const absolute: Array<[string, number, boolean]> = [];
  let tooLarge = 0;
  const r = new ByteReader(bytes.subarray(0, table.offset + table.size), table.offset, '.symtab');
  try {
    // Entry 0 is the undefined symbol.
    for (let o = table.offset + esz; o + esz <= table.offset + table.size; o += esz) {
      r.pos = o;
      let nameOff: number, value: number, size: number, info: number, shndx: number;
      if (elf.bits === 32) {
        nameOff = r.u32(); value = r.u32(); size = r.u32(); info = r.u8(); r.u8(); shndx = r.u16();
      } else {
        // st_value as an address number (src/debugger/address.ts): a higher-half symbol is exact, negative.
        nameOff = r.u32(); info = r.u8(); r.u8(); shndx = r.u16(); value = r.addr64(); size = r.u64();
      }
      const type = info & 0xf;
      const kind = type === STT.FUNC || type === STT.GNU_IFUNC ? 'function' : type === STT.OBJECT ? 'object' : type === STT.NOTYPE ? 'label' : undefined;
      if (kind === undefined || shndx === SHN_UNDEF || (shndx >= SHN_LORESERVE && shndx !== SHN_ABS && shndx !== 0xffff)) continue;
      if (Number.isNaN(value) || Number.isNaN(size)) {
        tooLarge++;
        continue;
      }
      const name = stringAt(strings, nameOff);
      if (!name) continue;
      const local = (info >> 4) === STB_LOCAL;
      if (shndx === SHN_ABS) absolute.push([name, value, local]);
      else (local ? locals : globals).push({ name, address: value, size, kind });
    }
  } catch (e) {
    if (!(e instanceof DebugFormatError)) throw e;
    warnings.push(e.message);
  }
  if (tooLarge > 0) warnings.push(`${tooLarge} symbol(s) with a value above 2^53 that is not a canonical upper-half address, or a size above 2^53, left out (the debugger's addresses are exact within ±2^53)`);
  const constants = new Map<string, number>();
  for (const pass of [false, true]) for (const [name, value, local] of absolute) if (local === pass && !constants.has(name)) constants.set(name, value);
  return { symbols: [...globals, ...locals], constants };
}
