/**
 * The higher-half test kernel (test/guests/higher-half/kernel.c, linked at 0xffffffff80400000
 * by kernel.ld) built with gcc at test time, and binutils' reading of it with exact 64-bit
 * addresses (the oracle of dwarfOracle.ts parses addresses as numbers, which rounds these).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTool } from './dwarfOracle';

export const HH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'guests', 'higher-half');
export const HH_SOURCE = join(HH_DIR, 'kernel.c');
export const HH_TOOLS = hasTool('gcc') && hasTool('readelf') && hasTool('nm');

export const HH_CFLAGS = [
  '-m64', '-mcmodel=kernel', '-ffreestanding', '-nostdlib', '-static', '-fno-pic', '-fno-pie', '-no-pie', '-O0', '-g',
  '-fno-omit-frame-pointer', '-mno-red-zone', '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-mno-sse', '-mno-mmx',
  '-Wl,--build-id=none', '-Wl,-z,max-page-size=4096', '-Wl,--no-warn-rwx-segments',
];

/**
 * The same kernel optimized without frame pointers (-O2 -fomit-frame-pointer): RBP is an ordinary
 * register, so only its call frame information (.debug_frame) can unwind its stack.
 */
export const HH_CFLAGS_NOFP = HH_CFLAGS.map((f) => (f === '-O0' ? '-O2' : f === '-fno-omit-frame-pointer' ? '-fomit-frame-pointer' : f));

/** Build the kernel into a new temporary directory; `dispose` removes it. */
export function buildHigherHalfKernel(flags: readonly string[] = HH_CFLAGS): { path: string; bytes: Uint8Array; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vtx-hh-'));
  const path = join(dir, 'kernel.elf');
  execFileSync('gcc', [...flags, '-T', join(HH_DIR, 'kernel.ld'), '-o', path, HH_SOURCE], { stdio: 'pipe' });
  return { path, bytes: new Uint8Array(readFileSync(path)), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A 64-bit address as the debugger's address number: the value read as signed (src/debugger/address.ts). */
export const signed = (hex: string): number => Number(BigInt.asIntN(64, BigInt(hex.startsWith('0x') ? hex : `0x${hex}`)));

/** `nm`: name → address (signed address numbers). */
export function nmExact(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of execFileSync('nm', [path], { encoding: 'utf8' }).split('\n')) {
    const m = /^([0-9a-f]+)\s+(\w)\s+(\S+)$/.exec(l);
    if (m && m[2] !== 'A' && m[2] !== 'a') out.set(m[3], signed(m[1]));
  }
  return out;
}

/** `readelf --debug-dump=decodedline` rows: [line or null at end_sequence, address number, is_stmt]. */
export function readelfRowsExact(path: string): Array<[number | null, number, boolean]> {
  const text = execFileSync('readelf', ['-W', '--debug-dump=decodedline', path], { encoding: 'utf8' });
  const rows: Array<[number | null, number, boolean]> = [];
  for (const l of text.split('\n')) {
    const m = /^(\S+)\s+(\d+|-)\s+(0x[0-9a-f]+)(?:\s+\d+)?\s*(x?)\s*$/.exec(l);
    if (m) rows.push([m[2] === '-' ? null : Number(m[2]), signed(m[3]), m[4] === 'x']);
  }
  return rows;
}

/** `readelf -sW` .symtab FUNC/OBJECT/NOTYPE symbols defined in a section: name@address/size. */
export function readelfSymbolsExact(path: string): string[] {
  const out: string[] = [];
  let inSymtab = false;
  for (const l of execFileSync('readelf', ['-sW', path], { encoding: 'utf8' }).split('\n')) {
    if (l.startsWith('Symbol table')) inSymtab = l.includes("'.symtab'");
    const m = inSymtab ? /^\s*\d+:\s+([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+(\w+)\s+\w+\s+\w+\s+(\w+)\s+(\S+)\s*$/.exec(l) : null;
    if (!m || !['FUNC', 'OBJECT', 'NOTYPE'].includes(m[3]) || m[4] === 'UND' || m[4] === 'ABS') continue;
    out.push(`${m[5]}@${signed(m[1])}/${Number(m[2])}`);
  }
  return out.sort();
}

/** 1-based line of the line marked `@name` in kernel.c. */
export function hhLine(name: string): number {
  const i = readFileSync(HH_SOURCE, 'utf8').split('\n').findIndex((l) => l.includes(`@${name} `) || l.endsWith(`@${name}`) || l.includes(`@${name} */`));
  if (i < 0) throw new Error(`no line marked @${name}`);
  return i + 1;
}
