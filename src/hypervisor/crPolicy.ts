/**
 * The seed's handling of CR0 and CR4 under VMX (reference §2 "CR0/CR4 guest/host masks and read
 * shadows", §3 "CR access"), against the FIXED capability MSRs (SDM vol. 3C §A.7-A.8):
 *  - the real CR0 = (value & FIXED1 & ~(NW | CD)) | (FIXED0 & ~(PG | PE)) (unrestricted guest
 *    lets PE and PG follow the guest), its read shadow = the value the guest wrote, the mask =
 *    the bits the guest may not own (those the FIXED MSRs pin, plus NW and CD);
 *  - the real CR4 = (value & FIXED1) | FIXED0 (VMXE forced on, hidden by the shadow), the mask =
 *    the bits FIXED0 sets or FIXED1 clears.
 * A MOV to CR0/CR4 that changes an owned bit exits (CR access, reason 28); the handler checks the
 * value as the processor would (SDM vol. 3A §2.5, MOV CR) and injects #GP(0) for an illegal one —
 * the crate accepts anything [bug fixed] — then updates the real value, the shadow and, when CR0.PG
 * turns on with EFER.LME and CR4.PAE, EFER.LMA and the "IA-32e mode guest" entry control (only
 * then: the crate sets LMA without checking LME/PAE [bug fixed]).
 */
const PE = 1, NW = 1 << 29, CD = 1 << 30, PG = 1 << 31;

export interface CrPolicy {
  cr0Fixed0: number;
  cr0Fixed1: number;
  cr4Fixed0: number;
  cr4Fixed1: number;
}

export interface CrValues {
  cr0: number;
  shadow0: number;
  mask0: number;
  cr4: number;
  shadow4: number;
  mask4: number;
}

export function realCr0(p: CrPolicy, value: number): number {
  return (((value & p.cr0Fixed1 & ~(NW | CD)) | (p.cr0Fixed0 & ~(PG | PE))) >>> 0);
}

export function realCr4(p: CrPolicy, value: number): number {
  return (((value & p.cr4Fixed1) | p.cr4Fixed0) >>> 0);
}

export function cr0Mask(p: CrPolicy): number {
  return (((p.cr0Fixed0 & ~(PG | PE)) | ~p.cr0Fixed1 | NW | CD) >>> 0);
}

export function cr4Mask(p: CrPolicy): number {
  return ((p.cr4Fixed0 | ~p.cr4Fixed1) >>> 0);
}

export function crInitial(p: CrPolicy, cr0: number, cr4: number): CrValues {
  return {
    cr0: realCr0(p, cr0), shadow0: cr0 >>> 0, mask0: cr0Mask(p),
    cr4: realCr4(p, cr4), shadow4: cr4 >>> 0, mask4: cr4Mask(p),
  };
}

/**
 * Why a MOV to CR0 of `value` raises #GP(0) (SDM vol. 3A §2.5 and MOV CR "Protected Mode
 * Exceptions"), or null. `efer` and `cr4` are the guest's, `cs` its code-segment access rights.
 */
export function cr0Problem(value: number, cr4: number, efer: number, csAttr: number, hiBits: number): string | null {
  if (hiBits !== 0) return 'bits 63:32 of CR0 are reserved';
  if ((value & PG) !== 0 && (value & PE) === 0) return 'CR0.PG = 1 with CR0.PE = 0';
  if ((value & NW) !== 0 && (value & CD) === 0) return 'CR0.NW = 1 with CR0.CD = 0';
  if ((value & PG) !== 0 && (efer & 0x100) !== 0 && (cr4 & 0x20) === 0) return 'CR0.PG = 1 with EFER.LME = 1 and CR4.PAE = 0';
  if ((value & PG) === 0 && (efer & 0x400) !== 0 && (csAttr & 0x2000) !== 0) return 'CR0.PG = 0 in 64-bit mode';
  if ((value & (1 << 16)) === 0 && (cr4 & (1 << 23)) !== 0) return 'CR0.WP = 0 with CR4.CET = 1';
  return null;
}

/**
 * Why a MOV to CR4 of `value` raises #GP(0) (SDM vol. 2B MOV CR, vol. 3A §2.5, §4.10.1), or null.
 * `old` is the guest's CR4 before, `supported` the CR4 bits the CPU has, `cr3Low` CR3[11:0].
 */
export function cr4Problem(value: number, old: number, supported: number, efer: number, cr0: number, cr3Low: number, hiBits: number): string | null {
  const lma = (efer & 0x400) !== 0;
  if (hiBits !== 0 || (value & ~supported) !== 0) return 'a reserved CR4 bit is set';
  if (lma && (value & 0x20) === 0) return 'CR4.PAE = 0 in IA-32e mode';
  if (lma && ((value ^ old) & (1 << 12)) !== 0) return 'CR4.LA57 changed in IA-32e mode';
  if ((value & (1 << 17)) !== 0 && (old & (1 << 17)) === 0 && (!lma || (cr3Low & 0xfff) !== 0)) return 'CR4.PCIDE set outside IA-32e mode or with CR3[11:0] != 0';
  if ((value & (1 << 23)) !== 0 && (cr0 & (1 << 16)) === 0) return 'CR4.CET = 1 with CR0.WP = 0';
  return null;
}
