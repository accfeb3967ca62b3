/**
 * Loaders: put a guest image into guest-physical memory and say how the processor starts.
 *   detectFormat(bytes)          'multiboot' | 'elf' | 'flat'
 *   loadImage(mem, bytes, opts)  fills memory, returns a BootPlan (throws LoadError for bad files)
 *   applyBootPlan(cpu, plan)     sets the processor's start state from the plan
 * Formats: flat.ts, elf.ts + elfBoot.ts (ELF32 protected mode, ELF64 long-mode convenience
 * boot), multiboot.ts (Multiboot 1). The boot area (GDT, info, page tables, stack) is layout.ts.
 */
import type { Cpu } from '../../x86/cpu';
import { setSegmentCache } from '../../x86/descriptors';
import { CR0_ET, CR0_NE, CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME } from '../../x86/modes';
import type { PhysicalMemory } from '../../x86/physicalMemory';
import { Seg } from '../../x86/registers';
import type { BootPlan, ImageFormat, LoadOptions } from './bootPlan';
import { elfClass, isElf } from './elf';
import { loadElf } from './elfBoot';
import { LoadError } from './errors';
import { loadFlat } from './flat';
import { MB_AOUT_KLUDGE, findMultibootHeader, loadMultiboot } from './multiboot';

export type { BootPlan, ImageFormat, LoadOptions, SegmentStart } from './bootPlan';
export { LoadError } from './errors';
export { MULTIBOOT_BOOTLOADER_MAGIC, memoryMap } from './multiboot';

/**
 * The image's format: 'multiboot' when a valid Multiboot header is in the first 8192 bytes
 * (unless the file is an ELF64 without the a.out kludge, which Multiboot 1 cannot boot),
 * 'elf' for other ELF files, else 'flat'.
 */
export function detectFormat(bytes: Uint8Array): ImageFormat {
  let mb = null;
  try {
    mb = findMultibootHeader(bytes);
  } catch {
    mb = null;
  }
  if (mb !== null && !(elfClass(bytes) === 2 && (mb.flags & MB_AOUT_KLUDGE) === 0)) return 'multiboot';
  if (isElf(bytes)) return 'elf';
  return 'flat';
}

/** Load `bytes` into `mem` as `options.format` says (auto: detectFormat). */
export function loadImage(mem: PhysicalMemory, bytes: Uint8Array, options: LoadOptions): BootPlan {
  const format = options.format === 'auto' ? detectFormat(bytes) : options.format;
  try {
    if (format === 'multiboot') return loadMultiboot(mem, bytes, options);
    if (format === 'elf') return loadElf(mem, bytes, options);
    if (format === 'flat') return loadFlat(mem, bytes, options);
  } catch (e) {
    if (e instanceof LoadError && options.name !== undefined) throw new LoadError(`${options.name}: ${e.message}`);
    throw e;
  }
  throw new LoadError(`unknown image format '${String(format)}'`);
}

const REG_INDEX: Record<string, number> = {
  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
};

const DATA16 = 0x93;
const CODE16 = 0x9b;
/** TR: selector 0, base 0, limit 0xffff, present busy TSS (SDM vol. 3A table 9-1 gives base 0 / limit 0xffff; type 11 is what VM entry requires). */
const TR_ATTR = 0x8b;
const LDTR_UNUSABLE = 0x10000;

/**
 * Set the processor's start state: control registers, GDTR (IDTR is the reset value, base 0
 * limit 0x3ff), segment registers consistent with the GDT in guest memory, general registers
 * (zero unless the plan names them), RFLAGS and RIP. CPL 0, not halted.
 */
export function applyBootPlan(cpu: Cpu, plan: BootPlan): void {
  const multibootLike = plan.format !== 'flat';
  cpu.cpl = 0;
  cpu.halted = false;
  cpu.eventPending = false;
  cpu.interruptShadow = false;
  cpu.idtrBaseLo = 0;
  cpu.idtrBaseHi = 0;
  cpu.idtrLimit = 0x3ff;
  cpu.cr2Lo = 0;
  cpu.cr2Hi = 0;
  for (let i = 0; i < 16; i++) {
    cpu.lo[i] = 0;
    cpu.hi[i] = 0;
  }
  for (const [name, v] of Object.entries(plan.regs)) {
    const i = REG_INDEX[name];
    if (i === undefined) throw new Error(`boot plan names unknown register '${name}'`);
    if (v !== undefined) cpu.setReg64(i, v);
  }
  setSegmentCache(cpu, Seg.LDTR, 0, 0, 0xffff, LDTR_UNUSABLE);
  setSegmentCache(cpu, Seg.TR, 0, 0, 0xffff, TR_ATTR);
  if (plan.mode === 'real') {
    cpu.cr0 = 0x60000010;
    cpu.cr4 = 0;
    cpu.efer = 0;
    cpu.cr3Lo = 0;
    cpu.cr3Hi = 0;
    cpu.protectedMode = false;
    cpu.longMode = false;
    cpu.gdtrBaseLo = 0;
    cpu.gdtrBaseHi = 0;
    cpu.gdtrLimit = 0xffff;
    for (const s of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) setSegmentCache(cpu, s, 0, 0, 0xffff, DATA16);
    // CS:IP = 0:entry as a VMX real-mode start does; above 64 KiB the segment takes the rest.
    const sel = plan.entry < 0x10000 ? 0 : plan.entry >>> 4;
    setSegmentCache(cpu, Seg.CS, sel, sel << 4, 0xffff, CODE16);
    cpu.setRip(plan.entry - (sel << 4));
    cpu.lo[4] &= 0xffff;
    cpu.hi[4] = 0;
  } else {
    if (plan.gdt === undefined || plan.segments === undefined) throw new Error(`a ${plan.mode}-mode boot plan needs a GDT and segments`);
    const long = plan.mode === 'long' || plan.mode === 'compat';
    let cr0 = CR0_PE | CR0_ET | (multibootLike ? 0 : CR0_NE);
    if (long) cr0 |= CR0_PG;
    cpu.cr0 = cr0 >>> 0;
    cpu.cr4 = long ? CR4_PAE : 0;
    cpu.efer = long ? EFER_LME | EFER_LMA : 0;
    cpu.cr3Lo = plan.cr3 ?? 0;
    cpu.cr3Hi = 0;
    cpu.protectedMode = true;
    cpu.longMode = long;
    cpu.gdtrBaseLo = plan.gdt.base | 0;
    cpu.gdtrBaseHi = Math.floor(plan.gdt.base / 2 ** 32) | 0;
    cpu.gdtrLimit = plan.gdt.limit;
    const d = plan.segments.ds;
    for (const s of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) setSegmentCache(cpu, s, d.selector, d.base, d.limit, d.attr);
    const c = plan.segments.cs;
    setSegmentCache(cpu, Seg.CS, c.selector, c.base, c.limit, c.attr);
    cpu.setRip(plan.entry);
  }
  cpu.setRflags(plan.rflags ?? 0x2);
  cpu.flushTlb();
  cpu.flushCode();
}
