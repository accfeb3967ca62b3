/**
 * MOV to/from CR0, CR2, CR3, CR4, CR8 and DR0-DR7, CLTS, LMSW, SMSW, INVD/WBINVD, XGETBV/XSETBV
 * (SDM vol. 2A/2B instruction pages; vol. 3A §2.5 control registers, §2.6 XCR0, §18.2 debug
 * registers). This group's table also carries the other system instructions, defined in
 * sysCall.ts (RDMSR/WRMSR, SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS), portIo.ts (IN/OUT/INS/OUTS)
 * and sysMisc.ts (RDPID, RDRAND/RDSEED, MONITOR/MWAIT, fences, CLFLUSH, FSGSBASE).
 */
import { Mnemonic, OpKind, Register } from 'iced-x86';
import type { Cpu } from '../cpu';
import {
  CR0_PE, CR0_TS, CR4_DE, CR4_OSXSAVE, CR4_UMIP, cpuidBit, cpuidReg, readCr8, requireCpl0, writeCr0, writeCr3, writeCr4,
  writeCr8,
} from '../controlRegisters';
import type { DecodedInsn } from '../decoded';
import { gprOf } from '../decoded';
import { CpuException, Vector, gp0, ud } from '../exceptions';
import type { Op } from '../operands';
import { linearAddress } from '../operands';
import { Gpr } from '../registers';
import { xinuse } from '../sse/xsave';
import type { TranslatorTable } from '../translator';
import { InsnExit } from '../vmxInsnHooks';
import { updateDebugState } from '../debugRegs';
import { portIoHandlers } from './portIo';
import { sysCallHandlers } from './sysCall';
import { sysMiscHandlers } from './sysMisc';

function endBlock(d: DecodedInsn): void {
  d.endsBlock = true;
  d.setsRip = false;
}

// ---- MOV CRn -----------------------------------------------------------------------------------
/**
 * MOV from CR0/CR3/CR4/CR8 in VMX non-root operation: the engine may exit (CR3/CR8-store
 * exiting) or change the value read (read shadows, TPR shadow; SDM vol. 3C §25.3).
 */
function vmxCrRead(c: Cpu, d: DecodedInsn, cr: number, r: number, lo: number, hi: number): void {
  const v = c.vmxInsn!.movFromCr(c, d, cr, r, lo, hi);
  if (c.exitTaken) return;
  c.lo[r] = v;
  c.hi[r] = d.bitness === 64 ? c.vHi : 0;
}

function movFromCr(d: DecodedInsn, cr: number, r: number): Op | null {
  const what = `MOV from CR${cr}`;
  switch (cr) {
    case 0: return (c) => {
      requireCpl0(c, what);
      if (c.nonRoot) { vmxCrRead(c, d, 0, r, c.cr0, 0); return; }
      c.lo[r] = c.cr0; c.hi[r] = 0;
    };
    case 2: return d.bitness === 64
      ? (c) => { requireCpl0(c, what); c.lo[r] = c.cr2Lo; c.hi[r] = c.cr2Hi; }
      : (c) => { requireCpl0(c, what); c.lo[r] = c.cr2Lo; c.hi[r] = 0; };
    case 3: return d.bitness === 64
      ? (c) => { requireCpl0(c, what); if (c.nonRoot) { vmxCrRead(c, d, 3, r, c.cr3Lo, c.cr3Hi); return; } c.lo[r] = c.cr3Lo; c.hi[r] = c.cr3Hi; }
      : (c) => { requireCpl0(c, what); if (c.nonRoot) { vmxCrRead(c, d, 3, r, c.cr3Lo, 0); return; } c.lo[r] = c.cr3Lo; c.hi[r] = 0; };
    case 4: return (c) => {
      requireCpl0(c, what);
      if (c.nonRoot) { vmxCrRead(c, d, 4, r, c.cr4, 0); return; }
      c.lo[r] = c.cr4; c.hi[r] = 0;
    };
    // CR8 (the task-priority register) exists in 64-bit mode only (SDM vol. 3A §2.5).
    case 8: return d.bitness === 64 ? (c) => {
      requireCpl0(c, what);
      if (c.nonRoot) { vmxCrRead(c, d, 8, r, readCr8(c), 0); return; }
      c.lo[r] = readCr8(c); c.hi[r] = 0;
    } : null;
    default: return null; // CR1, CR5-CR7, CR9-CR15: #UD
  }
}

function movToCr(d: DecodedInsn, cr: number, r: number): Op | null {
  const what = `MOV to CR${cr}`;
  const wide = d.bitness === 64;
  switch (cr) {
    case 0:
      endBlock(d);
      return (c) => {
        requireCpl0(c, what);
        if (c.nonRoot) {
          // Guest/host mask: exit, or owned bits keep their value (SDM vol. 3C §25.1.3, §25.3).
          const v = c.vmxInsn!.movToCr(c, d, 0, r, c.lo[r], wide ? c.hi[r] : 0);
          if (c.exitTaken) return;
          writeCr0(c, v, c.vHi);
          return;
        }
        writeCr0(c, c.lo[r], wide ? c.hi[r] : 0);
      };
    case 2:
      return (c) => { requireCpl0(c, what); c.cr2Lo = c.lo[r]; c.cr2Hi = wide ? c.hi[r] : 0; };
    case 3:
      endBlock(d);
      return (c) => {
        requireCpl0(c, what);
        if (c.nonRoot) {
          // CR3-load exiting and the CR3-target values (SDM vol. 3C §25.1.3).
          const v = c.vmxInsn!.movToCr(c, d, 3, r, c.lo[r], wide ? c.hi[r] : 0);
          if (c.exitTaken) return;
          writeCr3(c, v, c.vHi);
          return;
        }
        writeCr3(c, c.lo[r], wide ? c.hi[r] : 0);
      };
    case 4:
      endBlock(d);
      return (c) => {
        requireCpl0(c, what);
        if (c.nonRoot) {
          const v = c.vmxInsn!.movToCr(c, d, 4, r, c.lo[r], wide ? c.hi[r] : 0);
          if (c.exitTaken) return;
          writeCr4(c, v, c.vHi);
          return;
        }
        writeCr4(c, c.lo[r], wide ? c.hi[r] : 0);
      };
    case 8:
      if (!wide) return null;
      // A lower task priority may unmask a pending interrupt: look at events after this.
      endBlock(d);
      return (c) => {
        requireCpl0(c, what);
        if (c.nonRoot) {
          // CR8-load exiting, or the TPR shadow takes the write (-1: done; SDM vol. 3C §29.3).
          const v = c.vmxInsn!.movToCr(c, d, 8, r, c.lo[r], c.hi[r]);
          if (v >= 0 && !c.exitTaken) writeCr8(c, v, c.vHi);
          return;
        }
        writeCr8(c, c.lo[r], c.hi[r]);
      };
    default:
      return null;
  }
}

// ---- MOV DRn (SDM vol. 2B "MOV—Move to/from Debug Registers"; vol. 3A §18.2) --------------------
/** DR6 bits that software can write (B0-B3, BD, BS, BT); the others read as fixed values. */
const DR6_WRITABLE = 0xe00f;
const DR6_FIXED1 = 0xffff0ff0 | 0;
/** DR7 bits that exist (L0-G3, LE, GE, GD, R/W and LEN fields); bit 10 reads as 1. */
const DR7_WRITABLE = 0xffff23ff | 0;
const DR7_GD = 1 << 13;
const DR6_BD = 1 << 13;

/**
 * Checks shared by every MOV DR: #GP(0) at CPL > 0; #UD for DR4/DR5 with CR4.DE = 1 (without DE
 * they alias DR6/DR7); #DB (a fault, DR6.BD = 1) when DR7.GD = 1 — the processor clears GD as
 * the handler is entered (SDM vol. 3A §18.2.4). Returns the register actually accessed.
 */
function drAccess(c: Cpu, n: number): number {
  requireCpl0(c, 'MOV DR');
  if (n === 4 || n === 5) {
    if ((c.cr4 & CR4_DE) !== 0) throw ud('DR4/DR5 with CR4.DE = 1');
    n += 2;
  }
  if ((c.dr7 & DR7_GD) !== 0) {
    // In non-root operation the engine sets BD when the #DB is delivered (an exit leaves DR6/DR7).
    if (!c.nonRoot) {
      c.dr6 |= DR6_BD;
      c.dr7 &= ~DR7_GD;
    }
    throw new CpuException(Vector.DB, undefined, 'MOV DR with DR7.GD = 1 (general detect)');
  }
  return n;
}

function movFromDr(d: DecodedInsn, n: number, r: number): Op | null {
  if (n > 7) return null;
  const wide = d.bitness === 64;
  return (c) => {
    // MOV-DR exiting precedes the instruction's #GP/#UD/#DB checks (SDM vol. 3C §25.1.3).
    if (c.nonRoot && c.vmxInsn!.movDr(c, d, n, r, false)) return;
    const k = drAccess(c, n);
    if (k < 4) {
      c.lo[r] = c.drLo[k];
      c.hi[r] = wide ? c.drHi[k] : 0;
    } else {
      c.lo[r] = k === 6 ? c.dr6 : c.dr7;
      c.hi[r] = 0;
    }
  };
}

function movToDr(d: DecodedInsn, n: number, r: number): Op | null {
  if (n > 7) return null;
  const wide = d.bitness === 64;
  endBlock(d);
  return (c) => {
    if (c.nonRoot && c.vmxInsn!.movDr(c, d, n, r, true)) return;
    const k = drAccess(c, n);
    const lo = c.lo[r], hi = wide ? c.hi[r] : 0;
    if (k < 4) {
      c.drLo[k] = lo;
      c.drHi[k] = hi;
      updateDebugState(c);
      return;
    }
    if (hi !== 0) throw gp0(`MOV to DR${k}: bits 63:32 must be zero`);
    if (k === 6) {
      c.dr6 = (lo & DR6_WRITABLE) | DR6_FIXED1;
    } else {
      c.dr7 = (lo & DR7_WRITABLE) | 0x400;
      // Breakpoints take effect from the next instruction (debugRegs.ts; SDM vol. 3B §18.2.4).
      updateDebugState(c);
    }
  };
}

/** MOV to/from a control or debug register (called by mov.ts). Null: #UD in this form. */
export function movControl(d: DecodedInsn): Op | null {
  const toSys = d.opKinds[0] === OpKind.Register && gprOf(d.opRegs[0]) === null;
  const sys = toSys ? d.opRegs[0] : d.opRegs[1];
  const g = gprOf(toSys ? d.opRegs[1] : d.opRegs[0]);
  if (g === null) return null;
  const r = g.index;
  if (sys >= Register.CR0 && sys <= Register.CR15) {
    const n = sys - Register.CR0;
    return toSys ? movToCr(d, n, r) : movFromCr(d, n, r);
  }
  if (sys >= Register.DR0 && sys <= Register.DR15) {
    const n = sys - Register.DR0;
    return toSys ? movToDr(d, n, r) : movFromDr(d, n, r);
  }
  return null; // test registers TR3-TR7: not on this processor
}

// ---- CLTS, LMSW, SMSW, INVD, WBINVD -------------------------------------------------------------
/** CLTS (SDM vol. 2A): CR0.TS = 0; privileged in every mode. */
function clts(d: DecodedInsn): Op {
  endBlock(d);
  return (c) => {
    requireCpl0(c, 'CLTS');
    // May exit, or leave TS alone when the host owns it (SDM vol. 3C §25.1.3, §25.3).
    if (c.nonRoot && c.vmxInsn!.clts(c, d)) return;
    c.cr0 &= ~CR0_TS;
  };
}

/**
 * LMSW (SDM vol. 2A): loads CR0 bits 3:0 (PE, MP, EM, TS) from the source's low four bits; it
 * can set PE but never clear it. The other CR0 bits are unchanged.
 */
function lmsw(d: DecodedInsn): Op | null {
  endBlock(d);
  let read: (c: Cpu) => number;
  if (d.opKinds[0] === OpKind.Memory) {
    const a = linearAddress(d, d.mem!, 2);
    read = (c) => c.read16(a(c), c.linHi);
  } else {
    const g = gprOf(d.opRegs[0]);
    if (g === null) return null;
    const r = g.index;
    read = (c) => c.lo[r] & 0xffff;
  }
  return (c) => {
    requireCpl0(c, 'LMSW');
    const src = read(c);
    let v = (c.cr0 & ~0xe) | (src & 0xf) | (c.cr0 & CR0_PE);
    if (c.nonRoot) {
      // After the operand is read (SDM vol. 3C §25.1.1): exit, or keep the bits the host owns.
      const keep = c.vmxInsn!.lmsw(c, d, src);
      if (c.exitTaken) return;
      v = (v & ~keep) | (c.cr0 & keep);
    }
    writeCr0(c, v, 0);
  };
}

/** SMSW with CR4.UMIP = 1 at CPL > 0 raises #GP(0) (SDM vol. 3A §2.5, UMIP). */
function umip(c: Cpu): void {
  if ((c.cr4 & CR4_UMIP) !== 0 && c.cpl > 0) throw gp0('SMSW with CR4.UMIP = 1 at CPL > 0');
}

/**
 * SMSW (SDM vol. 2B): a memory destination receives CR0[15:0]; a register destination receives
 * CR0 (16-bit: the low word only; 32/64-bit: all of CR0, as Intel processors store it).
 */
function smsw(d: DecodedInsn): Op | null {
  // In VMX non-root operation the bits the host owns read from the CR0 read shadow (vol. 3C §25.3).
  const cr0 = (c: Cpu): number => (c.nonRoot ? c.vmxInsn!.movFromCr(c, d, 0, -1, c.cr0, 0) : c.cr0);
  if (d.opKinds[0] === OpKind.Memory) {
    const a = linearAddress(d, d.mem!, 2, true);
    return (c) => { umip(c); c.write16(a(c), c.linHi, cr0(c) & 0xffff); };
  }
  const g = gprOf(d.opRegs[0]);
  if (g === null) return null;
  const r = g.index;
  if (g.size === 2) return (c) => { umip(c); c.lo[r] = (c.lo[r] & ~0xffff) | (cr0(c) & 0xffff); };
  return (c) => { umip(c); c.lo[r] = cr0(c); c.hi[r] = 0; };
}

/** INVD / WBINVD (SDM vol. 2A/2B): privileged cache invalidation; there are no caches to drop. */
function cacheInvalidate(name: string, reason: number) {
  return (d: DecodedInsn): Op => (c) => {
    requireCpl0(c, name);
    // INVD exits unconditionally, WBINVD with "WBINVD exiting" (SDM vol. 3C §25.1.2-25.1.3).
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, reason)) return;
  };
}

// ---- XGETBV / XSETBV (SDM vol. 2C; vol. 1 §13.3 XCR0) -------------------------------------------
/** XCR0 bits the processor supports: CPUID.(EAX=0DH,ECX=0):EAX (x87 always). */
function xcr0Supported(c: Cpu): number {
  return 1 | cpuidReg(c, 0xd, 0, 'eax');
}

/**
 * XGETBV: ECX = 0 reads XCR0; ECX = 1 (when CPUID.(EAX=0DH,ECX=1):EAX[2]) reads XCR0 AND XINUSE
 * (SDM vol. 1 §13.6); any other ECX is #GP(0).
 */
function xgetbv(): Op {
  return (c) => {
    if ((c.cr4 & CR4_OSXSAVE) === 0) throw ud('XGETBV with CR4.OSXSAVE = 0');
    const n = c.lo[Gpr.RCX];
    if (n === 1 && cpuidBit(c, 0xd, 1, 'eax', 2)) {
      c.lo[Gpr.RAX] = c.xcr0 & xinuse(c); c.hi[Gpr.RAX] = 0;
      c.lo[Gpr.RDX] = 0; c.hi[Gpr.RDX] = 0;
      return;
    }
    if (n !== 0) throw gp0('XGETBV: unsupported XCR');
    c.lo[Gpr.RAX] = c.xcr0; c.hi[Gpr.RAX] = 0;
    c.lo[Gpr.RDX] = 0; c.hi[Gpr.RDX] = 0;
  };
}

/**
 * XSETBV (SDM vol. 2C): #GP(0) at CPL > 0, for an XCR other than 0, for bits the processor does
 * not support, for XCR0[0] = 0, for AVX (bit 2) without SSE (bit 1), and for the AVX-512 bits
 * (7:5) set partly or without AVX.
 */
function xsetbv(d: DecodedInsn): Op {
  endBlock(d);
  return (c) => {
    if ((c.cr4 & CR4_OSXSAVE) === 0) throw ud('XSETBV with CR4.OSXSAVE = 0');
    requireCpl0(c, 'XSETBV');
    if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.Xsetbv)) return; // unconditional (SDM vol. 3C §25.1.2)
    if (c.lo[Gpr.RCX] !== 0) throw gp0('XSETBV: unsupported XCR');
    const v = c.lo[Gpr.RAX];
    if (c.lo[Gpr.RDX] !== 0 || (v & ~xcr0Supported(c)) !== 0) throw gp0('XSETBV: unsupported XCR0 bits');
    if ((v & 1) === 0) throw gp0('XSETBV: XCR0[0] (x87) must be 1');
    if ((v & 6) === 4) throw gp0('XSETBV: AVX state without SSE state');
    const avx512 = v & 0xe0;
    if (avx512 !== 0 && (avx512 !== 0xe0 || (v & 4) === 0)) throw gp0('XSETBV: invalid AVX-512 state combination');
    if (((v >>> 3) & 1) !== ((v >>> 4) & 1)) throw gp0('XSETBV: BNDREGS and BNDCSR must match');
    c.xcr0 = v;
  };
}

export const controlRegHandlers: TranslatorTable = {
  [Mnemonic.Clts]: clts,
  [Mnemonic.Lmsw]: lmsw,
  [Mnemonic.Smsw]: smsw,
  [Mnemonic.Invd]: cacheInvalidate('INVD', InsnExit.Invd),
  [Mnemonic.Wbinvd]: cacheInvalidate('WBINVD', InsnExit.Wbinvd),
  // WBNOINVD (F3 0F 09; SDM vol. 2B): as WBINVD without the invalidation — and where it is not
  // supported the F3 prefix is ignored and it is WBINVD; "WBINVD exiting" covers both (vol. 3C §25.1.3).
  [Mnemonic.Wbnoinvd]: cacheInvalidate('WBNOINVD', InsnExit.Wbinvd),
  [Mnemonic.Xgetbv]: xgetbv,
  [Mnemonic.Xsetbv]: xsetbv,
  ...sysCallHandlers,
  ...portIoHandlers,
  ...sysMiscHandlers,
};
