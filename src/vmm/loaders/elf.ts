/**
 * ELF32 and ELF64 images (System V gABI; the x86 and x86-64 psABI supplements): header
 * validation, PT_LOAD segments loaded at their physical addresses (p_paddr) with the
 * p_memsz - p_filesz tail zero-filled, the entry point and the symbol table (.symtab with its
 * string table) for the debugger, and the section headers of any ELF file (`readElfSections`, for
 * the debugger's DWARF reader). Every error names what is wrong with the file.
 */
import type { PhysicalMemory } from '../../x86/physicalMemory';
import { LoadError, hex } from './errors';

export const EM_386 = 3;
export const EM_X86_64 = 62;
const ET_NAMES: Record<number, string> = { 0: 'ET_NONE', 1: 'ET_REL (relocatable object)', 2: 'ET_EXEC', 3: 'ET_DYN (shared object / PIE)', 4: 'ET_CORE (core dump)' };
const PT_LOAD = 1;
const SHT_SYMTAB = 2;

export interface ElfSegment {
  index: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface ElfImage {
  bits: 32 | 64;
  machine: number;
  entry: number;
  segments: ElfSegment[];
  symbols: Array<{ name: string; address: number; size: number }>;
}

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** ELF class of a file with the ELF magic (1 = 32-bit, 2 = 64-bit), or 0. */
export function elfClass(bytes: Uint8Array): number {
  return isElf(bytes) && bytes.length > 4 ? bytes[4] : 0;
}

class Reader {
  private readonly v: DataView;
  constructor(readonly bytes: Uint8Array, readonly bits: 32 | 64) {
    this.v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(o: number): number { return this.v.getUint8(o); }
  u16(o: number): number { return this.v.getUint16(o, true); }
  u32(o: number): number { return this.v.getUint32(o, true); }
  u64(o: number, what: string): number {
    const b = this.v.getBigUint64(o, true);
    if (b > BigInt(Number.MAX_SAFE_INTEGER)) throw new LoadError(`ELF ${what} 0x${b.toString(16)} is too large`);
    return Number(b);
  }
  /**
   * An 8-byte virtual address (e_entry, p_vaddr, st_value, sh_addr): below 2^53 as is, a
   * canonical upper-half address (a higher-half kernel's 0xffffffff80000000) as the value read
   * as signed — a negative number, exact down to -2^53 (the debugger's address numbers,
   * src/debugger/address.ts). Physical addresses and sizes stay `u64`.
   */
  addr64(o: number, what: string): number {
    const b = this.v.getBigInt64(o, true);
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    if (b > max || b < -max - 1n) throw new LoadError(`ELF ${what} 0x${BigInt.asUintN(64, b).toString(16)} is too large`);
    return Number(b);
  }
  /** A word-sized field (Elf32_Addr/Off/Word or Elf64_Addr/Off/Xword). */
  word(o: number, what: string): number {
    return this.bits === 32 ? this.u32(o) : this.u64(o, what);
  }
}

/** Parse and validate an ELF file (nothing is loaded). */
export function parseElf(bytes: Uint8Array): ElfImage {
  if (!isElf(bytes)) throw new LoadError('not an ELF file (no \\x7fELF magic)');
  if (bytes.length < 16) throw new LoadError(`truncated ELF header: the file has ${bytes.length} bytes, e_ident needs 16`);
  const cls = bytes[4];
  if (cls !== 1 && cls !== 2) throw new LoadError(`unsupported ELF class ${cls} (EI_CLASS must be 1 for ELF32 or 2 for ELF64)`);
  const bits = cls === 1 ? 32 : 64;
  if (bytes[5] !== 1) {
    throw new LoadError(bytes[5] === 2 ? 'big-endian ELF (EI_DATA = 2): x86 images are little-endian' : `invalid ELF data encoding ${bytes[5]} (EI_DATA must be 1, little-endian)`);
  }
  if (bytes[6] !== 1) throw new LoadError(`unsupported ELF version ${bytes[6]} (EI_VERSION must be 1)`);
  const ehsize = bits === 32 ? 52 : 64;
  if (bytes.length < ehsize) throw new LoadError(`truncated ELF${bits} header: the file has ${bytes.length} bytes, the header needs ${ehsize}`);
  const r = new Reader(bytes, bits);
  const type = r.u16(16);
  const machine = r.u16(18);
  if (type !== 2) {
    throw new LoadError(`ELF type ${ET_NAMES[type] ?? type} cannot be booted: e_type must be ET_EXEC (2), an executable`);
  }
  const want = bits === 32 ? EM_386 : EM_X86_64;
  if (machine !== want) {
    const name = machine === EM_386 ? 'EM_386' : machine === EM_X86_64 ? 'EM_X86_64' : `${machine}`;
    throw new LoadError(`ELF${bits} machine ${name} is not supported: e_machine must be ${bits === 32 ? 'EM_386 (3)' : 'EM_X86_64 (62)'}`);
  }
  const entry = bits === 32 ? r.u32(24) : r.addr64(24, 'entry point');
  const a = bits === 32 ? 28 : 32;
  const phoff = r.word(a, 'e_phoff');
  const shoff = r.word(a + (bits === 32 ? 4 : 8), 'e_shoff');
  const b = bits === 32 ? 42 : 54;
  const phentsize = r.u16(b);
  const phnum = r.u16(b + 2);
  const shentsize = r.u16(b + 4);
  const shnum = r.u16(b + 6);
  const phwant = bits === 32 ? 32 : 56;
  if (phnum === 0) throw new LoadError('ELF file has no program headers (e_phnum = 0): nothing to load');
  if (phentsize !== phwant) throw new LoadError(`ELF${bits} e_phentsize is ${phentsize}, expected ${phwant}`);
  if (phoff + phnum * phentsize > bytes.length) {
    throw new LoadError(`program header table (${phnum} entries at offset ${hex(phoff)}) extends beyond the end of the file (${bytes.length} bytes)`);
  }
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (r.u32(o) !== PT_LOAD) continue;
    let s: ElfSegment;
    if (bits === 32) {
      s = { index: i, offset: r.u32(o + 4), vaddr: r.u32(o + 8), paddr: r.u32(o + 12), filesz: r.u32(o + 16), memsz: r.u32(o + 20), flags: r.u32(o + 24) };
    } else {
      s = {
        index: i, flags: r.u32(o + 4), offset: r.u64(o + 8, 'p_offset'), vaddr: r.addr64(o + 16, 'p_vaddr'),
        paddr: r.u64(o + 24, 'p_paddr'), filesz: r.u64(o + 32, 'p_filesz'), memsz: r.u64(o + 40, 'p_memsz'),
      };
    }
    if (s.offset + s.filesz > bytes.length) {
      throw new LoadError(
        `segment ${i} (PT_LOAD, ${s.filesz} bytes at file offset ${hex(s.offset)}) extends beyond the end of the file (${bytes.length} bytes)`,
      );
    }
    if (s.filesz > s.memsz) throw new LoadError(`segment ${i} (PT_LOAD) has p_filesz ${hex(s.filesz)} larger than p_memsz ${hex(s.memsz)}`);
    if (s.memsz > 0) segments.push(s);
  }
  if (segments.length === 0) throw new LoadError('ELF file has no PT_LOAD segment: nothing to load');
  const sorted = [...segments].sort((x, y) => x.paddr - y.paddr);
  for (let k = 1; k < sorted.length; k++) {
    const p = sorted[k - 1], q = sorted[k];
    if (q.paddr < p.paddr + p.memsz) {
      throw new LoadError(
        `segments ${p.index} (${hex(p.paddr)}-${hex(p.paddr + p.memsz - 1)}) and ${q.index} (${hex(q.paddr)}-${hex(q.paddr + q.memsz - 1)}) overlap at physical ${hex(q.paddr)}`,
      );
    }
  }
  const symbols = shnum > 0 && shoff !== 0 ? readSymbols(r, shoff, shentsize, shnum) : [];
  return { bits, machine, entry, segments, symbols };
}

function readSymbols(r: Reader, shoff: number, shentsize: number, shnum: number): ElfImage['symbols'] {
  const bits = r.bits;
  const want = bits === 32 ? 40 : 64;
  if (shentsize !== want) throw new LoadError(`ELF${bits} e_shentsize is ${shentsize}, expected ${want}`);
  const len = r.bytes.length;
  if (shoff + shnum * shentsize > len) {
    throw new LoadError(`section header table (${shnum} entries at offset ${hex(shoff)}) extends beyond the end of the file (${len} bytes)`);
  }
  const sect = (i: number) => {
    const o = shoff + i * shentsize;
    return bits === 32
      ? { type: r.u32(o + 4), offset: r.u32(o + 16), size: r.u32(o + 20), link: r.u32(o + 24), entsize: r.u32(o + 36) }
      : { type: r.u32(o + 4), offset: r.u64(o + 24, 'sh_offset'), size: r.u64(o + 32, 'sh_size'), link: r.u32(o + 40), entsize: r.u64(o + 56, 'sh_entsize') };
  };
  const out: ElfImage['symbols'] = [];
  for (let i = 0; i < shnum; i++) {
    const s = sect(i);
    if (s.type !== SHT_SYMTAB) continue;
    if (s.offset + s.size > len) throw new LoadError(`symbol table (section ${i}) extends beyond the end of the file`);
    if (s.link >= shnum) throw new LoadError(`symbol table (section ${i}) names string table section ${s.link}, which does not exist`);
    const str = sect(s.link);
    if (str.offset + str.size > len) throw new LoadError(`string table (section ${s.link}) extends beyond the end of the file`);
    const esz = bits === 32 ? 16 : 24;
    for (let o = s.offset + esz; o + esz <= s.offset + s.size; o += esz) {
      const nameOff = r.u32(o);
      let value: number, size: number, info: number, shndx: number;
      if (bits === 32) {
        value = r.u32(o + 4); size = r.u32(o + 8); info = r.u8(o + 12); shndx = r.u16(o + 14);
      } else {
        info = r.u8(o + 4); shndx = r.u16(o + 6); value = r.addr64(o + 8, 'st_value'); size = r.u64(o + 16, 'st_size');
      }
      const stype = info & 0xf;
      // Keep named functions, objects and untyped labels defined in some section (not SECTION/FILE).
      if (shndx === 0 || stype > 2 || nameOff === 0 || nameOff >= str.size) continue;
      let e = str.offset + nameOff;
      while (e < str.offset + str.size && r.bytes[e] !== 0) e++;
      const name = new TextDecoder().decode(r.bytes.subarray(str.offset + nameOff, e));
      out.push({ name, address: value, size });
    }
  }
  out.sort((x, y) => x.address - y.address || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return out;
}

/** One section header (System V gABI "Sections"), with its name from the section-name string table. */
export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

/** The identification and section headers of an ELF file of any type (the debugger reads its sections). */
export interface ElfSections {
  bits: 32 | 64;
  /** e_type: 1 ET_REL, 2 ET_EXEC, 3 ET_DYN, ... */
  type: number;
  machine: number;
  sections: ElfSection[];
}

export const SHT_NOBITS = 8;

/**
 * Read the section header table of a little-endian ELF32/ELF64 file, with section names
 * (gABI: e_shstrndx; extended numbering when e_shnum = 0 or e_shstrndx = SHN_XINDEX reads
 * the real values from section 0). Nothing is validated beyond what reading needs: a file
 * without section headers gives an empty list; a table or name table outside the file is a
 * LoadError.
 */
export function readElfSections(bytes: Uint8Array): ElfSections {
  if (!isElf(bytes)) throw new LoadError('not an ELF file (no \\x7fELF magic)');
  const cls = bytes[4];
  if (cls !== 1 && cls !== 2) throw new LoadError(`unsupported ELF class ${cls} (EI_CLASS must be 1 for ELF32 or 2 for ELF64)`);
  if (bytes[5] !== 1) throw new LoadError(`ELF data encoding ${bytes[5]} is not little-endian (EI_DATA must be 1)`);
  const bits = cls === 1 ? 32 : 64;
  const ehsize = bits === 32 ? 52 : 64;
  if (bytes.length < ehsize) throw new LoadError(`truncated ELF${bits} header: the file has ${bytes.length} bytes, the header needs ${ehsize}`);
  const r = new Reader(bytes, bits);
  const type = r.u16(16);
  const machine = r.u16(18);
  const shoff = r.word(bits === 32 ? 32 : 40, 'e_shoff');
  const b = bits === 32 ? 46 : 58;
  const shentsize = r.u16(b);
  let shnum = r.u16(b + 2);
  let shstrndx = r.u16(b + 4);
  if (shoff === 0) return { bits, type, machine, sections: [] };
  const want = bits === 32 ? 40 : 64;
  if (shentsize !== want) throw new LoadError(`ELF${bits} e_shentsize is ${shentsize}, expected ${want}`);
  const header = (i: number): Omit<ElfSection, 'name'> & { nameOff: number } => {
    const o = shoff + i * shentsize;
    if (o + shentsize > bytes.length) throw new LoadError(`section header ${i} at offset ${hex(o)} extends beyond the end of the file (${bytes.length} bytes)`);
    return bits === 32
      ? { index: i, nameOff: r.u32(o), type: r.u32(o + 4), flags: r.u32(o + 8), addr: r.u32(o + 12), offset: r.u32(o + 16), size: r.u32(o + 20), link: r.u32(o + 24), info: r.u32(o + 28), entsize: r.u32(o + 36) }
      : {
        index: i, nameOff: r.u32(o), type: r.u32(o + 4), flags: r.u64(o + 8, 'sh_flags'), addr: r.addr64(o + 16, 'sh_addr'), offset: r.u64(o + 24, 'sh_offset'),
        size: r.u64(o + 32, 'sh_size'), link: r.u32(o + 40), info: r.u32(o + 44), entsize: r.u64(o + 56, 'sh_entsize'),
      };
  };
  if (shnum === 0 || shstrndx === 0xffff) {
    const zero = header(0);
    if (shnum === 0) shnum = zero.size;
    if (shstrndx === 0xffff) shstrndx = zero.link;
  }
  if (shoff + shnum * shentsize > bytes.length) {
    throw new LoadError(`section header table (${shnum} entries at offset ${hex(shoff)}) extends beyond the end of the file (${bytes.length} bytes)`);
  }
  const raw = Array.from({ length: shnum }, (_, i) => header(i));
  const names = shstrndx < shnum && raw[shstrndx].type !== SHT_NOBITS ? raw[shstrndx] : undefined;
  if (names && names.offset + names.size > bytes.length) throw new LoadError(`section name table (section ${shstrndx}) extends beyond the end of the file`);
  const decoder = new TextDecoder();
  const sections = raw.map(({ nameOff, ...s }) => {
    let name = '';
    if (names && nameOff < names.size) {
      const start = names.offset + nameOff;
      let e = start;
      while (e < names.offset + names.size && bytes[e] !== 0) e++;
      name = decoder.decode(bytes.subarray(start, e));
    }
    return { ...s, name };
  });
  return { bits, type, machine, sections };
}

/** The bytes of a section (empty for SHT_NOBITS); a LoadError when they lie outside the file. */
export function elfSectionBytes(bytes: Uint8Array, s: ElfSection): Uint8Array {
  if (s.type === SHT_NOBITS) return new Uint8Array(0);
  if (s.offset + s.size > bytes.length) throw new LoadError(`section ${s.index} (${s.name || 'unnamed'}) extends beyond the end of the file (${bytes.length} bytes)`);
  return bytes.subarray(s.offset, s.offset + s.size);
}

/** Check that [start, start+length) is plain guest RAM (no device region). */
export function checkRam(mem: PhysicalMemory, start: number, length: number, what: string): void {
  if (length === 0) return;
  if (start < 0 || start + length > mem.guestRamSize) {
    throw new LoadError(`${what} (${hex(start)}-${hex(start + length - 1)}) is outside guest RAM (${hex(mem.guestRamSize)} bytes)`);
  }
  for (let a = start - (start % 4096); a < start + length; a += 4096) {
    const dev = mem.mmioAt(a);
    if (dev !== null) throw new LoadError(`${what} (${hex(start)}-${hex(start + length - 1)}) overlaps the ${dev.name} device region at ${hex(dev.start)}`);
  }
}

/** Copy `bytes` then `zeros` zero bytes at `addr` (the checks are the caller's). */
export function loadWithZeros(mem: PhysicalMemory, addr: number, bytes: Uint8Array, zeros: number): void {
  mem.load(addr, bytes);
  let a = addr + bytes.length;
  const end = a + zeros;
  const chunk = new Uint8Array(Math.min(zeros, 65536));
  while (a < end) {
    const n = Math.min(chunk.length, end - a);
    mem.load(a, chunk.subarray(0, n));
    a += n;
  }
}

/** Load every PT_LOAD segment at its physical address; returns the highest end address. */
export function loadElfSegments(mem: PhysicalMemory, bytes: Uint8Array, elf: ElfImage): { end: number; ranges: Array<[number, number]> } {
  for (const s of elf.segments) checkRam(mem, s.paddr, s.memsz, `segment ${s.index} (PT_LOAD)`);
  let end = 0;
  const ranges: Array<[number, number]> = [];
  for (const s of elf.segments) {
    loadWithZeros(mem, s.paddr, bytes.subarray(s.offset, s.offset + s.filesz), s.memsz - s.filesz);
    end = Math.max(end, s.paddr + s.memsz);
    ranges.push([s.paddr, s.paddr + s.memsz]);
  }
  return { end, ranges };
}

/**
 * The entry point as a physical address: e_entry, or when it lies inside a segment whose
 * virtual and physical addresses differ (a higher-half kernel), its physical counterpart.
 */
export function physicalEntry(elf: ElfImage): number {
  for (const s of elf.segments) {
    if (s.vaddr !== s.paddr && elf.entry >= s.vaddr && elf.entry < s.vaddr + s.memsz) return s.paddr + (elf.entry - s.vaddr);
  }
  return elf.entry;
}
