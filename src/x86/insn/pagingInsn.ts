/** INVLPG, INVPCID (SDM vol. 2A INVLPG, vol. 2A INVPCID, vol. 3A §4.10.4). */
import { Mnemonic } from 'iced-x86';
import { isCanonical, maxLinearBits } from '../controlRegisters';
import type { Cpu } from '../cpu';
import { cpuidInto } from '../cpuid';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import { gp0, ud } from '../exceptions';
import type { Op } from '../operands';
import { linearAddress } from '../operands';
import { CR4_PCIDE, invalidatePage, invalidatePcid } from '../paging';
import type { TranslatorTable } from '../translator';
import { InsnExit } from '../vmxInsnHooks';

const TWO32 = 4294967296;
const RFLAGS_VM = 1 << 17;

/**
 * INVLPG m: #GP(0) unless CPL = 0 (virtual-8086 mode runs at CPL 3); the operand is only an
 * address — it is never accessed, so there is no segment check, #PF or canonical fault (a
 * non-canonical address in 64-bit mode makes it a NOP). INVLPG is serializing (SDM vol. 3A
 * §8.3), so the block ends: the next instruction is fetched through the new translation.
 */
function invlpg(d: DecodedInsn): Op | null {
  if (d.mem === null) return null;
  d.endsBlock = true;
  d.setsRip = false;
  return (c) => {
    if (c.cpl !== 0 || (c.protectedMode && (c.flagsRest & RFLAGS_VM) !== 0)) throw gp0('INVLPG at CPL > 0');
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.Invlpg)) return; // INVLPG exiting (SDM vol. 3C §25.1.3)
    invalidatePage(c, 0, 0);
  };
}

const cpuidOut = new Int32Array(4);

/** CPUID.(EAX=07H,ECX=0):EBX.INVPCID[bit 10]. */
function hasInvpcid(c: Cpu): boolean {
  cpuidInto(c.cpuid, 0, 0, cpuidOut);
  if ((cpuidOut[0] >>> 0) < 7) return false;
  cpuidInto(c.cpuid, 7, 0, cpuidOut);
  return ((cpuidOut[1] >>> 10) & 1) === 1;
}

/**
 * INVPCID r32/r64, m128 (SDM vol. 2A INVPCID). #UD without CPUID support or in virtual-8086
 * mode; #GP(0) at CPL > 0; type > 3 → #GP(0); then the 16-byte descriptor is read (segment
 * faults, #PF); bits 63:12 of the descriptor not zero → #GP(0); types 0/1 with CR4.PCIDE = 0
 * and a non-zero PCID → #GP(0); type 0 with a non-canonical address → #GP(0). Every type then
 * invalidates the whole TLB (more than required is allowed, §4.10.4.1).
 */
function invpcid(d: DecodedInsn): Op | null {
  const m = d.mem;
  const g = gprOf(d.opRegs[0]);
  if (m === null || g === null) return null;
  const addr = linearAddress(d, m, 16);
  const r = g.index;
  const wide = d.bitness === 64;
  const is64 = d.bitness === 64;
  d.endsBlock = true;
  d.setsRip = false;
  return (c) => {
    if (!hasInvpcid(c)) throw ud('INVPCID is not reported by CPUID');
    if (c.protectedMode && (c.flagsRest & RFLAGS_VM) !== 0) throw ud('INVPCID in virtual-8086 mode');
    // "enable INVPCID" (#UD), then CPL, then INVLPG exiting (SDM vol. 3C §25.1.3, §25.3).
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.Invpcid)) return;
    if (c.cpl !== 0) throw gp0('INVPCID at CPL > 0');
    const typeHi = wide ? c.hi[r] : 0;
    const type = c.lo[r] >>> 0;
    if (typeHi !== 0 || type > 3) throw gp0('INVPCID type above 3');
    const a = addr(c);
    const ah = c.linHi;
    const dLo = c.read64(a, ah);
    const dHi = c.vHi;
    const s = (a >>> 0) + 8;
    const a2 = s | 0;
    const ah2 = s >= TWO32 ? (is64 ? (ah + 1) | 0 : 0) : ah;
    c.read64(a2, ah2);
    const lHi = c.vHi;
    if ((dLo & ~0xfff) !== 0 || dHi !== 0) throw gp0('INVPCID descriptor bits 63:12 not zero');
    if (type <= 1 && (c.cr4 & CR4_PCIDE) === 0 && (dLo & 0xfff) !== 0) throw gp0('INVPCID with a non-zero PCID while CR4.PCIDE = 0');
    if (type === 0) {
      // TLB-invalidation addresses are checked against the widest supported linear address
      // (57 bits with LA57), whatever CR4.LA57 is — as for the other loaded bases (SDM vol. 3A §4.5).
      if (!isCanonical(lHi, maxLinearBits(c))) throw gp0('INVPCID address is not canonical');
    }
    invalidatePcid(c);
  };
}

export const pagingHandlers: TranslatorTable = {
  [Mnemonic.Invlpg]: invlpg,
  [Mnemonic.Invpcid]: invpcid,
};
