/**
 * The translator registry: for each iced-x86 mnemonic, a function that turns a decoded
 * instruction into a specialised closure. Instruction groups live in `insn/` and each exports
 * a table; `insn/index.ts` merges them.
 */
import type { Mnemonic } from 'iced-x86';
import type { DecodedInsn } from './decoded';
import type { Op } from './operands';

/** Returns the op, or null when this form is not an instruction the processor has (#UD). */
export type Translator = (d: DecodedInsn) => Op | null;
export type TranslatorTable = Partial<Record<Mnemonic, Translator>>;

/**
 * Why the last translator that returned null did so, when the reason is not "this form is
 * invalid in this mode": set through `unsupported()` and read (then cleared) by the CPU's
 * translateInsn (insnOp.ts) for the #UD's message.
 */
export const untranslated = { why: '' };
/** Returns null (#UD) with a precise reason for the #UD's message. */
export function unsupported(why: string): null {
  untranslated.why = why;
  return null;
}
