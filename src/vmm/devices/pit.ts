/**
 * The 8254 programmable interval timer (ports 0x40-0x42 counters, 0x43 control word), as its
 * datasheet describes it, on the deterministic clock (one PIT clock every PIT_TICKS_PER_CLOCK
 * machine ticks). Counter 0's OUT drives IRQ 0 (the PIC latches its rising edges); counter 2's
 * GATE and OUT are bits 0 and 5 of port 0x61 (system control port B, bit 1 the speaker data).
 * Counter 1 (DRAM refresh) counts but drives nothing.
 *
 * Implemented: control word (counter select, RW modes LSB / MSB / LSB-then-MSB, counter latch,
 * read-back with count and status latches), modes 0 (interrupt on terminal count), 2 (rate
 * generator), 3 (square wave), 4 (software-triggered strobe); modes 1 and 5 (hardware-triggered)
 * start on a rising GATE edge, which only counter 2 can see. Binary counting only (the BCD bit
 * is kept in the status but counting stays binary). The count is loaded on the clock after it
 * is written; the value the counter shows is computed from the time since then, so reading it
 * is exact to the PIT clock at the time of the access (start of the running block).
 */
import { PIT_TICKS_PER_CLOCK } from './clock';
import type { DeviceHost, TimedDevice } from './clock';
import type { PortDevice } from './portBus';

class Counter {
  mode = 0;
  /** RW field: 1 LSB, 2 MSB, 3 LSB then MSB. */
  rw = 3;
  bcd = false;
  /** The programmed count (1..65536). */
  reload = 0x10000;
  /** PIT clock at which the count was loaded, or -1 while no count is loaded/counting. */
  start = -1;
  gate: boolean;
  /** OUT before any count is loaded (set by the control word). */
  idleOut = true;
  /** Write state: the LSB was written, waiting for the MSB. */
  writeLow = -1;
  /** Read state for RW=3: the next read returns the MSB. */
  readHigh = false;
  latched: number[] = [];
  statusLatched = -1;
  nullCount = true;

  constructor(gate: boolean) {
    this.gate = gate;
  }

  /** Counter value and OUT at PIT clock `t`. */
  state(t: number): { count: number; out: boolean } {
    const n = this.reload;
    if (this.start < 0 || t < this.start) return { count: this.start < 0 ? 0 : n & 0xffff, out: this.idleOut };
    const k = t - this.start;
    switch (this.mode) {
      case 0: case 1: // OUT low until terminal count, then high; the counter keeps wrapping
        return { count: (n - k) & 0xffff, out: k >= n };
      case 2: { // rate generator: N..1, OUT low during count 1
        const m = k % n;
        return { count: n - m, out: m !== n - 1 };
      }
      case 3: { // square wave: high for ceil(N/2), low for floor(N/2), counting by twos
        const m = k % n;
        const high = Math.ceil(n / 2);
        const inHigh = m < high;
        const j = inHigh ? m : m - high;
        const first = (n & 1) !== 0 ? (inHigh ? n + 1 : n - 1) : n;
        return { count: (first - 2 * j - (j === 0 ? 0 : 0)) & 0xfffe, out: inHigh };
      }
      default: { // 4, 5: strobe — OUT low for the one clock after terminal count
        return { count: (n - k) & 0xffff, out: k !== n };
      }
    }
  }

  /** PIT clock of the first rising edge of OUT after clock `t` (exclusive), or Infinity. */
  nextRise(t: number): number {
    if (this.start < 0 || !this.gate) return Infinity;
    const n = this.reload;
    const k = Math.max(0, t + 1 - this.start);
    switch (this.mode) {
      case 0: case 1:
        return k <= n ? this.start + n : Infinity;
      case 2: case 3: {
        // Rising edges at k = N, 2N, ... (end of the low phase, reload).
        const m = Math.max(1, Math.ceil(k / n));
        return this.start + m * n;
      }
      default:
        return k <= n + 1 ? this.start + n + 1 : Infinity;
    }
  }
}

export class Pit8254 implements PortDevice, TimedDevice {
  readonly name = '8254 PIT (0x40-0x43)';
  readonly counters = [new Counter(true), new Counter(true), new Counter(false)];
  /** PIT clock up to which IRQ 0 edges were delivered. */
  private irqDoneThrough = -1;
  /** Port 0x61 bits 0 (GATE2) and 1 (speaker data). */
  private port61 = 0;

  constructor(private readonly host: DeviceHost) {}

  private clock(): number {
    return Math.floor(this.host.now() / PIT_TICKS_PER_CLOCK);
  }

  // ---- TimedDevice ---------------------------------------------------------------------------
  nextDeadline(now: number): number {
    const t = Math.floor(now / PIT_TICKS_PER_CLOCK);
    const from = Math.max(t - 1, this.irqDoneThrough);
    const rise = this.counters[0].nextRise(from);
    return rise === Infinity ? Infinity : rise * PIT_TICKS_PER_CLOCK;
  }

  service(now: number): void {
    const t = Math.floor(now / PIT_TICKS_PER_CLOCK);
    const c0 = this.counters[0];
    const rise = c0.nextRise(Math.max(this.irqDoneThrough, c0.start - 1));
    if (rise <= t) {
      // One edge to the PIC per service: edges closer together than the processor looks are
      // merged, as IRR holds one request per line.
      this.host.setIrq(0, false);
      this.host.setIrq(0, true);
      this.irqDoneThrough = t;
      this.host.setIrq(0, c0.state(t).out);
    }
  }

  // ---- ports ---------------------------------------------------------------------------------
  portIn(port: number): number {
    if (port === 0x61) {
      const c2 = this.counters[2];
      const out = c2.state(this.clock()).out;
      // Bit 4 toggles with DRAM refresh (every 15 µs: counter 1); bit 5 is OUT2.
      const refresh = Math.floor(this.host.now() / 15000) & 1;
      return (this.port61 & 3) | (refresh << 4) | (out ? 0x20 : 0);
    }
    if (port === 0x43) return 0xff; // the control word register cannot be read
    const c = this.counters[port - 0x40];
    if (c.statusLatched >= 0) {
      const s = c.statusLatched;
      c.statusLatched = -1;
      return s;
    }
    if (c.latched.length > 0) return c.latched.shift()!;
    const v = c.state(this.clock()).count;
    return this.readByte(c, v);
  }

  private readByte(c: Counter, v: number): number {
    if (c.rw === 1) return v & 0xff;
    if (c.rw === 2) return (v >> 8) & 0xff;
    const hi = c.readHigh;
    c.readHigh = !hi;
    return hi ? (v >> 8) & 0xff : v & 0xff;
  }

  private latch(c: Counter): void {
    if (c.latched.length > 0) return; // a second latch before the read is ignored
    const v = c.state(this.clock()).count;
    if (c.rw === 1) c.latched = [v & 0xff];
    else if (c.rw === 2) c.latched = [(v >> 8) & 0xff];
    else c.latched = c.readHigh ? [(v >> 8) & 0xff] : [v & 0xff, (v >> 8) & 0xff];
  }

  portOut(port: number, _size: number, value: number): void {
    value &= 0xff;
    if (port === 0x61) {
      const c2 = this.counters[2];
      const was = c2.gate;
      this.port61 = value & 3;
      c2.gate = (value & 1) !== 0;
      // A rising GATE restarts modes 1, 2, 3, 5 (and re-triggers); low GATE stops counting of
      // modes 0, 2, 3, 4 — modelled as a restart on the rising edge.
      if (!was && c2.gate && c2.reload > 0 && (c2.start >= 0 || c2.mode === 1 || c2.mode === 5)) {
        c2.start = this.clock() + 1;
      }
      return;
    }
    if (port === 0x43) {
      const sel = value >> 6;
      if (sel === 3) {
        // Read-back: bit 5 = 0 latches counts, bit 4 = 0 latches status, bits 3:1 the counters.
        for (let i = 0; i < 3; i++) {
          if ((value & (2 << i)) === 0) continue;
          const c = this.counters[i];
          if ((value & 0x20) === 0) this.latch(c);
          if ((value & 0x10) === 0 && c.statusLatched < 0) {
            const out = c.state(this.clock()).out;
            c.statusLatched = (out ? 0x80 : 0) | (c.nullCount ? 0x40 : 0) | (c.rw << 4) | (c.mode << 1) | (c.bcd ? 1 : 0);
          }
        }
        return;
      }
      const c = this.counters[sel];
      const rw = (value >> 4) & 3;
      if (rw === 0) {
        this.latch(c);
        return;
      }
      c.rw = rw;
      c.mode = (value >> 1) & 7;
      if (c.mode > 5) c.mode -= 4; // 6, 7 are modes 2, 3
      c.bcd = (value & 1) !== 0;
      c.start = -1;
      c.writeLow = -1;
      c.readHigh = false;
      c.latched = [];
      c.nullCount = true;
      c.idleOut = c.mode !== 0; // the control word sets OUT low in mode 0, high otherwise
      if (sel === 0) {
        this.host.setIrq(0, c.idleOut);
        this.host.timersChanged();
      }
      return;
    }
    const i = port - 0x40;
    const c = this.counters[i];
    let count: number;
    if (c.rw === 1) count = value;
    else if (c.rw === 2) count = value << 8;
    else if (c.writeLow < 0) {
      c.writeLow = value;
      if (c.mode === 0) c.start = -1; // writing the first byte stops a mode-0 count
      return;
    } else {
      count = c.writeLow | (value << 8);
      c.writeLow = -1;
    }
    c.reload = count === 0 ? 0x10000 : count;
    c.nullCount = false;
    // Modes 2 and 3 pick up a new count at the end of the current cycle on silicon; here the
    // new count takes effect on the next clock, as modes 0 and 4 do.
    if (c.mode === 1 || c.mode === 5) {
      if (c.start < 0 && !c.gate) return;
    }
    c.start = this.clock() + 1;
    if (c.mode === 0) c.idleOut = false;
    if (i === 0) {
      this.irqDoneThrough = -1;
      if (c.mode === 0) this.host.setIrq(0, false);
      this.host.timersChanged();
    }
  }
}
