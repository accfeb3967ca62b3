/**
 * Debug information of an assembly program from the project's assembler: labels as symbols
 * (equ constants only through lookup), the listing as a line table (instructions are statement
 * rows, data is not), a macro's instructions counted once for its invocation line, %include'd
 * files and relative names made absolute, sections as separate sequences — each answer
 * checked against the assembler's own listing and symbol table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/language/asm/assembler';
import { loadDebugInfo } from '../../src/debugger/debugInfo';

const SOURCE = `bits 64
org 0x1000
PORT equ 0x3f8
%macro twice 0
  nop
  nop
%endmacro
%include "inc.asm"
start:
  mov eax, 1
.loop:
  twice
  dec eax
  jnz .loop

  call helper
  hlt
msg: db "hi", 0
section .data
value: dd 5
`;
//           line numbers: start = 9, mov = 10, .loop = 11, twice = 12, dec = 13, jnz = 14, call = 16, hlt = 17, msg = 18, value = 20

const PROGRAM = '/work/guests/prog.asm';
const INCLUDED = '/work/guests/lib/inc.asm';

function build() {
  const assembled = assemble(SOURCE, {
    file: 'prog.asm',
    reader: { read: (name) => (name === 'inc.asm' ? { path: 'lib/inc.asm', text: 'helper:\n  ret\n' } : null) },
  });
  assert.ok(assembled.ok, JSON.stringify(assembled.diagnostics));
  return { assembled, info: loadDebugInfo({ path: PROGRAM, bytes: assembled.bytes, format: 'asm', assembled }) };
}

test('asm: symbols are the labels; equ constants are found by lookup only', () => {
  const { assembled, info } = build();
  const labels = [...assembled.symbols.values()].filter((s) => s.kind === 'label');
  assert.deepEqual(
    info.symbols.all().map((s) => [s.name, s.address, s.size, s.kind]),
    labels.map((s) => [s.name, Number(s.value), 0, 'label']).sort((a, b) => (a[1] as number) - (b[1] as number)),
  );
  assert.deepEqual(info.symbols.all().map((s) => s.name), ['helper', 'start', 'start.loop', 'msg', 'value']);
  assert.equal(info.symbols.lookup('start'), 0x1001);
  assert.equal(info.symbols.lookup('PORT'), 0x3f8);
  assert.equal(info.symbols.lookup('start.loop'), 0x1006);
  assert.deepEqual(info.symbols.nameAt(0x1009), { name: 'start.loop', offset: 3 });
  assert.deepEqual(info.symbols.nameAt(0x1000), { name: 'helper', offset: 0 });
  assert.equal(info.warnings, undefined);
});

test('asm: the line table follows the listing, with absolute paths', () => {
  const { assembled, info } = build();
  const lines = info.lines!;
  assert.ok(lines);
  assert.deepEqual(lines.files(), [INCLUDED, PROGRAM]);
  for (const e of assembled.listing) {
    for (let k = 0; k < e.bytes.length; k++) {
      assert.deepEqual(lines.lineAt(e.address + k), { file: e.src.file === 'prog.asm' ? PROGRAM : INCLUDED, line: e.src.line }, `lineAt(0x${(e.address + k).toString(16)})`);
    }
    assert.equal(lines.isStatementStart(e.address), e.insn, `isStatementStart at line ${e.src.line}`);
    for (let k = 1; k < e.bytes.length; k++) assert.equal(lines.isStatementStart(e.address + k), false);
  }
  assert.equal(lines.lineAt(0x1015), undefined, 'the gap before .data');
  assert.equal(lines.lineAt(0x101c), undefined, 'past the end');
  assert.equal(lines.lineAt(0xfff), undefined);
});

test('asm: breakpoints bind to the next instruction line; a macro invocation binds once', () => {
  const { info } = build();
  const lines = info.lines!;
  assert.deepEqual(lines.bind(PROGRAM, 9), { line: 10, addresses: [0x1001] }, 'a label line binds to the instruction after it');
  assert.deepEqual(lines.bind(PROGRAM, 11), { line: 12, addresses: [0x1006] }, 'the macro line: its first instruction only');
  assert.deepEqual(lines.bind(PROGRAM, 15), { line: 16, addresses: [0x100c] }, 'a blank line');
  assert.deepEqual(lines.bind(PROGRAM, 1), { line: 10, addresses: [0x1001] });
  assert.equal(lines.bind(PROGRAM, 18), undefined, 'data lines are not statements');
  assert.deepEqual(lines.bind('inc.asm', 1), { line: 2, addresses: [0x1000] });
  assert.deepEqual(lines.bind('prog.asm', 17), { line: 17, addresses: [0x1011] });
});

test('asm: an in-memory source (<input>) and flat programs', () => {
  const assembled = assemble('bits 32\nstart: nop\nhlt\n');
  const info = loadDebugInfo({ path: '/tmp/x/scratch.asm', bytes: assembled.bytes, format: 'asm', assembled });
  assert.deepEqual(info.lines!.files(), ['/tmp/x/scratch.asm']);
  assert.deepEqual(info.lines!.bind('/tmp/x/scratch.asm', 3), { line: 3, addresses: [1] });
  const missing = loadDebugInfo({ path: '/tmp/x/scratch.asm', bytes: assembled.bytes, format: 'asm' });
  assert.equal(missing.lines, null);
  assert.ok(missing.warnings && missing.warnings.length === 1);
  const flat = loadDebugInfo({ path: '/tmp/x/boot.bin', bytes: new Uint8Array([0xf4]), format: 'flat', loadAddress: 0x7c00 });
  assert.equal(flat.lines, null);
  assert.deepEqual(flat.symbols.all(), []);
  assert.equal(flat.symbols.nameAt(0x7c00), undefined);
  assert.equal(flat.warnings, undefined);
});
