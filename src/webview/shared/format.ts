/** Number formatting shared by the panels (addresses arrive as "0x..." strings). */

/** A "0x..." string as a bigint (undefined when it is not one). */
export function big(hex: string | undefined): bigint | undefined {
  if (hex === undefined) return undefined;
  try {
    return BigInt(hex);
  } catch {
    return undefined;
  }
}

export const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** 4096 → "4 KiB", 2097152 → "2 MiB". */
export function sizeName(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    u++;
  }
  if (v >= 1024 && u < units.length - 1) return `${(v / 1024).toFixed(1)} ${units[u + 1]}`;
  return `${v} ${units[u]}`;
}

/** Parses what a person types as an address: hex with or without 0x, `_` separators, or decimal with a `d`/`#` prefix. */
export function parseAddress(text: string): bigint | undefined {
  const t = text.trim().replace(/_/g, '').toLowerCase();
  if (t === '') return undefined;
  try {
    if (/^0x[0-9a-f]+$/.test(t)) return BigInt(t);
    if (/^[0-9a-f]+h$/.test(t)) return BigInt(`0x${t.slice(0, -1)}`);
    if (/^#[0-9]+$/.test(t)) return BigInt(t.slice(1));
    if (/^[0-9a-f]+$/.test(t)) return BigInt(`0x${t}`);
  } catch {
    return undefined;
  }
  return undefined;
}
