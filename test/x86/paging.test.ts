/**
 * Paging walks and faults (SDM vol. 3A chapter 4): every mode, page size, fault class with the
 * exact error code (§4.7) and CR2, accessed/dirty flags (§4.8), PDPTE registers, MOV CR3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  A, D, P, PS, RW, US, XD, PagingSetup, R, SYS, W, X, expectPf, expectPhys, probe, r32, r64, w64,
} from './pagingHelpers';
import {
  CR0_WP, CR4_PAE, CR4_PCIDE, CR4_PSE, CR4_SMAP, CR4_SMEP, EFER_NXE, PageFault, beforePagingControlWrite, loadCr3, loadPdptes,
} from '../../src/x86/paging';
import { CpuException } from '../../src/x86/exceptions';
import { DEFAULT_CPUID, withoutFeatures } from '../../src/x86/cpuid';
import type { CpuidModel } from '../../src/x86/cpuid';

const AC = 1 << 18;

/** DEFAULT_CPUID with extra bits in one leaf's register. */
function cpuidWith(leaf: number, reg: 'ebx' | 'ecx' | 'edx', bits: number, clear = 0): CpuidModel {
  return {
    leaves: DEFAULT_CPUID.leaves.map((l) => (l.leaf === leaf && (l.subleaf ?? 0) === 0 ? { ...l, [reg]: ((l[reg] | bits) & ~clear) | 0 } : l)),
  };
}

// ---- walks -----------------------------------------------------------------------------------
test('4-level paging: 4 KiB, 2 MiB and 1 GiB pages, both canonical halves (SDM §4.5)', () => {
  const s = new PagingSetup('long4');
  s.map(0x7f12345000n, 0x123000);
  s.map(0x40000000n, 0x200000, P | RW, 2);
  s.map(0x8000000000n, 0x40000000, P | RW, 3);
  s.map(0xffff800000001000n, 0x5000);
  expectPhys(s.c, 0x7f12345abcn, R, 0x123abc);
  expectPhys(s.c, 0x400fedcbn, W, 0x2fedcb);
  expectPhys(s.c, 0x8023456789n, R, 0x40000000 + 0x23456789);
  expectPhys(s.c, 0xffff800000001ff8n, X, 0x5ff8);
  // Unmapped: not present (at the PML4 level).
  expectPf(s.c, 0x123456789000n, R, 0);
});

test('5-level paging (CR4.LA57): bits 56:48 index the PML5 (SDM §4.5.1)', () => {
  const s = new PagingSetup('long5');
  s.map(0x00ab_1234_5678_9000n, 0x9000);
  s.map(0xff80_0000_0000_0000n, 0xa000);
  expectPhys(s.c, 0x00ab_1234_5678_9123n, R, 0x9123);
  expectPhys(s.c, 0xff80_0000_0000_0010n, W, 0xa010);
  // Another PML5 index with the same low 48 bits is not mapped.
  expectPf(s.c, 0x00ac_1234_5678_9123n, W, 2);
});

test('PAE paging: 4 KiB and 2 MiB pages through the PDPTE registers (SDM §4.4)', () => {
  const s = new PagingSetup('pae');
  s.map(0xc0001000n, 0x3000);
  s.map(0x00400000n, 0x600000, P | RW, 2);
  expectPhys(s.c, 0xc0001234n, R, 0x3234);
  expectPhys(s.c, 0x004abcden, R, 0x6abcde);
  // PDPTE 1 (1-2 GiB) not present.
  expectPf(s.c, 0x40000000n, R, 0);
});

test('32-bit paging: 4 KiB pages, 4 MiB pages with CR4.PSE, PS ignored without it (SDM §4.3)', () => {
  const s = new PagingSetup('legacy32');
  s.map(0x80001000n, 0x7000);
  const pde = s.map(0x00c00000n, 0x400000, P | RW, 2);
  expectPhys(s.c, 0x80001fffn, W, 0x7fff);
  expectPhys(s.c, 0x00d23456n, R, 0x523456);
  // CR4.PSE = 0: the PDE references a page table at 0x400000 (PS ignored): its entry 0x123 is zero.
  s.c.cr4 &= ~CR4_PSE;
  s.c.flushTlb();
  expectPf(s.c, 0x00d23456n, R, 0);
  w64(s.mem, 0x400000 + 0x123 * 4, 0x9000n | P);
  expectPhys(s.c, 0x00d23456n, R, 0x9456);
  assert.ok(r32(s.mem, pde) & 0x20, 'PDE accessed');
});

test('32-bit paging, 4 MiB pages: bits 21:13 are reserved without PSE-36; with PSE-36 bits 20:13 give physical bits 38:32 (SDM §4.3, table 4-4)', () => {
  const s = new PagingSetup('legacy32', { cpuid: withoutFeatures(DEFAULT_CPUID, ['PSE36']) });
  const pde = s.map(0x00800000n, 0x400000, P | RW, 2);
  s.write(pde, BigInt(0x400000) | P | RW | PS | (1n << 13n));
  expectPf(s.c, 0x00801000n, R, 1 | 8);
  const t = new PagingSetup('legacy32', { cpuid: cpuidWith(1, 'edx', 1 << 17), memory: 0x800000 });
  const pde2 = t.map(0x00800000n, 0x400000, P | RW, 2);
  t.write(pde2, BigInt(0x400000) | P | RW | PS | (5n << 13n));
  expectPhys(t.c, 0x00801000n, R, 5 * 2 ** 32 + 0x401000);
  // Bit 20 would be physical bit 39, beyond MAXPHYADDR (39): reserved.
  t.write(pde2, BigInt(0x400000) | P | RW | PS | (1n << 20n));
  t.c.flushTlb();
  expectPf(t.c, 0x00801000n, W, 1 | 2 | 8);
});

// ---- not-present faults and the error code ------------------------------------------------------
test('not-present faults at every level: P = 0 with W/R, U/S and I/D (SDM §4.7)', () => {
  const s = new PagingSetup('long4');
  s.c.efer |= EFER_NXE;
  const pte = s.map(0x5000n, 0x5000);
  for (const level of [1, 2, 3, 4]) {
    const at = s.entry(0x5000n, level);
    const saved = r64(s.mem, at);
    w64(s.mem, at, saved & ~1n);
    expectPf(s.c, 0x5123n, R, 0);
    expectPf(s.c, 0x5123n, W, 2);
    expectPf(s.c, 0x5123n, X, 0x10);
    s.c.cpl = 3;
    expectPf(s.c, 0x5123n, R, 4);
    expectPf(s.c, 0x5123n, W, 6);
    expectPf(s.c, 0x5123n, X, 0x14);
    // Implicit supervisor accesses are supervisor-mode at CPL 3.
    expectPf(s.c, 0x5123n, R | SYS, 0);
    s.c.cpl = 0;
    w64(s.mem, at, saved);
  }
  expectPhys(s.c, 0x5123n, R, 0x5123);
  assert.equal(r64(s.mem, pte) & (A | D), A);
});

test('I/D is set for fetches only with CR4.SMEP, or PAE/4-level paging with IA32_EFER.NXE (SDM §4.7)', () => {
  const s = new PagingSetup('legacy32');
  expectPf(s.c, 0x1000n, X, 0);
  s.c.cr4 |= CR4_SMEP;
  expectPf(s.c, 0x1000n, X, 0x10);
  const p = new PagingSetup('pae');
  expectPf(p.c, 0x1000n, X, 0);
  p.c.efer |= EFER_NXE;
  expectPf(p.c, 0x1000n, X, 0x10);
  const l = new PagingSetup('long4');
  expectPf(l.c, 0x1000n, X, 0);
});

// ---- reserved bits ------------------------------------------------------------------------------
test('reserved bits: P = 1 and RSVD (bit 3) in the error code (SDM §4.5.4, §4.7)', () => {
  const s = new PagingSetup('long4');
  const pte = s.map(0x3000n, 0x3000);
  const good = r64(s.mem, pte);
  // Bit 45 (between MAXPHYADDR = 39 and 51) in the PTE.
  w64(s.mem, pte, good | (1n << 45n));
  expectPf(s.c, 0x3000n, R, 1 | 8);
  s.c.cpl = 3;
  expectPf(s.c, 0x3000n, W, 1 | 2 | 4 | 8);
  s.c.cpl = 0;
  // XD is reserved while IA32_EFER.NXE = 0.
  w64(s.mem, pte, good | XD);
  expectPf(s.c, 0x3000n, X, 1 | 8);
  // With NXE = 1 it is the execute-disable flag.
  s.c.efer |= EFER_NXE;
  expectPf(s.c, 0x3000n, X, 1 | 0x10);
  assert.equal(probe(s.c, 0x3000n, R), 0x3000);
  s.c.efer &= ~EFER_NXE;
  w64(s.mem, pte, good);
  // PS in a PML4E is reserved.
  const pml4e = s.entry(0x3000n, 4);
  w64(s.mem, pml4e, r64(s.mem, pml4e) | PS);
  expectPf(s.c, 0x3000n, R, 9);
  w64(s.mem, pml4e, r64(s.mem, pml4e) & ~PS);
  // Bits 20:13 of a 2 MiB PDE, bits 29:13 of a 1 GiB PDPTE.
  s.map(0x200000n, 0x200000, P | RW, 2);
  const pde = s.entry(0x200000n, 2);
  w64(s.mem, pde, r64(s.mem, pde) | (1n << 13n));
  expectPf(s.c, 0x200000n, R, 9);
  s.map(0x40000000n, 0x40000000, P | RW, 3);
  const pdpte = s.entry(0x40000000n, 3);
  w64(s.mem, pdpte, r64(s.mem, pdpte) | (1n << 29n));
  expectPf(s.c, 0x40000000n, R, 9);
  // Bits 62:52 are ignored.
  w64(s.mem, pte, good | (0x7ffn << 52n));
  expectPhys(s.c, 0x3000n, R, 0x3000);
});

test('1 GiB pages need CPUID.80000001H:EDX.Page1GB: without it PS in a PDPTE is reserved (SDM §4.5.4)', () => {
  const s = new PagingSetup('long4', { cpuid: cpuidWith(0x80000001, 'edx', 0, 1 << 26) });
  s.map(0x40000000n, 0x40000000, P | RW, 3);
  expectPf(s.c, 0x40001000n, R, 9);
});

test('PAE paging: reserved bits in PDEs/PTEs include 62:MAXPHYADDR; PDPTEs are checked when loaded (SDM §4.4.1)', () => {
  const s = new PagingSetup('pae');
  const pte = s.map(0x1000n, 0x1000);
  w64(s.mem, pte, r64(s.mem, pte) | (1n << 60n));
  expectPf(s.c, 0x1000n, R, 9);
  // A PDPTE with a reserved bit (bit 1) makes MOV CR3 fault #GP(0) and leaves CR3 alone.
  const root = s.root;
  const other = s.alloc();
  w64(s.mem, other, BigInt(s.alloc()) | P | RW);
  assert.throws(() => loadCr3(s.c, other, 0), (e: unknown) => e instanceof CpuException && e.vector === 13 && e.errorCode === 0);
  assert.equal(s.c.cr3Lo, root);
  assert.equal(loadPdptes(s.c, other), false);
});

test('PAE paging: the PDPTEs are registers — a change to the PDPT in memory takes effect at the next MOV CR3 (SDM §4.4.1)', () => {
  const s = new PagingSetup('pae');
  s.map(0x1000n, 0x1000);
  assert.equal(loadPdptes(s.c), true);
  expectPhys(s.c, 0x1000n, R, 0x1000);
  const pdpte0 = r64(s.mem, s.root);
  w64(s.mem, s.root, 0n);
  s.c.flushTlb();
  expectPhys(s.c, 0x1000n, R, 0x1000);
  loadCr3(s.c, s.root, 0);
  expectPf(s.c, 0x1000n, R, 0);
  w64(s.mem, s.root, pdpte0);
  loadCr3(s.c, s.root, 0);
  expectPhys(s.c, 0x1000n, R, 0x1000);
});

// ---- access rights (§4.6.1) ---------------------------------------------------------------------
test('U/S: user-mode accesses to supervisor pages fault with P|U; a U/S = 0 upper level makes the page supervisor', () => {
  const s = new PagingSetup('long4');
  s.map(0x1000n, 0x1000, P | RW);
  s.map(0x2000n, 0x2000, P | RW | US);
  s.map(0x600000000n, 0x3000, P | RW | US, 1, P | RW);
  s.c.cpl = 3;
  expectPf(s.c, 0x1000n, R, 5);
  expectPf(s.c, 0x1000n, W, 7);
  expectPf(s.c, 0x1000n, X, 5);
  expectPhys(s.c, 0x2000n, W, 0x2000);
  expectPf(s.c, 0x600000000n, R, 5);
  // Implicit supervisor accesses at CPL 3 may use supervisor pages.
  expectPhys(s.c, 0x1000n, R | SYS, 0x1000);
});

test('R/W: user writes need R/W = 1 at every level; supervisor writes too only when CR0.WP = 1', () => {
  const s = new PagingSetup('long4');
  s.map(0x1000n, 0x1000, P | US);
  s.map(0x700000000n, 0x2000, P | RW | US, 1, P | US);
  s.c.cr0 &= ~CR0_WP;
  expectPhys(s.c, 0x1000n, W, 0x1000);
  expectPhys(s.c, 0x700000000n, W, 0x2000);
  s.c.cr0 |= CR0_WP;
  expectPf(s.c, 0x1000n, W, 3);
  expectPf(s.c, 0x700000000n, W, 3);
  expectPhys(s.c, 0x1000n, R, 0x1000);
  s.c.cpl = 3;
  s.c.cr0 &= ~CR0_WP;
  expectPf(s.c, 0x1000n, W, 7);
  expectPf(s.c, 0x700000000n, W, 7);
});

test('NX: with IA32_EFER.NXE, fetches from a page with XD at any level fault with P|I (SDM §4.6.1)', () => {
  const s = new PagingSetup('long4');
  s.c.efer |= EFER_NXE;
  s.map(0x1000n, 0x1000, P | RW | US | XD);
  s.map(0x800000000n, 0x2000, P | RW | US, 1, P | RW | US | XD);
  expectPf(s.c, 0x1000n, X, 0x11);
  expectPf(s.c, 0x800000000n, X, 0x11);
  expectPhys(s.c, 0x1000n, R, 0x1000);
  s.c.cpl = 3;
  expectPf(s.c, 0x1000n, X, 0x15);
  // PAE paging too.
  const p = new PagingSetup('pae');
  p.c.efer |= EFER_NXE;
  p.map(0x1000n, 0x1000, P | RW | XD);
  expectPf(p.c, 0x1000n, X, 0x11);
  expectPhys(p.c, 0x1000n, W, 0x1000);
});

test('SMEP: supervisor fetches from user pages fault (P|I), data accesses do not', () => {
  for (const mode of ['legacy32', 'pae', 'long4'] as const) {
    const s = new PagingSetup(mode);
    s.map(0x1000n, 0x1000, P | RW | US);
    s.map(0x2000n, 0x2000, P | RW);
    expectPhys(s.c, 0x1000n, X, 0x1000);
    s.c.cr4 |= CR4_SMEP;
    s.c.flushTlb();
    expectPf(s.c, 0x1000n, X, 0x11);
    expectPhys(s.c, 0x1000n, R, 0x1000);
    expectPhys(s.c, 0x2000n, X, 0x2000);
    s.c.cpl = 3;
    expectPhys(s.c, 0x1000n, X, 0x1000);
  }
});

test('SMAP: supervisor data accesses to user pages need RFLAGS.AC = 1; implicit accesses never (SDM §4.6.1)', () => {
  const s = new PagingSetup('long4');
  s.map(0x1000n, 0x1000, P | RW | US);
  s.map(0x2000n, 0x2000, P | US);
  s.c.cr4 |= CR4_SMAP;
  s.c.setRflags(0x2);
  expectPf(s.c, 0x1000n, R, 1);
  expectPf(s.c, 0x1000n, W, 3);
  // Fetches are SMEP's business.
  expectPhys(s.c, 0x1000n, X, 0x1000);
  s.c.setRflags(0x2 | AC);
  expectPhys(s.c, 0x1000n, R, 0x1000);
  expectPhys(s.c, 0x1000n, W, 0x1000);
  // With AC = 1 the R/W rule still applies under CR0.WP.
  s.c.cr0 |= CR0_WP;
  expectPf(s.c, 0x2000n, W, 3);
  // Implicit supervisor accesses (descriptor tables, IDT, TSS): blocked regardless of AC and CPL.
  expectPf(s.c, 0x1000n, R | SYS, 1);
  expectPf(s.c, 0x1000n, W | SYS, 3);
  s.c.cpl = 3;
  expectPf(s.c, 0x1000n, R | SYS, 1);
  // User-mode accesses are not affected by SMAP.
  s.c.setRflags(0x2);
  expectPhys(s.c, 0x1000n, W, 0x1000);
});

// ---- accessed and dirty flags (§4.8) -------------------------------------------------------------
test('accessed flags on every level walked, dirty only on the leaf and only for writes (SDM §4.8)', () => {
  const s = new PagingSetup('long4');
  const pte = s.map(0x1000n, 0x1000);
  const big = s.map(0x200000n, 0x200000, P | RW | US, 2);
  expectPhys(s.c, 0x1000n, R, 0x1000);
  for (const level of [4, 3, 2]) assert.equal(r64(s.mem, s.entry(0x1000n, level)) & (A | D), A, `level ${level}`);
  assert.equal(r64(s.mem, pte) & (A | D), A);
  expectPhys(s.c, 0x1000n, W, 0x1000);
  assert.equal(r64(s.mem, pte) & (A | D), A | D);
  for (const level of [4, 3, 2]) assert.equal(r64(s.mem, s.entry(0x1000n, level)) & D, 0n);
  expectPhys(s.c, 0x212345n, W, 0x212345);
  assert.equal(r64(s.mem, big) & (A | D), A | D);
});

test('a faulting access leaves the leaf entry\'s accessed and dirty flags clear', () => {
  const s = new PagingSetup('long4');
  const pte = s.map(0x1000n, 0x1000, P | US);
  s.c.cr0 |= CR0_WP;
  expectPf(s.c, 0x1000n, W, 3);
  assert.equal(r64(s.mem, pte) & (A | D), 0n);
  const t = new PagingSetup('legacy32');
  const pte32 = t.map(0x1000n, 0x1000, P);
  t.c.cpl = 3;
  expectPf(t.c, 0x1000n, R, 5);
  assert.equal(r32(t.mem, pte32) & 0x60, 0);
  t.c.cpl = 0;
  expectPhys(t.c, 0x1000n, W, 0x1000);
  assert.equal(r32(t.mem, pte32) & 0x60, 0x60);
});

test('entries beyond RAM read as all-ones: a reserved-bit fault', () => {
  const s = new PagingSetup('long4');
  const pml4e = s.entry(0x1000n, 4);
  w64(s.mem, pml4e, 0x7000000000n | P | RW);
  expectPf(s.c, 0x1000n, R, 9);
});

// ---- MOV CR3 -------------------------------------------------------------------------------------
test('MOV CR3 in IA-32e mode: bits above MAXPHYADDR #GP(0); the PCID no-flush bit keeps the TLB', () => {
  const s = new PagingSetup('long4');
  assert.throws(() => loadCr3(s.c, s.root, 0x80), (e: unknown) => e instanceof CpuException && e.vector === 13);
  // Bit 63 without CR4.PCIDE is reserved too.
  assert.throws(() => loadCr3(s.c, s.root, 0x80000000 | 0), (e: unknown) => e instanceof CpuException && e.vector === 13);
  s.c.cr4 |= CR4_PCIDE;
  loadCr3(s.c, s.root | 5, 0);
  assert.equal(s.c.cr3Lo, s.root | 5);
  // Fill the read TLB through the processor's memory path, then remap.
  const pte = s.map(0x1000n, 0x1000);
  s.mem.load(0x1000, Uint8Array.of(0x11));
  s.mem.load(0x2000, Uint8Array.of(0x22));
  assert.equal(s.c.read8(0x1000, 0), 0x11);
  w64(s.mem, pte, 0x2000n | P | RW | US);
  // No-flush with the same PCID: the cached translation may stay (and does).
  loadCr3(s.c, s.root | 5, 0x80000000 | 0);
  assert.equal(s.c.cr3Hi, 0, 'bit 63 is not stored');
  assert.equal(s.c.read8(0x1000, 0), 0x11);
  // Without the bit: flushed.
  loadCr3(s.c, s.root | 5, 0);
  assert.equal(s.c.read8(0x1000, 0), 0x22);
});

test('PageFault carries the linear address; CR2 is loaded with it (SDM §4.7)', () => {
  const s = new PagingSetup('long4');
  const f = expectPf(s.c, 0xffff_ffff_ffff_f000n, W, 2);
  assert.ok(f instanceof PageFault);
  assert.equal(s.c.cr4 & CR4_PAE, CR4_PAE);
});

test('MOV CR0/CR4 that enables PAE paging loads the PDPTEs first and refuses invalid ones (SDM §4.4.1)', () => {
  const s = new PagingSetup('pae');
  s.map(0x1000n, 0x1000);
  const cr0 = s.c.cr0;
  s.c.cr0 = cr0 & ~0x80000000;
  assert.equal(beforePagingControlWrite(s.c, cr0, s.c.cr4, false), true);
  s.c.cr0 = cr0;
  expectPhys(s.c, 0x1000n, R, 0x1000);
  // A reserved bit (bit 5) in PDPTE 2: enabling paging must fail.
  w64(s.mem, s.root + 16, 0x20n | P);
  s.c.cr0 = cr0 & ~0x80000000;
  assert.equal(beforePagingControlWrite(s.c, cr0, s.c.cr4, false), false);
  // Not PAE paging (IA-32e mode will be active): nothing to load.
  assert.equal(beforePagingControlWrite(s.c, cr0, s.c.cr4, true), true);
});
