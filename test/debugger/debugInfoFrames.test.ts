/**
 * Call frame information (src/debugger/debugInfo/dwarfFrameEntries.ts, dwarfCfa.ts,
 * unwindTable.ts) against binutils: at every address of every FDE, the row `DebugInfo.unwind`
 * gives (CFA and each register's rule) equals the row of `readelf --debug-dump=frames-interp`
 * in force there — for the committed C kernel (ELF32 .debug_frame) and for programs gcc builds at
 * test time: ELF64 .debug_frame with and without frame pointers, .eh_frame (ELF64 and ELF32,
 * pc-relative pointer encodings, augmentation data), DWARF 4 and 5, alloca frames
 * (DW_CFA_def_cfa_register) and early returns (remember/restore_state). Corrupted and truncated
 * frame sections never throw, at load or when unwinding.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDebugInfo } from '../../src/debugger/debugInfo';
import type { DebugInfo } from '../../src/debugger/model';
import { readElfSections } from '../../src/vmm/loaders/elf';
import { hasTool } from './dwarfOracle';
import { readelfFrames, ruleText } from './frameOracle';
import { xorshift32 as rng } from '../conformance/rng';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const C_KERNEL = join(ROOT, 'examples', 'c-kernel', 'kernel.elf');
const TOOLS = hasTool('gcc') && hasTool('readelf');
const dir = mkdtempSync(join(tmpdir(), 'vtx-frames-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SOURCE = `volatile long sink;
__attribute__((noinline)) long leaf(long x) { return x * 3 + 1; }
__attribute__((noinline)) long saver(long a, long b, long c) {
  long r = 0, q = 1;
  for (long i = 0; i < a; i++) { r += leaf(i) * b; q ^= r; if (r > c) return r + q; }
  sink = r;
  return r + leaf(b) + q;
}
__attribute__((noinline)) long withAlloca(int n) {
  volatile char *p = __builtin_alloca(n);
  p[0] = 1;
  return saver(n, p[0], 100) + leaf(n);
}
__attribute__((noinline)) long recurse(long n) { return n <= 1 ? 1 : n * recurse(n - 1) + leaf(n); }
void start(void) { sink = withAlloca(sink) + recurse(sink); for (;;) {} }
`;

const BUILDS: Record<string, string[]> = {
  'elf64-O0-fp-debug_frame': ['-m64', '-O0', '-fno-omit-frame-pointer', '-fno-asynchronous-unwind-tables', '-gdwarf-5'],
  'elf64-O2-nofp-debug_frame': ['-m64', '-O2', '-fomit-frame-pointer', '-fno-asynchronous-unwind-tables', '-gdwarf-4'],
  'elf64-O1-eh_frame': ['-m64', '-O1', '-fasynchronous-unwind-tables', '-gdwarf-5'],
  'elf64-Os-eh_frame': ['-m64', '-Os', '-fomit-frame-pointer', '-fasynchronous-unwind-tables', '-g'],
  'elf32-O2-eh_frame': ['-m32', '-O2', '-fomit-frame-pointer', '-fasynchronous-unwind-tables', '-g'],
  'elf32-O0-debug_frame': ['-m32', '-O0', '-fno-asynchronous-unwind-tables', '-g'],
};

function build(name: string): string | undefined {
  const src = join(dir, 'f.c');
  writeFileSync(src, SOURCE);
  const out = join(dir, `${name}.elf`);
  try {
    execFileSync('gcc', [...BUILDS[name], '-ffreestanding', '-nostdlib', '-static', '-fno-pic', '-fno-pie', '-no-pie', '-fno-stack-protector', '-e', 'start', '-Wl,--build-id=none', '-o', out, src], { stdio: 'pipe' });
    return out;
  } catch {
    return undefined; // no multilib for -m32
  }
}

function load(path: string): { info: DebugInfo; bits: 32 | 64 } {
  const bytes = new Uint8Array(readFileSync(path));
  const info = loadDebugInfo({ path, bytes, format: 'elf' });
  return { info, bits: bytes[4] === 1 ? 32 : 64 };
}

/** Every address of every FDE readelf lists: our row equals the oracle's row in force there. */
function compareWithReadelf(path: string, section: string): number {
  const { info, bits } = load(path);
  assert.deepEqual(info.warnings ?? [], []);
  assert.ok(info.unwind, 'unwind information');
  const fdes = readelfFrames(path).filter((f) => f.section === section);
  assert.ok(fdes.length >= 3, `FDEs in ${section}: ${fdes.length}`);
  let checked = 0;
  for (const f of fdes) {
    for (let pc = f.start; pc < f.end; pc++) {
      let want: string[] | undefined;
      for (const r of f.rows) if (r.loc <= pc) want = r.cells;
      assert.deepEqual(ruleText(info.unwind(pc), f.columns, bits), want, `${section} row at 0x${pc.toString(16)}`);
      checked++;
    }
  }
  return checked;
}

test('the C kernel (ELF32, .debug_frame): every address equals readelf --debug-dump=frames-interp', { skip: !hasTool('readelf') && 'needs readelf' }, () => {
  assert.ok(compareWithReadelf(C_KERNEL, '.debug_frame') > 400);
  const { info } = load(C_KERNEL);
  // Outside every FDE: no row.
  assert.equal(info.unwind!(0x10), undefined);
});

for (const name of Object.keys(BUILDS)) {
  test(`gcc ${name}: every address equals readelf --debug-dump=frames-interp`, { skip: !TOOLS && 'needs gcc and readelf' }, (t) => {
    const path = build(name);
    if (path === undefined) return t.skip(`gcc cannot build ${name} here`);
    const section = name.endsWith('eh_frame') ? '.eh_frame' : '.debug_frame';
    const names = readElfSections(new Uint8Array(readFileSync(path))).sections.map((s) => s.name);
    assert.ok(names.includes(section), `${section} in ${names.join(' ')}`);
    assert.ok(compareWithReadelf(path, section) > 50);
  });
}

test('the programs compared cover the instructions gcc emits: def_cfa*, offset, restore, remember/restore_state', { skip: !TOOLS && 'needs gcc and readelf' }, (t) => {
  const used = new Set<string>();
  for (const name of Object.keys(BUILDS)) {
    const path = build(name);
    if (path) for (const m of execFileSync('readelf', ['--debug-dump=frames', path], { encoding: 'utf8' }).matchAll(/DW_CFA_\w+/g)) used.add(m[0]);
  }
  if (build('elf32-O2-eh_frame') === undefined) return t.skip('no -m32: the remember/restore_state program is not built');
  for (const op of ['DW_CFA_def_cfa', 'DW_CFA_def_cfa_offset', 'DW_CFA_def_cfa_register', 'DW_CFA_offset', 'DW_CFA_restore', 'DW_CFA_remember_state', 'DW_CFA_restore_state', 'DW_CFA_advance_loc']) {
    assert.ok(used.has(op), `${op} among ${[...used].join(' ')}`);
  }
});

test('corrupted and truncated frame sections: no exception at load or when unwinding any address', { skip: !TOOLS && 'needs gcc' }, () => {
  const inputs: Array<[string, string]> = [[C_KERNEL, '.debug_frame']];
  for (const n of ['elf64-O2-nofp-debug_frame', 'elf64-O1-eh_frame']) {
    const p = build(n);
    if (p) inputs.push([p, n.endsWith('eh_frame') ? '.eh_frame' : '.debug_frame']);
  }
  for (const [path, name] of inputs) {
    const bytes = new Uint8Array(readFileSync(path));
    const s = readElfSections(bytes).sections.find((x) => x.name === name)!;
    const text = readElfSections(bytes).sections.find((x) => x.name === '.text')!;
    const next = rng(s.size);
    const variants: Uint8Array[] = [];
    for (let k = 0; k < 60; k++) {
      const copy = bytes.slice();
      for (let j = 0; j < 1 + (k % 6); j++) copy[s.offset + (next() % s.size)] = next() & 0xff;
      variants.push(copy);
    }
    for (let cut = 0; cut < s.size; cut += Math.max(1, Math.floor(s.size / 40))) {
      // Zero the tail: the section ends early with zero terminators / zero lengths.
      const copy = bytes.slice();
      copy.fill(0, s.offset + cut, s.offset + s.size);
      variants.push(copy);
    }
    for (const v of variants) {
      let info: DebugInfo | undefined;
      assert.doesNotThrow(() => { info = loadDebugInfo({ path, bytes: v, format: 'elf' }); });
      assert.deepEqual(info!.warnings?.filter((w) => w.startsWith('internal error')) ?? [], []);
      if (!info!.unwind) continue;
      for (let pc = text.addr; pc < text.addr + text.size; pc += 3) assert.doesNotThrow(() => info!.unwind!(pc));
    }
  }
});
