/**
 * The "General registers" and "Segments" scopes: RAX..R15, RIP, RFLAGS (with every flag by
 * name, SDM vol. 1 §3.4.3), each writable; segment registers with selector, base, limit and
 * access rights decoded (SDM vol. 3A §3.4.2, §3.4.5; the VMCS layout of vol. 3C §24.4.1), GDTR
 * and IDTR.
 */
import type { VarNode } from '../model';
import { EvaluateError } from '../model';
import { FLAG_NAMES } from '../../x86/registers';
import type { Ctx } from './context';
import { GPR_DISPLAY, SEGMENTS } from './guestState';
import { SEGMENT_AR_BITS, SELECTOR_BITS, setFlags } from './bitTables';
import { bitNodes, leaf, numberForms } from './nodes';
import { hex, hex64, hexWidth } from './format';
import { evaluateNumber } from './evaluate';
import { registerRef } from './registerNames';

/** A writable register node (value `0x` + 16 digits). */
export function registerNode(ctx: Ctx, name: string, extra?: (v: bigint) => VarNode[]): VarNode {
  const r = registerRef(ctx.g, name)!;
  const v = r.get();
  return {
    name: name.toUpperCase(), value: hex64(v), type: `${r.bits}-bit register`, evaluateName: name,
    children: () => [...(extra?.(v) ?? []), ...numberForms(v)],
    set: (text) => {
      if (r.set === undefined) throw new EvaluateError(`${name} is read-only here: ${r.readOnlyWhy}`);
      r.set(evaluateNumber(ctx, text));
      return hex64(r.get());
    },
  };
}

function rflagsChildren(ctx: Ctx, v: bigint): VarNode[] {
  const flags: VarNode[] = FLAG_NAMES.map(([bit, name]) => ({
    name, value: String((v >> BigInt(bit)) & 1n), type: `bit ${bit}`, evaluateName: name.toLowerCase(),
    set: (text: string) => {
      const x = evaluateNumber(ctx, text);
      if (x > 1n) throw new EvaluateError(`${name} is one bit: 0 or 1`);
      ctx.g.setRflags((ctx.g.rflags() & ~(1n << BigInt(bit))) | (x << BigInt(bit)));
      return x.toString();
    },
  }));
  flags.splice(9, 0, leaf('IOPL', String((v >> 12n) & 3n), 'bits 13:12'));
  return flags;
}

export function generalRegisters(ctx: Ctx): VarNode[] {
  return [
    ...GPR_DISPLAY.map((r) => registerNode(ctx, r)),
    registerNode(ctx, 'rip'),
    { ...registerNode(ctx, 'rflags'), type: `flags: ${flagSummary(ctx.g.rflags())}`, children: () => rflagsChildren(ctx, ctx.g.rflags()) },
  ];
}

const flagSummary = (v: bigint): string => setFlags(FLAG_NAMES.map(([bit, name]) => ({ name, lo: bit, hi: bit })), v) || '(none)';

function arSummary(ar: bigint): string {
  if ((ar & 0x10000n) !== 0n) return 'unusable';
  const type = Number(ar & 0xfn);
  const s = (ar & 0x10n) !== 0n;
  const kind = !s ? `system type ${type}` : (type & 8) !== 0 ? `code${type & 2 ? ' readable' : ''}${type & 4 ? ' conforming' : ''}` : `data${type & 2 ? ' writable' : ' read-only'}${type & 4 ? ' expand-down' : ''}`;
  const size = (ar & 0x2000n) !== 0n ? '64-bit' : (ar & 0x4000n) !== 0n ? '32-bit' : '16-bit';
  return `${kind}, DPL ${(ar >> 5n) & 3n}, ${size}${(ar & 0x80n) !== 0n ? '' : ', not present'}`;
}

export function segmentNodes(ctx: Ctx): VarNode[] {
  const out: VarNode[] = SEGMENTS.map(([name]) => {
    const s = ctx.g.segment(name);
    return {
      name: name.toUpperCase(), value: hexWidth(s.selector, 16), type: arSummary(s.ar), evaluateName: name,
      children: () => [
        { name: 'selector', value: hexWidth(s.selector, 16), children: () => bitNodes(SELECTOR_BITS, s.selector) },
        leaf('base', hex64(s.base)), leaf('limit', hexWidth(s.limit, 32)),
        { name: 'access rights', value: hexWidth(s.ar, 32), type: arSummary(s.ar), children: () => bitNodes(SEGMENT_AR_BITS, s.ar) },
      ],
    };
  });
  for (const t of ['gdtr', 'idtr'] as const) {
    const v = ctx.g.table(t);
    out.push({ name: t.toUpperCase(), value: `${hex(v.base)} limit ${hex(v.limit)}`, children: () => [leaf('base', hex64(v.base)), leaf('limit', hexWidth(v.limit, 16))] });
  }
  return out;
}
