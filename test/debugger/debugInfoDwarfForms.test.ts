/**
 * Hand-built line programs that gcc does not emit, each read against readelf's decoding of the
 * same file: 64-bit DWARF, DWARF 5 entry formats (line_strp, strp, string, udata, data1, data4,
 * data16 MD5, block), file index 0, every standard and extended opcode (set_discriminator,
 * define_file, an unknown extended opcode, an unknown standard opcode skipped by
 * standard_opcode_lengths), opcode_base 10 and 14, minimum_instruction_length 2,
 * default_is_stmt 0; compile units of DWARF 3 and 5 (strp, strx1 with DW_AT_str_offsets_base,
 * implicit_const) naming the compilation directory; a unit no compile unit names.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDebugInfo } from '../../src/debugger/debugInfo';
import type { RowLineTable } from '../../src/debugger/debugInfo/lineTable';
import { asOracle, hasTool, readelfLines } from './dwarfOracle';
import { W, elfWithSections, lineUnit, textSection } from './dwarfBuilder';
import { programA, programB, programC, programD } from './dwarfPrograms';

const READELF = hasTool('readelf');
const dir = mkdtempSync(join(tmpdir(), 'vtx-dwarf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Our rows, checked against readelf when it is installed. */
function rowsOf(name: string, bytes: Uint8Array, elfPath = join(dir, name)) {
  writeFileSync(join(dir, name), bytes);
  const info = loadDebugInfo({ path: elfPath, bytes, format: 'elf' });
  assert.equal(info.warnings, undefined, String(info.warnings));
  const lines = info.lines as RowLineTable;
  assert.ok(lines);
  if (READELF) assert.deepEqual(asOracle(lines.rows), readelfLines(join(dir, name)), 'rows equal readelf');
  return { info, lines, rows: lines.rows.map((r) => ({ ...r })) };
}

test('DWARF 5: 64-bit format, entry formats of every kind, file 0, every opcode — equal to readelf', () => {
  const { lines, rows } = rowsOf('a.elf', programA());
  assert.deepEqual(rows.filter((r) => !r.endSequence).map((r) => [r.file, r.line, r.address, r.isStmt, r.column]), [
    ['/build/proj/util.h', 1, 0x401000, true, 3],
    ['/build/proj/src/main.c', 10, 0x401004, true, 3],
    ['/build/proj/src/main.c', 11, 0x401006, false, 3],
    ['/build/proj/src/main.c', 13, 0x401017, true, 3],
    ['/build/proj/src/main.c', 8, 0x401117, true, 3],
    ['/abs/other.c', 8, 0x40111a, true, 3],
    ['/build/proj/lib/util.h', 100, 0x402000, true, 0],
    ['/build/proj/lib/util.h', 101, 0x402003, true, 0],
  ]);
  assert.deepEqual(rows.filter((r) => r.endSequence).map((r) => r.address), [0x401120, 0x402005]);
  assert.deepEqual(lines.files(), ['/abs/other.c', '/build/proj/lib/util.h', '/build/proj/src/main.c', '/build/proj/util.h']);
  assert.deepEqual(lines.lineAt(0x401010), { file: '/build/proj/src/main.c', line: 11, column: 3 });
  assert.deepEqual(lines.bind('main.c', 11), { line: 13, addresses: [0x401017] });
  assert.equal(lines.bind('util.h', 1), undefined, 'two util.h: the base name is ambiguous');
  assert.deepEqual(lines.bind('/build/proj/util.h', 1), { line: 1, addresses: [0x401000] });
});

test('DWARF 3: opcode_base 10, minimum_instruction_length 2, default_is_stmt 0, define_file, DW_AT_comp_dir from a DWARF 3 unit', () => {
  const { rows } = rowsOf('b.elf', programB());
  assert.deepEqual(rows.map((r) => [r.file, r.endSequence ? '-' : r.line, r.address, r.endSequence ? '' : r.isStmt]), [
    ['/home/u/proj/a.c', 1, 0x8049000, false],
    ['/home/u/proj/a.c', 3, 0x8049002, false],
    ['/home/u/proj/a.c', 12, 0x8049002, false],
    ['/home/u/proj/a.c', 10, 0x8049002, false],
    ['/home/u/proj/inc/b.h', 10, 0x8049006, true],
    ['/home/u/proj/inc/d.c', 10, 0x804900c, true],
    ['/usr/include/c.h', 11, 0x8049034, true],
    ['/usr/include/c.h', '-', 0x8049036, ''],
  ]);
});

test('DWARF 4 with opcode_base 14 (unknown opcode skipped), DWARF 5 unit with strx1 and implicit_const; an unnamed DWARF 2 unit', () => {
  const { lines, rows } = rowsOf('c.elf', programC(), '/opt/out/prog.elf');
  assert.deepEqual(rows.filter((r) => !r.endSequence).map((r) => [r.file, r.line, r.address]), [
    ['/srv/k/k.c', 1, 0x100000],
    ['/srv/k/k.c', 2, 0x100004],
    ['/srv/k/sub/x.h', 7, 0x100006],
    ['/opt/out/rel/z.c', 1, 0x100100],
    ['/opt/out/y.c', 2, 0x100101],
  ]);
  assert.deepEqual(lines.files(), ['/opt/out/rel/z.c', '/opt/out/y.c', '/srv/k/k.c', '/srv/k/sub/x.h']);
});

test('DWARF 5 line programs with DW_FORM_strx names read them through their own unit\'s DW_AT_str_offsets_base', () => {
  const info = loadDebugInfo({ path: '/opt/out/d.elf', bytes: programD(), format: 'elf' });
  assert.equal(info.warnings, undefined, String(info.warnings));
  const rows = (info.lines as RowLineTable).rows.filter((r) => !r.endSequence).map((r) => [r.file, r.address]);
  assert.deepEqual(rows, [['/d1/one.c', 0x100000], ['/d2/two.c', 0x100100]]);
});

test('VLIW op_index (maximum_operations_per_instruction 3): address advances by whole instructions (DWARF 5 §6.2.5.1)', () => {
  const line = new W();
  lineUnit(line, {
    version: 4, minInstLength: 4, maxOps: 3,
    tables: (h) => h.u8(0).str('v.c').uleb(0).uleb(0).uleb(0).u8(0),
    program: (_, op) => {
      op.setAddress(0x1000, 8).copy();
      op.advancePc(4).copy(); // op_index 0 + 4 → 1 instruction (4 bytes), op_index 1
      op.advancePc(2).copy(); // op_index 1 + 2 → 1 instruction, op_index 0
      op.special(5, 1); // 5 operations: +1 instruction, op_index 2
      op.advancePc(1).endSequence(); // op_index 3 → +1 instruction
    },
  });
  const bytes = elfWithSections(64, [textSection(0x1000, 0x100), { name: '.debug_line', data: line.b }]);
  const info = loadDebugInfo({ path: '/v/v.elf', bytes, format: 'elf' });
  assert.deepEqual((info.lines as RowLineTable).rows.map((r) => r.address), [0x1000, 0x1004, 0x1008, 0x100c, 0x1010]);
});

test('sequences outside every allocated section (code the linker discarded) are dropped', () => {
  const line = new W();
  lineUnit(line, {
    version: 4,
    tables: (h) => h.u8(0).str('g.c').uleb(0).uleb(0).uleb(0).u8(0),
    program: (_, op) => {
      op.setAddress(0, 8).copy().advancePc(4).endSequence(); // discarded: at 0
      op.setAddress(0x2000, 8).advanceLine(4).copy().advancePc(4).endSequence();
    },
  });
  const bytes = elfWithSections(64, [textSection(0x2000, 0x100), { name: '.debug_line', data: line.b }]);
  const info = loadDebugInfo({ path: '/g/g.elf', bytes, format: 'elf' });
  assert.deepEqual((info.lines as RowLineTable).rows.map((r) => [r.line, r.address, r.endSequence]), [[5, 0x2000, false], [5, 0x2004, true]]);
  assert.equal(info.lines!.lineAt(0), undefined);
});

// Canonical upper-half addresses are read exactly (debugInfoHigherHalf.test.ts); a value above 2^53 that is not one is not.
test('addresses above 2^53 that are not canonical upper-half ones are left out with a warning; an all-ones tombstone silently', () => {
  const unit = (address: number | bigint) => {
    const line = new W();
    lineUnit(line, {
      version: 4,
      tables: (h) => h.u8(0).str('h.c').uleb(0).uleb(0).uleb(0).u8(0),
      program: (_, op) => {
        op.extended(2, (w) => { const b = new DataView(new ArrayBuffer(8)); b.setBigUint64(0, BigInt(address), true); w.raw(new Uint8Array(b.buffer)); });
        op.copy().advancePc(4).endSequence();
        op.setAddress(0x1000, 8).copy().advancePc(4).endSequence();
      },
    });
    const sym = new W();
    for (let i = 0; i < 24; i++) sym.u8(0);
    sym.u32(1).u8(0x12, 0).u16(1).u32(0).u32(0x00800000).u64(16); // value 0x0080000000000000
    sym.u32(3).u8(0x12, 0).u16(1).u64(0x1000).u64(4);
    return loadDebugInfo({
      path: '/h/h.elf', format: 'elf',
      bytes: elfWithSections(64, [
        textSection(0x1000, 0x10), { name: '.debug_line', data: line.b },
        { name: '.symtab', type: 2, data: sym.b, link: 4, entsize: 24 }, { name: '.strtab', type: 3, data: [0, 0x68, 0, 0x66, 0] },
      ]),
    });
  };
  const high = unit(0x0080000080001000n);
  assert.deepEqual((high.lines as RowLineTable).rows.map((r) => r.address), [0x1000, 0x1004]);
  assert.equal(high.warnings?.length, 2, String(high.warnings));
  assert.ok(high.warnings!.some((w) => /0x80000080001000 .* above 2\^53/.test(w)));
  assert.ok(high.warnings!.some((w) => /1 symbol\(s\) .* above 2\^53/.test(w)));
  assert.deepEqual(high.symbols.all().map((s) => s.name), ['f']);
  const tomb = unit(0xffffffffffffffffn);
  assert.deepEqual((tomb.lines as RowLineTable).rows.map((r) => r.address), [0x1000, 0x1004]);
  assert.equal(tomb.warnings?.length, 1, 'only the symbol warning');
});
