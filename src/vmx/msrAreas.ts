/**
 * The MSR areas of VM transitions (SDM vol. 3C §24.7.2, §24.8.2): an array of 16-byte entries in
 * physical memory — bits 31:0 the MSR index, 63:32 reserved (must be 0), 127:64 the data.
 *   VM-entry MSR-load area (§26.4): each entry loaded as WRMSR would at CPL 0; the first entry
 *     that fails makes the VM entry fail (exit reason 34, qualification = the entry's number,
 *     counting from 1: §26.8).
 *   VM-exit MSR-store area (§27.4): each MSR stored into bits 127:64 as RDMSR would read it; a
 *     failure is a VMX abort (indicator 1, §27.7).
 *   VM-exit MSR-load area (§27.6): as the entry load; a failure is a VMX abort (indicator 4).
 * Entries that always fail, whatever WRMSR/RDMSR would do: IA32_FS_BASE and IA32_GS_BASE (loads
 * only), the x2APIC MSRs 800H-8FFH, IA32_SMM_MONITOR_CTL (9BH, loads: writable only in SMM) and
 * IA32_SMBASE (9EH, stores). The model forbids no other MSR for model-specific reasons.
 */
import type { Cpu } from '../x86/cpu';
import { CpuException } from '../x86/exceptions';
import { readMsr, writeMsr } from '../x86/msr';
import type { PhysAccess } from './vmcs';

const FS_BASE = 0xc0000100;
const GS_BASE = 0xc0000101;
const SMM_MONITOR_CTL = 0x9b;
const SMBASE = 0x9e;

/** An MSR area's physical address from its VMCS field halves (below 2^53). */
export function areaAddress(lo: number, hi: number): number {
  return (hi >>> 0) * 4294967296 + (lo >>> 0);
}

/**
 * Load `count` entries from the area at `addr` (VM-entry §26.4 or VM-exit §27.6 MSR-load area).
 * Returns 0 when every entry loaded, else the number (from 1) of the first entry that failed;
 * the entries before it stay loaded.
 */
export function loadMsrArea(c: Cpu, phys: PhysAccess, addr: number, count: number): number {
  for (let i = 0; i < count; i++) {
    const e = addr + i * 16;
    const index = phys.read32(e) >>> 0;
    const reserved = phys.read32(e + 4);
    const lo = phys.read32(e + 8);
    const hi = phys.read32(e + 12);
    if (index === FS_BASE || index === GS_BASE || index >>> 8 === 0x8 || index === SMM_MONITOR_CTL || reserved !== 0) return i + 1;
    if (!tryWrite(c, index, lo, hi)) return i + 1;
  }
  return 0;
}

/**
 * Store `count` MSRs into the area at `addr` (VM-exit MSR-store area, §27.4). Returns 0, or the
 * number (from 1) of the first entry that could not be stored.
 */
export function storeMsrArea(c: Cpu, phys: PhysAccess, addr: number, count: number): number {
  for (let i = 0; i < count; i++) {
    const e = addr + i * 16;
    const index = phys.read32(e) >>> 0;
    if (index >>> 8 === 0x8 || index === SMBASE || phys.read32(e + 4) !== 0) return i + 1;
    if (!tryRead(c, index)) return i + 1;
    phys.write32(e + 8, readLo);
    phys.write32(e + 12, readHi);
  }
  return 0;
}

/** WRMSR at CPL 0; false when it would raise #GP. */
function tryWrite(c: Cpu, index: number, lo: number, hi: number): boolean {
  try {
    writeMsr(c, index, lo | 0, hi | 0, c.icount);
    return true;
  } catch (e) {
    if (e instanceof CpuException) return false;
    throw e;
  }
}

let readLo = 0;
let readHi = 0;

/** RDMSR at CPL 0 into readLo/readHi; false when it would raise #GP. */
function tryRead(c: Cpu, index: number): boolean {
  try {
    readLo = readMsr(c, index, c.icount);
    readHi = c.vHi;
    return true;
  } catch (e) {
    if (e instanceof CpuException) return false;
    throw e;
  }
}
