/**
 * Booting a plain ELF executable (no Multiboot header):
 * - ELF32 (EM_386): 32-bit protected mode at the entry point with flat segments from the
 *   loader's GDT (0x08 code, 0x10 data), paging off — the Multiboot machine state without the
 *   EAX/EBX handshake.
 * - ELF64 (EM_X86_64), the 64-bit convenience boot: the loader identity-maps max(4 GiB, RAM)
 *   with 2 MiB pages, writes a GDT (0x08 64-bit code, 0x10 data, 0x18 32-bit code) and starts
 *   in 64-bit mode at the entry point with CR0.PG/PE, CR4.PAE, EFER.LME/LMA set. RSP is the top
 *   of the boot area (layout.ts: 0x80000 + area size, normally 0x8e000), 16-byte aligned.
 */
import type { PhysicalMemory } from '../../x86/physicalMemory';
import type { BootPlan, LoadOptions } from './bootPlan';
import { LoadError, hex } from './errors';
import { loadElfSegments, parseElf, physicalEntry } from './elf';
import { ATTR_CODE32, ATTR_CODE64, ATTR_DATA32, GDT_LONG, GDT_PROTECTED, flat, placeBootArea, writeGdt, writeIdentityMap } from './layout';

export function loadElf(mem: PhysicalMemory, bytes: Uint8Array, options: LoadOptions): BootPlan {
  const elf = parseElf(bytes);
  const long = elf.bits === 64;
  const { ranges } = loadElfSegments(mem, bytes, elf);
  const entry = options.entry ?? (long ? elf.entry : physicalEntry(elf));
  if (entry < 0 || entry >= mem.guestRamSize) {
    // The 64-bit boot maps linear = physical, so a higher-half entry point (negative: the value
    // read as signed, elf.ts) cannot run: the kernel's first code must be at a physical address.
    throw new LoadError(`ELF entry point 0x${BigInt.asUintN(64, BigInt(entry)).toString(16)} is outside guest RAM (${hex(mem.guestRamSize)} bytes)${long ? '; the 64-bit boot identity-maps RAM, so the entry must be a physical address' : ''}`);
  }
  const area = placeBootArea(mem, ranges, long);
  const gdt = writeGdt(mem, area, long ? GDT_LONG : GDT_PROTECTED);
  const cr3 = long ? writeIdentityMap(mem, area) : undefined;
  const notes = elf.segments.map((s) => `segment ${s.index}: ${hex(s.paddr)}-${hex(s.paddr + s.memsz)} (${s.filesz} bytes from the file)`);
  notes.push(`GDT at ${hex(gdt.base)}${cr3 !== undefined ? `, identity page tables at ${hex(cr3)}` : ''}, stack top ${hex(area.stackTop)}`);
  return {
    format: 'elf',
    mode: long ? 'long' : 'protected',
    entry,
    regs: { rsp: BigInt(options.stack ?? area.stackTop) },
    cr3,
    gdt,
    segments: { cs: long ? flat(0x08, ATTR_CODE64) : flat(0x08, ATTR_CODE32), ds: flat(0x10, ATTR_DATA32) },
    rflags: 0x2,
    symbols: elf.symbols,
    notes,
  };
}
