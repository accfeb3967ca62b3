/**
 * RDMSR/WRMSR, SYSCALL/SYSRET, SYSENTER/SYSEXIT and SWAPGS (SDM vol. 2B instruction pages;
 * vol. 3A §5.8.7 SYSENTER/SYSEXIT, §5.8.8 SYSCALL/SYSRET). The fast system-call instructions
 * load CS and SS with fixed descriptor-cache values instead of reading the GDT.
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu';
import { EFER_SCE, currentLinearBits, isCanonical, requireCpl0 } from '../controlRegisters';
import type { DecodedInsn } from '../decoded';
import { updateModeFromSegments } from '../descriptors';
import { gp0, ud } from '../exceptions';
import { getStored, readMsr, setStored, writeMsr } from '../msr';
import type { Op } from '../operands';
import { Flag, Gpr, Seg } from '../registers';
import type { TranslatorTable } from '../translator';

const IA32_SYSENTER_CS = 0x174;
const IA32_SYSENTER_ESP = 0x175;
const IA32_SYSENTER_EIP = 0x176;
const IA32_STAR = 0xc0000081;
const IA32_LSTAR = 0xc0000082;
const IA32_FMASK = 0xc0000084;
const IA32_KERNEL_GS_BASE = 0xc0000102;

/** Fixed access rights (VMCS layout) the fast system calls load (SDM SYSCALL/SYSRET/SYSENTER/SYSEXIT). */
const CS64_DPL0 = 0xa09b; // type 11, S, DPL 0, P, L, G
const CS32_DPL0 = 0xc09b; // type 11, S, DPL 0, P, D, G
const SS_DPL0 = 0xc093; // type 3, S, DPL 0, P, B, G
const CS64_DPL3 = 0xa0fb;
const CS32_DPL3 = 0xc0fb;
const SS_DPL3 = 0xc0f3;

function flatSeg(c: Cpu, seg: number, sel: number, attr: number): void {
  c.segSel[seg] = sel & 0xffff;
  c.segBaseLo[seg] = 0;
  c.segBaseHi[seg] = 0;
  c.segLimit[seg] = 0xffffffff;
  c.segAttr[seg] = attr;
}

/** CS and SS were loaded and CPL changed: bitness, TLB (permissions depend on CPL), events. */
function afterFastCall(c: Cpu, cpl: number): void {
  if (c.cpl !== cpl) {
    c.cpl = cpl;
    c.flushTlb();
  }
  updateModeFromSegments(c);
  // RFLAGS changed (IF, TF may now be set): let the run loop look at pending events.
  c.eventPending = true;
}

/** The instruction transfers control itself and CS changes: the block ends. */
function transfers(d: DecodedInsn): void {
  d.endsBlock = true;
  d.setsRip = true;
}

// ---- RDMSR / WRMSR ------------------------------------------------------------------------------
/** RDMSR (SDM vol. 2B): EDX:EAX = MSR[ECX]; #GP(0) at CPL > 0 or for an MSR that does not exist. */
function rdmsr(d: DecodedInsn): Op {
  const idx = d.blockIndex;
  return (c) => {
    requireCpl0(c, 'RDMSR');
    if (c.nonRoot) {
      // MSR bitmaps, x2APIC TPR virtualization, TSC offsetting (SDM vol. 3C §25.1.3, §25.3, §29.5).
      const n = c.lo[Gpr.RCX];
      if (c.vmxInsn!.msr(c, d, n, false)) return;
      let v = readMsr(c, n, c.icount + idx);
      if (n === 0x10) v = c.vmxInsn!.tscMsr(c, v, c.vHi);
      c.lo[Gpr.RAX] = v; c.hi[Gpr.RAX] = 0;
      c.lo[Gpr.RDX] = c.vHi; c.hi[Gpr.RDX] = 0;
      return;
    }
    const lo = readMsr(c, c.lo[Gpr.RCX], c.icount + idx);
    c.lo[Gpr.RAX] = lo; c.hi[Gpr.RAX] = 0;
    c.lo[Gpr.RDX] = c.vHi; c.hi[Gpr.RDX] = 0;
  };
}

/** WRMSR (SDM vol. 2B): MSR[ECX] = EDX:EAX. Serializing; the block ends (EFER may change paging). */
function wrmsr(d: DecodedInsn): Op {
  const idx = d.blockIndex;
  d.endsBlock = true;
  d.setsRip = false;
  return (c) => {
    requireCpl0(c, 'WRMSR');
    // MSR bitmaps and x2APIC TPR virtualization (SDM vol. 3C §25.1.3, §29.5).
    if (c.nonRoot && c.vmxInsn!.msr(c, d, c.lo[Gpr.RCX], true)) return;
    writeMsr(c, c.lo[Gpr.RCX], c.lo[Gpr.RAX], c.lo[Gpr.RDX], c.icount + idx);
  };
}

// ---- SYSCALL / SYSRET ----------------------------------------------------------------------------
function require64AndSce(c: Cpu, what: string): void {
  if (!c.longMode || c.bitness !== 64 || (c.efer & EFER_SCE) === 0) {
    throw ud(`${what} outside 64-bit mode or with EFER.SCE = 0`);
  }
}

/**
 * SYSCALL (SDM vol. 2B): RCX = next RIP, R11 = RFLAGS, RFLAGS &= ~IA32_FMASK (and RF = 0), RIP = IA32_LSTAR,
 * CS = STAR[47:32] & FFFCH and SS = STAR[47:32] + 8 with fixed flat DPL-0 caches, CPL = 0.
 * #UD outside 64-bit mode (Intel) or with EFER.SCE = 0.
 */
function syscall(d: DecodedInsn): Op {
  transfers(d);
  const nextLo = d.nextLo, nextHi = d.nextHi;
  return (c) => {
    require64AndSce(c, 'SYSCALL');
    getStored(c, IA32_STAR);
    const sel = c.vHi & 0xffff;
    const ripLo = getStored(c, IA32_LSTAR), ripHi = c.vHi;
    const fmask = getStored(c, IA32_FMASK);
    const fl = c.getRflags();
    c.lo[Gpr.RCX] = nextLo; c.hi[Gpr.RCX] = nextHi;
    c.lo[Gpr.R11] = fl; c.hi[Gpr.R11] = 0;
    // "None of the bits in RFLAGS are automatically cleared (except for RF)" (SDM SYSCALL).
    c.setRflags(fl & ~fmask & ~Flag.RF);
    flatSeg(c, Seg.CS, sel & 0xfffc, CS64_DPL0);
    flatSeg(c, Seg.SS, (sel + 8) & 0xffff, SS_DPL0);
    c.ripLo = ripLo; c.ripHi = ripHi;
    afterFastCall(c, 0);
  };
}

/**
 * SYSRET (SDM vol. 2B): back to CPL 3. With REX.W (SYSRETQ) to 64-bit mode at RCX (#GP(0) if not
 * canonical), CS = STAR[63:48] + 16; otherwise to compatibility mode at ECX, CS = STAR[63:48].
 * SS = STAR[63:48] + 8; both RPL 3 with fixed caches. RFLAGS = (R11 & 3C7FD7H) | 2.
 */
function sysret(d: DecodedInsn): Op {
  transfers(d);
  const to64 = d.mnemonic === Mnemonic.Sysretq;
  return (c) => {
    require64AndSce(c, 'SYSRET');
    requireCpl0(c, 'SYSRET');
    const rcxLo = c.lo[Gpr.RCX], rcxHi = c.hi[Gpr.RCX];
    if (to64 && !isCanonical(rcxHi, currentLinearBits(c))) throw gp0('SYSRET to a non-canonical RCX');
    getStored(c, IA32_STAR);
    const base = (c.vHi >>> 16) & 0xffff;
    c.setRflags((c.lo[Gpr.R11] & 0x3c7fd7) | 2);
    if (to64) {
      flatSeg(c, Seg.CS, ((base + 16) & 0xffff) | 3, CS64_DPL3);
      c.ripLo = rcxLo; c.ripHi = rcxHi;
    } else {
      flatSeg(c, Seg.CS, base | 3, CS32_DPL3);
      c.ripLo = rcxLo; c.ripHi = 0;
    }
    flatSeg(c, Seg.SS, ((base + 8) & 0xffff) | 3, SS_DPL3);
    afterFastCall(c, 3);
  };
}

// ---- SYSENTER / SYSEXIT ----------------------------------------------------------------------------
/**
 * SYSENTER (SDM vol. 2B): #GP(0) in real mode or when IA32_SYSENTER_CS[15:2] = 0. Clears VM, IF
 * and RF; RSP/RIP from IA32_SYSENTER_ESP/EIP (their low halves outside IA-32e mode); CS =
 * SYSENTER_CS & FFFCH (64-bit in IA-32e mode), SS = CS + 8, flat DPL-0 caches, CPL = 0.
 */
function sysenter(d: DecodedInsn): Op {
  transfers(d);
  return (c) => {
    if (!c.protectedMode) throw gp0('SYSENTER in real-address mode');
    const cs = getStored(c, IA32_SYSENTER_CS) & 0xffff;
    if ((cs & 0xfffc) === 0) throw gp0('SYSENTER with IA32_SYSENTER_CS = 0');
    const espLo = getStored(c, IA32_SYSENTER_ESP), espHi = c.vHi;
    const eipLo = getStored(c, IA32_SYSENTER_EIP), eipHi = c.vHi;
    c.flagsRest &= ~(Flag.VM | Flag.IF | Flag.RF);
    const long = c.longMode;
    c.lo[Gpr.RSP] = espLo; c.hi[Gpr.RSP] = long ? espHi : 0;
    c.ripLo = eipLo; c.ripHi = long ? eipHi : 0;
    flatSeg(c, Seg.CS, cs & 0xfffc, long ? CS64_DPL0 : CS32_DPL0);
    flatSeg(c, Seg.SS, ((cs & 0xfffc) + 8) & 0xffff, SS_DPL0);
    afterFastCall(c, 0);
  };
}

/**
 * SYSEXIT (SDM vol. 2B): #GP(0) in real mode, at CPL > 0 or when IA32_SYSENTER_CS[15:2] = 0.
 * With REX.W (SYSEXITQ) to 64-bit mode: RSP = RCX, RIP = RDX (#GP(0) if not canonical), CS =
 * SYSENTER_CS + 32; otherwise RSP = ECX, RIP = EDX, CS = SYSENTER_CS + 16. SS = CS + 8, RPL 3.
 */
function sysexit(d: DecodedInsn): Op {
  transfers(d);
  const to64 = d.mnemonic === Mnemonic.Sysexitq;
  return (c) => {
    if (!c.protectedMode) throw gp0('SYSEXIT in real-address mode');
    requireCpl0(c, 'SYSEXIT');
    const cs = getStored(c, IA32_SYSENTER_CS) & 0xffff;
    if ((cs & 0xfffc) === 0) throw gp0('SYSEXIT with IA32_SYSENTER_CS = 0');
    if (to64) {
      const bits = currentLinearBits(c);
      if (!isCanonical(c.hi[Gpr.RCX], bits) || !isCanonical(c.hi[Gpr.RDX], bits)) throw gp0('SYSEXIT to a non-canonical RCX/RDX');
      c.lo[Gpr.RSP] = c.lo[Gpr.RCX]; c.hi[Gpr.RSP] = c.hi[Gpr.RCX];
      c.ripLo = c.lo[Gpr.RDX]; c.ripHi = c.hi[Gpr.RDX];
    } else {
      c.lo[Gpr.RSP] = c.lo[Gpr.RCX]; c.hi[Gpr.RSP] = 0;
      c.ripLo = c.lo[Gpr.RDX]; c.ripHi = 0;
    }
    const sel = ((cs + (to64 ? 32 : 16)) & 0xffff) | 3;
    flatSeg(c, Seg.CS, sel, to64 ? CS64_DPL3 : CS32_DPL3);
    flatSeg(c, Seg.SS, (sel + 8) & 0xffff, SS_DPL3);
    afterFastCall(c, 3);
  };
}

// ---- SWAPGS -------------------------------------------------------------------------------------
/** SWAPGS (SDM vol. 2B): exchange GS.base and IA32_KERNEL_GS_BASE; 64-bit mode only, CPL 0. */
function swapgs(d: DecodedInsn): Op | null {
  if (d.bitness !== 64) return null;
  return (c) => {
    requireCpl0(c, 'SWAPGS');
    const kLo = getStored(c, IA32_KERNEL_GS_BASE), kHi = c.vHi;
    setStored(c, IA32_KERNEL_GS_BASE, c.segBaseLo[Seg.GS], c.segBaseHi[Seg.GS]);
    c.segBaseLo[Seg.GS] = kLo;
    c.segBaseHi[Seg.GS] = kHi;
  };
}

export const sysCallHandlers: TranslatorTable = {
  [Mnemonic.Rdmsr]: rdmsr,
  [Mnemonic.Wrmsr]: wrmsr,
  [Mnemonic.Syscall]: syscall,
  [Mnemonic.Sysret]: sysret,
  [Mnemonic.Sysretq]: sysret,
  [Mnemonic.Sysenter]: sysenter,
  [Mnemonic.Sysexit]: sysexit,
  [Mnemonic.Sysexitq]: sysexit,
  [Mnemonic.Swapgs]: swapgs,
};
