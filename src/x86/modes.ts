/**
 * Starting the processor in a chosen mode with flat segments (SDM vol. 3A §9.1 for the reset
 * state, §9.9 and §10.8 for the protected and IA-32e mode switches). The system-architecture
 * layer replaces this with real descriptor loads; until then these are the states a loader asks
 * for. Access rights use the VMCS layout (SDM vol. 3C §24.4.1, table 24-2).
 */
import type { Cpu } from './cpu';
import { buildIdentityTables } from './identityTables';
import { Seg } from './registers';

export type StartMode = 'real' | 'protected' | 'long' | 'compat';

export const CR0_PE = 1 << 0;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_PG = 1 << 31;
export const CR4_PAE = 1 << 5;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;

const CODE16 = 0x9b;
const DATA16 = 0x93;
const CODE32 = 0xc09b;
const DATA32 = 0xc093;
const CODE64 = 0xa09b;

function seg(c: Cpu, s: Seg, selector: number, base: number, limit: number, attr: number): void {
  c.setSegment(s, { selector, baseLo: base | 0, baseHi: 0, limit, attr });
}

export interface EnterModeOptions {
  /**
   * Long and compatibility mode enable 4-level paging (CR0.PG = 1 is required for IA-32e mode,
   * SDM vol. 3A §10.8.5) with an identity map of the low 512 GiB (1 GiB pages when CPUID reports
   * them, else 2 MiB pages; U/S = R/W = 1, XD = 0, A/D preset); the rest of the canonical space
   * maps an empty physical window, so it reads all-ones as before (paging.ts, identityEntry).
   * By default the tables are a read-only region just below 2^39 (the top of the 39-bit
   * physical address space), outside guest RAM, so no guest data or stack can collide with them
   * and they cost no RAM. Give a 4 KiB-aligned RAM address here to have them written into RAM
   * instead (12 KiB with 1 GiB pages, 516 pages without).
   */
  pageTables?: number;
}

/** Put the processor in `mode` with flat segments; RIP and registers are the caller's. */
export function enterMode(c: Cpu, mode: StartMode, options: EnterModeOptions = {}): void {
  c.flushTlb();
  c.flushCode();
  if (mode === 'real') {
    c.cr0 = 0x60000010;
    c.cr4 = 0;
    c.efer = 0;
    c.protectedMode = false;
    c.longMode = false;
    for (const s of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) seg(c, s, 0, 0, 0xffff, DATA16);
    seg(c, Seg.CS, 0, 0, 0xffff, CODE16);
    c.bitness = 16;
    c.stackBits = 16;
    return;
  }
  c.protectedMode = true;
  c.cr0 = CR0_PE | CR0_ET | CR0_NE;
  const data = DATA32;
  for (const s of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) seg(c, s, 0x10, 0, 0xffffffff, data);
  if (mode === 'protected') {
    c.cr4 = 0;
    c.efer = 0;
    c.longMode = false;
    seg(c, Seg.CS, 0x08, 0, 0xffffffff, CODE32);
    c.bitness = 32;
    c.stackBits = 32;
    return;
  }
  c.cr0 = (c.cr0 | CR0_PG) >>> 0;
  c.cr4 = CR4_PAE;
  const cr3 = buildIdentityTables(c, options.pageTables);
  c.cr3Lo = cr3 % 4294967296 | 0;
  c.cr3Hi = Math.floor(cr3 / 4294967296) | 0;
  c.flushTlb();
  c.efer = EFER_LME | EFER_LMA;
  c.longMode = true;
  if (mode === 'long') {
    seg(c, Seg.CS, 0x08, 0, 0xffffffff, CODE64);
    c.bitness = 64;
    c.stackBits = 64;
  } else {
    seg(c, Seg.CS, 0x18, 0, 0xffffffff, CODE32);
    c.bitness = 32;
    c.stackBits = 32;
  }
}
