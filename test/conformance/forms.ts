/**
 * The instruction forms under test: every iced-x86 `Code` (one opcode + operand-size +
 * operand-kind combination) whose mnemonic is in the list, that an Intel processor
 * decodes in 64-bit mode or in compatibility mode, and whose operands a user-mode test can
 * supply. Segment-register loads, far transfers, control/debug registers, CPUID and RDTSC are
 * left out (see README.md).
 */
import {
  Code, CodeExt, CpuidFeature, EncodingKind, Instruction, MemorySizeExt, Mnemonic, OpCodeOperandKind as K,
} from 'iced-x86';
import { decodeOne } from '../../src/x86/decoded';
import { HANDLERS } from '../../src/x86/insn';

export type Mode = 64 | 32;

const SSE_MNEMONICS: string[] = [
  'Movaps', 'Movups', 'Movapd', 'Movupd', 'Movdqa', 'Movdqu', 'Lddqu', 'Movd', 'Movq', 'Movss',
  'Movhps', 'Movlps', 'Movhpd', 'Movlpd', 'Movhlps', 'Movlhps', 'Movmskps', 'Movmskpd', 'Pmovmskb',
  'Movntps', 'Movntpd', 'Movntdq', 'Movntdqa', 'Movddup', 'Movshdup', 'Movsldup',
  'Andps', 'Andpd', 'Andnps', 'Andnpd', 'Orps', 'Orpd', 'Xorps', 'Xorpd', 'Pand', 'Pandn', 'Por', 'Pxor',
  'Paddb', 'Paddw', 'Paddd', 'Paddq', 'Paddsb', 'Paddsw', 'Paddusb', 'Paddusw',
  'Psubb', 'Psubw', 'Psubd', 'Psubq', 'Psubsb', 'Psubsw', 'Psubusb', 'Psubusw',
  'Pmullw', 'Pmulld', 'Pmulhw', 'Pmulhuw', 'Pmulhrsw', 'Pmuludq', 'Pmuldq', 'Pmaddwd', 'Pmaddubsw', 'Psadbw',
  'Pavgb', 'Pavgw', 'Pminub', 'Pminsb', 'Pminuw', 'Pminsw', 'Pminud', 'Pminsd',
  'Pmaxub', 'Pmaxsb', 'Pmaxuw', 'Pmaxsw', 'Pmaxud', 'Pmaxsd', 'Pabsb', 'Pabsw', 'Pabsd', 'Psignb', 'Psignw', 'Psignd',
  'Pcmpeqb', 'Pcmpeqw', 'Pcmpeqd', 'Pcmpeqq', 'Pcmpgtb', 'Pcmpgtw', 'Pcmpgtd', 'Pcmpgtq',
  'Psllw', 'Pslld', 'Psllq', 'Psrlw', 'Psrld', 'Psrlq', 'Psraw', 'Psrad', 'Pslldq', 'Psrldq',
  'Packsswb', 'Packssdw', 'Packuswb', 'Packusdw',
  'Punpcklbw', 'Punpcklwd', 'Punpckldq', 'Punpcklqdq', 'Punpckhbw', 'Punpckhwd', 'Punpckhdq', 'Punpckhqdq',
  'Pshufd', 'Pshufb', 'Pshufhw', 'Pshuflw', 'Palignr', 'Pinsrb', 'Pinsrw', 'Pinsrd', 'Pinsrq',
  'Pextrb', 'Pextrw', 'Pextrd', 'Pextrq', 'Ptest', 'Pblendw', 'Pblendvb', 'Blendps', 'Blendpd', 'Blendvps', 'Blendvpd',
  'Pmovzxbw', 'Pmovzxbd', 'Pmovzxbq', 'Pmovzxwd', 'Pmovzxwq', 'Pmovzxdq',
  'Pmovsxbw', 'Pmovsxbd', 'Pmovsxbq', 'Pmovsxwd', 'Pmovsxwq', 'Pmovsxdq',
  'Phaddw', 'Phaddd', 'Phaddsw', 'Phsubw', 'Phsubd', 'Phsubsw', 'Phminposuw',
  'Shufps', 'Shufpd', 'Unpcklps', 'Unpckhps', 'Unpcklpd', 'Unpckhpd', 'Insertps', 'Extractps',
  'Cvtsi2ss', 'Cvtsi2sd', 'Cvtss2si', 'Cvttss2si', 'Cvtsd2si', 'Cvttsd2si', 'Cvtss2sd', 'Cvtsd2ss',
  'Cvtdq2ps', 'Cvtdq2pd', 'Cvtps2dq', 'Cvttps2dq', 'Cvtpd2dq', 'Cvttpd2dq', 'Cvtps2pd', 'Cvtpd2ps',
  'Addps', 'Addss', 'Addpd', 'Addsd', 'Subps', 'Subss', 'Subpd', 'Subsd', 'Mulps', 'Mulss', 'Mulpd', 'Mulsd',
  'Divps', 'Divss', 'Divpd', 'Divsd', 'Sqrtps', 'Sqrtss', 'Sqrtpd', 'Sqrtsd',
  'Minps', 'Minss', 'Minpd', 'Minsd', 'Maxps', 'Maxss', 'Maxpd', 'Maxsd',
  'Addsubps', 'Addsubpd', 'Haddps', 'Haddpd', 'Hsubps', 'Hsubpd', 'Rcpps', 'Rcpss', 'Rsqrtps', 'Rsqrtss',
  'Cmpps', 'Cmpss', 'Cmppd', 'Comiss', 'Comisd', 'Ucomiss', 'Ucomisd',
  'Roundps', 'Roundpd', 'Roundss', 'Roundsd', 'Dpps', 'Dppd', 'Mpsadbw', 'Movnti', 'Crc32', 'Maskmovdqu',
  ...MMX_ONLY_MNEMONICS(),
];

/**
 * Mnemonics that exist only with an MMX register operand (or converting to/from one). The
 * MMX-register forms of the shared mnemonics above (PADDB mm, mm/m64 ...) are listed through them.
 */
function MMX_ONLY_MNEMONICS(): string[] {
  return ['Emms', 'Pshufw', 'Movntq', 'Maskmovq', 'Movq2dq', 'Movdq2q',
    'Cvtpi2ps', 'Cvtps2pi', 'Cvttps2pi', 'Cvtpi2pd', 'Cvtpd2pi', 'Cvttpd2pi'];
}

/**
 * x87 mnemonics (iced names) the FPU group implements. The WAIT-prefixed forms (FSTENV, FSAVE,
 * FINIT, FCLEX, FSTCW, FSTSW: `9B` + the FN* opcode) are two instructions to the processor and
 * are covered as WAIT plus the FN* form, so they are not listed.
 */
export const X87_MNEMONICS: string[] = [
  'Fld', 'Fild', 'Fbld', 'Fst', 'Fstp', 'Fist', 'Fistp', 'Fisttp', 'Fbstp', 'Fstpnce', 'Fxch',
  'Fld1', 'Fldz', 'Fldpi', 'Fldl2t', 'Fldl2e', 'Fldlg2', 'Fldln2',
  'Fadd', 'Faddp', 'Fiadd', 'Fsub', 'Fsubp', 'Fisub', 'Fsubr', 'Fsubrp', 'Fisubr',
  'Fmul', 'Fmulp', 'Fimul', 'Fdiv', 'Fdivp', 'Fidiv', 'Fdivr', 'Fdivrp', 'Fidivr',
  'Fchs', 'Fabs', 'Fsqrt', 'Frndint', 'Fscale', 'Fxtract', 'Fprem', 'Fprem1',
  'Fcom', 'Fcomp', 'Fcompp', 'Fucom', 'Fucomp', 'Fucompp', 'Ficom', 'Ficomp',
  'Fcomi', 'Fcomip', 'Fucomi', 'Fucomip', 'Ftst', 'Fxam',
  'Fcmovb', 'Fcmovnb', 'Fcmove', 'Fcmovne', 'Fcmovbe', 'Fcmovnbe', 'Fcmovu', 'Fcmovnu',
  'Fldcw', 'Fnstcw', 'Fnstsw', 'Fnclex', 'Fninit', 'Fldenv', 'Fnstenv', 'Frstor', 'Fnsave',
  'Ffree', 'Ffreep', 'Fincstp', 'Fdecstp', 'Fnop', 'Fneni', 'Fndisi', 'Fnsetpm', 'Wait',
];

/**
 * x87 transcendentals: run only when named with --mnemonic (or the TRANSCENDENTAL alias). The
 * model is within 1 ulp of silicon but not bit-exact (src/x86/fpu/transcendental.ts: 93-99%
 * bit-exact per form on host samples; measured here, see README.md).
 */
export const X87_TRANSCENDENTAL: string[] = ['Fsin', 'Fcos', 'Fsincos', 'Fptan', 'Fpatan', 'F2xm1', 'Fyl2x', 'Fyl2xp1'];
const ON_DEMAND = new Set(X87_TRANSCENDENTAL.map((m) => m.toUpperCase()));
const X87_SET = new Set([...X87_MNEMONICS, ...X87_TRANSCENDENTAL]);

/**
 * The listed mnemonics (iced names). The per-mnemonic counts and the coverage check use these
 * names upper-cased.
 */
export const LISTED_MNEMONICS: readonly string[] = [
  'Mov', 'Movzx', 'Movsx', 'Movsxd', 'Xchg', 'Cmpxchg', 'Cmpxchg8b', 'Cmpxchg16b', 'Xadd', 'Bswap', 'Lea',
  'Push', 'Pop', 'Enter', 'Leave', 'Xlatb', 'Cbw', 'Cwde', 'Cdqe', 'Cwd', 'Cdq', 'Cqo',
  'Add', 'Adc', 'Sub', 'Sbb', 'Cmp', 'Inc', 'Dec', 'Neg', 'Mul', 'Imul', 'Div', 'Idiv',
  'And', 'Or', 'Xor', 'Not', 'Test', 'Daa', 'Das', 'Aaa', 'Aas', 'Aam', 'Aad',
  'Shl', 'Sal', 'Shr', 'Sar', 'Rol', 'Ror', 'Rcl', 'Rcr', 'Shld', 'Shrd',
  'Bt', 'Bts', 'Btr', 'Btc', 'Bsf', 'Bsr', 'Lzcnt', 'Tzcnt', 'Popcnt',
  'Andn', 'Bextr', 'Blsi', 'Blsmsk', 'Blsr', 'Bzhi', 'Pdep', 'Pext', 'Rorx', 'Sarx', 'Shlx', 'Shrx', 'Mulx',
  'Adcx', 'Adox',
  'Jo', 'Jno', 'Jb', 'Jae', 'Je', 'Jne', 'Jbe', 'Ja', 'Js', 'Jns', 'Jp', 'Jnp', 'Jl', 'Jge', 'Jle', 'Jg',
  'Jmp', 'Call', 'Ret', 'Loop', 'Loope', 'Loopne', 'Jcxz', 'Jecxz', 'Jrcxz',
  'Seto', 'Setno', 'Setb', 'Setae', 'Sete', 'Setne', 'Setbe', 'Seta', 'Sets', 'Setns', 'Setp', 'Setnp',
  'Setl', 'Setge', 'Setle', 'Setg',
  'Cmovo', 'Cmovno', 'Cmovb', 'Cmovae', 'Cmove', 'Cmovne', 'Cmovbe', 'Cmova', 'Cmovs', 'Cmovns', 'Cmovp',
  'Cmovnp', 'Cmovl', 'Cmovge', 'Cmovle', 'Cmovg',
  'Movsb', 'Movsw', 'Movsd', 'Movsq', 'Stosb', 'Stosw', 'Stosd', 'Stosq', 'Lodsb', 'Lodsw', 'Lodsd', 'Lodsq',
  'Cmpsb', 'Cmpsw', 'Cmpsd', 'Cmpsq', 'Scasb', 'Scasw', 'Scasd', 'Scasq',
  'Clc', 'Stc', 'Cmc', 'Cld', 'Std', 'Lahf', 'Sahf', 'Pushf', 'Pushfd', 'Pushfq', 'Popf', 'Popfd', 'Popfq',
  'Nop', 'Reservednop', 'Pause', 'Ud0', 'Ud1', 'Ud2',
  // SSE-SSE4.2 (their XMM forms; MOVSD/CMPSD's XMM forms come with the string mnemonics).
  ...SSE_MNEMONICS,
  ...X87_MNEMONICS,
];

/** Listed, but only run on demand (--mnemonic): the x87 transcendentals. */
const ALL_NAMED: readonly string[] = [...LISTED_MNEMONICS, ...X87_TRANSCENDENTAL];

/** Names a --mnemonic filter may use for a family. */
export const MNEMONIC_ALIASES: Readonly<Record<string, readonly string[]>> = {
  JCC: ['JO', 'JNO', 'JB', 'JAE', 'JE', 'JNE', 'JBE', 'JA', 'JS', 'JNS', 'JP', 'JNP', 'JL', 'JGE', 'JLE', 'JG'],
  SETCC: ['SETO', 'SETNO', 'SETB', 'SETAE', 'SETE', 'SETNE', 'SETBE', 'SETA', 'SETS', 'SETNS', 'SETP', 'SETNP',
    'SETL', 'SETGE', 'SETLE', 'SETG'],
  CMOVCC: ['CMOVO', 'CMOVNO', 'CMOVB', 'CMOVAE', 'CMOVE', 'CMOVNE', 'CMOVBE', 'CMOVA', 'CMOVS', 'CMOVNS',
    'CMOVP', 'CMOVNP', 'CMOVL', 'CMOVGE', 'CMOVLE', 'CMOVG'],
  BCD: ['DAA', 'DAS', 'AAA', 'AAS', 'AAM', 'AAD'],
  MOVS: ['MOVSB', 'MOVSW', 'MOVSD', 'MOVSQ'],
  STOS: ['STOSB', 'STOSW', 'STOSD', 'STOSQ'],
  LODS: ['LODSB', 'LODSW', 'LODSD', 'LODSQ'],
  CMPS: ['CMPSB', 'CMPSW', 'CMPSD', 'CMPSQ'],
  SCAS: ['SCASB', 'SCASW', 'SCASD', 'SCASQ'],
  LOOPCC: ['LOOP', 'LOOPE', 'LOOPNE'],
  JCXZ: ['JCXZ', 'JECXZ', 'JRCXZ'],
  PUSHF: ['PUSHF', 'PUSHFD', 'PUSHFQ'],
  POPF: ['POPF', 'POPFD', 'POPFQ'],
  CBW: ['CBW', 'CWDE', 'CDQE', 'CWD', 'CDQ', 'CQO'],
  SHIFT: ['SHL', 'SAL', 'SHR', 'SAR', 'ROL', 'ROR', 'RCL', 'RCR', 'SHLD', 'SHRD'],
  X87: X87_MNEMONICS.map((m) => m.toUpperCase()),
  TRANSCENDENTAL: X87_TRANSCENDENTAL.map((m) => m.toUpperCase()),
  MMX: MMX_ONLY_MNEMONICS().map((m) => m.toUpperCase()),
  BMI: ['ANDN', 'BEXTR', 'BLSI', 'BLSMSK', 'BLSR', 'BZHI', 'PDEP', 'PEXT', 'RORX', 'SARX', 'SHLX', 'SHRX', 'MULX'],
};

export type FormKind =
  | 'generic'
  /** String instructions: built as raw bytes (prefix mixes iced's encoder does not emit). */
  | 'string'
  | 'xlat'
  /** A 32-bit-only instruction's bytes executed in 64-bit mode: #UD on both sides. */
  | 'invalid64';

export interface Form {
  code: Code;
  /** iced Code name, e.g. Add_rm32_imm8. */
  name: string;
  mnemonic: Mnemonic;
  /** Upper-case mnemonic: the group the counts are reported under. */
  group: string;
  mode: Mode;
  kind: FormKind;
  ops: K[];
  /** Size in bytes of the memory operand (0 when none or not accessed). */
  memSize: number;
  /** Operand size in bits from the opcode table (16/32/64, 0 when not applicable). */
  opSize: number;
  lockable: boolean;
  vex: boolean;
  features: CpuidFeature[];
  /** Has an XMM operand: gets varied XMM/MXCSR inputs. */
  sse: boolean;
  /** An x87 instruction: gets a varied x87 state. */
  x87: boolean;
  /**
   * An MMX instruction (an MMX register operand, EMMS, or an MMX conversion): gets a varied x87
   * state too (the MMX registers are the x87 significands; TOP, tags and #MF are compared).
   */
  mmx: boolean;
}

const SUPPORTED = new Set<K>([
  K.r8_or_mem, K.r16_or_mem, K.r32_or_mem, K.r64_or_mem,
  K.r8_reg, K.r16_reg, K.r32_reg, K.r64_reg,
  K.r8_opcode, K.r16_opcode, K.r32_opcode, K.r64_opcode,
  K.r32_vvvv, K.r64_vvvv,
  K.al, K.ax, K.eax, K.rax, K.cl,
  K.imm8, K.imm8sex16, K.imm8sex32, K.imm8sex64, K.imm16, K.imm32, K.imm32sex64, K.imm64, K.imm8_const_1,
  K.br16_1, K.br32_1, K.br64_1, K.br16_2, K.br32_4, K.br64_4,
  K.mem, K.mem_offs, K.seg_reg,
  K.seg_rSI, K.es_rDI, K.seg_rBX_al,
]);

for (const k of [K.xmm_reg, K.xmm_rm, K.xmm_or_mem]) SUPPORTED.add(k);
for (const k of [K.st0, K.sti_opcode]) SUPPORTED.add(k);
for (const k of [K.mm_reg, K.mm_rm, K.mm_or_mem, K.seg_rDI]) SUPPORTED.add(k);

let wired: boolean | null = null;
/** Whether string.ts hands MOVSD/CMPSD's XMM forms to the SSE group (see src/x86/sse/index.ts). */
function sseStringFormsWired(): boolean {
  if (wired === null) {
    const d = decodeOne(Uint8Array.from([0xf2, 0x0f, 0x10, 0xc1]), 64); // movsd xmm0, xmm1
    wired = HANDLERS[Mnemonic.Movsd]?.(d) != null;
  }
  return wired;
}

let cache: Form[] | null = null;

/** All forms of the listed mnemonics, both modes. */
export function allForms(): Form[] {
  if (cache !== null) return cache;
  const wanted = new Map<number, string>();
  for (const n of ALL_NAMED) {
    const m = (Mnemonic as unknown as Record<string, number>)[n];
    if (m === undefined) throw new Error(`iced-x86 has no mnemonic ${n}`);
    wanted.set(m, n.toUpperCase());
  }
  const forms: Form[] = [];
  for (let c = 0; Code[c] !== undefined; c++) {
    const o = CodeExt.opCode(c);
    try {
      if (!wanted.has(o.mnemonic)) continue;
      if (o.encoding !== EncodingKind.Legacy && o.encoding !== EncodingKind.VEX) continue;
      // The XMM forms of MOVSD/CMPSD reach the SSE group through string.ts (it owns the
      // mnemonics); until that dispatch exists they are left out rather than counted as failures.
      if ((c === Code.Movsd_xmm_xmmm64 || c === Code.Movsd_xmmm64_xmm || c === Code.Cmpsd_xmm_xmmm64_imm8) && !sseStringFormsWired()) continue;
      // AVX forms of the SSE instructions are not under test (VEX with XMM operands).
      if (o.encoding === EncodingKind.VEX && SSE_MNEMONICS.includes(Mnemonic[o.mnemonic])) continue;
      if (o.decoderOption !== 0 || !o.isInstruction) continue;
      const x87 = X87_SET.has(Mnemonic[o.mnemonic]);
      // WAIT-prefixed x87 forms are WAIT + the FN* instruction (see X87_MNEMONICS).
      if (x87 && o.mnemonic !== Mnemonic.Wait && o.opCodeString.startsWith('9B')) continue;
      const ops: K[] = [];
      for (let i = 0; i < o.opCount; i++) ops.push(o.opKind(i));
      if (!ops.every((k) => SUPPORTED.has(k))) continue;
      // Segment-register loads are left to the system-layer tests; stores (MOV r/m, Sreg) stay.
      if (ops.length > 0 && ops[0] === K.seg_reg) continue;
      // A bare `mem` operand is only LEA's and CMPXCHG8B/16B's here (not far pointers).
      if (ops.includes(K.mem) && ![Mnemonic.Lea, Mnemonic.Cmpxchg8b, Mnemonic.Cmpxchg16b].includes(o.mnemonic) &&
        !SSE_MNEMONICS.includes(Mnemonic[o.mnemonic]) && !x87) continue;
      const features = featuresOf(c);
      const name = Code[c];
      let kind: FormKind = 'generic';
      if (ops.includes(K.seg_rSI) || ops.includes(K.es_rDI)) kind = 'string';
      if (ops.includes(K.seg_rBX_al)) kind = 'xlat';
      const memSize = MemorySizeExt.size(o.memorySize);
      for (const mode of [64, 32] as const) {
        const ok = mode === 64
          ? o.mode64 && o.intelDecoder64
          : o.mode32 && o.compatibilityMode && o.intelDecoder32;
        const base = {
          code: c as Code, name, mnemonic: o.mnemonic, group: wanted.get(o.mnemonic)!, ops,
          memSize: o.mnemonic === Mnemonic.Lea ? 0 : memSize, opSize: o.operandSize,
          lockable: o.canUseLockPrefix, vex: o.encoding === EncodingKind.VEX, features,
          sse: ops.some((k) => k === K.xmm_reg || k === K.xmm_rm || k === K.xmm_or_mem) || SSE_MNEMONICS.includes(Mnemonic[o.mnemonic]),
          x87,
          mmx: ops.some((k) => k === K.mm_reg || k === K.mm_rm || k === K.mm_or_mem) || MMX_ONLY_MNEMONICS().includes(Mnemonic[o.mnemonic]),
        };
        if (ok) forms.push({ ...base, mode, kind });
        else if (mode === 64 && o.mode32 && o.intelDecoder32 && isBcd(o.mnemonic)) {
          forms.push({ ...base, mode, kind: 'invalid64', name: `${name}(64-bit: #UD)` });
        }
      }
    } finally {
      o.free();
    }
  }
  cache = forms;
  return forms;
}

function isBcd(m: Mnemonic): boolean {
  return m === Mnemonic.Daa || m === Mnemonic.Das || m === Mnemonic.Aaa || m === Mnemonic.Aas ||
    m === Mnemonic.Aam || m === Mnemonic.Aad;
}

function featuresOf(code: Code): CpuidFeature[] {
  const ins = Instruction.create(code);
  try {
    return Array.from(ins.cpuidFeatures()) as CpuidFeature[];
  } finally {
    ins.free();
  }
}

/** CPUID bits of the host, as reported by the helper. */
export interface HostCpuid {
  cpuid1Ecx: number;
  cpuid1Edx: number;
  cpuid7Ebx: number;
  cpuid7Ecx: number;
  cpuid7Edx: number;
  cpuidX1Ecx: number;
  cpuidX1Edx: number;
}

/** Whether the host CPU has a feature (features this harness does not know are assumed present). */
export function hostHas(h: HostCpuid, f: CpuidFeature): boolean {
  const bit = (v: number, b: number): boolean => ((v >>> b) & 1) === 1;
  switch (f) {
    case CpuidFeature.BMI1: return bit(h.cpuid7Ebx, 3);
    case CpuidFeature.BMI2: return bit(h.cpuid7Ebx, 8);
    case CpuidFeature.ADX: return bit(h.cpuid7Ebx, 19);
    case CpuidFeature.LZCNT: return bit(h.cpuidX1Ecx, 5);
    case CpuidFeature.POPCNT: return bit(h.cpuid1Ecx, 23);
    case CpuidFeature.CMPXCHG16B: return bit(h.cpuid1Ecx, 13);
    case CpuidFeature.CX8: return bit(h.cpuid1Edx, 8);
    case CpuidFeature.CMOV: return bit(h.cpuid1Edx, 15);
    default: return true;
  }
}

export interface FormFilter {
  modes: Mode[];
  /** Upper-case mnemonic groups (after alias expansion); empty = all. */
  mnemonics: string[];
  /** Substrings of iced Code names; empty = all. */
  forms: string[];
}

/** Expand --mnemonic values (names or aliases, any case) into upper-case groups. */
export function expandMnemonics(values: string[]): string[] {
  const known = new Set(ALL_NAMED.map((m) => m.toUpperCase()));
  const out = new Set<string>();
  for (const v of values) {
    for (const part of v.split(',')) {
      const p = part.trim().toUpperCase();
      if (p === '') continue;
      const alias = MNEMONIC_ALIASES[p];
      if (alias !== undefined) for (const a of alias) out.add(a);
      else if (known.has(p)) out.add(p);
      else throw new Error(`unknown mnemonic '${part}' (known: ${[...known].join(' ')}; aliases: ${Object.keys(MNEMONIC_ALIASES).join(' ')})`);
    }
  }
  return [...out];
}

/** Forms of one mode passing the filter and available on the host. */
export function selectForms(mode: Mode, filter: FormFilter, host: HostCpuid | null): Form[] {
  const mn = new Set(filter.mnemonics);
  return allForms().filter((f) =>
    f.mode === mode &&
    (mn.size === 0 ? !ON_DEMAND.has(f.group) : mn.has(f.group)) &&
    (filter.forms.length === 0 || filter.forms.some((s) => f.name.toLowerCase().includes(s.toLowerCase()))) &&
    (host === null || f.features.every((x) => hostHas(host, x))));
}
