/**
 * NASM spellings and rules the generated form corpus (iced's mnemonics) cannot reach, each checked
 * against nasm itself: the sized returns (RETFQ & co.), near JMP/CALL through memory in 64-bit
 * code without a size, %macro names case-sensitive and %imacro not, and the label-orphan warning
 * for a name alone on a line (a misspelt instruction would otherwise assemble to nothing).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../../src/language/asm/assembler';
import { hasNasm } from './nasmCompare';

const NASM = hasNasm();
const dir = mkdtempSync(join(tmpdir(), 'vtx-spell-'));
let n = 0;

/** nasm's bytes and warnings for `text`. */
function nasm(text: string): { bytes: Buffer; warnings: string } {
  const src = join(dir, `t${n}.asm`);
  const out = join(dir, `t${n++}.bin`);
  writeFileSync(src, text);
  let warnings = '';
  try {
    execFileSync('nasm', ['-f', 'bin', '-o', out, src], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`nasm failed: ${String((e as { stderr?: Buffer }).stderr)}`);
  }
  warnings = execFileSync('sh', ['-c', `nasm -f bin -o /dev/null ${src} 2>&1 || true`], { encoding: 'utf8' });
  return { bytes: readFileSync(out), warnings };
}

function same(text: string): void {
  const r = assemble(text);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(Buffer.from(r.bytes).equals(nasm(text).bytes), `vtx ${Buffer.from(r.bytes).toString('hex')} vs nasm ${nasm(text).bytes.toString('hex')}`);
}

describe('NASM spellings and rules, against nasm', () => {
  it('sized returns: RETW/RETD/RETQ, RETNW/RETND/RETNQ, RETFW/RETFD/RETFQ in each mode, with and without an immediate', (t) => {
    if (!NASM) { t.skip('nasm is not installed (CI installs it)'); return; }
    same('bits 64\nretfq\nretfq 8\nretfd\nretfw\nretq\nretnq 4\nretw\nretnw 2\nretf\n');
    same('bits 32\nretfd\nretfw 4\nretd\nretnd\nretw\nretf\n');
    same('bits 16\nretfd\nretfw\nretd 6\nretw\nretnw\n');
  });

  it('a sized return contradicted by an operand-size prefix is an error, not a silent choice', () => {
    const r = assemble('bits 64\no16 retfq\n');
    assert.ok(r.diagnostics.some((d) => d.severity === 'error' && /64-bit return/.test(d.message)));
  });

  it('near JMP/CALL [mem] without a size in 64-bit code take qword (far ones m16:64); PUSH [mem] still needs a size', (t) => {
    if (!NASM) { t.skip('nasm is not installed (CI installs it)'); return; }
    same('bits 64\njmp [x]\ncall [x]\njmp far [x]\ncall far [x]\njmp [rax+8]\nx: dq 0\n');
    same('bits 32\njmp [x]\ncall [x]\nx: dd 0\n');
    const r = assemble('bits 64\npush [x]\nx: dq 0\n');
    assert.ok(r.diagnostics.some((d) => d.severity === 'error' && /operation size not specified/.test(d.message)));
  });

  it('%macro names are case-sensitive, %imacro names are not', (t) => {
    const text = '%macro VMW 0\nnop\n%endmacro\n%imacro Pause2 0\npause\npause\n%endmacro\nbits 64\nvmw: jmp vmw\nVMW\npause2\nPAUSE2\n';
    const r = assemble(text);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
    // `vmw:` is a label (the macro is VMW), `VMW` expands to NOP, both pause2 spellings to PAUSE PAUSE.
    assert.equal(Buffer.from(r.bytes).toString('hex'), 'ebfe' + '90' + 'f390f390' + 'f390f390');
    if (!NASM) { t.skip('nasm is not installed (CI installs it)'); return; }
    same(text);
  });

  it('a name alone on a line warns as nasm does (a misspelt instruction such as "retfqq" is not silently a label)', (t) => {
    const r = assemble('bits 64\nretfqq\nnop\n');
    const w = r.diagnostics.filter((d) => d.severity === 'warning');
    assert.equal(w.length, 1);
    assert.match(w[0].message, /label 'retfqq' alone on a line without a colon/);
    assert.equal(w[0].line, 2);
    assert.equal(assemble('bits 64\nfoo:\nnop\n').diagnostics.length, 0, 'with a colon: no warning');
    if (!NASM) { t.skip('nasm is not installed (CI installs it)'); return; }
    assert.match(nasm('bits 64\nretfqq\nnop\n').warnings, /label alone on a line without a colon/);
  });
});
