import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session, asmFile, POWEROFF } from './engineHarness';
import { checkLaunchConfig, LaunchError, splitFilterCondition } from '../../src/debugger/engine';
import { parseHitCondition } from '../../src/debugger/engine/hitCondition';
import { SEED_INTERCEPTION } from '../../src/hypervisor/interception';

const CPUIDS = `bits 64
org 0x1000
  mov r12, 5
again:
  mov eax, r12d
  cpuid
  dec r12
  jnz again
${POWEROFF}`;

test('launch configuration: numbers and sizes as text, the interception widened, exit breakpoints checked', () => {
  const c = checkLaunchConfig({ program: 'g.asm', cwd: '/ws', memory: '16M', loadAddress: '0x8000', entry: 0x8000, intercept: { io: ['0x3f8-0x3ff', 0x80], hlt: true, exceptions: [14] }, exitBreakpoints: ['cpuid', { filter: 'hlt', hitCondition: '2' }] });
  assert.equal(c.program, '/ws/g.asm');
  assert.equal(c.source, 'asm');
  assert.equal(c.guest.memorySize, 16 * 1024 * 1024);
  assert.equal(c.guest.loadAddress, 0x8000);
  const i = c.guest.interception!;
  assert.deepEqual(i.io, [...(SEED_INTERCEPTION.io as [number, number][]), [0x3f8, 0x3ff], [0x80, 0x80]]);
  assert.equal(i.hlt, true);
  assert.ok(i.exceptions.includes(14) && i.exceptions.includes(6));
  assert.deepEqual(c.exitBreakpoints.map((e) => e.filter), ['cpuid', 'hlt']);
  assert.throws(() => checkLaunchConfig({ program: 'g.asm', stopOnEntry: 'yes' }), (e: Error) => e instanceof LaunchError && /'stopOnEntry' must be true or false/.test(e.message));
  assert.throws(() => checkLaunchConfig({ program: 'g.asm', intercept: { ports: 'all' } }), /'intercept.ports' is not known/);
  assert.throws(() => checkLaunchConfig({ program: 'g.asm', syntax: 'att' }), /'syntax' must be one of nasm, gas, intel, masm/);
});

test('hit conditions and the exit-filter condition text (@hit, @log)', () => {
  const eq = parseHitCondition('3');
  assert.deepEqual([1, 2, 3, 4].map(eq), [false, false, true, false]);
  assert.deepEqual([1, 2, 3, 4].map(parseHitCondition('>= 3')), [false, false, true, true]);
  assert.deepEqual([1, 2, 3, 4].map(parseHitCondition('% 2')), [false, true, false, true]);
  assert.throws(() => parseHitCondition('sometimes'), /expected a count/);
  assert.deepEqual(splitFilterCondition('cpuid', 'leaf == 1 @hit >= 2 @log leaf {leaf}'), { filter: 'cpuid', condition: 'leaf == 1', hitCondition: '>= 2', logMessage: 'leaf {leaf}' });
  assert.deepEqual(splitFilterCondition('cpuid', '@log {summary}'), { filter: 'cpuid', logMessage: '{summary}' });
});

test('the exit history and counts; the same inputs give the same exits at the same instruction counts', async () => {
  const runOnce = async (): Promise<[number, number, string][]> => {
    const s = new Session({ program: asmFile(CPUIDS), exitBreakpoints: [{ filter: 'io_instruction' }] });
    s.engine.start();
    const stop = await s.stop();
    assert.equal(stop.exit?.id, 'io_instruction');
    const t = s.engine.target();
    assert.equal(t.exitCounts.get('CPUID'), 5);
    assert.equal(t.stoppedExit?.id, 'io_instruction');
    return t.exits.map((r) => [r.seq, r.icount, r.exit.summary]);
  };
  const a = await runOnce();
  const b = await runOnce();
  assert.equal(a.length, 6);
  assert.deepEqual(a, b);
  assert.deepEqual(a.slice(0, 5).map((x) => x[2]), ['CPUID leaf 0x5 subleaf 0x0', 'CPUID leaf 0x4 subleaf 0x0', 'CPUID leaf 0x3 subleaf 0x0', 'CPUID leaf 0x2 subleaf 0x0', 'CPUID leaf 0x1 subleaf 0x0']);
});

test('a tracepoint from launch.json logs each exit in words and the guest runs on', async () => {
  const s = new Session({ program: asmFile(CPUIDS), exitBreakpoints: [{ filter: 'cpuid', condition: 'leaf < 3', logMessage: '{summary} ({name})' }] });
  s.engine.start();
  const end = await s.end();
  assert.equal(end.reason, 'SystemDown');
  assert.equal(s.console(), 'CPUID leaf 0x2 subleaf 0x0 (CPUID)\nCPUID leaf 0x1 subleaf 0x0 (CPUID)\n');
});

test('real mode: breakpoints are linear addresses (CS base + IP) and frames show them', async () => {
  const src = `bits 16
org 0x7c00
  jmp 0x07c0:(there - 0x7c00)
there:
  mov ax, 7
  nop
  hlt`;
  const s = new Session({ program: asmFile(src), stopOnEntry: true });
  s.engine.start();
  await s.stop();
  const there = s.engine.info.symbols.lookup('there')!;
  s.engine.setInstructionBreakpoints([{ address: there }]);
  s.engine.continue();
  const st = await s.stop();
  assert.equal(st.reason, 'instruction breakpoint');
  assert.equal(s.engine.stackFrames()[0].pc, there);
  assert.equal(s.engine.stackFrames()[0].name, 'there');
  // The disassembly at the linear address decodes with the right IP (CS base removed).
  assert.match(s.engine.disassemble(there, 0, 1)[0].text, /mov ax,7/);
});

test('step over a REP string instruction runs all its iterations at once', async () => {
  const src = `bits 64
org 0x1000
  mov ecx, 100
  mov rdi, 0x9000
  xor eax, eax
  rep stosb     
  nop
  hlt`;
  const s = new Session({ program: asmFile(src), stopOnEntry: true });
  s.engine.start();
  await s.stop();
  for (let i = 0; i < 3; i++) {
    s.engine.stepInstruction();
    await s.stop();
  }
  s.engine.next('instruction');
  await s.stop();
  assert.match(s.engine.disassemble(s.engine.stackFrames()[0].pc, 0, 1)[0].text, /nop/);
});

test('a guest that faults without an IDT ends the session with the exception in words, never an internal error', async () => {
  const s = new Session({ program: asmFile('bits 64\norg 0x1000\n  ud2\n') });
  s.engine.start();
  const end = await s.end();
  assert.equal(end.reason, 'exception');
  assert.match(end.description, /#UD.*ud2/i);
  assert.deepEqual(s.out.filter((o) => o.category === 'stderr'), []);
});

test('the instruction limit ends the session with maxInstructions named', async () => {
  const s = new Session({ program: asmFile('bits 64\norg 0x1000\nl: jmp l\n'), maxInstructions: 5000 });
  s.engine.start();
  const end = await s.end();
  assert.equal(end.reason, 'limit');
  assert.match(end.description, /maxInstructions = 5000/);
  assert.equal(s.engine.vmm.cpu.icount, 5000);
});

test('restart loads the program again and keeps the breakpoints, bound again, with their hit counts from zero', async () => {
  const program = asmFile(CPUIDS);
  const s = new Session({ program, stopOnEntry: true });
  s.engine.start();
  await s.stop();
  const line = CPUIDS.split('\n').findIndex((l) => l.includes('cpuid')) + 1;
  const [bp] = s.engine.setSourceBreakpoints(program, [{ line, hitCondition: '2' }]);
  assert.equal(bp.verified, true);
  s.engine.continue();
  assert.equal((await s.stop()).reason, 'breakpoint');
  assert.equal(s.engine.target().exitCounts.get('CPUID'), 1);
  s.engine.restart();
  assert.equal((await s.stop()).reason, 'entry');
  assert.equal(s.engine.vmm.cpu.icount, 0);
  s.engine.continue();
  const again = await s.stop();
  assert.deepEqual(again.hitBreakpointIds, [bp.id]);
  assert.equal(s.engine.target().exitCounts.get('CPUID'), 1);
});

test('an entry failure the person caused (GUEST_RFLAGS written 0) stops on its filter, then ends the session with the failed check', async () => {
  const s = new Session({ program: asmFile(CPUIDS), stopOnEntry: true });
  s.engine.setExitFilters([{ filter: 'invalid_guest_state' }]);
  s.engine.start();
  await s.stop();
  s.engine.vmm.vcpu.v.write('GUEST_RFLAGS', 0);
  s.engine.continue();
  const st = await s.stop();
  assert.equal(st.reason, 'exception');
  assert.equal(st.exit?.id, 'invalid_guest_state');
  assert.match(st.description, /^VM exit: INVALID_GUEST_STATE — /);
  s.engine.continue();
  const end = await s.end();
  assert.equal(end.reason, 'FailEntry');
  assert.match(end.description, /RFLAGS/);
});
