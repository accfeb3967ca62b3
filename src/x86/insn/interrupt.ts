/**
 * INT n, INT3, INTO, INT1, BOUND, IRET/IRETD/IRETQ, CLI, STI (SDM vol. 2A INT n/INTO/INT3/INT1,
 * BOUND and IRET/IRETD/IRETQ, vol. 2A CLI, vol. 2B STI; delivery itself in interrupts.ts).
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu';
import { ATTR_UNUSABLE, readDescriptor, updateModeFromSegments } from '../descriptors';
import { CpuException, Vector, gp0 } from '../exceptions';
import { EventKind, softwareInterrupt } from '../interrupts';
import { iretTaskReturn } from '../taskSwitch';
import { iretFromV86, iretToV86 } from '../v86';
import { linearAddress, type Op } from '../operands';
import { Flag, Gpr, Seg } from '../registers';
import { adjustSp, stackRead } from '../stack';
import type { TranslatorTable } from '../translator';
import { gprOf, type DecodedInsn } from '../decoded';

const TWO32 = 4294967296;

/** CLI/STI are allowed when CPL <= IOPL in protected mode, IOPL = 3 in virtual-8086 mode (no VME/PVI). */
function ifChangeAllowed(c: Cpu): boolean {
  if (!c.protectedMode) return true;
  const iopl = (c.flagsRest >>> 12) & 3;
  if (c.flagsRest & Flag.VM) return iopl === 3;
  return c.cpl <= iopl;
}

/**
 * `ioplSensitive`: INT imm8 (opcode CD, including CD 03). In virtual-8086 mode with IOPL < 3 it
 * raises #GP(0) (SDM vol. 2A INT n "PROTECTED-MODE"; vol. 3A §20.2.7, table 20-2 method 2;
 * CR4.VME is not supported). INT3 (CC), INTO and INT1 are not IOPL-sensitive: they go to the
 * protected-mode handler at any IOPL (vol. 2A INT3 description; §20.3.1.1).
 */
function intN(d: DecodedInsn, vector: number, kind: EventKind, ioplSensitive: boolean): Op {
  const nLo = d.nextLo, nHi = d.nextHi;
  d.endsBlock = true;
  d.setsRip = true;
  return (c) => {
    if (ioplSensitive && (c.flagsRest & Flag.VM) !== 0 && (c.flagsRest & Flag.IOPL) !== Flag.IOPL) {
      throw gp0('INT n in virtual-8086 mode with IOPL < 3');
    }
    softwareInterrupt(c, vector, kind, nLo, nHi);
  };
}

// ---- IRET ---------------------------------------------------------------------------------
/** Read the n-byte stack item k (0-based, n bytes each) above RSP; 8 bytes: high half in c.vHi. */
function item(c: Cpu, k: number, n: number): number {
  const sb = c.stackBits;
  if (sb === 64) {
    const s = (c.lo[Gpr.RSP] >>> 0) + k * n;
    return stackRead(c, 64, s | 0, (c.hi[Gpr.RSP] + (s >= TWO32 ? 1 : 0)) | 0, n);
  }
  return stackRead(c, sb, (c.lo[Gpr.RSP] + k * n) | 0, 0, n);
}

/** Real-address mode (SDM vol. 2A IRET, "REAL-ADDRESS-MODE"). */
function iretReal(c: Cpu, n: number): void {
  const ip = item(c, 0, n);
  const cs = item(c, 1, n) & 0xffff;
  const fl = item(c, 2, n);
  const eip = n === 2 ? ip & 0xffff : ip >>> 0;
  if (eip > c.segLimit[Seg.CS]) throw gp0('IRET target beyond the code-segment limit');
  adjustSp(c, 3 * n);
  c.segSel[Seg.CS] = cs;
  c.segBaseLo[Seg.CS] = cs << 4;
  c.segBaseHi[Seg.CS] = 0;
  c.ripLo = eip | 0;
  c.ripHi = 0;
  // 16-bit: FLAGS[15:0]; 32-bit: EFLAGS AND 257FD5H (VM, VIF, VIP kept).
  c.setRflags(fl, n === 2 ? 0x7fd5 : 0x257fd5);
  c.codeChanged();
}

/** Protected and IA-32e mode (SDM vol. 2A IRET, "PROTECTED-MODE" and "IA-32e-MODE"). */
function iretProtected(c: Cpu, n: number): void {
  if (c.flagsRest & Flag.NT) {
    throw gp0('IRET with NT = 1 in IA-32e mode');
  }
  const ipLo = item(c, 0, n);
  const ipHi = n === 8 ? c.vHi : 0;
  const cs = item(c, 1, n) & 0xffff;
  const fl = item(c, 2, n);
  const cpl = c.cpl;
  if (!c.longMode && n === 4 && (fl & Flag.VM) !== 0 && cpl === 0) {
    // "RETURN-TO-VIRTUAL-8086-MODE" (v86.ts).
    iretToV86(c);
    return;
  }
  if ((cs & 0xfffc) === 0) throw gp0('IRET to a null code selector');
  const cd = readDescriptor(c, cs, Vector.GP);
  const rpl = cs & 3;
  const err = (why: string) => new CpuException(Vector.GP, cs & 0xfffc, why);
  if (cd.s === 0 || (cd.type & 8) === 0) throw err('IRET target is not a code segment');
  if (rpl < cpl) throw err('IRET to a more privileged level');
  if (cd.type & 4 ? cd.dpl > rpl : cd.dpl !== rpl) throw err('IRET code-segment DPL does not match');
  if (!cd.present) throw new CpuException(Vector.NP, cs & 0xfffc, 'IRET code segment not present');
  const to64 = c.longMode && (cd.attr & 0x2000) !== 0;
  if (to64 && (cd.attr & 0x4000) !== 0) throw err('IRET to a code segment with L = 1 and D = 1');
  // 64-bit mode always pops SS:RSP; otherwise only on a return to an outer level.
  const popSs = rpl > cpl || c.bitness === 64;
  let spLo = 0, spHi = 0, ss = 0;
  let sd = null;
  if (popSs) {
    spLo = item(c, 3, n);
    spHi = n === 8 ? c.vHi : 0;
    ss = item(c, 4, n) & 0xffff;
    if ((ss & 0xfffc) === 0) {
      if (!to64 || rpl === 3) throw gp0('IRET loads a null SS');
    } else {
      const d = readDescriptor(c, ss, Vector.GP);
      if ((ss & 3) !== rpl || d.s === 0 || (d.type & 0xa) !== 2 || d.dpl !== rpl) {
        throw new CpuException(Vector.GP, ss & 0xfffc, 'IRET stack segment invalid for the new CPL');
      }
      if (!d.present) throw new CpuException(Vector.SS, ss & 0xfffc, 'IRET stack segment not present');
      sd = d;
    }
  }
  if (to64) {
    if (((ipHi << c.canonShift) >> c.canonShift) !== ipHi) throw gp0('IRET to a non-canonical RIP');
  } else {
    const eip = n === 2 ? ipLo & 0xffff : ipLo >>> 0;
    if (ipHi !== 0 || eip > cd.limit) throw gp0('IRET target beyond the code-segment limit');
  }
  // ---- commit ----
  let mask = 0x4dd5; // CF PF AF ZF SF TF DF OF NT
  if (n !== 2) mask |= Flag.RF | Flag.AC | Flag.ID;
  const iopl = (c.flagsRest >>> 12) & 3;
  if (cpl <= iopl) mask |= Flag.IF;
  if (cpl === 0) {
    mask |= Flag.IOPL;
    if (n !== 2) mask |= Flag.VIF | Flag.VIP;
  }
  c.segSel[Seg.CS] = cs;
  c.segBaseLo[Seg.CS] = cd.base | 0;
  c.segBaseHi[Seg.CS] = 0;
  c.segLimit[Seg.CS] = cd.limit;
  c.segAttr[Seg.CS] = cd.attr | 1;
  c.ripLo = n === 2 ? ipLo & 0xffff : ipLo;
  c.ripHi = to64 ? ipHi : 0;
  c.setRflags(fl, mask);
  if (popSs) {
    c.segSel[Seg.SS] = ss;
    if (sd === null) {
      c.segBaseLo[Seg.SS] = 0;
      c.segBaseHi[Seg.SS] = 0;
      c.segLimit[Seg.SS] = 0;
      c.segAttr[Seg.SS] = ATTR_UNUSABLE | (rpl << 5);
    } else {
      c.segBaseLo[Seg.SS] = sd.base | 0;
      c.segBaseHi[Seg.SS] = 0;
      c.segLimit[Seg.SS] = sd.limit;
      c.segAttr[Seg.SS] = sd.attr | 1;
    }
    if (n === 2) {
      c.lo[Gpr.RSP] = (c.lo[Gpr.RSP] & ~0xffff) | (spLo & 0xffff);
    } else {
      c.lo[Gpr.RSP] = spLo;
      c.hi[Gpr.RSP] = spHi;
    }
  } else {
    adjustSp(c, 3 * n);
  }
  if (rpl !== cpl) {
    c.cpl = rpl;
    c.flushTlb();
    // Data segments (and non-conforming code) the new CPL may not use become null (SDM IRET).
    for (const s of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) {
      const a = c.segAttr[s];
      if (a & ATTR_UNUSABLE) continue;
      const dataOrNc = (a & 8) === 0 || (a & 4) === 0;
      if (dataOrNc && ((a >>> 5) & 3) < rpl) {
        c.segSel[s] = 0;
        c.segAttr[s] = ATTR_UNUSABLE;
      }
    }
  }
  updateModeFromSegments(c);
}

function iret(d: DecodedInsn, n: number): Op {
  d.endsBlock = true;
  d.setsRip = true;
  const nLo = d.nextLo;
  return (c) => {
    // IRET ends NMI blocking, even when it faults (SDM vol. 3A §6.7.1).
    // IRET unblocks NMIs (SDM vol. 3A §6.7.1); in non-root operation the engine decides (virtual NMIs, bit 12).
    if (c.nonRoot) c.vmxEvents!.iret(c);
    else c.nmiBlocked = false;
    c.eventPending = true;
    if (!c.protectedMode) iretReal(c, n);
    else if (c.flagsRest & Flag.VM) iretFromV86(c, n);
    // NT = 1 outside IA-32e mode: return to the previous task (SDM vol. 2A IRET "TASK-RETURN",
    // vol. 3A §7.4); the EIP saved in the current task's TSS is the one after the IRET.
    else if ((c.flagsRest & Flag.NT) !== 0 && !c.longMode) iretTaskReturn(c, nLo);
    else iretProtected(c, n);
    if (c.flagsRest & Flag.RF) {
      c.rfPending = true;
      c.rfArmed = false;
    }
  };
}

/**
 * BOUND r16, m16&16 / r32, m32&32 (SDM vol. 2A BOUND): the signed index in the register must lie
 * within the lower bound (first word/dword of the operand) and the upper bound (the next one),
 * both inclusive; otherwise #BR, a fault (RIP stays on BOUND; vol. 3A §6.15 interrupt 5). Not
 * encodable in 64-bit mode (62h is the EVEX prefix there), nor with a register operand.
 */
function bound(d: DecodedInsn): Op | null {
  if (d.bitness === 64 || d.mem === null) return null;
  const r = gprOf(d.opRegs[0]);
  if (r === null) return null;
  const g = r.index;
  const size = d.opSizes[0];
  const addr = linearAddress(d, d.mem, 2 * size);
  return (c) => {
    const a = addr(c);
    const h = c.linHi;
    let index: number, lower: number, upper: number;
    if (size === 4) {
      lower = c.read32(a, h) | 0;
      upper = c.read32((a + 4) >>> 0, h) | 0;
      index = c.lo[g] | 0;
    } else {
      lower = (c.read16(a, h) << 16) >> 16;
      upper = (c.read16((a + 2) >>> 0, h) << 16) >> 16;
      index = (c.lo[g] << 16) >> 16;
    }
    if (index < lower || index > upper) {
      throw new CpuException(Vector.BR, undefined, `BOUND: index ${index} outside [${lower}, ${upper}]`);
    }
  };
}

export const interruptHandlers: TranslatorTable = {
  [Mnemonic.Int]: (d) => intN(d, d.immLo & 0xff, EventKind.Software, true),
  [Mnemonic.Int3]: (d) => intN(d, Vector.BP, EventKind.Software, false),
  [Mnemonic.Int1]: (d) => intN(d, Vector.DB, EventKind.Icebp, false),
  [Mnemonic.Into]: (d) => {
    if (d.bitness === 64) return null; // #UD in 64-bit mode
    const nLo = d.nextLo, nHi = d.nextHi;
    d.endsBlock = true;
    d.setsRip = true;
    return (c) => {
      if (c.of) {
        softwareInterrupt(c, Vector.OF, EventKind.Software, nLo, nHi);
      } else {
        c.ripLo = nLo;
        c.ripHi = nHi;
      }
    };
  },
  [Mnemonic.Bound]: bound,
  [Mnemonic.Iret]: (d) => iret(d, 2),
  [Mnemonic.Iretd]: (d) => iret(d, 4),
  [Mnemonic.Iretq]: (d) => iret(d, 8),
  [Mnemonic.Cli]: () => (c) => {
    if (!ifChangeAllowed(c)) throw gp0('CLI with CPL > IOPL');
    c.flagsRest &= ~Flag.IF;
  },
  [Mnemonic.Sti]: (d) => {
    // The block ends after STI so the run loop sees the interrupt shadow on the next boundary.
    d.endsBlock = true;
    d.setsRip = false;
    return (c) => {
      if (!ifChangeAllowed(c)) throw gp0('STI with CPL > IOPL');
      if ((c.flagsRest & Flag.IF) === 0) {
        // Interrupts stay inhibited until the next instruction completes (SDM vol. 2B STI).
        c.flagsRest |= Flag.IF;
        c.interruptShadow = true;
      }
      c.eventPending = true;
    };
  },
};
