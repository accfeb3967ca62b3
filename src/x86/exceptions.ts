/**
 * Processor exceptions (SDM vol. 3A §6.3, table 6-1). An instruction that faults throws a
 * `CpuException`; the block executor catches it, restores RIP to the faulting instruction's
 * start and reports it. Delivery through the IDT arrives with the system-architecture layer.
 */
export const enum Vector {
  DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
  TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19, VE = 20, CP = 21,
}

export const VECTOR_NAMES: Readonly<Record<number, string>> = {
  0: '#DE divide error', 1: '#DB debug', 2: 'NMI', 3: '#BP breakpoint', 4: '#OF overflow',
  5: '#BR bound range exceeded', 6: '#UD invalid opcode', 7: '#NM device not available',
  8: '#DF double fault', 10: '#TS invalid TSS', 11: '#NP segment not present',
  12: '#SS stack-segment fault', 13: '#GP general protection', 14: '#PF page fault',
  16: '#MF x87 floating-point error', 17: '#AC alignment check', 18: '#MC machine check',
  19: '#XM SIMD floating-point', 20: '#VE virtualization exception', 21: '#CP control protection',
};

/** Exceptions that push an error code (SDM vol. 3A §6.13). */
export function hasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17 || vector === 21;
}

export class CpuException {
  constructor(
    readonly vector: number,
    readonly errorCode: number | undefined = undefined,
    /** Human-readable reason, for reports only. */
    readonly detail: string = '',
  ) {}

  get name(): string {
    return VECTOR_NAMES[this.vector] ?? `vector ${this.vector}`;
  }

  toString(): string {
    const ec = this.errorCode === undefined ? '' : ` (error code 0x${(this.errorCode >>> 0).toString(16)})`;
    return `${this.name}${ec}${this.detail ? `: ${this.detail}` : ''}`;
  }
}

export function ud(detail = ''): CpuException {
  return new CpuException(Vector.UD, undefined, detail);
}
export function gp0(detail = ''): CpuException {
  return new CpuException(Vector.GP, 0, detail);
}
export function ss0(detail = ''): CpuException {
  return new CpuException(Vector.SS, 0, detail);
}
export function de(detail = ''): CpuException {
  return new CpuException(Vector.DE, undefined, detail);
}
