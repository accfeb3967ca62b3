/**
 * The processor: translated-block cache and the run loop.
 *
 * Code is decoded once per block (see decoded.ts) and kept per guest-physical address; a write
 * to a page holding code drops that page's blocks (mmu.ts keeps such pages out of the write
 * TLB), so self-modifying code is exact. Blocks are chained to their successors so the common
 * path from one block to the next needs no map lookup.
 *
 * Faults are thrown by ops as CpuException and caught once per block: RIP goes back to the
 * faulting instruction and the instruction count stays exact.
 */
import { Decoder, DecoderOptions, Instruction } from 'iced-x86';
import type { Block } from './block';
import { MAX_BLOCK_INSNS } from './block';
import type { DecodedInsn } from './decoded';
import { describe, disassemble } from './decoded';
import { CpuException, gp0 } from './exceptions';
import { translateInsn } from './insnOp';
import { Access, Mmu } from './mmu';
import type { Op } from './operands';
import { PhysicalMemory, PAGE_SIZE } from './physicalMemory';
import { Seg } from './registers';
import type { Bitness } from './state';
import { CpuidModel, DEFAULT_CPUID } from './cpuid';
import { FpuState } from './fpu/state';
import { SseState } from './sse/state';
import type { InterruptSource, MsrBus, PortBus } from './io';
import { NO_PORTS } from './io';
import { deliverException } from './interrupts';
import { exceptionReport, type ExceptionReport } from './exceptionReport';
import { serviceEvents } from './eventBoundary';
import { loadCr2From, pagingTranslate } from './paging';
import type { EptHooks, EventExitHooks, InstructionExitHooks } from './vmxHooks';
import type { VmxRootHooks } from './vmxRootHooks';
import { VM_EXIT } from './vmxHooks';
import { VM_EXIT_DEFERRED } from './vmxEventHooks';

const TWO32 = 4294967296;

/**
 * The block Cpu.redirectedWrite stopped: invalid from a virtualized APIC write until the next
 * instruction boundary of its processor (releaseBlock). Module state, not a field: the processor
 * object's layout, which the hot paths depend on, stays as it was. One at a time is enough: the
 * block has stopped its run already, so holding another processor's block releases the previous
 * one.
 */
let heldBlock: Block | null = null;

/** The block redirectedWrite stopped is valid again (unless a code write dropped it meanwhile). */
function releaseBlock(): void {
  heldBlock!.valid = true;
  heldBlock = null;
}

/** 'vmexit': a VM exit returned control to a host written in TypeScript (vmxHooks.ts). */
/** 'break': a debugger breakpoint (hostDebug.ts) — before a code breakpoint, after a watched access. */
export type StopReason = 'hlt' | 'exception' | 'limit' | 'shutdown' | 'vmexit' | 'break';

export type { ExceptionReport } from './exceptionReport';

export interface RunResult {
  reason: StopReason;
  exception?: ExceptionReport;
}

export interface CpuOptions {
  cpuid?: CpuidModel;
  /** Deliver exceptions through the IVT/IDT as a PC does (see Cpu.deliverExceptions). */
  deliverExceptions?: boolean;
}

/** Translated code on one physical page: its blocks and which 16-byte granules they cover. */
interface CodePage {
  blocks: Block[];
  granules: Uint8Array;
}
const GRANULE_SHIFT = 4;

function bitnessIndex(b: Bitness): number {
  return b === 64 ? 2 : b === 32 ? 1 : 0;
}

export class Cpu extends Mmu {
  /** The CPUID model (the VT-x engine adds VMX to it when it attaches). */
  cpuid: CpuidModel;
  /** I/O ports (the platform's devices). */
  io: PortBus = NO_PORTS;
  /** External interrupts (the platform's interrupt controller), or none. */
  intr: InterruptSource | null = null;
  /**
   * Set by the platform (a device op: a timer armed, a debug-exit write) to make `run` return
   * with reason 'limit' at the next block boundary, so the machine can service it in time.
   */
  stopRequested = false;
  /** Platform MSRs (x2APIC), or none. */
  msrBus: MsrBus | null = null;
  readonly fpu = new FpuState();
  readonly sse = new SseState();
  private readonly blocks = new Map<number, Block>();
  private readonly codePages = new Map<number, CodePage>();
  private codeEpoch = 0;
  private prevBlock: Block | null = null;
  private readonly icedInsn = new Instruction();
  /** The last unhandled exception, for reports. */
  lastException: ExceptionReport | null = null;
  /** Number of blocks translated (statistics, tests). */
  blocksTranslated = 0;

  // ---- event state (interrupts.ts) ---------------------------------------------------------
  /**
   * true: exceptions raised by instructions are delivered through the IVT/IDT (SDM vol. 3A
   * chapter 6), as on a PC — the machine sets this. false (the bare processor's default, for
   * unit tests and the conformance harness): such an exception stops the run with a report.
   * External interrupts, NMI and INT n are delivered either way.
   */
  deliverExceptions = false;
  /**
   * The machine's "report until an IDT is loaded" rule for flat images (machine.ts 'auto'):
   * also applies in VMX non-root operation, where exceptions are otherwise always the guest's.
   */
  reportWithoutIdt = false;
  /** An NMI is waiting (raiseNmi in interrupts.ts). */
  nmiPending = false;
  /** The instruction being executed started with RFLAGS.TF = 1: a single-step #DB follows it. */
  stepArmed = false;
  /** RF was loaded as 1 (IRET): it is cleared after the next instruction (armed = that instruction is running). */
  rfPending = false;
  rfArmed = false;
  // ---- VMX (vmxHooks.ts; attached by the engine in src/vmx while in VMX operation) -----------
  vmxInsn: InstructionExitHooks | null = null;
  vmxEvents: EventExitHooks | null = null;
  vmxEpt: EptHooks | null = null;
  /** VMX instructions executed by guest code outside non-root operation (vmxRootHooks.ts); null: #UD. */
  vmxRoot: VmxRootHooks | null = null;
  /**
   * A VM exit was performed since the run loop last looked (set by the engine). With
   * `vmExitStops` (the host is TypeScript) `run` returns 'vmexit'; without it execution goes on
   * at HOST_RIP (the host is guest code).
   */
  exitTaken = false;
  vmExitStops = true;
  /**
   * This run loop stops a block after an op that set `exitTaken` and returned (much cheaper in
   * V8 than throwing VM_EXIT, which ops still may: from inside a memory access, for example).
   */
  readonly exitReturns = true;
  /**
   * Non-root operation: the instruction count at which the event hooks must look again (the
   * VMX-preemption timer expires; src/vmx/preemptionTimer.ts). The run loop ends a block there.
   */
  vmxDeadline = Infinity;

  /** Shutdown after a triple fault (SDM vol. 3A §6.15): the processor stops until reset. */
  inShutdown = false;
  shutdownReason = '';

  constructor(mem: PhysicalMemory, options: CpuOptions = {}) {
    super(mem);
    this.cpuid = options.cpuid ?? DEFAULT_CPUID;
    this.deliverExceptions = options.deliverExceptions ?? false;
  }

  // ---- code cache --------------------------------------------------------------------------
  protected isCodePage(ppn: number): boolean {
    return this.codePages.has(ppn);
  }

  /**
   * A write reached a page holding code. Only blocks whose bytes cover the written byte are
   * dropped, so data next to code on the same page does not force retranslation; the 16-byte
   * granule map makes the common "data, not code" case one array load.
   */
  protected codeWritten(ppn: number, off: number): void {
    const cp = this.codePages.get(ppn);
    if (cp === undefined || cp.granules[off >> GRANULE_SHIFT] === 0) return;
    const keep: Block[] = [];
    for (const b of cp.blocks) {
      if (!b.valid && b !== heldBlock) continue;
      let hit = false;
      for (let k = 0; k < b.ranges.length; k += 3) {
        if (b.ranges[k] === ppn && off >= b.ranges[k + 1] && off < b.ranges[k + 2]) hit = true;
      }
      if (hit) {
        b.valid = false;
        if (b === heldBlock) heldBlock = null;
        if (this.blocks.get(b.key) === b) this.blocks.delete(b.key);
      } else {
        keep.push(b);
      }
    }
    this.codeEpoch++;
    if (keep.length === 0) {
      this.codePages.delete(ppn);
      return;
    }
    cp.blocks = keep;
    cp.granules.fill(0);
    for (const b of keep) this.markGranules(cp, b, ppn);
  }

  private markGranules(cp: CodePage, b: Block, ppn: number): void {
    for (let k = 0; k < b.ranges.length; k += 3) {
      if (b.ranges[k] !== ppn) continue;
      for (let g = b.ranges[k + 1] >> GRANULE_SHIFT; g <= (b.ranges[k + 2] - 1) >> GRANULE_SHIFT; g++) cp.granules[g] = 1;
    }
  }

  /**
   * Mmu: a write the non-root translation redirected (a write to the APIC-access page virtualized
   * to the virtual-APIC page, SDM vol. 3C §29.4.3) is being made. The engine records it (its
   * APIC-write emulation follows the instruction at the boundary, `eventPending`), and the block
   * running (`prevBlock` while `exec` runs it) ends after this instruction: it is marked invalid
   * until that boundary (releaseBlock), so the exec loop's own `b.valid` test stops it and no
   * other instruction or block pays for this.
   */
  protected override redirectedWrite(size: number): void {
    this.vmxEpt!.written(this, size);
    const b = this.prevBlock;
    if (b !== null && b.valid) {
      // Another processor's block still held has ended its run already: valid again.
      if (heldBlock !== null) releaseBlock();
      b.valid = false;
      heldBlock = b;
    }
  }

  /** Drop every translated block (mode changes that affect decoding, tests). */
  flushCode(): void {
    if (heldBlock !== null && this.blocks.get(heldBlock.key) === heldBlock) heldBlock = null;
    for (const b of this.blocks.values()) b.valid = false;
    this.blocks.clear();
    this.codePages.clear();
    this.codeEpoch++;
    this.prevBlock = null;
  }

  /** Something that block chaining depends on changed (CS, paging): re-look-up successors. */
  codeChanged(): void {
    this.codeEpoch++;
  }

  override flushTlb(): void {
    super.flushTlb();
    this.codeEpoch++;
  }

  /** Linear address of RIP (CS base added outside 64-bit mode), checked against CS (also exceptionReport.ts). */
  codeLinear(): number {
    if (this.bitness === 64) {
      const hi = this.ripHi;
      if (((hi << this.canonShift) >> this.canonShift) !== hi) throw gp0('RIP is not canonical');
      this.linHi = hi;
      return this.ripLo;
    }
    const eip = this.ripLo >>> 0;
    if (eip > this.segLimit[Seg.CS]) throw gp0('EIP outside the code segment limit');
    this.linHi = 0;
    return (eip + this.segBaseLo[Seg.CS]) | 0;
  }

  private lookupBlock(): Block {
    const prev = this.prevBlock;
    const ripLo = this.ripLo, ripHi = this.ripHi, bitness = this.bitness;
    if (prev !== null && prev.epoch === this.codeEpoch) {
      const s1 = prev.succ1;
      if (s1 !== null && s1.ripLo === ripLo && s1.ripHi === ripHi && s1.bitness === bitness && s1.valid) return s1;
      const s2 = prev.succ2;
      if (s2 !== null && s2.ripLo === ripLo && s2.ripHi === ripHi && s2.bitness === bitness && s2.valid) return s2;
    }
    const lin = this.codeLinear();
    const phys = this.translate(lin, this.linHi, Access.Execute);
    const key = phys * 4 + bitnessIndex(bitness);
    let b = this.blocks.get(key);
    if (b === undefined || b.ripLo !== ripLo || b.ripHi !== ripHi) b = this.translateBlock(phys, key, lin);
    if (prev !== null) {
      if (prev.epoch !== this.codeEpoch) {
        prev.succ1 = prev.succ2 = null;
        prev.epoch = this.codeEpoch;
      }
      if (prev.succ1 === null) prev.succ1 = b;
      else if (prev.succ1 !== b) prev.succ2 = b;
    }
    return b;
  }

  /** Bytes from physical `phys` to the end of its page plus up to 15 bytes of the next linear page. */
  private codeBytes(
    phys: number, lin: number, linHi: number,
  ): { bytes: Uint8Array; nextPpn: number; fault: CpuException | null } {
    const ppn = Math.floor(phys / PAGE_SIZE);
    const off = phys % PAGE_SIZE;
    const rest = PAGE_SIZE - off;
    const bytes = new Uint8Array(rest + 15);
    const page = this.mem.page(ppn);
    if (page !== null) bytes.set(page.subarray(off), 0);
    else bytes.fill(0xff, 0, rest);
    let nextPpn = -1;
    // The next linear page, for an instruction that crosses the boundary.
    let nlo = ((lin >>> 0) + rest);
    let nhi = linHi;
    if (nlo >= TWO32) {
      nlo -= TWO32;
      nhi = this.bitness === 64 ? (linHi + 1) | 0 : 0;
    }
    let fault: CpuException | null = null;
    // Probing the next page must not leave CR2 changed: nothing is delivered yet.
    const cr2Lo = this.cr2Lo, cr2Hi = this.cr2Hi;
    try {
      if (this.bitness === 64 && ((nhi << this.canonShift) >> this.canonShift) !== nhi) throw gp0('instruction fetch crosses out of the canonical address range');
      const nphys = this.translate(nlo | 0, nhi, Access.Execute);
      nextPpn = Math.floor(nphys / PAGE_SIZE);
      // Device pages are not read ahead (a read can have side effects): they fetch as all-ones.
      const next = this.mem.page(nextPpn);
      for (let i = 0; i < 15; i++) bytes[rest + i] = next !== null ? next[(nphys % PAGE_SIZE) + i] : 0xff;
    } catch (e) {
      if (!(e instanceof CpuException)) throw e;
      this.cr2Lo = cr2Lo;
      this.cr2Hi = cr2Hi;
      // Not fetchable: an instruction that needs these bytes raises this fault (a #PF with CR2
      // at the page's first byte, or #GP) when it is reached, not before.
      bytes.fill(0, rest);
      nextPpn = -2;
      fault = e;
    }
    return { bytes, nextPpn, fault };
  }

  private translateBlock(phys: number, key: number, lin: number): Block {
    const bitness = this.bitness;
    const linHi = this.linHi;
    const { bytes, nextPpn, fault } = this.codeBytes(phys, lin, linHi);
    const rest = PAGE_SIZE - (phys % PAGE_SIZE);
    const ppn = Math.floor(phys / PAGE_SIZE);
    const dec = new Decoder(bitness, bytes, DecoderOptions.None);
    const ins = this.icedInsn;
    const ops: Op[] = [];
    const insns: DecodedInsn[] = [];
    const ipLo: number[] = [];
    const ipHi: number[] = [];
    const ranges: number[] = [];
    let lastSetsRip = false;
    try {
      dec.ip = (BigInt(this.ripHi >>> 0) << 32n) | BigInt(this.ripLo >>> 0);
      let pos = 0;
      while (ops.length < MAX_BLOCK_INSNS && pos < rest) {
        dec.decodeOut(ins);
        const len = ins.length;
        const d = describe(ins, bitness, bytes.slice(pos, pos + len));
        if (bitness !== 64) {
          // Outside 64-bit mode the instruction pointer is EIP/IP; iced already wraps it.
          d.ipHi = 0;
          d.nextHi = 0;
        }
        d.blockIndex = ops.length;
        ipLo.push(d.ipLo);
        ipHi.push(d.ipHi);
        const crosses = pos + len > rest;
        if (crosses && nextPpn === -2) {
          // The rest of the instruction is not fetchable: fault when it is reached.
          const f = fault!;
          ops.push((c) => { loadCr2From(c, f); throw f; });
          d.endsBlock = true;
          d.setsRip = false;
        } else {
          ops.push(translateInsn(d));
        }
        insns.push(d);
        pos += len;
        if (d.endsBlock || crosses) {
          lastSetsRip = d.setsRip;
          break;
        }
      }
      const last = insns[insns.length - 1];
      const off = phys % PAGE_SIZE;
      ranges.push(ppn, off, Math.min(off + pos, PAGE_SIZE));
      if (pos > rest && nextPpn >= 0) ranges.push(nextPpn, 0, pos - rest);
      ipLo.push(last.nextLo);
      ipHi.push(last.nextHi);
    } finally {
      dec.free();
    }
    const b: Block = {
      key, phys, ripLo: this.ripLo, ripHi: this.ripHi, bitness, ops, insns,
      ipLo: Int32Array.from(ipLo), ipHi: Int32Array.from(ipHi), n: ops.length, lastSetsRip,
      valid: true, ranges, succ1: null, succ2: null, epoch: this.codeEpoch,
    };
    this.blocks.set(key, b);
    for (let k = 0; k < ranges.length; k += 3) {
      const p = ranges[k];
      let cp = this.codePages.get(p);
      if (cp === undefined) {
        cp = { blocks: [], granules: new Uint8Array(PAGE_SIZE >> GRANULE_SHIFT) };
        this.codePages.set(p, cp);
        this.dropWriteTlbFor(p);
      }
      cp.blocks.push(b);
      this.markGranules(cp, b, p);
    }
    this.blocksTranslated++;
    return b;
  }

  // ---- running -----------------------------------------------------------------------------
  /**
   * Deliver an exception to the guest. Returns false when it cannot be delivered (no IDT
   * delivery yet): the run stops and reports it.
   */
  protected deliverException(e: CpuException): boolean {
    return deliverException(this, e);
  }

  /**
   * Linear → physical: paging when CR0.PG is set (paging.ts), else identity. In VMX non-root
   * operation the engine translates (guest paging, EPT, APIC-access page: vmxEptHooks.ts);
   * `size` is the data access's (Mmu.translate).
   */
  override translate(lo: number, hi: number, access: Access, size = 0): number {
    if (this.nonRoot) return this.vmxEpt!.linear(this, lo, hi, access, size);
    if (this.cr0 & 0x80000000) return pagingTranslate(this, lo, hi, access);
    return (hi >>> 0) * TWO32 + (lo >>> 0);
  }

  /** Decode one instruction of `raw` in the current bitness (iced; a reused Instruction). */
  decodeAt(raw: Uint8Array): Instruction {
    const dec = new Decoder(this.bitness, raw, DecoderOptions.None);
    try {
      dec.decodeOut(this.icedInsn);
      return this.icedInsn;
    } finally {
      dec.free();
    }
  }

  /** Run one block (or its first `max` instructions). Returns a CpuException if one was raised. */
  private exec(b: Block, max: number): CpuException | null {
    const ops = b.ops;
    const n = b.n < max ? b.n : max;
    let i = 0;
    try {
      while (i < n) {
        ops[i](this);
        i++;
        if (!b.valid || this.exitTaken) break;
      }
    } catch (e) {
      this.icount += i;
      if (e === VM_EXIT) {
        // The engine saved the guest's RIP and loaded the host's (vmxHooks.ts).
        this.exitTaken = true;
        return null;
      }
      if (e === VM_EXIT_DEFERRED) {
        // An event hook needs the instruction's address and length to exit (vmxEventHooks.ts);
        // `false`: no exit after all, the hook completed the instruction (it retired).
        if (!this.vmxEvents!.completeDeferred(this, b.insns[i])) this.icount++;
        return null;
      }
      this.ripLo = b.ipLo[i];
      this.ripHi = b.ipHi[i];
      if (e instanceof CpuException) return e;
      const d = b.insns[i];
      const where = `RIP=0x${this.getRip().toString(16)} (${disassemble(d.bytes, d.bitness, this.getRip())})`;
      const err = new Error(`processor model error at ${where}: ${(e as Error).message ?? e}`);
      (err as Error & { cause?: unknown }).cause = e;
      throw err;
    }
    if (this.exitTaken) {
      // The op that exited returned (exitReturns): it did not retire; the engine saved the
      // guest's RIP and loaded the host's.
      this.icount += i - 1;
      return null;
    }
    this.icount += i;
    if (i !== b.n || !b.lastSetsRip) {
      this.ripLo = b.ipLo[i];
      this.ripHi = b.ipHi[i];
    }
    return null;
  }

  /**
   * Run until HLT, an exception that cannot be delivered, or `maxInstructions` retired in total
   * (counted from the start of this Cpu's life, as `icount`).
   */
  run(maxInstructions: number): RunResult {
    this.lastException = null;
    for (;;) {
      if (this.stopRequested) {
        // A device asked to look at the machine now (a timer armed, an exit): return between blocks.
        this.stopRequested = false;
        return { reason: 'limit' };
      }
      let left = maxInstructions - this.icount;
      if (this.nonRoot) {
        // The VMX-preemption timer expires at an exact instruction boundary (SDM vol. 3C §25.5.1);
        // a halted guest looks again on every run (the platform may have advanced the TSC).
        const d = this.vmxDeadline - this.icount;
        if (d <= 0 || this.halted) this.eventPending = true;
        else if (d < left) left = d;
      }
      if (this.eventPending && left > 0) {
        if (heldBlock !== null) releaseBlock();
        // Events between instructions; `true` asks for exactly one instruction before the next
        // look (single-step, interrupt shadow).
        if (serviceEvents(this) && left > 1) left = 1;
        if (this.exitTaken) {
          if (this.afterVmExit()) return { reason: 'vmexit' };
          continue;
        }
        if (this.inShutdown) return { reason: 'shutdown' };
      }
      if (this.halted) return { reason: this.inShutdown ? 'shutdown' : 'hlt' };
      if (left <= 0) return { reason: 'limit' };
      let exc: CpuException | null;
      const hd = this.hostDebug;
      try {
        const b = this.lookupBlock();
        if (hd !== null) {
          // The debugger's breakpoints (hostDebug.ts): one check per block.
          left = hd.allow(this, b, left);
          if (left === 0) return { reason: 'break' };
        }
        // Set before running it: redirectedWrite finds the running block here.
        this.prevBlock = b;
        exc = this.exec(b, left);
      } catch (e) {
        if (e === VM_EXIT) {
          // An exit while fetching (EPT violation on the code page).
          this.exitTaken = true;
          exc = null;
        } else {
          if (!(e instanceof CpuException)) throw e;
          exc = e;
        }
        this.prevBlock = null;
      }
      if (this.exitTaken) {
        if (this.afterVmExit()) return { reason: 'vmexit' };
        continue;
      }
      if (hd !== null && hd.hits.length > 0) {
        // A watched access: stop after the instruction that made it; a faulting one did not complete.
        if (exc === null) return { reason: 'break' };
        hd.hits.length = 0;
      }
      if (exc !== null) {
        this.prevBlock = null;
        // A faulting instruction does not complete: its data-breakpoint hits are not reported
        // (SDM vol. 3B §18.3.1.2 takes the trap after the instruction completes).
        this.dbgHits = 0;
        const delivered = this.deliverException(exc);
        if (this.exitTaken) {
          // The exception caused a VM exit (exception bitmap, triple fault in non-root operation).
          if (this.afterVmExit()) return { reason: 'vmexit' };
          continue;
        }
        if (!delivered) {
          this.lastException = exceptionReport(this, exc);
          return { reason: 'exception', exception: this.lastException };
        }
        if (this.inShutdown) {
          this.lastException = exceptionReport(this, exc);
          return { reason: 'shutdown', exception: this.lastException };
        }
        // Delivering an exception takes time: it advances the deterministic clock by one, so a
        // guest whose handlers fault forever (nothing retires) still reaches the run's budget
        // and its timers.
        this.icount++;
      }
    }
  }

  /**
   * A VM exit happened: it takes one unit of the deterministic clock (like an exception
   * delivery, so a guest that only exits still reaches its budget and timers). Returns true
   * when `run` must return 'vmexit' to the TypeScript host.
   */
  private afterVmExit(): boolean {
    if (heldBlock !== null) releaseBlock();
    this.exitTaken = false;
    this.prevBlock = null;
    this.icount++;
    return this.vmExitStops;
  }

  /** Execute exactly one instruction (stepping). */
  step(): RunResult {
    return this.run(this.icount + 1);
  }
}
