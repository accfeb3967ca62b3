/**
 * Every instruction group's translators, merged into one table keyed by iced-x86 mnemonic.
 * Each group file owns its mnemonics; a mnemonic claimed twice is a startup error.
 */
import type { TranslatorTable } from '../translator';
import { aluHandlers } from './alu';
import { movHandlers } from './mov';
import { branchHandlers } from './branch';
import { miscHandlers } from './misc';
import { shiftHandlers } from './shift';
import { bitHandlers } from './bits';
import { bmiHandlers } from './bmi';
import { mulDivHandlers } from './muldiv';
import { bcdHandlers } from './bcd';
import { convertHandlers } from './convert';
import { flagOpHandlers } from './flagops';
import { dataMoveHandlers } from './datamove';
import { stackHandlers } from './stackops';
import { controlHandlers } from './control';
import { stringHandlers } from './string';
import { systemHandlers } from './system';
import { controlRegHandlers } from './controlRegs';
import { segmentHandlers } from './segment';
import { interruptHandlers } from './interrupt';
import { pagingHandlers } from './pagingInsn';
import { vmxOpHandlers } from './vmxOps';
import { fpuHandlers } from '../fpu';
import { sseHandlers } from '../sse';

const GROUPS: Record<string, TranslatorTable> = {
  alu: aluHandlers,
  mov: movHandlers,
  branch: branchHandlers,
  misc: miscHandlers,
  shift: shiftHandlers,
  bits: bitHandlers,
  bmi: bmiHandlers,
  muldiv: mulDivHandlers,
  bcd: bcdHandlers,
  convert: convertHandlers,
  flagops: flagOpHandlers,
  datamove: dataMoveHandlers,
  stackops: stackHandlers,
  control: controlHandlers,
  string: stringHandlers,
  system: systemHandlers,
  controlRegs: controlRegHandlers,
  segment: segmentHandlers,
  interrupt: interruptHandlers,
  paging: pagingHandlers,
  vmx: vmxOpHandlers,
  fpu: fpuHandlers,
  sse: sseHandlers,
};

function merge(groups: Record<string, TranslatorTable>): TranslatorTable {
  const out: TranslatorTable = {};
  const owner: Record<number, string> = {};
  for (const [name, table] of Object.entries(groups)) {
    for (const [k, t] of Object.entries(table)) {
      const m = Number(k);
      if (owner[m] !== undefined) throw new Error(`mnemonic ${m} is claimed by both ${owner[m]} and ${name}`);
      owner[m] = name;
      (out as Record<number, unknown>)[m] = t;
    }
  }
  return out;
}

export const HANDLERS: TranslatorTable = merge(GROUPS);
