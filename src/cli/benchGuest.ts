/**
 * The benchmark guest: 64-bit machine code built with iced-x86's encoder (no hand-written hex),
 * and a TypeScript model of the same computation that gives the checksum it must leave in RAX
 * and the exact number of instructions it retires, so a broken processor cannot report a fast time.
 *
 * The guest makes `passes` passes over an array of 32-bit values that the host fills with a
 * xorshift sequence. Per element: a load, a 64-bit add into a running sum, shift/xor/add into a
 * hash, a data-dependent branch on the value's low bit, then either a CALL to a small mixing
 * function (PUSH/POP, shifts, XORs, a compare and a second data-dependent branch, RET) or an
 * inline shift/xor/sub; a store back, pointer and counter updates, and the loop branches.
 * At the end RAX = hash + sum (64-bit) and the guest executes HLT.
 *
 * To change the guest: edit `build()` and `model()` together; the instruction counts of each
 * segment come from the builder, so only the control flow in `model()` must mirror the code.
 */
import {
  BlockEncoder, BlockEncoderOptions, Code, Instruction, MemoryOperand, Mnemonic, Register,
} from 'iced-x86';

export const BENCH_CODE_AT = 0x1000;
export const BENCH_ARRAY_AT = 0x100000;
export const BENCH_COUNT = 4096;
export const BENCH_MEMORY = 4 * 1024 * 1024;
export const BENCH_STACK = BENCH_MEMORY;
export const DEFAULT_PASSES = 1000;

/** Names of the straight-line pieces of the guest, for instruction counting. */
type Segment =
  | 'prologue' | 'outerHead' | 'innerHead' | 'oddPath' | 'evenPath' | 'innerTail' | 'outerTail'
  | 'epilogue' | 'mixHead' | 'mixHigh' | 'mixTail';

export interface BenchGuest {
  code: Uint8Array;
  /** Initial array contents (little-endian 32-bit values), to load at BENCH_ARRAY_AT. */
  data: Uint8Array;
  passes: number;
  /** RAX at HLT. */
  expectedRax: bigint;
  /** Instructions retired up to and including HLT. */
  expectedInstructions: number;
  /** Mnemonics the guest uses, lower case (for reports: all must be implemented). */
  mnemonics: string[];
  /** The same as iced-x86 Mnemonic values. */
  mnemonicIds: Mnemonic[];
}

/** A few lines of label handling over BlockEncoder: branch targets are fake IPs that the encoder resolves. */
class Asm {
  private readonly list: Instruction[] = [];
  private nextIp = 1n;
  private nextLabel = 1n << 40n;
  private pendingLabel: bigint | null = null;
  private segment: Segment = 'prologue';
  readonly counts: Record<Segment, number> = {
    prologue: 0, outerHead: 0, innerHead: 0, oddPath: 0, evenPath: 0, innerTail: 0, outerTail: 0,
    epilogue: 0, mixHead: 0, mixHigh: 0, mixTail: 0,
  };

  label(): bigint {
    return this.nextLabel++;
  }

  /** The next instruction emitted is the label's target. */
  bind(label: bigint): void {
    this.pendingLabel = label;
  }

  /** Following instructions count towards `s`. */
  in(s: Segment): void {
    this.segment = s;
  }

  emit(ins: Instruction): void {
    ins.ip = this.pendingLabel ?? this.nextIp++;
    this.pendingLabel = null;
    this.list.push(ins);
    this.counts[this.segment]++;
  }

  mnemonics(): Mnemonic[] {
    return [...new Set(this.list.map((i) => i.mnemonic))].sort((x, y) => x - y);
  }

  encode(rip: bigint): Uint8Array {
    const be = new BlockEncoder(64, BlockEncoderOptions.None);
    try {
      for (const i of this.list) be.add(i);
      return be.encode(rip);
    } finally {
      be.free();
      for (const i of this.list) i.free();
    }
  }
}

const R = Register;

/** [base]; the instruction that receives it takes ownership (no free). */
function mem(base: Register): MemoryOperand {
  return new MemoryOperand(base, Register.None, 1, 0n, 0, false, Register.None);
}

function build(passes: number): { code: Uint8Array; counts: Record<Segment, number>; mnemonics: Mnemonic[] } {
  const a = new Asm();
  const e = (i: Instruction): void => a.emit(i);
  const outer = a.label(), inner = a.label(), even = a.label(), store = a.label();
  const mix = a.label(), mixDone = a.label();

  a.in('prologue');
  e(Instruction.createRegReg(Code.Xor_rm32_r32, R.EAX, R.EAX)); // h = 0
  e(Instruction.createRegReg(Code.Xor_rm32_r32, R.R9D, R.R9D)); // s = 0
  e(Instruction.createRegU32(Code.Mov_r32_imm32, R.R8D, passes));

  a.in('outerHead');
  a.bind(outer);
  e(Instruction.createRegU32(Code.Mov_r32_imm32, R.ESI, BENCH_ARRAY_AT)); // p = array (zero-extends)
  e(Instruction.createRegU32(Code.Mov_r32_imm32, R.ECX, BENCH_COUNT)); // n = count

  a.in('innerHead');
  a.bind(inner);
  const m1 = mem(R.RSI);
  e(Instruction.createRegMem(Code.Mov_r32_rm32, R.EBX, m1)); // x = *p
  e(Instruction.createRegReg(Code.Add_rm64_r64, R.R9, R.RBX)); // s += x
  e(Instruction.createRegReg(Code.Mov_r32_rm32, R.EDX, R.EBX));
  e(Instruction.createRegU32(Code.Shr_rm32_imm8, R.EDX, 5));
  e(Instruction.createRegReg(Code.Xor_rm32_r32, R.EAX, R.EDX)); // h ^= x >>> 5
  e(Instruction.createRegReg(Code.Add_rm32_r32, R.EAX, R.EBX)); // h += x
  e(Instruction.createRegU32(Code.Test_rm8_imm8, R.BL, 1));
  e(Instruction.createBranch(Code.Je_rel32_64, even)); // even values skip the call

  a.in('oddPath');
  e(Instruction.createBranch(Code.Call_rel32_64, mix)); // x = mix(x, h)
  e(Instruction.createBranch(Code.Jmp_rel32_64, store));

  a.in('evenPath');
  a.bind(even);
  e(Instruction.createRegU32(Code.Shl_rm32_imm8, R.EBX, 1));
  e(Instruction.createRegReg(Code.Xor_rm32_r32, R.EBX, R.EAX)); // x = (x << 1) ^ h
  e(Instruction.createRegReg(Code.Sub_rm32_r32, R.EBX, R.ECX)); // x -= n

  a.in('innerTail');
  a.bind(store);
  const m2 = mem(R.RSI);
  e(Instruction.createMemReg(Code.Mov_rm32_r32, m2, R.EBX)); // *p = x
  e(Instruction.createRegI32(Code.Add_rm64_imm8, R.RSI, 4));
  e(Instruction.createReg(Code.Dec_rm32, R.ECX));
  e(Instruction.createBranch(Code.Jne_rel32_64, inner));

  a.in('outerTail');
  e(Instruction.createReg(Code.Dec_rm32, R.R8D));
  e(Instruction.createBranch(Code.Jne_rel32_64, outer));

  a.in('epilogue');
  e(Instruction.createRegReg(Code.Add_rm64_r64, R.RAX, R.R9)); // result = h + s
  e(Instruction.create(Code.Hlt));

  a.in('mixHead');
  a.bind(mix);
  e(Instruction.createReg(Code.Push_r64, R.RAX));
  e(Instruction.createRegReg(Code.Mov_r32_rm32, R.EDX, R.EBX));
  e(Instruction.createRegU32(Code.Shl_rm32_imm8, R.EDX, 7));
  e(Instruction.createRegReg(Code.Xor_rm32_r32, R.EBX, R.EDX)); // x ^= x << 7
  e(Instruction.createRegReg(Code.Mov_r32_rm32, R.EDX, R.EBX));
  e(Instruction.createRegU32(Code.Shr_rm32_imm8, R.EDX, 9));
  e(Instruction.createRegReg(Code.Xor_rm32_r32, R.EBX, R.EDX)); // x ^= x >>> 9
  e(Instruction.createReg(Code.Pop_r64, R.RDX)); // edx = h
  e(Instruction.createRegReg(Code.Add_rm32_r32, R.EBX, R.EDX)); // x += h
  e(Instruction.createRegU32(Code.Cmp_rm32_imm32, R.EBX, 0x80000000));
  e(Instruction.createBranch(Code.Jb_rel32_64, mixDone));

  a.in('mixHigh');
  e(Instruction.createRegU32(Code.Xor_rm32_imm32, R.EBX, 0x5bd1e995)); // x ^= K when x >= 2^31

  a.in('mixTail');
  a.bind(mixDone);
  e(Instruction.create(Code.Retnq));

  const mnemonics = a.mnemonics();
  return { code: a.encode(BigInt(BENCH_CODE_AT)), counts: a.counts, mnemonics };
}

/** The initial array: xorshift32 from a fixed seed. */
function initialArray(): Uint32Array {
  const out = new Uint32Array(BENCH_COUNT);
  let x = 0x2545f491;
  for (let i = 0; i < BENCH_COUNT; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >>> 0;
  }
  return out;
}

/** The same computation in TypeScript: the checksum and the instruction count. */
function model(passes: number, counts: Record<Segment, number>): { rax: bigint; instructions: number } {
  const arr = initialArray();
  let h = 0;
  let sLo = 0;
  let sHi = 0;
  let n = counts.prologue + counts.epilogue;
  const odd = counts.innerHead + counts.oddPath + counts.mixHead + counts.mixTail + counts.innerTail;
  const evenN = counts.innerHead + counts.evenPath + counts.innerTail;
  for (let p = 0; p < passes; p++) {
    n += counts.outerHead + counts.outerTail;
    for (let i = 0; i < BENCH_COUNT; i++) {
      let x = arr[i];
      sLo += x;
      if (sLo >= 4294967296) { sLo -= 4294967296; sHi++; }
      h = ((h ^ (x >>> 5)) + x) | 0;
      if (x & 1) {
        x = (x ^ (x << 7)) >>> 0;
        x = (x ^ (x >>> 9)) >>> 0;
        x = (x + h) >>> 0;
        n += odd;
        if (x >= 0x80000000) {
          x = (x ^ 0x5bd1e995) >>> 0;
          n += counts.mixHigh;
        }
      } else {
        x = (((x << 1) ^ h) - (BENCH_COUNT - i)) >>> 0;
        n += evenN;
      }
      arr[i] = x;
    }
  }
  const rax = BigInt.asUintN(64, BigInt(h >>> 0) + ((BigInt(sHi) << 32n) | BigInt(sLo)));
  return { rax, instructions: n };
}

/** Build the guest for `passes` passes over the array, with its expected result. */
export function buildBenchGuest(passes = DEFAULT_PASSES): BenchGuest {
  if (!Number.isInteger(passes) || passes < 1 || passes > 0xffffffff) throw new RangeError(`passes must be 1..2^32-1, not ${passes}`);
  const { code, counts, mnemonics } = build(passes);
  const { rax, instructions } = model(passes, counts);
  const arr = initialArray();
  const data = new Uint8Array(arr.length * 4);
  const view = new DataView(data.buffer);
  arr.forEach((v, i) => view.setUint32(i * 4, v, true));
  const names = mnemonics.map((m) => Mnemonic[m].toLowerCase()).sort();
  return { code, data, passes, expectedRax: rax, expectedInstructions: instructions, mnemonics: names, mnemonicIds: mnemonics };
}

// ---- the paging benchmark ----------------------------------------------------------------------
/*
 * A guest whose time goes into TLB misses and page walks: 4-level paging with 4 KiB pages over a
 * 64 MiB linear window (16384 pages, far more than the 256-entry software TLB), touched with a
 * 4 KiB stride so every load and every store misses the TLB and walks four levels. Per page: a
 * 32-bit load, a 64-bit add into the sum, an increment and a store back (which sets the dirty
 * flag on the first pass). The window's pages alias a 4 MiB physical pool (linear page i maps
 * physical page i mod 1024) so host memory stays small; the page tables are built by the host.
 * Code, stack and tables are identity-mapped with 2 MiB pages.
 */
export const PAGING_MEMORY = 16 * 1024 * 1024;
export const PAGING_TABLES_AT = 0x100000;
export const PAGING_POOL_AT = 0x400000;
export const PAGING_POOL_PAGES = 1024;
export const PAGING_WINDOW_AT = 0x40000000;
export const PAGING_WINDOW_PAGES = 16384;
export const PAGING_STACK = 0x200000;
export const DEFAULT_PAGING_PASSES = 200;

export interface PagingBenchGuest extends BenchGuest {
  /** Page-table image to load at PAGING_TABLES_AT; CR3 = PAGING_TABLES_AT. */
  tables: Uint8Array;
  /** Page touches (one load and one store each) per run. */
  pageTouches: number;
}

/** The 4-level tables: PML4, PDPT, PD0 (identity 2 MiB pages, 0-1 GiB), PD1 (the window), 32 page tables. */
function pagingTables(): Uint8Array {
  const ptCount = PAGING_WINDOW_PAGES / 512;
  const out = new Uint8Array((4 + ptCount) * 4096);
  const v = new DataView(out.buffer);
  const set = (page: number, index: number, value: number): void => {
    v.setUint32(page * 4096 + index * 8, value >>> 0, true);
    v.setUint32(page * 4096 + index * 8 + 4, Math.floor(value / 4294967296), true);
  };
  const at = (page: number): number => PAGING_TABLES_AT + page * 4096;
  // P | R/W; accessed and dirty flags are left clear for the processor to set.
  set(0, 0, at(1) | 3);
  set(1, 0, at(2) | 3);
  set(1, PAGING_WINDOW_AT / 2 ** 30, at(3) | 3);
  for (let i = 0; i < 512; i++) set(2, i, i * 0x200000 + 0x83);
  for (let t = 0; t < ptCount; t++) {
    set(3, t, at(4 + t) | 3);
    for (let i = 0; i < 512; i++) {
      const page = t * 512 + i;
      set(4 + t, i, PAGING_POOL_AT + (page % PAGING_POOL_PAGES) * 4096 + 3);
    }
  }
  return out;
}

/** Build the paging benchmark for `passes` passes over the window, with its expected result. */
export function buildPagingBenchGuest(passes = DEFAULT_PAGING_PASSES): PagingBenchGuest {
  if (!Number.isInteger(passes) || passes < 1 || passes > 0xffffffff) throw new RangeError(`passes must be 1..2^32-1, not ${passes}`);
  const a = new Asm();
  const e = (i: Instruction): void => a.emit(i);
  const outer = a.label(), inner = a.label();
  a.in('prologue');
  e(Instruction.createRegReg(Code.Xor_rm32_r32, R.EAX, R.EAX)); // sum = 0
  e(Instruction.createRegU32(Code.Mov_r32_imm32, R.R8D, passes));
  a.in('outerHead');
  a.bind(outer);
  e(Instruction.createRegU32(Code.Mov_r32_imm32, R.ESI, PAGING_WINDOW_AT));
  e(Instruction.createRegU32(Code.Mov_r32_imm32, R.ECX, PAGING_WINDOW_PAGES));
  a.in('innerHead');
  a.bind(inner);
  e(Instruction.createRegMem(Code.Mov_r32_rm32, R.EDX, mem(R.RSI))); // x = *p
  e(Instruction.createRegReg(Code.Add_rm64_r64, R.RAX, R.RDX)); // sum += x
  e(Instruction.createRegReg(Code.Add_rm32_r32, R.EDX, R.ECX)); // x += n
  e(Instruction.createMemReg(Code.Mov_rm32_r32, mem(R.RSI), R.EDX)); // *p = x
  e(Instruction.createRegI32(Code.Add_rm64_imm32, R.RSI, 4096)); // next page
  e(Instruction.createReg(Code.Dec_rm32, R.ECX));
  e(Instruction.createBranch(Code.Jne_rel32_64, inner));
  a.in('outerTail');
  e(Instruction.createReg(Code.Dec_rm32, R.R8D));
  e(Instruction.createBranch(Code.Jne_rel32_64, outer));
  a.in('epilogue');
  e(Instruction.create(Code.Hlt));
  const mnemonicIds = a.mnemonics();
  const counts = a.counts;
  const code = a.encode(BigInt(BENCH_CODE_AT));
  // Model: the pool as 32-bit words at each physical page's offset 0.
  const pool = new Uint32Array(PAGING_POOL_PAGES);
  let sumLo = 0;
  let sumHi = 0;
  for (let p = 0; p < passes; p++) {
    let n = PAGING_WINDOW_PAGES;
    for (let i = 0; i < PAGING_WINDOW_PAGES; i++, n--) {
      const k = i % PAGING_POOL_PAGES;
      const x = pool[k];
      sumLo += x;
      if (sumLo >= 4294967296) { sumLo -= 4294967296; sumHi++; }
      pool[k] = (x + n) >>> 0;
    }
  }
  const sum = (BigInt(sumHi) << 32n) + BigInt(sumLo);
  const instructions = counts.prologue + counts.epilogue
    + passes * (counts.outerHead + counts.outerTail + PAGING_WINDOW_PAGES * counts.innerHead);
  return {
    code, data: new Uint8Array(0), passes, expectedRax: BigInt.asUintN(64, sum), expectedInstructions: instructions,
    mnemonics: mnemonicIds.map((m) => Mnemonic[m].toLowerCase()).sort(), mnemonicIds,
    tables: pagingTables(), pageTouches: passes * PAGING_WINDOW_PAGES,
  };
}
