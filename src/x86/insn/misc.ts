/** HLT and NOP forms (SDM vol. 2A/2B). */
import { Mnemonic } from 'iced-x86';
import type { TranslatorTable } from '../translator';

export const miscHandlers: TranslatorTable = {
  [Mnemonic.Hlt]: (d) => {
    // HLT stops the processor after the instruction (RIP points past it, SDM vol. 2A HLT).
    d.endsBlock = true;
    d.setsRip = false;
    return (c) => { c.halted = true; };
  },
  [Mnemonic.Nop]: () => () => {},
};
