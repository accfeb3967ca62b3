/**
 * BT, BTS, BTR, BTC, BSF, BSR, LZCNT, TZCNT, POPCNT (SDM vol. 2A/2B). Expectations follow the
 * SDM's operation sections; flags the SDM leaves undefined are asserted at the values measured
 * on an Intel Xeon host with the same instruction bytes (BT*: OF/SF/AF/PF unchanged; BSF/BSR:
 * CF/OF/SF/AF cleared, PF from the result; LZCNT/TZCNT: OF/SF/AF/PF cleared).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, Instruction, MemoryOperand, Register } from 'iced-x86';
import { encode, runCode, type Ran, type RunSetup } from './run';

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
  regs?: Partial<Record<'rax' | 'rbx' | 'rcx' | 'rdx', bigint>>;
  flags?: number;
  /** Expected bytes at addresses. */
  bytes?: Array<[number, number]>;
}

function check(c: Case): void {
  const r = exec(c.code, c.setup);
  for (const [name, v] of Object.entries(c.regs ?? {})) assert.equal(hex(r.reg(name as 'rax')), hex(v), `${c.name}: ${name}`);
  if (c.flags !== undefined) assert.equal(hex(flags(r)), hex(c.flags), `${c.name}: flags`);
  for (const [a, v] of c.bytes ?? []) assert.equal(hex(r.mem.read8(a)), hex(v), `${c.name}: byte at ${hex(a)}`);
}

const mem = (base: Register, disp = 0n): MemoryOperand => new MemoryOperand(base, Register.None, 1, disp, disp === 0n ? 0 : 1, false, Register.None);

test('BT with register operands: offset modulo the width, CF only, register not written', () => {
  check({
    name: 'bt eax,5',
    code: [0x0f, 0xba, 0xe0, 0x05],
    setup: { regs: { rax: 0xffffffff00000020n }, rflags: (ALL & ~CF) },
    regs: { rax: 0xffffffff00000020n },
    flags: STATUS, // CF = 1; ZF unchanged; OF/SF/AF/PF unchanged (hardware)
  });
  check({
    name: 'bt rax,rcx (rcx=70 -> bit 6)',
    code: encode(64, [Instruction.createRegReg(Code.Bt_rm64_r64, Register.RAX, Register.RCX)]),
    setup: { regs: { rax: 0x40n, rcx: 70n }, rflags: 2 },
    flags: CF,
  });
  check({
    name: 'bt ax,cx (cx=17 -> bit 1)',
    code: [0x66, 0x0f, 0xa3, 0xc8],
    setup: { regs: { rax: 0xfffdn, rcx: 17n }, rflags: ALL },
    flags: STATUS & ~CF,
  });
  check({
    name: 'bt rax,33',
    code: [0x48, 0x0f, 0xba, 0xe0, 33],
    setup: { regs: { rax: 0x200000000n }, rflags: 2 },
    flags: CF,
  });
});

test('BTS/BTR/BTC with register operands', () => {
  check({
    name: 'bts rax,rcx (rcx=63)',
    code: [0x48, 0x0f, 0xab, 0xc8],
    setup: { regs: { rax: 0n, rcx: 63n }, rflags: CF | 2 },
    regs: { rax: 0x8000000000000000n },
    flags: 0,
  });
  check({
    name: 'btr eax,31 zero-extends',
    code: [0x0f, 0xba, 0xf0, 0x1f],
    setup: { regs: { rax: 0xffffffffffffffffn } },
    regs: { rax: 0x7fffffffn },
    flags: CF,
  });
  check({
    name: 'btc ax,15 keeps the rest of RAX',
    code: [0x66, 0x0f, 0xba, 0xf8, 0x0f],
    setup: { regs: { rax: 0x123456789abc0001n } },
    regs: { rax: 0x123456789abc8001n },
    flags: 0,
  });
  check({
    name: 'btc eax,ecx (ecx=32 -> bit 0)',
    code: [0x0f, 0xbb, 0xc8],
    setup: { regs: { rax: 0x1n, rcx: 32n } },
    regs: { rax: 0n },
    flags: CF,
  });
  check({
    name: 'bts rdx,45',
    code: [0x48, 0x0f, 0xba, 0xea, 45],
    setup: { regs: { rdx: 0x1n }, rflags: CF | 2 },
    regs: { rdx: 0x200000000001n },
    flags: 0,
  });
});

test('BT* memory forms: a register offset is signed and selects the operand-sized word', () => {
  check({
    name: 'bt dword [rbx],ecx (ecx=100 -> dword at +12, bit 4)',
    code: [0x0f, 0xa3, 0x0b],
    setup: { regs: { rbx: 0x3000n, rcx: 100n }, memory: [[0x300c, [0x10]]], rflags: 2 },
    flags: CF,
  });
  check({
    name: 'bts dword [rbx],ecx (ecx=-1 -> dword at -4, bit 31)',
    code: [0x0f, 0xab, 0x0b],
    setup: { regs: { rbx: 0x3000n, rcx: 0xffffffffn }, memory: [[0x2ffc, [0, 0, 0, 0x40]]], rflags: 2 },
    bytes: [[0x2fff, 0xc0], [0x3000, 0], [0x3003, 0]],
    flags: 0,
  });
  check({
    name: 'btr word [rbx],cx (cx=0xffff: -1 as a 16-bit offset -> word at -2, bit 15)',
    code: [0x66, 0x0f, 0xb3, 0x0b],
    setup: { regs: { rbx: 0x3000n, rcx: 0xabcdffffn }, memory: [[0x2ffe, [0xff, 0xff]]], rflags: 2 },
    bytes: [[0x2fff, 0x7f], [0x2ffe, 0xff]],
    flags: CF,
  });
  check({
    name: 'btc qword [rbx],rcx (rcx=-65 -> qword at -16, bit 63)',
    code: [0x48, 0x0f, 0xbb, 0x0b],
    setup: { regs: { rbx: 0x3000n, rcx: 0xffffffffffffffbfn }, rflags: 2 },
    bytes: [[0x2ff7, 0x80]],
    flags: 0,
  });
  check({
    name: 'bts qword [rbx],rcx with an offset above 2^32 bits',
    code: [0x48, 0x0f, 0xab, 0x0b],
    setup: { regs: { rbx: 0x3000n, rcx: 0x100000005n }, memorySize: 0x40000000 },
    bytes: [[0x20003000, 0x20]],
    flags: 0,
  });
  check({
    name: 'bt dword [rbx],35: an immediate offset stays within the operand (bit 3)',
    code: encode(64, [Instruction.createMemU32(Code.Bt_rm32_imm8, mem(Register.RBX), 35)]),
    setup: { regs: { rbx: 0x3000n }, memory: [[0x3000, [0x08]], [0x3004, [0x00]]], rflags: 2 },
    flags: CF,
  });
  check({
    name: 'btr qword [rbx+8],rcx: bit 40 of the qword',
    code: encode(64, [Instruction.createMemReg(Code.Btr_rm64_r64, mem(Register.RBX, 8n), Register.RCX)]),
    setup: { regs: { rbx: 0x3000n, rcx: 40n }, memory: [[0x300d, [0x01]]], rflags: 2 },
    bytes: [[0x300d, 0]],
    flags: CF,
  });
});

test('LOCK is legal on BTS/BTR/BTC with a memory destination only', () => {
  check({
    name: 'lock bts dword [rbx],3',
    code: [0xf0, 0x0f, 0xba, 0x2b, 0x03],
    setup: { regs: { rbx: 0x3000n } },
    bytes: [[0x3000, 0x08]],
    flags: 0,
  });
  check({
    name: 'lock btc dword [rbx],ecx',
    code: [0xf0, 0x0f, 0xbb, 0x0b],
    setup: { regs: { rbx: 0x3000n, rcx: 9n }, memory: [[0x3001, [0x02]]] },
    bytes: [[0x3001, 0x00]],
    flags: CF,
  });
  for (const [name, code] of [['lock bt [rbx],3', [0xf0, 0x0f, 0xba, 0x23, 0x03]], ['lock bts eax,3', [0xf0, 0x0f, 0xba, 0xe8, 0x03]]] as const) {
    const r = runCode([...code, 0xf4], { regs: { rbx: 0x3000n } });
    assert.equal(r.result.reason, 'exception', name);
    assert.equal(r.result.exception?.vector, 6, name);
  }
});

test('BT* offsets wrap at the address size', () => {
  check({
    name: '67 bt dword [ebx],ecx: 0x1000 - 0x2000 wraps to 0xfffff000',
    code: [0x67, 0x0f, 0xa3, 0x0b],
    setup: { regs: { rbx: 0x1000n, rcx: 0xffff0000n }, memory: [[0xfffff000, [0x01]]], memorySize: 0x100000000, rflags: 2 },
    flags: CF,
  });
  check({
    name: 'real mode bt [bx],ax: 0 - 2 wraps to 0xfffe within DS',
    code: [0x0f, 0xa3, 0x07],
    setup: { mode: 'real', regs: { rbx: 0n, rax: 0xfff0n }, memory: [[0xfffe, [0x01]]], rflags: 2 },
    flags: CF,
  });
  check({
    name: 'real mode 66 bts [bx],eax: 32-bit operand and offset',
    code: [0x66, 0x0f, 0xab, 0x07],
    setup: { mode: 'real', regs: { rbx: 0x2000n, rax: 0x20n }, rflags: 2 },
    bytes: [[0x2004, 0x01]],
    flags: 0,
  });
  check({
    name: 'real mode btc word [bx+si],5',
    code: [0x0f, 0xba, 0x38, 0x05],
    setup: { mode: 'real', regs: { rbx: 0x2000n, rsi: 2n }, memory: [[0x2002, [0x20]]], rflags: 2 },
    bytes: [[0x2002, 0x00]],
    flags: CF,
  });
});

test('BSF/BSR: a zero source sets ZF and leaves the whole destination unchanged', () => {
  check({
    name: 'bsf eax,ecx (ecx=0): RAX untouched, upper half included',
    code: [0x0f, 0xbc, 0xc1],
    setup: { regs: { rax: 0xffffffffffffffffn, rcx: 0n }, rflags: ALL },
    regs: { rax: 0xffffffffffffffffn },
    flags: ZF | PF,
  });
  check({
    name: 'bsr rax,rcx (rcx=0)',
    code: [0x48, 0x0f, 0xbd, 0xc1],
    setup: { regs: { rax: 0x1234n, rcx: 0n }, rflags: 2 },
    regs: { rax: 0x1234n },
    flags: ZF | PF,
  });
  check({
    name: 'bsr rax,rcx (bit 63)',
    code: [0x48, 0x0f, 0xbd, 0xc1],
    setup: { regs: { rax: 0n, rcx: 0x8000000000000001n }, rflags: ALL },
    regs: { rax: 63n },
    flags: PF,
  });
  check({
    name: 'bsf rax,rcx (bit 40)',
    code: [0x48, 0x0f, 0xbc, 0xc1],
    setup: { regs: { rcx: 0x0000030000000000n } },
    regs: { rax: 40n },
    flags: PF,
  });
  check({
    name: 'bsf eax,ecx zero-extends',
    code: [0x0f, 0xbc, 0xc1],
    setup: { regs: { rax: 0xffffffffffffffffn, rcx: 0x80000000n } },
    regs: { rax: 31n },
    flags: 0,
  });
  check({
    name: 'bsf ax,cx keeps the rest of RAX',
    code: [0x66, 0x0f, 0xbc, 0xc1],
    setup: { regs: { rax: 0x12345678ffffffffn, rcx: 0x8000n } },
    regs: { rax: 0x12345678ffff000fn },
    flags: PF,
  });
  check({
    name: 'bsr eax,[rbx]',
    code: [0x0f, 0xbd, 0x03],
    setup: { regs: { rbx: 0x3000n }, memory: [[0x3000, [0xff, 0xff, 0x01, 0x00]]] },
    regs: { rax: 16n },
    flags: 0,
  });
  check({
    name: 'real mode bsr ax,cx',
    code: [0x0f, 0xbd, 0xc1],
    setup: { mode: 'real', regs: { rax: 0xaaaa0000n, rcx: 0x0300n } },
    regs: { rax: 0xaaaa0009n },
    flags: PF,
  });
});

test('LZCNT/TZCNT: the operand width for a zero source, CF = source is zero, ZF = result is zero', () => {
  check({ name: 'lzcnt eax,ecx (0)', code: [0xf3, 0x0f, 0xbd, 0xc1], setup: { regs: { rax: -1n, rcx: 0n }, rflags: ALL }, regs: { rax: 32n }, flags: CF });
  check({ name: 'lzcnt rax,rcx (1)', code: [0xf3, 0x48, 0x0f, 0xbd, 0xc1], setup: { regs: { rcx: 1n }, rflags: ALL }, regs: { rax: 63n }, flags: 0 });
  check({ name: 'lzcnt rax,rcx (bit 40)', code: [0xf3, 0x48, 0x0f, 0xbd, 0xc1], setup: { regs: { rcx: 0x10000000000n } }, regs: { rax: 23n }, flags: 0 });
  check({ name: 'lzcnt ax,cx (0x8000)', code: [0x66, 0xf3, 0x0f, 0xbd, 0xc1], setup: { regs: { rax: 0x1234ffffn, rcx: 0x8000n } }, regs: { rax: 0x12340000n }, flags: ZF });
  check({ name: 'lzcnt ax,cx (0)', code: [0x66, 0xf3, 0x0f, 0xbd, 0xc1], setup: { regs: { rcx: 0xffff0000n } }, regs: { rax: 16n }, flags: CF });
  check({ name: 'tzcnt rax,rcx (0)', code: [0xf3, 0x48, 0x0f, 0xbc, 0xc1], setup: { regs: { rcx: 0n } }, regs: { rax: 64n }, flags: CF });
  check({ name: 'tzcnt rax,rcx (bit 32)', code: [0xf3, 0x48, 0x0f, 0xbc, 0xc1], setup: { regs: { rcx: 0x100000000n } }, regs: { rax: 32n }, flags: 0 });
  check({ name: 'tzcnt eax,ecx (1)', code: [0xf3, 0x0f, 0xbc, 0xc1], setup: { regs: { rax: -1n, rcx: 1n }, rflags: ALL }, regs: { rax: 0n }, flags: ZF });
  check({ name: 'tzcnt ax,cx (0)', code: [0x66, 0xf3, 0x0f, 0xbc, 0xc1], setup: { regs: { rcx: 0x10000n } }, regs: { rax: 16n }, flags: CF });
  check({ name: 'tzcnt eax,[rbx]', code: [0xf3, 0x0f, 0xbc, 0x03], setup: { regs: { rbx: 0x3000n }, memory: [[0x3000, [0, 0, 0, 0x80]]] }, regs: { rax: 31n }, flags: 0 });
  check({ name: 'real mode tzcnt ax,cx', code: [0xf3, 0x0f, 0xbc, 0xc1], setup: { mode: 'real', regs: { rcx: 0x0100n } }, regs: { rax: 8n }, flags: 0 });
});

test('POPCNT: ZF = source is zero, every other status flag cleared', () => {
  check({ name: 'popcnt rax,rcx (-1)', code: [0xf3, 0x48, 0x0f, 0xb8, 0xc1], setup: { regs: { rcx: -1n }, rflags: ALL }, regs: { rax: 64n }, flags: 0 });
  check({ name: 'popcnt eax,ecx (0)', code: [0xf3, 0x0f, 0xb8, 0xc1], setup: { regs: { rax: -1n, rcx: 0n }, rflags: ALL }, regs: { rax: 0n }, flags: ZF });
  check({ name: 'popcnt ax,[rbx]', code: [0x66, 0xf3, 0x0f, 0xb8, 0x03], setup: { regs: { rax: 0x55550000n, rbx: 0x3000n }, memory: [[0x3000, [0xf0, 0x81, 0xff]]] }, regs: { rax: 0x55550006n }, flags: 0 });
  check({ name: 'popcnt rax,rcx (both halves)', code: [0xf3, 0x48, 0x0f, 0xb8, 0xc1], setup: { regs: { rcx: 0x8000000300000007n } }, regs: { rax: 6n }, flags: 0 });
});
