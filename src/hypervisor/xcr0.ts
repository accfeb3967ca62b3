/**
 * XSETBV's validity rules for XCR0 (SDM vol. 1 §13.3, vol. 2C XSETBV; reference §3 XSETBV):
 * bit 0 (x87) must be 1; AVX (bit 2) needs SSE (bit 1); BNDREG and BNDCSR (bits 3, 4) are set
 * together; opmask, ZMM_Hi256, Hi16_ZMM (bits 5-7) all or none, and only with AVX; no bit the
 * processor does not support (CPUID.(EAX=0DH,ECX=0):EDX:EAX). Returns why it is invalid, or null.
 */
export function xcr0Problem(lo: number, hi: number, supportedLo: number, supportedHi: number): string | null {
  if ((lo & ~supportedLo) !== 0 || (hi & ~supportedHi) !== 0) return 'sets a state component the processor does not support';
  if ((lo & 1) === 0) return 'x87 state (bit 0) must be enabled';
  if ((lo & 4) !== 0 && (lo & 2) === 0) return 'AVX (bit 2) requires SSE (bit 1)';
  const mpx = (lo >>> 3) & 3;
  if (mpx === 1 || mpx === 2) return 'BNDREG and BNDCSR (bits 3 and 4) must be set together';
  const avx512 = (lo >>> 5) & 7;
  if (avx512 !== 0 && avx512 !== 7) return 'opmask, ZMM_Hi256 and Hi16_ZMM (bits 5-7) must be set together';
  if (avx512 === 7 && (lo & 4) === 0) return 'AVX-512 state (bits 5-7) requires AVX (bit 2)';
  return null;
}
