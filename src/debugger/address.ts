/**
 * The debugger's address numbers (the convention of src/debugger/model.ts): a guest-linear
 * address is a JS number holding the 64-bit address read as a *signed* 64-bit integer. Canonical
 * upper-half addresses (bit 63 set: a higher-half kernel at 0xffffffff80000000) are negative
 * numbers, lower-half ones are as before, and 32-bit linear addresses (below 2^32) are unchanged.
 * Every such number of magnitude up to 2^53 is exact: the whole of 4-level paging's canonical
 * space (±2^47, SDM vol. 3A §4.5) and LA57's (§4.5.1, ±2^56) within ±2^53. Address arithmetic on
 * these numbers wraps at 2^64 the way the processor's does (0xffffffffffffffff + 1 = -1 + 1 = 0).
 *
 * Sorted tables (symbols, line rows) order upper-half addresses before lower-half ones: a binary
 * search over numbers is still correct, since a range never spans the non-canonical hole.
 *
 * Whatever shows an address to a person or to DAP goes through `formatAddress` (unsigned 64-bit
 * hex); whatever reads one from a person goes through `parseAddress` (the full 64-bit hex form).
 */

const TWO32 = 4294967296;
/** 2^53: addresses of this magnitude and above are not exact as numbers. */
const LIMIT = 9007199254740992;

/** The address number of a 64-bit value (unsigned or signed bigint); NaN when not exact (beyond ±2^53). */
export function addressOf(v: bigint): number {
  const s = BigInt.asIntN(64, v);
  if (s >= BigInt(LIMIT) || s < -BigInt(LIMIT)) return NaN;
  return Number(s);
}

/**
 * The address number of a 64-bit value, exact when it is (every canonical address of 4-level
 * paging), else the nearest number (a non-canonical value a guest left in a register or VMCS
 * field: shown, never thrown on).
 */
export function nearestAddress(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

/** The address number of a 64-bit value given as its two 32-bit halves (any signedness); NaN when not exact. */
export function addressFromHalves(lo: number, hi: number): number {
  const h = hi | 0;
  if (h >= 0x200000 || h < -0x200000) return NaN;
  return h * TWO32 + (lo >>> 0);
}

/** The unsigned 64-bit value of an address number. */
export function addressBig(a: number): bigint {
  return BigInt.asUintN(64, BigInt(a));
}

/** True when `a` is an exact address number (an integer within ±2^53). */
export function isAddress(a: number): boolean {
  return Number.isSafeInteger(a) || a === LIMIT || a === -LIMIT;
}

/** `0x…` unsigned 64-bit hex of an address number (0xffffffff80001000 for -0x7ffff000). */
export function formatAddress(a: number | bigint): string {
  return `0x${BigInt.asUintN(64, typeof a === 'bigint' ? a : BigInt(a)).toString(16)}`;
}

/** `a + delta` wrapped at 2^64 (exact for results within ±2^53, as every canonical address). */
export function addAddress(a: number, delta: number): number {
  const r = a + delta;
  if (Number.isSafeInteger(r)) return r;
  return addressOf(BigInt(a) + BigInt(delta));
}

/**
 * A person's address: `0x` hex of up to 16 digits (the full 64-bit form, 0xffffffff80001000) or
 * decimal (a leading `-` is the signed form). Undefined when it is not one, or not exact (a
 * 64-bit value beyond ±2^53 as a signed number: not a canonical address the debugger can hold).
 */
export function parseAddress(text: string): number | undefined {
  const t = text.trim().replace(/_/g, '');
  let v: bigint;
  if (/^0x[0-9a-f]{1,16}$/i.test(t)) v = BigInt(t);
  else if (/^-?\d{1,20}$/.test(t)) v = BigInt(t);
  else return undefined;
  if (v >= 1n << 64n || v < -(1n << 63n)) return undefined;
  const a = addressOf(v);
  return Number.isNaN(a) ? undefined : a;
}
