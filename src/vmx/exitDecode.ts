/**
 * A VM exit decoded into named values (SDM vol. 3C §27.2.1 exit qualifications, §27.2.2
 * interruption information, §27.2.4 instruction information), as the debugger's exit
 * breakpoint conditions, its variables view, `vtx run --trace-exits` and the panels use them:
 * `leaf == 1`, `port == 0x604 && write && value == 0x2000`, `msr >= 0x800`, `cr == 0`,
 * `gpa >= 0xfee00000`, `vector == 14`, `rip == 0x7c00`.
 *
 * General-purpose registers are not part of the VMCS: a VM exit leaves them holding the guest's
 * values, so `reg` reads them from the processor.
 */
import { EXIT_REASON_BY_NUMBER } from './exitReasons';

export type ExitValue = bigint | boolean | string;

export interface DecodedExit {
  reason: number;
  name: string;
  /** Filter id (`cpuid`, `io_instruction`, ...). */
  id: string;
  entryFailure: boolean;
  /** Named values for conditions and views. */
  fields: Record<string, ExitValue>;
  /** One line a person reads: "CPUID leaf 0x1 subleaf 0x0". */
  summary: string;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;
const bits = (v: bigint, lo: number, hi: number): bigint => (v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n);

const GPR = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const INTR_TYPES = ['external interrupt', 'reserved', 'NMI', 'hardware exception', 'software interrupt', 'privileged software exception', 'software exception', 'other event'];
const APIC_ACCESS_TYPES: Record<number, string> = {
  0: 'linear read', 1: 'linear write', 2: 'linear fetch', 3: 'linear event delivery',
  // §27.2.1 table 27-6: 15 is a guest-physical access for a fetch or during instruction execution
  // (here: the guest page walk of an instruction's access or fetch).
  10: 'guest-physical event delivery', 15: 'guest-physical instruction execution',
};
const TASK_SOURCES = ['CALL', 'IRET', 'JMP', 'task gate in IDT'];

/** Interruption information (exit, IDT-vectoring, entry): vector, type, error-code valid, valid. */
export function decodeInterruption(info: bigint): { valid: boolean; vector: bigint; type: bigint; typeName: string; hasErrorCode: boolean; nmiUnblocking: boolean } {
  const type = bits(info, 8, 10);
  return { valid: bit(info, 31), vector: bits(info, 0, 7), type, typeName: INTR_TYPES[Number(type)], hasErrorCode: bit(info, 11), nmiUnblocking: bit(info, 12) };
}

export function decodeExit(read: (field: string) => bigint, reg: (name: string) => bigint): DecodedExit {
  const raw = read('EXIT_REASON');
  const reason = Number(raw & 0xffffn);
  const entryFailure = bit(raw, 31);
  const r = EXIT_REASON_BY_NUMBER.get(reason);
  const name = r?.name ?? `REASON_${reason}`;
  const q = read('EXIT_QUALIFICATION');
  const f: Record<string, ExitValue> = {
    reason: BigInt(reason), rip: read('GUEST_RIP'), rsp: read('GUEST_RSP'), rflags: read('GUEST_RFLAGS'),
    qualification: q, length: read('VM_EXIT_INSTRUCTION_LENGTH'), entryFailure,
  };
  for (const g of GPR) if (g !== 'rsp') f[g] = reg(g);
  let summary = r?.description ?? `exit reason ${reason}`;
  const eax = reg('rax') & 0xffffffffn;
  const ecx = reg('rcx') & 0xffffffffn;
  const edxeax = ((reg('rdx') & 0xffffffffn) << 32n) | eax;
  switch (reason) {
    case 0: case 1: {
      const i = decodeInterruption(read('VM_EXIT_INTERRUPTION_INFORMATION'));
      f.vector = i.vector;
      f.type = i.typeName;
      if (i.hasErrorCode) f.errorCode = read('VM_EXIT_INTERRUPTION_ERROR_CODE');
      if (reason === 0 && i.vector === 14n) f.cr2 = q;
      summary = reason === 1
        ? (i.valid ? `external interrupt, vector ${hex(i.vector)}` : 'external interrupt (not acknowledged)')
        : `${i.typeName} ${i.vector}${f.errorCode !== undefined ? `, error code ${hex(f.errorCode as bigint)}` : ''}${i.vector === 14n ? `, CR2 ${hex(q)}` : ''}`;
      break;
    }
    case 4: f.vector = bits(q, 0, 7); summary = `SIPI, vector ${hex(f.vector)}`; break;
    case 9:
      f.selector = bits(q, 0, 15);
      f.source = TASK_SOURCES[Number(bits(q, 30, 31))];
      summary = `task switch to selector ${hex(f.selector)} by ${f.source}`;
      break;
    case 10:
      f.leaf = eax;
      f.subleaf = ecx;
      summary = `CPUID leaf ${hex(eax)} subleaf ${hex(ecx)}`;
      break;
    case 14: f.address = q; summary = `INVLPG ${hex(q)}`; break;
    case 18:
      f.nr = reg('rax');
      summary = `VMCALL nr ${hex(f.nr)}`;
      break;
    case 28: {
      const cr = bits(q, 0, 3);
      const type = Number(bits(q, 4, 5));
      const gpr = Number(bits(q, 8, 11));
      f.cr = cr;
      f.access = ['mov to cr', 'mov from cr', 'clts', 'lmsw'][type];
      f.write = type === 0 || type === 2 || type === 3;
      f.read = type === 1;
      if (type <= 1) f.gpr = GPR[gpr];
      if (type === 0) f.value = gpr === 4 ? read('GUEST_RSP') : reg(GPR[gpr]);
      if (type === 3) {
        f.value = bits(q, 16, 31);
        f.lmswMemory = bit(q, 6);
      }
      summary = type === 0 ? `MOV CR${cr}, ${GPR[gpr]} = ${hex(f.value as bigint)}` : type === 1 ? `MOV ${GPR[gpr]}, CR${cr}` : type === 2 ? 'CLTS' : `LMSW ${hex(f.value as bigint)}`;
      break;
    }
    case 29: {
      f.dr = bits(q, 0, 2);
      f.write = !bit(q, 4);
      f.read = bit(q, 4);
      f.gpr = GPR[Number(bits(q, 8, 11))];
      summary = f.write ? `MOV DR${f.dr}, ${f.gpr}` : `MOV ${f.gpr}, DR${f.dr}`;
      break;
    }
    case 30: {
      const size = bits(q, 0, 2) + 1n;
      const input = bit(q, 3);
      f.port = bits(q, 16, 31);
      f.size = size;
      f.in = input;
      f.read = input;
      f.write = !input;
      f.string = bit(q, 4);
      f.rep = bit(q, 5);
      f.immediate = bit(q, 6);
      if (!input && !bit(q, 4)) f.value = eax & ((1n << (size * 8n)) - 1n);
      summary = `${input ? 'IN' : 'OUT'}${f.string ? 'S' : ''}${f.rep ? ' (REP)' : ''} port ${hex(f.port as bigint)}, ${size} byte${size === 1n ? '' : 's'}` +
        (f.value !== undefined ? `, value ${hex(f.value as bigint)}` : '');
      break;
    }
    case 31: case 32:
      f.msr = ecx;
      f.read = reason === 31;
      f.write = reason === 32;
      if (reason === 32) f.value = edxeax;
      summary = reason === 31 ? `RDMSR ${hex(ecx)}` : `WRMSR ${hex(ecx)} = ${hex(edxeax)}`;
      break;
    case 33: case 34:
      if (reason === 34) f.entry = q;
      summary = reason === 33 ? 'VM entry failed: invalid guest state' : `VM entry failed: MSR-load entry ${q}`;
      break;
    // Trap-like (§29.1.2): after MOV to CR8, WRMSR of the x2APIC TPR or a write of VTPR through
    // the APIC-access page (APIC-write emulation, §29.4.3.2); the guest RIP is past the instruction.
    case 43: summary = 'TPR below threshold (VTPR[7:4] < TPR threshold; RIP is past the instruction)'; break;
    case 44: {
      f.offset = bits(q, 0, 11);
      const t = Number(bits(q, 12, 15));
      f.access = APIC_ACCESS_TYPES[t] ?? `type ${t}`;
      f.write = t === 1;
      f.read = t === 0;
      summary = `APIC access at offset ${hex(f.offset as bigint)} (${f.access})`;
      break;
    }
    case 48: case 49: {
      const gpa = read('GUEST_PHYSICAL_ADDRESS');
      f.gpa = gpa;
      if (reason === 48) {
        f.read = bit(q, 0);
        f.write = bit(q, 1);
        f.execute = bit(q, 2);
        f.readable = bit(q, 3);
        f.writable = bit(q, 4);
        f.executable = bit(q, 5);
        f.linearValid = bit(q, 7);
        f.translation = bit(q, 8);
        f.nmiUnblocking = bit(q, 12);
        if (f.linearValid) f.gla = read('GUEST_LINEAR_ADDRESS');
        const what = f.write ? 'write' : f.execute ? 'fetch' : 'read';
        summary = `EPT violation: ${what} of GPA ${hex(gpa)}${f.linearValid ? ` (linear ${hex(f.gla as bigint)}${f.translation ? '' : ', paging-structure walk'})` : ''}; ` +
          `the entry allows ${[f.readable ? 'R' : '', f.writable ? 'W' : '', f.executable ? 'X' : ''].join('') || 'nothing'}`;
      } else {
        summary = `EPT misconfiguration at GPA ${hex(gpa)}`;
      }
      break;
    }
    case 52: summary = 'VMX-preemption timer expired'; break;
    case 55:
      f.xcr = ecx;
      f.value = edxeax;
      summary = `XSETBV XCR${ecx} = ${hex(edxeax)}`;
      break;
    case 59: f.function = eax; summary = `VMFUNC ${eax}`; break;
    default: break;
  }
  if (reason !== 0 && reason !== 1) {
    const idt = decodeInterruption(read('IDT_VECTORING_INFORMATION'));
    if (idt.valid) {
      f.idtVector = idt.vector;
      f.idtType = idt.typeName;
      summary += ` (while delivering ${idt.typeName} ${idt.vector})`;
    }
  }
  if (entryFailure) summary = `VM-entry failure: ${summary}`;
  return { reason, name, id: name.toLowerCase(), entryFailure, fields: f, summary };
}
