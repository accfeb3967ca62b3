/**
 * TEMPORARY minimal inspection (the real module is built in branch dbg-inspect and replaces this
 * file at merge): the scopes by name with the general registers filled in, evaluate over
 * registers, exit fields, symbols and memory reads, setExpression on registers and memory.
 * It keeps the contract's names and formats (model.ts; the engine's and adapter's tests rely
 * on nothing else).
 */
import { ConditionError, evaluateValue, parseCondition, type ConditionValue } from '../conditions';
import { EvaluateError, type CompletionItem, type EvalResult, type InspectTarget, type Inspector, type ScopeModel, type VarNode } from '../model';
import { GPRS, guestReg, readGuestValue, setGuestReg, writeGuestMemory } from '../engine/guestState';

const REGS = [...GPRS, 'rip', 'rflags'];
const hex16 = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;
const SIZES: Record<string, number> = { byte: 1, word: 2, dword: 4, qword: 8 };

function values(t: InspectTarget): Record<string, ConditionValue | undefined> {
  const out: Record<string, ConditionValue | undefined> = {};
  for (const s of t.info.symbols.all()) out[s.name] = BigInt(s.address);
  if (t.stoppedExit !== undefined) Object.assign(out, t.stoppedExit.fields);
  for (const r of REGS) out[r] = guestReg(t.vmm, r);
  return out;
}

/** Memory operands `[expr]` / `qword [expr]` replaced by their values (innermost first). */
function expandMemory(t: InspectTarget, text: string): string {
  const re = /(?:\b(byte|word|dword|qword)\s*)?\[([^[\]]+)\]/i;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const addr = evalNumber(t, m[2]);
    const size = SIZES[(m[1] ?? 'qword').toLowerCase()];
    const v = readGuestValue(t.vmm, addr, size);
    if (v === undefined) throw new EvaluateError(`cannot read ${size} bytes at 0x${addr.toString(16)}`);
    text = text.slice(0, m.index) + `0x${v.toString(16)}` + text.slice(m.index + m[0].length);
  }
  return text;
}

function evalNumber(t: InspectTarget, text: string): bigint {
  try {
    return evaluateValue(parseCondition(expandMemory(t, text)), values(t));
  } catch (e) {
    if (e instanceof ConditionError) throw new EvaluateError(`${text}: ${e.message}`);
    throw e;
  }
}

function registerNodes(t: InspectTarget): VarNode[] {
  return REGS.map((r) => ({
    name: r.toUpperCase(),
    value: hex16(guestReg(t.vmm, r)),
    type: 'register',
    evaluateName: r,
    set: (text: string): string => {
      setGuestReg(t.vmm, r, evalNumber(t, text));
      return hex16(guestReg(t.vmm, r));
    },
  }));
}

const SCOPES = ['General registers', 'Segments', 'Control registers', 'MSRs', 'FPU/SSE', 'VM exit', 'VMCS'];

export const inspector: Inspector = {
  scopes(t: InspectTarget): ScopeModel[] {
    return SCOPES.map((name) => ({
      name,
      presentationHint: 'registers' as const,
      expensive: name === 'VMCS' || name === 'FPU/SSE',
      variables: (): VarNode[] => {
        if (name === 'General registers') return registerNodes(t);
        if (name === 'VM exit' && t.stoppedExit !== undefined) {
          return Object.entries(t.stoppedExit.fields).map(([k, v]) => ({ name: k, value: typeof v === 'bigint' ? `0x${v.toString(16)}` : String(v) }));
        }
        return [];
      },
    }));
  },
  evaluate(t: InspectTarget, text: string): EvalResult {
    const v = evalNumber(t, text.trim());
    return { result: `0x${v.toString(16)}`, type: 'integer' };
  },
  setExpression(t: InspectTarget, expression: string, value: string): EvalResult {
    const e = expression.trim();
    const v = evalNumber(t, value);
    if (REGS.includes(e.toLowerCase())) setGuestReg(t.vmm, e, v);
    else {
      const m = /^(?:(byte|word|dword|qword)\s*)?\[(.+)\]$/i.exec(e);
      if (m === null) throw new EvaluateError(`cannot assign to '${expression}'`);
      const size = SIZES[(m[1] ?? 'qword').toLowerCase()];
      const addr = evalNumber(t, m[2]);
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = Number((v >> BigInt(8 * i)) & 0xffn);
      if (writeGuestMemory(t.vmm, addr, bytes) !== size) throw new EvaluateError(`cannot write ${size} bytes at 0x${addr.toString(16)}`);
    }
    return this.evaluate(t, e, 'watch');
  },
  completions(t: InspectTarget, text: string, column: number): CompletionItem[] {
    const word = /[A-Za-z_.$][\w.$]*$/.exec(text.slice(0, Math.max(0, column - 1)))?.[0] ?? '';
    const names = [...REGS, ...t.info.symbols.all().map((s) => s.name)];
    return names.filter((n) => n.toLowerCase().startsWith(word.toLowerCase())).map((n) => ({ label: n, type: REGS.includes(n) ? 'variable' : 'value' }));
  },
  vmcsReport: (t) => ({ fields: [] as unknown[], stoppedExit: t.stoppedExit?.name ?? null }),
  eptReport: (_t, form) => ({ form, entries: [] as unknown[] }),
  exitsReport: (t, limit) => ({ exits: t.exits.slice(-(limit ?? 100)).map((r) => ({ seq: r.seq, icount: r.icount, reason: r.exit.name, rip: `0x${(r.exit.fields.rip as bigint).toString(16)}`, summary: r.exit.summary })), counts: Object.fromEntries(t.exitCounts) }),
  translateReport: (_t, address, kind) => ({ address: `0x${address.toString(16)}`, kind }),
};
