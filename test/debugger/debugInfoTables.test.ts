/**
 * The SymbolTable and LineTable implementations on hand-made inputs whose answers are known:
 * nested and overlapping sized symbols, ties at one address, the 64 KiB limit of nameAt,
 * preference order of lookup; zero-length rows, overlapping sequences, continuation runs,
 * file matching by absolute path and by unique base name — and a large table stays fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SortedSymbolTable } from '../../src/debugger/debugInfo/symbolTable';
import { RowLineTable } from '../../src/debugger/debugInfo/lineTable';
import type { SourceRow } from '../../src/debugger/debugInfo/dwarfLines';
import type { SymbolInfo } from '../../src/debugger/model';

const fn = (name: string, address: number, size: number): SymbolInfo => ({ name, address, size, kind: 'function' });
const obj = (name: string, address: number, size: number): SymbolInfo => ({ name, address, size, kind: 'object' });
const label = (name: string, address: number): SymbolInfo => ({ name, address, size: 0, kind: 'label' });

test('nameAt: the innermost sized symbol covering the address, else the nearest below within 64 KiB', () => {
  const t = new SortedSymbolTable([
    fn('outer', 0x1000, 0x100), fn('inner', 0x1040, 0x20), label('loop', 0x1050), obj('buffer', 0x2000, 0x8000),
    label('marker', 0x2100), fn('far', 0x40000, 0x10),
  ]);
  assert.deepEqual(t.nameAt(0x1000), { name: 'outer', offset: 0 });
  assert.deepEqual(t.nameAt(0x103f), { name: 'outer', offset: 0x3f });
  assert.deepEqual(t.nameAt(0x1055), { name: 'inner', offset: 0x15 }, 'sized inner range beats the nearer label');
  assert.deepEqual(t.nameAt(0x1060), { name: 'outer', offset: 0x60 }, 'after inner ends, outer still covers');
  assert.deepEqual(t.nameAt(0x10ff), { name: 'outer', offset: 0xff });
  assert.deepEqual(t.nameAt(0x1100), { name: 'loop', offset: 0xb0 }, 'past every range: the nearest symbol below');
  assert.deepEqual(t.nameAt(0x2200), { name: 'buffer', offset: 0x200 }, 'a sized object beats a label inside it');
  assert.deepEqual(t.nameAt(0x9fff), { name: 'buffer', offset: 0x7fff });
  assert.deepEqual(t.nameAt(0xa000), { name: 'marker', offset: 0xa000 - 0x2100 });
  assert.deepEqual(t.nameAt(0x120ff), { name: 'marker', offset: 0xffff }, 'just within 64 KiB');
  assert.equal(t.nameAt(0x12100), undefined, '64 KiB past the nearest symbol');
  assert.equal(t.nameAt(0xfff), undefined, 'below every symbol');
  assert.deepEqual(t.nameAt(0x4000f), { name: 'far', offset: 0xf });
  assert.deepEqual(t.all().map((s) => s.name), ['outer', 'inner', 'loop', 'buffer', 'marker', 'far']);
});

test('nameAt with ranges that overlap without nesting, and many symbols between a range and the address', () => {
  const syms: SymbolInfo[] = [fn('a', 0, 10), fn('b', 5, 15), obj('big', 100, 100_000)];
  for (let i = 0; i < 1000; i++) syms.push(label(`l${i}`, 200 + i * 3));
  const t = new SortedSymbolTable(syms);
  assert.deepEqual(t.nameAt(7), { name: 'b', offset: 2 }, 'the later-starting covering range');
  assert.deepEqual(t.nameAt(12), { name: 'b', offset: 7 });
  assert.deepEqual(t.nameAt(3), { name: 'a', offset: 3 });
  assert.deepEqual(t.nameAt(50_000), { name: 'big', offset: 49_900 });
});

test('ties at one address: function > object > label, then sized, then the order given; lookup keeps the first', () => {
  const t = new SortedSymbolTable([label('L', 0x500), obj('O', 0x500, 0), fn('F', 0x500, 0), label('first', 0x600), label('second', 0x600), label('dup', 0x700), label('dup', 0x800)]);
  assert.deepEqual(t.nameAt(0x510), { name: 'F', offset: 0x10 });
  assert.deepEqual(t.nameAt(0x601), { name: 'first', offset: 1 });
  assert.equal(t.lookup('dup'), 0x700);
  assert.deepEqual(t.all().map((s) => s.name), ['F', 'O', 'L', 'first', 'second', 'dup', 'dup']);
  const constants = new SortedSymbolTable([label('x', 4)], new Map([['PORT', 0x3f8]]));
  assert.equal(constants.lookup('PORT'), 0x3f8);
  assert.deepEqual(constants.all().map((s) => s.name), ['x']);
  assert.deepEqual(constants.nameAt(0x3f8), { name: 'x', offset: 0x3f4 });
});

const row = (file: string, line: number, address: number, isStmt = true, column = 0): SourceRow => ({ address, file, line, column, isStmt, endSequence: false });
const end = (file: string, address: number): SourceRow => ({ address, file, line: 0, column: 0, isStmt: false, endSequence: true });

test('lineAt: last row at or below in its sequence; zero-length rows never cover; gaps and line 0 give nothing', () => {
  const t = new RowLineTable([
    row('/s/a.c', 3, 0x100), row('/s/a.c', 4, 0x104, true, 7), row('/s/a.c', 5, 0x104), row('/s/a.c', 0, 0x108), row('/s/a.c', 6, 0x10c, false), end('/s/a.c', 0x110),
    row('/s/b.c', 10, 0x200), end('/s/b.c', 0x208),
  ]);
  assert.deepEqual(t.lineAt(0x100), { file: '/s/a.c', line: 3 });
  assert.deepEqual(t.lineAt(0x103), { file: '/s/a.c', line: 3 });
  assert.deepEqual(t.lineAt(0x104), { file: '/s/a.c', line: 5 }, 'the later row at one address');
  assert.equal(t.lineAt(0x108), undefined, 'line 0: no source');
  assert.deepEqual(t.lineAt(0x10f), { file: '/s/a.c', line: 6 }, 'non-statement rows still cover');
  assert.equal(t.lineAt(0x110), undefined, 'the end_sequence address is past the sequence');
  assert.equal(t.lineAt(0x1ff), undefined);
  assert.deepEqual(t.lineAt(0x207), { file: '/s/b.c', line: 10 });
  assert.equal(t.lineAt(0xff), undefined);
  assert.equal(t.isStatementStart(0x104), true);
  assert.equal(t.isStatementStart(0x108), false, 'line 0');
  assert.equal(t.isStatementStart(0x10c), false, 'not is_stmt');
  assert.equal(t.isStatementStart(0x102), false);
  assert.deepEqual(t.files(), ['/s/a.c', '/s/b.c']);
  const col = new RowLineTable([row('/s/a.c', 4, 0x10, true, 7), end('/s/a.c', 0x14)]);
  assert.deepEqual(col.lineAt(0x12), { file: '/s/a.c', line: 4, column: 7 });
});

test('lineAt with overlapping sequences finds the one that covers', () => {
  const t = new RowLineTable([
    row('/a.c', 1, 0x100), end('/a.c', 0x200),
    row('/b.c', 7, 0x110), end('/b.c', 0x120),
  ]);
  assert.deepEqual(t.lineAt(0x115), { file: '/b.c', line: 7 });
  assert.deepEqual(t.lineAt(0x150), { file: '/a.c', line: 1 }, 'an earlier, longer sequence still covers');
});

test('bind: next line with statement rows, every run start, by absolute path or unique base name', () => {
  const t = new RowLineTable([
    row('/p/src/main.c', 5, 0x10), row('/p/src/main.c', 6, 0x14), row('/p/src/main.c', 6, 0x18), row('/p/src/main.c', 8, 0x1c),
    row('/p/src/main.c', 6, 0x20), row('/p/src/main.c', 9, 0x24, false), row('/p/src/main.c', 12, 0x28), end('/p/src/main.c', 0x30),
    row('/p/src/main.c', 6, 0x40), end('/p/src/main.c', 0x44),
    row('/p/a/util.c', 1, 0x50), end('/p/a/util.c', 0x54),
    row('/p/b/util.c', 1, 0x60), end('/p/b/util.c', 0x64),
  ]);
  assert.deepEqual(t.bind('/p/src/main.c', 6), { line: 6, addresses: [0x14, 0x20, 0x40] }, '0x18 continues the run from 0x14');
  assert.deepEqual(t.bind('/p/src/main.c', 1), { line: 5, addresses: [0x10] });
  assert.deepEqual(t.bind('/p/src/main.c', 7), { line: 8, addresses: [0x1c] });
  assert.deepEqual(t.bind('/p/src/main.c', 9), { line: 12, addresses: [0x28] }, 'line 9 has no statement row');
  assert.equal(t.bind('/p/src/main.c', 13), undefined);
  assert.deepEqual(t.bind('main.c', 8), { line: 8, addresses: [0x1c] }, 'unique base name');
  assert.deepEqual(t.bind('/elsewhere/main.c', 8), { line: 8, addresses: [0x1c] }, 'unknown directory: base name');
  assert.deepEqual(t.bind('/p/src/../src/./main.c', 8), { line: 8, addresses: [0x1c] }, 'normalized path');
  assert.equal(t.bind('util.c', 1), undefined, 'ambiguous base name');
  assert.deepEqual(t.bind('/p/b/util.c', 1), { line: 1, addresses: [0x60] });
  assert.equal(t.bind('/p/none.c', 1), undefined);
});

test('a table of 100,000 rows answers 100,000 queries of each kind quickly', () => {
  const rows: SourceRow[] = [];
  for (let f = 0; f < 100; f++) {
    const file = `/k/file${f}.c`;
    for (let i = 0; i < 1000; i++) rows.push(row(file, 1 + i, 0x100000 + (f * 1000 + i) * 4, i % 3 !== 2));
    rows.push(end(file, 0x100000 + (f * 1000 + 1000) * 4));
  }
  const t0 = performance.now();
  const t = new RowLineTable(rows);
  let hits = 0;
  for (let q = 0; q < 100_000; q++) {
    const a = 0x100000 + ((q * 7919) % 400_000);
    if (t.lineAt(a)) hits++;
    if (t.isStatementStart(a)) hits++;
    if (t.bind(`/k/file${q % 100}.c`, 1 + (q % 1000))) hits++;
  }
  const ms = performance.now() - t0;
  assert.ok(hits > 200_000);
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  assert.deepEqual(t.lineAt(0x100000 + 4 * 1500 + 2), { file: '/k/file1.c', line: 501 });
  assert.deepEqual(t.bind('file1.c', 3), { line: 4, addresses: [0x100000 + 4 * 1003] }, 'line 3 is not a statement');
});
