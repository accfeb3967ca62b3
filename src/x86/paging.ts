/**
 * Paging (SDM vol. 3A chapter 4): linear → physical translation when CR0.PG = 1.
 * To be implemented: 32-bit, PAE, 4-level and 5-level walks, large pages, permission checks,
 * accessed/dirty updates, #PF error codes and CR2. Until then, identity.
 */
import type { Cpu } from './cpu';
import type { Access } from './mmu';

const TWO32 = 4294967296;

export function pagingTranslate(_c: Cpu, lo: number, hi: number, _access: Access): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}
