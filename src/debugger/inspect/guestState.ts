/**
 * The guest's architectural state on a stopped Vmm, read and written where it lives:
 *  - outside the guest (after a VM exit, the processor in VMX root operation holding the host's
 *    state): RSP, RIP, RFLAGS, segments, descriptor tables, CR0/CR3/CR4, DR7 and the MSRs VM
 *    entry loads are in the VMCS guest-state area (SDM vol. 3C §24.4, §27.3.1 saved on exit,
 *    §26.3.2 loaded on entry); the other general registers, CR2, CR8, DR0-DR3, DR6, x87/SSE
 *    state and the MSRs no transition switches stay in the processor (hypervisor/guestView.ts);
 *  - inside (the run stopped between two guest instructions, still in non-root operation):
 *    everything is in the processor; the VMCS guest-state area holds the values of the last
 *    entry only.
 * CR0/CR4 as the guest reads them merge the read shadows under the guest/host masks (§25.3).
 * In bare VT-x mode (`hypervisor: "none"`) the program is the machine: its state is always the
 * processor's (the guest hypervisor's in root operation, its nested guest's in non-root
 * operation), and the current VMCS's controls apply only in non-root operation
 * (src/debugger/stoppedMachine.ts).
 */
import { currentVmcs, heldByProcessor, underVmx, type StoppedMachine } from '../stoppedMachine';
import { GUEST_STATE_MSRS } from '../../vmm/vmm';
import { readMsr } from '../../x86/msr';
import { CheckCaps, readCaps } from '../../vmx/entryChecksCommon';
import { checkRipRflags } from '../../vmx/entryChecksGuest';
import { fieldIndex } from '../../vmx/fields';
import { EFER_LMA } from '../../x86/controlRegisters';
import { u64 } from './format';
import { writeVmcsField } from './vmcsWrite';

/** Register numbers in encoding order (src/x86/registers.ts). */
export const GPR_ORDER = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
/** The order a person expects in the Variables view. */
export const GPR_DISPLAY = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
/** Segment registers: name, processor index (Seg), VMCS field prefix. */
export const SEGMENTS = [['cs', 1], ['ds', 3], ['es', 0], ['fs', 4], ['gs', 5], ['ss', 2], ['ldtr', 6], ['tr', 7]] as const;

export interface SegmentValue {
  selector: bigint;
  base: bigint;
  limit: bigint;
  /** Access rights in the VMCS layout (bit 16 = unusable). */
  ar: bigint;
}

export class GuestState {
  constructor(readonly m: StoppedMachine) {}

  /** The live state is in the processor: stopped inside the guest (non-root operation), or always in bare mode. */
  get inside(): boolean {
    return heldByProcessor(this.m);
  }

  /** The code in view runs under the current VMCS's controls (read shadows, TSC offset). */
  get underVmx(): boolean {
    return underVmx(this.m) && currentVmcs(this.m) !== null;
  }

  /** True when there is a current VMCS (VMPTRLD; always under the built-in hypervisor). */
  get hasVmcs(): boolean {
    return currentVmcs(this.m) !== null;
  }

  /** A VMCS field of the current VMCS, without VMREAD (works in both states). */
  field(name: string): bigint {
    const v = currentVmcs(this.m);
    if (v === null) throw new Error('no current VMCS (the guest has not executed VMPTRLD)');
    return v.read(name);
  }

  gpr(name: string): bigint {
    const c = this.m.cpu;
    const i = GPR_ORDER.indexOf(name as (typeof GPR_ORDER)[number]);
    if (i < 0) throw new Error(`no register ${name}`);
    if (i === 4 && !this.inside) return this.field('GUEST_RSP');
    return u64(c.lo[i], c.hi[i]);
  }

  setGpr(name: string, value: bigint): void {
    const i = GPR_ORDER.indexOf(name as (typeof GPR_ORDER)[number]);
    if (i < 0) throw new Error(`no register ${name}`);
    const v = BigInt.asUintN(64, value);
    if (i === 4 && !this.inside) {
      writeVmcsField(this.m, 'GUEST_RSP', v);
      return;
    }
    this.m.cpu.setReg64(i, v);
  }

  rip(): bigint {
    return this.inside ? this.m.cpu.getRip() : this.field('GUEST_RIP');
  }

  rflags(): bigint {
    return this.inside ? BigInt(this.m.cpu.getRflags()) : this.field('GUEST_RFLAGS');
  }

  /** 16, 32 or 64 (CS.L in IA-32e mode, else CS.D). */
  bitness(): 16 | 32 | 64 {
    const cs = this.segment('cs').ar;
    if ((this.efer() & BigInt(EFER_LMA)) !== 0n && (cs & 0x2000n) !== 0n) return 64;
    return (cs & 0x4000n) !== 0n ? 32 : 16;
  }

  /**
   * The VM-entry check of RIP and RFLAGS (SDM vol. 3C §26.3.1.4, the engine's own
   * checkRipRflags) on the guest state with `rip`/`rflags` replaced: null when an entry would
   * accept them, else the failed check.
   */
  entryCheck(change: { rip?: bigint; rflags?: bigint }): string | null {
    // Bare mode outside the nested guest: no VM entry follows, the processor runs these values.
    if (!this.underVmx) return null;
    const e = this.m.vmx!;
    const v = e.current!;
    const lo = v.lo.slice();
    const hi = v.hi.slice();
    const put = (name: string, x: bigint): void => {
      const i = fieldIndex(name);
      lo[i] = Number(x & 0xffffffffn) | 0;
      hi[i] = Number((x >> 32n) & 0xffffffffn) | 0;
    };
    if (this.inside) {
      // The live values the next exit saves and the entry after it checks.
      put('GUEST_CR0', BigInt(this.m.cpu.cr0 >>> 0));
      put('GUEST_CS_ACCESS_RIGHTS', BigInt(this.m.cpu.segAttr[1] >>> 0));
      put('GUEST_RIP', this.rip());
      put('GUEST_RFLAGS', this.rflags());
    }
    if (change.rip !== undefined) put('GUEST_RIP', BigInt.asUintN(64, change.rip));
    if (change.rflags !== undefined) put('GUEST_RFLAGS', BigInt.asUintN(64, change.rflags));
    return checkRipRflags(readCaps(e.cpu, new CheckCaps()), lo, hi);
  }

  setRip(value: bigint): void {
    const why = this.entryCheck({ rip: value });
    if (why !== null) throw new Error(`RIP 0x${BigInt.asUintN(64, value).toString(16)} refused: VM entry would fail (SDM vol. 3C §${why})`);
    if (this.inside) this.m.cpu.setRip(value);
    else writeVmcsField(this.m, 'GUEST_RIP', value);
  }

  setRflags(value: bigint): void {
    const why = this.entryCheck({ rflags: value });
    if (why !== null) {
      const hint = (value & 2n) === 0n ? ' (bit 1 is reserved and must be 1)' : '';
      throw new Error(`RFLAGS 0x${BigInt.asUintN(64, value).toString(16)} refused: VM entry would fail (SDM vol. 3C §${why})${hint}`);
    }
    if (this.inside) {
      const c = this.m.cpu;
      c.setRflags(Number(value & 0xffffffffn));
      // TF/IF changes are looked at between blocks (interrupts.ts serviceEvents).
      c.eventPending = true;
    } else {
      writeVmcsField(this.m, 'GUEST_RFLAGS', value);
    }
  }

  segment(name: string): SegmentValue {
    const s = SEGMENTS.find(([n]) => n === name);
    if (s === undefined) throw new Error(`no segment register ${name}`);
    if (this.inside) {
      const c = this.m.cpu;
      const i = s[1];
      return { selector: BigInt(c.segSel[i]), base: u64(c.segBaseLo[i], c.segBaseHi[i]), limit: BigInt(c.segLimit[i] >>> 0), ar: BigInt(c.segAttr[i] >>> 0) };
    }
    const p = `GUEST_${name.toUpperCase()}`;
    return { selector: this.field(`${p}_SELECTOR`), base: this.field(`${p}_BASE`), limit: this.field(`${p}_LIMIT`), ar: this.field(`${p}_ACCESS_RIGHTS`) };
  }

  table(name: 'gdtr' | 'idtr'): { base: bigint; limit: bigint } {
    if (this.inside) {
      const c = this.m.cpu;
      return name === 'gdtr' ? { base: u64(c.gdtrBaseLo, c.gdtrBaseHi), limit: BigInt(c.gdtrLimit) } : { base: u64(c.idtrBaseLo, c.idtrBaseHi), limit: BigInt(c.idtrLimit) };
    }
    const p = `GUEST_${name.toUpperCase()}`;
    return { base: this.field(`${p}_BASE`), limit: this.field(`${p}_LIMIT`) };
  }

  /** The real CR0 / CR4 (what the processor runs with). */
  cr0Real(): bigint {
    return this.inside ? BigInt(this.m.cpu.cr0 >>> 0) : this.field('GUEST_CR0');
  }

  cr4Real(): bigint {
    return this.inside ? BigInt(this.m.cpu.cr4 >>> 0) : this.field('GUEST_CR4');
  }

  /** CR0 / CR4 as the guest reads them: host-owned bits (mask 1) from the read shadow (§25.3). */
  cr0(): bigint {
    if (!this.underVmx) return this.cr0Real();
    const m = this.field('CR0_GUEST_HOST_MASK');
    return (this.cr0Real() & ~m) | (this.field('CR0_READ_SHADOW') & m);
  }

  cr4(): bigint {
    if (!this.underVmx) return this.cr4Real();
    const m = this.field('CR4_GUEST_HOST_MASK');
    return (this.cr4Real() & ~m) | (this.field('CR4_READ_SHADOW') & m);
  }

  cr2(): bigint {
    const c = this.m.cpu;
    return u64(c.cr2Lo, c.cr2Hi);
  }

  cr3(): bigint {
    return this.inside ? u64(this.m.cpu.cr3Lo, this.m.cpu.cr3Hi) : this.field('GUEST_CR3');
  }

  /** CR8 (the task-priority register, 64-bit mode). */
  cr8(): bigint {
    return BigInt(this.m.cpu.cr8 >>> 0);
  }

  efer(): bigint {
    return this.inside ? BigInt(this.m.cpu.efer >>> 0) : this.field('GUEST_IA32_EFER');
  }

  /** The guest's XCR0 (the hypervisor switches it around each entry, reference §1). */
  xcr0(): bigint {
    return this.inside ? BigInt(this.m.cpu.xcr0 >>> 0) : BigInt(this.m.vmm!.vcpu.guestXcr0 >>> 0);
  }

  dr(n: number): bigint {
    const c = this.m.cpu;
    if (n < 4) return u64(c.drLo[n], c.drHi[n]);
    if (n === 6) return BigInt(c.dr6 >>> 0);
    return this.inside ? BigInt(c.dr7 >>> 0) : this.field('GUEST_DR7');
  }

  /** The guest's value of MSR `index`, or undefined when the processor does not implement it. */
  msr(index: number): bigint | undefined {
    const own = GUEST_STATE_MSRS[index];
    if (own !== undefined && !this.inside) return this.field(own);
    const c = this.m.cpu;
    try {
      const lo = readMsr(c, index, c.icount);
      let v = u64(lo, c.vHi);
      // The guest reads the TSC plus the offset when "use TSC offsetting" is 1 (§25.3).
      if (index === 0x10 && this.underVmx && (this.field('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS') & 8n) !== 0n) v = BigInt.asUintN(64, v + this.field('TSC_OFFSET'));
      return v;
    } catch {
      return undefined;
    }
  }

  /** CPL: SS.DPL (SDM vol. 3A §5.5). */
  cpl(): number {
    return Number((this.segment('ss').ar >> 5n) & 3n);
  }
}
