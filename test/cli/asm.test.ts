import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, guestFile, lastJson, ROOT } from './helpers';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

test('vtx asm writes the flat binary and a listing; errors are file:line:column on stderr with status 1', () => {
  const src = guestFile(text('bits 16\norg 0x7c00\nstart: mov ax, 1\njmp start\n'), 'ok.asm');
  const out = src.replace(/\.asm$/, '.bin');
  const lst = src.replace(/\.asm$/, '.lst');
  const r = cli('asm', src, '-o', out, '--listing', lst);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Buffer.from(readFileSync(out)).toString('hex'), 'b80100ebfb');
  assert.match(readFileSync(lst, 'utf8'), /^\s+3\s+00007C00\s+B8 01 00\s+start: mov ax, 1$/m);
  assert.match(readFileSync(lst, 'utf8'), /0000000000007C00\s+label\s+start/);
  const bad = guestFile(text('nop\nmov al, bx\nfoo:\nfoo:\n'), 'bad.asm');
  const e = cli('asm', bad, '-o', out);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /bad\.asm:2:1: error: invalid combination of opcode and operands for 'mov' \(r8, r16\) in 16-bit code/);
  assert.match(e.stderr, /bad\.asm:4:1: error: symbol 'foo' is already defined/);
  assert.equal(cli('asm', src).code, 2, 'no -o is a usage error');
});

test('vtx run assembles an .asm guest: org is the load address, the first bits the mode', () => {
  const r = cli('run', join(ROOT, 'test/guests/hello-real.asm'), '--json');
  const j = lastJson(r.stdout);
  assert.equal(j.stopReason, 'SystemDown');
  assert.equal(j.exitDevice, 'ACPI power-off (SystemDown)');
  assert.equal(j.mode, 'real');
  assert.match(j.serial ?? '', /PASS/);
  const bad = guestFile(text('bits 64\nmov rax, [nowhere]\n'), 'badrun.asm');
  const e = cli('run', bad);
  assert.equal(e.code, 2);
  assert.match(e.stderr, /badrun\.asm:2:\d+: error: symbol 'nowhere' is not defined/);
});
