/**
 * MMX technology (src/x86/sse/mmx.ts): availability (#UD for CR0.EM, #NM for CR0.TS, #MF for a
 * pending x87 exception; CR4.OSFXSR only for the forms that also use XMM registers), the aliasing
 * of MM0-7 onto the x87 significands (SDM vol. 1 §9.5, vol. 3A §12.2: TOP, tags, bits 79:64), EMMS, the order of
 * the x87 effects against faults, and a few results. Every MMX form is also compared with silicon
 * by test/conformance/ (x87 state included).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, CodeExt, DecoderOptions, EncodingKind, Encoder, Instruction, Mnemonic, OpCodeOperandKind as K, OpKind, Register } from 'iced-x86';
import { Cpu, type RunResult } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, type StartMode } from '../../src/x86/modes';
import { decodeOne } from '../../src/x86/decoded';
import { HANDLERS } from '../../src/x86/insn';
import { DEFAULT_CPUID, FEATURE_INSTRUCTIONS, hasFeature } from '../../src/x86/cpuid';

const CODE = 0x1000, DATA = 0x4000;
const UD = 6, NM = 7, GP = 13, MF = 16;
const EM = 1 << 2, TS = 1 << 3, NE = 1 << 5;

interface Setup {
  mode?: StartMode;
  cr4?: number;
  cr0Set?: number;
  cr0Clear?: number;
  regs?: Record<number, number | bigint>;
  data?: number[];
  /** x87 state before the code runs. */
  fpu?: { top?: number; ftw?: number; fcw?: number; fsw?: number };
}

function run(code: number[], s: Setup = {}): { cpu: Cpu; result: RunResult; mem: PhysicalMemory } {
  const mem = new PhysicalMemory(0x100000);
  mem.load(CODE, Uint8Array.from([...code, 0xf4]));
  if (s.data) mem.load(DATA, Uint8Array.from(s.data));
  const cpu = new Cpu(mem);
  enterMode(cpu, s.mode ?? 'long');
  cpu.setRip(CODE);
  cpu.setReg64(4, 0x8000);
  cpu.cr4 |= s.cr4 ?? (1 << 9) | (1 << 10);
  cpu.cr0 = ((cpu.cr0 | (s.cr0Set ?? 0)) & ~(s.cr0Clear ?? 0)) >>> 0;
  for (const [r, v] of Object.entries(s.regs ?? {})) cpu.setReg64(Number(r), BigInt(v));
  const f = cpu.fpu;
  if (s.fpu?.top !== undefined) f.top = s.fpu.top;
  if (s.fpu?.ftw !== undefined) f.ftw = s.fpu.ftw;
  if (s.fpu?.fcw !== undefined) f.fcw = s.fpu.fcw;
  if (s.fpu?.fsw !== undefined) f.fsw = s.fpu.fsw;
  const result = cpu.run(1000);
  return { cpu, result, mem };
}

const mm = (c: Cpu, n: number): bigint => (BigInt(c.fpu.sigHi[n]) << 32n) | BigInt(c.fpu.sigLo[n]);
const reg = (c: Cpu, n: number): bigint => (BigInt(c.hi[n] >>> 0) << 32n) | BigInt(c.lo[n] >>> 0);
const rd = (m: PhysicalMemory, n: number, a: number): number => { let v = 0; for (let i = n - 1; i >= 0; i--) v = v * 256 + m.read8(a + i); return v; };
const bytesLE = (v: bigint, n = 8): number[] => Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));

const MOVQ_MM0_RAX = [0x48, 0x0f, 0x6e, 0xc0];
const MOVQ_MM1_RCX = [0x48, 0x0f, 0x6e, 0xc9];
const MOVQ_RAX_MM0 = [0x48, 0x0f, 0x7e, 0xc0];
const PADDB_MM0_MM1 = [0x0f, 0xfc, 0xc1];
const EMMS = [0x0f, 0x77];

test('MMX is #UD with CR0.EM=1 (also with TS), #NM with CR0.TS=1; CR4.OSFXSR does not matter for MMX-register forms', () => {
  assert.equal(run(PADDB_MM0_MM1, { cr0Set: EM }).result.exception?.vector, UD);
  assert.equal(run(PADDB_MM0_MM1, { cr0Set: EM | TS }).result.exception?.vector, UD);
  assert.equal(run(PADDB_MM0_MM1, { cr0Set: TS }).result.exception?.vector, NM);
  assert.equal(run(EMMS, { cr0Set: TS }).result.exception?.vector, NM);
  assert.equal(run(EMMS, { cr0Set: EM }).result.exception?.vector, UD);
  // CR4.OSFXSR=0: the MMX form runs, the XMM form of the same opcode is #UD.
  assert.equal(run(PADDB_MM0_MM1, { cr4: 0 }).result.reason, 'hlt');
  assert.equal(run([0x66, ...PADDB_MM0_MM1], { cr4: 0 }).result.exception?.vector, UD);
  // The forms with an XMM operand follow the SSE rules too: MOVQ2DQ xmm0, mm1 / MOVDQ2Q mm0, xmm1 / CVTPI2PS.
  for (const code of [[0xf3, 0x0f, 0xd6, 0xc1], [0xf2, 0x0f, 0xd6, 0xc1], [0x0f, 0x2a, 0xc1]]) {
    const off = run(code, { cr4: 0 });
    assert.equal(off.result.exception?.vector, UD, code.join(' '));
    assert.match(off.result.exception?.detail ?? '', /OSFXSR/);
    assert.equal(run(code, { cr0Set: TS }).result.exception?.vector, NM);
    assert.equal(run(code).result.reason, 'hlt');
  }
});

test('a pending unmasked x87 exception raises #MF before an MMX instruction (CR0.NE=1), and changes nothing', () => {
  const pending = { fcw: 0x037b, fsw: 0x8084, top: 5, ftw: 0xfff0 }; // ZE unmasked and set: ES, B
  for (const code of [PADDB_MM0_MM1, EMMS, MOVQ_RAX_MM0, [0xf3, 0x0f, 0xd6, 0xc1], [0x0f, 0x2a, 0xc1], [0x0f, 0x2d, 0xc1]]) {
    const r = run(code, { fpu: pending });
    assert.equal(r.result.exception?.vector, MF, code.join(' '));
    assert.equal(r.cpu.fpu.top, 5);
    assert.equal(r.cpu.fpu.ftw, 0xfff0);
  }
  // CR0.NE=0: the external FERR# path is not modelled; the instruction runs (as the x87 ones do).
  assert.equal(run(PADDB_MM0_MM1, { fpu: pending, cr0Clear: NE }).result.reason, 'hlt');
  // CVTPI2PS xmm, m64 is not an MMX instruction: no #MF, no x87 transition (SDM vol. 2 CVTPI2PS).
  const m = run([0x0f, 0x2a, 0x03], { fpu: pending, regs: { 3: DATA }, data: [1, 0, 0, 0, 2, 0, 0, 0] });
  assert.equal(m.result.reason, 'hlt');
  assert.equal(m.cpu.fpu.top, 5);
  assert.equal(m.cpu.fpu.ftw, 0xfff0);
  assert.deepEqual([m.cpu.sse.f32[0], m.cpu.sse.f32[1]], [1, 2]);
});

test('MMn aliases the significand of physical register Rn: TOP=0, all tags non-empty, bits 79:64 all ones', () => {
  // fld1 (R7 = 1.0, TOP 7); movq mm0, rax; movq rcx, mm7; fxsave [rbx]; fnsave [rbx+0x200]
  const code = [0xd9, 0xe8, ...MOVQ_MM0_RAX, 0x48, 0x0f, 0x7e, 0xf9, 0x0f, 0xae, 0x03, 0xdd, 0xb3, 0x00, 0x02, 0x00, 0x00];
  const r = run(code, { regs: { 0: 0x1122334455667788n, 3: DATA } });
  assert.equal(r.result.reason, 'hlt');
  const f = r.cpu.fpu;
  assert.equal(reg(r.cpu, 1), 0x8000000000000000n, 'MM7 = significand of 1.0 in R7');
  // FXSAVE: FSW TOP = 0, abridged tag all non-empty, ST0 = R0 = ffff:1122334455667788.
  assert.equal(rd(r.mem, 2, DATA + 2) & 0x3800, 0);
  assert.equal(r.mem.read8(DATA + 4), 0xff);
  assert.deepEqual([...Array(10).keys()].map((i) => r.mem.read8(DATA + 32 + i)), [...bytesLE(0x1122334455667788n), 0xff, 0xff]);
  assert.deepEqual([...Array(10).keys()].map((i) => r.mem.read8(DATA + 32 + 7 * 16 + i)), [...bytesLE(0x8000000000000000n), 0xff, 0x3f]);
  // FNSAVE (32-bit layout, 108 bytes): full tag word from the contents: R0 special (10), R7
  // valid (00), R1-R6 (never written: zero) zero (01); ST0 at byte 28. FNSAVE then reinitialises.
  assert.equal(rd(r.mem, 2, DATA + 0x200 + 8), 0b00_01_01_01_01_01_01_10);
  assert.deepEqual([...Array(10).keys()].map((i) => r.mem.read8(DATA + 0x200 + 28 + i)), [...bytesLE(0x1122334455667788n), 0xff, 0xff]);
  assert.equal(f.ftw, 0xffff);
});

test('x87 after MMX without EMMS overflows the stack; EMMS empties every register (and sets TOP to 0)', () => {
  // movq mm0, rax; fld1; fnstsw ax
  const noEmms = run([...MOVQ_MM0_RAX, 0xd9, 0xe8, 0xdf, 0xe0], { regs: { 0: 5 } });
  const sw = Number(reg(noEmms.cpu, 0) & 0xffffn);
  assert.equal(sw & 0x41, 0x41, 'IE and SF: stack overflow');
  assert.equal(sw & 0x200, 0x200, 'C1 = 1 (overflow)');
  assert.equal((sw >> 11) & 7, 7);
  // The masked response: ST0 = R7 = the real indefinite.
  assert.equal(noEmms.cpu.fpu.signExp[7], 0xffff);
  assert.equal(mm(noEmms.cpu, 7), 0xc000000000000000n);
  // movq mm0, rax; emms; fld1: a clean push.
  const emms = run([...MOVQ_MM0_RAX, ...EMMS, 0xd9, 0xe8, 0xdf, 0xe0], { regs: { 0: 5 } });
  assert.equal(Number(reg(emms.cpu, 0) & 0x7fn), 0);
  assert.equal(emms.cpu.fpu.top, 7);
  assert.equal(emms.cpu.fpu.ftw, 0x3fff);
  assert.equal(mm(emms.cpu, 0), 5n, 'EMMS leaves the contents');
  const e = run(EMMS, { fpu: { top: 3, ftw: 0x0000 } });
  assert.equal(e.cpu.fpu.top, 0);
  assert.equal(e.cpu.fpu.ftw, 0xffff);
});

test('x87 effects against faults (host-measured): a faulting load changes nothing, a faulting store sets only TOP', () => {
  const nc = 0x8000_0000_0000n; // non-canonical: #GP(0)
  const fpu = { top: 3, ftw: 0xff00 };
  const load = run([0x0f, 0xfc, 0x00], { regs: { 0: nc }, fpu }); // paddb mm0, [rax]
  assert.equal(load.result.exception?.vector, GP);
  assert.deepEqual([load.cpu.fpu.top, load.cpu.fpu.ftw], [3, 0xff00]);
  const store = run([0x0f, 0x7f, 0x08], { regs: { 0: nc }, fpu }); // movq [rax], mm1
  assert.equal(store.result.exception?.vector, GP);
  assert.deepEqual([store.cpu.fpu.top, store.cpu.fpu.ftw], [0, 0xff00]);
  // MASKMOVQ makes the whole transition first; its 8 bytes are checked even with an all-zero mask.
  const mask = run([0x0f, 0xf7, 0xc1], { regs: { 7: nc }, fpu }); // maskmovq mm0, mm1 (mm1 = 0)
  assert.equal(mask.result.exception?.vector, GP);
  assert.equal(mask.cpu.fpu.top, 0);
  assert.equal(mask.cpu.fpu.ftw & (mask.cpu.fpu.ftw >> 1) & 0x5555, 0, 'no register empty');
});

test('MMX results: PADDB, PACKSSWB, PUNPCKHBW, PSHUFB (index mask 7), PALIGNR, PHADDW, PSHUFW, PEXTRW/PINSRW, PMOVMSKB', () => {
  const A = 0x8070_6050_4030_2010n, B = 0x0102_0304_fffe_7f80n;
  const op = (bytes: number[]): bigint => {
    const r = run([...MOVQ_MM0_RAX, ...MOVQ_MM1_RCX, ...bytes], { regs: { 0: A, 1: B } });
    assert.equal(r.result.reason, 'hlt', bytes.join(' '));
    return mm(r.cpu, 0);
  };
  assert.equal(op([0x0f, 0xfc, 0xc1]), 0x8172_6354_3f2e_9f90n); // paddb (wrapping)
  // packsswb: A words 2010 4030 6050 8070 → 7f 7f 7f 80; B words 7f80 fffe 0304 0102 → 7f fe 7f 7f
  assert.equal(op([0x0f, 0x63, 0xc1]), 0x7f7f_fe7f_807f_7f7fn);
  // punpckhbw: the high four bytes of each, interleaved (A 50 60 70 80, B 04 03 02 01)
  assert.equal(op([0x0f, 0x68, 0xc1]), 0x0180_0270_0360_0450n);
  // pshufb: B bytes 80 7f fe ff 04 03 02 01 → 0, A[7], 0, 0, A[4], A[3], A[2], A[1]
  assert.equal(op([0x0f, 0x38, 0x00, 0xc1]), 0x2030_4050_0000_8000n);
  // palignr mm0, mm1, 3: (A:B) >> 24 bits
  assert.equal(op([0x0f, 0x3a, 0x0f, 0xc1, 3]), 0x3020_1001_0203_04ffn);
  // phaddw: A 2010+4030, 6050+8070; B 7f80+fffe, 0304+0102
  assert.equal(op([0x0f, 0x38, 0x01, 0xc1]), 0x0406_7f7e_e0c0_6040n);
  // pshufw mm0, mm1, 0x1b: B's words reversed
  assert.equal(op([0x0f, 0x70, 0xc1, 0x1b]), 0x7f80_fffe_0304_0102n);
  // pinsrw mm0, ecx, 6 (index 6 & 3 = 2) then pextrw eax, mm0, 2
  const r = run([...MOVQ_MM0_RAX, 0x0f, 0xc4, 0xc1, 6, 0x0f, 0xc5, 0xd0, 2, 0x0f, 0xd7, 0xd8], { regs: { 0: A, 1: 0xabcd } });
  assert.equal(mm(r.cpu, 0), 0x8070_abcd_4030_2010n);
  assert.equal(reg(r.cpu, 2), 0xabcdn);
  assert.equal(reg(r.cpu, 3), 0b1011_0000n); // pmovmskb ebx, mm0: bytes 4 (cd), 5 (ab) and 7 (80)
});

test('MOVD/MOVQ forms, MOVNTQ, MASKMOVQ, MOVQ2DQ/MOVDQ2Q and the conversions', () => {
  // movd mm2, [rbx]; movq [rbx+8], mm2; movntq [rbx+16], mm2; movd esi, mm2
  const r = run([0x0f, 0x6e, 0x13, 0x0f, 0x7f, 0x53, 0x08, 0x0f, 0xe7, 0x53, 0x10, 0x0f, 0x7e, 0xd6],
    { regs: { 3: DATA, 6: -1n & 0xffff_ffff_ffff_ffffn }, data: [0x78, 0x56, 0x34, 0x12, 0xaa, 0xbb] });
  assert.equal(mm(r.cpu, 2), 0x12345678n);
  assert.equal(rd(r.mem, 4, DATA + 8), 0x12345678);
  assert.equal(rd(r.mem, 4, DATA + 12), 0);
  assert.equal(rd(r.mem, 4, DATA + 16), 0x12345678);
  assert.equal(reg(r.cpu, 6), 0x12345678n, 'a 32-bit register destination is zero-extended');
  // maskmovq mm0, mm1 to [rdi]: bytes 1 and 6 selected.
  const m = run([...MOVQ_MM0_RAX, ...MOVQ_MM1_RCX, 0x0f, 0xf7, 0xc1],
    { regs: { 0: 0x8877_6655_4433_2211n, 1: 0x0080_0000_0000_8000n, 7: DATA }, data: Array(8).fill(0xee) });
  assert.deepEqual([...Array(8).keys()].map((i) => m.mem.read8(DATA + i)), [0xee, 0x22, 0xee, 0xee, 0xee, 0xee, 0x77, 0xee]);
  // movq2dq xmm3, mm0: zero-extended; movdq2q mm5, xmm3
  const q = run([...MOVQ_MM0_RAX, 0xf3, 0x0f, 0xd6, 0xd8, 0xf2, 0x0f, 0xd6, 0xeb], { regs: { 0: 0x1_0000_0002n } });
  assert.deepEqual([...q.cpu.sse.xmm.slice(12, 16)], [2, 1, 0, 0]);
  assert.equal(mm(q.cpu, 5), 0x1_0000_0002n);
  // cvtpi2ps xmm0, mm0 keeps xmm0's upper half; cvttps2pi mm1, xmm0
  const c = run([...MOVQ_MM0_RAX, 0x0f, 0x2a, 0xc0, 0x0f, 0x2c, 0xc8], { regs: { 0: 0xffff_fffd_0000_0007n } });
  assert.deepEqual([c.cpu.sse.f32[0], c.cpu.sse.f32[1]], [7, -3]);
  assert.equal(mm(c.cpu, 1), 0xffff_fffd_0000_0007n);
});

test('every MMX-register form iced knows (legacy encoding) has a translator, and CPUID reports MMX', () => {
  const missing: string[] = [];
  const seen = new Set<string>();
  const enc = new Encoder(64);
  for (let code = 0; Code[code] !== undefined; code++) {
    const o = CodeExt.opCode(code);
    try {
      if (o.encoding !== EncodingKind.Legacy || o.decoderOption !== DecoderOptions.None || !o.isInstruction || !o.mode64) continue;
      let mmx = o.mnemonic === Mnemonic.Emms;
      for (let i = 0; i < o.opCount; i++) if ([K.mm_reg, K.mm_rm, K.mm_or_mem].includes(o.opKind(i))) mmx = true;
      if (!mmx) continue;
      const ins = Instruction.create(code);
      for (let i = 0; i < o.opCount; i++) {
        const k = o.opKind(i);
        if (k === K.mm_reg || k === K.mm_rm || k === K.mm_or_mem) { ins.setOpKind(i, OpKind.Register); ins.setOpRegister(i, Register.MM1); }
        else if (k === K.xmm_reg || k === K.xmm_rm || k === K.xmm_or_mem) { ins.setOpKind(i, OpKind.Register); ins.setOpRegister(i, Register.XMM2); }
        else if (k === K.r32_or_mem || k === K.r32_reg) { ins.setOpKind(i, OpKind.Register); ins.setOpRegister(i, Register.EDX); }
        else if (k === K.r64_or_mem || k === K.r64_reg) { ins.setOpKind(i, OpKind.Register); ins.setOpRegister(i, Register.RDX); }
        else if (k === K.imm8) { ins.setOpKind(i, OpKind.Immediate8); ins.setImmediateU32(i, 1); }
        else if (k === K.seg_rDI) ins.setOpKind(i, OpKind.MemorySegRDI);
        else if (k === K.mem) { ins.setOpKind(i, OpKind.Memory); ins.memoryBase = Register.RAX; }
        else throw new Error(`operand ${K[k]} of ${Code[code]}`);
      }
      enc.encode(ins, 0n);
      const d = decodeOne(enc.takeBuffer(), 64);
      ins.free();
      seen.add(Mnemonic[d.mnemonic]);
      const t = HANDLERS[d.mnemonic];
      if (t === undefined || t(d) === null) missing.push(Code[code]);
    } finally {
      o.free();
    }
  }
  enc.free();
  assert.deepEqual(missing, []);
  assert.ok(hasFeature(DEFAULT_CPUID, 'MMX'));
  // The mnemonics of every form above are listed under MMX, SSE, SSE2 or SSSE3 (the features they need).
  const listed = new Set(['MMX', 'SSE', 'SSE2', 'SSSE3'].flatMap((f) => FEATURE_INSTRUCTIONS[f]));
  assert.deepEqual([...seen].filter((m) => !listed.has(m)), []);
});

test('#UD messages say what is not implemented: the mnemonic, the encoding and the CPUID feature it needs', () => {
  const vex = run([0xc5, 0xf9, 0xfc, 0xc1]); // vpaddb xmm0, xmm0, xmm1
  assert.equal(vex.result.exception?.vector, UD);
  assert.equal(vex.result.exception?.detail, 'VPADDB (VEX-encoded): instruction not implemented by the processor model (needs AVX, not reported by CPUID)');
  const aes = run([0x66, 0x0f, 0x38, 0xdc, 0xc1]); // aesenc xmm0, xmm1
  assert.equal(aes.result.exception?.detail, 'AESENC: instruction not implemented by the processor model (needs AES, not reported by CPUID)');
});

test('MMX in real mode and 32-bit protected mode: 16/32-bit addressing, same aliasing', () => {
  // movq mm3, [bx]; paddw mm3, [bx+8]; movd eax, mm3 (real mode, 16-bit addressing)
  const data = [...bytesLE(0x0004_0003_0002_0001n), ...bytesLE(0x7fff_0010_0020_0030n)];
  const r = run([0x0f, 0x6f, 0x1f, 0x0f, 0xfd, 0x5f, 0x08, 0x0f, 0x7e, 0xd8], { mode: 'real', regs: { 3: DATA }, data, cr4: 0 });
  assert.equal(r.result.reason, 'hlt');
  assert.equal(mm(r.cpu, 3), 0x8003_0013_0022_0031n);
  assert.equal(r.cpu.lo[0] >>> 0, 0x0022_0031);
  assert.equal(r.cpu.fpu.signExp[3], 0xffff);
  // 32-bit protected mode: movq mm1, [ebx]; movq [ebx+16], mm1
  const p = run([0x0f, 0x6f, 0x0b, 0x0f, 0x7f, 0x4b, 0x10], { mode: 'protected', regs: { 3: DATA }, data, fpu: { top: 6 } });
  assert.equal(p.result.reason, 'hlt');
  assert.deepEqual([...Array(8).keys()].map((i) => p.mem.read8(DATA + 16 + i)), data.slice(0, 8));
  assert.equal(p.cpu.fpu.top, 0);
});
