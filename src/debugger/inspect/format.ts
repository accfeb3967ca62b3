/** Number formats of the inspection views (the adapter's tests rely on them). */

/** `0x` + 16 lowercase hex digits: register values. */
export const hex64 = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16).padStart(16, '0')}`;

/** `0x` + lowercase hex without padding: evaluate results, addresses. */
export const hex = (v: bigint | number): string => `0x${(typeof v === 'number' ? BigInt(v) : v).toString(16)}`;

/** `0x` + hex padded to `bits` / 4 digits. */
export const hexWidth = (v: bigint, bits: number): string => `0x${BigInt.asUintN(bits, v).toString(16).padStart(Math.ceil(bits / 4), '0')}`;

/** Bits lo..hi (inclusive) of v. */
export const bitsOf = (v: bigint, lo: number, hi: number): bigint => (v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n);

export const bitOf = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;

/** Two int32 halves as an unsigned bigint. */
export const u64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** An error's message (anything thrown). */
export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
