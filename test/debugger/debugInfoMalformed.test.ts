/**
 * Debug information is untrusted input: truncated files, truncated or corrupted sections and
 * headers that lie never make loadDebugInfo throw (nor fail inside its readers: no "internal
 * error" warning); what could be read before the fault is kept, and each problem is a warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDebugInfo } from '../../src/debugger/debugInfo';
import type { RowLineTable } from '../../src/debugger/debugInfo/lineTable';
import type { SourceRow } from '../../src/debugger/debugInfo/dwarfLines';
import type { DebugInfo } from '../../src/debugger/model';
import { readElfSections } from '../../src/vmm/loaders/elf';
import { W, elfWithSections, lineUnit, textSection } from './dwarfBuilder';
import { programA, programB, programC } from './dwarfPrograms';
import { hasTool } from './dwarfOracle';
import { xorshift32 as rng } from '../conformance/rng';

function load(bytes: Uint8Array, format: 'elf' | 'multiboot' = 'elf'): DebugInfo {
  let info: DebugInfo | undefined;
  assert.doesNotThrow(() => { info = loadDebugInfo({ path: '/x/prog.elf', bytes, format }); });
  const internal = info!.warnings?.filter((w) => w.startsWith('internal error'));
  assert.deepEqual(internal ?? [], [], 'no reader fault');
  // Whatever came back answers queries.
  info!.symbols.nameAt(0x401000);
  info!.symbols.all();
  if (info!.lines) {
    info!.lines.files();
    info!.lines.lineAt(0x401004);
    info!.lines.bind('main.c', 1);
  }
  return info!;
}

const rowsOf = (info: DebugInfo): readonly SourceRow[] => (info.lines as RowLineTable | null)?.rows ?? [];
const sourceRows = (rows: readonly SourceRow[]) => rows.filter((r) => !r.endSequence).map((r) => `${r.file}:${r.line}@${r.address}/${r.isStmt}`);

/** A copy of an ELF with the sh_size of section `name` changed. */
function withSectionSize(bytes: Uint8Array, name: string, size: number): Uint8Array {
  const copy = bytes.slice();
  const elf = readElfSections(copy);
  const s = elf.sections.find((x) => x.name === name)!;
  const v = new DataView(copy.buffer);
  const shoff = elf.bits === 64 ? Number(v.getBigUint64(40, true)) : v.getUint32(32, true);
  const at = shoff + s.index * (elf.bits === 64 ? 64 : 40) + (elf.bits === 64 ? 32 : 20);
  if (elf.bits === 64) v.setBigUint64(at, BigInt(size), true);
  else v.setUint32(at, size, true);
  return copy;
}

function sectionRange(bytes: Uint8Array, name: string): [number, number] {
  const s = readElfSections(bytes).sections.find((x) => x.name === name)!;
  return [s.offset, s.offset + s.size];
}

const PROGRAMS = { A: programA(), B: programB(), C: programC() };

test('every truncation of an ELF file: no exception, no reader fault', () => {
  for (const [name, full] of Object.entries(PROGRAMS)) {
    for (let n = 0; n <= full.length; n++) {
      const info = load(full.subarray(0, n));
      if (n < full.length) assert.ok(info.warnings && info.warnings.length > 0 || n >= full.length, `${name} cut at ${n}: a warning`);
    }
  }
});

test('a .debug_line cut anywhere keeps a prefix of the rows, with a warning inside a unit', () => {
  for (const [name, full] of Object.entries(PROGRAMS)) {
    const all = sourceRows(rowsOf(load(full)));
    const [start, end] = sectionRange(full, '.debug_line');
    let warned = 0;
    for (let size = 0; size < end - start; size++) {
      const info = load(withSectionSize(full, '.debug_line', size));
      const got = sourceRows(rowsOf(info));
      assert.deepEqual(got, all.slice(0, got.length), `${name}: .debug_line cut to ${size} bytes keeps a prefix`);
      if (info.warnings) warned++;
    }
    assert.ok(warned >= (end - start) / 2, `${name}: most cuts are reported (${warned})`);
    assert.ok(load(withSectionSize(full, '.debug_line', end - start - 1)).warnings?.some((w) => w.includes('.debug_line')));
  }
});

test('random corruption of the debug sections and of the whole file: no exception, no reader fault', () => {
  const next = rng(0x5eed);
  for (const [name, full] of Object.entries(PROGRAMS)) {
    const debug = readElfSections(full).sections.filter((s) => s.name.startsWith('.debug'));
    for (let i = 0; i < 400; i++) {
      const bytes = full.slice();
      const flips = 1 + (next() % 6);
      for (let k = 0; k < flips; k++) {
        const s = debug[next() % debug.length];
        const at = i % 5 === 4 ? next() % bytes.length : s.offset + (next() % Math.max(1, s.size));
        bytes[at] = i % 3 === 0 ? 0xff : next() & 0xff;
      }
      load(bytes);
      load(bytes, 'multiboot');
    }
    assert.ok(name);
  }
});

test('a gcc-built program, corrupted: no exception, no reader fault', (t) => {
  if (!hasTool('gcc')) return t.skip('gcc is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'vtx-dbgbad-'));
  try {
    writeFileSync(join(dir, 'p.c'), 'int g[3];\nint f(int x) {\n  return x + g[x & 1];\n}\nint main(void) {\n  return f(2);\n}\n');
    execFileSync('gcc', ['-g', '-O1', '-ffreestanding', '-nostdlib', '-static', '-Wl,-e,main', '-o', join(dir, 'p'), join(dir, 'p.c')], { stdio: 'pipe' });
    const full = new Uint8Array(readFileSync(join(dir, 'p')));
    const good = load(full);
    assert.equal(good.warnings, undefined);
    const sections = readElfSections(full).sections.filter((s) => s.name.startsWith('.debug') || s.name === '.symtab' || s.name === '.strtab');
    const next = rng(42);
    for (let i = 0; i < 300; i++) {
      const bytes = full.slice();
      const s = sections[i % sections.length];
      for (let k = 0; k < 4; k++) bytes[s.offset + (next() % Math.max(1, s.size))] = next() & 0xff;
      load(bytes);
    }
    for (const s of sections) load(withSectionSize(full, s.name, Math.floor(s.size / 2)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A good DWARF 4 unit after `bad`, in one .debug_line. */
function afterBadUnit(bad: (w: W) => void): DebugInfo {
  const line = new W();
  bad(line);
  const goodStart = line.pos;
  lineUnit(line, {
    version: 4,
    tables: (h) => h.u8(0).str('good.c').uleb(0).uleb(0).uleb(0).u8(0),
    program: (_, op) => { op.setAddress(0x401000, 8).advanceLine(6).copy().advancePc(2).endSequence(); },
  });
  assert.ok(goodStart >= 0);
  return load(elfWithSections(64, [textSection(0x401000, 0x100), { name: '.debug_line', data: line.b }]));
}

const goodRow = ['/x/good.c:7@4198400/true'];

test('a unit with an unsupported version or line_range 0 is skipped with a warning; the next unit is read', () => {
  const v9 = afterBadUnit((w) => w.unit(4, (u) => u.u16(9).u32(0)));
  assert.deepEqual(sourceRows(rowsOf(v9)), goodRow);
  assert.ok(v9.warnings?.some((m) => /unsupported version 9/.test(m)), String(v9.warnings));

  const range0 = afterBadUnit((w) => lineUnit(w, {
    version: 3, lineRange: 0,
    tables: (h) => h.u8(0).str('bad.c').uleb(0).uleb(0).uleb(0).u8(0),
    program: (w2) => { w2.u8(0x20); },
  }));
  assert.deepEqual(sourceRows(rowsOf(range0)), goodRow);
  assert.ok(range0.warnings?.some((m) => /line_range 0/.test(m)), String(range0.warnings));

  const headerPastUnit = afterBadUnit((w) => w.unit(4, (u) => u.u16(4).u32(1000).u8(1, 1, 1, 0xfb, 14, 13)));
  assert.deepEqual(sourceRows(rowsOf(headerPastUnit)), goodRow);
  assert.ok(headerPastUnit.warnings?.some((m) => /header_length/.test(m)), String(headerPastUnit.warnings));

  const badForm = afterBadUnit((w) => lineUnit(w, {
    version: 5,
    tables: (h) => { h.u8(1).uleb(1).uleb(0x7e).uleb(1).u8(0); },
    program: () => {},
  }));
  assert.deepEqual(sourceRows(rowsOf(badForm)), goodRow);
  assert.ok(badForm.warnings?.some((m) => /form 0x7e/.test(m)), String(badForm.warnings));

  const hugeCount = afterBadUnit((w) => lineUnit(w, {
    version: 5,
    tables: (h) => { h.u8(1).uleb(1).uleb(0x08).uleb(2 ** 40); },
    program: () => {},
  }));
  assert.deepEqual(sourceRows(rowsOf(hugeCount)), goodRow);
  assert.ok(hugeCount.warnings?.some((m) => /cannot fit/.test(m)), String(hugeCount.warnings));
});

test('a unit length past the section or reserved: a warning and no rows', () => {
  for (const length of [0xfffffff5, 0x7fffffff]) {
    const line = new W().u32(length).u16(4).u32(0);
    const info = load(elfWithSections(64, [textSection(0x401000, 0x100), { name: '.debug_line', data: line.b }]));
    assert.equal(info.lines, null);
    assert.ok(info.warnings && info.warnings.length > 0);
  }
});

test('broken .debug_info, .debug_abbrev or symbol table: lines still read, relative to the ELF file', () => {
  const line = new W();
  lineUnit(line, {
    version: 4,
    tables: (h) => h.u8(0).str('m.c').uleb(0).uleb(0).uleb(0).u8(0),
    program: (_, op) => { op.setAddress(0x401000, 8).copy().advancePc(2).endSequence(); },
  });
  const info = new W().unit(4, (u) => u.u16(4).u32(0).u8(8).uleb(1).u8(0, 0, 0, 0));
  const unknownForm = new W().uleb(1).uleb(0x11).u8(0).uleb(0x1b).uleb(0x55).uleb(0).uleb(0).uleb(0);
  const sym = new W();
  for (let i = 0; i < 24; i++) sym.u8(0);
  sym.u32(1).u8(0x12, 0).u16(1).u64(0x401000).u64(2);
  for (const sections of [
    [{ name: '.debug_info', data: info.b }],
    [{ name: '.debug_info', data: info.b }, { name: '.debug_abbrev', data: unknownForm.b }],
    [{ name: '.debug_info', data: info.b.slice(0, 7) }],
    [{ name: '.symtab', type: 2, data: sym.b, link: 99, entsize: 24 }],
    [{ name: '.symtab', type: 2, data: sym.b, link: 1, entsize: 24, size: 1 << 20 }],
  ]) {
    const got = load(elfWithSections(64, [textSection(0x401000, 0x100), { name: '.debug_line', data: line.b }, ...sections]));
    assert.deepEqual(sourceRows(rowsOf(got)), ['/x/m.c:1@4198400/true']);
    assert.ok(got.warnings && got.warnings.length > 0, JSON.stringify(sections.map((s) => s.name)));
  }
});

test('files that are not ELF, or barely: empty debug information with a warning, never an exception', () => {
  const cases: Array<[string, number[]]> = [
    ['empty', []],
    ['magic only', [0x7f, 0x45, 0x4c, 0x46]],
    ['class 3', [0x7f, 0x45, 0x4c, 0x46, 3, 1, 1, ...new Array(60).fill(0)]],
    ['big-endian', [0x7f, 0x45, 0x4c, 0x46, 2, 2, 1, ...new Array(60).fill(0)]],
    ['garbage', Array.from({ length: 200 }, (_, i) => (i * 37 + 11) & 0xff)],
  ];
  for (const [what, bytes] of cases) {
    const info = load(Uint8Array.from(bytes));
    assert.equal(info.lines, null, what);
    assert.deepEqual(info.symbols.all(), [], what);
    assert.ok(info.warnings && info.warnings.length > 0, `${what}: a warning`);
  }
  // A Multiboot image that is not ELF simply has no debug information.
  const mb = load(Uint8Array.from([0x02, 0xb0, 0xad, 0x1b, 0, 0, 0, 0]), 'multiboot');
  assert.equal(mb.warnings, undefined);
  assert.equal(mb.lines, null);
  // A relocatable object built by hand.
  const rel = load(elfWithSections(64, [{ name: '.debug_line', data: [1, 2, 3] }], 1));
  assert.equal(rel.lines, null);
  assert.ok(rel.warnings?.some((w) => /relocat/.test(w)));
});
