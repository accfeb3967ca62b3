/** HLT and NOP forms (SDM vol. 2A/2B). */
import { Mnemonic } from 'iced-x86';
import { gp0 } from '../exceptions';
import type { Op } from '../operands';
import type { TranslatorTable } from '../translator';
import { InsnExit } from '../vmxInsnHooks';

/** Nothing happens: no register, flag or memory access (a memory operand is never touched). */
const nothing: Op = () => {};
const nop = (): Op => nothing;

export const miscHandlers: TranslatorTable = {
  [Mnemonic.Hlt]: (d) => {
    // HLT is privileged (#GP(0) at CPL > 0) and stops the processor after the instruction (RIP
    // points past it) until an interrupt, NMI or reset (SDM vol. 2A HLT); interrupts.ts
    // serviceEvents wakes it when it delivers one.
    d.endsBlock = true;
    d.setsRip = false;
    return (c) => {
      if (c.cpl !== 0) throw gp0('HLT at CPL > 0');
      if (c.nonRoot && c.vmxInsn!.instruction(c, d, InsnExit.Hlt)) return; // HLT exiting (SDM vol. 3C §25.1.3)
      c.halted = true;
    };
  },
  // NOP (90, 66 90, 0F 1F /0 with a never-accessed memory operand; SDM vol. 2B NOP) and PAUSE
  // (F3 90, a spin-loop hint that executes as NOP; SDM vol. 2B PAUSE).
  [Mnemonic.Nop]: nop,
  // In VMX non-root operation PAUSE may exit (PAUSE exiting, PAUSE-loop exiting; vol. 3C §25.1.3).
  [Mnemonic.Pause]: (d) => (c) => { if (c.nonRoot) c.vmxInsn!.pause(c, d); },
  // The hint space 0F 0D and 0F 18-0F 1F (SDM vol. 2B NOP, "reserved-NOP"; vol. 2B PREFETCHh,
  // PREFETCHW, CLDEMOTE): prefetches and cache hints never fault, not even on a non-canonical
  // or unmapped address (measured on silicon). CET's ENDBR32/ENDBR64 and RDSSPD/RDSSPQ execute
  // as NOPs while CET is not enabled — the model does not implement CET.
  [Mnemonic.Reservednop]: nop,
  [Mnemonic.Prefetch]: nop,
  [Mnemonic.Prefetchw]: nop,
  [Mnemonic.Prefetchwt1]: nop,
  [Mnemonic.Prefetchnta]: nop,
  [Mnemonic.Prefetcht0]: nop,
  [Mnemonic.Prefetcht1]: nop,
  [Mnemonic.Prefetcht2]: nop,
  [Mnemonic.Prefetchit0]: nop,
  [Mnemonic.Prefetchit1]: nop,
  [Mnemonic.Cldemote]: nop,
  [Mnemonic.Endbr32]: nop,
  [Mnemonic.Endbr64]: nop,
  [Mnemonic.Rdsspd]: nop,
  [Mnemonic.Rdsspq]: nop,
};
