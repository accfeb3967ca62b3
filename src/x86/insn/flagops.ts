/**
 * Flag instructions: CLC, STC, CMC, CLD, STD, LAHF, SAHF (SDM vol. 2A/2B instruction pages), SALC.
 * CLI/STI belong to the system layer; PUSHF/POPF to the stack group.
 *
 * LAHF/SAHF in 64-bit mode need CPUID.80000001H:ECX.LAHF-SAHF[bit 0], which the CPUID model
 * reports (cpuid.ts, LAHF_LM), so they execute in every mode.
 */
import { Mnemonic } from 'iced-x86';
import type { Op } from '../operands';
import { Flag } from '../registers';
import type { TranslatorTable } from '../translator';
import { PARITY } from '../state';
import { hasFeature } from '../cpuid';
import { ud } from '../exceptions';

/** CF is bit 31 of fCO and OF is bit 31 ^ bit 30: a new CF keeps OF by setting bit 30 = CF ^ OF. */
const clc: Op = (c) => {
  const co = c.fCO;
  c.fCO = (co ^ (co << 1)) & (1 << 31) ? 1 << 30 : 0;
};
const stc: Op = (c) => {
  const co = c.fCO;
  // CF = 1: bit 31 set; bit 30 = CF ^ OF = !OF.
  c.fCO = (co ^ (co << 1)) & (1 << 31) ? 1 << 31 : (1 << 31) | (1 << 30);
};
/** CMC: complementing CF while keeping OF flips both bit 31 and bit 30. */
const cmc: Op = (c) => { c.fCO ^= 0xc0000000; };
const cld: Op = (c) => { c.flagsRest &= ~Flag.DF; };
const std: Op = (c) => { c.flagsRest |= Flag.DF; };

/** LAHF (SDM vol. 2A LAHF): AH = SF:ZF:0:AF:0:PF:1:CF. */
const lahf: Op = (c) => {
  const ah = (c.fSgn < 0 ? 0x80 : 0) | (c.fRes === 0 ? 0x40 : 0) | (c.fAux & 8 ? 0x10 : 0) |
    (PARITY[c.fPar & 0xff] << 2) | 2 | (c.fCO >>> 31);
  c.lo[0] = (c.lo[0] & ~0xff00) | (ah << 8);
};

/** SAHF (SDM vol. 2B SAHF): SF, ZF, AF, PF, CF from AH; OF unchanged. */
const sahf: Op = (c) => {
  const ah = (c.lo[0] >>> 8) & 0xff;
  const co = c.fCO;
  const of = (co ^ (co << 1)) >>> 31;
  const cf = ah & 1;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  c.fRes = ah & 0x40 ? 0 : 1;
  c.fSgn = ah & 0x80 ? -1 : 0;
  c.fPar = ah & 4 ? 0 : 1; // PARITY[0] = 1 (even), PARITY[1] = 0
  c.fAux = ah & 0x10 ? 8 : 0;
};

/**
 * SALC (opcode D6): AL = CF ? FFh : 00h, flags unchanged. The SDM leaves D6 undocumented, but
 * Intel processors execute it outside 64-bit mode (Bochs and QEMU model it the same way);
 * in 64-bit mode it is #UD.
 */
const salc: Op = (c) => { c.lo[0] = (c.lo[0] & ~0xff) | (c.fCO >>> 31 ? 0xff : 0); };

/**
 * STAC/CLAC (SDM vol. 2B): set or clear RFLAGS.AC, which lifts SMAP's block on supervisor
 * accesses to user pages. #UD at CPL > 0 or when the model does not report SMAP. The TLB caches
 * SMAP decisions, so it is flushed when CR4.SMAP is on.
 */
function setAc(value: number): Op {
  return (c) => {
    if (c.cpl > 0 || !hasFeature(c.cpuid, 'SMAP')) throw ud('STAC/CLAC needs CPL 0 and SMAP');
    c.flagsRest = value ? c.flagsRest | Flag.AC : c.flagsRest & ~Flag.AC;
    if (c.cr4 & CR4_SMAP) c.flushTlb();
  };
}
const CR4_SMAP = 1 << 21;

export const flagOpHandlers: TranslatorTable = {
  [Mnemonic.Stac]: () => setAc(1),
  [Mnemonic.Clac]: () => setAc(0),
  [Mnemonic.Clc]: () => clc,
  [Mnemonic.Stc]: () => stc,
  [Mnemonic.Cmc]: () => cmc,
  [Mnemonic.Cld]: () => cld,
  [Mnemonic.Std]: () => std,
  [Mnemonic.Lahf]: () => lahf,
  [Mnemonic.Sahf]: () => sahf,
  [Mnemonic.Salc]: (d) => (d.bitness === 64 ? null : salc),
};
