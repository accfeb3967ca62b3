/**
 * The C kernel example (examples/c-kernel, issue 9: "a C kernel built with gcc (Multiboot) for
 * source-level debugging with DWARF"): the committed kernel.elf and a fresh `make` of its source
 * (gcc at test time, the Makefile's own flags) both run under the built-in hypervisor to
 * SystemDown with the serial text the source's comment promises, and the ELF carries the line
 * table and symbols a source-level debugger needs (kmain's lines bind to addresses inside kmain).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, lastJson, ROOT } from './helpers';
import { loadDebugInfo } from '../../src/debugger/debugInfo';

const DIR = join(ROOT, 'examples', 'c-kernel');
const SERIAL = 'hello from C\nhypervisor: vtxvtxvtxvtx\nprimes: 2 3 5 7 11 13 17 19 23 29 31 37 41 43 47\ncount: 15\n';

function build(): string {
  const out = mkdtempSync(join(tmpdir(), 'vtx-ckernel-'));
  for (const f of ['kernel.c', 'link.ld', 'Makefile']) cpSync(join(DIR, f), join(out, f));
  const r = spawnSync('make', ['-s', 'kernel.elf'], { cwd: out, encoding: 'utf8' });
  assert.equal(r.status, 0, `make failed:\n${r.stdout}${r.stderr}`);
  return join(out, 'kernel.elf');
}

function runsAsPromised(elf: string): void {
  const r = cli('run', elf, '--json');
  const j = lastJson(r.stdout);
  assert.equal(j.stopReason, 'SystemDown', r.stdout + r.stderr);
  assert.equal(j.serial, SERIAL);
  assert.equal(j.format, 'multiboot');
  assert.equal((j.exits as Record<string, number>).CPUID, 1, 'the one CPUID of the hypervisor leaf');
}

function hasSourceLines(elf: string): void {
  const info = loadDebugInfo({ path: elf, bytes: readFileSync(elf), format: 'elf' });
  assert.ok(info.lines !== null, 'a DWARF line table');
  const kmain = info.symbols.lookup('kmain');
  assert.ok(kmain !== undefined, 'the kmain symbol');
  const src = readFileSync(join(DIR, 'kernel.c'), 'utf8').split('\n');
  const hello = src.findIndex((l) => l.includes('puts("hello from C\\n")')) + 1;
  const bound = info.lines.bind(join(DIR, 'kernel.c'), hello) ?? info.lines.bind('kernel.c', hello);
  assert.ok(bound !== undefined && bound.addresses.length > 0, `line ${hello} of kernel.c binds`);
  assert.equal(info.symbols.nameAt(bound.addresses[0])?.name, 'kmain');
  assert.equal(info.lines.lineAt(bound.addresses[0])?.line, hello);
}

describe('examples/c-kernel', () => {
  it('the committed kernel.elf runs to SystemDown with the promised serial text and has source lines', () => {
    const elf = join(DIR, 'kernel.elf');
    runsAsPromised(elf);
    hasSourceLines(elf);
  });

  const gcc = spawnSync('gcc', ['-m32', '-print-libgcc-file-name'], { encoding: 'utf8' });
  it('a fresh `make` of the source (gcc -m32 -g) runs the same and has source lines', { skip: gcc.status !== 0 ? 'gcc with -m32 support is not installed (.ci/run installs gcc and libc6-dev)' : false }, () => {
    const elf = build();
    runsAsPromised(elf);
    hasSourceLines(elf);
  });
});
