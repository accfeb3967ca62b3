/**
 * One decoded instruction → its op: the translator of its mnemonic (insn/, through the HANDLERS
 * table), or an op raising #UD with the reason — bytes that are no instruction, a LOCK prefix
 * where none is allowed, a form invalid in this mode (or refused with `unsupported()`), an
 * instruction the model does not have (named with the CPUID features it needs), a VEX/EVEX/XOP
 * encoding in real or virtual-8086 mode. The translated-block cache (cpu.ts) calls it once per
 * instruction of a block.
 */
import { CpuidFeature, EncodingKind, Instruction, Mnemonic } from 'iced-x86';
import type { DecodedInsn } from './decoded';
import { ud } from './exceptions';
import { HANDLERS } from './insn';
import { lockAllowed } from './insn/lock';
import type { Op } from './operands';
import { untranslated } from './translator';

export function translateInsn(d: DecodedInsn): Op {
  if (d.invalid) {
    d.endsBlock = true;
    d.setsRip = false;
    return () => { throw ud('undefined opcode'); };
  }
  if (d.lock && !lockAllowed(d)) {
    d.endsBlock = true;
    d.setsRip = false;
    return () => { throw ud('LOCK prefix not allowed on this instruction'); };
  }
  const t = HANDLERS[d.mnemonic];
  untranslated.why = '';
  const op = t === undefined ? null : t(d);
  if (op === null) {
    d.endsBlock = true;
    d.setsRip = false;
    const what = t === undefined ? notImplemented(d)
      : untranslated.why !== '' ? untranslated.why : 'invalid in this mode';
    return () => { throw ud(what); };
  }
  if (d.encoding !== EncodingKind.Legacy && d.encoding !== EncodingKind.D3NOW && d.bitness !== 64) {
    // VEX/EVEX/XOP encodings are #UD in real and virtual-8086 mode (SDM vol. 2A §2.3.12); the
    // same bytes can run in 16-bit protected mode, so the check is made when the op runs.
    return (c) => {
      if (!c.protectedMode || (c.flagsRest & 0x20000) !== 0) throw ud('VEX encoding in real or virtual-8086 mode');
      op(c);
    };
  }
  return op;
}

/**
 * The #UD message for an instruction no translator exists for: its name, its encoding when not
 * legacy, and the CPUID features it needs (none of which this model reports).
 */
function notImplemented(d: DecodedInsn): string {
  const ins = Instruction.create(d.code);
  let needs = '';
  try {
    needs = Array.from(ins.cpuidFeatures(), (f) => CpuidFeature[f]).join(', ');
  } finally {
    ins.free();
  }
  const enc = d.encoding === EncodingKind.Legacy ? '' : ` (${EncodingKind[d.encoding]}-encoded)`;
  return `${Mnemonic[d.mnemonic].toUpperCase()}${enc}: instruction not implemented by the processor model` +
    (needs !== '' ? ` (needs ${needs}, not reported by CPUID)` : '');
}
