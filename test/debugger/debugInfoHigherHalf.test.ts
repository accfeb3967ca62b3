/**
 * Debug information of a higher-half kernel (gcc -mcmodel=kernel, linked at 0xffffffff80400000):
 * every DWARF row and every symbol is read with its exact address (the debugger's address
 * numbers: the 64-bit address read as signed, src/debugger/address.ts), equal to readelf's and
 * nm's; the tables' queries (lineAt, bind, isStatementStart, nameAt, lookup) work on those
 * negative numbers, and the lower-half boot stub's symbols sort after them.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDebugInfo } from '../../src/debugger/debugInfo';
import type { RowLineTable } from '../../src/debugger/debugInfo/lineTable';
import { formatAddress } from '../../src/debugger/address';
import { buildHigherHalfKernel, HH_SOURCE, HH_TOOLS, hhLine, nmExact, readelfRowsExact, readelfSymbolsExact } from './higherHalfKernel';

const built = HH_TOOLS ? buildHigherHalfKernel() : undefined;
after(() => built?.dispose());

test('a higher-half kernel: DWARF rows and symbols exact (readelf, nm), queries on upper-half addresses', { skip: !HH_TOOLS && 'needs gcc and binutils' }, () => {
  const { path, bytes } = built!;
  const info = loadDebugInfo({ path, bytes, format: 'elf' });
  assert.equal(info.warnings, undefined, String(info.warnings));
  const rows = (info.lines as RowLineTable).rows;
  const oracle = readelfRowsExact(path);
  assert.ok(oracle.length > 20, 'readelf printed rows');
  assert.deepEqual(rows.map((r) => [r.endSequence ? null : r.line, r.address, r.endSequence ? false : r.isStmt]), oracle, 'rows equal readelf --debug-dump=decodedline');
  assert.ok(rows.every((r) => r.address < 0), 'every row is in the upper half');
  assert.equal(formatAddress(rows[0].address), '0xffffffff80400000');

  const key = (s: { name: string; address: number; size: number }) => `${s.name}@${s.address}/${s.size}`;
  assert.deepEqual(info.symbols.all().map(key).sort(), readelfSymbolsExact(path), 'symbols equal readelf -s');
  const nm = nmExact(path);
  for (const name of ['kmain', 'square', 'sum_squares', 'counter', 'kstack', '_start', 'boot_pml4']) {
    assert.equal(info.symbols.lookup(name), nm.get(name), `lookup(${name}) = nm`);
  }
  assert.equal(formatAddress(info.symbols.lookup('kmain')!), `0x${(BigInt.asUintN(64, BigInt(nm.get('kmain')!))).toString(16)}`);
  // Sorted by address number: the upper half (negative) first, the boot stub at 0x200000 last.
  const all = info.symbols.all();
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].address <= all[i].address);
  assert.equal(all[all.length - 1].address >= 0x200000, true);
  const sq = nm.get('square')!;
  assert.deepEqual(info.symbols.nameAt(sq), { name: 'square', offset: 0 });
  assert.deepEqual(info.symbols.nameAt(sq + 5), { name: 'square', offset: 5 });
  assert.deepEqual(info.symbols.nameAt(nm.get('_start')! + 3), { name: '_start', offset: 3 });

  // A source line binds to its exact higher-half address, and that address maps back to it.
  const line = hhLine('square');
  const bound = info.lines!.bind(HH_SOURCE, line);
  assert.ok(bound !== undefined && bound.line === line, `bind(kernel.c, ${line})`);
  const want = oracle.filter((r) => r[0] === line && r[2]).map((r) => r[1]);
  assert.deepEqual(bound.addresses, [...new Set(want)]);
  for (const a of bound.addresses) {
    assert.ok(a > sq && a < sq + 0x30, `${formatAddress(a)} is in square`);
    assert.equal(info.lines!.lineAt(a)?.line, line);
    assert.equal(info.lines!.isStatementStart(a), true);
    assert.equal(info.lines!.isStatementStart(a + 1), oracle.some((r) => r[1] === a + 1 && r[2] && r[0] !== null));
  }
  assert.equal(info.lines!.lineAt(0x200000), undefined, 'the boot stub (inline asm) has no C rows');
});
