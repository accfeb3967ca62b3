/**
 * Control- and debug-register accesses in non-root operation: CR-access exits (SDM vol. 3C
 * §25.1.3, qualification table 27-3), the CR0/CR4 guest/host masks and read shadows (§25.3),
 * CR3-target values, CR8 with the TPR shadow and the TPR-below-threshold exit (§29.1-29.3), and
 * MOV-DR exiting (table 27-4) with its priority over #GP/#UD/#DB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exit } from '../../src/vmx/exitReasons';
import { CODE, VAPIC, runNonRoot } from './insnExitKit';

const HLT = 0xf4;
const TS = 1 << 3;
const CD = 1 << 30;
const VMXE = 1 << 13;

const MOV_CR0_RAX = [0x0f, 0x22, 0xc0];
const MOV_RAX_CR0 = [0x0f, 0x20, 0xc0];
const MOV_CR3_RBX = [0x0f, 0x22, 0xdb];
const MOV_RCX_CR3 = [0x0f, 0x20, 0xd9];
const MOV_CR4_RDX = [0x0f, 0x22, 0xe2];
const MOV_RSI_CR4 = [0x0f, 0x20, 0xe6];
const MOV_CR8_RAX = [0x44, 0x0f, 0x22, 0xc0];
const MOV_RBX_CR8 = [0x44, 0x0f, 0x20, 0xc3];
const CLTS = [0x0f, 0x06];
const LMSW_AX = [0x0f, 0x01, 0xf0];
const LMSW_MEM_RAX = [0x0f, 0x01, 0x30];
const SMSW_EAX = [0x0f, 0x01, 0xe0];

// ---- CR0 / CR4 masks and shadows ---------------------------------------------------------------
test('MOV to CR0 changing an owned bit away from the shadow exits (type 0, GPR RAX)', () => {
  const r = runNonRoot([...MOV_RAX_CR0, 0x48, 0x0d, TS, 0, 0, 0, ...MOV_CR0_RAX, HLT], { fields: { CR0_GUEST_HOST_MASK: TS, CR0_READ_SHADOW: 0 } });
  const e = r.exit();
  assert.equal(e.reason, Exit.CrAccess);
  assert.equal(e.qual, 0n);
  assert.equal(e.len, 3);
  assert.equal(e.rip, BigInt(CODE + 3 + 6));
  assert.equal(r.cpu.cr0 & TS, 0, 'CR0 unchanged');
});

test('MOV to CR0 matching the shadow in owned bits: no exit, owned bits keep the real value', () => {
  // Real CR0.CD = 1 (owned, shadow CD = 0); the guest writes CD = 0: no exit, real CD stays 1.
  const r = runNonRoot([...MOV_RAX_CR0, ...MOV_CR0_RAX, ...MOV_RAX_CR0, HLT], {
    fields: { CR0_GUEST_HOST_MASK: CD, CR0_READ_SHADOW: 0 },
    before: (cpu) => { cpu.cr0 |= CD; },
  });
  assert.equal(r.exits.length, 0);
  assert.equal(r.cpu.cr0 & CD, CD);
  assert.equal(Number(r.reg('rax')) & CD, 0, 'MOV from CR0 reads CD from the shadow');
});

test('MOV from CR0 reads owned bits from the read shadow', () => {
  const r = runNonRoot([...MOV_RAX_CR0, HLT], { fields: { CR0_GUEST_HOST_MASK: TS | CD, CR0_READ_SHADOW: TS } });
  const v = Number(r.reg('rax'));
  assert.equal(v & TS, TS);
  assert.equal(v & CD, 0);
  assert.equal(v & 1, 1, 'PE is not owned: the real value');
});

test('SMSW reads owned bits from the CR0 read shadow', () => {
  const r = runNonRoot([...SMSW_EAX, HLT], { fields: { CR0_GUEST_HOST_MASK: 0xffffffffn, CR0_READ_SHADOW: 0x11 } });
  assert.equal(r.reg('rax'), 0x11n);
});

test('MOV to CR4 keeping the owned VMXE hidden: no exit, real VMXE stays 1; MOV from CR4 hides it', () => {
  const r = runNonRoot([...MOV_RSI_CR4, 0x48, 0x89, 0xf2, ...MOV_CR4_RDX, ...MOV_RSI_CR4, HLT], { fields: { CR4_GUEST_HOST_MASK: VMXE, CR4_READ_SHADOW: 0 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.cpu.cr4 & VMXE, VMXE);
  assert.equal(Number(r.reg('rsi')) & VMXE, 0);
});

test('MOV to CR4 setting an owned bit the shadow has clear exits (CR 4, GPR RDX)', () => {
  const r = runNonRoot([...MOV_RSI_CR4, 0x48, 0x89, 0xf2, 0x48, 0x81, 0xca, 0x00, 0x20, 0, 0, ...MOV_CR4_RDX, HLT], { fields: { CR4_GUEST_HOST_MASK: VMXE, CR4_READ_SHADOW: 0 } });
  const e = r.exit();
  assert.equal(e.reason, Exit.CrAccess);
  assert.equal(e.qual, 0x204n);
});

test('with an all-zero mask MOV to CR0 never exits', () => {
  const r = runNonRoot([...MOV_RAX_CR0, ...MOV_CR0_RAX, HLT]);
  assert.equal(r.exits.length, 0);
  assert.equal(r.result.reason, 'hlt');
});

// ---- CR3 -----------------------------------------------------------------------------------------
test('MOV to CR3 with CR3-load exiting and no target: exit (CR 3, GPR RBX)', () => {
  const r = runNonRoot([...MOV_CR3_RBX, HLT], { proc: ['CR3_LOAD_EXITING'], regs: { rbx: 0x5000 } });
  const e = r.exit();
  assert.equal(e.reason, Exit.CrAccess);
  assert.equal(e.qual, 0x303n);
});

test('MOV to CR3 of a CR3-target value does not exit and loads CR3', () => {
  const r = runNonRoot([...MOV_CR3_RBX, HLT], {
    proc: ['CR3_LOAD_EXITING'], regs: { rbx: 0x7000 },
    fields: { CR3_TARGET_COUNT: 2, CR3_TARGET_VALUE_0: 0x6000, CR3_TARGET_VALUE_1: 0x7000 },
    before: (cpu) => { cpu.cr0 &= ~(1 << 31); cpu.longMode = false; },
  });
  // (Paging is switched off so the new CR3 does not matter to fetching; the test is the decision.)
  assert.ok(r.exits.length === 0 || r.exits[0].reason !== Exit.CrAccess);
});

test('a CR3-target value beyond the target count does not prevent the exit', () => {
  const r = runNonRoot([...MOV_CR3_RBX, HLT], {
    proc: ['CR3_LOAD_EXITING'], regs: { rbx: 0x7000 },
    fields: { CR3_TARGET_COUNT: 1, CR3_TARGET_VALUE_0: 0x6000, CR3_TARGET_VALUE_1: 0x7000 },
  });
  assert.equal(r.exit().reason, Exit.CrAccess);
});

test('MOV to CR3 without CR3-load exiting does not exit', () => {
  const r = runNonRoot([...MOV_RCX_CR3, 0x48, 0x89, 0xcb, ...MOV_CR3_RBX, HLT]);
  assert.equal(r.exits.length, 0);
});

test('MOV from CR3 with CR3-store exiting exits (type 1, GPR RCX)', () => {
  const r = runNonRoot([...MOV_RCX_CR3, HLT], { proc: ['CR3_STORE_EXITING'] });
  assert.equal(r.exit().qual, 0x113n);
});

test('MOV to CR3 at CPL 3: #GP(0), not an exit', () => {
  const r = runNonRoot([...MOV_CR3_RBX, HLT], { proc: ['CR3_LOAD_EXITING'], cpl: 3 });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

// ---- CR8 and the TPR shadow ---------------------------------------------------------------------
test('MOV to CR8 with CR8-load exiting exits (CR 8, GPR RAX)', () => {
  const r = runNonRoot([...MOV_CR8_RAX, HLT], { proc: ['CR8_LOAD_EXITING'], regs: { rax: 3 } });
  const e = r.exit();
  assert.equal(e.qual, 0x8n);
  assert.equal(e.len, 4);
});

test('MOV from CR8 with CR8-store exiting exits (type 1, GPR RBX)', () => {
  assert.equal(runNonRoot([...MOV_RBX_CR8, HLT], { proc: ['CR8_STORE_EXITING'] }).exit().qual, 0x318n);
});

test('TPR shadow: MOV to CR8 writes VTPR[7:4], MOV from CR8 reads it; the real TPR is untouched', () => {
  const r = runNonRoot([...MOV_CR8_RAX, ...MOV_RBX_CR8, HLT], {
    proc: ['USE_TPR_SHADOW'], regs: { rax: 0xa },
    memory: [[VAPIC + 0x80, [0xff, 0xff, 0xff, 0xff]]],
  });
  assert.equal(r.exits.length, 0);
  assert.equal(r.mem.read8(VAPIC + 0x80), 0xa0);
  assert.equal(r.mem.read8(VAPIC + 0x81), 0, 'bytes 81H-83H cleared');
  assert.equal(r.reg('rbx'), 0xan);
  assert.equal(r.cpu.cr8, 0);
});

test('TPR shadow: a VTPR below the TPR threshold gives a trap-like exit 43 after the instruction', () => {
  const r = runNonRoot([0x90, ...MOV_CR8_RAX, HLT], { proc: ['USE_TPR_SHADOW'], regs: { rax: 5 }, fields: { TPR_THRESHOLD: 6 } });
  const e = r.exit();
  assert.equal(e.reason, Exit.TprBelowThreshold);
  assert.equal(e.rip, BigInt(CODE + 1 + 4), 'RIP of the next instruction');
  assert.equal(r.mem.read8(VAPIC + 0x80), 0x50, 'the write completed');
  assert.equal(r.cpu.icount, 3, 'NOP and MOV retired, plus the exit');
});

test('TPR shadow: VTPR equal to the threshold does not exit', () => {
  const r = runNonRoot([...MOV_CR8_RAX, HLT], { proc: ['USE_TPR_SHADOW'], regs: { rax: 6 }, fields: { TPR_THRESHOLD: 6 } });
  assert.equal(r.exits.length, 0);
});

test('TPR shadow: MOV to CR8 with bits 63:4 set is #GP(0)', () => {
  const r = runNonRoot([...MOV_CR8_RAX, HLT], { proc: ['USE_TPR_SHADOW'], regs: { rax: 0x10 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('CR8-load exiting takes priority over the reserved-bit #GP', () => {
  const r = runNonRoot([...MOV_CR8_RAX, HLT], { proc: ['CR8_LOAD_EXITING', 'USE_TPR_SHADOW'], regs: { rax: 0x10 } });
  assert.equal(r.exit().reason, Exit.CrAccess);
});

// ---- CLTS and LMSW ----------------------------------------------------------------------------------
test('CLTS exits when TS is owned and set in the shadow (type 2)', () => {
  const r = runNonRoot([...CLTS, HLT], { fields: { CR0_GUEST_HOST_MASK: TS, CR0_READ_SHADOW: TS } });
  const e = r.exit();
  assert.equal(e.qual, 0x20n);
  assert.equal(e.len, 2);
});

test('CLTS with TS owned and clear in the shadow: no exit, real TS unchanged', () => {
  const r = runNonRoot([...CLTS, HLT], { fields: { CR0_GUEST_HOST_MASK: TS, CR0_READ_SHADOW: 0 }, before: (cpu) => { cpu.cr0 |= TS; } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.cpu.cr0 & TS, TS);
});

test('CLTS with TS not owned clears TS', () => {
  const r = runNonRoot([...CLTS, HLT], { before: (cpu) => { cpu.cr0 |= TS; } });
  assert.equal(r.cpu.cr0 & TS, 0);
});

test('LMSW changing an owned bit of 3:1 exits: type 3, register operand, source data in 31:16', () => {
  const r = runNonRoot([...LMSW_AX, HLT], { regs: { rax: 0x3 }, fields: { CR0_GUEST_HOST_MASK: 0xf, CR0_READ_SHADOW: 0x1 } });
  const e = r.exit();
  assert.equal(e.reason, Exit.CrAccess);
  assert.equal(e.qual.toString(16), (0x30 | (0x3 << 16)).toString(16));
});

test('LMSW with a memory operand: bit 6 and the guest-linear address', () => {
  const r = runNonRoot([...LMSW_MEM_RAX, HLT], {
    regs: { rax: 0x3000 }, memory: [[0x3000, [0x0b, 0x00]]],
    fields: { CR0_GUEST_HOST_MASK: 0x8, CR0_READ_SHADOW: 0x1 },
  });
  const e = r.exit();
  assert.equal(e.qual.toString(16), (0x70 | (0xb << 16)).toString(16));
  assert.equal(r.field('GUEST_LINEAR_ADDRESS'), 0x3000n);
});

test('LMSW: operand faults come before the exit (§25.1.1)', () => {
  const r = runNonRoot([...LMSW_MEM_RAX, HLT], { regs: { rax: 0x8000000000000000n }, fields: { CR0_GUEST_HOST_MASK: 0xf, CR0_READ_SHADOW: 0 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('LMSW setting PE when PE is owned and clear in the shadow exits', () => {
  const r = runNonRoot([...LMSW_AX, HLT], { regs: { rax: 0x1 }, fields: { CR0_GUEST_HOST_MASK: 0x1, CR0_READ_SHADOW: 0 } });
  assert.equal(r.exit().reason, Exit.CrAccess);
});

test('LMSW with PE clear, PE owned and set in the shadow: no exit (LMSW cannot clear PE)', () => {
  const r = runNonRoot([...LMSW_AX, HLT], { regs: { rax: 0x0 }, fields: { CR0_GUEST_HOST_MASK: 0x1, CR0_READ_SHADOW: 1 } });
  assert.equal(r.exits.length, 0);
});

test('LMSW without an exit leaves owned bits unchanged (TS owned, MP not)', () => {
  const r = runNonRoot([...LMSW_AX, HLT], { regs: { rax: 0xb }, fields: { CR0_GUEST_HOST_MASK: TS, CR0_READ_SHADOW: TS } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.cpu.cr0 & 0xf, 0x3, 'PE and MP from the source, TS kept (0), EM clear');
});

// ---- MOV DR ---------------------------------------------------------------------------------------
const MOV_DR7_RCX = [0x0f, 0x23, 0xf9];
const MOV_RDX_DR6 = [0x0f, 0x21, 0xf2];
const MOV_RAX_DR4 = [0x0f, 0x21, 0xe0];

test('MOV to DR7 with MOV-DR exiting: qualification DR 7, direction 0, GPR RCX', () => {
  const e = runNonRoot([...MOV_DR7_RCX, HLT], { proc: ['MOV_DR_EXITING'], regs: { rcx: 0x400 } }).exit();
  assert.equal(e.reason, Exit.DrAccess);
  assert.equal(e.qual, 0x107n);
  assert.equal(e.len, 3);
});

test('MOV from DR6: direction 1, GPR RDX', () => {
  assert.equal(runNonRoot([...MOV_RDX_DR6, HLT], { proc: ['MOV_DR_EXITING'] }).exit().qual, 0x216n);
});

test('MOV DR at CPL 3 exits: MOV-DR exiting precedes the CPL #GP (§25.1.3)', () => {
  assert.equal(runNonRoot([...MOV_RDX_DR6, HLT], { proc: ['MOV_DR_EXITING'], cpl: 3 }).exit().reason, Exit.DrAccess);
});

test('MOV from DR4 with CR4.DE = 1 exits instead of #UD, reporting DR 4', () => {
  const e = runNonRoot([...MOV_RAX_DR4, HLT], { proc: ['MOV_DR_EXITING'], cr4: 1 << 3 }).exit();
  assert.equal(e.qual, 0x14n);
});

test('MOV DR with DR7.GD = 1 exits instead of #DB', () => {
  const r = runNonRoot([...MOV_RDX_DR6, HLT], { proc: ['MOV_DR_EXITING'], before: (cpu) => { cpu.dr7 |= 1 << 13; } });
  assert.equal(r.exit().reason, Exit.DrAccess);
  assert.equal(r.cpu.dr7 & (1 << 13), 1 << 13, 'GD not cleared');
});

test('MOV DR without MOV-DR exiting executes', () => {
  const r = runNonRoot([...MOV_RDX_DR6, HLT]);
  assert.equal(r.exits.length, 0);
  assert.equal(r.reg('rdx'), 0xffff0ff0n);
});

// ---- CR0/CR4 bits fixed in VMX operation (§23.8) ------------------------------------------------
const MOV_EAX_CR0_32 = [0x0f, 0x20, 0xc0];
const MOV_CR0_EAX_32 = [0x0f, 0x22, 0xc0];

test('MOV to CR0 clearing NE (fixed to 1 in VMX operation, not owned): #GP(0)', () => {
  const r = runNonRoot([...MOV_RAX_CR0, 0x48, 0x83, 0xe0, 0xdf, ...MOV_CR0_RAX, HLT]); // and rax, ~20h
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('MOV to CR0 with PG = 0 in a protected-mode guest: #GP(0) without unrestricted guest', () => {
  const r = runNonRoot([...MOV_EAX_CR0_32, ...MOV_CR0_EAX_32, HLT], { mode: 'protected', before: (cpu) => { cpu.cr0 |= 1 << 5; } });
  assert.equal(r.fault(), 13);
});

test('with unrestricted guest, CR0.PE and CR0.PG may be 0', () => {
  const r = runNonRoot([...MOV_EAX_CR0_32, ...MOV_CR0_EAX_32, HLT], { mode: 'protected', proc2: ['UNRESTRICTED_GUEST'], before: (cpu) => { cpu.cr0 |= 1 << 5; } });
  assert.equal(r.fault(), undefined);
  assert.equal(r.result.reason, 'hlt');
});

test('MOV to CR4 clearing VMXE when the host does not own it: #GP(0)', () => {
  const r = runNonRoot([...MOV_RSI_CR4, 0x48, 0x89, 0xf2, 0x48, 0x81, 0xe2, 0xff, 0xdf, 0xff, 0xff, ...MOV_CR4_RDX, HLT]);
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
  assert.equal(r.cpu.cr4 & VMXE, VMXE);
});
