/**
 * The PC's two cascaded 8259A programmable interrupt controllers (master at 0x20/0x21, slave at
 * 0xA0/0xA1 on the master's IR2), as the 8259A datasheet describes them:
 * - initialization: ICW1 (A0=0, D4=1: LTIM level/edge, SNGL, IC4) resets the mask, the
 *   priority (IR0 highest), special mask mode and selects IRR for reads; ICW2 gives the vector
 *   base (T7-T3), ICW3 (cascade: the master's slave bitmap, the slave's ID) when not SNGL, ICW4
 *   (AEOI, µPM; buffered/SFNM bits are kept but have no effect here) when IC4;
 * - OCW1 (A0=1) the interrupt mask; OCW2 (A0=0, D4=0, D3=0) EOI (non-specific, specific, with
 *   or without rotation), set priority, rotate in AEOI mode; OCW3 (A0=0, D4=0, D3=1) read IRR or
 *   ISR, poll, special mask mode;
 * - priority resolution with fully nested mode and rotation; special mask mode lets lower
 *   priorities through while a higher one is in service;
 * - edge-triggered inputs latch a rising edge in IRR (which stays set until acknowledged);
 *   level-triggered inputs (LTIM) follow the line;
 * - INTA: the highest request moves to ISR (cleared again at once in AEOI mode); a request from
 *   the cascade input makes the slave supply the vector. With no request left at INTA the
 *   controller answers with its IR7 vector and sets no ISR bit (the spurious IRQ 7 / 15; the
 *   master still marks IR2 in service for a spurious IRQ 15, which the handler must EOI).
 */

class I8259 {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Current level of each input line. */
  lines = 0;
  vectorBase = 0;
  /** ICW3: master — the IRs with a slave; slave — its cascade ID. */
  icw3 = 0;
  levelTriggered = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialMask = false;
  readIsr = false;
  poll = false;
  /** The IR with the lowest priority (IR7 after initialization). */
  lowest = 7;
  /** 0: operating; 2/3/4: waiting for ICW2/ICW3/ICW4. */
  initStep = 0;
  single = false;
  needIcw4 = false;
  icw4 = 0;

  setLine(ir: number, level: boolean): void {
    const bit = 1 << ir;
    if (level) {
      if ((this.lines & bit) === 0 || this.levelTriggered) this.irr |= bit;
      this.lines |= bit;
    } else {
      this.lines &= ~bit;
      if (this.levelTriggered) this.irr &= ~bit;
    }
  }

  /** IR numbers from highest to lowest priority. */
  private order(k: number): number {
    return (this.lowest + 1 + k) & 7;
  }

  /** The IR that would be granted now, or -1. */
  pendingIr(): number {
    const req = this.irr & ~this.imr;
    if (req === 0) return -1;
    // Fully nested mode: a level in service blocks itself and every lower level. In special
    // mask mode only the mask inhibits a level (8259A datasheet, "Special Mask Mode").
    for (let k = 0; k < 8; k++) {
      const ir = this.order(k);
      if ((this.isr & (1 << ir)) !== 0 && !this.specialMask) return -1;
      if ((req & (1 << ir)) !== 0) return ir;
    }
    return -1;
  }

  /** INTA for `ir` (or -1: spurious). Returns the IR now in service. */
  ack(ir: number): void {
    if (ir < 0) return;
    const bit = 1 << ir;
    if (!this.levelTriggered) this.irr &= ~bit;
    else if ((this.lines & bit) === 0) this.irr &= ~bit;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.lowest = ir;
    } else {
      this.isr |= bit;
    }
  }

  /** The highest-priority IR in service, or -1. */
  private highestInService(): number {
    for (let k = 0; k < 8; k++) {
      const ir = this.order(k);
      if ((this.isr & (1 << ir)) !== 0) return ir;
    }
    return -1;
  }

  read(a0: number): number {
    if (this.poll) {
      this.poll = false;
      const ir = this.pendingIr();
      if (ir < 0) return 0;
      this.ack(ir);
      return 0x80 | ir;
    }
    if (a0 === 1) return this.imr;
    return this.readIsr ? this.isr : this.irr;
  }

  write(a0: number, v: number): void {
    if (a0 === 0 && (v & 0x10) !== 0) {
      // ICW1
      this.levelTriggered = (v & 0x08) !== 0;
      this.single = (v & 0x02) !== 0;
      this.needIcw4 = (v & 0x01) !== 0;
      this.imr = 0;
      this.isr = 0;
      this.irr = this.levelTriggered ? this.lines : 0; // edge detection restarts
      this.lowest = 7;
      this.specialMask = false;
      this.readIsr = false;
      this.poll = false;
      this.autoEoi = false;
      this.rotateOnAutoEoi = false;
      if (!this.needIcw4) this.icw4 = 0;
      this.initStep = 2;
      return;
    }
    if (a0 === 1) {
      switch (this.initStep) {
        case 2:
          this.vectorBase = v & 0xf8;
          this.initStep = this.single ? (this.needIcw4 ? 4 : 0) : 3;
          return;
        case 3:
          this.icw3 = v;
          this.initStep = this.needIcw4 ? 4 : 0;
          return;
        case 4:
          this.icw4 = v & 0x1f;
          this.autoEoi = (v & 0x02) !== 0;
          this.initStep = 0;
          return;
        default:
          this.imr = v; // OCW1
          return;
      }
    }
    if ((v & 0x08) !== 0) {
      // OCW3
      if ((v & 0x04) !== 0) this.poll = true;
      if ((v & 0x02) !== 0) this.readIsr = (v & 0x01) !== 0;
      if ((v & 0x40) !== 0) this.specialMask = (v & 0x20) !== 0;
      return;
    }
    // OCW2: R SL EOI
    const level = v & 7;
    switch (v >> 5) {
      case 1: { // non-specific EOI
        const ir = this.highestInService();
        if (ir >= 0) this.isr &= ~(1 << ir);
        return;
      }
      case 3: // specific EOI
        this.isr &= ~(1 << level);
        return;
      case 5: { // rotate on non-specific EOI
        const ir = this.highestInService();
        if (ir >= 0) {
          this.isr &= ~(1 << ir);
          this.lowest = ir;
        }
        return;
      }
      case 4: this.rotateOnAutoEoi = true; return;
      case 0: this.rotateOnAutoEoi = false; return;
      case 7: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.lowest = level;
        return;
      case 6: this.lowest = level; return; // set priority
      default: return; // 2: no operation
    }
  }
}

export const PIC_MASTER = 0x20;
export const PIC_SLAVE = 0xa0;

/** The cascaded pair: the PC's ISA IRQs 0-15 and one INTR output. */
export class PicPair {
  readonly name = '8259A PIC pair (0x20-0x21, 0xa0-0xa1)';
  readonly master = new I8259();
  readonly slave = new I8259();

  constructor() {
    // Until a guest programs them, the vector bases are the PC BIOS's (8 and 0x70), all IRQs
    // masked except the cascade — what a guest finds after firmware.
    this.master.vectorBase = 0x08;
    this.slave.vectorBase = 0x70;
    this.master.icw3 = 0x04;
    this.slave.icw3 = 0x02;
    this.master.imr = 0xfb;
    this.slave.imr = 0xff;
  }

  setIrq(irq: number, level: boolean): void {
    if (irq < 8) this.master.setLine(irq, level);
    else {
      this.slave.setLine(irq - 8, level);
      this.cascade();
    }
  }

  /** The slave's INT output drives the master's IR2. */
  private cascade(): void {
    this.master.setLine(2, this.slave.pendingIr() >= 0);
  }

  private isCascade(ir: number): boolean {
    return (this.master.icw3 & (1 << ir)) !== 0 && !this.master.single;
  }

  /** The vector INTA would return now, or -1 when INTR is low. */
  pendingVector(): number {
    this.cascade();
    const ir = this.master.pendingIr();
    if (ir < 0) return -1;
    if (this.isCascade(ir)) {
      const s = this.slave.pendingIr();
      return this.slave.vectorBase | (s < 0 ? 7 : s);
    }
    return this.master.vectorBase | ir;
  }

  /** Both INTA cycles: returns the vector and updates ISR/IRR (spurious IRQ 7/15 when nothing is pending). */
  inta(): number {
    this.cascade();
    const ir = this.master.pendingIr();
    if (ir < 0) return this.master.vectorBase | 7;
    this.master.ack(ir);
    if (!this.isCascade(ir)) return this.master.vectorBase | ir;
    const s = this.slave.pendingIr();
    if (s < 0) {
      this.cascade();
      return this.slave.vectorBase | 7;
    }
    this.slave.ack(s);
    this.cascade();
    return this.slave.vectorBase | s;
  }

  portIn(port: number): number {
    const chip = (port & 0xfe) === PIC_MASTER ? this.master : this.slave;
    const v = chip.read(port & 1);
    this.cascade();
    return v;
  }

  portOut(port: number, _size: number, value: number): void {
    const chip = (port & 0xfe) === PIC_MASTER ? this.master : this.slave;
    chip.write(port & 1, value & 0xff);
    this.cascade();
  }
}
