/**
 * Cached translations in VMX operation (SDM vol. 3C §28.3 "Caching translation information"):
 *
 * - Linear and combined mappings live in the processor's software TLB (mmu.ts: linear page →
 *   host page, per access kind). Here that TLB is *tagged*: each (VPID, EP4TA) context of a guest
 *   that runs with "enable VPID" = 1 has its own set of TLB arrays, and VM entry / VM exit swap the
 *   processor's arrays (a few reference stores) instead of flushing — §28.3.3.3: with VPID on,
 *   entries and exits invalidate nothing. With VPID off (the guest runs with VPID 0000H, like the
 *   host) every VM entry and VM exit invalidates the VPID-0 linear and combined mappings (§28.3.3.3,
 *   §26.3.2.5 and §27.5.5), which is a fill of two small arrays.
 * - Guest-physical mappings (EPT only, GPA page → host page), tagged by EP4TA, in `GpaCache`:
 *   they survive VM transitions, MOV CR3 and INVLPG; only INVEPT (and EPTP changes, by the tag)
 *   drop them (§28.3.3.4). Guest page walks use them, so a walk costs a few array loads.
 *
 * INVEPT (§30.3 "INVEPT"): single-context drops the mappings of one EP4TA (combined mappings of
 * every VPID with that EP4TA, and its guest-physical mappings), all-context every EPT-derived
 * mapping. INVVPID (§30.3 "INVVPID"): individual-address drops one page of one VPID (in every
 * EP4TA context), single-context (types 1 and 3; there are no global translations apart from
 * the others in this TLB, so type 3 drops them all, which is allowed) one VPID, all-context
 * every VPID except 0000H. Dropping more than asked is always allowed (§28.3.3.1).
 *
 * The Mmu declares its TLB arrays `readonly` (nothing else may swap them); this module is the one
 * owner of swapping and writes them through `TlbArrays`.
 */
import type { Cpu } from '../x86/cpu';
import { TLB_SIZE } from '../x86/mmu';

/** The processor's TLB arrays (mmu.ts), writable here. */
interface TlbArrays {
  tlbRLo: Int32Array;
  tlbRHi: Int32Array;
  tlbRPage: (Uint8Array | null)[];
  tlbWLo: Int32Array;
  tlbWHi: Int32Array;
  tlbWPage: (Uint8Array | null)[];
  tlbWPpn: Float64Array;
}

/** One context's linear/combined mappings. */
class TlbSet implements TlbArrays {
  tlbRLo: Int32Array;
  tlbRHi: Int32Array;
  tlbRPage: (Uint8Array | null)[];
  tlbWLo: Int32Array;
  tlbWHi: Int32Array;
  tlbWPage: (Uint8Array | null)[];
  tlbWPpn: Float64Array;
  /** c.blocksTranslated when the set was last swapped out (pages may have become code since). */
  blocks = 0;
  /** Last use (for eviction). */
  used = 0;

  constructor(
    /** VPID (0: the host's set). */
    readonly vpid: number,
    /** EP4TA (EPTP bits 51:12 as a page number), or -1 without EPT. */
    readonly ep4ta: number,
    from?: TlbArrays,
  ) {
    if (from !== undefined) {
      this.tlbRLo = from.tlbRLo;
      this.tlbRHi = from.tlbRHi;
      this.tlbRPage = from.tlbRPage;
      this.tlbWLo = from.tlbWLo;
      this.tlbWHi = from.tlbWHi;
      this.tlbWPage = from.tlbWPage;
      this.tlbWPpn = from.tlbWPpn;
    } else {
      this.tlbRLo = new Int32Array(TLB_SIZE).fill(-1);
      this.tlbRHi = new Int32Array(TLB_SIZE);
      this.tlbRPage = new Array<Uint8Array | null>(TLB_SIZE).fill(null);
      this.tlbWLo = new Int32Array(TLB_SIZE).fill(-1);
      this.tlbWHi = new Int32Array(TLB_SIZE);
      this.tlbWPage = new Array<Uint8Array | null>(TLB_SIZE).fill(null);
      this.tlbWPpn = new Float64Array(TLB_SIZE).fill(-1);
    }
  }

  /** Invalidate every mapping (a lookup compares the page address, never -1). */
  invalidate(): void {
    this.tlbRLo.fill(-1);
    this.tlbWLo.fill(-1);
  }

  /** Invalidate the mappings of the linear page of `lo/hi`. */
  invalidatePage(lo: number): void {
    const i = (lo >>> 12) & (TLB_SIZE - 1);
    this.tlbRLo[i] = -1;
    this.tlbWLo[i] = -1;
  }
}

/** Contexts kept besides the host's (least recently used beyond this are dropped). */
const MAX_GUEST_SETS = 16;

/** GPA → host page cache size (direct-mapped by guest page number). */
export const GPA_CACHE_SIZE = 1024;

/**
 * Guest-physical mappings of one EP4TA: guest page → host page, the AND of the R/W/X bits of
 * the entries used, and whether a write may use it without a walk (no dirty flag to set).
 */
export class GpaCache {
  readonly gpn = new Float64Array(GPA_CACHE_SIZE).fill(-1);
  readonly hpn = new Float64Array(GPA_CACHE_SIZE);
  /** Bits 2:0 permissions; bit 3: a write needs no A/D update. */
  readonly perms = new Int32Array(GPA_CACHE_SIZE);

  /** `ad`: EPTP bit 6 (a mapping cached without A/D flags must not skip setting a dirty flag). */
  constructor(readonly ep4ta: number, readonly ad: boolean) {}

  invalidate(): void {
    this.gpn.fill(-1);
  }
}

export class TaggedTlb {
  /** The host's (and every VPID-off guest's) set: VPID 0. */
  readonly root: TlbSet;
  private readonly guests: TlbSet[] = [];
  private current: TlbSet;
  private clock = 0;
  private readonly gpaCaches: GpaCache[] = [];
  private lastGpa: GpaCache | null = null;

  constructor(private readonly cpu: Cpu) {
    this.root = new TlbSet(0, -1, cpu as unknown as TlbArrays);
    this.current = this.root;
  }

  /** The VPID of the set the processor uses now (0: the host's set). */
  get currentVpid(): number {
    return this.current.vpid;
  }

  /** Number of guest contexts held (tests). */
  get guestSets(): number {
    return this.guests.length;
  }

  /**
   * VM entry: `vpid` 0 when "enable VPID" is 0 (§28.1: the guest then runs with VPID 0000H),
   * `ep4ta` the EPTP's page number or -1 without EPT.
   */
  enter(vpid: number, ep4ta: number): void {
    if (vpid === 0) {
      // §26.3.2.5 (VPID off): VM entry invalidates the VPID-0 linear and combined mappings.
      this.install(this.root);
      this.root.invalidate();
      return;
    }
    let s: TlbSet | null = null;
    for (const g of this.guests) {
      if (g.vpid === vpid && g.ep4ta === ep4ta) {
        s = g;
        break;
      }
    }
    if (s === null) {
      if (this.guests.length >= MAX_GUEST_SETS) {
        let old = 0;
        for (let k = 1; k < this.guests.length; k++) if (this.guests[k].used < this.guests[old].used) old = k;
        this.guests.splice(old, 1);
      }
      s = new TlbSet(vpid, ep4ta);
      this.guests.push(s);
    }
    this.install(s);
  }

  /** VM exit: back to the host's set; with VPID off the host's mappings are invalidated (§27.5.5). */
  exit(): void {
    if (this.current === this.root) {
      this.root.invalidate();
      this.cpu.codeChanged();
      return;
    }
    this.install(this.root);
  }

  private install(s: TlbSet): void {
    const c = this.cpu;
    const cur = this.current;
    if (s !== cur) {
      cur.blocks = c.blocksTranslated;
      // Pages that became code while `s` was out must not stay in its write TLB (mmu.ts keeps
      // code pages out of the write TLB so every write to them drops the translated code).
      if (s.blocks !== c.blocksTranslated) s.tlbWLo.fill(-1);
      const a = c as unknown as TlbArrays;
      a.tlbRLo = s.tlbRLo;
      a.tlbRHi = s.tlbRHi;
      a.tlbRPage = s.tlbRPage;
      a.tlbWLo = s.tlbWLo;
      a.tlbWHi = s.tlbWHi;
      a.tlbWPage = s.tlbWPage;
      a.tlbWPpn = s.tlbWPpn;
      this.current = s;
    }
    s.used = ++this.clock;
    // CR4.LA57 may differ between host and guest (mmu.ts recomputes this in flushTlb).
    c.canonShift = (c.cr4 & 0x1000) !== 0 ? 7 : 16;
    // Block chaining follows RIP only: a different address space must look blocks up again.
    c.codeChanged();
  }

  // ---- guest-physical mappings -------------------------------------------------------------
  /** The guest-physical cache of `ep4ta` with EPT A/D flags `ad` (created on first use). */
  gpaCache(ep4ta: number, ad: boolean): GpaCache {
    const l = this.lastGpa;
    if (l !== null && l.ep4ta === ep4ta && l.ad === ad) return l;
    let g = this.gpaCaches.find((x) => x.ep4ta === ep4ta && x.ad === ad);
    if (g === undefined) {
      if (this.gpaCaches.length >= MAX_GUEST_SETS) this.gpaCaches.shift();
      g = new GpaCache(ep4ta, ad);
      this.gpaCaches.push(g);
    }
    this.lastGpa = g;
    return g;
  }

  // ---- invalidation (INVEPT / INVVPID) -----------------------------------------------------
  /** INVEPT single-context (`ep4ta`) or all-context (`ep4ta` -1). */
  invept(ep4ta: number): void {
    for (const g of this.guests) if (g.ep4ta !== -1 && (ep4ta === -1 || g.ep4ta === ep4ta)) g.invalidate();
    for (const g of this.gpaCaches) if (ep4ta === -1 || g.ep4ta === ep4ta) g.invalidate();
    // The host's set holds no EPT-derived mapping: a VPID-off guest's were dropped at its VM exit.
    this.cpu.codeChanged();
  }

  /** INVVPID: type 0 one page (`lo`) of `vpid`, types 1/3 all of `vpid`, type 2 every VPID but 0. */
  invvpid(type: number, vpid: number, lo: number): void {
    for (const g of this.guests) {
      if (type === 2 || g.vpid === vpid) {
        if (type === 0) g.invalidatePage(lo);
        else g.invalidate();
      }
    }
    this.cpu.codeChanged();
  }
}
