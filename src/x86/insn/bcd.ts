/**
 * BCD adjustments: DAA, DAS, AAA, AAS, AAM, AAD (SDM vol. 2A, each instruction's operation
 * section). All are invalid in 64-bit mode (#UD; iced already decodes them as invalid there).
 *
 * Flags the SDM leaves undefined are set as an Intel core does (measured on family 6 model 0xA7
 * in 32-bit compatibility mode over every AX and several input flag states):
 *   DAA, DAS: OF = 0.
 *   AAA, AAS: SF = OF = 0; ZF and PF from the final AL.
 *   AAM:      CF = AF = OF = 0.
 *   AAD:      CF, AF, OF as for the 8-bit ADD AL + (AH * imm8) that forms the result.
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { de } from '../exceptions';
import type { Op } from '../operands';
import type { TranslatorTable } from '../translator';
import { add } from './arith';

/** SF, ZF, PF from the byte `al`; CF = `cf`, AF = `af`, OF = 0. */
function setFlags(c: Cpu, al: number, cf: number, af: number): void {
  c.fRes = al;
  c.fSgn = al << 24;
  c.fPar = al;
  c.fAux = af << 3;
  c.fCO = (cf << 31) | (cf << 30); // OF = bit 31 ^ bit 30 = 0
}

/** DAA (SDM vol. 2A DAA): decimal adjust AL after addition. */
const daa: Op = (c) => {
  const ax = c.lo[0];
  const oldAl = ax & 0xff, oldCf = c.fCO >>> 31;
  let al = oldAl, af = 0;
  if ((oldAl & 0x0f) > 9 || (c.fAux & 8) !== 0) {
    al = (al + 6) & 0xff;
    af = 1;
  }
  let cf = 0;
  if (oldAl > 0x99 || oldCf === 1) {
    al = (al + 0x60) & 0xff;
    cf = 1;
  }
  c.lo[0] = (ax & ~0xff) | al;
  setFlags(c, al, cf, af);
};

/** DAS (SDM vol. 2A DAS): decimal adjust AL after subtraction. */
const das: Op = (c) => {
  const ax = c.lo[0];
  const oldAl = ax & 0xff, oldCf = c.fCO >>> 31;
  let al = oldAl, af = 0, cf = 0;
  if ((oldAl & 0x0f) > 9 || (c.fAux & 8) !== 0) {
    al = (al - 6) & 0xff;
    // CF = old CF or the borrow of AL - 6 (kept when the second step does not apply).
    cf = oldCf | (oldAl < 6 ? 1 : 0);
    af = 1;
  }
  if (oldAl > 0x99 || oldCf === 1) {
    al = (al - 0x60) & 0xff;
    cf = 1;
  }
  c.lo[0] = (ax & ~0xff) | al;
  setFlags(c, al, cf, af);
};

/** AAA (SDM vol. 2A AAA): ASCII adjust after addition; AX = AX + 106H when adjusting. */
const aaa: Op = (c) => {
  let ax = c.lo[0];
  let f = 0;
  if ((ax & 0x0f) > 9 || (c.fAux & 8) !== 0) {
    ax = (ax & ~0xffff) | ((ax + 0x106) & 0xffff);
    f = 1;
  }
  const al = ax & 0x0f;
  c.lo[0] = (ax & ~0xff) | al;
  setFlags(c, al, f, f);
};

/** AAS (SDM vol. 2A AAS): ASCII adjust after subtraction; AX = AX - 6, AH = AH - 1 when adjusting. */
const aas: Op = (c) => {
  let ax = c.lo[0];
  let f = 0;
  if ((ax & 0x0f) > 9 || (c.fAux & 8) !== 0) {
    ax = (ax & ~0xffff) | ((ax - 6 - 0x100) & 0xffff);
    f = 1;
  }
  const al = ax & 0x0f;
  c.lo[0] = (ax & ~0xff) | al;
  setFlags(c, al, f, f);
};

/** AAM imm8 (SDM vol. 2A AAM): AH = AL / imm8, AL = AL mod imm8; #DE when imm8 = 0. */
function aam(d: DecodedInsn): Op | null {
  if (d.bitness === 64) return null;
  const base = d.immLo & 0xff;
  if (base === 0) return () => { throw de('AAM with a zero base'); };
  return (c) => {
    const ax = c.lo[0];
    const al = ax & 0xff;
    const q = (al / base) | 0;
    const r = al - q * base;
    c.lo[0] = (ax & ~0xffff) | (q << 8) | r;
    setFlags(c, r, 0, 0);
  };
}

/** AAD imm8 (SDM vol. 2A AAD): AL = (AL + AH * imm8) AND FFH, AH = 0. */
function aad(d: DecodedInsn): Op | null {
  if (d.bitness === 64) return null;
  const base = d.immLo & 0xff;
  return (c) => {
    const ax = c.lo[0];
    // Flags as for the byte addition (SF, ZF, PF are defined by it; CF, AF, OF match silicon).
    const al = add(c, ax & 0xff, ((ax >>> 8) & 0xff) * base & 0xff, 1) & 0xff;
    c.lo[0] = (ax & ~0xffff) | al;
  };
}

const legacy = (op: Op) => (d: DecodedInsn): Op | null => (d.bitness === 64 ? null : op);

export const bcdHandlers: TranslatorTable = {
  [Mnemonic.Daa]: legacy(daa),
  [Mnemonic.Das]: legacy(das),
  [Mnemonic.Aaa]: legacy(aaa),
  [Mnemonic.Aas]: legacy(aas),
  [Mnemonic.Aam]: aam,
  [Mnemonic.Aad]: aad,
};
