/**
 * Small fixed-function ports of a PC as QEMU presents it:
 * - port 0x80, the POST-code port: writes are recorded (firmware and kernels use it as a
 *   progress marker and as an I/O delay); reads return the last value written.
 * - QEMU's `isa-debug-exit` device at I/O base 0xF4 with iosize 4: a write of value v makes
 *   the emulator exit with status (v << 1) | 1 (QEMU's documented behaviour, so a guest can
 *   report pass/fail); reads return 0.
 * - the ACPI PM1a control register of QEMU's q35/ich9 power-management block at 0x604: writing
 *   SLP_EN (bit 13) with SLP_TYP = 0 (the S5 type QEMU's DSDT advertises) powers the machine
 *   off — the word 0x2000 that kernels write; QEMU then exits with status 0.
 */
import type { DeviceHost, } from './clock';
import type { PortDevice } from './portBus';

export class PostCodePort implements PortDevice {
  readonly name = 'post-code (port 0x80)';
  /** Every value written, in order (kept up to `limit`; `count` counts all). */
  readonly codes: number[] = [];
  count = 0;
  last = 0xff;
  constructor(private readonly limit = 4096) {}
  portIn(): number {
    return this.last;
  }
  portOut(_port: number, _size: number, value: number): void {
    this.last = value & 0xff;
    this.count++;
    if (this.codes.length < this.limit) this.codes.push(this.last);
  }
}

export const DEBUG_EXIT_PORT = 0xf4;

export class DebugExitDevice implements PortDevice {
  readonly name = 'isa-debug-exit (0xf4)';
  constructor(private readonly host: DeviceHost) {}
  portIn(): number {
    return 0;
  }
  portOut(_port: number, size: number, value: number): void {
    const v = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
    // QEMU: exit((val << 1) | 1); the status a process sees is that value modulo 256, the JSON
    // report keeps the full value.
    this.host.requestExit(((v * 2) + 1) % 4294967296, 'isa-debug-exit');
  }
}

export const ACPI_PM1A_CNT = 0x604;
const SLP_EN = 1 << 13;
const SLP_TYP_MASK = 7 << 10;

export class AcpiPmControl implements PortDevice {
  readonly name = 'ACPI PM1a_CNT (0x604)';
  /** SCI_EN and the other read/write bits the guest wrote (SLP_EN reads as 0). */
  private value = 0;
  constructor(private readonly host: DeviceHost) {}
  portIn(port: number, size: number): number {
    const v = this.value >>> (8 * (port - ACPI_PM1A_CNT));
    return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v;
  }
  portOut(port: number, size: number, value: number): void {
    const shift = 8 * (port - ACPI_PM1A_CNT);
    const mask = (size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff) << shift;
    const v = (((this.value & ~mask) | ((value << shift) & mask)) & 0xffff) >>> 0;
    this.value = v & ~SLP_EN;
    if ((v & SLP_EN) !== 0 && (v & SLP_TYP_MASK) === 0) this.host.requestExit(0, 'ACPI power-off');
  }
}
