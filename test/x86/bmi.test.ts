/**
 * BMI1/BMI2/ADX: ANDN, BEXTR, BLSI, BLSMSK, BLSR, BZHI, PDEP, PEXT, RORX, SARX, SHLX, SHRX, MULX,
 * ADCX, ADOX (SDM vol. 2A/2B). Expectations follow the SDM's operation sections; flags the SDM
 * leaves undefined are asserted at the values measured on an Intel Xeon host (AF and PF cleared,
 * and BEXTR's SF cleared).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, Instruction, MemoryOperand, Register } from 'iced-x86';
import { encode, runCode, type Ran, type RunSetup } from './run';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode } from '../../src/x86/modes';
import { GPR_NAMES, type GprName } from '../../src/x86/registers';

const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const STATUS = CF | PF | AF | ZF | SF | OF;
const ALL = STATUS | 2;

function exec(code: number[] | Uint8Array, setup: RunSetup = {}): Ran {
  const r = runCode([...code, 0xf4], setup);
  assert.equal(r.result.reason, 'hlt', `stopped: ${r.result.exception?.name} ${r.result.exception?.detail}`);
  return r;
}
const flags = (r: Ran): number => r.cpu.getRflags() & STATUS;
const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

interface Case {
  name: string;
  code: number[] | Uint8Array;
  setup?: RunSetup;
  regs?: Partial<Record<GprName, bigint>>;
  flags?: number;
}

function check(c: Case): void {
  const r = exec(c.code, c.setup);
  for (const [name, v] of Object.entries(c.regs ?? {})) assert.equal(hex(r.reg(name as GprName)), hex(v), `${c.name}: ${name}`);
  if (c.flags !== undefined) assert.equal(hex(flags(r)), hex(c.flags), `${c.name}: flags`);
}

const R = Register;
const rrr = (code: Code, a: Register, b: Register, c: Register): Uint8Array => encode(64, [Instruction.createRegRegReg(code, a, b, c)]);
const rr = (code: Code, a: Register, b: Register): Uint8Array => encode(64, [Instruction.createRegReg(code, a, b)]);

test('ANDN: ~src1 & src2; SF/ZF from the result, CF = OF = 0', () => {
  check({
    name: 'andn rax,rcx,rdx',
    code: rrr(Code.VEX_Andn_r64_r64_rm64, R.RAX, R.RCX, R.RDX),
    setup: { regs: { rcx: 0xff00ff00ff00ff00n, rdx: 0xffffffff00000000n }, rflags: ALL },
    regs: { rax: 0x00ff00ff00000000n },
    flags: 0,
  });
  check({
    name: 'andn eax,ecx,edx (zero, zero-extended)',
    code: rrr(Code.VEX_Andn_r32_r32_rm32, R.EAX, R.ECX, R.EDX),
    setup: { regs: { rax: -1n, rcx: 0xffffffffn, rdx: 0x12345678n } },
    regs: { rax: 0n },
    flags: ZF,
  });
  check({
    name: 'andn eax,ecx,[rbx] (negative)',
    code: encode(64, [Instruction.createRegRegMem(Code.VEX_Andn_r32_r32_rm32, R.EAX, R.ECX, new MemoryOperand(R.RBX, R.None, 1, 0n, 0, false, R.None))]),
    setup: { regs: { rbx: 0x3000n, rcx: 0x0000ffffn }, memory: [[0x3000, [0x34, 0x12, 0xff, 0xff]]], rflags: CF | OF | 2 },
    regs: { rax: 0xffff0000n },
    flags: SF,
  });
});

test('BEXTR: start = bits 7:0, length = bits 15:8 of the control operand', () => {
  const bextr32 = rrr(Code.VEX_Bextr_r32_rm32_r32, R.EAX, R.ECX, R.EDX);
  const bextr64 = rrr(Code.VEX_Bextr_r64_rm64_r64, R.RAX, R.RCX, R.RDX);
  check({ name: 'start 4 length 8', code: bextr32, setup: { regs: { rcx: 0x12345678n, rdx: 0x0804n }, rflags: ALL }, regs: { rax: 0x67n }, flags: 0 });
  check({ name: 'start beyond the width', code: bextr32, setup: { regs: { rax: -1n, rcx: 0x12345678n, rdx: 0x0820n } }, regs: { rax: 0n }, flags: ZF });
  check({ name: 'length 0', code: bextr32, setup: { regs: { rcx: 0x12345678n, rdx: 0x0004n } }, regs: { rax: 0n }, flags: ZF });
  check({ name: 'length beyond the width', code: bextr32, setup: { regs: { rcx: 0x12345678n, rdx: 0xff04n } }, regs: { rax: 0x01234567n }, flags: 0 });
  check({ name: 'upper control bits ignored', code: bextr32, setup: { regs: { rcx: 0x12345678n, rdx: 0xffff1000n } }, regs: { rax: 0x5678n }, flags: 0 });
  check({ name: 'negative result: SF cleared (hardware)', code: bextr32, setup: { regs: { rcx: 0x80000000n, rdx: 0x2000n } }, regs: { rax: 0x80000000n }, flags: 0 });
  check({ name: '64: start 28 length 44', code: bextr64, setup: { regs: { rcx: 0x123456789abcdef0n, rdx: 0x2c1cn } }, regs: { rax: 0x123456789n }, flags: 0 });
  check({ name: '64: start 60 length 8', code: bextr64, setup: { regs: { rcx: 0x123456789abcdef0n, rdx: 0x083cn } }, regs: { rax: 1n }, flags: 0 });
  check({ name: '64: start 16 length 33', code: bextr64, setup: { regs: { rcx: -1n, rdx: 0x2110n } }, regs: { rax: 0x1ffffffffn }, flags: 0 });
  check({ name: '64: start 64', code: bextr64, setup: { regs: { rcx: -1n, rdx: 0x0840n } }, regs: { rax: 0n }, flags: ZF });
});

test('BLSI, BLSMSK, BLSR', () => {
  check({ name: 'blsi eax,ecx', code: rr(Code.VEX_Blsi_r32_rm32, R.EAX, R.ECX), setup: { regs: { rax: -1n, rcx: 0x000f0000n } }, regs: { rax: 0x10000n }, flags: CF });
  check({ name: 'blsi rax,rcx (sign)', code: rr(Code.VEX_Blsi_r64_rm64, R.RAX, R.RCX), setup: { regs: { rcx: 0x8000000000000000n } }, regs: { rax: 0x8000000000000000n }, flags: CF | SF });
  check({ name: 'blsi rax,rcx (0)', code: rr(Code.VEX_Blsi_r64_rm64, R.RAX, R.RCX), setup: { regs: { rax: 5n, rcx: 0n }, rflags: ALL }, regs: { rax: 0n }, flags: ZF });
  check({ name: 'blsi rax,rcx (low half 0)', code: rr(Code.VEX_Blsi_r64_rm64, R.RAX, R.RCX), setup: { regs: { rcx: 0x0000003000000000n } }, regs: { rax: 0x0000001000000000n }, flags: CF });
  check({ name: 'blsmsk eax,ecx', code: rr(Code.VEX_Blsmsk_r32_rm32, R.EAX, R.ECX), setup: { regs: { rcx: 8n }, rflags: ALL }, regs: { rax: 0xfn }, flags: 0 });
  check({ name: 'blsmsk eax,ecx (0)', code: rr(Code.VEX_Blsmsk_r32_rm32, R.EAX, R.ECX), setup: { regs: { rcx: 0n } }, regs: { rax: 0xffffffffn }, flags: CF | SF });
  check({ name: 'blsmsk rax,rcx (borrow across halves)', code: rr(Code.VEX_Blsmsk_r64_rm64, R.RAX, R.RCX), setup: { regs: { rcx: 0x100000000n } }, regs: { rax: 0x1ffffffffn }, flags: 0 });
  check({ name: 'blsr eax,ecx', code: rr(Code.VEX_Blsr_r32_rm32, R.EAX, R.ECX), setup: { regs: { rcx: 0x18n } }, regs: { rax: 0x10n }, flags: 0 });
  check({ name: 'blsr eax,ecx (0)', code: rr(Code.VEX_Blsr_r32_rm32, R.EAX, R.ECX), setup: { regs: { rcx: 0n } }, regs: { rax: 0n }, flags: CF | ZF });
  check({ name: 'blsr eax,ecx (single bit)', code: rr(Code.VEX_Blsr_r32_rm32, R.EAX, R.ECX), setup: { regs: { rcx: 0x80000000n } }, regs: { rax: 0n }, flags: ZF });
  check({ name: 'blsr rax,rcx (borrow across halves)', code: rr(Code.VEX_Blsr_r64_rm64, R.RAX, R.RCX), setup: { regs: { rcx: 0x300000000n } }, regs: { rax: 0x200000000n }, flags: 0 });
});

test('BZHI: clear bits from index n; CF = n beyond the width', () => {
  const b32 = rrr(Code.VEX_Bzhi_r32_rm32_r32, R.EAX, R.ECX, R.EDX);
  const b64 = rrr(Code.VEX_Bzhi_r64_rm64_r64, R.RAX, R.RCX, R.RDX);
  check({ name: 'n = 8', code: b32, setup: { regs: { rcx: -1n, rdx: 8n }, rflags: ALL }, regs: { rax: 0xffn }, flags: 0 });
  check({ name: 'n = 0', code: b32, setup: { regs: { rcx: -1n, rdx: 0n } }, regs: { rax: 0n }, flags: ZF });
  check({ name: 'n = 32', code: b32, setup: { regs: { rcx: -1n, rdx: 32n } }, regs: { rax: 0xffffffffn }, flags: CF | SF });
  check({ name: 'n = 0x101 (only bits 7:0 count)', code: b32, setup: { regs: { rcx: -1n, rdx: 0x101n } }, regs: { rax: 1n }, flags: 0 });
  check({ name: '64: n = 40', code: b64, setup: { regs: { rcx: -1n, rdx: 40n } }, regs: { rax: 0xffffffffffn }, flags: 0 });
  check({ name: '64: n = 32', code: b64, setup: { regs: { rcx: -1n, rdx: 32n } }, regs: { rax: 0xffffffffn }, flags: 0 });
  check({ name: '64: n = 64', code: b64, setup: { regs: { rcx: -1n, rdx: 64n } }, regs: { rax: 0xffffffffffffffffn }, flags: CF | SF });
});

test('PDEP/PEXT (no flags)', () => {
  check({ name: 'pdep eax,ecx,edx', code: rrr(Code.VEX_Pdep_r32_r32_rm32, R.EAX, R.ECX, R.EDX), setup: { regs: { rcx: 0b101n, rdx: 0xf0n }, rflags: ALL }, regs: { rax: 0x50n }, flags: STATUS });
  check({ name: 'pdep rax,rcx,rdx (to both ends)', code: rrr(Code.VEX_Pdep_r64_r64_rm64, R.RAX, R.RCX, R.RDX), setup: { regs: { rcx: -1n, rdx: 0x8000000000000001n } }, regs: { rax: 0x8000000000000001n }, flags: 0 });
  check({ name: 'pdep rax,rcx,rdx (bit 1 -> bit 32)', code: rrr(Code.VEX_Pdep_r64_r64_rm64, R.RAX, R.RCX, R.RDX), setup: { regs: { rcx: 0b10n, rdx: 0x100000001n } }, regs: { rax: 0x100000000n } });
  check({ name: 'pdep rax,rcx,rdx (source bit 35)', code: rrr(Code.VEX_Pdep_r64_r64_rm64, R.RAX, R.RCX, R.RDX), setup: { regs: { rcx: 0x800000000n, rdx: -1n } }, regs: { rax: 0x800000000n } });
  check({ name: 'pext eax,ecx,edx', code: rrr(Code.VEX_Pext_r32_r32_rm32, R.EAX, R.ECX, R.EDX), setup: { regs: { rax: -1n, rcx: 0x12345678n, rdx: 0xff00n } }, regs: { rax: 0x56n } });
  check({ name: 'pext rax,rcx,rdx (both ends)', code: rrr(Code.VEX_Pext_r64_r64_rm64, R.RAX, R.RCX, R.RDX), setup: { regs: { rcx: 0x8000000000000001n, rdx: 0x8000000000000001n } }, regs: { rax: 3n } });
  check({ name: 'pext rax,rcx,rdx (high half)', code: rrr(Code.VEX_Pext_r64_r64_rm64, R.RAX, R.RCX, R.RDX), setup: { regs: { rcx: 0xabcd000000000000n, rdx: 0xffff000000000000n } }, regs: { rax: 0xabcdn } });
  check({ name: 'pext rax,rcx,rdx (33 bits)', code: rrr(Code.VEX_Pext_r64_r64_rm64, R.RAX, R.RCX, R.RDX), setup: { regs: { rcx: -1n, rdx: 0xaaaaaaaaaaaaaaaan | 1n } }, regs: { rax: 0x1ffffffffn } });
});

test('RORX, SHLX, SHRX, SARX: counts masked to 5 (6) bits, no flags', () => {
  const rorx = (code: Code, a: Register, b: Register, imm: number): Uint8Array => encode(64, [Instruction.createRegRegU32(code, a, b, imm)]);
  check({ name: 'rorx eax,ecx,4', code: rorx(Code.VEX_Rorx_r32_rm32_imm8, R.EAX, R.ECX, 4), setup: { regs: { rax: -1n, rcx: 0x12345678n }, rflags: ALL }, regs: { rax: 0x81234567n }, flags: STATUS });
  check({ name: 'rorx rax,rcx,32', code: rorx(Code.VEX_Rorx_r64_rm64_imm8, R.RAX, R.RCX, 32), setup: { regs: { rcx: 0x1111111122222222n } }, regs: { rax: 0x2222222211111111n }, flags: 0 });
  check({ name: 'rorx rax,rcx,68 (-> 4)', code: rorx(Code.VEX_Rorx_r64_rm64_imm8, R.RAX, R.RCX, 68), setup: { regs: { rcx: 0x123456789abcdef1n } }, regs: { rax: 0x1123456789abcdefn } });
  check({ name: 'rorx rax,rcx,36', code: rorx(Code.VEX_Rorx_r64_rm64_imm8, R.RAX, R.RCX, 36), setup: { regs: { rcx: 0x123456789abcdef1n } }, regs: { rax: 0x89abcdef11234567n } });
  check({ name: 'rorx eax,ecx,0', code: rorx(Code.VEX_Rorx_r32_rm32_imm8, R.EAX, R.ECX, 0), setup: { regs: { rax: -1n, rcx: 0x89abcdefn } }, regs: { rax: 0x89abcdefn } });
  check({ name: 'shlx eax,ecx,edx (33 -> 1)', code: rrr(Code.VEX_Shlx_r32_rm32_r32, R.EAX, R.ECX, R.EDX), setup: { regs: { rax: -1n, rcx: 0x80000001n, rdx: 33n }, rflags: 2 }, regs: { rax: 2n }, flags: 0 });
  check({ name: 'shlx rax,rcx,rdx (36)', code: rrr(Code.VEX_Shlx_r64_rm64_r64, R.RAX, R.RCX, R.RDX), setup: { regs: { rcx: 0x1fn, rdx: 36n } }, regs: { rax: 0x1f000000000n } });
  check({ name: 'shrx rax,rcx,rdx (63)', code: rrr(Code.VEX_Shrx_r64_rm64_r64, R.RAX, R.RCX, R.RDX), setup: { regs: { rcx: 0x8000000000000000n, rdx: 63n } }, regs: { rax: 1n } });
  check({ name: 'shrx eax,ecx,edx', code: rrr(Code.VEX_Shrx_r32_rm32_r32, R.EAX, R.ECX, R.EDX), setup: { regs: { rcx: 0x80000000n, rdx: 31n } }, regs: { rax: 1n } });
  check({ name: 'sarx rax,rcx,rdx (64 -> 0)', code: rrr(Code.VEX_Sarx_r64_rm64_r64, R.RAX, R.RCX, R.RDX), setup: { regs: { rcx: 0x8000000000000001n, rdx: 64n } }, regs: { rax: 0x8000000000000001n } });
  check({ name: 'sarx rax,rcx,rdx (40)', code: rrr(Code.VEX_Sarx_r64_rm64_r64, R.RAX, R.RCX, R.RDX), setup: { regs: { rcx: 0x8000000000000000n, rdx: 40n } }, regs: { rax: 0xffffffffff800000n } });
  check({ name: 'sarx eax,ecx,edx zero-extends', code: rrr(Code.VEX_Sarx_r32_rm32_r32, R.EAX, R.ECX, R.EDX), setup: { regs: { rcx: 0x80000000n, rdx: 31n } }, regs: { rax: 0xffffffffn } });
});

test('MULX: unsigned EDX/RDX * r/m, low half to VEX.vvvv then high half to ModRM.reg, no flags', () => {
  check({
    name: 'mulx r8d,r9d,ecx',
    code: rrr(Code.VEX_Mulx_r32_r32_rm32, R.R8D, R.R9D, R.ECX),
    setup: { regs: { rdx: 0xffffffffffffffffn, rcx: 0xffffffffn, r8: -1n, r9: -1n }, rflags: ALL },
    regs: { r8: 0xfffffffen, r9: 1n },
    flags: STATUS,
  });
  check({
    name: 'mulx eax,ebx,ecx',
    code: rrr(Code.VEX_Mulx_r32_r32_rm32, R.EAX, R.EBX, R.ECX),
    setup: { regs: { rdx: 0xdeadbeefn, rcx: 0xcafebaben } },
    regs: { rax: 0xb092ab7bn, rbx: 0x88cf5b62n },
  });
  check({
    name: 'mulx rax,rbx,rcx (max)',
    code: rrr(Code.VEX_Mulx_r64_r64_rm64, R.RAX, R.RBX, R.RCX),
    setup: { regs: { rdx: -1n, rcx: -1n } },
    regs: { rax: 0xfffffffffffffffen, rbx: 1n },
  });
  check({
    name: 'mulx rax,rbx,rcx',
    code: rrr(Code.VEX_Mulx_r64_r64_rm64, R.RAX, R.RBX, R.RCX),
    setup: { regs: { rdx: 0x123456789abcdef0n, rcx: 0x0fedcba987654321n } },
    regs: { rax: 0x0121fa00ad77d742n, rbx: 0x2236d88fe5618cf0n },
  });
  check({
    name: 'mulx rax,rax,rcx: the high half wins',
    code: rrr(Code.VEX_Mulx_r64_r64_rm64, R.RAX, R.RAX, R.RCX),
    setup: { regs: { rdx: 0x123456789abcdef0n, rcx: 0x0fedcba987654321n } },
    regs: { rax: 0x0121fa00ad77d742n },
  });
  check({
    name: 'mulx rdx,rax,rdx: sources read before the writes',
    code: rrr(Code.VEX_Mulx_r64_r64_rm64, R.RDX, R.RAX, R.RDX),
    setup: { regs: { rdx: 0x100000000n } },
    regs: { rdx: 1n, rax: 0n },
  });
  check({
    name: 'mulx rax,rbx,[rsi]',
    code: encode(64, [Instruction.createRegRegMem(Code.VEX_Mulx_r64_r64_rm64, R.RAX, R.RBX, new MemoryOperand(R.RSI, R.None, 1, 0n, 0, false, R.None))]),
    setup: { regs: { rdx: 3n, rsi: 0x3000n }, memory: [[0x3000, [0, 0, 0, 0, 0, 0, 0, 0x80]]] },
    regs: { rax: 1n, rbx: 0x8000000000000000n },
  });
});

test('ADCX/ADOX: carry through CF or OF only', () => {
  check({
    name: 'adcx eax,ecx',
    code: rr(Code.Adcx_r32_rm32, R.EAX, R.ECX),
    setup: { regs: { rax: 0xffffffffffffffffn, rcx: 0n }, rflags: CF | OF | 2 },
    regs: { rax: 0n },
    flags: CF | OF, // ZF not set: only CF changes
  });
  check({
    name: 'adcx rax,rcx',
    code: rr(Code.Adcx_r64_rm64, R.RAX, R.RCX),
    setup: { regs: { rax: 0xffffffffn, rcx: 1n }, rflags: ZF | SF | PF | 2 },
    regs: { rax: 0x100000000n },
    flags: ZF | SF | PF,
  });
  check({
    name: 'adcx rax,rcx carries out of bit 63',
    code: rr(Code.Adcx_r64_rm64, R.RAX, R.RCX),
    setup: { regs: { rax: 0x8000000000000000n, rcx: 0x8000000000000000n }, rflags: CF | 2 },
    regs: { rax: 1n },
    flags: CF,
  });
  check({
    name: 'adox rax,rcx',
    code: rr(Code.Adox_r64_rm64, R.RAX, R.RCX),
    setup: { regs: { rax: -1n, rcx: 1n }, rflags: OF | 2 },
    regs: { rax: 1n },
    flags: OF, // CF stays 0
  });
  check({
    name: 'adox eax,[rbx]',
    code: encode(64, [Instruction.createRegMem(Code.Adox_r32_rm32, R.EAX, new MemoryOperand(R.RBX, R.None, 1, 0n, 0, false, R.None))]),
    setup: { regs: { rax: 0x7fffffffn, rbx: 0x3000n }, memory: [[0x3000, [1, 0, 0, 0]]], rflags: CF | 2 },
    regs: { rax: 0x80000000n },
    flags: CF, // no unsigned carry out: OF = 0
  });
  check({
    name: 'real mode adcx eax,ecx (66 is the mandatory prefix)',
    code: [0x66, 0x0f, 0x38, 0xf6, 0xc1],
    setup: { mode: 'real', regs: { rax: 0xfffffffen, rcx: 1n }, rflags: CF | 2 },
    regs: { rax: 0n },
    flags: CF,
  });
});

test('VEX-encoded instructions are #UD in real and virtual-8086 mode', () => {
  const vexOps: Array<[string, number[]]> = [
    ['andn eax,ecx,edx', [0xc4, 0xe2, 0x70, 0xf2, 0xc2]],
    ['blsi eax,ecx', [0xc4, 0xe2, 0x78, 0xf3, 0xd9]],
    ['mulx eax,ecx,ecx', [0xc4, 0xe2, 0x73, 0xf6, 0xc1]],
    ['rorx eax,ecx,5', [0xc4, 0xe3, 0x7b, 0xf0, 0xc1, 5]],
  ];
  for (const [name, code] of vexOps) {
    const r = runCode([...code, 0xf4], { mode: 'real' });
    assert.equal(r.result.reason, 'exception', name);
    assert.equal(r.result.exception?.vector, 6, name);
    const v86 = runCode([...code, 0xf4], { mode: 'protected', rflags: 0x20002 });
    assert.equal(v86.result.exception?.vector, 6, `${name} (virtual-8086)`);
    const pm = runCode([...code, 0xf4], { mode: 'protected' });
    assert.equal(pm.result.reason, 'hlt', `${name} (protected mode)`);
  }
});

test('VEX.W is ignored outside 64-bit mode; 16-bit protected mode runs BMI', () => {
  check({
    name: '32-bit andn eax,ecx,edx with W1',
    code: [0xc4, 0xe2, 0xf0, 0xf2, 0xc2],
    setup: { mode: 'protected', regs: { rcx: 0xf0f0f0f0n, rdx: 0xffffffffn } },
    regs: { rax: 0x0f0f0f0fn },
    flags: 0,
  });
  check({
    name: 'compatibility mode shlx eax,ecx,edx',
    code: [0xc4, 0xe2, 0x69, 0xf7, 0xc1],
    setup: { mode: 'compat', regs: { rcx: 3n, rdx: 4n } },
    regs: { rax: 0x30n },
  });
  // 16-bit protected mode: CS.D = 0 with CR0.PE = 1.
  const mem = new PhysicalMemory(0x100000);
  mem.load(0x1000, Uint8Array.from([0xc4, 0xe2, 0x70, 0xf2, 0xc2, 0xf4])); // andn eax,ecx,edx
  const cpu = new Cpu(mem);
  enterMode(cpu, 'protected');
  cpu.segAttr[1] = 0x9b;
  cpu.bitness = 16;
  cpu.stackBits = 16;
  cpu.setRip(0x1000);
  cpu.setReg64(GPR_NAMES.indexOf('rcx'), 0xffff0000n);
  cpu.setReg64(GPR_NAMES.indexOf('rdx'), 0x12345678n);
  assert.equal(cpu.run(10).reason, 'hlt');
  assert.equal(hex(cpu.getReg64(0)), '0x5678');
});
