/**
 * readElfSections (src/vmm/loaders/elf.ts): the section headers of any ELF file with their
 * names, against `readelf -S`; extended section numbering (gABI: e_shnum = 0 and
 * e_shstrndx = SHN_XINDEX take their values from section 0); bad tables are LoadErrors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadError } from '../../src/vmm/loaders';
import { elfSectionBytes, readElfSections } from '../../src/vmm/loaders/elf';
import { elfWithSections } from '../debugger/dwarfBuilder';

const hasGcc = spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status === 0 && spawnSync('readelf', ['--version'], { stdio: 'ignore' }).status === 0;

test('readElfSections equals readelf -S on gcc executables (ELF64 and ELF32) and an object file', (t) => {
  if (!hasGcc) return t.skip('gcc/readelf not installed');
  const dir = mkdtempSync(join(tmpdir(), 'vtx-elfsec-'));
  try {
    writeFileSync(join(dir, 'a.c'), 'int x = 1;\nint main(void) { return x; }\n');
    const builds: Array<[string, string[]]> = [
      ['a64', ['-g', '-ffreestanding', '-nostdlib', '-static', '-Wl,-e,main']],
      ['a32', ['-m32', '-g', '-ffreestanding', '-nostdlib', '-static', '-Wl,-e,main']],
      ['a.o', ['-c', '-g']],
    ];
    for (const [name, flags] of builds) {
      try {
        execFileSync('gcc', [...flags, '-o', join(dir, name), join(dir, 'a.c')], { stdio: 'pipe' });
      } catch {
        continue; // no -m32 support here
      }
      const bytes = new Uint8Array(readFileSync(join(dir, name)));
      const got = readElfSections(bytes);
      const text = execFileSync('readelf', ['-SW', join(dir, name)], { encoding: 'utf8' });
      const want = [...text.matchAll(/^\s*\[\s*(\d+)\]\s+(\S*)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/gm)]
        .map((m) => ({ index: Number(m[1]), name: m[2] === 'NULL' ? '' : m[2], addr: parseInt(m[4], 16), offset: parseInt(m[5], 16), size: parseInt(m[6], 16) }));
      assert.ok(want.length > 5, 'readelf listed sections');
      assert.deepEqual(got.sections.map((s) => ({ index: s.index, name: s.name, addr: s.addr, offset: s.offset, size: s.size })), want, name);
      assert.equal(got.type, name === 'a.o' ? 1 : 2);
      assert.equal(got.bits, name === 'a32' ? 32 : 64);
      const text2 = got.sections.find((s) => s.name === '.text')!;
      assert.equal(elfSectionBytes(bytes, text2).length, text2.size);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('extended section numbering, no section table, and tables outside the file', () => {
  const bytes = elfWithSections(64, [{ name: '.one', data: [1, 2, 3] }, { name: '.two', data: [4] }]);
  const v = new DataView(bytes.buffer);
  const shoff = Number(v.getBigUint64(40, true));
  const plain = readElfSections(bytes);
  assert.deepEqual(plain.sections.map((s) => s.name), ['', '.one', '.two', '.shstrtab']);
  assert.deepEqual([...elfSectionBytes(bytes, plain.sections[1])], [1, 2, 3]);
  // e_shnum = 0 → section 0's sh_size; e_shstrndx = SHN_XINDEX → section 0's sh_link.
  const ext = bytes.slice();
  const ev = new DataView(ext.buffer);
  ev.setUint16(60, 0, true);
  ev.setUint16(62, 0xffff, true);
  ev.setBigUint64(shoff + 32, 4n, true);
  ev.setUint32(shoff + 40, 3, true);
  assert.deepEqual(readElfSections(ext).sections.map((s) => s.name), ['', '.one', '.two', '.shstrtab']);

  const none = bytes.slice();
  new DataView(none.buffer).setBigUint64(40, 0n, true);
  assert.deepEqual(readElfSections(none).sections, []);

  assert.throws(() => readElfSections(bytes.subarray(0, bytes.length - 10)), LoadError);
  const lying = plain.sections[1];
  assert.throws(() => elfSectionBytes(bytes, { ...lying, size: bytes.length }), /extends beyond the end of the file/);
  assert.throws(() => readElfSections(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])), /truncated ELF64 header/);
});
