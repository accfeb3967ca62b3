/**
 * Hover texts: for an instruction, its form and encoding (iced-x86's OpCodeInfo of the bytes
 * the assembler produced), the CPUID features it needs, the flags it reads and writes, and what
 * it does under VT-x (src/vmx/instructionExits.ts against the built-in hypervisor's default
 * interception); for a label or constant, its value; for a register, its name.
 */
import { CodeExt, CpuidFeature, Decoder, DecoderOptions, Instruction, RflagsBits } from 'iced-x86';
import { exitOf, type InstructionExit } from '../../vmx/instructionExits';
import { EXIT_REASON_BY_NUMBER } from '../../vmx/exitReasons';
import { PIN_BASED, PROC_BASED, PROC_BASED2, PROC_BASED3 } from '../../vmx/controlBits';
import { SEED_INTERCEPTION, describeRanges, msrIntercepted, portIntercepted, type Interception } from '../../hypervisor/interception';
import { FIELD_BY_NAME } from '../../vmx/fields';
import { registerOf } from '../asm/registers';
import { isMnemonic } from '../asm/encoder';
import { stripComment } from '../asm/lexer';
import { qualify, wordAt, type Analysis } from './analysis';

const hex = (v: bigint | number): string => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;

const FLAG_NAMES: [number, string][] = [
  [RflagsBits.CF, 'CF'], [RflagsBits.PF, 'PF'], [RflagsBits.AF, 'AF'], [RflagsBits.ZF, 'ZF'], [RflagsBits.SF, 'SF'],
  [RflagsBits.IF, 'IF'], [RflagsBits.DF, 'DF'], [RflagsBits.OF, 'OF'], [RflagsBits.AC, 'AC'],
  [RflagsBits.C0, 'C0'], [RflagsBits.C1, 'C1'], [RflagsBits.C2, 'C2'], [RflagsBits.C3, 'C3'],
];
const flags = (bits: number): string => FLAG_NAMES.filter(([b]) => (bits & b) !== 0).map(([, n]) => n).join(' ') || 'none';

function controlName(field: string, control: string): string {
  const table = field === 'pin' ? PIN_BASED : field === 'primary' ? PROC_BASED : field === 'secondary' ? PROC_BASED2 : PROC_BASED3;
  const bit = table.find((b) => b.name === control);
  const words = control.toLowerCase().replace(/_/g, ' ').replace(/\b(hlt|invlpg|mwait|rdpmc|rdtsc|rdtscp|rdrand|rdseed|wbinvd|mov dr|dr|pause|loadiwkey)\b/g, (w) => w.toUpperCase());
  return `"${words}"${bit !== undefined ? ` (${field} processor-based control, bit ${bit.bit})` : ''}`;
}

/** A constant loaded into a register by a `mov reg, imm` earlier in the same block, if any. */
function knownValue(a: Analysis, line: number, regs: string[]): bigint | undefined {
  for (let i = line - 1; i >= 0 && i >= line - 20; i--) {
    const code = stripComment(a.lines[i]).trim();
    if (/^[A-Za-z_.?$@][\w.?$@#~]*:/.test(code) && !code.includes(' ')) return undefined;
    const m = /^mov\s+(\w+)\s*,\s*([^,\[\]]+)$/i.exec(code.replace(/^[A-Za-z_.?$@][\w.?$@#~]*:\s*/, ''));
    if (m !== null && regs.includes(m[1].toLowerCase())) {
      const v = m[2].trim();
      const sym = a.result.symbols.get(qualify(a, i, v));
      if (sym !== undefined) return sym.value;
      const n = /^(0x[0-9a-f_]+|[0-9a-f_]+h|\d+)$/i.exec(v);
      if (n === null) return undefined;
      const t = n[1].replace(/_/g, '');
      return /h$/i.test(t) ? BigInt(`0x${t.slice(0, -1)}`) : BigInt(t);
    }
    if (/^(jmp|ret|iret)/i.test(code)) return undefined;
  }
  return undefined;
}

/** The VT-x line(s) of an instruction under the interception `i`. */
export function vmxText(row: InstructionExit, a: Analysis, line: number, operands: string[], i: Interception = SEED_INTERCEPTION): string {
  const r = EXIT_REASON_BY_NUMBER.get(row.reason)!;
  const reason = `exit reason ${row.reason}, ${r.name}`;
  const c = row.condition;
  switch (c.kind) {
    case 'always':
      return `**Always causes a VM exit** (${r.description}, ${reason}). ${row.note}`;
    case 'control': {
      const on = (c.control === 'HLT_EXITING' && i.hlt) || (c.control === 'RDTSC_EXITING' && i.rdtsc) ||
        (c.control === 'INVLPG_EXITING' && i.invlpg) || (c.control === 'DESCRIPTOR_TABLE_EXITING' && i.descriptorTables);
      return `Exits if ${controlName(c.field, c.control)} is set (${reason}); the default configuration ${on ? 'sets' : 'does not set'} it. ${row.note}`;
    }
    case 'io-bitmap': {
      const imm = operands.map((o) => o.trim()).find((o) => /^(0x[0-9a-f]+|\d+|[0-9a-f]+h)$/i.test(o));
      const port = imm !== undefined ? Number(/h$/i.test(imm) ? `0x${imm.slice(0, -1)}` : imm) : knownValue(a, line, ['dx', 'edx', 'rdx']);
      const defaults = `the default configuration intercepts ${describeRanges(i.io)}`;
      if (port === undefined) return `Exits if the port in DX is intercepted in the I/O bitmap (${reason}); ${defaults}. ${row.note}`;
      const p = Number(port) & 0xffff;
      return `Exits if port ${hex(p)} is intercepted in the I/O bitmap (${reason}) — the default configuration ${portIntercepted(i, p) ? 'intercepts it' : `does not intercept it (it intercepts ${describeRanges(i.io)})`}.` +
        (p === 0x604 ? ' A word OUT of 0x2000 to port 0x604 is QEMU\'s ACPI power-off: the run ends as SystemDown.' : '');
    }
    case 'msr-bitmap': {
      const msr = knownValue(a, line, ['ecx', 'rcx']);
      const defaults = `the default configuration intercepts ${describeRanges(i.msrs)}`;
      if (msr === undefined) return `Exits if the MSR in ECX is intercepted in the MSR bitmap (${reason}); ${defaults}. ${row.note}`;
      const m = Number(msr & 0xffffffffn);
      return `Exits if MSR ${hex(m)} is intercepted (${reason}) — the default configuration ${msrIntercepted(i, m) ? 'intercepts it' : 'does not intercept it'}. ${row.note}`;
    }
    case 'cr-access':
      return `May exit as a control-register access (${reason}). ${row.note}`;
    case 'exception-bitmap':
      return `The exception it raises exits through the exception bitmap (${reason}) — the default configuration ${i.exceptions.includes(c.vector) ? 'intercepts' : 'does not intercept'} vector ${c.vector}. ${row.note}`;
    default:
      return `${row.note} (${reason})`;
  }
}

function instructionHover(a: Analysis, line: number, mnemonic: string, operands: string[]): string[] {
  const out: string[] = [];
  const entry = a.result.listing.find((e) => e.src.file === a.file && e.src.line === line + 1 && e.insn);
  if (entry !== undefined && entry.bytes.length > 0) {
    const dec = new Decoder(entry.bits, entry.bytes, DecoderOptions.None);
    const ins = new Instruction();
    try {
      dec.ip = BigInt(entry.address);
      dec.decodeOut(ins);
      const op = CodeExt.opCode(ins.code);
      try {
        out.push(`**${op.instructionString}** — \`${op.opCodeString}\``);
      } finally {
        op.free();
      }
      const bytes = Array.from(entry.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
      out.push(`Encoding: \`${bytes}\` (${entry.bytes.length} byte${entry.bytes.length === 1 ? '' : 's'}) at ${hex(entry.address)}, ${entry.bits}-bit code`);
      const feats = Array.from(ins.cpuidFeatures(), (f) => CpuidFeature[f]).filter((f) => f !== undefined);
      if (feats.length > 0) out.push(`CPUID feature: ${feats.join(', ')}`);
      out.push(`Flags read: ${flags(ins.rflagsRead)}; written: ${flags(ins.rflagsModified)}${ins.rflagsUndefined !== 0 ? `; undefined: ${flags(ins.rflagsUndefined)}` : ''}`);
    } finally {
      ins.free();
      dec.free();
    }
  }
  const row = exitOf(mnemonic, operands);
  out.push(row !== undefined ? `VT-x: ${vmxText(row, a, line, operands)}` : 'VT-x: does not cause a VM exit by itself (it runs in the guest).');
  return out;
}

/** Markdown hover for (line, character), or null. */
export function hoverAt(a: Analysis, line: number, character: number): string | null {
  const w = wordAt(a, line, character);
  if (w === null) return null;
  const text = a.lines[line];
  const code = stripComment(text);
  if (w.start >= code.length) {
    // In a comment: VMCS field names explain themselves.
    const f = FIELD_BY_NAME.get(w.text.toUpperCase());
    return f === undefined ? null : `**${f.name}** — VMCS field ${hex(f.encoding)}, ${f.width === 'natural' ? 'natural-width' : `${f.width}-bit`} ${f.group}${f.readOnly ? ' (read-only)' : ''}: ${f.description}`;
  }
  const reg = registerOf(w.text);
  if (reg !== undefined) return `register **${w.text.toLowerCase()}** (${reg.cls})`;
  // The mnemonic: the first word after an optional label and prefixes.
  const m = /^\s*(?:[A-Za-z_.?$@][\w.?$@#~]*:\s*)?((?:(?:lock|rep|repe|repz|repne|repnz|o16|o32|o64|a16|a32)\s+)*)([A-Za-z][\w]*)\s*(.*)$/i.exec(code);
  if (m !== null && isMnemonic(m[2]) && w.start === code.indexOf(m[2], m[1].length === 0 ? code.indexOf(m[2]) : code.indexOf(m[1]) + m[1].length)) {
    const operands = m[3].trim() === '' ? [] : m[3].split(',');
    return instructionHover(a, line, m[2].toLowerCase(), operands).join('\n\n');
  }
  const name = qualify(a, line, w.text);
  const sym = a.result.symbols.get(name);
  if (sym !== undefined) {
    const where = sym.file === a.file ? `line ${sym.line}` : `${sym.file}:${sym.line}`;
    return `**${name}** — ${sym.kind === 'equ' ? 'constant' : 'label'} = ${hex(sym.value)} (${sym.value}) · defined at ${where}`;
  }
  const def = a.labels.find((d) => d.name === name && (d.kind === 'macro' || d.kind === 'define'));
  if (def !== undefined) return `**${name}** — ${def.kind === 'macro' ? 'macro' : 'preprocessor define'} (line ${def.line + 1})`;
  return null;
}
