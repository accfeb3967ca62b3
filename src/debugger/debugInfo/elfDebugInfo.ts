/**
 * Debug information of an ELF executable (ET_EXEC, or ET_DYN read at its link addresses):
 * symbols from the symbol table and the line table from DWARF .debug_line. Sections compressed
 * with SHF_COMPRESSED (gABI "Compressed Sections", zlib; zstd when the runtime has it) are
 * inflated. Relocatable objects (ET_REL) would need their relocations applied to the debug
 * sections: they give no debug information and a warning.
 */
import * as zlib from 'node:zlib';
import { elfSectionBytes, readElfSections, SHT_NOBITS, type ElfSection, type ElfSections } from '../../vmm/loaders/elf';
import { LoadError } from '../../vmm/loaders/errors';
import type { DebugInfo } from '../model';
import { ByteReader, DebugFormatError } from './byteReader';
import { readDwarfLines, type SourceRow } from './dwarfLines';
import { DWARF_SECTION_NAMES, type DwarfSections } from './dwarfSections';
import { readElfSymbols } from './elfSymbols';
import { RowLineTable } from './lineTable';
import { SortedSymbolTable } from './symbolTable';
import { UnwindTable } from './unwindTable';
import type { FrameSection } from './dwarfFrameEntries';
import { dirName } from './sourcePaths';
import { sourceRelocator } from './sourceRelocation';

const ET_EXEC = 2;
const ET_DYN = 3;
const SHF_ALLOC = 0x2;
const SHF_COMPRESSED = 0x800;
const ELFCOMPRESS_ZLIB = 1;
const ELFCOMPRESS_ZSTD = 2;

export function elfDebugInfo(path: string, bytes: Uint8Array, warnings: string[]): DebugInfo {
  let elf: ElfSections;
  try {
    elf = readElfSections(bytes);
  } catch (e) {
    if (!(e instanceof LoadError) && !(e instanceof RangeError)) throw e;
    warnings.push(`ELF section headers: ${e.message}`);
    return { symbols: new SortedSymbolTable([]), lines: null };
  }
  if (elf.type !== ET_EXEC && elf.type !== ET_DYN) {
    warnings.push(`ELF type ${elf.type} is not an executable: its symbols and line table are not read (a relocatable object needs relocation)`);
    return { symbols: new SortedSymbolTable([]), lines: null };
  }
  const elfSymbols = readElfSymbols(bytes, elf, warnings);
  const symbols = new SortedSymbolTable(elfSymbols.symbols, elfSymbols.constants);
  const dwarf: DwarfSections = {};
  for (const key of Object.keys(DWARF_SECTION_NAMES) as Array<keyof DwarfSections>) {
    const s = elf.sections.find((x) => x.name === DWARF_SECTION_NAMES[key]);
    if (s) dwarf[key] = sectionData(bytes, elf, s, warnings);
  }
  const relocate = sourceRelocator(dirName(path));
  const rows = keepLoadedSequences(readDwarfLines(dwarf, dirName(path), warnings), elf.sections).map((r) => ({ ...r, file: relocate(r.file) }));
  const info: DebugInfo = { symbols, lines: rows.length > 0 ? new RowLineTable(rows) : null };
  const frames: FrameSection[] = [];
  for (const [name, kind] of [['.debug_frame', 'debug_frame'], ['.eh_frame', 'eh_frame']] as const) {
    const s = elf.sections.find((x) => x.name === name && x.type !== SHT_NOBITS);
    const data = s ? sectionData(bytes, elf, s, warnings) : undefined;
    if (s && data) frames.push({ bytes: data, address: s.addr, kind });
  }
  if (frames.length > 0) {
    const table = new UnwindTable(frames, elf.bits, warnings);
    if (table.size > 0) info.unwind = (pc) => table.rowAt(pc);
  }
  return info;
}

/** A section's bytes, inflated when compressed; undefined (and a warning) when unreadable. */
function sectionData(bytes: Uint8Array, elf: ElfSections, s: ElfSection, warnings: string[]): Uint8Array | undefined {
  try {
    const raw = elfSectionBytes(bytes, s);
    if ((s.flags & SHF_COMPRESSED) === 0) return raw;
    // Elf32_Chdr / Elf64_Chdr: ch_type, (reserved), ch_size, ch_addralign.
    const r = new ByteReader(raw, 0, s.name);
    const type = r.u32();
    if (elf.bits === 64) r.u32();
    const size = elf.bits === 64 ? r.u64() : r.u32();
    r.skip(elf.bits === 64 ? 8 : 4);
    const body = raw.subarray(r.pos);
    const opts = { maxOutputLength: Math.max(1, Math.min(size, 0x7fffffff)) };
    let out: Buffer;
    if (type === ELFCOMPRESS_ZLIB) out = zlib.inflateSync(body, opts);
    else if (type === ELFCOMPRESS_ZSTD && typeof (zlib as { zstdDecompressSync?: unknown }).zstdDecompressSync === 'function') {
      out = (zlib as unknown as { zstdDecompressSync(b: Uint8Array, o: object): Buffer }).zstdDecompressSync(body, opts);
    } else {
      warnings.push(`${s.name}: compression type ${type} is not supported`);
      return undefined;
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if (!(e instanceof LoadError) && !(e instanceof DebugFormatError) && !(e instanceof Error && 'code' in e)) throw e;
    warnings.push(`${s.name}: ${e.message}`);
    return undefined;
  }
}

/**
 * Drop the sequences whose first address lies in no allocated section: code the linker
 * discarded (garbage-collected or folded functions) keeps rows at address 0 or a tombstone.
 */
function keepLoadedSequences(rows: SourceRow[], sections: readonly ElfSection[]): SourceRow[] {
  const alloc = sections.filter((s) => (s.flags & SHF_ALLOC) !== 0 && s.size > 0);
  if (alloc.length === 0) return rows;
  const loaded = (a: number) => alloc.some((s) => a >= s.addr && a < s.addr + s.size);
  const out: SourceRow[] = [];
  let start = 0;
  for (let i = 0; i < rows.length; i++) {
    if (!rows[i].endSequence) continue;
    if (loaded(rows[start].address)) for (let k = start; k <= i; k++) out.push(rows[k]);
    start = i + 1;
  }
  return out;
}
