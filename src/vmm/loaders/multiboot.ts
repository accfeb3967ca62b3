/**
 * Multiboot 1 (Multiboot Specification 0.6.96): the header in the first 8192 bytes, ELF32
 * kernels and the a.out kludge (flag 16), the information structure (§3.3) with memory sizes,
 * a memory map, the command line and the boot loader name, and the machine state of §3.2:
 * EAX = 0x2BADB002, EBX = the information structure, flat 32-bit CS/DS/ES/FS/GS/SS from a GDT
 * in guest memory, CR0.PE = 1, CR0.PG = 0, EFLAGS.VM = 0 and IF = 0, A20 enabled (vtx has no
 * A20 gate: addresses never wrap at 1 MiB).
 */
import type { PhysicalMemory } from '../../x86/physicalMemory';
import type { BootPlan, LoadOptions } from './bootPlan';
import { LoadError, hex } from './errors';
import { checkRam, elfClass, isElf, loadElfSegments, loadWithZeros, parseElf, physicalEntry } from './elf';
import {
  CMDLINE_MAX, CMDLINE_OFFSET, GDT_PROTECTED, MBI_OFFSET, MMAP_OFFSET, NAME_OFFSET, ATTR_CODE32, ATTR_DATA32,
  dwords, flat, placeBootArea, writeGdt,
} from './layout';

export const MULTIBOOT_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
export const MB_PAGE_ALIGN = 1 << 0;
export const MB_MEMORY_INFO = 1 << 1;
export const MB_VIDEO_MODE = 1 << 2;
export const MB_AOUT_KLUDGE = 1 << 16;
/** Required-feature bits (0-15) vtx can honour: module alignment (no modules) and memory information. */
const SUPPORTED_REQUIRED = MB_PAGE_ALIGN | MB_MEMORY_INFO;

/** Information-structure flags vtx fills in (§3.3). */
export const MBI_MEM = 1 << 0;
export const MBI_CMDLINE = 1 << 2;
export const MBI_MMAP = 1 << 6;
export const MBI_LOADER_NAME = 1 << 9;
export const MBI_SIZE = 116;

export interface MultibootHeader {
  /** File offset of the header. */
  offset: number;
  flags: number;
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

/** Find the Multiboot header (magic, flags, checksum summing to 0) in the first 8192 bytes, 4-byte aligned. */
export function findMultibootHeader(bytes: Uint8Array): MultibootHeader | null {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = Math.min(8192, bytes.length) - 12;
  for (let o = 0; o <= limit; o += 4) {
    if (v.getUint32(o, true) !== MULTIBOOT_MAGIC) continue;
    const flags = v.getUint32(o + 4, true);
    const sum = (MULTIBOOT_MAGIC + flags + v.getUint32(o + 8, true)) >>> 0;
    if (sum !== 0) continue;
    const h: MultibootHeader = { offset: o, flags, headerAddr: 0, loadAddr: 0, loadEndAddr: 0, bssEndAddr: 0, entryAddr: 0 };
    if (flags & MB_AOUT_KLUDGE) {
      if (o + 32 > bytes.length) throw new LoadError(`truncated Multiboot header at offset ${hex(o)}: the a.out kludge (flag 16) needs 32 bytes`);
      h.headerAddr = v.getUint32(o + 12, true);
      h.loadAddr = v.getUint32(o + 16, true);
      h.loadEndAddr = v.getUint32(o + 20, true);
      h.bssEndAddr = v.getUint32(o + 24, true);
      h.entryAddr = v.getUint32(o + 28, true);
    }
    return h;
  }
  return null;
}

/** Load a Multiboot kernel and build its information structure. */
export function loadMultiboot(mem: PhysicalMemory, bytes: Uint8Array, options: LoadOptions): BootPlan {
  const h = findMultibootHeader(bytes);
  if (h === null) throw new LoadError('no Multiboot header (magic 0x1BADB002 with a valid checksum, 4-byte aligned) in the first 8192 bytes');
  const unsupported = h.flags & 0xffff & ~SUPPORTED_REQUIRED;
  if (unsupported) {
    const what = unsupported & MB_VIDEO_MODE ? ' (bit 2: video mode information; vtx has no display)' : '';
    throw new LoadError(`Multiboot header requires features vtx does not provide: flags ${hex(unsupported)}${what}`);
  }
  const notes: string[] = [];
  let ranges: Array<[number, number]>;
  let entry: number;
  let symbols: BootPlan['symbols'] = [];
  if (h.flags & MB_AOUT_KLUDGE) {
    if (h.headerAddr < h.loadAddr) throw new LoadError(`Multiboot header_addr ${hex(h.headerAddr)} is below load_addr ${hex(h.loadAddr)}`);
    const start = h.offset - (h.headerAddr - h.loadAddr);
    if (start < 0) throw new LoadError(`Multiboot load_addr ${hex(h.loadAddr)} lies before the start of the file (header_addr ${hex(h.headerAddr)} at offset ${hex(h.offset)})`);
    const loadEnd = h.loadEndAddr === 0 ? h.loadAddr + (bytes.length - start) : h.loadEndAddr;
    if (loadEnd < h.loadAddr) throw new LoadError(`Multiboot load_end_addr ${hex(loadEnd)} is below load_addr ${hex(h.loadAddr)}`);
    if (start + (loadEnd - h.loadAddr) > bytes.length) {
      throw new LoadError(`Multiboot load range ${hex(h.loadAddr)}-${hex(loadEnd)} extends beyond the end of the file (${bytes.length} bytes)`);
    }
    const bssEnd = h.bssEndAddr === 0 ? loadEnd : h.bssEndAddr;
    if (bssEnd < loadEnd) throw new LoadError(`Multiboot bss_end_addr ${hex(bssEnd)} is below load_end_addr ${hex(loadEnd)}`);
    checkRam(mem, h.loadAddr, bssEnd - h.loadAddr, 'Multiboot kernel image');
    loadWithZeros(mem, h.loadAddr, bytes.subarray(start, start + (loadEnd - h.loadAddr)), bssEnd - loadEnd);
    ranges = [[h.loadAddr, bssEnd]];
    entry = h.entryAddr;
    notes.push(`multiboot a.out kludge: ${hex(h.loadAddr)}-${hex(loadEnd)} from file offset ${hex(start)}, bss to ${hex(bssEnd)}`);
    if (isElf(bytes)) {
      try { symbols = parseElf(bytes).symbols; } catch { /* the kludge does not need the ELF headers */ }
    }
  } else {
    if (!isElf(bytes)) throw new LoadError('Multiboot kernel is not ELF and its header does not set flag 16 (the a.out kludge addresses)');
    if (elfClass(bytes) === 2) throw new LoadError('Multiboot 1 cannot boot an ELF64 kernel without the a.out kludge (flag 16); use an ELF32 kernel');
    const elf = parseElf(bytes);
    const loaded = loadElfSegments(mem, bytes, elf);
    ranges = loaded.ranges;
    entry = physicalEntry(elf);
    symbols = elf.symbols;
    for (const s of elf.segments) notes.push(`segment ${s.index}: ${hex(s.paddr)}-${hex(s.paddr + s.memsz)} (${s.filesz} bytes from the file)`);
  }
  if (options.entry !== undefined) entry = options.entry;
  checkRam(mem, entry, 1, 'Multiboot entry point');

  const area = placeBootArea(mem, ranges, false);
  const gdt = writeGdt(mem, area, GDT_PROTECTED);
  const info = area.base + MBI_OFFSET;
  const cmdline = options.cmdline ?? options.name ?? '';
  const cmd = new TextEncoder().encode(cmdline);
  if (cmd.length > CMDLINE_MAX) throw new LoadError(`the command line is ${cmd.length} bytes; at most ${CMDLINE_MAX} fit`);
  mem.load(area.base + CMDLINE_OFFSET, new Uint8Array([...cmd, 0]));
  mem.load(area.base + NAME_OFFSET, new Uint8Array([0x76, 0x74, 0x78, 0]));
  const mmap = memoryMap(mem.guestRamSize);
  const mmapBytes = new Uint8Array(mmap.length * 24);
  const mv = new DataView(mmapBytes.buffer);
  mmap.forEach((e, i) => {
    const o = i * 24;
    mv.setUint32(o, 20, true);
    mv.setBigUint64(o + 4, BigInt(e.base), true);
    mv.setBigUint64(o + 12, BigInt(e.length), true);
    mv.setUint32(o + 20, e.type, true);
  });
  mem.load(area.base + MMAP_OFFSET, mmapBytes);
  const memLower = Math.min(mem.guestRamSize, 0xa0000) >>> 10;
  const memUpper = mem.guestRamSize > 0x100000 ? Math.floor((Math.min(mem.guestRamSize, 2 ** 32) - 0x100000) / 1024) : 0;
  const mbi = new Array<number>(MBI_SIZE / 4).fill(0);
  mbi[0] = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;
  mbi[1] = memLower;
  mbi[2] = memUpper;
  mbi[4] = area.base + CMDLINE_OFFSET;
  mbi[11] = mmapBytes.length;
  mbi[12] = area.base + MMAP_OFFSET;
  mbi[16] = area.base + NAME_OFFSET;
  mem.load(info, dwords(mbi));
  notes.push(`multiboot info at ${hex(info)}, GDT at ${hex(gdt.base)}, stack top ${hex(area.stackTop)}`);

  return {
    format: 'multiboot',
    mode: 'protected',
    entry,
    regs: {
      rax: BigInt(MULTIBOOT_BOOTLOADER_MAGIC),
      rbx: BigInt(info),
      rsp: BigInt(options.stack ?? area.stackTop),
    },
    gdt,
    segments: { cs: flat(0x08, ATTR_CODE32), ds: flat(0x10, ATTR_DATA32) },
    rflags: 0x2,
    symbols,
    notes,
    multibootInfo: info,
  };
}

/** Memory map entries (§3.3 "mmap"): type 1 = available RAM, 2 = reserved. */
export function memoryMap(size: number): Array<{ base: number; length: number; type: number }> {
  const out: Array<{ base: number; length: number; type: number }> = [];
  out.push({ base: 0, length: Math.min(size, 0xa0000), type: 1 });
  // The legacy hole: VGA memory, option ROMs and the BIOS area.
  out.push({ base: 0xa0000, length: 0x60000, type: 2 });
  if (size > 0x100000) out.push({ base: 0x100000, length: size - 0x100000, type: 1 });
  // The local APIC page (and the I/O APIC range) when RAM lies below it.
  if (size <= 0xfec00000) out.push({ base: 0xfec00000, length: 0x1400000, type: 2 });
  return out;
}
