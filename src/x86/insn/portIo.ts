/**
 * IN, OUT, INS, OUTS (with REP) through the platform's port bus `cpu.io` (SDM vol. 2A IN, INS;
 * vol. 2B OUT, OUTS; vol. 1 chapter 19 "Input/Output"). In protected mode with CPL > IOPL, and
 * always in virtual-8086 mode, the TSS I/O permission bitmap decides (vol. 1 §19.5.2).
 *
 * The block ends after every port access, so an interrupt a device raises (or a device that
 * stops the machine) is seen right after the instruction.
 */
import { Code, Mnemonic, OpKind } from 'iced-x86';
import { ioBreakpoint } from '../debugRegs';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { ATTR_UNUSABLE } from '../descriptors';
import { gp0 } from '../exceptions';
import type { AddrFn, Op } from '../operands';
import { segmented } from '../operands';
import { Flag, Gpr, Seg } from '../registers';
import type { TranslatorTable } from '../translator';
import { advance, countIsZero, decCount } from './stringRegs';

const TWO32 = 4294967296;

/** Linear address of byte `off` of the TSS (implicit supervisor access; high half in c.linHi). */
function tssByte(c: Cpu, off: number): number {
  const s = (c.segBaseLo[Seg.TR] >>> 0) + off;
  c.linHi = c.longMode ? (c.segBaseHi[Seg.TR] + (s >= TWO32 ? 1 : 0)) | 0 : 0;
  return s | 0;
}

/**
 * The I/O permission check (SDM vol. 1 §19.5.1, §19.5.2): nothing in real mode or when
 * CPL <= IOPL in protected mode; otherwise (and always in virtual-8086 mode) every bit of the
 * TSS I/O bitmap covering ports port..port+size-1 must be 0, the TR must hold a 32/64-bit TSS,
 * and the two bytes read must lie within the TSS limit — else #GP(0).
 */
export function checkIoPermission(c: Cpu, port: number, size: number): void {
  if (c.dbgIo !== 0) ioBreakpoint(c, port, size); // I/O breakpoints (debugRegs.ts)
  if (!c.protectedMode) return;
  const rest = c.flagsRest;
  if ((rest & Flag.VM) === 0 && c.cpl <= ((rest >>> 12) & 3)) return;
  const tr = c.segAttr[Seg.TR];
  const type = tr & 0xf;
  if ((tr & ATTR_UNUSABLE) !== 0 || (type !== 9 && type !== 11)) throw gp0('I/O permission: no 32/64-bit TSS');
  const limit = c.segLimit[Seg.TR];
  if (limit < 103) throw gp0('I/O permission: TSS too small for an I/O map base');
  const a = tssByte(c, 102);
  const mapBase = c.readSystem(a, c.linHi, 2);
  const off = mapBase + (port >>> 3);
  if (off + 1 > limit) throw gp0(`I/O permission: port 0x${port.toString(16)} beyond the I/O bitmap`);
  const b = tssByte(c, off);
  const bits = c.readSystem(b, c.linHi, 2);
  if ((bits >>> (port & 7)) & ((1 << size) - 1)) throw gp0(`I/O permission: port 0x${port.toString(16)} denied by the bitmap`);
}

function sizeMask(size: number): number {
  return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
}

function ends(d: DecodedInsn): void {
  d.endsBlock = true;
  d.setsRip = false;
}

/** Port operand: an immediate byte, or DX. */
function portOf(d: DecodedInsn, i: number): (c: Cpu) => number {
  if (d.opKinds[i] === OpKind.Immediate8) {
    const p = d.immLo & 0xff;
    return () => p;
  }
  return (c) => c.lo[Gpr.RDX] & 0xffff;
}

/** IN AL/AX/EAX, imm8/DX: a 32-bit result zero-extends into RAX (SDM vol. 1 §3.4.1.1). */
function inPort(d: DecodedInsn): Op {
  ends(d);
  const size = d.opSizes[0];
  const port = portOf(d, 1);
  // In VMX non-root operation the I/O controls may make it exit, after the TSS check (vol. 3C §25.1.1).
  if (size === 4) {
    return (c) => {
      const p = port(c);
      checkIoPermission(c, p, 4);
      if (c.nonRoot && c.vmxInsn!.io(c, d, p, 4, true, false, false)) return;
      c.lo[Gpr.RAX] = c.io.portIn(p, 4) | 0; c.hi[Gpr.RAX] = 0;
    };
  }
  const m = sizeMask(size);
  return (c) => {
    const p = port(c);
    checkIoPermission(c, p, size);
    if (c.nonRoot && c.vmxInsn!.io(c, d, p, size, true, false, false)) return;
    const v = c.io.portIn(p, size) & m;
    c.lo[Gpr.RAX] = (c.lo[Gpr.RAX] & ~m) | v;
  };
}

function outPort(d: DecodedInsn): Op {
  ends(d);
  const size = d.opSizes[1];
  const port = portOf(d, 0);
  const m = sizeMask(size);
  return (c) => {
    const p = port(c);
    checkIoPermission(c, p, size);
    if (c.nonRoot && c.vmxInsn!.io(c, d, p, size, false, false, false)) return;
    c.io.portOut(p, size, size === 4 ? c.lo[Gpr.RAX] : c.lo[Gpr.RAX] & m);
  };
}

/** Offset closure for a string pointer register at address size `asz`. */
function pointer(reg: number, asz: number): AddrFn {
  if (asz === 8) return (c) => { c.linHi = c.hi[reg]; return c.lo[reg]; };
  if (asz === 4) return (c) => { c.linHi = 0; return c.lo[reg]; };
  return (c) => { c.linHi = 0; return c.lo[reg] & 0xffff; };
}

const INS_SIZES = new Map<Code, number>([[Code.Insb_m8_DX, 1], [Code.Insw_m16_DX, 2], [Code.Insd_m32_DX, 4]]);
const OUTS_SIZES = new Map<Code, number>([[Code.Outsb_DX_m8, 1], [Code.Outsw_DX_m16, 2], [Code.Outsd_DX_m32, 4]]);

/**
 * INS (SDM vol. 2A): [ES:rDI] = port DX; rDI moves by the size (DF). The destination's write
 * faults are checked before the port is read, so a fault never loses device data. With REP the
 * count is rCX at the address size; each element updates rDI and rCX only once it is done.
 */
function ins(d: DecodedInsn): Op | null {
  const size = INS_SIZES.get(d.code);
  if (size === undefined) return null;
  ends(d);
  const asz = d.addrSize;
  const dst = segmented(d.bitness, Seg.ES, size, pointer(Gpr.RDI, asz), true);
  const one = (c: Cpu, port: number): void => {
    const a = dst(c);
    c.rmwBegin(a, c.linHi, size);
    c.rmwEnd(size, c.io.portIn(port, size));
    advance(c, Gpr.RDI, asz, (c.flagsRest & Flag.DF) !== 0 ? -size : size);
  };
  if (!d.rep && !d.repne) {
    return (c) => {
      const port = c.lo[Gpr.RDX] & 0xffff;
      checkIoPermission(c, port, size);
      if (c.nonRoot && c.vmxInsn!.io(c, d, port, size, true, true, false)) return;
      one(c, port);
    };
  }
  return (c) => {
    const port = c.lo[Gpr.RDX] & 0xffff;
    checkIoPermission(c, port, size);
    // Exits (with the REP bit) before the first element, whatever the count (vol. 3C §25.1.3).
    if (c.nonRoot && c.vmxInsn!.io(c, d, port, size, true, true, true)) return;
    while (!countIsZero(c, asz)) {
      one(c, port);
      decCount(c, asz, 1);
    }
  };
}

/** OUTS (SDM vol. 2B): port DX = [seg:rSI] (DS unless overridden); rSI moves by the size (DF). */
function outs(d: DecodedInsn): Op | null {
  const size = OUTS_SIZES.get(d.code);
  if (size === undefined) return null;
  ends(d);
  const asz = d.addrSize;
  let seg = d.segPrefix >= 0 ? d.segPrefix : Seg.DS;
  // 64-bit mode ignores ES/CS/SS/DS overrides (SDM vol. 1 §3.3.7.1).
  if (d.bitness === 64 && seg !== Seg.FS && seg !== Seg.GS) seg = Seg.DS;
  const src = segmented(d.bitness, seg, size, pointer(Gpr.RSI, asz));
  const one = (c: Cpu, port: number): void => {
    const a = src(c);
    const v = c.readN(a, c.linHi, size);
    c.io.portOut(port, size, v);
    advance(c, Gpr.RSI, asz, (c.flagsRest & Flag.DF) !== 0 ? -size : size);
  };
  if (!d.rep && !d.repne) {
    return (c) => {
      const port = c.lo[Gpr.RDX] & 0xffff;
      checkIoPermission(c, port, size);
      if (c.nonRoot && c.vmxInsn!.io(c, d, port, size, false, true, false)) return;
      one(c, port);
    };
  }
  return (c) => {
    const port = c.lo[Gpr.RDX] & 0xffff;
    checkIoPermission(c, port, size);
    // Exits (with the REP bit) before the first element, whatever the count (vol. 3C §25.1.3).
    if (c.nonRoot && c.vmxInsn!.io(c, d, port, size, false, true, true)) return;
    while (!countIsZero(c, asz)) {
      one(c, port);
      decCount(c, asz, 1);
    }
  };
}

export const portIoHandlers: TranslatorTable = {
  [Mnemonic.In]: inPort,
  [Mnemonic.Out]: outPort,
  [Mnemonic.Insb]: ins,
  [Mnemonic.Insw]: ins,
  [Mnemonic.Insd]: ins,
  [Mnemonic.Outsb]: outs,
  [Mnemonic.Outsw]: outs,
  [Mnemonic.Outsd]: outs,
};
