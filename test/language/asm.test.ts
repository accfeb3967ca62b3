import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, type AssembleResult } from '../../src/language/asm/assembler';

function asm(src: string, bits: 16 | 32 | 64 = 16, files: Record<string, string> = {}): AssembleResult {
  return assemble(src, { file: 'main.asm', bits, reader: { read: (n) => (n in files ? { path: n, text: files[n] } : null) } });
}
function hex(src: string, bits: 16 | 32 | 64 = 16): string {
  const r = asm(src, bits);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [], src);
  return Buffer.from(r.bytes).toString('hex');
}
function errors(src: string, bits: 16 | 32 | 64 = 16): string[] {
  return asm(src, bits).diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
}

describe('assembler: numbers, expressions and data', () => {
  it('reads every NASM number notation', () => {
    assert.equal(hex('db 0x1f, 1fh, 0b101, 101b, 0o17, 17q, 0d10, 10, $1f, 1_0'), '1f1f05050f0f0a0a1f0a');
  });
  it('evaluates with NASM precedence, unsigned / and %, signed // and %%', () => {
    assert.equal(hex('dw 2 + 3 * 4, (2 + 3) * 4, 1 << 4 | 1, -7 // 2, -7 %% 2, 7 / 2, ~0 & 0xff, 5 > 3, 3 ? 4 : 5'),
      '0e00140011 00fdffffff0300ff00010004 00'.replace(/ /g, ''));
  });
  it('lays out strings in db/dw/dd with padding and escapes in backquotes', () => {
    assert.equal(hex("db 'ab', 0\ndw 'abc'\ndd 'x'\ndb `a\\n\\x41`"), '616200' + '61626300' + '78000000' + '610a41');
  });
  it('times, $ and $$, resb, align with NOPs and alignb with zeros', () => {
    assert.equal(hex('org 0x100\ndb 1\ntimes 3 db $-$$\nalign 8\ndb 2\nalignb 4\ndb 3\nresb 2\ndb 4'),
      '01' + '010101' + '90909090' + '02' + '000000' + '03' + '0000' + '04');
  });
  it('equ constants, local labels scoped by the last global label', () => {
    const r = asm('K equ 3 * 2\nstart:\n.l: dw .l\nnext:\n.l: dw .l, K');
    assert.equal(Buffer.from(r.bytes).toString('hex'), '0000' + '0200' + '0600');
    assert.equal(r.symbols.get('start.l')?.value, 0n);
    assert.equal(r.symbols.get('next.l')?.value, 2n);
    assert.equal(r.symbols.get('K')?.kind, 'equ');
  });
});

describe('assembler: preprocessor', () => {
  it('%define, %assign, %if/%elif/%else, %ifdef, __BITS__', () => {
    assert.equal(hex('%define N 4\n%assign M N * 2\n%if M == 8\ndb 1\n%elif M == 9\ndb 2\n%else\ndb 3\n%endif\n%ifdef N\ndb N\n%endif\n%ifndef Q\ndb __BITS__\n%endif'), '010410');
  });
  it('%macro with parameters, %0, local %% labels, %rep, %+ pasting', () => {
    const src = '%macro PAIR 2\n%%here: db %1, %2, %0\n dw %%here\n%endmacro\nPAIR 7, 8\nPAIR 9, 10\n%assign i 0\n%rep 3\nlbl_ %+ i: db i\n%assign i i + 1\n%endrep\ndw lbl_2';
    assert.equal(hex(src), '070802' + '0000' + '090a02' + '0500' + '000102' + '0c00');
  });
  it('%include reads through the reader and maps lines to the included file', () => {
    const r = asm('db 1\n%include "inc.asm"\ndb 3', 16, { 'inc.asm': 'nop\nnop' });
    assert.equal(Buffer.from(r.bytes).toString('hex'), '01909003');
    assert.deepEqual(r.lineMap.map((e) => `${e.file}:${e.line}@${e.address}`), ['main.asm:1@0', 'inc.asm:1@1', 'inc.asm:2@2', 'main.asm:3@3']);
  });
  it('reports preprocessor errors with their line', () => {
    assert.deepEqual(errors('%if 1\ndb 1'), ['2:0: %if without %endif']);
    assert.match(errors('%include "nope.asm"')[0], /cannot open include file 'nope.asm'/);
    assert.match(errors('%macro M 1\ndb %1\n%endmacro\nM')[0], /takes 1 parameter\(s\), got 0/);
  });
});

describe('assembler: instruction encoding (NASM choices)', () => {
  it('picks the short forms NASM picks', () => {
    assert.equal(hex('add ax, 2', 16), '83c002');
    assert.equal(hex('add eax, 1', 32), '83c001');
    assert.equal(hex('add eax, 0x100', 32), '0500010000');
    assert.equal(hex('mov rax, 1', 64), 'b801000000');
    assert.equal(hex('mov rax, -1', 64), '48c7c0ffffffff');
    assert.equal(hex('xchg eax, ebx', 32), '93');
    assert.equal(hex('shl eax, 1', 32), 'd1e0');
    assert.equal(hex('mov eax, ebx', 32), '89d8');
    assert.equal(hex('mov ds, ax', 32), '8ed8');
    assert.equal(hex('mov ax, ds', 32), '668cd8');
    assert.equal(hex('push 5', 64), '6a05');
  });
  it('keeps relocatable (label) immediates and displacements at full size', () => {
    assert.equal(hex('bits 32\nadd eax, lbl\nlbl:', 32), '0505000000');
    assert.equal(hex('bits 64\nmov rax, lbl\nlbl:', 64), '48b80a00000000000000');
    assert.equal(hex('bits 32\nmov eax, [ebx + lbl]\nlbl:', 32), '8b8306000000');
    assert.equal(hex('bits 64\nmov rax, lbl2 - lbl\nlbl:\nlbl2:', 64), 'b800000000');
  });
  it('shrinks jumps to short forms when the target is near, and keeps them near when not', () => {
    assert.equal(hex('jmp x\nx:', 16), 'eb00');
    assert.equal(hex('jmp x\ntimes 200 nop\nx:', 16).slice(0, 6), 'e9c800');
    assert.equal(hex('x: jmp x', 32), 'ebfe');
    assert.equal(hex('jmp near x\nx:', 32), 'e900000000');
    assert.equal(hex('call x\nx:', 64), 'e800000000');
    assert.match(errors('jmp short x\ntimes 200 nop\nx:')[0], /short jump is out of range/);
  });
  it('memory operands: 16-bit pairs in either order, RIP-relative with rel/default rel, segment overrides', () => {
    assert.equal(hex('mov ax, [si+bx]', 16), '8b00');
    assert.equal(hex('mov ax, [bp]', 16), '8b4600');
    assert.equal(hex('mov eax, [es:ebx+4]', 32), '268b4304');
    assert.equal(hex('mov eax, fs:[0x10]', 32), '64a110000000');
    assert.equal(hex('lea rax, [rel $]', 64), '488d05f9ffffff');
    assert.equal(hex('default rel\nlea rax, [x]\nx:', 64), '488d0500000000');
    assert.equal(hex('mov ecx, [rax + rbx*4 + 8]', 64), '8b4c9808');
  });
  it('far pointers, string instructions and prefixes', () => {
    assert.equal(hex('jmp 0x08:0x1234', 16), 'ea34120800');
    assert.equal(hex('jmp 0x08:0x1234', 32), 'ea341200000800');
    assert.equal(hex('jmp dword 0x08:0x1234', 16), '66ea341200000800');
    assert.equal(hex('rep movsb\nrepe cmpsw\nlock inc dword [eax]', 32), 'f3a4f366a7f0ff00');
    assert.equal(hex('o64 sysret\no64 retf', 64), '480f0748cb');
    assert.equal(hex('fadd st1\nfld st2\naam', 32), 'd8c1d9c2d40a');
  });
  it('reports operand errors a person understands', () => {
    assert.match(errors('inc [bx]')[0], /operation size not specified/);
    assert.match(errors('mov al, bx')[0], /invalid combination of opcode and operands for 'mov' \(r8, r16\) in 16-bit code/);
    assert.match(errors('mov eax, [ebx*3]', 32)[0], /scale must be 1, 2, 4 or 8/);
    assert.match(errors('frobnicate eax')[0], /unknown instruction or directive 'frobnicate'/);
    assert.match(errors('push rax', 32)[0], /instruction not valid in 32-bit code \(it is valid in 64-bit code\)/);
    assert.match(errors('pusha', 64)[0], /instruction not valid in 64-bit code \(it is valid in 16- and 32-bit code\)/);
    assert.deepEqual(errors('nop\nmov eax, undefined_thing', 32), ["2:9: symbol 'undefined_thing' is not defined"]);
    assert.match(errors('x: db 1\nx: db 2')[0], /already defined/);
  });
});

describe('assembler: sections and output', () => {
  it('lays out .text, then .data aligned to 4, then .bss outside the image (NASM bin format)', () => {
    const r = asm('org 0x1000\nsection .data\nd1: db 1,2,3\nsection .text\nmov eax, d1\nmov ebx, b1\nmov ecx, d2\ndb 0xaa\nsection .bss\nb1: resb 5\nsection .data\nd2: db 9', 16);
    assert.equal(Buffer.from(r.bytes).toString('hex'), '66b814100000' + '66bb18100000' + '66b917100000' + 'aa00' + '01020309');
    assert.equal(r.symbols.get('b1')?.value, 0x1018n);
    assert.equal(r.origin, 0x1000);
  });
  it('maps every address to its source line', () => {
    const r = asm('bits 32\nnop\n\nmov eax, 1\nx: dd 5', 32);
    assert.deepEqual(r.lineMap, [
      { address: 0, length: 1, file: 'main.asm', line: 2 },
      { address: 1, length: 5, file: 'main.asm', line: 4 },
      { address: 6, length: 4, file: 'main.asm', line: 5 },
    ]);
  });
});
