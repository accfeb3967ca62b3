/**
 * Bring your own hypervisor (issue 10): byoh.asm, a VT-x hypervisor in assembly, runs under
 * `vtx run --hypervisor none` (the command line in-process, as test/cli does) on the emulated
 * VT-x processor. Its serial output must equal the text below, derived from the SDM (vol. 3C;
 * chapter numbers of the edition src/vmx cites): exit reasons from appendix C, exit
 * qualifications from §27.2.1, VM-instruction error numbers from §30.4, the VMsucceed /
 * VMfailInvalid / VMfailValid conventions from §30.2. The source assembles to the same bytes
 * with nasm and with vtx's assembler.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, lastJson } from '../cli/helpers';
import { assemble as vtxAssemble } from '../../src/language/asm/assembler';
import { GUEST_DIR, assemble as nasmAssemble, hasTool } from './harness';
import { prepareGuest } from '../../src/cli/runGuest';
import type { VmEntryOutcome } from '../../src/vmx/engine';

const SOURCE = join(GUEST_DIR, 'byoh.asm');

/** One line per event, each with the SDM section that fixes every number in it. */
const EXPECTED = [
  // §23.6: VMX support is CPUID.1:ECX[5].
  'CPUID.1:ECX.VMX = 1',
  // §23.7: VMXON needs IA32_FEATURE_CONTROL bit 0 (lock) and bit 2 (VMXON outside SMX); vtx's
  // power-on value is 5 (docs/bring-your-own-hypervisor.md), as firmware leaves a VT-x machine.
  'IA32_FEATURE_CONTROL: locked, VMXON outside SMX enabled',
  // §30.3 VMXON/VMCLEAR/VMPTRLD with a valid region: VMsucceed (§30.2: CF = ZF = 0).
  'VMXON: VMsucceed',
  'VMCLEAR: VMsucceed',
  'VMPTRLD: VMsucceed',
  // §30.3 VMPTRST: the current-VMCS pointer (the region byoh.asm loaded, VMCS_R = 0x14000).
  'VMPTRST: 0x0000000000014000',
  // §30.3 VMXON in VMX root operation: VMfail(15) (§30.4 error 15), a current VMCS exists: VMfailValid.
  'VMXON in VMX root operation: VMfailValid, error 0x0f',
  // §30.3 VMPTRLD with the VMXON pointer: §30.4 error 10.
  'VMPTRLD of the VMXON region: VMfailValid, error 0x0a',
  'VMLAUNCH',
  // L2 CPUID: appendix C basic exit reason 10 (CPUID exits unconditionally, §25.1.2); CPUID is not
  // among the exits §27.2.1 gives a qualification, so it is 0.
  'exit reason 0x0000000a qualification 0x0000000000000000',
  // L2 OUT 0x80, AL with port 0x80 set in I/O bitmap A (§25.1.3): reason 30 (appendix C);
  // qualification (§27.2.1, table 27-5): size - 1 = 0 (bits 2:0), OUT (bit 3 = 0), not string,
  // not REP, immediate operand (bit 6 = 1), port in bits 31:16 = 0x0080.
  'exit reason 0x0000001e qualification 0x0000000000800040',
  // L2 RDMSR of 0x3a, set in the read bitmap for low MSRs (§25.1.3): reason 31; no qualification.
  'exit reason 0x0000001f qualification 0x0000000000000000',
  // L2 read of GPA 0x800000, not mapped by the EPT (§28.3.3.2): reason 48 (appendix C);
  // qualification (§27.2.1, table 27-7): bit 0 data read, bits 5:3 = 0 (the GPA is not
  // readable, writable or executable: no EPT entry), bit 7 guest-linear address valid, bit 8
  // the access is to the linear address's translation (not to a paging-structure entry) =
  // 0x181; the guest-physical address field (§27.2.1) holds the GPA. The handler maps it and
  // INVEPTs; the retried read does not exit.
  'exit reason 0x00000030 qualification 0x0000000000000181 guest-physical 0x0000000000800000',
  // L2 HLT with "HLT exiting" (§25.1.3): reason 12; no qualification.
  'exit reason 0x0000000c qualification 0x0000000000000000',
  'L2 halted',
  // §25.5.1: "activate VMX-preemption timer" with the timer value 0 at VM entry: a VM exit
  // before the guest executes any instruction, reason 52 (appendix C); no qualification (§27.2.1).
  'VMRESUME, preemption timer 0: exit reason 0x00000034 qualification 0x0000000000000000',
  // §26.2.1.1: a pin-based control whose allowed-1 setting (IA32_VMX_PINBASED_CTLS[63:32], §A.3.1)
  // is 0 set to 1: VMfailValid, §30.4 error 7 "VM entry with invalid control field(s)".
  'VMRESUME, pin-based control not allowed: VMfailValid, error 0x07',
  // §26.2.2: host CR4 with a bit IA32_VMX_CR4_FIXED0 fixes (VMXE, §A.8) clear: error 8 "VM entry
  // with invalid host-state field(s)" (§30.4).
  'VMRESUME, host CR4.VMXE = 0: VMfailValid, error 0x08',
  // §26.2.3: the host TR selector must not be 0000H: error 8.
  'VMRESUME, host TR selector 0: VMfailValid, error 0x08',
  // §26.2.4: in IA-32e mode the "host address-space size" VM-exit control must be 1: error 8.
  'VMRESUME, host address-space size 0 in IA-32e mode: VMfailValid, error 0x08',
  // §26.3.1.4: guest RFLAGS bit 1 must be 1; a guest-state check failing is a VM-entry failure
  // (§26.8): basic reason 33 (appendix C) with bit 31 set, qualification 0 (§26.8: no other
  // qualification applies), and the processor continues at HOST_RIP (§26.8, §27.5).
  'VMRESUME, guest RFLAGS bit 1 clear: exit reason 0x80000021 qualification 0x0000000000000000',
  // §26.4: a VM-entry MSR-load entry with index C0000100H (IA32_FS_BASE) fails: reason 34 with
  // bit 31 (§26.8), qualification = the failing entry's number counting from 1 (§26.8).
  'VMRESUME, VM-entry MSR-load of IA32_FS_BASE: exit reason 0x80000022 qualification 0x0000000000000001',
  // §30.3 VMLAUNCH: launch state "launched" (§24.11.3): VMfailValid, §30.4 error 4.
  'VMLAUNCH of a launched VMCS: VMfailValid, error 0x04',
  // §30.3 VMCLEAR of the current VMCS makes the current-VMCS pointer invalid; VMLAUNCH then:
  // VMfailInvalid (§30.2: CF = 1).
  'VMLAUNCH without a current VMCS: VMfailInvalid',
  // §30.3 VMRESUME: launch state "clear" (VMCLEAR, §24.11.3): §30.4 error 5.
  'VMRESUME of a clear VMCS: VMfailValid, error 0x05',
  // §30.3 VMCALL in VMX root operation without the dual-monitor treatment of SMM
  // (IA32_VMX_BASIC[49] = 0, §A.1): VMfail, §30.4 error 1.
  'VMCALL in VMX root operation: VMfailValid, error 0x01',
  // §30.3 VMXOFF: VMsucceed.
  'VMXOFF: VMsucceed',
].map((l) => `${l}\n`).join('');

test('byoh.asm under `vtx run --hypervisor none`: the serial output the SDM predicts, then the ACPI power-off', () => {
  const r = cli('run', SOURCE, '--hypervisor', 'none', '--json');
  assert.equal(r.stderr, '');
  const j = lastJson(r.stdout);
  assert.equal(j.serial, EXPECTED);
  assert.equal(j.stopReason, 'exit');
  assert.equal(j.exitDevice, 'ACPI power-off');
  assert.equal(j.exitCode, 0);
  assert.equal(r.code, 0);
  assert.equal(j.hypervisor, 'none');
  assert.equal(j.mode, 'long');
  // The exits of the guest hypervisor's VMCS, each once: six exits of L2 and two VM-entry failures.
  assert.deepEqual(j.exits, {
    CPUID: 1, IO_INSTRUCTION: 1, MSR_READ: 1, EPT_VIOLATION: 1, HLT: 1, PREEMPTION_TIMER: 1, INVALID_GUEST_STATE: 1, MSR_LOADING: 1,
  });
});

test('byoh.asm: the text report names the guest hypervisor\'s exits', () => {
  const r = cli('run', SOURCE, '--hypervisor', 'none');
  assert.match(r.stdout, /^VM exits of the guest hypervisor's VMCSs: 8$/m);
  assert.match(r.stdout, /^ {2}EPT_VIOLATION +1 +12\.5%$/m);
});

test('byoh.asm under the built-in hypervisor: VMX is hidden from its guest (CPUID.1:ECX[5] = 0), so it stops at once', () => {
  const j = lastJson(cli('run', SOURCE, '--json').stdout);
  assert.equal(j.serial, 'no VMX\n');
  assert.equal(j.stopReason, 'SystemDown');
});

test('byoh.asm: nasm and vtx\'s assembler produce the same bytes', (t) => {
  const ours = vtxAssemble(readFileSync(SOURCE, 'utf8'), { file: SOURCE });
  assert.deepEqual(ours.diagnostics, []);
  if (!hasTool('nasm', ['-v'])) { t.skip('nasm is not installed'); return; }
  assert.deepEqual(Buffer.from(ours.bytes), Buffer.from(nasmAssemble('byoh.asm')));
});

test('byoh.asm: the engine\'s observers hear each VM entry and VM exit of the guest\'s VMCS, in order, at HOST_RIP', () => {
  const image = vtxAssemble(readFileSync(SOURCE, 'utf8'), { file: SOURCE });
  const g = prepareGuest(image.bytes, { hypervisor: 'none', format: 'flat', mode: 'long', loadAddress: 0x1000 });
  const hostRip = Number(image.symbols.get('exit_handler')!.value);
  const events: string[] = [];
  g.machine.vmx!.addObserver({
    vmExit: (e, reason) => {
      // The host state is loaded: the next instruction is the handler's first.
      assert.equal(g.cpu.ripLo, hostRip);
      assert.equal(g.cpu.nonRoot, false);
      assert.equal(e.current!.address, 0x14000);
      events.push(`exit 0x${reason.toString(16)}`);
    },
    vmEntry: (_e, launch, out: VmEntryOutcome) => {
      const what = out.kind === 'fail' ? (out.status.status === 'failValid' ? `fail ${out.status.error}` : 'fail invalid') : out.kind;
      events.push(`${launch ? 'launch' : 'resume'} ${what}`);
    },
  });
  assert.equal(g.machine.run(1_000_000).reason, 'exit');
  assert.deepEqual(events, [
    'launch entered', 'exit 0xa', 'resume entered', 'exit 0x1e', 'resume entered', 'exit 0x1f', 'resume entered',
    'exit 0x30', 'resume entered', 'exit 0xc', 'resume entered', 'exit 0x34',
    'resume fail 7', 'resume fail 8', 'resume fail 8', 'resume fail 8',
    'exit 0x80000021', 'resume exitOnEntry', 'exit 0x80000022', 'resume exitOnEntry',
    'launch fail 4', 'launch fail invalid', 'resume fail 5',
  ]);
});
