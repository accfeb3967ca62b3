/**
 * CR8 and the local APIC's task-priority register (SDM vol. 3A §10.8.6.1): CR8[3:0] = TPR[7:4];
 * MOV to CR8 writes TPR[7:4] and clears TPR[3:0]; a bare processor keeps CR8 to itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../../src/vmm/machine';
import { applyBootPlan, loadImage } from '../../src/vmm/loaders';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode } from '../../src/x86/modes';

const TPR = 0xfee00080;

function boot(bytes: number[]): Machine {
  const m = new Machine({ memorySize: 16 << 20 });
  applyBootPlan(m.cpu, loadImage(m.mem, Uint8Array.from(bytes), { format: 'flat', mode: 'long' }));
  return m;
}

const MOV_CR8_RAX = [0x44, 0x0f, 0x22, 0xc0]; // mov cr8, rax
const MOV_RAX_CR8 = [0x44, 0x0f, 0x20, 0xc0]; // mov rax, cr8
const movEax = (v: number) => [0xb8, v & 0xff, (v >>> 8) & 0xff, 0, 0];
const HLT = 0xf4;

test('MOV to CR8 sets the APIC TPR[7:4] and clears TPR[3:0]', () => {
  const m = boot([...movEax(5), ...MOV_CR8_RAX, HLT]);
  m.lapic.mmioWrite(TPR, 4, 0x2c);
  assert.equal(m.run(100).reason, 'hlt');
  assert.equal(m.lapic.mmioRead(TPR, 4), 0x50);
  assert.equal(m.cpu.cr8, 5);
});

test('MOV from CR8 reads TPR[7:4] written through the APIC', () => {
  const m = boot([...MOV_RAX_CR8, HLT]);
  m.lapic.mmioWrite(TPR, 4, 0x37);
  assert.equal(m.run(100).reason, 'hlt');
  assert.equal(Number(m.cpu.getReg64(0)), 3);
  assert.equal(m.lapic.mmioRead(TPR, 4), 0x37, 'reading CR8 leaves TPR[3:0]');
});

test('writing the same class through CR8 still clears TPR[3:0]', () => {
  const m = boot([...movEax(2), ...MOV_CR8_RAX, HLT]);
  m.lapic.mmioWrite(TPR, 4, 0x25);
  assert.equal(m.run(100).reason, 'hlt');
  assert.equal(m.lapic.mmioRead(TPR, 4), 0x20);
});

test('CR8 masks interrupts of its class and below; lowering it unmasks (eventPending)', () => {
  // mov eax, 4 / mov cr8, rax / hlt / xor eax, eax / mov cr8, rax / hlt
  const m = boot([...movEax(4), ...MOV_CR8_RAX, HLT, 0x31, 0xc0, ...MOV_CR8_RAX, HLT]);
  m.lapic.accept(0x45);
  assert.equal(m.run(100).reason, 'hlt');
  assert.equal(m.pendingVector(), -1, 'class 4 masked by CR8 = 4');
  m.cpu.halted = false;
  m.cpu.eventPending = false;
  m.cpu.run(m.cpu.icount + 2); // xor; mov cr8 (IF = 0: the interrupt stays pending)
  assert.equal(m.cpu.eventPending, true);
  assert.equal(m.pendingVector(), 0x45);
  assert.equal(m.lapic.mmioRead(TPR, 4), 0);
});

test('a bare processor (no platform) keeps CR8 to itself', () => {
  const mem = new PhysicalMemory(1 << 20);
  const c = new Cpu(mem);
  enterMode(c, 'long');
  [...movEax(9), ...MOV_CR8_RAX, 0x31, 0xc0, ...MOV_RAX_CR8, HLT].forEach((b, i) => mem.write8(0x1000 + i, b));
  c.setRip(0x1000);
  assert.equal(c.run(100).reason, 'hlt');
  assert.equal(c.cr8, 9);
  assert.equal(Number(c.getReg64(0)), 9);
});
