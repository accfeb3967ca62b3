/**
 * Model-specific registers (SDM vol. 4 chapter 2, "Model-Specific Registers"; vol. 3A §2.8.6
 * RDMSR/WRMSR): one declarative table of the MSRs the processor implements, read by RDMSR/WRMSR,
 * the debugger and the docs. Each entry says where the value lives (the per-processor MSR file,
 * or processor state through `get`/`set`), its reset value, which bits software may write
 * (writing 1 to another bit raises #GP(0)), bits whose written value is ignored, canonical-address
 * and value checks, and the CPUID feature that must be reported for the MSR to exist.
 *
 * An index not in the table, or one whose feature is not reported, raises #GP(0). Platform MSRs
 * (the x2APIC range) are asked of `cpu.msrBus` first.
 */
import type { Cpu } from './cpu';
import {
  cpuidBit, isCanonical, maxLinearBits, maxPhysAddr, writeEfer,
} from './controlRegisters';
import { gp0 } from './exceptions';
import { getTscAux, setTscAux } from './insn/system';
import { Seg } from './registers';

const TWO32 = 4294967296;

export interface MsrInfo {
  index: number;
  name: string;
  description: string;
  /** Value after reset, [low, high] (stored MSRs; informational for the others). */
  reset: readonly [number, number];
  /** Bits software may set, [low, high]; a 1 elsewhere (outside `ignored`) raises #GP(0). */
  writable: readonly [number, number];
  /** WRMSR raises #GP(0) (capability MSRs). */
  readOnly?: boolean;
  /** Bits whose written value is ignored (read-only bits that keep their value). */
  ignored?: readonly [number, number];
  /** The MSR exists only when this holds (a CPUID-reported feature). */
  available?: (c: Cpu) => boolean;
  /** The written value must be a canonical linear address (SDM vol. 2B WRMSR). */
  canonical?: boolean;
  /** Further checks of a value to be written (throw #GP(0)). */
  validate?: (c: Cpu, lo: number, hi: number) => void;
  /** Read from processor state: returns the low half, high half in c.vHi. `now` = instructions retired. */
  get?: (c: Cpu, now: number) => number;
  /** Write to processor state (after the checks above). */
  set?: (c: Cpu, lo: number, hi: number, now: number) => void;
}

// ---- feature predicates (CPUID bits; SDM vol. 2A CPUID) ---------------------------------------
const hasMtrr = (c: Cpu): boolean => cpuidBit(c, 1, 0, 'edx', 12);
const hasPat = (c: Cpu): boolean => cpuidBit(c, 1, 0, 'edx', 16);
const hasSep = (c: Cpu): boolean => cpuidBit(c, 1, 0, 'edx', 11);
const hasLm = (c: Cpu): boolean => cpuidBit(c, 0x80000001, 0, 'edx', 29);
const hasTscAux = (c: Cpu): boolean => cpuidBit(c, 0x80000001, 0, 'edx', 27) || cpuidBit(c, 7, 0, 'ecx', 22);
const hasVmx = (c: Cpu): boolean => cpuidBit(c, 1, 0, 'ecx', 5);
const hasX2apic = (c: Cpu): boolean => cpuidBit(c, 1, 0, 'ecx', 21);
const hasXsaves = (c: Cpu): boolean => cpuidBit(c, 0xd, 1, 'eax', 3);

// ---- value checks -----------------------------------------------------------------------------
/** Memory types valid in PAT entries (SDM vol. 3A §12.12.2): UC, WC, WT, WP, WB, UC-. */
const PAT_TYPES = new Set([0, 1, 4, 5, 6, 7]);
/** Memory types valid in MTRRs (SDM vol. 3A §12.11.1): UC, WC, WT, WP, WB. */
const MTRR_TYPES = new Set([0, 1, 4, 5, 6]);

function eachByte(lo: number, hi: number, ok: (b: number) => boolean, what: string): void {
  for (let i = 0; i < 8; i++) {
    const b = ((i < 4 ? lo : hi) >>> (8 * (i & 3))) & 0xff;
    if (!ok(b)) throw gp0(`${what}: invalid memory type 0x${b.toString(16)}`);
  }
}

/** Bits 63:MAXPHYADDR reserved in the high half (MTRR physical base/mask, APIC base). */
function physHighMask(c: Cpu): number {
  const m = maxPhysAddr(c);
  return m >= 64 ? -1 : m <= 32 ? 0 : (1 << (m - 32)) - 1;
}

function physChecked(lowBits: number, what: string) {
  return (c: Cpu, lo: number, hi: number): void => {
    if ((lo & ~lowBits) !== 0 || (hi & ~physHighMask(c)) !== 0) throw gp0(`${what}: reserved bits`);
  };
}

// ---- table ------------------------------------------------------------------------------------
const ALL: readonly [number, number] = [-1, -1];
const NONE: readonly [number, number] = [0, 0];
const LOW32: readonly [number, number] = [-1, 0];

function stored(index: number, name: string, description: string, extra: Partial<MsrInfo> = {}): MsrInfo {
  return { index, name, description, reset: NONE, writable: ALL, ...extra };
}

function mtrrFixed(index: number, name: string, what: string): MsrInfo {
  return stored(index, name, `fixed-range MTRR: eight memory types for ${what} (SDM vol. 3A §12.11.2.2)`, {
    available: hasMtrr, validate: (_c, lo, hi) => eachByte(lo, hi, (b) => MTRR_TYPES.has(b), name),
  });
}

const VMX_CAPS: ReadonlyArray<[number, string]> = [
  [0x480, 'IA32_VMX_BASIC'], [0x481, 'IA32_VMX_PINBASED_CTLS'], [0x482, 'IA32_VMX_PROCBASED_CTLS'],
  [0x483, 'IA32_VMX_EXIT_CTLS'], [0x484, 'IA32_VMX_ENTRY_CTLS'], [0x485, 'IA32_VMX_MISC'],
  [0x486, 'IA32_VMX_CR0_FIXED0'], [0x487, 'IA32_VMX_CR0_FIXED1'], [0x488, 'IA32_VMX_CR4_FIXED0'],
  [0x489, 'IA32_VMX_CR4_FIXED1'], [0x48a, 'IA32_VMX_VMCS_ENUM'], [0x48b, 'IA32_VMX_PROCBASED_CTLS2'],
  [0x48c, 'IA32_VMX_EPT_VPID_CAP'], [0x48d, 'IA32_VMX_TRUE_PINBASED_CTLS'],
  [0x48e, 'IA32_VMX_TRUE_PROCBASED_CTLS'], [0x48f, 'IA32_VMX_TRUE_EXIT_CTLS'],
  [0x490, 'IA32_VMX_TRUE_ENTRY_CTLS'], [0x491, 'IA32_VMX_VMFUNC'],
];

function segBase(seg: number): Pick<MsrInfo, 'get' | 'set'> {
  return {
    get: (c) => { c.vHi = c.segBaseHi[seg]; return c.segBaseLo[seg]; },
    set: (c, lo, hi) => { c.segBaseLo[seg] = lo; c.segBaseHi[seg] = hi; },
  };
}

export const MSRS: readonly MsrInfo[] = [
  {
    index: 0x10, name: 'IA32_TIME_STAMP_COUNTER', reset: NONE, writable: ALL,
    description: 'time-stamp counter (SDM vol. 3A §18.17): counts retired instructions here; a write sets the count seen from then on',
    available: (c) => cpuidBit(c, 1, 0, 'edx', 4),
    get: (c, now) => {
      const t = Math.floor(c.tscOffset + now * c.tscPerInstruction);
      c.vHi = Math.floor(t / TWO32) | 0;
      return t | 0;
    },
    set: (c, lo, hi, now) => { c.tscOffset = (hi >>> 0) * TWO32 + (lo >>> 0) - now * c.tscPerInstruction; },
  },
  stored(0x1b, 'IA32_APIC_BASE', 'local APIC base address, global enable (bit 11), x2APIC enable (bit 10), BSP (bit 8, read-only) (SDM vol. 3A §11.4.4)', {
    reset: [0xfee00900 | 0, 0], writable: [0xfffffc00 | 0, -1], ignored: [0x100, 0],
    validate: (c, lo, hi) => {
      if ((hi & ~physHighMask(c)) !== 0) throw gp0('IA32_APIC_BASE: base above MAXPHYADDR');
      if ((lo & 0x400) !== 0 && !hasX2apic(c)) throw gp0('IA32_APIC_BASE: x2APIC not supported');
      if ((lo & 0xc00) === 0x400) throw gp0('IA32_APIC_BASE: x2APIC enable without global enable');
    },
  }),
  stored(0x3a, 'IA32_FEATURE_CONTROL', 'lock (bit 0), VMXON inside/outside SMX (bits 1, 2) (SDM vol. 3C §24.7)', {
    writable: [7, 0],
    validate: (c, lo) => {
      if ((getStored(c, 0x3a) & 1) !== 0) throw gp0('IA32_FEATURE_CONTROL is locked');
      if ((lo & 6) !== 0 && !hasVmx(c)) throw gp0('IA32_FEATURE_CONTROL: VMX not supported');
    },
  }),
  stored(0x8b, 'IA32_BIOS_SIGN_ID', 'microcode update signature (reads 0: no microcode)', {
    set: () => {}, get: (c) => { c.vHi = 0; return 0; },
  }),
  stored(0xfe, 'IA32_MTRRCAP', 'MTRR capabilities: 8 variable ranges, fixed ranges, write-combining (SDM vol. 3A §12.11.1)', {
    reset: [0x508, 0], writable: NONE, available: hasMtrr, readOnly: true,
  }),
  stored(0x174, 'IA32_SYSENTER_CS', 'SYSENTER/SYSEXIT code selector (bits 15:0; bits 63:32 ignored) (SDM vol. 3A §5.8.7)', {
    writable: LOW32, ignored: [0, -1], available: hasSep,
  }),
  stored(0x175, 'IA32_SYSENTER_ESP', 'SYSENTER stack pointer', { canonical: true, available: hasSep }),
  stored(0x176, 'IA32_SYSENTER_EIP', 'SYSENTER instruction pointer', { canonical: true, available: hasSep }),
  stored(0x1a0, 'IA32_MISC_ENABLE', 'fast strings (bit 0, writable), BTS/PEBS unavailable (bits 11, 12, read-only), limit CPUID maxval (bit 22) (SDM vol. 4 table 2-2)', {
    reset: [0x1801, 0], writable: [0x1 | (1 << 22), 0], ignored: [0x1800, 0],
  }),
  stored(0x277, 'IA32_PAT', 'page-attribute table: eight memory types (SDM vol. 3A §12.12.2)', {
    reset: [0x00070406, 0x00070406], available: hasPat,
    validate: (_c, lo, hi) => eachByte(lo, hi, (b) => PAT_TYPES.has(b), 'IA32_PAT'),
  }),
  stored(0x2ff, 'IA32_MTRR_DEF_TYPE', 'default memory type (bits 7:0), fixed-range enable (bit 10), MTRR enable (bit 11) (SDM vol. 3A §12.11.2.1)', {
    writable: [0xcff, 0], available: hasMtrr,
    validate: (_c, lo) => { if (!MTRR_TYPES.has(lo & 0xff)) throw gp0('IA32_MTRR_DEF_TYPE: invalid memory type'); },
  }),
  mtrrFixed(0x250, 'IA32_MTRR_FIX64K_00000', '00000H-7FFFFH'),
  mtrrFixed(0x258, 'IA32_MTRR_FIX16K_80000', '80000H-9FFFFH'),
  mtrrFixed(0x259, 'IA32_MTRR_FIX16K_A0000', 'A0000H-BFFFFH'),
  ...[0xc0000, 0xc8000, 0xd0000, 0xd8000, 0xe0000, 0xe8000, 0xf0000, 0xf8000].map((a, i) =>
    mtrrFixed(0x268 + i, `IA32_MTRR_FIX4K_${a.toString(16).toUpperCase()}`, `${a.toString(16).toUpperCase()}H-${(a + 0x7fff).toString(16).toUpperCase()}H`)),
  ...Array.from({ length: 8 }, (_, n) => [
    stored(0x200 + 2 * n, `IA32_MTRR_PHYSBASE${n}`, `variable-range MTRR ${n}: base and memory type (SDM vol. 3A §12.11.2.3)`, {
      available: hasMtrr,
      validate: (c: Cpu, lo: number, hi: number) => {
        physChecked(0xfffff0ff | 0, `IA32_MTRR_PHYSBASE${n}`)(c, lo, hi);
        if (!MTRR_TYPES.has(lo & 0xff)) throw gp0(`IA32_MTRR_PHYSBASE${n}: invalid memory type`);
      },
    }),
    stored(0x201 + 2 * n, `IA32_MTRR_PHYSMASK${n}`, `variable-range MTRR ${n}: mask and valid bit (bit 11)`, {
      available: hasMtrr, validate: physChecked(0xfffff800 | 0, `IA32_MTRR_PHYSMASK${n}`),
    }),
  ]).flat(),
  // IA32_XSS (SDM vol. 1 §13.3, vol. 4 table 2-2): the supervisor state components XSAVES/XRSTORS
  // manage. None is supported (CPUID.(EAX=0DH,ECX=1):ECX/EDX = 0), so every bit is reserved and
  // WRMSR of a non-zero value raises #GP(0).
  stored(0xda0, 'IA32_XSS', 'supervisor state components for XSAVES/XRSTORS (none supported: reads 0, any set bit #GP)', {
    writable: NONE, available: hasXsaves,
  }),
  ...VMX_CAPS.map(([index, name]) => stored(index, name, 'VMX capability (read-only; values defined with VMX support)', {
    writable: NONE, available: hasVmx, readOnly: true,
  })),
  {
    index: 0xc0000080, name: 'IA32_EFER', reset: NONE, writable: [0xd01, 0],
    description: 'extended features: SYSCALL enable (bit 0), IA-32e mode enable (bit 8) and active (bit 10, read-only), execute-disable enable (bit 11) (SDM vol. 3A §2.2.1)',
    get: (c) => { c.vHi = 0; return c.efer; },
    set: (c, lo, hi) => writeEfer(c, lo, hi),
  },
  stored(0xc0000081, 'IA32_STAR', 'SYSCALL/SYSRET selectors (bits 47:32 SYSCALL CS, 63:48 SYSRET CS) and legacy-mode EIP (SDM vol. 3A §5.8.8)', { available: hasLm }),
  stored(0xc0000082, 'IA32_LSTAR', 'SYSCALL target RIP in 64-bit mode', { canonical: true, available: hasLm }),
  stored(0xc0000083, 'IA32_CSTAR', 'SYSCALL target RIP in compatibility mode (not used by Intel processors)', { canonical: true, available: hasLm }),
  stored(0xc0000084, 'IA32_FMASK', 'SYSCALL RFLAGS mask (bits 31:0)', { writable: LOW32, available: hasLm }),
  { index: 0xc0000100, name: 'IA32_FS_BASE', description: 'FS base address (64-bit mode)', reset: NONE, writable: ALL, canonical: true, available: hasLm, ...segBase(Seg.FS) },
  { index: 0xc0000101, name: 'IA32_GS_BASE', description: 'GS base address (64-bit mode)', reset: NONE, writable: ALL, canonical: true, available: hasLm, ...segBase(Seg.GS) },
  stored(0xc0000102, 'IA32_KERNEL_GS_BASE', 'base exchanged with GS base by SWAPGS', { canonical: true, available: hasLm }),
  {
    index: 0xc0000103, name: 'IA32_TSC_AUX', description: 'auxiliary value read by RDTSCP and RDPID (bits 31:0)',
    reset: NONE, writable: LOW32, available: hasTscAux,
    get: (c) => { c.vHi = 0; return getTscAux(c); },
    set: (c, lo) => setTscAux(c, lo),
  },
];

const BY_INDEX = new Map<number, MsrInfo>();
for (const m of MSRS) {
  const k = m.index >>> 0;
  if (BY_INDEX.has(k)) throw new Error(`internal: MSR 0x${k.toString(16)} listed twice`);
  BY_INDEX.set(k, m);
}

/** The table entry for `index`, or undefined. */
export function msrInfo(index: number): MsrInfo | undefined {
  return BY_INDEX.get(index >>> 0);
}

// ---- the per-processor MSR file ---------------------------------------------------------------
const files = new WeakMap<Cpu, Map<number, [number, number]>>();

function fileOf(c: Cpu): Map<number, [number, number]> {
  let f = files.get(c);
  if (f === undefined) {
    f = new Map();
    for (const m of MSRS) if (m.get === undefined) f.set(m.index >>> 0, [m.reset[0] | 0, m.reset[1] | 0]);
    files.set(c, f);
  }
  return f;
}

/** Low half of a stored MSR (high half in c.vHi), without checks (SWAPGS, SYSCALL, tests). */
export function getStored(c: Cpu, index: number): number {
  const v = fileOf(c).get(index >>> 0);
  if (v === undefined) throw new Error(`internal: MSR 0x${(index >>> 0).toString(16)} is not stored`);
  c.vHi = v[1];
  return v[0];
}

/** Set a stored MSR without checks (SWAPGS; the VMX layer filling its read-only capability MSRs). */
export function setStored(c: Cpu, index: number, lo: number, hi: number): void {
  const f = fileOf(c);
  const k = index >>> 0;
  if (!f.has(k)) throw new Error(`internal: MSR 0x${k.toString(16)} is not stored`);
  f.set(k, [lo | 0, hi | 0]);
}

function lookup(c: Cpu, index: number): MsrInfo {
  const m = BY_INDEX.get(index >>> 0);
  if (m === undefined) throw gp0(`MSR 0x${(index >>> 0).toString(16)} is not implemented`);
  if (m.available !== undefined && !m.available(c)) throw gp0(`MSR ${m.name}: feature not reported by CPUID`);
  return m;
}

/**
 * RDMSR's value of MSR `index` (SDM vol. 2B RDMSR): the low half, the high half in c.vHi.
 * `now` is the number of instructions retired before this one. Raises #GP(0) when the MSR does
 * not exist.
 */
export function readMsr(c: Cpu, index: number, now: number): number {
  const bus = c.msrBus;
  if (bus !== null) {
    const v = bus.rdmsr(index >>> 0);
    if (v !== null) {
      c.vHi = v[1] | 0;
      return v[0] | 0;
    }
  }
  const m = lookup(c, index);
  if (m.get !== undefined) return m.get(c, now);
  return getStored(c, index);
}

/** WRMSR (SDM vol. 2B WRMSR): checks, then stores. Raises #GP(0) for reserved bits and bad values. */
export function writeMsr(c: Cpu, index: number, lo: number, hi: number, now: number): void {
  const bus = c.msrBus;
  if (bus !== null && bus.wrmsr(index >>> 0, lo | 0, hi | 0)) return;
  const m = lookup(c, index);
  if (m.readOnly) throw gp0(`WRMSR to read-only ${m.name}`);
  const ign = m.ignored ?? NONE;
  const badLo = lo & ~m.writable[0] & ~ign[0];
  const badHi = hi & ~m.writable[1] & ~ign[1];
  if ((badLo | badHi) !== 0) throw gp0(`WRMSR ${m.name}: reserved bits`);
  if (m.canonical && !isCanonical(hi, maxLinearBits(c))) throw gp0(`WRMSR ${m.name}: non-canonical address`);
  if (m.validate !== undefined) m.validate(c, lo, hi);
  if (m.set !== undefined) {
    m.set(c, lo, hi, now);
    return;
  }
  let vlo = lo, vhi = hi;
  if (ign[0] !== 0 || ign[1] !== 0) {
    const curLo = getStored(c, index), curHi = c.vHi;
    vlo = (lo & ~ign[0]) | (curLo & ign[0]);
    vhi = (hi & ~ign[1]) | (curHi & ign[1]);
  }
  setStored(c, index, vlo, vhi);
}
