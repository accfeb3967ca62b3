/**
 * REPL commands of the Debug Console (context 'repl'): `ept <gpa>` (the EPT walk entry by
 * entry), `translate <gla>` (guest paging, then EPT), `exits` (counts by reason), `vmcs <name>`
 * (one field decoded; `vmcs` alone: the changed fields), `help`. Arguments are expressions.
 */
import type { EvalResult, VarNode } from '../model';
import { EvaluateError } from '../model';
import { FIELD_BY_NAME } from '../../vmx/fields';
import type { Ctx } from './context';
import { eptTranslate } from './eptProbe';
import { formatEpt, formatLinear, translateLinear } from './guestPaging';
import { evaluateNumber } from './evaluate';
import { exitsReport } from './exitsReport';
import { fieldNode, fieldReport, vmcsReport } from './vmcsView';
import { closeNames } from './suggest';
import { hex } from './format';

export const REPL_COMMANDS: ReadonlyArray<{ name: string; usage: string; help: string }> = [
  { name: 'ept', usage: 'ept <gpa>', help: 'walk the EPT for a guest-physical address, entry by entry' },
  { name: 'translate', usage: 'translate <gla>', help: "translate a guest-linear address through the guest's paging, then the EPT" },
  { name: 'exits', usage: 'exits', help: 'VM exits so far, counted by reason' },
  { name: 'vmcs', usage: 'vmcs <name>', help: 'one VMCS field, decoded (without a name: the fields changed since the last stop)' },
  { name: 'help', usage: 'help', help: 'this list' },
];

const lines = (text: string[]): EvalResult => ({ result: text.join('\n') });

/** The command result, or undefined when `text` is not a command. */
export function runCommand(ctx: Ctx, text: string): EvalResult | undefined {
  const m = /^\s*([A-Za-z]+)(?:\s+(.*?))?\s*$/.exec(text);
  if (m === null) return undefined;
  const cmd = m[1].toLowerCase();
  const arg = m[2] ?? '';
  if (!REPL_COMMANDS.some((c) => c.name === cmd)) return undefined;
  // `exits + 1`-style text is an expression over a name, not a command.
  if (/^[-+*/%&|^<>=!]/.test(arg)) return undefined;
  switch (cmd) {
    case 'help':
      return lines([
        'Expressions: registers (rax, eax, al, rip, rflags, zf, cr0, cr3, efer, cs.base ...), memory ([rsp], qword [rbp-8], byte [0x500]),',
        'vmcs.FIELD, msr.NAME, the exit\'s fields (leaf, port, qual, gpa ...), symbols (main, kmain+4); operators as in C; `x = value` assigns.',
        'Commands:', ...REPL_COMMANDS.map((c) => `  ${c.usage.padEnd(18)} ${c.help}`),
      ]);
    case 'ept': {
      if (arg === '') throw new EvaluateError('usage: ept <gpa>');
      const gpa = evaluateNumber(ctx, arg);
      if (gpa >= 1n << 52n) throw new EvaluateError(`${hex(gpa)} is beyond the 52-bit guest-physical address space`);
      return lines(formatEpt(eptTranslate(ctx.g.m, Number(gpa))));
    }
    case 'translate': {
      if (arg === '') throw new EvaluateError('usage: translate <gla>');
      return lines(formatLinear(translateLinear(ctx.g, evaluateNumber(ctx, arg))));
    }
    case 'exits': {
      const r = exitsReport(ctx, 0);
      if (r.total === 0) return { result: 'no VM exits yet' };
      return lines([`${r.total} VM exits`, ...r.counts.map((c) => `  ${String(c.count).padStart(8)}  ${c.name}${c.reason >= 0 ? ` (${c.reason})` : ''}`)]);
    }
    case 'vmcs': {
      if (arg === '') {
        const changed = vmcsReport(ctx).fields.filter((f) => f.changed);
        return lines(changed.length === 0 ? ['no VMCS field changed since the previous stop'] : changed.map((f) => `${f.name} = ${f.value} (was ${f.previous})`));
      }
      const name = arg.replace(/^vmcs\./i, '').toUpperCase();
      const f = FIELD_BY_NAME.get(name);
      if (f === undefined) {
        const close = closeNames(name, FIELD_BY_NAME.keys());
        throw new EvaluateError(`no VMCS field named ${arg}${close.length > 0 ? ` (did you mean ${close.join(', ')}?)` : ''}`);
      }
      const r = fieldReport(ctx, f);
      const node: VarNode = fieldNode(ctx, r);
      const text = [`${r.name} (${r.encoding}, ${r.width === 'natural' ? 'natural width' : `${r.width}-bit`}, ${r.groupLabel}) = ${r.value}${r.summary !== undefined ? ` — ${r.summary}` : ''}`];
      for (const d of r.decoded ?? []) text.push(`  ${d.name.padEnd(36)} ${d.on !== undefined ? (d.on ? 'on' : 'off') : d.value}${d.allowed0 !== undefined ? `  (allowed: ${[d.allowed0 ? '0' : '', d.allowed1 ? '1' : ''].filter((x) => x).join('/')})` : ''}`);
      return { result: text.join('\n'), children: node.children };
    }
    default:
      return undefined;
  }
}
