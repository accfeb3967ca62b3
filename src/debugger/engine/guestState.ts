/**
 * The guest's state while the debugger has it stopped, wherever it lives:
 *  - stopped between guest instructions (a step, a breakpoint, a pause): the processor is in VMX
 *    non-root operation and holds the guest's registers (`cpu.nonRoot`);
 *  - stopped on a VM exit before the hypervisor handles it: the processor holds the host's
 *    state; the guest's RIP, RSP, RFLAGS, control registers and segments are in the VMCS
 *    guest-state area (SDM vol. 3C §27.3 "Saving guest state"), its other general registers are
 *    still in the processor (a VM exit does not change them).
 * Reads and writes here pick the right place, so run control and the views see one guest.
 */
import type { Vmm } from '../../vmm/vmm';
import { GPR_NAMES, Seg } from '../../x86/registers';
import { linearToPhysical, pagingOf, type GuestPaging } from '../../hypervisor/guestMemory';

const TWO32 = 4294967296;

export const GPRS = GPR_NAMES as readonly string[];

/** True when the processor holds the guest's state (stopped between instructions). */
export function inGuest(vmm: Vmm): boolean {
  return vmm.cpu.nonRoot;
}

/** A general register (rax..r15), rip or rflags, as an unsigned 64-bit value. */
export function guestReg(vmm: Vmm, name: string): bigint {
  const c = vmm.cpu;
  const n = name.toLowerCase();
  if (inGuest(vmm)) {
    if (n === 'rip') return c.getRip();
    if (n === 'rflags') return BigInt(c.getRflags());
    const i = GPRS.indexOf(n);
    if (i < 0) throw new Error(`guestReg: unknown register '${name}'`);
    return c.getReg64(i);
  }
  if (n === 'rip') return vmm.vcpu.v.read('GUEST_RIP');
  if (n === 'rflags') return vmm.vcpu.v.read('GUEST_RFLAGS');
  if (!GPRS.includes(n)) throw new Error(`guestReg: unknown register '${name}'`);
  return vmm.vcpu.reg(n);
}

export function setGuestReg(vmm: Vmm, name: string, value: bigint): void {
  const c = vmm.cpu;
  const n = name.toLowerCase();
  const v = BigInt.asUintN(64, value);
  if (inGuest(vmm)) {
    if (n === 'rip') c.setRip(v);
    else if (n === 'rflags') c.setRflags(Number(v & 0xffffffffn));
    else {
      const i = GPRS.indexOf(n);
      if (i < 0) throw new Error(`setGuestReg: unknown register '${name}'`);
      c.setReg64(i, v);
    }
    return;
  }
  if (n === 'rip') vmm.vcpu.v.write('GUEST_RIP', v);
  else if (n === 'rflags') vmm.vcpu.v.write('GUEST_RFLAGS', (v & ~0x2n) | 0x2n);
  else if (GPRS.includes(n)) vmm.vcpu.setReg(n, v);
  else throw new Error(`setGuestReg: unknown register '${name}'`);
}

/** Code size: 16, 32 or 64. */
export function guestBitness(vmm: Vmm): 16 | 32 | 64 {
  if (inGuest(vmm)) return vmm.cpu.bitness;
  const cs = vmm.vcpu.v.read32('GUEST_CS_ACCESS_RIGHTS');
  return vmm.vcpu.guestLongMode() && (cs & 0x2000) !== 0 ? 64 : (cs & 0x4000) !== 0 ? 32 : 16;
}

/** Base of CS (linear = CS.base + RIP outside 64-bit mode). */
export function guestCsBase(vmm: Vmm): bigint {
  if (inGuest(vmm)) return BigInt(vmm.cpu.segBaseLo[Seg.CS] >>> 0) | (BigInt(vmm.cpu.segBaseHi[Seg.CS] >>> 0) << 32n);
  return vmm.vcpu.v.read('GUEST_CS_BASE');
}

/** Linear address of CS:RIP. */
export function ripLinear(vmm: Vmm): number {
  const rip = guestReg(vmm, 'rip');
  if (guestBitness(vmm) === 64) return Number(rip);
  return Number(BigInt.asUintN(32, rip + guestCsBase(vmm)));
}

/** Turn a debugger linear address into the RIP value that reaches it (CS base removed). */
export function ripFromLinear(vmm: Vmm, linear: number): bigint {
  if (guestBitness(vmm) === 64) return BigInt(linear);
  return BigInt.asUintN(32, BigInt(linear) - guestCsBase(vmm));
}

/** The guest's paging registers (for software walks). */
export function guestPaging(vmm: Vmm): GuestPaging {
  if (!inGuest(vmm)) return pagingOf(vmm.vcpu.v);
  const c = vmm.cpu;
  return { cr0: c.cr0 >>> 0, cr3: (BigInt(c.cr3Hi >>> 0) << 32n) | BigInt(c.cr3Lo >>> 0), cr4: c.cr4 >>> 0, efer: c.efer >>> 0 };
}

/** Guest-linear → guest-physical (the guest's paging; EPT maps RAM 1:1), or null. */
export function linearToGuestPhysical(vmm: Vmm, linear: bigint, write = false): number | null {
  return linearToPhysical(vmm.cpu.mem, guestPaging(vmm), linear, write);
}

/**
 * Read up to `n` bytes of guest memory at a linear (or physical) address: stops at the first
 * byte that is not readable RAM (the returned array is shorter). Devices are never touched.
 */
export function readGuestMemory(vmm: Vmm, address: bigint, n: number, physical = false): Uint8Array {
  const mem = vmm.cpu.mem;
  const out: number[] = [];
  const p = guestPaging(vmm);
  for (let i = 0; i < n; i++) {
    const a = address + BigInt(i);
    const pa = physical ? Number(a) : linearToPhysical(mem, p, a, false);
    if (pa === null || pa >= mem.guestRamSize || pa < 0) break;
    out.push(mem.read8(pa));
  }
  return Uint8Array.from(out);
}

/** Write guest memory (linear or physical) up to the first byte that is not writable RAM; returns the count written. */
export function writeGuestMemory(vmm: Vmm, address: bigint, bytes: Uint8Array, physical = false): number {
  const mem = vmm.cpu.mem;
  const p = guestPaging(vmm);
  let i = 0;
  for (; i < bytes.length; i++) {
    const a = address + BigInt(i);
    const pa = physical ? Number(a) : linearToPhysical(mem, p, a, true);
    if (pa === null || pa >= mem.guestRamSize || pa < 0) break;
    // Through the processor, so translated code on the page is dropped (self-modifying code).
    vmm.cpu.writePhys8(pa, bytes[i]);
  }
  if (i > 0) vmm.cpu.flushTlb();
  return i;
}

/** An unsigned little-endian value of `size` bytes at `address`, or undefined when not readable. */
export function readGuestValue(vmm: Vmm, address: bigint, size: number): bigint | undefined {
  const b = readGuestMemory(vmm, address, size);
  if (b.length < size) return undefined;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

export const GUEST_TWO32 = TWO32;
