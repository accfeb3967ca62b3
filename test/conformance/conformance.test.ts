/**
 * Differential conformance against this machine's CPU (see README.md in this directory):
 * at least 50,000 generated cases over every form of the listed instructions, in 64-bit mode
 * and in compatibility mode, must agree with silicon exactly (registers, RFLAGS but the flags
 * the SDM leaves undefined, memory, exceptions). Never skipped: without `cc` or on a host
 * that is not x86-64 Linux it fails and says why.
 *
 * Environment: VTX_CONFORMANCE_SEED fixes the seed (default: random, printed);
 * VTX_CONFORMANCE_CASES raises the case count (never below 50,000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCounts, formatKnown, formatMismatchSummary, runConformance } from './harness';
import { HostRunner, X87_INIT } from './host';
import type { X87Image } from './host';
import { makePristine } from './generator';
import type { Case } from './generator';
import { hostOutcome } from './compare';
import { INSN_ADDR, STACK_BASE } from './layout';

const MIN_CASES = 50000;

test('differential conformance with the host CPU: 64-bit and compatibility mode', { timeout: 15 * 60 * 1000 }, async () => {
  const envSeed = process.env.VTX_CONFORMANCE_SEED;
  const seed = envSeed !== undefined && envSeed !== '' ? Number(envSeed) >>> 0 : (Math.random() * 0x100000000) >>> 0;
  const cases = Math.max(MIN_CASES, Number(process.env.VTX_CONFORMANCE_CASES ?? MIN_CASES) || MIN_CASES);
  console.log(`conformance: seed ${seed} (replay: VTX_CONFORMANCE_SEED=${seed}, or npm run conformance -- --seed ${seed}), ${cases} cases`);
  const s = await runConformance({
    cases, seed, modes: [64, 32], mnemonics: [], forms: [], strict: false, batch: 2000, maxDetails: 12,
  });
  console.log(`per-mnemonic cases (✗ = mismatches, ~ = known x87 differences):\n${formatCounts(s)}`);
  if (s.known.size > 0) console.log(formatKnown(s, false));
  console.log(`${s.total} cases, ${s.mismatches} mismatches, ${s.seconds.toFixed(1)} s (seed ${seed})`);

  assert.ok(s.total >= MIN_CASES, `only ${s.total} cases ran`);
  assert.deepEqual(s.uncovered, [], `listed mnemonics with no generated case: ${s.uncovered.join(' ')}` +
    (s.hostLacks.length ? ` (the host CPU lacks the feature for ${s.hostLacks.join(' ')})` : ''));
  if (s.mismatches > 0) {
    // One full report (replay command, bytes, disassembly, inputs, differences) per kind of
    // mismatch, then one line per mnemonic.
    assert.fail(`${s.mismatches} of ${s.total} cases differ from the host CPU (seed ${seed}).\n\n` +
      `${formatMismatchSummary(s, true)}\n`);
  }
});

test('host helper: known answers (so a broken host side cannot make the comparison vacuous)', async () => {
  const pristine = makePristine(1);
  const host = await HostRunner.start(pristine);
  try {
    const sp = STACK_BASE + 0x1000;
    const mk = (mode: 64 | 32, bytes: number[], regs: Record<number, bigint>, rflags = 0x202): Case => {
      const r = new Uint32Array(32);
      for (const [i, v] of Object.entries({ 4: BigInt(sp), ...regs })) {
        r[2 * Number(i)] = Number(v & 0xffffffffn);
        r[2 * Number(i) + 1] = Number(v >> 32n);
      }
      return { mode, bytes: Uint8Array.from(bytes), insnAddr: INSN_ADDR, regs: r, rflags, patches: [] } as unknown as Case;
    };
    const cases = [
      mk(64, [0x48, 0x01, 0xd8], { 0: 0x7fffffffffffffffn, 3: 1n }), // add rax, rbx
      mk(64, [0xf7, 0xf1], { 1: 0n }), // div ecx (by zero)
      mk(32, [0x40], { 0: 0xffffffffn }, 0x203), // inc eax (compat), CF kept
      mk(64, [0x68, 0x34, 0x12, 0x00, 0x00], {}), // push 0x1234
      mk(32, [0x0f, 0x0b], {}), // ud2
    ];
    const [add, div, inc, push, ud2] = (await host.run(cases)).map((r, i) => hostOutcome(cases[i], r));
    assert.equal(add.kind, 'completed');
    assert.equal(add.rip, BigInt(INSN_ADDR + 3));
    assert.equal(add.regs[0], 0);
    assert.equal(add.regs[1], 0x80000000);
    assert.equal(add.rflags & 0x8c1, 0x880, 'add: OF and SF set, CF and ZF clear');
    assert.equal(div.kind, 'exception');
    assert.equal(div.vector, 0);
    assert.equal(div.rip, BigInt(INSN_ADDR));
    assert.equal(inc.kind, 'completed');
    assert.equal(inc.regs[0], 0);
    assert.equal(inc.rflags & 0x41, 0x41, 'inc: ZF set, CF kept');
    assert.equal(push.kind, 'completed');
    assert.equal(push.regs[8], sp - 8);
    const want = [0x34, 0x12, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 8; i++) {
      const a = sp - 8 + i;
      const got = push.diff.find(([x]) => x === a)?.[1] ?? pristine.stack[a - STACK_BASE];
      assert.equal(got, want[i], `push: byte ${i}`);
    }
    assert.equal(ud2.kind, 'exception');
    assert.equal(ud2.vector, 6);

    // XMM registers and MXCSR reach the instruction and come back (both modes).
    const sse = (mode: 64 | 32, bytes: number[], x0: number[], x1: number[], mxcsr = 0x1f80): Case => {
      const c = mk(mode, bytes, {});
      const xmm = new Uint32Array(64);
      x0.forEach((v, i) => { xmm[i] = v; });
      x1.forEach((v, i) => { xmm[4 + i] = v; });
      xmm[4 * 15] = 0x12345678;
      return { ...c, xmm, mxcsr } as Case;
    };
    const sseCases = [
      sse(64, [0x66, 0x0f, 0xfe, 0xc1], [1, 2, 3, 4], [10, 20, 30, 40]), // paddd xmm0, xmm1
      sse(32, [0x66, 0x0f, 0xfe, 0xc1], [1, 2, 3, 4], [10, 20, 30, 40]),
      sse(64, [0xf3, 0x0f, 0x5e, 0xc1], [0x3f800000], [0]), // divss xmm0, xmm1: 1/0
      sse(64, [0xf3, 0x0f, 0x5e, 0xc1], [0x3f800000], [0], 0x1f80 & ~(1 << 9)), // ZE unmasked: #XM
    ];
    const [p64, p32, div0, xm] = (await host.run(sseCases)).map((r) => r);
    for (const r of [p64, p32]) {
      assert.deepEqual([...r.xmm.slice(0, 4)], [11, 22, 33, 44]);
      assert.equal(r.xmm[60], 0x12345678, 'XMM15 kept');
      assert.equal(r.mxcsr, 0x1f80);
    }
    assert.equal(div0.xmm[0], 0x7f800000);
    assert.equal(div0.mxcsr, 0x1f84);
    assert.equal(xm.trapno, 19);
    assert.equal(xm.xmm[0], 0x3f800000, '#XM leaves the destination');
    assert.equal(xm.mxcsr & 0x3f, 4);

    // The x87 state reaches the instruction (FXRSTOR64) and comes back (the signal frame).
    const one = [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]; // 1.0 as 80 bits
    const two = [0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x40]; // 2.0
    const x87 = (mode: 64 | 32, bytes: number[], img: Partial<X87Image>): Case => {
      const st = new Uint8Array(80);
      st.set(one, 0);
      st.set(two, 10);
      return { ...mk(mode, bytes, {}), x87: { ...X87_INIT, fsw: 6 << 11, ftw: 0xc0, st, ...img } } as Case;
    };
    const x87Cases = [
      mk(64, [0xd9, 0xe8], {}), // fld1 from the FNINIT state
      x87(32, [0xd8, 0xc1], {}), // fadd st0, st1 (compat): 1 + 2
      x87(64, [0xd8, 0xc1], { fcw: 0x37e, fsw: (6 << 11) | 0x8081 }), // pending unmasked IE: #MF
    ];
    const [ld1, fadd, mf] = await host.run(x87Cases);
    assert.equal(ld1.x87.fsw, 7 << 11, 'fld1: TOP 7');
    assert.equal(ld1.x87.ftw, 0x80, 'fld1: R7 valid');
    assert.deepEqual([...ld1.x87.st.slice(0, 10)], one);
    assert.equal(ld1.x87.fcw, 0x37f);
    assert.equal(ld1.x87.fip, BigInt(INSN_ADDR), 'FIP: the x87 instruction');
    assert.deepEqual([...fadd.x87.st.slice(0, 10)], [0, 0, 0, 0, 0, 0, 0, 0xc0, 0x00, 0x40], 'fadd: 3.0');
    assert.equal(fadd.x87.fsw, 6 << 11);
    assert.equal(mf.trapno, 16, 'pending unmasked exception: #MF');
    assert.deepEqual([...mf.x87.st.slice(0, 10)], one, '#MF before the instruction');
    assert.equal(mf.x87.fsw, (6 << 11) | 0x8081);
  } finally {
    await host.close();
  }
});
