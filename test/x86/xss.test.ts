/**
 * CPUID.1:ECX.OSXSAVE following CR4.OSXSAVE, and IA32_XSS (MSR 0xDA0) with XSAVES/XRSTORS.
 * Expectations from the SDM: vol. 2A CPUID table 3-10 (ECX bit 27 "OSXSAVE: the OS has set
 * CR4.OSXSAVE[bit 18]"), vol. 1 §13.2-13.3 (CPUID.(EAX=0DH,ECX=1): EAX[3] XSAVES/XRSTORS and
 * IA32_XSS, ECX/EDX the IA32_XSS bits supported), §13.11-13.12 (RFBM = EDX:EAX AND (XCR0 OR
 * IA32_XSS)), vol. 4 table 2-2 (IA32_XSS; WRMSR of an unsupported bit is #GP(0)).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CPUID, cpuidLookup, hasFeature, withoutFeatures } from '../../src/x86/cpuid';
import { msrInfo } from '../../src/x86/msr';
import type { Cpu } from '../../src/x86/cpu';
import type { PhysicalMemory } from '../../src/x86/physicalMemory';
import { asm, describeStop, faulted, hasNasm, run } from './systemKit';

const skip = !hasNasm;
const GP = 13;
const CR4_OSFXSR = 1 << 9, CR4_OSXSAVE = 1 << 18;
const AREA = 0x4000;

function rd32(mem: PhysicalMemory, a: number): number {
  let v = 0;
  for (let i = 0; i < 4; i++) v |= mem.read8(a + i) << (8 * i);
  return v >>> 0;
}

test('CPUID.1:ECX.OSXSAVE (bit 27) reads as CR4.OSXSAVE (bit 18)', { skip }, () => {
  const code = 'mov eax, 1\nxor ecx, ecx\ncpuid\nmov r8d, ecx\nmov rax, cr4\nbts rax, 18\nmov cr4, rax\n'
    + 'mov eax, 1\nxor ecx, ecx\ncpuid\nmov r9d, ecx\nmov rax, cr4\nbtr rax, 18\nmov cr4, rax\n'
    + 'mov eax, 1\nxor ecx, ecx\ncpuid\nmov r10d, ecx\nhlt';
  const m = run(asm(64, code));
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal((m.reg('r8') >> 27n) & 1n, 0n, 'CR4.OSXSAVE = 0');
  assert.equal((m.reg('r9') >> 27n) & 1n, 1n, 'CR4.OSXSAVE = 1');
  assert.equal((m.reg('r10') >> 27n) & 1n, 0n, 'CR4.OSXSAVE cleared again');
  // Only that bit changes; the static model never reports it.
  assert.equal(Number(m.reg('r9') ^ m.reg('r8')), 1 << 27);
  assert.equal((cpuidLookup(DEFAULT_CPUID, 1, 0)[2] >>> 27) & 1, 0);
  // Other leaves are unaffected (leaf 0DH subleaf 1 has bit 27 clear either way).
  const l = run(asm(64, 'mov eax, 0xd\nmov ecx, 1\ncpuid\nhlt'), { setup: (c) => { c.cr4 |= CR4_OSXSAVE | CR4_OSFXSR; } });
  assert.equal(Number(l.reg('rax')), cpuidLookup(DEFAULT_CPUID, 0xd, 1)[0]);
});

test('CPUID reports XSAVES/XRSTORS (leaf 0DH subleaf 1, EAX bit 3) and no IA32_XSS components', () => {
  assert.ok(hasFeature(DEFAULT_CPUID, 'XSAVES'));
  const s1 = cpuidLookup(DEFAULT_CPUID, 0xd, 1);
  assert.equal((s1[0] >>> 3) & 1, 1);
  assert.deepEqual([s1[2], s1[3]], [0, 0], 'IA32_XSS bits supported: none');
  const info = msrInfo(0xda0);
  assert.ok(info !== undefined && info.name === 'IA32_XSS');
  assert.deepEqual(info.writable, [0, 0]);
});

test('IA32_XSS: reads 0, WRMSR of 0 is accepted, any set bit is #GP(0); absent without XSAVES', { skip }, () => {
  const r = run(asm(64, 'mov ecx, 0xda0\nmov eax, -1\nmov edx, -1\nrdmsr\nhlt'));
  assert.equal(r.result.reason, 'hlt', describeStop(r));
  assert.deepEqual([r.reg('rax'), r.reg('rdx')], [0n, 0n]);
  const w = run(asm(64, 'mov ecx, 0xda0\nxor eax, eax\nxor edx, edx\nwrmsr\nrdmsr\nhlt'));
  assert.equal(w.result.reason, 'hlt', describeStop(w));
  for (const [lo, hi] of [[1, 0], [2, 0], [1 << 8, 0], [1 << 11, 0], [0x80000000, 0], [0, 1]]) {
    const b = run(asm(64, `mov ecx, 0xda0\nmov eax, ${lo}\nmov edx, ${hi}\nwrmsr\nhlt`));
    assert.ok(faulted(b, GP, 0), `IA32_XSS = ${hi}:${lo}: ${describeStop(b)}`);
  }
  const cpuid = withoutFeatures(DEFAULT_CPUID, ['XSAVES']);
  const n = run(asm(64, 'mov ecx, 0xda0\nrdmsr\nhlt'), { cpuid });
  assert.ok(faulted(n, GP, 0), describeStop(n));
  const nw = run(asm(64, 'mov ecx, 0xda0\nxor eax, eax\nxor edx, edx\nwrmsr\nhlt'), { cpuid });
  assert.ok(faulted(nw, GP, 0), describeStop(nw));
});

test('XSAVES/XRSTORS with the default model: RFBM = EDX:EAX AND (XCR0 OR IA32_XSS)', { skip }, () => {
  const setup = (c: Cpu, mem: PhysicalMemory): void => {
    c.cr4 |= CR4_OSFXSR | CR4_OSXSAVE; c.xcr0 = 3;
    for (let i = 0; i < 1024; i++) mem.write8(AREA + i, 0);
    c.sse.xmm[0] = 0x12345678; c.fpu.fcw = 0x027f;
  };
  // All-ones request: only XCR0 | IA32_XSS = 3 is saved; XCOMP_BV = 8000000000000003H.
  const m = run(asm(64, `mov rdi, ${AREA}\nmov eax, -1\nmov edx, -1\nxsaves [rdi]\nhlt`), { setup });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(rd32(m.mem, AREA + 512), 3, 'XSTATE_BV');
  assert.deepEqual([rd32(m.mem, AREA + 520), rd32(m.mem, AREA + 524)], [3, 0x80000000], 'XCOMP_BV');
  assert.equal(rd32(m.mem, AREA), 0x027f, 'FCW saved');
  assert.equal(rd32(m.mem, AREA + 160), 0x12345678, 'XMM0 saved');
  // XRSTORS of an area whose XCOMP_BV names a component outside XCR0 | IA32_XSS: #GP(0).
  const bad = run(asm(64, `mov rdi, ${AREA}\nmov dword [rdi + 520], 0x103\nmov dword [rdi + 524], 0x80000000\n`
    + 'mov eax, -1\nmov edx, -1\nxrstors [rdi]\nhlt'), { setup });
  assert.ok(faulted(bad, GP, 0), describeStop(bad));
});
