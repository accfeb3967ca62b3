/*
 * A higher-half x86-64 kernel for the debugger's tests (test/debugger/higherHalfKernel.ts builds
 * it with gcc -mcmodel=kernel): linked at 0xffffffff80400000 (physical 0x400000, AT() in
 * kernel.ld), as Linux-style kernels are. vtx's 64-bit ELF boot identity-maps RAM and starts at
 * the physical entry point `_start` (section .boot, linked and loaded at 0x200000); the stub maps
 * the top 2 GiB (PML4[511] -> PDPT[510] -> 2 MiB pages of physical 0..8 MiB), keeps the identity
 * map of the first 512 GiB (PML4[0], the loader's), moves RSP to a higher-half stack and calls
 * kmain there. Lines marked `@name` are found by the tests.
 */
__asm__(
    ".section .boot, \"ax\"\n"
    ".code64\n"
    ".global _start\n"
    "_start:\n"
    "    mov %cr3, %rax\n"
    "    mov (%rax), %rbx\n"                  /* the loader's PML4[0]: the identity map */
    "    lea boot_pml4(%rip), %rdi\n"
    "    mov %rbx, (%rdi)\n"
    "    lea boot_pdpt(%rip), %rcx\n"
    "    or $3, %rcx\n"
    "    mov %rcx, 511*8(%rdi)\n"
    "    lea boot_pd(%rip), %rcx\n"
    "    or $3, %rcx\n"
    "    lea boot_pdpt(%rip), %rdx\n"
    "    mov %rcx, 510*8(%rdx)\n"
    "    lea boot_pd(%rip), %rdx\n"
    "    mov $0x83, %rax\n"                    /* present, writable, 2 MiB page */
    "    xor %ecx, %ecx\n"
    "1:  mov %rax, (%rdx,%rcx,8)\n"
    "    add $0x200000, %rax\n"
    "    inc %ecx\n"
    "    cmp $4, %ecx\n"
    "    jb 1b\n"
    "    mov %rdi, %cr3\n"
    "    movabs $kstack_top, %rsp\n"
    "    xor %ebp, %ebp\n"
    "    movabs $kmain, %rax\n"
    "    call *%rax\n"
    "2:  hlt\n"
    "    jmp 2b\n"
    ".section .bootbss, \"aw\", @nobits\n"
    ".balign 4096\n"
    "boot_pml4: .skip 4096\n"
    "boot_pdpt: .skip 4096\n"
    "boot_pd: .skip 4096\n"
    ".text\n");

static unsigned char kstack[16384] __attribute__((aligned(16), used));
__asm__(".set kstack_top, kstack + 16384\n");

volatile unsigned long counter;

static void outb(unsigned short port, unsigned char v) {
  __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void outw(unsigned short port, unsigned short v) {
  __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static void puts(const char *s) {
  while (*s != 0) outb(0x3f8, (unsigned char)*s++);
}

__attribute__((noinline)) int square(int x) {
  int r = x * x;          /* @square */
  counter += r;           /* @count */
  return r;               /* @ret */
}

__attribute__((noinline)) int sum_squares(int n) {
  int s = 0;              /* @sum0 */
  for (int i = 1; i <= n; i++)
    s += square(i);       /* @call */
  return s;               /* @sumret */
}

void kmain(void) {
  puts("higher half\n");  /* @hello */
  int v = sum_squares(4); /* @kmain-call */
  puts(v == 30 ? "sum ok\n" : "sum wrong\n"); /* @after */
  outw(0x604, 0x2000);    /* ACPI power-off */
  for (;;) __asm__ volatile("hlt");
}
