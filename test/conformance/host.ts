/**
 * The host side: builds hostexec.c with the machine's `cc` (cached under .cache/conformance/ by
 * a hash of the source) and talks to one long-lived helper process over pipes. Protocol: see
 * hostexec.c.
 */
import { spawn, spawnSync, ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import {
  CODE_BASE, CODE_SIZE, DATA_BASE, DATA_SIZE, GS_LIMIT, STACK_BASE, STACK_SIZE, STUB_BASE,
} from './layout';
import type { Case, Pristine } from './generator';
import type { HostCpuid } from './forms';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const SOURCE = join(HERE, 'hostexec.c');

const MAGIC_CONFIG = 0x43585456;
const MAGIC_HELLO = 0x48585456;
const MAGIC_BATCH = 0x42585456;
const MAGIC_RESULT = 0x52585456;
const PROTO_VERSION = 5;
const HELLO_SIZE = 60;
const CASE_HDR = 528;
const RESULT_SIZE = 544;

export class HostUnavailable extends Error {}

/** Compile the helper (once per source version) and return the binary's path. */
export function buildHelper(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new HostUnavailable(`the conformance harness runs instructions on an x86-64 Linux host; this is ${process.platform}/${process.arch}`);
  }
  const src = readFileSync(SOURCE);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = join(ROOT, '.cache', 'conformance');
  const bin = join(dir, `hostexec-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const which = spawnSync('sh', ['-c', 'command -v cc'], { encoding: 'utf8' });
  if (which.status !== 0) {
    throw new HostUnavailable('the conformance harness needs a C compiler: `cc` was not found on PATH (install gcc or clang)');
  }
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('cc', ['-O2', '-std=gnu11', '-Wall', '-fPIE', '-pie', '-U_FORTIFY_SOURCE', '-o', tmp, SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new HostUnavailable(`building the host helper failed (cc ${SOURCE}):\n${r.stderr || r.error?.message || ''}`);
  }
  renameSync(tmp, bin);
  // Builds of older versions of the source are of no further use.
  for (const f of readdirSync(dir)) {
    if (/^hostexec-[0-9a-f]{16}$/.test(f) && join(dir, f) !== bin) rmSync(join(dir, f), { force: true });
  }
  return bin;
}

export interface Hello extends HostCpuid {
  cs64: number;
  cs32: number;
  ss: number;
  ds: number;
  es: number;
  fs: number;
  gs: number;
  gsLdt: boolean;
  reserveLo: number;
}

/** One result as the host reported it. */
export interface HostResult {
  signo: number;
  trapno: number;
  err: number;
  flags: number;
  /** GPRs as (lo, hi) uint32 pairs. */
  regs: Uint32Array;
  rip: bigint;
  rflags: number;
  cr2: bigint;
  /** Bytes of the data, stack and code regions that differ from the initial image: [addr, value]. */
  diff: Array<[number, number]>;
  /** XMM0-15 as 4 uint32 lanes each, and MXCSR, after the instruction. */
  xmm: Uint32Array;
  mxcsr: number;
  /** x87 state after the instruction (the signal frame's FXSAVE area). */
  x87: X87Image;
}

/**
 * x87 state in FXSAVE terms (SDM vol. 1 §10.5.1): FCW, FSW (with TOP), the abridged tag byte
 * (bit i = physical register i not empty), FOP, FIP, FDP, and ST(0)..ST(7) in stack order,
 * 10 bytes each (significand little-endian, then sign+exponent).
 */
export interface X87Image {
  fcw: number;
  fsw: number;
  ftw: number;
  fop: number;
  fip: bigint;
  fdp: bigint;
  st: Uint8Array;
}

export const X87_INIT: X87Image = { fcw: 0x37f, fsw: 0, ftw: 0, fop: 0, fip: 0n, fdp: 0n, st: new Uint8Array(80) };

function writeX87(b: Buffer, o: number, x: X87Image): void {
  b.writeUInt16LE(x.fcw, o);
  b.writeUInt16LE(x.fsw, o + 2);
  b.writeUInt8(x.ftw, o + 4);
  b.writeUInt16LE(x.fop, o + 6);
  b.writeBigUInt64LE(x.fip, o + 8);
  b.writeBigUInt64LE(x.fdp, o + 16);
  b.set(x.st, o + 24);
}

function readX87(b: Buffer, o: number): X87Image {
  return {
    fcw: b.readUInt16LE(o), fsw: b.readUInt16LE(o + 2), ftw: b.readUInt8(o + 4), fop: b.readUInt16LE(o + 6),
    fip: b.readBigUInt64LE(o + 8), fdp: b.readBigUInt64LE(o + 16), st: Uint8Array.from(b.subarray(o + 24, o + 104)),
  };
}

export const HOST_FLAG_TRUNCATED = 1;
export const HOST_FLAG_TIMEOUT = 2;

export class HostRunner {
  private readonly proc: ChildProcessByStdio<Writable, Readable, null>;
  private buf = Buffer.alloc(1 << 20);
  private len = 0;
  private waiting: Array<{ need: 'hello' | 'result'; resolve: (b: Buffer) => void; reject: (e: Error) => void }> = [];
  private dead: Error | null = null;
  hello!: Hello;

  private constructor(bin: string) {
    this.proc = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.proc.on('exit', (code, signal) => this.fail(new Error(`host helper exited (code ${code}, signal ${signal})`)));
    this.proc.on('error', (e) => this.fail(e));
    this.proc.stdin.on('error', (e) => this.fail(e));
  }

  static async start(pristine: Pristine): Promise<HostRunner> {
    const h = new HostRunner(buildHelper());
    const cfg = Buffer.alloc(40);
    const v = [MAGIC_CONFIG, PROTO_VERSION, CODE_BASE, CODE_SIZE, DATA_BASE, DATA_SIZE, STACK_BASE, STACK_SIZE, STUB_BASE, GS_LIMIT];
    v.forEach((x, i) => cfg.writeUInt32LE(x >>> 0, 4 * i));
    const p = h.expect('hello');
    h.proc.stdin.write(Buffer.concat([cfg, Buffer.from(pristine.data), Buffer.from(pristine.stack)]));
    const b = await p;
    if (b.readUInt32LE(0) !== MAGIC_HELLO || b.readUInt32LE(4) !== PROTO_VERSION) throw new Error('host helper: bad hello');
    h.hello = {
      cpuid1Ecx: b.readUInt32LE(8), cpuid1Edx: b.readUInt32LE(12), cpuid7Ebx: b.readUInt32LE(16),
      cpuid7Ecx: b.readUInt32LE(20), cpuid7Edx: b.readUInt32LE(24), cpuidX1Ecx: b.readUInt32LE(28),
      cpuidX1Edx: b.readUInt32LE(32),
      cs64: b.readUInt16LE(36), cs32: b.readUInt16LE(38), ss: b.readUInt16LE(40), ds: b.readUInt16LE(42),
      es: b.readUInt16LE(44), fs: b.readUInt16LE(46), gs: b.readUInt16LE(48),
      gsLdt: b.readUInt32LE(52) !== 0, reserveLo: b.readUInt32LE(56),
    };
    return h;
  }

  private fail(e: Error): void {
    if (this.dead === null) this.dead = e;
    for (const w of this.waiting) w.reject(this.dead);
    this.waiting = [];
  }

  private expect(need: 'hello' | 'result'): Promise<Buffer> {
    if (this.dead !== null) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.waiting.push({ need, resolve, reject });
      this.drain();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.len + chunk.length > this.buf.length) {
      const nb = Buffer.alloc(Math.max(this.buf.length * 2, this.len + chunk.length));
      this.buf.copy(nb, 0, 0, this.len);
      this.buf = nb;
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
    this.drain();
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const w = this.waiting[0];
      let size: number;
      if (w.need === 'hello') size = HELLO_SIZE;
      else {
        if (this.len < 12) return;
        if (this.buf.readUInt32LE(0) !== MAGIC_RESULT) {
          this.fail(new Error('host helper: bad result framing'));
          return;
        }
        size = this.buf.readUInt32LE(8);
      }
      if (this.len < size) return;
      const msg = Buffer.from(this.buf.subarray(0, size));
      this.buf.copy(this.buf, 0, size, this.len);
      this.len -= size;
      this.waiting.shift();
      w.resolve(msg);
    }
  }

  /** Run a batch of cases (all of one mode or mixed) and return one result per case. */
  async run(cases: Case[]): Promise<HostResult[]> {
    const parts: Buffer[] = [];
    let total = 0;
    for (const c of cases) {
      const npatch = c.patches.length;
      let size = CASE_HDR;
      for (const p of c.patches) size += 8 + ((p.data.length + 3) & ~3);
      const b = Buffer.alloc(size);
      b.writeUInt8(c.mode, 0);
      b.writeUInt8(c.bytes.length, 1);
      if (npatch > 255) throw new Error('too many memory patches');
      b.writeUInt8(npatch, 2);
      b.writeUInt32LE(c.insnAddr >>> 0, 4);
      b.set(c.bytes, 8);
      for (let i = 0; i < 32; i++) b.writeUInt32LE(c.regs[i], 24 + 4 * i);
      b.writeUInt32LE(c.rflags >>> 0, 152);
      b.writeUInt32LE(0, 156);
      for (let i = 0; i < 64; i++) b.writeUInt32LE((c.xmm?.[i] ?? 0) >>> 0, 160 + 4 * i);
      b.writeUInt32LE((c.mxcsr ?? 0x1f80) >>> 0, 416);
      writeX87(b, 424, c.x87 ?? X87_INIT);
      let o = CASE_HDR;
      for (const p of c.patches) {
        b.writeUInt32LE(p.addr >>> 0, o);
        b.writeUInt16LE(p.data.length, o + 4);
        b.set(p.data, o + 8);
        o += 8 + ((p.data.length + 3) & ~3);
      }
      parts.push(b);
      total += size;
    }
    const hdr = Buffer.alloc(12);
    hdr.writeUInt32LE(MAGIC_BATCH, 0);
    hdr.writeUInt32LE(cases.length, 4);
    hdr.writeUInt32LE(total, 8);
    const p = this.expect('result');
    this.proc.stdin.write(Buffer.concat([hdr, ...parts]));
    const out = await p;
    const n = out.readUInt32LE(4);
    if (n !== cases.length) throw new Error('host helper: result count mismatch');
    const results: HostResult[] = [];
    let o = 12;
    for (let k = 0; k < n; k++) {
      const regs = new Uint32Array(32);
      for (let i = 0; i < 32; i++) regs[i] = out.readUInt32LE(o + 24 + 4 * i);
      const ndiff = out.readUInt32LE(o + 12);
      const r: HostResult = {
        signo: out.readUInt32LE(o), trapno: out.readUInt32LE(o + 4), err: out.readUInt32LE(o + 8),
        flags: out.readUInt32LE(o + 16), regs,
        rip: out.readBigUInt64LE(o + 152), rflags: Number(out.readBigUInt64LE(o + 160) & 0xffffffffn),
        cr2: out.readBigUInt64LE(o + 168), diff: [],
        xmm: new Uint32Array(64), mxcsr: out.readUInt32LE(o + 432), x87: readX87(out, o + 440),
      };
      for (let i = 0; i < 64; i++) r.xmm[i] = out.readUInt32LE(o + 176 + 4 * i);
      o += RESULT_SIZE;
      for (let i = 0; i < ndiff; i++) {
        r.diff.push([out.readUInt32LE(o), out.readUInt32LE(o + 4)]);
        o += 8;
      }
      results.push(r);
    }
    return results;
  }

  async close(): Promise<void> {
    if (this.dead !== null) return;
    this.dead = new Error('closed');
    await new Promise<void>((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.stdin.end();
      setTimeout(() => { this.proc.kill(); resolve(); }, 2000).unref();
    });
  }
}
