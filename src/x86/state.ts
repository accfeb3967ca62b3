/**
 * Architectural state of one logical processor, laid out for speed: 64-bit registers as two
 * 32-bit halves in typed arrays (no BigInt in the instruction loop), and the arithmetic flags in
 * a compact, always-current form from which each flag is one or two operations away.
 *
 * Arithmetic flags (SDM vol. 1 §3.4.3.1) are held as:
 *   fRes  — ZF = (fRes === 0)
 *   fSgn  — SF = (fSgn < 0)
 *   fPar  — PF = even parity of the low byte of fPar
 *   fCO   — CF = bit 31; OF = bit 31 XOR bit 30. For add/sub this is the carry (borrow) vector
 *           of the operation aligned so that bit 31 is the carry out of the most significant bit
 *           and bit 30 the carry out of the bit below it (OF = carry in ^ carry out of the MSB).
 *   fAux  — AF = bit 3 (the carry vector's carry out of bit 3).
 * All other RFLAGS bits live in `flagsRest`.
 */
import { Flag, Seg } from './registers';

export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  PARITY[i] = (b & 1) ^ 1;
}

export type Bitness = 16 | 32 | 64;

/** Segment-register hidden part (SDM vol. 3A §3.4.3). `attr` uses the VMCS access-rights layout. */
export interface SegmentCache {
  selector: number;
  baseLo: number;
  baseHi: number;
  limit: number;
  attr: number;
}

export class CpuState {
  /** Low and high halves of RAX..R15. */
  readonly lo = new Int32Array(16);
  readonly hi = new Int32Array(16);
  ripLo = 0;
  ripHi = 0;

  fRes = 1;
  fSgn = 0;
  fPar = 1;
  fCO = 0;
  fAux = 0;
  /** RFLAGS bits other than CF, PF, AF, ZF, SF, OF (bit 1 always set). */
  flagsRest = Flag.FIXED1;

  /**
   * Segment registers ES, CS, SS, DS, FS, GS, then LDTR (6) and TR (7): selector, base halves,
   * limit (bytes, already scaled by G), access rights in the VMCS layout (SDM vol. 3C §24.4.1:
   * type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16).
   */
  readonly segSel = new Uint16Array(8);
  readonly segBaseLo = new Int32Array(8);
  readonly segBaseHi = new Int32Array(8);
  readonly segLimit = new Float64Array(8);
  readonly segAttr = new Int32Array(8);

  /** GDTR and IDTR (SDM vol. 3A §2.4): base halves and 16-bit limit. */
  gdtrBaseLo = 0;
  gdtrBaseHi = 0;
  gdtrLimit = 0xffff;
  idtrBaseLo = 0;
  idtrBaseHi = 0;
  idtrLimit = 0x3ff;

  /** DR0..DR3 as halves, DR6, DR7 (SDM vol. 3B §18.2). */
  readonly drLo = new Int32Array(4);
  readonly drHi = new Int32Array(4);
  dr6 = 0xffff0ff0;
  dr7 = 0x400;
  /** CR8 / task-priority register (SDM vol. 3A §10.8.6.1). */
  cr8 = 0;
  /** XCR0 (SDM vol. 1 §13.3). */
  xcr0 = 1;

  // ---- events (interrupts, exceptions, single-step) -----------------------------------------
  /**
   * Set when something must be looked at between blocks: a pending interrupt or NMI, a trap
   * (TF single-step, data breakpoint) or the end of an interrupt shadow. The run loop calls the
   * event logic only when this is true, so the common path costs one load.
   */
  eventPending = false;
  /** The instruction just executed was STI or a MOV/POP SS: interrupts are blocked for one more (SDM vol. 3A §6.8.3). */
  interruptShadow = false;
  /** NMIs are blocked until the next IRET (SDM vol. 3A §6.7.1). */
  nmiBlocked = false;

  cr0 = 0x60000010;
  cr2Lo = 0;
  cr2Hi = 0;
  cr3Lo = 0;
  cr3Hi = 0;
  cr4 = 0;
  efer = 0;

  /** Code-segment bitness: 16, 32 or 64 (64 only in IA-32e mode with CS.L). */
  bitness: Bitness = 16;
  /** Stack address size from SS.B (16/32) or 64 in 64-bit mode. */
  stackBits: Bitness = 16;
  /** CR0.PE: protected mode (SDM vol. 3A §9.9). */
  protectedMode = false;
  /** EFER.LMA: IA-32e mode active. */
  longMode = false;
  /**
   * Canonical-address check shift for the linear-address width in force (SDM vol. 1 §3.3.7.1,
   * vol. 3A §4.5): 16 for 48-bit addresses, 7 for 57-bit ones (CR4.LA57 = 1; it only matters in
   * IA-32e mode, where LA57 cannot change). A 64-bit address with high half `hi` is canonical when
   * `((hi << canonShift) >> canonShift) === hi`. Recomputed by flushTlb(), which every CR4 write
   * calls.
   */
  canonShift = 16;
  /** Current privilege level. */
  cpl = 0;

  /** Guest instructions retired: the deterministic clock behind RDTSC. */
  icount = 0;
  /** TSC = tscOffset + icount * tscPerInstruction. */
  tscOffset = 0;
  tscPerInstruction = 1;

  halted = false;

  // ---- VMX (SDM vol. 3C; the engine in src/vmx sets these, see vmxHooks.ts) -----------------
  /** VMX non-root operation: instructions and events ask the engine's hooks whether they exit. */
  nonRoot = false;
  /** VMX operation (after VMXON): root or non-root. */
  inVmxOperation = false;

  // Scratch outputs for operations that produce a 64-bit value as two halves.
  /** High half of the last 64-bit value returned by a read (its low half is the return value). */
  vHi = 0;
  /** High half of the last linear (or effective) address computed by an address closure. */
  linHi = 0;

  // ---- flags -------------------------------------------------------------------------------
  get cf(): number { return this.fCO >>> 31; }
  get zf(): number { return this.fRes === 0 ? 1 : 0; }
  get sf(): number { return this.fSgn < 0 ? 1 : 0; }
  get of(): number { return ((this.fCO ^ (this.fCO << 1)) >>> 31); }
  get pf(): number { return PARITY[this.fPar & 0xff]; }
  get af(): number { return (this.fAux >>> 3) & 1; }
  get df(): number { return (this.flagsRest >>> 10) & 1; }

  /** Set CF and OF explicitly, keeping the other flags. */
  setCfOf(cf: number, of: number): void {
    this.fCO = (cf << 31) | ((cf ^ of) << 30);
  }

  setCf(cf: number): void {
    const of = this.of;
    this.fCO = (cf << 31) | ((cf ^ of) << 30);
  }

  /** The full RFLAGS value (low 32 bits; the upper half is reserved zero). */
  getRflags(): number {
    return (
      (this.flagsRest & ~0x8d5) |
      this.cf |
      (this.pf << 2) |
      (this.af << 4) |
      (this.zf << 6) |
      (this.sf << 7) |
      (this.of << 11)
    ) >>> 0;
  }

  /** Load the arithmetic flags selected by `mask` (and the other bits selected by it) from `v`. */
  setRflags(v: number, mask = 0xffffffff): void {
    const cur = this.getRflags();
    const n = ((cur & ~mask) | (v & mask)) >>> 0;
    const cf = n & 1;
    const of = (n >>> 11) & 1;
    this.fCO = (cf << 31) | ((cf ^ of) << 30);
    this.fRes = (n >>> 6) & 1 ? 0 : 1;
    this.fSgn = (n >>> 7) & 1 ? -1 : 0;
    this.fPar = (n >>> 2) & 1 ? 0 : 1;
    this.fAux = ((n >>> 4) & 1) << 3;
    this.flagsRest = ((n & ~0x8d5) | Flag.FIXED1) & 0x003f7fd7;
  }

  // ---- registers as plain numbers (edges only: loaders, debugger, tests) --------------------
  /** A 64-bit register as an unsigned BigInt. Not for the hot path. */
  getReg64(i: number): bigint {
    return (BigInt(this.hi[i] >>> 0) << 32n) | BigInt(this.lo[i] >>> 0);
  }

  setReg64(i: number, v: bigint | number): void {
    const b = BigInt.asUintN(64, BigInt(v));
    this.lo[i] = Number(b & 0xffffffffn) | 0;
    this.hi[i] = Number(b >> 32n) | 0;
  }

  getRip(): bigint {
    return (BigInt(this.ripHi >>> 0) << 32n) | BigInt(this.ripLo >>> 0);
  }

  setRip(v: bigint | number): void {
    const b = BigInt.asUintN(64, BigInt(v));
    this.ripLo = Number(b & 0xffffffffn) | 0;
    this.ripHi = Number(b >> 32n) | 0;
  }

  /** The TSC as a number (exact up to 2^53 instructions). */
  tsc(): number {
    return this.tscOffset + this.icount * this.tscPerInstruction;
  }

  segment(s: Seg): SegmentCache {
    return {
      selector: this.segSel[s],
      baseLo: this.segBaseLo[s],
      baseHi: this.segBaseHi[s],
      limit: this.segLimit[s],
      attr: this.segAttr[s],
    };
  }

  setSegment(s: Seg, c: SegmentCache): void {
    this.segSel[s] = c.selector;
    this.segBaseLo[s] = c.baseLo;
    this.segBaseHi[s] = c.baseHi;
    this.segLimit[s] = c.limit;
    this.segAttr[s] = c.attr;
  }
}
