import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { precheckAsm, isAsmProgram } from '../../src/extension/asmPrecheck';

const dir = mkdtempSync(join(tmpdir(), 'vtx-precheck-'));
const write = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('assembling an .asm program before its debug session (errors to Problems)', () => {
  it('a program that assembles passes, warnings kept for Problems', () => {
    const r = precheckAsm(write('ok.asm', 'bits 16\norg 0x7c00\nmov ax, 1\nhlt\n'));
    assert.equal(r.ok, true);
    assert.equal(r.message, undefined);
  });

  it('errors stop the launch: the message names the first error with file:line:col and counts the rest; Problems gets each, by file', () => {
    const inc = write('inc.asm', 'mov ax, [bogus_label]\n');
    const main = write('bad.asm', `bits 16\nmov ax, 1\nfrobnicate ax\n%include "inc.asm"\n`);
    const r = precheckAsm(main);
    assert.equal(r.ok, false);
    assert.match(r.message ?? '', new RegExp(`^${main.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:1: .*frobnicate`));
    assert.match(r.message ?? '', /and 1 more error, see Problems/);
    assert.equal(r.byFile.get(main)?.length, 1);
    assert.equal(r.byFile.get(inc)?.[0].line, 1, 'the error in the included file is reported at its own file');
  });

  it('a missing file and an empty program are launch errors that name the file', () => {
    assert.match(precheckAsm(join(dir, 'nope.asm')).message ?? '', /cannot read the program '.*nope\.asm'/);
    assert.match(precheckAsm(write('empty.asm', '; nothing\n')).message ?? '', /assembles to nothing/);
  });

  it('recognises assembly programs by extension', () => {
    assert.deepEqual(['a.asm', 'b.NASM', 'c.bin', 'd.elf'].map(isAsmProgram), [true, true, false, false]);
  });
});
