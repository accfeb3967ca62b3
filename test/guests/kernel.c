/*
 * A small freestanding C kernel for vtx's guest tests, booted through Multiboot 1.
 * Compiled at test time with `gcc -m32 -ffreestanding -nostdlib` and linked with kernel.ld, twice:
 * with -mno-sse (floating point on the x87 unit) and with -msse2 -mfpmath=sse (SSE scalar
 * arithmetic and whatever gcc -O2 vectorizes).
 * It prints only what must be the same on any PC (no memory sizes, no CPUID vendor), so its
 * serial output under vtx must equal QEMU's byte for byte. It ends through the isa-debug-exit
 * device (port 0xf4: QEMU exits with status (value << 1) | 1) and then the ACPI power-off.
 */
typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned short u16;
typedef unsigned char u8;

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
    "  fninit\n"
    "  sub $8, %esp\n"          /* 16-byte aligned stack at the call (i386 psABI) */
#ifdef __SSE__
    /* SSE code needs CPUID.1:EDX FXSR, SSE, SSE2, then CR4.OSFXSR and OSXMMEXCPT (SDM vol. 3A §13.1.3). */
    "  mov %eax, %esi\n"
    "  mov %ebx, %edi\n"
    "  mov $1, %eax\n"
    "  cpuid\n"
    "  and $0x07000000, %edx\n"
    "  cmp $0x07000000, %edx\n"
    "  jne no_sse\n"
    "  mov %cr4, %eax\n"
    "  or $0x600, %eax\n"
    "  mov %eax, %cr4\n"
    "  mov %esi, %eax\n"
    "  mov %edi, %ebx\n"
#endif
    "  push %ebx\n"
    "  push %eax\n"
    "  call kmain\n"
    "1: cli\n"
    "  hlt\n"
    "  jmp 1b\n");

static u8 stack[16384] __attribute__((aligned(16), used));
__asm__(".set stack_top, stack + 16384");

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

#define COM1 0x3f8

static void serial_init(void) {
    outb(COM1 + 1, 0x00);   /* no interrupts */
    outb(COM1 + 3, 0x80);   /* DLAB */
    outb(COM1 + 0, 0x01);   /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);   /* 8N1 */
    outb(COM1 + 2, 0xc7);   /* FIFO */
    outb(COM1 + 4, 0x03);
}

static void putc(char c) {
    while ((inb(COM1 + 5) & 0x20) == 0) { }
    outb(COM1, (u8)c);
}

static void puts(const char *s) { while (*s) putc(*s++); }

static void putu(u32 v) {
    char buf[12];
    int i = 0;
    do { buf[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (i) putc(buf[--i]);
}

static void puthex(u32 v, int digits) {
    for (int i = digits - 1; i >= 0; i--) putc("0123456789abcdef"[(v >> (4 * i)) & 15]);
}

struct multiboot_info {
    u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    u32 syms[4];
    u32 mmap_length, mmap_addr;
};

struct mmap_entry { u32 size; u64 base; u64 length; u32 type; } __attribute__((packed));

static int starts_with(const char *s, const char *p) {
    while (*p) if (*s++ != *p++) return 0;
    return 1;
}

/* The value of "token=..." in the command line (QEMU prefixes the kernel file name). */
static void print_token(const char *cmd) {
    for (; *cmd; cmd++) {
        if (starts_with(cmd, "token=")) {
            for (cmd += 6; *cmd && *cmd != ' '; cmd++) putc(*cmd);
            return;
        }
    }
    puts("(none)");
}

static u32 crc32(const u8 *p, u32 n) {
    u32 c = 0xffffffffu;
    for (u32 i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static void sort(u32 *a, int n) {
    for (int i = 1; i < n; i++) {
        u32 x = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > x) { a[j + 1] = a[j]; j--; }
        a[j + 1] = x;
    }
}


/* ---- descriptor tables, exceptions, paging, timer interrupt ------------------------------ */
struct frame { u32 edi, esi, ebp, esp, ebx, edx, ecx, eax, vector, err, eip, cs, eflags; };

static unsigned long long gdt[3] = {
    0,
    0x00cf9a000000ffffull,  /* 0x08: 32-bit code */
    0x00cf92000000ffffull,  /* 0x10: data */
};
static u32 idt[256 * 2] __attribute__((aligned(8)));
static struct { u16 limit; u32 base; } __attribute__((packed)) gdtr, idtr;
static u32 page_dir[1024] __attribute__((aligned(4096)));
static u32 page_tables[2][1024] __attribute__((aligned(4096)));

static volatile u32 last_vector = 0xffffffff, last_err, last_cr2, ticks;

__asm__(
    ".macro ISR n, err\n"
    "isr_\\n:\n"
    ".if \\err == 0\n"
    "  push $0\n"
    ".endif\n"
    "  push $\\n\n"
    "  jmp isr_common\n"
    ".endm\n"
    "ISR 0,0\n ISR 6,0\n ISR 13,1\n ISR 14,1\n ISR 32,0\n ISR 128,0\n"
    "isr_common:\n"
    "  pusha\n"
    "  push %esp\n"
    "  call isr\n"
    "  add $4, %esp\n"
    "  popa\n"
    "  add $8, %esp\n"
    "  iret\n");
extern char isr_0[], isr_6[], isr_13[], isr_14[], isr_32[], isr_128[];

static void outb_pic(u16 port, u8 v) { outb(port, v); }

void isr(struct frame *f) {
    if (f->vector == 32) {          /* PIT through the master PIC (IRQ 0) */
        ticks++;
        outb_pic(0x20, 0x20);       /* EOI */
        return;
    }
    if (f->vector == 128) {         /* a system call: EAX + 1 back in EAX */
        f->eax += 1;
        return;
    }
    u32 cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    last_vector = f->vector;
    last_err = f->err;
    last_cr2 = cr2;
    f->eip += 2;                    /* every faulting instruction below is 2 bytes long */
}

static void set_gate(int v, void *handler) {
    u32 h = (u32)handler;
    idt[2 * v] = (0x08 << 16) | (h & 0xffff);
    idt[2 * v + 1] = (h & 0xffff0000) | 0x8e00;   /* present, DPL 0, 32-bit interrupt gate */
}

static void report(const char *what) {
    puts(what);
    puts(": vector="); putu(last_vector);
    puts(" error=0x"); puthex(last_err, 4);
    puts("\n");
    last_vector = 0xffffffff;
    last_err = 0;
}

static void system_tests(void) {
    gdtr.limit = sizeof gdt - 1;
    gdtr.base = (u32)gdt;
    __asm__ volatile(
        "lgdt %0\n"
        "ljmp $0x08, $1f\n"
        "1: mov $0x10, %%ax\n"
        "mov %%ax, %%ds\n mov %%ax, %%es\n mov %%ax, %%ss\n mov %%ax, %%fs\n mov %%ax, %%gs\n"
        : : "m"(gdtr) : "eax", "memory");
    puts("own GDT loaded\n");

    set_gate(0, isr_0);
    set_gate(6, isr_6);
    set_gate(13, isr_13);
    set_gate(14, isr_14);
    set_gate(32, isr_32);
    set_gate(128, isr_128);
    idtr.limit = sizeof idt - 1;
    idtr.base = (u32)idt;
    __asm__ volatile("lidt %0" : : "m"(idtr));

    /* #DE: DIV by zero (f7 f1). */
    __asm__ volatile("xor %%edx, %%edx\n mov $7, %%eax\n xor %%ecx, %%ecx\n .byte 0xf7, 0xf1" : : : "eax", "ecx", "edx");
    report("#DE");
    /* #UD: UD2 (0f 0b). */
    __asm__ volatile(".byte 0x0f, 0x0b");
    report("#UD");
    /* #GP(selector): MOV DS with an index beyond the GDT limit (8e d8). */
    __asm__ volatile("mov $0x100, %%eax\n .byte 0x8e, 0xd8" : : : "eax");
    report("#GP");
    /* INT 0x80 returns EAX + 1. */
    u32 r;
    __asm__ volatile("mov $41, %%eax\n int $0x80" : "=a"(r));
    puts("int 0x80: "); putu(r); puts("\n");

    /* 32-bit paging: identity-map 8 MiB with 4 KiB pages, one page left not present. */
    for (u32 i = 0; i < 2048; i++) page_tables[i / 1024][i % 1024] = (i << 12) | 3;
    page_dir[0] = (u32)page_tables[0] | 3;
    page_dir[1] = (u32)page_tables[1] | 3;
    page_tables[1][0x300] = 0;      /* 0x700000 */
    __asm__ volatile(
        "mov %0, %%cr3\n"
        "mov %%cr0, %%eax\n or $0x80000000, %%eax\n mov %%eax, %%cr0\n"
        : : "r"(page_dir) : "eax", "memory");
    puts("paging on\n");
    /* #PF: read of the not-present page (8b 02 = mov (%edx), %eax). */
    __asm__ volatile("mov $0x700010, %%edx\n .byte 0x8b, 0x02" : : : "eax", "edx", "memory");
    report("#PF read");
    puts("cr2=0x"); puthex(last_cr2, 8); puts("\n");
    /* #PF: write (89 02 = mov %eax, (%edx)). */
    __asm__ volatile("mov $0x700ffc, %%edx\n .byte 0x89, 0x02" : : : "edx", "memory");
    report("#PF write");
    puts("cr2=0x"); puthex(last_cr2, 8); puts("\n");

    /* The PIT (channel 0, mode 2) through the 8259 pair remapped to vectors 0x20/0x28. */
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, 0x20); outb(0xa1, 0x28);
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, 0x01); outb(0xa1, 0x01);
    outb(0x21, 0xfe); outb(0xa1, 0xff);   /* only IRQ 0 */
    outb(0x43, 0x34);
    outb(0x40, 11932 & 0xff); outb(0x40, 11932 >> 8);   /* ~100 Hz */
    __asm__ volatile("sti");
    while (ticks < 3) __asm__ volatile("hlt");
    __asm__ volatile("cli");
    outb(0x21, 0xff);
    puts("PIT interrupts: at least 3\n");
}

#ifdef __SSE__
void no_sse(void) {
    serial_init();
    puts("SKIP CPUID.1:EDX lacks FXSR/SSE/SSE2: the processor does not offer SSE2\n");
    outw(0x604, 0x2000);
    for (;;) __asm__ volatile("cli; hlt");
}
#endif

static u32 table[64];
static volatile u32 counter = 7;

void kmain(u32 magic, struct multiboot_info *mbi) {
    serial_init();
    puts("vtx C kernel\n");
    puts("multiboot magic ");
    puts(magic == 0x2BADB002u ? "ok" : "BAD");
    puts("\n");
    if (mbi->flags & 4) { puts("cmdline token: "); print_token((const char *)mbi->cmdline); puts("\n"); }
    int high = 0;
    if (mbi->flags & 64) {
        for (u32 a = mbi->mmap_addr; a < mbi->mmap_addr + mbi->mmap_length;) {
            struct mmap_entry *e = (struct mmap_entry *)a;
            if (e->type == 1 && e->base == 0x100000 && e->length >= 0x100000) high = 1;
            a += e->size + 4;
        }
    }
    puts("memory map has RAM at 1 MiB: ");
    puts(high ? "yes\n" : "no\n");

    /* Primes below 100. */
    puts("primes:");
    for (u32 n = 2; n < 100; n++) {
        int p = 1;
        for (u32 d = 2; d * d <= n; d++) if (n % d == 0) { p = 0; break; }
        if (p) { putc(' '); putu(n); }
    }
    puts("\n");

    /* 64-bit arithmetic in 32-bit code (ADD/ADC, MUL, shifts). */
    u64 f0 = 0, f1 = 1;
    for (int i = 0; i < 90; i++) { u64 t = f0 + f1; f0 = f1; f1 = t; }
    puts("fib(90) = 0x"); puthex((u32)(f0 >> 32), 8); puthex((u32)f0, 8); puts("\n");
    u64 m = (u64)0x12345678u * 0x9abcdef0u;
    puts("mul = 0x"); puthex((u32)(m >> 32), 8); puthex((u32)m, 8); puts("\n");

    /* A pseudo-random table, sorted, and checksums over it. */
    u32 x = 12345;
    for (int i = 0; i < 64; i++) { x = x * 1103515245u + counter; table[i] = x >> 8; }
    sort(table, 64);
    int ok = 1;
    for (int i = 1; i < 64; i++) if (table[i - 1] > table[i]) ok = 0;
    puts("sorted: "); puts(ok ? "yes" : "no"); puts(" min=0x"); puthex(table[0], 8);
    puts(" max=0x"); puthex(table[63], 8); puts("\n");
    puts("crc32 = 0x"); puthex(crc32((const u8 *)table, sizeof table), 8); puts("\n");
    puts("crc32(\"123456789\") = 0x"); puthex(crc32((const u8 *)"123456789", 9), 8); puts("\n");

    /* Signed division and remainder rounding toward zero. */
    volatile int a = -7, b = 2;
    puts("-7/2 = "); puts(a / b == -3 ? "-3" : "?"); puts(", -7%2 = "); puts(a % b == -1 ? "-1" : "?"); puts("\n");

    /* x87 floating point (gcc -m32 -mno-sse uses the x87 unit for double). */
    volatile double two = 2.0, third = 1.0 / 3.0;
    double g = 1.0;
    for (int i = 0; i < 6; i++) g = (g + two / g) / 2;   /* Newton: sqrt(2) */
    puts("sqrt(2)*1e9 = "); putu((u32)(int)(g * 1e9)); puts("\n");
    puts("(1/3)*3 == 1: "); puts(third * 3.0 == 1.0 ? "yes" : "no"); puts("\n");
    volatile double big = 1e300;
    puts("1e300*1e300 > 1e308: "); puts(big * big > 1e308 ? "yes (inf)" : "no"); puts("\n");

    system_tests();
    puts("done\n");
    outl(0xf4, 0x10);      /* isa-debug-exit: status (0x10 << 1) | 1 = 33 */
    outw(0x604, 0x2000);   /* ACPI power-off when there is no debug-exit device */
}
