/**
 * The built-in exit handlers (reference §1 table, §3), with the crate's bugs fixed: CPUID with
 * the seed's leaf edits, CR access with masks and shadows (#GP for illegal values), XSETBV with
 * the XCR0 rules (#GP when invalid), the x2APIC MSRs to the virtual local APIC, the interrupt
 * and NMI windows, the preemption timer; VMCALL, I/O (string and REP forms too: the crate
 * halted on them [gap]), MSRs, EPT violations (MMIO) and the rest go up to the VMM as VCpuExit.
 * Instruction lengths always come from the exit's instruction-length field.
 */
import { CpuException } from '../x86/exceptions';
import { cpuidInto } from '../x86/cpuid';
import type { DecodedExit } from '../vmx/exitDecode';
import { FIELD_BY_NAME } from '../vmx/fields';
import { guestCpuid } from './cpuidPolicy';
import { xcr0Problem } from './xcr0';
import { cr0Problem, cr4Problem, realCr0, realCr4 } from './crPolicy';
import { cr4Settable } from '../x86/controlRegisters';
import { decodeMmio } from './mmio';
import { linearToPhysical, pagingOf, readGuest } from './guestMemory';
import type { VCpuExit } from './vcpuExit';
import { NOTHING } from './vcpuExit';
import type { VmxVcpu } from './vcpu';
import { PREEMPTION_TIMER_START } from './guestStart';

/** The virtual local APIC's x2APIC registers (MSRs 0x800-0x8FF); may throw a #GP CpuException. */
/** An IPI whose destination includes another processor (ICR decoded, SDM vol. 3A §10.6.1). */
export interface OutgoingIpi {
  /** Delivery mode: 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 6 start-up. */
  mode: number;
  vector: number;
  /** Destination field (APIC ID, logical set or the broadcast ID; the broadcast ID for shorthands). */
  dest: number;
  logical: boolean;
  /** Destination shorthand: 0 none, 1 self, 2 all including self, 3 all excluding self. */
  shorthand: number;
}

export interface ApicMsrs {
  rdmsr(index: number): [number, number] | null;
  wrmsr(index: number, lo: number, hi: number): boolean;
  /** The last IPI an ICR write sent to another processor (lapic.ts takeOutgoing), or null. */
  takeOutgoing?(): OutgoingIpi | null;
}

const out = new Int32Array(4);
const u32 = (v: number): bigint => BigInt(v >>> 0);

export function handleExit(vcpu: VmxVcpu, reason: number, entryFailure: boolean): VCpuExit {
  if (entryFailure) return { kind: 'FailEntry', reason: Number(vcpu.v.read('EXIT_REASON') & 0xffffffffn), check: vcpu.lastExit!.summary };
  const v = vcpu.v;
  // CPUID first, without decoding the exit: the hottest exit of all (reference §3 CPUID).
  if (reason === 10) return cpuidExit(vcpu);
  const e = vcpu.lastExit!;
  const f = e.fields;
  switch (reason) {
    case 0: return reflectException(vcpu);
    case 1: return f.vector !== undefined ? { kind: 'ExternalInterrupt', vector: Number(f.vector) } : NOTHING;
    case 2: return { kind: 'Halt', why: 'triple fault (the guest shut down)' };
    // INIT (SDM vol. 3C §25.2): the processor would reset and wait for a start-up IPI — this
    // vCPU goes down (the seed's CpuDown, which the crate never produces).
    case 3: return { kind: 'CpuDown' };
    case 7: {
      const proc = v.read32('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
      v.write('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', proc & ~(1 << 2));
      return NOTHING;
    }
    case 8: {
      const proc = v.read32('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
      v.write('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', proc & ~(1 << 22));
      return NOTHING;
    }
    case 12:
      vcpu.advanceRip();
      return { kind: 'Halt', why: 'HLT' };
    case 18: {
      vcpu.advanceRip();
      const r = (n: string): bigint => vcpu.reg(n);
      return { kind: 'Hypercall', nr: r('rax'), args: [r('rdi'), r('rsi'), r('rdx'), r('rcx'), r('r8'), r('r9')] };
    }
    case 28: return crAccess(vcpu, e);
    case 30: return ioExit(vcpu, e);
    case 31: case 32: return msrExit(vcpu, e);
    case 48: return eptViolation(vcpu, e);
    case 49: return { kind: 'Halt', why: `EPT misconfiguration at GPA 0x${(f.gpa as bigint).toString(16)} (a hypervisor bug)` };
    case 52:
      v.write('VMX_PREEMPTION_TIMER_VALUE', PREEMPTION_TIMER_START);
      return NOTHING;
    case 55: return xsetbv(vcpu, e);
    // VMX instructions: the guest's CPU has no VMX (CPUID hides it, reference §3) — #UD.
    case 19: case 20: case 21: case 22: case 23: case 24: case 25: case 26: case 27: case 50: case 53:
      vcpu.injectException(6);
      return NOTHING;
    // Exits a person asked to watch (launch options): the instruction then runs in the guest
    // exactly as without the control — the control is lifted for one instruction, with the
    // monitor trap flag to put it back (SDM vol. 3C §25.5.2).
    case 14: return stepOver(vcpu, 'PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', 1 << 9);
    case 16: case 51: return stepOver(vcpu, 'PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', 1 << 12);
    case 46: case 47: return stepOver(vcpu, 'SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', 1 << 2);
    case 37: {
      const s = vcpu.stepping;
      if (s !== null) {
        vcpu.stepping = null;
        v.write(s.field, v.read32(s.field) | s.bit);
      }
      if (!vcpu.interception.mtf) {
        const proc = v.read32('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
        v.write('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', proc & ~(1 << 27));
      }
      return NOTHING;
    }
    default:
      return { kind: 'Halt', why: `unhandled VM exit ${e.name}: ${e.summary}` };
  }
}

/**
 * Load the four PDPTEs of PAE paging from the guest's CR3 into GUEST_PDPTE0-3 (guest-physical =
 * host-physical for RAM). False when a present PDPTE has a reserved bit set (bits 2:1, 8:5, and
 * those above the physical-address width): the MOV must #GP (SDM vol. 3A §4.4.1).
 */
function loadPdptes(vcpu: VmxVcpu): boolean {
  const v = vcpu.v;
  const base = Number(v.read('GUEST_CR3') & 0xffffffe0n);
  const mem = vcpu.cpu.mem;
  const entries: bigint[] = [];
  for (let i = 0; i < 4; i++) {
    let e = 0n;
    for (let k = 7; k >= 0; k--) e = (e << 8n) | BigInt(mem.read8(base + i * 8 + k));
    if ((e & 1n) !== 0n && (e & 0xfff00000000001e6n) !== 0n) return false;
    entries.push(e);
  }
  entries.forEach((e, i) => v.write(`GUEST_PDPTE${i}`, e));
  return true;
}

/** Run the exiting instruction once in the guest with `bit` of `field` cleared (see case 14). */
function stepOver(vcpu: VmxVcpu, field: string, bit: number): VCpuExit {
  const v = vcpu.v;
  vcpu.stepping = { field, bit };
  v.write(field, v.read32(field) & ~bit);
  const proc = v.read32('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS');
  v.write('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', proc | (1 << 27));
  return NOTHING;
}

const cpuidState = { cr4: 0, xcr0: 1, xss: 0 };
const ENC_CR4 = FIELD_BY_NAME.get('GUEST_CR4')!.encoding;
const ENC_CR4_MASK = FIELD_BY_NAME.get('CR4_GUEST_HOST_MASK')!.encoding;
const ENC_CR4_SHADOW = FIELD_BY_NAME.get('CR4_READ_SHADOW')!.encoding;

/** CPUID (exit 10): the seed's answers (cpuidPolicy.ts) into EAX-EDX, RIP past the instruction. */
function cpuidExit(vcpu: VmxVcpu): VCpuExit {
  const c = vcpu.cpu;
  const e = vcpu.engine;
  const mask = e.vmread(ENC_CR4_MASK);
  cpuidState.cr4 = (e.vmread(ENC_CR4) & ~mask) | (e.vmread(ENC_CR4_SHADOW) & mask);
  cpuidState.xcr0 = vcpu.guestXcr0;
  cpuidState.xss = vcpu.guestXss;
  guestCpuid(c.cpuid, c.lo[0], c.lo[1], cpuidState, out);
  // CPUID writes EAX-EDX zero-extended (SDM vol. 2A CPUID); RAX=0, RCX=1, RDX=2, RBX=3.
  c.lo[0] = out[0]; c.hi[0] = 0;
  c.lo[3] = out[1]; c.hi[3] = 0;
  c.lo[1] = out[2]; c.hi[1] = 0;
  c.lo[2] = out[3]; c.hi[2] = 0;
  vcpu.advanceRip();
  return NOTHING;
}

/** An intercepted exception goes back to the guest as it was (the seed intercepts #UD to watch it). */
function reflectException(vcpu: VmxVcpu): VCpuExit {
  const v = vcpu.v;
  const info = v.read32('VM_EXIT_INTERRUPTION_INFORMATION');
  if ((info & 0x80000000) === 0) return NOTHING;
  const type = (info >>> 8) & 7;
  const vector = info & 0xff;
  if (vector === 14 && type === 3) {
    // A #PF that exits has not written CR2 (SDM vol. 3C §27.1): the guest's handler must see it.
    const q = v.read('EXIT_QUALIFICATION');
    vcpu.cpu.cr2Lo = Number(q & 0xffffffffn) | 0;
    vcpu.cpu.cr2Hi = Number(q >> 32n) | 0;
  }
  v.write('VM_ENTRY_INTERRUPTION_INFORMATION', (info & 0x80000fff) >>> 0);
  if ((info & 0x800) !== 0) v.write('VM_ENTRY_EXCEPTION_ERROR_CODE', v.read32('VM_EXIT_INTERRUPTION_ERROR_CODE'));
  v.write('VM_ENTRY_INSTRUCTION_LENGTH', type >= 4 ? v.read32('VM_EXIT_INSTRUCTION_LENGTH') : 0);
  return NOTHING;
}

function guestCpl(vcpu: VmxVcpu): number {
  return (vcpu.v.read32('GUEST_SS_ACCESS_RIGHTS') >>> 5) & 3;
}

function crAccess(vcpu: VmxVcpu, e: DecodedExit): VCpuExit {
  const v = vcpu.v;
  const f = e.fields;
  const cr = Number(f.cr);
  const access = f.access as string;
  if (access === 'mov to cr' && (cr === 0 || cr === 4)) {
    const value = f.value as bigint;
    const lo = Number(value & 0xffffffffn), hi = Number(value >> 32n);
    const efer = Number(v.read('GUEST_IA32_EFER') & 0xffffffffn);
    const mask0 = Number(v.read('CR0_GUEST_HOST_MASK') & 0xffffffffn);
    const mask4 = Number(v.read('CR4_GUEST_HOST_MASK') & 0xffffffffn);
    const guestCr0 = (Number(v.read('GUEST_CR0') & 0xffffffffn) & ~mask0) | (Number(v.read('CR0_READ_SHADOW') & 0xffffffffn) & mask0);
    const guestCr4 = (Number(v.read('GUEST_CR4') & 0xffffffffn) & ~mask4) | (Number(v.read('CR4_READ_SHADOW') & 0xffffffffn) & mask4);
    if (cr === 0) {
      const why = cr0Problem(lo, guestCr4, efer, v.read32('GUEST_CS_ACCESS_RIGHTS'), hi);
      if (why !== null) {
        vcpu.injectException(13, 0);
        return NOTHING;
      }
      const guestCr0Real = v.read('GUEST_CR0');
      const guestShadow0 = v.read('CR0_READ_SHADOW');
      v.write('GUEST_CR0', realCr0(vcpu.policy, lo));
      v.write('CR0_READ_SHADOW', lo >>> 0);
      // Long-mode activation (SDM vol. 3A §10.8.5): CR0.PG with EFER.LME and CR4.PAE sets LMA.
      const entry = v.read32('VM_ENTRY_CONTROLS');
      const pg = (lo & 0x80000000) !== 0, wasPg = (guestCr0 & 0x80000000) !== 0;
      if (pg && !wasPg && (efer & 0x100) !== 0 && (guestCr4 & 0x20) !== 0) {
        v.write('GUEST_IA32_EFER', efer | 0x400);
        v.write('VM_ENTRY_CONTROLS', entry | (1 << 9));
      } else if (!pg && wasPg && (efer & 0x400) !== 0) {
        v.write('GUEST_IA32_EFER', efer & ~0x400);
        v.write('VM_ENTRY_CONTROLS', entry & ~(1 << 9));
      } else if (pg && (guestCr4 & 0x20) !== 0 && (efer & 0x100) === 0 && !loadPdptes(vcpu)) {
        // PAE paging: MOV CR0 loads the PDPTEs from CR3 (SDM vol. 3A §4.4.1); with EPT the next
        // VM entry takes them from the VMCS (vol. 3C §26.3.2.4). A reserved bit: #GP(0).
        v.write('GUEST_CR0', guestCr0Real);
        v.write('CR0_READ_SHADOW', guestShadow0);
        vcpu.injectException(13, 0);
        return NOTHING;
      }
    } else {
      const cr3Low = Number(v.read('GUEST_CR3') & 0xfffn);
      // The guest's CPU has no VMX (CPUID.1:ECX.VMX = 0, reference §3): CR4.VMXE is reserved for it.
      const why = cr4Problem(lo, guestCr4, cr4Settable(vcpu.cpu) & ~(1 << 13), efer, guestCr0, cr3Low, hi);
      if (why !== null) {
        vcpu.injectException(13, 0);
        return NOTHING;
      }
      const wasCr4 = v.read('GUEST_CR4');
      const wasShadow4 = v.read('CR4_READ_SHADOW');
      v.write('GUEST_CR4', realCr4(vcpu.policy, lo));
      v.write('CR4_READ_SHADOW', lo >>> 0);
      // PAE paging with CR0.PG = 1 outside IA-32e mode: a CR4 write that changes PAE, PGE or PSE
      // reloads the PDPTEs (SDM vol. 3A §4.4.1).
      if ((guestCr0 & 0x80000000) !== 0 && (lo & 0x20) !== 0 && (efer & 0x400) === 0 && ((lo ^ guestCr4) & 0xb0) !== 0 && !loadPdptes(vcpu)) {
        v.write('GUEST_CR4', wasCr4);
        v.write('CR4_READ_SHADOW', wasShadow4);
        vcpu.injectException(13, 0);
        return NOTHING;
      }
    }
    vcpu.advanceRip();
    return NOTHING;
  }
  if (access === 'clts' || access === 'lmsw') {
    const shadow = Number(v.read('CR0_READ_SHADOW') & 0xffffffffn);
    const mask0 = Number(v.read('CR0_GUEST_HOST_MASK') & 0xffffffffn);
    const cur = (Number(v.read('GUEST_CR0') & 0xffffffffn) & ~mask0) | (shadow & mask0);
    // CLTS clears TS; LMSW loads bits 3:0 but cannot clear PE (SDM vol. 2A LMSW).
    const next = access === 'clts' ? cur & ~8 : (cur & ~0xe) | (Number(f.value) & 0xf) | (cur & 1);
    v.write('GUEST_CR0', realCr0(vcpu.policy, next));
    v.write('CR0_READ_SHADOW', next >>> 0);
    vcpu.advanceRip();
    return NOTHING;
  }
  return { kind: 'Halt', why: `unexpected CR access exit: ${e.summary} (the hypervisor does not intercept it)` };
}

function ioExit(vcpu: VmxVcpu, e: DecodedExit): VCpuExit {
  const f = e.fields;
  const port = Number(f.port);
  const width = Number(f.size) as 1 | 2 | 4;
  if (f.string === true) return stringIo(vcpu, e, port, width);
  if (f.in === true) {
    vcpu.pending = { kind: 'io', width };
    return { kind: 'IoRead', port, width, count: 1, string: false };
  }
  const value = Number(f.value as bigint);
  vcpu.advanceRip();
  // QEMU's ACPI power-off: a word OUT of 0x2000 to port 0x604 (reference §1).
  if (port === 0x604 && width === 2 && value === 0x2000) return { kind: 'SystemDown' };
  return { kind: 'IoWrite', port, width, data: [value], string: false };
}

/**
 * INS/OUTS (with REP): the elements move between the port and guest memory at the exit's
 * guest-linear address (ES:rDI or seg:rSI), stepping by the width in the direction of
 * RFLAGS.DF; rCX, rSI/rDI are updated as the instruction would, then RIP advances.
 */
function stringIo(vcpu: VmxVcpu, e: DecodedExit, port: number, width: 1 | 2 | 4): VCpuExit {
  const v = vcpu.v;
  const f = e.fields;
  const info = v.read32('VM_EXIT_INSTRUCTION_INFORMATION');
  const addrBits = [16, 32, 64][(info >>> 7) & 7] ?? 64;
  const amask = addrBits === 64 ? 0xffffffffffffffffn : (1n << BigInt(addrBits)) - 1n;
  const count = f.rep === true ? Number(vcpu.reg('rcx') & amask) : 1;
  const df = (v.read32('GUEST_RFLAGS') & 0x400) !== 0;
  const step = BigInt(df ? -width : width);
  const linear = v.read('GUEST_LINEAR_ADDRESS');
  const paging = pagingOf(v);
  const indexReg = f.in === true ? 'rdi' : 'rsi';
  // The elements move until the first one the guest cannot access; the instruction completes
  // (RIP advances) only when all did. A REP string instruction is restartable: the next
  // execution exits again and takes the fault with no progress (SDM vol. 1 §7.3.9.1).
  const finish = (n: number, all: boolean): void => {
    const idx = vcpu.reg(indexReg);
    vcpu.setReg(indexReg, (idx & ~amask) | ((idx + step * BigInt(n)) & amask));
    if (f.rep === true) {
      const rcx = vcpu.reg('rcx');
      vcpu.setReg('rcx', (rcx & ~amask) | ((rcx - BigInt(n)) & amask));
    }
    if (all) vcpu.advanceRip();
  };
  if (count === 0) {
    vcpu.advanceRip();
    return NOTHING;
  }
  const write = f.in === true;
  const user = guestCpl(vcpu) === 3;
  const addrOf = (i: number): bigint => BigInt.asUintN(64, linear + step * BigInt(i));
  // How many elements the guest can reach (at most STRING_CHUNK per exit: a huge REP count
  // is done over several exits, each restarting the instruction); the first one it cannot: its fault.
  let ok = 0;
  let fault: VCpuExit | null = null;
  const limit = Math.min(count, STRING_CHUNK);
  for (; ok < limit; ok++) {
    const a = accessElement(vcpu, paging, addrOf(ok), width, write, user);
    if (a !== null) {
      fault = a;
      break;
    }
  }
  if (ok === 0) return fault!;
  if (write) {
    vcpu.pendingString = { port, width, count: ok, linear, step, finish: (n) => finish(n, n === count) };
    return { kind: 'IoRead', port, width, count: ok, string: true };
  }
  const data: number[] = [];
  for (let i = 0; i < ok; i++) {
    const b = readGuest(vcpu.cpu.mem, paging, addrOf(i), width)!;
    let val = 0;
    for (let k = width - 1; k >= 0; k--) val = val * 256 + b[k];
    data.push(val);
  }
  finish(ok, ok === count);
  return { kind: 'IoWrite', port, width, data, string: true };
}

/** Elements of a REP INS/OUTS moved per VM exit (the rest on the next, the instruction restarting). */
const STRING_CHUNK = 4096;

/**
 * Whether the guest can access the `width` bytes at `linear` (null), else what the processor
 * would do: a #PF through the guest's paging (error code P, W/R, U/S; CR2 the address) injected,
 * or — for guest-physical memory that is not RAM — an EPT violation the VMM reports.
 */
function accessElement(vcpu: VmxVcpu, paging: ReturnType<typeof pagingOf>, linear: bigint, width: number, write: boolean, user: boolean): VCpuExit | null {
  const mem = vcpu.cpu.mem;
  for (let k = 0; k < width; k++) {
    const lin = BigInt.asUintN(64, linear + BigInt(k));
    const pa = linearToPhysical(mem, paging, lin, write);
    if (pa === null) {
      const present = write && linearToPhysical(mem, paging, lin, false) !== null;
      const ec = (present ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0);
      vcpu.cpu.cr2Lo = Number(lin & 0xffffffffn) | 0;
      vcpu.cpu.cr2Hi = Number(lin >> 32n) | 0;
      vcpu.injectException(14, ec);
      return NOTHING;
    }
    if (pa >= mem.guestRamSize) {
      return { kind: 'NestedPageFault', addr: pa, access: { read: !write, write, execute: false } };
    }
  }
  return null;
}

function msrExit(vcpu: VmxVcpu, e: DecodedExit): VCpuExit {
  const msr = Number(e.fields.msr);
  const write = e.reason === 32;
  if (msr >= 0x800 && msr <= 0x8ff && vcpu.apic !== null) {
    try {
      if (write) {
        const value = e.fields.value as bigint;
        if (!vcpu.apic.wrmsr(msr, Number(value & 0xffffffffn) | 0, Number(value >> 32n) | 0)) {
          vcpu.injectException(13, 0);
          return NOTHING;
        }
        if (msr === 0x830) {
          const ipi = vcpu.apic.takeOutgoing?.() ?? null;
          if (ipi !== null) {
            vcpu.advanceRip();
            return ipiExit(ipi);
          }
        }
      } else {
        const r = vcpu.apic.rdmsr(msr);
        if (r === null) {
          vcpu.injectException(13, 0);
          return NOTHING;
        }
        vcpu.setReg('rax', u32(r[0]));
        vcpu.setReg('rdx', u32(r[1]));
      }
    } catch (err) {
      if (!(err instanceof CpuException)) throw err;
      vcpu.injectException(err.vector, err.errorCode);
      return NOTHING;
    }
    vcpu.advanceRip();
    return NOTHING;
  }
  if (write) return { kind: 'SysRegWrite', addr: msr, value: e.fields.value as bigint };
  vcpu.pending = { kind: 'msr' };
  return { kind: 'SysRegRead', addr: msr };
}

/**
 * An IPI to another processor (x2APIC ICR write, SDM vol. 3A §10.12.9): a start-up IPI is the
 * seed's CpuUp (entry = vector × 4 KiB, §10.4.4.1), fixed and lowest-priority ones SendIpi;
 * INIT, NMI and SMI to others are the VMM's business only through CpuUp/SendIpi, so they are
 * reported as SendIpi with their vector field too.
 */
export function ipiExit(ipi: OutgoingIpi): VCpuExit {
  if (ipi.mode === 6) return { kind: 'CpuUp', targetCpu: ipi.dest, entry: ipi.vector << 12 };
  return { kind: 'SendIpi', targetCpu: ipi.dest, vector: ipi.vector };
}

function eptViolation(vcpu: VmxVcpu, e: DecodedExit): VCpuExit {
  const f = e.fields;
  const gpa = Number(f.gpa as bigint);
  const access = { read: f.read === true, write: f.write === true, execute: f.execute === true };
  if (access.execute || f.translation !== true) return { kind: 'NestedPageFault', addr: gpa, access };
  // Only a device's page is emulated; anything else is memory the guest does not have.
  if (!vcpu.mmioHoles.some(([s, e]) => gpa >= s && gpa < e)) return { kind: 'NestedPageFault', addr: gpa, access };
  const v = vcpu.v;
  const rip = v.read('GUEST_RIP');
  const csBase = v.read('GUEST_CS_BASE');
  const paging = pagingOf(v);
  const long = vcpu.guestLongMode();
  const bytes = readGuest(vcpu.cpu.mem, paging, long ? rip : BigInt.asUintN(32, csBase + rip), 15);
  if (bytes === null) return { kind: 'NestedPageFault', addr: gpa, access };
  const cs = v.read32('GUEST_CS_ACCESS_RIGHTS');
  const bitness = long ? 64 : (cs & 0x4000) !== 0 ? 32 : 16;
  const a = decodeMmio(vcpu.cpu, bytes, bitness, rip);
  vcpu.pendingMmio = a.kind === 'unsupported' ? null : a;
  if (a.kind === 'read') return { kind: 'MmioRead', addr: gpa, width: a.width, reg: a.destName };
  if (a.kind === 'alu') return { kind: 'MmioRead', addr: gpa, width: a.width, reg: a.op };
  if (a.kind === 'write') return { kind: 'MmioWrite', addr: gpa, width: a.width, data: a.value };
  return { kind: 'NestedPageFault', addr: gpa, access };
}

function xsetbv(vcpu: VmxVcpu, e: DecodedExit): VCpuExit {
  const f = e.fields;
  cpuidInto(vcpu.cpu.cpuid, 0xd, 0, out);
  const value = f.value as bigint;
  const why = Number(f.xcr) !== 0 ? 'XCR index is not 0'
    : guestCpl(vcpu) !== 0 ? 'CPL > 0'
    : xcr0Problem(Number(value & 0xffffffffn) | 0, Number(value >> 32n) | 0, out[0], out[3]);
  if (why !== null) {
    vcpu.injectException(13, 0);
    return NOTHING;
  }
  vcpu.guestXcr0 = Number(value & 0xffffffffn);
  vcpu.advanceRip();
  return NOTHING;
}
