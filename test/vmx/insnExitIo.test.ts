/**
 * I/O instructions and RDMSR/WRMSR in non-root operation (SDM vol. 3C §25.1.3): unconditional
 * I/O exiting, I/O bitmaps A/B with accesses that span ports or wrap, string/REP forms with
 * their information and guest-linear address (§27.2.1, table 27-8), the MSR bitmaps' four
 * quarters, and x2APIC TPR virtualization (§29.5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exit } from '../../src/vmx/exitReasons';
import { CODE, IO_A, IO_B, MSR_BITMAP, VAPIC, runNonRoot, setBit } from './insnExitKit';

const HLT = 0xf4;
const IN_AL_60 = [0xe4, 0x60];
const OUT_DX_EAX = [0xef];
const OUT_DX_AX = [0x66, 0xef];
const OUT_71_AL = [0xe6, 0x71];
const OUT_70_AL = [0xe6, 0x70];
const IN_AX_DX = [0x66, 0xed];
const OUT_DX_AL = [0xee];

// ---- unconditional I/O exiting ------------------------------------------------------------------
test('IN AL, 60h with unconditional I/O exiting: size 1, IN, immediate, port 60h', () => {
  const e = runNonRoot([...IN_AL_60, HLT], { proc: ['UNCONDITIONAL_IO_EXITING'] }).exit();
  assert.equal(e.reason, Exit.IoInstruction);
  assert.equal(e.qual.toString(16), (0 | 8 | 0x40 | (0x60 << 16)).toString(16));
  assert.equal(e.len, 2);
  assert.equal(e.rip, BigInt(CODE));
  assert.equal(e.info, 0);
});

test('OUT DX, EAX: size 4 (code 3), OUT, DX operand, port 3F8h', () => {
  const e = runNonRoot([...OUT_DX_EAX, HLT], { proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rdx: 0x3f8 } }).exit();
  assert.equal(e.qual.toString(16), (3 | (0x3f8 << 16)).toString(16));
  assert.equal(e.len, 1);
});

test('OUT DX, AX: size 2 (code 1)', () => {
  const e = runNonRoot([...OUT_DX_AX, HLT], { proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rdx: 0x1234 } }).exit();
  assert.equal(e.qual.toString(16), (1 | (0x1234 << 16)).toString(16));
  assert.equal(e.len, 2);
});

test('without I/O controls the port access happens', () => {
  const r = runNonRoot([...OUT_70_AL, ...IN_AL_60, HLT]);
  assert.equal(r.exits.length, 0);
  assert.equal(r.result.reason, 'hlt');
});

test('in protected mode at CPL 3 with IOPL 0 and no usable TSS, #GP precedes the I/O exit', () => {
  const r = runNonRoot([...OUT_70_AL, HLT], { mode: 'protected', proc: ['UNCONDITIONAL_IO_EXITING'], cpl: 3 });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

// ---- I/O bitmaps ------------------------------------------------------------------------------------
test('I/O bitmap A: the port with its bit set exits, its neighbour does not', () => {
  const r = runNonRoot([...OUT_71_AL, ...OUT_70_AL, HLT], { proc: ['USE_IO_BITMAPS'], before: (cpu) => setBit(cpu.mem, IO_A, 0x70) });
  const e = r.exit();
  assert.equal(e.rip, BigInt(CODE + 2), 'OUT 71h passed, OUT 70h exited');
  assert.equal(e.qual.toString(16), (0x40 | (0x70 << 16)).toString(16));
});

test('with I/O bitmaps, unconditional I/O exiting is ignored', () => {
  const r = runNonRoot([...OUT_71_AL, HLT], { proc: ['USE_IO_BITMAPS', 'UNCONDITIONAL_IO_EXITING'] });
  assert.equal(r.exits.length, 0);
});

test('I/O bitmap B covers ports 8000h-FFFFh (bit n - 8000h)', () => {
  const r = runNonRoot([...OUT_DX_AL, HLT], { proc: ['USE_IO_BITMAPS'], regs: { rdx: 0x8003 }, before: (cpu) => setBit(cpu.mem, IO_B, 3) });
  assert.equal(r.exit().qual >> 16n, 0x8003n);
});

test('bit 7FFFh of bitmap A is the last byte of the A page', () => {
  const r = runNonRoot([...OUT_DX_AL, HLT], { proc: ['USE_IO_BITMAPS'], regs: { rdx: 0x7fff }, before: (cpu) => setBit(cpu.mem, IO_A, 0x7fff) });
  assert.equal(r.exit().reason, Exit.IoInstruction);
});

test('a 2-byte access exits when its second port is intercepted', () => {
  const r = runNonRoot([...IN_AX_DX, HLT], { proc: ['USE_IO_BITMAPS'], regs: { rdx: 0x6f }, before: (cpu) => setBit(cpu.mem, IO_A, 0x70) });
  const e = r.exit();
  assert.equal(e.qual.toString(16), (1 | 8 | (0x6f << 16)).toString(16));
});

test('an access spanning bitmaps A and B (7FFFh-8000h) checks the B bit', () => {
  const r = runNonRoot([...OUT_DX_AX, HLT], { proc: ['USE_IO_BITMAPS'], regs: { rdx: 0x7fff }, before: (cpu) => setBit(cpu.mem, IO_B, 0) });
  assert.equal(r.exit().reason, Exit.IoInstruction);
});

test('an access that wraps around the port space (FFFEh, 4 bytes) exits with empty bitmaps', () => {
  const r = runNonRoot([...OUT_DX_EAX, HLT], { proc: ['USE_IO_BITMAPS'], regs: { rdx: 0xfffe } });
  assert.equal(r.exit().qual, 0xfffe0003n);
});

test('a 1-byte access to port FFFFh does not wrap', () => {
  const r = runNonRoot([...OUT_DX_AL, HLT], { proc: ['USE_IO_BITMAPS'], regs: { rdx: 0xffff } });
  assert.equal(r.exits.length, 0);
});

// ---- INS / OUTS --------------------------------------------------------------------------------------
test('REP OUTSB (64-bit): string and REP bits, information (address size, DS), guest-linear = RSI', () => {
  const r = runNonRoot([0xf3, 0x6e, HLT], { proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rdx: 0x3f8, rsi: 0x3000, rcx: 4 } });
  const e = r.exit();
  assert.equal(e.qual.toString(16), (0 | 0x10 | 0x20 | (0x3f8 << 16)).toString(16));
  assert.equal(e.len, 2);
  assert.equal(e.info.toString(16), ((2 << 7) | (3 << 15)).toString(16));
  assert.equal(r.field('GUEST_LINEAR_ADDRESS'), 0x3000n);
  assert.equal(r.reg('rcx'), 4n, 'nothing transferred');
});

test('INSW in 32-bit mode: ES segment, 32-bit addresses, guest-linear = ES.base + EDI', () => {
  const r = runNonRoot([0x66, 0x6d, HLT], {
    mode: 'protected', proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rdx: 0x60, rdi: 0x2000 },
    before: (cpu) => { cpu.segBaseLo[0] = 0x100000; },
  });
  const e = r.exit();
  assert.equal(e.qual.toString(16), (1 | 8 | 0x10 | (0x60 << 16)).toString(16));
  assert.equal(e.info.toString(16), ((1 << 7) | (0 << 15)).toString(16));
  assert.equal(r.field('GUEST_LINEAR_ADDRESS'), 0x102000n);
});

test('OUTSD with an FS override (64-bit): segment 4, FS base added', () => {
  const r = runNonRoot([0x64, 0x6f, HLT], {
    proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rdx: 0x80, rsi: 0x10 },
    before: (cpu) => { cpu.segBaseLo[4] = 0x5000; cpu.segBaseHi[4] = 1; },
  });
  const e = r.exit();
  assert.equal(e.info.toString(16), ((2 << 7) | (4 << 15)).toString(16));
  assert.equal(r.field('GUEST_LINEAR_ADDRESS'), 0x100005010n);
});

test('OUTSB with a 16-bit address size (67h in 32-bit code): address size 0, SI only', () => {
  const r = runNonRoot([0x67, 0x6e, HLT], { mode: 'protected', proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rsi: 0x12345678 } });
  const e = r.exit();
  assert.equal(e.info.toString(16), ((0 << 7) | (3 << 15)).toString(16));
  assert.equal(r.field('GUEST_LINEAR_ADDRESS'), 0x5678n);
});

test('OUTS exits before the #GP its non-canonical source would raise (§25.1.1)', () => {
  const r = runNonRoot([0x6e, HLT], { proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rsi: 0x8000000000000000n } });
  assert.equal(r.exit().reason, Exit.IoInstruction);
});

test('REP INSB with RCX = 0 still exits (checked before the count)', () => {
  const r = runNonRoot([0xf3, 0x6c, HLT], { proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rcx: 0 } });
  assert.equal(r.exit().qual & 0x30n, 0x30n);
});

test('REP OUTSW through the I/O bitmap: the bitmap decides for the string form too', () => {
  const r = runNonRoot([0xf3, 0x66, 0x6f, HLT], { proc: ['USE_IO_BITMAPS'], regs: { rdx: 0x71, rcx: 1, rsi: 0x3000 }, before: (cpu) => setBit(cpu.mem, IO_A, 0x72) });
  assert.equal(r.exit().qual.toString(16), (1 | 0x10 | 0x20 | (0x71 << 16)).toString(16));
});

// ---- MSR bitmaps -----------------------------------------------------------------------------------
const RDMSR = [0x0f, 0x32];
const WRMSR = [0x0f, 0x30];

test('RDMSR without MSR bitmaps exits (reason 31, qualification 0)', () => {
  const e = runNonRoot([...RDMSR, HLT], { regs: { rcx: 0x10 } }).exit();
  assert.equal(e.reason, Exit.MsrRead);
  assert.equal(e.qual, 0n);
  assert.equal(e.len, 2);
});

test('WRMSR without MSR bitmaps exits (reason 32)', () => {
  assert.equal(runNonRoot([...WRMSR, HLT], { regs: { rcx: 0x10 } }).exit().reason, Exit.MsrWrite);
});

test('MSR bitmaps all clear: RDMSR of IA32_TSC executes', () => {
  const r = runNonRoot([...RDMSR, HLT], { proc: ['USE_MSR_BITMAPS'], regs: { rcx: 0x10 } });
  assert.equal(r.exits.length, 0);
});

test('read bitmap for low MSRs (+0): bit 10h intercepts RDMSR 10h, not WRMSR 10h', () => {
  const setup = { proc: ['USE_MSR_BITMAPS'], regs: { rcx: 0x10 }, before: (cpu: { mem: Parameters<typeof setBit>[0] }) => setBit(cpu.mem, MSR_BITMAP, 0x10) };
  assert.equal(runNonRoot([...RDMSR, HLT], setup).exit().reason, Exit.MsrRead);
  assert.equal(runNonRoot([...WRMSR, HLT], { ...setup, regs: { rcx: 0x10, rax: 0, rdx: 0 } }).exits.length, 0);
});

test('read bitmap for high MSRs (+400h): IA32_EFER (C0000080h) bit 80h', () => {
  const r = runNonRoot([...RDMSR, HLT], { proc: ['USE_MSR_BITMAPS'], regs: { rcx: 0xc0000080 }, before: (cpu) => setBit(cpu.mem, MSR_BITMAP + 0x400, 0x80) });
  assert.equal(r.exit().reason, Exit.MsrRead);
});

test('write bitmap for low MSRs (+800h)', () => {
  const r = runNonRoot([...WRMSR, HLT], { proc: ['USE_MSR_BITMAPS'], regs: { rcx: 0x1b }, before: (cpu) => setBit(cpu.mem, MSR_BITMAP + 0x800, 0x1b) });
  assert.equal(r.exit().reason, Exit.MsrWrite);
});

test('write bitmap for high MSRs (+C00h): C0001FFFh, the last bit', () => {
  const r = runNonRoot([...WRMSR, HLT], { proc: ['USE_MSR_BITMAPS'], regs: { rcx: 0xc0001fff }, before: (cpu) => setBit(cpu.mem, MSR_BITMAP + 0xc00, 0x1fff) });
  assert.equal(r.exit().reason, Exit.MsrWrite);
});

test('an MSR outside both ranges always exits (40000000h, 2000h)', () => {
  assert.equal(runNonRoot([...RDMSR, HLT], { proc: ['USE_MSR_BITMAPS'], regs: { rcx: 0x40000000 } }).exit().reason, Exit.MsrRead);
  assert.equal(runNonRoot([...WRMSR, HLT], { proc: ['USE_MSR_BITMAPS'], regs: { rcx: 0x2000 } }).exit().reason, Exit.MsrWrite);
  assert.equal(runNonRoot([...RDMSR, HLT], { proc: ['USE_MSR_BITMAPS'], regs: { rcx: 0xc0002000 } }).exit().reason, Exit.MsrRead);
});

test('RDMSR of a non-existent MSR with its bit set: the exit precedes #GP', () => {
  const r = runNonRoot([...RDMSR, HLT], { proc: ['USE_MSR_BITMAPS'], regs: { rcx: 0x1fff }, before: (cpu) => setBit(cpu.mem, MSR_BITMAP, 0x1fff) });
  assert.equal(r.exit().reason, Exit.MsrRead);
});

test('RDMSR of a non-existent MSR with its bit clear: #GP(0) in the guest', () => {
  const r = runNonRoot([...RDMSR, HLT], { proc: ['USE_MSR_BITMAPS'], regs: { rcx: 0x1fff } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('RDMSR at CPL 3: #GP(0), not an exit', () => {
  const r = runNonRoot([...RDMSR, HLT], { cpl: 3, regs: { rcx: 0x10 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

// ---- x2APIC TPR virtualization (§29.5) ------------------------------------------------------------
const X2 = { proc: ['USE_MSR_BITMAPS', 'USE_TPR_SHADOW'], proc2: ['VIRTUALIZE_X2APIC_MODE'] };

test('RDMSR 808h with "virtualize x2APIC mode": EDX:EAX = bytes 87h:80h of the virtual-APIC page', () => {
  const r = runNonRoot([...RDMSR, HLT], { ...X2, regs: { rcx: 0x808 }, memory: [[VAPIC + 0x80, [0x60, 0, 0, 0, 0x12, 0, 0, 0]]] });
  assert.equal(r.exits.length, 0);
  assert.equal(r.reg('rax'), 0x60n);
  assert.equal(r.reg('rdx'), 0x12n);
});

test('WRMSR 808h writes VTPR (bytes 87h:84h cleared)', () => {
  const r = runNonRoot([...WRMSR, HLT], { ...X2, regs: { rcx: 0x808, rax: 0x35, rdx: 0 }, memory: [[VAPIC + 0x84, [0xff]]] });
  assert.equal(r.exits.length, 0);
  assert.equal(r.mem.read8(VAPIC + 0x80), 0x35);
  assert.equal(r.mem.read8(VAPIC + 0x84), 0);
});

test('WRMSR 808h with bits 63:8 set: #GP(0)', () => {
  const r = runNonRoot([...WRMSR, HLT], { ...X2, regs: { rcx: 0x808, rax: 0x100, rdx: 0 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('WRMSR 808h below the TPR threshold: trap-like exit 43 after the WRMSR', () => {
  const r = runNonRoot([...WRMSR, HLT], { ...X2, regs: { rcx: 0x808, rax: 0x20, rdx: 0 }, fields: { TPR_THRESHOLD: 3 } });
  const e = r.exit();
  assert.equal(e.reason, Exit.TprBelowThreshold);
  assert.equal(e.rip, BigInt(CODE + 2));
  assert.equal(r.mem.read8(VAPIC + 0x80), 0x20);
});

test('the MSR bitmap takes priority over x2APIC virtualization', () => {
  const r = runNonRoot([...RDMSR, HLT], { ...X2, regs: { rcx: 0x808 }, before: (cpu) => setBit(cpu.mem, MSR_BITMAP, 0x808) });
  assert.equal(r.exit().reason, Exit.MsrRead);
});

test('OUTSB with an ES override in 64-bit mode: the override is ignored, segment DS', () => {
  const e = runNonRoot([0x26, 0x6e, HLT], { proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rsi: 0x10 } }).exit();
  assert.equal(e.info.toString(16), ((2 << 7) | (3 << 15)).toString(16));
});

test('OUTSB with an ES override in 32-bit mode: segment ES, ES base in the guest-linear address', () => {
  const r = runNonRoot([0x26, 0x6e, HLT], { mode: 'protected', proc: ['UNCONDITIONAL_IO_EXITING'], regs: { rsi: 0x10 }, before: (cpu) => { cpu.segBaseLo[0] = 0x4000; } });
  assert.equal(r.exit().info.toString(16), ((1 << 7) | (0 << 15)).toString(16));
  assert.equal(r.field('GUEST_LINEAR_ADDRESS'), 0x4010n);
});
