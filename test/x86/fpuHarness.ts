/**
 * Runs host-measured x87 samples (see fpu-host-gen.c) through the processor model: each sample
 * executes a short x87 program (FNINIT; FLDCW; FLD b; FLD a; FNCLEX; op; FNSTSW; FSTP result)
 * and the stored bytes and status word are compared with what the host's x87 produced.
 */
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode } from '../../src/x86/modes';

const DATA = 0x4000; // cw +0, fsw +2, b +0x10, a +0x20, result +0x30, memory operand / FNSAVE +0x40
const PRE = [0xdb, 0xe3, 0xd9, 0x6b, 0x00, 0xdb, 0x6b, 0x10, 0xdb, 0x6b, 0x20, 0xdb, 0xe2];
const POST_REG = [0xdd, 0x7b, 0x02, 0xdb, 0x7b, 0x30, 0xf4];
const POST_MEM = [0xdd, 0x7b, 0x02, 0xf4];

/** Op name -> [op bytes, result kind] (kind: 'r' register result via FSTP m80, or store size). */
const OPS: Record<string, [number[], string]> = {
  add: [[0xd8, 0xc1], 'r'], sub: [[0xd8, 0xe1], 'r'], mul: [[0xd8, 0xc9], 'r'], div: [[0xd8, 0xf1], 'r'],
  sqrt: [[0xd9, 0xfa], 'r'], rndint: [[0xd9, 0xfc], 'r'], scale: [[0xd9, 0xfd], 'r'],
  prem: [[0xd9, 0xf8], 'r'], prem1: [[0xd9, 0xf5], 'r'], xtract: [[0xd9, 0xf4, 0xdd, 0xda], 'r'],
  xtract2: [[0xd9, 0xf4], 'r'], istt32: [[0xd9, 0xc0, 0xdb, 0x4b, 0x30], '4'],
  com: [[0xd8, 0xd1], 'r'], ucom: [[0xdd, 0xe1], 'r'], xam: [[0xd9, 0xe5], 'r'], tst: [[0xd9, 0xe4], 'r'],
  st32: [[0xd9, 0x53, 0x30], '4'], st64: [[0xdd, 0x53, 0x30], '8'],
  ist16: [[0xdf, 0x53, 0x30], '2'], ist32: [[0xdb, 0x53, 0x30], '4'], ist64: [[0xd9, 0xc0, 0xdf, 0x7b, 0x30], '8'],
  ld32: [[0xd9, 0x43, 0x40], 'r'], ld64: [[0xdd, 0x43, 0x40], 'r'],
};

export interface Mismatch { line: string; got: string }

function hex(b: Uint8Array, from: number, n: number): string {
  let s = '';
  for (let i = n - 1; i >= 0; i--) s += b[from + i].toString(16).padStart(2, '0');
  return s;
}

function put80(mem: PhysicalMemory, at: number, h: string): void {
  // h: 20 hex digits, se first then significand (big-endian text)
  const bytes = new Uint8Array(10);
  for (let i = 0; i < 10; i++) bytes[9 - i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  mem.load(at, bytes);
}

export function runSamples(lines: string[]): { total: number; bad: Mismatch[]; byOp: Record<string, [number, number]> } {
  const mem = new PhysicalMemory(0x10000);
  mem.load(DATA + 0x40, new Uint8Array(108));
  const cpu = new Cpu(mem);
  enterMode(cpu, 'long');
  const entry: Record<string, number> = {};
  let at = 0x1000; // code; the raw-byte forms are added after the table (below 0x3000)
  for (const [name, [bytes, kind]] of Object.entries(OPS)) {
    const ld = name.startsWith('ld');
    const pre = ld ? [0xdb, 0xe3, 0xd9, 0x6b, 0x00, 0xdb, 0xe2] : kind !== 'r' ? [0xdb, 0xe3, 0xd9, 0x6b, 0x00, 0xdb, 0x6b, 0x20, 0xdb, 0xe2] : PRE;
    const code = [...pre, ...bytes, ...(kind === 'r' ? POST_REG : POST_MEM)];
    mem.load(at, Uint8Array.from(code));
    entry[name] = at;
    at += 0x40;
    // Unmasked variant ("<op>u"): the state is captured with FNSAVE (non-waiting) at DATA+0x40.
    mem.load(at, Uint8Array.from([...pre, ...bytes, 0xdd, 0x73, 0x40, 0xf4]));
    entry[name + 'u'] = at;
    at += 0x40;
  }
  const bad: Mismatch[] = [];
  const byOp: Record<string, [number, number]> = {};
  let total = 0;
  for (const line of lines) {
    if (!line.trim()) continue;
    const t = line.trim().split(/\s+/);
    const name = t[0];
    const raw = name.startsWith('x:') || name.startsWith('xu:');
    if (raw && !(name in entry)) {
      // raw opcode bytes ("x:d84340"): FNINIT; FLDCW; FLD b; FLD a; FNCLEX; op; FNSTSW; FSTP m80
      // ("xu:": the state is captured with FNSAVE at DATA+0x40 instead)
      const ob = (name.slice(name.indexOf(':') + 1).match(/../g) ?? []).map((h) => parseInt(h, 16));
      mem.load(at, Uint8Array.from([...PRE, ...ob, ...(name.startsWith('xu:') ? [0xdd, 0x73, 0x40, 0xf4] : POST_REG)]));
      entry[name] = at;
      at += 0x40;
    }
    const unmasked = raw ? name.startsWith('xu:') : !(name in OPS) && name.endsWith('u');
    const kind = raw ? 'r' : OPS[unmasked ? name.slice(0, -1) : name][1];
    const cw = parseInt(t[1], 16);
    mem.load(DATA, Uint8Array.from([cw & 0xff, cw >> 8, 0, 0]));
    put80(mem, DATA + 0x20, t[2]);
    put80(mem, DATA + 0x10, t[3]);
    let expect: string, sw: string;
    if (t.length === 7 && t[4].startsWith('m')) {
      const m = t[4].slice(1);
      const n = m.length / 2;
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[n - 1 - i] = parseInt(m.slice(2 * i, 2 * i + 2), 16);
      mem.load(DATA + 0x40, bytes);
      expect = t[5]; sw = t[6];
    } else { expect = t[4]; sw = t[5]; }
    mem.load(DATA + 0x30, new Uint8Array(16));
    cpu.setReg64(3, BigInt(DATA));
    cpu.setRip(entry[name]);
    cpu.halted = false;
    const r = cpu.run(cpu.icount + 50);
    total++;
    const st = byOp[name] ?? (byOp[name] = [0, 0]);
    st[0]++;
    const rd = (a: number, n: number): Uint8Array => { const o = new Uint8Array(n); for (let i = 0; i < n; i++) o[i] = cpu.read8(a + i, 0); return o; };
    const res = unmasked && kind === 'r' ? rd(DATA + 0x40 + 28, 10) : rd(DATA + 0x30, 10);
    const sww = unmasked ? rd(DATA + 0x40 + 4, 2) : rd(DATA + 2, 2);
    const gotVal = kind === 'r' ? hex(res, 0, 10) : hex(res, 0, Number(kind));
    const gotSw = hex(sww, 0, 2);
    if (r.reason !== 'hlt' || gotVal !== expect || gotSw !== sw) {
      st[1]++;
      bad.push({ line, got: `${gotVal} ${gotSw}${r.reason !== 'hlt' ? ' ' + r.reason + ' ' + String(r.exception?.detail ?? '') : ''}` });
    }
  }
  return { total, bad, byOp };
}
