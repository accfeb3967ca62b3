/**
 * RDMSR/WRMSR and the MSR table (SDM vol. 2B RDMSR/WRMSR; vol. 4 chapter 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asm, describeStop, faulted, hasNasm, run } from './systemKit';
import { MSRS, getStored, msrInfo } from '../../src/x86/msr';
import { Seg } from '../../src/x86/registers';
import type { MsrBus } from '../../src/x86/io';
import { DEFAULT_CPUID, withoutFeatures, type CpuidModel } from '../../src/x86/cpuid';

const skip = hasNasm ? false : 'nasm is not installed';
const GP = 13;

/** WRMSR index, value then RDMSR it back into RBX (EDX:EAX -> RBX as a 64-bit value). */
function roundTrip(index: number, value: bigint) {
  return run(asm(64, `
    mov ecx, 0x${index.toString(16)}
    mov rax, 0x${value.toString(16)}
    mov rdx, rax
    shr rdx, 32
    wrmsr
    xor eax, eax
    xor edx, edx
    rdmsr
    shl rdx, 32
    or rax, rdx
    mov rbx, rax
    hlt`));
}

function writeFaults(index: number, value: bigint, cpuid?: CpuidModel): boolean {
  const m = run(asm(64, `
    mov ecx, 0x${index.toString(16)}
    mov rax, 0x${value.toString(16)}
    mov rdx, rax
    shr rdx, 32
    wrmsr
    hlt`), { cpuid });
  return faulted(m, GP, 0);
}

function readFaults(index: number): boolean {
  const m = run(asm(64, `mov ecx, 0x${index.toString(16)}\nrdmsr\nhlt`));
  return faulted(m, GP, 0);
}

test('MSR table: unique indexes, every entry named and described', () => {
  const seen = new Set<number>();
  for (const m of MSRS) {
    assert.ok(!seen.has(m.index >>> 0), m.name);
    seen.add(m.index >>> 0);
    assert.ok(m.name.startsWith('IA32_'), m.name);
    assert.ok(m.description.length > 10, m.name);
  }
  assert.equal(msrInfo(0xc0000080)?.name, 'IA32_EFER');
});

test('RDMSR/WRMSR round trips: STAR, LSTAR, CSTAR, FMASK, SYSENTER_*, KERNEL_GS_BASE, PAT, MTRRs', { skip }, () => {
  const cases: Array<[number, bigint]> = [
    [0xc0000081, 0x0023001000080000n],
    [0xc0000082, 0xffff800000001000n],
    [0xc0000083, 0x00007fffffffffffn],
    [0xc0000084, 0x47700n],
    [0x174, 0x10n],
    [0x175, 0xffffffff80000000n],
    [0x176, 0x401000n],
    [0xc0000102, 0xffff888000000000n],
    [0x277, 0x0007010600070106n],
    [0x2ff, 0xc06n],
    [0x250, 0x0606060606060606n],
    [0x268, 0x0505050505050505n],
    [0x200, 0x80000006n],
    [0x201, 0x7fc0000800n],
    [0x1b, 0xfed00900n],
    [0x1b, 0xfee00100n],
  ];
  for (const [index, value] of cases) {
    const m = roundTrip(index, value);
    assert.equal(m.result.reason, 'hlt', `${index.toString(16)}: ${describeStop(m)}`);
    assert.equal(m.reg('rbx'), value, `MSR 0x${index.toString(16)}`);
  }
});

test('RDMSR clears the upper halves of RAX and RDX; reset values of PAT, APIC_BASE, MTRRCAP, MISC_ENABLE', { skip }, () => {
  const m = run(asm(64, `
    mov rax, -1
    mov rdx, -1
    mov ecx, 0x277
    rdmsr
    mov r8, rax
    mov r9, rdx
    mov ecx, 0x1b
    rdmsr
    mov r10, rax
    mov ecx, 0xfe
    rdmsr
    mov r11, rax
    mov ecx, 0x1a0
    rdmsr
    mov r12, rax
    hlt`));
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(m.reg('r8'), 0x00070406n);
  assert.equal(m.reg('r9'), 0x00070406n);
  assert.equal(m.reg('r10'), 0xfee00900n);
  assert.equal(m.reg('r11'), 0x508n);
  assert.equal(m.reg('r12') & 1n, 1n, 'fast strings enabled');
});

test('WRMSR #GP(0): non-canonical bases, reserved bits, invalid memory types, read-only MSRs', { skip }, () => {
  // Non-canonical for 57-bit addresses too: the model reports LA57 (SDM vol. 3A §4.5).
  assert.ok(writeFaults(0xc0000082, 0x0100000000000000n), 'LSTAR non-canonical');
  assert.ok(writeFaults(0xc0000100, 0x1234000000000000n), 'FS_BASE non-canonical');
  assert.ok(writeFaults(0xc0000102, 0x8000000000000000n), 'KERNEL_GS_BASE non-canonical');
  assert.ok(writeFaults(0x175, 0x0200000000000000n), 'SYSENTER_ESP non-canonical');
  assert.ok(writeFaults(0xc0000084, 0x100000000n), 'FMASK bits 63:32');
  assert.ok(writeFaults(0xc0000103, 0x100000000n), 'TSC_AUX bits 63:32');
  assert.ok(writeFaults(0x277, 0x0007040600070402n), 'PAT type 2');
  assert.ok(writeFaults(0x277, 0x0007040600070408n), 'PAT type 8');
  assert.ok(writeFaults(0x2ff, 0x7n), 'MTRR default type 7 (UC- only in PAT)');
  assert.ok(writeFaults(0x2ff, 0x1000n), 'MTRR_DEF_TYPE reserved bit');
  assert.ok(writeFaults(0x201, 0x0000800000000800n), 'PHYSMASK above MAXPHYADDR');
  assert.ok(writeFaults(0xfe, 0n), 'MTRRCAP is read-only');
  assert.ok(writeFaults(0x1b, 0xfee00d00n, withoutFeatures(DEFAULT_CPUID, ['X2APIC'])), 'x2APIC enable (not reported)');
});

test('RDMSR/WRMSR of a nonexistent MSR, of VMX capabilities without VMX, or at CPL 3 is #GP(0)', { skip }, () => {
  assert.ok(readFaults(0x12345678));
  assert.ok(readFaults(0x480), 'IA32_VMX_BASIC');
  assert.ok(readFaults(0x491), 'IA32_VMX_VMFUNC');
  assert.ok(writeFaults(0x3a, 0x5n), 'FEATURE_CONTROL VMX enable without VMX');
  const m = run(asm(64, 'mov ecx, 0xc0000080\nrdmsr\nhlt'), { setup: (c) => { c.cpl = 3; } });
  assert.ok(faulted(m, GP, 0), describeStop(m));
});

test('IA32_FEATURE_CONTROL: once locked, writes are #GP(0)', { skip }, () => {
  const m = run(asm(64, `
    mov ecx, 0x3a
    mov eax, 1
    xor edx, edx
    wrmsr
    rdmsr
    mov ebx, eax
    xor eax, eax
    wrmsr
    hlt`));
  assert.ok(faulted(m, GP, 0), describeStop(m));
  assert.equal(m.reg('rbx'), 1n);
});

test('IA32_FS_BASE / IA32_GS_BASE are the segment bases', { skip }, () => {
  const m = run(asm(64, `
    mov ecx, 0xc0000100
    mov eax, 0x2000
    xor edx, edx
    wrmsr
    mov ecx, 0xc0000101
    mov eax, 0x3000
    wrmsr
    mov rbx, [fs:0x10]
    mov rsi, [gs:0x10]
    hlt`), {
    setup: (_c, mem) => { mem.write8(0x2010, 0x11); mem.write8(0x3010, 0x22); },
  });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(m.cpu.segBaseLo[Seg.FS], 0x2000);
  assert.equal(m.reg('rbx'), 0x11n);
  assert.equal(m.reg('rsi'), 0x22n);
});

test('IA32_TIME_STAMP_COUNTER: a write sets the value RDTSC reads (counting retired instructions)', { skip }, () => {
  const m = run(asm(64, `
    mov ecx, 0x10
    mov eax, 1000000
    mov edx, 1
    wrmsr
    rdtsc
    hlt`));
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  // WRMSR is instruction 4 (TSC = written value as it executes); RDTSC is the next one.
  assert.equal(m.reg('rdx'), 1n);
  assert.equal(m.reg('rax'), 1000001n);
});

test('IA32_TSC_AUX is what RDTSCP and RDPID read', { skip }, () => {
  const m = run(asm(64, `
    mov ecx, 0xc0000103
    mov eax, 0x1234
    xor edx, edx
    wrmsr
    rdtscp
    mov rbx, rcx
    rdpid rsi
    hlt`));
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(m.reg('rbx'), 0x1234n);
  assert.equal(m.reg('rsi'), 0x1234n);
});

test('platform MSRs go to cpu.msrBus first; the table answers what it declines', { skip }, () => {
  const writes: number[] = [];
  const bus: MsrBus = {
    rdmsr: (i) => (i === 0x802 ? [0x55, 0] : null),
    wrmsr: (i, lo) => { if (i !== 0x808) return false; writes.push(lo); return true; },
  };
  const m = run(asm(64, `
    mov ecx, 0x802
    rdmsr
    mov ebx, eax
    mov ecx, 0x808
    mov eax, 0x20
    xor edx, edx
    wrmsr
    mov ecx, 0x277
    rdmsr
    hlt`), { setup: (c) => { c.msrBus = bus; } });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(m.reg('rbx'), 0x55n);
  assert.deepEqual(writes, [0x20]);
  assert.equal(m.reg('rax'), 0x00070406n);
});

test('getStored reads the reset value of a stored MSR', () => {
  const m = run(Uint8Array.from([0xf4]));
  assert.equal(getStored(m.cpu, 0x277), 0x00070406);
  assert.equal(m.cpu.vHi, 0x00070406);
});
