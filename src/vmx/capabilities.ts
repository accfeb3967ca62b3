/**
 * The documented virtual CPU: the VMX capability MSRs the engine reports and enforces (SDM vol.
 * 3C appendix A). Every value is derived from the declarative tables (controlBits.ts for the
 * controls, fields.ts for VMCS_ENUM, eptFeatures.ts for IA32_VMX_EPT_VPID_CAP) plus the choices
 * documented below, and is installed into the processor's stored MSRs (msr.ts), where RDMSR by
 * guest code, the VM-entry checks (entryChecksCommon.ts) and the VMX instructions read it.
 *
 * Choices (see also docs/vmx.md, generated from this file's values):
 *  - IA32_VMX_BASIC (§A.1): revision identifier REVISION_ID; VMCS region size 4096; no 32-bit
 *    physical-address limit (bit 48 = 0); no dual-monitor SMM (bit 49 = 0); VMCS memory type WB
 *    (bits 53:50 = 6); INS/OUTS exits report instruction information (bit 54 = 1); the TRUE_
 *    control MSRs exist (bit 55 = 1); bit 56 (inject hardware exceptions without the error-code
 *    consistency check) = 0.
 *  - Control MSRs (§A.3-A.5): allowed-0 settings (bits 31:0, a 1 means "must be 1") of the
 *    non-TRUE MSRs are the SDM's default1 class; the TRUE_ MSRs report every control as
 *    allowed to be 0 (the default1-class bits have no function in this model, so nothing depends
 *    on them). Allowed-1 settings (bits 63:32) are exactly the bits the tables mark `modelled`
 *    (plus the default1 class, which must be settable).
 *  - IA32_VMX_MISC (§A.6): preemption-timer rate 0 (the timer counts down once per retired
 *    instruction: the TSC of this model advances by one per instruction, bit 0 of the TSC
 *    changes every instruction); bit 5 = 1 (VM exits store EFER.LMA into "IA-32e mode guest");
 *    activity states HLT, shutdown and wait-for-SIPI (bits 8:6 = 111b); 4 CR3-target values
 *    (bits 24:16); MSR lists of up to 512 entries (bits 27:25 = 0); VMWRITE may write the
 *    VM-exit information fields (bit 29 = 1); injection of software interrupts and exceptions
 *    with instruction length 0 allowed (bit 30 = 1); MSEG revision 0.
 *  - CR0_FIXED0 = PE | NE | PG, CR0_FIXED1 = bits 31:0 (§A.7); CR4_FIXED0 = VMXE, CR4_FIXED1 =
 *    the CR4 bits the processor model supports, plus VMXE (§A.8).
 *  - VMCS_ENUM (§A.9): the highest field index (encoding bits 9:1) of any supported field.
 *  - IA32_VMX_VMFUNC (§A.11): EPTP switching (bit 0).
 * Tests and CPU models may override any MSR (EngineOptions.capabilities); the engine then
 * enforces the override.
 */
import type { Cpu } from '../x86/cpu';
import { getStored, setStored } from '../x86/msr';
import { cr4Settable } from '../x86/controlRegisters';
import type { ControlBit } from './controlBits';
import { ENTRY_CONTROLS, EXIT_CONTROLS, PIN_BASED, PROC_BASED, PROC_BASED2 } from './controlBits';
import { VMCS_FIELDS } from './fields';
import { EPT_VPID_CAP } from './eptFeatures';

/** A 64-bit MSR value as halves. */
export interface MsrValue {
  lo: number;
  hi: number;
}

/** IA32_VMX_* MSR indices (appendix A). */
export const VMX_MSR = {
  BASIC: 0x480, PINBASED_CTLS: 0x481, PROCBASED_CTLS: 0x482, EXIT_CTLS: 0x483, ENTRY_CTLS: 0x484,
  MISC: 0x485, CR0_FIXED0: 0x486, CR0_FIXED1: 0x487, CR4_FIXED0: 0x488, CR4_FIXED1: 0x489,
  VMCS_ENUM: 0x48a, PROCBASED_CTLS2: 0x48b, EPT_VPID_CAP: 0x48c, TRUE_PINBASED_CTLS: 0x48d,
  TRUE_PROCBASED_CTLS: 0x48e, TRUE_EXIT_CTLS: 0x48f, TRUE_ENTRY_CTLS: 0x490, VMFUNC: 0x491,
} as const;
export type VmxMsrName = keyof typeof VMX_MSR;

/** The VMCS revision identifier of the modelled CPU (IA32_VMX_BASIC bits 30:0; bit 31 is 0). */
export const REVISION_ID = 0x00007674; // "tv": vtx

/**
 * The default1 class of each control field (§A.3.1 pin-based bits 1, 2, 4; §A.3.2 primary
 * processor-based bits 1, 4-6, 8, 13-16, 26; §A.4 VM-exit bits 0-8, 10, 11, 13, 14, 16, 17;
 * §A.5 VM-entry bits 0-8, 12). The secondary controls have no default1 class (§A.3.3).
 */
export const DEFAULT1_CLASS = {
  pin: 0x00000016,
  proc: 0x0401e172,
  exit: 0x00036dff,
  entry: 0x000011ff,
} as const;

/** The five 32-bit control fields, by the short names the engine uses. */
export type CtlField = 'pin' | 'proc' | 'proc2' | 'exit' | 'entry';
export const CTL_TABLES: Readonly<Record<CtlField, readonly ControlBit[]>> = {
  pin: PIN_BASED, proc: PROC_BASED, proc2: PROC_BASED2, exit: EXIT_CONTROLS, entry: ENTRY_CONTROLS,
};

/** The bits of `table` the engine implements (allowed-1 settings before the default1 class). */
export function modelledBits(table: readonly ControlBit[]): number {
  let m = 0;
  for (const b of table) if (b.modelled) m |= 1 << b.bit;
  return m | 0;
}

const BASIC_HI =
  0x1000 | // bits 44:32: VMCS region size 4096
  (6 << (50 - 32)) | // bits 53:50: memory type WB
  (1 << (54 - 32)) | // bit 54: INS/OUTS instruction information
  (1 << (55 - 32)); // bit 55: TRUE_ control MSRs

/** IA32_VMX_MISC bits 31:0 (see the file comment). */
export const MISC_LO =
  0 | // bits 4:0: preemption-timer rate (TSC bit 0)
  (1 << 5) | // EFER.LMA stored into "IA-32e mode guest" on VM exit
  (7 << 6) | // activity states HLT (6), shutdown (7), wait-for-SIPI (8)
  (4 << 16) | // CR3-target values
  (0 << 25) | // MSR list size: 512 * (N + 1)
  (1 << 29) | // VMWRITE to any supported field, including VM-exit information
  (1 << 30); // injection with instruction length 0

const CR0_PE = 1;
const CR0_NE = 1 << 5;
const CR0_PG = 1 << 31;
const CR4_VMXE = 1 << 13;

/** VMCS_ENUM: highest index (encoding bits 9:1) of a supported field, in bits 9:1 (§A.9). */
function vmcsEnum(): number {
  let max = 0;
  for (const f of VMCS_FIELDS) if (f.supported) max = Math.max(max, (f.encoding >> 1) & 0x1ff);
  return max << 1;
}

/** Overrides of individual capability MSRs (tests; other CPU models). */
export type CapabilityOverrides = Partial<Record<VmxMsrName, MsrValue>>;

/**
 * The capability MSRs of one virtual CPU. `msr[name]` is the 64-bit value; `allowed(name)` says
 * whether the engine lets a control be 1 (the TRUE_ MSR when IA32_VMX_BASIC[55] = 1).
 */
export class Capabilities {
  readonly msr: Record<VmxMsrName, MsrValue>;

  constructor(cpu: Cpu, overrides: CapabilityOverrides = {}) {
    const ctl = (f: CtlField, d1: number): MsrValue => ({ lo: d1, hi: (modelledBits(CTL_TABLES[f]) | d1) | 0 });
    const trueCtl = (f: CtlField, d1: number): MsrValue => ({ lo: 0, hi: (modelledBits(CTL_TABLES[f]) | d1) | 0 });
    const m: Record<VmxMsrName, MsrValue> = {
      BASIC: { lo: REVISION_ID, hi: BASIC_HI },
      PINBASED_CTLS: ctl('pin', DEFAULT1_CLASS.pin),
      PROCBASED_CTLS: ctl('proc', DEFAULT1_CLASS.proc),
      EXIT_CTLS: ctl('exit', DEFAULT1_CLASS.exit),
      ENTRY_CTLS: ctl('entry', DEFAULT1_CLASS.entry),
      MISC: { lo: MISC_LO, hi: 0 },
      CR0_FIXED0: { lo: CR0_PE | CR0_NE | CR0_PG, hi: 0 },
      CR0_FIXED1: { lo: -1, hi: 0 },
      CR4_FIXED0: { lo: CR4_VMXE, hi: 0 },
      CR4_FIXED1: { lo: cr4Settable(cpu) | CR4_VMXE, hi: 0 },
      VMCS_ENUM: { lo: vmcsEnum(), hi: 0 },
      PROCBASED_CTLS2: { lo: 0, hi: modelledBits(PROC_BASED2) },
      EPT_VPID_CAP: { lo: EPT_VPID_CAP.lo, hi: EPT_VPID_CAP.hi },
      TRUE_PINBASED_CTLS: trueCtl('pin', DEFAULT1_CLASS.pin),
      TRUE_PROCBASED_CTLS: trueCtl('proc', DEFAULT1_CLASS.proc),
      TRUE_EXIT_CTLS: trueCtl('exit', DEFAULT1_CLASS.exit),
      TRUE_ENTRY_CTLS: trueCtl('entry', DEFAULT1_CLASS.entry),
      VMFUNC: { lo: 1, hi: 0 },
    };
    for (const k of Object.keys(overrides) as VmxMsrName[]) {
      const v = overrides[k];
      if (v !== undefined) m[k] = { lo: v.lo | 0, hi: v.hi | 0 };
    }
    this.msr = m;
  }

  /** IA32_VMX_BASIC bit 55: the TRUE_ control MSRs exist and VM entry checks against them. */
  get hasTrueCtls(): boolean {
    return (this.msr.BASIC.hi & (1 << 23)) !== 0;
  }

  get revision(): number {
    return this.msr.BASIC.lo & 0x7fffffff;
  }

  /** The MSR VM entry checks `field` against (allowed-0 in lo, allowed-1 in hi). */
  ctls(field: CtlField): MsrValue {
    const t = this.hasTrueCtls;
    switch (field) {
      case 'pin': return t ? this.msr.TRUE_PINBASED_CTLS : this.msr.PINBASED_CTLS;
      case 'proc': return t ? this.msr.TRUE_PROCBASED_CTLS : this.msr.PROCBASED_CTLS;
      case 'proc2': return (this.msr.PROCBASED_CTLS.hi & 0x80000000) !== 0 ? this.msr.PROCBASED_CTLS2 : { lo: 0, hi: 0 };
      case 'exit': return t ? this.msr.TRUE_EXIT_CTLS : this.msr.EXIT_CTLS;
      case 'entry': return t ? this.msr.TRUE_ENTRY_CTLS : this.msr.ENTRY_CTLS;
    }
  }

  /**
   * True when the control `name` may be 1. `name` is a bit name of controlBits.ts, optionally
   * qualified by its field ("proc2.ENABLE_EPT"); an unqualified name must belong to one field.
   */
  allowed(name: string): boolean {
    const { field, bit } = findControl(name);
    return ((this.ctls(field).hi >>> bit) & 1) === 1;
  }

  /** True when the control `name` must be 1 (its allowed-0 setting is 1). */
  required(name: string): boolean {
    const { field, bit } = findControl(name);
    return ((this.ctls(field).lo >>> bit) & 1) === 1;
  }

  /** Write every capability MSR into the processor's MSR file (msr.ts stored MSRs). */
  install(cpu: Cpu): void {
    for (const k of Object.keys(VMX_MSR) as VmxMsrName[]) setStored(cpu, VMX_MSR[k], this.msr[k].lo, this.msr[k].hi);
  }
}

/** Locate a control bit by (optionally field-qualified) name. Throws for unknown or ambiguous names. */
export function findControl(name: string): { field: CtlField; bit: number } {
  const dot = name.indexOf('.');
  const fields = (dot >= 0 ? [name.slice(0, dot)] : Object.keys(CTL_TABLES)) as CtlField[];
  const bare = dot >= 0 ? name.slice(dot + 1) : name;
  const hits: { field: CtlField; bit: number }[] = [];
  for (const f of fields) {
    const t = CTL_TABLES[f];
    if (t === undefined) throw new Error(`no control field ${f}`);
    const e = t.find((x) => x.name === bare);
    if (e !== undefined) hits.push({ field: f, bit: e.bit });
  }
  if (hits.length === 0) throw new Error(`no control named ${name}`);
  if (hits.length > 1) throw new Error(`control name ${name} is ambiguous: qualify it (${hits.map((h) => h.field).join(', ')})`);
  return hits[0];
}

/**
 * IA32_FEATURE_CONTROL as platform firmware leaves it on a VMX-capable machine (§23.7): locked
 * (bit 0) with VMXON enabled outside SMX (bit 2). Left alone when already locked.
 */
export function lockFeatureControl(cpu: Cpu): void {
  if ((getStored(cpu, 0x3a) & 1) === 0) setStored(cpu, 0x3a, 0x5, 0);
}

/** Read a capability MSR back from the processor (the values the engine enforces). */
export function readCapability(cpu: Cpu, name: VmxMsrName): MsrValue {
  const lo = getStored(cpu, VMX_MSR[name]);
  return { lo, hi: cpu.vHi };
}
