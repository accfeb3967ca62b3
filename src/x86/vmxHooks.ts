/**
 * The processor's one narrow door to VMX (DESIGN.md: "in non-root operation it asks the engine
 * 'does this event exit?' at each architecturally defined point"). The processor defines these
 * interfaces; the VT-x engine (src/vmx/) implements them and attaches them to the Cpu while the
 * logical processor is in VMX operation. src/x86 never imports src/vmx. One file per
 * hook family (each has one owner): vmxInsnHooks.ts, vmxEventHooks.ts, vmxEptHooks.ts.
 *
 * A hook that decides "this exits" performs the whole VM exit (SDM vol. 3C chapter 27: exit
 * information recorded, guest state saved, host state loaded), sets `c.exitTaken` and returns
 * (the op returns at once: the run loop ends the block, `Cpu.exitReturns`), or throws VM_EXIT
 * where it cannot return (inside a memory access); a between-instructions hook returns true. The run loop catches VM_EXIT: it does
 * not touch RIP (host state is already loaded) and either returns 'vmexit' to the caller (the
 * host is TypeScript: the built-in hypervisor) or continues at HOST_RIP (the host is guest code:
 * nested, `c.vmExitStops` false).
 */

/** Thrown (never allocated per exit) after a VM exit has been performed. */
export class VmExitSignal {
  readonly vmExit = true;
}
export const VM_EXIT = new VmExitSignal();

export type { InstructionExitHooks } from './vmxInsnHooks';
export type { EventExitHooks } from './vmxEventHooks';
export type { EptHooks } from './vmxEptHooks';
