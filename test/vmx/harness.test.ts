/**
 * The harness itself: every setup it builds is a valid VM entry (SDM vol. 3C §26.2-26.3), with
 * the state README.md documents; and (once the engine can launch) the guest runs and exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, Instruction, Register } from 'iced-x86';
import { checkAllUncached } from '../../src/vmx/entryChecks';
import { bitOf, ENTRY_CONTROLS, EXIT_CONTROLS, PROC_BASED, PROC_BASED2 } from '../../src/vmx/controlBits';
import { MSR_VMX } from '../../src/vmx/controlChoice';
import { EPT_RWX, MT_WB } from '../../src/vmx/eptBuilder';
import { Exit } from '../../src/vmx/exitReasons';
import { GUEST_TABLES, handlerAddress, INTR, LAYOUT, vmx } from './harness';
import type { HarnessOptions } from './harness';

const SETUPS: Array<[string, HarnessOptions]> = [
  ['64-bit', { mode: 'long' }],
  ['64-bit with EPT and VPID', { mode: 'long', ept: true, vpid: 1 }],
  ['64-bit with EPT A/D', { mode: 'long', ept: true, eptAccessedDirty: true }],
  ['32-bit protected, paged', { mode: 'protected' }],
  ['32-bit protected, unpaged (unrestricted guest)', { mode: 'protected', unpaged: true }],
  ['real mode (unrestricted guest)', { mode: 'real' }],
  ['64-bit with many exiting controls', {
    mode: 'long',
    controls: {
      pin: ['EXTERNAL_INTERRUPT_EXITING', 'NMI_EXITING'],
      proc: ['HLT_EXITING', 'RDTSC_EXITING', 'USE_IO_BITMAPS', 'USE_MSR_BITMAPS', 'MOV_DR_EXITING'],
      proc2: ['ENABLE_RDTSCP', 'DESCRIPTOR_TABLE_EXITING', 'WBINVD_EXITING'],
    },
  }],
];

for (const [name, options] of SETUPS) {
  test(`harness setup is a valid VM entry: ${name}`, () => {
    const h = vmx(options);
    assert.equal(h.cpu.inVmxOperation, true);
    assert.equal(h.engine.current?.address, LAYOUT.VMCS);
    assert.equal(checkAllUncached(h.engine), null);
  });
}

test('controls: default1 bits set, requested bits set, nothing else (§31.5.1)', () => {
  const h = vmx({ mode: 'long', controls: { proc: ['HLT_EXITING'] } });
  const pin = h.msr(MSR_VMX.PINBASED_CTLS);
  assert.equal(h.read32f('PIN_BASED_VM_EXECUTION_CONTROLS'), pin.lo >>> 0);
  const proc = h.msr(MSR_VMX.PROCBASED_CTLS);
  assert.equal(h.read32f('PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS'), (proc.lo | bitOf(PROC_BASED, 'HLT_EXITING')) >>> 0);
  assert.equal(h.read32f('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS'), 0);
  assert.equal(h.read32f('VM_ENTRY_CONTROLS') & bitOf(ENTRY_CONTROLS, 'IA32E_MODE_GUEST'), bitOf(ENTRY_CONTROLS, 'IA32E_MODE_GUEST'));
  assert.equal(h.read32f('PRIMARY_VM_EXIT_CONTROLS') & bitOf(EXIT_CONTROLS, 'HOST_ADDRESS_SPACE_SIZE'), bitOf(EXIT_CONTROLS, 'HOST_ADDRESS_SPACE_SIZE'));
});

test('64-bit guest state: CR0/CR4 within FIXED, flat 64-bit CS, busy TSS, LDTR unusable, identity tables', () => {
  const h = vmx({ mode: 'long' });
  const cr0 = Number(h.read('GUEST_CR0'));
  const f0 = h.msr(MSR_VMX.CR0_FIXED0).lo;
  assert.equal(cr0 & f0, f0);
  assert.equal(Number(h.read('GUEST_CR4')) & 0x2020, 0x2020); // VMXE, PAE
  assert.equal(h.read('GUEST_CS_ACCESS_RIGHTS'), 0xa09bn);
  assert.equal(h.read('GUEST_TR_ACCESS_RIGHTS'), 0x8bn);
  assert.equal(h.read('GUEST_LDTR_ACCESS_RIGHTS'), 0x10000n);
  assert.equal(h.read('VMCS_LINK_POINTER'), 0xffffffffffffffffn);
  assert.equal(h.read('GUEST_RIP'), BigInt(LAYOUT.GUEST_CODE));
  assert.equal(h.read('GUEST_RSP'), BigInt(LAYOUT.GUEST_STACK));
  // The guest's page tables map its code identically (PML4 → PDPT → 2 MiB PDE).
  const cr3 = Number(h.read('GUEST_CR3'));
  const pdpt = h.read32(cr3) & ~0xfff;
  const pd = h.read32(pdpt) & ~0xfff;
  assert.equal(h.read32(pd + 8 * (LAYOUT.GUEST_CODE >> 21)) & ~0xfff, LAYOUT.GUEST_CODE & ~0x1fffff);
});

test('real-mode guest: unrestricted guest and EPT on, CR0.PE/PG clear, CS:IP 0:0x9000', () => {
  const h = vmx({ mode: 'real' });
  const ug = bitOf(PROC_BASED2, 'UNRESTRICTED_GUEST') | bitOf(PROC_BASED2, 'ENABLE_EPT');
  assert.equal(h.read32f('SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS') & ug, ug);
  assert.equal(Number(h.read('GUEST_CR0')) & 0x80000001, 0);
  assert.equal(h.read('GUEST_CS_SELECTOR'), 0n);
  assert.equal(h.read('GUEST_RIP'), 0x9000n);
  assert.equal(h.read('EPT_POINTER'), h.ept!.eptpValue());
  assert.equal(h.read('GUEST_IDTR_LIMIT'), 0x3ffn);
  assert.equal(h.read('GUEST_IDTR_BASE'), 0n);
});

test('guest GDT/IDT/TSS: descriptors match the VMCS selectors, gates reach the handler stubs', () => {
  for (const mode of ['long', 'protected'] as const) {
    const h = vmx({ mode });
    assert.equal(h.read('GUEST_GDTR_BASE'), BigInt(GUEST_TABLES.GDT));
    assert.equal(h.read('GUEST_IDTR_BASE'), BigInt(GUEST_TABLES.IDT));
    assert.equal(h.read('GUEST_TR_BASE'), BigInt(GUEST_TABLES.TSS));
    // The CS descriptor's access byte and flags equal the VMCS access rights (§24.4.1 layout).
    const hiCs = h.read32(GUEST_TABLES.GDT + 12);
    const attr = ((hiCs >>> 8) & 0xff) | (((hiCs >>> 20) & 0xf) << 12);
    assert.equal(BigInt(attr), h.read('GUEST_CS_ACCESS_RIGHTS'));
    const size = mode === 'long' ? 16 : 8;
    const gate = GUEST_TABLES.IDT + 14 * size;
    assert.equal(h.read32(gate) & 0xffff, handlerAddress(14) & 0xffff);
    assert.equal(h.read32(gate) >>> 16, 0x08);
    assert.equal((h.read32(gate + 4) >>> 8) & 0xff, 0x8e);
    assert.deepEqual([...h.mem.readBytes(handlerAddress(14), 8)], [0xb8, 14, 0, 0, 0, 0xf4, 0xeb, 0xfd]);
    assert.equal(h.read32(GUEST_TABLES.TSS + 4), LAYOUT.GUEST_STACK);
  }
  const r = vmx({ mode: 'real' });
  assert.equal(r.read32(8 * 4), ((GUEST_TABLES.HANDLERS >> 4) << 16) | 64);
  assert.deepEqual([...r.mem.readBytes(handlerAddress(8), 6)], [0xb8, 8, 0, 0xf4, 0xeb, 0xfd]);
});

test('identity EPT covers RAM with RWX, WB', () => {
  const h = vmx({ mode: 'long', ept: true });
  const ept = h.ept!;
  for (const gpa of [0, LAYOUT.GUEST_CODE, h.mem.size - 1]) {
    const e = ept.readEntry(gpa, 2); // RAM (4 MiB) is smaller than a 1 GiB page: 2 MiB pages
    assert.equal(Number(e & 7n), EPT_RWX);
    assert.equal(Number((e >> 3n) & 7n), MT_WB);
  }
});

test('options: code as Instructions, registers, extra fields', () => {
  const h = vmx({
    mode: 'long',
    code: [Instruction.createRegU32(Code.Mov_r32_imm32, Register.EAX, 7), Instruction.create(Code.Cpuid)],
    regs: { rbx: 0x1234n, rsp: 0x1f0000 },
    fields: { EXCEPTION_BITMAP: 1 << 14, TSC_OFFSET: -5n },
  });
  assert.deepEqual([...h.mem.readBytes(LAYOUT.GUEST_CODE, 7)], [0xb8, 7, 0, 0, 0, 0x0f, 0xa2]);
  assert.equal(h.reg('rbx'), 0x1234n);
  assert.equal(h.read('GUEST_RSP'), 0x1f0000n);
  assert.equal(h.read('EXCEPTION_BITMAP'), 0x4000n);
  assert.equal(h.read('TSC_OFFSET'), 0xfffffffffffffffbn);
});

test('interceptPort / interceptMsr set the right bitmap bits (§24.6.4, §24.6.9)', () => {
  const h = vmx();
  h.interceptPort(0x3f8);
  h.interceptPort(0x8001);
  assert.equal(h.mem.read8(LAYOUT.IO_BITMAP_A + (0x3f8 >> 3)), 1);
  assert.equal(h.mem.read8(LAYOUT.IO_BITMAP_B), 2);
  h.interceptMsr(0x10, false);
  h.interceptMsr(0xc0000080, true);
  assert.equal(h.mem.read8(LAYOUT.MSR_BITMAP + 2), 1);
  assert.equal(h.mem.read8(LAYOUT.MSR_BITMAP + 0xc00 + 0x10), 1);
});

/** VM entry is written by another part of issue 4 in parallel: skip these until it exists. */
function probeLaunch(): boolean {
  try {
    vmx().vmlaunch();
    return true;
  } catch (e) {
    if (/not written yet|not implemented/.test((e as Error).message)) return false;
    throw e;
  }
}
const canLaunch = probeLaunch();

test('launch: a 64-bit guest runs and CPUID exits with length 2 (§25.1.2)', { skip: !canLaunch && 'VM entry (vmEntry.ts) not there yet' }, () => {
  const h = vmx({
    mode: 'long',
    code: [Instruction.createRegU32(Code.Mov_r32_imm32, Register.EAX, 0), Instruction.create(Code.Cpuid)],
  });
  const r = h.launch();
  assert.equal(r.entry.kind, 'entered');
  assert.equal(r.result?.reason, 'vmexit');
  assert.equal(r.exit?.basic, Exit.Cpuid);
  assert.equal(r.exit?.insnLength, 2);
  assert.equal(r.exit?.guestRip, BigInt(LAYOUT.GUEST_CODE + 5));
  assert.equal(h.cpu.nonRoot, false);
  assert.equal(h.cpu.getRip(), BigInt(LAYOUT.HOST_CODE));
});

for (const mode of ['protected', 'real'] as const) {
  test(`launch: a ${mode}-mode guest runs and CPUID exits`, { skip: !canLaunch && 'VM entry (vmEntry.ts) not there yet' }, () => {
    const h = vmx({ mode, code: [0x31, 0xc0, 0x0f, 0xa2] }); // xor ax/eax, cpuid
    const r = h.launch();
    assert.equal(r.exit?.basic, Exit.Cpuid);
    assert.equal(r.exit?.guestRip, BigInt(h.entryRip + 2));
  });
}

test('resume: skip the exiting CPUID and run to the next one', { skip: !canLaunch && 'VM entry (vmEntry.ts) not there yet' }, () => {
  const h = vmx({ code: [0x0f, 0xa2, 0x48, 0xff, 0xc3, 0x0f, 0xa2] }); // cpuid; inc rbx; cpuid
  assert.equal(h.launch().exit?.guestRip, BigInt(LAYOUT.GUEST_CODE));
  const r = h.skipAndResume();
  assert.equal(r.entry.kind, 'entered');
  assert.equal(r.exit?.basic, Exit.Cpuid);
  assert.equal(r.exit?.guestRip, BigInt(LAYOUT.GUEST_CODE + 5));
  assert.equal(h.reg('rbx'), 1n);
});

test('inject / msrArea write the fields and areas as §24.8.2-24.8.3 lay them out', () => {
  const h = vmx();
  h.inject(INTR.HardwareException, 13, { errorCode: 0x18, length: 3 });
  assert.equal(h.read32f('VM_ENTRY_INTERRUPTION_INFORMATION'), 0x80000b0d);
  assert.equal(h.read('VM_ENTRY_EXCEPTION_ERROR_CODE'), 0x18n);
  assert.equal(h.read('VM_ENTRY_INSTRUCTION_LENGTH'), 3n);
  h.inject(INTR.External, 0x20);
  assert.equal(h.read32f('VM_ENTRY_INTERRUPTION_INFORMATION'), 0x80000020);
  h.msrArea('entryLoad', [[0x174, 8n], [0xc0000100, 0x123456789an]]);
  assert.equal(h.read('VM_ENTRY_MSR_LOAD_COUNT'), 2n);
  assert.deepEqual(h.msrAreaEntry('entryLoad', 1), [0xc0000100, 0x123456789an]);
  assert.equal(h.read32(LAYOUT.ENTRY_MSR_LOAD + 16), 0xc0000100 | 0);
});

// ---- the guest's tables in use: events delivered in the guest reach the handler stubs ----------
for (const mode of ['long', 'protected', 'real'] as const) {
  const frame = mode === 'long' ? 8 : mode === 'protected' ? 4 : 2;
  const top = mode === 'real' ? LAYOUT.REAL_STACK : LAYOUT.GUEST_STACK;

  test(`guest tables (${mode}): UD2 in the guest is delivered through its IDT to the stub (vol. 3A §6.12)`, { skip: !canLaunch && 'VM entry not there yet' }, () => {
    const h = vmx({ mode, code: [0x0f, 0x0b] });
    const r = h.launch();
    assert.equal(r.result?.reason, 'hlt');
    assert.equal(h.cpu.nonRoot, true);
    assert.equal(h.reg('rax') & 0xffn, 6n);
    // Halted just after the stub's HLT (real mode: IP within segment 0x2700).
    assert.equal(h.cpu.getRip(), BigInt(mode === 'real' ? 6 * 8 + 4 : handlerAddress(6) + 6));
    // The frame's return address is the faulting UD2.
    const sp = Number(h.cpu.getReg64(4)) & (mode === 'real' ? 0xffff : -1 >>> 0);
    assert.equal(sp, top - (mode === 'long' ? 5 : 3) * frame);
    assert.equal(h.read32(sp) & (mode === 'real' ? 0xffff : -1), h.entryRip);
  });

  test(`guest tables (${mode}): an injected #GP with error code reaches its stub (§26.6)`, { skip: !canLaunch && 'VM entry not there yet' }, () => {
    const h = vmx({ mode, code: [0xf4] });
    // Real mode: no error code may be delivered (§26.2.1.3: deliver-error-code needs CR0.PE = 1).
    h.inject(INTR.HardwareException, 13, mode === 'real' ? {} : { errorCode: 0x1234 });
    const r = h.launch();
    assert.equal(r.entry.kind, 'entered');
    assert.equal(h.reg('rax') & 0xffn, 13n);
    const sp = Number(h.cpu.getReg64(4)) & (mode === 'real' ? 0xffff : -1 >>> 0);
    if (mode === 'real') {
      assert.equal(sp, top - 6);
    } else {
      assert.equal(sp, top - (mode === 'long' ? 6 : 4) * frame);
      assert.equal(h.read32(sp), 0x1234);
    }
  });

  test(`guest tables (${mode}): an injected external interrupt 0x20 with IF = 1 reaches its stub`, { skip: !canLaunch && 'VM entry not there yet' }, () => {
    const h = vmx({ mode, code: [0xf4], fields: { GUEST_RFLAGS: 0x202 } });
    h.inject(INTR.External, 0x20);
    const r = h.launch();
    assert.equal(r.entry.kind, 'entered');
    assert.equal(h.reg('rax') & 0xffn, 0x20n);
  });
}
