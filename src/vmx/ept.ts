/**
 * EptHooks (src/x86/vmxEptHooks.ts): address translation in VMX non-root operation (SDM vol. 3C
 * chapter 28) and the APIC-access page (§29.4).
 *
 * A linear address goes through the guest's paging (paging.ts; each guest paging-structure
 * access comes back here as a guest-physical address), then EPT when "enable EPT" is 1
 * (eptWalk.ts, with the guest-physical mappings cached per EP4TA in eptTlb.ts), then the
 * APIC-access check when "virtualize APIC accesses" is 1. A failure throws an `AccessExit`
 * (a DeferredVmExit): the instruction unwinds like a fault and the exit is taken with the RIP
 * of the instruction that made the access.
 *
 * Exit information (§27.2.1):
 *  - EPT violation (48): qualification bits 0/1/2 data read / data write / instruction fetch (a
 *    guest paging-structure access with EPT accessed/dirty flags on sets bits 0 and 1, §28.2.3.2
 *    footnote), bits 5:3 the AND of bits 2:0 of the EPT entries used, bit 7 guest-linear address
 *    valid (all but PDPTE loads by MOV to CR), bit 8 (when bit 7 is set) the access is to the
 *    translation of the linear address (clear for a guest paging-structure access). Bits 9-11
 *    (advanced VM-exit information) are not reported (IA32_VMX_EPT_VPID_CAP bit 22 = 0) and are 0.
 *    Bit 12 (NMI unblocking due to IRET) is set when the access belongs to an IRET that
 *    unblocked NMIs (as eventExits*.ts records it). Guest-physical-address field: the address
 *    accessed; guest-linear-address field when bit 7 is set (bits 63:32 cleared outside 64-bit
 *    mode).
 *  - EPT misconfiguration (49): qualification 0 (undefined), guest-physical-address field.
 *  - APIC access (44): qualification bits 11:0 the page offset, bits 15:12 the access type
 *    (0 linear read, 1 linear write, 2 linear instruction fetch, 3 linear access during event
 *    delivery, 10 guest-physical access during event delivery, 15 guest-physical access during
 *    instruction execution: a guest paging-structure access).
 * Instruction length and information are undefined for these exits and written 0.
 *
 * TPR virtualization through the APIC-access page (§29.4.2-29.4.3): with "use TPR shadow" = 1 a
 * linear read or write of at most 32 bits at offset 080H is redirected to the virtual-APIC page
 * instead of exiting (EptUnit.apicAccess says exactly which); a virtualized write is followed,
 * after the instruction, by APIC-write emulation (eventExitBoundary.ts: bytes 081H-083H of VTPR
 * cleared, then TPR virtualization, §29.1.2, with its trap-like exit 43).
 */
import type { Cpu } from '../x86/cpu';
import { Access } from '../x86/mmu';
import { maxPhysAddr, pagingTranslate } from '../x86/paging';
import { cpuidInto } from '../x86/cpuid';
import type { EptHooks } from '../x86/vmxHooks';
import { DeferredVmExit } from '../x86/vmxEptHooks';
import type { VmxEngine, VmxStatus } from './engine';
import { SUCCEED, failValid } from './engine';
import { PROC_BASED, PROC_BASED2, bitOf } from './controlBits';
import { fieldIndex } from './fields';
import { Exit } from './exitReasons';
import { eptResult, eptWalk } from './eptWalk';
import { eptCap, eptpValid, physHiMask } from './eptFeatures';
import { GPA_CACHE_SIZE, TaggedTlb } from './eptTlb';
import { nmiUnblockedByIret } from './eventExitDelivery';
import { eventState } from './eventExitCore';

// Module-local copies of hot values (an imported binding can cost a getter call per use).
const RESULT = eptResult;
const CACHE_SIZE = GPA_CACHE_SIZE;
const R = 1, W = 2, X = 4;
/** Access.Write / Access.Execute (mmu.ts) and EptStatus (eptWalk.ts) as plain numbers. */
const ACCESS_WRITE = 1, ACCESS_EXECUTE = 2;
const ST_OK = 0, ST_MISCONFIG = 2;

const TWO32 = 4294967296;
const CR0_PG = 0x80000000 | 0;

export const ENABLE_EPT = bitOf(PROC_BASED2, 'ENABLE_EPT');
export const ENABLE_VPID = bitOf(PROC_BASED2, 'ENABLE_VPID');
export const VIRTUALIZE_APIC_ACCESSES = bitOf(PROC_BASED2, 'VIRTUALIZE_APIC_ACCESSES');
const USE_TPR_SHADOW = bitOf(PROC_BASED, 'USE_TPR_SHADOW');
/** Page offset of the TPR (VTPR on the virtual-APIC page, §29.1.1). */
const TPR_OFFSET = 0x80;

const I_EPTP = fieldIndex('EPT_POINTER');
const I_VPID = fieldIndex('VIRTUAL_PROCESSOR_ID');
const I_APIC_ACCESS = fieldIndex('APIC_ACCESS_ADDRESS');
const I_VIRTUAL_APIC = fieldIndex('VIRTUAL_APIC_ADDRESS');
const I_GPA = fieldIndex('GUEST_PHYSICAL_ADDRESS');
const I_GLA = fieldIndex('GUEST_LINEAR_ADDRESS');

/** VM-instruction error 28: invalid operand to INVEPT/INVVPID (§30.4). */
const ERR_INVALID_OPERAND = 28;

/** What an AccessExit writes besides the exit reason and qualification. */
const enum Extra {
  None = 0,
  Gpa = 1,
  Linear = 2,
}

/** An exit caused by a memory access: EPT violation, EPT misconfiguration, APIC access. */
export class AccessExit extends DeferredVmExit {
  constructor(
    private readonly engine: VmxEngine,
    readonly reason: number,
    readonly qualification: number,
    readonly gpa: number,
    readonly linLo: number,
    readonly linHi: number,
    private readonly extra: number,
    detail: string,
  ) {
    super(detail);
  }

  take(c: Cpu): void {
    const v = this.engine.current!;
    if ((this.extra & Extra.Gpa) !== 0) v.set64(I_GPA, this.gpa % TWO32 | 0, Math.floor(this.gpa / TWO32) | 0);
    // §27.2.1: bits 63:32 of the guest-linear address are cleared outside 64-bit mode.
    if ((this.extra & Extra.Linear) !== 0) v.set64(I_GLA, this.linLo, c.bitness === 64 ? this.linHi : 0);
    this.engine.exit(this.reason, this.qualification, 0, 0, 0, c.ripLo, c.ripHi);
  }
}

/** The EPT part of one engine: the tagged TLB and the processor's address width. */
export class EptUnit {
  readonly tlb: TaggedTlb;
  readonly physHi: number;
  /** Linear-address width (CPUID.80000008H:EAX[15:8]) for INVVPID's canonical check. */
  readonly linearBits: number;
  /** The hooks attached to the processor (createEptHooks). */
  hooks: { active: boolean } | null = null;

  constructor(readonly engine: VmxEngine) {
    const c = engine.cpu;
    this.tlb = new TaggedTlb(c);
    this.physHi = physHiMask(maxPhysAddr(c));
    const out = new Int32Array(4);
    cpuidInto(c.cpuid, 0x80000000, 0, out);
    let bits = 48;
    if ((out[0] >>> 0) >= 0x80000008) {
      cpuidInto(c.cpuid, 0x80000008, 0, out);
      bits = (out[0] >>> 8) & 0xff || 48;
    }
    this.linearBits = bits;
  }

  /** EP4TA of the current EPTP as a page number. */
  ep4ta(): number {
    const v = this.engine.current!;
    return (v.hi[I_EPTP] & this.physHi) * 0x100000 + (v.lo[I_EPTP] >>> 12);
  }

  /**
   * Guest-physical → host-physical through EPT (§28.2.2-28.2.4). `access` the processor's kind
   * (Access.Read/Write/Execute, System ignored); `walk` a guest paging-structure access.
   */
  gpaToHpa(c: Cpu, gpa: number, access: Access, linLo: number, linHi: number, hasLinear: boolean, walk: boolean): number {
    const v = this.engine.current!;
    const eLo = v.lo[I_EPTP];
    const eHi = v.hi[I_EPTP];
    const kind = access & 3;
    let need = kind === ACCESS_WRITE ? W : kind === ACCESS_EXECUTE ? X : R;
    let qual = need;
    if (walk && (eLo & 0x40) !== 0) {
      // §28.2.3.2: with EPT accessed/dirty flags, guest paging-structure accesses are writes.
      need = W;
      qual = R | W;
    }
    const cache = this.tlb.gpaCache((eHi & this.physHi) * 0x100000 + (eLo >>> 12), (eLo & 0x40) !== 0);
    const gpn = Math.floor(gpa / 4096);
    const i = gpn % CACHE_SIZE;
    if (cache.gpn[i] === gpn) {
      const p = cache.perms[i];
      if ((p & need) !== 0 && (need !== W || (p & 8) !== 0)) return cache.hpn[i] * 4096 + (gpa - gpn * 4096);
    }
    const st = eptWalk(c, eLo, eHi, gpa, need, this.physHi);
    const r = RESULT;
    if (st === ST_OK) {
      const hpa = r.hpa;
      cache.gpn[i] = gpn;
      cache.hpn[i] = Math.floor(hpa / 4096);
      cache.perms[i] = r.perms | (r.writeReady ? 8 : 0);
      return hpa;
    }
    if (st === ST_MISCONFIG) {
      throw new AccessExit(this.engine, Exit.EptMisconfig, 0, gpa, 0, 0, Extra.Gpa, `EPT misconfiguration: ${r.why}`);
    }
    qual |= r.perms << 3;
    if (hasLinear) qual |= walk ? 0x80 : 0x180;
    // Bit 12: the access belongs to an IRET that unblocked NMIs (virtual NMIs) (eventExits*.ts
    // tracks it; undefined, and 0 here, with NMI exiting 1 and virtual NMIs 0).
    if (nmiUnblockedByIret(this.engine)) qual |= 0x1000;
    throw new AccessExit(this.engine, Exit.EptViolation, qual, gpa, linLo, linHi, hasLinear ? Extra.Gpa | Extra.Linear : Extra.Gpa,
      `EPT violation at guest-physical 0x${gpa.toString(16)}: ${r.why}`);
  }

  /**
   * §29.4 with "virtualize APIC accesses" = 1: `hpa` is the address an access reached (`linear`:
   * the translation of a linear address; otherwise a guest-physical access of the guest's paging,
   * §29.4.6.1). Returns the address to use; an access to the APIC-access page is virtualized or
   * exits.
   *
   * Virtualized (§29.4.2 reads, §29.4.3.1 writes; "APIC-register virtualization" and
   * "virtual-interrupt delivery" are always 0 here, their allowed-1 settings being 0): a linear
   * data access, not made while an event is delivered (see below), with "use TPR shadow" = 1, of at
   * most 32 bits, at page offset 080H (so within the low 4 bytes of its 16-byte region, 080H-083H);
   * not a read after the operation virtualized a write, nor a write after it virtualized one of
   * another size (the offset is always 080H). It is redirected to the same offset of the
   * virtual-APIC page for this access only (returned as `-1 - address`: the processor's TLB must
   * not keep it); a write is then followed by APIC-write emulation (`written` records it,
   * eventExitBoundary.ts performs it).
   *
   * Everything else exits (reason 44): "use TPR shadow" 0, another offset, a larger access (a
   * quadword, an access crossing 083H), instruction fetches, guest-physical accesses (never
   * virtualized, §29.4.6.1), and the bytes of an access the processor splits (a page-crossing
   * access, implicit system accesses to descriptor tables, `size` 0). Not modelled: accesses made
   * while an event is delivered through the IDT also exit (type 3) — the SDM counts the delivery
   * as an operation whose accesses may be virtualized (§29.4), its APIC-write emulation then
   * following the delivery; and a REP string instruction is one operation here (APIC-write
   * emulation after its last iteration, not after each), so when a later iteration's access to
   * the page exits, the emulation of an earlier iteration's virtualized write (and its possible
   * "TPR below threshold" exit) does not happen first.
   */
  apicAccess(hpa: number, access: Access, linear: boolean, size: number): number {
    const v = this.engine.current!;
    const page = (v.hi[I_APIC_ACCESS] >>> 0) * 0x100000 + (v.lo[I_APIC_ACCESS] >>> 12);
    if (Math.floor(hpa / 4096) !== page) return hpa;
    const kind = access & 3;
    const offset = hpa % 4096;
    // During event delivery (an IDT or stack access; eventExits*.ts tracks the event): types 3/10.
    const st = eventState(this.engine);
    const delivering = st.vecInfo !== 0;
    if (linear && !delivering && offset === TPR_OFFSET && size !== 0 && size <= 4 && kind !== ACCESS_EXECUTE &&
      (this.engine.proc & USE_TPR_SHADOW) !== 0) {
      const written = st.apicWritten;
      if (written === 0 || (kind === ACCESS_WRITE && written === size)) {
        return -1 - ((v.hi[I_VIRTUAL_APIC] >>> 0) * TWO32 + (v.lo[I_VIRTUAL_APIC] >>> 0) + offset);
      }
    }
    const type = delivering ? (linear ? 3 : 10) : !linear ? 15 : kind === ACCESS_WRITE ? 1 : kind === ACCESS_EXECUTE ? 2 : 0;
    throw new AccessExit(this.engine, Exit.ApicAccess, offset | (type << 12), 0, 0, 0, Extra.None,
      `APIC access at offset 0x${offset.toString(16)}`);
  }
}

const units = new WeakMap<VmxEngine, EptUnit>();

/** The EPT unit of `engine` (created with its hooks). */
export function eptUnit(engine: VmxEngine): EptUnit {
  let u = units.get(engine);
  if (u === undefined) {
    u = new EptUnit(engine);
    units.set(engine, u);
  }
  return u;
}

export function createEptHooks(engine: VmxEngine): EptHooks {
  const u = eptUnit(engine);
  const hooks = {
    /** Data property (read on every guest paging-structure access), refreshed by `linear` and VM entry. */
    active: false,
    linear(c: Cpu, lo: number, hi: number, access: Access, size: number): number {
      const p2 = engine.proc2;
      hooks.active = (p2 & ENABLE_EPT) !== 0;
      // §28.2.1: with CR0.PG = 0 the linear address is the guest-physical address.
      const gpa = (c.cr0 & CR0_PG) !== 0 ? pagingTranslate(c, lo, hi, access) : (hi >>> 0) * TWO32 + (lo >>> 0);
      if ((p2 & (ENABLE_EPT | VIRTUALIZE_APIC_ACCESSES)) === 0) return gpa;
      const hpa = (p2 & ENABLE_EPT) !== 0 ? u.gpaToHpa(c, gpa, access, lo, hi, true, false) : gpa;
      return (p2 & VIRTUALIZE_APIC_ACCESSES) !== 0 ? u.apicAccess(hpa, access, true, size) : hpa;
    },
    translate(c: Cpu, gpa: number, access: Access, linLo: number, linHi: number, hasLinear: boolean, walk: boolean): number {
      const p2 = engine.proc2;
      const hpa = (p2 & ENABLE_EPT) !== 0 ? u.gpaToHpa(c, gpa, access, linLo, linHi, hasLinear, walk) : gpa;
      return (p2 & VIRTUALIZE_APIC_ACCESSES) !== 0 ? u.apicAccess(hpa, access, false, 0) : hpa;
    },
    /** A redirected write is being made: APIC-write emulation follows the instruction (§29.4.3.2). */
    written(c: Cpu, size: number): void {
      eventState(engine).apicWritten = size;
      c.eventPending = true;
    },
  };
  u.hooks = hooks;
  return hooks;
}

// ---- VM entry / VM exit (called by vmEntry.ts / vmExit.ts) ----------------------------------
/**
 * After VM entry has loaded the guest state and the controls (engine.proc2): switch the
 * processor's TLB to the guest's context (§28.3.3.3: with "enable VPID" = 1 nothing is
 * invalidated; with it 0 the VPID-0 linear and combined mappings are). Use it instead of
 * cpu.flushTlb() for the entry's TLB rules.
 */
export function eptOnVmEntry(engine: VmxEngine): void {
  const u = eptUnit(engine);
  const p2 = engine.proc2;
  if (u.hooks !== null) u.hooks.active = (p2 & ENABLE_EPT) !== 0;
  const vpid = (p2 & ENABLE_VPID) !== 0 ? engine.current!.lo[I_VPID] & 0xffff : 0;
  u.tlb.enter(vpid, (p2 & ENABLE_EPT) !== 0 ? u.ep4ta() : -1);
}

/** After VM exit has loaded the host state: back to the host's TLB context (§27.5.5). */
export function eptOnVmExit(engine: VmxEngine): void {
  eptUnit(engine).tlb.exit();
}

// ---- INVEPT / INVVPID after their #UD/#GP checks (§30.3), for engine.ts --------------------
/** INVEPT of `type` with descriptor EPTP `eptpLo/eptpHi` (descriptor bits 63:0). */
export function invept(engine: VmxEngine, type: number, eptpLo: number, eptpHi: number): VmxStatus {
  const u = eptUnit(engine);
  if (type === 1 && eptCap(25)) {
    if (!eptpValid(engine, eptpLo, eptpHi)) return failValid(ERR_INVALID_OPERAND);
    u.tlb.invept((eptpHi & u.physHi) * 0x100000 + (eptpLo >>> 12));
    return SUCCEED;
  }
  if (type === 2 && eptCap(26)) {
    u.tlb.invept(-1);
    return SUCCEED;
  }
  return failValid(ERR_INVALID_OPERAND);
}

/**
 * INVVPID of `type` with descriptor bits 31:0 `vpid` (VPID in 15:0), bits 127:64 `linLo/linHi`,
 * and bits 63:32 `descHi` (bits 63:16 must be 0).
 */
export function invvpid(engine: VmxEngine, type: number, vpid: number, linLo: number, linHi: number, descHi = 0): VmxStatus {
  const u = eptUnit(engine);
  const capBit = [40, 41, 42, 43][type];
  if (capBit === undefined || !eptCap(capBit)) return failValid(ERR_INVALID_OPERAND);
  if ((vpid & 0xffff0000) !== 0 || descHi !== 0) return failValid(ERR_INVALID_OPERAND);
  const id = vpid & 0xffff;
  if (type !== 2 && id === 0) return failValid(ERR_INVALID_OPERAND);
  if (type === 0) {
    const shift = 64 - u.linearBits;
    if (((linHi << shift) >> shift) !== linHi) return failValid(ERR_INVALID_OPERAND);
  }
  u.tlb.invvpid(type, id, linLo);
  return SUCCEED;
}
