/**
 * The I/O port bus of the PC platform: 64 Ki ports, each dispatched to at most one device in
 * O(1) (one table lookup per access). Implements the processor's `PortBus` (src/x86/io.ts).
 *
 * Devices on the ISA bus are 8 bits wide: a 16- or 32-bit IN/OUT at port p on such a device
 * reaches ports p, p+1, ... one byte at a time, low byte first (the bus sizing a PC chipset
 * does). A device that decodes wider accesses itself (isa-debug-exit, the ACPI PM registers)
 * registers with `wide: true` and gets the access as one. A port that nothing decodes reads as
 * all-ones (the floating ISA data bus) and ignores writes.
 */
import type { PortBus } from '../../x86/io';

export interface PortDevice {
  /** Device name (debugger, reports). */
  name: string;
  /** Read `size` bytes at `port` (size is 1 unless the device is wide). */
  portIn(port: number, size: number): number;
  portOut(port: number, size: number, value: number): void;
}

interface Mapping {
  device: PortDevice;
  wide: boolean;
}

export class PortIoBus implements PortBus {
  private readonly map: Array<Mapping | undefined> = new Array(0x10000);
  /** When set, every write is dropped (the machine is powered off). */
  frozen = false;

  /** Map ports [first, last] (inclusive) to `device`. Throws on overlap (a wiring bug). */
  register(first: number, last: number, device: PortDevice, wide = false): void {
    for (let p = first; p <= last; p++) {
      const old = this.map[p];
      if (old !== undefined) throw new Error(`port 0x${p.toString(16)}: ${device.name} overlaps ${old.device.name}`);
      this.map[p] = { device, wide };
    }
  }

  deviceAt(port: number): PortDevice | null {
    return this.map[port & 0xffff]?.device ?? null;
  }

  portIn(port: number, size: number): number {
    port &= 0xffff;
    const m = this.map[port];
    if (m !== undefined && m.wide) return size === 4 ? m.device.portIn(port, size) | 0 : m.device.portIn(port, size) & (size === 2 ? 0xffff : 0xff);
    if (size === 1) return m === undefined ? 0xff : m.device.portIn(port, 1) & 0xff;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | this.byteIn((port + i) & 0xffff);
    return size === 4 ? v | 0 : v & 0xffff;
  }

  portOut(port: number, size: number, value: number): void {
    if (this.frozen) return;
    port &= 0xffff;
    const m = this.map[port];
    if (m !== undefined && m.wide) {
      m.device.portOut(port, size, size === 4 ? value | 0 : value & (size === 2 ? 0xffff : 0xff));
      return;
    }
    for (let i = 0; i < size; i++) {
      if (this.frozen) return;
      const p = (port + i) & 0xffff;
      const d = this.map[p];
      if (d !== undefined) d.device.portOut(p, 1, (value >>> (8 * i)) & 0xff);
    }
  }

  private byteIn(port: number): number {
    const m = this.map[port];
    return m === undefined ? 0xff : m.device.portIn(port, 1) & 0xff;
  }
}
