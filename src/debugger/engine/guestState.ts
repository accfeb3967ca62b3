/**
 * The guest's state while the debugger has it stopped, wherever it lives:
 *  - stopped between guest instructions (a step, a breakpoint, a pause): the processor is in VMX
 *    non-root operation and holds the guest's registers (`cpu.nonRoot`);
 *  - stopped on a VM exit before the hypervisor handles it: the processor holds the host's
 *    state; the guest's RIP, RSP, RFLAGS, control registers and segments are in the VMCS
 *    guest-state area (SDM vol. 3C §27.3 "Saving guest state"), its other general registers are
 *    still in the processor (a VM exit does not change them).
 * In bare VT-x mode (no built-in hypervisor) the program is the whole machine: every register is
 * the processor's (src/debugger/stoppedMachine.ts).
 * Reads and writes here pick the right place, so run control and the views see one guest.
 */
import { nearestAddress } from '../address';
import { heldByProcessor, type StoppedMachine } from '../stoppedMachine';
import type { VmxVcpu } from '../../hypervisor/vcpu';
import { GPR_NAMES, Seg } from '../../x86/registers';
import { linearToPhysical, pagingOf, type GuestPaging } from '../../hypervisor/guestMemory';

const TWO32 = 4294967296;

export const GPRS = GPR_NAMES as readonly string[];

/** True when the processor holds the guest's state (stopped between instructions). */
export function inGuest(m: StoppedMachine): boolean {
  return heldByProcessor(m);
}

/** The built-in hypervisor's vCPU, whose VMCS holds part of the guest's state (only asked when !inGuest). */
function vcpuOf(m: StoppedMachine): VmxVcpu {
  if (m.vmm === null) throw new Error('internal: guest state in a VMCS without the built-in hypervisor');
  return m.vmm.vcpu;
}

/** A general register (rax..r15), rip or rflags, as an unsigned 64-bit value. */
export function guestReg(m: StoppedMachine, name: string): bigint {
  const c = m.cpu;
  const n = name.toLowerCase();
  if (inGuest(m)) {
    if (n === 'rip') return c.getRip();
    if (n === 'rflags') return BigInt(c.getRflags());
    const i = GPRS.indexOf(n);
    if (i < 0) throw new Error(`guestReg: unknown register '${name}'`);
    return c.getReg64(i);
  }
  if (n === 'rip') return vcpuOf(m).v.read('GUEST_RIP');
  if (n === 'rflags') return vcpuOf(m).v.read('GUEST_RFLAGS');
  if (!GPRS.includes(n)) throw new Error(`guestReg: unknown register '${name}'`);
  return vcpuOf(m).reg(n);
}

export function setGuestReg(m: StoppedMachine, name: string, value: bigint): void {
  const c = m.cpu;
  const n = name.toLowerCase();
  const v = BigInt.asUintN(64, value);
  if (inGuest(m)) {
    if (n === 'rip') c.setRip(v);
    else if (n === 'rflags') c.setRflags(Number(v & 0xffffffffn));
    else {
      const i = GPRS.indexOf(n);
      if (i < 0) throw new Error(`setGuestReg: unknown register '${name}'`);
      c.setReg64(i, v);
    }
    return;
  }
  if (n === 'rip') vcpuOf(m).v.write('GUEST_RIP', v);
  else if (n === 'rflags') vcpuOf(m).v.write('GUEST_RFLAGS', (v & ~0x2n) | 0x2n);
  else if (GPRS.includes(n)) vcpuOf(m).setReg(n, v);
  else throw new Error(`setGuestReg: unknown register '${name}'`);
}

/** Code size: 16, 32 or 64. */
export function guestBitness(m: StoppedMachine): 16 | 32 | 64 {
  if (inGuest(m)) return m.cpu.bitness;
  const cs = vcpuOf(m).v.read32('GUEST_CS_ACCESS_RIGHTS');
  return vcpuOf(m).guestLongMode() && (cs & 0x2000) !== 0 ? 64 : (cs & 0x4000) !== 0 ? 32 : 16;
}

/** Base of CS (linear = CS.base + RIP outside 64-bit mode). */
export function guestCsBase(m: StoppedMachine): bigint {
  if (inGuest(m)) return BigInt(m.cpu.segBaseLo[Seg.CS] >>> 0) | (BigInt(m.cpu.segBaseHi[Seg.CS] >>> 0) << 32n);
  return vcpuOf(m).v.read('GUEST_CS_BASE');
}

/**
 * Linear address of CS:RIP as a debugger address number (src/debugger/address.ts: the 64-bit
 * address read as signed, so a higher-half RIP is exact); 32-bit unsigned outside 64-bit mode.
 */
export function ripLinear(m: StoppedMachine): number {
  const rip = guestReg(m, 'rip');
  if (guestBitness(m) === 64) return nearestAddress(rip);
  return Number(BigInt.asUintN(32, rip + guestCsBase(m)));
}

/** Turn a debugger linear address into the RIP value that reaches it (CS base removed). */
export function ripFromLinear(m: StoppedMachine, linear: number): bigint {
  if (guestBitness(m) === 64) return BigInt.asUintN(64, BigInt(linear));
  return BigInt.asUintN(32, BigInt(linear) - guestCsBase(m));
}

/** The guest's paging registers (for software walks). */
export function guestPaging(m: StoppedMachine): GuestPaging {
  if (!inGuest(m)) return pagingOf(vcpuOf(m).v);
  const c = m.cpu;
  return { cr0: c.cr0 >>> 0, cr3: (BigInt(c.cr3Hi >>> 0) << 32n) | BigInt(c.cr3Lo >>> 0), cr4: c.cr4 >>> 0, efer: c.efer >>> 0 };
}

/** Guest-linear → guest-physical (the guest's paging; EPT maps RAM 1:1), or null. */
export function linearToGuestPhysical(m: StoppedMachine, linear: bigint, write = false): number | null {
  return linearToPhysical(m.cpu.mem, guestPaging(m), linear, write);
}

/**
 * Read up to `n` bytes of guest memory at a linear (or physical) address: stops at the first
 * byte that is not readable RAM (the returned array is shorter). Devices are never touched.
 */
export function readGuestMemory(m: StoppedMachine, address: bigint, n: number, physical = false): Uint8Array {
  const mem = m.cpu.mem;
  const out: number[] = [];
  const p = guestPaging(m);
  for (let i = 0; i < n; i++) {
    const a = address + BigInt(i);
    const pa = physical ? Number(a) : linearToPhysical(mem, p, a, false);
    if (pa === null || pa >= mem.guestRamSize || pa < 0) break;
    out.push(mem.read8(pa));
  }
  return Uint8Array.from(out);
}

/** Write guest memory (linear or physical) up to the first byte that is not writable RAM; returns the count written. */
export function writeGuestMemory(m: StoppedMachine, address: bigint, bytes: Uint8Array, physical = false): number {
  const mem = m.cpu.mem;
  const p = guestPaging(m);
  let i = 0;
  for (; i < bytes.length; i++) {
    const a = address + BigInt(i);
    const pa = physical ? Number(a) : linearToPhysical(mem, p, a, true);
    if (pa === null || pa >= mem.guestRamSize || pa < 0) break;
    // Through the processor, so translated code on the page is dropped (self-modifying code).
    m.cpu.writePhys8(pa, bytes[i]);
  }
  if (i > 0) m.cpu.flushTlb();
  return i;
}

/** An unsigned little-endian value of `size` bytes at `address`, or undefined when not readable. */
export function readGuestValue(m: StoppedMachine, address: bigint, size: number): bigint | undefined {
  const b = readGuestMemory(m, address, size);
  if (b.length < size) return undefined;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

export const GUEST_TWO32 = TWO32;
