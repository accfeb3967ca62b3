import { assemble } from './src/language/asm/assembler';
const text = `bits 64
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
const r = assemble(text, { file: 'prog.asm', reader: { read: (name: string, from: string) => (console.log('read', name, from), { path: '/abs/dir/' + name, text: 'helper:\n  ret\n' }) } });
console.log(r.ok, r.diagnostics, r.origin);
for (const l of r.listing) console.log(l.src.file, l.src.line, l.address.toString(16), l.bytes.length, l.section, l.insn);
console.log([...r.symbols.values()].map((s) => [s.name, s.value, s.kind, s.reloc, s.section]));
