/** The test guests and what each must print (shared by the bare-machine and hypervisor runs). */
import type { LoadOptions } from '../../src/vmm/loaders';
import type { KernelVariant } from './harness';

export interface GuestSpec {
  name: string;
  source: string;
  /** How to build: a flat binary (default) or an ELF64 executable linked at 0x200000. */
  build?: 'flat' | 'elf64';
  options: LoadOptions;
  expected: string;
  /** Expected exit: 0 = ACPI power-off, else the isa-debug-exit status. */
  exitCode: number;
}

export const GUESTS: GuestSpec[] = [
  {
    name: 'hello-real: real mode, COM1, power-off',
    source: 'hello-real.asm',
    options: { format: 'flat', mode: 'real' },
    expected: 'hello from real mode\nPASS hello-real\n',
    exitCode: 0,
  },
  {
    name: 'modes: real -> protected -> long mode',
    source: 'modes.asm',
    options: { format: 'flat', mode: 'real' },
    expected: 'real mode\nprotected mode\nlong mode\nPASS modes\n',
    exitCode: 0,
  },
  {
    name: 'exceptions: IDT, #DE #BP #UD #GP #PF with error codes and CR2',
    source: 'exceptions.asm',
    options: { format: 'flat', mode: 'long' },
    expected: [
      'exceptions: IDT and page tables installed',
      '#DE divide by zero vector=00 error=0000 cr2=00000000',
      '#DE quotient overflow vector=00 error=0000 cr2=00000000',
      '#BP int3 vector=03 error=0000 cr2=00000000',
      '#UD ud2 vector=06 error=0000 cr2=00000000',
      '#GP non-canonical vector=0d error=0000 cr2=00000000',
      '#GP selector beyond GDT vector=0d error=0100 cr2=00000000',
      '#PF read not present vector=0e error=0000 cr2=00050010',
      '#PF write not present vector=0e error=0002 cr2=00050024',
      '#PF write read-only vector=0e error=0003 cr2=00051008',
      'PASS exceptions', '',
    ].join('\n'),
    exitCode: 0,
  },
  {
    name: 'timer: LAPIC one-shot and periodic timer interrupts',
    source: 'timer.asm',
    options: { format: 'flat', mode: 'long' },
    expected: 'one-shot timer interrupts: 01\nafter periodic timer: 04\nPASS timer\n',
    exitCode: 0,
  },
  {
    name: 'syscall: SYSCALL/SYSRET to ring 3 and back',
    source: 'syscall.asm',
    options: { format: 'flat', mode: 'long' },
    expected: 'ring 0: entering ring 3 with SYSRET\nring 3: hello through SYSCALL\nring 3: second call\nring 0: exit(0) from ring 3\nPASS syscall\n',
    exitCode: 0,
  },
  {
    name: 'multiboot-aout: Multiboot a.out kludge kernel, §3.2 state, info structure',
    source: 'multiboot-aout.asm',
    options: { format: 'auto', cmdline: 'multiboot-aout.bin token=mb1' },
    expected: [
      'multiboot a.out kludge kernel: EAX magic ok',
      "segment reload from the loader's GDT ok",
      'bss zeroed',
      'info flags: mem, cmdline, mmap',
      'cmdline token: mb1',
      'PASS multiboot-aout', '',
    ].join('\n'),
    exitCode: (0x21 << 1) | 1,
  },
  {
    name: 'elf64: ELF64 convenience boot into long mode',
    source: 'elf64.asm',
    build: 'elf64',
    options: { format: 'auto' },
    expected: [
      'ELF64 kernel in 64-bit mode, bss zeroed',
      'paging, PAE, EFER.LMA on; RSP aligned',
      "segment reload from the loader's GDT ok",
      'PASS elf64', '',
    ].join('\n'),
    exitCode: 0,
  },
];

export function kernelExpected(variant: KernelVariant): string {
  return [
    'vtx C kernel',
    'multiboot magic ok',
    'cmdline token: vtx42',
    'memory map has RAM at 1 MiB: yes',
    'primes: 2 3 5 7 11 13 17 19 23 29 31 37 41 43 47 53 59 61 67 71 73 79 83 89 97',
    'fib(90) = 0x27f80ddaa1ba7878',
    'mul = 0x0b00ea4e242d2080',
    'sorted: yes min=0x0001d650 max=0x00ff5928',
    'crc32 = 0x35615867',
    'crc32("123456789") = 0xcbf43926',
    '-7/2 = -3, -7%2 = -1',
    'sqrt(2)*1e9 = 1414213562',
    // x87 evaluates in extended precision; SSE2 rounds to double at every step.
    `(1/3)*3 == 1: ${variant === 'x87' ? 'no' : 'yes'}`,
    '1e300*1e300 > 1e308: yes (inf)',
    'own GDT loaded',
    '#DE: vector=0 error=0x0000',
    '#UD: vector=6 error=0x0000',
    '#GP: vector=13 error=0x0100',
    'int 0x80: 42',
    'paging on',
    '#PF read: vector=14 error=0x0000',
    'cr2=0x00700010',
    '#PF write: vector=14 error=0x0002',
    'cr2=0x00700ffc',
    'PIT interrupts: at least 3',
    'done', '',
  ].join('\n');
}
export const KERNEL_EXIT = (0x10 << 1) | 1;
