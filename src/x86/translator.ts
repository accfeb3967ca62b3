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
