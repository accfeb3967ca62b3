/**
 * Completion items: mnemonics (every one iced-x86 can encode, NASM spellings included),
 * registers, directives, the document's labels, constants and macros, and VMCS field names
 * where they are useful (in comments and on `equ` lines, where people name encodings).
 */
import { formsByMnemonic } from '../asm/encoder';
import { REGISTERS } from '../asm/registers';
import { VMCS_FIELDS } from '../../vmx/fields';
import { stripComment } from '../asm/lexer';
import type { Analysis } from './analysis';

export type ItemKind = 'keyword' | 'register' | 'directive' | 'label' | 'constant' | 'macro' | 'field';

export interface Item {
  label: string;
  kind: ItemKind;
  detail?: string;
  insertText?: string;
}

const DIRECTIVES = [
  'bits', 'org', 'section', 'segment', 'times', 'equ', 'db', 'dw', 'dd', 'dq', 'dt', 'resb', 'resw', 'resd', 'resq',
  'align', 'alignb', 'default', 'global', 'extern', '%define', '%xdefine', '%undef', '%assign', '%macro', '%endmacro',
  '%if', '%elif', '%else', '%endif', '%ifdef', '%ifndef', '%rep', '%endrep', '%include', '%error', '%warning',
  'byte', 'word', 'dword', 'qword', 'tword', 'oword', 'far', 'near', 'short', 'strict', 'rel', 'abs',
];
const NASM_EXTRA = ['jz', 'jnz', 'jc', 'jnc', 'setz', 'setnz', 'cmovz', 'cmovnz', 'sal', 'pushad', 'popad', 'retn', 'loopz', 'loopnz'];

let mnemonicItems: Item[] | null = null;

function mnemonics(): Item[] {
  if (mnemonicItems === null) {
    mnemonicItems = [...formsByMnemonic().keys(), ...NASM_EXTRA].sort().map((m) => ({ label: m, kind: 'keyword' as const, detail: 'instruction' }));
  }
  return mnemonicItems;
}

export function completionsAt(a: Analysis, line: number, character: number): Item[] {
  const text = a.lines[line] ?? '';
  const code = stripComment(text);
  const before = text.slice(0, character);
  const inComment = character > code.length;
  const onEqu = /\bequ\b/i.test(code);
  const fields = (): Item[] => VMCS_FIELDS.map((f) => ({
    label: f.name, kind: 'field' as const, detail: `VMCS 0x${f.encoding.toString(16).padStart(4, '0')} · ${f.description}`,
    insertText: onEqu && !inComment ? `0x${f.encoding.toString(16).padStart(4, '0')}` : f.name,
  }));
  if (inComment) return fields();
  const symbols: Item[] = a.labels.map((d) => ({
    label: d.text.startsWith('.') && a.scope[line] !== d.name.slice(0, d.name.length - d.text.length) ? d.name : d.text,
    kind: d.kind === 'macro' ? 'macro' : d.kind === 'equ' || d.kind === 'define' ? 'constant' : 'label',
    detail: d.value !== undefined ? `= 0x${BigInt.asUintN(64, d.value).toString(16)}` : d.kind,
  }));
  // First word of the statement: mnemonics, directives, macros.
  const firstWord = /^\s*(?:[A-Za-z_.?$@][\w.?$@#~]*:\s*)?[\w%.]*$/.test(before);
  if (firstWord) return [...mnemonics(), ...DIRECTIVES.map((d) => ({ label: d, kind: 'directive' as const })), ...symbols.filter((s) => s.kind === 'macro')];
  const regs: Item[] = [...REGISTERS.keys()].map((r) => ({ label: r, kind: 'register' as const, detail: REGISTERS.get(r)!.cls }));
  return [...regs, ...symbols, ...DIRECTIVES.filter((d) => !d.startsWith('%')).map((d) => ({ label: d, kind: 'directive' as const })),
    ...(onEqu ? fields() : [])];
}
