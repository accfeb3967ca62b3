/**
 * Our side: the same bytes, registers and memory on the TypeScript processor, one instruction.
 *
 * One Cpu per mode is reused across cases. Memory is a sparse 4 GiB PhysicalMemory with the
 * code, data and stack regions at the host's addresses; `translate` is overridden so every
 * other address raises #PF (the host helper has the rest of the low 4 GiB reserved PROT_NONE),
 * and so the data/stack regions are not executable (the host maps them without PROT_EXEC).
 */
import { Cpu } from '../../src/x86/cpu';
import { CpuException } from '../../src/x86/exceptions';
import type { Access } from '../../src/x86/mmu';
import { enterMode } from '../../src/x86/modes';
import { PhysicalMemory, PAGE_SIZE } from '../../src/x86/physicalMemory';
import {
  CODE_BASE, CODE_END, CODE_SIZE, DATA_BASE, DATA_END, DATA_SIZE, GS_BASE, GS_LIMIT, SEL_CS32, SEL_CS64,
  SEL_DATA, SEL_GS_LDT, STACK_BASE, STACK_END, STACK_SIZE,
} from './layout';
import type { Case, Pristine } from './generator';
import { EFLAGS_AC, EFLAGS_RF, EFLAGS_TF } from './generator';
import type { Mode } from './forms';
import type { X87Image } from './host';
import { loadFpu, saveFpu } from './x87';

const ACCESS_WRITE = 1;
const ACCESS_EXECUTE = 2;

/** Access rights in the VMCS layout (SDM vol. 3C §24.4.1): type, S, DPL 3, P, L/D/G. */
const AR_CODE64 = 0xa0fb;
const AR_CODE32 = 0xc0fb;
const AR_DATA = 0xc0f3;
const AR_DATA_BYTE_GRAN = 0x40f3;
const AR_UNUSABLE = 0x10000;

class HarnessCpu extends Cpu {
  /** Address of the last #PF raised by `translate`. */
  pfLo = 0;
  pfHi = 0;

  override translate(lo: number, hi: number, access: Access): number {
    const a = lo >>> 0;
    if (hi === 0) {
      if (a >= CODE_BASE && a < CODE_END) return a;
      if ((access as number) !== ACCESS_EXECUTE && ((a >= DATA_BASE && a < DATA_END) || (a >= STACK_BASE && a < STACK_END))) return a;
    }
    this.pfLo = lo;
    this.pfHi = hi;
    // Error code: user, write, instruction fetch; not present (SDM vol. 3A §4.7).
    const ec = 4 | ((access as number) === ACCESS_WRITE ? 2 : 0) | ((access as number) === ACCESS_EXECUTE ? 16 : 0);
    throw new CpuException(14, ec, 'page not mapped in the conformance layout');
  }

}

export interface OurResult {
  kind: 'completed' | 'exception' | 'error';
  vector: number;
  detail: string;
  regs: Uint32Array;
  rip: bigint;
  rflags: number;
  cr2: bigint | null;
  diff: Array<[number, number]>;
  xmm: Uint32Array;
  mxcsr: number;
  x87: X87Image;
}

interface Region {
  base: number;
  pages: Uint8Array[];
  pristine: Uint8Array;
}

class ModeRunner {
  cpu!: HarnessCpu;
  mem!: PhysicalMemory;
  regions: Region[] = [];
  code: Region | null = null;
  private lastInsn = -1;
  private lastLen = 0;
  /** The last case changed the code region: restore all of it before the next. */
  private codeDirty = false;

  constructor(readonly mode: Mode, readonly pristine: Pristine, readonly gsCompat: boolean) {
    this.reset();
  }

  /** A fresh processor (also after a model error left the old one in an unknown state). */
  reset(): void {
    this.mem = new PhysicalMemory(0x100000000);
    this.cpu = new HarnessCpu(this.mem);
    enterMode(this.cpu, this.mode === 64 ? 'long' : 'compat');
    const region = (base: number, size: number, pristine: Uint8Array): Region => {
      const pages: Uint8Array[] = [];
      for (let p = 0; p < size / PAGE_SIZE; p++) pages.push(this.mem.page(base / PAGE_SIZE + p)!);
      return { base, pages, pristine };
    };
    const cc = new Uint8Array(CODE_SIZE).fill(0xcc);
    this.code = region(CODE_BASE, CODE_SIZE, cc);
    for (let i = 0; i < this.code.pages.length; i++) this.code.pages[i].set(cc.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
    this.regions = [region(DATA_BASE, DATA_SIZE, this.pristine.data), region(STACK_BASE, STACK_SIZE, this.pristine.stack)];
    this.lastInsn = -1;
    this.lastLen = 0;
    this.codeDirty = false;
  }

  private setSegments(): void {
    const c = this.cpu;
    const flat = (s: number, sel: number, attr: number): void => c.setSegment(s, { selector: sel, baseLo: 0, baseHi: 0, limit: 0xffffffff, attr });
    if (this.mode === 64) flat(1, SEL_CS64, AR_CODE64);
    else flat(1, SEL_CS32, AR_CODE32);
    flat(0, SEL_DATA, AR_DATA);
    flat(2, SEL_DATA, AR_DATA);
    flat(3, SEL_DATA, AR_DATA);
    // FS: a null selector (its base is the host's TLS, never used: 64-bit cases avoid FS).
    c.setSegment(4, { selector: 0, baseLo: 0, baseHi: 0, limit: 0, attr: AR_UNUSABLE });
    if (this.mode === 64 || this.gsCompat) {
      c.setSegment(5, { selector: this.gsCompat ? SEL_GS_LDT : 0, baseLo: GS_BASE, baseHi: 0, limit: GS_LIMIT, attr: AR_DATA_BYTE_GRAN });
    } else {
      c.setSegment(5, { selector: 0, baseLo: GS_BASE, baseHi: 0, limit: 0, attr: AR_UNUSABLE });
    }
    c.bitness = this.mode === 64 ? 64 : 32;
    c.stackBits = this.mode === 64 ? 64 : 32;
    c.cpl = 3;
  }

  run(k: Case): OurResult {
    const c = this.cpu;
    // Memory: back to the pristine image, then the case's patches.
    for (const r of this.regions) {
      for (let i = 0; i < r.pages.length; i++) r.pages[i].set(r.pristine.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
    }
    for (const p of k.patches) {
      for (let i = 0; i < p.data.length; i++) this.mem.write8(p.addr + i, p.data[i]);
    }
    // Code: INT3 everywhere but the instruction (the reference image is kept in step); drop
    // translations made from the old bytes.
    const code = this.code!;
    const ref = code.pristine;
    if (this.lastInsn >= 0) ref.fill(0xcc, this.lastInsn - CODE_BASE, this.lastInsn - CODE_BASE + this.lastLen);
    // An instruction may run off the end of the code region (its fetch faults): keep the part inside.
    const len = Math.min(k.bytes.length, CODE_END - k.insnAddr);
    ref.set(k.bytes.subarray(0, len), k.insnAddr - CODE_BASE);
    if (this.codeDirty) {
      for (let i = 0; i < code.pages.length; i++) code.pages[i].set(ref.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
      this.codeDirty = false;
    } else {
      for (let i = 0; i < this.lastLen; i++) this.mem.write8(this.lastInsn + i, 0xcc);
      for (let i = 0; i < len; i++) this.mem.write8(k.insnAddr + i, k.bytes[i]);
    }
    this.lastInsn = k.insnAddr;
    this.lastLen = len;
    c.flushCode();

    this.setSegments();
    for (let i = 0; i < 16; i++) {
      c.lo[i] = k.regs[2 * i] | 0;
      c.hi[i] = k.regs[2 * i + 1] | 0;
    }
    // SSE state: Linux runs user code with CR4.OSFXSR and CR4.OSXMMEXCPT set.
    c.cr4 |= (1 << 9) | (1 << 10);
    for (let i = 0; i < 64; i++) c.sse.xmm[i] = k.xmm[i] | 0;
    c.sse.mxcsr = k.mxcsr & 0xffff;
    // x87: Linux runs user code with CR0.NE (#MF reporting) and CR0.MP set, EM and TS clear.
    c.cr0 = ((c.cr0 | 0x22) & ~0xc) >>> 0;
    loadFpu(c.fpu, k.x87);
    c.ripLo = k.insnAddr | 0;
    c.ripHi = 0;
    c.setRflags(((k.rflags & ~(EFLAGS_TF | EFLAGS_AC | EFLAGS_RF)) | 0x202) >>> 0);
    c.halted = false;
    c.pfLo = 0;
    c.pfHi = 0;

    let kind: OurResult['kind'] = 'completed';
    let vector = -1;
    let detail = '';
    let cr2: bigint | null = null;
    try {
      let res = c.run(c.icount + 1);
      // Should a REP string instruction ever retire its iterations as separate steps (RIP
      // staying on it), keep going as the host does until it is done.
      for (let n = 0; res.reason === 'limit' && c.ripLo === (k.insnAddr | 0) && c.ripHi === 0 && n < 100000; n++) {
        res = c.run(c.icount + 1);
      }
      if (res.reason === 'exception') {
        kind = 'exception';
        vector = res.exception!.vector;
        detail = res.exception!.detail;
        if (vector === 14) cr2 = (BigInt(c.pfHi >>> 0) << 32n) | BigInt(c.pfLo >>> 0);
      } else if (res.reason === 'shutdown') {
        kind = 'error';
        detail = 'processor shut down';
      }
    } catch (e) {
      kind = 'error';
      detail = (e as Error).message ?? String(e);
    }
    const regs = new Uint32Array(32);
    for (let i = 0; i < 16; i++) {
      regs[2 * i] = c.lo[i] >>> 0;
      regs[2 * i + 1] = c.hi[i] >>> 0;
    }
    const xmm = new Uint32Array(64);
    for (let i = 0; i < 64; i++) xmm[i] = c.sse.xmm[i] >>> 0;
    const out: OurResult = {
      kind, vector, detail, regs, rip: c.getRip(), rflags: c.getRflags(), cr2, diff: this.diff(), xmm, mxcsr: c.sse.mxcsr >>> 0,
      x87: saveFpu(c.fpu),
    };
    if (kind === 'error') this.reset();
    return out;
  }

  /** Bytes of the data, stack and code regions that differ from the initial image. */
  private diff(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const scan = (r: Region): boolean => {
      let changed = false;
      for (let i = 0; i < r.pages.length; i++) {
        const page = r.pages[i];
        const base = r.base + i * PAGE_SIZE;
        const ref = r.pristine.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
        if (Buffer.compare(Buffer.from(page.buffer, page.byteOffset, PAGE_SIZE), Buffer.from(ref.buffer, ref.byteOffset, PAGE_SIZE)) === 0) continue;
        changed = true;
        for (let j = 0; j < PAGE_SIZE; j++) {
          if (page[j] !== ref[j]) out.push([base + j, page[j]]);
        }
      }
      return changed;
    };
    for (const r of this.regions) scan(r);
    if (scan(this.code!)) this.codeDirty = true;
    return out;
  }
}

/** Our processor for both modes. */
export class Ours {
  private readonly runners = new Map<Mode, ModeRunner>();

  constructor(readonly pristine: Pristine, readonly gsCompat: boolean) {}

  run(k: Case): OurResult {
    let r = this.runners.get(k.mode);
    if (r === undefined) {
      r = new ModeRunner(k.mode, this.pristine, this.gsCompat);
      this.runners.set(k.mode, r);
    }
    return r.run(k);
  }
}
