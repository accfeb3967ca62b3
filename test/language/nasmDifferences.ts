/**
 * Where vtx's assembler deliberately differs from nasm 2.16 on the generated every-form file
 * (asmForms.ts), each kind explained. A difference is accepted only when its mnemonic is listed
 * under the matching kind; anything else fails the cross-check.
 */
export interface NasmDifference {
  id: string;
  kind: 'different' | 'vtxRejected';
  mnemonics: readonly string[];
  why: string;
}

export const NASM_DIFFERENCES: readonly NasmDifference[] = [
  {
    id: 'evex-default',
    kind: 'different',
    mnemonics: ['vpdpbusd', 'vpdpbusds', 'vpdpwssd', 'vpdpwssds', 'vextractps', 'vcvtneps2bf16', 'vpmadd52luq', 'vpmadd52huq'],
    why: 'nasm encodes these as EVEX (AVX-512 VNNI/IFMA/BF16) unless {vex} is written; vtx picks the shorter VEX form (AVX-VNNI, AVX-IFMA, AVX-NE-CONVERT) iced offers for the same text',
  },
  {
    id: 'ignored-w',
    kind: 'different',
    mnemonics: ['sldt', 'vmovmskps', 'vmovmskpd', 'vpextrb', 'vpextrw', 'vpmovmskb', 'pextrb', 'invpcid', 'enqcmd', 'enqcmds'],
    why: 'the two encodings differ only in REX.W/VEX.W (or an address-size prefix) that the processor ignores for this form (SDM vol. 2: "W ignored" / operand size fixed); iced and nasm set it differently',
  },
  {
    id: 'cet-16bit-66',
    kind: 'different',
    mnemonics: ['rdsspd', 'incsspd', 'wrssd', 'wrussd', 'rdshr', 'wrshr'],
    why: 'in 16-bit code nasm adds an operand-size prefix to these instructions, whose operand size is fixed at 32 bits; vtx (iced) does not',
  },
  {
    id: 'nasm-ptwrite',
    kind: 'different',
    mnemonics: ['ptwrite'],
    why: 'PTWRITE is F3 0F AE /4 (SDM vol. 2B); nasm 2.16.01 omits the mandatory F3 prefix, vtx writes it',
  },
  {
    id: 'vmgexit',
    kind: 'different',
    mnemonics: ['vmgexit'],
    why: 'AMD defines VMGEXIT as F3 0F 01 D9 (REP VMMCALL); nasm 2.16 emits F2 0F 01 C1',
  },
  {
    id: 'obsolete',
    kind: 'different',
    mnemonics: ['loadall', 'loadall286', 'smintold', 'pop'],
    why: '80286/80386 undocumented and Cyrix forms (LOADALL, SMINTOLD, POP CS) that iced and nasm name or size differently; not used by guests of a VT-x processor',
  },
  {
    id: 'obsolete-rejected',
    kind: 'vtxRejected',
    mnemonics: ['cmpxchg486', 'pmulhrwc', 'invlpga'],
    why: 'CMPXCHG486 (early 80486 opcode) and Cyrix PMULHRWC are spelled differently by iced; INVLPGA (AMD SVM) with explicit implicit operands is not accepted',
  },
];

export function explained(kind: NasmDifference['kind'], text: string): NasmDifference | undefined {
  const mnemonic = text.trim().split(/\s+/)[0].toLowerCase();
  return NASM_DIFFERENCES.find((d) => d.kind === kind && d.mnemonics.includes(mnemonic));
}
