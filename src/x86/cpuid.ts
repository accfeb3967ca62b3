/**
 * The documented virtual CPU that CPUID describes (SDM vol. 2A, CPUID). One declarative table:
 * each leaf (and subleaf) with its four registers and, for feature leaves, the named bits the
 * model sets — the processor implements exactly what is reported here.
 */
export interface CpuidLeaf {
  leaf: number;
  subleaf?: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
  /** Named feature bits set in this leaf (documentation, tests and the debugger's views). */
  features?: Readonly<Partial<Record<'eax' | 'ebx' | 'ecx' | 'edx', readonly string[]>>>;
  description: string;
}

export interface CpuidModel {
  leaves: readonly CpuidLeaf[];
}

function ascii4(s: string): number {
  let v = 0;
  for (let i = 0; i < 4; i++) v |= (s.charCodeAt(i) & 0xff) << (8 * i);
  return v | 0;
}

/** Registers EBX, EDX, ECX of leaf 0 spell the vendor string. */
const VENDOR = 'GenuineIntel';
const BRAND = 'vtx virtual CPU (emulated VT-x)'.padEnd(48, '\0');

function brandLeaf(i: number): CpuidLeaf {
  const s = BRAND.slice(16 * i, 16 * i + 16);
  return {
    leaf: 0x80000002 + i,
    eax: ascii4(s.slice(0, 4)), ebx: ascii4(s.slice(4, 8)), ecx: ascii4(s.slice(8, 12)), edx: ascii4(s.slice(12, 16)),
    description: `processor brand string, part ${i + 1}`,
  };
}

/** Bit positions of the features this model can report (SDM vol. 2A, CPUID tables 3-10, 3-11). */
export const FEATURE_BITS: Readonly<Record<string, { leaf: number; subleaf?: number; reg: 'eax' | 'ebx' | 'ecx' | 'edx'; bit: number }>> = {
  'FPU': { leaf: 1, reg: 'edx', bit: 0 },
  'MMX': { leaf: 1, reg: 'edx', bit: 23 },
  'SSE3': { leaf: 1, reg: 'ecx', bit: 0 },
  'SSSE3': { leaf: 1, reg: 'ecx', bit: 9 },
  'SSE4_1': { leaf: 1, reg: 'ecx', bit: 19 },
  'SSE4_2': { leaf: 1, reg: 'ecx', bit: 20 },
  'FXSR': { leaf: 1, reg: 'edx', bit: 24 },
  'SSE': { leaf: 1, reg: 'edx', bit: 25 },
  'SSE2': { leaf: 1, reg: 'edx', bit: 26 },
  'MONITOR': { leaf: 1, reg: 'ecx', bit: 3 },
  'RDRAND': { leaf: 1, reg: 'ecx', bit: 30 },
  'DE': { leaf: 1, reg: 'edx', bit: 2 },
  'MSR': { leaf: 1, reg: 'edx', bit: 5 },
  'SEP': { leaf: 1, reg: 'edx', bit: 11 },
  'MTRR': { leaf: 1, reg: 'edx', bit: 12 },
  'PAT': { leaf: 1, reg: 'edx', bit: 16 },
  'CLFSH': { leaf: 1, reg: 'edx', bit: 19 },
  'FSGSBASE': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 0 },
  'RDSEED': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 18 },
  'CLFLUSHOPT': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 23 },
  'RDPID': { leaf: 7, subleaf: 0, reg: 'ecx', bit: 22 },
  'LA57': { leaf: 7, subleaf: 0, reg: 'ecx', bit: 16 },
  'SYSCALL': { leaf: 0x80000001, reg: 'edx', bit: 11 },
  'CX16': { leaf: 1, reg: 'ecx', bit: 13 },
  'MOVBE': { leaf: 1, reg: 'ecx', bit: 22 },
  'POPCNT': { leaf: 1, reg: 'ecx', bit: 23 },
  'HYPERVISOR': { leaf: 1, reg: 'ecx', bit: 31 },
  'TSC': { leaf: 1, reg: 'edx', bit: 4 },
  'CX8': { leaf: 1, reg: 'edx', bit: 8 },
  'CMOV': { leaf: 1, reg: 'edx', bit: 15 },
  'BMI1': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 3 },
  'BMI2': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 8 },
  'ADX': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 19 },
  'ERMS': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 9 },
  'FSRM': { leaf: 7, subleaf: 0, reg: 'edx', bit: 4 },
  'LAHF_LM': { leaf: 0x80000001, reg: 'ecx', bit: 0 },
  'ABM_LZCNT': { leaf: 0x80000001, reg: 'ecx', bit: 5 },
  'PREFETCHW': { leaf: 0x80000001, reg: 'ecx', bit: 8 },
  'RDTSCP': { leaf: 0x80000001, reg: 'edx', bit: 27 },
  'PAGE1GB': { leaf: 0x80000001, reg: 'edx', bit: 26 },
  'PSE': { leaf: 1, reg: 'edx', bit: 3 },
  'PAE': { leaf: 1, reg: 'edx', bit: 6 },
  'APIC': { leaf: 1, reg: 'edx', bit: 9 },
  'PGE': { leaf: 1, reg: 'edx', bit: 13 },
  'PSE36': { leaf: 1, reg: 'edx', bit: 17 },
  'PCID': { leaf: 1, reg: 'ecx', bit: 17 },
  'X2APIC': { leaf: 1, reg: 'ecx', bit: 21 },
  // VMX (SDM vol. 3C §23.6): reported when the VT-x engine is attached (src/vmx/engine.ts adds it).
  'VMX': { leaf: 1, reg: 'ecx', bit: 5 },
  'TSC_DEADLINE': { leaf: 1, reg: 'ecx', bit: 24 },
  'FDP_EXCPTN_ONLY': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 6 },
  'SMEP': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 7 },
  'INVPCID': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 10 },
  'FCS_FDS_DEPRECATED': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 13 },
  'SMAP': { leaf: 7, subleaf: 0, reg: 'ebx', bit: 20 },
  'NX': { leaf: 0x80000001, reg: 'edx', bit: 20 },
  'LM': { leaf: 0x80000001, reg: 'edx', bit: 29 },
  'XSAVE': { leaf: 1, reg: 'ecx', bit: 26 },
  'XSAVEOPT': { leaf: 0xd, subleaf: 1, reg: 'eax', bit: 0 },
  'XSAVEC': { leaf: 0xd, subleaf: 1, reg: 'eax', bit: 1 },
  'XGETBV_ECX1': { leaf: 0xd, subleaf: 1, reg: 'eax', bit: 2 },
  'XSAVES': { leaf: 0xd, subleaf: 1, reg: 'eax', bit: 3 },
  // Not a static bit: CPUID.1:ECX.OSXSAVE reads as CR4.OSXSAVE (cpuidDynamic below).
  'OSXSAVE': { leaf: 1, reg: 'ecx', bit: 27 },
};

/**
 * The instructions (iced-x86 mnemonic names) each reportable feature stands for: the processor
 * must implement every one of them when the model reports the feature (tests check this).
 * Performance hints (ERMS, FSRM) and mode features (LM) name the instructions they describe.
 */
export const FEATURE_INSTRUCTIONS: Readonly<Record<string, readonly string[]>> = {
  'MONITOR': ['Monitor', 'Mwait'],
  'RDRAND': ['Rdrand'],
  'DE': [],
  'MSR': ['Rdmsr', 'Wrmsr'],
  'SEP': ['Sysenter', 'Sysexit'],
  'MTRR': [],
  'PAT': [],
  'CLFSH': ['Clflush'],
  'FSGSBASE': ['Rdfsbase', 'Rdgsbase', 'Wrfsbase', 'Wrgsbase'],
  'RDSEED': ['Rdseed'],
  'CLFLUSHOPT': ['Clflushopt'],
  'RDPID': ['Rdpid'],
  'LA57': [], // 57-bit linear addresses, 5-level paging (CR4.LA57; SDM vol. 3A §4.5)
  'SYSCALL': ['Syscall', 'Sysret'],
  // x87 (src/x86/fpu). The transcendentals are within 1 ulp of Intel's results, bit-exact in
  // 93-98% of the host samples and 99.4-99.8% of the conformance harness's cases (see
  // fpu/transcendental.ts); everything else is bit-exact.
  'FPU': ['Fld', 'Fst', 'Fstp', 'Fild', 'Fist', 'Fistp', 'Fbld', 'Fbstp', 'Fadd', 'Faddp', 'Fsub', 'Fsubr', 'Fmul',
    'Fdiv', 'Fdivr', 'Fsqrt', 'Fabs', 'Fchs', 'Frndint', 'Fscale', 'Fxtract', 'Fprem', 'Fprem1', 'Fcom', 'Fcomp',
    'Fcompp', 'Fucom', 'Fucomi', 'Fcomi', 'Ftst', 'Fxam', 'Fcmove', 'Fld1', 'Fldz', 'Fldpi', 'Fxch', 'Fldcw', 'Fnstcw',
    'Fnstsw', 'Fnclex', 'Fninit', 'Fnsave', 'Frstor', 'Fnstenv', 'Fldenv', 'Ffree', 'Fincstp', 'Fdecstp', 'Fnop', 'Wait',
    'Fsin', 'Fcos', 'Fsincos', 'Fptan', 'Fpatan', 'F2xm1', 'Fyl2x', 'Fyl2xp1'],
  'SSE3': ['Addsubpd', 'Addsubps', 'Haddpd', 'Haddps', 'Hsubpd', 'Hsubps', 'Lddqu', 'Movddup', 'Movshdup', 'Movsldup', 'Fisttp'],
  // MMX technology (src/x86/sse/mmx.ts): the MMX registers alias the x87 significands.
  'MMX': ['Emms', 'Movd', 'Movq', 'Packsswb', 'Packssdw', 'Packuswb', 'Punpcklbw', 'Punpcklwd', 'Punpckldq',
    'Punpckhbw', 'Punpckhwd', 'Punpckhdq', 'Paddb', 'Paddw', 'Paddd', 'Paddsb', 'Paddsw', 'Paddusb', 'Paddusw',
    'Psubb', 'Psubw', 'Psubd', 'Psubsb', 'Psubsw', 'Psubusb', 'Psubusw', 'Pmullw', 'Pmulhw', 'Pmaddwd',
    'Pcmpeqb', 'Pcmpeqw', 'Pcmpeqd', 'Pcmpgtb', 'Pcmpgtw', 'Pcmpgtd', 'Pand', 'Pandn', 'Por', 'Pxor',
    'Psllw', 'Pslld', 'Psllq', 'Psrlw', 'Psrld', 'Psrlq', 'Psraw', 'Psrad'],
  // SSE/SSE2/SSSE3/SSE4.1 (src/x86/sse): their XMM-register forms, and (sse/mmx.ts) the
  // MMX-register forms of the SSE/SSE2/SSSE3 integer instructions and the MMX conversions.
  'FXSR': ['Fxsave', 'Fxrstor', 'Fxsave64', 'Fxrstor64'],
  'SSE': ['Movaps', 'Movups', 'Movss', 'Movhps', 'Movlps', 'Movhlps', 'Movlhps', 'Movmskps', 'Movntps', 'Andps', 'Andnps',
    'Orps', 'Xorps', 'Addps', 'Addss', 'Subps', 'Subss', 'Mulps', 'Mulss', 'Divps', 'Divss', 'Sqrtps', 'Sqrtss', 'Minps',
    'Minss', 'Maxps', 'Maxss', 'Rcpps', 'Rcpss', 'Rsqrtps', 'Rsqrtss', 'Cmpps', 'Cmpss', 'Comiss', 'Ucomiss', 'Shufps',
    'Unpcklps', 'Unpckhps', 'Cvtsi2ss', 'Cvtss2si', 'Cvttss2si', 'Ldmxcsr', 'Stmxcsr',
    // MMX-register instructions SSE added (SDM vol. 1 §10.4.4), and the MMX conversions.
    'Pavgb', 'Pavgw', 'Pextrw', 'Pinsrw', 'Pmaxsw', 'Pmaxub', 'Pminsw', 'Pminub', 'Pmovmskb', 'Pmulhuw', 'Psadbw',
    'Pshufw', 'Movntq', 'Maskmovq', 'Cvtpi2ps', 'Cvtps2pi', 'Cvttps2pi'],
  'SSE2': ['Movapd', 'Movupd', 'Movdqa', 'Movdqu', 'Movd', 'Movq', 'Movhpd', 'Movlpd', 'Movmskpd', 'Pmovmskb', 'Movntpd',
    'Movntdq', 'Movnti', 'Maskmovdqu', 'Andpd', 'Andnpd', 'Orpd', 'Xorpd', 'Pand', 'Pandn', 'Por', 'Pxor', 'Paddb', 'Paddw',
    'Paddd', 'Paddq', 'Psubb', 'Psubw', 'Psubd', 'Psubq', 'Pmullw', 'Pmulhw', 'Pmulhuw', 'Pmuludq', 'Pmaddwd', 'Psadbw',
    'Pavgb', 'Pavgw', 'Pminub', 'Pminsw', 'Pmaxub', 'Pmaxsw', 'Pcmpeqb', 'Pcmpeqw', 'Pcmpeqd', 'Pcmpgtb', 'Pcmpgtw',
    'Pcmpgtd', 'Psllw', 'Pslld', 'Psllq', 'Psrlw', 'Psrld', 'Psrlq', 'Psraw', 'Psrad', 'Pslldq', 'Psrldq', 'Packsswb',
    'Packssdw', 'Packuswb', 'Punpcklbw', 'Punpckhqdq', 'Pshufd', 'Pshufhw', 'Pshuflw', 'Pinsrw', 'Pextrw', 'Shufpd',
    'Unpcklpd', 'Unpckhpd', 'Addpd', 'Addsd', 'Subpd', 'Mulpd', 'Divpd', 'Sqrtpd', 'Minpd', 'Maxpd', 'Cmppd', 'Comisd',
    'Ucomisd', 'Cvtsi2sd', 'Cvtsd2si', 'Cvttsd2si', 'Cvtss2sd', 'Cvtsd2ss', 'Cvtdq2ps', 'Cvtdq2pd', 'Cvtps2dq',
    'Cvttps2dq', 'Cvtpd2dq', 'Cvttpd2dq', 'Cvtps2pd', 'Cvtpd2ps', 'Cvtpi2pd', 'Cvtpd2pi', 'Cvttpd2pi', 'Movq2dq',
    'Movdq2q'],
  'SSSE3': ['Pshufb', 'Phaddw', 'Phaddd', 'Phaddsw', 'Phsubw', 'Phsubd', 'Phsubsw', 'Pmaddubsw', 'Pmulhrsw', 'Psignb',
    'Psignw', 'Psignd', 'Pabsb', 'Pabsw', 'Pabsd', 'Palignr'],
  'SSE4_1': ['Pmulld', 'Pmuldq', 'Pminsb', 'Pminuw', 'Pminud', 'Pminsd', 'Pmaxsb', 'Pmaxuw', 'Pmaxud', 'Pmaxsd',
    'Pcmpeqq', 'Packusdw', 'Pinsrb', 'Pinsrd', 'Pinsrq', 'Pextrb', 'Pextrd', 'Pextrq', 'Extractps', 'Insertps', 'Ptest',
    'Pblendw', 'Pblendvb', 'Blendps', 'Blendpd', 'Blendvps', 'Blendvpd', 'Pmovzxbw', 'Pmovzxbd', 'Pmovzxbq', 'Pmovzxwd',
    'Pmovzxwq', 'Pmovzxdq', 'Pmovsxbw', 'Pmovsxbd', 'Pmovsxbq', 'Pmovsxwd', 'Pmovsxwq', 'Pmovsxdq', 'Roundps', 'Roundpd',
    'Roundss', 'Roundsd', 'Dpps', 'Dppd', 'Mpsadbw', 'Phminposuw', 'Movntdqa'],
  // SSE4.2: string compares (sse/pcmpstr.ts, host-verified for every imm8), CRC32, PCMPGTQ.
  'SSE4_2': ['Pcmpestri', 'Pcmpestrm', 'Pcmpistri', 'Pcmpistrm', 'Crc32', 'Pcmpgtq'],
  'CX16': ['Cmpxchg16b'],
  'MOVBE': ['Movbe'],
  'POPCNT': ['Popcnt'],
  'HYPERVISOR': [],
  'TSC': ['Rdtsc'],
  'CX8': ['Cmpxchg8b'],
  'CMOV': ['Cmovo', 'Cmovno', 'Cmovb', 'Cmovae', 'Cmove', 'Cmovne', 'Cmovbe', 'Cmova', 'Cmovs', 'Cmovns', 'Cmovp', 'Cmovnp', 'Cmovl', 'Cmovge', 'Cmovle', 'Cmovg'],
  'BMI1': ['Andn', 'Bextr', 'Blsi', 'Blsmsk', 'Blsr', 'Tzcnt'],
  'BMI2': ['Bzhi', 'Mulx', 'Pdep', 'Pext', 'Rorx', 'Sarx', 'Shlx', 'Shrx'],
  'ADX': ['Adcx', 'Adox'],
  'ERMS': ['Movsb', 'Stosb'],
  'FSRM': ['Movsb'],
  'LAHF_LM': ['Lahf', 'Sahf'],
  'ABM_LZCNT': ['Lzcnt'],
  'PREFETCHW': ['Prefetchw'],
  'RDTSCP': ['Rdtscp'],
  'PAGE1GB': [],
  // Paging features (src/x86/paging.ts walks honour each of them; SDM vol. 3A chapter 4).
  'PSE': [],
  'PAE': [],
  'PGE': [],
  'PSE36': [],
  'PCID': [],
  'SMEP': [],
  'NX': [],
  'INVPCID': ['Invpcid'],
  'SMAP': ['Stac', 'Clac'],
  // The local APIC (src/vmm/devices/lapic.ts): xAPIC MMIO, x2APIC MSRs, the TSC-deadline timer.
  'APIC': [],
  'X2APIC': [],
  'VMX': ['Vmxon', 'Vmxoff', 'Vmclear', 'Vmptrld', 'Vmptrst', 'Vmread', 'Vmwrite', 'Vmlaunch', 'Vmresume', 'Vmcall', 'Invept', 'Invvpid'],
  'TSC_DEADLINE': [],
  // x87 pointer behaviour measured on Intel silicon (src/x86/fpu): FDP/FDS/FOP only on an unmasked
  // exception, FCS and FDS stored as zero.
  'FDP_EXCPTN_ONLY': [],
  'FCS_FDS_DEPRECATED': [],
  'LM': [],
  // XSAVE feature set for x87 and SSE state (src/x86/sse/xsave.ts; XGETBV/XSETBV in
  // insn/controlRegs.ts).
  'XSAVE': ['Xsave', 'Xsave64', 'Xrstor', 'Xrstor64', 'Xgetbv', 'Xsetbv'],
  'XSAVEOPT': ['Xsaveopt', 'Xsaveopt64'],
  'XSAVEC': ['Xsavec', 'Xsavec64'],
  'XGETBV_ECX1': ['Xgetbv'], // XGETBV with ECX = 1 reads XCR0 AND XINUSE
  // XSAVES/XRSTORS with the IA32_XSS MSR (0xDA0, msr.ts): no supervisor state components are
  // supported, so IA32_XSS can only be 0 (CPUID.(EAX=0DH,ECX=1):ECX/EDX = 0).
  'XSAVES': ['Xsaves', 'Xsaves64', 'Xrstors', 'Xrstors64'],
  'OSXSAVE': [],
};

function featureLeaf(leaf: number, subleaf: number | undefined, names: string[], base: Omit<CpuidLeaf, 'features'>): CpuidLeaf {
  const out: CpuidLeaf = { ...base, features: {} };
  const features: Partial<Record<'eax' | 'ebx' | 'ecx' | 'edx', string[]>> = {};
  for (const n of names) {
    const f = FEATURE_BITS[n];
    if (f === undefined || f.leaf !== leaf || f.subleaf !== subleaf) throw new Error(`internal: feature ${n} is not in leaf ${leaf}`);
    out[f.reg] = (out[f.reg] | (1 << f.bit)) | 0;
    (features[f.reg] ??= []).push(n);
  }
  out.features = features;
  return out;
}

/** Family 6, model 0x55-like signature, stepping 0: a modern Intel core. */
const SIGNATURE = (6 << 8) | (5 << 4) | (5 << 16);

function zeroLeaf(leaf: number, description: string): CpuidLeaf {
  return { leaf, eax: 0, ebx: 0, ecx: 0, edx: 0, description };
}

/**
 * The model. A leaf within the reported ranges that is not listed reads as all zeros: the
 * feature or information it would describe is absent (leaves 2-6 and 8-0xC for now).
 */
export const DEFAULT_CPUID: CpuidModel = {
  leaves: [
    {
      leaf: 0, eax: 0xd, ebx: ascii4(VENDOR.slice(0, 4)), edx: ascii4(VENDOR.slice(4, 8)), ecx: ascii4(VENDOR.slice(8, 12)),
      description: 'highest basic leaf and vendor string',
    },
    featureLeaf(1, undefined, ['FPU', 'MMX', 'CX16', 'MOVBE', 'POPCNT', 'TSC', 'CX8', 'CMOV', 'MONITOR', 'RDRAND', 'DE', 'MSR', 'SEP', 'MTRR', 'PAT', 'CLFSH',
      'FXSR', 'SSE', 'SSE2', 'SSE3', 'SSSE3', 'SSE4_1', 'SSE4_2', 'PSE', 'PAE', 'APIC', 'PGE', 'PSE36', 'PCID', 'X2APIC',
      'TSC_DEADLINE', 'XSAVE'], {
      // EBX: CLFLUSH line size 8 (x 8 bytes) in bits 15:8, one logical processor (bits 23:16),
      // initial APIC ID 0 (bits 31:24).
      leaf: 1, eax: SIGNATURE, ebx: (1 << 16) | (8 << 8), ecx: 0, edx: 0, description: 'version and feature information',
    }),
    featureLeaf(7, 0, ['BMI1', 'BMI2', 'ADX', 'ERMS', 'FSRM', 'FSGSBASE', 'RDSEED', 'CLFLUSHOPT', 'RDPID', 'LA57',
      'FDP_EXCPTN_ONLY', 'SMEP', 'INVPCID', 'FCS_FDS_DEPRECATED', 'SMAP'], {
      leaf: 7, subleaf: 0, eax: 0, ebx: 0, ecx: 0, edx: 0, description: 'structured extended features (highest subleaf 0)',
    }),
    // Leaf 0DH (SDM vol. 2A CPUID, vol. 1 §13.2): XSAVE-managed state. Supported XCR0 bits 1:0
    // (x87, SSE); both live in the 512-byte legacy region, so the area for any valid XCR0 (1 or 3)
    // is the legacy region plus the 64-byte header: 576 bytes. Subleaves 2 and above are zero
    // (no extended components).
    {
      leaf: 0xd, subleaf: 0, eax: 3, ebx: 576, ecx: 576, edx: 0,
      description: 'XSAVE: supported XCR0 bits (x87, SSE), area size for XCR0, maximum area size',
    },
    featureLeaf(0xd, 1, ['XSAVEOPT', 'XSAVEC', 'XGETBV_ECX1', 'XSAVES'], {
      // EBX: size of the area for XCR0 | IA32_XSS (IA32_XSS is always 0: same as XCR0).
      // ECX:EDX: the IA32_XSS bits supported (none: no supervisor state components).
      leaf: 0xd, subleaf: 1, eax: 0, ebx: 576, ecx: 0, edx: 0,
      description: 'XSAVE extensions: XSAVEOPT, XSAVEC, XGETBV with ECX = 1, XSAVES/XRSTORS and IA32_XSS (no supervisor components)',
    }),
    {
      leaf: 0x80000000, eax: 0x80000008, ebx: 0, ecx: 0, edx: 0, description: 'highest extended leaf',
    },
    featureLeaf(0x80000001, undefined, ['LAHF_LM', 'ABM_LZCNT', 'PREFETCHW', 'LM', 'RDTSCP', 'PAGE1GB', 'SYSCALL', 'NX'], {
      leaf: 0x80000001, eax: 0, ebx: 0, ecx: 0, edx: 0, description: 'extended feature information',
    }),
    brandLeaf(0), brandLeaf(1), brandLeaf(2),
    zeroLeaf(0x80000005, 'reserved (zero on Intel processors)'),
    zeroLeaf(0x80000006, 'L2 cache information: not reported'),
    zeroLeaf(0x80000007, 'invariant TSC not reported: the TSC counts retired instructions'),
    {
      leaf: 0x80000008, eax: 0x3927, ebx: 0, ecx: 0, edx: 0,
      description: 'address sizes: 39-bit physical, 57-bit linear (LA57)',
    },
  ],
};

interface CompiledModel {
  maxBasic: number;
  maxExt: number;
  byLeaf: Map<number, CpuidLeaf[]>;
}

const compiled = new WeakMap<CpuidModel, CompiledModel>();

function compile(model: CpuidModel): CompiledModel {
  let m = compiled.get(model);
  if (m === undefined) {
    const byLeaf = new Map<number, CpuidLeaf[]>();
    for (const l of model.leaves) {
      const k = l.leaf >>> 0;
      let list = byLeaf.get(k);
      if (list === undefined) byLeaf.set(k, (list = []));
      list.push(l);
    }
    m = {
      maxBasic: byLeaf.get(0)?.[0].eax ?? 0,
      maxExt: (byLeaf.get(0x80000000)?.[0].eax ?? 0) >>> 0,
      byLeaf,
    };
    compiled.set(model, m);
  }
  return m;
}

/**
 * CPUID lookup into `out` (EAX, EBX, ECX, EDX as int32), without allocating (SDM vol. 2A CPUID:
 * an input above the highest basic or extended leaf returns the data of the highest basic leaf;
 * subleaf-indexed leaves use ECX).
 */
export function cpuidInto(model: CpuidModel, eax: number, ecx: number, out: Int32Array): void {
  const m = compile(model);
  const leaf = eax >>> 0;
  const effective = (leaf < 0x80000000 ? leaf > m.maxBasic : leaf > m.maxExt) ? m.maxBasic : leaf;
  const list = m.byLeaf.get(effective);
  const sub = ecx >>> 0;
  if (list !== undefined) {
    for (let i = 0; i < list.length; i++) {
      const l = list[i];
      if (l.subleaf === undefined || l.subleaf === sub) {
        out[0] = l.eax; out[1] = l.ebx; out[2] = l.ecx; out[3] = l.edx;
        return;
      }
    }
  }
  out[0] = 0; out[1] = 0; out[2] = 0; out[3] = 0;
}

/**
 * The bits of CPUID that reflect processor state rather than the model, applied to a cpuidInto
 * result for input leaf `eax`: CPUID.1:ECX.OSXSAVE[bit 27] = CR4.OSXSAVE[bit 18] (SDM vol. 2A
 * CPUID, table 3-10: "the OS has set CR4.OSXSAVE").
 */
export function cpuidDynamic(eax: number, cr4: number, out: Int32Array): void {
  if ((eax >>> 0) === 1) out[2] = (out[2] & ~(1 << 27)) | (((cr4 >>> 18) & 1) << 27);
}

/** CPUID lookup returning [eax, ebx, ecx, edx] (edges and tests; ops use cpuidInto). */
export function cpuidLookup(model: CpuidModel, eax: number, ecx: number): [number, number, number, number] {
  const out = new Int32Array(4);
  cpuidInto(model, eax, ecx, out);
  return [out[0], out[1], out[2], out[3]];
}

/** True when the model reports feature `name` (a key of FEATURE_BITS). */
export function hasFeature(model: CpuidModel, name: string): boolean {
  const f = FEATURE_BITS[name];
  if (f === undefined) throw new Error(`unknown CPUID feature ${name}`);
  const m = compile(model);
  const leaf = f.leaf >>> 0;
  if (leaf < 0x80000000 ? leaf > m.maxBasic : leaf > m.maxExt) return false;
  const out = new Int32Array(4);
  cpuidInto(model, f.leaf, f.subleaf ?? 0, out);
  const v = out[f.reg === 'eax' ? 0 : f.reg === 'ebx' ? 1 : f.reg === 'ecx' ? 2 : 3];
  return ((v >>> f.bit) & 1) === 1;
}

/**
 * A copy of `model` with the named features (FEATURE_BITS) cleared or set: a CPU model for a
 * launch configuration that hides a feature, and for tests of "#UD unless CPUID reports it".
 */
export function withFeatures(model: CpuidModel, set: readonly string[], clear: readonly string[] = []): CpuidModel {
  const edit = (l: CpuidLeaf, names: readonly string[], on: boolean): CpuidLeaf => {
    let n = l;
    for (const name of names) {
      const f = FEATURE_BITS[name];
      if (f === undefined) throw new Error(`unknown CPUID feature ${name}`);
      if (f.leaf !== l.leaf || (f.subleaf ?? 0) !== (l.subleaf ?? 0)) continue;
      n = { ...n, [f.reg]: on ? (n[f.reg] | (1 << f.bit)) | 0 : n[f.reg] & ~(1 << f.bit) };
    }
    return n;
  };
  return { leaves: model.leaves.map((l) => edit(edit(l, set, true), clear, false)) };
}

export function withoutFeatures(model: CpuidModel, names: readonly string[]): CpuidModel {
  return withFeatures(model, [], names);
}
