/**
 * Hand-built ELF files with DWARF line programs gcc does not emit (read by
 * debugInfoDwarfForms.test.ts against readelf, and corrupted by debugInfoMalformed.test.ts).
 *  - A: DWARF 5 in the 64-bit format; entry formats line_strp/string/udata/data16/data4, then
 *    strp/line_strp/data1/block; file index 0; every standard and extended opcode.
 *  - B: DWARF 3, opcode_base 10, minimum_instruction_length 2, default_is_stmt 0, define_file;
 *    a DWARF 3 compile unit whose DW_AT_comp_dir is a strp.
 *  - C: DWARF 4 with opcode_base 14 (an unknown standard opcode); a DWARF 5 compile unit with
 *    strx1 strings, DW_AT_str_offsets_base and implicit_const; a DWARF 2 unit no unit names.
 */
import { W, elfWithSections, lineUnit, textSection } from './dwarfBuilder';

const LNCT = { path: 1, directory_index: 2, timestamp: 3, size: 4, MD5: 5 };
const FORM = { block: 0x09, data1: 0x0b, data4: 0x06, string: 0x08, strp: 0x0e, udata: 0x0f, data16: 0x1e, line_strp: 0x1f, sec_offset: 0x17, strx1: 0x25, implicit_const: 0x21, addr: 0x01 };

export function programA(): Uint8Array {
  const lineStr = new W().str('/build/proj').str('src').str('util.h'); // offsets 0, 12, 16
  const str = new W().str('/build/proj').str('lib'); // 0, 12
  const md5 = Array.from({ length: 16 }, (_, i) => i * 17);
  const line = new W();
  // A1: DWARF 5 in the 64-bit format.
  lineUnit(line, {
    version: 5, offsetSize: 8, addressSize: 8,
    tables: (h) => {
      h.u8(1).uleb(LNCT.path).uleb(FORM.line_strp);
      h.uleb(2).u64(0).u64(12);
      h.u8(4).uleb(LNCT.path).uleb(FORM.string).uleb(LNCT.directory_index).uleb(FORM.udata).uleb(LNCT.MD5).uleb(FORM.data16).uleb(LNCT.size).uleb(FORM.data4);
      h.uleb(3);
      h.str('main.c').uleb(1).raw(md5).u32(100);
      h.str('util.h').uleb(0).raw(md5).u32(20);
      h.str('/abs/other.c').uleb(1).raw(md5).u32(7);
    },
    program: (_, op) => {
      op.setAddress(0x401000, 8).setColumn(3).copy(); // util.h:1 (file register starts at 1)
      op.setFile(0).advanceLine(9).special(4, 0); // main.c:10 @+4
      op.negateStmt().special(2, 1); // 11, not a statement
      op.negateStmt().constAddPc().special(0, 2); // +17: 13
      op.fixedAdvancePc(0x100).setDiscriminator(3).advanceLine(-5).copy(); // 8 @0x401117
      op.extended(0x80, (w) => w.u8(1, 2, 3)).setIsa(5).prologueEnd().epilogueBegin().basicBlock();
      op.setFile(2).advancePc(3).copy(); // /abs/other.c:8 @0x40111a
      op.advancePc(6).endSequence(); // @0x401120
    },
  });
  // A2: DWARF 5, 32-bit format, strp directories, line_strp/data1/block file entries, only file 0.
  lineUnit(line, {
    version: 5, addressSize: 8,
    tables: (h) => {
      h.u8(1).uleb(LNCT.path).uleb(FORM.strp);
      h.uleb(2).u32(0).u32(12);
      h.u8(3).uleb(LNCT.path).uleb(FORM.line_strp).uleb(LNCT.directory_index).uleb(FORM.data1).uleb(LNCT.timestamp).uleb(FORM.block);
      h.uleb(1).u32(16).u8(1).uleb(3).u8(9, 9, 9);
    },
    program: (_, op) => {
      op.setAddress(0x402000, 8).setFile(0).advanceLine(99).copy().special(3, 1).advancePc(2).endSequence();
    },
  });
  return elfWithSections(64, [
    textSection(0x401000, 0x2000),
    { name: '.debug_line', data: line.b }, { name: '.debug_line_str', data: lineStr.b }, { name: '.debug_str', data: str.b },
  ]);
}

export function programB(): Uint8Array {
  const str = new W().str('unused').str('/home/u/proj'); // 0, 7
  const abbrev = new W().uleb(1).uleb(0x11).u8(0)
    .uleb(0x25).uleb(FORM.string).uleb(0x03).uleb(FORM.string).uleb(0x1b).uleb(FORM.strp).uleb(0x10).uleb(FORM.data4)
    .uleb(0x11).uleb(FORM.addr).uleb(0x13).uleb(FORM.data1).uleb(0).uleb(0).uleb(0);
  const info = new W().unit(4, (u) => {
    u.u16(3).u32(0).u8(4);
    u.uleb(1).str('GNU C 2.95').str('a.c').u32(7).u32(0).u32(0x8049000).u8(0x0c);
  });
  const line = new W();
  lineUnit(line, {
    version: 3, minInstLength: 2, defaultIsStmt: false, lineBase: -3, lineRange: 12, opcodeBase: 10,
    tables: (h) => {
      h.str('inc').str('/usr/include').u8(0);
      h.str('a.c').uleb(0).uleb(0).uleb(0);
      h.str('b.h').uleb(1).uleb(0x5f000000).uleb(1234);
      h.str('c.h').uleb(2).uleb(0).uleb(0);
      h.u8(0);
    },
    program: (w, op) => {
      op.setAddress(0x8049000, 4).copy(); // a.c:1, not a statement (default_is_stmt 0)
      op.special(1, 2); // +2 bytes (minimum_instruction_length 2): line 3
      op.advanceLine(10); // 13
      w.u8(12); // opcode 12 is special when opcode_base is 10: line - 1
      w.u8(11); // line - 2 → 10
      op.negateStmt().setFile(2).special(2, 0); // b.h:10 @+4, statement
      op.defineFile('d.c', 1).setFile(4).advancePc(3).copy(); // d.c @+6
      op.setFile(3).constAddPc().special(0, 1); // (255-10)/12 = 20 operations = 40 bytes: c.h:11
      op.advancePc(1).endSequence();
    },
  });
  return elfWithSections(32, [
    textSection(0x8049000, 0x1000),
    { name: '.debug_info', data: info.b }, { name: '.debug_abbrev', data: abbrev.b },
    { name: '.debug_line', data: line.b }, { name: '.debug_str', data: str.b },
  ]);
}

export function programC(): Uint8Array {
  const str = new W().str('/srv/k').str('k.c'); // 0, 7
  const strOffsets = new W().unit(4, (u) => u.u16(5).u16(0).u32(0).u32(7));
  const abbrev = new W().uleb(1).uleb(0x11).u8(0)
    .uleb(0x13).uleb(FORM.implicit_const).sleb(12)
    .uleb(0x72).uleb(FORM.sec_offset).uleb(0x03).uleb(FORM.strx1).uleb(0x1b).uleb(FORM.strx1).uleb(0x10).uleb(FORM.sec_offset)
    .uleb(0).uleb(0).uleb(0);
  const info = new W().unit(4, (u) => {
    u.u16(5).u8(1).u8(4).u32(0);
    u.uleb(1).u32(8).u8(1).u8(0).u32(0);
  });
  const line = new W();
  lineUnit(line, {
    version: 4, opcodeBase: 14, stdLengths: [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 2],
    tables: (h) => {
      h.str('sub').u8(0);
      h.str('k.c').uleb(0).uleb(0).uleb(0).str('x.h').uleb(1).uleb(0).uleb(0).u8(0);
    },
    program: (w, op) => {
      op.setAddress(0x100000, 4).copy();
      w.u8(13).uleb(5).uleb(300); // a standard opcode this reader does not know, with two operands
      op.special(4, 1).setFile(2).special(2, 5).advancePc(2).endSequence();
    },
  });
  // A DWARF 2 unit no compile unit names: relative to the ELF file's directory.
  lineUnit(line, {
    version: 2, opcodeBase: 10,
    tables: (h) => {
      h.str('rel').u8(0);
      h.str('z.c').uleb(1).uleb(0).uleb(0).str('y.c').uleb(0).uleb(0).uleb(0).u8(0);
    },
    program: (_, op) => {
      op.setAddress(0x100100, 4).copy().setFile(2).special(1, 1).advancePc(1).endSequence();
    },
  });
  return elfWithSections(32, [
    textSection(0x100000, 0x1000),
    { name: '.debug_info', data: info.b }, { name: '.debug_abbrev', data: abbrev.b }, { name: '.debug_line', data: line.b },
    { name: '.debug_str', data: str.b }, { name: '.debug_str_offsets', data: strOffsets.b },
  ]);
}

/**
 * D: two DWARF 5 compile units, each with its own .debug_str_offsets contribution, whose line
 * programs name directories and files with DW_FORM_strx1: each program's names come from the
 * contribution of the unit that names it (DW_AT_str_offsets_base), not the section's first.
 */
export function programD(): Uint8Array {
  const str = new W().str('/d1').str('one.c').str('/d2').str('two.c'); // 0, 4, 10, 14
  const strOffsets = new W()
    .unit(4, (u) => u.u16(5).u16(0).u32(0).u32(4)) // entries at 8
    .unit(4, (u) => u.u16(5).u16(0).u32(10).u32(14)); // entries at 24
  const abbrev = new W().uleb(1).uleb(0x11).u8(0)
    .uleb(0x72).uleb(FORM.sec_offset).uleb(0x03).uleb(FORM.strx1).uleb(0x1b).uleb(FORM.strx1).uleb(0x10).uleb(FORM.sec_offset)
    .uleb(0).uleb(0).uleb(0);
  const line = new W();
  const program = (address: number) => lineUnit(line, {
    version: 5, addressSize: 4,
    tables: (h) => {
      h.u8(1).uleb(LNCT.path).uleb(FORM.strx1).uleb(1).u8(0); // directory 0: string index 0
      h.u8(2).uleb(LNCT.path).uleb(FORM.strx1).uleb(LNCT.directory_index).uleb(FORM.udata);
      h.uleb(1).u8(1).uleb(0); // file 0: string index 1 in directory 0
    },
    program: (_, op) => {
      op.setAddress(address, 4).setFile(0).copy().advancePc(2).endSequence();
    },
  });
  program(0x100000);
  const second = line.pos;
  program(0x100100);
  const info = new W()
    .unit(4, (u) => u.u16(5).u8(1).u8(4).u32(0).uleb(1).u32(8).u8(1).u8(0).u32(0))
    .unit(4, (u) => u.u16(5).u8(1).u8(4).u32(0).uleb(1).u32(24).u8(1).u8(0).u32(second));
  return elfWithSections(32, [
    textSection(0x100000, 0x1000),
    { name: '.debug_info', data: info.b }, { name: '.debug_abbrev', data: abbrev.b }, { name: '.debug_line', data: line.b },
    { name: '.debug_str', data: str.b }, { name: '.debug_str_offsets', data: strOffsets.b },
  ]);
}
