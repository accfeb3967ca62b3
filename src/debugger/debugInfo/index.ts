/**
 * TEMPORARY minimal debug information (the real module is built in branch dbg-info and replaces
 * this file at merge): symbols and lines of an .asm program from the assembler's result, an
 * ELF image's .symtab symbols (no lines); other programs get an empty symbol table.
 */
import { resolve } from 'node:path';
import { isElf, parseElf } from '../../vmm/loaders/elf';
import type { DebugInfo, LineTable, LoadDebugInfo, ProgramImage, SourcePosition, SymbolInfo, SymbolTable } from '../model';

function symbolTable(list: SymbolInfo[]): SymbolTable {
  const all = [...list].sort((a, b) => a.address - b.address);
  const byName = new Map(all.map((s) => [s.name, s.address]));
  return {
    all: () => all,
    lookup: (name) => byName.get(name),
    nameAt: (address) => {
      let best: SymbolInfo | undefined;
      for (const s of all) if (s.address <= address && address - s.address < 0x10000) best = s;
      return best === undefined ? undefined : { name: best.name, offset: address - best.address };
    },
  };
}

function asmLines(p: ProgramImage): LineTable | null {
  const map = p.assembled?.lineMap ?? [];
  if (map.length === 0) return null;
  const rows = map.map((e) => ({ address: e.address, length: e.length, file: resolve(e.file), line: e.line })).filter((r) => r.length > 0);
  const starts = new Set(rows.map((r) => r.address));
  const files = [...new Set(rows.map((r) => r.file))];
  const match = (file: string): string | undefined => {
    const abs = resolve(file);
    if (files.includes(abs)) return abs;
    const base = abs.split(/[\\/]/).pop();
    const c = files.filter((f) => f.split(/[\\/]/).pop() === base);
    return c.length === 1 ? c[0] : undefined;
  };
  return {
    files: () => files,
    lineAt: (address): SourcePosition | undefined => {
      const r = rows.find((x) => address >= x.address && address < x.address + x.length);
      return r === undefined ? undefined : { file: r.file, line: r.line };
    },
    bind: (file, line) => {
      const f = match(file);
      if (f === undefined) return undefined;
      const later = rows.filter((r) => r.file === f && r.line >= line);
      if (later.length === 0) return undefined;
      const l = Math.min(...later.map((r) => r.line));
      return { line: l, addresses: later.filter((r) => r.line === l).map((r) => r.address) };
    },
    isStatementStart: (address) => starts.has(address),
  };
}

export const loadDebugInfo: LoadDebugInfo = (p: ProgramImage): DebugInfo => {
  const syms: SymbolInfo[] = [];
  if (p.assembled !== undefined) {
    for (const s of p.assembled.symbols.values()) {
      if (s.kind === 'label') syms.push({ name: s.name, address: Number(s.value), size: 0, kind: 'label' });
    }
  }
  if (p.format === 'elf' && isElf(p.bytes)) {
    for (const s of parseElf(p.bytes).symbols) if (s.name !== '') syms.push({ name: s.name, address: s.address, size: s.size, kind: s.size > 0 ? 'function' : 'label' });
  }
  return { symbols: symbolTable(syms), lines: asmLines(p) };
};
