/**
 * Completions for the Debug Console and watch expressions: the word before the cursor (letters,
 * digits, `_`, `.`, `$`) completed from register names, REPL commands (first word only), symbol
 * names, the exit's field names, and VMCS field names / MSR names after `vmcs.` / `msr.`.
 * Labels are what replaces the part of the word after the last `.` (the client's word).
 */
import type { CompletionItem } from '../model';
import { VMCS_FIELDS } from '../../vmx/fields';
import { MSRS } from '../../x86/msr';
import type { Ctx } from './context';
import { exitFieldNames } from './context';
import { REGISTER_NAMES } from './registerNames';
import { REPL_COMMANDS } from './repl';
import { SIZES } from './evaluate';
import { formatAddress } from '../address';

export function completions(ctx: Ctx, text: string, column: number): CompletionItem[] {
  // DAP columns are 1-based by default: the cursor is before character `column`.
  const before = text.slice(0, Math.max(0, Math.min(text.length, column - 1)));
  const m = /[A-Za-z0-9_.$]*$/.exec(before);
  const word = m === null ? '' : m[0];
  const lower = word.toLowerCase();
  const out: CompletionItem[] = [];
  const add = (label: string, type: CompletionItem['type'], detail?: string): void => {
    if (label.toLowerCase().startsWith(lower.slice(lower.lastIndexOf('.') + 1))) out.push({ label, type, detail });
  };
  if (lower.startsWith('vmcs.')) {
    for (const f of VMCS_FIELDS) if (f.supported) add(f.name, 'property', `${f.description} (0x${f.encoding.toString(16)})`);
    return out;
  }
  if (lower.startsWith('msr.')) {
    for (const r of MSRS) add(r.name, 'property', `MSR 0x${r.index.toString(16)}`);
    return out;
  }
  const dot = lower.indexOf('.');
  if (dot >= 0) {
    // Segment/table parts: cs.base, gdtr.limit ...
    for (const r of REGISTER_NAMES) if (r.startsWith(lower.slice(0, dot + 1))) add(r.slice(dot + 1), 'property');
    return out;
  }
  if (before.trim() === word) for (const c of REPL_COMMANDS) add(c.name, 'function', c.usage);
  for (const r of REGISTER_NAMES) if (!r.includes('.')) add(r, 'variable', 'register');
  for (const s of Object.keys(SIZES)) add(s, 'keyword', `${s} [address]`);
  add('vmcs', 'keyword', 'vmcs.FIELD');
  add('msr', 'keyword', 'msr.NAME');
  for (const f of exitFieldNames(ctx)) add(f, 'value', 'field of the VM exit');
  for (const s of ctx.t.info.symbols.all()) add(s.name, s.kind === 'function' ? 'function' : 'variable', formatAddress(s.address));
  const seen = new Set<string>();
  return out.filter((c) => !seen.has(c.label) && (seen.add(c.label), true));
}
