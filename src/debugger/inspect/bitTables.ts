/**
 * Bit layouts of the registers the debugger decodes and the project keeps no table for
 * elsewhere: CR0, CR3, CR4 (SDM vol. 3A §2.5), IA32_EFER (§2.2.1), XCR0 (§2.6, vol. 1 §13.3),
 * DR6/DR7 (§18.2), segment access rights in the VMCS layout (vol. 3C §24.4.1, vol. 3A §3.4.5),
 * x87 FCW/FSW (vol. 1 §8.1.3, §8.1.5), MXCSR (vol. 1 §10.2.3), EPT entries (vol. 3C §28.2.2),
 * guest paging entries (vol. 3A §4.5), interruptibility and activity state (vol. 3C §24.4.2),
 * the EPTP (§24.6.11). RFLAGS comes from src/x86/registers.ts (FLAG_NAMES), the VMX controls
 * from src/vmx/controlBits.ts. One table per register; every view reads them.
 */
export interface BitField {
  name: string;
  /** Lowest bit. */
  lo: number;
  /** Highest bit (equal to lo for a flag). */
  hi: number;
  description?: string;
  /** Names of the values of a multi-bit field. */
  values?: readonly string[];
}

const f = (name: string, lo: number, hi = lo, description?: string, values?: readonly string[]): BitField => ({ name, lo, hi, description, values });

export const CR0_BITS: readonly BitField[] = [
  f('PE', 0, 0, 'protection enable'), f('MP', 1, 1, 'monitor coprocessor'), f('EM', 2, 2, 'emulation'),
  f('TS', 3, 3, 'task switched'), f('ET', 4, 4, 'extension type'), f('NE', 5, 5, 'numeric error'),
  f('WP', 16, 16, 'write protect'), f('AM', 18, 18, 'alignment mask'), f('NW', 29, 29, 'not write-through'),
  f('CD', 30, 30, 'cache disable'), f('PG', 31, 31, 'paging'),
];

export const CR3_BITS: readonly BitField[] = [
  f('PWT', 3, 3, 'page-level write-through'), f('PCD', 4, 4, 'page-level cache disable'),
  f('PCID', 0, 11, 'process-context identifier (CR4.PCIDE = 1)'), f('BASE', 12, 51, 'physical address of the top paging structure'),
];

export const CR4_BITS: readonly BitField[] = [
  f('VME', 0), f('PVI', 1), f('TSD', 2), f('DE', 3), f('PSE', 4), f('PAE', 5), f('MCE', 6), f('PGE', 7),
  f('PCE', 8), f('OSFXSR', 9), f('OSXMMEXCPT', 10), f('UMIP', 11), f('LA57', 12), f('VMXE', 13), f('SMXE', 14),
  f('FSGSBASE', 16), f('PCIDE', 17), f('OSXSAVE', 18), f('KL', 19), f('SMEP', 20), f('SMAP', 21), f('PKE', 22),
  f('CET', 23), f('PKS', 24), f('UINTR', 25),
];

export const EFER_BITS: readonly BitField[] = [
  f('SCE', 0, 0, 'SYSCALL enable'), f('LME', 8, 8, 'IA-32e mode enable'), f('LMA', 10, 10, 'IA-32e mode active'),
  f('NXE', 11, 11, 'execute-disable enable'),
];

export const XCR0_BITS: readonly BitField[] = [
  f('X87', 0), f('SSE', 1), f('AVX', 2), f('BNDREG', 3), f('BNDCSR', 4), f('OPMASK', 5), f('ZMM_HI256', 6),
  f('HI16_ZMM', 7), f('PKRU', 9), f('AMX_TILECFG', 17), f('AMX_TILEDATA', 18),
];

const RW = ['execute', 'write', 'I/O', 'read/write'];
const LEN = ['1 byte', '2 bytes', '8 bytes', '4 bytes'];
export const DR7_BITS: readonly BitField[] = [
  ...[0, 1, 2, 3].flatMap((n) => [f(`L${n}`, 2 * n), f(`G${n}`, 2 * n + 1)]),
  f('LE', 8), f('GE', 9), f('RTM', 11), f('GD', 13, 13, 'general detect'),
  ...[0, 1, 2, 3].flatMap((n) => [f(`RW${n}`, 16 + 4 * n, 17 + 4 * n, undefined, RW), f(`LEN${n}`, 18 + 4 * n, 19 + 4 * n, undefined, LEN)]),
];

export const DR6_BITS: readonly BitField[] = [
  f('B0', 0), f('B1', 1), f('B2', 2), f('B3', 3), f('BLD', 11, 11, 'bus-lock detected (0 = detected)'),
  f('BD', 13, 13, 'debug-register access detected'), f('BS', 14, 14, 'single step'), f('BT', 15, 15, 'task switch'),
  f('RTM', 16, 16, 'RTM region (0 = in RTM)'),
];

export const SEGMENT_AR_BITS: readonly BitField[] = [
  f('type', 0, 3, 'segment type'), f('S', 4, 4, 'descriptor type (0 system, 1 code or data)'), f('DPL', 5, 6, 'descriptor privilege level'),
  f('P', 7, 7, 'present'), f('AVL', 12, 12, 'available'), f('L', 13, 13, '64-bit code segment'), f('D/B', 14, 14, 'default operation size'),
  f('G', 15, 15, 'granularity'), f('unusable', 16, 16, 'segment unusable (VMX)'),
];

export const SELECTOR_BITS: readonly BitField[] = [f('RPL', 0, 1), f('TI', 2, 2, 'table indicator (1 = LDT)'), f('index', 3, 15)];

const PC = ['single (24 bits)', 'reserved', 'double (53 bits)', 'extended (64 bits)'];
const RC = ['nearest', 'down', 'up', 'toward zero'];
export const FCW_BITS: readonly BitField[] = [
  f('IM', 0), f('DM', 1), f('ZM', 2), f('OM', 3), f('UM', 4), f('PM', 5), f('PC', 8, 9, 'precision control', PC),
  f('RC', 10, 11, 'rounding control', RC), f('X', 12, 12, 'infinity control'),
];
export const FSW_BITS: readonly BitField[] = [
  f('IE', 0), f('DE', 1), f('ZE', 2), f('OE', 3), f('UE', 4), f('PE', 5), f('SF', 6, 6, 'stack fault'), f('ES', 7, 7, 'error summary'),
  f('C0', 8), f('C1', 9), f('C2', 10), f('TOP', 11, 13, 'top of stack'), f('C3', 14), f('B', 15, 15, 'busy'),
];
export const MXCSR_BITS: readonly BitField[] = [
  f('IE', 0), f('DE', 1), f('ZE', 2), f('OE', 3), f('UE', 4), f('PE', 5), f('DAZ', 6, 6, 'denormals are zeros'),
  f('IM', 7), f('DM', 8), f('ZM', 9), f('OM', 10), f('UM', 11), f('PM', 12), f('RC', 13, 14, 'rounding control', RC),
  f('FZ', 15, 15, 'flush to zero'),
];

/** EPT memory types (SDM vol. 3C §28.3.7; 2, 3 and 7 are reserved). */
export const EPT_MEMORY_TYPES = ['UC', 'WC', 'reserved(2)', 'reserved(3)', 'WT', 'WP', 'WB', 'reserved(7)'];

export const EPTP_BITS: readonly BitField[] = [
  f('memoryType', 0, 2, 'paging-structure memory type', EPT_MEMORY_TYPES), f('walkLength', 3, 5, 'page-walk length minus 1'),
  f('accessedDirty', 6, 6, 'accessed and dirty flags enabled'), f('supervisorShadowStack', 7, 7), f('PML4', 12, 51, 'address of the EPT PML4 table (page number)'),
];

export const EPT_ENTRY_BITS: readonly BitField[] = [
  f('R', 0), f('W', 1), f('X', 2), f('memoryType', 3, 5, 'leaf: EPT memory type', EPT_MEMORY_TYPES), f('ignorePAT', 6),
  f('PS', 7, 7, 'maps a page'), f('A', 8, 8, 'accessed'), f('D', 9, 9, 'dirty (leaf)'), f('address', 12, 51, 'page number'),
];

export const PAGING_ENTRY_BITS: readonly BitField[] = [
  f('P', 0), f('R/W', 1), f('U/S', 2), f('PWT', 3), f('PCD', 4), f('A', 5), f('D', 6, 6, 'dirty (leaf)'), f('PS', 7, 7, 'page size / PAT (PTE)'),
  f('G', 8, 8, 'global (leaf)'), f('address', 12, 51, 'page number'), f('XD', 63, 63, 'execute disable'),
];

export const INTERRUPTIBILITY_BITS: readonly BitField[] = [
  f('blockingBySti', 0), f('blockingByMovSs', 1), f('blockingBySmi', 2), f('blockingByNmi', 3), f('enclaveInterruption', 4),
];

export const ACTIVITY_STATES = ['active', 'HLT', 'shutdown', 'wait-for-SIPI'];

export const INTERRUPTION_INFO_BITS: readonly BitField[] = [
  f('vector', 0, 7), f('type', 8, 10, 'interruption type',
    ['external interrupt', 'reserved', 'NMI', 'hardware exception', 'software interrupt', 'privileged software exception', 'software exception', 'other event']),
  f('deliverErrorCode', 11, 11), f('nmiUnblockingDueToIret', 12, 12), f('valid', 31, 31),
];

/** The value of field `b` of `v`, as a person reads it: flags 0/1, values by name, numbers in hex. */
export function fieldValue(b: BitField, v: bigint): string {
  const x = (v >> BigInt(b.lo)) & ((1n << BigInt(b.hi - b.lo + 1)) - 1n);
  if (b.values !== undefined) return `${x} (${b.values[Number(x)] ?? '?'})`;
  if (b.lo === b.hi) return x.toString();
  return `0x${x.toString(16)}`;
}

/** Names of the set one-bit fields ("PE PG"). */
export function setFlags(table: readonly BitField[], v: bigint): string {
  return table.filter((b) => b.lo === b.hi && ((v >> BigInt(b.lo)) & 1n) === 1n).map((b) => b.name).join(' ');
}
