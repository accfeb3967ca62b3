/**
 * Helpers for the paging tests: a processor whose exceptions are recorded instead of delivered,
 * page-table builders for every paging mode, and translation probes.
 */
import assert from 'node:assert/strict';
import { Cpu } from '../../src/x86/cpu';
import type { CpuidModel } from '../../src/x86/cpuid';
import { DEFAULT_CPUID } from '../../src/x86/cpuid';
import { CpuException } from '../../src/x86/exceptions';
import { enterMode } from '../../src/x86/modes';
import { CR4_LA57, CR4_PAE, CR4_PSE, PageFault, pagingTranslate } from '../../src/x86/paging';
import { PhysicalMemory } from '../../src/x86/physicalMemory';

export const R = 0;
export const W = 1;
export const X = 2;
/** Implicit supervisor access bit (Access.System). */
export const SYS = 4;

export const P = 1n;
export const RW = 2n;
export const US = 4n;
export const A = 0x20n;
export const D = 0x40n;
export const PS = 0x80n;
export const XD = 1n << 63n;

/** A processor that records exceptions instead of delivering them, so runs stop at the first one. */
export class TestCpu extends Cpu {
  readonly faults: CpuException[] = [];
  protected override deliverException(e: CpuException): boolean {
    this.faults.push(e);
    return false;
  }
}

export type PagingMode = 'legacy32' | 'pae' | 'long4' | 'long5';

export function w64(mem: PhysicalMemory, addr: number, v: bigint): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  mem.load(addr, b);
}

export function r64(mem: PhysicalMemory, addr: number): bigint {
  return new DataView(mem.readBytes(addr, 8).buffer).getBigUint64(0, true);
}

export function w32(mem: PhysicalMemory, addr: number, v: number): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  mem.load(addr, b);
}

export function r32(mem: PhysicalMemory, addr: number): number {
  return new DataView(mem.readBytes(addr, 4).buffer).getUint32(0, true);
}

/**
 * A machine with paging on in `mode` and empty tables: 8 MiB of RAM, tables allocated from
 * 0x400000 up. `map` adds translations; `entry` finds the address of an entry to tweak.
 */
export class PagingSetup {
  readonly mem: PhysicalMemory;
  readonly c: TestCpu;
  next = 0x400000;
  readonly root: number;

  constructor(readonly mode: PagingMode, opts: { cpuid?: CpuidModel; memory?: number } = {}) {
    this.mem = new PhysicalMemory(opts.memory ?? 0x800000);
    this.c = new TestCpu(this.mem, { cpuid: opts.cpuid ?? DEFAULT_CPUID });
    const c = this.c;
    if (mode === 'long4' || mode === 'long5') {
      enterMode(c, 'long');
      c.cr4 = CR4_PAE | (mode === 'long5' ? CR4_LA57 : 0);
      this.root = this.alloc();
    } else {
      enterMode(c, 'protected');
      c.cr0 = (c.cr0 | 0x80000000) >>> 0;
      c.cr4 = mode === 'pae' ? CR4_PAE : CR4_PSE;
      this.root = this.alloc();
    }
    c.cr3Lo = this.root;
    c.cr3Hi = 0;
    c.flushTlb();
  }

  alloc(): number {
    const a = this.next;
    this.next += 0x1000;
    return a;
  }

  private get levels(): number {
    return this.mode === 'long5' ? 5 : this.mode === 'long4' ? 4 : this.mode === 'pae' ? 3 : 2;
  }

  private shift(level: number): bigint {
    return this.mode === 'legacy32' ? BigInt(12 + 10 * (level - 1)) : BigInt(12 + 9 * (level - 1));
  }

  private index(lin: bigint, level: number): number {
    if (this.mode === 'pae' && level === 3) return Number((lin >> 30n) & 3n);
    const bits = this.mode === 'legacy32' ? 0x3ffn : 0x1ffn;
    return Number((lin >> this.shift(level)) & bits);
  }

  private esize(): number {
    return this.mode === 'legacy32' ? 4 : 8;
  }

  read(addr: number): bigint {
    return this.esize() === 4 ? BigInt(r32(this.mem, addr)) : r64(this.mem, addr);
  }

  write(addr: number, v: bigint): void {
    if (this.esize() === 4) w32(this.mem, addr, Number(BigInt.asUintN(32, v)));
    else w64(this.mem, addr, v);
  }

  /** Address of the entry for `lin` at `level` (1 = PTE), allocating tables down to it. */
  entry(lin: bigint, level: number, tableFlags = P | RW | US): number {
    let table = this.root;
    for (let l = this.levels; l > level; l--) {
      const at = table + this.index(lin, l) * this.esize();
      let e = this.read(at);
      if ((e & 1n) === 0n) {
        const t = this.alloc();
        // PAE PDPTEs have no R/W, U/S or A bits (§4.4.1).
        e = BigInt(t) | (this.mode === 'pae' && l === 3 ? P : tableFlags);
        this.write(at, e);
      }
      table = Number(e & 0xffffff000n);
    }
    return table + this.index(lin, level) * this.esize();
  }

  /** Map `lin` to `phys` with a leaf at `level` (1: 4 KiB, 2: 2 MiB / 4 MiB, 3: 1 GiB) and `flags`. */
  map(lin: bigint, phys: number, flags = P | RW | US, level = 1, tableFlags = P | RW | US): number {
    const at = this.entry(lin, level, tableFlags);
    let v = BigInt(phys) | flags | (level > 1 ? PS : 0n);
    if (this.mode === 'legacy32' && level === 2) {
      // PSE-36: physical bits 39:32 in PDE bits 20:13.
      v = BigInt(phys % 2 ** 32) | (BigInt(Math.floor(phys / 2 ** 32)) << 13n) | flags | PS;
    }
    this.write(at, v);
    return at;
  }

  /** Identity-map [from, to) with 4 KiB pages. */
  identity(from: number, to: number, flags = P | RW | US): void {
    for (let a = from; a < to; a += 0x1000) this.map(BigInt(a), a, flags);
  }
}

/** Translate or return the PageFault. */
export function probe(c: Cpu, lin: bigint, access: number): number | PageFault {
  const lo = Number(lin & 0xffffffffn) | 0;
  const hi = Number((lin >> 32n) & 0xffffffffn) | 0;
  try {
    return pagingTranslate(c, lo, hi, access);
  } catch (e) {
    if (e instanceof PageFault) return e;
    throw e;
  }
}

/** Expect a translation to `phys`. */
export function expectPhys(c: Cpu, lin: bigint, access: number, phys: number): void {
  const r = probe(c, lin, access);
  if (r instanceof PageFault) assert.fail(`expected a translation of 0x${lin.toString(16)}, got #PF(0x${(r.errorCode ?? 0).toString(16)}) ${r.detail}`);
  assert.equal(r, phys, `0x${lin.toString(16)} -> 0x${r.toString(16)}, expected 0x${phys.toString(16)}`);
}

/** Expect #PF with error code `ec`, CR2 and the fault's address equal to `lin`. */
export function expectPf(c: Cpu, lin: bigint, access: number, ec: number): PageFault {
  c.cr2Lo = 0x1234;
  c.cr2Hi = 0;
  const r = probe(c, lin, access);
  if (!(r instanceof PageFault)) return assert.fail(`expected #PF at 0x${lin.toString(16)}, got physical 0x${r.toString(16)}`);
  assert.equal(r.vector, 14);
  assert.equal(r.errorCode, ec, `error code 0x${(r.errorCode ?? 0).toString(16)} (${r.detail}), expected 0x${ec.toString(16)}`);
  const cr2 = (BigInt(c.cr2Hi >>> 0) << 32n) | BigInt(c.cr2Lo >>> 0);
  assert.equal(cr2, lin, 'CR2');
  assert.equal((BigInt(r.linearHi >>> 0) << 32n) | BigInt(r.linearLo >>> 0), lin, 'PageFault address');
  return r;
}
