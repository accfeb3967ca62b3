/**
 * Segment and gate descriptors (SDM vol. 3A §3.4.5, §5.8.3, §6.11, §6.14.1, §7.2.2): reading them
 * from the GDT or LDT by selector and decoding them. Loads with their privilege and type checks
 * live in segmentation.ts; this file only reads and decodes.
 *
 * Access rights use the VMCS layout (SDM vol. 3C §24.4.1) everywhere in the processor:
 * type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16.
 */
import type { Cpu } from './cpu';
import { CpuException } from './exceptions';
import { Flag, Seg } from './registers';

export const ATTR_UNUSABLE = 1 << 16;

export interface Descriptor {
  /** The two raw dwords. */
  lo: number;
  hi: number;
  /** Base (32 bits; a 16-byte system descriptor in IA-32e mode adds `baseHi`). */
  base: number;
  baseHi: number;
  /** Limit in bytes (scaled by G). */
  limit: number;
  /** Access rights in the VMCS layout. */
  attr: number;
  type: number;
  /** S flag: 1 for code/data, 0 for system descriptors and gates. */
  s: number;
  dpl: number;
  present: boolean;
  /** Gates: target selector, offset (low 32 bits, `offsetHi` in IA-32e mode), parameter count, IST. */
  gateSelector: number;
  gateOffset: number;
  gateOffsetHi: number;
  paramCount: number;
  ist: number;
}

/** Access rights (VMCS layout) from a descriptor's high dword. */
export function attrOf(hi: number): number {
  return ((hi >>> 8) & 0xff) | (((hi >>> 20) & 0xf) << 12);
}

/** Decode an 8-byte descriptor (and the upper 8 bytes of a 16-byte one when given). */
export function decodeDescriptor(lo: number, hi: number, upper = 0): Descriptor {
  const attr = attrOf(hi);
  const rawLimit = (lo & 0xffff) | (hi & 0xf0000);
  const g = (hi >>> 23) & 1;
  return {
    lo, hi,
    base: ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0,
    baseHi: upper | 0,
    limit: g ? rawLimit * 4096 + 4095 : rawLimit,
    attr,
    type: attr & 0xf,
    s: (attr >>> 4) & 1,
    dpl: (attr >>> 5) & 3,
    present: (attr & 0x80) !== 0,
    gateSelector: (lo >>> 16) & 0xffff,
    gateOffset: ((lo & 0xffff) | (hi & 0xffff0000)) >>> 0,
    gateOffsetHi: upper | 0,
    paramCount: hi & 0x1f,
    ist: hi & 7,
  };
}

/**
 * Linear address (low half; high half in cpu.linHi) of the descriptor `selector` names, or a
 * fault with the selector's error code when it lies beyond the table's limit (`bytes` = 8 or 16).
 * `vector` is the fault to raise (#GP, #TS, #NP... per the caller's context).
 */
export function descriptorAddress(c: Cpu, selector: number, vector: number, bytes = 8): number {
  const index = selector & 0xfff8;
  if (selector & 4) {
    // LDT: the LDTR must hold a usable LDT.
    if (c.segAttr[Seg.LDTR] & ATTR_UNUSABLE || index + bytes - 1 > c.segLimit[Seg.LDTR]) {
      throw new CpuException(vector, selector & 0xfffc, `selector 0x${selector.toString(16)} beyond the LDT`);
    }
    const s = (c.segBaseLo[Seg.LDTR] >>> 0) + index;
    c.linHi = c.bitness === 64 || c.longMode ? (c.segBaseHi[Seg.LDTR] + (s >= 4294967296 ? 1 : 0)) | 0 : 0;
    return s | 0;
  }
  if (index + bytes - 1 > c.gdtrLimit) {
    throw new CpuException(vector, selector & 0xfffc, `selector 0x${selector.toString(16)} beyond the GDT limit`);
  }
  const s = (c.gdtrBaseLo >>> 0) + index;
  c.linHi = c.longMode ? (c.gdtrBaseHi + (s >= 4294967296 ? 1 : 0)) | 0 : 0;
  return s | 0;
}

/** Read and decode the descriptor `selector` names (implicit supervisor reads). */
export function readDescriptor(c: Cpu, selector: number, vector: number): Descriptor {
  const a = descriptorAddress(c, selector, vector, 8);
  const hi = c.linHi;
  const lo = c.readSystem(a, hi, 4);
  const a4 = (a + 4) | 0;
  const hi4 = (a >>> 0) + 4 >= 4294967296 && c.longMode ? (hi + 1) | 0 : hi;
  return decodeDescriptor(lo, c.readSystem(a4, hi4, 4));
}

/** Read a 16-byte IA-32e system descriptor (LDT, TSS, call gate: SDM vol. 3A §7.2.3, §5.8.3.1). */
export function readDescriptor16(c: Cpu, selector: number, vector: number): Descriptor {
  const a = descriptorAddress(c, selector, vector, 16);
  const hi = c.linHi;
  const w = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    const s = (a >>> 0) + 4 * k;
    w[k] = c.readSystem(s | 0, s >= 4294967296 ? (hi + 1) | 0 : hi, 4);
  }
  return decodeDescriptor(w[0], w[1], w[2]);
}

/** Load a segment register's hidden part directly (loaders, real mode, tests). */
export function setSegmentCache(c: Cpu, seg: number, selector: number, base: number, limit: number, attr: number): void {
  c.segSel[seg] = selector;
  c.segBaseLo[seg] = base | 0;
  c.segBaseHi[seg] = Math.floor(base / 4294967296) | 0;
  c.segLimit[seg] = limit;
  c.segAttr[seg] = attr;
  if (seg === Seg.CS || seg === Seg.SS) updateModeFromSegments(c);
}

/**
 * Recompute the code bitness and stack size from CS and SS (SDM vol. 3A §5.2.1): 64 when
 * IA-32e mode is active and CS.L = 1, else CS.D selects 32 or 16 (always 16 in real and
 * virtual-8086 mode).
 * Call after any CS or SS load; it ends chained blocks when CS changed.
 */
export function updateModeFromSegments(c: Cpu): void {
  const cs = c.segAttr[Seg.CS];
  const ss = c.segAttr[Seg.SS];
  if (!c.protectedMode || (c.flagsRest & Flag.VM) !== 0) {
    // Real-address and virtual-8086 mode (SDM vol. 3A §20.2.1): 16-bit code and stack.
    c.bitness = 16;
    c.stackBits = 16;
  } else if (c.longMode && (cs & 0x2000) !== 0) {
    c.bitness = 64;
    c.stackBits = 64;
  } else {
    c.bitness = cs & 0x4000 ? 32 : 16;
    c.stackBits = ss & 0x4000 ? 32 : 16;
  }
  c.codeChanged();
}
