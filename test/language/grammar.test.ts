/**
 * The TextMate grammar, tokenized by vscode-textmate with the Oniguruma engine VS Code uses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INITIAL, Registry, parseRawGrammar, type IGrammar } from 'vscode-textmate';
import { OnigScanner, OnigString, loadWASM } from 'vscode-oniguruma';

const ROOT = join(__dirname, '..', '..');

async function grammar(scope: string): Promise<IGrammar> {
  const wasm = readFileSync(join(ROOT, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const files: Record<string, string> = { 'source.asm.vtx': 'vtx-asm.tmLanguage.json', 'source.asm.vtx.gas': 'vtx-gas.tmLanguage.json' };
  const registry = new Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new OnigScanner(p), createOnigString: (s: string) => new OnigString(s) }),
    loadGrammar: async (s) => {
      const f = files[s];
      if (f === undefined) return null;
      const path = join(ROOT, 'syntaxes', f);
      return parseRawGrammar(readFileSync(path, 'utf8'), path);
    },
  });
  const g = await registry.loadGrammar(scope);
  assert.ok(g !== null);
  return g;
}

/** token text → its innermost scope, for one line. */
function scopes(g: IGrammar, line: string): Record<string, string> {
  const r = g.tokenizeLine(line, INITIAL);
  const out: Record<string, string> = {};
  for (const t of r.tokens) {
    const text = line.slice(t.startIndex, t.endIndex).trim();
    if (text !== '') out[text] = t.scopes[t.scopes.length - 1];
  }
  return out;
}

describe('TextMate grammar', () => {
  it('scopes labels, mnemonics, registers, numbers, strings and comments', async () => {
    const g = await grammar('source.asm.vtx');
    const s = scopes(g, 'start:  mov eax, 0x2000   ; power off');
    assert.equal(s['start'], 'entity.name.function.label.asm.vtx');
    assert.equal(s['mov'], 'keyword.mnemonic.asm.vtx');
    assert.equal(s['eax'], 'variable.language.register.asm.vtx');
    assert.equal(s['0x2000'], 'constant.numeric.asm.vtx');
    assert.equal(s['; power off'], 'comment.line.semicolon.asm.vtx');
    const v = scopes(g, '    vmlaunch');
    assert.equal(v['vmlaunch'], 'keyword.control.vmx.asm.vtx');
    const d = scopes(g, "msg: db `hi\\n`, 'x', 0");
    assert.equal(d['db'], 'keyword.other.directive.asm.vtx');
    assert.equal(d['\\n'], 'constant.character.escape.asm.vtx');
    const p = scopes(g, '%macro EXPECT 4');
    assert.equal(p['%macro'], 'keyword.control.directive.asm.vtx');
    assert.equal(p['EXPECT'], 'entity.name.function.macro.asm.vtx');
    const r = scopes(g, '    rep movsb');
    assert.equal(r['rep'], 'storage.modifier.prefix.asm.vtx');
    assert.equal(r['movsb'], 'keyword.mnemonic.asm.vtx');
    const l = scopes(g, '.loop: mov byte [es:di], 0');
    assert.equal(l['.loop'], 'entity.name.label.local.asm.vtx');
    assert.equal(l['byte'], 'storage.type.size.asm.vtx');
  });
  it('reuses the patterns for GAS .S files with their own comments', async () => {
    const g = await grammar('source.asm.vtx.gas');
    const s = scopes(g, '  movl %eax, %ebx  # copy');
    assert.equal(s['# copy'], 'comment.line.asm.vtx.gas');
    assert.equal(s['%eax'], 'variable.language.register.asm.vtx.gas');
  });
});
