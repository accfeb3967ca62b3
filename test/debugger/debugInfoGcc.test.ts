/**
 * Debug information of programs gcc builds at test time, against binutils as the oracle:
 * every row of the DWARF line table (DWARF 2, 3, 4 and 5; ELF64 and, when gcc can, ELF32;
 * -O0 and -O1) equals `readelf --debug-dump=decodedline`, the symbols equal `readelf -s`, and
 * the LineTable queries equal reference scans over readelf's rows. Relative sources (cwd-relative
 * names, -I directories) must come out as absolute paths under the compilation directory.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDebugInfo } from '../../src/debugger/debugInfo';
import type { RowLineTable } from '../../src/debugger/debugInfo/lineTable';
import type { DebugInfo } from '../../src/debugger/model';
import {
  asOracle, hasTool, nmAddresses, readelfLines, readelfSymbols, refBind, refIsStmt, refLineAt, sequences,
} from './dwarfOracle';

/** The test guests (the C kernel, nasm sources) and the kernel's flags (as test/guests/harness.ts builds it, plus -g). */
const GUEST_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'guests');
const KERNEL_CFLAGS = [
  '-m32', '-ffreestanding', '-nostdlib', '-fno-pic', '-fno-pie', '-no-pie', '-static', '-O2',
  '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-mno-sse', '-mno-mmx', '-g',
];

const TOOLS = hasTool('gcc') && hasTool('readelf') && hasTool('nm');
const dir = mkdtempSync(join(tmpdir(), 'vtx-dbginfo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SOURCES: Record<string, string> = {
  'inc/util.h': `static inline int twice(int x) {
  return x * 2;
}
int helper(int v);
`,
  'src/main.c': `#include "util.h"
volatile int counter;
int table[4] = {1, 2, 3, 4};

int main(void) {
  int s = 0;
  for (int i = 0; i < 4; i++) {
    s += twice(table[i]);
    counter++;
  }
  switch (s & 3) {
  case 0: s += 7; break;
  case 1: s -= 3; break;
  default: s ^= 5;
  }
  return helper(s);
}
`,
  'src/helper.c': `#include "util.h"
static int calls;

__attribute__((noinline)) static int mul(int a) {
  return a * 3;
}

int helper(int v) {
  calls++;
  if (v > 10)
    return mul(v) - 1;
  return twice(v) + 1;
}
`,
};
for (const [name, text] of Object.entries(SOURCES)) {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(join(dir, name), text);
}
const PROGRAM_NAMES = ['main', 'helper', 'table', 'counter', 'calls', 'mul'];
const EXPECTED_FILES = [join(dir, 'inc/util.h'), join(dir, 'src/helper.c'), join(dir, 'src/main.c')];

const M32 = TOOLS && (() => {
  try {
    execFileSync('gcc', ['-m32', '-ffreestanding', '-nostdlib', '-static', '-Wl,-e,main', '-Iinc', '-o', join(dir, 'probe32'), 'src/main.c', 'src/helper.c'], { cwd: dir, stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

/** Compile the program with cwd-relative source names (so DWARF paths are relative to the compilation directory). */
function build(name: string, flags: string[]): { path: string; bytes: Uint8Array } {
  const out = join(dir, name);
  execFileSync('gcc', [
    ...flags, '-ffreestanding', '-nostdlib', '-static', '-fno-pie', '-no-pie', '-fno-asynchronous-unwind-tables',
    '-Wl,-e,main', '-Wl,--build-id=none', '-Iinc', '-o', out, 'src/main.c', 'src/helper.c',
  ], { cwd: dir, stdio: 'pipe' });
  return { path: out, bytes: new Uint8Array(readFileSync(out)) };
}

function load(path: string, bytes: Uint8Array, format: 'elf' | 'multiboot' = 'elf'): DebugInfo {
  return loadDebugInfo({ path, bytes, format });
}

/** Every check against the oracle for one file; `names` are sized symbols to look up. */
function checkAgainstOracle(path: string, info: DebugInfo, expectedFiles: string[], names: string[]): void {
  assert.equal(info.warnings, undefined, `no warnings for ${path}: ${info.warnings?.join('; ')}`);
  assert.ok(info.lines, 'a line table');
  const lines = info.lines as RowLineTable;
  const oracle = readelfLines(path);
  assert.ok(oracle.length > 10, 'readelf printed rows');
  assert.deepEqual(asOracle(lines.rows), oracle, 'rows equal readelf --debug-dump=decodedline');
  assert.deepEqual([...lines.files()], expectedFiles, 'absolute source paths');
  for (const f of lines.files()) assert.ok(f.startsWith('/'), `${f} is absolute`);

  const seqs = sequences(oracle);
  const lo = Math.min(...oracle.map((r) => r.address));
  const hi = Math.max(...oracle.map((r) => r.address));
  for (let a = lo - 2; a <= hi + 2; a++) {
    const got = lines.lineAt(a);
    const want = refLineAt(seqs, a);
    assert.deepEqual(got && { base: got.file.split('/').pop(), line: got.line }, want, `lineAt(0x${a.toString(16)})`);
    assert.equal(lines.isStatementStart(a), refIsStmt(oracle, a), `isStatementStart(0x${a.toString(16)})`);
  }
  for (const file of lines.files()) {
    const base = file.split('/').pop()!;
    const maxLine = Math.max(...oracle.filter((r) => r.base === base).map((r) => r.line ?? 0));
    for (let line = 1; line <= maxLine + 1; line++) {
      const want = refBind(seqs, base, line);
      assert.deepEqual(lines.bind(file, line), want, `bind(${base}, ${line}) by absolute path`);
      assert.deepEqual(lines.bind(base, line), want, `bind(${base}, ${line}) by base name`);
    }
  }

  const absolute = new Map<string, number>();
  const syms = readelfSymbols(path, absolute);
  assert.ok(syms.length >= 4, 'readelf printed symbols');
  const key = (s: { name: string; address: number; size: number; kind: string }) => `${s.name}@${s.address}/${s.size}/${s.kind}`;
  assert.deepEqual(info.symbols.all().map(key).sort(), syms.map(key).sort(), 'symbols equal readelf -s');
  const all = info.symbols.all();
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].address <= all[i].address, 'all() sorted by address');
  const nm = nmAddresses(path);
  for (const name of names) {
    assert.equal(info.symbols.lookup(name), nm.get(name), `lookup(${name}) = nm`);
    const f = syms.find((s) => s.name === name)!;
    assert.deepEqual(info.symbols.nameAt(f.address + f.size - 1), { name, offset: f.size - 1 }, `nameAt inside ${name}`);
  }
  assert.equal(info.symbols.lookup('no_such_symbol'), undefined);
  for (const [name, value] of absolute) {
    if (!syms.some((x) => x.name === name)) assert.equal(info.symbols.lookup(name), value, `absolute ${name}`);
  }
}

const VERSIONS = [2, 3, 4, 5] as const;
for (const bits of [64, 32] as const) {
  for (const v of VERSIONS) {
    test(`gcc -m${bits} -gdwarf-${v} -O1: line table, symbols and queries equal binutils`, (t) => {
      if (!TOOLS) return t.skip('gcc/readelf/nm not installed');
      if (bits === 32 && !M32) return t.skip('gcc cannot build -m32 here');
      const { path, bytes } = build(`o1-${bits}-v${v}`, [`-m${bits}`, `-gdwarf-${v}`, '-O1']);
      const info = load(path, bytes);
      checkAgainstOracle(path, info, EXPECTED_FILES, PROGRAM_NAMES);
      // Known answers of this program: the function's first row is its opening line, at the symbol.
      const lines = info.lines!;
      const main = info.symbols.lookup('main')!;
      assert.deepEqual(lines.bind(join(dir, 'src/main.c'), 1), { line: 5, addresses: [main] });
      assert.equal(lines.lineAt(main)?.line, 5);
      assert.equal(lines.bind(join(dir, 'src/helper.c'), 7)?.line, 8);
      assert.ok(lines.isStatementStart(main));
    });
  }
}

for (const v of [4, 5] as const) {
  test(`gcc -gdwarf-${v} -O0: line table and queries equal binutils`, (t) => {
    if (!TOOLS) return t.skip('gcc/readelf/nm not installed');
    const { path, bytes } = build(`o0-v${v}`, [`-gdwarf-${v}`, '-O0']);
    const info = load(path, bytes);
    checkAgainstOracle(path, info, EXPECTED_FILES, PROGRAM_NAMES);
    // At -O0 every statement line of main has its own row: `counter++` (line 9) binds to itself.
    assert.equal(info.lines!.bind('main.c', 9)?.line, 9);
    assert.equal(info.lines!.bind('main.c', 9)?.addresses.length, 1);
  });
}

test('the C test kernel (gcc -m32 -O2 -g, linker script) equals binutils; a multiboot ELF reads the same', (t) => {
  if (!TOOLS) return t.skip('gcc/readelf/nm not installed');
  if (!M32) return t.skip('gcc cannot build -m32 here');
  const out = join(dir, 'kernel.elf');
  execFileSync('gcc', [
    ...KERNEL_CFLAGS, `-Wl,-T,${join(GUEST_DIR, 'kernel.ld')}`, '-Wl,--build-id=none',
    '-Wl,--no-warn-rwx-segments', '-o', out, join(GUEST_DIR, 'kernel.c'),
  ], { stdio: 'pipe' });
  const bytes = new Uint8Array(readFileSync(out));
  const info = load(out, bytes);
  checkAgainstOracle(out, info, [join(GUEST_DIR, 'kernel.c')], ['kmain', 'isr', 'putu', 'page_dir', 'idt', 'stack']);
  assert.deepEqual(asOracle((load(out, bytes, 'multiboot').lines as RowLineTable).rows), asOracle((info.lines as RowLineTable).rows));
});

test('nasm -f elf64 -g -F dwarf (DWARF 3 from an assembler, %include files) equals binutils; equ constants by lookup only', (t) => {
  if (!TOOLS || !hasTool('nasm', ['-v'])) return t.skip('nasm/readelf/nm not installed');
  const obj = join(dir, 'elf64.o'), out = join(dir, 'elf64.elf');
  execFileSync('nasm', ['-f', 'elf64', '-g', '-F', 'dwarf', '-I', GUEST_DIR + '/', '-o', obj, join(GUEST_DIR, 'elf64.asm')], { stdio: 'pipe' });
  execFileSync('ld', ['-m', 'elf_x86_64', '-N', '-Ttext=0x200000', '-e', '_start', '--build-id=none', '--no-warn-rwx-segments', '-o', out, obj], { stdio: 'pipe' });
  const info = load(out, new Uint8Array(readFileSync(out)));
  checkAgainstOracle(out, info, [join(GUEST_DIR, 'elf64.asm'), join(GUEST_DIR, 'serial.inc')], ['m_hello']);
  assert.equal(info.symbols.lookup('COM1'), 0x3f8);
  assert.ok(!info.symbols.all().some((s) => s.name === 'COM1'), 'an equ is not an address');
  assert.equal(info.symbols.lookup('_start'), 0x200000);
  assert.deepEqual(info.symbols.nameAt(info.symbols.lookup('puts')! + 3), { name: 'puts', offset: 3 });
});

test('compressed debug sections (gcc -gz, SHF_COMPRESSED zlib) read like uncompressed ones', (t) => {
  if (!TOOLS) return t.skip('gcc/readelf/nm not installed');
  const plain = build('gz-plain', ['-gdwarf-5', '-O1']);
  let packed: { path: string; bytes: Uint8Array };
  try {
    packed = build('gz-zlib', ['-gdwarf-5', '-O1', '-gz=zlib']);
  } catch {
    return t.skip('this gcc/ld cannot compress debug sections');
  }
  const sections = execFileSync('readelf', ['-SW', packed.path], { encoding: 'utf8' });
  assert.match(sections, /\.debug_line\s+PROGBITS.*\bC\b/, '.debug_line is compressed');
  const a = load(plain.path, plain.bytes), b = load(packed.path, packed.bytes);
  assert.equal(b.warnings, undefined);
  assert.deepEqual((b.lines as RowLineTable).rows, (a.lines as RowLineTable).rows);
  assert.deepEqual(b.lines!.files(), EXPECTED_FILES);
});

test('an executable without -g has symbols and no line table; a relocatable object gives a warning, not an exception', (t) => {
  if (!TOOLS) return t.skip('gcc/readelf/nm not installed');
  const nodebug = build('nodebug', ['-O1']);
  const info = load(nodebug.path, nodebug.bytes);
  assert.equal(info.lines, null);
  assert.equal(info.warnings, undefined);
  assert.equal(info.symbols.lookup('main'), nmAddresses(nodebug.path).get('main'));

  const obj = join(dir, 'main.o');
  execFileSync('gcc', ['-c', '-g', '-Iinc', '-o', obj, 'src/main.c'], { cwd: dir, stdio: 'pipe' });
  const rel = load(obj, new Uint8Array(readFileSync(obj)));
  assert.equal(rel.lines, null);
  assert.deepEqual(rel.symbols.all(), []);
  assert.ok(rel.warnings?.some((w) => /relocatable|not an executable/.test(w)), String(rel.warnings));
});
