/**
 * What a VMCS field's value means, for the VMCS scope and vtx/vmcs: control fields bit by bit
 * with the capability MSRs' allowed settings (SDM vol. 3C §24.6-24.8, appendix A; bits from
 * controlBits.ts through fields.ts), CR0/CR4 and their masks/shadows by bit, selectors and
 * access rights (§24.4.1), interruption information (§24.8.3, §27.2.2), the exit reason and
 * qualification (§27.2.1, exitDecode.ts), interruptibility and activity state (§24.4.2), EPTP
 * (§24.6.11), EFER, RFLAGS, DR7.
 */
import type { VmcsField } from '../../vmx/fields';
import { CheckCaps, readCaps } from '../../vmx/entryChecksCommon';
import { EXIT_REASON_BY_NUMBER } from '../../vmx/exitReasons';
import { FLAG_NAMES } from '../../x86/registers';
import type { Cpu } from '../../x86/cpu';
import type { DecodedExit } from '../../vmx/exitDecode';
import {
  ACTIVITY_STATES, CR0_BITS, CR4_BITS, DR7_BITS, EFER_BITS, EPTP_BITS, INTERRUPTIBILITY_BITS, INTERRUPTION_INFO_BITS,
  SEGMENT_AR_BITS, SELECTOR_BITS, fieldValue, type BitField,
} from './bitTables';
import type { DecodedPart } from './reports';

const RFLAGS_BITS: readonly BitField[] = [...FLAG_NAMES.map(([bit, name]) => ({ name, lo: bit, hi: bit })), { name: 'IOPL', lo: 12, hi: 13 }];

/** Allowed-0/allowed-1 of the control fields (TRUE MSRs when IA32_VMX_BASIC[55], §A.2-A.5). */
export function controlCaps(c: Cpu): Map<string, [number, number]> {
  const k = readCaps(c, new CheckCaps());
  return new Map([
    ['PIN_BASED_VM_EXECUTION_CONTROLS', [k.pin0, k.pin1]],
    ['PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', [k.proc0, k.proc1]],
    ['SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', [k.proc20, k.proc21]],
    ['PRIMARY_VM_EXIT_CONTROLS', [k.exit0, k.exit1]],
    ['VM_ENTRY_CONTROLS', [k.entry0, k.entry1]],
  ]);
}

function parts(table: readonly BitField[], v: bigint): DecodedPart[] {
  return table.map((b) => {
    const one = b.lo === b.hi;
    return {
      name: b.name, bits: one ? String(b.lo) : `${b.hi}:${b.lo}`, value: fieldValue(b, v),
      on: one ? ((v >> BigInt(b.lo)) & 1n) === 1n : undefined, description: b.description,
    };
  });
}

const onNames = (p: DecodedPart[]): string => p.filter((x) => x.on === true).map((x) => x.name).join(' ');

export interface FieldMeaning {
  summary?: string;
  decoded?: DecodedPart[];
}

/** Decode `value` of field `f`; `exit` is the exit the exit-information fields belong to. */
export function decodeField(f: VmcsField, value: bigint, caps: Map<string, [number, number]>, exit: DecodedExit | undefined): FieldMeaning {
  const n = f.name;
  if (f.bits !== undefined) {
    const cap = caps.get(n);
    const decoded: DecodedPart[] = f.bits.map((b) => {
      const on = ((value >> BigInt(b.bit)) & 1n) === 1n;
      const p: DecodedPart = { name: b.name, bits: String(b.bit), value: on ? '1' : '0', on, modelled: b.modelled, description: b.description };
      if (cap !== undefined) {
        p.allowed0 = ((cap[0] >>> b.bit) & 1) === 0;
        p.allowed1 = ((cap[1] >>> b.bit) & 1) === 1;
      }
      return p;
    });
    return { summary: decoded.filter((d) => d.on && !d.name.startsWith('DEFAULT1_')).map((d) => d.name).join(' ') || '(none)', decoded };
  }
  let table: readonly BitField[] | undefined;
  if (/^(GUEST|HOST)_CR0$|^CR0_/.test(n)) table = CR0_BITS;
  else if (/^(GUEST|HOST)_CR4$|^CR4_/.test(n)) table = CR4_BITS;
  else if (n.endsWith('_ACCESS_RIGHTS')) table = SEGMENT_AR_BITS;
  else if (n.endsWith('_SELECTOR')) table = SELECTOR_BITS;
  else if (n.endsWith('_IA32_EFER')) table = EFER_BITS;
  else if (n === 'GUEST_RFLAGS') table = RFLAGS_BITS;
  else if (n === 'GUEST_DR7') table = DR7_BITS;
  else if (n === 'EPT_POINTER') table = EPTP_BITS;
  else if (n === 'GUEST_INTERRUPTIBILITY_STATE') table = INTERRUPTIBILITY_BITS;
  else if (n.endsWith('INTERRUPTION_INFORMATION') || n === 'IDT_VECTORING_INFORMATION') table = INTERRUPTION_INFO_BITS;
  if (table !== undefined) {
    const decoded = parts(table, value);
    let summary = onNames(decoded) || undefined;
    if (table === INTERRUPTION_INFO_BITS) summary = (value & 0x80000000n) !== 0n ? `${decoded[1].value.replace(/^\d+ \((.*)\)$/, '$1')} vector ${value & 0xffn}${(value & 0x800n) !== 0n ? ', error code' : ''}` : 'not valid';
    if (table === SEGMENT_AR_BITS) summary = (value & 0x10000n) !== 0n ? 'unusable' : `type ${value & 0xfn}, DPL ${(value >> 5n) & 3n}${(value & 0x80n) !== 0n ? ', present' : ', not present'}${(value & 0x2000n) !== 0n ? ', L' : ''}${(value & 0x4000n) !== 0n ? ', D/B' : ''}${(value & 0x8000n) !== 0n ? ', G' : ''}`;
    if (table === SELECTOR_BITS) summary = `index ${value >> 3n}, ${(value & 4n) !== 0n ? 'LDT' : 'GDT'}, RPL ${value & 3n}`;
    if (table === EPTP_BITS) summary = `PML4 at 0x${(value & 0x000ffffffffff000n).toString(16)}, ${decoded[0].value.replace(/^\d+ \((.*)\)$/, '$1')}, ${((value >> 3n) & 7n) + 1n}-level walk${(value & 0x40n) !== 0n ? ', A/D' : ''}`;
    return { summary, decoded };
  }
  if (n === 'GUEST_ACTIVITY_STATE') return { summary: ACTIVITY_STATES[Number(value)] ?? `state ${value}` };
  if (n === 'EXIT_REASON') {
    const basic = Number(value & 0xffffn);
    const r = EXIT_REASON_BY_NUMBER.get(basic);
    const failed = (value & 0x80000000n) !== 0n;
    return {
      summary: `${basic} ${r?.name ?? '?'}${failed ? ' (VM-entry failure)' : ''}`,
      decoded: [
        { name: 'basic reason', bits: '15:0', value: `${basic} (${r?.name ?? 'unknown'})`, description: r?.description },
        { name: 'VM-entry failure', bits: '31', value: failed ? '1' : '0', on: failed },
      ],
    };
  }
  if (n === 'EXIT_QUALIFICATION' && exit !== undefined) {
    const decoded = exitFieldParts(exit);
    return { summary: exit.summary, decoded };
  }
  return {};
}

const SKIP = new Set(['reason', 'rip', 'rsp', 'rflags', 'qualification', 'length', 'entryFailure',
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15']);

/** The exit's decoded values other than the registers (exitDecode.ts), as parts. */
export function exitFieldParts(exit: DecodedExit): DecodedPart[] {
  return Object.entries(exit.fields).filter(([k]) => !SKIP.has(k)).map(([k, v]) => ({
    name: k, bits: '', value: typeof v === 'bigint' ? `0x${v.toString(16)}` : String(v), on: typeof v === 'boolean' ? v : undefined,
  }));
}
