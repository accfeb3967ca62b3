/**
 * The address space both sides share. The host helper maps exactly these regions inside a
 * PROT_NONE reservation of the low 4 GiB; our processor gets the same bytes at the same
 * addresses and faults (#PF) everywhere else, so a stray access faults on both sides.
 * Everything is below 2 GiB so 32-bit absolute and sign-extended disp32 addresses reach it.
 */
export const CODE_BASE = 0x40000000;
export const CODE_SIZE = 0x4000;
/** The instruction under test starts here; the rest of the code region is INT3 (0xCC). */
export const INSN_ADDR = CODE_BASE + 0x2000;

export const DATA_BASE = 0x40100000;
export const DATA_SIZE = 0x2000;
export const STACK_BASE = 0x40200000;
export const STACK_SIZE = 0x2000;

/** Host-only: stubs (read/execute) and the state block (read/write). Never a target. */
export const STUB_BASE = 0x3fff0000;
export const STUB_SIZE = 0x2000;

/** GS is a data segment based at DATA_BASE with this limit (byte granular). */
export const GS_BASE = DATA_BASE;
export const GS_LIMIT = DATA_SIZE - 1;

/** Unmapped ranges used as deliberate fault addresses (reachable with 32-bit bit offsets). */
export const FAULT_ZONES: ReadonlyArray<readonly [number, number]> = [
  [0x38000000, 0x3f000000],
  [0x41000000, 0x48000000],
];

export const CODE_END = CODE_BASE + CODE_SIZE;
export const DATA_END = DATA_BASE + DATA_SIZE;
export const STACK_END = STACK_BASE + STACK_SIZE;

/** Selectors the host uses (checked against the helper's hello message). */
export const SEL_CS64 = 0x33;
export const SEL_CS32 = 0x23;
export const SEL_DATA = 0x2b;
/** LDT entry 0, RPL 3. */
export const SEL_GS_LDT = 0x07;

/** True when [a, a+n) lies inside the data or stack region. */
export function inDataOrStack(a: number, n: number): boolean {
  return (a >= DATA_BASE && a + n <= DATA_END) || (a >= STACK_BASE && a + n <= STACK_END);
}
