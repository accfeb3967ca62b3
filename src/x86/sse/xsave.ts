/**
 * The XSAVE feature set's save/restore instructions for the state components this processor has:
 * x87 (component 0) and SSE (component 1: XMM registers and MXCSR). SDM vol. 1 chapter 13
 * (§13.4 XSAVE area, §13.5.1-13.5.2 x87/SSE state, §13.6 init tracking, §13.7 XSAVE, §13.8
 * XRSTOR, §13.9 XSAVEOPT, §13.10 XSAVEC) and the vol. 2 instruction pages.
 *
 * - XSAVE/XSAVE64, XSAVEOPT/XSAVEOPT64 (behaves as XSAVE: the init and modified optimizations are
 *   permitted, not required, §13.9), XSAVEC/XSAVEC64 (compacted format, init optimization),
 *   XRSTOR/XRSTOR64 (standard and compacted forms).
 * - XSAVES/XRSTORS (§13.11-13.12) behave as XSAVEC / compacted XRSTOR with a CPL 0 check and
 *   RFBM = EDX:EAX AND (XCR0 OR IA32_XSS); CPUID.(EAX=0DH,ECX=1):EAX[3] reports them (#UD when a
 *   CPU model clears it). IA32_XSS (MSR 0xDA0, msr.ts) has no supported supervisor component, so
 *   it is always 0 and the masks equal XCR0; the code reads it anyway.
 *
 * XINUSE (§13.6) is computed from the register values: a component is "in use" unless it is in
 * its initial configuration, which the SDM permits (XINUSE[i] may be 1 in init state, never 0
 * outside it). Every memory access is checked (or read into a buffer) before state changes.
 *
 * Measured on this host's Intel silicon (user mode, XCR0 = x87|SSE|AVX...): XSAVE keeps the
 * XSTATE_BV bits outside RFBM and writes no other header byte; XSAVEC writes XSTATE_BV and
 * XCOMP_BV only (header bytes 63:16 keep their old contents); XSAVE still stores the x87 image
 * when XSTATE_BV[0] = 0; XSAVEOPT there skips an x87 component in its initial state (the init
 * optimization), which this model, like XSAVE, does not do. XRSTOR's header checks were confirmed
 * there too: standard form faults on header bytes 23:16 but not 63:24, compacted on 63:16.
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { CpuException, Vector, gp0, ud } from '../exceptions';
import { linearAddress, type Op } from '../operands';
import { Gpr } from '../registers';
import type { Translator, TranslatorTable } from '../translator';
import { cpuidBit } from '../controlRegisters';
import { CR0_TS, MXCSR_MASK } from './common';
import { loadX87Image } from './fxsave';
import { getStored } from '../msr';
import { InsnExit } from '../vmxInsnHooks';

/** IA32_XSS (SDM vol. 4 table 2-2): the supervisor components XSAVES/XRSTORS manage. */
const IA32_XSS = 0xda0;

const CR4_OSXSAVE = 1 << 18;
/** Legacy region (512) + XSAVE header (64): the whole area for XCR0 = 1 or 3. */
export const XSAVE_AREA_SIZE = 576;
const TWO32 = 4294967296;
const MXCSR_INIT = 0x1f80;

/** Linear address `lo:hi + off` (carry into the high half only in 64-bit mode). */
function at(c: Cpu, lo: number, hi: number, off: number): number {
  const s = (lo >>> 0) + off;
  c.linHi = s >= TWO32 && c.bitness === 64 ? (hi + 1) | 0 : hi;
  return s | 0;
}

/** Common checks of §13.7-13.10: #UD unless CR4.OSXSAVE, #NM when CR0.TS. */
function xCheck(c: Cpu): void {
  if ((c.cr4 & CR4_OSXSAVE) === 0) throw ud('XSAVE family with CR4.OSXSAVE = 0');
  if ((c.cr0 & CR0_TS) !== 0) throw new CpuException(Vector.NM, undefined, 'XSAVE family with CR0.TS = 1');
}

/** XINUSE (§13.6): bit 0 unless x87 is in its initial configuration, bit 1 unless the XMM registers are 0. */
export function xinuse(c: Cpu): number {
  const f = c.fpu;
  let x87 = f.fcw !== 0x037f || f.fsw !== 0 || f.top !== 0 || f.ftw !== 0xffff || f.fop !== 0 || f.fipLo !== 0
    || f.fipHi !== 0 || f.fdpLo !== 0 || f.fdpHi !== 0 || f.fcs !== 0 || f.fds !== 0;
  for (let i = 0; i < 8 && !x87; i++) x87 = f.sigLo[i] !== 0 || f.sigHi[i] !== 0 || f.signExp[i] !== 0;
  // XINUSE[1] concerns the XMM registers only, not MXCSR; XMM8-15 only in 64-bit mode.
  let sse = false;
  const n = (c.bitness === 64 ? 16 : 8) * 4;
  for (let i = 0; i < n && !sse; i++) sse = c.sse.xmm[i] !== 0;
  return (x87 ? 1 : 0) | (sse ? 2 : 0);
}

// ---- stores (the area is checked writable first) ----------------------------------------------
function storeX87(c: Cpu, lo: number, hi: number, wide: boolean): void {
  const f = c.fpu;
  const w16 = (off: number, v: number): void => { const a = at(c, lo, hi, off); c.write16(a, c.linHi, v & 0xffff); };
  const w32 = (off: number, v: number): void => { const a = at(c, lo, hi, off); c.write32(a, c.linHi, v); };
  w16(0, f.fcw);
  w16(2, (f.fsw & ~0x3800) | ((f.top & 7) << 11));
  let tag = 0;
  for (let i = 0; i < 8; i++) if (((f.ftw >> (2 * i)) & 3) !== 3) tag |= 1 << i;
  const a4 = at(c, lo, hi, 4); c.write8(a4, c.linHi, tag);
  w16(6, f.fop & 0x7ff);
  if (wide) {
    w32(8, f.fipLo); w32(12, f.fipHi); w32(16, f.fdpLo); w32(20, f.fdpHi);
  } else {
    w32(8, f.fipLo); w16(12, f.fcs); w32(16, f.fdpLo); w16(20, f.fds);
  }
  for (let i = 0; i < 8; i++) {
    const p = (f.top + i) & 7;
    w32(32 + 16 * i, f.sigLo[p]);
    w32(36 + 16 * i, f.sigHi[p]);
    w16(40 + 16 * i, f.signExp[p]);
  }
}
function storeMxcsr(c: Cpu, lo: number, hi: number): void {
  let a = at(c, lo, hi, 24); c.write32(a, c.linHi, c.sse.mxcsr);
  a = at(c, lo, hi, 28); c.write32(a, c.linHi, MXCSR_MASK);
}
function storeXmm(c: Cpu, lo: number, hi: number): void {
  const n = c.bitness === 64 ? 16 : 8;
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < 4; k++) { const a = at(c, lo, hi, 160 + 16 * r + 4 * k); c.write32(a, c.linHi, c.sse.xmm[4 * r + k]); }
  }
}

/**
 * XSAVE (§13.7; XSAVEOPT §13.9 without optimizations): saves every component in RFBM, MXCSR and
 * MXCSR_MASK when RFBM[1] or RFBM[2], and XSTATE_BV = (old AND NOT RFBM) OR (XINUSE AND RFBM).
 * No other header byte is written.
 */
export function xsave(c: Cpu, lo: number, hi: number, rfbm: number, wide: boolean): void {
  c.checkWrite(lo, hi, XSAVE_AREA_SIZE);
  const hdr = at(c, lo, hi, 512);
  const old = c.read32(hdr, c.linHi);
  if ((rfbm & 1) !== 0) storeX87(c, lo, hi, wide);
  if ((rfbm & 6) !== 0) storeMxcsr(c, lo, hi);
  if ((rfbm & 2) !== 0) storeXmm(c, lo, hi);
  const bv = (old & ~rfbm) | (xinuse(c) & rfbm);
  const h = at(c, lo, hi, 512); c.write32(h, c.linHi, bv);
}

/**
 * XSAVEC (§13.10): saves component i only when RFBM[i] and XINUSE[i] (SSE also when MXCSR is not
 * 1F80H); XSTATE_BV = the components saved, XCOMP_BV = RFBM with bit 63 set. The extended region
 * is empty for XCR0 <= 3, so the compacted area is the legacy region and the header.
 */
export function xsavec(c: Cpu, lo: number, hi: number, rfbm: number, wide: boolean): void {
  c.checkWrite(lo, hi, XSAVE_AREA_SIZE);
  let save = rfbm & xinuse(c);
  if ((rfbm & 2) !== 0 && c.sse.mxcsr !== MXCSR_INIT) save |= 2;
  if ((save & 1) !== 0) storeX87(c, lo, hi, wide);
  if ((save & 2) !== 0) { storeMxcsr(c, lo, hi); storeXmm(c, lo, hi); }
  let a = at(c, lo, hi, 512); c.write32(a, c.linHi, save);
  a = at(c, lo, hi, 516); c.write32(a, c.linHi, 0);
  a = at(c, lo, hi, 520); c.write32(a, c.linHi, rfbm & 0x7fffffff);
  a = at(c, lo, hi, 524); c.write32(a, c.linHi, 0x80000000 | 0);
}

// ---- XRSTOR ---------------------------------------------------------------------------------------
const IMAGE = new Int32Array(XSAVE_AREA_SIZE / 4);

/** x87 initial configuration (§13.6): FCW 037FH, FSW 0, FTW FFFFH, pointers/opcode 0, ST0-7 zero. */
function initX87(c: Cpu): void {
  const f = c.fpu;
  f.fcw = 0x037f; f.fsw = 0; f.top = 0; f.ftw = 0xffff; f.fop = 0;
  f.fipLo = 0; f.fipHi = 0; f.fdpLo = 0; f.fdpHi = 0; f.fcs = 0; f.fds = 0;
  for (let i = 0; i < 8; i++) { f.sigLo[i] = 0; f.sigHi[i] = 0; f.signExp[i] = 0; }
}


/**
 * XRSTOR (§13.8): the form comes from XCOMP_BV[63]. Reads the whole area first, then the #GP(0)
 * checks (§13.8.1 standard: XSTATE_BV bit not in XCR0, header bytes 23:8 not zero; §13.8.2
 * compacted: XCOMP_BV[62:0] bit not in XCR0, XSTATE_BV bit not in XCOMP_BV, header bytes 63:16
 * not zero; a reserved MXCSR bit in a value to be loaded), then loads or initialises each
 * component of RFBM as XSTATE_BV says. The standard form loads MXCSR whenever RFBM[1] or
 * RFBM[2]; the compacted form loads it with the SSE data, or sets 1F80H when XSTATE_BV[1] = 0.
 */
export function xrstor(c: Cpu, lo: number, hi: number, rfbm: number, wide: boolean, compactOk: boolean, supervisor = false, xss = 0): void {
  const buf = IMAGE;
  for (let i = 0; i < buf.length; i++) { const a = at(c, lo, hi, 4 * i); buf[i] = c.read32(a, c.linHi); }
  const bvLo = buf[128], bvHi = buf[129], compLo = buf[130], compHi = buf[131];
  // XRSTORS checks XCOMP_BV and XSTATE_BV against XCR0 OR IA32_XSS (§13.12).
  const xcr0 = c.xcr0 | xss;
  const compacted = (compHi & 0x80000000) !== 0;
  // XRSTORS (§13.12) uses the compacted format only: #GP(0) when XCOMP_BV[63] = 0.
  if (supervisor && !compacted) throw gp0('XRSTORS: XCOMP_BV[63] = 0 (standard format)');
  if (compacted) {
    if (!compactOk) throw gp0('XRSTOR: compacted form (XCOMP_BV[63] = 1) without XSAVEC support');
    if ((compLo & ~xcr0) !== 0 || (compHi & 0x7fffffff) !== 0) throw gp0('XRSTOR: XCOMP_BV sets a bit not in XCR0');
    if ((bvLo & ~compLo) !== 0 || bvHi !== 0) throw gp0('XRSTOR: XSTATE_BV sets a bit not in XCOMP_BV');
    for (let i = 132; i < 144; i++) if (buf[i] !== 0) throw gp0('XRSTOR: reserved XSAVE header bytes 63:16 not zero');
  } else {
    if ((bvLo & ~xcr0) !== 0 || bvHi !== 0) throw gp0('XRSTOR: XSTATE_BV sets a bit not in XCR0');
    for (let i = 130; i < 134; i++) if (buf[i] !== 0) throw gp0('XRSTOR: XSAVE header bytes 23:8 not zero');
  }
  const mx = buf[6];
  const loadMx = compacted ? (rfbm & bvLo & 2) !== 0 : (rfbm & 6) !== 0;
  if (loadMx && (mx & ~MXCSR_MASK) !== 0) throw gp0('XRSTOR with reserved MXCSR bits set');
  // No fault after this point.
  if ((rfbm & 1) !== 0) {
    if ((bvLo & 1) !== 0) loadX87Image(c, buf, wide); else initX87(c);
  }
  if ((rfbm & 2) !== 0) {
    const n = (c.bitness === 64 ? 16 : 8) * 4;
    const x = c.sse.xmm;
    if ((bvLo & 2) !== 0) for (let i = 0; i < n; i++) x[i] = buf[40 + i];
    else for (let i = 0; i < n; i++) x[i] = 0;
    if (compacted && (bvLo & 2) === 0) c.sse.mxcsr = MXCSR_INIT;
  }
  if (loadMx) c.sse.mxcsr = mx;
}

// ---- translators -----------------------------------------------------------------------------------
type Kind = 'xsave' | 'xsaveopt' | 'xsavec' | 'xrstor' | 'xsaves' | 'xrstors';

/** CPUID.(EAX=0DH,ECX=1):EAX bit of each optional instruction (§13.2). */
const SUB1_BIT: Partial<Record<Kind, number>> = { xsaveopt: 0, xsavec: 1, xsaves: 3, xrstors: 3 };

function xT(kind: Kind): Translator {
  return (d: DecodedInsn): Op | null => {
    if (d.mem === null) return null;
    const write = kind !== 'xrstor' && kind !== 'xrstors';
    const supervisor = kind === 'xsaves' || kind === 'xrstors';
    const a = linearAddress(d, d.mem, XSAVE_AREA_SIZE, write);
    const wide = d.rexW && d.bitness === 64;
    const need = SUB1_BIT[kind];
    return (c) => {
      xCheck(c);
      if (need !== undefined && !cpuidBit(c, 0xd, 1, 'eax', need)) throw ud(`${kind.toUpperCase()} not reported by CPUID`);
      // VMX non-root: #UD unless "enable XSAVES/XRSTORS", exits per the XSS-exiting bitmap (SDM vol. 3C §25.1.3).
      if (supervisor && c.nonRoot && c.vmxInsn!.xss(c, d, kind === 'xsaves' ? InsnExit.Xsaves : InsnExit.Xrstors, c.lo[Gpr.RAX], c.lo[Gpr.RDX])) return;
      // XSAVES/XRSTORS: #GP(0) when CPL > 0 (virtual-8086 mode runs at CPL 3).
      if (supervisor && c.cpl !== 0) throw gp0(`${kind.toUpperCase()} at CPL ${c.cpl}`);
      const lo = a(c);
      const hi = c.linHi;
      // 64-byte alignment (§13.7-13.10 fault lists): #GP(0).
      if ((lo & 63) !== 0) throw gp0(`${kind.toUpperCase()}: XSAVE area not 64-byte aligned`);
      // XSAVES/XRSTORS: RFBM = EDX:EAX AND (XCR0 OR IA32_XSS) (§13.11-13.12; components 0-31 only here).
      const xss = supervisor ? getStored(c, IA32_XSS) : 0;
      const rfbm = c.lo[Gpr.RAX] & (c.xcr0 | xss);
      if (kind === 'xrstor') xrstor(c, lo, hi, rfbm, wide, cpuidBit(c, 0xd, 1, 'eax', 1));
      else if (kind === 'xrstors') xrstor(c, lo, hi, rfbm, wide, true, true, xss);
      else if (kind === 'xsavec' || kind === 'xsaves') xsavec(c, lo, hi, rfbm, wide);
      else xsave(c, lo, hi, rfbm, wide);
    };
  };
}

export const xsaveHandlers: TranslatorTable = {
  [Mnemonic.Xsave]: xT('xsave'), [Mnemonic.Xsave64]: xT('xsave'),
  [Mnemonic.Xsaveopt]: xT('xsaveopt'), [Mnemonic.Xsaveopt64]: xT('xsaveopt'),
  [Mnemonic.Xsavec]: xT('xsavec'), [Mnemonic.Xsavec64]: xT('xsavec'),
  [Mnemonic.Xrstor]: xT('xrstor'), [Mnemonic.Xrstor64]: xT('xrstor'),
  [Mnemonic.Xsaves]: xT('xsaves'), [Mnemonic.Xsaves64]: xT('xsaves'),
  [Mnemonic.Xrstors]: xT('xrstors'), [Mnemonic.Xrstors64]: xT('xrstors'),
};
