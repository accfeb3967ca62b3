/**
 * Inspection (issue 6): scopes and variables, evaluate, setExpression, completions, REPL
 * commands and the custom-request reports over a stopped Vmm — the `Inspector` contract of
 * src/debugger/model.ts.
 */
import type { EvalResult, InspectTarget, Inspector, ScopeModel, VarNode } from '../model';
import { EvaluateError } from '../model';
import { FIELD_BY_NAME } from '../../vmx/fields';
import { contextOf, type Ctx } from './context';
import { generalRegisters, segmentNodes } from './registersScope';
import { controlRegisters, msrNodes } from './controlScope';
import { fpuSseNodes } from './fpuScope';
import { exitNodes } from './exitScope';
import { fieldNode, fieldReport, setVmcsField, vmcsNodes, vmcsReport } from './vmcsView';
import { eptFlat, eptTree } from './eptReport';
import { exitsReport } from './exitsReport';
import { completions } from './completions';
import { runCommand } from './repl';
import { translateReport } from './translateReport';
import { defaultSize, evaluateNumber, evaluateParsed, formatValue, parseExpression } from './evaluate';
import { registerRef } from './registerNames';
import { MemoryAccessError, writeValue } from './memoryAccess';
import { hex, messageOf } from './format';

function scopes(t: InspectTarget): ScopeModel[] {
  const ctx = contextOf(t);
  return [
    { name: 'General registers', presentationHint: 'registers', expensive: false, variables: () => generalRegisters(ctx) },
    { name: 'Segments', expensive: false, variables: () => segmentNodes(ctx) },
    { name: 'Control registers', expensive: false, variables: () => controlRegisters(ctx) },
    { name: 'MSRs', expensive: false, variables: () => msrNodes(ctx) },
    { name: 'FPU/SSE', expensive: true, variables: () => fpuSseNodes(ctx) },
    { name: 'VM exit', expensive: false, variables: () => exitNodes(ctx) },
    { name: 'VMCS', expensive: true, variables: () => vmcsNodes(ctx) },
  ];
}

/** Children to show with a bare name's value (a register's flags, a control field's bits). */
function nodeOf(ctx: Ctx, name: string): VarNode | undefined {
  const n = name.startsWith('$') ? name.slice(1) : name;
  if (n.toLowerCase().startsWith('vmcs.')) {
    const f = FIELD_BY_NAME.get(n.slice(5).toUpperCase());
    return f === undefined ? undefined : fieldNode(ctx, fieldReport(ctx, f));
  }
  const lower = n.toLowerCase();
  if (lower === 'rflags' || lower === 'eflags') return generalRegisters(ctx).find((x) => x.name === 'RFLAGS');
  const cr = controlRegisters(ctx).find((x) => x.name.toLowerCase() === lower);
  if (cr !== undefined) return cr;
  return undefined;
}

function evaluate(t: InspectTarget, text: string, context: 'watch' | 'hover' | 'repl' | 'clipboard' | 'variables'): EvalResult {
  const ctx = contextOf(t);
  if (context === 'repl') {
    const c = runCommand(ctx, text);
    if (c !== undefined) return c;
    // `x = value` in the Debug Console assigns (`==` compares).
    const m = /^([^=!<>]+?)\s*=(?!=)\s*(.+)$/.exec(text);
    if (m !== null && !/^\s*$/.test(m[2])) return setExpression(t, m[1], m[2]);
  }
  const p = parseExpression(text);
  const v = evaluateParsed(ctx, p, text);
  const r: EvalResult = { result: formatValue(v), type: typeof v === 'bigint' ? 'number' : typeof v };
  if (p.expr.k === 'sym') {
    const node = nodeOf(ctx, p.expr.name);
    if (node?.children !== undefined) r.children = node.children;
  }
  if (p.mems.length === 1 && p.expr.k === 'sym') {
    // `[addr]`: the memory view can open the address read.
    try {
      r.memoryReference = hex(evaluateNumber(ctx, text.replace(/^\s*(byte|word|dword|qword)?\s*(ptr)?\s*\[/i, '(').replace(/\]\s*$/, ')')));
    } catch {
      // Only a convenience.
    }
  }
  return r;
}

/** Assign `value` to a register, a VMCS field (`vmcs.NAME`) or memory (`dword [addr]`). */
function setExpression(t: InspectTarget, expression: string, value: string): EvalResult {
  const ctx = contextOf(t);
  const target = expression.trim();
  const vmcs = /^\$?vmcs\.([A-Za-z0-9_]+)$/i.exec(target);
  if (vmcs !== null) {
    const shown = setVmcsField(ctx, vmcs[1].toUpperCase(), value);
    return { result: shown, type: 'number' };
  }
  const reg = registerRef(ctx.g, target.replace(/^\$/, ''));
  if (reg !== undefined) {
    if (reg.set === undefined) throw new EvaluateError(`${target} is read-only here: ${reg.readOnlyWhy}`);
    const v = evaluateNumber(ctx, value);
    try {
      reg.set(v);
    } catch (e) {
      throw new EvaluateError(messageOf(e));
    }
    return { result: formatValue(reg.get()), type: 'number' };
  }
  const mem = /^(?:(byte|word|dword|qword)\s+(?:ptr\s+)?)?\[(.*)\]$/i.exec(target);
  if (mem !== null) {
    const size = mem[1] !== undefined ? ({ byte: 1, word: 2, dword: 4, qword: 8 } as Record<string, number>)[mem[1].toLowerCase()] : defaultSize(ctx);
    const addr = evaluateNumber(ctx, mem[2]);
    const v = evaluateNumber(ctx, value);
    try {
      writeValue(ctx.g, addr, size, v);
    } catch (e) {
      if (e instanceof MemoryAccessError) throw new EvaluateError(e.message);
      throw e;
    }
    return { result: formatValue(BigInt.asUintN(size * 8, v)), type: 'number', memoryReference: hex(addr) };
  }
  // Not assignable: say what is, after checking the name exists at all.
  parseExpression(target);
  throw new EvaluateError(`cannot assign to '${target}': assign to a register (rax, eflags, zf ...), vmcs.FIELD or memory (byte/word/dword/qword [address])`);
}

export const inspector: Inspector = {
  scopes,
  evaluate,
  setExpression,
  completions: (t, text, column) => completions(contextOf(t), text, column),
  vmcsReport: (t) => vmcsReport(contextOf(t)),
  eptReport: (t, form) => (form === 'tree' ? eptTree(contextOf(t)) : eptFlat(contextOf(t))),
  exitsReport: (t, limit) => exitsReport(contextOf(t), limit),
  translateReport: (t, address, kind) => translateReport(contextOf(t), address, kind),
};


