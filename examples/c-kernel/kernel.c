/*
 * c-kernel: a freestanding C kernel for source-level debugging with DWARF.
 *
 * What it teaches: booting C code through Multiboot 1 (the header below, the linker script
 * link.ld), talking to the COM1 serial port, what the hypervisor's CPUID leaves look like from
 * C, and how a debugger maps machine code back to C lines (gcc -g writes the .debug_line table
 * vtx reads). Set a breakpoint on a line of `kmain` or `is_prime`, step by line, watch
 * `count` in the Variables view, and stop on the CPUID exit with the condition `leaf == 0x40000000`.
 *
 * Build: `make` in this folder (gcc -m32 -g -O0: no inlining, so line steps follow the source; needs gcc and libc6-dev, or gcc-multilib).
 * Run:   `vtx run examples/c-kernel/kernel.elf --trace-exits`
 * Prints "hello from C", the hypervisor signature, the primes below 50 and their count, then
 * powers off with QEMU's ACPI power-off (word 0x2000 to port 0x604 → SystemDown).
 */
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

/* Multiboot 1 header (magic, flags: page-align modules + memory info, checksum) and the entry:
 * a stack, then kmain. */
__asm__(
    ".section .multiboot, \"a\"\n"
    ".align 4\n"
    ".long 0x1BADB002\n"
    ".long 0x00000003\n"
    ".long -(0x1BADB002 + 0x00000003)\n"
    ".text\n"
    ".globl _start\n"
    "_start:\n"
    "  mov $stack_top, %esp\n"
    "  call kmain\n"
    "1: cli\n"
    "  hlt\n"
    "  jmp 1b\n");

static u8 stack[8192] __attribute__((aligned(16), used));
__asm__(".set stack_top, stack + 8192");

static inline void outb(u16 port, u8 value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
static inline void outw(u16 port, u16 value) { __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d) {
  __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* COM1 (0x3f8): wait for the transmitter holding register to be empty (LSR bit 5), then write. */
static void putc(char ch) {
  while ((inb(0x3f8 + 5) & 0x20) == 0) {
  }
  outb(0x3f8, (u8)ch);
}

static void puts(const char *s) {
  while (*s != 0) putc(*s++);
}

static void putdec(u32 v) {
  char buf[11];
  int i = 10;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  puts(&buf[i]);
}

static int is_prime(u32 n) {
  if (n < 2) return 0;
  for (u32 d = 2; d * d <= n; d++) {
    if (n % d == 0) return 0;
  }
  return 1;
}

void kmain(void) {
  u32 a, b, c, d;
  char signature[13];
  u32 count = 0;

  puts("hello from C\n");

  /* Leaf 0x40000000: the hypervisor's vendor signature in EBX:ECX:EDX (a CPUID VM exit). */
  cpuid(0x40000000, &a, &b, &c, &d);
  for (int i = 0; i < 4; i++) {
    signature[i] = (char)(b >> (8 * i));
    signature[4 + i] = (char)(c >> (8 * i));
    signature[8 + i] = (char)(d >> (8 * i));
  }
  signature[12] = 0;
  puts("hypervisor: ");
  puts(signature);
  puts("\n");

  puts("primes:");
  for (u32 n = 0; n < 50; n++) {
    if (is_prime(n)) {
      puts(" ");
      putdec(n);
      count++;
    }
  }
  puts("\ncount: ");
  putdec(count);
  puts("\n");

  outw(0x604, 0x2000); /* QEMU's ACPI power-off: the run ends with SystemDown. */
}
