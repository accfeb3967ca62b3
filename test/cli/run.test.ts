import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, Instruction, MemoryOperand, Register } from 'iced-x86';
import { encode } from '../x86/run';
import { cli, guestFile, lastJson } from './helpers';

const R = Register;
/** mov rcx, 10 / l: add rax, rcx / dec rcx / jnz l / hlt (the sum 55). */
const LOOP64 = [0x48, 0xc7, 0xc1, 0x0a, 0, 0, 0, 0x48, 0x01, 0xc8, 0x48, 0xff, 0xc9, 0x75, 0xf8, 0xf4];

test('run --json: the last stdout line is one object with stop reason, count and lower-case hex registers', () => {
  const r = cli('run', guestFile(LOOP64), '--json');
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  const j = lastJson(r.stdout);
  assert.equal(j.stopReason, 'hlt');
  assert.equal(j.instructions, 32);
  assert.equal(j.mode, 'long');
  assert.equal(j.registers.rax, '0x37');
  assert.equal(j.registers.rcx, '0x0');
  assert.equal(j.registers.rip, '0x1010');
  assert.equal(j.registers.rsp, '0x4000000'); // top of the default 64 MiB
  for (const n of ['rax', 'rbx', 'r15', 'rip', 'rflags', 'cs', 'ss', 'cr0', 'cr4', 'efer']) {
    assert.match(j.registers[n], /^0x[0-9a-f]+$/, n);
  }
  assert.equal(j.registers.rflags, '0x46');
  assert.equal(j.flags, 'PF ZF');
  assert.equal(j.exception, undefined);
});

test('run: the text summary names the stop reason, count, RIP, registers and decoded flags', () => {
  const r = cli('run', guestFile(LOOP64));
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^stop: +hlt/m);
  assert.match(r.stdout, /^instructions: 32$/m);
  assert.match(r.stdout, /^rip: +0x0000000000001010 /m);
  assert.match(r.stdout, /rax 0x0000000000000037/);
  assert.match(r.stdout, /rflags 0x00000046 +\[PF ZF\]/);
});

test('run --max-instructions: stops with "limit" at the exact count and exit status 1', () => {
  const r = cli('run', guestFile(LOOP64), '--max-instructions', '5', '--json');
  assert.equal(r.code, 1);
  const j = lastJson(r.stdout);
  assert.equal(j.stopReason, 'limit');
  assert.equal(j.instructions, 5);
  assert.equal(j.registers.rip, '0x100a');
  assert.equal(j.registers.rax, '0x13');
});

test('run: an exception is reported with vector, name, error code, RIP, bytes and disassembly', () => {
  // inc rax / ud2 — under the hypervisor the #UD is intercepted (the seed's exception bitmap):
  // one VM exit, which takes one tick of the instruction clock.
  const r = cli('run', guestFile([0x48, 0xff, 0xc0, 0x0f, 0x0b]), '--json');
  assert.equal(r.code, 1);
  const j = lastJson(r.stdout);
  assert.equal(j.stopReason, 'exception');
  assert.equal(j.instructions, 2);
  assert.deepEqual(j.exits, { EXCEPTION_NMI: 1 });
  const bare = lastJson(cli('run', guestFile([0x48, 0xff, 0xc0, 0x0f, 0x0b]), '--json', '--hypervisor', 'none').stdout);
  assert.equal(bare.stopReason, 'exception');
  assert.equal(bare.instructions, 1);
  assert.equal(j.exception?.vector, 6);
  assert.equal(j.exception?.name, '#UD invalid opcode');
  assert.equal(j.exception?.errorCode, null);
  assert.equal(j.exception?.rip, '0x1003');
  assert.equal(j.exception?.bytes, '0f 0b');
  assert.equal(j.exception?.disassembly, 'ud2');
  const t = cli('run', guestFile([0x48, 0xff, 0xc0, 0x0f, 0x0b]));
  assert.match(t.stdout, /^exception: +#UD invalid opcode \(vector 6, no error code\)$/m);
  assert.match(t.stdout, /at 0x1003: 0f 0b  ud2/);
});

test('run: a fault with an error code reports it (#GP(0) for a non-canonical address)', () => {
  // mov rax, 0x8000000000000000 / mov rbx, [rax]
  const code = encode(64, [
    Instruction.createRegU64(Code.Mov_r64_imm64, R.RAX, 0x8000000000000000n),
    Instruction.createRegMem(Code.Mov_r64_rm64, R.RBX, memAt(R.RAX)),
    Instruction.create(Code.Hlt),
  ]);
  const j = lastJson(cli('run', guestFile(code), '--json').stdout);
  assert.equal(j.stopReason, 'exception');
  assert.equal(j.exception?.vector, 13);
  assert.equal(j.exception?.errorCode, '0x0');
  assert.equal(j.exception?.disassembly, 'mov rbx,[rax]');
});

function memAt(base: Register): MemoryOperand {
  return new MemoryOperand(base, Register.None, 1, 0n, 0, false, Register.None);
}

test('run --mode real: loads at 0x7c00, CS:IP = 0:7c00, 16-bit code, SP = 0x7c00', () => {
  // mov ax, 0x1234 / mov bx, sp / add ax, bx / hlt
  const code = encode(16, [
    Instruction.createRegU32(Code.Mov_r16_imm16, R.AX, 0x1234),
    Instruction.createRegReg(Code.Mov_r16_rm16, R.BX, R.SP),
    Instruction.createRegReg(Code.Add_rm16_r16, R.AX, R.BX),
    Instruction.create(Code.Hlt),
  ], 0x7c00n);
  const j = lastJson(cli('run', guestFile(code), '--mode', 'real', '--json').stdout);
  assert.equal(j.stopReason, 'hlt');
  assert.equal(j.mode, 'real');
  assert.equal(j.loadAddress, '0x7c00');
  assert.equal(j.registers.rbx, '0x7c00');
  assert.equal(j.registers.rax, '0x8e34');
  assert.equal(j.registers.cs, '0x0');
  assert.equal(j.registers.rip, `0x${(0x7c00 + code.length).toString(16)}`);
  assert.equal(j.registers.cr0, '0x60000010');
  const t = cli('run', guestFile(code), '--mode', 'real');
  assert.match(t.stdout, /^rip: +0000:7c0[0-9a-f] /m);
  assert.match(t.stdout, /eax 0x00008e34/);
});

test('run --mode real with an entry above 64 KiB: CS:IP = (entry>>4):(entry&0xf)', () => {
  const code = encode(16, [Instruction.createRegU32(Code.Mov_r16_imm16, R.AX, 7), Instruction.create(Code.Hlt)], 5n);
  const j = lastJson(cli('run', guestFile(code), '--mode', 'real', '--load-address', '0x12345', '--json').stdout);
  assert.equal(j.stopReason, 'hlt');
  assert.equal(j.registers.cs, '0x1234');
  assert.equal(j.registers.rip, `0x${(5 + code.length).toString(16)}`);
  assert.equal(j.registers.rax, '0x7');
});

test('run --mode protected: 32-bit code at 0x1000, flat segments, ESP at the top of RAM', () => {
  const code = encode(32, [
    Instruction.createRegU32(Code.Mov_r32_imm32, R.EAX, 0xffffffff),
    Instruction.createRegI32(Code.Add_rm32_imm8, R.EAX, 2),
    Instruction.create(Code.Hlt),
  ]);
  const j = lastJson(cli('run', guestFile(code), '--mode', 'protected', '--memory', '1M', '--json').stdout);
  assert.equal(j.stopReason, 'hlt');
  assert.equal(j.registers.rax, '0x1');
  assert.equal(j.registers.rsp, '0x100000');
  assert.equal(j.registers.cs, '0x8');
  assert.equal(j.registers.cr0, '0x31');
  assert.equal(j.flags, 'CF AF');
});

test('run: --load-address, --entry and --stack are honoured', () => {
  // nop / mov rax, rsp / hlt, entered at the mov
  const code = [0x90, 0x48, 0x89, 0xe0, 0xf4];
  const j = lastJson(cli('run', guestFile(code), '--load-address', '0x2000', '--entry', '8193', '--stack', '0x9000', '--json').stdout);
  assert.equal(j.stopReason, 'hlt');
  assert.equal(j.instructions, 2);
  assert.equal(j.registers.rax, '0x9000');
  assert.equal(j.entry, '0x2001');
});

test('usage errors: one line on stderr, exit status 2', () => {
  const ok = guestFile(LOOP64);
  const cases: Array<[string[], RegExp]> = [
    [['run', '/nonexistent/x.bin'], /^vtx: cannot read '\/nonexistent\/x.bin': no such file$/],
    [['run', '/'], /^vtx: cannot read '\/': it is a directory$/],
    [['run', guestFile([])], /^vtx: '.*' is empty$/],
    [['run', ok, '--load-address', '0xZZ'], /^vtx: --load-address: '0xZZ' is not a number$/],
    [['run', ok, '--entry', 'main'], /^vtx: --entry: 'main' is not a number$/],
    [['run', ok, '--foo'], /^vtx: unknown option --foo$/],
    [['run', ok, '--mode', 'v86'], /^vtx: --mode: 'v86' is not one of real, protected, long$/],
    [['run', ok, '--format', 'exe'], /^vtx: --format: 'exe' is not one of auto, flat, elf, multiboot$/],
    [['run', ok, '--format', 'elf'], /^vtx: .*guest\d+\.bin: not an ELF file/],
    [['run', ok, '--cmdline', 'x'], /^vtx: --cmdline applies to Multiboot kernels only/],
    [['run', ok, '--max-instructions'], /^vtx: --max-instructions needs a value$/],
    [['run', ok, '--max-instructions', '0'], /^vtx: --max-instructions: must be at least 1$/],
    [['run', ok, '--memory', '0x1000', '--load-address', '0xff8'], /^vtx: the image \(16 bytes at 0xff8\) does not fit in guest memory \(4096 bytes\)$/],
    [['run', ok, '--entry', '0x8000000'], /^vtx: --entry: 0x8000000 is outside guest memory/],
    [['run', ok, '--mode', 'real', '--entry', '0x100000', '--memory', '2M'], /^vtx: --entry: 0x100000 is beyond the 1 MiB/],
    [['run', ok, '--mode', 'real', '--stack', '0x10000'], /^vtx: --stack: 0x10000 does not fit/],
    [['run'], /^vtx: run: missing the guest file/],
    [['run', ok, ok], /^vtx: run: unexpected argument/],
    [['frobnicate'], /^vtx: unknown command 'frobnicate' \(try vtx --help\)$/],
    [['--bogus'], /^vtx: unknown option --bogus/],
    [['bench', '--passes', 'x'], /^vtx: --passes: 'x' is not a number$/],
    [['bench', '--seconds', 'soon'], /^vtx: --seconds: 'soon' is not a number$/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
    assert.equal(r.stderr.split('\n').length, 1, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('help: vtx --help, vtx run --help and vtx bench --help print usage and exit 0', () => {
  for (const args of [['--help'], ['-h'], ['run', '--help'], ['bench', '-h']]) {
    const r = cli(...args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /usage: vtx/, args.join(' '));
  }
  assert.match(cli('run', '--help').stdout, /--load-address/);
  const none = cli();
  assert.equal(none.code, 2);
  assert.match(none.stderr, /usage: vtx <command>/);
});
