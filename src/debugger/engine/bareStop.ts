/**
 * A stop on a VM exit, in words and as call-stack frames. Under the built-in hypervisor the
 * guest is seen as the exit left it ("VM exit: CPUID — CPUID leaf 0x1 ..."). In bare VT-x mode
 * the exit belongs to the guest hypervisor's VMCS and is complete (SDM vol. 3C §27.5: host state
 * loaded, RIP = HOST_RIP): the stop names both levels, and the call stack shows the L1 handler
 * about to run (frame 0, where stepping continues) above the L2 context the exit left (GUEST_RIP
 * of the current VMCS, §27.3.1), as an interrupt handler above the code it interrupted.
 */
import type { DecodedExit } from '../../vmx/exitDecode';
import type { DebugInfo } from '../model';
import { currentVmcs, type StoppedMachine } from '../stoppedMachine';
import { ripLinear } from './guestState';
import { formatAddress, nearestAddress } from '../address';
import type { Frame } from './stack';

const hex = formatAddress;

export function exitStopDescription(m: StoppedMachine, e: DecodedExit): string {
  const v = currentVmcs(m);
  if (m.vmm !== null || v === null) return `VM exit: ${e.name} — ${e.summary}`;
  const kind = e.entryFailure ? 'VM-entry failure' : 'VM exit';
  return `${kind} of the guest hypervisor's VMCS at ${hex(v.address)}: ${e.name}, L2 RIP=${hex(v.read('GUEST_RIP'))} — ${e.summary}`;
}

function named(info: DebugInfo, pc: number, fallback: string): string {
  const s = info.symbols.nameAt(pc);
  if (s === undefined) return fallback;
  return s.offset === 0 ? s.name : `${s.name}+0x${s.offset.toString(16)}`;
}

/** Linear address of the L2 context: GUEST_CS_BASE + GUEST_RIP outside 64-bit code (§27.3.1). */
function l2Linear(m: StoppedMachine): number {
  const v = currentVmcs(m)!;
  const rip = v.read('GUEST_RIP');
  const ia32e = (v.read('VM_ENTRY_CONTROLS') & 0x200n) !== 0n;
  const csL = (v.read('GUEST_CS_ACCESS_RIGHTS') & 0x2000n) !== 0n;
  if (ia32e && csL) return nearestAddress(rip);
  return Number(BigInt.asUintN(32, rip + v.read('GUEST_CS_BASE')));
}

/** Two frames: the guest hypervisor's handler at HOST_RIP, then the L2 guest's context. */
export function exitStopFrames(m: StoppedMachine, info: DebugInfo, e: DecodedExit): Frame[] {
  const pc = ripLinear(m);
  const frames: Frame[] = [{ id: 0, pc, name: `L1 handler ${named(info, pc, hex(pc))}`, source: info.lines?.lineAt(pc) }];
  if (currentVmcs(m) !== null) {
    const l2 = l2Linear(m);
    frames.push({ id: 1, pc: l2, name: `L2 guest ${named(info, l2, hex(l2))} (${e.entryFailure ? 'VM-entry failure' : `VM exit: ${e.name}`})`, source: info.lines?.lineAt(l2) });
  }
  return frames;
}
