/**
 * Deterministic random numbers: every case has its own generator derived from (seed, mode,
 * index), so a case can be replayed on its own.
 */

/** splitmix32-style mixing of a 32-bit value. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** sfc32: small, fast, good enough for test generation. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...seeds: number[]) {
    let h = 0x2545f491;
    for (const s of seeds) h = mix32(h ^ mix32(s >>> 0));
    this.a = mix32(h ^ 1);
    this.b = mix32(h ^ 2);
    this.c = mix32(h ^ 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** Uniform value of `bits` bits (1..64) as a non-negative bigint. */
  bits(bits: number): bigint {
    return BigInt.asUintN(bits, this.u64());
  }

  /**
   * A value of `bits` bits biased towards the edges that break arithmetic: 0, 1, -1, the sign
   * boundaries, small numbers, single bits and their neighbours; otherwise uniform.
   */
  edge(bits: number): bigint {
    const r = this.float();
    const n = BigInt(bits);
    const mask = (1n << n) - 1n;
    if (r < 0.3) {
      const sign = 1n << (n - 1n);
      const e = [0n, 1n, 2n, mask, mask - 1n, sign - 1n, sign, sign + 1n, sign - 2n, 0x7fn, 0x80n, 0xffn];
      return e[this.int(e.length)] & mask;
    }
    if (r < 0.45) {
      const v = BigInt(this.int(33));
      return this.chance(0.5) ? v : (-v) & mask;
    }
    if (r < 0.55) {
      const b = 1n << BigInt(this.int(bits));
      const k = this.int(3);
      return (k === 0 ? b : k === 1 ? b - 1n : b + 1n) & mask;
    }
    return this.bits(bits);
  }

  /** A 64-bit register value: an edge value in a random sub-width with random bits above it. */
  reg64(): bigint {
    const w = this.pick([8, 16, 32, 64]);
    const low = this.edge(w);
    if (w === 64) return low;
    const upper = this.chance(0.3) ? (this.chance(0.5) ? 0n : -1n) : this.u64();
    return BigInt.asUintN(64, (upper << BigInt(w)) | low);
  }
}

/** xorshift32 (Marsaglia): a reproducible stream of 32-bit values for corruption and case tests. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}
