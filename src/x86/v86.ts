/**
 * Virtual-8086 mode (SDM vol. 3A chapter 20): entering it with IRET, IRET inside it, and the
 * segment loads that make its real-mode-style addressing.
 *
 * In virtual-8086 mode (CR0.PE = 1, EFLAGS.VM = 1) every segment register is loaded the way real
 * mode loads it — base = selector << 4 — and its hidden part gets limit 0FFFFH and the
 * attributes of a present, accessed, read/write, DPL-3 data segment (0F3H; SDM vol. 3A §20.2.1
 * and the virtual-8086 guest-state checks of vol. 3C §26.3.1.2). CPL is 3 and code runs with a
 * 16-bit default operand and address size (descriptors.ts `updateModeFromSegments`).
 *
 * Not implemented: the virtual-mode extensions (CR4.VME: VIF/VIP virtual interrupts, the TSS
 * interrupt-redirection bitmap) and protected-mode virtual interrupts (CR4.PVI). CPUID does not
 * report VME, so both CR4 bits stay reserved (#GP(0) on a MOV to CR4 that sets them;
 * controlRegisters.ts), and every software interrupt goes to the protected-mode IDT.
 */
import type { Cpu } from './cpu';
import { updateModeFromSegments } from './descriptors';
import { CpuException, Vector, gp0 } from './exceptions';
import { Flag, Gpr, Seg } from './registers';
import { adjustSp, stackRead } from './stack';

/** Access rights (VMCS layout) of every segment register in virtual-8086 mode. */
export const V86_ATTR = 0xf3;

/** Load segment register `seg` (ES..GS) the virtual-8086 way: base = sel << 4, limit 0FFFFH, DPL-3 data. */
export function loadV86Segment(c: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  c.segSel[seg] = sel;
  c.segBaseLo[seg] = sel << 4;
  c.segBaseHi[seg] = 0;
  c.segLimit[seg] = 0xffff;
  c.segAttr[seg] = V86_ATTR;
}

/** The n-byte stack item k (0-based) above ESP/SP on the current stack (outside IA-32e mode). */
function item(c: Cpu, k: number, n: number): number {
  return stackRead(c, c.stackBits, (c.lo[Gpr.RSP] + k * n) | 0, 0, n);
}

/** Every architecturally writable EFLAGS bit (CF PF AF ZF SF TF IF DF OF IOPL NT RF VM AC VIF VIP ID). */
const ALL_FLAGS = 0x3f7fd5;

/**
 * IRET at CPL 0 in protected mode whose 32-bit EFLAGS image has VM = 1 (SDM vol. 2A IRET,
 * "RETURN-TO-VIRTUAL-8086-MODE"; vol. 3A §20.2.1): the frame is EIP, CS, EFLAGS, ESP, SS, ES,
 * DS, FS, GS, each a doubleword (selectors in the low word). The whole frame is read and the
 * return EIP checked against the virtual-8086 CS limit (0FFFFH, #GP(0)) before anything changes;
 * then EFLAGS is loaded whole, the six segment registers get real-mode-style caches, ESP the
 * popped value and CPL becomes 3.
 */
export function iretToV86(c: Cpu): void {
  const eip = item(c, 0, 4);
  const cs = item(c, 1, 4);
  const fl = item(c, 2, 4);
  const esp = item(c, 3, 4);
  const ss = item(c, 4, 4);
  const es = item(c, 5, 4);
  const ds = item(c, 6, 4);
  const fs = item(c, 7, 4);
  const gs = item(c, 8, 4);
  if ((eip >>> 0) > 0xffff) throw gp0('IRET to virtual-8086 mode: EIP beyond the 64 KiB code segment');
  // ---- commit ----
  c.setRflags(fl, ALL_FLAGS);
  loadV86Segment(c, Seg.CS, cs);
  loadV86Segment(c, Seg.SS, ss);
  loadV86Segment(c, Seg.ES, es);
  loadV86Segment(c, Seg.DS, ds);
  loadV86Segment(c, Seg.FS, fs);
  loadV86Segment(c, Seg.GS, gs);
  c.lo[Gpr.RSP] = esp;
  c.hi[Gpr.RSP] = 0;
  c.ripLo = eip;
  c.ripHi = 0;
  if (c.cpl !== 3) {
    c.cpl = 3;
    c.flushTlb();
  }
  updateModeFromSegments(c);
}

/**
 * IRET executed in virtual-8086 mode (SDM vol. 2A IRET, "RETURN-FROM-VIRTUAL-8086-MODE";
 * vol. 3A §20.2.7): with IOPL < 3 it is #GP(0) (a trap to the virtual-8086 monitor; no VME).
 * With IOPL = 3 a real-mode-style return: (E)IP, CS, then FLAGS[15:0] (IOPL kept) or EFLAGS
 * (VM, IOPL, VIF, VIP kept); #GP(0) when the new (E)IP is beyond the CS limit.
 */
export function iretFromV86(c: Cpu, n: number): void {
  if ((c.flagsRest & Flag.IOPL) !== Flag.IOPL) throw gp0('IRET in virtual-8086 mode with IOPL < 3');
  const ip = item(c, 0, n);
  const cs = item(c, 1, n);
  const fl = item(c, 2, n);
  const eip = n === 2 ? ip & 0xffff : ip >>> 0;
  if (eip > c.segLimit[Seg.CS]) throw gp0('IRET target beyond the code-segment limit');
  adjustSp(c, 3 * n);
  loadV86Segment(c, Seg.CS, cs);
  c.ripLo = eip | 0;
  c.ripHi = 0;
  // 32-bit: CF PF AF ZF SF TF IF DF OF NT RF AC ID; 16-bit: the same bits of FLAGS[15:0].
  c.setRflags(fl, n === 2 ? 0x4fd5 : 0x254fd5);
  c.codeChanged();
}

/**
 * The code-segment rule for an interrupt or exception taken from virtual-8086 mode (SDM vol. 2A
 * INT n "PROTECTED-MODE"; vol. 3A §20.3.1.1): the gate must lead to a non-conforming code
 * segment of privilege level 0, else #GP(code-segment selector) (the caller adds EXT).
 */
export function checkV86HandlerSegment(sel: number, type: number, dpl: number): void {
  if ((type & 4) !== 0 || dpl !== 0) {
    throw new CpuException(Vector.GP, sel & 0xfffc, 'interrupt from virtual-8086 mode to a code segment that is not privilege level 0 non-conforming');
  }
}
