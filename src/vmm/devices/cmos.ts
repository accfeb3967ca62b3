/**
 * CMOS RAM and real-time clock (the MC146818 interface of a PC): index port 0x70 (bit 7 is the
 * NMI-disable bit, the low 7 bits select one of 128 bytes), data port 0x71.
 *
 * The clock is deterministic: it starts at a fixed date (2026-01-01 00:00:00 UTC, a Thursday,
 * unless the machine is given another) and advances one second per TICKS_PER_SECOND machine
 * ticks, so a guest that prints the date prints the same thing on every run. Register 0x0B
 * selects BCD or binary (bit 2) and 24- or 12-hour format (bit 1) as the datasheet says; the
 * default is 0x02 (BCD, 24-hour), as PC firmware leaves it. Register 0x0A's update-in-progress
 * bit reads 0; 0x0C (interrupt flags) reads 0 and no RTC interrupt (IRQ 8) is generated;
 * 0x0D reads 0x80 (valid RAM and time). Writes to the time registers are ignored (the clock
 * cannot be set); the other bytes are plain RAM. Like QEMU's firmware interface, the memory
 * size is stored at 0x15/0x16 (base memory, KiB), 0x17/0x18 and 0x30/0x31 (KiB above 1 MiB, at
 * most 0xFFFF), 0x34/0x35 (64 KiB units above 16 MiB); the century is at 0x32.
 */
import { TICKS_PER_SECOND } from './clock';
import type { DeviceHost } from './clock';
import type { PortDevice } from './portBus';

export const DEFAULT_RTC_START = Date.UTC(2026, 0, 1, 0, 0, 0) / 1000;

export class CmosRtc implements PortDevice {
  readonly name = 'CMOS/RTC (0x70-0x71)';
  private index = 0;
  /** Bit 7 of the last index write: NMIs masked. */
  nmiDisabled = false;
  private readonly ram = new Uint8Array(128);

  constructor(
    private readonly host: DeviceHost,
    memorySize: number,
    /** Seconds since 1970-01-01 UTC at machine time 0. */
    private readonly startSeconds = DEFAULT_RTC_START,
  ) {
    this.ram[0x0a] = 0x26;
    this.ram[0x0b] = 0x02;
    this.ram[0x0d] = 0x80;
    const kib = Math.floor(memorySize / 1024);
    const base = Math.min(640, kib);
    this.ram[0x15] = base & 0xff;
    this.ram[0x16] = base >> 8;
    const ext = Math.max(0, Math.min(0xffff, kib - 1024));
    this.ram[0x17] = this.ram[0x30] = ext & 0xff;
    this.ram[0x18] = this.ram[0x31] = ext >> 8;
    const above16 = Math.max(0, Math.min(0xffff, Math.floor((memorySize - 16 * 1024 * 1024) / 65536)));
    this.ram[0x34] = above16 & 0xff;
    this.ram[0x35] = above16 >> 8;
  }

  /** The date and time the guest reads now. */
  dateNow(): Date {
    return new Date((this.startSeconds + Math.floor(this.host.now() / TICKS_PER_SECOND)) * 1000);
  }

  private encode(v: number): number {
    return (this.ram[0x0b] & 0x04) !== 0 ? v : ((Math.floor(v / 10) << 4) | (v % 10));
  }

  private readRegister(i: number): number {
    if (i <= 9 || i === 0x32) {
      const d = this.dateNow();
      switch (i) {
        case 0: return this.encode(d.getUTCSeconds());
        case 2: return this.encode(d.getUTCMinutes());
        case 4: {
          const h = d.getUTCHours();
          if ((this.ram[0x0b] & 0x02) !== 0) return this.encode(h);
          const h12 = h % 12 === 0 ? 12 : h % 12;
          return this.encode(h12) | (h >= 12 ? 0x80 : 0);
        }
        case 6: return this.encode(d.getUTCDay() + 1);
        case 7: return this.encode(d.getUTCDate());
        case 8: return this.encode(d.getUTCMonth() + 1);
        case 9: return this.encode(d.getUTCFullYear() % 100);
        case 0x32: return this.encode(Math.floor(d.getUTCFullYear() / 100));
        default: return this.ram[i]; // the alarm registers 1, 3, 5
      }
    }
    if (i === 0x0a) return this.ram[i] & 0x7f; // UIP = 0: never mid-update
    if (i === 0x0c) return 0;
    return this.ram[i];
  }

  portIn(port: number): number {
    if (port === 0x70) return 0xff; // the index register is write-only
    return this.readRegister(this.index);
  }

  portOut(port: number, _size: number, value: number): void {
    if (port === 0x70) {
      this.index = value & 0x7f;
      this.nmiDisabled = (value & 0x80) !== 0;
      return;
    }
    const i = this.index;
    if (i === 0 || i === 2 || i === 4 || (i >= 6 && i <= 9) || i === 0x32 || i === 0x0c || i === 0x0d) return;
    if (i === 0x0a) {
      this.ram[i] = value & 0x7f;
      return;
    }
    this.ram[i] = value;
  }
}
