/** Building blocks of Variables-view nodes. */
import type { VarNode } from '../model';
import { fieldValue, type BitField } from './bitTables';
import { hex } from './format';

/** One child per field of `table`: name, value (flags 0/1, values named, numbers hex), description as type. */
export function bitNodes(table: readonly BitField[], v: bigint): VarNode[] {
  return table.map((b) => ({ name: b.name, value: fieldValue(b, v), type: b.description ?? (b.lo === b.hi ? `bit ${b.lo}` : `bits ${b.hi}:${b.lo}`) }));
}

/** A leaf node. */
export const leaf = (name: string, value: string, type?: string): VarNode => ({ name, value, type });

/** A group node whose value summarises its children. */
export const group = (name: string, value: string, children: () => VarNode[]): VarNode => ({ name, value, children });

/** Decimal and signed forms of a 64-bit value, as children of a register. */
export function numberForms(v: bigint): VarNode[] {
  return [leaf('decimal', v.toString()), leaf('signed', BigInt.asIntN(64, v).toString()), leaf('hex', hex(v))];
}
