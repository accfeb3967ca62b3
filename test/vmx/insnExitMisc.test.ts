/**
 * VMFUNC with EPTP switching (SDM vol. 3C §25.5.6), XSAVES/XRSTORS with the XSS-exiting bitmap
 * (§25.1.3, §25.3; the hook on its own, see the note below), and the processor side of the VMX
 * instructions outside non-root operation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exit } from '../../src/vmx/exitReasons';
import { setStored } from '../../src/x86/msr';
import { CpuException } from '../../src/x86/exceptions';
import { VM_EXIT } from '../../src/x86/vmxHooks';
import { InsnExit } from '../../src/x86/vmxInsnHooks';
import { CODE, EPTP_LIST, decodeOne, runNonRoot } from './insnExitKit';

const HLT = 0xf4;
const VMFUNC = [0x0f, 0x01, 0xd4];
/** A valid EPTP: write-back (6), 4-level walk (3 << 3), table at 50000h. */
const EPTP_A = 0x5001e;
const EPTP_B = 0x6001e;

function vmfuncSetup(extra: Record<string, bigint | number> = {}) {
  return {
    proc2: ['ENABLE_VM_FUNCTIONS'],
    fields: { VM_FUNCTION_CONTROLS: 1, EPT_POINTER: EPTP_A, ...extra },
    memory: [[EPTP_LIST + 8, [EPTP_B & 0xff, (EPTP_B >> 8) & 0xff, EPTP_B >> 16, 0, 0, 0, 0, 0]]] as Array<[number, number[]]>,
  };
}

test('VMFUNC 0 (EPTP switching) with a valid list entry loads it as the EPT pointer, no exit', () => {
  const r = runNonRoot([...VMFUNC, HLT], { ...vmfuncSetup(), regs: { rax: 0, rcx: 1 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.result.reason, 'hlt');
  assert.equal(r.field('EPT_POINTER'), BigInt(EPTP_B));
});

test('VMFUNC 0 with an invalid list entry exits (reason 59, length 3)', () => {
  const r = runNonRoot([...VMFUNC, HLT], { ...vmfuncSetup(), regs: { rax: 0, rcx: 2 } });
  const e = r.exit();
  assert.equal(e.reason, Exit.Vmfunc);
  assert.equal(e.len, 3);
  assert.equal(e.rip, BigInt(CODE));
  assert.equal(r.field('EPT_POINTER'), BigInt(EPTP_A), 'EPTP unchanged');
});

test('VMFUNC 0 with ECX >= 512 exits', () => {
  assert.equal(runNonRoot([...VMFUNC, HLT], { ...vmfuncSetup(), regs: { rax: 0, rcx: 512 } }).exit().reason, Exit.Vmfunc);
});

test('VMFUNC of a function whose control bit is 0 exits', () => {
  assert.equal(runNonRoot([...VMFUNC, HLT], { ...vmfuncSetup({ VM_FUNCTION_CONTROLS: 0 }), regs: { rax: 0, rcx: 1 } }).exit().reason, Exit.Vmfunc);
  assert.equal(runNonRoot([...VMFUNC, HLT], { ...vmfuncSetup({ VM_FUNCTION_CONTROLS: 3 }), regs: { rax: 1 } }).exit().reason, Exit.Vmfunc);
  assert.equal(runNonRoot([...VMFUNC, HLT], { ...vmfuncSetup(), regs: { rax: 64 } }).exit().reason, Exit.Vmfunc);
});

test('VMFUNC with "enable VM functions" = 0: #UD', () => {
  const r = runNonRoot([...VMFUNC, HLT], { proc: ['ACTIVATE_SECONDARY_CONTROLS'], regs: { rax: 0 } });
  assert.equal(r.exits.length, 0);
  assert.equal(r.fault(), 6);
});

test('VMFUNC outside non-root operation: #UD', () => {
  const r = runNonRoot([...VMFUNC, HLT], { before: (cpu) => { cpu.nonRoot = false; } });
  assert.equal(r.fault(), 6);
});

// ---- XSAVES / XRSTORS: the hook (the call site belongs to src/x86/sse/xsave.ts) -----------------
const XSAVES = decodeOne(64, [0x48, 0x0f, 0xc7, 0x68, 0x40]); // XSAVES64 [rax+40h]

function xssHook(proc2: string[], xss: number, bitmap: bigint, eax: number, cpl = 0) {
  const r = runNonRoot([HLT], { proc2, fields: { XSS_EXITING_BITMAP: bitmap } });
  const { cpu } = r;
  setStored(cpu, 0xda0, xss, 0);
  cpu.nonRoot = true;
  cpu.cpl = cpl;
  let thrown: unknown = null;
  let exited = false;
  try {
    exited = cpu.vmxInsn!.xss(cpu, XSAVES, InsnExit.Xsaves, eax, 0);
  } catch (e) {
    thrown = e;
    exited = e === VM_EXIT;
  }
  return { r, thrown, exited };
}

test('XSAVES exits when EDX:EAX AND IA32_XSS AND the XSS-exiting bitmap is not 0', () => {
  const { r, exited } = xssHook(['ENABLE_XSAVES_XRSTORS'], 0x100, 0x100n, 0x1ff);
  assert.ok(exited, 'VM_EXIT thrown, or true returned');
  const e = r.exits[0];
  assert.equal(e.reason, Exit.Xsaves);
  assert.equal(e.qual, 0x40n);
  assert.equal(e.len, 5);
  assert.equal(e.info.toString(16), ((2 << 7) | (3 << 15) | (1 << 22) | (0 << 23)).toString(16));
});

test('XSAVES does not exit when the AND is 0', () => {
  for (const h of [xssHook(['ENABLE_XSAVES_XRSTORS'], 0x100, 0x200n, 0x1ff), xssHook(['ENABLE_XSAVES_XRSTORS'], 0, 0xffffffffn, 0x1ff)]) {
    assert.equal(h.thrown, null);
    assert.equal(h.exited, false);
    assert.equal(h.r.exits.length, 0);
  }
});

test('XSAVES with "enable XSAVES/XRSTORS" = 0: #UD', () => {
  const { thrown } = xssHook(['ENABLE_RDTSCP'], 0x100, 0x100n, 0x1ff);
  assert.ok(thrown instanceof CpuException);
  assert.equal(thrown.vector, 6);
});

test('XRSTORS at CPL 3: #GP(0) before the exit', () => {
  const { thrown } = xssHook(['ENABLE_XSAVES_XRSTORS'], 0x100, 0x100n, 0x1ff, 3);
  assert.ok(thrown instanceof CpuException);
  assert.equal(thrown.vector, 13);
});
