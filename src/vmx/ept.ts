/**
 * EptHooks (src/x86/vmxEptHooks.ts): guest-physical → host-physical translation through EPT
 * (SDM vol. 3C §28.2). SEAM: identity for now; being written (issue 4).
 */
import type { EptHooks } from '../x86/vmxHooks';
import type { VmxEngine } from './engine';

export function createEptHooks(_engine: VmxEngine): EptHooks {
  return { translate: (_c, gpa) => gpa };
}
