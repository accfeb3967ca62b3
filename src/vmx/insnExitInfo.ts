/**
 * Exit qualifications and VM-exit instruction information of instruction-caused VM exits (SDM
 * vol. 3C §27.2.1 "Basic VM-Exit Information", tables 27-3 to 27-5; §27.2.4 "Information for
 * VM Exits Due to Instruction Execution", tables 27-8 to 27-14). Pure functions of the decoded
 * instruction and the processor state; they run only when an exit is taken (no allocation).
 *
 * Register numbers are the SDM's (0 RAX ... 15 R15), which is also the processor's GPR order.
 * Segment numbers are ES 0, CS 1, SS 2, DS 3, FS 4, GS 5 in both.
 */
import { Code, OpKind } from 'iced-x86';
import type { Cpu } from '../x86/cpu';
import type { DecodedInsn, MemOperand } from '../x86/decoded';
import { gprOf } from '../x86/decoded';

const TWO32 = 4294967296;

/** High half of the last 64-bit value a function of this file returned (its low half is the return value). */
export const out = { hi: 0 };

// ---- address size, scaling and the memory-operand fields (tables 27-9 to 27-14) --------------

/** Bits 9:7 of the instruction information: 0 16-bit, 1 32-bit, 2 64-bit. */
export function addrSizeCode(size: number): number {
  return size === 8 ? 2 : size === 4 ? 1 : 0;
}

/** log2 of the scale (bits 1:0). */
function scaleCode(scale: number): number {
  return scale === 8 ? 3 : scale === 4 ? 2 : scale === 2 ? 1 : 0;
}

/**
 * The memory-operand part shared by tables 27-9/27-10/27-11/27-13/27-14: scaling (1:0), address
 * size (9:7), bit 10 = 0 (memory), segment (17:15), index (21:18) and "index invalid" (22), base
 * (26:23) and "base invalid" (27). Fields the SDM leaves undefined (scaling without an index,
 * the register number of an invalid index/base) are written as 0.
 */
export function memoryInfo(m: MemOperand): number {
  let v = (addrSizeCode(m.addrSize) << 7) | ((m.seg & 7) << 15);
  if (m.index >= 0) v |= scaleCode(m.scale) | (m.index << 18);
  else v |= 1 << 22;
  if (m.base >= 0) v |= m.base << 23;
  else v |= 1 << 27;
  return v;
}

/** The GPR number of operand `i` (a register operand), or 0. */
export function regOf(d: DecodedInsn, i: number): number {
  const g = gprOf(d.opRegs[i]);
  return g === null ? 0 : g.index;
}

/**
 * Table 27-9 (INVEPT, INVPCID, INVVPID) and table 27-13 (VMCLEAR, VMPTRLD, VMPTRST, VMXON,
 * XRSTORS, XSAVES): the memory operand, and Reg2 (31:28) = the register operand when there is
 * one (the INVEPT/INVPCID/INVVPID type register, operand 0).
 */
export function memoryInstructionInfo(d: DecodedInsn): number {
  const m = d.mem;
  if (m === null) return 0;
  let v = memoryInfo(m);
  if (d.opCount > 1 && d.opKinds[0] === OpKind.Register) v |= regOf(d, 0) << 28;
  return v >>> 0;
}

/**
 * Table 27-10 (LIDT, LGDT, SIDT, SGDT): the memory operand, operand size (bit 11: 0 16-bit,
 * 1 32-bit; undefined in 64-bit mode, written 1 there), instruction identity (29:28: 0 SGDT,
 * 1 SIDT, 2 LGDT, 3 LIDT).
 */
export function descriptorTableInfo(d: DecodedInsn, identity: number): number {
  const m = d.mem;
  if (m === null) return 0;
  const os16 = d.code === Code.Lgdt_m1632_16 || d.code === Code.Lidt_m1632_16
    || d.code === Code.Sgdt_m1632_16 || d.code === Code.Sidt_m1632_16;
  return (memoryInfo(m) | (os16 ? 0 : 1 << 11) | (identity << 28)) >>> 0;
}

/**
 * Table 27-11 (LLDT, LTR, SLDT, STR): a register operand sets bit 10 and Reg1 (6:3); a memory
 * operand gives the memory fields. Instruction identity (29:28): 0 SLDT, 1 STR, 2 LLDT, 3 LTR.
 */
export function systemSelectorInfo(d: DecodedInsn, identity: number): number {
  const m = d.mem;
  const v = m !== null ? memoryInfo(m) : (1 << 10) | (regOf(d, 0) << 3);
  return (v | (identity << 28)) >>> 0;
}

/**
 * Table 27-14 (VMREAD, VMWRITE): Reg1 (6:3) is the r/m register when bit 10 is 1 (VMREAD's
 * destination, VMWRITE's source); Reg2 (31:28) is the register holding the field encoding.
 * VMREAD r/m, r (operand 0 r/m); VMWRITE r, r/m (operand 1 r/m).
 */
export function vmreadWriteInfo(d: DecodedInsn, write: boolean): number {
  const rm = write ? 1 : 0;
  const reg = write ? 0 : 1;
  const m = d.mem;
  const v = d.opKinds[rm] === OpKind.Memory && m !== null ? memoryInfo(m) : (1 << 10) | (regOf(d, rm) << 3);
  return (v | (regOf(d, reg) << 28)) >>> 0;
}

/** Table 27-12 (RDRAND, RDSEED): destination register (6:3), operand size (12:11: 0 16, 1 32, 2 64). */
export function rdrandInfo(d: DecodedInsn): number {
  const g = gprOf(d.opRegs[0]);
  if (g === null) return 0;
  const os = g.size === 8 ? 2 : g.size === 4 ? 1 : 0;
  return (g.index << 3) | (os << 11);
}

/**
 * The segment OUTS reads from: DS unless overridden; in 64-bit mode an ES/CS/SS/DS override is
 * ignored (SDM vol. 1 §3.3.7.1), as the processor's OUTS uses it.
 */
function outsSegment(d: DecodedInsn): number {
  const seg = d.segPrefix >= 0 ? d.segPrefix : 3;
  return d.bitness === 64 && seg !== 4 && seg !== 5 ? 3 : seg;
}

/**
 * Table 27-8 (INS, OUTS; reported when IA32_VMX_BASIC[54] = 1): address size (9:7) and, for
 * OUTS, the segment (17:15; undefined for INS, which always uses ES: written as ES).
 */
export function stringIoInfo(d: DecodedInsn, input: boolean): number {
  return (addrSizeCode(d.addrSize) << 7) | ((input ? 0 : outsSegment(d)) << 15);
}

// ---- exit qualifications (§27.2.1) ---------------------------------------------------------

/**
 * The qualification of the instructions with a memory operand (INVEPT, INVPCID, INVVPID, LGDT,
 * LIDT, LLDT, LTR, SGDT, SIDT, SLDT, STR, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMXON,
 * XRSTORS, XSAVES): the displacement field sign-extended to 64 bits, 0 without one (register
 * operand); with RIP-relative addressing the displacement plus the next instruction's RIP.
 * Returns the low half, the high half in out.hi.
 */
export function displacementQualification(d: DecodedInsn): number {
  const m = d.mem;
  if (m === null) {
    out.hi = 0;
    return 0;
  }
  if (m.addrSize === 8) {
    // The decoder keeps 64-bit displacements sign-extended (absolute for RIP-relative).
    out.hi = m.dispHi;
    return m.dispLo;
  }
  // 16/32-bit addressing: the displacement modulo the address size, sign-extended from it.
  const lo = m.addrSize === 2 ? (m.dispLo << 16) >> 16 : m.dispLo | 0;
  out.hi = lo >> 31;
  return lo;
}

/** Table 27-5 (I/O): size - 1 (2:0), IN (3), string (4), REP (5), immediate port (6), port (31:16). */
export function ioQualification(port: number, size: number, input: boolean, string: boolean, rep: boolean, immediate: boolean): number {
  return ((size - 1) | (input ? 8 : 0) | (string ? 0x10 : 0) | (rep ? 0x20 : 0) | (immediate ? 0x40 : 0) | ((port & 0xffff) << 16)) >>> 0;
}

/** Access types of table 27-3 (bits 5:4). */
export const CR_MOV_TO = 0;
export const CR_MOV_FROM = 1;
export const CR_CLTS = 2;
export const CR_LMSW = 3;

/**
 * Table 27-3 (control-register access): CR number (3:0; 0 for CLTS and LMSW), access type
 * (5:4), LMSW operand type (6: 1 memory), GPR (11:8; MOV CR only), LMSW source data (31:16).
 */
export function crQualification(cr: number, type: number, gpr: number, lmswMemory: boolean, lmswSource: number): number {
  let v = (cr & 0xf) | (type << 4);
  if (type === CR_MOV_TO || type === CR_MOV_FROM) v |= (gpr & 0xf) << 8;
  if (type === CR_LMSW) v |= (lmswMemory ? 0x40 : 0) | ((lmswSource & 0xffff) << 16);
  return v >>> 0;
}

/** Table 27-4 (MOV DR): DR number (2:0), direction (4: 1 MOV from DR), GPR (11:8). */
export function drQualification(dr: number, toDr: boolean, gpr: number): number {
  return (dr & 7) | (toDr ? 0 : 0x10) | ((gpr & 0xf) << 8);
}

// ---- linear addresses --------------------------------------------------------------------

/**
 * The effective address of `m` plus its segment base (in 64-bit mode only FS/GS have bases), as
 * the instruction would use it; bits 63:32 are 0 outside 64-bit mode. Low half returned, high
 * half in out.hi. No segment or canonical check: INVLPG's qualification and LMSW's guest-linear
 * address are the address the instruction would have used (§27.2.1).
 */
export function memoryLinear(c: Cpu, d: DecodedInsn, m: MemOperand): number {
  let lo: number, hi: number;
  const dLo = m.dispLo >>> 0;
  if (m.addrSize === 8) {
    let s = dLo;
    hi = m.dispHi;
    if (m.base >= 0) {
      s += c.lo[m.base] >>> 0;
      hi += c.hi[m.base];
    }
    if (m.index >= 0) {
      s += (c.lo[m.index] >>> 0) * m.scale;
      hi += Math.imul(c.hi[m.index], m.scale);
    }
    hi = (hi + Math.floor(s / TWO32)) | 0;
    lo = s % TWO32;
  } else {
    let s = dLo;
    if (m.base >= 0) s += c.lo[m.base] >>> 0;
    if (m.index >= 0) s += Math.imul(c.lo[m.index], m.scale) >>> 0;
    lo = m.addrSize === 2 ? s & 0xffff : s % TWO32;
    hi = 0;
  }
  return addSegmentBase(c, d, m.seg, lo, hi);
}

/** `lo`/`hi` (an offset) plus the base of segment `seg` as the mode uses it; high half in out.hi. */
export function addSegmentBase(c: Cpu, d: DecodedInsn, seg: number, lo: number, hi: number): number {
  if (d.bitness === 64) {
    if (seg === 4 || seg === 5) {
      const s = (lo >>> 0) + (c.segBaseLo[seg] >>> 0);
      out.hi = (hi + c.segBaseHi[seg] + (s >= TWO32 ? 1 : 0)) | 0;
      return s | 0;
    }
    out.hi = hi;
    return lo | 0;
  }
  out.hi = 0;
  return ((lo >>> 0) + (c.segBaseLo[seg] >>> 0)) | 0;
}

/**
 * Guest-linear address of an INS/OUTS exit (§27.2.1): the relevant segment's base (ES for INS,
 * DS or the override for OUTS) plus rDI/rSI at the address size; high half in out.hi.
 */
export function stringIoLinear(c: Cpu, d: DecodedInsn, input: boolean): number {
  const reg = input ? 7 : 6;
  const seg = input ? 0 : outsSegment(d);
  const asz = d.addrSize;
  const lo = asz === 2 ? c.lo[reg] & 0xffff : c.lo[reg];
  const hi = asz === 8 ? c.hi[reg] : 0;
  return addSegmentBase(c, d, seg, lo, hi);
}
