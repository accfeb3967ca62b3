/**
 * The VMCS as the debugger shows it: every field of the declarative table (src/vmx/fields.ts)
 * in the SDM's grouping (appendix B: control, VM-exit information, guest state, host state;
 * within each by width), value, changed-since-last-stop, writability under VMWRITE's rules and
 * the decoded meaning (vmcsDecode.ts). Feeds the "VMCS" scope and vtx/vmcs.
 */
import type { VarNode } from '../model';
import { EvaluateError } from '../model';
import { VMCS_FIELDS, FIELD_BY_NAME, type FieldGroup, type VmcsField } from '../../vmx/fields';
import type { Ctx } from './context';
import { currentVmcs } from '../stoppedMachine';
import { controlCaps, decodeField } from './vmcsDecode';
import { vmcsWriteRefusal, writeVmcsField } from './vmcsWrite';
import type { DecodedPart, VmcsFieldReport, VmcsReport } from './reports';
import { evaluateNumber } from './evaluate';
import { messageOf } from './format';

export const GROUP_LABELS: Record<FieldGroup, string> = {
  control: 'Control fields', 'exit-info': 'VM-exit information fields', guest: 'Guest-state fields', host: 'Host-state fields',
};
const GROUP_ORDER: FieldGroup[] = ['control', 'guest', 'host', 'exit-info'];
const WIDTH_ORDER = ['16', '32', '64', 'natural'] as const;
const BITS: Record<string, number> = { 16: 16, 32: 32, 64: 64, natural: 64 };

const widthOf = (f: VmcsField): VmcsFieldReport['width'] => String(f.width) as VmcsFieldReport['width'];

export function fieldHex(f: VmcsField, v: bigint): string {
  const bits = BITS[widthOf(f)];
  return `0x${BigInt.asUintN(bits, v).toString(16).padStart(bits / 4, '0')}`;
}

export function fieldReport(ctx: Ctx, f: VmcsField, caps = controlCaps(ctx.g.m.cpu)): VmcsFieldReport {
  const value = ctx.g.field(f.name);
  const prev = ctx.t.previousVmcs?.get(f.name);
  const changed = (prev !== undefined && prev !== value) || ctx.t.writtenVmcs?.has(f.name) === true;
  const m = decodeField(f, value, caps, f.group === 'exit-info' ? ctx.exit : undefined);
  const r: VmcsFieldReport = {
    name: f.name, encoding: `0x${f.encoding.toString(16).padStart(4, '0')}`, group: f.group, groupLabel: GROUP_LABELS[f.group],
    width: widthOf(f), value: fieldHex(f, value), changed, writable: !f.readOnly && vmcsWriteRefusal(ctx.g.m, f.name) === null,
    supported: f.supported, readOnly: f.readOnly, description: f.description,
  };
  if (changed) r.previous = fieldHex(f, prev ?? value);
  if (m.summary !== undefined) r.summary = m.summary;
  if (m.decoded !== undefined) r.decoded = m.decoded;
  return r;
}

const insideNote = 'stopped inside the guest (VMX non-root operation): guest-state fields hold the values of the last VM entry; the live state is in the registers';
const noVmcsNote = 'no current VMCS: the guest hypervisor has not made one current with VMPTRLD, or VMCLEAR of the current one made it not current (SDM vol. 3C §24.1, §30.3)';

/**
 * Bare VT-x mode: the VMCS shown is the one the guest hypervisor's VMPTRLD made current, and
 * the changed flags mark the fields it wrote with VMWRITE since the previous VM exit
 * (src/debugger/engine/guestVmcsWrites.ts).
 */
function bareNote(ctx: Ctx, address: number): string {
  const where = `the guest hypervisor's current VMCS at 0x${address.toString(16)} (VMPTRLD, SDM vol. 3C §24.1); "changed" marks the fields it wrote (VMWRITE) since the previous VM exit`;
  return ctx.g.m.cpu.nonRoot ? `${where}. Stopped inside its nested guest (VMX non-root operation): guest-state fields hold the values of the last VM entry; the live state is in the registers` : where;
}

export function vmcsReport(ctx: Ctx): VmcsReport {
  const m = ctx.g.m;
  const v = currentVmcs(m);
  if (v === null) return { inside: m.cpu.nonRoot, note: noVmcsNote, fields: [], groups: [] };
  const caps = controlCaps(m.cpu);
  const fields = VMCS_FIELDS.map((f) => fieldReport(ctx, f, caps));
  const groups: VmcsReport['groups'] = [];
  for (const g of GROUP_ORDER) {
    for (const w of WIDTH_ORDER) {
      const names = VMCS_FIELDS.filter((f) => f.group === g && widthOf(f) === w).map((f) => f.name);
      if (names.length > 0) groups.push({ group: g, label: GROUP_LABELS[g], width: w, fields: names });
    }
  }
  if (m.vmm === null) return { inside: m.cpu.nonRoot, note: bareNote(ctx, v.address), vmcs: `0x${v.address.toString(16)}`, fields, groups };
  return { inside: ctx.g.inside, note: ctx.g.inside ? insideNote : undefined, fields, groups };
}

function partNode(p: DecodedPart): VarNode {
  const caps = p.allowed0 !== undefined ? ` (may be ${[p.allowed0 ? '0' : '', p.allowed1 ? '1' : ''].filter((x) => x !== '').join(' or ') || 'neither'})` : '';
  return { name: p.name, value: p.on !== undefined ? (p.on ? 'on' : 'off') : p.value, type: `${p.bits !== '' ? `bit ${p.bits}` : ''}${caps}${p.description !== undefined ? ` — ${p.description}` : ''}`.replace(/^ — /, '') };
}

/** Set field `name` from expression text (VMWRITE rules); returns the new display value. */
export function setVmcsField(ctx: Ctx, name: string, text: string): string {
  const f = FIELD_BY_NAME.get(name);
  if (f === undefined) throw new EvaluateError(`no VMCS field named ${name}`);
  const v = evaluateNumber(ctx, text);
  try {
    writeVmcsField(ctx.g.m, f.name, v);
  } catch (e) {
    throw new EvaluateError(messageOf(e));
  }
  return fieldHex(f, ctx.g.field(f.name));
}

export function fieldNode(ctx: Ctx, r: VmcsFieldReport): VarNode {
  const node: VarNode = {
    name: r.name, value: r.value, type: `${r.width === 'natural' ? 'natural-width' : `${r.width}-bit`} ${r.encoding}${r.summary !== undefined ? ` — ${r.summary}` : ''}`,
    evaluateName: `vmcs.${r.name}`, changed: r.changed,
    children: r.decoded !== undefined ? () => r.decoded!.map(partNode) : undefined,
  };
  if (!r.readOnly && r.supported) node.set = (text) => setVmcsField(ctx, r.name, text);
  return node;
}

export function vmcsNodes(ctx: Ctx): VarNode[] {
  const rep = vmcsReport(ctx);
  const byName = new Map(rep.fields.map((f) => [f.name, f]));
  const out: VarNode[] = [];
  if (rep.note !== undefined) out.push({ name: 'note', value: rep.note });
  for (const g of GROUP_ORDER) {
    const groups = rep.groups.filter((x) => x.group === g);
    const supported = (names: string[]): VmcsFieldReport[] => names.map((n) => byName.get(n)!).filter((f) => f.supported);
    const count = groups.reduce((a, x) => a + supported(x.fields).length, 0);
    const changed = groups.reduce((a, x) => a + supported(x.fields).filter((f) => f.changed).length, 0);
    out.push({
      name: GROUP_LABELS[g], value: `${count} fields${changed > 0 ? `, ${changed} changed` : ''}`, changed: changed > 0,
      children: () => groups.map((x) => ({
        name: x.width === 'natural' ? 'natural width' : `${x.width}-bit`, value: `${supported(x.fields).length} fields`,
        changed: supported(x.fields).some((f) => f.changed),
        children: () => supported(x.fields).map((f) => fieldNode(ctx, f)),
      })),
    });
  }
  return out;
}
