/**
 * The EPT translation of one guest-physical address (SDM vol. 3C §28.2.2, "EPT Translation
 * Mechanism"), with the misconfiguration (§28.2.3.1) and violation (§28.2.3.2) conditions and
 * the accessed/dirty flags (§28.2.4). Reads the EPT paging structures from host-physical memory;
 * results go to `eptResult` (no allocation on any path).
 *
 * Entry layout (tables 28-1..28-6; N = MAXPHYADDR):
 *   all entries: bit 0 read, 1 write, 2 execute; bits N-1:12 address; 51:N reserved;
 *                bit 8 accessed when EPTP bit 6 = 1 (ignored otherwise); bits 63:52 ignored.
 *   PML5E/PML4E, and PDPTE/PDE that reference a table: bits 7:3 reserved (bit 7 = 0 there).
 *   PDPTE with bit 7 = 1 maps 1 GByte (bits 29:12 reserved), PDE with bit 7 = 1 maps 2 MBytes
 *   (bits 20:12 reserved), PTE maps 4 KBytes (bit 7 ignored); leaves: bits 5:3 EPT memory type,
 *   bit 6 ignore-PAT, bit 9 dirty when EPTP bit 6 = 1.
 * Bits 2:0 = 000 is "not present" (EPT violation; other bits ignored). 010b and 110b are always
 * misconfigured, 100b when execute-only is not reported; a present entry with a reserved bit
 * set, or a leaf whose memory type is 2, 3 or 7, is misconfigured.
 *
 * Accessed and dirty flags (EPTP bit 6): this model sets them only when the translation
 * succeeds — the accessed flag in every entry used, the dirty flag in the leaf for a write —
 * so an access that exits leaves the EPT paging structures unchanged.
 */
import type { Cpu } from '../x86/cpu';
import { eptCap } from './eptFeatures';

const TWO32 = 4294967296;

export const enum EptStatus {
  Ok = 0,
  Violation = 1,
  Misconfig = 2,
}

/** Kind of guest-physical access, as the qualification's bits 2:0 count it. */
export const enum EptAccess {
  Read = 1,
  Write = 2,
  Execute = 4,
}

/** Results of the last `eptWalk`. */
export const eptResult = {
  /** Host-physical address (Ok). */
  hpa: 0,
  /** Logical AND of bits 2:0 of the entries used (qualification bits 5:3). */
  perms: 0,
  /** Level of the last entry used: 5 PML5E, 4 PML4E, 3 PDPTE, 2 PDE, 1 PTE. */
  level: 0,
  /** Size of the page mapped (Ok): 4096, 2 MiB or 1 GiB. */
  pageSize: 0,
  /** After a successful walk: a write may reuse it without a walk (dirty flag set, or A/D off). */
  writeReady: false,
  /** Why the walk failed (for reports and tests); constant strings. */
  why: '',
};

/**
 * The debugger's view of a walk (src/debugger/inspect): when `entry` is set, every EPT entry
 * read is reported (level 5..1, host-physical address, value). A probe passes an EPTP with
 * bit 6 clear so the walk writes no accessed/dirty flag.
 */
export const eptWalkTrace: { entry: ((level: number, at: number, lo: number, hi: number) => void) | null } = { entry: null };

const EXEC_ONLY = eptCap(0);
const PAGE_2M = eptCap(16);
const PAGE_1G = eptCap(17);

// Entries used by the current walk (host-physical address of byte 1, its value) for A/D updates.
const usedAt = new Float64Array(5);
const usedByte1 = new Int32Array(5);
let entryHi = 0;

function readHostEntry(c: Cpu, at: number): number {
  const page = c.mem.page(Math.floor(at / 4096));
  const o = at % 4096;
  if (page !== null) {
    entryHi = page[o + 4] | (page[o + 5] << 8) | (page[o + 6] << 16) | (page[o + 7] << 24);
    return page[o] | (page[o + 1] << 8) | (page[o + 2] << 16) | (page[o + 3] << 24);
  }
  // Beyond RAM reads all-ones: a present entry with reserved bits set (a misconfiguration).
  entryHi = c.mem.readIo(at + 4, 4) | 0;
  return c.mem.readIo(at, 4) | 0;
}

const LEVEL_NAMES = ['', 'EPT PTE', 'EPT PDE', 'EPT PDPTE', 'EPT PML4E', 'EPT PML5E'];
const WHY_NOT_PRESENT = LEVEL_NAMES.map((n) => `${n} not present`);
const WHY_WRITE_ONLY = LEVEL_NAMES.map((n) => `${n}: bits 2:0 allow writes without reads`);
const WHY_EXEC_ONLY = LEVEL_NAMES.map((n) => `${n}: execute-only is not supported`);
const WHY_RESERVED = LEVEL_NAMES.map((n) => `${n}: reserved bit set`);
const WHY_MEMTYPE = LEVEL_NAMES.map((n) => `${n}: reserved EPT memory type`);
const WHY_DENIED = ['', 'EPT denies the read', 'EPT denies the write', '', 'EPT denies the instruction fetch'];

/**
 * Translate `gpa` (a non-negative integer below 2^52) through the EPT paging structures of
 * `eptpLo/eptpHi` (already valid, §26.2.1.1) for an access of kind `need` (EptAccess: the
 * permission bit it requires). `physHi` masks the address bits 51:32 below MAXPHYADDR.
 */
export function eptWalk(c: Cpu, eptpLo: number, eptpHi: number, gpa: number, need: number, physHi: number): EptStatus {
  const r = eptResult;
  const gHi = Math.floor(gpa / TWO32) | 0;
  const gLo = gpa % TWO32 | 0;
  const rsvdHi = 0xfffff & ~physHi;
  let table = (eptpHi & physHi) * TWO32 + ((eptpLo & 0xfffff000) >>> 0);
  let perms = 7;
  let n = 0;
  for (let level = ((eptpLo >>> 3) & 7) + 1; level >= 1; level--) {
    // Index bits: 56:48, 47:39, 38:30, 29:21, 20:12 (§28.2.2).
    const idx = level === 5 ? (gHi >>> 16) & 0x1ff
      : level === 4 ? (gHi >>> 7) & 0x1ff
      : level === 3 ? ((gHi & 0x7f) << 2) | (gLo >>> 30)
      : level === 2 ? (gLo >>> 21) & 0x1ff
      : (gLo >>> 12) & 0x1ff;
    const at = table + idx * 8;
    const e = readHostEntry(c, at);
    const eHi = entryHi;
    if (eptWalkTrace.entry !== null) eptWalkTrace.entry(level, at, e, eHi);
    const rwx = e & 7;
    perms &= rwx;
    r.level = level;
    r.perms = perms;
    if (rwx === 0) {
      r.why = WHY_NOT_PRESENT[level];
      return EptStatus.Violation;
    }
    if (rwx === 2 || rwx === 6) {
      r.why = WHY_WRITE_ONLY[level];
      return EptStatus.Misconfig;
    }
    if (rwx === 4 && !EXEC_ONLY) {
      r.why = WHY_EXEC_ONLY[level];
      return EptStatus.Misconfig;
    }
    if ((eHi & rsvdHi) !== 0) {
      r.why = WHY_RESERVED[level];
      return EptStatus.Misconfig;
    }
    usedAt[n] = at + 1;
    usedByte1[n] = (e >>> 8) & 0xff;
    n++;
    const big = (e & 0x80) !== 0;
    if (level === 1 || (big && (level === 2 || level === 3))) {
      let baseLo: number;
      let size: number;
      if (level === 3) {
        if (!PAGE_1G || (e & 0x3ffff000) !== 0) {
          r.why = WHY_RESERVED[level];
          return EptStatus.Misconfig;
        }
        baseLo = (e & 0xc0000000) >>> 0;
        size = 0x40000000;
      } else if (level === 2) {
        if (!PAGE_2M || (e & 0x1ff000) !== 0) {
          r.why = WHY_RESERVED[level];
          return EptStatus.Misconfig;
        }
        baseLo = (e & 0xffe00000) >>> 0;
        size = 0x200000;
      } else {
        baseLo = (e & 0xfffff000) >>> 0;
        size = 0x1000;
      }
      const mt = (e >>> 3) & 7;
      if (mt === 2 || mt === 3 || mt === 7) {
        r.why = WHY_MEMTYPE[level];
        return EptStatus.Misconfig;
      }
      if ((perms & need) === 0) {
        r.why = WHY_DENIED[need];
        return EptStatus.Violation;
      }
      if ((eptpLo & 0x40) !== 0) {
        // §28.2.4: accessed flag (bit 8) in every entry used; dirty flag (bit 9) in the leaf on a write.
        for (let k = 0; k < n; k++) {
          const want = k === n - 1 && need === EptAccess.Write ? 3 : 1;
          if ((usedByte1[k] & want) !== want) c.writePhys8(usedAt[k], usedByte1[k] | want);
        }
        r.writeReady = need === EptAccess.Write || (e & 0x200) !== 0;
      } else {
        r.writeReady = true;
      }
      r.pageSize = size;
      r.hpa = (eHi & physHi) * TWO32 + baseLo + (gpa % size);
      return EptStatus.Ok;
    }
    if ((e & 0xf8) !== 0) {
      r.why = WHY_RESERVED[level];
      return EptStatus.Misconfig;
    }
    table = (eHi & physHi) * TWO32 + ((e & 0xfffff000) >>> 0);
  }
  throw new Error('internal: EPT walk without a leaf');
}
