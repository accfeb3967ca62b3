/**
 * Every line-number program of .debug_line (DWARF 2-5) run to rows whose file is an absolute
 * path. Programs are found from each compile unit's DW_AT_stmt_list and by walking the section
 * unit after unit (programs no unit names are kept too). Relative paths are taken from the
 * compilation directory: DW_AT_comp_dir of the unit that names the program, else directory 0 of
 * a DWARF 5 header (DWARF 5 §6.2.4 item 14: it is the compilation directory), else the
 * directory of the ELF file.
 */
import { DebugFormatError } from './byteReader';
import { readCompileUnits } from './dwarfCompileUnits';
import { readLineHeader, type LineProgramHeader } from './dwarfLineHeader';
import { runLineProgram } from './dwarfLineProgram';
import type { DwarfSections } from './dwarfSections';
import { isAbsolutePath, joinPath } from './sourcePaths';

export interface SourceRow {
  address: number;
  /** Absolute path; '' when the row names a file the header does not have. */
  file: string;
  line: number;
  column: number;
  isStmt: boolean;
  endSequence: boolean;
}

/** Rows of every line program, program by program in section order. */
export function readDwarfLines(s: DwarfSections, fallbackDir: string, warnings: string[]): SourceRow[] {
  const line = s.line;
  if (!line || line.length === 0) return [];
  const compDirs = new Map<number, string | undefined>();
  const strBases = new Map<number, number | undefined>();
  for (const u of readCompileUnits(s, warnings)) {
    if (u.stmtList !== undefined && !compDirs.has(u.stmtList)) {
      compDirs.set(u.stmtList, u.compDir);
      strBases.set(u.stmtList, u.strOffsetsBase);
    }
  }
  const offsets = new Set<number>();
  // Walk the section unit by unit (§6.2.4 unit_length), stopping at the first unreadable length.
  for (let off = 0; off < line.length;) {
    offsets.add(off);
    const unitEnd = { end: -1 };
    try {
      readLineHeader({ ...s, line }, off, unitEnd);
    } catch (e) {
      if (!(e instanceof DebugFormatError)) throw e;
    }
    if (!(unitEnd.end > off)) break;
    off = unitEnd.end;
  }
  for (const off of compDirs.keys()) offsets.add(off);
  const rows: SourceRow[] = [];
  for (const off of [...offsets].sort((a, b) => a - b)) {
    let h: LineProgramHeader;
    try {
      h = readLineHeader({ ...s, line }, off, { end: -1 }, strBases.get(off));
    } catch (e) {
      if (!(e instanceof DebugFormatError)) throw e;
      warnings.push(e.message);
      continue;
    }
    const program = runLineProgram(line, h, warnings);
    const pathOf = filePaths(h, compDirs.get(off), fallbackDir);
    for (const r of program) rows.push({ address: r.address, file: pathOf(r.file), line: r.line, column: r.column, isStmt: r.isStmt, endSequence: r.endSequence });
  }
  return rows;
}

/** file register value → absolute path, cached (files may grow through DW_LNE_define_file). */
function filePaths(h: LineProgramHeader, compDir: string | undefined, fallbackDir: string): (file: number) => string {
  const v5Dir0 = h.version >= 5 ? h.directories[0] : undefined;
  const cuDir = joinPath(fallbackDir, compDir ?? v5Dir0 ?? '.');
  const dirPath = (i: number): string => {
    const d = h.directories[i]; // DWARF 2-4: index 0 is undefined, the compilation directory
    return d === undefined ? cuDir : joinPath(cuDir, d);
  };
  const cache = new Map<number, string>();
  return (file) => {
    let p = cache.get(file);
    if (p === undefined) {
      const e = h.files[file];
      p = e === undefined ? '' : isAbsolutePath(e.name) ? joinPath('/', e.name) : joinPath(dirPath(e.dir), e.name);
      cache.set(file, p);
    }
    return p;
  };
}
