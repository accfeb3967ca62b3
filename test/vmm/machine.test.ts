import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../../src/vmm/machine';
import { applyBootPlan, loadImage } from '../../src/vmm/loaders';
import type { LoadOptions } from '../../src/vmm/loaders';
import { PIT_TICKS_PER_CLOCK } from '../../src/vmm/devices/clock';
import { HELLO64, NASM_MISSING, apicTimer64, hasNasm, nasm, pitReal } from './guestAsm';

function boot(bytes: Uint8Array, options: Partial<LoadOptions> = {}, sink?: (b: number) => void): Machine {
  const m = new Machine({ memorySize: 16 << 20, serialSink: sink });
  applyBootPlan(m.cpu, loadImage(m.mem, bytes, { format: 'flat', ...options }));
  return m;
}

const text = (m: Machine): string => Buffer.from(m.serialBytes()).toString('latin1');

function needNasm(t: { skip(reason: string): void }): boolean {
  if (hasNasm) return true;
  console.log(`# skipped: ${NASM_MISSING}`);
  t.skip(NASM_MISSING);
  return false;
}

// ---- the machine's timer/HLT logic with hand-made programs (no nasm needed) --------------------

test('machine: HLT with IF=0 stops with "hlt"; nothing armed stops too', () => {
  const m = boot(Uint8Array.of(0xf4), { mode: 'long' }); // hlt
  assert.equal(m.run(1000).reason, 'hlt');
  assert.equal(m.cpu.icount, 1);
  const m2 = boot(Uint8Array.of(0xfb, 0xf4), { mode: 'long' }); // sti / hlt: IF=1 but no timer
  assert.equal(m2.run(1000).reason, 'hlt');
  assert.equal(m2.idleTicks, 0);
});

test('machine: a halted processor sleeps to the next deadline, then stops after maxIdleTicks with no interrupt', () => {
  // sti / hlt with the PIT running in mode 2 but IRQ 0 masked at the PIC: the machine sleeps
  // from deadline to deadline, then gives up after maxIdleTicks of guest time.
  const m = new Machine({ memorySize: 1 << 20, maxIdleTicks: 1_000_000 });
  applyBootPlan(m.cpu, loadImage(m.mem, Uint8Array.of(0xfb, 0xf4), { format: 'flat', mode: 'long' }));
  m.pit.portOut(0x43, 1, 0x34);
  m.pit.portOut(0x40, 1, 100);
  m.pit.portOut(0x40, 1, 0);
  const tsc0 = m.cpu.tsc();
  const r = m.run(1000);
  assert.equal(r.reason, 'hlt');
  assert.equal(m.cpu.icount, 2);
  assert.ok(m.idleTicks > 1_000_000 - 101 * PIT_TICKS_PER_CLOCK && m.idleTicks <= 1_000_000, String(m.idleTicks));
  assert.equal(m.cpu.tsc() - tsc0, 2 + m.idleTicks); // the TSC advanced through the sleep
});

test('machine: an interrupt raised while IF=0 is offered again (eventPending) and the limit is exact', () => {
  // jmp $ forever; a self-IPI pending with IF=0 must not stop or wedge the loop.
  const m = boot(Uint8Array.of(0xeb, 0xfe), { mode: 'long' });
  m.lapic.accept(0x40);
  assert.equal(m.cpu.eventPending, true);
  const r = m.run(5000);
  assert.equal(r.reason, 'limit');
  assert.equal(m.cpu.icount, 5000);
  assert.equal(m.pendingVector(), 0x40);
});

test('machine: debug-exit and power-off through ports from the processor', () => {
  // mov dx,0xf4 / mov eax,3 / out dx,eax / hlt   (64-bit)
  const m = boot(Uint8Array.of(0x66, 0xba, 0xf4, 0x00, 0xb8, 3, 0, 0, 0, 0xef, 0xf4), { mode: 'long' });
  const r = m.run(100);
  assert.deepEqual(r, { reason: 'exit', exitCode: 7, exitHow: 'isa-debug-exit' });
  assert.equal(m.cpu.icount, 3);
  assert.equal(m.cpu.halted, false);
  // mov dx,0x604 / mov ax,0x2000 / out dx,ax   (32-bit)
  const p = boot(Uint8Array.of(0x66, 0xba, 0x04, 0x06, 0x66, 0xb8, 0x00, 0x20, 0x66, 0xef, 0xf4), { mode: 'protected' });
  assert.deepEqual(p.run(100), { reason: 'exit', exitCode: 0, exitHow: 'ACPI power-off' });
});

// ---- guests assembled with nasm --------------------------------------------------------------

test('machine: COM1 output streams to the sink; nothing runs after isa-debug-exit', (t) => {
  if (!needNasm(t)) return;
  const streamed: number[] = [];
  const m = boot(nasm(HELLO64).bytes, { mode: 'long' }, (b) => streamed.push(b));
  const r = m.run(1000);
  assert.equal(r.reason, 'exit');
  assert.equal(r.exitCode, 0x21);
  assert.equal(text(m), 'hi\n');
  assert.deepEqual(streamed, [0x68, 0x69, 0x0a]);
});

test('machine: LAPIC periodic timer in xAPIC mode wakes HLT at exact, repeatable instruction counts', (t) => {
  if (!needNasm(t)) return;
  const bytes = nasm(apicTimer64(5000)).bytes;
  const once = (): { stamps: number[]; icount: number; serial: string } => {
    const m = boot(bytes, { mode: 'long' });
    const r = m.run(1_000_000);
    assert.equal(r.reason, 'exit', JSON.stringify(r));
    assert.equal(r.exitCode, 1);
    const raw = m.mem.readBytes(0x3000, 20);
    const stamps = [0, 1, 2, 3, 4].map((i) => Buffer.from(raw).readUInt32LE(i * 4));
    return { stamps, icount: m.cpu.icount, serial: text(m) };
  };
  const a = once();
  const b = once();
  assert.equal(a.serial, '5\n');
  assert.deepEqual(a, b); // deterministic: same interrupts at the same counts
  for (let i = 1; i < 5; i++) assert.equal(a.stamps[i] - a.stamps[i - 1], 5000, `interval ${i}`);
});

test('machine: LAPIC timer in x2APIC mode through the MSRs (IA32_APIC_BASE, 0x80F, 0x832, 0x838, EOI 0x80B)', (t) => {
  if (!needNasm(t)) return;
  const m = boot(nasm(apicTimer64(3000, true)).bytes, { mode: 'long' });
  const r = m.run(1_000_000);
  assert.equal(r.reason, 'exit', JSON.stringify(r));
  assert.equal(text(m), '5\n');
  assert.equal(m.lapic.x2apic, true);
  const raw = Buffer.from(m.mem.readBytes(0x3000, 20));
  for (let i = 1; i < 5; i++) assert.equal(raw.readUInt32LE(4 * i) - raw.readUInt32LE(4 * i - 4), 3000);
});

test('machine: PIT mode 2 through the 8259 in real mode (IVT), CMOS year, ACPI power-off', (t) => {
  if (!needNasm(t)) return;
  const bytes = nasm(pitReal(100)).bytes;
  const runOnce = (): { serial: string; stamps: number[]; icount: number } => {
    const m = boot(bytes, { mode: 'real' });
    const r = m.run(1_000_000);
    assert.equal(r.reason, 'exit', JSON.stringify(r));
    assert.equal(r.exitCode, 0);
    const raw = Buffer.from(m.mem.readBytes(0x600, 12));
    return { serial: text(m), stamps: [0, 1, 2].map((i) => raw.readUInt32LE(4 * i)), icount: m.cpu.icount };
  };
  const a = runOnce();
  assert.equal(a.serial, 'T3 26\n');
  assert.deepEqual(runOnce(), a);
  for (let i = 1; i < 3; i++) assert.equal(a.stamps[i] - a.stamps[i - 1], 100 * PIT_TICKS_PER_CLOCK);
});

test('machine: periodic LAPIC timer while the guest spins (no HLT): exact intervals once armed', (t) => {
  if (!needNasm(t)) return;
  // The timer is armed by a store in the middle of a run slice; the machine sees it at the
  // end of the slice at the latest (maxSlice instructions), after which every deadline is
  // known in advance and taken at its exact instruction.
  const m = boot(nasm(apicTimer64(20000, false, true)).bytes, { mode: 'long' });
  const r = m.run(1_000_000);
  assert.equal(r.reason, 'exit', JSON.stringify(r));
  assert.equal(text(m), '5\n');
  assert.equal(m.idleTicks, 0);
  const raw = Buffer.from(m.mem.readBytes(0x3000, 20));
  assert.ok(raw.readUInt32LE(0) < 20000 + 10000 + 100, `first interrupt at ${raw.readUInt32LE(0)}`);
  for (let i = 2; i < 5; i++) assert.equal(raw.readUInt32LE(4 * i) - raw.readUInt32LE(4 * i - 4), 20000);
});
