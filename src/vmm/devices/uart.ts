/**
 * A 16550A UART (the PC's COM1 at 0x3F8, IRQ 4), as its datasheet describes the registers
 * (offsets from the base; DLAB = LCR bit 7):
 *   0 RBR (read) / THR (write) / DLL (DLAB=1)    1 IER / DLM (DLAB=1)
 *   2 IIR (read) / FCR (write)                   3 LCR      4 MCR      5 LSR      6 MSR      7 SCR
 * Transmission is instantaneous: a byte written to THR goes to the output sink at once and the
 * transmitter is empty again (LSR.THRE and LSR.TEMT stay 1), so polling drivers never wait.
 * Received bytes come from `input()` into a 16-byte FIFO (1 byte when FIFOs are disabled);
 * bytes that do not fit wait in an unbounded host-side queue (no overrun is simulated).
 * In loopback mode (MCR bit 4) transmitted bytes come back to the receiver instead of the sink
 * and MSR's inputs mirror MCR's outputs (CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2).
 *
 * Interrupts (IIR priority order): receiver line status (never raised: no errors), received
 * data available (ERBFI and data in the receiver), transmitter holding register empty (ETBEI
 * and THRE, cleared by reading IIR when it is the reported source or by writing THR, raised
 * again as soon as the instant transmission leaves THR empty), modem status (EDSSI and a delta
 * bit in MSR). The IRQ line is high while an enabled condition is pending. Unlike a PC's
 * wiring, MCR.OUT2 does not gate the line (QEMU does not gate it either).
 */
import type { DeviceHost } from './clock';
import type { PortDevice } from './portBus';

export const COM1_BASE = 0x3f8;
export const COM1_IRQ = 4;

const LSR_DR = 0x01;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;

export class Uart16550 implements PortDevice {
  readonly name: string;
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 0x0c; // 9600 baud, as firmware typically leaves it
  private dlm = 0;
  private fcr = 0;
  private msrDelta = 0;
  /** Receiver FIFO and the host-side queue behind it. */
  private readonly rx: number[] = [];
  private readonly queue: number[] = [];
  /** THR-empty interrupt condition (see the file comment). */
  private thrIntr = false;
  private irqLevel = false;
  /** Every byte transmitted (not in loopback), in order. */
  readonly output: number[] = [];

  constructor(
    private readonly host: DeviceHost,
    private readonly base = COM1_BASE,
    private readonly irq = COM1_IRQ,
    /** Called with each transmitted byte as it is written. */
    private readonly sink: (byte: number) => void = () => {},
  ) {
    this.name = `16550 UART (0x${base.toString(16)}, IRQ ${irq})`;
  }

  /**
   * Text the host adds to the serial output stream (the VMM's print hypercall): it appears
   * where the guest's own transmissions do, without touching the UART's registers.
   */
  hostOutput(byte: number): void {
    this.output.push(byte & 0xff);
    this.sink(byte & 0xff);
  }

  /** Queue bytes for the guest to receive. */
  input(bytes: Iterable<number>): void {
    for (const b of bytes) this.queue.push(b & 0xff);
    this.refill();
    this.update();
  }

  private get fifoSize(): number {
    return (this.fcr & 1) !== 0 ? 16 : 1;
  }

  private refill(): void {
    while (this.rx.length < this.fifoSize && this.queue.length > 0) this.rx.push(this.queue.shift()!);
  }

  private lsr(): number {
    return (this.rx.length > 0 ? LSR_DR : 0) | LSR_THRE | LSR_TEMT;
  }

  private msr(): number {
    let lines: number;
    if ((this.mcr & 0x10) !== 0) {
      const m = this.mcr;
      lines = ((m & 2) << 3) | ((m & 1) << 5) | ((m & 4) << 4) | ((m & 8) << 4); // CTS DSR RI DCD
    } else {
      lines = 0x10 | 0x20 | 0x80; // a connected terminal: CTS, DSR, DCD
    }
    return lines | this.msrDelta;
  }

  /** The highest-priority pending interrupt's IIR code (bit 0 = 1: none). */
  private iirCode(): number {
    if ((this.ier & 1) !== 0 && this.rx.length > 0) return 0x04;
    if ((this.ier & 2) !== 0 && this.thrIntr) return 0x02;
    if ((this.ier & 8) !== 0 && this.msrDelta !== 0) return 0x00;
    return 0x01;
  }

  private update(): void {
    const level = this.iirCode() !== 0x01;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.host.setIrq(this.irq, level);
    }
  }

  portIn(port: number): number {
    const r = port - this.base;
    const dlab = (this.lcr & 0x80) !== 0;
    let v: number;
    switch (r) {
      case 0:
        if (dlab) return this.dll;
        v = this.rx.length > 0 ? this.rx.shift()! : 0;
        this.refill();
        this.update();
        return v;
      case 1:
        return dlab ? this.dlm : this.ier;
      case 2: {
        const code = this.iirCode();
        if (code === 0x02) this.thrIntr = false; // reading IIR clears a reported THRE interrupt
        v = code | ((this.fcr & 1) !== 0 ? 0xc0 : 0);
        this.update();
        return v;
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5:
        return this.lsr();
      case 6:
        v = this.msr();
        this.msrDelta = 0;
        this.update();
        return v;
      default:
        return this.scr;
    }
  }

  portOut(port: number, _size: number, value: number): void {
    const r = port - this.base;
    const dlab = (this.lcr & 0x80) !== 0;
    value &= 0xff;
    switch (r) {
      case 0:
        if (dlab) {
          this.dll = value;
          return;
        }
        if ((this.mcr & 0x10) !== 0) {
          this.queue.push(value);
          this.refill();
        } else {
          this.output.push(value);
          this.sink(value);
        }
        // Transmitted at once: THR is empty again, which is an interrupt condition of its own.
        this.thrIntr = true;
        break;
      case 1:
        if (dlab) {
          this.dlm = value;
          return;
        }
        // Enabling ETBEI while THR is empty raises the THRE interrupt (16550A datasheet).
        if ((value & 2) !== 0 && (this.ier & 2) === 0) this.thrIntr = true;
        this.ier = value & 0x0f;
        break;
      case 2:
        if ((value & 1) !== (this.fcr & 1)) this.rx.length = 0; // enabling/disabling clears the FIFOs
        if ((value & 2) !== 0) this.rx.length = 0; // reset the receiver FIFO
        this.fcr = value & 0xc9;
        this.refill();
        break;
      case 3:
        this.lcr = value;
        return;
      case 4: {
        const old = this.msr() & 0xf0;
        this.mcr = value & 0x1f;
        const now = this.msr() & 0xf0;
        // Delta bits: CTS, DSR change; RI trailing edge; DCD change.
        const ch = old ^ now;
        this.msrDelta |= ((ch >> 4) & 0x3) | (((old & ~now) >> 4) & 0x4) | ((ch >> 4) & 0x8);
        break;
      }
      case 5:
        return; // LSR is read-only (a factory test register on some parts)
      case 6:
        return;
      default:
        this.scr = value;
        return;
    }
    this.update();
  }

  /** Bytes still waiting to be received (FIFO + queue). */
  get pendingInput(): number {
    return this.rx.length + this.queue.length;
  }
}
