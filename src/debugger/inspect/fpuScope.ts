/**
 * The "FPU/SSE" scope: x87 ST0-ST7 as numbers with their tags (SDM vol. 1 §8.1.2, §8.1.7), FCW,
 * FSW and FTW decoded (§8.1.3, §8.1.5), MXCSR decoded (§10.2.3), XMM0-XMM15 in hex with lane
 * views. x87 and SSE state are not switched by VM entry or exit: they are the processor's.
 * The model has no AVX state (no YMM upper halves).
 */
import type { VarNode } from '../model';
import type { Ctx } from './context';
import { FCW_BITS, FSW_BITS, MXCSR_BITS } from './bitTables';
import { bitNodes, leaf } from './nodes';
import { hexWidth } from './format';

const TAGS = ['valid', 'zero', 'special', 'empty'];

/** An 80-bit extended-precision value as the nearest double (SDM vol. 1 §4.2.2). */
export function extendedToNumber(signExp: number, sigHi: number, sigLo: number): number {
  const sign = (signExp & 0x8000) !== 0 ? -1 : 1;
  const exp = signExp & 0x7fff;
  const sig = sigHi * 2 ** 32 + sigLo;
  if (exp === 0x7fff) return (sigHi & 0x7fffffff) === 0 && sigLo === 0 ? sign * Infinity : NaN;
  if (exp === 0 && sig === 0) return sign * 0;
  return sign * (sig / 2 ** 63) * 2 ** ((exp === 0 ? 1 : exp) - 16383);
}

function lanes(ctx: Ctx, n: number): VarNode[] {
  const s = ctx.g.m.cpu.sse;
  const u32 = [0, 1, 2, 3].map((i) => s.xmm[4 * n + i] >>> 0);
  const u64 = [0, 1].map((i) => (BigInt(u32[2 * i + 1]) << 32n) | BigInt(u32[2 * i]));
  const bytes = Array.from(s.bytes.subarray(16 * n, 16 * n + 16));
  return [
    leaf('float32[4]', [0, 1, 2, 3].map((i) => String(s.f32[4 * n + i])).join(', ')),
    leaf('float64[2]', [0, 1].map((i) => String(s.f64[2 * n + i])).join(', ')),
    leaf('uint64[2]', u64.map((v) => hexWidth(v, 64)).join(', ')),
    leaf('uint32[4]', u32.map((v) => hexWidth(BigInt(v), 32)).join(', ')),
    leaf('uint8[16]', bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')),
  ];
}

export function fpuSseNodes(ctx: Ctx): VarNode[] {
  const c = ctx.g.m.cpu;
  const f = c.fpu;
  const fsw = BigInt((f.fsw & ~0x3800) | ((f.top & 7) << 11));
  const out: VarNode[] = [];
  for (let i = 0; i < 8; i++) {
    const p = (f.top + i) & 7;
    const tag = TAGS[(f.ftw >>> (2 * p)) & 3];
    const value = tag === 'empty' ? 'empty' : String(extendedToNumber(f.signExp[p], f.sigHi[p], f.sigLo[p]));
    const raw = `0x${f.signExp[p].toString(16).padStart(4, '0')}${f.sigHi[p].toString(16).padStart(8, '0')}${f.sigLo[p].toString(16).padStart(8, '0')}`;
    out.push({ name: `ST${i}`, value, type: `R${p}, tag ${tag}`, children: () => [leaf('raw (80-bit)', raw), leaf('tag', tag), leaf('physical register', `R${p}`)] });
  }
  out.push(
    { name: 'FCW', value: hexWidth(BigInt(f.fcw), 16), children: () => bitNodes(FCW_BITS, BigInt(f.fcw)) },
    { name: 'FSW', value: hexWidth(fsw, 16), children: () => bitNodes(FSW_BITS, fsw) },
    { name: 'FTW', value: hexWidth(BigInt(f.ftw), 16), children: () => [0, 1, 2, 3, 4, 5, 6, 7].map((p) => leaf(`R${p}`, TAGS[(f.ftw >>> (2 * p)) & 3])) },
    leaf('FOP', hexWidth(BigInt(f.fop), 16)),
    { name: 'MXCSR', value: hexWidth(BigInt(c.sse.mxcsr >>> 0), 32), children: () => bitNodes(MXCSR_BITS, BigInt(c.sse.mxcsr >>> 0)) },
  );
  for (let n = 0; n < 16; n++) {
    let v = 0n;
    for (let i = 3; i >= 0; i--) v = (v << 32n) | BigInt(c.sse.xmm[4 * n + i] >>> 0);
    out.push({ name: `XMM${n}`, value: hexWidth(v, 128), type: '128-bit', children: () => lanes(ctx, n) });
  }
  return out;
}
