/**
 * The local APIC (Intel SDM vol. 3A chapter 10) of the one processor, in xAPIC mode (the 4 KiB
 * MMIO page at the APIC base, 0xFEE00000) and x2APIC mode (MSRs 0x800-0x8FF, §10.12), with
 * IA32_APIC_BASE (MSR 0x1B) and IA32_TSC_DEADLINE (MSR 0x6E0) handled here.
 *
 * Registers (§10.4-§10.6, table 10-1 / 10-6): ID, version (0x00050014: version 0x14, six LVT
 * entries), TPR (the same register as CR8, §10.8.6.1), APR (reads 0), PPR, EOI, LDR, DFR, SVR,
 * ISR/TMR/IRR (8 × 32 bits each), ESR, ICR, the LVT entries (timer, thermal, performance
 * counters, LINT0, LINT1, error; CMCI reads 0), the timer's initial count, current count and
 * divide configuration, and the x2APIC SELF IPI register.
 *
 * Interrupt acceptance (§10.8): a fixed interrupt sets its IRR bit; the processor is offered
 * the highest IRR vector whose priority class is above the PPR's (PPR = TPR when TPR[7:4] ≥
 * ISRV[7:4], else ISRV[7:4]:0); acceptance moves it to ISR; EOI clears the highest ISR bit.
 * Vectors 0-15 are illegal: they set ESR bit 5 (send) or 6 (receive) and are dropped.
 *
 * The timer (§10.5.4) runs on the deterministic bus clock (clock.ts): one-shot, periodic and
 * TSC-deadline modes; the divide configuration (÷1..÷128); a masked timer still counts. Moving
 * between TSC-deadline mode and the other modes disarms the timer.
 *
 * IPIs (§10.6): the processor is alone, so an IPI reaches it only when the destination
 * includes it (shorthand self or all-including-self, or its physical ID / the broadcast ID /
 * a logical destination that matches its LDR); fixed and lowest-priority IPIs set IRR. An INIT
 * that includes this processor (all-including-self, or its own/broadcast destination) is passed
 * to `onInitSelf` (under VMX the INIT signal is a VM exit, SDM vol. 3C §25.2); other delivery
 * modes to itself (SMI, NMI, SIPI) are ignored. An IPI whose destination includes another
 * processor is kept as `outgoing` (the last one) for the hypervisor/VMM to report (the seed's
 * SendIpi / CpuUp exits). The delivery-status bit always reads idle.
 *
 * LINT0 carries the 8259 PIC's INTR: the PIC reaches the processor when the APIC is disabled in
 * IA32_APIC_BASE or LINT0 is unmasked with delivery mode ExtINT (§10.5.1). The machine starts the
 * APIC in the state PC firmware leaves it in (MP specification v1.4 §3.6.2.2, virtual-wire mode):
 * software-enabled with spurious vector 0xFF, LINT0 = ExtINT, LINT1 = NMI, everything else as
 * after reset (§10.4.7.1). `reset()` gives the power-up state itself.
 */
import type { OutgoingIpi } from '../../hypervisor/handlers';
import { gp0 } from '../../x86/exceptions';
import { APIC_TICKS_PER_BUS_CLOCK } from './clock';
import type { DeviceHost, TimedDevice } from './clock';
import type { MmioRegion } from '../../x86/physicalMemory';

export const APIC_DEFAULT_BASE = 0xfee00000;
export const MSR_APIC_BASE = 0x1b;
export const MSR_TSC_DEADLINE = 0x6e0;
export const APIC_VERSION = 0x00050014;

const BASE_BSP = 1 << 8;
const BASE_EXTD = 1 << 10;
const BASE_EN = 1 << 11;

const LVT_MASK = 1 << 16;
/** LVT indexes: timer 0, thermal 1, performance counters 2, LINT0 3, LINT1 4, error 5. */
const LVT_TIMER = 0, LVT_LINT0 = 3, LVT_LINT1 = 4, LVT_ERROR = 5;
/** Writable bits per LVT entry (§10.5.1, figure 10-8). */
const LVT_WRITABLE = [0x000700ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff];
/** Timer modes (LVT timer bits 18:17): 0 one-shot, 1 periodic, 2 TSC-deadline. */
const TIMER_PERIODIC = 1, TIMER_DEADLINE = 2;

/** The processor state the APIC shares: CR8 is the TPR's upper half; the TSC drives deadline mode. */
export interface ApicCpu {
  cr8: number;
  tsc(): number;
  tscPerInstruction: number;
}

export class LocalApic implements TimedDevice {
  readonly name = 'local APIC';
  /** IA32_APIC_BASE: base address | EN | EXTD | BSP. */
  private baseMsr = APIC_DEFAULT_BASE + BASE_EN + BASE_BSP;
  readonly id = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = -1;
  private svr = 0xff;
  readonly irr = new Uint32Array(8);
  readonly isr = new Uint32Array(8);
  readonly tmr = new Uint32Array(8);
  private esr = 0;
  private esrPending = 0;
  private icrLo = 0;
  private icrHi = 0;
  private readonly lvt = new Int32Array(6);
  private divideConfig = 0;
  private initialCount = 0;
  /** Timer: machine time of the last (re)base, the count then, and the next expiry. */
  private timerBase = 0;
  private timerBaseCount = 0;
  private timerNext = Infinity;
  /** IA32_TSC_DEADLINE (0 = disarmed). */
  private tscDeadline = 0;
  /** Number of timer interrupts raised (tests, reports). */
  timerFired = 0;
  /** The last IPI sent to a destination that includes another processor (cleared by takeOutgoing). */
  private outgoing: OutgoingIpi | null = null;
  /** An INIT IPI that includes this processor (the VMM raises the INIT signal). */
  onInitSelf: (() => void) | null = null;

  constructor(
    private readonly host: DeviceHost,
    private readonly cpu: ApicCpu,
    private readonly maxPhysBits = 39,
  ) {
    this.reset();
  }

  /** Power-up / INIT state (§10.4.7.1): xAPIC mode, software-disabled, every LVT masked. */
  reset(): void {
    this.tpr = 0;
    this.cpu.cr8 = 0;
    this.ldr = 0;
    this.dfr = -1;
    this.svr = 0xff;
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.esr = this.esrPending = 0;
    this.icrLo = this.icrHi = 0;
    this.lvt.fill(LVT_MASK);
    this.divideConfig = 0;
    this.initialCount = 0;
    this.timerNext = Infinity;
    this.timerBaseCount = 0;
    this.tscDeadline = 0;
  }

  /** The state PC firmware leaves (virtual-wire mode; see the file comment). */
  firmwareSetup(): void {
    this.svr = 0x1ff;
    this.lvt[LVT_LINT0] = 0x700;
    this.lvt[LVT_LINT1] = 0x400;
  }

  // ---- modes ---------------------------------------------------------------------------------
  get enabled(): boolean {
    return (this.baseMsr & BASE_EN) !== 0;
  }
  get x2apic(): boolean {
    return (this.baseMsr & BASE_EXTD) !== 0;
  }
  get softwareEnabled(): boolean {
    return (this.svr & 0x100) !== 0;
  }
  /** Physical address of the xAPIC page. */
  get base(): number {
    return this.baseMsr - (this.baseMsr % 4096);
  }

  /** True when the 8259's INTR reaches the processor (APIC disabled, or LINT0 unmasked ExtINT). */
  passesPic(): boolean {
    if (!this.enabled) return true;
    const l = this.lvt[LVT_LINT0];
    return (l & LVT_MASK) === 0 && ((l >> 8) & 7) === 7;
  }

  readBaseMsr(): number {
    return this.baseMsr;
  }

  /** WRMSR IA32_APIC_BASE with the checks of §10.12.5 (figure 10-27). */
  writeBaseMsr(lo: number, hi: number): void {
    const reservedHi = this.maxPhysBits >= 64 ? 0 : ~((2 ** (this.maxPhysBits - 32)) - 1) | 0;
    if ((lo & 0x2ff) !== 0 || (hi & reservedHi) !== 0) throw gp0('reserved bit set in IA32_APIC_BASE');
    const en = (lo & BASE_EN) !== 0, extd = (lo & BASE_EXTD) !== 0;
    if (!en && extd) throw gp0('IA32_APIC_BASE: x2APIC enabled without EN');
    if (this.x2apic && en && !extd) throw gp0('IA32_APIC_BASE: x2APIC to xAPIC without disabling');
    if (!this.enabled && extd) throw gp0('IA32_APIC_BASE: disabled to x2APIC');
    const wasEnabled = this.enabled;
    // BSP is read-only; bits 12 and up give the base.
    this.baseMsr = (hi >>> 0) * 4294967296 + ((lo & ~0xfff) >>> 0) + (lo & (BASE_EN | BASE_EXTD)) + BASE_BSP;
    if (wasEnabled && !en) this.reset();
    if (!wasEnabled && en) this.reset();
    this.host.interruptsChanged();
    this.host.timersChanged();
  }

  // ---- priorities ----------------------------------------------------------------------------
  private getTpr(): number {
    if (this.tpr >> 4 !== (this.cpu.cr8 & 0xf)) this.tpr = (this.cpu.cr8 & 0xf) << 4;
    return this.tpr;
  }

  private setTpr(v: number): void {
    this.tpr = v & 0xff;
    this.cpu.cr8 = this.tpr >> 4;
    this.host.interruptsChanged();
  }

  /** MOV from CR8: TPR[7:4] (SDM vol. 3A §10.8.6.1). */
  readCr8(): number {
    return this.getTpr() >> 4;
  }

  /** MOV to CR8: TPR[7:4] = CR8[3:0], TPR[3:0] = 0 (SDM vol. 3A §10.8.6.1). */
  writeCr8(v: number): void {
    this.setTpr((v & 0xf) << 4);
  }

  private static highest(bits: Uint32Array): number {
    for (let i = 7; i >= 0; i--) {
      const w = bits[i];
      if (w !== 0) return i * 32 + 31 - Math.clz32(w);
    }
    return -1;
  }

  private ppr(): number {
    const tpr = this.getTpr();
    const isrv = LocalApic.highest(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (tpr & 0xf0) >= isrClass ? tpr : isrClass;
  }

  /** The vector the APIC offers the processor now, or -1. */
  pendingVector(): number {
    if (!this.enabled) return -1;
    const v = LocalApic.highest(this.irr);
    if (v < 0) return -1;
    return (v & 0xf0) > (this.ppr() & 0xf0) ? v : -1;
  }

  /** The processor accepted `vector`: IRR → ISR (§10.8.4). */
  acknowledge(vector: number): void {
    const w = vector >> 5, b = 1 << (vector & 31);
    this.irr[w] &= ~b;
    this.isr[w] |= b;
  }

  /** Accept a fixed interrupt for `vector` (from the LVT, an IPI or a device). */
  accept(vector: number, level = false, send = false): void {
    vector &= 0xff;
    if (vector < 16) {
      this.error(send ? 0x20 : 0x40);
      return;
    }
    const w = vector >> 5, b = 1 << (vector & 31);
    this.irr[w] |= b;
    if (level) this.tmr[w] |= b;
    else this.tmr[w] &= ~b;
    this.host.interruptsChanged();
  }

  private error(bits: number): void {
    this.esrPending |= bits;
    const l = this.lvt[LVT_ERROR];
    if ((l & LVT_MASK) === 0 && this.softwareEnabled) {
      const v = l & 0xff;
      if (v >= 16) this.accept(v);
    }
  }

  private eoi(): void {
    const v = LocalApic.highest(this.isr);
    if (v < 0) return;
    this.isr[v >> 5] &= ~(1 << (v & 31));
    this.tmr[v >> 5] &= ~(1 << (v & 31));
    this.host.interruptsChanged();
  }

  // ---- timer ---------------------------------------------------------------------------------
  private get timerMode(): number {
    return (this.lvt[LVT_TIMER] >> 17) & 3;
  }

  /** Bus clocks per count from the divide configuration (§10.5.4, figure 10-10). */
  private divisor(): number {
    const d = (this.divideConfig & 3) | ((this.divideConfig >> 1) & 4);
    return d === 7 ? 1 : 2 << d;
  }

  private ticksPerCount(): number {
    return this.divisor() * APIC_TICKS_PER_BUS_CLOCK;
  }

  /** The current-count register at machine time `now`. */
  currentCount(now: number): number {
    if (this.timerMode === TIMER_DEADLINE || this.timerBaseCount === 0) return 0;
    const e = Math.floor((now - this.timerBase) / this.ticksPerCount());
    if (e < this.timerBaseCount) return this.timerBaseCount - e;
    if (this.timerMode !== TIMER_PERIODIC || this.initialCount === 0) return 0;
    return this.initialCount - ((e - this.timerBaseCount) % this.initialCount);
  }

  private startCount(now: number, count: number): void {
    this.timerBase = now;
    this.timerBaseCount = count;
    this.timerNext = count === 0 ? Infinity : now + count * this.ticksPerCount();
    this.host.timersChanged();
  }

  nextDeadline(now: number): number {
    if (!this.enabled) return Infinity;
    if (this.timerMode === TIMER_DEADLINE) {
      if (this.tscDeadline === 0) return Infinity;
      const left = this.tscDeadline - this.cpu.tsc();
      return left <= 0 ? now : now + Math.ceil(left / this.cpu.tscPerInstruction);
    }
    return this.timerNext;
  }

  service(now: number): void {
    if (!this.enabled) return;
    if (this.timerMode === TIMER_DEADLINE) {
      if (this.tscDeadline !== 0 && this.cpu.tsc() >= this.tscDeadline) {
        this.tscDeadline = 0;
        this.fireTimer();
      }
      return;
    }
    if (this.timerNext > now) return;
    if (this.timerMode === TIMER_PERIODIC && this.initialCount !== 0) {
      const period = this.initialCount * this.ticksPerCount();
      this.timerNext += (Math.floor((now - this.timerNext) / period) + 1) * period;
    } else {
      this.timerNext = Infinity;
    }
    this.fireTimer();
  }

  private fireTimer(): void {
    this.timerFired++;
    const l = this.lvt[LVT_TIMER];
    if ((l & LVT_MASK) === 0) this.accept(l & 0xff);
  }

  // ---- registers (offsets of the xAPIC page; x2APIC MSR = 0x800 + offset / 16) ---------------
  /** Read the 32-bit register at `offset`; undefined → null (reserved). */
  private readReg(offset: number): number | null {
    const now = this.host.now();
    switch (offset) {
      case 0x20: return this.x2apic ? this.id : this.id << 24;
      case 0x30: return APIC_VERSION;
      case 0x80: return this.getTpr();
      case 0x90: return this.x2apic ? null : 0;
      case 0xa0: return this.ppr();
      case 0xb0: return this.x2apic ? null : 0; // EOI is write-only (xAPIC reads 0)
      case 0xd0: return this.x2apic ? (((this.id >> 4) << 16) | (1 << (this.id & 15))) : this.ldr;
      case 0xe0: return this.x2apic ? null : this.dfr;
      case 0xf0: return this.svr;
      case 0x280: return this.esr;
      case 0x2f0: return 0; // LVT CMCI: not implemented, reads masked-zero
      case 0x300: return this.icrLo & ~(1 << 12);
      case 0x310: return this.x2apic ? null : this.icrHi;
      case 0x320: case 0x330: case 0x340: case 0x350: case 0x360: case 0x370:
        return this.lvt[(offset - 0x320) >> 4];
      case 0x380: return this.initialCount;
      case 0x390: return this.currentCount(now);
      case 0x3e0: return this.divideConfig;
      default:
        if (offset >= 0x100 && offset < 0x180) return this.isr[(offset - 0x100) >> 4];
        if (offset >= 0x180 && offset < 0x200) return this.tmr[(offset - 0x180) >> 4];
        if (offset >= 0x200 && offset < 0x280) return this.irr[(offset - 0x200) >> 4];
        return null;
    }
  }

  /** Write the register at `offset`; returns false for a read-only or reserved register. */
  private writeReg(offset: number, v: number): boolean {
    const now = this.host.now();
    switch (offset) {
      case 0x20:
        return !this.x2apic; // xAPIC: ID is writable on some parts; kept at 0 here
      case 0x80: this.setTpr(v); return true;
      case 0xb0: this.eoi(); return true;
      case 0xd0:
        if (this.x2apic) return false;
        this.ldr = v & 0xff000000;
        return true;
      case 0xe0:
        if (this.x2apic) return false;
        this.dfr = v | 0x0fffffff;
        return true;
      case 0xf0: {
        this.svr = v & 0x11ff;
        if (!this.softwareEnabled) for (let i = 0; i < 6; i++) this.lvt[i] |= LVT_MASK;
        this.host.interruptsChanged();
        return true;
      }
      case 0x280:
        this.esr = this.esrPending;
        this.esrPending = 0;
        return true;
      case 0x2f0: return true;
      case 0x300:
        this.icrLo = v & 0x000ccfff;
        this.sendIpi();
        return true;
      case 0x310:
        if (this.x2apic) return false;
        this.icrHi = v & 0xff000000;
        return true;
      case 0x320: case 0x330: case 0x340: case 0x350: case 0x360: case 0x370: {
        const i = (offset - 0x320) >> 4;
        let nv = v & LVT_WRITABLE[i];
        if (!this.softwareEnabled) nv |= LVT_MASK;
        if (i === LVT_TIMER) {
          const oldMode = this.timerMode;
          if (((nv >> 17) & 3) === 3) nv &= ~(1 << 18); // mode 3 is reserved: treat as one-shot
          this.lvt[i] = nv;
          const newMode = this.timerMode;
          if ((oldMode === TIMER_DEADLINE) !== (newMode === TIMER_DEADLINE)) {
            // §10.5.4.1: switching to or from TSC-deadline mode disarms the timer.
            this.tscDeadline = 0;
            this.initialCount = 0;
            this.timerBaseCount = 0;
            this.timerNext = Infinity;
          } else if (newMode !== oldMode && newMode !== TIMER_DEADLINE) {
            this.rebase(now);
          }
          this.host.timersChanged();
        } else {
          this.lvt[i] = nv;
          if (i === LVT_LINT0) this.host.interruptsChanged();
        }
        return true;
      }
      case 0x380:
        if (this.timerMode === TIMER_DEADLINE) return true; // ignored in TSC-deadline mode
        this.initialCount = v >>> 0;
        this.startCount(now, this.initialCount);
        return true;
      case 0x3e0: {
        const cur = this.currentCount(now);
        this.divideConfig = v & 0xb;
        if (this.timerNext !== Infinity) this.startCount(now, cur);
        return true;
      }
      case 0x3f0: // x2APIC SELF IPI
        if (!this.x2apic) return true;
        this.accept(v & 0xff, false, true);
        return true;
      default:
        return false;
    }
  }

  /** After a one-shot ↔ periodic switch, keep counting from the current value. */
  private rebase(now: number): void {
    if (this.timerBaseCount === 0) return;
    const cur = this.currentCount(now);
    if (cur === 0) {
      this.timerBaseCount = 0;
      this.timerNext = Infinity;
      return;
    }
    this.startCount(now, cur);
  }

  private sendIpi(): void {
    const lo = this.icrLo;
    const vector = lo & 0xff;
    const mode = (lo >> 8) & 7;
    const shorthand = (lo >> 18) & 3;
    this.outgoing = null;
    let toSelf: boolean;
    let toOthers: boolean;
    const logical = (lo & 0x800) !== 0;
    const dest = this.x2apic ? this.icrHi >>> 0 : this.icrHi >>> 24;
    const broadcast = this.x2apic ? 0xffffffff : 0xff;
    if (shorthand !== 0) {
      toSelf = shorthand !== 3;
      toOthers = shorthand !== 1;
    } else if (this.x2apic) {
      // x2APIC logical destination: cluster in 31:16, a bit per member in 15:0 (§10.12.10.2).
      toSelf = !logical ? dest === broadcast || dest === this.id : dest === broadcast || ((dest >>> 16) === 0 && (dest & 1) !== 0);
      toOthers = dest === broadcast || (!logical ? dest !== this.id : (dest & ~1) !== 0);
    } else {
      toSelf = !logical ? dest === broadcast || dest === this.id : (dest & (this.ldr >>> 24)) !== 0;
      toOthers = dest === broadcast || (!logical ? dest !== this.id : (dest & ~(this.ldr >>> 24)) !== 0);
    }
    if (toOthers) this.outgoing = { mode, vector, dest: shorthand !== 0 ? broadcast : dest, logical, shorthand };
    if (!toSelf) return;
    if (mode === 0 || mode === 1) this.accept(vector, false, true);
    else if (mode === 5 && ((lo >> 14) & 3) !== 2 && this.onInitSelf !== null) this.onInitSelf(); // INIT, not level de-assert (§10.6.1)
  }

  /** The last IPI to another processor since the previous call, or null. */
  takeOutgoing(): OutgoingIpi | null {
    const o = this.outgoing;
    this.outgoing = null;
    return o;
  }

  // ---- xAPIC MMIO ----------------------------------------------------------------------------
  /** The MMIO region for the APIC page (mapped at APIC_DEFAULT_BASE by the machine). */
  mmio(): MmioRegion {
    return {
      start: APIC_DEFAULT_BASE,
      end: APIC_DEFAULT_BASE + 4096,
      name: this.name,
      read: (addr, size) => this.mmioRead(addr, size),
      write: (addr, size, value) => this.mmioWrite(addr, size, value),
    };
  }

  private mmioLive(addr: number): boolean {
    return this.enabled && !this.x2apic && addr - (addr % 4096) === this.base;
  }

  mmioRead(addr: number, size: number): number {
    if (!this.mmioLive(addr)) return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    const off = addr & 0xfff;
    const v = this.readReg(off & 0xff0) ?? 0;
    const sh = (off & 3) * 8;
    if (size === 4) return (v >>> sh) | 0;
    return (v >>> sh) & (size === 2 ? 0xffff : 0xff);
  }

  mmioWrite(addr: number, _size: number, value: number): void {
    if (!this.mmioLive(addr)) return;
    const off = addr & 0xfff;
    // Only 32-bit accesses at the register's offset are defined (§10.4.1); narrower writes
    // are treated as writing the register with the given bits.
    this.writeReg(off & 0xff0, (value << ((off & 3) * 8)) | 0);
  }

  // ---- MSRs (IA32_APIC_BASE, IA32_TSC_DEADLINE, x2APIC) --------------------------------------
  rdmsr(index: number): [number, number] | null {
    if (index === MSR_APIC_BASE) {
      const b = this.baseMsr;
      return [(b % 4294967296) | 0, Math.floor(b / 4294967296) | 0];
    }
    if (index === MSR_TSC_DEADLINE) {
      if (this.timerMode !== TIMER_DEADLINE) return [0, 0];
      const d = this.tscDeadline;
      return [(d % 4294967296) | 0, Math.floor(d / 4294967296) | 0];
    }
    if (index < 0x800 || index > 0x8ff) return null;
    if (!this.x2apic) throw gp0('x2APIC MSR read while not in x2APIC mode');
    const off = (index - 0x800) << 4;
    if (off === 0x300) return [this.icrLo & ~(1 << 12), this.icrHi];
    const v = this.readReg(off);
    if (v === null || off === 0x3f0) throw gp0(`x2APIC MSR 0x${index.toString(16)} cannot be read`);
    return [v | 0, 0];
  }

  wrmsr(index: number, lo: number, hi: number): boolean {
    if (index === MSR_APIC_BASE) {
      this.writeBaseMsr(lo, hi);
      return true;
    }
    if (index === MSR_TSC_DEADLINE) {
      if (this.timerMode !== TIMER_DEADLINE || !this.enabled) return true; // ignored (§10.5.4.1)
      this.tscDeadline = (hi >>> 0) * 4294967296 + (lo >>> 0);
      this.host.timersChanged();
      return true;
    }
    if (index < 0x800 || index > 0x8ff) return false;
    if (!this.x2apic) throw gp0('x2APIC MSR write while not in x2APIC mode');
    const off = (index - 0x800) << 4;
    // §10.12.1.2: reserved bits must be zero; EOI and SELF IPI take no other value.
    if (off === 0x300) {
      this.icrHi = hi;
      this.icrLo = lo & 0x000ccfff;
      if ((lo & ~0x000ccfff) !== 0) throw gp0('reserved bit in the x2APIC ICR');
      this.sendIpi();
      return true;
    }
    if (hi !== 0) throw gp0('reserved bit in an x2APIC register');
    if (off === 0xb0 && lo !== 0) throw gp0('non-zero write to the x2APIC EOI register');
    if (off === 0x280 && lo !== 0) throw gp0('non-zero write to the x2APIC ESR');
    if (off === 0x3f0 && (lo & ~0xff) !== 0) throw gp0('reserved bit in the x2APIC SELF IPI register');
    if (off === 0x80 && (lo & ~0xff) !== 0) throw gp0('reserved bit in the x2APIC TPR');
    if (!this.writeReg(off, lo)) throw gp0(`x2APIC MSR 0x${index.toString(16)} cannot be written`);
    return true;
  }
}

