import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceHost } from '../../src/vmm/devices/clock';
import { PIT_TICKS_PER_CLOCK, TICKS_PER_SECOND } from '../../src/vmm/devices/clock';
import { CmosRtc } from '../../src/vmm/devices/cmos';
import { LocalApic, APIC_DEFAULT_BASE } from '../../src/vmm/devices/lapic';
import { PicPair } from '../../src/vmm/devices/pic';
import { Pit8254 } from '../../src/vmm/devices/pit';
import { AcpiPmControl, DebugExitDevice, PostCodePort } from '../../src/vmm/devices/platformPorts';
import { PortIoBus } from '../../src/vmm/devices/portBus';
import { Uart16550 } from '../../src/vmm/devices/uart';
import { CpuException } from '../../src/x86/exceptions';

/** A host that records IRQ levels and exits, with a settable clock. */
class FakeHost implements DeviceHost {
  t = 0;
  irq = new Array<boolean>(16).fill(false);
  edges: number[] = [];
  exits: Array<[number, string]> = [];
  changes = 0;
  now(): number { return this.t; }
  setIrq(n: number, level: boolean): void {
    if (level && !this.irq[n]) this.edges.push(n);
    this.irq[n] = level;
  }
  interruptsChanged(): void { this.changes++; }
  timersChanged(): void {}
  requestExit(code: number, how: string): void { this.exits.push([code, how]); }
}

// ---- port bus --------------------------------------------------------------------------------
test('port bus: unclaimed ports read all-ones; 8-bit devices see wide accesses byte by byte', () => {
  const bus = new PortIoBus();
  const log: Array<[number, number]> = [];
  bus.register(0x100, 0x101, { name: 'a', portIn: (p) => p & 0xff, portOut: (p, _s, v) => { log.push([p, v]); } });
  assert.equal(bus.portIn(0x300, 1), 0xff);
  assert.equal(bus.portIn(0x300, 2), 0xffff);
  assert.equal(bus.portIn(0x300, 4), -1);
  assert.equal(bus.portIn(0x100, 2), 0x0100);
  assert.equal(bus.portIn(0x101, 2), 0xff01); // 0x102 floats
  bus.portOut(0x100, 2, 0xbeef);
  assert.deepEqual(log, [[0x100, 0xef], [0x101, 0xbe]]);
  assert.throws(() => bus.register(0x101, 0x101, { name: 'b', portIn: () => 0, portOut: () => {} }), /overlaps/);
});

// ---- UART --------------------------------------------------------------------------------------
test('16550: THR output reaches the sink, LSR shows THRE|TEMT, divisor latch behind DLAB', () => {
  const h = new FakeHost();
  const out: number[] = [];
  const u = new Uart16550(h, 0x3f8, 4, (b) => out.push(b));
  assert.equal(u.portIn(0x3fd), 0x60);
  u.portOut(0x3f8, 1, 0x41);
  u.portOut(0x3f8, 1, 0x0a);
  assert.deepEqual(out, [0x41, 0x0a]);
  assert.deepEqual(u.output, [0x41, 0x0a]);
  u.portOut(0x3fb, 1, 0x80); // DLAB
  u.portOut(0x3f8, 1, 0x01);
  u.portOut(0x3f9, 1, 0x00);
  assert.equal(u.portIn(0x3f8), 0x01);
  assert.deepEqual(out, [0x41, 0x0a]); // divisor writes are not data
  u.portOut(0x3fb, 1, 0x03);
  assert.equal(u.portIn(0x3fb), 0x03);
  u.portOut(0x3ff, 1, 0x5a);
  assert.equal(u.portIn(0x3ff), 0x5a); // scratch
});

test('16550: loopback returns the written byte and mirrors MCR in MSR (the OSDev probe)', () => {
  const h = new FakeHost();
  const out: number[] = [];
  const u = new Uart16550(h, 0x3f8, 4, (b) => out.push(b));
  u.portOut(0x3fc, 1, 0x1e); // loopback, RTS, OUT1, OUT2
  u.portOut(0x3f8, 1, 0xae);
  assert.equal(u.portIn(0x3fd) & 1, 1);
  assert.equal(u.portIn(0x3f8), 0xae);
  assert.equal(u.portIn(0x3fd) & 1, 0);
  assert.deepEqual(out, []);
  assert.equal(u.portIn(0x3fe) & 0xf0, 0x10 | 0x40 | 0x80); // CTS (RTS), RI (OUT1), DCD (OUT2)
  u.portOut(0x3fc, 1, 0x0f);
  u.portOut(0x3f8, 1, 0x42);
  assert.deepEqual(out, [0x42]);
});

test('16550: receive queue, data-ready and THRE interrupts with IIR priorities', () => {
  const h = new FakeHost();
  const u = new Uart16550(h);
  assert.equal(u.portIn(0x3fa) & 0x0f, 0x01); // nothing pending
  u.portOut(0x3f9, 1, 0x02); // ETBEI with THR empty: THRE interrupt at once
  assert.equal(h.irq[4], true);
  assert.equal(u.portIn(0x3fa) & 0x0f, 0x02);
  assert.equal(h.irq[4], false); // reading IIR cleared it
  u.portOut(0x3f9, 1, 0x03);
  u.input([0x31, 0x32]);
  assert.equal(h.irq[4], true);
  assert.equal(u.portIn(0x3fa) & 0x0f, 0x04); // received data outranks THRE
  assert.equal(u.portIn(0x3f8), 0x31);
  assert.equal(u.portIn(0x3f8), 0x32);
  assert.equal(h.irq[4], false);
  assert.equal(u.portIn(0x3fd) & 1, 0);
  u.portOut(0x3f8, 1, 0x21); // transmit: THR empty again → THRE
  assert.equal(h.irq[4], true);
  u.portOut(0x3fa, 1, 0x07); // FIFO enable
  assert.equal(u.portIn(0x3fa) & 0xc0, 0xc0);
});

// ---- CMOS ----------------------------------------------------------------------------------------
test('CMOS: fixed start date in BCD, advancing with machine time; binary and 12-hour modes', () => {
  const h = new FakeHost();
  const c = new CmosRtc(h, 64 << 20);
  const rd = (i: number): number => { c.portOut(0x70, 1, i); return c.portIn(0x71); };
  assert.deepEqual([rd(9), rd(8), rd(7), rd(4), rd(2), rd(0), rd(0x32), rd(6)], [0x26, 0x01, 0x01, 0x00, 0x00, 0x00, 0x20, 0x05]);
  assert.equal(rd(0x0b), 0x02);
  assert.equal(rd(0x0d), 0x80);
  assert.equal(rd(0x0a) & 0x80, 0);
  h.t = (13 * 3600 + 59 * 60 + 7) * TICKS_PER_SECOND + 5;
  assert.deepEqual([rd(4), rd(2), rd(0)], [0x13, 0x59, 0x07]);
  c.portOut(0x70, 1, 0x0b); c.portOut(0x71, 1, 0x04); // binary, 12-hour
  assert.deepEqual([rd(4), rd(2), rd(0)], [0x81, 59, 7]); // 1 PM
  // memory size: 64 MiB → 0x34/0x35 = (64-16) MiB / 64 KiB = 768
  assert.equal(rd(0x34) | (rd(0x35) << 8), 768);
  c.portOut(0x70, 1, 0x40); c.portOut(0x71, 1, 0x99);
  assert.equal(rd(0x40), 0x99);
  c.portOut(0x70, 1, 0x80); // NMI disable bit
  assert.equal(c.nmiDisabled, true);
});

// ---- exit devices, POST --------------------------------------------------------------------------
test('isa-debug-exit: value v exits with (v << 1) | 1; ACPI PM1a_CNT SLP_EN powers off', () => {
  const h = new FakeHost();
  const d = new DebugExitDevice(h);
  d.portOut(0xf4, 4, 0x10);
  d.portOut(0xf4, 1, 0);
  assert.deepEqual(h.exits, [[0x21, 'isa-debug-exit'], [1, 'isa-debug-exit']]);
  const a = new AcpiPmControl(h);
  a.portOut(0x604, 2, 0x0001); // SCI_EN only
  assert.equal(h.exits.length, 2);
  assert.equal(a.portIn(0x604, 2), 1);
  a.portOut(0x604, 2, 0x2000);
  assert.deepEqual(h.exits[2], [0, 'ACPI power-off']);
  a.portOut(0x604, 2, 0x2000 | (5 << 10)); // another sleep type: not S5 on QEMU
  assert.equal(h.exits.length, 3);
  const p = new PostCodePort();
  p.portOut(0x80, 1, 0x12); p.portOut(0x80, 1, 0x34);
  assert.deepEqual(p.codes, [0x12, 0x34]);
  assert.equal(p.portIn(), 0x34);
});

// ---- PIC -----------------------------------------------------------------------------------------
function initPics(p: PicPair, masterBase = 0x20, slaveBase = 0x28, icw4 = 0x01): void {
  p.portOut(0x20, 1, 0x11); p.portOut(0xa0, 1, 0x11);
  p.portOut(0x21, 1, masterBase); p.portOut(0xa1, 1, slaveBase);
  p.portOut(0x21, 1, 0x04); p.portOut(0xa1, 1, 0x02);
  p.portOut(0x21, 1, icw4); p.portOut(0xa1, 1, icw4);
}

test('8259: ICW sequence, masking, priority, non-specific EOI, fully nested mode', () => {
  const p = new PicPair();
  initPics(p);
  assert.equal(p.portIn(0x21), 0); // ICW1 cleared the mask
  p.setIrq(3, true);
  p.setIrq(1, true);
  assert.equal(p.pendingVector(), 0x21); // IR1 outranks IR3
  assert.equal(p.inta(), 0x21);
  assert.equal(p.pendingVector(), -1); // IR1 in service blocks IR3
  p.portOut(0x20, 1, 0x0b); // OCW3: read ISR
  assert.equal(p.portIn(0x20), 0x02);
  p.portOut(0x20, 1, 0x0a); // read IRR
  assert.equal(p.portIn(0x20), 0x08);
  p.setIrq(0, true); // higher priority interrupts the handler
  assert.equal(p.inta(), 0x20);
  p.portOut(0x20, 1, 0x20); // EOI IR0
  p.portOut(0x20, 1, 0x20); // EOI IR1
  assert.equal(p.inta(), 0x23);
  p.portOut(0x21, 1, 0xff); // mask all
  p.setIrq(1, false); p.setIrq(1, true);
  p.portOut(0x20, 1, 0x20);
  assert.equal(p.pendingVector(), -1);
  p.portOut(0x21, 1, 0x00);
  assert.equal(p.pendingVector(), 0x21); // the edge latched while masked is delivered on unmask
});

test('8259: cascade (IRQ 8-15 through IR2), specific EOI, spurious IRQ 7 and 15', () => {
  const p = new PicPair();
  initPics(p);
  p.setIrq(12, true);
  assert.equal(p.pendingVector(), 0x2c);
  assert.equal(p.inta(), 0x2c);
  p.portOut(0xa0, 1, 0x0b);
  assert.equal(p.portIn(0xa0), 0x10);
  p.portOut(0x20, 1, 0x0b);
  assert.equal(p.portIn(0x20), 0x04); // master: IR2 in service
  p.portOut(0xa0, 1, 0x64); // specific EOI, level 4
  p.portOut(0x20, 1, 0x62); // specific EOI, level 2
  assert.equal(p.portIn(0xa0), 0);
  assert.equal(p.portIn(0x20), 0);
  // INTA with nothing pending: the IR7 vector, no ISR bit.
  assert.equal(p.inta(), 0x27);
  assert.equal(p.portIn(0x20), 0);
  // Level-triggered: a request that drops before INTA disappears.
  p.portOut(0x20, 1, 0x19); p.portOut(0x21, 1, 0x20); p.portOut(0x21, 1, 0x04); p.portOut(0x21, 1, 0x01);
  p.setIrq(5, true);
  assert.equal(p.pendingVector(), 0x25);
  p.setIrq(5, false);
  assert.equal(p.pendingVector(), -1);
});

test('8259: automatic EOI, rotation and the poll command', () => {
  const p = new PicPair();
  initPics(p, 0x40, 0x48, 0x03); // AEOI
  p.setIrq(4, true);
  assert.equal(p.inta(), 0x44);
  p.portOut(0x20, 1, 0x0b);
  assert.equal(p.portIn(0x20), 0); // nothing stays in service
  initPics(p, 0x40, 0x48, 0x01);
  p.portOut(0x20, 1, 0xc4); // set priority: IR4 lowest, so IR5 is highest
  p.setIrq(3, true); p.setIrq(6, true);
  assert.equal(p.pendingVector(), 0x46);
  p.portOut(0x20, 1, 0x0c); // poll
  assert.equal(p.portIn(0x20), 0x86);
  assert.equal(p.pendingVector(), -1); // IR6 is in service (the poll acknowledged it)
  p.portOut(0x20, 1, 0xa0); // rotate on non-specific EOI: IR6 becomes lowest
  assert.equal(p.pendingVector(), 0x43);
});

// ---- PIT -----------------------------------------------------------------------------------------
test('8254: mode 2 on counter 0 raises IRQ 0 every N PIT clocks; counts are readable and latchable', () => {
  const h = new FakeHost();
  const pit = new Pit8254(h);
  pit.portOut(0x43, 1, 0x34); // counter 0, LSB then MSB, mode 2
  pit.portOut(0x40, 1, 100); pit.portOut(0x40, 1, 0);
  const first = pit.nextDeadline(0);
  assert.equal(first, 101 * PIT_TICKS_PER_CLOCK); // loaded on the next clock, terminal after 100
  h.t = 51 * PIT_TICKS_PER_CLOCK;
  pit.portOut(0x43, 1, 0x00); // latch counter 0
  h.t += 10 * PIT_TICKS_PER_CLOCK; // the latch holds the old value
  assert.equal(pit.portIn(0x40) | (pit.portIn(0x40) << 8), 50);
  assert.equal(pit.portIn(0x40) | (pit.portIn(0x40) << 8), 40);
  h.t = first;
  h.edges = [];
  pit.service(h.t);
  assert.deepEqual(h.edges, [0]);
  assert.equal(pit.nextDeadline(h.t), 201 * PIT_TICKS_PER_CLOCK);
  pit.service(h.t); // nothing more is due
  assert.deepEqual(h.edges, [0]);
});

test('8254: mode 0 fires once; mode 3 square wave; read-back status', () => {
  const h = new FakeHost();
  const pit = new Pit8254(h);
  pit.portOut(0x43, 1, 0x30); // counter 0, mode 0
  assert.equal(h.irq[0], false);
  pit.portOut(0x40, 1, 10); pit.portOut(0x40, 1, 0);
  const t = pit.nextDeadline(0);
  assert.equal(t, 11 * PIT_TICKS_PER_CLOCK);
  h.t = t;
  pit.service(t);
  assert.equal(h.irq[0], true);
  assert.equal(pit.nextDeadline(t), Infinity);
  pit.portOut(0x43, 1, 0xe2); // read-back: status and count of counter 0
  const status = pit.portIn(0x40);
  assert.equal(status & 0x80, 0x80); // OUT high
  assert.equal(status & 0x3f, 0x30); // RW=3, mode 0, binary
  pit.portOut(0x43, 1, 0x36); // counter 0, mode 3
  pit.portOut(0x40, 1, 8); pit.portOut(0x40, 1, 0);
  const start = Math.floor(h.t / PIT_TICKS_PER_CLOCK) + 1;
  assert.equal(pit.nextDeadline(h.t), (start + 8) * PIT_TICKS_PER_CLOCK);
  h.t = (start + 1) * PIT_TICKS_PER_CLOCK;
  assert.equal(pit.portIn(0x40) | (pit.portIn(0x40) << 8), 6); // counts by twos
  // Counter 2 gated by port 0x61; OUT2 readable at bit 5.
  pit.portOut(0x43, 1, 0xb0); // counter 2, mode 0
  pit.portOut(0x42, 1, 5); pit.portOut(0x42, 1, 0);
  pit.portOut(0x61, 1, 0x01);
  assert.equal(pit.portIn(0x61) & 0x20, 0);
  h.t += 10 * PIT_TICKS_PER_CLOCK;
  assert.equal(pit.portIn(0x61) & 0x21, 0x21);
});

// ---- local APIC ----------------------------------------------------------------------------------
function apicFor(h: FakeHost): { apic: LocalApic; cpu: { cr8: number; tsc(): number; tscPerInstruction: number } } {
  const cpu = { cr8: 0, tscPerInstruction: 1, tsc: () => h.t };
  const apic = new LocalApic(h, cpu);
  return { apic, cpu };
}
const A = APIC_DEFAULT_BASE;

test('LAPIC: reset state per SDM §10.4.7.1; ID, version, SVR enable; LVTs masked while disabled', () => {
  const h = new FakeHost();
  const { apic } = apicFor(h);
  assert.equal(apic.mmioRead(A + 0x20, 4), 0);
  assert.equal(apic.mmioRead(A + 0x30, 4), 0x00050014);
  assert.equal(apic.mmioRead(A + 0xf0, 4), 0xff);
  assert.equal(apic.mmioRead(A + 0xe0, 4), -1);
  for (let o = 0x320; o <= 0x370; o += 0x10) assert.equal(apic.mmioRead(A + o, 4), 0x10000, o.toString(16));
  apic.mmioWrite(A + 0x320, 4, 0x30); // cannot unmask while software-disabled
  assert.equal(apic.mmioRead(A + 0x320, 4), 0x10030);
  apic.mmioWrite(A + 0xf0, 4, 0x1ff);
  apic.mmioWrite(A + 0x320, 4, 0x30);
  assert.equal(apic.mmioRead(A + 0x320, 4), 0x30);
  assert.equal(apic.passesPic(), false); // LINT0 masked
  apic.mmioWrite(A + 0x350, 4, 0x700);
  assert.equal(apic.passesPic(), true);
  apic.mmioWrite(A + 0xf0, 4, 0xff); // software disable masks every LVT again
  assert.equal(apic.mmioRead(A + 0x320, 4), 0x10030);
});

test('LAPIC: IRR/ISR, priority against TPR (CR8), EOI, self-IPI, illegal vectors', () => {
  const h = new FakeHost();
  const { apic, cpu } = apicFor(h);
  apic.firmwareSetup();
  apic.mmioWrite(A + 0x300, 4, 0x40000 | 0x45); // self IPI, vector 0x45
  apic.mmioWrite(A + 0x300, 4, 0x40000 | 0x61);
  assert.equal(apic.mmioRead(A + 0x200 + 0x20, 4), (1 << 5) | 0); // IRR[2] bit 5 = 0x45
  assert.equal(apic.mmioRead(A + 0x230, 4), 1 << 1); // 0x61
  assert.equal(apic.pendingVector(), 0x61);
  apic.mmioWrite(A + 0x80, 4, 0x60); // TPR class 6 blocks 0x61
  assert.equal(cpu.cr8, 6);
  assert.equal(apic.pendingVector(), -1);
  cpu.cr8 = 5; // MOV CR8 is the same register
  assert.equal(apic.mmioRead(A + 0x80, 4), 0x50);
  assert.equal(apic.pendingVector(), 0x61);
  apic.acknowledge(0x61);
  assert.equal(apic.mmioRead(A + 0xa0, 4), 0x60); // PPR = ISRV class
  assert.equal(apic.pendingVector(), -1); // 0x45 is below the in-service class
  apic.mmioWrite(A + 0xb0, 4, 0);
  assert.equal(apic.pendingVector(), -1); // TPR 0x50 still blocks 0x45
  cpu.cr8 = 0;
  assert.equal(apic.pendingVector(), 0x45);
  // A vector below 16 is illegal: ESR bit 5 (send), nothing in IRR.
  apic.mmioWrite(A + 0x300, 4, 0x40000 | 0x05);
  apic.mmioWrite(A + 0x280, 4, 0);
  assert.equal(apic.mmioRead(A + 0x280, 4), 0x20);
  // Physical destination = own ID reaches self; another ID does not; all-excluding-self does not.
  apic.mmioWrite(A + 0x310, 4, 0x00000000);
  apic.mmioWrite(A + 0x300, 4, 0x70);
  apic.mmioWrite(A + 0x310, 4, 0x01000000);
  apic.mmioWrite(A + 0x300, 4, 0x71);
  apic.mmioWrite(A + 0x300, 4, 0xc0000 | 0x72);
  assert.equal(apic.mmioRead(A + 0x230, 4), 1 << 16); // IRR[3]: only 0x70
});

test('LAPIC timer: one-shot and periodic with the divide configuration, current count', () => {
  const h = new FakeHost();
  const { apic } = apicFor(h);
  apic.firmwareSetup();
  apic.mmioWrite(A + 0x3e0, 4, 0x3); // divide by 16
  apic.mmioWrite(A + 0x320, 4, 0x40); // one-shot, vector 0x40
  h.t = 1000;
  apic.mmioWrite(A + 0x380, 4, 100);
  assert.equal(apic.nextDeadline(h.t), 1000 + 1600);
  h.t = 1000 + 160;
  assert.equal(apic.mmioRead(A + 0x390, 4), 90);
  h.t = 2600;
  apic.service(h.t);
  assert.equal(apic.pendingVector(), 0x40);
  assert.equal(apic.mmioRead(A + 0x390, 4), 0);
  assert.equal(apic.nextDeadline(h.t), Infinity);
  apic.acknowledge(0x40);
  apic.mmioWrite(A + 0xb0, 4, 0);
  // Periodic, divide by 1.
  apic.mmioWrite(A + 0x3e0, 4, 0xb);
  apic.mmioWrite(A + 0x320, 4, 0x20041);
  apic.mmioWrite(A + 0x380, 4, 50);
  assert.equal(apic.nextDeadline(h.t), 2650);
  h.t = 2650; apic.service(h.t);
  assert.equal(apic.nextDeadline(h.t), 2700);
  h.t = 2675;
  assert.equal(apic.mmioRead(A + 0x390, 4), 25);
  // Masked: still counts, no interrupt.
  apic.acknowledge(0x41); apic.mmioWrite(A + 0xb0, 4, 0);
  apic.mmioWrite(A + 0x320, 4, 0x30041);
  h.t = 2700; apic.service(h.t);
  assert.equal(apic.pendingVector(), -1);
  assert.equal(apic.timerFired, 3);
  apic.mmioWrite(A + 0x380, 4, 0); // initial count 0 stops the timer
  assert.equal(apic.nextDeadline(h.t), Infinity);
});

test('LAPIC timer: TSC-deadline mode through IA32_TSC_DEADLINE; mode switches disarm', () => {
  const h = new FakeHost();
  const { apic } = apicFor(h);
  apic.firmwareSetup();
  apic.wrmsr(0x6e0, 5000, 0); // ignored outside TSC-deadline mode
  assert.deepEqual(apic.rdmsr(0x6e0), [0, 0]);
  apic.mmioWrite(A + 0x320, 4, 0x40050); // TSC-deadline, vector 0x50
  h.t = 100;
  apic.wrmsr(0x6e0, 5000, 0);
  assert.deepEqual(apic.rdmsr(0x6e0), [5000, 0]);
  assert.equal(apic.nextDeadline(h.t), 5000);
  apic.mmioWrite(A + 0x380, 4, 10); // initial count is ignored in this mode
  assert.equal(apic.nextDeadline(h.t), 5000);
  h.t = 5000; apic.service(h.t);
  assert.equal(apic.pendingVector(), 0x50);
  assert.deepEqual(apic.rdmsr(0x6e0), [0, 0]); // disarmed after it fired
  apic.wrmsr(0x6e0, 9000, 0);
  apic.mmioWrite(A + 0x320, 4, 0x00050); // to one-shot: disarmed
  apic.mmioWrite(A + 0x320, 4, 0x40050);
  assert.equal(apic.nextDeadline(h.t), Infinity);
});

test('LAPIC x2APIC: IA32_APIC_BASE transitions (SDM §10.12.5), MSR registers, #GP cases', () => {
  const h = new FakeHost();
  const { apic } = apicFor(h);
  apic.firmwareSetup();
  const gp = (f: () => unknown): void => {
    assert.throws(f, (e: unknown) => e instanceof CpuException && e.vector === 13);
  };
  assert.deepEqual(apic.rdmsr(0x1b), [0xfee00900 | 0, 0]);
  gp(() => apic.rdmsr(0x802)); // x2APIC MSRs #GP in xAPIC mode
  gp(() => apic.wrmsr(0x1b, 0xfee00400 | 0, 0)); // EXTD without EN
  gp(() => apic.wrmsr(0x1b, 0xfee00801 | 0, 0)); // reserved bit
  apic.wrmsr(0x1b, 0xfee00c00 | 0, 0); // xAPIC → x2APIC
  assert.equal(apic.x2apic, true);
  assert.equal(apic.mmioRead(A + 0x30, 4), -1); // the MMIO page is gone
  assert.deepEqual(apic.rdmsr(0x802), [0, 0]); // 32-bit ID
  assert.deepEqual(apic.rdmsr(0x803), [0x00050014, 0]);
  assert.deepEqual(apic.rdmsr(0x80d), [1, 0]); // LDR derived from the ID
  gp(() => apic.wrmsr(0x802, 1, 0)); // ID is read-only
  gp(() => apic.wrmsr(0x80b, 1, 0)); // EOI: only 0
  gp(() => apic.rdmsr(0x83f)); // SELF IPI is write-only
  gp(() => apic.rdmsr(0x80e)); // no DFR in x2APIC mode
  apic.wrmsr(0x83f, 0x66, 0);
  assert.equal(apic.pendingVector(), 0x66);
  apic.wrmsr(0x830, 0x40067, 0); // ICR, self shorthand
  assert.deepEqual(apic.rdmsr(0x823), [0x40 | 0x80, 0]); // IRR[3]: 0x66, 0x67
  apic.wrmsr(0x808, 0x70, 0);
  assert.deepEqual(apic.rdmsr(0x808), [0x70, 0]);
  gp(() => apic.wrmsr(0x1b, 0xfee00800 | 0, 0)); // x2APIC → xAPIC directly
  apic.wrmsr(0x1b, 0xfee00000 | 0, 0); // → disabled (resets the APIC)
  assert.equal(apic.enabled, false);
  assert.equal(apic.pendingVector(), -1);
  gp(() => apic.wrmsr(0x1b, 0xfee00c00 | 0, 0)); // disabled → x2APIC
  apic.wrmsr(0x1b, 0xfee00800 | 0, 0);
  assert.equal(apic.mmioRead(A + 0xf0, 4), 0xff); // reset state after re-enabling
});
