/**
 * Instructions that exit by one VM-execution control (SDM vol. 3C §25.1.3), both settings of
 * the control, and the faults that take priority (§25.1.1) or the #UD rules of §25.3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exit } from '../../src/vmx/exitReasons';
import { CODE, runNonRoot } from './insnExitKit';

const HLT = 0xf4;

interface Case {
  name: string;
  bytes: number[];
  reason: number;
  proc?: string[];
  proc2?: string[];
  qual?: bigint;
  info?: number;
  regs?: Record<string, number | bigint>;
  mode?: 'long' | 'protected' | 'real' | 'compat';
}

const cases: Case[] = [
  { name: 'HLT', bytes: [0xf4], reason: Exit.Hlt, proc: ['HLT_EXITING'] },
  { name: 'INVLPG [rax+10h] (qualification = the linear address)', bytes: [0x0f, 0x01, 0x78, 0x10], reason: Exit.Invlpg, proc: ['INVLPG_EXITING'], regs: { rax: 0x123456789000n }, qual: 0x123456789010n },
  { name: 'INVLPG in 32-bit mode: bits 63:32 clear, segment base added', bytes: [0x0f, 0x01, 0x38], reason: Exit.Invlpg, proc: ['INVLPG_EXITING'], regs: { rax: 0xfffff000 }, qual: 0xfffff000n, mode: 'protected' },
  { name: 'RDPMC', bytes: [0x0f, 0x33], reason: Exit.Rdpmc, proc: ['RDPMC_EXITING'] },
  { name: 'RDTSC', bytes: [0x0f, 0x31], reason: Exit.Rdtsc, proc: ['RDTSC_EXITING'] },
  { name: 'RDTSCP (RDTSC exiting + enable RDTSCP)', bytes: [0x0f, 0x01, 0xf9], reason: Exit.Rdtscp, proc: ['RDTSC_EXITING'], proc2: ['ENABLE_RDTSCP'] },
  { name: 'MONITOR', bytes: [0x0f, 0x01, 0xc8], reason: Exit.Monitor, proc: ['MONITOR_EXITING'], regs: { rax: 0x3000 } },
  { name: 'MWAIT (monitor not armed: qualification 0)', bytes: [0x0f, 0x01, 0xc9], reason: Exit.Mwait, proc: ['MWAIT_EXITING'], qual: 0n },
  { name: 'PAUSE', bytes: [0xf3, 0x90], reason: Exit.Pause, proc: ['PAUSE_EXITING'] },
  { name: 'WBINVD', bytes: [0x0f, 0x09], reason: Exit.Wbinvd, proc2: ['WBINVD_EXITING'] },
  { name: 'RDRAND eax', bytes: [0x0f, 0xc7, 0xf0], reason: Exit.Rdrand, proc2: ['RDRAND_EXITING'], info: (0 << 3) | (1 << 11) },
  { name: 'RDSEED rbx', bytes: [0x48, 0x0f, 0xc7, 0xfb], reason: Exit.Rdseed, proc2: ['RDSEED_EXITING'], info: (3 << 3) | (2 << 11) },
  { name: 'INVPCID rcx, [rax+8] (INVLPG exiting + enable INVPCID)', bytes: [0x66, 0x0f, 0x38, 0x82, 0x48, 0x08], reason: Exit.Invpcid, proc: ['INVLPG_EXITING'], proc2: ['ENABLE_INVPCID'], regs: { rax: 0x3000 }, qual: 8n, info: (2 << 7) | (3 << 15) | (1 << 22) | (0 << 23) | (1 << 28) },
  { name: 'INVPCID with type 9 (the exit precedes the type #GP)', bytes: [0x66, 0x0f, 0x38, 0x82, 0x08], reason: Exit.Invpcid, proc: ['INVLPG_EXITING'], proc2: ['ENABLE_INVPCID'], regs: { rax: 0x3000, rcx: 9 } },
  { name: 'LGDT [rax]', bytes: [0x0f, 0x01, 0x10], reason: Exit.GdtrIdtr, proc2: ['DESCRIPTOR_TABLE_EXITING'], regs: { rax: 0x3000 }, info: (2 << 7) | (1 << 11) | (3 << 15) | (1 << 22) | (2 << 28) },
  { name: 'LIDT [rax+4]', bytes: [0x0f, 0x01, 0x58, 0x04], reason: Exit.GdtrIdtr, proc2: ['DESCRIPTOR_TABLE_EXITING'], regs: { rax: 0x3000 }, qual: 4n, info: (2 << 7) | (1 << 11) | (3 << 15) | (1 << 22) | (3 << 28) },
  { name: 'SGDT [rax]', bytes: [0x0f, 0x01, 0x00], reason: Exit.GdtrIdtr, proc2: ['DESCRIPTOR_TABLE_EXITING'], regs: { rax: 0x3000 }, info: (2 << 7) | (1 << 11) | (3 << 15) | (1 << 22) | (0 << 28) },
  { name: 'SIDT [rax] with a non-canonical operand (exit first)', bytes: [0x0f, 0x01, 0x08], reason: Exit.GdtrIdtr, proc2: ['DESCRIPTOR_TABLE_EXITING'], regs: { rax: 0x8000000000000000n }, info: (2 << 7) | (1 << 11) | (3 << 15) | (1 << 22) | (1 << 28) },
  { name: 'LLDT ax', bytes: [0x0f, 0x00, 0xd0], reason: Exit.LdtrTr, proc2: ['DESCRIPTOR_TABLE_EXITING'], info: (1 << 10) | (2 << 28) },
  { name: 'LTR cx (null selector: the exit precedes #GP)', bytes: [0x0f, 0x00, 0xd9], reason: Exit.LdtrTr, proc2: ['DESCRIPTOR_TABLE_EXITING'], info: (1 << 10) | (1 << 3) | (3 << 28) },
  { name: 'SLDT [rax+2]', bytes: [0x0f, 0x00, 0x40, 0x02], reason: Exit.LdtrTr, proc2: ['DESCRIPTOR_TABLE_EXITING'], regs: { rax: 0x3000 }, qual: 2n, info: (2 << 7) | (3 << 15) | (1 << 22) | (0 << 28) },
  { name: 'STR edx', bytes: [0x0f, 0x00, 0xca], reason: Exit.LdtrTr, proc2: ['DESCRIPTOR_TABLE_EXITING'], info: (1 << 10) | (2 << 3) | (1 << 28) },
];

for (const k of cases) {
  test(`${k.name}: exits with the control set`, () => {
    const r = runNonRoot([0x90, ...k.bytes, HLT], { proc: k.proc, proc2: k.proc2, regs: k.regs, mode: k.mode });
    const e = r.exit();
    assert.equal(e.reason, k.reason);
    assert.equal(e.len, k.bytes.length);
    assert.equal(e.rip, BigInt(CODE + 1));
    if (k.qual !== undefined) assert.equal(e.qual.toString(16), k.qual.toString(16));
    if (k.info !== undefined) assert.equal(e.info.toString(16), (k.info >>> 0).toString(16));
  });
}

// With the control clear the instruction executes (or faults as it would without VMX).
const noExit: Array<[string, number[], Record<string, number | bigint>?]> = [
  ['HLT', [0xf4]],
  ['INVLPG', [0x0f, 0x01, 0x38], { rax: 0x3000 }],
  ['RDTSC', [0x0f, 0x31]],
  ['MONITOR', [0x0f, 0x01, 0xc8], { rax: 0x3000 }],
  ['MWAIT', [0x0f, 0x01, 0xc9]],
  ['PAUSE', [0xf3, 0x90]],
  ['WBINVD', [0x0f, 0x09]],
  ['RDRAND', [0x0f, 0xc7, 0xf0]],
  ['RDSEED', [0x0f, 0xc7, 0xf8]],
  ['LGDT', [0x0f, 0x01, 0x10], { rax: 0x3000 }],
  ['SGDT', [0x0f, 0x01, 0x00], { rax: 0x3000 }],
  ['SLDT', [0x0f, 0x00, 0xc0]],
];
for (const [name, bytes, regs] of noExit) {
  test(`${name}: no exit with its control clear`, () => {
    const r = runNonRoot([...bytes, HLT], { regs, proc: ['ACTIVATE_SECONDARY_CONTROLS'], proc2: ['ENABLE_RDTSCP'] });
    assert.equal(r.exits.length, 0);
    assert.equal(r.fault(), undefined);
    assert.equal(r.result.reason, 'hlt');
  });
}

test('HLT at CPL 3 with HLT exiting: #GP(0), not an exit', () => {
  const r = runNonRoot([0xf4], { proc: ['HLT_EXITING'], cpl: 3 });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('RDPMC at CPL 3 with CR4.PCE = 0: #GP(0) before RDPMC exiting', () => {
  const r = runNonRoot([0x0f, 0x33, HLT], { proc: ['RDPMC_EXITING'], cpl: 3 });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('RDPMC at CPL 3 with CR4.PCE = 1 exits', () => {
  const r = runNonRoot([0x0f, 0x33, HLT], { proc: ['RDPMC_EXITING'], cpl: 3, cr4: 1 << 8 });
  assert.equal(r.exit().reason, Exit.Rdpmc);
});

test('RDPMC without RDPMC exiting: #GP(0) (no counter is modelled)', () => {
  const r = runNonRoot([0x0f, 0x33, HLT]);
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('RDTSCP with "enable RDTSCP" = 0: #UD even with RDTSC exiting', () => {
  const r = runNonRoot([0x0f, 0x01, 0xf9, HLT], { proc: ['RDTSC_EXITING'] });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 6);
});

test('RDTSCP with "enable RDTSCP" = 0 at CPL 3 with CR4.TSD: #UD has priority over #GP', () => {
  const r = runNonRoot([0x0f, 0x01, 0xf9, HLT], { cpl: 3, cr4: 1 << 2 });
  assert.equal(r.fault(), 6);
});

test('RDTSC at CPL 3 with CR4.TSD = 1: #GP(0) before RDTSC exiting', () => {
  const r = runNonRoot([0x0f, 0x31, HLT], { proc: ['RDTSC_EXITING'], cpl: 3, cr4: 1 << 2 });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('INVPCID with "enable INVPCID" = 0: #UD even with INVLPG exiting', () => {
  const r = runNonRoot([0x66, 0x0f, 0x38, 0x82, 0x08, HLT], { proc: ['INVLPG_EXITING', 'ACTIVATE_SECONDARY_CONTROLS'], regs: { rax: 0x3000 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 6);
});

test('INVPCID at CPL 3: #GP(0) before the exit', () => {
  const r = runNonRoot([0x66, 0x0f, 0x38, 0x82, 0x08, HLT], { proc: ['INVLPG_EXITING'], proc2: ['ENABLE_INVPCID'], cpl: 3, regs: { rax: 0x3000 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('INVPCID enabled without INVLPG exiting executes', () => {
  const r = runNonRoot([0x66, 0x0f, 0x38, 0x82, 0x08, HLT], { proc2: ['ENABLE_INVPCID'], regs: { rax: 0x3000, rcx: 2 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.result.reason, 'hlt');
});

test('MWAIT after MONITOR: qualification bit 0 (monitor armed)', () => {
  const r = runNonRoot([0x0f, 0x01, 0xc8, 0x0f, 0x01, 0xc9, HLT], { proc: ['MWAIT_EXITING'], regs: { rax: 0x3000 } });
  const e = r.exit();
  assert.equal(e.reason, Exit.Mwait);
  assert.equal(e.qual, 1n);
  assert.equal(e.rip, BigInt(CODE + 3));
});

test('MONITOR at CPL 3: #UD before MONITOR exiting', () => {
  const r = runNonRoot([0x0f, 0x01, 0xc8, HLT], { proc: ['MONITOR_EXITING'], cpl: 3, regs: { rax: 0x3000 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 6);
});

test('MONITOR with ECX != 0: the exit precedes #GP', () => {
  const r = runNonRoot([0x0f, 0x01, 0xc8, HLT], { proc: ['MONITOR_EXITING'], regs: { rax: 0x3000, rcx: 1 } });
  assert.equal(r.exit().reason, Exit.Monitor);
});

test('LGDT at CPL 3: #GP(0) before descriptor-table exiting', () => {
  const r = runNonRoot([0x0f, 0x01, 0x10, HLT], { proc2: ['DESCRIPTOR_TABLE_EXITING'], cpl: 3, regs: { rax: 0x3000 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('SLDT at CPL 3 exits (no privilege check without UMIP)', () => {
  const r = runNonRoot([0x0f, 0x00, 0xc0, HLT], { proc2: ['DESCRIPTOR_TABLE_EXITING'], cpl: 3 });
  assert.equal(r.exit().reason, Exit.LdtrTr);
});

test('LLDT in real mode: #UD before descriptor-table exiting', () => {
  const r = runNonRoot([0x0f, 0x00, 0xd0, HLT], { mode: 'real', proc2: ['DESCRIPTOR_TABLE_EXITING'] });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 6);
});

test('SGDT in real mode exits: 16-bit address size, operand size 16', () => {
  const r = runNonRoot([0x0f, 0x01, 0x06, 0x00, 0x30, HLT], { mode: 'real', proc2: ['DESCRIPTOR_TABLE_EXITING'] }); // SGDT [3000h]
  const e = r.exit();
  assert.equal(e.reason, Exit.GdtrIdtr);
  assert.equal(e.qual, 0x3000n);
  assert.equal(e.info.toString(16), ((0 << 7) | (0 << 11) | (3 << 15) | (1 << 22) | (1 << 27) | (0 << 28)).toString(16));
});

test('the secondary controls are ignored when not activated (engine.proc2 = 0)', () => {
  const r = runNonRoot([0x0f, 0x09, HLT], { proc: ['HLT_EXITING'] });
  const e = r.exit();
  assert.equal(e.reason, Exit.Hlt, 'WBINVD ran, HLT exited');
  assert.equal(e.rip, BigInt(CODE + 2));
});

test('RDPID with "enable RDTSCP" = 0: #UD (§25.3)', () => {
  const r = runNonRoot([0xf3, 0x0f, 0xc7, 0xf8, HLT]);
  assert.equal(r.fault(), 6);
});

test('RDPID with "enable RDTSCP" = 1 reads IA32_TSC_AUX, no exit even with RDTSC exiting', () => {
  const r = runNonRoot([0xf3, 0x0f, 0xc7, 0xf8, HLT], { proc: ['RDTSC_EXITING'], proc2: ['ENABLE_RDTSCP'], regs: { rax: 5 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.reg('rax'), 0n);
});

test('WBNOINVD (F3 0F 09) exits with WBINVD exiting (reason 54, length 3)', () => {
  const e = runNonRoot([0xf3, 0x0f, 0x09, HLT], { proc2: ['WBINVD_EXITING'] }).exit();
  assert.equal(e.reason, Exit.Wbinvd);
  assert.equal(e.len, 3);
});

test('WBNOINVD without WBINVD exiting executes; at CPL 3 it is #GP(0)', () => {
  assert.equal(runNonRoot([0xf3, 0x0f, 0x09, HLT]).result.reason, 'hlt');
  assert.equal(runNonRoot([0xf3, 0x0f, 0x09, HLT], { proc2: ['WBINVD_EXITING'], cpl: 3 }).fault(), 13);
});
