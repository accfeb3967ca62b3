/**
 * What the built-in hypervisor intercepts (reference §2 "Interception"): the seed's defaults —
 * only port 0x604 in the I/O bitmap, only MSR 0xE1 (IA32_UMWAIT_CONTROL) and the x2APIC range
 * 0x800-0x83F in the MSR bitmap, only #UD in the exception bitmap, no HLT/RDTSC/INVLPG/
 * descriptor-table exiting, no MTF — and the launch options that widen it. The hypervisor
 * builds its bitmaps from this; the language server explains exits against it.
 */
export interface Interception {
  /** Ports whose accesses exit: 'all', or inclusive ranges. */
  io: 'all' | readonly (readonly [number, number])[];
  /** MSRs whose RDMSR/WRMSR exit: 'all', or inclusive ranges. */
  msrs: 'all' | readonly (readonly [number, number])[];
  /** Exception vectors in the exception bitmap. */
  exceptions: readonly number[];
  hlt: boolean;
  rdtsc: boolean;
  invlpg: boolean;
  descriptorTables: boolean;
  mtf: boolean;
}

export const SEED_INTERCEPTION: Interception = {
  io: [[0x604, 0x604]],
  msrs: [[0xe1, 0xe1], [0x800, 0x83f]],
  exceptions: [6],
  hlt: false,
  rdtsc: false,
  invlpg: false,
  descriptorTables: false,
  mtf: false,
};

export function portIntercepted(i: Interception, port: number): boolean {
  return i.io === 'all' || i.io.some(([a, b]) => port >= a && port <= b);
}

export function msrIntercepted(i: Interception, msr: number): boolean {
  // MSRs outside both bitmap ranges always exit (SDM vol. 3C §25.1.3).
  const inBitmap = (msr >= 0 && msr <= 0x1fff) || (msr >= 0xc0000000 && msr <= 0xc0001fff);
  return !inBitmap || i.msrs === 'all' || i.msrs.some(([a, b]) => msr >= a && msr <= b);
}

export function describeRanges(r: 'all' | readonly (readonly [number, number])[]): string {
  if (r === 'all') return 'all';
  return r.map(([a, b]) => (a === b ? `0x${a.toString(16)}` : `0x${a.toString(16)}-0x${b.toString(16)}`)).join(', ');
}
