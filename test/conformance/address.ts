/**
 * Memory operands for generated cases: pick an addressing form (address size, base, index,
 * scale, displacement, segment override) and solve for register values so that the linear
 * address lands exactly on a chosen target — inside the shared data/stack regions (the usual
 * case), straddling a region's end, or in a deliberately unmapped/non-canonical place.
 *
 * Safety: the host helper executes these addresses for real. In 64-bit mode an address in the
 * user half above 4 GiB could reach the helper's own memory, so `isSafeLinear` rejects those;
 * everything below 4 GiB is either a test region or the helper's PROT_NONE reservation.
 */
import { Register } from 'iced-x86';
import {
  CODE_BASE, CODE_SIZE, INSN_ADDR, DATA_BASE, DATA_END, DATA_SIZE, FAULT_ZONES, GS_BASE, STACK_BASE, STACK_SIZE, STUB_BASE, STUB_SIZE,
} from './layout';
import type { Mode } from './forms';
import type { Rng } from './rng';

export class Retry extends Error {
  constructor(why: string) {
    super(why);
  }
}

const TWO64 = 1n << 64n;

export function mod(v: bigint, m: bigint): bigint {
  const r = v % m;
  return r < 0n ? r + m : r;
}

/** Inverse of odd `c` modulo 2^k (Newton iteration). */
function invOdd(c: bigint, m: bigint): bigint {
  let x = c;
  for (let i = 0; i < 7; i++) x = mod(x * (2n - c * x), m);
  return x;
}

/** True when an access of `size` bytes at `lin` cannot touch the helper's memory. */
export function isSafeLinear(lin: bigint, size: number, mode: Mode): boolean {
  if (mode === 32) return true; // compatibility mode addresses are below 4 GiB: test regions or reserved
  const lo = mod(lin, TWO64);
  const hi = mod(lin + BigInt(Math.max(size, 1) - 1), TWO64);
  const bad = (a: bigint): boolean => a >= 0x100000000n && a < 0x0000800000000000n;
  // The vsyscall page is in the kernel half and readable in some configurations: keep off it.
  const vsys = (a: bigint): boolean => a >= 0xffffffffff600000n && a < 0xffffffffff601000n;
  return !bad(lo) && !bad(hi) && !vsys(lo) && !vsys(hi) && !(lo < 0x100000000n && hi >= 0x100000000n);
}

/** Whether a target lies in the host-only stub pages (never generated). */
export function inStub(a: bigint): boolean {
  return a >= BigInt(STUB_BASE) && a < BigInt(STUB_BASE + STUB_SIZE);
}

export type TargetKind = 'data' | 'stack' | 'code' | 'cross' | 'fault';

/** A linear address for an access of `size` bytes. */
export function pickLinear(rng: Rng, size: number, mode: Mode, opts: { align?: number; kinds?: TargetKind[]; margin?: number } = {}): bigint {
  const n = Math.max(size, 1);
  const margin = opts.margin ?? 32;
  const r = rng.float();
  let kind: TargetKind = r < 0.78 ? 'data' : r < 0.88 ? 'stack' : r < 0.9 ? 'code' : r < 0.95 ? 'cross' : 'fault';
  if (opts.kinds && !opts.kinds.includes(kind)) kind = opts.kinds[0];
  const align = (a: number): number => {
    const al = opts.align ?? (rng.chance(0.6) ? Math.min(n, 8) : 1);
    return a - (a % al);
  };
  switch (kind) {
    case 'data': return BigInt(align(DATA_BASE + margin + rng.int(DATA_SIZE - 2 * margin - n)));
    case 'stack': return BigInt(align(STACK_BASE + margin + rng.int(STACK_SIZE - 2 * margin - n)));
    case 'code': {
      // Self-modifying code: anywhere in the code region but near the instruction, where the
      // host goes next (the harness runs exactly one instruction on our side).
      let a: number;
      do a = CODE_BASE + rng.int(CODE_SIZE - n); while (a + n > INSN_ADDR - 32 && a < INSN_ADDR + 48);
      return BigInt(align(a));
    }
    case 'cross':
      if (n === 1) return BigInt(rng.chance(0.5) ? DATA_END : DATA_BASE - 1);
      return BigInt(rng.chance(0.5) ? DATA_END - rng.range(1, n - 1) : DATA_BASE - rng.range(1, n - 1));
    case 'fault': return faultAddress(rng, mode);
  }
}

/** An address that faults on both sides (unmapped below 4 GiB; non-canonical or kernel half in 64-bit mode). */
export function faultAddress(rng: Rng, mode: Mode): bigint {
  const r = rng.float();
  if (mode === 64 && r < 0.25) return (1n << 47n) + (rng.bits(40) << 4n); // non-canonical
  if (mode === 64 && r < 0.4) return 0xffff800000000000n + (rng.bits(36) << 8n); // kernel half
  const [lo, hi] = rng.pick(FAULT_ZONES);
  return BigInt(lo + rng.int(hi - lo - 64));
}

export interface MemSpec {
  base: Register;
  index: Register;
  scale: number;
  /** Displacement as iced wants it (absolute target for RIP-relative). */
  disp: bigint;
  displSize: number;
  seg: Register;
  addrSize: 16 | 32 | 64;
  /** Linear address of the access (null when the operand is not accessed, e.g. LEA). */
  linear: bigint | null;
}

/** Registers the solver may set; values are full 64-bit register contents. */
export interface RegFile {
  regs: bigint[];
  fixed: boolean[];
}

const R64 = Register.RAX, R32 = Register.EAX, R16 = Register.AX;

function reg(asz: number, idx: number): Register {
  return (asz === 64 ? R64 : asz === 32 ? R32 : R16) + idx;
}

/**
 * iced's encoder takes the address size of a displacement-only operand from the displacement
 * size (8 = 64-bit addressing, 4 = 32-bit, 2 = 16-bit); with registers, from the registers.
 */
function icedDisplSize(spec: MemSpec, dsz: number): number {
  if (spec.base === Register.None && spec.index === Register.None && dsz !== 0) return spec.addrSize / 8;
  return dsz;
}

export interface MemOptions {
  size: number;
  /** The operand is not accessed (LEA, NOP): any address is fine. */
  noAccess?: boolean;
  align?: number;
  kinds?: TargetKind[];
  margin?: number;
  /** Address of the instruction's end is unknown here; RIP-relative uses an absolute target. */
  allowRipRelative?: boolean;
  /** Whether GS is usable in this mode (compat mode needs the LDT segment). */
  gsUsable: boolean;
  /** Force the target (e.g. stack slots); otherwise pickLinear. */
  target?: bigint;
}

/** Segment base the harness gives each override (64-bit mode ignores ES/CS/SS/DS bases). */
export function segBase(seg: Register): bigint {
  return seg === Register.GS ? BigInt(GS_BASE) : 0n;
}

function signedFits(v: bigint, bits: number): boolean {
  const lim = 1n << BigInt(bits - 1);
  return v >= -lim && v < lim;
}

/**
 * Choose an addressing form and register values for a memory operand. Registers used for the
 * address become fixed. Throws Retry when the choice cannot reach the target.
 */
export function genMem(rng: Rng, mode: Mode, rf: RegFile, o: MemOptions): MemSpec {
  let asz: 16 | 32 | 64 = mode === 64 ? (rng.chance(0.15) ? 32 : 64) : rng.chance(0.15) ? 16 : 32;
  // Segment override.
  let seg: Register = Register.None;
  const r = rng.float();
  if (asz === 16 && o.gsUsable && rng.chance(0.8)) seg = Register.GS;
  else if (r < 0.18) seg = rng.pick([Register.ES, Register.CS, Register.SS, Register.DS]);
  else if (r < 0.28 && (mode === 64 || o.gsUsable)) seg = Register.GS;
  else if (r < 0.3 && mode === 32) seg = Register.FS; // null selector in compat mode: #GP on the host
  const M = 1n << BigInt(asz);

  // Addressing form: terms (register, coefficient) + displacement.
  let baseIdx = -1, indexIdx = -1, scale = 1, rip = false;
  let dsz = rng.pick([0, 1, asz === 16 ? 2 : 4]);
  if (asz === 16) {
    const forms: Array<[number, number]> = [[3, 6], [3, 7], [5, 6], [5, 7], [6, -1], [7, -1], [5, -1], [3, -1], [-1, -1]];
    [baseIdx, indexIdx] = rng.pick(forms);
    if (baseIdx === -1 && indexIdx === -1) dsz = 2;
    if (baseIdx === 5 && indexIdx === -1 && dsz === 0) dsz = 1; // [bp] needs a displacement
  } else {
    const nregs = mode === 64 ? 16 : 8;
    const b = rng.float();
    if (b < 0.1 && mode === 64 && o.allowRipRelative !== false) rip = true;
    else if (b < 0.18) baseIdx = -1;
    else baseIdx = rng.int(nregs);
    if (!rip && rng.chance(0.45)) {
      do indexIdx = rng.int(nregs); while (indexIdx === 4);
      scale = rng.pick([1, 2, 4, 8]);
    }
    if (baseIdx === -1 && !rip) dsz = 4;
    if (rip) dsz = 4;
  }

  const base = rip ? (asz === 64 ? Register.RIP : Register.EIP) : baseIdx < 0 ? Register.None : reg(asz, baseIdx);
  const index = indexIdx < 0 ? Register.None : reg(asz, indexIdx);
  const spec: MemSpec = { base, index, scale, disp: 0n, displSize: dsz, seg, addrSize: asz, linear: null };

  if (o.noAccess) {
    // Not accessed: registers keep their random values, any displacement.
    const d = dsz === 0 ? 0n : dsz === 1 ? BigInt.asIntN(8, rng.edge(8)) : dsz === 2 ? rng.edge(16) : BigInt.asIntN(32, rng.edge(32));
    spec.disp = rip ? BigInt(DATA_BASE + rng.int(DATA_SIZE)) : asz === 64 ? mod(d, TWO64) : mod(d, M);
    if (dsz === 0) spec.disp = 0n;
    spec.displSize = icedDisplSize(spec, dsz);
    return spec;
  }

  let lin = o.target ?? pickLinear(rng, o.size, mode, { align: o.align, kinds: o.kinds, margin: o.margin });
  if (seg === Register.GS && o.target === undefined && rng.chance(0.9)) {
    lin = pickLinear(rng, o.size, mode, { align: o.align, kinds: ['data'], margin: o.margin });
  }
  const sb = segBase(seg);
  // Effective address wanted: linear - segment base (64-bit mode: only FS/GS have a base).
  const ea = mode === 64 ? mod(lin - sb, TWO64) : mod(lin - sb, 1n << 32n);
  if (asz === 16 && sb === 0n) {
    // 16-bit offsets with a zero segment base can only reach the unmapped first 64 KiB.
    lin = mod(ea, M);
  }
  const eaA = mod(ea, M);

  if (rip) {
    // iced takes the absolute target; it must be within rel32 of the instruction.
    const t = asz === 64 ? ea : eaA;
    if (t > 0x7fffffffn && t < TWO64 - 0x80000000n) throw new Retry('RIP-relative target out of reach');
    spec.disp = t;
    spec.linear = mode === 64 ? mod(sb + (asz === 64 ? ea : eaA), TWO64) : lin;
    return spec;
  }

  // Terms with merged coefficients.
  const coef = new Map<number, bigint>();
  if (baseIdx >= 0) coef.set(baseIdx, 1n);
  if (indexIdx >= 0) coef.set(indexIdx, (coef.get(indexIdx) ?? 0n) + BigInt(scale));
  const val = (i: number): bigint => mod(rf.regs[i], M);
  let constant = 0n;
  const free: number[] = [];
  for (const [i, c] of coef) {
    if (rf.fixed[i]) constant += c * val(i);
    else free.push(i);
  }
  // Choose the displacement.
  let d: bigint;
  if (dsz === 0) d = 0n;
  else if (dsz === 1) d = BigInt.asIntN(8, rng.edge(8));
  else if (dsz === 2) d = BigInt.asIntN(16, rng.edge(16));
  else d = BigInt.asIntN(32, rng.chance(0.5) ? rng.edge(32) : BigInt(rng.range(-4096, 4096)));
  const values = new Map<number, bigint>();
  if (free.length === 0) {
    // The displacement absorbs the difference.
    const need = mod(eaA - constant, M);
    if (asz === 64) {
      const s = BigInt.asIntN(64, need);
      if (!signedFits(s, 32)) throw new Retry('displacement cannot reach the target');
      d = s;
    } else d = BigInt.asIntN(asz, need);
    dsz = asz === 16 ? 2 : 4;
    if (dsz !== 0 && d !== 0n && !signedFits(d, dsz * 8)) throw new Retry('displacement too large');
  } else {
    // Prefer the base (coefficient 1) as the solved term; give the others random values.
    free.sort((a, b) => Number(coef.get(a)! - coef.get(b)!));
    const solved = free[0];
    for (const i of free.slice(1)) {
      const v = mod(rng.reg64(), M);
      values.set(i, v);
      constant += coef.get(i)! * v;
    }
    const c = coef.get(solved)!;
    let t = mod(eaA - constant - d, M);
    let k = 0n;
    let cc = c;
    while ((cc & 1n) === 0n) { cc >>= 1n; k++; }
    if (k > 0n) {
      const rem = t & ((1n << k) - 1n);
      if (rem !== 0n) {
        d += rem;
        if (dsz === 0) dsz = 1;
        if (!signedFits(d, dsz * 8)) { d -= (1n << k); if (!signedFits(d, dsz * 8)) throw new Retry('parity'); }
        t = mod(eaA - constant - d, M);
        if ((t & ((1n << k) - 1n)) !== 0n) throw new Retry('parity');
      }
    }
    const mk = M >> k;
    const v = mod((t >> k) * invOdd(cc, mk), mk);
    values.set(solved, v);
  }
  // Commit register values (upper bits beyond the address size stay random).
  for (const [i, v] of values) {
    const hiMask = ((1n << 64n) - 1n) ^ (M - 1n);
    rf.regs[i] = (rf.regs[i] & hiMask) | v;
  }
  for (const i of coef.keys()) rf.fixed[i] = true;
  // Verify.
  let check = d;
  for (const [i, c] of coef) check += c * val(i);
  if (mod(check, M) !== eaA) throw new Error('internal: address solver produced a wrong address');
  spec.disp = asz === 64 ? mod(d, TWO64) : mod(d, M);
  spec.displSize = icedDisplSize(spec, dsz);
  spec.linear = mode === 64 ? mod(sb + eaA, TWO64) : mod(sb + eaA, 1n << 32n);
  const last = spec.linear + BigInt(Math.max(o.size, 1) - 1);
  if (inStub(spec.linear) || inStub(last)) throw new Retry('target in the host stub pages');
  return spec;
}

/** Alignment helper for targets inside the data region with room for `span` bytes either way. */
export function dataSpot(rng: Rng, span: number, align = 1): number {
  const lo = DATA_BASE + span + 16;
  const hi = DATA_END - span - 16;
  const a = lo + rng.int(Math.max(1, hi - lo));
  return a - (a % align);
}
