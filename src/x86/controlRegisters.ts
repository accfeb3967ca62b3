/**
 * Writes to CR0, CR3, CR4 and IA32_EFER with every architectural check, and the mode changes
 * they cause (SDM vol. 3A §2.5 control registers, §2.2.1 EFER, §9.9 mode switching, §10.8.5
 * IA-32e mode initialisation and exit; vol. 2B "MOV—Move to/from Control Registers" exceptions).
 * Shared by MOV CRn, LMSW, CLTS and WRMSR to IA32_EFER.
 */
import type { Cpu } from './cpu';
import { cpuidInto } from './cpuid';
import { updateDebugState } from './debugRegs';
import { updateModeFromSegments } from './descriptors';
import { gp0 } from './exceptions';
import { loadCr3, loadPdptes } from './paging';
import { Flag, Seg } from './registers';

export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31;
/**
 * CR0 bits software can change. Writes to the other bits of CR0[31:0] are ignored; ET is fixed
 * to 1 on processors since the P6 family (SDM vol. 3A §2.5).
 */
const CR0_WRITABLE = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG;

export const CR4_DE = 1 << 3;
export const CR4_PAE = 1 << 5;
export const CR4_PSE = 1 << 4;
export const CR4_PGE = 1 << 7;
export const CR4_UMIP = 1 << 11;
export const CR4_LA57 = 1 << 12;
export const CR4_FSGSBASE = 1 << 16;
export const CR4_PCIDE = 1 << 17;
export const CR4_OSXSAVE = 1 << 18;
export const CR4_SMEP = 1 << 20;

export const EFER_SCE = 1 << 0;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NXE = 1 << 11;

const TWO32 = 4294967296;

// ---- CPUID-reported features -------------------------------------------------------------------
const scratch = new Int32Array(4);
const REG = { eax: 0, ebx: 1, ecx: 2, edx: 3 } as const;

/** One CPUID register of the processor's model, 0 when the leaf is beyond the highest one reported. */
export function cpuidReg(c: Cpu, leaf: number, subleaf: number, reg: keyof typeof REG): number {
  const top = leaf >= 0x80000000 ? 0x80000000 : 0;
  cpuidInto(c.cpuid, top, 0, scratch);
  if ((leaf >>> 0) > (scratch[0] >>> 0)) return 0;
  cpuidInto(c.cpuid, leaf, subleaf, scratch);
  return scratch[REG[reg]];
}

/** One CPUID bit of the processor's model, with the leaf-range check of SDM vol. 2A CPUID. */
export function cpuidBit(c: Cpu, leaf: number, subleaf: number, reg: keyof typeof REG, bit: number): boolean {
  const top = leaf >= 0x80000000 ? 0x80000000 : 0;
  cpuidInto(c.cpuid, top, 0, scratch);
  if ((leaf >>> 0) > (scratch[0] >>> 0)) return false;
  cpuidInto(c.cpuid, leaf, subleaf, scratch);
  return ((scratch[REG[reg]] >>> bit) & 1) === 1;
}

/** MAXPHYADDR (CPUID 80000008H:EAX[7:0]), as the paging layer computes it. */
export { maxPhysAddr } from './paging';

/**
 * CR4 bits and the CPUID feature that makes each one settable (SDM vol. 3A §2.5 and §2.6:
 * a CR4 bit whose feature CPUID does not report is reserved). Setting such a bit raises #GP(0).
 */
const CR4_FEATURES: ReadonlyArray<{ bit: number; name: string; leaf: number; sub: number; reg: keyof typeof REG; fbit: number }> = [
  { bit: 0, name: 'VME', leaf: 1, sub: 0, reg: 'edx', fbit: 1 },
  { bit: 1, name: 'PVI', leaf: 1, sub: 0, reg: 'edx', fbit: 1 },
  { bit: 2, name: 'TSD', leaf: 1, sub: 0, reg: 'edx', fbit: 4 },
  { bit: 3, name: 'DE', leaf: 1, sub: 0, reg: 'edx', fbit: 2 },
  { bit: 4, name: 'PSE', leaf: 1, sub: 0, reg: 'edx', fbit: 3 },
  { bit: 5, name: 'PAE', leaf: 1, sub: 0, reg: 'edx', fbit: 6 },
  { bit: 6, name: 'MCE', leaf: 1, sub: 0, reg: 'edx', fbit: 7 },
  { bit: 7, name: 'PGE', leaf: 1, sub: 0, reg: 'edx', fbit: 13 },
  { bit: 9, name: 'OSFXSR', leaf: 1, sub: 0, reg: 'edx', fbit: 24 },
  { bit: 10, name: 'OSXMMEXCPT', leaf: 1, sub: 0, reg: 'edx', fbit: 25 },
  { bit: 11, name: 'UMIP', leaf: 7, sub: 0, reg: 'ecx', fbit: 2 },
  { bit: 12, name: 'LA57', leaf: 7, sub: 0, reg: 'ecx', fbit: 16 },
  { bit: 13, name: 'VMXE', leaf: 1, sub: 0, reg: 'ecx', fbit: 5 },
  { bit: 14, name: 'SMXE', leaf: 1, sub: 0, reg: 'ecx', fbit: 6 },
  { bit: 16, name: 'FSGSBASE', leaf: 7, sub: 0, reg: 'ebx', fbit: 0 },
  { bit: 17, name: 'PCIDE', leaf: 1, sub: 0, reg: 'ecx', fbit: 17 },
  { bit: 18, name: 'OSXSAVE', leaf: 1, sub: 0, reg: 'ecx', fbit: 26 },
  { bit: 20, name: 'SMEP', leaf: 7, sub: 0, reg: 'ebx', fbit: 7 },
  { bit: 21, name: 'SMAP', leaf: 7, sub: 0, reg: 'ebx', fbit: 20 },
  { bit: 22, name: 'PKE', leaf: 7, sub: 0, reg: 'ecx', fbit: 3 },
];
/** CR4.PCE (bit 8) enables RDPMC at CPL > 0; it has no CPUID bit and is always settable. */
const CR4_ALWAYS = 1 << 8;

/** The CR4 bits this processor model lets software set. */
export function cr4Settable(c: Cpu): number {
  let m = CR4_ALWAYS;
  for (const f of CR4_FEATURES) if (cpuidBit(c, f.leaf, f.sub, f.reg, f.fbit)) m |= 1 << f.bit;
  // A processor that supports IA-32e mode supports PAE (SDM vol. 3A §10.8.5 requires it).
  if (cpuidBit(c, 0x80000001, 0, 'edx', 29)) m |= CR4_PAE;
  return m;
}

/** The IA32_EFER bits this model lets software set (SDM vol. 4 table 2-2, IA32_EFER). */
export function eferSettable(c: Cpu): number {
  let m = 0;
  if (cpuidBit(c, 0x80000001, 0, 'edx', 11)) m |= EFER_SCE;
  if (cpuidBit(c, 0x80000001, 0, 'edx', 29)) m |= EFER_LME;
  if (cpuidBit(c, 0x80000001, 0, 'edx', 20)) m |= EFER_NXE;
  return m;
}

/** True when CS.L is set (64-bit code segment; meaningful with EFER.LMA = 1). */
function csL(c: Cpu): boolean {
  return (c.segAttr[Seg.CS] & 0x2000) !== 0;
}

/**
 * PAE paging outside IA-32e mode loads the four PDPTEs when paging-related CR0/CR4 bits change
 * (SDM vol. 3A §4.4.1): a reserved bit in a present PDPTE raises #GP(0) and the control register
 * keeps its value. `cr0`/`cr4`/`efer` are the values about to be committed.
 */
function checkPdptes(c: Cpu, cr0: number, cr4: number, efer: number): void {
  if ((cr0 & CR0_PG) === 0 || (cr4 & CR4_PAE) === 0 || (efer & EFER_LMA) !== 0) return;
  if (!loadPdptes(c)) throw gp0('reserved bit set in a PDPTE');
}

/**
 * After CR0.PE/PG or EFER.LMA changed: the mode flags, bitness from CS/SS, the TLB, and — when
 * the operating mode changed — the translated code (translators may specialise on the mode).
 */
export function modeChanged(c: Cpu): void {
  const pe = (c.cr0 & CR0_PE) !== 0;
  const lma = (c.efer & EFER_LMA) !== 0;
  const changed = pe !== c.protectedMode || lma !== c.longMode;
  c.protectedMode = pe;
  c.longMode = lma;
  if (!pe && c.cpl !== 0) c.cpl = 0; // real-address mode runs at CPL 0
  updateModeFromSegments(c);
  c.flushTlb();
  if (changed) c.flushCode();
}

/**
 * MOV to CR0 (and LMSW, CLTS): `hi` is bits 63:32 (non-zero only from a 64-bit register).
 * Order of the checks follows the SDM's exception lists for MOV CR0 (vol. 2B) and §10.8.5.
 */
export function writeCr0(c: Cpu, lo: number, hi: number): void {
  if (hi !== 0) throw gp0('MOV CR0: bits 63:32 are reserved');
  const v = ((lo & CR0_WRITABLE) | CR0_ET) >>> 0;
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) throw gp0('CR0.PG = 1 with CR0.PE = 0');
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) throw gp0('CR0.NW = 1 with CR0.CD = 0');
  const old = c.cr0 >>> 0;
  const pgOn = (old & CR0_PG) === 0 && (v & CR0_PG) !== 0;
  const pgOff = (old & CR0_PG) !== 0 && (v & CR0_PG) === 0;
  let efer = c.efer;
  if (pgOff) {
    if ((c.cr4 & CR4_PCIDE) !== 0) throw gp0('clearing CR0.PG while CR4.PCIDE = 1');
    // IA-32e mode is left from compatibility mode only (SDM vol. 3A §10.8.5.4).
    if (c.longMode && csL(c)) throw gp0('clearing CR0.PG in 64-bit mode');
    efer &= ~EFER_LMA;
  }
  if (pgOn && (efer & EFER_LME) !== 0) {
    // Activating IA-32e mode (SDM vol. 3A §10.8.5): PAE must be enabled and CS.L clear.
    if ((c.cr4 & CR4_PAE) === 0) throw gp0('enabling paging with EFER.LME = 1 and CR4.PAE = 0');
    if (csL(c)) throw gp0('enabling IA-32e mode with CS.L = 1');
    efer |= EFER_LMA;
  }
  if (pgOn || ((v ^ old) & (CR0_CD | CR0_NW)) !== 0) checkPdptes(c, v, c.cr4, efer);
  const prevEfer = c.efer;
  c.cr0 = v | 0;
  c.efer = efer;
  if (((v ^ old) & CR0_PE) !== 0 || (efer ^ prevEfer) & EFER_LMA) modeChanged(c);
  else c.flushTlb();
}

/**
 * MOV to CR3 (SDM vol. 2B MOV CR; vol. 3A §4.10.4.1 TLB effects, §4.10.1 PCIDs, §4.4.1 PDPTEs):
 * the paging layer's loadCr3 does the reserved-bit checks, the PDPTE load and the TLB flush.
 */
export function writeCr3(c: Cpu, lo: number, hi: number): void {
  loadCr3(c, lo, c.longMode ? hi : 0);
}

/** MOV to CR4 (SDM vol. 2B MOV CR exceptions; vol. 3A §2.5). */
export function writeCr4(c: Cpu, lo: number, hi: number): void {
  if (hi !== 0) throw gp0('MOV CR4: bits 63:32 are reserved');
  const settable = cr4Settable(c);
  if ((lo & ~settable) !== 0) throw gp0(`MOV CR4: bits 0x${((lo & ~settable) >>> 0).toString(16)} reserved or not supported`);
  const old = c.cr4;
  if (c.longMode && (lo & CR4_PAE) === 0) throw gp0('clearing CR4.PAE in IA-32e mode');
  if ((lo & CR4_PCIDE) !== 0 && (old & CR4_PCIDE) === 0) {
    if (!c.longMode) throw gp0('setting CR4.PCIDE outside IA-32e mode');
    if ((c.cr3Lo & 0xfff) !== 0) throw gp0('setting CR4.PCIDE with CR3[11:0] != 0');
  }
  if (c.longMode && ((lo ^ old) & CR4_LA57) !== 0) throw gp0('changing CR4.LA57 in IA-32e mode');
  if (((lo ^ old) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)) !== 0) checkPdptes(c, c.cr0, lo, c.efer);
  c.cr4 = lo | 0;
  c.flushTlb();
  // CR4.DE turns DR7 R/W = 10 into I/O breakpoints (SDM vol. 3B §18.2.4).
  if (((lo ^ old) & CR4_DE) !== 0) updateDebugState(c);
}

/**
 * WRMSR to IA32_EFER (SDM vol. 4 IA32_EFER; vol. 3A §10.8.5): unsupported bits raise #GP(0);
 * LME cannot change while paging is enabled; LMA is read-only (written values are ignored).
 */
export function writeEfer(c: Cpu, lo: number, hi: number): void {
  const settable = eferSettable(c);
  if (hi !== 0 || (lo & ~(settable | EFER_LMA)) !== 0) throw gp0('WRMSR IA32_EFER: reserved bits');
  if (((lo ^ c.efer) & EFER_LME) !== 0 && (c.cr0 & CR0_PG) !== 0) throw gp0('changing EFER.LME with paging enabled');
  const old = c.efer;
  c.efer = (lo & ~EFER_LMA) | (old & EFER_LMA);
  if (((old ^ c.efer) & EFER_NXE) !== 0) c.flushTlb();
}

/** True when (lo, hi) is a canonical address for `bits` (48 or 57) linear-address bits. */
export function isCanonical(hi: number, bits: number): boolean {
  const s = 64 - bits; // number of high bits that copy bit bits-1
  return ((hi << s) >> s) === hi;
}

/** Linear-address width the processor supports (57 with LA57 reported, else 48), for MSR checks. */
export function maxLinearBits(c: Cpu): number {
  return cpuidBit(c, 7, 0, 'ecx', 16) ? 57 : 48;
}

/** Linear-address width in force now (CR4.LA57 in IA-32e mode: 57, else 48). */
export function currentLinearBits(c: Cpu): number {
  return (c.cr4 & CR4_LA57) !== 0 ? 57 : 48;
}

/** A 64-bit value from halves as a number (exact below 2^53). */
export function toNumber(lo: number, hi: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

/**
 * Privileged instructions: #GP(0) unless CPL = 0 (virtual-8086 mode runs at CPL 3). SDM vol. 3A
 * §5.9 lists them: MOV CR/DR, LMSW, CLTS, INVD, WBINVD, RDMSR, WRMSR, ...
 */
export function requireCpl0(c: Cpu, what: string): void {
  if (c.cpl !== 0 || (c.protectedMode && (c.flagsRest & Flag.VM) !== 0)) throw gp0(`${what} at CPL ${c.cpl}`);
}

/**
 * MOV from CR8 (64-bit mode): the task-priority class. With a platform interrupt source that
 * implements the TPR view (a local APIC) CR8 reads TPR[7:4] (SDM vol. 3A §10.8.6.1); a bare
 * processor keeps it in `c.cr8`.
 */
export function readCr8(c: Cpu): number {
  const s = c.intr;
  if (s !== null && s.readCr8 !== undefined) {
    c.cr8 = s.readCr8() & 0xf;
  }
  return c.cr8 & 0xf;
}

/** MOV to CR8: bits 63:4 must be zero (#GP(0)); a lower priority may unmask an interrupt. */
export function writeCr8(c: Cpu, lo: number, hi: number): void {
  if ((lo & ~0xf) !== 0 || hi !== 0) throw gp0('MOV to CR8: bits 63:4 are reserved');
  const s = c.intr;
  c.cr8 = lo & 0xf;
  if (s !== null && s.writeCr8 !== undefined) s.writeCr8(lo & 0xf);
  c.eventPending = true;
}
