/**
 * XSAVE/XSAVEOPT/XSAVEC/XRSTOR for x87 and SSE state (src/x86/sse/xsave.ts; SDM vol. 1 chapter 13),
 * CPUID leaf 0DH and the XSAVE bit, XSETBV/XGETBV with the XCR0 values leaf 0DH allows.
 * Expectations come from the SDM: §13.4 layout, §13.6 initial configurations, §13.7 XSAVE,
 * §13.8 XRSTOR (standard and compacted forms), §13.10 XSAVEC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cpu } from '../../src/x86/cpu';
import type { PhysicalMemory } from '../../src/x86/physicalMemory';
import { DEFAULT_CPUID, cpuidLookup, hasFeature, withoutFeatures } from '../../src/x86/cpuid';
import { asm, cpuidWith, describeStop, faulted, hasNasm, run, type Setup } from './systemKit';

const skip = !hasNasm;
const UD = 6, NM = 7, GP = 13;
const AREA = 0x4000;
const CR4_OSFXSR = 1 << 9, CR4_OSXSAVE = 1 << 18;


function rd32(mem: PhysicalMemory, a: number): number {
  let v = 0;
  for (let i = 0; i < 4; i++) v |= mem.read8(a + i) << (8 * i);
  return v >>> 0;
}
function wr32(mem: PhysicalMemory, a: number, v: number): void {
  for (let i = 0; i < 4; i++) mem.write8(a + i, (v >>> (8 * i)) & 0xff);
}
function fill(mem: PhysicalMemory, a: number, n: number, b: number): void {
  for (let i = 0; i < n; i++) mem.write8(a + i, b);
}

/** x87 + SSE state with recognisable, non-initial values. */
function dirty(c: Cpu, seed = 1): void {
  const f = c.fpu;
  f.fcw = 0x027f; f.fsw = 0x0020; f.top = 6;
  // ST0 = physical R6 = 1.0, ST1 = physical R7 = 2.0; the rest empty.
  f.sigHi[6] = 0x80000000; f.sigLo[6] = seed; f.signExp[6] = 0x3fff;
  f.sigHi[7] = 0x80000000; f.sigLo[7] = 0; f.signExp[7] = 0x4000;
  f.ftw = 0x0fff; // R6, R7 valid (00), others empty (11)
  f.fipLo = 0x1234; f.fipHi = 0; f.fop = 0x1d9;
  for (let i = 0; i < 64; i++) c.sse.xmm[i] = (0x11110000 * seed + i) | 0;
  c.sse.mxcsr = 0x1fa0; // a precision flag set
}

function setup(extra?: (c: Cpu, mem: PhysicalMemory) => void, xcr0 = 3): Setup['setup'] {
  return (c, mem) => {
    c.cr4 |= CR4_OSFXSR | CR4_OSXSAVE;
    c.xcr0 = xcr0;
    extra?.(c, mem);
  };
}

const snapshot = (c: Cpu): unknown => ({
  fcw: c.fpu.fcw, fsw: c.fpu.fsw, top: c.fpu.top, ftw: c.fpu.ftw, fip: c.fpu.fipLo, fipHi: c.fpu.fipHi, fop: c.fpu.fop,
  sigLo: [...c.fpu.sigLo], sigHi: [...c.fpu.sigHi], se: [...c.fpu.signExp], xmm: [...c.sse.xmm], mxcsr: c.sse.mxcsr,
});

// ---- CPUID -----------------------------------------------------------------------------------------
test('CPUID reports XSAVE, leaf 0DH subleaves 0 and 1 (SDM vol. 1 §13.2)', () => {
  assert.ok(hasFeature(DEFAULT_CPUID, 'XSAVE'));
  assert.ok(hasFeature(DEFAULT_CPUID, 'XSAVEOPT'));
  assert.ok(hasFeature(DEFAULT_CPUID, 'XSAVEC'));
  assert.equal((cpuidLookup(DEFAULT_CPUID, 1, 0)[2] >>> 26) & 1, 1);
  assert.deepEqual(cpuidLookup(DEFAULT_CPUID, 0xd, 0), [3, 576, 576, 0]);
  const s1 = cpuidLookup(DEFAULT_CPUID, 0xd, 1);
  assert.equal(s1[0], 15, 'XSAVEOPT, XSAVEC, XGETBV with ECX = 1, XSAVES (bit 3)');
  assert.equal(s1[1], 576);
  assert.deepEqual([s1[2], s1[3]], [0, 0], 'no supervisor components (IA32_XSS)');
  assert.deepEqual(cpuidLookup(DEFAULT_CPUID, 0xd, 2), [0, 0, 0, 0]);
});

// ---- XSETBV / XGETBV / CR4.OSXSAVE -----------------------------------------------------------------
test('CR4.OSXSAVE is settable once XSAVE is reported; XSETBV accepts XCR0 = 1 or 3', { skip }, () => {
  const setOsx = 'mov rax, cr4\nbts rax, 18\nmov cr4, rax\n';
  const a = run(asm(64, `${setOsx}xor ecx, ecx\nxor edx, edx\nmov eax, 3\nxsetbv\nxor eax, eax\nxgetbv\nhlt`));
  assert.equal(a.result.reason, 'hlt', describeStop(a));
  assert.equal(a.reg('rax'), 3n);
  assert.equal(a.reg('rdx'), 0n);
  const b = run(asm(64, `${setOsx}xor ecx, ecx\nxor edx, edx\nmov eax, 1\nxsetbv\nmov eax, 7\nxgetbv\nhlt`));
  assert.equal(b.reg('rax'), 1n, describeStop(b));
  for (const v of [0, 2, 4, 7]) {
    const m = run(asm(64, `${setOsx}xor ecx, ecx\nxor edx, edx\nmov eax, ${v}\nxsetbv\nhlt`));
    assert.ok(faulted(m, GP, 0), `XCR0 = ${v}: ${describeStop(m)}`);
  }
  // XGETBV with ECX = 1: XCR0 AND XINUSE (SDM vol. 1 §13.6); ECX = 2 is #GP(0).
  const g = `${setOsx}xor ecx, ecx\nxor edx, edx\nmov eax, 3\nxsetbv\nmov ecx, 1\nxgetbv\n`;
  const i0 = run(asm(64, `${g}hlt`));
  assert.equal(i0.reg('rax'), 0n, `initial state: ${describeStop(i0)}`);
  const i1 = run(asm(64, `${g}hlt`), { setup: (cpu) => { cpu.sse.xmm[3] = 1; } });
  assert.equal(i1.reg('rax'), 2n, 'SSE in use');
  const i2 = run(asm(64, `${g}hlt`), { setup: (cpu) => { cpu.fpu.fcw = 0x27f; } });
  assert.equal(i2.reg('rax'), 1n, 'x87 in use');
  const i3 = run(asm(64, `${setOsx}mov ecx, 2\nxgetbv\nhlt`));
  assert.ok(faulted(i3, GP, 0), describeStop(i3));
  // Without CPUID.XSAVE, CR4.OSXSAVE is reserved.
  const c = run(asm(64, `${setOsx}hlt`), { cpuid: withoutFeatures(DEFAULT_CPUID, ['XSAVE']) });
  assert.ok(faulted(c, GP, 0), describeStop(c));
});

// ---- faults ----------------------------------------------------------------------------------------
const XSAVE_AT = (insn: string): string => `mov rdi, ${AREA}\nmov eax, 3\nxor edx, edx\n${insn} [rdi]\nhlt`;

test('XSAVE family: #UD without CR4.OSXSAVE, #NM with CR0.TS, #GP(0) if not 64-byte aligned', { skip }, () => {
  for (const insn of ['xsave', 'xsave64', 'xsaveopt', 'xsavec', 'xrstor', 'xrstor64']) {
    const u = run(asm(64, XSAVE_AT(insn)), { setup: (c) => { c.cr4 |= CR4_OSFXSR; c.xcr0 = 3; } });
    assert.ok(faulted(u, UD), `${insn} no OSXSAVE: ${describeStop(u)}`);
    const n = run(asm(64, XSAVE_AT(insn)), { setup: setup((c) => { c.cr0 |= 1 << 3; }) });
    assert.ok(faulted(n, NM), `${insn} TS: ${describeStop(n)}`);
    const g = run(asm(64, XSAVE_AT(insn).replace(`${AREA}`, `${AREA + 0x20}`)), { setup: setup() });
    assert.ok(faulted(g, GP, 0), `${insn} misaligned: ${describeStop(g)}`);
  }
  // CR0.EM does not matter (only TS is checked).
  const e = run(asm(64, XSAVE_AT('xsave')), { setup: setup((c) => { c.cr0 |= 1 << 2; }) });
  assert.equal(e.result.reason, 'hlt', describeStop(e));
  // The supervisor forms are #UD when a CPU model does not report XSAVES.
  const s = run(asm(64, XSAVE_AT('xsaves')), { cpuid: withoutFeatures(DEFAULT_CPUID, ['XSAVES']), setup: setup() });
  assert.ok(faulted(s, UD), describeStop(s));
});

// ---- XSAVE (standard format) -----------------------------------------------------------------------
test('XSAVE stores x87 and SSE state in the legacy region and XSTATE_BV; leaves other bytes alone', { skip }, () => {
  const m = run(asm(64, XSAVE_AT('xsave')), {
    setup: setup((c, mem) => { dirty(c); fill(mem, AREA, 1024, 0xcc); }),
  });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  const mem = m.mem;
  assert.equal(rd32(mem, AREA) & 0xffff, 0x027f, 'FCW');
  assert.equal(rd32(mem, AREA) >>> 16, 0x0020 | (6 << 11), 'FSW with TOP');
  assert.equal(mem.read8(AREA + 4), 0xc0, 'abridged tag: R6, R7 in use');
  assert.equal(rd32(mem, AREA + 8), 0x1234, 'FIP');
  assert.equal(rd32(mem, AREA + 24), 0x1fa0, 'MXCSR');
  assert.equal(rd32(mem, AREA + 28), 0xffff, 'MXCSR_MASK');
  assert.equal(rd32(mem, AREA + 32), 1, 'ST0 significand low');
  assert.equal(rd32(mem, AREA + 36), 0x80000000);
  assert.equal(rd32(mem, AREA + 40) & 0xffff, 0x3fff);
  assert.equal(rd32(mem, AREA + 160), 0x11110000, 'XMM0');
  assert.equal(rd32(mem, AREA + 160 + 16 * 15 + 12), (0x11110000 + 63) >>> 0, 'XMM15 in 64-bit mode');
  assert.equal(rd32(mem, AREA + 464), 0xcccccccc, 'bytes 511:464 are not written');
  assert.equal(rd32(mem, AREA + 512), 0xcccccccf, 'XSTATE_BV bits 1:0 = XINUSE, others kept');
  assert.equal(rd32(mem, AREA + 516), 0xcccccccc);
  assert.equal(rd32(mem, AREA + 520), 0xcccccccc, 'XSAVE does not write XCOMP_BV');
  assert.equal(rd32(mem, AREA + 576), 0xcccccccc, 'nothing beyond the 576-byte area');
});

test('XSAVE with RFBM = x87 only: no MXCSR or XMM; XSTATE_BV[0] = 0 for x87 in its initial state', { skip }, () => {
  const m = run(asm(64, `mov rdi, ${AREA}\nmov eax, 1\nxor edx, edx\nxsave [rdi]\nhlt`), {
    setup: setup((c, mem) => { fill(mem, AREA, 600, 0xcc); c.sse.xmm[0] = 5; }),
  });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(rd32(m.mem, AREA) & 0xffff, 0x037f, 'FCW (initial)');
  assert.equal(m.mem.read8(AREA + 4), 0, 'abridged tag all empty');
  assert.equal(rd32(m.mem, AREA + 24), 0xcccccccc, 'MXCSR not saved');
  assert.equal(rd32(m.mem, AREA + 160), 0xcccccccc, 'XMM0 not saved');
  assert.equal(rd32(m.mem, AREA + 512), (0xcccccccc & ~1) >>> 0, 'XSTATE_BV[0] = XINUSE[0] = 0');
  // XCR0 = 1 masks EDX:EAX = 3 down to x87 too.
  const n = run(asm(64, XSAVE_AT('xsave')), { setup: setup((c, mem) => { fill(mem, AREA, 600, 0xcc); dirty(c); }, 1) });
  assert.equal(rd32(n.mem, AREA + 24), 0xcccccccc);
  assert.equal(rd32(n.mem, AREA + 512), 0xcccccccd);
  // RFBM = SSE only: MXCSR and XMM, x87 untouched.
  const s = run(asm(64, `mov rdi, ${AREA}\nmov eax, 2\nxor edx, edx\nxsave [rdi]\nhlt`), {
    setup: setup((c, mem) => { fill(mem, AREA, 600, 0xcc); dirty(c); }),
  });
  assert.equal(rd32(s.mem, AREA), 0xcccccccc);
  assert.equal(rd32(s.mem, AREA + 24), 0x1fa0);
  assert.equal(rd32(s.mem, AREA + 160), 0x11110000);
  assert.equal(rd32(s.mem, AREA + 512), (0xcccccccc | 2) >>> 0);
});

test('XSAVE/XRSTOR round trip (standard format), 64-bit forms', { skip }, () => {
  for (const [save, rstor] of [['xsave', 'xrstor'], ['xsave64', 'xrstor64'], ['xsaveopt', 'xrstor'], ['xsaveopt64', 'xrstor64']]) {
    let before: unknown;
    const m = run(asm(64, `mov rdi, ${AREA}\nmov eax, -1\nmov edx, -1\n${save} [rdi]\nhlt\n`), {
      setup: setup((c, mem) => {
        fill(mem, AREA, 1024, 0); dirty(c);
        if (save.endsWith('64')) c.fpu.fipHi = 0x7fff;
        before = snapshot(c);
      }),
    });
    assert.equal(m.result.reason, 'hlt', describeStop(m));
    assert.equal(rd32(m.mem, AREA + 12), save.endsWith('64') ? 0x7fff : 0, 'FIP[63:32] (64-bit format) or FCS');
    // Scramble the state and restore it.
    const c = m.cpu;
    dirty(c, 2);
    c.fpu.fcw = 0x37f; c.sse.mxcsr = 0x1f80;
    const code = asm(64, `mov rdi, ${AREA}\nmov eax, 3\nxor edx, edx\n${rstor} [rdi]\nhlt`, 0x2000);
    m.mem.load(0x2000, code);
    c.setRip(0x2000);
    c.halted = false;
    const r = c.run(100);
    assert.equal(r.reason, 'hlt', `${rstor}: ${r.exception?.detail}`);
    assert.deepEqual(snapshot(c), before, `${save}/${rstor}`);
  }
});

test('XRSTOR initialises components whose XSTATE_BV bit is 0; standard form still loads MXCSR', { skip }, () => {
  const m = run(asm(64, `mov rdi, ${AREA}\nmov eax, 3\nxor edx, edx\nxrstor [rdi]\nhlt`), {
    setup: setup((c, mem) => {
      dirty(c);
      fill(mem, AREA, 1024, 0);
      wr32(mem, AREA, 0x11111111); // garbage FCW/FSW that must not be loaded
      wr32(mem, AREA + 24, 0x1f00); // MXCSR
      wr32(mem, AREA + 160, 0xdeadbeef);
    }),
  });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  const c = m.cpu;
  assert.equal(c.fpu.fcw, 0x037f);
  assert.equal(c.fpu.fsw, 0);
  assert.equal(c.fpu.top, 0);
  assert.equal(c.fpu.ftw, 0xffff);
  assert.equal(c.fpu.fipLo, 0);
  assert.equal(c.fpu.fop, 0);
  assert.deepEqual([...c.fpu.sigHi, ...c.fpu.sigLo, ...c.fpu.signExp], new Array(24).fill(0));
  assert.ok(c.sse.xmm.every((v) => v === 0), 'XMM0-15 zero');
  assert.equal(c.sse.mxcsr, 0x1f00, 'standard form loads MXCSR when RFBM[1] = 1');
  // Components outside RFBM are not touched.
  const n = run(asm(64, `mov rdi, ${AREA}\nmov eax, 1\nxor edx, edx\nxrstor [rdi]\nhlt`), {
    setup: setup((cpu, mem) => { dirty(cpu); fill(mem, AREA, 1024, 0); }),
  });
  assert.equal(n.cpu.fpu.fcw, 0x037f);
  assert.equal(n.cpu.sse.xmm[0], 0x11110000);
  assert.equal(n.cpu.sse.mxcsr, 0x1fa0);
});

test('XRSTOR header checks: #GP(0) and no state change', { skip }, () => {
  const cases: Array<[string, (mem: PhysicalMemory) => void, number?]> = [
    ['standard: XSTATE_BV bit not in XCR0', (mem) => wr32(mem, AREA + 512, 4)],
    ['standard: XSTATE_BV bit 1 with XCR0 = 1', (mem) => wr32(mem, AREA + 512, 3), 1],
    ['standard: XSTATE_BV[63:32]', (mem) => wr32(mem, AREA + 516, 1)],
    ['standard: XCOMP_BV bit 0', (mem) => wr32(mem, AREA + 520, 1)],
    ['standard: header byte 16', (mem) => mem.write8(AREA + 528, 1)],
    ['standard: header byte 23', (mem) => mem.write8(AREA + 535, 1)],
    ['compacted: XCOMP_BV bit not in XCR0', (mem) => { wr32(mem, AREA + 524, 0x80000000); wr32(mem, AREA + 520, 7); }],
    ['compacted: XSTATE_BV bit not in XCOMP_BV', (mem) => { wr32(mem, AREA + 524, 0x80000000); wr32(mem, AREA + 520, 1); wr32(mem, AREA + 512, 3); }],
    ['compacted: header byte 40', (mem) => { wr32(mem, AREA + 524, 0x80000000); wr32(mem, AREA + 520, 3); mem.write8(AREA + 552, 1); }],
    ['standard: reserved MXCSR bit', (mem) => { wr32(mem, AREA + 24, 0x10000); }],
    ['compacted: reserved MXCSR bit', (mem) => { wr32(mem, AREA + 524, 0x80000000); wr32(mem, AREA + 520, 3); wr32(mem, AREA + 512, 2); wr32(mem, AREA + 24, 0x10000); }],
  ];
  for (const [name, prep, xcr0] of cases) {
    let before: unknown;
    const m = run(asm(64, `mov rdi, ${AREA}\nmov eax, 3\nxor edx, edx\nxrstor [rdi]\nhlt`), {
      setup: setup((c, mem) => { dirty(c); fill(mem, AREA, 1024, 0); wr32(mem, AREA + 24, 0x1f80); prep(mem); before = snapshot(c); }, xcr0 ?? 3),
    });
    assert.ok(faulted(m, GP, 0), `${name}: ${describeStop(m)}`);
    assert.deepEqual(snapshot(m.cpu), before, name);
  }
  // Accepted: standard form ignores header bytes 63:24; compacted header with XCOMP_BV = RFBM subset.
  const ok: Array<[string, (mem: PhysicalMemory) => void]> = [
    ['standard: header byte 24', (mem) => mem.write8(AREA + 536, 1)],
    ['compacted: XCOMP_BV = 1 | 1<<63', (mem) => { wr32(mem, AREA + 524, 0x80000000); wr32(mem, AREA + 520, 1); wr32(mem, AREA + 512, 1); }],
    ['standard: MXCSR with reserved bits ignored when RFBM excludes SSE', (mem) => wr32(mem, AREA + 24, 0x10000)],
  ];
  for (const [name, prep] of ok) {
    const eax = name.includes('RFBM excludes') ? 1 : 3;
    const m = run(asm(64, `mov rdi, ${AREA}\nmov eax, ${eax}\nxor edx, edx\nxrstor [rdi]\nhlt`), {
      setup: setup((c, mem) => { dirty(c); fill(mem, AREA, 1024, 0); wr32(mem, AREA + 24, 0x1f80); prep(mem); }),
    });
    assert.equal(m.result.reason, 'hlt', `${name}: ${describeStop(m)}`);
  }
});

// ---- XSAVEC / compacted XRSTOR ------------------------------------------------------------------------
test('XSAVEC: compacted header, init optimization, MXCSR rule; XRSTOR compacted round trip', { skip }, () => {
  let before: unknown;
  const m = run(asm(64, XSAVE_AT('xsavec')), {
    setup: setup((c, mem) => { fill(mem, AREA, 1024, 0xcc); dirty(c); before = snapshot(c); }),
  });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(rd32(m.mem, AREA + 512), 3, 'XSTATE_BV = RFBM AND XINUSE');
  assert.equal(rd32(m.mem, AREA + 516), 0);
  assert.equal(rd32(m.mem, AREA + 520), 3, 'XCOMP_BV[62:0] = RFBM');
  assert.equal(rd32(m.mem, AREA + 524), 0x80000000, 'XCOMP_BV[63] = 1');
  assert.equal(rd32(m.mem, AREA + 528), 0xcccccccc, 'header bytes 63:16 not written');
  assert.equal(rd32(m.mem, AREA + 464), 0xcccccccc);
  assert.equal(rd32(m.mem, AREA + 24), 0x1fa0);
  // Restore (compacted form) into a scrambled state; the compacted form needs header bytes 63:16 zero.
  fill(m.mem, AREA + 528, 48, 0);
  const c = m.cpu;
  dirty(c, 3);
  m.mem.load(0x2000, asm(64, `mov rdi, ${AREA}\nmov eax, 3\nxor edx, edx\nxrstor [rdi]\nhlt`, 0x2000));
  c.setRip(0x2000);
  c.halted = false;
  assert.equal(c.run(100).reason, 'hlt');
  assert.deepEqual(snapshot(c), before);

  // Initial state: nothing is written but the header.
  const i = run(asm(64, XSAVE_AT('xsavec')), { setup: setup((_c, mem) => fill(mem, AREA, 1024, 0xcc)) });
  assert.equal(rd32(i.mem, AREA), 0xcccccccc, 'x87 in init state not saved');
  assert.equal(rd32(i.mem, AREA + 24), 0xcccccccc, 'MXCSR = 1F80H and XMM zero: SSE not saved');
  assert.equal(rd32(i.mem, AREA + 512), 0);
  assert.equal(rd32(i.mem, AREA + 520), 3);
  // XMM registers zero but MXCSR not 1F80H: SSE is saved and XSTATE_BV[1] = 1.
  const x = run(asm(64, XSAVE_AT('xsavec')), { setup: setup((cpu, mem) => { fill(mem, AREA, 1024, 0xcc); cpu.sse.mxcsr = 0x9f80; }) });
  assert.equal(rd32(x.mem, AREA + 512), 2);
  assert.equal(rd32(x.mem, AREA + 24), 0x9f80);
  assert.equal(rd32(x.mem, AREA + 160), 0, 'XMM0 saved');
  // Compacted XRSTOR with XSTATE_BV[1] = 0 sets MXCSR to 1F80H; XSTATE_BV[0] = 0 initialises x87.
  const r = run(asm(64, `mov rdi, ${AREA}\nmov eax, 3\nxor edx, edx\nxrstor [rdi]\nhlt`), {
    setup: setup((cpu, mem) => {
      dirty(cpu); fill(mem, AREA, 1024, 0); wr32(mem, AREA + 24, 0x1f00);
      wr32(mem, AREA + 520, 3); wr32(mem, AREA + 524, 0x80000000);
    }),
  });
  assert.equal(r.result.reason, 'hlt', describeStop(r));
  assert.equal(r.cpu.sse.mxcsr, 0x1f80);
  assert.equal(r.cpu.fpu.fcw, 0x37f);
  assert.ok(r.cpu.sse.xmm.every((v) => v === 0));
});

// ---- other modes -----------------------------------------------------------------------------------
test('XSAVE/XRSTOR outside 64-bit mode: XMM0-7 only; 32-bit FIP/FCS format', { skip }, () => {
  const code = asm(32, `mov edi, ${AREA}\nmov eax, 3\nxor edx, edx\nxsave [edi]\nhlt`);
  const m = run(code, { mode: 'protected', setup: setup((c, mem) => { fill(mem, AREA, 1024, 0xcc); dirty(c); c.fpu.fcs = 0x23; }) });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(rd32(m.mem, AREA + 160 + 16 * 7), (0x11110000 + 28) >>> 0, 'XMM7');
  assert.equal(rd32(m.mem, AREA + 160 + 16 * 8), 0xcccccccc, 'XMM8 not saved');
  assert.equal(rd32(m.mem, AREA + 12) & 0xffff, 0x23, 'FCS');
  // XRSTOR with XSTATE_BV[1] = 0 outside 64-bit mode zeroes XMM0-7 only.
  const r = run(asm(32, `mov edi, ${AREA}\nmov eax, 3\nxor edx, edx\nxrstor [edi]\nhlt`), {
    mode: 'protected',
    setup: setup((c, mem) => { dirty(c); fill(mem, AREA, 1024, 0); wr32(mem, AREA + 24, 0x1f80); wr32(mem, AREA + 512, 1); }),
  });
  assert.equal(r.result.reason, 'hlt', describeStop(r));
  assert.equal(r.cpu.sse.xmm[4 * 7], 0);
  assert.equal(r.cpu.sse.xmm[4 * 8], (0x11110000 + 32) | 0, 'XMM8 untouched');
  // Real mode works too (16-bit addressing).
  const q = run(asm(16, `mov di, ${AREA}\nmov eax, 3\nxor edx, edx\nxsave [di]\nhlt`), {
    mode: 'real', setup: setup((c, mem) => { fill(mem, AREA, 1024, 0xcc); dirty(c); }),
  });
  assert.equal(q.result.reason, 'hlt', describeStop(q));
  assert.equal(rd32(q.mem, AREA + 160), 0x11110000);
  assert.equal(rd32(q.mem, AREA + 512), 0xcccccccf);
});

// ---- XSAVES / XRSTORS --------------------------------------------------------------------------------
test('XSAVES/XRSTORS with CPUID.(EAX=0DH,ECX=1):EAX[3]: compacted format, CPL 0 only', { skip }, () => {
  const cpuid = cpuidWith([0xd, 1, 'eax', 3]);
  let before: unknown;
  const m = run(asm(64, XSAVE_AT('xsaves')), {
    cpuid, setup: setup((c, mem) => { fill(mem, AREA, 1024, 0); dirty(c); before = snapshot(c); }),
  });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(rd32(m.mem, AREA + 512), 3);
  assert.equal(rd32(m.mem, AREA + 520), 3);
  assert.equal(rd32(m.mem, AREA + 524), 0x80000000);
  const c = m.cpu;
  dirty(c, 4);
  m.mem.load(0x2000, asm(64, `mov rdi, ${AREA}\nmov eax, 3\nxor edx, edx\nxrstors [rdi]\nhlt`, 0x2000));
  c.setRip(0x2000);
  c.halted = false;
  assert.equal(c.run(100).reason, 'hlt');
  assert.deepEqual(snapshot(c), before);
  // CPL 3: #GP(0) for both.
  for (const insn of ['xsaves', 'xrstors']) {
    const u = run(asm(64, XSAVE_AT(insn)), { cpuid, setup: setup((cpu) => { cpu.cpl = 3; }) });
    assert.ok(faulted(u, GP, 0), `${insn} CPL 3: ${describeStop(u)}`);
  }
  // XRSTORS needs the compacted format.
  const f = run(asm(64, XSAVE_AT('xrstors')), { cpuid, setup: setup((_cpu, mem) => { fill(mem, AREA, 1024, 0); wr32(mem, AREA + 24, 0x1f80); }) });
  assert.ok(faulted(f, GP, 0), `standard-format area: ${describeStop(f)}`);
  // Not reported (a model without XSAVES): #UD.
  const d = run(asm(64, XSAVE_AT('xrstors')), { cpuid: withoutFeatures(DEFAULT_CPUID, ['XSAVES']), setup: setup() });
  assert.ok(faulted(d, UD), describeStop(d));
});
