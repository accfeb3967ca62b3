/**
 * Debugging a guest hypervisor (issue 10, "Debugging a hypervisor"): the debug engine in bare
 * VT-x mode (`hypervisor: "none"`) on test/guests/byoh.asm. Exit filters stop on the exits of
 * the guest's own VMCS after the exit is performed — host state loaded, RIP = HOST_RIP, before
 * the handler's first instruction (SDM vol. 3C §27.5) — the `vm_entry` filter on its VMLAUNCH
 * and VMRESUME (§30.3, §26.1-26.8), and inspection shows the VMCS its VMPTRLD made current.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Session } from './engineHarness';
import { checkLaunchConfig, type StopInfo } from '../../src/debugger/engine';
import { guestReg } from '../../src/debugger/engine/guestState';
import { inspector } from '../../src/debugger/inspect';
import type { VarNode } from '../../src/debugger/model';
import type { EptFlatReport, EptTreeReport, ExitsReport, VmcsReport } from '../../src/debugger/inspect/reports';

const BYOH = join(__dirname, '..', 'guests', 'byoh.asm');
const VMCS = 0x14000;
const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

function bare(extra: Record<string, unknown> = {}): Session {
  return new Session({ program: BYOH, hypervisor: 'none', ...extra });
}

function sym(s: Session, name: string): number {
  const a = s.engine.info.symbols.lookup(name);
  assert.ok(a !== undefined, name);
  return a;
}

function vmcs(s: Session): VmcsReport {
  return inspector.vmcsReport(s.engine.target()) as VmcsReport;
}

function field(r: VmcsReport, name: string): { value: string; changed: boolean } {
  const f = r.fields.find((x) => x.name === name);
  assert.ok(f !== undefined, name);
  return f;
}

/** The serial output of a run without stops (the reference the debugged runs must equal). */
async function plainSerial(): Promise<string> {
  const s = bare();
  s.engine.start();
  const e = await s.end();
  assert.equal(e.reason, 'exit', e.description);
  return s.serial();
}

test('launch configuration: hypervisor "none" is accepted; intercept belongs to the built-in hypervisor; vm_entry needs bare mode', () => {
  const c = checkLaunchConfig({ program: 'g.asm', hypervisor: 'none', exitBreakpoints: ['cpuid', { filter: 'vm_entry', condition: 'failed' }] });
  assert.equal(c.guest.hypervisor, 'none');
  assert.equal(c.guest.interception, undefined);
  assert.deepEqual(c.exitBreakpoints.map((e) => e.filter), ['cpuid', 'vm_entry']);
  assert.throws(() => checkLaunchConfig({ program: 'g.asm', hypervisor: 'none', intercept: { hlt: true } }), /'intercept' belongs to the built-in hypervisor/);
  assert.throws(() => checkLaunchConfig({ program: 'g.asm', exitBreakpoints: ['vm_entry'] }), /'vm_entry'.*needs "hypervisor": "none"/);
  assert.throws(() => bare({ exitBreakpoints: [{ filter: 'vm_entry', condition: 'lef' }] }), /exitBreakpoints\[0\].*unknown name 'lef'/);
});

test('an exit filter with a condition stops on the nested guest\'s CPUID exit at HOST_RIP, before the handler; the stop names both levels; two frames', async () => {
  const reference = await plainSerial();
  const probe = bare();
  const handler = sym(probe, 'exit_handler');
  const cpuidAt = sym(probe, 'l2_entry') + 2; // xor eax, eax (2 bytes), then CPUID
  const s2 = bare({ exitBreakpoints: [{ filter: 'cpuid', condition: `leaf == 0 && rip == ${hex(cpuidAt)}` }] });
  s2.engine.start();
  const st = await s2.stop();
  assert.equal(st.reason, 'exception');
  assert.equal(st.filter, 'cpuid');
  assert.equal(st.text, 'CPUID');
  assert.equal(st.description, `VM exit of the guest hypervisor's VMCS at ${hex(VMCS)}: CPUID, L2 RIP=${hex(cpuidAt)} — CPUID leaf 0x0 subleaf 0x4`);
  // The exit is complete (§27.5): the processor runs the guest hypervisor (root operation) at HOST_RIP.
  const m = s2.engine.m;
  assert.equal(m.cpu.nonRoot, false);
  assert.equal(guestReg(m, 'rip'), BigInt(handler));
  const frames = s2.engine.stackFrames();
  assert.deepEqual(frames.map((f) => [f.pc, f.name]), [[handler, 'L1 handler exit_handler'], [cpuidAt, 'L2 guest l2_entry+0x2 (VM exit: CPUID)']]);
  assert.equal(frames[1].source?.line, 532);
  // Registers are the guest hypervisor's: RIP at its handler.
  const regs = inspector.scopes(s2.engine.target())[0].variables();
  assert.equal(BigInt(regs.find((v) => v.name === 'RIP')!.value), BigInt(handler));
  // Step into the L1 handler: its first instruction runs (mov edi, EXIT_REASON: 5 bytes).
  s2.engine.stepInstruction();
  const step = await s2.stop();
  assert.equal(step.reason, 'step');
  assert.equal(guestReg(m, 'rip'), BigInt(handler + 5));
  assert.equal(guestReg(m, 'rdi'), 0x4402n);
  assert.deepEqual(s2.engine.stackFrames().map((f) => f.name), ['exit_handler+0x5']);
  // Continue: the condition holds only once; the guest runs to its end as without the debugger.
  s2.engine.continue();
  assert.equal((await s2.end()).reason, 'exit');
  assert.equal(s2.serial(), reference);
});

test('a condition that does not hold never stops (leaf 1: the nested guest asks leaf 0 only; L1\'s own CPUID does not exit)', async () => {
  const s = bare({ exitBreakpoints: [{ filter: 'cpuid', condition: 'leaf == 1' }] });
  s.engine.start();
  assert.equal((await s.end()).reason, 'exit');
  assert.equal(s.engine.exitCounts().CPUID, 1);
});

test('vtx/vmcs shows the current VMCS (VMPTRLD) and marks the fields the guest wrote since the previous exit, not the processor\'s', async () => {
  const s = bare({ stopOnEntry: true, exitBreakpoints: ['cpuid', 'io_instruction', 'ept_violation', 'hlt'] });
  s.engine.start();
  await s.stop();
  const none = vmcs(s);
  assert.deepEqual(none.fields, []);
  assert.match(none.note!, /no current VMCS/);
  s.engine.continue();
  await s.stop(); // CPUID
  let r = vmcs(s);
  assert.equal(r.vmcs, hex(VMCS));
  assert.equal(r.inside, false);
  assert.match(r.note!, /current VMCS at 0x14000 \(VMPTRLD/);
  const l2 = sym(s, 'l2_entry');
  assert.equal(field(r, 'EXIT_REASON').value, '0x0000000a');
  assert.equal(BigInt(field(r, 'GUEST_RIP').value), BigInt(l2 + 2));
  assert.equal(BigInt(field(r, 'HOST_RIP').value), BigInt(sym(s, 'exit_handler')));
  // The first exit: no earlier exit to compare with, nothing marked.
  assert.equal(r.fields.filter((f) => f.changed).length, 0);
  s.engine.continue();
  await s.stop(); // OUT 0x80
  r = vmcs(s);
  // The handler of the CPUID exit wrote GUEST_RIP (VMWRITE, RIP + instruction length) ...
  assert.equal(field(r, 'GUEST_RIP').changed, true);
  // ... while EXIT_REASON and EXIT_QUALIFICATION changed only by the processor's exit (§27.2): not marked.
  assert.equal(field(r, 'EXIT_REASON').value, '0x0000001e');
  assert.equal(field(r, 'EXIT_REASON').changed, false);
  assert.equal(field(r, 'EXIT_QUALIFICATION').changed, false);
  assert.deepEqual(r.fields.filter((f) => f.changed).map((f) => f.name), ['GUEST_RIP']);
  // The variables view and `vmcs.NAME` read the same VMCS.
  const ev = inspector.evaluate(s.engine.target(), 'vmcs.EXIT_QUALIFICATION', 'watch');
  assert.equal(BigInt(ev.result), 0x800040n);
  // The EPT panel: the EPT the current VMCS points to; after the violation's handler mapped 0x800000, it is there.
  const tree = inspector.eptReport(s.engine.target(), 'tree') as EptTreeReport;
  assert.equal(tree.eptEnabled, true);
  assert.equal(tree.eptp, '0x1801e');
  s.engine.continue();
  await s.stop(); // EPT violation
  s.engine.continue();
  await s.stop(); // HLT
  const flat = inspector.eptReport(s.engine.target(), 'flat') as EptFlatReport;
  assert.ok(flat.mappings.some((x) => BigInt(x.gpaStart) <= 0x800000n && BigInt(x.gpaEnd) > 0x800000n), JSON.stringify(flat.mappings));
  // The handler's INVEPT/EPT write: the PDE it wrote is the guest's memory, not a VMCS field (nothing else marked).
  assert.deepEqual(vmcs(s).fields.filter((f) => f.changed).map((f) => f.name), []);
});

test('vm_entry: VMLAUNCH that enters stops at the nested guest\'s first instruction; hit conditions count entries', async () => {
  const s = bare({ exitBreakpoints: [{ filter: 'vm_entry', condition: 'launch && entered' }, { filter: 'vm_entry', condition: 'resume && entered', hitCondition: '2' }] });
  s.engine.start();
  const l2 = sym(s, 'l2_entry');
  let st = await s.stop();
  assert.equal(st.filter, 'vm_entry');
  assert.equal(st.text, 'VM entry');
  assert.equal(st.description, `VMLAUNCH of the VMCS at ${hex(VMCS)} entered the L2 guest at RIP=${hex(l2)}`);
  assert.equal(st.entry?.fields.vmcs, BigInt(VMCS));
  assert.equal(s.engine.m.cpu.nonRoot, true);
  assert.equal(guestReg(s.engine.m, 'rip'), BigInt(l2));
  assert.equal(vmcs(s).inside, true);
  s.engine.continue();
  // The second VMRESUME that entered: after the OUT exit's handler, L2 continues at mov ecx, 0x3a (l2_entry + 8).
  st = await s.stop();
  assert.equal(st.description, `VMRESUME of the VMCS at ${hex(VMCS)} entered the L2 guest at RIP=${hex(l2 + 8)}`);
  assert.equal(guestReg(s.engine.m, 'rip'), BigInt(l2 + 8));
  s.engine.continue();
  assert.equal((await s.end()).reason, 'exit');
});

test('vm_entry: failing entries stop with the failing check named (VMfailValid 7/8 and the launch-state rules, exits on entry 33/34)', async () => {
  const s = bare({ exitBreakpoints: [{ filter: 'vm_entry', condition: 'failed' }] });
  s.engine.start();
  const stops: StopInfo[] = [];
  for (;;) {
    const e = await s.next();
    if (e.kind === 'ended') break;
    stops.push(e.s);
    // Every view answers at every stop, with and without a current VMCS (the guest is untrusted input).
    const t = s.engine.target();
    const expand = (nodes: VarNode[], depth: number): void => {
      for (const n of nodes) if (n.children !== undefined && depth > 0) expand(n.children(), depth - 1);
    };
    for (const sc of inspector.scopes(t)) expand(sc.variables(), 2);
    inspector.eptReport(t, 'tree');
    inspector.eptReport(t, 'flat');
    inspector.exitsReport(t);
    if (e.s.entry?.fields.invalid === true) assert.deepEqual(vmcs(s).fields, []);
    s.engine.continue();
  }
  assert.deepEqual(stops.map((x) => x.description), [
    'VM entry failed: VMfailValid(7) — 26.2.1.1 pin-based controls: reserved bits (VMRESUME)',
    'VM entry failed: VMfailValid(8) — 26.2.2 host CR4 fixed bits (VMRESUME)',
    'VM entry failed: VMfailValid(8) — 26.2.3 host TR selector is 0 (VMRESUME)',
    'VM entry failed: VMfailValid(8) — 26.2.4 host address-space size 0 in IA-32e mode (VMRESUME)',
    'VM entry failed: exit reason 0x80000021 (INVALID_GUEST_STATE) — 26.3.1.4 guest RFLAGS reserved bits (VMRESUME)',
    'VM entry failed: exit reason 0x80000022 (MSR_LOADING) — 26.4 VM-entry MSR-load area entry 1 (VMRESUME)',
    'VM entry failed: VMfailValid(4) — VMLAUNCH with non-clear VMCS (VMLAUNCH)',
    'VM entry failed: VMfailInvalid (no current VMCS) — 30.2 the current-VMCS pointer is not valid (VMLAUNCH)',
    'VM entry failed: VMfailValid(5) — VMRESUME with non-launched VMCS (VMRESUME)',
  ]);
  assert.ok(stops.every((x) => x.filter === 'vm_entry' && x.text === 'VM entry failed' && x.entry?.entryFailure === true));
});

test('vm_entry conditions pick one failure (error 8); a failure with an exit shows the L1 handler and the L2 context', async () => {
  const s = bare({ exitBreakpoints: [{ filter: 'vm_entry', condition: 'failed && error == 8', hitCondition: '2' }, { filter: 'vm_entry', condition: 'reason == 0x80000021' }] });
  s.engine.start();
  let st = await s.stop();
  assert.equal(st.description, 'VM entry failed: VMfailValid(8) — 26.2.3 host TR selector is 0 (VMRESUME)');
  // VMfail: execution goes on after the instruction, in root operation (§30.2), one frame.
  assert.equal(s.engine.m.cpu.nonRoot, false);
  assert.equal(s.engine.stackFrames().length, 1);
  s.engine.continue();
  st = await s.stop();
  assert.match(st.description, /^VM entry failed: exit reason 0x80000021 \(INVALID_GUEST_STATE\) — 26\.3\.1\.4/);
  // A VM-entry failure with an exit loads host state like any exit (§26.8): HOST_RIP, two frames.
  assert.equal(st.exit?.entryFailure, true);
  const frames = s.engine.stackFrames();
  assert.equal(frames.length, 2);
  assert.equal(frames[0].pc, sym(s, 'exit_handler'));
  assert.match(frames[1].name, /^L2 guest .*\(VM-entry failure\)$/);
  s.engine.continue();
  assert.equal((await s.end()).reason, 'exit');
});

test('tracepoints on vm_entry log with {fields} and do not stop', async () => {
  const s = bare({ exitBreakpoints: [{ filter: 'vm_entry', condition: 'failed && error == 7', logMessage: 'entry failed: {check}, error {error}' }] });
  s.engine.start();
  assert.equal((await s.end()).reason, 'exit');
  assert.match(s.console(), /^entry failed: 26\.2\.1\.1 pin-based controls: reserved bits, error 0x7$/m);
});

test('stepping the nested guest across its VM exit ends at HOST_RIP before the handler, shown as a stop on that exit', async () => {
  const s = bare({ exitBreakpoints: [{ filter: 'vm_entry', condition: 'launch' }] });
  s.engine.start();
  await s.stop();
  const l2 = sym(s, 'l2_entry');
  s.engine.stepInstruction(); // xor eax, eax (in L2)
  let st = await s.stop();
  assert.equal(st.description, 'step');
  assert.equal(guestReg(s.engine.m, 'rip'), BigInt(l2 + 2));
  s.engine.stepInstruction(); // CPUID exits (§25.1.2): the step ends where the exit left the processor
  st = await s.stop();
  assert.equal(st.reason, 'step');
  assert.equal(st.description, `step — VM exit of the guest hypervisor's VMCS at ${hex(VMCS)}: CPUID, L2 RIP=${hex(l2 + 2)} — CPUID leaf 0x0 subleaf 0x4`);
  assert.equal(st.exit?.name, 'CPUID');
  assert.equal(s.engine.m.cpu.nonRoot, false);
  assert.deepEqual(s.engine.stackFrames().map((f) => f.pc), [sym(s, 'exit_handler'), l2 + 2]);
  assert.equal((inspector.exitsReport(s.engine.target()) as ExitsReport).stoppedOn?.name, 'CPUID');
  s.engine.stepInstruction(); // the handler's first instruction
  st = await s.stop();
  assert.equal(st.description, 'step');
  assert.equal(guestReg(s.engine.m, 'rip'), BigInt(sym(s, 'exit_handler') + 5));
});

test('restart in bare mode loads a new machine: the filters stop again on the new one, the old machine\'s engine no longer reports', async () => {
  const s = bare({ exitBreakpoints: [{ filter: 'cpuid', condition: 'leaf == 0' }] });
  s.engine.start();
  const first = await s.stop();
  const old = s.engine.m;
  s.engine.restart();
  const again = await s.stop();
  assert.equal(again.description, first.description);
  assert.notEqual(s.engine.m, old);
  assert.equal(old.vmx?.observers.length, 1); // only its GuestVmxStats: the debugger's observer was removed
  assert.equal(s.engine.exitCounts().CPUID, 1);
  s.engine.continue();
  assert.equal((await s.end()).reason, 'exit');
});
