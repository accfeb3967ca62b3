/**
 * Guest-physical → host-physical as the engine translates it (SDM vol. 3C §28.2.2): the
 * engine's own EPT walk (src/vmx/eptWalk.ts) with its entry trace, each entry reported with
 * its level, host-physical address, raw value, permissions, memory type and page size. The
 * EPTP is passed with bit 6 clear, so looking never sets an accessed or dirty flag.
 */
import { currentVmcs, underVmx, type StoppedMachine } from '../stoppedMachine';
import { eptResult, eptWalk, eptWalkTrace } from '../../vmx/eptWalk';
import { physHiMask } from '../../vmx/eptFeatures';
import { maxPhysAddr } from '../../x86/paging';
import { EPT_MEMORY_TYPES } from './bitTables';
import { hex } from './format';

export const EPT_LEVEL_NAMES = ['', 'EPT PTE', 'EPT PDE', 'EPT PDPTE', 'EPT PML4E', 'EPT PML5E'];
const PAGE_OF_LEVEL = [0, 4096, 2 * 1024 * 1024, 1024 * 1024 * 1024];

export type EptNeed = 'read' | 'write' | 'execute';

export interface EptStep {
  level: number;
  name: string;
  /** Host-physical address of the entry ("0x..."). */
  entryAddress: string;
  /** Raw 64-bit entry ("0x" + 16 digits). */
  raw: string;
  read: boolean;
  write: boolean;
  execute: boolean;
  /** Leaf only: EPT memory type (bits 5:3) and the page it maps. */
  memoryType?: string;
  ignorePat?: boolean;
  pageSize?: number;
  accessed: boolean;
  dirty?: boolean;
  leaf: boolean;
  /** Next table or page frame ("0x..."). */
  next: string;
}

export interface EptTranslation {
  gpa: string;
  /** EPT off ("enable EPT" = 0): guest-physical = host-physical. */
  eptEnabled: boolean;
  steps: EptStep[];
  status: 'ok' | 'violation' | 'misconfiguration';
  hpa?: string;
  pageSize?: number;
  /** R/W/X allowed by every entry used ("RWX", "R--"). */
  permissions: string;
  /** Why the access would exit (violation or misconfiguration). */
  why?: string;
}

/** "enable EPT" is in force (primary bit 31 and secondary bit 1, §24.6.2). */
export function eptEnabled(m: StoppedMachine): boolean {
  const v = currentVmcs(m);
  if (v === null) return false;
  return (v.read('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS') & 0x80000000n) !== 0n &&
    (v.read('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS') & 2n) !== 0n;
}

const perm = (p: number): string => `${p & 1 ? 'R' : '-'}${p & 2 ? 'W' : '-'}${p & 4 ? 'X' : '-'}`;

/** Describe one EPT entry of `level` (leaf when it maps a page). */
export function eptStep(level: number, at: number, lo: number, hi: number, leaf: boolean): EptStep {
  const raw = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const s: EptStep = {
    level, name: EPT_LEVEL_NAMES[level], entryAddress: hex(at), raw: `0x${raw.toString(16).padStart(16, '0')}`,
    read: (lo & 1) !== 0, write: (lo & 2) !== 0, execute: (lo & 4) !== 0, accessed: (lo & 0x100) !== 0, leaf,
    next: hex(raw & 0x000ffffffffff000n),
  };
  if (leaf) {
    s.memoryType = EPT_MEMORY_TYPES[(lo >>> 3) & 7];
    s.ignorePat = (lo & 0x40) !== 0;
    s.pageSize = PAGE_OF_LEVEL[level];
    s.dirty = (lo & 0x200) !== 0;
    s.next = hex(raw & 0x000ffffffffff000n & ~BigInt(PAGE_OF_LEVEL[level] - 1));
  }
  return s;
}

/** Guest-physical = host-physical (EPT off, or code that does not run under EPT). */
export function withoutEpt(gpa: number): EptTranslation {
  return { gpa: hex(gpa), eptEnabled: false, steps: [], status: 'ok', hpa: hex(gpa), permissions: 'RWX' };
}

/**
 * The translation of the code in view: through the current VMCS's EPT under VMX; in bare VT-x
 * mode the guest hypervisor's own accesses (VMX root operation) use no EPT (SDM vol. 3C §28.2:
 * EPT translates guest-physical addresses in VMX non-root operation only).
 */
export function eptOfCodeInView(m: StoppedMachine, gpa: number, need: EptNeed = 'read'): EptTranslation {
  return underVmx(m) ? eptTranslate(m, gpa, need) : withoutEpt(gpa);
}

/** Translate `gpa` for an access of kind `need`, entry by entry, through the current VMCS's EPT. */
export function eptTranslate(m: StoppedMachine, gpa: number, need: EptNeed = 'read'): EptTranslation {
  if (!eptEnabled(m)) return withoutEpt(gpa);
  const c = m.cpu;
  const v = currentVmcs(m)!;
  const eptp = v.read('EPT_POINTER');
  const lo = Number(eptp & 0xffffffffn) & ~0x40;
  const hi = Number(eptp >> 32n) | 0;
  const raw: Array<[number, number, number, number]> = [];
  const saved = eptWalkTrace.entry;
  eptWalkTrace.entry = (level, at, elo, ehi) => { raw.push([level, at, elo, ehi]); };
  let st: number;
  try {
    st = eptWalk(c, lo, hi, gpa, need === 'write' ? 2 : need === 'execute' ? 4 : 1, physHiMask(maxPhysAddr(c)));
  } finally {
    eptWalkTrace.entry = saved;
  }
  const r = eptResult;
  const steps = raw.map(([level, at, elo, ehi], i) => {
    const last = i === raw.length - 1;
    const leaf = last && st === 0 ? true : level === 1 || ((elo & 0x80) !== 0 && (level === 2 || level === 3));
    return eptStep(level, at, elo, ehi, leaf && (elo & 7) !== 0);
  });
  const out: EptTranslation = {
    gpa: hex(gpa), eptEnabled: true, steps, status: st === 0 ? 'ok' : st === 1 ? 'violation' : 'misconfiguration',
    permissions: perm(r.perms),
  };
  if (st === 0) {
    out.hpa = hex(r.hpa);
    out.pageSize = r.pageSize;
  } else {
    out.why = r.why;
  }
  return out;
}
