/**
 * A listing of an assembly: one line per source line that produced bytes or defined a label —
 * file:line, address, bytes (up to 8 per line, continued below), source — then the symbols.
 */
import type { AssembleResult } from './assembler';

const hex = (v: number | bigint, w: number): string => v.toString(16).toUpperCase().padStart(w, '0');

export function formatListing(r: AssembleResult): string {
  const out: string[] = [];
  let lastFile = '';
  for (const e of r.listing) {
    if (e.src.file !== lastFile) {
      out.push(`; ${e.src.file}`);
      lastFile = e.src.file;
    }
    const bytes = Array.from(e.bytes, (b) => hex(b, 2));
    const first = bytes.slice(0, 8).join(' ');
    out.push(`${String(e.src.line).padStart(6)}  ${hex(e.address, 8)}  ${first.padEnd(23)}  ${e.src.text.trimEnd()}`);
    for (let k = 8; k < bytes.length; k += 8) {
      if (k >= 64) {
        out.push(`${''.padStart(6)}  ${hex(e.address + k, 8)}  ... ${bytes.length - k} more bytes`);
        break;
      }
      out.push(`${''.padStart(6)}  ${hex(e.address + k, 8)}  ${bytes.slice(k, k + 8).join(' ')}`);
    }
  }
  out.push('', '; symbols');
  const syms = [...r.symbols.values()].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.name.localeCompare(b.name)));
  for (const s of syms) out.push(`${hex(BigInt.asUintN(64, s.value), 16)}  ${s.kind.padEnd(5)}  ${s.name}`);
  return out.join('\n') + '\n';
}
