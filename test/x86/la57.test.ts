/**
 * 57-bit linear addresses with 5-level paging (SDM vol. 3A §4.5; vol. 1 §3.3.7.1): with
 * CR4.LA57 = 1 in IA-32e mode an address is canonical when bits 63:57 copy bit 56, so
 * 0x0000_8000_0000_0000 — non-canonical with 4-level paging (48 bits) — is an ordinary address.
 * Each program runs once with 5-level tables (it must work) and once with 4-level tables
 * mapping the same addresses' low 48 bits (it must fault: #GP(0), or #SS(0) for the stack).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuidInto, DEFAULT_CPUID } from '../../src/x86/cpuid';
import { Gpr } from '../../src/x86/registers';
import { PagingSetup } from './pagingHelpers';

const HIGH = 0x0000_8000_0000_0000n; // canonical only with 57-bit addresses
const CODE = 0x1000;

function mov64(reg: number, v: bigint): number[] {
  const b = [0x48 | (reg >> 3), 0xb8 + (reg & 7)];
  for (let i = 0n; i < 8n; i++) b.push(Number((v >> (8n * i)) & 0xffn));
  return b;
}

interface Outcome {
  reason: string;
  vector?: number;
  errorCode?: number;
  rip: bigint;
  reg: (r: number) => bigint;
  s: PagingSetup;
}

/** Run `code` at `at` (default 0x1000, identity-mapped) with 5-level (la57) or 4-level tables. */
function run(la57: boolean, code: number[], setup?: (s: PagingSetup) => void, at = BigInt(CODE)): Outcome {
  const s = new PagingSetup(la57 ? 'long5' : 'long4');
  s.identity(0, 0x100000);
  setup?.(s);
  if (at !== BigInt(CODE)) s.map(at & ~0xfffn, 0x20000);
  s.mem.load(at === BigInt(CODE) ? CODE : 0x20000 + Number(at & 0xfffn), Uint8Array.from(code));
  const c = s.c;
  c.setRip(at);
  c.setReg64(Gpr.RSP, 0x8000n);
  const r = c.run(10_000);
  const f = c.faults[0];
  return {
    reason: r.reason,
    vector: f?.vector,
    errorCode: f?.errorCode,
    rip: c.getRip(),
    reg: (n) => c.getReg64(n),
    s,
  };
}

function fault(o: Outcome, vector: number): void {
  assert.equal(o.reason, 'exception');
  assert.equal(o.vector, vector);
  assert.equal(o.errorCode ?? 0, 0);
}

test('LA57: a data access at 0x0000800000000000 works with 5-level paging, #GP(0) with 4-level', () => {
  const code = [
    ...mov64(Gpr.RAX, HIGH + 0x10n),
    0x48, 0x8b, 0x18, // mov rbx, [rax]
    0x48, 0x89, 0x58, 0x08, // mov [rax+8], rbx
    0xf4,
  ];
  const data = (s: PagingSetup): void => {
    s.map(HIGH, 0x30000);
    s.mem.load(0x30010, Uint8Array.of(0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11));
  };
  const ok = run(true, code, data);
  assert.equal(ok.reason, 'hlt');
  assert.equal(ok.reg(Gpr.RBX), 0x1122334455667788n);
  assert.deepEqual(Array.from(ok.s.mem.readBytes(0x30018, 8)), [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
  const bad = run(false, code, (s) => s.map(HIGH & 0xffff_ffff_ffffn, 0x30000));
  fault(bad, 13);
  assert.equal(bad.rip, BigInt(CODE + 10), 'RIP at the faulting MOV');
});

test('LA57: bits 63:57 must still copy bit 56 (#GP(0)); an access may not run past 0x00ffffffffffffff', () => {
  const notCanon = run(true, [...mov64(Gpr.RAX, 0x0100_0000_0000_0000n), 0x48, 0x8b, 0x18, 0xf4]);
  fault(notCanon, 13);
  const top = 0x00ff_ffff_ffff_f000n;
  const map = (s: PagingSetup): void => { s.map(top, 0x30000); };
  // Last 8 bytes of the lower half: fine. One byte further: the access crosses the boundary.
  const fits = run(true, [...mov64(Gpr.RAX, top + 0xff8n), 0x48, 0x8b, 0x18, 0xf4], map);
  assert.equal(fits.reason, 'hlt');
  const crosses = run(true, [...mov64(Gpr.RAX, top + 0xff9n), 0x48, 0x8b, 0x18, 0xf4], map);
  fault(crosses, 13);
  // The upper half starts at 0xff00_0000_0000_0000.
  const upper = run(true, [...mov64(Gpr.RAX, 0xff00_0000_0000_0000n), 0x48, 0x8b, 0x18, 0xf4],
    (s) => s.map(0xff00_0000_0000_0000n, 0x30000));
  assert.equal(upper.reason, 'hlt');
});

test('LA57: string instructions at a 57-bit address', () => {
  const code = [
    ...mov64(Gpr.RDI, HIGH + 0x100n),
    0xb8, 0xab, 0, 0, 0, // mov eax, 0xab
    0xb9, 0x10, 0, 0, 0, // mov ecx, 16
    0xf3, 0xaa, // rep stosb
    0xf4,
  ];
  const map = (s: PagingSetup): void => { s.map(HIGH, 0x30000); };
  const ok = run(true, code, map);
  assert.equal(ok.reason, 'hlt');
  assert.deepEqual(Array.from(ok.s.mem.readBytes(0x30100, 16)), new Array(16).fill(0xab));
  fault(run(false, code, (s) => s.map(HIGH & 0xffff_ffff_ffffn, 0x30000)), 13);
});

test('LA57: JMP r64 to a 57-bit address executes there; without LA57 the JMP raises #GP(0)', () => {
  const code = [...mov64(Gpr.RAX, HIGH + 0x200n), 0xff, 0xe0]; // jmp rax
  const target = (s: PagingSetup): void => {
    s.map(HIGH, 0x30000);
    s.mem.load(0x30200, Uint8Array.of(0xb9, 0x42, 0, 0, 0, 0xf4)); // mov ecx, 0x42; hlt
  };
  const ok = run(true, code, target);
  assert.equal(ok.reason, 'hlt');
  assert.equal(ok.reg(Gpr.RCX), 0x42n);
  assert.equal(ok.rip, HIGH + 0x206n);
  const bad = run(false, code, (s) => s.map(HIGH & 0xffff_ffff_ffffn, 0x30000));
  fault(bad, 13);
  assert.equal(bad.rip, BigInt(CODE + 10), 'RIP at the JMP');
});

test('LA57: relative JMP/Jcc/CALL and sequential fetch across 0x00007fffffffffff', () => {
  const page = 0x0000_7fff_ffff_f000n;
  const twoPages = (s: PagingSetup): void => {
    s.map(HIGH, 0x30000);
    s.mem.load(0x30000, Uint8Array.of(0xb9, 0x42, 0, 0, 0, 0xf4)); // mov ecx, 0x42; hlt
  };
  // At 0x7fff_ffff_fff0: jmp rel32 to 0x8000_0000_0000.
  const jmp = [0xe9, ...le32(0x10 - 5)];
  const ok = run(true, jmp, twoPages, page + 0xff0n);
  assert.equal(ok.reason, 'hlt');
  assert.equal(ok.reg(Gpr.RCX), 0x42n);
  const bad = run(false, jmp, twoPages, page + 0xff0n);
  fault(bad, 13);
  assert.equal(bad.rip, page + 0xff0n);
  // Taken Jcc (jz after xor) and CALL rel32: same target.
  const jz = [0x31, 0xc0, 0x0f, 0x84, ...le32(0x10 - 8)];
  assert.equal(run(true, jz, twoPages, page + 0xff0n).reg(Gpr.RCX), 0x42n);
  fault(run(false, jz, twoPages, page + 0xff0n), 13);
  const call = [0xe8, ...le32(0x10 - 5)];
  const called = run(true, call, twoPages, page + 0xff0n);
  assert.equal(called.reg(Gpr.RCX), 0x42n);
  assert.equal(called.reg(Gpr.RSP), 0x8000n - 8n);
  fault(run(false, call, twoPages, page + 0xff0n), 13);
  // Falling through: NOPs run from 0x7fff_ffff_fffc into 0x8000_0000_0000.
  const nops = [0x90, 0x90, 0x90, 0x90];
  const fell = run(true, nops, twoPages, page + 0xffcn);
  assert.equal(fell.reason, 'hlt');
  assert.equal(fell.reg(Gpr.RCX), 0x42n);
  const stopped = run(false, nops, twoPages, page + 0xffcn);
  fault(stopped, 13);
});

test('LA57: RSP at a 57-bit address (PUSH, POP, CALL, RET); #SS(0) without LA57', () => {
  const code = [
    ...mov64(Gpr.RSP, HIGH + 0x800n),
    ...mov64(Gpr.RAX, 0x1234_5678_9abc_def0n),
    0x50, // push rax
    0x5b, // pop rbx
    0xe8, 0x01, 0, 0, 0, // call +1
    0xf4, // hlt (return here)
    0xc3, // ret
  ];
  const map = (s: PagingSetup): void => { s.map(HIGH, 0x30000); };
  const ok = run(true, code, map);
  assert.equal(ok.reason, 'hlt');
  assert.equal(ok.reg(Gpr.RBX), 0x1234_5678_9abc_def0n);
  assert.equal(ok.reg(Gpr.RSP), HIGH + 0x800n);
  assert.equal(ok.rip, BigInt(CODE + 20 + 2 + 5 + 1));
  fault(run(false, code, (s) => s.map(HIGH & 0xffff_ffff_ffffn, 0x30000)), 12);
});

test('LA57 is reported by CPUID.(EAX=07H,ECX=0):ECX[bit 16]', () => {
  const out = new Int32Array(4);
  cpuidInto(DEFAULT_CPUID, 7, 0, out);
  assert.equal((out[2] >>> 16) & 1, 1);
});

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
