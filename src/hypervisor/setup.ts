/**
 * Setting a vCPU up the way the seed does (reference §2), on the VT-x engine, through the VMX
 * instructions a hypervisor issues: the processor enters VMX root operation as a 64-bit host
 * (CR0/CR4 adjusted to the FIXED MSRs, VMXON), then VMCLEAR, VMPTRLD and VMWRITEs of the host
 * state, the controls (chosen with the SDM's algorithm against the TRUE_ capability MSRs,
 * §31.5.1), the bitmaps, the exception bitmap, the EPT pointer and the guest state.
 */
import type { Cpu } from '../x86/cpu';
import { enterMode } from '../x86/modes';
import { getStored } from '../x86/msr';
import type { VmxEngine, VmxStatus } from '../vmx/engine';
import { FIELD_BY_NAME } from '../vmx/fields';
import { applyFixed, chooseControls, MSR_VMX, type ControlRequest, type ControlValues, type CtlsMsr } from '../vmx/controlChoice';
import { EptBuilder, PAGE_1G, PAGE_2M } from '../vmx/eptBuilder';
import type { HypervisorLayout } from './layout';
import type { Interception } from './interception';
import { ioBitmaps, msrBitmap } from './bitmaps';

const CR4_VMXE = 1 << 13;

export class SetupError extends Error {}

/** VMWRITE/VMREAD by field name through the engine (the hypervisor's view of the VMCS). */
export class VmcsAccess {
  constructor(readonly engine: VmxEngine) {}

  encoding(name: string): number {
    const f = FIELD_BY_NAME.get(name);
    if (f === undefined) throw new Error(`no VMCS field named ${name}`);
    return f.encoding;
  }

  write(name: string, value: bigint | number): void {
    const v = BigInt.asUintN(64, BigInt(value));
    const s = this.engine.vmwrite(this.encoding(name), Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
    if (s.status !== 'succeed') throw new SetupError(`VMWRITE ${name}: ${statusText(s)}`);
  }

  read(name: string): bigint {
    return this.engine.vmread64(this.encoding(name));
  }

  /**
   * The current VMCS's value without VMREAD (reports and the debugger, which may look while the
   * processor is in non-root operation, where VMREAD would exit or fault). In non-root operation
   * the guest-state fields are those of the last entry: the live state is in the processor.
   */
  peek(name: string): bigint {
    const v = this.engine.current;
    if (v === null) throw new Error('no current VMCS');
    return v.read(name);
  }

  /** Low 32 bits, unsigned (hot paths). */
  read32(name: string): number {
    return this.engine.vmread(this.encoding(name)) >>> 0;
  }
}

export function statusText(s: VmxStatus): string {
  return s.status === 'failValid' ? `VMfailValid(${s.error})` : s.status === 'failInvalid' ? 'VMfailInvalid' : 'VMsucceed';
}

export function readMsr(cpu: Cpu, index: number): CtlsMsr {
  const lo = getStored(cpu, index);
  return { lo, hi: cpu.vHi };
}

function write32(cpu: Cpu, addr: number, v: number): void {
  for (let i = 0; i < 4; i++) cpu.writePhys8(addr + i, (v >>> (8 * i)) & 0xff);
}

function loadBytes(cpu: Cpu, addr: number, bytes: Uint8Array): void {
  cpu.mem.load(addr, bytes);
}

/**
 * Put the processor into VMX root operation as a 64-bit host: long mode with identity paging,
 * CR0/CR4 made acceptable to the FIXED MSRs (CR4.VMXE), the revision identifier in the VMXON
 * and VMCS regions, VMXON (§31.5 "VMM setup").
 */
export function enterRootOperation(cpu: Cpu, engine: VmxEngine, layout: HypervisorLayout): void {
  enterMode(cpu, 'long');
  cpu.cr0 = applyFixed(cpu.cr0, readMsr(cpu, MSR_VMX.CR0_FIXED0).lo, readMsr(cpu, MSR_VMX.CR0_FIXED1).lo);
  cpu.cr4 = applyFixed(cpu.cr4 | CR4_VMXE, readMsr(cpu, MSR_VMX.CR4_FIXED0).lo, readMsr(cpu, MSR_VMX.CR4_FIXED1).lo);
  const rev = readMsr(cpu, MSR_VMX.BASIC).lo & 0x7fffffff;
  write32(cpu, layout.vmxon, rev);
  write32(cpu, layout.vmcs, rev);
  cpu.mem.write8(layout.hostCode, 0xf4);
  cpu.setRip(layout.hostCode);
  cpu.setReg64(4, BigInt(layout.hostStack));
  const s = engine.vmxon(layout.vmxon);
  if (s.status !== 'succeed') throw new SetupError(`VMXON: ${statusText(s)}`);
}

/** Host state (§26.2.2-26.2.4): the processor's 64-bit host state, flat selectors. */
export function writeHostState(v: VmcsAccess, cpu: Cpu, layout: HypervisorLayout): void {
  v.write('HOST_CR0', cpu.cr0 >>> 0);
  v.write('HOST_CR3', (BigInt(cpu.cr3Hi >>> 0) << 32n) | BigInt(cpu.cr3Lo >>> 0));
  v.write('HOST_CR4', cpu.cr4 >>> 0);
  v.write('HOST_CS_SELECTOR', 0x08);
  for (const s of ['SS', 'DS', 'ES', 'FS', 'GS']) v.write(`HOST_${s}_SELECTOR`, 0x10);
  v.write('HOST_TR_SELECTOR', 0x18);
  for (const s of ['FS', 'GS', 'TR', 'GDTR', 'IDTR']) v.write(`HOST_${s}_BASE`, 0);
  v.write('HOST_IA32_SYSENTER_CS', 0);
  v.write('HOST_IA32_SYSENTER_ESP', 0);
  v.write('HOST_IA32_SYSENTER_EIP', 0);
  v.write('HOST_IA32_PAT', 0x0007040600070406n);
  v.write('HOST_IA32_EFER', 0x500);
  v.write('HOST_RSP', layout.hostStack);
  v.write('HOST_RIP', layout.hostCode);
}

/** The seed's controls (reference §2) widened by the interception options. */
export function seedControls(cpu: Cpu, i: Interception, extra: ControlRequest = {}): ControlValues {
  const proc2Caps = readMsr(cpu, MSR_VMX.PROCBASED_CTLS2).hi;
  const has2 = (name: string, bit: number): string[] => ((proc2Caps >>> bit) & 1) !== 0 ? [name] : [];
  const req: ControlRequest = {
    // Virtual NMIs (beyond the seed) make the NMI window available (SDM vol. 3C §26.2.1.1).
    pin: ['EXTERNAL_INTERRUPT_EXITING', 'NMI_EXITING', 'VIRTUAL_NMIS', ...(extra.pin ?? [])],
    proc: [
      'USE_IO_BITMAPS', 'USE_MSR_BITMAPS', 'ACTIVATE_SECONDARY_CONTROLS',
      ...(i.hlt ? ['HLT_EXITING'] : []), ...(i.rdtsc ? ['RDTSC_EXITING'] : []), ...(i.invlpg ? ['INVLPG_EXITING'] : []),
      ...(i.mtf ? ['MONITOR_TRAP_FLAG'] : []), ...(extra.proc ?? []),
    ],
    proc2: [
      'ENABLE_EPT', 'UNRESTRICTED_GUEST', ...has2('ENABLE_RDTSCP', 3), ...has2('ENABLE_INVPCID', 12),
      ...has2('ENABLE_XSAVES_XRSTORS', 20), ...(i.descriptorTables ? ['DESCRIPTOR_TABLE_EXITING'] : []), ...(extra.proc2 ?? []),
    ],
    exit: ['HOST_ADDRESS_SPACE_SIZE', 'ACKNOWLEDGE_INTERRUPT_ON_EXIT', 'SAVE_IA32_PAT', 'LOAD_IA32_PAT', 'SAVE_IA32_EFER', 'LOAD_IA32_EFER', ...(extra.exit ?? [])],
    entry: ['LOAD_IA32_PAT', 'LOAD_IA32_EFER', ...(extra.entry ?? [])],
    not: { proc: ['CR3_LOAD_EXITING', 'CR3_STORE_EXITING', 'CR8_LOAD_EXITING', 'CR8_STORE_EXITING'] },
  };
  try {
    return chooseControls((n) => readMsr(cpu, n), req);
  } catch (e) {
    throw new SetupError(`the controls the hypervisor needs are not allowed by the capability MSRs: ${(e as Error).message}`);
  }
}

export function writeControls(v: VmcsAccess, c: ControlValues): void {
  v.write('PIN_BASED_VM_EXECUTION_CONTROLS', c.pin);
  v.write('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', c.proc);
  v.write('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS', c.proc2);
  v.write('PRIMARY_VM_EXIT_CONTROLS', c.exit);
  v.write('VM_ENTRY_CONTROLS', c.entry);
}

/** The bitmaps in the hypervisor's area, and the exception bitmap. */
export function writeInterception(v: VmcsAccess, cpu: Cpu, layout: HypervisorLayout, i: Interception): void {
  const { a, b } = ioBitmaps(i);
  loadBytes(cpu, layout.ioBitmapA, a);
  loadBytes(cpu, layout.ioBitmapB, b);
  loadBytes(cpu, layout.msrBitmap, msrBitmap(i));
  v.write('IO_BITMAP_A', layout.ioBitmapA);
  v.write('IO_BITMAP_B', layout.ioBitmapB);
  v.write('MSR_BITMAPS', layout.msrBitmap);
  let bitmap = 0;
  for (const e of i.exceptions) bitmap |= 1 << e;
  v.write('EXCEPTION_BITMAP', bitmap >>> 0);
  v.write('PAGE_FAULT_ERROR_CODE_MASK', 0);
  v.write('PAGE_FAULT_ERROR_CODE_MATCH', 0);
  v.write('CR3_TARGET_COUNT', 0);
  v.write('VM_EXIT_MSR_STORE_COUNT', 0);
  v.write('VM_EXIT_MSR_LOAD_COUNT', 0);
  v.write('VM_ENTRY_MSR_LOAD_COUNT', 0);
}

/**
 * The EPT (reference §2): guest-physical [0, ramSize) mapped 1:1 to host-physical RAM, write-back,
 * the largest pages the capability MSR allows; MMIO holes (the xAPIC page) left unmapped so
 * accesses to them exit as EPT violations. EPTP = root | WB | walk length 4 | A/D (0x5E).
 */
export function buildEpt(v: VmcsAccess, cpu: Cpu, layout: HypervisorLayout, holes: readonly [number, number][]): EptBuilder {
  const caps = readMsr(cpu, MSR_VMX.EPT_VPID_CAP);
  const ad = (caps.lo & (1 << 21)) !== 0;
  const ept = new EptBuilder(cpu.mem, { tablesAt: layout.eptTables, tablesSize: layout.eptTablesSize, accessedDirty: ad });
  const maxPage = (caps.lo & (1 << 17)) !== 0 ? PAGE_1G : PAGE_2M;
  // Map RAM around the holes (holes are page aligned).
  const sorted = [...holes].filter(([s]) => s < layout.ramSize).sort((x, y) => x[0] - y[0]);
  let at = 0;
  for (const [s, e] of sorted) {
    if (s > at) ept.identity(at, s - at, { maxPage });
    at = Math.max(at, e);
  }
  if (at < layout.ramSize) ept.identity(at, layout.ramSize - at, { maxPage });
  const p = ept.eptp();
  v.write('EPT_POINTER', (BigInt(p.hi >>> 0) << 32n) | BigInt(p.lo >>> 0));
  return ept;
}
