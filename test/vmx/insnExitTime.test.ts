/**
 * Time in non-root operation (SDM vol. 3C §25.3): TSC offsetting and scaling for RDTSC, RDTSCP
 * and RDMSR(IA32_TIME_STAMP_COUNTER), and PAUSE-loop exiting (§25.1.3) on the deterministic
 * clock (one TSC tick per retired instruction by default).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exit } from '../../src/vmx/exitReasons';
import { setTscAux } from '../../src/x86/insn/system';
import { VM_EXIT } from '../../src/x86/vmxHooks';
import { CODE, decodeOne, runNonRoot } from './insnExitKit';

const HLT = 0xf4;
const NOP = 0x90;
const RDTSC = [0x0f, 0x31];
const RDTSCP = [0x0f, 0x01, 0xf9];
const RDMSR = [0x0f, 0x32];
const PAUSE = [0xf3, 0x90];
const edxEax = (r: ReturnType<typeof runNonRoot>): bigint => ((r.reg('rdx') & 0xffffffffn) << 32n) | (r.reg('rax') & 0xffffffffn);

test('RDTSC without offsetting reads the TSC (3 instructions retired before it)', () => {
  const r = runNonRoot([NOP, NOP, NOP, ...RDTSC, HLT], { fields: { TSC_OFFSET: 1000 } });
  assert.equal(edxEax(r), 3n);
});

test('RDTSC with TSC offsetting adds the offset', () => {
  const r = runNonRoot([NOP, NOP, NOP, ...RDTSC, HLT], { proc: ['USE_TSC_OFFSETTING'], fields: { TSC_OFFSET: 0x100000000n } });
  assert.equal(edxEax(r), 0x100000003n);
});

test('a negative TSC offset wraps modulo 2^64', () => {
  const r = runNonRoot([NOP, ...RDTSC, HLT], { proc: ['USE_TSC_OFFSETTING'], fields: { TSC_OFFSET: -2n } });
  assert.equal(edxEax(r), 0xffffffffffffffffn);
});

test('TSC scaling: (TSC * multiplier) >> 48, then the offset', () => {
  const r = runNonRoot([NOP, NOP, NOP, NOP, ...RDTSC, HLT], {
    proc: ['USE_TSC_OFFSETTING'], proc2: ['USE_TSC_SCALING'],
    fields: { TSC_OFFSET: 10, TSC_MULTIPLIER: 5n << 47n }, // 2.5
  });
  assert.equal(edxEax(r), 10n + 10n);
});

test('TSC scaling without offsetting has no effect (§25.3: both controls)', () => {
  const r = runNonRoot([NOP, NOP, ...RDTSC, HLT], { proc2: ['USE_TSC_SCALING'], fields: { TSC_MULTIPLIER: 3n << 48n } });
  assert.equal(edxEax(r), 2n);
});

test('the TSC as the processor counts it, with tscPerInstruction and a written TSC', () => {
  const r = runNonRoot([NOP, ...RDTSC, HLT], {
    proc: ['USE_TSC_OFFSETTING'], fields: { TSC_OFFSET: 7 },
    before: (cpu) => { cpu.tscPerInstruction = 4; cpu.tscOffset = 0x200000000; },
  });
  assert.equal(edxEax(r), 0x200000000n + 4n + 7n);
});

test('RDTSCP with offsetting: EDX:EAX offset, ECX = IA32_TSC_AUX', () => {
  const r = runNonRoot([NOP, ...RDTSCP, HLT], {
    proc: ['USE_TSC_OFFSETTING'], proc2: ['ENABLE_RDTSCP'], fields: { TSC_OFFSET: 100 },
    before: (cpu) => setTscAux(cpu, 0x42),
  });
  assert.equal(edxEax(r), 101n);
  assert.equal(r.reg('rcx'), 0x42n);
});

test('RDTSCP enabled, no RDTSC exiting: executes', () => {
  const r = runNonRoot([...RDTSCP, HLT], { proc2: ['ENABLE_RDTSCP'] });
  assert.equal(r.exits.length, 0);
  assert.equal(r.result.reason, 'hlt');
});

test('RDMSR of IA32_TIME_STAMP_COUNTER with offsetting and scaling', () => {
  const r = runNonRoot([NOP, NOP, ...RDMSR, HLT], {
    proc: ['USE_MSR_BITMAPS', 'USE_TSC_OFFSETTING'], proc2: ['USE_TSC_SCALING'], regs: { rcx: 0x10 },
    fields: { TSC_OFFSET: 0x10, TSC_MULTIPLIER: 1n << 49n }, // 2.0
  });
  assert.equal(edxEax(r), 4n + 0x10n);
});

test('RDMSR of another MSR is not offset', () => {
  const r = runNonRoot([...RDMSR, HLT], { proc: ['USE_MSR_BITMAPS', 'USE_TSC_OFFSETTING'], regs: { rcx: 0x1b }, fields: { TSC_OFFSET: 0x10 } });
  assert.equal(r.reg('rax') & 0xfffff000n, 0xfee00000n);
});

test('RDTSC in real mode with offsetting (16-bit code)', () => {
  const r = runNonRoot([...RDTSC, HLT], { mode: 'real', proc: ['USE_TSC_OFFSETTING'], fields: { TSC_OFFSET: 0x1234 } });
  assert.equal(edxEax(r), 0x1234n);
});

test('RDTSC exiting: the exit records reason 16, length 2, the RIP', () => {
  const e = runNonRoot([NOP, ...RDTSC, HLT], { proc: ['RDTSC_EXITING', 'USE_TSC_OFFSETTING'] }).exit();
  assert.equal(e.reason, Exit.Rdtsc);
  assert.equal(e.rip, BigInt(CODE + 1));
});

// ---- PAUSE-loop exiting --------------------------------------------------------------------------
test('PAUSE-loop exiting: a loop longer than PLE_Window exits at the first PAUSE past the window', () => {
  // PAUSEs back to back: times 0, 1, 2, ... (gap 1 <= PLE_Gap); the one at time 21 is > 20 after the first.
  const code = [...Array(40).keys()].flatMap(() => PAUSE);
  const r = runNonRoot([...code, HLT], { proc2: ['PAUSE_LOOP_EXITING'], fields: { PLE_GAP: 10, PLE_WINDOW: 20 } });
  const e = r.exit();
  assert.equal(e.reason, Exit.Pause);
  assert.equal(e.rip, BigInt(CODE + 21 * 2));
  assert.equal(e.len, 2);
});

test('PAUSE-loop exiting: a gap larger than PLE_Gap starts a new loop', () => {
  // PAUSE, 12 NOPs, PAUSE, ...: every PAUSE is more than 10 after the previous one: never a loop.
  const unit = [...PAUSE, ...Array(12).fill(NOP)];
  const code = [...Array(8).keys()].flatMap(() => unit);
  const r = runNonRoot([...code, HLT], { proc2: ['PAUSE_LOOP_EXITING'], fields: { PLE_GAP: 10, PLE_WINDOW: 20 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.result.reason, 'hlt');
});

test('PAUSE-loop exiting: PAUSEs within PLE_Gap of each other form one loop even with work between', () => {
  // PAUSE every 4 instructions (gap 4 <= 10): the loop began at 0; first PAUSE after time 20 exits (time 24).
  const unit = [...PAUSE, NOP, NOP, NOP];
  const code = [...Array(10).keys()].flatMap(() => unit);
  const r = runNonRoot([...code, HLT], { proc2: ['PAUSE_LOOP_EXITING'], fields: { PLE_GAP: 10, PLE_WINDOW: 20 } });
  assert.equal(r.exit().rip, BigInt(CODE + 6 * 5));
});

test('PAUSE-loop exiting is ignored at CPL > 0', () => {
  const code = [...Array(40).keys()].flatMap(() => PAUSE);
  const r = runNonRoot([...code, HLT], { proc2: ['PAUSE_LOOP_EXITING'], cpl: 3, fields: { PLE_GAP: 10, PLE_WINDOW: 20 } });
  assert.equal(r.exits.length, 0);
});

test('PAUSE exiting makes every PAUSE exit, also at CPL 3', () => {
  const r = runNonRoot([...PAUSE, HLT], { proc: ['PAUSE_EXITING'], proc2: ['PAUSE_LOOP_EXITING'], cpl: 3 });
  assert.equal(r.exit().reason, Exit.Pause);
});

test('after a PAUSE-loop exit the next PAUSE starts a new loop', () => {
  const code = [...Array(60).keys()].flatMap(() => PAUSE);
  const r = runNonRoot([...code, HLT], { proc2: ['PAUSE_LOOP_EXITING'], fields: { PLE_GAP: 10, PLE_WINDOW: 20 } });
  assert.equal(r.exit().rip, BigInt(CODE + 42));
  // Resume at the exiting PAUSE (as a host would): the loop restarts there.
  const { cpu } = r;
  cpu.nonRoot = true;
  cpu.setRip(CODE + 42);
  cpu.run(cpu.icount + 1000);
  assert.equal(r.exits.length, 2);
  assert.equal(r.exits[1].rip, BigInt(CODE + 42 + 42));
});

test('PAUSE-loop exiting: the first PAUSE after a VM entry starts a new loop (engine.entries)', () => {
  const r = runNonRoot([HLT], { proc2: ['PAUSE_LOOP_EXITING'], fields: { PLE_GAP: 10, PLE_WINDOW: 20 } });
  const { cpu, engine } = r;
  const d = decodeOne(64, PAUSE);
  const hooks = cpu.vmxInsn!;
  const counter = engine as unknown as { entries: number };
  counter.entries = 0;
  cpu.nonRoot = true;
  const at = (t: number): void => { cpu.icount = t; hooks.pause(cpu, d); };
  at(100);
  at(105);
  counter.entries = 1; // a VM exit and a VM entry happened here
  at(110); // first of a new loop
  at(118);
  at(126); // 16 after it: no exit (26 after the old loop's first would have exited)
  assert.equal(r.exits.length, 0);
  try {
    at(131);
  } catch (e) {
    assert.equal(e, VM_EXIT);
  }
  assert.equal(r.exits.length, 1);
  assert.equal(r.exits[0].reason, Exit.Pause);
});
