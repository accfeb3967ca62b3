/**
 * Paging (SDM vol. 3A chapter 4): linear → physical translation when CR0.PG = 1.
 *
 * - 32-bit paging (§4.3): CR4.PAE = 0; 4 KiB pages, and 4 MiB pages when CR4.PSE = 1 (PSE-36
 *   high address bits when CPUID.1:EDX.PSE-36[17] is reported).
 * - PAE paging (§4.4): CR4.PAE = 1, IA32_EFER.LMA = 0; the four PDPTEs are processor registers
 *   loaded by MOV to CR3 (and the CR0/CR4 writes of §4.4.1) — `loadPdptes`, `loadCr3`.
 * - 4-level and 5-level paging (§4.5): IA32_EFER.LMA = 1; CR4.LA57 selects 5 levels; 2 MiB and
 *   1 GiB pages.
 *
 * Access rights (§4.6.1) are checked on the whole walk: R/W, U/S, XD (IA32_EFER.NXE), CR0.WP,
 * CR4.SMEP, CR4.SMAP with RFLAGS.AC (implicit supervisor accesses, `Access.System`, are never
 * allowed to user pages under SMAP). Reserved bits (§4.3-4.5, "reserved (must be 0)") fault with
 * the RSVD error-code bit. A #PF (§4.7) is a `PageFault`: vector 14, the exact error code, and
 * the faulting linear address (`linearLo/linearHi`), which is also stored in CR2 when the fault
 * is raised (see `raise`).
 *
 * Accessed and dirty flags (§4.8) are written through `writePhys8` so translated code on a page
 * that also holds page tables stays exact: the accessed flag of each non-leaf entry is set as the
 * walk uses it; the leaf's accessed flag (and its dirty flag for a write) only once the access
 * is known to be allowed — a faulting access leaves the leaf entry untouched.
 *
 * The software TLB (mmu.ts) caches the results of `pagingTranslate` per access kind; every
 * change that affects translation calls `c.flushTlb()`. Invalidating more than asked is always
 * allowed (§4.10.4), so INVLPG and INVPCID flush everything.
 */
import type { Cpu } from './cpu';
import { CpuException, gp0 } from './exceptions';
import { Access } from './mmu';
import { cpuidInto } from './cpuid';

const TWO32 = 4294967296;

export const CR0_WP = 1 << 16;
export const CR0_PG = 1 << 31;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_PGE = 1 << 7;
export const CR4_LA57 = 1 << 12;
export const CR4_PCIDE = 1 << 17;
export const CR4_SMEP = 1 << 20;
export const CR4_SMAP = 1 << 21;
export const EFER_NXE = 1 << 11;
const RFLAGS_AC = 1 << 18;

/** #PF error-code bits (SDM vol. 3A §4.7, figure 4-12). */
export const PF_P = 1;
export const PF_W = 2;
export const PF_U = 4;
export const PF_RSVD = 8;
export const PF_I = 16;

/** A page-fault exception with the linear address that caused it (for CR2, SDM vol. 3A §4.7, §6.15). */
export class PageFault extends CpuException {
  constructor(
    readonly linearLo: number,
    readonly linearHi: number,
    errorCode: number,
    detail: string,
  ) {
    super(14, errorCode, detail);
  }
}

/** Per-processor paging state that is not in CpuState: CPUID-derived limits and the PAE PDPTE registers. */
class PagingState {
  /** MAXPHYADDR (CPUID.80000008H:EAX[7:0], 36 when the leaf is absent; SDM vol. 3A §4.1.4). */
  readonly maxPhy: number;
  /** Mask of the physical-address bits 32..MAXPHYADDR-1 in an entry's high dword. */
  readonly physHiMask: number;
  /** 1-GByte pages (CPUID.80000001H:EDX.Page1GB[26]). */
  readonly page1g: boolean;
  /** PSE-36 (CPUID.01H:EDX.PSE-36[17]): 4 MiB pages above 4 GiB with 32-bit paging. */
  readonly pse36: boolean;
  /** PDPTE registers (PAE paging, §4.4.1). */
  readonly pdpteLo = new Int32Array(4);
  readonly pdpteHi = new Int32Array(4);
  /** The PDPTEs hold the table at this CR3 (valid only while `pdpteValid`). */
  pdpteCr3 = 0;
  pdpteValid = false;

  constructor(c: Cpu) {
    const out = new Int32Array(4);
    cpuidInto(c.cpuid, 0x80000000, 0, out);
    const maxExt = out[0] >>> 0;
    let m = 36;
    let p1g = false;
    if (maxExt >= 0x80000008) {
      cpuidInto(c.cpuid, 0x80000008, 0, out);
      m = out[0] & 0xff || 36;
    }
    if (maxExt >= 0x80000001) {
      cpuidInto(c.cpuid, 0x80000001, 0, out);
      p1g = ((out[3] >>> 26) & 1) === 1;
    }
    cpuidInto(c.cpuid, 1, 0, out);
    this.pse36 = ((out[3] >>> 17) & 1) === 1;
    this.maxPhy = Math.min(Math.max(m, 32), 52);
    this.physHiMask = this.maxPhy === 32 ? 0 : (2 ** (this.maxPhy - 32) - 1) | 0;
    this.page1g = p1g;
  }
}

const states = new WeakMap<Cpu, PagingState>();
// The last processor looked up (the common case is one processor): saves the WeakMap lookup per walk.
let lastCpu: Cpu | null = null;
let lastState: PagingState | null = null;

function stateOf(c: Cpu): PagingState {
  if (c === lastCpu) return lastState!;
  let s = states.get(c);
  if (s === undefined) {
    s = new PagingState(c);
    states.set(c, s);
  }
  lastCpu = c;
  lastState = s;
  return s;
}

/** MAXPHYADDR of this processor's CPUID model. */
export function maxPhysAddr(c: Cpu): number {
  return stateOf(c).maxPhy;
}

// ---- guest-physical accesses in VMX non-root operation (EPT, SDM vol. 3C §28.2) ----------------
// The linear address being translated by the current walk (the EPT-violation qualification and
// guest-linear-address field name it, §27.2.1).
let walkLinLo = 0;
let walkLinHi = 0;
/** The current walk's guest-physical addresses go through EPT (set by pagingTranslate). */
let walkEpt = false;

// ---- inspection probe (the debugger's `translate`: this walk, without side effects) ------------
/** Receives each paging-structure entry a probed walk reads (level 5..1 as in §4.5; PAE PDPTE 3). */
export interface PagingProbe {
  entry(level: number, name: string, phys: number, lo: number, hi: number): void;
}
let probe: PagingProbe | null = null;

/**
 * Translate like `pagingTranslate` for the debugger: the same walk and checks, each entry
 * reported to `p`, no accessed/dirty flag written and CR2 untouched. Throws PageFault (or
 * whatever `c.vmxEpt.translate` throws for a paging-structure access) like the walk.
 */
export function probeTranslate(c: Cpu, lo: number, hi: number, access: Access, p: PagingProbe): number {
  const saved = probe;
  probe = p;
  try {
    return pagingTranslate(c, lo, hi, access);
  } finally {
    probe = saved;
  }
}

/**
 * Host-physical address of guest-physical `gpa` for a paging-structure access of the current
 * walk (`write`: an accessed/dirty update), when `walkEpt`: in non-root operation with EPT on
 * the access goes through EPT and may exit (§28.2.3.2: reads of guest paging structures are
 * data reads, their A/D updates data writes).
 */
function walkAddr(c: Cpu, gpa: number, write: boolean): number {
  return c.vmxEpt!.translate(c, gpa, write ? Access.Write : Access.Read, walkLinLo, walkLinHi, true, true);
}

// ---- reading paging-structure entries (physical, through c.mem: beyond RAM reads all-ones) ----
let entryHi = 0;

/** The 8-byte entry at offset `o` of physical page `ppn` (low dword; high dword in `entryHi`). */
function readEntryAt(c: Cpu, ppn: number, o: number): number {
  if (walkEpt) return readEntry64Host(c, walkAddr(c, ppn * 4096 + o, false));
  const page = c.mem.page(ppn);
  if (page !== null) {
    entryHi = page[o + 4] | (page[o + 5] << 8) | (page[o + 6] << 16) | (page[o + 7] << 24);
    return page[o] | (page[o + 1] << 8) | (page[o + 2] << 16) | (page[o + 3] << 24);
  }
  const phys = ppn * 4096 + o;
  entryHi = c.mem.readIo(phys + 4, 4) | 0;
  return c.mem.readIo(phys, 4) | 0;
}

/** The 8-byte entry at physical `phys`: returns the low dword, the high dword in `entryHi`. */
function readEntry64(c: Cpu, phys: number): number {
  return readEntry64Host(c, walkEpt ? walkAddr(c, phys, false) : phys);
}

/** readEntry64 at a host-physical address (no EPT). */
function readEntry64Host(c: Cpu, phys: number): number {
  const page = c.mem.page(Math.floor(phys / 4096));
  const o = phys % 4096;
  if (page !== null) {
    entryHi = page[o + 4] | (page[o + 5] << 8) | (page[o + 6] << 16) | (page[o + 7] << 24);
    return page[o] | (page[o + 1] << 8) | (page[o + 2] << 16) | (page[o + 3] << 24);
  }
  entryHi = c.mem.readIo(phys + 4, 4) | 0;
  return c.mem.readIo(phys, 4) | 0;
}

function readEntry32(c: Cpu, phys: number): number {
  if (walkEpt) phys = walkAddr(c, phys, false);
  const page = c.mem.page(Math.floor(phys / 4096));
  const o = phys % 4096;
  if (page !== null) return page[o] | (page[o + 1] << 8) | (page[o + 2] << 16) | (page[o + 3] << 24);
  return c.mem.readIo(phys, 4) | 0;
}

/** Set the accessed flag (bit 5) of a non-leaf entry the walk just used (§4.8). */
function setAccessed(c: Cpu, phys: number, eLo: number): void {
  if (probe !== null) return;
  if ((eLo & 0x20) === 0) c.writePhys8(walkEpt ? walkAddr(c, phys, true) : phys, (eLo | 0x20) & 0xff);
}

/** Set the leaf's accessed flag, and its dirty flag (bit 6) for a write (§4.8). */
function setLeafFlags(c: Cpu, phys: number, eLo: number, write: boolean): void {
  if (probe !== null) return;
  const want = write ? 0x60 : 0x20;
  if ((eLo & want) !== want) c.writePhys8(walkEpt ? walkAddr(c, phys, true) : phys, (eLo | want) & 0xff);
}

// ---- faults ------------------------------------------------------------------------------------
/** True for a user-mode access: CPL 3 and not an implicit supervisor access (§4.6). */
function isUser(c: Cpu, access: Access): boolean {
  return c.cpl === 3 && (access & Access.System) === 0;
}

/** The #PF error code (§4.7) for `access`, before the P and RSVD bits. */
function accessBits(c: Cpu, access: Access): number {
  const kind = access & 3;
  let ec = 0;
  if (kind === Access.Write) ec |= PF_W;
  if (isUser(c, access)) ec |= PF_U;
  // I/D: an instruction fetch with SMEP, or with PAE/4-level paging and IA32_EFER.NXE = 1.
  if (kind === Access.Execute && ((c.cr4 & CR4_SMEP) !== 0 || ((c.cr4 & CR4_PAE) !== 0 && (c.efer & EFER_NXE) !== 0))) ec |= PF_I;
  return ec;
}

/**
 * Raise #PF. CR2 is architecturally loaded when the fault is delivered (§4.7, §6.15 "Interrupt
 * 14"); it is also stored here so a run that stops on an undelivered #PF shows it. The delivery
 * code should (re)load CR2 from `linearLo/linearHi` of the PageFault it delivers.
 */
function raise(c: Cpu, lo: number, hi: number, ec: number, why: string): never {
  // In non-root operation CR2 is loaded when the #PF is delivered: one that exits leaves it alone.
  if (!c.nonRoot && probe === null) {
    c.cr2Lo = lo;
    c.cr2Hi = hi;
  }
  throw new PageFault(lo, hi, ec, why);
}

/**
 * Load CR2 from a PageFault (no-op for other exceptions): for code that re-raises a #PF captured
 * earlier (cpu.ts defers the fault of an unfetchable next page until the instruction is reached).
 */
export function loadCr2From(c: Cpu, e: CpuException): void {
  if (e instanceof PageFault) {
    c.cr2Lo = e.linearLo;
    c.cr2Hi = e.linearHi;
  }
}

function notPresent(c: Cpu, lo: number, hi: number, access: Access, level: string): never {
  return raise(c, lo, hi, accessBits(c, access), `${level} not present`);
}

function reserved(c: Cpu, lo: number, hi: number, access: Access, level: string): never {
  return raise(c, lo, hi, accessBits(c, access) | PF_P | PF_RSVD, `reserved bit set in the ${level}`);
}

/**
 * The access-rights check of §4.6.1 on a complete translation: `rw`/`us` are the AND of the R/W
 * and U/S flags of every entry, `xd` the OR of the XD flags (already 0 unless NXE applies).
 */
function checkRights(c: Cpu, lo: number, hi: number, access: Access, rw: number, us: number, xd: number): void {
  const kind = access & 3;
  let why: string | null = null;
  if (isUser(c, access)) {
    if (us === 0) why = 'user-mode access to a supervisor-mode page';
    else if (kind === Access.Write && rw === 0) why = 'user-mode write to a read-only page';
    else if (kind === Access.Execute && xd !== 0) why = 'instruction fetch from an execute-disable page';
  } else if (kind === Access.Execute) {
    if (us !== 0 && (c.cr4 & CR4_SMEP) !== 0) why = 'supervisor-mode fetch from a user-mode page with CR4.SMEP = 1';
    else if (xd !== 0) why = 'instruction fetch from an execute-disable page';
  } else {
    // SMAP: explicit supervisor accesses to user pages need RFLAGS.AC = 1; implicit ones are never allowed.
    if (us !== 0 && (c.cr4 & CR4_SMAP) !== 0 && ((access & Access.System) !== 0 || (c.flagsRest & RFLAGS_AC) === 0)) {
      why = 'supervisor-mode access to a user-mode page with CR4.SMAP = 1';
    } else if (kind === Access.Write && rw === 0 && ((c.cr0 & CR0_WP) !== 0)) {
      why = 'supervisor-mode write to a read-only page with CR0.WP = 1';
    }
  }
  if (why !== null) raise(c, lo, hi, accessBits(c, access) | PF_P, why);
}

// ---- walks -------------------------------------------------------------------------------------
/** Linear → physical for the current paging mode (called by Cpu.translate when CR0.PG = 1). */
export function pagingTranslate(c: Cpu, lo: number, hi: number, access: Access): number {
  walkLinLo = lo;
  walkLinHi = hi;
  walkEpt = c.nonRoot && c.vmxEpt!.active;
  if ((c.cr4 & CR4_PAE) === 0) return walk32(c, lo, access);
  if (c.longMode) return walkLong(c, lo, hi, access);
  return walkPae(c, lo, access);
}

/** 32-bit paging (§4.3). */
function walk32(c: Cpu, lo: number, access: Access): number {
  const st = stateOf(c);
  st.pdpteValid = false;
  const write = (access & 3) === Access.Write;
  const pdeAt = ((c.cr3Lo & 0xfffff000) >>> 0) + (lo >>> 22) * 4;
  const pde = readEntry32(c, pdeAt);
  if (probe !== null) probe.entry(2, 'page-directory entry', pdeAt, pde, 0);
  if ((pde & 1) === 0) notPresent(c, lo, 0, access, 'page-directory entry');
  if ((pde & 0x80) !== 0 && (c.cr4 & CR4_PSE) !== 0) {
    // 4 MiB page: with PSE-36, bits 20:13 give physical bits 39:32 (M = min(40, MAXPHYADDR));
    // bits 21:(M-19) are reserved. Without PSE-36, M = 32 and bits 21:13 are reserved.
    const m = st.pse36 ? Math.min(40, st.maxPhy) : 32;
    const rsvd = (0x3fe000 & ~(((1 << (m - 32)) - 1) << 13)) | 0;
    if ((pde & rsvd) !== 0) reserved(c, lo, 0, access, 'page-directory entry');
    checkRights(c, lo, 0, access, (pde >>> 1) & 1, (pde >>> 2) & 1, 0);
    setLeafFlags(c, pdeAt, pde, write);
    const high = m > 32 ? (pde >>> 13) & ((1 << (m - 32)) - 1) : 0;
    return high * TWO32 + ((pde & 0xffc00000) >>> 0) + (lo & 0x3fffff);
  }
  const pteAt = ((pde & 0xfffff000) >>> 0) + ((lo >>> 12) & 0x3ff) * 4;
  setAccessed(c, pdeAt, pde);
  const pte = readEntry32(c, pteAt);
  if (probe !== null) probe.entry(1, 'page-table entry', pteAt, pte, 0);
  if ((pte & 1) === 0) notPresent(c, lo, 0, access, 'page-table entry');
  checkRights(c, lo, 0, access, (pde >>> 1) & (pte >>> 1) & 1, (pde >>> 2) & (pte >>> 2) & 1, 0);
  setLeafFlags(c, pteAt, pte, write);
  return ((pte & 0xfffff000) >>> 0) + (lo & 0xfff);
}

/** Load the four PDPTEs from the table at `cr3Lo` without checks (lazy load, see loadPdptes). */
function readPdptes(c: Cpu, st: PagingState, cr3Lo: number): boolean {
  let base = (cr3Lo & 0xffffffe0) >>> 0;
  if (c.nonRoot && c.vmxEpt !== null && c.vmxEpt.active) {
    // Guest-physical with EPT: the 32 aligned bytes lie in one page, translated (and possibly
    // exiting) before any PDPTE register changes. Not a linear access, and a read even with EPT
    // accessed/dirty flags enabled (§28.2.3.2).
    base = c.vmxEpt.translate(c, base, Access.Read, 0, 0, false, false);
  }
  let ok = true;
  const rsvdHi = ~st.physHiMask;
  for (let i = 0; i < 4; i++) {
    const eLo = readEntry64Host(c, base + i * 8);
    st.pdpteLo[i] = eLo;
    st.pdpteHi[i] = entryHi;
    // PDPTE reserved bits (§4.4.1, table 4-8): 2:1, 8:5 and 63:MAXPHYADDR.
    if ((eLo & 1) !== 0 && ((eLo & 0x1e6) !== 0 || (entryHi & rsvdHi) !== 0)) ok = false;
  }
  st.pdpteCr3 = cr3Lo;
  st.pdpteValid = true;
  return ok;
}

/**
 * Load the PDPTE registers from the PDPT at `cr3Lo` (SDM vol. 3A §4.4.1): for MOV to CR3 with
 * PAE paging active and for MOV to CR0/CR4 that enables or changes PAE paging (CR0.PG, CR0.CD,
 * CR0.NW, CR4.PAE, CR4.PGE, CR4.PSE, CR4.SMEP). Returns false — and changes nothing — when a
 * present PDPTE has a reserved bit set: the instruction must then raise #GP(0) and leave the
 * control register unchanged.
 */
export function loadPdptes(c: Cpu, cr3Lo: number = c.cr3Lo): boolean {
  const st = stateOf(c);
  const saveLo = st.pdpteLo.slice();
  const saveHi = st.pdpteHi.slice();
  const saveCr3 = st.pdpteCr3;
  const saveValid = st.pdpteValid;
  if (readPdptes(c, st, cr3Lo)) return true;
  st.pdpteLo.set(saveLo);
  st.pdpteHi.set(saveHi);
  st.pdpteCr3 = saveCr3;
  st.pdpteValid = saveValid;
  return false;
}

/**
 * The PDPTE registers, for VM entry and exit with EPT (SDM vol. 3C §26.3.2.4: with "enable EPT"
 * and PAE paging, VM entry loads them from the guest-PDPTE fields; §27.3.4: VM exit saves them).
 * `pdpteRegister` returns entry `i` (low dword; high dword in `pdpteHi`).
 */
export let pdpteHi = 0;
export function pdpteRegister(c: Cpu, i: number): number {
  const st = stateOf(c);
  pdpteHi = st.pdpteHi[i];
  return st.pdpteLo[i];
}

/** Load PDPTE register `i` (all four: for the current CR3, so no lazy re-read replaces them). */
export function setPdpteRegister(c: Cpu, i: number, lo: number, hi: number): void {
  const st = stateOf(c);
  st.pdpteLo[i] = lo | 0;
  st.pdpteHi[i] = hi | 0;
  st.pdpteCr3 = c.cr3Lo;
  st.pdpteValid = true;
}

/** PAE paging (§4.4): PDPTE register, page directory, page table. */
function walkPae(c: Cpu, lo: number, access: Access): number {
  const st = stateOf(c);
  // PDPTEs are loaded by MOV CR3/CR0/CR4 (loadPdptes); when CR3 was set directly (loaders, tests)
  // they are read now.
  if (!st.pdpteValid || st.pdpteCr3 !== c.cr3Lo) readPdptes(c, st, c.cr3Lo);
  const write = (access & 3) === Access.Write;
  const nxe = (c.efer & EFER_NXE) !== 0;
  const i = lo >>> 30;
  const pLo = st.pdpteLo[i];
  const pHi = st.pdpteHi[i];
  if (probe !== null) probe.entry(3, 'PDPTE register', ((st.pdpteCr3 & 0xffffffe0) >>> 0) + i * 8, pLo, pHi);
  if ((pLo & 1) === 0) notPresent(c, lo, 0, access, 'page-directory-pointer-table entry');
  if ((pLo & 0x1e6) !== 0 || (pHi & ~st.physHiMask) !== 0) reserved(c, lo, 0, access, 'page-directory-pointer-table entry');
  // PAE PDE/PTE reserved bits (tables 4-9..4-11): 62:MAXPHYADDR, and 63 (XD) when NXE = 0.
  const rsvdHi = (nxe ? 0x7fffffff : -1) & ~st.physHiMask;
  const pdeAt = (pHi & st.physHiMask) * TWO32 + ((pLo & 0xfffff000) >>> 0) + ((lo >>> 21) & 0x1ff) * 8;
  const pde = readEntry64(c, pdeAt);
  const pdeHi = entryHi;
  if (probe !== null) probe.entry(2, 'page-directory entry', pdeAt, pde, pdeHi);
  if ((pde & 1) === 0) notPresent(c, lo, 0, access, 'page-directory entry');
  if ((pdeHi & rsvdHi) !== 0) reserved(c, lo, 0, access, 'page-directory entry');
  if ((pde & 0x80) !== 0) {
    if ((pde & 0x1fe000) !== 0) reserved(c, lo, 0, access, 'page-directory entry');
    checkRights(c, lo, 0, access, (pde >>> 1) & 1, (pde >>> 2) & 1, nxe ? pdeHi >>> 31 : 0);
    setLeafFlags(c, pdeAt, pde, write);
    return (pdeHi & st.physHiMask) * TWO32 + ((pde & 0xffe00000) >>> 0) + (lo & 0x1fffff);
  }
  setAccessed(c, pdeAt, pde);
  const pteAt = (pdeHi & st.physHiMask) * TWO32 + ((pde & 0xfffff000) >>> 0) + ((lo >>> 12) & 0x1ff) * 8;
  const pte = readEntry64(c, pteAt);
  const pteHi = entryHi;
  if (probe !== null) probe.entry(1, 'page-table entry', pteAt, pte, pteHi);
  if ((pte & 1) === 0) notPresent(c, lo, 0, access, 'page-table entry');
  if ((pteHi & rsvdHi) !== 0) reserved(c, lo, 0, access, 'page-table entry');
  checkRights(c, lo, 0, access, (pde >>> 1) & (pte >>> 1) & 1, (pde >>> 2) & (pte >>> 2) & 1, nxe ? (pdeHi | pteHi) >>> 31 : 0);
  setLeafFlags(c, pteAt, pte, write);
  return (pteHi & st.physHiMask) * TWO32 + ((pte & 0xfffff000) >>> 0) + (lo & 0xfff);
}

const LEVEL_NAMES = ['', 'page-table entry', 'page-directory entry', 'page-directory-pointer-table entry', 'PML4 entry', 'PML5 entry'];

/** 4-level and 5-level paging (§4.5). */
function walkLong(c: Cpu, lo: number, hi: number, access: Access): number {
  const st = stateOf(c);
  st.pdpteValid = false;
  const write = (access & 3) === Access.Write;
  const nxe = (c.efer & EFER_NXE) !== 0;
  const physHi = st.physHiMask;
  // Reserved: bits 51:MAXPHYADDR, and 63 (XD) when NXE = 0 (§4.5.4, tables 4-15..4-20).
  const rsvdHi = (0xfffff & ~physHi) | (nxe ? 0 : 0x80000000);
  // The current table as a physical page number (MAXPHYADDR <= 52, so exact in a double).
  let tPpn = (c.cr3Hi & physHi) * 0x100000 + (c.cr3Lo >>> 12);
  let rw = 1, us = 1, xd = 0;
  for (let level = (c.cr4 & CR4_LA57) !== 0 ? 5 : 4; level >= 1; level--) {
    // Index bits: 56:48, 47:39, 38:30, 29:21, 20:12.
    const idx = level === 5 ? (hi >>> 16) & 0x1ff
      : level === 4 ? (hi >>> 7) & 0x1ff
      : level === 3 ? ((hi & 0x7f) << 2) | (lo >>> 30)
      : level === 2 ? (lo >>> 21) & 0x1ff
      : (lo >>> 12) & 0x1ff;
    const at = tPpn * 4096 + idx * 8;
    const e = readEntryAt(c, tPpn, idx * 8);
    const eHi = entryHi;
    if (probe !== null) probe.entry(level, LEVEL_NAMES[level], at, e, eHi);
    if ((e & 1) === 0) notPresent(c, lo, hi, access, LEVEL_NAMES[level]);
    if ((eHi & rsvdHi) !== 0) reserved(c, lo, hi, access, LEVEL_NAMES[level]);
    rw &= e >>> 1;
    us &= e >>> 2;
    xd |= eHi >>> 31;
    const ps = (e & 0x80) !== 0;
    if (ps && level >= 4) reserved(c, lo, hi, access, LEVEL_NAMES[level]);
    if (level === 1 || (ps && (level === 2 || level === 3))) {
      let offLo: number;
      let baseLo: number;
      if (level === 3) {
        // 1-GByte page: bits 29:13 reserved; PS itself is reserved without 1-GByte page support.
        if (!st.page1g || (e & 0x3fffe000) !== 0) reserved(c, lo, hi, access, LEVEL_NAMES[level]);
        baseLo = e & 0xc0000000;
        offLo = lo & 0x3fffffff;
      } else if (level === 2) {
        if ((e & 0x1fe000) !== 0) reserved(c, lo, hi, access, LEVEL_NAMES[level]);
        baseLo = e & 0xffe00000;
        offLo = lo & 0x1fffff;
      } else {
        baseLo = e & 0xfffff000;
        offLo = lo & 0xfff;
      }
      checkRights(c, lo, hi, access, rw & 1, us & 1, nxe ? xd & 1 : 0);
      setLeafFlags(c, at, e, write);
      return (eHi & physHi) * TWO32 + (baseLo >>> 0) + offLo;
    }
    setAccessed(c, at, e);
    tPpn = (eHi & physHi) * 0x100000 + (e >>> 12);
  }
  throw new Error('internal: paging walk without a leaf');
}

// ---- control-register and TLB interface (for MOV CR, INVLPG, INVPCID, mode changes) --------------
/**
 * MOV to CR3 (SDM vol. 2B "MOV—Move to/from Control Registers", vol. 3A §4.10.4.1), for the
 * SYSTEM group's MOV CR3. `lo/hi` is the source operand (hi = 0 outside 64-bit mode).
 * - IA-32e mode: with CR4.PCIDE = 1, bit 63 is the no-flush hint and is not stored; bits
 *   63:MAXPHYADDR otherwise set → #GP(0). Without the hint the TLB is flushed (all PCIDs: allowed,
 *   §4.10.4.1); with it, entries are kept when the PCID does not change (our TLB is not tagged
 *   by PCID, so a PCID change always flushes).
 * - PAE paging active (CR0.PG = 1, CR4.PAE = 1, LMA = 0): the PDPTEs are loaded; a reserved bit in
 *   a present PDPTE → #GP(0) with CR3 unchanged (§4.4.1).
 * Throws CpuException (#GP(0)) before changing anything.
 */
export function loadCr3(c: Cpu, lo: number, hi: number): void {
  if (c.longMode) {
    let keep = false;
    if ((c.cr4 & CR4_PCIDE) !== 0 && (hi & 0x80000000) !== 0) {
      hi &= 0x7fffffff;
      keep = (lo & 0xfff) === (c.cr3Lo & 0xfff);
    }
    if ((hi & ~stateOf(c).physHiMask) !== 0) throw gp0('MOV to CR3 sets a bit above MAXPHYADDR');
    c.cr3Lo = lo | 0;
    c.cr3Hi = hi | 0;
    if (!keep) c.flushTlb();
    return;
  }
  if ((c.cr0 & CR0_PG) !== 0 && (c.cr4 & CR4_PAE) !== 0 && !loadPdptes(c, lo)) {
    throw gp0('MOV to CR3: reserved bit set in a PDPTE');
  }
  c.cr3Lo = lo | 0;
  c.cr3Hi = 0;
  c.flushTlb();
}

const CR0_NW = 1 << 29;
const CR0_CD = 1 << 30;

/**
 * For MOV to CR0 / CR4 (SYSTEM): call with the values about to be written and the IA32_EFER.LMA
 * they will produce, before committing anything. When the result is PAE paging and the write
 * changes CR0.PG, CD, NW or CR4.PAE, PGE, PSE, SMEP, the PDPTE registers are loaded from CR3
 * (SDM vol. 3A §4.4.1); returns false when a present PDPTE has a reserved bit set — the
 * instruction must then raise #GP(0) and change nothing. The caller still flushes the TLB
 * (c.flushTlb()) after committing any change of a paging-related bit.
 */
export function beforePagingControlWrite(c: Cpu, cr0: number, cr4: number, lma: boolean): boolean {
  if ((cr0 & CR0_PG) === 0 || (cr4 & CR4_PAE) === 0 || lma) return true;
  const changed = ((cr0 ^ c.cr0) & (CR0_PG | CR0_CD | CR0_NW)) !== 0 || ((cr4 ^ c.cr4) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)) !== 0;
  if (!changed) return true;
  return loadPdptes(c, c.cr3Lo);
}

/** INVLPG semantics (SDM vol. 2A INVLPG): invalidate the page of `lo/hi` — here the whole TLB. */
export function invalidatePage(c: Cpu, _lo: number, _hi: number): void {
  c.flushTlb();
}

/** INVPCID of any type (0-3) after its checks: the whole TLB (allowed by SDM vol. 3A §4.10.4.1). */
export function invalidatePcid(c: Cpu): void {
  c.flushTlb();
}

/** True when the processor's CPUID model reports 1-GByte pages. */
export function has1GPages(c: Cpu): boolean {
  return stateOf(c).page1g;
}
