/**
 * Instructions that exit unconditionally in VMX non-root operation (SDM vol. 3C §25.1.2): CPUID,
 * GETSEC, INVD, XSETBV and the VMX instructions, with their exit qualification, instruction
 * length and information (§27.2.1, §27.2.4), and the #UD conditions that come first (§30.3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exit } from '../../src/vmx/exitReasons';
import { CODE, runNonRoot } from './insnExitKit';

const CR4_OSXSAVE = 1 << 18;
const CR4_VMXE = 1 << 13;
const CR4_SMXE = 1 << 14;
const HLT = 0xf4;

interface Case {
  name: string;
  bytes: number[];
  reason: number;
  qual?: bigint;
  info?: number;
  cr4?: number;
  regs?: Record<string, number>;
}

// Instruction information per §27.2.4: DS = 3 << 15, 64-bit addresses = 2 << 7, no index = 1 << 22.
const MEM_RAX = (2 << 7) | (3 << 15) | (1 << 22) | (0 << 23);
const cases: Case[] = [
  { name: 'CPUID', bytes: [0x0f, 0xa2], reason: Exit.Cpuid, regs: { rax: 1 } },
  { name: 'INVD', bytes: [0x0f, 0x08], reason: Exit.Invd },
  { name: 'XSETBV', bytes: [0x0f, 0x01, 0xd1], reason: Exit.Xsetbv, cr4: CR4_OSXSAVE | CR4_VMXE, regs: { rax: 7 } },
  { name: 'XSETBV with an invalid XCR0 value (the exit precedes #GP)', bytes: [0x0f, 0x01, 0xd1], reason: Exit.Xsetbv, cr4: CR4_OSXSAVE | CR4_VMXE, regs: { rax: 0 } },
  { name: 'GETSEC with CR4.SMXE = 1', bytes: [0x0f, 0x37], reason: Exit.Getsec, cr4: CR4_SMXE | CR4_VMXE },
  { name: 'VMCALL', bytes: [0x0f, 0x01, 0xc1], reason: Exit.Vmcall },
  { name: 'VMLAUNCH', bytes: [0x0f, 0x01, 0xc2], reason: Exit.Vmlaunch },
  { name: 'VMRESUME', bytes: [0x0f, 0x01, 0xc3], reason: Exit.Vmresume },
  { name: 'VMXOFF', bytes: [0x0f, 0x01, 0xc4], reason: Exit.Vmxoff },
  { name: 'VMXON [rax]', bytes: [0xf3, 0x0f, 0xc7, 0x30], reason: Exit.Vmxon, qual: 0n, info: MEM_RAX },
  { name: 'VMCLEAR [rax+20h]', bytes: [0x66, 0x0f, 0xc7, 0x70, 0x20], reason: Exit.Vmclear, qual: 0x20n, info: MEM_RAX },
  { name: 'VMPTRLD [rax-10h]', bytes: [0x0f, 0xc7, 0x70, 0xf0], reason: Exit.Vmptrld, qual: 0xfffffffffffffff0n, info: MEM_RAX },
  { name: 'VMPTRST [rax]', bytes: [0x0f, 0xc7, 0x38], reason: Exit.Vmptrst, qual: 0n, info: MEM_RAX },
  { name: 'VMREAD rax, rcx', bytes: [0x0f, 0x78, 0xc8], reason: Exit.Vmread, qual: 0n, info: (1 << 10) | (1 << 28) },
  { name: 'VMWRITE rdx, [rax+8]', bytes: [0x0f, 0x79, 0x50, 0x08], reason: Exit.Vmwrite, qual: 8n, info: MEM_RAX | (2 << 28) },
  { name: 'INVEPT rcx, [rax]', bytes: [0x66, 0x0f, 0x38, 0x80, 0x08], reason: Exit.Invept, qual: 0n, info: MEM_RAX | (1 << 28) },
  { name: 'INVVPID rbx, [rax+100h]', bytes: [0x66, 0x0f, 0x38, 0x81, 0x98, 0x00, 0x01, 0x00, 0x00], reason: Exit.Invvpid, qual: 0x100n, info: MEM_RAX | (3 << 28) },
];

for (const k of cases) {
  test(`${k.name} exits (reason ${k.reason}) with length, RIP, qualification and information`, () => {
    const r = runNonRoot([0x90, ...k.bytes, HLT], { cr4: k.cr4 ?? CR4_VMXE, regs: { rax: 0x3000, ...k.regs } });
    assert.equal(r.result.reason, 'vmexit');
    const e = r.exit();
    assert.equal(e.reason, k.reason);
    assert.equal(e.len, k.bytes.length);
    assert.equal(e.rip, BigInt(CODE + 1), 'RIP of the exiting instruction (after the NOP)');
    assert.equal(e.qual, k.qual ?? 0n);
    if (k.info !== undefined) assert.equal(e.info.toString(16), (k.info >>> 0).toString(16));
    assert.equal(r.cpu.icount, 2, 'the NOP retired, plus one for the exit');
  });
}

test('CPUID at CPL 3 still exits (no privilege check)', () => {
  const r = runNonRoot([0x0f, 0xa2, HLT], { cpl: 3 });
  assert.equal(r.exit().reason, Exit.Cpuid);
});

test('INVD at CPL 3: #GP(0) takes priority over the exit (§25.1.1)', () => {
  const r = runNonRoot([0x0f, 0x08, HLT], { cpl: 3 });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('XSETBV with CR4.OSXSAVE = 0: #UD, not an exit', () => {
  const r = runNonRoot([0x0f, 0x01, 0xd1, HLT], { cr4: CR4_VMXE });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 6);
});

test('XSETBV at CPL 3: #GP(0) before the exit', () => {
  const r = runNonRoot([0x0f, 0x01, 0xd1, HLT], { cr4: CR4_VMXE | CR4_OSXSAVE, cpl: 3 });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 13);
});

test('GETSEC with CR4.SMXE = 0: #UD', () => {
  const r = runNonRoot([0x0f, 0x37, HLT]);
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 6);
});

test('VMX instructions exit at CPL 3 (the exit precedes the CPL check, §30.3)', () => {
  const r = runNonRoot([0x0f, 0x01, 0xc4, HLT], { cpl: 3 });
  assert.equal(r.exit().reason, Exit.Vmxoff);
});

test('VMXON with CR4.VMXE = 0: #UD', () => {
  const r = runNonRoot([0xf3, 0x0f, 0xc7, 0x30, HLT], { regs: { rax: 0x3000 }, before: (cpu) => { cpu.cr4 &= ~CR4_VMXE; } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 6);
});

test('VMPTRLD in compatibility mode: #UD', () => {
  const r = runNonRoot([0x0f, 0xc7, 0x30, HLT], { mode: 'compat', regs: { rax: 0x3000 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 6);
});

test('VMLAUNCH in real mode: #UD (CR0.PE = 0)', () => {
  const r = runNonRoot([0x0f, 0x01, 0xc2, HLT], { mode: 'real' });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 6);
});

test('VMCALL exits even in real mode (§30.3 VMCALL: only "in VMX operation")', () => {
  const r = runNonRoot([0x0f, 0x01, 0xc1, HLT], { mode: 'real' });
  const e = r.exit();
  assert.equal(e.reason, Exit.Vmcall);
  assert.equal(e.len, 3);
});

test('VMWRITE in 32-bit protected mode: 32-bit address size in the information', () => {
  const r = runNonRoot([0x0f, 0x79, 0x43, 0x10, HLT], { mode: 'protected', regs: { rbx: 0x3000 } }); // VMWRITE eax, [ebx+10h]
  const e = r.exit();
  assert.equal(e.reason, Exit.Vmwrite);
  assert.equal(e.qual, 0x10n);
  assert.equal(e.info.toString(16), ((1 << 7) | (3 << 15) | (1 << 22) | (3 << 23) | (0 << 28)).toString(16));
});

test('VMCLEAR with a memory operand that would fault: the exit comes first', () => {
  // [rax] non-canonical: #GP if executed; the exit is unconditional and precedes it.
  const r = runNonRoot([0x66, 0x0f, 0xc7, 0x30, HLT], { regs: { rax: 0x8000000000000000n as unknown as number } });
  assert.equal(r.exit().reason, Exit.Vmclear);
});

test('outside non-root operation the VMX instructions are #UD (not in VMX operation)', () => {
  const r = runNonRoot([0x0f, 0x01, 0xc1, HLT], { before: (cpu) => { cpu.nonRoot = false; cpu.inVmxOperation = false; } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 6);
});

test('CPUID in root operation runs normally', () => {
  const r = runNonRoot([0x0f, 0xa2, HLT], { regs: { rax: 0 }, before: (cpu) => { cpu.nonRoot = false; } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.result.reason, 'hlt');
});
