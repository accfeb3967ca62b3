import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { andStop, asmFile, client, evaluate, launch, pc, POWEROFF } from './dapHarness';
import { buildElf } from '../vmm/elfBuilder';
import { assemble } from '../../src/language/asm/assembler';

const clients: DebugClient[] = [];
after(async () => {
  for (const dc of clients) await dc.stop();
});

test('an ELF64 guest: function breakpoints on its .symtab symbols, frames named after them', async () => {
  const src = `bits 64\norg 0x200000\nmain:\n  call fn\n${POWEROFF}fn:\n  mov r8, 0x42\n  ret\n`;
  const r = assemble(src, { bits: 64 });
  const sym = (n: string): number => Number(r.symbols.get(n)!.value);
  const elf = buildElf({
    bits: 64, entry: sym('main'), segments: [{ paddr: 0x200000, data: r.bytes }],
    symbols: [{ name: 'main', value: sym('main'), size: sym('fn') - sym('main'), info: 0x12 }, { name: 'fn', value: sym('fn'), size: r.bytes.length - (sym('fn') - 0x200000), info: 0x12 }],
  });
  const program = asmFile('').replace(/\.asm$/, '.elf');
  writeFileSync(program, elf);
  const dc = await client();
  clients.push(dc);
  await launch(dc, { program }, async () => {
    const b = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'fn' }] });
    assert.equal(b.body.breakpoints[0].verified, true);
  });
  assert.equal(await pc(dc), sym('main'));
  const s = await andStop(dc, dc.continueRequest({ threadId: 1 }));
  assert.equal(s.body.reason, 'function breakpoint');
  assert.equal(await pc(dc), sym('fn'));
  assert.equal((await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].name, 'fn');
  await andStop(dc, dc.stepOutRequest({ threadId: 1 }));
  assert.equal(await evaluate(dc, 'r8'), '0x42');
  assert.match((await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].name, /^main\+0x/);
});
