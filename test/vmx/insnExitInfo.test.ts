/**
 * The encoders of exit qualifications and VM-exit instruction information (SDM vol. 3C §27.2.1
 * tables 27-3 to 27-5, §27.2.4 tables 27-8 to 27-14), with expected values worked out by hand
 * from those tables for each addressing form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  crQualification, descriptorTableInfo, displacementQualification, drQualification, ioQualification,
  memoryInstructionInfo, out, rdrandInfo, systemSelectorInfo, vmreadWriteInfo, CR_CLTS, CR_LMSW, CR_MOV_FROM, CR_MOV_TO,
} from '../../src/vmx/insnExitInfo';
import { scale48, scale48Hi } from '../../src/vmx/insnExitTime';
import { decodeOne } from './insnExitKit';

function qual(bitness: 16 | 32 | 64, bytes: number[]): bigint {
  const lo = displacementQualification(decodeOne(bitness, bytes));
  return (BigInt(out.hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

// Table 27-13: scaling 1:0, address size 9:7, segment 17:15, index 21:18 (+22 invalid), base 26:23 (+27 invalid).
test('VMPTRLD [rax+rbx*4+10h]: scale 4, 64-bit addresses, DS, index RBX, base RAX', () => {
  const d = decodeOne(64, [0x0f, 0xc7, 0x74, 0x98, 0x10]);
  assert.equal(hex(memoryInstructionInfo(d)), hex(2 | (2 << 7) | (3 << 15) | (3 << 18) | (0 << 23)));
  assert.equal(qual(64, [0x0f, 0xc7, 0x74, 0x98, 0x10]), 0x10n);
});

test('VMCLEAR [rbp-8]: SS segment, no index, displacement sign-extended to 64 bits', () => {
  const b = [0x66, 0x0f, 0xc7, 0x75, 0xf8];
  assert.equal(hex(memoryInstructionInfo(decodeOne(64, b))), hex((2 << 7) | (2 << 15) | (1 << 22) | (5 << 23)));
  assert.equal(qual(64, b), 0xfffffffffffffff8n);
});

test('VMXON [rip+100h]: no base or index; the qualification is the RIP-relative address', () => {
  const b = [0xf3, 0x0f, 0xc7, 0x35, 0x00, 0x01, 0x00, 0x00];
  assert.equal(hex(memoryInstructionInfo(decodeOne(64, b))), hex((2 << 7) | (3 << 15) | (1 << 22) | (1 << 27)));
  assert.equal(qual(64, b), 0x1000n + 8n + 0x100n);
});

test('VMPTRST [ebx-80h] in 32-bit mode: 32-bit addresses, disp8 sign-extended', () => {
  const b = [0x0f, 0xc7, 0x7b, 0x80];
  assert.equal(hex(memoryInstructionInfo(decodeOne(32, b))), hex((1 << 7) | (3 << 15) | (1 << 22) | (3 << 23)));
  assert.equal(qual(32, b), 0xffffffffffffff80n);
});

test('VMPTRLD [bx-2] with 16-bit addressing: address size 0, base BX', () => {
  const b = [0x67, 0x0f, 0xc7, 0x77, 0xfe];
  assert.equal(hex(memoryInstructionInfo(decodeOne(32, b))), hex((0 << 7) | (3 << 15) | (1 << 22) | (3 << 23)));
  assert.equal(qual(32, b), 0xfffffffffffffffen);
});

test('VMPTRLD [bp+si+1234h] in 16-bit code: base BP, index SI, SS', () => {
  const b = [0x0f, 0xc7, 0xb2, 0x34, 0x12];
  assert.equal(hex(memoryInstructionInfo(decodeOne(16, b))), hex((0 << 7) | (2 << 15) | (6 << 18) | (5 << 23)));
  assert.equal(qual(16, b), 0x1234n);
});

test('VMPTRLD [esi+8000h] (disp32 with bit 15 set, 32-bit): displacement is not 16-bit sign-extended', () => {
  const b = [0x0f, 0xc7, 0xb6, 0x00, 0x80, 0x00, 0x00];
  assert.equal(qual(32, b), 0x8000n);
});

test('INVEPT rax, [rbx] (table 27-9): Reg2 = the type register', () => {
  const d = decodeOne(64, [0x66, 0x0f, 0x38, 0x80, 0x03]);
  assert.equal(hex(memoryInstructionInfo(d)), hex((2 << 7) | (3 << 15) | (1 << 22) | (3 << 23) | (0 << 28)));
});

test('INVVPID r8, [r9+r10*8+12345678h]: extended registers in every field', () => {
  const b = [0x66, 0x47, 0x0f, 0x38, 0x81, 0x84, 0xd1, 0x78, 0x56, 0x34, 0x12];
  assert.equal(hex(memoryInstructionInfo(decodeOne(64, b))), hex(3 | (2 << 7) | (3 << 15) | (10 << 18) | (9 << 23) | (8 << 28)));
  assert.equal(qual(64, b), 0x12345678n);
});

test('INVPCID rcx, [rdx] (table 27-9)', () => {
  const d = decodeOne(64, [0x66, 0x0f, 0x38, 0x82, 0x0a]);
  assert.equal(hex(memoryInstructionInfo(d)), hex((2 << 7) | (3 << 15) | (1 << 22) | (2 << 23) | (1 << 28)));
});

test('FS override is reported as segment 4', () => {
  const d = decodeOne(64, [0x64, 0x0f, 0xc7, 0x30]); // VMPTRLD fs:[rax]
  assert.equal((memoryInstructionInfo(d) >>> 15) & 7, 4);
});

// Table 27-14: VMREAD/VMWRITE.
test('VMREAD rax, rcx: register form (bit 10), Reg1 = RAX, Reg2 = RCX', () => {
  const d = decodeOne(64, [0x0f, 0x78, 0xc8]);
  assert.equal(hex(vmreadWriteInfo(d, false)), hex((1 << 10) | (0 << 3) | (1 << 28)));
  assert.equal(qual(64, [0x0f, 0x78, 0xc8]), 0n);
});

test('VMWRITE rdx, [rsi]: memory form, Reg2 = RDX', () => {
  const d = decodeOne(64, [0x0f, 0x79, 0x16]);
  assert.equal(hex(vmreadWriteInfo(d, true)), hex((2 << 7) | (3 << 15) | (1 << 22) | (6 << 23) | (2 << 28)));
});

test('VMREAD [rsp+8], r15: memory destination, SS, Reg2 = R15', () => {
  const d = decodeOne(64, [0x4c, 0x0f, 0x78, 0x7c, 0x24, 0x08]);
  assert.equal(hex(vmreadWriteInfo(d, false)), hex((2 << 7) | (2 << 15) | (1 << 22) | (4 << 23) | (15 << 28)));
});

test('VMWRITE r12, r13: Reg1 = R13 (source), Reg2 = R12', () => {
  const d = decodeOne(64, [0x4d, 0x0f, 0x79, 0xe5]);
  assert.equal(hex(vmreadWriteInfo(d, true)), hex((1 << 10) | (13 << 3) | (12 << 28)));
});

// Table 27-10: LGDT/LIDT/SGDT/SIDT.
test('LGDT [rax] (64-bit): identity 2, operand-size bit 11 written 1', () => {
  const d = decodeOne(64, [0x0f, 0x01, 0x10]);
  assert.equal(hex(descriptorTableInfo(d, 2)), hex((2 << 7) | (1 << 11) | (3 << 15) | (1 << 22) | (0 << 23) | (2 << 28)));
});

test('SIDT with a 16-bit operand size (66h in 32-bit code): bit 11 = 0, identity 1', () => {
  const d = decodeOne(32, [0x66, 0x0f, 0x01, 0x0b]);
  assert.equal(hex(descriptorTableInfo(d, 1)), hex((1 << 7) | (3 << 15) | (1 << 22) | (3 << 23) | (1 << 28)));
});

test('SGDT [ecx+edx*2] 32-bit operand size: bit 11 = 1, scale 2', () => {
  const d = decodeOne(32, [0x0f, 0x01, 0x04, 0x51]);
  assert.equal(hex(descriptorTableInfo(d, 0)), hex(1 | (1 << 7) | (1 << 11) | (3 << 15) | (2 << 18) | (1 << 23)));
});

// Table 27-11: LLDT/LTR/SLDT/STR.
test('LLDT ax: register form, Reg1 = RAX, identity 2', () => {
  assert.equal(hex(systemSelectorInfo(decodeOne(64, [0x0f, 0x00, 0xd0]), 2)), hex((1 << 10) | (2 << 28)));
});

test('LTR r11w: Reg1 = R11, identity 3', () => {
  assert.equal(hex(systemSelectorInfo(decodeOne(64, [0x41, 0x0f, 0x00, 0xdb]), 3)), hex((1 << 10) | (11 << 3) | (3 << 28)));
});

test('STR [rdi]: memory form, identity 1', () => {
  assert.equal(hex(systemSelectorInfo(decodeOne(64, [0x0f, 0x00, 0x0f]), 1)), hex((2 << 7) | (3 << 15) | (1 << 22) | (7 << 23) | (1 << 28)));
});

test('SLDT [bx+di] in 16-bit code: 16-bit addresses, base BX, index DI', () => {
  assert.equal(hex(systemSelectorInfo(decodeOne(16, [0x0f, 0x00, 0x01]), 0)), hex((0 << 7) | (3 << 15) | (7 << 18) | (3 << 23)));
});

// Table 27-12: RDRAND/RDSEED.
test('RDRAND ecx: register 1, operand size 32', () => {
  assert.equal(rdrandInfo(decodeOne(64, [0x0f, 0xc7, 0xf1])), (1 << 3) | (1 << 11));
});

test('RDSEED r9 (REX.W): register 9, operand size 64', () => {
  assert.equal(rdrandInfo(decodeOne(64, [0x49, 0x0f, 0xc7, 0xf9])), (9 << 3) | (2 << 11));
});

test('RDRAND ax: operand size 16', () => {
  assert.equal(rdrandInfo(decodeOne(64, [0x66, 0x0f, 0xc7, 0xf0])), 0);
});

// Tables 27-3, 27-4, 27-5.
test('I/O qualification: size-1, direction, string, REP, immediate, port', () => {
  assert.equal(ioQualification(0x80, 1, false, false, false, true), 0x00800040);
  assert.equal(ioQualification(0x3f8, 4, true, false, false, false), 0x03f8000b);
  assert.equal(ioQualification(0xffff, 2, false, true, true, false), 0xffff0031);
});

test('CR-access qualification: MOV to/from CR, CLTS, LMSW', () => {
  assert.equal(crQualification(3, CR_MOV_TO, 0, false, 0), 0x3);
  assert.equal(crQualification(8, CR_MOV_FROM, 3, false, 0), 0x318);
  assert.equal(crQualification(0, CR_CLTS, 0, false, 0), 0x20);
  assert.equal(crQualification(0, CR_LMSW, 0, true, 0xf), 0xf0070);
  assert.equal(crQualification(4, CR_MOV_TO, 15, false, 0), 0xf04);
});

test('MOV-DR qualification: number, direction, register', () => {
  assert.equal(drQualification(7, true, 1), 0x107);
  assert.equal(drQualification(6, false, 2), 0x216);
  assert.equal(drQualification(0, false, 15), 0xf10);
});

test('TSC scaling: bits 111:48 of the 128-bit product', () => {
  const check = (t: bigint, m: bigint): void => {
    const lo = scale48(Number(t & 0xffffffffn) | 0, Number(t >> 32n) | 0, Number(m & 0xffffffffn) | 0, Number(m >> 32n) | 0);
    const hi = scale48Hi();
    const want = ((t * m) >> 48n) & 0xffffffffffffffffn;
    assert.equal((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0), want, `${t} * ${m}`);
  };
  check(1000n, 1n << 48n); // multiplier 1.0
  check(123456789n, 3n << 47n); // 1.5
  check(0xfedcba9876543n, 0xffffffffffffffffn);
  check(0xffffffffffffffffn, 0xffffffffffffffffn);
});
