/**
 * Paging seen by running code: INVLPG and INVPCID (SDM vol. 2A), #PF from instructions with the
 * exact error code and CR2, page tables that share a page with code, and the identity tables
 * enterMode builds for long and compatibility mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, Instruction, MemoryOperand, Register } from 'iced-x86';
import { encode } from './run';
import { A, D, P, PagingSetup, RW, US, r64, w64 } from './pagingHelpers';
import { Cpu } from '../../src/x86/cpu';
import { DEFAULT_CPUID, withoutFeatures } from '../../src/x86/cpuid';
import type { CpuidModel } from '../../src/x86/cpuid';
import { PageFault, pagingTranslate } from '../../src/x86/paging';
import { IDENTITY_TABLES_END, identityTablesSize } from '../../src/x86/identityTables';
import { enterMode } from '../../src/x86/modes';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { buildPagingBenchGuest } from '../../src/cli/benchGuest';
import { runBenchGuestOnce } from '../../src/cli/benchCommand';

const UD = 6, GP = 13, PF = 14;
const Rg = Register;

function m(base: Register): MemoryOperand {
  return new MemoryOperand(base, Register.None, 1, 0n, 0, false, Register.None);
}
const movImm = (r: Register, v: bigint): Instruction => Instruction.createRegU64(Code.Mov_r64_imm64, r, v);
const load8 = (r: Register, base: Register): Instruction => Instruction.createRegMem(Code.Mov_r8_rm8, r, m(base));
const store64 = (base: Register, r: Register): Instruction => Instruction.createMemReg(Code.Mov_rm64_r64, m(base), r);
const invlpg = (base: Register): Instruction => Instruction.createMem(Code.Invlpg_m, m(base));
const invpcid = (r: Register, base: Register): Instruction => Instruction.createRegMem(Code.Invpcid_r64_m128, r, m(base));
const hlt = (): Instruction => Instruction.create(Code.Hlt);

/** 4-level paging with code (0x1000-0x3fff) and stack (0x7000) identity-mapped, user-accessible. */
function machine(opts: { cpuid?: CpuidModel } = {}): PagingSetup {
  const s = new PagingSetup('long4', opts);
  s.identity(0x1000, 0x4000);
  s.identity(0x7000, 0x8000);
  return s;
}

function run(s: PagingSetup, code: Uint8Array, at = 0x1000) {
  s.mem.load(at, code);
  s.c.setRip(at);
  s.c.setReg64(4, 0x8000);
  const result = s.c.run(s.c.icount + 10000);
  return { result, fault: s.c.faults[s.c.faults.length - 1] };
}

/** A data page at linear 0x100000 mapped to phys 0x20000 (byte 0x11); phys 0x21000 holds 0x22; its PTE visible at linear 0x200000+. */
function dataPage(s: PagingSetup): { pte: number; pteLinear: bigint } {
  const pte = s.map(0x100000n, 0x20000);
  s.mem.load(0x20000, Uint8Array.of(0x11));
  s.mem.load(0x21000, Uint8Array.of(0x22));
  s.map(0x200000n, pte & ~0xfff);
  return { pte, pteLinear: 0x200000n + BigInt(pte & 0xfff) };
}

test('INVLPG makes a changed PTE take effect (SDM vol. 2A INVLPG, vol. 3A §4.10.4)', () => {
  const s = machine();
  const { pteLinear } = dataPage(s);
  const { result } = run(s, encode(64, [
    movImm(Rg.RSI, 0x100000n), load8(Rg.AL, Rg.RSI),
    movImm(Rg.RDI, pteLinear), movImm(Rg.RDX, 0x21000n | 7n), store64(Rg.RDI, Rg.RDX),
    invlpg(Rg.RSI), load8(Rg.CL, Rg.RSI), hlt(),
  ]));
  assert.equal(result.reason, 'hlt');
  assert.equal(s.c.getReg64(0) & 0xffn, 0x11n);
  assert.equal(s.c.getReg64(1) & 0xffn, 0x22n);
});

test('INVLPG: #GP(0) at CPL 3; a non-canonical address is a NOP; the operand is never accessed', () => {
  const s = machine();
  s.c.cpl = 3;
  s.c.flushTlb();
  let r = run(s, encode(64, [movImm(Rg.RSI, 0x100000n), invlpg(Rg.RSI), hlt()]));
  assert.equal(r.result.reason, 'exception');
  assert.equal(r.fault.vector, GP);
  assert.equal(r.fault.errorCode, 0);
  assert.equal(s.c.getRip(), 0x100an);
  const t = machine();
  r = run(t, encode(64, [movImm(Rg.RSI, 0x8000_0000_0000_0000n), invlpg(Rg.RSI), movImm(Rg.RSI, 0x5555_0000n), invlpg(Rg.RSI), hlt()]));
  assert.equal(r.result.reason, 'hlt');
});

const WITH_INVPCID: CpuidModel = {
  leaves: DEFAULT_CPUID.leaves.map((l) => (l.leaf === 7 ? { ...l, ebx: l.ebx | (1 << 10) } : l)),
};

test('INVPCID: #UD unless CPUID reports it (SDM vol. 2A INVPCID)', () => {
  const s = machine({ cpuid: withoutFeatures(DEFAULT_CPUID, ['INVPCID']) });
  s.mem.load(0x3800, new Uint8Array(16));
  const r = run(s, encode(64, [movImm(Rg.RSI, 0x3800n), movImm(Rg.RAX, 2n), invpcid(Rg.RAX, Rg.RSI), hlt()]));
  assert.equal(r.result.reason, 'exception');
  assert.equal(r.fault.vector, UD);
});

test('INVPCID: type and descriptor checks (#GP(0)), CPL 3, and types 0-3 invalidate', () => {
  const cases: Array<{ type: bigint; desc: bigint; addr: bigint; cpl?: number; vector?: number }> = [
    { type: 4n, desc: 0n, addr: 0n, vector: GP },
    { type: 1n << 32n, desc: 0n, addr: 0n, vector: GP },
    { type: 2n, desc: 0x1000n, addr: 0n, vector: GP },
    { type: 1n, desc: 5n, addr: 0n, vector: GP },
    { type: 0n, desc: 0n, addr: 0x8000_0000_0000_0000n, vector: GP },
    { type: 3n, desc: 0n, addr: 0n, cpl: 3, vector: GP },
    { type: 0n, desc: 0n, addr: 0x100000n },
    { type: 1n, desc: 0n, addr: 0n },
    { type: 2n, desc: 5n, addr: 0n },
    { type: 3n, desc: 0n, addr: 0x8000_0000_0000_0000n },
  ];
  for (const k of cases) {
    const s = machine({ cpuid: WITH_INVPCID });
    const { pteLinear } = dataPage(s);
    w64(s.mem, 0x3800, k.desc);
    w64(s.mem, 0x3808, k.addr);
    if (k.cpl !== undefined) {
      s.c.cpl = k.cpl;
      s.c.flushTlb();
    }
    const r = run(s, encode(64, [
      movImm(Rg.RSI, 0x100000n), load8(Rg.BL, Rg.RSI),
      movImm(Rg.RDI, pteLinear), movImm(Rg.RDX, 0x21000n | 7n), store64(Rg.RDI, Rg.RDX),
      movImm(Rg.RDI, 0x3800n), movImm(Rg.RAX, k.type), invpcid(Rg.RAX, Rg.RDI), load8(Rg.CL, Rg.RSI), hlt(),
    ]));
    const what = `type ${k.type} desc ${k.desc} addr ${k.addr.toString(16)}`;
    if (k.vector !== undefined) {
      assert.equal(r.result.reason, 'exception', what);
      assert.equal(r.fault.vector, k.vector, what);
      assert.equal(r.fault.errorCode, 0, what);
    } else {
      assert.equal(r.result.reason, 'hlt', what);
      assert.equal(s.c.getReg64(1) & 0xffn, 0x22n, what);
    }
  }
});

test('#PF from instructions: user store to a read-only page (error code 7), CR2, RIP at the instruction', () => {
  const s = machine();
  s.map(0x100000n, 0x20000, P | US);
  s.c.cpl = 3;
  s.c.flushTlb();
  const code = encode(64, [movImm(Rg.RSI, 0x100123n), Instruction.createMemReg(Code.Mov_rm8_r8, m(Rg.RSI), Rg.AL), hlt()]);
  const r = run(s, code);
  assert.equal(r.result.reason, 'exception');
  assert.ok(r.fault instanceof PageFault);
  assert.equal(r.fault.vector, PF);
  assert.equal(r.fault.errorCode, 7);
  assert.equal(s.c.cr2Lo, 0x100123);
  assert.equal(s.c.getRip(), 0x100an);
});

test('#PF from a store that crosses into a not-present page: CR2 = the second page, nothing written', () => {
  const s = machine();
  s.map(0x100000n, 0x20000);
  s.mem.load(0x20ffe, Uint8Array.of(0xaa, 0xbb));
  const r = run(s, encode(64, [
    movImm(Rg.RSI, 0x100ffen), movImm(Rg.RAX, 0x11223344n),
    Instruction.createMemReg(Code.Mov_rm32_r32, m(Rg.RSI), Rg.EAX), hlt(),
  ]));
  assert.equal(r.fault.vector, PF);
  assert.equal(r.fault.errorCode, 2);
  assert.equal(s.c.cr2Lo, 0x101000);
  assert.deepEqual([...s.mem.readBytes(0x20ffe, 2)], [0xaa, 0xbb]);
});

test('#PF on an instruction fetch: I/D set with NXE, CR2 = the fetch address', () => {
  const s = machine();
  s.c.efer |= 1 << 11;
  s.map(0x100000n, 0x20000, P | RW | US | (1n << 63n));
  s.mem.load(0x20000, Uint8Array.of(0xf4));
  const r = run(s, encode(64, [movImm(Rg.RAX, 0x100000n), Instruction.createReg(Code.Jmp_rm64, Rg.RAX)]));
  assert.equal(r.fault.vector, PF);
  assert.equal(r.fault.errorCode, 0x11);
  assert.equal(s.c.cr2Lo, 0x100000);
  assert.equal(s.c.getRip(), 0x100000n);
});

test('page tables in the same page as the code: the processor\'s A/D updates and the guest\'s PTE store keep the code intact', () => {
  const s = new PagingSetup('long4');
  // PD entry 0 -> a page table at physical 0x1000, which also holds the code at 0x1800.
  const pde = s.entry(0n, 2);
  w64(s.mem, pde, 0x1000n | P | RW | US);
  w64(s.mem, 0x1000 + 1 * 8, 0x1000n | P | RW | US); // linear 0x1000 -> the table/code page itself
  w64(s.mem, 0x1000 + 7 * 8, 0x7000n | P | RW | US); // stack
  w64(s.mem, 0x1000 + 5 * 8, 0x20000n | P | RW | US); // data
  s.mem.load(0x20000, Uint8Array.of(0x11));
  s.mem.load(0x21000, Uint8Array.of(0x22));
  const code = encode(64, [
    movImm(Rg.RSI, 0x5000n), load8(Rg.AL, Rg.RSI),
    movImm(Rg.RDI, 0x1028n), movImm(Rg.RDX, 0x21000n | 7n), store64(Rg.RDI, Rg.RDX),
    invlpg(Rg.RSI), load8(Rg.BL, Rg.RSI), hlt(),
  ], 0x1800n);
  const r = run(s, code, 0x1800);
  assert.equal(r.result.reason, 'hlt', r.fault?.toString());
  assert.equal(s.c.getReg64(0) & 0xffn, 0x11n);
  assert.equal(s.c.getReg64(3) & 0xffn, 0x22n);
  // The code page's own PTE: accessed (fetch) and dirty (the PTE store went through it).
  assert.equal(r64(s.mem, 0x1008) & (A | D), A | D);
  assert.equal(r64(s.mem, 0x1028), 0x21000n | 7n | A);
  assert.deepEqual([...s.mem.readBytes(0x1800, code.length)], [...code]);
});

test('a store to a page-table entry that maps the running code takes effect after INVLPG: execution continues on the new page', () => {
  const s = machine();
  // Linear 0x100000 -> phys 0x20000 (code A), later -> phys 0x21000 (code B). Both: mov eax, n; hlt.
  const pte = s.map(0x100000n, 0x20000);
  s.map(0x200000n, pte & ~0xfff);
  s.mem.load(0x20000, encode(64, [Instruction.createRegU32(Code.Mov_r32_imm32, Rg.EAX, 1), hlt()], 0x100000n));
  s.mem.load(0x21000, encode(64, [Instruction.createRegU32(Code.Mov_r32_imm32, Rg.EAX, 2), hlt()], 0x100000n));
  const main = encode(64, [
    movImm(Rg.RAX, 0x100000n), Instruction.createReg(Code.Call_rm64, Rg.RAX),
  ]);
  let r = run(s, main);
  assert.equal(r.result.reason, 'hlt');
  assert.equal(s.c.getReg64(0), 1n);
  w64(s.mem, pte, 0x21000n | P | RW | US);
  // Our TLB still holds the old translation until INVLPG (the SDM allows either).
  s.c.halted = false;
  const code2 = encode(64, [
    movImm(Rg.RSI, 0x100000n), invlpg(Rg.RSI), movImm(Rg.RAX, 0x100000n), Instruction.createReg(Code.Call_rm64, Rg.RAX),
  ], 0x2000n);
  r = run(s, code2, 0x2000);
  assert.equal(r.result.reason, 'hlt');
  assert.equal(s.c.getReg64(0), 2n);
});

// ---- enterMode's identity tables ---------------------------------------------------------------
test('enterMode(long): 4-level paging with identity tables outside RAM; beyond 512 GiB reads all-ones', () => {
  const mem = new PhysicalMemory(0x100000);
  const c = new Cpu(mem);
  enterMode(c, 'long');
  const cr3 = c.cr3Hi * 2 ** 32 + (c.cr3Lo >>> 0);
  assert.equal(cr3, IDENTITY_TABLES_END - identityTablesSize(true));
  assert.equal(pagingTranslate(c, 0x12345678, 0, 1), 0x12345678);
  assert.equal(pagingTranslate(c, 0x89abcdef, 0x7e, 2), 0x7e89abcdef);
  // The rest of the canonical space reaches an empty physical window: reads all-ones, no fault.
  assert.equal(c.read32(0x1000, 0x100), -1);
  assert.equal(c.read32(0x1000, -1), -1);
  c.write32(0x1000, -1, 5);
  assert.equal(mem.touchedPages, 0);
  // A second enterMode on the same memory reuses the region.
  enterMode(new Cpu(mem), 'compat');
  assert.equal(pagingTranslate(c, 0x1000, 0, 0), 0x1000);
});

test('enterMode(long, { pageTables }): the same tables written into RAM; 2 MiB pages without 1 GiB-page support', () => {
  const mem = new PhysicalMemory(0x400000);
  const c = new Cpu(mem);
  enterMode(c, 'long', { pageTables: 0x100000 });
  assert.equal(c.cr3Lo, 0x100000);
  assert.equal(r64(mem, 0x100000), 0x101000n | 0x27n);
  assert.equal(r64(mem, 0x101008), 0x40000000n | 0xe7n);
  assert.equal(pagingTranslate(c, 0x345678, 0, 1), 0x345678);
  const noBig: CpuidModel = {
    leaves: DEFAULT_CPUID.leaves.map((l) => (l.leaf === 0x80000001 ? { ...l, edx: l.edx & ~(1 << 26) } : l)),
  };
  const mem2 = new PhysicalMemory(0x100000);
  const c2 = new Cpu(mem2, { cpuid: noBig });
  enterMode(c2, 'long');
  assert.equal(pagingTranslate(c2, 0x7654321, 0x12, 1), 0x12_0765_4321);
  assert.equal(pagingTranslate(c2, 0xfff, 0, 2), 0xfff);
  assert.throws(() => enterMode(c2, 'long', { pageTables: 0x1234 }), RangeError);
});

test('the paging benchmark guest (vtx bench --paging) computes the checksum and instruction count its model predicts', () => {
  const g = buildPagingBenchGuest(2);
  const { cpu } = runBenchGuestOnce(g);
  assert.equal(cpu.getReg64(0), g.expectedRax);
  assert.equal(cpu.icount, g.expectedInstructions);
  assert.equal(g.pageTouches, 2 * 16384);
});

test('compatibility mode runs under enterMode\'s 4-level identity map; CPL 3 uses its user pages', () => {
  const mem = new PhysicalMemory(0x100000);
  // mov dword [0x5000], 0x12345678 / mov eax, [0x5000] / hlt
  mem.load(0x1000, Uint8Array.of(0xc7, 0x05, 0x00, 0x50, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12, 0xa1, 0x00, 0x50, 0x00, 0x00, 0xf4));
  const c = new Cpu(mem);
  enterMode(c, 'compat');
  c.setRip(0x1000);
  c.setReg64(4, 0x8000);
  const r = c.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(c.getReg64(0), 0x12345678n);
  const s = new PagingSetup('long4');
  s.identity(0x1000, 0x2000);
  s.map(0x5000n, 0x5000, P | RW);
  s.c.cpl = 3;
  s.c.flushTlb();
  const q = run(s, encode(64, [movImm(Rg.RSI, 0x5000n), load8(Rg.AL, Rg.RSI), hlt()]));
  assert.equal(q.fault.vector, PF);
  assert.equal(q.fault.errorCode, 5);
  assert.equal(s.c.cr2Lo, 0x5000);
});
