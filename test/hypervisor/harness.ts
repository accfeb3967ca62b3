/**
 * Runs small guests under the built-in hypervisor (src/vmm/vmm.ts) for the behaviour tests:
 * assemble with the project's assembler, load flat at `org`, boot in the given mode, collect every
 * VM exit (decoded name + VCpuExit kind) through the Vmm's `onExit` option.
 */
import { assemble } from '../../src/language/asm/assembler';
import { loadImage } from '../../src/vmm/loaders';
import { Vmm, type VmmOptions, type VmmRunResult } from '../../src/vmm/vmm';
import type { DecodedExit } from '../../src/vmx/exitDecode';
import type { VCpuExit } from '../../src/hypervisor/vcpuExit';
import type { StartMode } from '../../src/x86/modes';
export { SEED_INTERCEPTION as SEED } from '../../src/hypervisor/interception';

export interface ExitRecord {
  name: string;
  kind: VCpuExit['kind'];
  exit: VCpuExit;
  fields: DecodedExit['fields'];
  summary: string;
}

export interface GuestRun {
  vmm: Vmm;
  result: VmmRunResult;
  exits: ExitRecord[];
  /** "NAME/Kind" per exit, for sequence assertions. */
  seq: string[];
  serial: string;
  reg(name: string): bigint;
  field(name: string): bigint;
}

export interface GuestOptions extends Omit<VmmOptions, 'onExit' | 'serialSink' | 'memory'> {
  mode?: StartMode;
  org?: number;
  max?: number;
  /** Called after boot, before the first run (queue events, poke the VMCS). */
  before?: (vmm: Vmm) => void;
  /** Called for every exit after the built-in handler ran, before the VMM acts. */
  hook?: (vmm: Vmm, r: ExitRecord) => void;
  /** Extra bytes to place in guest memory. */
  memory?: Array<[number, Uint8Array]>;
}

export function asm(text: string, bits: 16 | 32 | 64 = 16): Uint8Array {
  const r = assemble(text, { bits });
  if (!r.ok) throw new Error(`assembly failed:\n${r.diagnostics.map((d) => JSON.stringify(d)).join('\n')}`);
  return r.bytes;
}

const BITS: Record<string, 16 | 32 | 64> = { real: 16, protected: 32, long: 64, compat: 32 };

/** Assemble `text` (org defaults to 0x7c00 in real mode, 0x1000 else) and run it under the Vmm. */
export function runGuest(text: string, o: GuestOptions = {}): GuestRun {
  const mode = o.mode ?? 'real';
  const org = o.org ?? (mode === 'real' ? 0x7c00 : 0x1000);
  const bytes = asm(`org 0x${org.toString(16)}\n${text}`, BITS[mode]);
  return runBytes(bytes, { ...o, mode, org });
}

export function runBytes(bytes: Uint8Array, o: GuestOptions = {}): GuestRun {
  const mode = o.mode ?? 'real';
  const org = o.org ?? (mode === 'real' ? 0x7c00 : 0x1000);
  const exits: ExitRecord[] = [];
  let serial = '';
  const { mode: _m, org: _o, max: _x, before, memory, hook, ...vmmOptions } = o;
  let self: Vmm | null = null;
  const vmm = new Vmm({
    ramSize: 16 * 1024 * 1024, exceptions: 'deliver', ...vmmOptions,
    serialSink: (b) => { serial += String.fromCharCode(b); },
    onExit: (e, x) => {
      const rec: ExitRecord = { name: e.name, kind: x.kind, exit: x, fields: e.fields, summary: e.summary };
      exits.push(rec);
      hook?.(self!, rec);
    },
  });
  self = vmm;
  const plan = loadImage(vmm.machine.mem, bytes, { format: 'flat', loadAddress: org, mode });
  for (const [addr, data] of memory ?? []) vmm.machine.mem.load(addr, data);
  vmm.boot(plan);
  before?.(vmm);
  const result = vmm.run(o.max ?? 100_000);
  return {
    vmm, result, exits, seq: exits.map((e) => `${e.name}/${e.kind}`), get serial() { return serial; },
    reg: (n) => vmm.vcpu.reg(n),
    // VMREAD works in root operation (after an exit); while the guest still runs (a 'limit'
    // stop) the VMCS holds the values of the last entry (peek).
    field: (n) => (vmm.cpu.nonRoot ? vmm.vcpu.v.peek(n) : vmm.vcpu.v.read(n)),
  };
}

/** The guest's view of CR0/CR4: owned bits from the read shadow, the rest from the real register. */
export function guestCr(r: GuestRun, n: 0 | 4): bigint {
  const real = r.field(`GUEST_CR${n}`), mask = r.field(`CR${n}_GUEST_HOST_MASK`), shadow = r.field(`CR${n}_READ_SHADOW`);
  return (real & ~mask) | (shadow & mask);
}

/** OUT word 0x2000 to port 0x604 (QEMU's ACPI power-off: SystemDown). */
export const POWEROFF = 'mov dx, 0x604\nmov ax, 0x2000\nout dx, ax\n';

/** Guest data cells the exception stubs of `prelude` use. */
export const CELL = { resume: 0x508, vector: 0x510, errorCode: 0x514, count: 0x518, log: 0x600, logLen: 0x5fc } as const;
const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17, 21]);

/**
 * Exception handlers for vectors 0-31 (IVT in real mode, an IDT of interrupt gates in protected
 * mode): each records the vector (CELL.vector), the error code (protected mode), counts
 * (CELL.count) and resumes at the address in CELL.resume (set with `resume label`), or halts
 * with IF = 0 when it is 0. Then jumps to `start`.
 */
export function prelude(mode: 'real' | 'protected'): string {
  const out: string[] = [];
  if (mode === 'real') {
    out.push('  xor ax, ax', '  mov ds, ax');
    for (let v = 0; v < 32; v++) out.push(`  mov word [${v * 4}], exc${v}`, `  mov word [${v * 4 + 2}], 0`);
    out.push('  jmp start');
    for (let v = 0; v < 32; v++) out.push(`exc${v}:`, `  mov byte [${CELL.vector}], ${v}`, '  jmp excCommon');
    out.push('excCommon:', `  inc dword [${CELL.count}]`, `  cmp word [${CELL.resume}], 0`, '  je excStop',
      '  push bp', '  mov bp, sp', `  push ax`, `  mov ax, [${CELL.resume}]`, '  mov [bp+2], ax', '  pop ax', '  pop bp', '  iret',
      'excStop:', '  cli', '  hlt', '  jmp excStop');
  } else {
    out.push('  lidt [idtr]');
    for (let v = 0; v < 32; v++) {
      out.push(`  mov eax, exc${v}`, `  mov [idt+${v * 8}], ax`, `  mov word [idt+${v * 8 + 2}], cs`,
        `  mov word [idt+${v * 8 + 4}], 0x8e00`, '  shr eax, 16', `  mov [idt+${v * 8 + 6}], ax`);
    }
    out.push('  jmp start', 'align 8', 'idt: times 256 dq 0', 'idtr: dw 256*8-1', '  dd idt');
    for (let v = 0; v < 32; v++) {
      out.push(`exc${v}:`, `  mov byte [${CELL.vector}], ${v}`);
      if (HAS_ERROR_CODE.has(v)) out.push(`  pop dword [${CELL.errorCode}]`);
      out.push('  jmp excCommon');
    }
    out.push('excCommon:', `  inc dword [${CELL.count}]`, `  cmp dword [${CELL.resume}], 0`, '  je excStop',
      '  push eax', `  mov eax, [${CELL.resume}]`, '  mov [esp+4], eax', '  pop eax', '  iret',
      'excStop:', '  cli', '  hlt', '  jmp excStop');
  }
  out.push('start:');
  return out.join('\n');
}

/** `resume label`: where the exception stubs continue after a fault. */
export function resume(mode: 'real' | 'protected', label: string): string {
  return mode === 'real' ? `mov word [${CELL.resume}], ${label}` : `mov dword [${CELL.resume}], ${label}`;
}

/** What the exception stubs recorded. */
export function exceptions(r: GuestRun): { count: number; vector: number; errorCode: number } {
  return { count: peek32(r, CELL.count), vector: r.vmm.machine.mem.read8(CELL.vector), errorCode: peek32(r, CELL.errorCode) };
}

/** Prelude + body, run in `mode`. */
export function runWithHandlers(mode: 'real' | 'protected', body: string, o: GuestOptions = {}): GuestRun {
  return runGuest(`${prelude(mode)}\n${body}`, { ...o, mode });
}

/** A little-endian 32-bit value of guest-physical memory. */
export function peek32(r: GuestRun, addr: number): number {
  const m = r.vmm.machine.mem;
  return (m.read8(addr) | (m.read8(addr + 1) << 8) | (m.read8(addr + 2) << 16) | (m.read8(addr + 3) << 24)) >>> 0;
}
