/**
 * SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR, SHLD, SHRD (SDM vol. 2B). Expectations follow the SDM's
 * operation sections; flags the SDM leaves undefined (OF for counts other than 1, AF after
 * shifts, CF of narrow SHL/SHR beyond the width, 16-bit SHLD/SHRD counts above 16) are asserted
 * at the values measured on an Intel Xeon host with the same instruction bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, Instruction, MemoryOperand, Register } from 'iced-x86';
import { encode, runCode, type Ran, type RunSetup } from './run';

const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const STATUS = CF | PF | AF | ZF | SF | OF;

function exec(code: number[] | Uint8Array, setup: RunSetup = {}): Ran {
  const r = runCode([...code, 0xf4], setup);
  assert.equal(r.result.reason, 'hlt', `stopped: ${r.result.exception?.name} ${r.result.exception?.detail}`);
  return r;
}
const flags = (r: Ran): number => r.cpu.getRflags() & STATUS;
const hex = (v: bigint | number): string => `0x${v.toString(16)}`;
function mem64(r: Ran, a: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(r.mem.read8(a + i));
  return v;
}
function le(v: bigint, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

interface Case {
  name: string;
  code: number[] | Uint8Array;
  setup?: RunSetup;
  /** Expected register values. */
  regs?: Partial<Record<'rax' | 'rbx' | 'rcx' | 'rdx' | 'rsi', bigint>>;
  /** Expected status flags (all six). */
  flags?: number;
  /** Expected memory qwords. */
  mem?: Array<[number, bigint]>;
}

function check(c: Case): void {
  const r = exec(c.code, c.setup);
  for (const [name, v] of Object.entries(c.regs ?? {})) assert.equal(hex(r.reg(name as 'rax')), hex(v), `${c.name}: ${name}`);
  if (c.flags !== undefined) assert.equal(hex(flags(r)), hex(c.flags), `${c.name}: flags`);
  for (const [a, v] of c.mem ?? []) assert.equal(hex(mem64(r, a)), hex(v), `${c.name}: memory at ${hex(a)}`);
}

const ALL = 0x8d5 | 2;

test('SHL/SAL: count 1, CF and OF, 32-bit writes zero-extend', () => {
  check({
    name: 'shl eax,1',
    code: [0xd1, 0xe0],
    setup: { regs: { rax: 0xffffffff80000001n } },
    regs: { rax: 2n },
    flags: CF | OF, // OF = MSB(result) XOR CF = 0 ^ 1
  });
  check({
    name: 'sal eax,1 (D1 /6 alias)',
    code: [0xd1, 0xf0],
    setup: { regs: { rax: 0x40000000n } },
    regs: { rax: 0x80000000n },
    flags: SF | PF | OF,
  });
  check({
    name: 'shl rax,1 (iced encoder)',
    code: encode(64, [Instruction.createRegU32(Code.Shl_rm64_1, Register.RAX, 1)]),
    setup: { regs: { rax: 0xc000000000000000n } },
    regs: { rax: 0x8000000000000000n },
    flags: CF | SF | PF, // OF = 1 ^ 1
  });
});

test('shift counts are masked to 5 bits (6 for 64-bit); a masked count of 0 changes nothing', () => {
  const rax = 0xdeadbeef12345678n;
  check({
    name: 'shl eax,cl (cl=0): value kept, upper half zeroed as on hardware, flags kept',
    code: [0xd3, 0xe0],
    setup: { regs: { rax, rcx: 0n }, rflags: ALL },
    regs: { rax: 0x12345678n },
    flags: STATUS,
  });
  check({
    name: 'shl eax,0 (imm)',
    code: [0xc1, 0xe0, 0x00],
    setup: { regs: { rax }, rflags: ALL },
    regs: { rax: 0x12345678n },
    flags: STATUS,
  });
  check({
    name: 'shl rax,cl (cl=64 masks to 0)',
    code: encode(64, [Instruction.createRegReg(Code.Shl_rm64_CL, Register.RAX, Register.CL)]),
    setup: { regs: { rax, rcx: 64n }, rflags: ALL },
    regs: { rax },
    flags: STATUS,
  });
  check({
    name: 'shl al,cl (cl=32 masks to 0)',
    code: [0xd2, 0xe0],
    setup: { regs: { rax, rcx: 32n }, rflags: 2 },
    regs: { rax },
    flags: 0,
  });
  check({
    name: 'shl rax,cl (cl=65 masks to 1)',
    code: [0x48, 0xd3, 0xe0],
    setup: { regs: { rax, rcx: 65n } },
    regs: { rax: 0xbd5b7dde2468acf0n },
    flags: CF | SF | PF,
  });
  check({
    name: 'shl eax,cl (cl=33 masks to 1)',
    code: [0xd3, 0xe0],
    setup: { regs: { rax, rcx: 33n } },
    regs: { rax: 0x2468acf0n },
    flags: PF,
  });
});

test('narrow SHL/SHR/SAR at and beyond the operand width', () => {
  check({
    name: 'shl al,8: CF = old bit 0',
    code: [0xc0, 0xe0, 0x08],
    setup: { regs: { rax: 0x81n } },
    regs: { rax: 0n },
    flags: CF | ZF | PF | OF, // OF (count > 1) as hardware: MSB ^ bit 6 of the source
  });
  check({
    name: 'shl al,9: all bits out, CF = 0',
    code: [0xc0, 0xe0, 0x09],
    setup: { regs: { rax: 0xffn } },
    regs: { rax: 0n },
    flags: ZF | PF,
  });
  check({
    name: 'shr ax,16',
    code: [0x66, 0xc1, 0xe8, 0x10],
    setup: { regs: { rax: 0x1111222233338001n } },
    regs: { rax: 0x1111222233330000n },
    flags: CF | ZF | PF | OF, // OF = MSB of the original operand
  });
  check({
    name: 'shr eax,1',
    code: [0xd1, 0xe8],
    setup: { regs: { rax: 0x80000001n } },
    regs: { rax: 0x40000000n },
    flags: CF | PF | OF,
  });
  check({
    name: 'sar al,9 fills with the sign',
    code: [0xc0, 0xf8, 0x09],
    setup: { regs: { rax: 0x80n } },
    regs: { rax: 0xffn },
    flags: CF | SF | PF,
  });
  check({
    name: 'sar eax,31',
    code: [0xc1, 0xf8, 0x1f],
    setup: { regs: { rax: 0x80000000n } },
    regs: { rax: 0xffffffffn },
    flags: SF | PF,
  });
  check({
    name: 'sar eax,1: OF = 0',
    code: [0xd1, 0xf8],
    setup: { regs: { rax: 0x80000001n }, rflags: OF | 2 },
    regs: { rax: 0xc0000000n },
    flags: CF | SF | PF,
  });
});

test('64-bit shifts across the two halves', () => {
  check({ name: 'shl rax,31', code: [0x48, 0xc1, 0xe0, 31], setup: { regs: { rax: 0x180000000n } }, regs: { rax: 0xc000000000000000n }, flags: SF | PF });
  check({ name: 'shl rax,32', code: [0x48, 0xc1, 0xe0, 32], setup: { regs: { rax: 0x180000000n } }, regs: { rax: 0x8000000000000000n }, flags: CF | SF | PF });
  check({ name: 'shl rax,33', code: [0x48, 0xc1, 0xe0, 33], setup: { regs: { rax: 0x180000000n } }, regs: { rax: 0n }, flags: CF | ZF | PF });
  check({ name: 'shl rax,63', code: [0x48, 0xc1, 0xe0, 63], setup: { regs: { rax: 3n } }, regs: { rax: 0x8000000000000000n }, flags: CF | SF | PF });
  check({ name: 'shr rax,32', code: [0x48, 0xc1, 0xe8, 32], setup: { regs: { rax: 0x8000000100000000n } }, regs: { rax: 0x80000001n }, flags: OF });
  check({ name: 'shr rax,33', code: [0x48, 0xc1, 0xe8, 33], setup: { regs: { rax: 0x8000000100000000n } }, regs: { rax: 0x40000000n }, flags: CF | PF | OF });
  check({ name: 'shr rax,63', code: [0x48, 0xc1, 0xe8, 63], setup: { regs: { rax: 0xc000000000000000n } }, regs: { rax: 1n }, flags: CF | OF });
  check({ name: 'sar rax,32', code: [0x48, 0xc1, 0xf8, 32], setup: { regs: { rax: 0x8000000180000000n } }, regs: { rax: 0xffffffff80000001n }, flags: CF | SF });
  check({ name: 'sar rax,63', code: [0x48, 0xc1, 0xf8, 63], setup: { regs: { rax: 0x8000000000000000n } }, regs: { rax: 0xffffffffffffffffn }, flags: SF | PF });
});

test('high-byte registers: only AH/BH change', () => {
  check({
    name: 'shl ah,1',
    code: [0xd0, 0xe4],
    setup: { regs: { rax: 0x123456789abc8012n } },
    regs: { rax: 0x123456789abc0012n },
    flags: CF | ZF | PF | OF,
  });
  check({
    name: 'shr bh,cl',
    code: [0xd2, 0xef],
    setup: { regs: { rbx: 0xff00n, rcx: 4n } },
    regs: { rbx: 0x0f00n },
    flags: CF | PF | OF,
  });
});

test('ROL/ROR: only CF and OF change; rotation is modulo the width', () => {
  check({
    name: 'rol al,8: value kept, CF = LSB, OF kept (register, immediate count != 1)',
    code: [0xc0, 0xc0, 0x08],
    setup: { regs: { rax: 0x81n }, rflags: 2 },
    regs: { rax: 0x81n },
    flags: CF,
  });
  check({
    name: 'rol al,cl (cl=8): OF as the first one-bit step (hardware)',
    code: [0xd2, 0xc0],
    setup: { regs: { rax: 0x81n, rcx: 8n }, rflags: 2 },
    regs: { rax: 0x81n },
    flags: CF | OF,
  });
  check({
    name: 'rol eax,1 zero-extends, keeps SF/ZF/PF/AF',
    code: [0xd1, 0xc0],
    setup: { regs: { rax: 0xffffffff80000000n }, rflags: ZF | PF | AF | SF | 2 },
    regs: { rax: 1n },
    flags: CF | OF | ZF | PF | AF | SF,
  });
  check({
    name: 'ror rax,32 swaps the halves',
    code: [0x48, 0xc1, 0xc8, 32],
    setup: { regs: { rax: 0x1111111180000000n }, rflags: 2 },
    regs: { rax: 0x8000000011111111n },
    flags: CF,
  });
  check({
    name: 'ror rax,1',
    code: [0x48, 0xd1, 0xc8],
    setup: { regs: { rax: 1n } },
    regs: { rax: 0x8000000000000000n },
    flags: CF | OF,
  });
  check({
    name: 'rol rax,cl (cl=36)',
    code: [0x48, 0xd3, 0xc0],
    setup: { regs: { rax: 0x0000000f00000001n, rcx: 36n } },
    regs: { rax: 0x00000010000000f0n },
    flags: 0,
  });
  check({
    name: 'ror ax,4',
    code: [0x66, 0xc1, 0xc8, 0x04],
    setup: { regs: { rax: 0xaaaa1234n }, rflags: OF | 2 },
    regs: { rax: 0xaaaa4123n },
    flags: OF,
  });
  check({
    name: 'rol dword [rbx],4: memory form with an immediate count sets OF like the CL form',
    code: [0xc1, 0x03, 0x04],
    setup: { regs: { rbx: 0x3000n }, memory: [[0x3000, le(0x81234567n, 4)]], rflags: 2 },
    mem: [[0x3000, 0x12345678n]],
    flags: OF, // CF = LSB(0x12345678) = 0; OF = bit 31 ^ bit 30 of the source
  });
});

test('RCL/RCR: rotation through CF, modulo 9/17 for 8/16-bit operands', () => {
  check({
    name: 'rcl al,9: rotates by 0, flags untouched',
    code: [0xc0, 0xd0, 0x09],
    setup: { regs: { rax: 0x81n }, rflags: CF | OF | 2 },
    regs: { rax: 0x81n },
    flags: CF | OF,
  });
  check({
    name: 'rcr ax,cl (cl=17): rotates by 0',
    code: [0x66, 0xd3, 0xd8],
    setup: { regs: { rax: 0x8001n, rcx: 17n }, rflags: 2 },
    regs: { rax: 0x8001n },
    flags: 0,
  });
  check({
    name: 'rcl al,1',
    code: [0xd0, 0xd0],
    setup: { regs: { rax: 0x80n }, rflags: CF | 2 },
    regs: { rax: 0x01n },
    flags: CF | OF,
  });
  check({
    name: 'rcr al,1',
    code: [0xd0, 0xd8],
    setup: { regs: { rax: 0x01n }, rflags: CF | 2 },
    regs: { rax: 0x80n },
    flags: CF | OF,
  });
  check({
    name: 'rcl al,cl (cl=10 -> 1 after mod 9)',
    code: [0xd2, 0xd0],
    setup: { regs: { rax: 0x40n, rcx: 10n }, rflags: 2 },
    regs: { rax: 0x80n, rcx: 10n },
    flags: OF,
  });
  check({
    name: 'rcl ax,16: CF enters bit 15',
    code: [0x66, 0xc1, 0xd0, 0x10],
    setup: { regs: { rax: 0x0003n }, rflags: CF | 2 },
    regs: { rax: 0x8001n },
    flags: CF, // new CF = old bit 1; OF (count > 1) = bit 15 ^ bit 14 of the source = 0
  });
  check({
    name: 'rcl eax,cl (cl=31)',
    code: [0xd3, 0xd0],
    setup: { regs: { rax: 2n, rcx: 31n }, rflags: CF | 2 },
    regs: { rax: 0x40000000n },
    flags: CF,
  });
  check({
    name: 'rcl rax,1 across the halves',
    code: [0x48, 0xd1, 0xd0],
    setup: { regs: { rax: 0x8000000080000000n }, rflags: CF | 2 },
    regs: { rax: 0x0000000100000001n },
    flags: CF | OF,
  });
  check({
    name: 'rcr rax,cl (cl=63)',
    code: [0x48, 0xd3, 0xd8],
    setup: { regs: { rax: 1n, rcx: 63n }, rflags: 2 },
    regs: { rax: 4n },
    flags: 0,
  });
  check({
    name: 'rcr rax,32',
    code: [0x48, 0xc1, 0xd8, 32],
    setup: { regs: { rax: 0x0000000200000003n }, rflags: CF | 2 },
    regs: { rax: 0x0000000700000002n },
    flags: OF,
  });
});

test('SHLD/SHRD', () => {
  check({
    name: 'shld eax,edx,8',
    code: [0x0f, 0xa4, 0xd0, 0x08],
    setup: { regs: { rax: 0x12345678n, rdx: 0xabcdef01n } },
    regs: { rax: 0x345678abn },
    flags: 0,
  });
  check({
    name: 'shld eax,edx,1: OF = sign change',
    code: [0x0f, 0xa4, 0xd0, 0x01],
    setup: { regs: { rax: 0x40000000n, rdx: 0x80000000n } },
    regs: { rax: 0x80000001n },
    flags: SF | OF,
  });
  check({
    name: 'shrd rax,rdx,40',
    code: [0x48, 0x0f, 0xac, 0xd0, 40],
    setup: { regs: { rax: 0x1122334455667788n, rdx: 0x99aabbccddeeff00n } },
    regs: { rax: 0xccddeeff00112233n },
    flags: SF | PF,
  });
  check({
    name: 'shld rax,rdx,cl (cl=32)',
    code: encode(64, [Instruction.createRegRegReg(Code.Shld_rm64_r64_CL, Register.RAX, Register.RDX, Register.CL)]),
    setup: { regs: { rax: 0x0000000180000000n, rdx: 0xfedcba9876543210n, rcx: 32n } },
    regs: { rax: 0x80000000fedcba98n },
    flags: CF | SF, // CF = bit 32 of RAX
  });
  check({
    name: 'shld ax,dx,cl (cl=16): AX = DX, CF = old bit 0',
    code: [0x66, 0x0f, 0xa5, 0xd0],
    setup: { regs: { rax: 0x8001n, rdx: 0x1234n, rcx: 16n } },
    regs: { rax: 0x1234n },
    flags: CF | OF,
  });
  check({
    name: 'shld ax,dx,cl (cl=20): undefined result, Intel value',
    code: [0x66, 0x0f, 0xa5, 0xd0],
    setup: { regs: { rax: 0x8001n, rdx: 0x1234n, rcx: 20n } },
    regs: { rax: 0x2348n },
    flags: CF | PF | OF,
  });
  check({
    name: 'shrd ax,dx,cl (cl=20): undefined result, Intel value',
    code: [0x66, 0x0f, 0xad, 0xd0],
    setup: { regs: { rax: 0x8001n, rdx: 0x1234n, rcx: 20n } },
    regs: { rax: 0x1123n },
    flags: OF,
  });
  check({
    name: 'shld eax,edx,0: upper half zeroed, flags kept',
    code: [0x0f, 0xa4, 0xd0, 0x00],
    setup: { regs: { rax: 0xffffffff12345678n, rdx: 1n }, rflags: ALL },
    regs: { rax: 0x12345678n },
    flags: STATUS,
  });
  check({
    name: 'shrd dword [rbx],edx,cl (cl=4)',
    code: [0x0f, 0xad, 0x13],
    setup: { regs: { rbx: 0x3000n, rdx: 0xabcdef0fn, rcx: 4n }, memory: [[0x3000, le(0x1234567812345678n, 8)]] },
    mem: [[0x3000, 0x12345678f1234567n]],
    flags: CF | SF | OF, // CF = bit 3 of the old dword; OF (count > 1, hardware) = MSB(dst) ^ LSB(src)
  });
});

test('memory destinations, including a count of 0', () => {
  check({
    name: 'shl dword [rbx],cl',
    code: [0xd3, 0x23],
    setup: { regs: { rbx: 0x3000n, rcx: 2n }, memory: [[0x3000, le(0xaaaaaaaa40000001n, 8)]] },
    mem: [[0x3000, 0xaaaaaaaa00000004n]],
    flags: CF | OF,
  });
  check({
    name: 'rcr qword [rbx+8],1',
    code: encode(64, [Instruction.createMemU32(Code.Rcr_rm64_1, new MemoryOperand(Register.RBX, Register.None, 1, 8n, 1, false, Register.None), 1)]),
    setup: { regs: { rbx: 0x3000n }, memory: [[0x3008, le(0x0000000100000000n, 8)]], rflags: CF | 2 },
    mem: [[0x3008, 0x8000000080000000n]],
    flags: OF,
  });
  check({
    name: 'sar word [rbx],cl (cl=0) changes nothing',
    code: [0x66, 0xd3, 0x3b],
    setup: { regs: { rbx: 0x3000n, rcx: 0n }, memory: [[0x3000, le(0x8001n, 2)]], rflags: ALL },
    mem: [[0x3000, 0x8001n]],
    flags: STATUS,
  });
  check({
    name: 'shr qword [rbx],33',
    code: [0x48, 0xc1, 0x2b, 33],
    setup: { regs: { rbx: 0x3000n }, memory: [[0x3000, le(0x8000000300000000n, 8)]] },
    mem: [[0x3000, 0x40000001n]],
    flags: CF | OF,
  });
});

test('a memory destination is accessed even when the masked count is 0', () => {
  // Real mode: a word at offset 0xffff crosses the 64 KiB limit, so the access faults (#GP).
  const r = runCode([0xd3, 0x26, 0xff, 0xff, 0xf4], { mode: 'real', regs: { rcx: 0n } }); // shl word [0xffff],cl
  assert.equal(r.result.reason, 'exception');
  assert.equal(r.result.exception?.vector, 13);
  assert.equal(r.cpu.getRip(), 0x1000n);
  const ok = runCode([0xd3, 0x26, 0xfe, 0xff, 0xf4], { mode: 'real', regs: { rcx: 0n } }); // shl word [0xfffe],cl
  assert.equal(ok.result.reason, 'hlt');
});

test('16-bit real-mode code: 16-bit operands by default, 66h selects 32 bits', () => {
  check({
    name: 'shl ax,cl keeps the upper half of EAX',
    code: [0xd3, 0xe0],
    setup: { mode: 'real', regs: { rax: 0xffff0001n, rcx: 4n } },
    regs: { rax: 0xffff0010n },
    flags: 0,
  });
  check({
    name: '66 shl eax,cl',
    code: [0x66, 0xd3, 0xe0],
    setup: { mode: 'real', regs: { rax: 0x80000001n, rcx: 1n } },
    regs: { rax: 2n },
    flags: CF | OF,
  });
  check({
    name: 'shr word [bx],1',
    code: [0xd1, 0x2f],
    setup: { mode: 'real', regs: { rbx: 0x2000n }, memory: [[0x2000, [0x03, 0x80]]] },
    mem: [[0x2000, 0x4001n]],
    flags: CF | OF,
  });
  check({
    name: 'rcl byte [bx+si+4],cl (cl=9 -> 0 after mod 9)',
    code: [0xd2, 0x50, 0x04],
    setup: { mode: 'real', regs: { rbx: 0x2000n, rsi: 0x10n, rcx: 9n }, memory: [[0x2014, [0x5a]]], rflags: CF | 2 },
    mem: [[0x2014, 0x5an]],
    flags: CF,
  });
  check({
    name: 'rcl byte [bx+si+4],cl (cl=1)',
    code: [0xd2, 0x50, 0x04],
    setup: { mode: 'real', regs: { rbx: 0x2000n, rsi: 0x10n, rcx: 1n }, memory: [[0x2014, [0x5a]]], rflags: CF | 2 },
    mem: [[0x2014, 0xb5n]],
    flags: OF, // CF = old bit 7 = 0; OF = MSB(result) ^ CF = 1
  });
  check({
    name: 'shld ax,dx,cl',
    code: [0x0f, 0xa5, 0xd0],
    setup: { mode: 'real', regs: { rax: 0x12345678n, rdx: 0x9abcn, rcx: 4n } },
    regs: { rax: 0x12346789n },
    flags: CF | OF, // CF = bit 12 of 0x5678; OF (count > 1, hardware) = bit 15 ^ bit 14 of 0x5678
  });
  check({
    name: 'sar ax,0 is a no-op',
    code: [0xc1, 0xf8, 0x00],
    setup: { mode: 'real', regs: { rax: 0x8000n }, rflags: ALL },
    regs: { rax: 0x8000n },
    flags: STATUS,
  });
});

test('32-bit protected-mode code: 66h selects 16-bit operands', () => {
  check({
    name: '66 rol ax,cl',
    code: [0x66, 0xd3, 0xc0],
    setup: { mode: 'protected', regs: { rax: 0x12348001n, rcx: 1n } },
    regs: { rax: 0x12340003n },
    flags: CF | OF,
  });
  check({
    name: 'shr dword [ebx],cl',
    code: [0xd3, 0x2b],
    setup: { mode: 'protected', regs: { rbx: 0x3000n, rcx: 31n }, memory: [[0x3000, le(0x80000000n, 4)]] },
    mem: [[0x3000, 1n]],
    flags: OF,
  });
});
