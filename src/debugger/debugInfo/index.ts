/**
 * loadDebugInfo (model.ts): the symbols and line table of a loaded program, by its format —
 * an ELF file (also a Multiboot kernel in ELF form) through its symbol table and DWARF
 * .debug_line, an assembly program through the assembler's listing, a flat binary (or a
 * Multiboot image that is not ELF) with none. Malformed debug information never throws: what
 * could be read is returned and each problem is a line of `warnings`.
 */
import { isElf } from '../../vmm/loaders/elf';
import type { DebugInfo, LoadDebugInfo, ProgramImage } from '../model';
import { asmDebugInfo } from './asmDebugInfo';
import { elfDebugInfo } from './elfDebugInfo';
import { SortedSymbolTable } from './symbolTable';

export const loadDebugInfo: LoadDebugInfo = (p: ProgramImage): DebugInfo => {
  const warnings: string[] = [];
  let info: DebugInfo;
  try {
    info = byFormat(p, warnings);
  } catch (e) {
    // A fault of the readers themselves (they turn malformed input into warnings): the session goes on without debug information.
    warnings.push(`internal error reading debug information: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    info = none();
  }
  return warnings.length > 0 ? { ...info, warnings } : info;
};

function byFormat(p: ProgramImage, warnings: string[]): DebugInfo {
  let info: DebugInfo;
  switch (p.format) {
    case 'elf':
    case 'multiboot':
      if (isElf(p.bytes)) {
        info = elfDebugInfo(p.path, p.bytes, warnings);
      } else {
        if (p.format === 'elf') warnings.push(`${p.path} is not an ELF file (no \\x7fELF magic): no debug information`);
        info = none();
      }
      break;
    case 'asm':
      if (p.assembled) info = asmDebugInfo(p.path, p.assembled);
      else {
        warnings.push('an assembly program without its assembler result: no debug information');
        info = none();
      }
      break;
    default:
      info = none();
  }
  return info;
}

function none(): DebugInfo {
  return { symbols: new SortedSymbolTable([]), lines: null };
}

export { SortedSymbolTable } from './symbolTable';
export { RowLineTable } from './lineTable';
