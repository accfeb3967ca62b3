import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers';

// Issue 9: each example a newcomer opens "has a short README comment at its top" — what it is,
// and for the guests how to run it.

const dir = join(ROOT, 'examples');

test('every examples/*.asm opens with a comment naming it, saying what it is and how to run it', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.asm'));
  assert.ok(files.length >= 10, files.join(', '));
  for (const f of files) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    assert.match(lines[0], new RegExp(`^; ${f.replace('.', '\\.')} — \\S`), `${f}: first line`);
    const top = lines.slice(0, lines.findIndex((l) => !l.startsWith(';')));
    assert.ok(top.length >= 3, `${f}: a top comment of a few lines`);
    assert.ok(top.some((l) => /vtx run examples\//.test(l)), `${f}: the top comment says how to run it`);
  }
});

test('the C kernel example\'s files open with a comment saying what they are', () => {
  const c = readFileSync(join(dir, 'c-kernel', 'kernel.c'), 'utf8');
  assert.match(c, /^\/\*\n \* c-kernel: .+\n(?: \*.*\n)*? \* What it teaches: /);
  assert.match(readFileSync(join(dir, 'c-kernel', 'link.ld'), 'utf8'), /^\/\* The c-kernel example: /);
  assert.match(readFileSync(join(dir, 'c-kernel', 'Makefile'), 'utf8'), /^# c-kernel: builds kernel\.elf/);
  assert.match(readFileSync(join(dir, '.vscode', 'launch.json'), 'utf8'), /^\/\/ vtx launch configurations for the examples/);
  assert.match(readFileSync(join(dir, '.vscode', 'tasks.json'), 'utf8'), /^\/\/ Tasks for the examples/);
});
