/**
 * Sources of a program built elsewhere: DWARF records the absolute paths a program was compiled
 * at; when the tree has moved (another checkout, another machine, CI), the debugger finds each
 * missing source by its trailing path components under the program's directory and above it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDebugInfo } from '../../src/debugger/debugInfo';
import { sourceRelocator } from '../../src/debugger/debugInfo/sourceRelocation';
import { hasTool } from './dwarfOracle';

const tmp = mkdtempSync(join(tmpdir(), 'vtx-reloc-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const existing = (files: string[]) => {
  const set = new Set(files);
  return (p: string) => set.has(p);
};

test('an existing source keeps its recorded path, even when a moved copy exists', () => {
  const r = sourceRelocator('/home/me/tree/out', existing(['/build/tree/src/a.c', '/home/me/tree/src/a.c']));
  assert.equal(r('/build/tree/src/a.c'), '/build/tree/src/a.c');
});

test('a missing source is found by its longest trailing path under the program directory or above it', () => {
  const r = sourceRelocator('/home/me/tree/out', existing(['/home/me/tree/src/a.c', '/home/me/tree/out/a.c', '/home/me/tree/inc/drv/uart.h']));
  // "tree/src/a.c" is not under any ancestor; "src/a.c" is under /home/me/tree (before "a.c" under out/).
  assert.equal(r('/build/tree/src/a.c'), '/home/me/tree/src/a.c');
  assert.equal(r('/build/tree/inc/drv/uart.h'), '/home/me/tree/inc/drv/uart.h');
  // The nearest directory wins for a suffix found at several levels.
  const near = sourceRelocator('/a/b/c', existing(['/a/b/c/k.c', '/a/k.c']));
  assert.equal(near('/gone/k.c'), '/a/b/c/k.c');
});

test('a source found nowhere, a relative name and an empty name are left as recorded', () => {
  const seen: string[] = [];
  const r = sourceRelocator('/p', (f) => (seen.push(f), false));
  assert.equal(r('/nowhere/x.c'), '/nowhere/x.c');
  assert.equal(r('rel/x.c'), 'rel/x.c');
  assert.equal(r(''), '');
  const calls = seen.length;
  assert.equal(r('/nowhere/x.c'), '/nowhere/x.c');
  assert.equal(seen.length, calls, 'looked up once per recorded path');
});

test('Windows-style recorded paths are matched by their trailing components too', () => {
  const r = sourceRelocator('/home/me/tree', existing(['/home/me/tree/src/a.c']));
  assert.equal(r('C:\\build\\tree\\src\\a.c'), '/home/me/tree/src/a.c');
});

test('a gcc-built program whose tree moved: every line row names the moved sources', { skip: hasTool('gcc') ? false : 'gcc is not installed' }, () => {
  const built = join(tmp, 'built', 'tree');
  mkdirSync(join(built, 'src'), { recursive: true });
  mkdirSync(join(built, 'inc'), { recursive: true });
  writeFileSync(join(built, 'inc', 'twice.h'), 'static inline int twice(int x) {\n  return x * 2;\n}\n');
  writeFileSync(join(built, 'src', 'main.c'), '#include "twice.h"\nvolatile int v;\nvoid _start(void) {\n  v = twice(v);\n  for (;;) {}\n}\n');
  mkdirSync(join(built, 'out'));
  execFileSync('gcc', ['-g', '-O0', '-ffreestanding', '-nostdlib', '-static', '-fno-pie', '-no-pie', '-Iinc', '-o', 'out/prog.elf', 'src/main.c'], { cwd: built });
  const moved = join(tmp, 'moved', 'tree');
  mkdirSync(join(tmp, 'moved'));
  renameSync(built, moved);
  const program = join(moved, 'out', 'prog.elf');
  const info = loadDebugInfo({ path: program, bytes: new Uint8Array(readFileSync(program)), format: 'elf' });
  const files = [...info.lines!.files()].sort();
  assert.deepEqual(files, [join(moved, 'inc', 'twice.h'), join(moved, 'src', 'main.c')]);
});
