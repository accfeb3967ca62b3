/**
 * Guest memory for evaluate and setExpression, by guest-linear address: each page translated
 * through the guest's paging and EPT (guestPaging.ts), then read from host-physical RAM. Guest
 * pointers are untrusted: an address the guest could not reach, or one that is not RAM (a device
 * page is never read: reads of device registers have side effects), is an Error with a message
 * naming the address and why — never an exception from deeper down.
 */
import type { GuestState } from './guestState';
import { translateLinear } from './guestPaging';
import { hex } from './format';

export class MemoryAccessError extends Error {}

/** Host-physical address of each byte's page, checked before any byte is touched. */
function pagesOf(g: GuestState, linear: bigint, n: number, write: boolean): number[] {
  const out: number[] = [];
  let at = BigInt.asUintN(64, linear);
  const end = at + BigInt(n);
  while (at < end) {
    const t = translateLinear(g, at, write ? 'write' : 'read', true);
    if (t.fault !== undefined || t.hpa === undefined) {
      throw new MemoryAccessError(`cannot ${write ? 'write' : 'read'} guest-linear ${hex(at)}: ${t.fault?.message ?? 'no translation'}`);
    }
    const hpa = Number(BigInt(t.hpa));
    const mem = g.m.machine.mem;
    if (hpa >= mem.guestRamSize || mem.page(Math.floor(hpa / 4096)) === null) {
      throw new MemoryAccessError(`guest-linear ${hex(at)} is guest-physical ${t.gpa}, which is not RAM (a device or unmapped)`);
    }
    const pageEnd = (at | 0xfffn) + 1n;
    const upto = pageEnd < end ? pageEnd : end;
    for (let a = at; a < upto; a++) out.push(hpa + Number(a - at));
    at = upto;
  }
  return out;
}

/** `n` bytes at guest-linear `linear`. */
export function readLinear(g: GuestState, linear: bigint, n: number): Uint8Array {
  const mem = g.m.machine.mem;
  const hpas = pagesOf(g, linear, n, false);
  return Uint8Array.from(hpas, (a) => mem.read8(a));
}

/** Little-endian unsigned value of `size` bytes at `linear`. */
export function readValue(g: GuestState, linear: bigint, size: number): bigint {
  const b = readLinear(g, linear, size);
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

/** Write `size` bytes of `value` (little-endian) at `linear`; code translated from them is dropped. */
export function writeValue(g: GuestState, linear: bigint, size: number, value: bigint): void {
  const hpas = pagesOf(g, linear, size, true);
  const c = g.m.cpu;
  const v = BigInt.asUintN(size * 8, value);
  hpas.forEach((a, i) => c.writePhys8(a, Number((v >> BigInt(8 * i)) & 0xffn)));
}
