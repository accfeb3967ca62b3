/**
 * String instructions MOVS, STOS, LODS, CMPS, SCAS in byte, word, doubleword and quadword sizes,
 * with the REP, REPE/REPZ and REPNE/REPNZ prefixes (SDM vol. 2B MOVS, STOS, LODS, CMPS, SCAS and
 * REP/REPE/REPZ/REPNE/REPNZ; vol. 1 §7.3.9).
 *
 * - Source [seg:rSI] (DS unless overridden), destination [ES:rDI] (no override). The address
 *   size (16/32/64) picks SI/ESI/RSI, DI/EDI/RDI and the counter CX/ECX/RCX, and the pointers
 *   wrap with it. DF chooses the direction.
 * - A REP string instruction runs all its iterations in one op. Each iteration updates rSI, rDI
 *   and rCX only after its memory accesses succeeded, so a fault in iteration k leaves the
 *   registers as of that iteration and RIP at the instruction (SDM vol. 1 §7.3.9.2: the
 *   instruction can be restarted). A count of 0 does nothing. REPE/REPNE on MOVS, STOS and
 *   LODS act as REP.
 * - Measured on silicon (64-bit mode, 32-bit address size): REP MOVS and REP STOS zero-extend
 *   ECX and their pointer registers (MOVS: ESI, EDI; STOS: EDI) before the first iteration,
 *   even when the count is 0 or the first iteration faults; REP LODS/CMPS/SCAS only ECX.
 * - REP MOVS/STOS (and, with DF=0, REPE/REPNE SCAS/CMPS up to doublewords) work a page at a
 *   time straight on the page's bytes once the first element of the chunk went through the
 *   normal access path (which raises any fault and leaves pages that hold translated code or are
 *   not RAM to the slow path), preserving the element-by-element result for overlapping source
 *   and destination. Those fast paths are in stringBulk.ts; this file holds the addressing, the
 *   element-by-element semantics and the translator. stringRegs.ts has the pointer and counter
 *   bookkeeping both use.
 */
import { Code, Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import { CpuException, Vector } from '../exceptions';
import type { AddrFn, Op } from '../operands';
import { Gpr, Seg } from '../registers';
import type { TranslatorTable } from '../translator';
import * as A from './arith';
import { cmpsForward, movsBulk, scasForward, stosBulk } from './stringBulk';
import * as stringRegs from './stringRegs';
import type { Read, Spec, Write } from './stringRegs';
import { sseStringAlias } from '../sse';

// Module-local bindings of the helpers the ops call. Under tsx (tests, conformance) each file is
// CommonJS and every use of an imported name goes through a getter on the other module's exports
// object, which made string-heavy code ~1.4x slower; in the esbuild bundle this costs nothing.
const { advance, cmp, countIsZero, decCount, dfSet, lastEqual } = stringRegs;

const TWO32 = 4294967296;

const enum Kind { Movs, Stos, Lods, Cmps, Scas }
const enum Rep { None, Rep, Repe, Repne }

interface Form { kind: Kind; size: 1 | 2 | 4 | 8 }

const FORMS = new Map<Code, Form>([
  [Code.Movsb_m8_m8, { kind: Kind.Movs, size: 1 }], [Code.Movsw_m16_m16, { kind: Kind.Movs, size: 2 }],
  [Code.Movsd_m32_m32, { kind: Kind.Movs, size: 4 }], [Code.Movsq_m64_m64, { kind: Kind.Movs, size: 8 }],
  [Code.Stosb_m8_AL, { kind: Kind.Stos, size: 1 }], [Code.Stosw_m16_AX, { kind: Kind.Stos, size: 2 }],
  [Code.Stosd_m32_EAX, { kind: Kind.Stos, size: 4 }], [Code.Stosq_m64_RAX, { kind: Kind.Stos, size: 8 }],
  [Code.Lodsb_AL_m8, { kind: Kind.Lods, size: 1 }], [Code.Lodsw_AX_m16, { kind: Kind.Lods, size: 2 }],
  [Code.Lodsd_EAX_m32, { kind: Kind.Lods, size: 4 }], [Code.Lodsq_RAX_m64, { kind: Kind.Lods, size: 8 }],
  [Code.Cmpsb_m8_m8, { kind: Kind.Cmps, size: 1 }], [Code.Cmpsw_m16_m16, { kind: Kind.Cmps, size: 2 }],
  [Code.Cmpsd_m32_m32, { kind: Kind.Cmps, size: 4 }], [Code.Cmpsq_m64_m64, { kind: Kind.Cmps, size: 8 }],
  [Code.Scasb_AL_m8, { kind: Kind.Scas, size: 1 }], [Code.Scasw_AX_m16, { kind: Kind.Scas, size: 2 }],
  [Code.Scasd_EAX_m32, { kind: Kind.Scas, size: 4 }], [Code.Scasq_RAX_m64, { kind: Kind.Scas, size: 8 }],
]);

// ---- addresses ---------------------------------------------------------------------------------

function segFault(seg: number): CpuException {
  return seg === Seg.SS
    ? new CpuException(Vector.SS, 0, 'string operand outside the stack segment or not canonical')
    : new CpuException(Vector.GP, 0, 'string operand outside the segment limit or not canonical');
}

/**
 * True when an access of `last + 1` bytes at (lo, hi) is not entirely canonical for the
 * linear-address width in force (48 or 57 bits; SDM vol. 1 §3.3.7.1, vol. 3A §4.5).
 */
function nonCanonical(c: Cpu, lo: number, hi: number, last: number): boolean {
  const k = c.canonShift;
  if (((hi << k) >> k) !== hi) return true;
  // The top of the lower half (0x00007fff_ffffffff or 0x00ffffff_ffffffff) must not be crossed.
  return hi === (0x7fffffff >>> k) && (lo >>> 0) + last >= TWO32;
}

/**
 * Linear address of [seg:reg] for an access of `size` bytes with address size `asz`
 * (SDM vol. 3A §3.4, §5.3; vol. 1 §3.3.7 in 64-bit mode). Returns the low half, high in linHi.
 */
function stringAddress(bitness: number, seg: number, reg: number, asz: number, size: number): AddrFn {
  const last = size - 1;
  if (bitness === 64) {
    const based = seg === Seg.FS || seg === Seg.GS;
    if (asz === 8) {
      if (based) {
        return (c) => {
          const s = (c.lo[reg] >>> 0) + (c.segBaseLo[seg] >>> 0);
          const hi = (c.hi[reg] + c.segBaseHi[seg] + (s >= TWO32 ? 1 : 0)) | 0;
          if (nonCanonical(c, s, hi, last)) throw segFault(seg);
          c.linHi = hi;
          return s | 0;
        };
      }
      return (c) => {
        const lo = c.lo[reg], hi = c.hi[reg];
        if (nonCanonical(c, lo, hi, last)) throw segFault(seg);
        c.linHi = hi;
        return lo;
      };
    }
    // 32-bit addresses in 64-bit mode: zero-extended offsets, always canonical without a base.
    if (based) {
      return (c) => {
        const s = (c.lo[reg] >>> 0) + (c.segBaseLo[seg] >>> 0);
        const hi = (c.segBaseHi[seg] + (s >= TWO32 ? 1 : 0)) | 0;
        if (nonCanonical(c, s, hi, last)) throw segFault(seg);
        c.linHi = hi;
        return s | 0;
      };
    }
    return (c) => { c.linHi = 0; return c.lo[reg]; };
  }
  if (asz === 2) {
    return (c) => {
      const o = c.lo[reg] & 0xffff;
      if (o + last > c.segLimit[seg]) throw segFault(seg);
      c.linHi = 0;
      return (o + c.segBaseLo[seg]) | 0;
    };
  }
  return (c) => {
    const o = c.lo[reg] >>> 0;
    if (o + last > c.segLimit[seg]) throw segFault(seg);
    c.linHi = 0;
    return (o + c.segBaseLo[seg]) | 0;
  };
}

// ---- sized memory access ------------------------------------------------------------------------

const READ: Record<number, Read> = {
  1: (c, lo, hi) => c.read8(lo, hi),
  2: (c, lo, hi) => c.read16(lo, hi),
  4: (c, lo, hi) => c.read32(lo, hi),
  8: (c, lo, hi) => c.read64(lo, hi),
};
const WRITE: Record<number, Write> = {
  1: (c, lo, hi, v) => c.write8(lo, hi, v),
  2: (c, lo, hi, v) => c.write16(lo, hi, v),
  4: (c, lo, hi, v) => c.write32(lo, hi, v),
  8: (c, lo, hi, v, vhi) => c.write64(lo, hi, v, vhi),
};

// ---- one iteration of each instruction ----------------------------------------------------------

/** One iteration; returns nothing, updates the pointer registers after the accesses. */
type Once = (c: Cpu) => void;

function movsOnce(s: Spec): Once {
  const { size, asz, src, dst, read, write } = s;
  return (c) => {
    const a = src(c);
    const v = read(c, a, c.linHi);
    const vhi = c.vHi;
    const b = dst(c);
    write(c, b, c.linHi, v, vhi);
    const delta = dfSet(c) ? -size : size;
    advance(c, Gpr.RSI, asz, delta);
    advance(c, Gpr.RDI, asz, delta);
  };
}

function stosOnce(s: Spec): Once {
  const { size, asz, dst, write } = s;
  const mask = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  return (c) => {
    const b = dst(c);
    write(c, b, c.linHi, c.lo[Gpr.RAX] & mask, c.hi[Gpr.RAX]);
    advance(c, Gpr.RDI, asz, dfSet(c) ? -size : size);
  };
}

function lodsOnce(s: Spec): Once {
  const { size, asz, src, read } = s;
  return (c) => {
    const a = src(c);
    const v = read(c, a, c.linHi);
    if (size === 8) { c.lo[Gpr.RAX] = v; c.hi[Gpr.RAX] = c.vHi; }
    else if (size === 4) { c.lo[Gpr.RAX] = v; c.hi[Gpr.RAX] = 0; }
    else if (size === 2) c.lo[Gpr.RAX] = (c.lo[Gpr.RAX] & ~0xffff) | v;
    else c.lo[Gpr.RAX] = (c.lo[Gpr.RAX] & ~0xff) | v;
    advance(c, Gpr.RSI, asz, dfSet(c) ? -size : size);
  };
}

/**
 * CMPS: flags of [seg:rSI] - [ES:rDI] (SDM vol. 2A CMPS: SRC1 - SRC2). Silicon accesses the
 * ES:rDI operand first: when both fault, the fault (segment check or page fault) is that of
 * ES:rDI (measured).
 */
function cmpsOnce(s: Spec): Once {
  const { size, asz, src, dst, read } = s;
  return (c) => {
    const b = dst(c);
    const y = read(c, b, c.linHi);
    const yhi = c.vHi;
    const a = src(c);
    const x = read(c, a, c.linHi);
    if (size === 8) A.sub64(c, x, c.vHi, y, yhi);
    else A.sub(c, x, y, size);
    const delta = dfSet(c) ? -size : size;
    advance(c, Gpr.RSI, asz, delta);
    advance(c, Gpr.RDI, asz, delta);
  };
}

/** SCAS: flags of AL/AX/EAX/RAX - [ES:rDI]. */
function scasOnce(s: Spec): Once {
  const { size, asz, dst, read } = s;
  const mask = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  return (c) => {
    const b = dst(c);
    const y = read(c, b, c.linHi);
    if (size === 8) A.sub64(c, c.lo[Gpr.RAX], c.hi[Gpr.RAX], y, c.vHi);
    else A.sub(c, c.lo[Gpr.RAX] & mask, y, size);
    advance(c, Gpr.RDI, asz, dfSet(c) ? -size : size);
  };
}

// ---- REPE/REPNE CMPS and SCAS: comparisons without flag writes ---------------------------------
// "When a fault occurs during the execution of a CMPS or SCAS instruction that is prefixed with
// REPE or REPNE, the EFLAGS value is restored to the state prior to the execution of the
// instruction" (SDM vol. 2B REP/REPE/REPZ/REPNE/REPNZ; measured on silicon). So the loop keeps
// the operands of the last comparison in `cmp` (stringRegs.ts) and sets the flags from them only
// when it ends.
function cmpsStep(s: Spec): Once {
  const { size, asz, src, dst, read } = s;
  const wide = size === 8;
  return (c) => {
    const b = dst(c);
    const y = read(c, b, c.linHi);
    const yhi = wide ? c.vHi : 0;
    const a = src(c);
    const x = read(c, a, c.linHi);
    cmp.a = x; cmp.aHi = wide ? c.vHi : 0; cmp.b = y; cmp.bHi = yhi;
    const delta = dfSet(c) ? -size : size;
    advance(c, Gpr.RSI, asz, delta);
    advance(c, Gpr.RDI, asz, delta);
  };
}

function scasStep(s: Spec): Once {
  const { size, asz, dst, read } = s;
  const mask = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  const wide = size === 8;
  return (c) => {
    const b = dst(c);
    const y = read(c, b, c.linHi);
    cmp.a = c.lo[Gpr.RAX] & mask; cmp.aHi = wide ? c.hi[Gpr.RAX] : 0; cmp.b = y; cmp.bHi = wide ? c.vHi : 0;
    advance(c, Gpr.RDI, asz, dfSet(c) ? -size : size);
  };
}

// ---- translation --------------------------------------------------------------------------------

function stringOp(d: DecodedInsn): Op | null {
  const f = FORMS.get(d.code);
  if (f === undefined) return sseStringAlias(d); // SSE2 MOVSD/CMPSD (XMM forms) share the mnemonic
  const { kind, size } = f;
  const asz = d.addrSize;
  const b64 = d.bitness === 64;
  const srcSeg = d.segPrefix >= 0 ? d.segPrefix : Seg.DS;
  const spec: Spec = {
    size, asz,
    src: stringAddress(d.bitness, srcSeg, Gpr.RSI, asz, size),
    dst: stringAddress(d.bitness, Seg.ES, Gpr.RDI, asz, size),
    read: READ[size],
    write: WRITE[size],
  };
  const once = kind === Kind.Movs ? movsOnce(spec) : kind === Kind.Stos ? stosOnce(spec)
    : kind === Kind.Lods ? lodsOnce(spec) : kind === Kind.Cmps ? cmpsOnce(spec) : scasOnce(spec);
  const compares = kind === Kind.Cmps || kind === Kind.Scas;
  const rep = d.repne ? (compares ? Rep.Repne : Rep.Rep) : d.rep ? (compares ? Rep.Repe : Rep.Rep) : Rep.None;
  if (rep === Rep.None) return once;

  const wide = size === 8;
  if (compares) {
    const repe = rep === Rep.Repe;
    const step = kind === Kind.Cmps ? cmpsStep(spec) : scasStep(spec);
    const fast = wide ? null : kind === Kind.Cmps ? cmpsForward(spec, b64, srcSeg, repe) : scasForward(spec, b64, repe);
    const clearCx = b64 && asz === 4;
    return (c) => {
      if (clearCx) c.hi[Gpr.RCX] = 0;
      if (countIsZero(c, asz)) return;
      do {
        if (fast === null || !fast(c)) {
          step(c);
          decCount(c, asz, 1);
        }
      } while (lastEqual() === repe && !countIsZero(c, asz));
      if (wide) A.sub64(c, cmp.a, cmp.aHi, cmp.b, cmp.bHi);
      else A.sub(c, cmp.a, cmp.b, size);
    };
  }
  const bulk = kind === Kind.Movs ? movsBulk(spec, b64, srcSeg)
    : kind === Kind.Stos ? stosBulk(spec, b64)
      : null;
  // 64-bit mode, 32-bit addresses: the upper halves cleared up front (measured, see above).
  const clear = b64 && asz === 4;
  const clearSi = clear && kind === Kind.Movs;
  const clearDi = clear && (kind === Kind.Movs || kind === Kind.Stos);
  return (c) => {
    if (clear) {
      c.hi[Gpr.RCX] = 0;
      if (clearSi) c.hi[Gpr.RSI] = 0;
      if (clearDi) c.hi[Gpr.RDI] = 0;
    }
    while (!countIsZero(c, asz)) {
      if (bulk === null || !bulk(c)) {
        once(c);
        decCount(c, asz, 1);
      }
    }
  };
}

export const stringHandlers: TranslatorTable = {};
for (const m of [
  Mnemonic.Movsb, Mnemonic.Movsw, Mnemonic.Movsd, Mnemonic.Movsq,
  Mnemonic.Stosb, Mnemonic.Stosw, Mnemonic.Stosd, Mnemonic.Stosq,
  Mnemonic.Lodsb, Mnemonic.Lodsw, Mnemonic.Lodsd, Mnemonic.Lodsq,
  Mnemonic.Cmpsb, Mnemonic.Cmpsw, Mnemonic.Cmpsd, Mnemonic.Cmpsq,
  Mnemonic.Scasb, Mnemonic.Scasw, Mnemonic.Scasd, Mnemonic.Scasq,
]) {
  stringHandlers[m] = stringOp;
}
