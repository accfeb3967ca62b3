/**
 * InstructionExitHooks (src/x86/vmxInsnHooks.ts): which instructions exit in non-root operation
 * (SDM vol. 3C §25.1.2-25.1.3) and the exit information they record (§27.2).
 * SEAM: nothing exits yet; being written (issue 4).
 */
import type { InstructionExitHooks } from '../x86/vmxHooks';
import type { VmxEngine } from './engine';

export function createInsnHooks(_engine: VmxEngine): InstructionExitHooks {
  return {
    instruction: () => {},
    io: () => {},
    msr: () => {},
    crWrite: () => {},
    crRead: (_c, _d, _cr, _gpr, lo) => lo,
    drAccess: () => {},
  };
}
