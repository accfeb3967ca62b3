/**
 * The capability MSRs of the documented virtual CPU (SDM vol. 3C appendix A; capabilities.ts):
 * values derived from the control-bit, field and EPT tables, installed in the processor's MSRs,
 * readable by RDMSR, overridable, and the allowed()/required() helpers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode } from '../../src/x86/modes';
import { DEFAULT_CPUID } from '../../src/x86/cpuid';
import type { CpuidModel } from '../../src/x86/cpuid';
import { cr4Settable } from '../../src/x86/controlRegisters';
import { getStored, readMsr, writeMsr } from '../../src/x86/msr';
import { VmxEngine } from '../../src/vmx/engine';
import {
  CTL_TABLES, Capabilities, DEFAULT1_CLASS, MISC_LO, REVISION_ID, VMX_MSR, findControl, readCapability,
} from '../../src/vmx/capabilities';
import type { CtlField, VmxMsrName } from '../../src/vmx/capabilities';
import { EPT_VPID_CAP, EPT_VPID_FEATURES } from '../../src/vmx/eptFeatures';
import { VMCS_FIELDS } from '../../src/vmx/fields';
import { CpuException } from '../../src/x86/exceptions';

function fresh(): { cpu: Cpu; engine: VmxEngine } {
  const cpu = new Cpu(new PhysicalMemory(0x100000));
  enterMode(cpu, 'long');
  return { cpu, engine: new VmxEngine(cpu) };
}

const bit = (v: number, n: number): number => (v >>> n) & 1;

test('IA32_VMX_BASIC: revision id, region size 4096, WB, INS/OUTS information, TRUE controls', () => {
  const { engine } = fresh();
  const b = engine.caps.msr.BASIC;
  assert.equal(b.lo, REVISION_ID);
  assert.equal(bit(b.lo, 31), 0);
  assert.equal(b.hi & 0x1fff, 4096, 'bits 44:32 region size');
  assert.equal(bit(b.hi, 48 - 32), 0, 'no 32-bit physical-address limit');
  assert.equal(bit(b.hi, 49 - 32), 0, 'no dual-monitor SMM');
  assert.equal((b.hi >>> (50 - 32)) & 0xf, 6, 'memory type WB');
  assert.equal(bit(b.hi, 54 - 32), 1, 'INS/OUTS instruction information');
  assert.equal(bit(b.hi, 55 - 32), 1, 'TRUE_ MSRs');
  assert.equal(bit(b.hi, 56 - 32), 0, 'error-code consistency check on injection');
  assert.equal(engine.caps.revision, REVISION_ID);
  assert.equal(engine.caps.hasTrueCtls, true);
});

const MSR_OF: Record<Exclude<CtlField, 'proc2'>, [VmxMsrName, VmxMsrName]> = {
  pin: ['PINBASED_CTLS', 'TRUE_PINBASED_CTLS'],
  proc: ['PROCBASED_CTLS', 'TRUE_PROCBASED_CTLS'],
  exit: ['EXIT_CTLS', 'TRUE_EXIT_CTLS'],
  entry: ['ENTRY_CTLS', 'TRUE_ENTRY_CTLS'],
};

// One case per control bit: allowed-1 exactly when modelled (or in the default1 class), the
// non-TRUE allowed-0 exactly the default1 class, the TRUE allowed-0 always 0 (§A.3-A.5).
const caps0 = fresh().engine.caps;
for (const field of Object.keys(CTL_TABLES) as CtlField[]) {
  for (const b of CTL_TABLES[field]) {
    const d1 = field === 'proc2' ? 0 : bit(DEFAULT1_CLASS[field], b.bit);
    test(`control ${field}.${b.name} (bit ${b.bit}): allowed-1 ${b.modelled || d1 === 1 ? 1 : 0}, allowed-0 ${d1} (TRUE: 0)`, () => {
      if (field === 'proc2') {
        const m = caps0.msr.PROCBASED_CTLS2;
        assert.equal(bit(m.hi, b.bit), b.modelled ? 1 : 0);
        assert.equal(bit(m.lo, b.bit), 0);
      } else {
        const [plain, tru] = MSR_OF[field];
        assert.equal(bit(caps0.msr[plain].hi, b.bit), b.modelled || d1 === 1 ? 1 : 0, 'allowed-1');
        assert.equal(bit(caps0.msr[tru].hi, b.bit), bit(caps0.msr[plain].hi, b.bit), 'TRUE allowed-1');
        assert.equal(bit(caps0.msr[plain].lo, b.bit), d1, 'allowed-0');
        assert.equal(bit(caps0.msr[tru].lo, b.bit), 0, 'TRUE allowed-0');
      }
      assert.equal(caps0.allowed(`${field}.${b.name}`), b.modelled || d1 === 1);
      assert.equal(caps0.required(`${field}.${b.name}`), false);
    });
  }
}

test('Bits no control table names are reserved: allowed-1 is 0', () => {
  for (const field of Object.keys(CTL_TABLES) as CtlField[]) {
    let named = 0;
    for (const b of CTL_TABLES[field]) named |= 1 << b.bit;
    const m = field === 'proc2' ? caps0.msr.PROCBASED_CTLS2 : caps0.msr[MSR_OF[field][0]];
    assert.equal(m.hi & ~named, 0, field);
  }
});

test('Every control MSR: allowed-0 settings are a subset of allowed-1 settings', () => {
  for (const n of ['PINBASED_CTLS', 'PROCBASED_CTLS', 'EXIT_CTLS', 'ENTRY_CTLS', 'PROCBASED_CTLS2', 'TRUE_PINBASED_CTLS',
    'TRUE_PROCBASED_CTLS', 'TRUE_EXIT_CTLS', 'TRUE_ENTRY_CTLS'] as VmxMsrName[]) {
    const m = caps0.msr[n];
    assert.equal(m.lo & ~m.hi, 0, n);
  }
});

test('The default1 bits of controlBits.ts all belong to the SDM default1 class', () => {
  for (const field of ['pin', 'proc', 'exit', 'entry'] as const) {
    for (const b of CTL_TABLES[field]) if (b.default1 === true) assert.equal(bit(DEFAULT1_CLASS[field], b.bit), 1, `${field}.${b.name}`);
  }
});

test('"activate secondary controls" is allowed, so IA32_VMX_PROCBASED_CTLS2 applies', () => {
  assert.equal(caps0.allowed('proc.ACTIVATE_SECONDARY_CONTROLS'), true);
  assert.equal(caps0.ctls('proc2'), caps0.msr.PROCBASED_CTLS2);
});

test('IA32_VMX_MISC: timer rate 0, LMA store, activity states, 4 CR3 targets, 512 MSRs, VMWRITE all, zero-length injection', () => {
  const m = caps0.msr.MISC;
  assert.equal(m.lo, MISC_LO);
  assert.equal(m.lo & 0x1f, 0);
  assert.equal(bit(m.lo, 5), 1);
  assert.equal((m.lo >>> 6) & 7, 7, 'HLT, shutdown, wait-for-SIPI');
  assert.equal(bit(m.lo, 14), 0, 'no Intel PT in VMX operation');
  assert.equal(bit(m.lo, 15), 0);
  assert.equal((m.lo >>> 16) & 0x1ff, 4);
  assert.equal(512 * (((m.lo >>> 25) & 7) + 1), 512);
  assert.equal(bit(m.lo, 28), 0);
  assert.equal(bit(m.lo, 29), 1);
  assert.equal(bit(m.lo, 30), 1);
  assert.equal(m.hi, 0, 'MSEG revision 0');
});

test('CR0_FIXED0/1 and CR4_FIXED0/1', () => {
  const { cpu, engine } = fresh();
  assert.equal(engine.caps.msr.CR0_FIXED0.lo, 0x80000021 | 0);
  assert.equal(engine.caps.msr.CR0_FIXED1.lo, -1);
  assert.equal(engine.caps.msr.CR0_FIXED1.hi, 0);
  assert.equal(engine.caps.msr.CR4_FIXED0.lo, 0x2000);
  assert.equal(engine.caps.msr.CR4_FIXED1.lo, cr4Settable(cpu) | 0x2000);
  // Every FIXED0 bit is allowed by FIXED1.
  assert.equal(engine.caps.msr.CR0_FIXED0.lo & ~engine.caps.msr.CR0_FIXED1.lo, 0);
  assert.equal(engine.caps.msr.CR4_FIXED0.lo & ~engine.caps.msr.CR4_FIXED1.lo, 0);
});

test('IA32_VMX_VMCS_ENUM: the highest index of a supported field', () => {
  let max = 0;
  for (const f of VMCS_FIELDS) if (f.supported) max = Math.max(max, (f.encoding >> 1) & 0x1ff);
  assert.equal(caps0.msr.VMCS_ENUM.lo, max << 1);
  assert.equal(caps0.msr.VMCS_ENUM.lo & 1, 0);
  assert.ok(max > 0);
});

test('IA32_VMX_EPT_VPID_CAP is the EPT feature table; IA32_VMX_VMFUNC reports EPTP switching', () => {
  assert.deepEqual(caps0.msr.EPT_VPID_CAP, { lo: EPT_VPID_CAP.lo, hi: EPT_VPID_CAP.hi });
  for (const f of EPT_VPID_FEATURES) {
    const v = f.bit < 32 ? bit(caps0.msr.EPT_VPID_CAP.lo, f.bit) : bit(caps0.msr.EPT_VPID_CAP.hi, f.bit - 32);
    assert.equal(v, f.modelled ? 1 : 0, f.name);
  }
  assert.deepEqual(caps0.msr.VMFUNC, { lo: 1, hi: 0 });
});

test('The engine installs every capability MSR in the processor', () => {
  const { cpu, engine } = fresh();
  for (const n of Object.keys(VMX_MSR) as VmxMsrName[]) {
    assert.deepEqual(readCapability(cpu, n), engine.caps.msr[n], n);
    assert.equal(getStored(cpu, VMX_MSR[n]), engine.caps.msr[n].lo);
  }
});

test('The engine locks IA32_FEATURE_CONTROL (lock, VMXON outside SMX) unless told not to', () => {
  const { cpu } = fresh();
  assert.equal(getStored(cpu, 0x3a), 5);
  const c2 = new Cpu(new PhysicalMemory(0x100000));
  new VmxEngine(c2, { keepFeatureControl: true });
  assert.equal(getStored(c2, 0x3a), 0);
});

test('Overrides replace single MSRs and are installed', () => {
  const cpu = new Cpu(new PhysicalMemory(0x100000));
  const engine = new VmxEngine(cpu, { capabilities: { MISC: { lo: 5, hi: 0 }, TRUE_PINBASED_CTLS: { lo: 0x16, hi: 0x16 } } });
  assert.deepEqual(readCapability(cpu, 'MISC'), { lo: 5, hi: 0 });
  assert.equal(engine.caps.allowed('pin.NMI_EXITING'), false);
  assert.equal(engine.caps.required('pin.DEFAULT1_1'), true);
  assert.deepEqual(readCapability(cpu, 'BASIC'), engine.caps.msr.BASIC);
});

test('Without TRUE_ MSRs (IA32_VMX_BASIC[55] = 0) the plain MSRs govern the controls', () => {
  const cpu = new Cpu(new PhysicalMemory(0x100000));
  const b = new Capabilities(cpu).msr.BASIC;
  const caps = new Capabilities(cpu, { BASIC: { lo: b.lo, hi: b.hi & ~(1 << 23) } });
  assert.equal(caps.hasTrueCtls, false);
  assert.equal(caps.ctls('proc'), caps.msr.PROCBASED_CTLS);
  assert.equal(caps.required('proc.DEFAULT1_1'), true);
  assert.equal(caps.required('proc.CR3_LOAD_EXITING'), true, 'default1 class (§A.3.2)');
});

test('findControl: qualified and unique names resolve; ambiguous and unknown names throw', () => {
  assert.deepEqual(findControl('proc2.ENABLE_EPT'), { field: 'proc2', bit: 1 });
  assert.deepEqual(findControl('ENABLE_EPT'), { field: 'proc2', bit: 1 });
  assert.deepEqual(findControl('HLT_EXITING'), { field: 'proc', bit: 7 });
  assert.throws(() => findControl('DEFAULT1_1'), /ambiguous/);
  assert.throws(() => findControl('ACTIVATE_SECONDARY_CONTROLS'), /ambiguous/);
  assert.throws(() => findControl('NO_SUCH_CONTROL'), /no control/);
  assert.throws(() => findControl('nofield.X'), /no control field/);
});

test('allowed(): the modelled controls the hypervisor reference needs are allowed', () => {
  for (const n of ['pin.EXTERNAL_INTERRUPT_EXITING', 'pin.NMI_EXITING', 'proc.USE_IO_BITMAPS', 'proc.USE_MSR_BITMAPS',
    'proc2.ENABLE_EPT', 'proc2.UNRESTRICTED_GUEST', 'proc2.ENABLE_RDTSCP', 'proc2.ENABLE_INVPCID',
    'proc2.ENABLE_XSAVES_XRSTORS', 'exit.HOST_ADDRESS_SPACE_SIZE', 'exit.ACKNOWLEDGE_INTERRUPT_ON_EXIT',
    'exit.SAVE_IA32_PAT', 'exit.LOAD_IA32_PAT', 'exit.SAVE_IA32_EFER', 'exit.LOAD_IA32_EFER', 'entry.LOAD_IA32_PAT',
    'entry.LOAD_IA32_EFER', 'entry.IA32E_MODE_GUEST']) {
    assert.equal(caps0.allowed(n), true, n);
  }
  assert.equal(caps0.allowed('pin.PROCESS_POSTED_INTERRUPTS'), false);
  assert.equal(caps0.allowed('proc.ACTIVATE_TERTIARY_CONTROLS'), false);
});

/** A CPUID model that reports VMX (CPUID.1:ECX[5]), as a VMX-capable processor does. */
function vmxCpuid(): CpuidModel {
  return { leaves: DEFAULT_CPUID.leaves.map((l) => (l.leaf === 1 ? { ...l, ecx: l.ecx | (1 << 5) } : l)) };
}

test('RDMSR of each capability MSR returns the value; WRMSR is #GP(0) (read-only)', () => {
  const cpu = new Cpu(new PhysicalMemory(0x100000), { cpuid: vmxCpuid() });
  enterMode(cpu, 'long');
  const engine = new VmxEngine(cpu);
  for (const n of Object.keys(VMX_MSR) as VmxMsrName[]) {
    const lo = readMsr(cpu, VMX_MSR[n], 0);
    assert.deepEqual({ lo, hi: cpu.vHi }, engine.caps.msr[n], n);
    assert.throws(() => writeMsr(cpu, VMX_MSR[n], 0, 0, 0), (e: unknown) => e instanceof CpuException && e.vector === 13);
  }
});

test('RDMSR of a capability MSR executed by code returns it (EDX:EAX)', () => {
  const mem = new PhysicalMemory(0x100000);
  const cpu = new Cpu(mem, { cpuid: vmxCpuid() });
  enterMode(cpu, 'long');
  const engine = new VmxEngine(cpu);
  // mov ecx, 0x480; rdmsr; hlt
  mem.load(0x1000, Uint8Array.of(0xb9, 0x80, 0x04, 0x00, 0x00, 0x0f, 0x32, 0xf4));
  cpu.setRip(0x1000n);
  const r = cpu.run(100);
  assert.equal(r.reason, 'hlt');
  assert.equal(cpu.getReg64(0), BigInt(engine.caps.msr.BASIC.lo >>> 0));
  assert.equal(cpu.getReg64(2), BigInt(engine.caps.msr.BASIC.hi >>> 0));
});
