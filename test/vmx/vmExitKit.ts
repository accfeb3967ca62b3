/**
 * Shared bits of the transition tests (vmEntry*, vmExit*, injection*, msrAreas* test files):
 * the harness, and raw guest instruction bytes (64-bit forms unless named otherwise; encodings
 * from SDM vol. 2).
 */
export { vmx, LAYOUT, HLT } from './harness';
export type { Harness, HarnessOptions } from './harness';

export const I = {
  cpuid: [0x0f, 0xa2],
  hlt: [0xf4],
  nop: [0x90],
  stc: [0xf9],
  sti: [0xfb],
  cli: [0xfa],
  pushRax: [0x50],
  wrmsr: [0x0f, 0x30],
  rdmsr: [0x0f, 0x32],
  xorEaxEax: [0x31, 0xc0],
  /** mov eax, imm32 */
  movEax: (v: number) => [0xb8, ...le32(v)],
  /** mov ecx, imm32 */
  movEcx: (v: number) => [0xb9, ...le32(v)],
  /** mov edx, imm32 */
  movEdx: (v: number) => [0xba, ...le32(v)],
  /** mov dr7, rax */
  movDr7Rax: [0x0f, 0x23, 0xf8],
  /** mov dr0, rax */
  movDr0Rax: [0x0f, 0x23, 0xc0],
  /** mov rax, cr4 / mov cr4, rax */
  movRaxCr4: [0x0f, 0x20, 0xe0],
  movCr4Rax: [0x0f, 0x22, 0xe0],
  /** or eax, imm32 */
  orEax: (v: number) => [0x0d, ...le32(v)],
  /** lidt [rax] / lgdt [rax] */
  lidtRax: [0x0f, 0x01, 0x18],
  lgdtRax: [0x0f, 0x01, 0x10],
  /** mov rsp, imm32 (sign-extended): 48 c7 c4 imm32 */
  movRsp: (v: number) => [0x48, 0xc7, 0xc4, ...le32(v)],
  /** pushfq; or qword [rsp], imm8 ; popfq  — set RFLAGS bits (imm8 sign-extended) */
  pushf: [0x9c],
  popf: [0x9d],
};

export function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Concatenate instruction byte lists. */
export function code(...parts: number[][]): number[] {
  return parts.flat();
}

/** WRMSR of (hi:lo) to `msr` as guest code. */
export function wrmsr(msr: number, lo: number, hi = 0): number[] {
  return code(I.movEcx(msr), I.movEax(lo), I.movEdx(hi), I.wrmsr);
}

/** Write a 16-byte MSR-area entry (§24.7.2) in guest-physical = host-physical memory. */
export function msrEntry(h: { load(at: number, b: number[]): void }, area: number, i: number, index: number, lo = 0, hi = 0, reserved = 0): void {
  h.load(area + i * 16, [...le32(index), ...le32(reserved), ...le32(lo), ...le32(hi)]);
}
