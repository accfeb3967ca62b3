/**
 * Event exits end to end through the real VM entry and exit (harness.ts: VMLAUNCH/VMRESUME,
 * performVmExit): exception bitmap and re-injection, external-interrupt exiting with
 * acknowledge, the interrupt window then injection (the VMM's pattern), MTF stepping, the
 * preemption timer with "save" and NMI exiting / NMI window, triple fault (SDM vol. 3C §25.2,
 * §25.5, §26.6, §27.2).
 */
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { raiseNmi } from '../../src/x86/eventBoundary';
import { raiseInit, raiseSipi } from '../../src/vmx/eventExits';
import { handlerAddress } from '../../src/cli/benchVmxGuestTables';
import { vmx, LAYOUT, INTR } from './harness';
import { FakePic, info } from './eventKit';

const G = LAYOUT.GUEST_CODE;

/** engine.ts calls vmEntry.ts's enterGuest (skipped while the lead has not wired it yet). */
const WIRED = (() => {
  try {
    vmx({ code: [0xf4] }).launch(10);
    return true;
  } catch (e) {
    return !String(e).includes('not written yet');
  }
})();
const test = (name: string, fn: () => void) => nodeTest(name, { skip: WIRED ? false : 'VM entry not wired into engine.ts yet' }, fn);
const NOPS = [0x90, 0x90, 0x90, 0x90, 0x90, 0xf4];

test('end to end: #UD exits by the bitmap; the VMM re-injects it and the guest handler runs', () => {
  const h = vmx({ code: [0x90, 0x0f, 0x0b], fields: { EXCEPTION_BITMAP: 1 << 6 } });
  const r = h.launch();
  assert.equal(r.exit?.basic, 0);
  assert.equal(r.exit?.intrInfo, info(6, 3));
  assert.equal(r.exit?.guestRip, BigInt(G + 1));
  h.write('EXCEPTION_BITMAP', 0);
  h.inject(INTR.HardwareException, 6);
  const r2 = h.resume();
  assert.equal(r2.result?.reason, 'hlt');
  assert.equal(h.reg('rax') & 0xffn, 6n, 'the #UD handler stub ran');
});

test('end to end: injected INT3 (type 6, length 1) pushes the address after the instruction', () => {
  const h = vmx({ code: [0xcc, 0x90, 0xf4] });
  h.inject(INTR.SoftwareException, 3, { length: 1 });
  const r = h.launch();
  assert.equal(r.result?.reason, 'hlt');
  assert.equal(h.reg('rax') & 0xffn, 3n);
  assert.equal(Number(h.cpu.getRip()), handlerAddress(3) + 6);
});

test('end to end: external-interrupt exiting with acknowledge on exit records the vector', () => {
  const h = vmx({ code: NOPS, controls: { pin: ['EXTERNAL_INTERRUPT_EXITING'], exit: ['ACKNOWLEDGE_INTERRUPT_ON_EXIT'] } });
  const pic = new FakePic(0x61);
  h.cpu.intr = pic;
  const r = h.launch();
  assert.equal(r.exit?.basic, 1);
  assert.equal(r.exit?.intrInfo, info(0x61, 0));
  assert.equal(r.exit?.guestRip, BigInt(G));
  assert.deepEqual(pic.acked, [0x61]);
});

test('end to end: interrupt window after STI, then the VMM injects the interrupt', () => {
  const h = vmx({ code: [0xfb, 0x90, 0x90, 0xf4], controls: { proc: ['INTERRUPT_WINDOW_EXITING'] } });
  const r = h.launch();
  assert.equal(r.exit?.basic, 7);
  assert.equal(r.exit?.guestRip, BigInt(G + 2), 'after the instruction in the STI shadow');
  h.write('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', h.read('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS') & ~(1n << 2n));
  h.inject(INTR.External, 0x30);
  const r2 = h.resume();
  assert.equal(r2.result?.reason, 'hlt');
  assert.equal(h.reg('rax') & 0xffn, 0x30n);
});

test('end to end: MTF steps one instruction per VM entry', () => {
  const h = vmx({ code: [0x90, 0x48, 0xff, 0xc0, 0x90, 0xf4], controls: { proc: ['MONITOR_TRAP_FLAG'] } });
  const rips: number[] = [];
  let r = h.launch();
  rips.push(Number(r.exit!.guestRip) - G);
  for (let i = 0; i < 2; i++) {
    r = h.resume();
    assert.equal(r.exit?.basic, 37);
    rips.push(Number(r.exit!.guestRip) - G);
  }
  assert.deepEqual(rips, [1, 4, 5]);
  assert.equal(h.reg('rax'), 1n);
});

test('end to end: preemption timer 3 with "save": exit 52 after three instructions, value saved 0', () => {
  const h = vmx({
    code: NOPS,
    controls: { pin: ['ACTIVATE_VMX_PREEMPTION_TIMER'], exit: ['SAVE_VMX_PREEMPTION_TIMER_VALUE'] },
    fields: { VMX_PREEMPTION_TIMER_VALUE: 3 },
  });
  const r = h.launch();
  assert.equal(r.exit?.basic, 52);
  assert.equal(r.exit?.guestRip, BigInt(G + 3));
  assert.equal(h.read('VMX_PREEMPTION_TIMER_VALUE'), 0n);
  assert.equal(h.read('GUEST_ACTIVITY_STATE'), 0n);
});

test('end to end: NMI exiting, then the NMI window with virtual NMIs after injecting the NMI', () => {
  const h = vmx({ code: NOPS, controls: { pin: ['NMI_EXITING', 'VIRTUAL_NMIS'] } });
  raiseNmi(h.cpu);
  const r = h.launch();
  assert.equal(r.exit?.basic, 0);
  assert.equal(r.exit?.intrInfo, info(2, 2));
  // The VMM injects a virtual NMI and asks for the NMI window: the guest's handler (HLT, no
  // IRET) keeps virtual-NMI blocking, so no window exit comes; blocking is saved in bit 3.
  h.inject(INTR.Nmi, 2);
  h.write('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', h.read('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS') | (1n << 22n));
  const r2 = h.resume();
  assert.equal(r2.result?.reason, 'hlt');
  assert.equal(h.reg('rax') & 0xffn, 2n);
  assert.equal(h.cpu.nmiBlocked, true, 'virtual-NMI blocking');
});

test('end to end: an exception with the IDT limit 0 ends in a triple-fault exit', () => {
  const h = vmx({ code: [0x0f, 0x0b], fields: { GUEST_IDTR_LIMIT: 0 } });
  const r = h.launch();
  assert.equal(r.exit?.basic, 2);
  assert.equal(r.exit?.guestRip, BigInt(G));
  assert.equal(r.exit?.idtInfo, 0);
  assert.equal(h.cpu.inShutdown, false);
});

test('end to end: HLT activity with external-interrupt exiting: the exit saves activity HLT', () => {
  const h = vmx({ code: [0xf4, 0x90], controls: { pin: ['EXTERNAL_INTERRUPT_EXITING'], exit: ['ACKNOWLEDGE_INTERRUPT_ON_EXIT'] } });
  const pic = new FakePic();
  h.cpu.intr = pic;
  const r = h.launch();
  assert.equal(r.result?.reason, 'hlt');
  pic.vector = 0x70;
  h.cpu.eventPending = true;
  const r2 = h.run(1000);
  assert.equal(r2.reason, 'vmexit');
  assert.equal(h.read('GUEST_ACTIVITY_STATE'), 1n);
  assert.equal(h.read32f('VM_EXIT_INTERRUPTION_INFORMATION'), info(0x70, 0));
  assert.equal(h.read('GUEST_RIP'), BigInt(G + 1));
});

test('end to end: an EPT violation while reading the guest IDT records the #UD as IDT vectoring', () => {
  const h = vmx({ code: [0x0f, 0x0b], ept: true, fields: { GUEST_IDTR_BASE: 0x30000000 } });
  const r = h.launch();
  assert.equal(r.exit?.basic, 48);
  assert.equal(r.exit?.idtInfo, info(6, 3));
  assert.equal(r.exit?.guestPhysical, BigInt(0x30000000 + 6 * 16));
  assert.equal(r.exit?.guestRip, BigInt(G));
});

test('end to end: an EPT violation while delivering INT n records type 4 and the instruction length', () => {
  const h = vmx({ code: [0x90, 0xcd, 0x41], ept: true, fields: { GUEST_IDTR_BASE: 0x30000000 } });
  const r = h.launch();
  assert.equal(r.exit?.basic, 48);
  assert.equal(r.exit?.idtInfo, info(0x41, 4));
  assert.equal(r.exit?.insnLength, 2);
  assert.equal(r.exit?.guestRip, BigInt(G + 1));
});

/** Every exit-information field of an event exit that reports only a reason (and qualification). */
function plainExit(e: NonNullable<ReturnType<ReturnType<typeof vmx>['exitInfo']>>, basic: number, qual: bigint, rip: number): void {
  assert.equal(e.reason, basic, 'exit reason (bit 31 clear)');
  assert.equal(e.entryFailure, false);
  assert.equal(e.qualification, qual);
  assert.equal(e.intrInfo, 0, 'no VM-exit interruption information');
  assert.equal(e.idtInfo, 0, 'not during event delivery');
  assert.equal(e.guestRip, BigInt(rip));
}

test('end to end: INIT exits (3) with every other information field clear', () => {
  const h = vmx({ code: NOPS });
  raiseInit(h.engine);
  const r = h.launch();
  plainExit(r.exit!, 3, 0n, G);
  assert.equal(h.read('GUEST_ACTIVITY_STATE'), 0n);
});

test('end to end: a guest entered in wait-for-SIPI exits on SIPI (4) with the vector as qualification', () => {
  const h = vmx({ code: NOPS, fields: { GUEST_ACTIVITY_STATE: 3 } });
  const r = h.launch();
  assert.equal(r.result?.reason, 'hlt');
  raiseSipi(h.engine, 0x12);
  const r2 = h.run(100);
  assert.equal(r2.reason, 'vmexit');
  plainExit(h.exitInfo(), 4, 0x12n, G);
  assert.equal(h.read('GUEST_ACTIVITY_STATE'), 3n);
});

test('end to end: NMI window (8) at entry with virtual NMIs and no blocking', () => {
  const h = vmx({ code: NOPS, controls: { pin: ['NMI_EXITING', 'VIRTUAL_NMIS'], proc: ['NMI_WINDOW_EXITING'] } });
  const r = h.launch();
  plainExit(r.exit!, 8, 0n, G);
});

test('end to end: NMI window held by virtual-NMI blocking (interruptibility bit 3) until IRET', () => {
  // iretq to G+0x40 where NOPs follow: frame RIP, CS 0x08, RFLAGS 2, RSP, SS 0x10.
  const h = vmx({ code: [0x90, 0x48, 0xcf], controls: { pin: ['NMI_EXITING', 'VIRTUAL_NMIS'], proc: ['NMI_WINDOW_EXITING'] }, fields: { GUEST_INTERRUPTIBILITY_STATE: 8 } });
  const sp = LAYOUT.GUEST_STACK - 0x100;
  const frame = [G + 0x40, 0x08, 0x2, LAYOUT.GUEST_STACK - 0x20, 0x10];
  frame.forEach((v, i) => { h.load(sp + i * 8, [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff, 0, 0, 0, 0]); });
  h.load(G + 0x40, NOPS);
  h.write('GUEST_RSP', sp);
  const r = h.launch();
  plainExit(r.exit!, 8, 0n, G + 0x40);
});
