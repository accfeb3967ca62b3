/**
 * Flat binaries: the bytes are copied to one address and executed from `entry`.
 * - real mode: CS:IP = 0:entry (as the seed hypervisor's real-mode start), or
 *   (entry >> 4):(entry & 0xf) above 64 KiB; SP = 0x7c00 unless given; no GDT is written.
 * - protected, compat and long mode: flat segments from a GDT the loader writes into its boot
 *   area (layout.ts); long and compat mode also get identity page tables (CR3).
 *   RSP defaults to the top of RAM (capped at 4 GiB outside 64-bit mode), 16-byte aligned.
 */
import type { PhysicalMemory } from '../../x86/physicalMemory';
import type { BootPlan, LoadOptions } from './bootPlan';
import { LoadError, hex } from './errors';
import { checkRam } from './elf';
import { ATTR_CODE32, ATTR_CODE64, ATTR_DATA32, GDT_LONG, GDT_PROTECTED, flat, placeBootArea, writeGdt, writeIdentityMap } from './layout';

export const REAL_MODE_LOAD = 0x7c00;
export const DEFAULT_LOAD = 0x1000;
const TWO32 = 2 ** 32;

export function loadFlat(mem: PhysicalMemory, bytes: Uint8Array, options: LoadOptions): BootPlan {
  const mode = options.mode ?? 'long';
  const load = options.loadAddress ?? (mode === 'real' ? REAL_MODE_LOAD : DEFAULT_LOAD);
  const entry = options.entry ?? load;
  checkRam(mem, load, bytes.length, `the image (${bytes.length} bytes at ${hex(load)})`);
  if (entry < 0 || entry >= mem.guestRamSize) throw new LoadError(`entry point ${hex(entry)} is outside guest RAM (${hex(mem.guestRamSize)} bytes)`);
  if (mode === 'real' && entry >= 0x100000) throw new LoadError(`entry point ${hex(entry)} is beyond the 1 MiB a real-mode CS:IP can reach`);
  if ((mode === 'protected' || mode === 'compat') && entry >= TWO32) throw new LoadError(`entry point ${hex(entry)} is beyond the 4 GiB a 32-bit EIP can reach`);
  mem.load(load, bytes);
  const notes = [`flat image: ${bytes.length} bytes at ${hex(load)}, ${mode} mode`];
  if (mode === 'real') {
    const sp = options.stack ?? REAL_MODE_LOAD;
    if (sp > 0xffff) throw new LoadError(`stack ${hex(sp)} does not fit the real-mode SP`);
    return { format: 'flat', mode, entry, regs: { rsp: BigInt(sp) }, rflags: 0x2, symbols: [], notes };
  }
  const long = mode !== 'protected';
  const area = placeBootArea(mem, [[load, load + bytes.length]], long);
  const gdt = writeGdt(mem, area, long ? GDT_LONG : GDT_PROTECTED);
  const cr3 = long ? writeIdentityMap(mem, area) : undefined;
  const top = mode === 'long' ? mem.guestRamSize : Math.min(mem.guestRamSize, TWO32);
  let sp = options.stack ?? top - (top % 16);
  if (mode !== 'long' && sp >= TWO32) {
    if (sp > TWO32) throw new LoadError(`stack ${hex(sp)} does not fit a 32-bit ESP`);
    sp = 0; // ESP = 0 is the top of a 4 GiB stack (the first push wraps to 0xfffffffc).
  }
  notes.push(`GDT at ${hex(gdt.base)}${cr3 !== undefined ? `, identity page tables at ${hex(cr3)}` : ''}`);
  const cs = mode === 'long' ? flat(0x08, ATTR_CODE64) : mode === 'compat' ? flat(0x18, ATTR_CODE32) : flat(0x08, ATTR_CODE32);
  return {
    format: 'flat', mode, entry, regs: { rsp: BigInt(sp) }, cr3, gdt,
    segments: { cs, ds: flat(0x10, ATTR_DATA32) }, rflags: 0x2, symbols: [], notes,
  };
}
