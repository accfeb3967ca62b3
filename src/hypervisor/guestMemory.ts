/**
 * Reading and writing guest memory from the hypervisor, by guest-linear address: the guest's
 * own paging (real mode and unpaged protected mode: linear = guest-physical; 32-bit, PAE and
 * 4-/5-level paging walked in software, SDM vol. 3A chapter 4) from the VMCS guest state, then
 * guest-physical = host-physical for RAM (the EPT maps RAM 1:1). Used to decode the instruction
 * behind an MMIO exit and to emulate string I/O. Returns null where the guest could not access
 * the address (the caller reflects a fault or reports it).
 */
import type { PhysicalMemory } from '../x86/physicalMemory';
import type { VmcsAccess } from './setup';

const TWO32 = 4294967296;

export interface GuestPaging {
  cr0: number;
  cr3: bigint;
  cr4: number;
  efer: number;
}

export function pagingOf(v: VmcsAccess): GuestPaging {
  return {
    cr0: Number(v.read('GUEST_CR0') & 0xffffffffn),
    cr3: v.read('GUEST_CR3'),
    cr4: Number(v.read('GUEST_CR4') & 0xffffffffn),
    efer: Number(v.read('GUEST_IA32_EFER') & 0xffffffffn),
  };
}

function read64(mem: PhysicalMemory, addr: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(mem.read8(addr + i));
  return v;
}

function read32(mem: PhysicalMemory, addr: number): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = (v * 256) + mem.read8(addr + i);
  return v;
}

/** Guest-linear → guest-physical, or null when not present / not writable (for `write`). */
export function linearToPhysical(mem: PhysicalMemory, p: GuestPaging, linear: bigint, write: boolean): number | null {
  if ((p.cr0 & 0x80000000) === 0) return Number(BigInt.asUintN(32, linear));
  const wp = write && (p.cr0 & 0x10000) !== 0;
  if ((p.efer & 0x400) !== 0) {
    const la57 = (p.cr4 & 0x1000) !== 0;
    let table = Number(p.cr3 & 0x000ffffffffff000n);
    const levels = la57 ? 5 : 4;
    for (let level = levels; level >= 1; level--) {
      const shift = 12n + 9n * BigInt(level - 1);
      const idx = Number((linear >> shift) & 0x1ffn);
      const e = read64(mem, table + idx * 8);
      if ((e & 1n) === 0n || (wp && (e & 2n) === 0n)) return null;
      const addr = Number(e & 0x000ffffffffff000n);
      if (level <= 3 && level >= 2 && (e & 0x80n) !== 0n) {
        const size = 1n << shift;
        return Number(BigInt(addr) & ~(size - 1n)) + Number(linear & (size - 1n));
      }
      if (level === 1) return addr + Number(linear & 0xfffn);
      table = addr;
    }
    return null;
  }
  const lin = Number(BigInt.asUintN(32, linear));
  if ((p.cr4 & 0x20) !== 0) {
    // PAE: PDPTE from CR3[31:5], then PD and PT with 8-byte entries.
    const pdpte = read64(mem, Number(p.cr3 & 0xffffffe0n) + Math.floor(lin / 2 ** 30) * 8);
    if ((pdpte & 1n) === 0n) return null;
    const pd = Number(pdpte & 0x000ffffffffff000n);
    const pde = read64(mem, pd + ((lin >>> 21) & 0x1ff) * 8);
    if ((pde & 1n) === 0n || (wp && (pde & 2n) === 0n)) return null;
    if ((pde & 0x80n) !== 0n) return Number(pde & 0x000fffffffe00000n) + (lin & 0x1fffff);
    const pte = read64(mem, Number(pde & 0x000ffffffffff000n) + ((lin >>> 12) & 0x1ff) * 8);
    if ((pte & 1n) === 0n || (wp && (pte & 2n) === 0n)) return null;
    return Number(pte & 0x000ffffffffff000n) + (lin & 0xfff);
  }
  const pde = read32(mem, Number(p.cr3 & 0xfffff000n) + (lin >>> 22) * 4);
  if ((pde & 1) === 0 || (wp && (pde & 2) === 0)) return null;
  if ((pde & 0x80) !== 0 && (p.cr4 & 0x10) !== 0) {
    // 4 MiB page: bits 31:22 from the PDE, 39:32 from PDE bits 20:13 (PSE-36).
    const hi = Math.floor(pde / 8192) & 0xff;
    return hi * TWO32 + ((pde >>> 22) << 22 >>> 0) + (lin & 0x3fffff);
  }
  const pte = read32(mem, (pde & 0xfffff000) + ((lin >>> 12) & 0x3ff) * 4);
  if ((pte & 1) === 0 || (wp && (pte & 2) === 0)) return null;
  return (pte & 0xfffff000) + (lin & 0xfff);
}

/** `n` bytes of guest memory at linear `linear` (crossing pages as needed), or null. */
export function readGuest(mem: PhysicalMemory, p: GuestPaging, linear: bigint, n: number): Uint8Array | null {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const pa = linearToPhysical(mem, p, linear + BigInt(i), false);
    if (pa === null || pa >= mem.guestRamSize) return null;
    out[i] = mem.read8(pa);
  }
  return out;
}

/** Write bytes to guest memory at `linear`; false when some byte is not writable RAM. */
export function writeGuest(mem: PhysicalMemory, p: GuestPaging, linear: bigint, bytes: Uint8Array, write8: (pa: number, v: number) => void): boolean {
  const pas: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const pa = linearToPhysical(mem, p, linear + BigInt(i), true);
    if (pa === null || pa >= mem.guestRamSize) return false;
    pas.push(pa);
  }
  pas.forEach((pa, i) => write8(pa, bytes[i]));
  return true;
}
