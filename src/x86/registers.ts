/**
 * Register numbering shared by every layer: general-purpose registers in encoding order
 * (SDM vol. 2A §2.1.5), segment registers in encoding order (SDM vol. 2A §3.1.1.1),
 * and the RFLAGS bits (SDM vol. 1 §3.4.3).
 */
export const GPR_NAMES = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
] as const;
export type GprName = (typeof GPR_NAMES)[number];

export const enum Gpr {
  RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7,
  R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15,
}

export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
/** The six segment registers plus LDTR and TR, which share the hidden-part arrays. */
export const SYSTEM_SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'] as const;
export type SegName = (typeof SEG_NAMES)[number];

export const enum Seg {
  ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7,
}

/** RFLAGS bits (SDM vol. 1 §3.4.3, figure 3-8). */
export const enum Flag {
  CF = 1 << 0,
  FIXED1 = 1 << 1,
  PF = 1 << 2,
  AF = 1 << 4,
  ZF = 1 << 6,
  SF = 1 << 7,
  TF = 1 << 8,
  IF = 1 << 9,
  DF = 1 << 10,
  OF = 1 << 11,
  IOPL = 3 << 12,
  NT = 1 << 14,
  RF = 1 << 16,
  VM = 1 << 17,
  AC = 1 << 18,
  VIF = 1 << 19,
  VIP = 1 << 20,
  ID = 1 << 21,
}

/** The six arithmetic status flags. */
export const STATUS_FLAGS = 0x8d5;

export const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0, 'CF'], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [8, 'TF'], [9, 'IF'], [10, 'DF'],
  [11, 'OF'], [14, 'NT'], [16, 'RF'], [17, 'VM'], [18, 'AC'], [19, 'VIF'], [20, 'VIP'], [21, 'ID'],
];

/** "CF ZF IF" style rendering of the set flags, plus IOPL when non-zero. */
export function formatFlags(rflags: number): string {
  const names = FLAG_NAMES.filter(([bit]) => (rflags >>> bit) & 1).map(([, n]) => n);
  const iopl = (rflags >>> 12) & 3;
  if (iopl) names.push(`IOPL=${iopl}`);
  return names.join(' ');
}
