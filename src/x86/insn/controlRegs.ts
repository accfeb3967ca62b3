/** MOV to/from CR0-CR8 and DR0-DR7, CLTS, LMSW, SMSW, RDMSR/WRMSR, SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS, IN/OUT/INS/OUTS, fences, RDRAND/RDSEED, RDPID, WRFSBASE family, XGETBV/XSETBV, MONITOR/MWAIT, CLFLUSH (SDM vol. 2/3A). */
import type { DecodedInsn } from '../decoded';
import type { Op } from '../operands';
import type { TranslatorTable } from '../translator';

/** MOV to/from a control or debug register (called by mov.ts). Null: not implemented yet (#UD). */
export function movControl(_d: DecodedInsn): Op | null {
  return null;
}

export const controlRegHandlers: TranslatorTable = {};
