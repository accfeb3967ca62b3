/**
 * Guest-linear → guest-physical → host-physical for the debugger: the processor's own paging
 * walk (src/x86/paging.ts `probeTranslate`: 32-bit, PAE, 4- and 5-level paging with every
 * check of SDM vol. 3A chapter 4, no accessed/dirty flag written) run on a view of the
 * processor that holds the guest's CR0/CR3/CR4/EFER/CPL/RFLAGS (the processor may hold the
 * host's after a VM exit), with each guest paging-structure access and the final address sent
 * through the engine's EPT walk (eptProbe.ts, SDM vol. 3C §28.2). Nothing here changes the
 * machine.
 */
import type { Cpu } from '../../x86/cpu';
import { Access } from '../../x86/mmu';
import { PageFault, probeTranslate, setPdpteRegister } from '../../x86/paging';
import { CpuException } from '../../x86/exceptions';
import type { EptHooks } from '../../x86/vmxEptHooks';
import type { GuestState } from './guestState';
import { eptEnabled, eptOfCodeInView, type EptNeed, type EptTranslation } from './eptProbe';
import { underVmx } from '../stoppedMachine';
import { hex } from './format';

export interface PagingStep {
  level: number;
  name: string;
  /** Guest-physical address of the entry. */
  entryAddress: string;
  /** Host-physical address of the entry (through EPT). */
  entryHostAddress?: string;
  raw: string;
  present: boolean;
  writable: boolean;
  user: boolean;
  accessed: boolean;
  dirty: boolean;
  pageSize: boolean;
  executeDisable: boolean;
}

export interface LinearTranslation {
  linear: string;
  access: EptNeed;
  /** CR0.PG = 1. */
  paging: boolean;
  /** 'none', '32-bit', 'PAE', '4-level', '5-level' (SDM vol. 3A §4.1.1). */
  mode: string;
  steps: PagingStep[];
  gpa?: string;
  ept?: EptTranslation;
  hpa?: string;
  /** The fault or exit the access would cause, in words. */
  fault?: { kind: 'page fault' | 'general protection' | 'EPT violation' | 'EPT misconfiguration'; message: string; errorCode?: number; gpa?: string };
}

class EptProbeFault {
  constructor(readonly t: EptTranslation, readonly gpa: number) {}
}

const NEED_OF: Record<EptNeed, Access> = { read: Access.Read, write: Access.Write, execute: Access.Execute };

/** The paging mode of CR0/CR4/EFER (SDM vol. 3A table 4-1). */
export function pagingMode(cr0: bigint, cr4: bigint, efer: bigint): string {
  if ((cr0 & 0x80000000n) === 0n) return 'none';
  if ((cr4 & 0x20n) === 0n) return '32-bit';
  if ((efer & 0x400n) === 0n) return 'PAE';
  return (cr4 & 0x1000n) !== 0n ? '5-level' : '4-level';
}

/**
 * Translate `linear` for an access of kind `access`. `asDebugger`: the checks of a supervisor
 * access with CR0.WP = 0 and RFLAGS.AC = 1 (the debugger may look at any present page);
 * otherwise the guest's own CPL and flags decide.
 */
export function translateLinear(g: GuestState, linear: bigint, access: EptNeed = 'read', asDebugger = false): LinearTranslation {
  const vmm = g.m;
  const cr0 = g.cr0Real();
  const cr4 = g.cr4Real();
  const efer = g.efer();
  const mode = pagingMode(cr0, cr4, efer);
  const lin = BigInt.asUintN(64, linear);
  const out: LinearTranslation = { linear: hex(lin), access, paging: mode !== 'none', mode, steps: [] };
  const finish = (gpa: number): LinearTranslation => {
    out.gpa = hex(gpa);
    const e = eptOfCodeInView(vmm, gpa, access);
    out.ept = e;
    if (e.status === 'ok') out.hpa = e.hpa;
    else out.fault = { kind: e.status === 'violation' ? 'EPT violation' : 'EPT misconfiguration', message: `${e.status === 'violation' ? 'EPT violation' : 'EPT misconfiguration'} at guest-physical ${hex(gpa)}: ${e.why}`, gpa: hex(gpa) };
    return out;
  };
  if (mode === 'none') {
    if (lin > 0xffffffffn) {
      out.fault = { kind: 'general protection', message: `${hex(lin)} is beyond the 4 GiB linear address space (paging is off)` };
      return out;
    }
    return finish(Number(lin));
  }
  if (mode === '4-level' || mode === '5-level') {
    const bits = mode === '5-level' ? 57n : 48n;
    const s = BigInt.asIntN(64, lin);
    if (s >= 1n << (bits - 1n) || s < -(1n << (bits - 1n))) {
      out.fault = { kind: 'general protection', message: `${hex(lin)} is not canonical (${bits}-bit linear addresses): #GP` };
      return out;
    }
  } else if (lin > 0xffffffffn) {
    out.fault = { kind: 'general protection', message: `${hex(lin)} is beyond the 32-bit linear address space of ${mode} paging` };
    return out;
  }
  const c = vmm.cpu;
  const ept = eptEnabled(vmm) && underVmx(vmm);
  const hostOf = new Map<number, string>();
  const hooks: EptHooks = {
    active: ept,
    linear: () => { throw new Error('internal: linear() in a paging probe'); },
    written: () => { throw new Error('internal: written() in a paging probe'); },
    translate: (_c, gpa) => {
      const t = eptOfCodeInView(vmm, gpa, 'read');
      if (t.status !== 'ok') throw new EptProbeFault(t, gpa);
      const hpa = Number(BigInt(t.hpa!));
      hostOf.set(gpa, hex(hpa));
      return hpa;
    },
  };
  // A view of the processor with the guest's paging state (own properties shadow the processor's).
  const p = Object.create(c) as Cpu;
  const cr3 = g.cr3();
  const rflags = g.rflags();
  p.cr0 = Number(asDebugger ? cr0 & ~0x10000n : cr0) | 0;
  p.cr3Lo = Number(cr3 & 0xffffffffn) | 0;
  p.cr3Hi = Number(cr3 >> 32n) | 0;
  p.cr4 = Number(cr4) | 0;
  p.efer = Number(efer) | 0;
  p.longMode = (efer & 0x400n) !== 0n;
  p.cpl = asDebugger ? 0 : g.cpl();
  p.flagsRest = Number(asDebugger ? rflags | 0x40000n : rflags) | 0;
  p.nonRoot = true;
  p.vmxEpt = hooks;
  if (mode === 'PAE' && ept && !g.inside) {
    // With EPT the PDPTE registers are the guest-PDPTE fields (SDM vol. 3C §26.3.2.4, §27.3.4).
    for (let i = 0; i < 4; i++) {
      const e = g.field(`GUEST_PDPTE${i}`);
      setPdpteRegister(p, i, Number(e & 0xffffffffn) | 0, Number(e >> 32n) | 0);
    }
  }
  const rawSteps: Array<[number, string, number, number, number]> = [];
  try {
    const gpa = probeTranslate(p, Number(lin & 0xffffffffn) | 0, Number(lin >> 32n) | 0, NEED_OF[access], {
      entry: (level, name, phys, lo, hi) => { rawSteps.push([level, name, phys, lo, hi]); },
    });
    out.steps = rawSteps.map((s) => step(s, hostOf));
    return finish(gpa);
  } catch (e) {
    out.steps = rawSteps.map((s) => step(s, hostOf));
    if (e instanceof EptProbeFault) {
      out.ept = e.t;
      const kind = e.t.status === 'violation' ? 'EPT violation' : 'EPT misconfiguration';
      out.fault = { kind, message: `${kind} at guest-physical ${hex(e.gpa)} (a guest paging-structure access): ${e.t.why}`, gpa: hex(e.gpa) };
      return out;
    }
    if (e instanceof PageFault) {
      out.fault = { kind: 'page fault', message: `#PF, error code ${hex(e.errorCode ?? 0)}: ${e.detail}`, errorCode: e.errorCode };
      return out;
    }
    if (e instanceof CpuException) {
      out.fault = { kind: 'general protection', message: `${e.name}: ${e.detail}`, errorCode: e.errorCode };
      return out;
    }
    throw e;
  }
}

function step([level, name, phys, lo, hi]: [number, string, number, number, number], hostOf: Map<number, string>): PagingStep {
  const raw = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return {
    level, name, entryAddress: hex(phys), entryHostAddress: hostOf.get(phys), raw: `0x${raw.toString(16).padStart(16, '0')}`,
    present: (lo & 1) !== 0, writable: (lo & 2) !== 0, user: (lo & 4) !== 0, accessed: (lo & 0x20) !== 0,
    dirty: (lo & 0x40) !== 0, pageSize: (lo & 0x80) !== 0, executeDisable: (hi & 0x80000000) !== 0,
  };
}

/** One line per step, for the REPL. */
export function formatLinear(t: LinearTranslation): string[] {
  const lines = [`linear ${t.linear} (${t.access}), paging: ${t.mode}`];
  for (const s of t.steps) {
    const flags = [s.present ? 'P' : '-', s.writable ? 'W' : 'R', s.user ? 'U' : 'S', s.accessed ? 'A' : '-', s.dirty ? 'D' : '-', s.pageSize ? 'PS' : '', s.executeDisable ? 'XD' : ''].filter((x) => x !== '').join(' ');
    lines.push(`  ${s.name.padEnd(36)} @ ${s.entryAddress}${s.entryHostAddress !== undefined && s.entryHostAddress !== s.entryAddress ? ` (host ${s.entryHostAddress})` : ''} = ${s.raw}  ${flags}`);
  }
  if (t.gpa !== undefined) lines.push(`  -> guest-physical ${t.gpa}`);
  if (t.ept !== undefined && t.gpa !== undefined) lines.push(...formatEpt(t.ept).map((l) => `  ${l}`));
  if (t.fault !== undefined) lines.push(`  fault: ${t.fault.message}`);
  else if (t.hpa !== undefined) lines.push(`  result: host-physical ${t.hpa}`);
  return lines;
}

/** One line per EPT entry, for the REPL (`ept <gpa>`). */
export function formatEpt(t: EptTranslation): string[] {
  if (!t.eptEnabled) return [`guest-physical ${t.gpa}: EPT is off (host-physical = guest-physical)`];
  const lines = [`EPT walk of guest-physical ${t.gpa}`];
  for (const s of t.steps) {
    const rwx = `${s.read ? 'R' : '-'}${s.write ? 'W' : '-'}${s.execute ? 'X' : '-'}`;
    const leaf = s.leaf ? `  ${s.memoryType}${s.ignorePat ? ' IPAT' : ''}, ${sizeName(s.pageSize!)} page at ${s.next}${s.accessed ? ' A' : ''}${s.dirty ? ' D' : ''}` : `  -> table ${s.next}`;
    lines.push(`  L${s.level} ${s.name.padEnd(10)} @ ${s.entryAddress} = ${s.raw}  ${rwx}${leaf}`);
  }
  lines.push(t.status === 'ok' ? `  result: host-physical ${t.hpa} (${sizeName(t.pageSize!)} page, ${t.permissions})` : `  result: EPT ${t.status}: ${t.why}`);
  return lines;
}

export function sizeName(n: number): string {
  return n >= 1 << 30 ? `${n / (1 << 30)} GiB` : n >= 1 << 20 ? `${n / (1 << 20)} MiB` : `${n / 1024} KiB`;
}
