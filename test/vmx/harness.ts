/**
 * Test harness for the VT-x engine (issue 4): a fresh processor in VMX root operation with a
 * current VMCS whose controls, host state and guest state pass every VM-entry check, and helpers
 * to load guest code, launch/resume, run until the VM exit and read the exit information.
 * See test/vmx/README.md. The machine itself is src/cli/benchVmxSetup.ts (shared with the bench).
 *
 *   const h = vmx({ mode: 'long', code: [Instruction.create(Code.Cpuid), hltInsn()] });
 *   const r = h.launch();                 // VMLAUNCH, then run the guest until it exits
 *   assert.equal(r.exit?.basic, Exit.Cpuid);
 *   assert.equal(r.exit?.insnLength, 2);
 */
import type { Instruction } from 'iced-x86';
import type { RunResult } from '../../src/x86/cpu';
import { GPR_NAMES } from '../../src/x86/registers';
import type { VmEntryOutcome } from '../../src/vmx/engine';
import type { GuestMode, VmxMachineOptions } from '../../src/cli/benchVmxSetup';
import { LAYOUT, VmxMachine, enc } from '../../src/cli/benchVmxSetup';
import { encode } from '../x86/run';

export { LAYOUT, VmxMachine, enc };
export type { GuestMode, VmxMachineOptions };
export { EptBuilder } from '../../src/vmx/eptBuilder';
export { GUEST_TABLES, handlerAddress } from '../../src/cli/benchVmxGuestTables';
export { choose, chooseControls } from '../../src/vmx/controlChoice';

export type GprName = (typeof GPR_NAMES)[number];

export interface HarnessOptions extends Omit<VmxMachineOptions, 'code'> {
  /** Guest code: bytes, or iced Instructions (encoded for the mode at the guest's entry RIP). */
  code?: Uint8Array | number[] | Instruction[];
  /** Guest general registers (RSP: use the GUEST_RSP field). */
  regs?: Partial<Record<GprName, number | bigint>>;
  /** VMCS fields to VMWRITE after the setup, by name. */
  fields?: Record<string, number | bigint>;
}

/** Every VM-exit information field (§24.9), read with VMREAD after an exit. */
export interface ExitInfo {
  /** Full exit reason (bit 31: VM-entry failure). */
  reason: number;
  /** Basic exit reason, bits 15:0. */
  basic: number;
  entryFailure: boolean;
  qualification: bigint;
  guestLinear: bigint;
  guestPhysical: bigint;
  insnLength: number;
  insnInfo: number;
  intrInfo: number;
  intrError: number;
  idtInfo: number;
  idtError: number;
  /** RIP of the guest as saved in the VMCS. */
  guestRip: bigint;
  /** VM-instruction error field (VMfailValid number of the last VMX instruction). */
  instructionError: number;
}

/** A finished run: how the entry went, then (if entered) how the run stopped and the exit fields. */
export interface Launched {
  entry: VmEntryOutcome;
  /** undefined when the entry did not enter the guest. */
  result?: RunResult;
  /** The exit information when the run stopped with a VM exit or the entry failed late (exit reason 33/34). */
  exit?: ExitInfo;
}

export class Harness extends VmxMachine {
  /** Read all exit-information fields. */
  exitInfo(): ExitInfo {
    const reason = this.read32f('EXIT_REASON');
    return {
      reason,
      basic: reason & 0xffff,
      entryFailure: (reason & 0x80000000) !== 0,
      qualification: this.read('EXIT_QUALIFICATION'),
      guestLinear: this.read('GUEST_LINEAR_ADDRESS'),
      guestPhysical: this.read('GUEST_PHYSICAL_ADDRESS'),
      insnLength: this.read32f('VM_EXIT_INSTRUCTION_LENGTH'),
      insnInfo: this.read32f('VM_EXIT_INSTRUCTION_INFORMATION'),
      intrInfo: this.read32f('VM_EXIT_INTERRUPTION_INFORMATION'),
      intrError: this.read32f('VM_EXIT_INTERRUPTION_ERROR_CODE'),
      idtInfo: this.read32f('IDT_VECTORING_INFORMATION'),
      idtError: this.read32f('IDT_VECTORING_ERROR_CODE'),
      guestRip: this.read('GUEST_RIP'),
      instructionError: this.read32f('VM_INSTRUCTION_ERROR'),
    };
  }

  private go(entry: VmEntryOutcome, max: number): Launched {
    if (entry.kind === 'fail') return { entry };
    if (entry.kind === 'exitOnEntry') return { entry, exit: this.exitInfo() };
    const result = this.run(max);
    return { entry, result, exit: result.reason === 'vmexit' ? this.exitInfo() : undefined };
  }

  /** VMLAUNCH and run the guest until it exits (or `max` instructions). */
  launch(max = 100_000): Launched {
    return this.go(this.vmlaunch(), max);
  }

  /** VMRESUME and run the guest until it exits. */
  resume(max = 100_000): Launched {
    return this.go(this.vmresume(), max);
  }

  /** Skip the exiting instruction (RIP += exit instruction length), VMRESUME and run. */
  skipAndResume(max = 100_000): Launched {
    this.skipInstruction();
    return this.resume(max);
  }

  /** A guest general register (the processor holds them in root operation too; RSP is GUEST_RSP). */
  reg(name: GprName): bigint {
    if (name === 'rsp' && !this.cpu.nonRoot) return this.read('GUEST_RSP');
    return this.cpu.getReg64(GPR_NAMES.indexOf(name));
  }

  setReg(name: GprName, v: number | bigint): void {
    if (name === 'rsp' && !this.cpu.nonRoot) {
      this.write('GUEST_RSP', v);
      return;
    }
    this.cpu.setReg64(GPR_NAMES.indexOf(name), BigInt.asUintN(64, BigInt(v)));
  }

  /** Load code at a guest address (identity-mapped: guest-physical = host-physical). */
  loadCode(code: Uint8Array | number[] | Instruction[], at = this.entryRip): void {
    this.mem.load(at, codeBytes(this.mode, code, at));
  }

  /** Fill guest memory. */
  load(at: number, bytes: Uint8Array | number[]): void {
    this.mem.load(at, bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  }

  /** Set a bit in the I/O bitmaps (port 0-0xffff) or the MSR bitmaps (§24.6.4, §24.6.9). */
  interceptPort(port: number): void {
    const base = port < 0x8000 ? LAYOUT.IO_BITMAP_A : LAYOUT.IO_BITMAP_B;
    const bit = port & 0x7fff;
    this.mem.write8(base + (bit >> 3), this.mem.read8(base + (bit >> 3)) | (1 << (bit & 7)));
  }

  /**
   * Inject an event on the next VM entry (§24.8.3): VM-entry interruption-information field
   * (vector 7:0, type 10:8, deliver error code 11, valid 31), error code, instruction length.
   */
  inject(type: number, vector: number, options: { errorCode?: number; length?: number } = {}): void {
    const ec = options.errorCode !== undefined ? 1 << 11 : 0;
    this.vmwrite('VM_ENTRY_INTERRUPTION_INFORMATION', (0x80000000 | (type << 8) | ec | vector) | 0);
    if (options.errorCode !== undefined) this.vmwrite('VM_ENTRY_EXCEPTION_ERROR_CODE', options.errorCode);
    if (options.length !== undefined) this.vmwrite('VM_ENTRY_INSTRUCTION_LENGTH', options.length);
  }

  /**
   * Fill an MSR area (§24.7.2, §24.8.2: 16 bytes per entry — index, reserved, 64-bit value) and
   * set its count field. `which`: 'exitStore' | 'exitLoad' | 'entryLoad'.
   */
  msrArea(which: 'exitStore' | 'exitLoad' | 'entryLoad', entries: Array<[index: number, value: bigint | number]>): void {
    const at = which === 'exitStore' ? LAYOUT.EXIT_MSR_STORE : which === 'exitLoad' ? LAYOUT.EXIT_MSR_LOAD : LAYOUT.ENTRY_MSR_LOAD;
    entries.forEach(([index, value], k) => {
      const v = BigInt.asUintN(64, BigInt(value));
      this.write32(at + k * 16, index);
      this.write32(at + k * 16 + 4, 0);
      this.write32(at + k * 16 + 8, Number(v & 0xffffffffn));
      this.write32(at + k * 16 + 12, Number(v >> 32n));
    });
    const field = which === 'exitStore' ? 'VM_EXIT_MSR_STORE_COUNT' : which === 'exitLoad' ? 'VM_EXIT_MSR_LOAD_COUNT' : 'VM_ENTRY_MSR_LOAD_COUNT';
    this.vmwrite(field, entries.length);
  }

  /** Entry `k` of an MSR area as [index, value] (what a VM exit stored). */
  msrAreaEntry(which: 'exitStore' | 'exitLoad' | 'entryLoad', k: number): [number, bigint] {
    const at = (which === 'exitStore' ? LAYOUT.EXIT_MSR_STORE : which === 'exitLoad' ? LAYOUT.EXIT_MSR_LOAD : LAYOUT.ENTRY_MSR_LOAD) + k * 16;
    return [this.read32(at) >>> 0, (BigInt(this.read32(at + 12) >>> 0) << 32n) | BigInt(this.read32(at + 8) >>> 0)];
  }

  interceptMsr(msr: number, write: boolean): void {
    const high = msr >= 0xc0000000;
    const off = (write ? 0x800 : 0) + (high ? 0x400 : 0);
    const bit = msr & 0x1fff;
    const a = LAYOUT.MSR_BITMAP + off + (bit >> 3);
    this.mem.write8(a, this.mem.read8(a) | (1 << (bit & 7)));
  }
}

function codeBytes(mode: GuestMode, code: Uint8Array | number[] | Instruction[], at: number): Uint8Array {
  if (code instanceof Uint8Array) return code;
  if (code.length > 0 && typeof code[0] !== 'number') {
    return encode(mode === 'long' ? 64 : mode === 'protected' ? 32 : 16, code as Instruction[], BigInt(at));
  }
  return Uint8Array.from(code as number[]);
}

/** A fresh valid VMX setup (see HarnessOptions); guest code loaded; nothing launched yet. */
export function vmx(options: HarnessOptions = {}): Harness {
  const { code, regs, fields, ...rest } = options;
  const h = new Harness(rest);
  if (code !== undefined) h.loadCode(code);
  for (const [k, v] of Object.entries(regs ?? {})) h.setReg(k as GprName, v as number | bigint);
  for (const [k, v] of Object.entries(fields ?? {})) h.write(k, v);
  return h;
}

/** Interruption types of the VM-entry/exit interruption-information fields (§24.8.3, §24.9.2). */
export const INTR = {
  External: 0, Nmi: 2, HardwareException: 3, SoftwareInterrupt: 4, PrivilegedSoftwareException: 5,
  SoftwareException: 6, Other: 7,
} as const;

/** HLT as raw bytes (0xf4), handy at the end of guest snippets. */
export const HLT = [0xf4];
