/**
 * Event injection on VM entry (SDM vol. 3C §26.6) from the VM-entry interruption-information
 * field (§24.8.3: vector 7:0, type 10:8, deliver error code 11, valid 31), the VM-entry exception
 * error code and the VM-entry instruction length:
 *   types 0 external interrupt, 2 NMI, 3 hardware exception, 4 software interrupt, 5 privileged
 *   software exception, 6 software exception are delivered through the guest IDT (§26.6.1) in the
 *   guest context just established — the software types push RIP + instruction length; an
 *   injected NMI blocks NMIs (virtual NMIs with "virtual NMIs"); faults during delivery follow the
 *   normal rules and may exit (exception bitmap, triple fault, EPT), recorded with IDT-vectoring
 *   information (§27.2.4) — all in eventExits.ts `injectEvent`;
 *   type 7 vector 0 makes an MTF VM exit pending before the first guest instruction (§26.6.2).
 * Delivering a vectored event leaves the HLT activity state (§26.7.1: the processor is active
 * after delivering an injected event).
 * The valid bit stays set until the next VM exit clears it (vmExit.ts, §24.8.3).
 */
import type { VmxEngine } from './engine';
import type { Vmcs } from './vmcs';
import { eventsOnVmEntry, injectEvent } from './eventExits';
import { I_ENTRY_EXC_ERR, I_ENTRY_INSN_LEN, I_ENTRY_INT_INFO } from './vmExitFields';

/**
 * The event part of VM entry after state and controls are loaded and the processor is in
 * non-root operation: activity state, timer and MTF (eventsOnVmEntry), then the injection.
 * Returns true when delivering the injected event caused a VM exit (cpu.exitTaken is set).
 */
export function injectOnEntry(engine: VmxEngine, v: Vmcs): boolean {
  const info = v.lo[I_ENTRY_INT_INFO];
  if (info >= 0) {
    eventsOnVmEntry(engine, false, false);
    return false;
  }
  const type = (info >>> 8) & 7;
  if (type === 7) {
    eventsOnVmEntry(engine, false, true);
    return false;
  }
  eventsOnVmEntry(engine, true, false);
  const c = engine.cpu;
  c.halted = false;
  const err = (info & 0x800) !== 0 ? v.lo[I_ENTRY_EXC_ERR] : undefined;
  return injectEvent(engine, type, info & 0xff, err, v.lo[I_ENTRY_INSN_LEN]);
}
