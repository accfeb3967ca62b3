/**
 * Debug information of an assembly program from the project's assembler
 * (src/language/asm/assembler.ts): labels (and `equ`s of labels) as symbols, plain `equ`
 * constants for `lookup` only, and a line table from the listing — each statement that
 * produced bytes is a row covering them, instructions (`insn`) are statement rows, data is not.
 * Rows of consecutive statements form one sequence; a gap or a new section ends it.
 */
import { addressOf } from '../address';
import type { AssembleResult } from '../../language/asm/assembler';
import type { DebugInfo, SymbolInfo } from '../model';
import type { SourceRow } from './dwarfLines';
import { RowLineTable } from './lineTable';
import { dirName, joinPath } from './sourcePaths';
import { SortedSymbolTable } from './symbolTable';

export function asmDebugInfo(path: string, asm: AssembleResult): DebugInfo {
  const dir = dirName(path);
  const cache = new Map<string, string>();
  const absolute = (file: string): string => {
    let p = cache.get(file);
    if (p === undefined) {
      p = file === '<input>' || file === '' ? joinPath(dir, path) : joinPath(dir, file);
      cache.set(file, p);
    }
    return p;
  };

  const symbols: SymbolInfo[] = [];
  const constants = new Map<string, number>();
  for (const s of asm.symbols.values()) {
    const label = s.kind === 'label' || s.reloc;
    // Labels are addresses (src/debugger/address.ts: an upper-half one is a negative number).
    const value = label ? addressOf(s.value) : Number(s.value);
    if (!Number.isSafeInteger(value)) continue;
    if (label) symbols.push({ name: s.name, address: value, size: 0, kind: 'label' });
    else constants.set(s.name, value);
  }

  const rows: SourceRow[] = [];
  let end = -1;
  let section = '';
  const close = () => {
    if (end >= 0) rows.push({ ...rows[rows.length - 1], address: end, isStmt: false, endSequence: true });
    end = -1;
  };
  const listing = [...asm.listing].filter((e) => e.bytes.length > 0).sort((a, b) => a.address - b.address);
  for (const e of listing) {
    if (e.address !== end || e.section !== section) close();
    rows.push({ address: e.address, file: absolute(e.src.file), line: e.src.line, column: 0, isStmt: e.insn, endSequence: false });
    end = e.address + e.bytes.length;
    section = e.section;
  }
  close();
  return { symbols: new SortedSymbolTable(symbols, constants), lines: rows.length > 0 ? new RowLineTable(rows) : null };
}
