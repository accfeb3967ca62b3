/**
 * Building and running the test guests: NASM sources assembled with `nasm -f bin`, the C
 * kernel compiled with `gcc -m32 -ffreestanding -nostdlib`, each booted through the vtx
 * loaders (src/vmm/loaders) on the Machine (src/vmm/machine.ts) and its COM1 output collected.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine, MachineRunResult } from '../../src/vmm/machine';
import { Vmm, type VmmRunResult } from '../../src/vmm/vmm';
import { applyBootPlan, loadImage } from '../../src/vmm/loaders';
import type { BootPlan, LoadOptions } from '../../src/vmm/loaders';

export const GUEST_DIR = dirname(fileURLToPath(import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'vtx-guests-'));

export function hasTool(name: string, args = ['--version']): boolean {
  const r = spawnSync(name, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

export function assemble(source: string): Uint8Array {
  const out = join(outDir, source.replace(/\.asm$/, '.bin'));
  execFileSync('nasm', ['-f', 'bin', '-w-number-overflow', '-I', GUEST_DIR + '/', '-o', out, join(GUEST_DIR, source)], { stdio: 'pipe' });
  return new Uint8Array(readFileSync(out));
}

/** Assemble with `nasm -f elf64` and link at 0x200000 with `ld`; returns the ELF64 executable. */
export function assembleElf64(source: string): { path: string; bytes: Uint8Array } {
  const obj = join(outDir, source.replace(/\.asm$/, '.o'));
  const out = join(outDir, source.replace(/\.asm$/, '.elf'));
  execFileSync('nasm', ['-f', 'elf64', '-I', GUEST_DIR + '/', '-o', obj, join(GUEST_DIR, source)], { stdio: 'pipe' });
  execFileSync('ld', ['-m', 'elf_x86_64', '-N', '-Ttext=0x200000', '-e', '_start', '--build-id=none', '--no-warn-rwx-segments', '-o', out, obj], { stdio: 'pipe' });
  return { path: out, bytes: new Uint8Array(readFileSync(out)) };
}

/** Assemble a flat binary and also write it to a file (for QEMU). */
export function assembleFile(source: string): { path: string; bytes: Uint8Array } {
  const bytes = assemble(source);
  return { path: join(outDir, source.replace(/\.asm$/, '.bin')), bytes };
}

export const KERNEL_CFLAGS = [
  '-m32', '-ffreestanding', '-nostdlib', '-fno-pic', '-fno-pie', '-no-pie', '-static', '-O2',
  '-fno-stack-protector', '-fno-asynchronous-unwind-tables',
];

/** The C kernel's builds: floating point on the x87 unit, or SSE2 scalar/vector code. */
export type KernelVariant = 'x87' | 'sse';
const VARIANT_FLAGS: Record<KernelVariant, string[]> = {
  x87: ['-mno-sse', '-mno-mmx'],
  sse: ['-msse2', '-mfpmath=sse'],
};

/** Compile and link the C kernel; returns the ELF file's path and bytes. */
export function buildKernel(variant: KernelVariant = 'x87'): { path: string; bytes: Uint8Array } {
  const out = join(outDir, `kernel-${variant}.elf`);
  execFileSync('gcc', [
    ...KERNEL_CFLAGS, ...VARIANT_FLAGS[variant], `-Wl,-T,${join(GUEST_DIR, 'kernel.ld')}`, '-Wl,--build-id=none', '-Wl,--no-warn-rwx-segments',
    '-o', out, join(GUEST_DIR, 'kernel.c'),
  ], { stdio: 'pipe' });
  return { path: out, bytes: new Uint8Array(readFileSync(out)) };
}

export interface GuestResult {
  result: MachineRunResult;
  serial: string;
  plan: BootPlan;
  machine: Machine;
}

export function runImage(bytes: Uint8Array, options: LoadOptions, maxInstructions = 20_000_000): GuestResult {
  const machine = new Machine({ memorySize: 64 * 1024 * 1024 });
  // A PC delivers exceptions through the IVT/IDT (a bare Cpu stops on them by default).
  machine.cpu.deliverExceptions = true;
  const plan = loadImage(machine.mem, bytes, options);
  applyBootPlan(machine.cpu, plan);
  const result = machine.run(maxInstructions);
  const serial = Buffer.from(machine.serialBytes()).toString('latin1');
  return { result, serial, plan, machine };
}

export interface HvGuestResult {
  result: VmmRunResult;
  serial: string;
  plan: BootPlan;
  vmm: Vmm;
}

/** The same guest under the built-in hypervisor (VMX non-root operation), as `vtx run` runs it. */
export function runImageHv(bytes: Uint8Array, options: LoadOptions, maxInstructions = 20_000_000): HvGuestResult {
  const vmm = new Vmm({ ramSize: 64 * 1024 * 1024, exceptions: options.format === 'flat' ? 'auto' : 'deliver' });
  const plan = loadImage(vmm.machine.mem, bytes, options);
  vmm.boot(plan);
  const result = vmm.run(maxInstructions);
  const serial = Buffer.from(vmm.machine.serialBytes()).toString('latin1');
  return { result, serial, plan, vmm };
}

/**
 * Why a run cannot pass yet because the processor lacks something (an instruction or form the
 * model reports as not implemented), or null when the run says nothing of the kind.
 */
export function missingFeature(r: MachineRunResult): string | null {
  const e = r.exception;
  if (e === undefined) return null;
  if (/not implemented/i.test(e.detail)) return `${e.text || 'an instruction'} at RIP 0x${e.rip.toString(16)}: ${e.name} ${e.detail}`;
  return null;
}

/** A guest that found a processor feature missing (by CPUID) reports "SKIP <reason>" on COM1. */
export function guestSkip(serial: string): string | null {
  const m = /^SKIP (.*)$/m.exec(serial);
  return m === null ? null : m[1];
}

/** A one-line description of how a run stopped, for failure messages. */
export function describeStop(g: GuestResult): string {
  const r = g.result;
  const e = r.exception;
  const where = e ? ` ${e.name}${e.errorCode !== undefined ? `(0x${e.errorCode.toString(16)})` : ''} at RIP 0x${e.rip.toString(16)} ${e.text}: ${e.detail}` : '';
  return `stopped: ${r.reason}${r.exitCode !== undefined ? ` exit code ${r.exitCode} (${r.exitHow})` : ''}${where}\nserial output:\n${g.serial}`;
}

/** Run QEMU on a Multiboot kernel; returns its serial output and exit status. */
export function runQemu(kernelPath: string, append: string): { serial: string; status: number | null } {
  const r = spawnSync('qemu-system-x86_64', [
    '-kernel', kernelPath, '-append', append, '-display', 'none', '-serial', 'stdio', '-monitor', 'none',
    '-nodefaults', '-no-reboot', '-m', '64M', '-accel', 'tcg',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
  ], { timeout: 60_000, encoding: 'latin1' });
  return { serial: r.stdout ?? '', status: r.status };
}
