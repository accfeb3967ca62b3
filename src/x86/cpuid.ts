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
  'SSE3': { leaf: 1, reg: 'ecx', bit: 0 },
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
  'LAHF_LM': { leaf: 0x80000001, reg: 'ecx', bit: 0 },
  'ABM_LZCNT': { leaf: 0x80000001, reg: 'ecx', bit: 5 },
  'LM': { leaf: 0x80000001, reg: 'edx', bit: 29 },
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

export const DEFAULT_CPUID: CpuidModel = {
  leaves: [
    {
      leaf: 0, eax: 0xd, ebx: ascii4(VENDOR.slice(0, 4)), edx: ascii4(VENDOR.slice(4, 8)), ecx: ascii4(VENDOR.slice(8, 12)),
      description: 'highest basic leaf and vendor string',
    },
    featureLeaf(1, undefined, ['CX16', 'MOVBE', 'POPCNT', 'TSC', 'CX8', 'CMOV'], {
      leaf: 1, eax: SIGNATURE, ebx: 0, ecx: 0, edx: 0, description: 'version and feature information',
    }),
    featureLeaf(7, 0, ['BMI1', 'BMI2', 'ADX'], {
      leaf: 7, subleaf: 0, eax: 0, ebx: 0, ecx: 0, edx: 0, description: 'structured extended features',
    }),
    {
      leaf: 0x80000000, eax: 0x80000008, ebx: 0, ecx: 0, edx: 0, description: 'highest extended leaf',
    },
    featureLeaf(0x80000001, undefined, ['LAHF_LM', 'ABM_LZCNT', 'LM'], {
      leaf: 0x80000001, eax: 0, ebx: 0, ecx: 0, edx: 0, description: 'extended feature information',
    }),
    brandLeaf(0), brandLeaf(1), brandLeaf(2),
    {
      leaf: 0x80000008, eax: 0x3027, ebx: 0, ecx: 0, edx: 0,
      description: 'address sizes: 39-bit physical, 48-bit linear',
    },
  ],
};

/**
 * CPUID lookup (SDM vol. 2A CPUID: a leaf above the highest basic leaf returns the data of the
 * highest basic leaf; subleaf-indexed leaves use ECX). Returns [eax, ebx, ecx, edx].
 */
export function cpuidLookup(model: CpuidModel, eax: number, ecx: number): [number, number, number, number] {
  const leaf = eax >>> 0;
  const maxBasic = model.leaves.find((l) => l.leaf === 0)?.eax ?? 0;
  const maxExt = model.leaves.find((l) => l.leaf === 0x80000000)?.eax ?? 0;
  let effective = leaf;
  if (leaf < 0x80000000 ? leaf > maxBasic : leaf > maxExt >>> 0) effective = maxBasic;
  const hits = model.leaves.filter((l) => l.leaf === effective);
  const hit = hits.find((l) => l.subleaf === undefined || l.subleaf === ecx >>> 0);
  if (hit === undefined) return [0, 0, 0, 0];
  return [hit.eax | 0, hit.ebx | 0, hit.ecx | 0, hit.edx | 0];
}
