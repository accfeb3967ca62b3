/**
 * Call frame instructions gcc does not emit for x86 (DWARF 4/5 §6.4.2), in hand-built CIEs and
 * FDEs: every register rule form, the *_sf and extended forms, advance_loc1/2/4 and set_loc, the
 * expression forms (recorded, not evaluated), CIE versions 1, 3 and 4, 64-bit DWARF, .eh_frame
 * augmentations ("zR" pc-relative, "zPLR"), and malformed programs (a warning, the row so far).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFrameEntries, type FrameSection } from '../../src/debugger/debugInfo/dwarfFrameEntries';
import { rowAt } from '../../src/debugger/debugInfo/dwarfCfa';
import type { UnwindRow } from '../../src/debugger/model';

const uleb = (v: number): number[] => {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
};
const sleb = (v: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v = Math.floor(v / 128);
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
};
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const u64 = (v: number): number[] => [...u32(v >>> 0), ...u32(Math.floor(v / 2 ** 32))];
const str = (s: string): number[] => [...Buffer.from(s), 0];

/** A 32-bit-DWARF entry: length, then the body (padded with DW_CFA_nop to 4 bytes). */
const entry = (body: number[]): number[] => {
  const padded = [...body];
  while (padded.length % 4 !== 0) padded.push(0);
  return [...u32(padded.length), ...padded];
};

/** The x86-64 CIE gcc writes (version 1, code 1, data -8, RA 16; CFA = rsp + 8, RA at CFA - 8). */
const CIE_V1 = entry([...u32(0xffffffff), 1, ...str(''), ...uleb(1), ...sleb(-8), 16, 0x0c, 7, 8, 0x90, 1]);

function rows(section: FrameSection, pcs: number[], bits: 32 | 64 = 64): { rows: UnwindRow[]; warnings: string[] } {
  const warnings: string[] = [];
  const fdes = readFrameEntries(section, bits, warnings);
  assert.equal(fdes.length, 1, `one FDE (${warnings.join('; ')})`);
  return { rows: pcs.map((pc) => rowAt(fdes[0], pc, bits, warnings)), warnings };
}

const text = (r: UnwindRow): string => {
  const regs = [...r.registers.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}:${JSON.stringify(v)}`);
  return `${r.cfa ? `${r.cfa.register}+${r.cfa.offset}` : 'exp'} ra=${r.returnAddressRegister} ${regs.join(' ')}`;
};

test('every register rule and CFA form, with advance_loc1/2/4, set_loc and remember/restore_state', () => {
  const code = [
    0x41, // advance_loc 1 → 0x1001
    0x0e, ...uleb(16), // def_cfa_offset 16
    0x86, 2, // offset r6 at cfa-16
    0x02, 2, // advance_loc1 2 → 0x1003
    0x0d, 6, // def_cfa_register r6
    0x14, 3, ...uleb(1), // val_offset r3 = cfa-8
    0x15, 12, ...sleb(2), // val_offset_sf r12 = cfa-16
    0x09, 13, 14, // register r13 in r14
    0x08, 15, // same_value r15
    0x07, 1, // undefined r1
    0x05, 2, ...uleb(3), // offset_extended r2 at cfa-24
    0x11, 4, ...sleb(4), // offset_extended_sf r4 at cfa-32
    0x2f, 5, ...uleb(5), // GNU_negative_offset_extended r5 at cfa+40
    0x2e, ...uleb(32), // GNU_args_size (ignored)
    0x03, ...[0x10, 0x00], // advance_loc2 16 → 0x1013
    0x0a, // remember_state
    0x12, 7, ...sleb(-1), // def_cfa_sf rsp + 8
    0xc6, // restore r6 (no initial rule: gone)
    0x06, 2, // restore_extended r2
    0x04, ...u32(0x10), // advance_loc4 16 → 0x1023
    0x0b, // restore_state → as at 0x1013
    0x01, ...u64(0x1040), // set_loc 0x1040
    0x13, ...sleb(-3), // def_cfa_offset_sf 24
    0x10, 3, 1, 0x50, // expression r3 (DW_OP_reg0)
    0x16, 12, 1, 0x50, // val_expression r12
    0x41, 0x0f, 2, 0x77, 0x08, // advance 1 → 0x1041; def_cfa_expression (breg7 8)
  ];
  const fde = entry([...u32(0), ...u64(0x1000), ...u64(0x100), ...code]);
  const { rows: r, warnings } = rows({ bytes: Uint8Array.from([...CIE_V1, ...fde]), address: 0, kind: 'debug_frame' }, [0x1000, 0x1001, 0x1003, 0x1012, 0x1013, 0x1023, 0x1040, 0x1041, 0x10ff]);
  assert.deepEqual(warnings, []);
  const ra = '16:{"kind":"offset","offset":-8}';
  assert.equal(text(r[0]), `7+8 ra=16 ${ra}`);
  assert.equal(text(r[1]), `7+16 ra=16 6:{"kind":"offset","offset":-16} ${ra}`);
  const full = '1:{"kind":"undefined"} 2:{"kind":"offset","offset":-24} 3:{"kind":"valOffset","offset":-8} 4:{"kind":"offset","offset":-32} 5:{"kind":"offset","offset":40} 6:{"kind":"offset","offset":-16} 12:{"kind":"valOffset","offset":-16} 13:{"kind":"register","register":14} 15:{"kind":"same"} ' + ra;
  assert.equal(text(r[2]), `6+16 ra=16 ${full}`);
  assert.equal(text(r[3]), `6+16 ra=16 ${full}`);
  assert.equal(text(r[4]), `7+8 ra=16 ${full.replace('2:{"kind":"offset","offset":-24} ', '').replace('6:{"kind":"offset","offset":-16} ', '')}`);
  assert.equal(text(r[5]), `6+16 ra=16 ${full}`);
  const withExp = full.replace('3:{"kind":"valOffset","offset":-8}', '3:{"kind":"expression"}').replace('12:{"kind":"valOffset","offset":-16}', '12:{"kind":"valExpression"}');
  assert.equal(text(r[6]), `6+24 ra=16 ${withExp}`);
  assert.equal(text(r[7]), `exp ra=16 ${withExp}`);
  assert.equal(text(r[8]), `exp ra=16 ${withExp}`);
});

test('CIE versions 3 and 4 (address and segment sizes), and 64-bit DWARF entries', () => {
  const code = [0x41, 0x0e, 16];
  const v3 = entry([...u32(0xffffffff), 3, ...str(''), ...uleb(1), ...sleb(-4), ...uleb(8), 0x0c, 4, 4, 0x88, 1]);
  const f3 = entry([...u32(0), ...u32(0x2000), ...u32(0x10), ...code]);
  const r3 = rows({ bytes: Uint8Array.from([...v3, ...f3]), address: 0, kind: 'debug_frame' }, [0x2000, 0x2001], 32).rows;
  assert.deepEqual([text(r3[0]), text(r3[1])], ['4+4 ra=8 8:{"kind":"offset","offset":-4}', '4+16 ra=8 8:{"kind":"offset","offset":-4}']);
  const v4 = entry([...u32(0xffffffff), 4, ...str(''), 8, 0, ...uleb(1), ...sleb(-8), ...uleb(16), 0x0c, 7, 8]);
  const f4 = entry([...u32(0), ...u64(0x3000), ...u64(0x10), ...code]);
  assert.equal(text(rows({ bytes: Uint8Array.from([...v4, ...f4]), address: 0, kind: 'debug_frame' }, [0x3005]).rows[0]), '7+16 ra=16 ');
  // 64-bit DWARF: 0xffffffff, then an 8-byte length; CIE id all ones; CIE pointer 8 bytes.
  const body64 = [...u64(2 ** 53 - 1).map(() => 0xff), 1, ...str(''), ...uleb(1), ...sleb(-8), 16, 0x0c, 7, 8];
  const cie64 = [...u32(0xffffffff), ...u64(body64.length), ...body64];
  const fbody = [...u64(0), ...u64(0x4000), ...u64(0x10), ...code];
  const fde64 = [...u32(0xffffffff), ...u64(fbody.length), ...fbody];
  assert.equal(text(rows({ bytes: Uint8Array.from([...cie64, ...fde64]), address: 0, kind: 'debug_frame' }, [0x4001]).rows[0]), '7+16 ra=16 ');
});

test('.eh_frame: "zR" pc-relative sdata4 addresses, "zPLR" with personality and LSDA, the CIE pointer relative to the FDE', () => {
  const at = 0x500000;
  // CIE "zR": augmentation data = FDE encoding pcrel|sdata4 (0x1b).
  const cie = entry([...u32(0), 1, ...str('zR'), ...uleb(1), ...sleb(-8), 16, ...uleb(1), 0x1b, 0x0c, 7, 8, 0x90, 1]);
  const fdePos = cie.length;
  const target = 0x401000;
  const pcField = fdePos + 8;
  const fde = entry([...u32(fdePos + 4), ...u32((target - (at + pcField)) >>> 0), ...u32(0x20), ...uleb(0), 0x41, 0x0e, 16]);
  const bytes = Uint8Array.from([...cie, ...fde, ...u32(0)]);
  const { rows: r } = rows({ bytes, address: at, kind: 'eh_frame' }, [target, target + 1]);
  assert.deepEqual(r.map(text), ['7+8 ra=16 16:{"kind":"offset","offset":-8}', '7+16 ra=16 16:{"kind":"offset","offset":-8}']);
  // "zPLR": personality (udata4 0x03), LSDA encoding, FDE encoding absptr (0x00); FDE augmentation data (LSDA pointer) skipped.
  const cie2 = entry([...u32(0), 1, ...str('zPLR'), ...uleb(1), ...sleb(-8), 16, ...uleb(7), 0x03, ...u32(0x1234), 0x03, 0x00, 0x0c, 7, 8]);
  const fde2 = entry([...u32(cie2.length + 4), ...u64(0x402000), ...u64(0x10), ...uleb(4), ...u32(0), 0x42, 0x0e, 24]);
  const r2 = rows({ bytes: Uint8Array.from([...cie2, ...fde2]), address: at, kind: 'eh_frame' }, [0x402001, 0x402002]).rows;
  assert.deepEqual(r2.map(text), ['7+8 ra=16 ', '7+24 ra=16 ']);
});

test('malformed: an unknown instruction or a truncated operand ends the program with a warning (the row so far kept); a bad CIE skips its FDEs', () => {
  const fde = entry([...u32(0), ...u64(0x1000), ...u64(0x10), 0x41, 0x0e, 16, 0x3f, 0x0e, 32]);
  const r = rows({ bytes: Uint8Array.from([...CIE_V1, ...fde]), address: 0, kind: 'debug_frame' }, [0x1005]);
  assert.equal(r.rows[0].cfa?.offset, 16);
  assert.match(r.warnings.join('\n'), /unknown call frame instruction 0x3f/);
  const cut = entry([...u32(0), ...u64(0x1000), ...u64(0x10), 0x41, 0x0c, 0x87]);
  const r2 = rows({ bytes: Uint8Array.from([...CIE_V1, ...cut]), address: 0, kind: 'debug_frame' }, [0x1005]);
  assert.equal(r2.rows[0].cfa?.offset, 8);
  assert.ok(r2.warnings.length > 0);
  const warnings: string[] = [];
  const badCie = entry([...u32(0xffffffff), 9, ...str(''), 1, 0x78, 16]);
  assert.deepEqual(readFrameEntries({ bytes: Uint8Array.from([...badCie, ...fde]), address: 0, kind: 'debug_frame' }, 64, warnings), []);
  assert.match(warnings.join('\n'), /version 9/);
  // An entry whose length runs past the section: a warning, nothing read, no exception.
  const w2: string[] = [];
  assert.deepEqual(readFrameEntries({ bytes: Uint8Array.from([0xff, 0, 0, 0, 1, 2]), address: 0, kind: 'debug_frame' }, 64, w2), []);
  assert.equal(w2.length, 1);
});
