/**
 * Basic exit reasons (SDM vol. 3C appendix C), one row each: number, name (the filter id of the
 * debugger's exit breakpoints is the name in lower case), description, whether the modelled CPU
 * can produce it. docs/vmx.md and the debugger read this table.
 */
export interface ExitReason {
  reason: number;
  name: string;
  description: string;
  /** The model produces this exit (false: the feature behind it is not modelled). */
  modelled: boolean;
  /** Filter id for exit breakpoints. */
  id: string;
}

type Row = [number, string, string, boolean?];
const ROWS: Row[] = [
  [0, 'EXCEPTION_NMI', 'exception or non-maskable interrupt'],
  [1, 'EXTERNAL_INTERRUPT', 'external interrupt'],
  [2, 'TRIPLE_FAULT', 'triple fault'],
  [3, 'INIT', 'INIT signal'],
  [4, 'SIPI', 'start-up IPI'],
  [5, 'SMI', 'I/O system-management interrupt', false],
  [6, 'OTHER_SMI', 'other SMI', false],
  [7, 'INTERRUPT_WINDOW', 'interrupt window open'],
  [8, 'NMI_WINDOW', 'NMI window open'],
  [9, 'TASK_SWITCH', 'task switch'],
  [10, 'CPUID', 'CPUID'],
  [11, 'GETSEC', 'GETSEC'],
  [12, 'HLT', 'HLT'],
  [13, 'INVD', 'INVD'],
  [14, 'INVLPG', 'INVLPG'],
  [15, 'RDPMC', 'RDPMC'],
  [16, 'RDTSC', 'RDTSC'],
  [17, 'RSM', 'RSM in SMM', false],
  [18, 'VMCALL', 'VMCALL'],
  [19, 'VMCLEAR', 'VMCLEAR'],
  [20, 'VMLAUNCH', 'VMLAUNCH'],
  [21, 'VMPTRLD', 'VMPTRLD'],
  [22, 'VMPTRST', 'VMPTRST'],
  [23, 'VMREAD', 'VMREAD'],
  [24, 'VMRESUME', 'VMRESUME'],
  [25, 'VMWRITE', 'VMWRITE'],
  [26, 'VMXOFF', 'VMXOFF'],
  [27, 'VMXON', 'VMXON'],
  [28, 'CR_ACCESS', 'control-register access (MOV CR, CLTS, LMSW)'],
  [29, 'DR_ACCESS', 'MOV DR'],
  [30, 'IO_INSTRUCTION', 'I/O instruction'],
  [31, 'MSR_READ', 'RDMSR'],
  [32, 'MSR_WRITE', 'WRMSR'],
  [33, 'INVALID_GUEST_STATE', 'VM-entry failure due to invalid guest state'],
  [34, 'MSR_LOADING', 'VM-entry failure due to MSR loading'],
  [36, 'MWAIT', 'MWAIT'],
  [37, 'MONITOR_TRAP_FLAG', 'monitor trap flag'],
  [39, 'MONITOR', 'MONITOR'],
  [40, 'PAUSE', 'PAUSE or PAUSE-loop exiting'],
  [41, 'MCE_DURING_VMENTRY', 'VM-entry failure due to machine-check event', false],
  [43, 'TPR_BELOW_THRESHOLD', 'TPR below threshold'],
  [44, 'APIC_ACCESS', 'APIC access'],
  [45, 'VIRTUALIZED_EOI', 'virtualized EOI', false],
  [46, 'GDTR_IDTR', 'access to GDTR or IDTR (LGDT, LIDT, SGDT, SIDT)'],
  [47, 'LDTR_TR', 'access to LDTR or TR (LLDT, LTR, SLDT, STR)'],
  [48, 'EPT_VIOLATION', 'EPT violation'],
  [49, 'EPT_MISCONFIG', 'EPT misconfiguration'],
  [50, 'INVEPT', 'INVEPT'],
  [51, 'RDTSCP', 'RDTSCP'],
  [52, 'PREEMPTION_TIMER', 'VMX-preemption timer expired'],
  [53, 'INVVPID', 'INVVPID'],
  [54, 'WBINVD', 'WBINVD or WBNOINVD'],
  [55, 'XSETBV', 'XSETBV'],
  [56, 'APIC_WRITE', 'APIC write', false],
  [57, 'RDRAND', 'RDRAND'],
  [58, 'INVPCID', 'INVPCID'],
  [59, 'VMFUNC', 'VMFUNC'],
  [60, 'ENCLS', 'ENCLS', false],
  [61, 'RDSEED', 'RDSEED'],
  [62, 'PML_FULL', 'page-modification log full', false],
  [63, 'XSAVES', 'XSAVES'],
  [64, 'XRSTORS', 'XRSTORS'],
  [65, 'PCONFIG', 'PCONFIG', false],
  [66, 'SPP_EVENT', 'SPP-related event', false],
  [67, 'UMWAIT', 'UMWAIT', false],
  [68, 'TPAUSE', 'TPAUSE', false],
  [69, 'LOADIWKEY', 'LOADIWKEY', false],
];

export const EXIT_REASONS: readonly ExitReason[] = ROWS.map(([reason, name, description, modelled = true]) =>
  ({ reason, name, description, modelled, id: name.toLowerCase() }));

export const EXIT_REASON_BY_NUMBER: ReadonlyMap<number, ExitReason> = new Map(EXIT_REASONS.map((r) => [r.reason, r]));

/** Basic exit reason numbers by name, for the engine (a typo is a compile error). */
export const enum Exit {
  ExceptionNmi = 0, ExternalInterrupt = 1, TripleFault = 2, Init = 3, Sipi = 4,
  InterruptWindow = 7, NmiWindow = 8, TaskSwitch = 9, Cpuid = 10, Getsec = 11, Hlt = 12,
  Invd = 13, Invlpg = 14, Rdpmc = 15, Rdtsc = 16, Vmcall = 18, Vmclear = 19, Vmlaunch = 20,
  Vmptrld = 21, Vmptrst = 22, Vmread = 23, Vmresume = 24, Vmwrite = 25, Vmxoff = 26, Vmxon = 27,
  CrAccess = 28, DrAccess = 29, IoInstruction = 30, MsrRead = 31, MsrWrite = 32,
  InvalidGuestState = 33, MsrLoading = 34, Mwait = 36, MonitorTrapFlag = 37, Monitor = 39,
  Pause = 40, TprBelowThreshold = 43, ApicAccess = 44, GdtrIdtr = 46, LdtrTr = 47,
  EptViolation = 48, EptMisconfig = 49, Invept = 50, Rdtscp = 51, PreemptionTimer = 52,
  Invvpid = 53, Wbinvd = 54, Xsetbv = 55, Rdrand = 57, Invpcid = 58, Vmfunc = 59, Rdseed = 61,
  Xsaves = 63, Xrstors = 64,
}

/** Exit reason bit 31: VM-entry failure (§26.8). */
export const EXIT_REASON_ENTRY_FAILURE = 0x80000000;
