/**
 * Instruction exits of a real-mode guest (non-root operation under "unrestricted guest", SDM vol.
 * 3C §25.1, §26.3.1.1): 16-bit instruction lengths, 16-bit address sizes in the information and
 * segment bases of real mode (selector * 16) in linear addresses. The host cannot run these, so
 * they are unit tests with expectations from the SDM's tables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exit } from '../../src/vmx/exitReasons';
import { CODE, IO_A, runNonRoot, setBit } from './insnExitKit';

const HLT = 0xf4;
const real = { mode: 'real' as const, proc2: ['UNRESTRICTED_GUEST'] };

function realSeg(cpu: { segSel: Uint16Array; segBaseLo: Int32Array }, seg: number, sel: number): void {
  cpu.segSel[seg] = sel;
  cpu.segBaseLo[seg] = sel * 16;
}

test('real mode: CPUID exits with length 2 at IP 1000h', () => {
  const e = runNonRoot([0x0f, 0xa2, HLT], real).exit();
  assert.equal(e.reason, Exit.Cpuid);
  assert.equal(e.len, 2);
  assert.equal(e.rip, BigInt(CODE));
});

test('real mode: HLT with HLT exiting', () => {
  assert.equal(runNonRoot([HLT], { ...real, proc: ['HLT_EXITING'] }).exit().reason, Exit.Hlt);
});

test('real mode: IN AL, DX through the I/O bitmap (no TSS check in real mode)', () => {
  const r = runNonRoot([0xec, HLT], { ...real, proc: ['USE_IO_BITMAPS'], regs: { rdx: 0x64 }, before: (cpu) => setBit(cpu.mem, IO_A, 0x64) });
  assert.equal(r.exit().qual.toString(16), (0 | 8 | (0x64 << 16)).toString(16));
});

test('real mode: OUT imm8 with a 32-bit operand (66h): size 4, immediate', () => {
  const e = runNonRoot([0x66, 0xe7, 0x80, HLT], { ...real, proc: ['UNCONDITIONAL_IO_EXITING'] }).exit();
  assert.equal(e.qual.toString(16), (3 | 0x40 | (0x80 << 16)).toString(16));
  assert.equal(e.len, 3);
});

test('real mode: REP INSB: 16-bit address size, guest-linear = ES * 16 + DI', () => {
  const r = runNonRoot([0xf3, 0x6c, HLT], {
    ...real, proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rdx: 0x60, rdi: 0x12345, rcx: 3 },
    before: (cpu) => realSeg(cpu, 0, 0x2000),
  });
  const e = r.exit();
  assert.equal(e.qual.toString(16), (0 | 8 | 0x10 | 0x20 | (0x60 << 16)).toString(16));
  assert.equal(e.info, (0 << 7) | (0 << 15));
  assert.equal(r.field('GUEST_LINEAR_ADDRESS'), 0x20000n + 0x2345n);
});

test('real mode: OUTSW with an ES override and a 32-bit address size (67h)', () => {
  const r = runNonRoot([0x26, 0x67, 0x6f, HLT], {
    ...real, proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rsi: 0x10010 },
    before: (cpu) => realSeg(cpu, 0, 0x100),
  });
  const e = r.exit();
  assert.equal(e.info, (1 << 7) | (0 << 15));
  assert.equal(r.field('GUEST_LINEAR_ADDRESS'), 0x1000n + 0x10010n);
  assert.equal(e.len, 3);
});

test('real mode: INVLPG [bx+si+4] qualification = DS * 16 + (BX + SI + 4) mod 64K', () => {
  const r = runNonRoot([0x0f, 0x01, 0x78, 0x04, HLT], {
    ...real, proc: ['INVLPG_EXITING'], regs: { rbx: 0xfff0, rsi: 0x20 },
    before: (cpu) => realSeg(cpu, 3, 0x1000),
  });
  assert.equal(r.exit().qual, 0x10000n + 0x14n);
});

test('real mode: MOV EAX, CR0 reads PE from the read shadow', () => {
  const r = runNonRoot([0x0f, 0x20, 0xc0, HLT], { ...real, fields: { CR0_GUEST_HOST_MASK: 0x80000021n, CR0_READ_SHADOW: 0x21 } });
  assert.equal(r.reg('rax') & 0x80000021n, 0x21n);
});

test('real mode: MOV CR0, EAX setting an owned PE the shadow has clear exits (GPR EAX)', () => {
  const r = runNonRoot([0x66, 0xb8, 0x31, 0x00, 0x00, 0x00, 0x0f, 0x22, 0xc0, HLT], { ...real, fields: { CR0_GUEST_HOST_MASK: 1, CR0_READ_SHADOW: 0 } });
  const e = r.exit();
  assert.equal(e.reason, Exit.CrAccess);
  assert.equal(e.qual, 0n);
  assert.equal(e.len, 3);
  assert.equal(e.rip, BigInt(CODE + 6));
});

test('real mode: LMSW AX setting PE (owned, shadow 0) exits with the source in 31:16', () => {
  const r = runNonRoot([0xb8, 0x01, 0x00, 0x0f, 0x01, 0xf0, HLT], { ...real, fields: { CR0_GUEST_HOST_MASK: 1, CR0_READ_SHADOW: 0 } });
  assert.equal(r.exit().qual.toString(16), (0x30 | (1 << 16)).toString(16));
});

test('real mode: LMSW [0010h] memory operand: guest-linear = DS * 16 + 10h', () => {
  const r = runNonRoot([0x0f, 0x01, 0x36, 0x10, 0x00, HLT], {
    ...real, fields: { CR0_GUEST_HOST_MASK: 0xe, CR0_READ_SHADOW: 0 }, memory: [[0x30010, [0x02, 0x00]]],
    before: (cpu) => realSeg(cpu, 3, 0x3000),
  });
  const e = r.exit();
  assert.equal(e.qual.toString(16), (0x70 | (2 << 16)).toString(16));
  assert.equal(r.field('GUEST_LINEAR_ADDRESS'), 0x30010n);
});

test('real mode: RDMSR exits without MSR bitmaps (CPL 0 in real mode)', () => {
  assert.equal(runNonRoot([0x0f, 0x32, HLT], { ...real, regs: { rcx: 0x10 } }).exit().reason, Exit.MsrRead);
});

test('real mode: MOV DR7, EAX with MOV-DR exiting', () => {
  assert.equal(runNonRoot([0x0f, 0x23, 0xf8, HLT], { ...real, proc: ['MOV_DR_EXITING'] }).exit().qual, 0x7n);
});

test('real mode: INVPCID (#UD only in virtual-8086 mode) exits with INVLPG exiting: 16-bit addresses, base BX', () => {
  const r = runNonRoot([0x66, 0x0f, 0x38, 0x82, 0x07, HLT], { ...real, proc: ['INVLPG_EXITING'], proc2: ['UNRESTRICTED_GUEST', 'ENABLE_INVPCID'] });
  const e = r.exit();
  assert.equal(e.reason, Exit.Invpcid);
  assert.equal(e.info.toString(16), ((0 << 7) | (3 << 15) | (1 << 22) | (3 << 23) | (0 << 28)).toString(16));
});

test('real mode: LGDT with descriptor-table exiting: 16-bit operand size, 16-bit address size', () => {
  const r = runNonRoot([0x0f, 0x01, 0x16, 0x00, 0x20, HLT], { ...real, proc2: ['UNRESTRICTED_GUEST', 'DESCRIPTOR_TABLE_EXITING'] });
  const e = r.exit();
  assert.equal(e.qual, 0x2000n);
  assert.equal(e.info.toString(16), ((0 << 7) | (0 << 11) | (3 << 15) | (1 << 22) | (1 << 27) | (2 << 28)).toString(16));
});
