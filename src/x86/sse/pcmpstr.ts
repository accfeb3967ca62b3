/**
 * SSE4.2 packed string compares: PCMPESTRI, PCMPESTRM, PCMPISTRI, PCMPISTRM (SDM vol. 2B
 * instruction pages, and vol. 2A §4.1 "Imm8 Control Byte Operation for PCMPESTRI / PCMPESTRM /
 * PCMPISTRI / PCMPISTRM"; vol. 1 §12.10.4 / §12.13).
 *
 * imm8[1:0] source data format (ub, uw, sb, sw: 16 bytes or 8 words); imm8[3:2] aggregation
 * (§4.1.3: equal any, ranges, equal each, equal ordered); imm8[5:4] polarity (§4.1.4);
 * imm8[6] output selection (§4.1.5/4.1.6: least/most significant index into ECX, or bit mask /
 * expanded byte-word mask into XMM0).
 *
 * Lengths (§4.1.2): explicit forms take the absolute value of EAX (xmm1) and EDX (xmm2/m128),
 * RAX/RDX with REX.W, saturated to the element count; implicit forms stop at the first null
 * element. Elements at or beyond a length are invalid and their comparisons are overridden as
 * in table 4-7 ("Comparison Result for Each Element Pair BoolRes[i.j]").
 *
 * Flags (instruction pages): CF = IntRes2 != 0; ZF = xmm2/m128 shorter than the element count;
 * SF = xmm1 shorter than the element count; OF = IntRes2[0]; AF = PF = 0.
 * The memory operand has no alignment requirement (§4.1: "unaligned memory accesses allowed").
 */
import { Code, Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoded';
import type { Op } from '../operands';
import type { Translator, TranslatorTable } from '../translator';
import { A, B, R, type Vec, isMmx, loadXmm, loader, sseCheck, storeXmm, xmmOf } from './common';

/** Number of valid elements for an implicit-length operand: index of the first null element. */
export function implicitLength(v: Vec, words: boolean): number {
  if (words) {
    for (let i = 0; i < 8; i++) if (v.u16[i] === 0) return i;
    return 8;
  }
  for (let i = 0; i < 16; i++) if (v.u8[i] === 0) return i;
  return 16;
}

/** |lo:hi| (a 64-bit value when `wide`, else lo as int32) saturated to n (§4.1.2). */
export function explicitLength(lo: number, hi: number, wide: boolean, n: number): number {
  if (!wide) {
    const v = Math.abs(lo | 0);
    return v > n ? n : v;
  }
  if (hi < 0) {
    // 64-bit negate.
    const nlo = (-lo) | 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) | 0;
    lo = nlo;
  }
  if (hi !== 0) return n;
  const v = lo >>> 0;
  return v > n ? n : v;
}

/**
 * IntRes2 of §4.1.3-4.1.4 for src1 = `a` (xmm1, la valid elements) and src2 = `b`
 * (xmm2/m128, lb valid elements). A bit per element (16 or 8 bits).
 */
export function pcmpstrCore(imm: number, a: Vec, b: Vec, la: number, lb: number): number {
  const words = (imm & 1) !== 0;
  const signed = (imm & 2) !== 0;
  const n = words ? 8 : 16;
  const ea = words ? (signed ? a.i16 : a.u16) : (signed ? a.i8 : a.u8);
  const eb = words ? (signed ? b.i16 : b.u16) : (signed ? b.i8 : b.u8);
  const agg = (imm >> 2) & 3;
  let res1 = 0;
  switch (agg) {
    case 0: // equal any: IntRes1[j] = OR_i (b[j] == a[i]); invalid pairs are false.
      for (let j = 0; j < lb; j++) {
        const x = eb[j];
        for (let i = 0; i < la; i++) if (ea[i] === x) { res1 |= 1 << j; break; }
      }
      break;
    case 1: // ranges: IntRes1[j] = OR over even i of (a[i] <= b[j] <= a[i+1]); invalid pairs false.
      for (let j = 0; j < lb; j++) {
        const x = eb[j];
        for (let i = 0; i + 1 < la; i += 2) if (x >= ea[i] && x <= ea[i + 1]) { res1 |= 1 << j; break; }
      }
      break;
    case 2: // equal each: IntRes1[i] = (b[i] == a[i]); both invalid → true, one invalid → false.
      for (let i = 0; i < n; i++) {
        const va = i < la, vb = i < lb;
        if (va && vb ? ea[i] === eb[i] : !va && !vb) res1 |= 1 << i;
      }
      break;
    default: // equal ordered: IntRes1[j] = AND over i (a[i] == b[j+i]) for j+i < n;
      // a invalid → true; a valid, b invalid → false.
      for (let j = 0; j < n; j++) {
        let ok = true;
        for (let i = 0, k = j; k < n && i < la; i++, k++) {
          if (k >= lb || ea[i] !== eb[k]) { ok = false; break; }
        }
        if (ok) res1 |= 1 << j;
      }
      break;
  }
  const full = (1 << n) - 1;
  switch ((imm >> 4) & 3) {
    case 1: return ~res1 & full; // negative polarity
    case 3: return (res1 ^ ((1 << lb) - 1)) & full; // masked negative: only valid xmm2 elements
    default: return res1;
  }
}

/** EFLAGS of the four instructions: CF, ZF, SF, OF as above; AF, PF cleared. */
function setStrFlags(c: Cpu, res2: number, la: number, lb: number, n: number): void {
  const cf = res2 !== 0 ? 1 : 0, of = res2 & 1;
  c.fRes = lb < n ? 0 : 1;
  c.fSgn = la < n ? -1 : 0;
  c.fPar = 1;
  c.fCO = (cf << 31) | ((cf ^ of) << 30);
  c.fAux = 0;
}

function pcmpstr(explicit: boolean, index: boolean): Translator {
  return (d: DecodedInsn): Op | null => {
    if (isMmx(d) || d.opCount < 3) return null;
    const src1 = xmmOf(d.opRegs[0]);
    if (src1 < 0) return null;
    const ld = loader(d, 1, 16, false);
    const imm = d.immLo & 0xff;
    const words = (imm & 1) !== 0;
    const n = words ? 8 : 16;
    const msb = (imm & 0x40) !== 0;
    const wide = explicit && d.bitness === 64 && (d.rexW || Code[d.code].includes('64'));
    return (c) => {
      sseCheck(c);
      ld(c, B);
      loadXmm(c, src1, A);
      let la: number, lb: number;
      if (explicit) {
        la = explicitLength(c.lo[0], c.hi[0], wide, n);
        lb = explicitLength(c.lo[2], c.hi[2], wide, n);
      } else {
        la = implicitLength(A, words);
        lb = implicitLength(B, words);
      }
      const res2 = pcmpstrCore(imm, A, B, la, lb);
      if (index) {
        // §4.1.5: index of the least (most) significant set bit, n when none is set.
        let idx = n;
        if (res2 !== 0) idx = msb ? 31 - Math.clz32(res2) : 31 - Math.clz32(res2 & -res2);
        c.lo[1] = idx; c.hi[1] = 0;
      } else {
        // §4.1.6: bit mask zero-extended, or each bit expanded to a byte/word mask.
        if (!msb) {
          R.i32[0] = res2; R.i32[1] = 0; R.i32[2] = 0; R.i32[3] = 0;
        } else if (words) {
          for (let i = 0; i < 8; i++) R.u16[i] = (res2 >> i) & 1 ? 0xffff : 0;
        } else {
          for (let i = 0; i < 16; i++) R.u8[i] = (res2 >> i) & 1 ? 0xff : 0;
        }
        storeXmm(c, 0, R);
      }
      setStrFlags(c, res2, la, lb, n);
    };
  };
}

export const pcmpstrHandlers: TranslatorTable = {
  [Mnemonic.Pcmpestri]: pcmpstr(true, true),
  [Mnemonic.Pcmpestrm]: pcmpstr(true, false),
  // iced names the REX.W forms (RAX/RDX lengths) separately.
  [Mnemonic.Pcmpestri64]: pcmpstr(true, true),
  [Mnemonic.Pcmpestrm64]: pcmpstr(true, false),
  [Mnemonic.Pcmpistri]: pcmpstr(false, true),
  [Mnemonic.Pcmpistrm]: pcmpstr(false, false),
};
