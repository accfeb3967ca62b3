/**
 * Model-specific registers (SDM vol. 4): one declarative table of the MSRs the processor
 * implements, read by RDMSR/WRMSR, the debugger and the docs. To be filled in.
 */
export interface MsrInfo {
  index: number;
  name: string;
  description: string;
}

export const MSRS: readonly MsrInfo[] = [];
